package permission

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"golang.org/x/sys/unix"
)

// CanRead reports whether id may read the file at path as the kernel would
// decide from st (mode, owner, group) and the file's access ACL. If st is nil
// the file is stat'ed (following symlinks). Parent directories are not
// considered; Open does that. A non-nil error means the ACL could not be read
// or parsed, and the answer is then false.
func CanRead(id *Identity, path string, st *unix.Stat_t) (bool, error) {
	if id == nil {
		return false, errors.New("permission: nil identity")
	}
	if st == nil {
		st = new(unix.Stat_t)
		if err := unix.Stat(path, st); err != nil {
			return false, &fs.PathError{Op: "stat", Path: path, Err: err}
		}
	}
	a, err := readACL(func(buf []byte) (int, error) { return unix.Getxattr(path, xattrACLAccess, buf) })
	if err != nil {
		return false, fmt.Errorf("permission: %s: %w", path, err)
	}
	ok, _ := decide(id, st, a, permRead)
	return ok, nil
}

// readACL fetches and parses the access ACL with get (one of the getxattr
// variants). No ACL, or a filesystem without ACL support, yields nil so that
// the mode bits decide.
func readACL(get func([]byte) (int, error)) (*acl, error) {
	buf := make([]byte, 256)
	for range 8 {
		n, err := get(buf)
		switch {
		case err == nil:
			return parseACL(buf[:n])
		case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP):
			return nil, nil
		case errors.Is(err, unix.ERANGE):
			// The ACL grew (or is large); ask for its size and retry.
			size, serr := get(nil)
			if serr != nil {
				if errors.Is(serr, unix.ENODATA) {
					return nil, nil
				}
				return nil, fmt.Errorf("getxattr %s: %w", xattrACLAccess, serr)
			}
			buf = make([]byte, size+aclEntryLen)
		default:
			return nil, fmt.Errorf("getxattr %s: %w", xattrACLAccess, err)
		}
	}
	return nil, fmt.Errorf("getxattr %s: size keeps changing", xattrACLAccess)
}

// decide mirrors the kernel's acl_permission_check for one permission bit
// set: owner class from the mode; otherwise the ACL, but only when the group
// class bits (which hold the ACL mask) are non-zero, exactly like Linux;
// otherwise group class if the user is in the file's group, else other. The
// reason is for the server log and empty when access is granted.
func decide(id *Identity, st *unix.Stat_t, a *acl, want uint16) (bool, string) {
	mode := uint16(st.Mode & 0o7777)
	who := func(detail string) string {
		return fmt.Sprintf("mode %04o owner %d group %d, user %s %s", mode, st.Uid, st.Gid, id, detail)
	}
	if st.Uid == id.UID {
		if (mode>>6)&want == want {
			return true, ""
		}
		return false, who("is owner, owner class lacks " + permString(want))
	}
	if a != nil && mode&0o070 != 0 {
		if ok, why := a.check(id, st.Gid, want); !ok {
			return false, who("denied by " + why)
		}
		return true, ""
	}
	if id.InGroup(st.Gid) {
		if (mode>>3)&want == want {
			return true, ""
		}
		return false, who("in group, group class lacks " + permString(want))
	}
	if mode&want == want {
		return true, ""
	}
	return false, who("not in group")
}

// dirCache remembers directories a user may search, so a glob over many
// files in one directory reads the directory's ACL once. An entry is keyed
// by the directory's identity (device and inode, from fstat of the
// descriptor the walk holds) and reused only while its ctime is unchanged:
// chmod, chown and setfacl all update ctime, so a revoked permission is
// noticed at the next file.
type dirCache struct {
	mu sync.Mutex
	m  map[dirID]ctime
}

type dirID struct{ dev, ino uint64 }

type ctime struct{ s, ns int64 }

func idOf(st *unix.Stat_t) (dirID, ctime) {
	return dirID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, ctime{s: int64(st.Ctim.Sec), ns: int64(st.Ctim.Nsec)}
}

func (c *dirCache) allowed(st *unix.Stat_t) bool {
	if c == nil {
		return false
	}
	id, ct := idOf(st)
	c.mu.Lock()
	defer c.mu.Unlock()
	got, ok := c.m[id]
	return ok && got == ct
}

func (c *dirCache) remember(st *unix.Stat_t) {
	if c == nil {
		return
	}
	id, ct := idOf(st)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[dirID]ctime{}
	}
	if len(c.m) > 4096 {
		clear(c.m) // bounded: a session walking huge trees just re-reads ACLs
	}
	c.m[id] = ct
}
