package permission

import (
	"errors"
	"fmt"
	"os/user"
	"slices"
	"strconv"
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
