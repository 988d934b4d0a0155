package permission

import (
	"errors"
	"fmt"
	"os/user"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Identity is the OS account a decision is made for. Groups holds the
// supplementary groups as initgroups(3) would set them (it normally also
// contains GID); an Identity is immutable after construction.
type Identity struct {
	Name   string
	UID    uint32
	GID    uint32
	Groups []uint32
}

// LookupUser resolves an account name through os/user, which reads
// /etc/passwd and /etc/group itself when built without cgo, so supplementary
// groups are found either way. An unknown user is an error wrapping
// user.UnknownUserError.
func LookupUser(name string) (*Identity, error) {
	if name == "" {
		return nil, errors.New("permission: empty user name")
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("permission: lookup user %q: %w", name, err)
	}
	uid, err := parseID(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("permission: user %q: uid: %w", name, err)
	}
	gid, err := parseID(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("permission: user %q: gid: %w", name, err)
	}
	gids, err := u.GroupIds()
	if err != nil {
		// Failing closed here would still be correct, but an account whose
		// group list cannot be read is better reported than silently treated
		// as having only its primary group.
		return nil, fmt.Errorf("permission: groups of user %q: %w", name, err)
	}
	groups := make([]uint32, 0, len(gids))
	for _, g := range gids {
		n, err := parseID(g)
		if err != nil {
			return nil, fmt.Errorf("permission: user %q: group id: %w", name, err)
		}
		groups = append(groups, n)
	}
	return &Identity{Name: u.Username, UID: uid, GID: gid, Groups: groups}, nil
}

func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}

// InGroup mirrors the kernel's in_group_p: the primary group or any
// supplementary group.
func (id *Identity) InGroup(gid uint32) bool {
	return id.GID == gid || slices.Contains(id.Groups, gid)
}

func (id *Identity) String() string {
	return fmt.Sprintf("%s (uid %d)", id.Name, id.UID)
}

// Identities remembers LookupUser answers for a short time. Every session
// looks its user up (os/user parses /etc/passwd and /etc/group): when a
// fleet-wide run or many clients reach one dserver at once, that was a
// tenth of the server's CPU per session. An answer is reused only while
// those files are unchanged (inode, size, mtime, ctime): a user removed
// from a group must not keep reading what the group may read, not even
// for the TTL, since a new sshd login would not (the kernel oracle).
// Running sessions keep the identity they started with in any case.
// Failed lookups are not remembered, so a new account works at once.
type Identities struct {
	ttl    time.Duration
	lookup func(string) (*Identity, error)
	now    func() time.Time
	stamp  func() accountStamp

	mu sync.Mutex
	m  map[string]*identityEntry
}

type identityEntry struct {
	done chan struct{} // closed once id and err are set
	id   *Identity
	err  error
	at   time.Time // when the lookup started
	st   accountStamp
}

// accountFiles are what os/user reads without cgo.
var accountFiles = [...]string{"/etc/passwd", "/etc/group"}

// accountStamp identifies the contents of accountFiles: tools like
// useradd, usermod and vipw replace the file (a new inode) or at least
// change its ctime.
type accountStamp [len(accountFiles)]fileStamp

type fileStamp struct {
	ok               bool
	ino, size        uint64
	mtimeNs, ctimeNs int64
}

// statAccountFiles stamps accountFiles now; a file that cannot be
// stat'ed stamps as not ok (and equals only another failed stat).
func statAccountFiles() (st accountStamp) {
	for i, p := range accountFiles {
		st[i] = statStamp(p)
	}
	return st
}

// maxIdentities bounds the cache; expired entries are swept beyond it.
const maxIdentities = 1024

// NewIdentities caches LookupUser for ttl (0: no caching).
func NewIdentities(ttl time.Duration) *Identities {
	return newIdentities(ttl, LookupUser, time.Now, statAccountFiles)
}

func newIdentities(ttl time.Duration, lookup func(string) (*Identity, error), now func() time.Time, stamp func() accountStamp) *Identities {
	return &Identities{ttl: ttl, lookup: lookup, now: now, stamp: stamp, m: map[string]*identityEntry{}}
}

// Lookup is LookupUser, answered from the cache while the answer is
// younger than the TTL and the account files are as they were when it
// was looked up. Concurrent lookups of one name share one call.
func (c *Identities) Lookup(name string) (*Identity, error) {
	if c.ttl <= 0 {
		return c.lookup(name)
	}
	// Stamped before the lookup reads the files: a change during the
	// lookup leaves a stamp that the next Lookup finds stale.
	st := c.stamp()
	now := c.now()
	c.mu.Lock()
	if e := c.m[name]; e != nil {
		select {
		case <-e.done:
			if e.err == nil && now.Sub(e.at) < c.ttl && e.st == st {
				c.mu.Unlock()
				return e.id, nil
			}
		default:
			if e.st == st {
				// A lookup of this name is under way on the same
				// files: its answer is as fresh as a new one would be.
				c.mu.Unlock()
				<-e.done
				return e.id, e.err
			}
		}
	}
	if len(c.m) >= maxIdentities {
		for k, e := range c.m {
			select {
			case <-e.done:
				if e.err != nil || now.Sub(e.at) >= c.ttl {
					delete(c.m, k)
				}
			default:
			}
		}
	}
	e := &identityEntry{done: make(chan struct{}), at: now, st: st}
	if len(c.m) < maxIdentities {
		c.m[name] = e
	}
	c.mu.Unlock()
	e.id, e.err = c.lookup(name)
	close(e.done)
	if e.err != nil {
		c.mu.Lock()
		if c.m[name] == e {
			delete(c.m, name)
		}
		c.mu.Unlock()
	}
	return e.id, e.err
}
