package permission

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Layout of the system.posix_acl_access xattr (little endian): a u32 version
// followed by {tag u16, perm u16, id u32} entries.
const (
	aclVersion   = 2
	aclHeaderLen = 4
	aclEntryLen  = 8

	tagUserObj  = 0x01
	tagUser     = 0x02
	tagGroupObj = 0x04
	tagGroup    = 0x08
	tagMask     = 0x10
	tagOther    = 0x20

	xattrACLAccess = "system.posix_acl_access"
)

// Permission bits as used in mode classes and ACL entries.
const (
	permRead   = 4
	permSearch = 1
)

var errBadACL = errors.New("malformed POSIX ACL")

type aclEntry struct {
	tag  uint16
	perm uint16
	id   uint32
}

// acl is a validated access ACL. Entries keep their on-disk order, but the
// evaluation goes by entry class, so a (kernel-rejected) unsorted blob cannot
// change the answer.
type acl struct {
	entries []aclEntry
	userObj uint16
	group   uint16
	other   uint16
	mask    uint16
	hasMask bool
}

// parseACL decodes and validates an access ACL xattr the way the kernel's
// posix_acl_valid would, so that a blob the kernel would refuse to honour is
// an error (and thus a denial) rather than a guess.
func parseACL(b []byte) (*acl, error) {
	if len(b) < aclHeaderLen {
		return nil, fmt.Errorf("%w: %d bytes", errBadACL, len(b))
	}
	if v := binary.LittleEndian.Uint32(b); v != aclVersion {
		return nil, fmt.Errorf("%w: version %d", errBadACL, v)
	}
	body := b[aclHeaderLen:]
	if len(body)%aclEntryLen != 0 {
		return nil, fmt.Errorf("%w: length %d", errBadACL, len(b))
	}
	a := &acl{entries: make([]aclEntry, 0, len(body)/aclEntryLen)}
	var seen [tagOther + 1]int
	users := map[uint32]bool{}
	groups := map[uint32]bool{}
	for off := 0; off < len(body); off += aclEntryLen {
		e := aclEntry{
			tag:  binary.LittleEndian.Uint16(body[off:]),
			perm: binary.LittleEndian.Uint16(body[off+2:]),
			id:   binary.LittleEndian.Uint32(body[off+4:]),
		}
		if e.perm&^7 != 0 {
			return nil, fmt.Errorf("%w: perm %#x", errBadACL, e.perm)
		}
		switch e.tag {
		case tagUserObj:
			a.userObj = e.perm
		case tagGroupObj:
			a.group = e.perm
		case tagOther:
			a.other = e.perm
		case tagMask:
			a.mask, a.hasMask = e.perm, true
		case tagUser:
			if users[e.id] {
				return nil, fmt.Errorf("%w: duplicate user %d", errBadACL, e.id)
			}
			users[e.id] = true
		case tagGroup:
			if groups[e.id] {
				return nil, fmt.Errorf("%w: duplicate group %d", errBadACL, e.id)
			}
			groups[e.id] = true
		default:
			return nil, fmt.Errorf("%w: tag %#x", errBadACL, e.tag)
		}
		seen[e.tag]++
		a.entries = append(a.entries, e)
	}
	for _, t := range []uint16{tagUserObj, tagGroupObj, tagOther} {
		if seen[t] != 1 {
			return nil, fmt.Errorf("%w: %d entries of tag %#x", errBadACL, seen[t], t)
		}
	}
	if seen[tagMask] > 1 || (seen[tagMask] == 0 && len(users)+len(groups) > 0) {
		return nil, fmt.Errorf("%w: bad mask", errBadACL)
	}
	return a, nil
}

// check is the kernel's posix_acl_permission for a non-owner (the owner is
// decided from the mode before ACLs are consulted): a named user entry wins,
// then any matching group class entry, then other.
func (a *acl) check(id *Identity, fileGID uint32, want uint16) (bool, string) {
	masked := func(p uint16) uint16 {
		if a.hasMask {
			return p & a.mask
		}
		return p
	}
	for _, e := range a.entries {
		if e.tag == tagUser && e.id == id.UID {
			if masked(e.perm)&want == want {
				return true, ""
			}
			return false, fmt.Sprintf("acl user:%d:%s, mask::%s", e.id, permString(e.perm), a.maskString())
		}
	}
	found := false
	for _, e := range a.entries {
		var match bool
		switch e.tag {
		case tagGroupObj:
			match = id.InGroup(fileGID)
		case tagGroup:
			match = id.InGroup(e.id)
		}
		if !match {
			continue
		}
		found = true
		if e.perm&want == want {
			// The kernel stops at the first group entry that grants before
			// masking; since the mask is shared, masking it is final.
			if masked(e.perm)&want == want {
				return true, ""
			}
			return false, fmt.Sprintf("acl group entry %s masked by mask::%s", permString(e.perm), a.maskString())
		}
	}
	if found {
		return false, "acl: no matching group entry grants " + permString(want)
	}
	if a.other&want == want {
		return true, ""
	}
	return false, "acl other::" + permString(a.other)
}

func (a *acl) maskString() string {
	if !a.hasMask {
		return "(none)"
	}
	return permString(a.mask)
}

func permString(p uint16) string {
	b := []byte("---")
	if p&4 != 0 {
		b[0] = 'r'
	}
	if p&2 != 0 {
		b[1] = 'w'
	}
	if p&1 != 0 {
		b[2] = 'x'
	}
	return string(b)
}
