package permission

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func encodeACL(version uint32, entries ...aclEntry) []byte {
	b := binary.LittleEndian.AppendUint32(nil, version)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return b
}

const undef = 0xffffffff

func base(u, g, o uint16) []aclEntry {
	return []aclEntry{{tagUserObj, u, undef}, {tagGroupObj, g, undef}, {tagOther, o, undef}}
}

// sorted puts entries in kernel order: USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER.
func withNamed(u, g, o uint16, named ...aclEntry) []aclEntry {
	out := []aclEntry{{tagUserObj, u, undef}}
	for _, tag := range []uint16{tagUser, tagGroupObj, tagGroup, tagMask} {
		if tag == tagGroupObj {
			out = append(out, aclEntry{tagGroupObj, g, undef})
			continue
		}
		for _, e := range named {
			if e.tag == tag {
				out = append(out, e)
			}
		}
	}
	return append(out, aclEntry{tagOther, o, undef})
}

func TestParseACL(t *testing.T) {
	valid := encodeACL(2, withNamed(6, 4, 0, aclEntry{tagUser, 4, 1001}, aclEntry{tagGroup, 4, 50}, aclEntry{tagMask, 4, undef})...)
	a, err := parseACL(valid)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.entries) != 6 || !a.hasMask || a.mask != 4 || a.userObj != 6 || a.group != 4 || a.other != 0 {
		t.Fatalf("parsed %+v", a)
	}
	for _, tc := range []struct {
		name string
		blob []byte
	}{
		{"empty", nil},
		{"short header", []byte{2, 0}},
		{"version 1", encodeACL(1, base(6, 4, 4)...)},
		{"truncated entry", valid[:len(valid)-3]},
		{"no entries", encodeACL(2)},
		{"missing other", encodeACL(2, base(6, 4, 4)[:2]...)},
		{"two user_obj", encodeACL(2, append(base(6, 4, 4), aclEntry{tagUserObj, 6, undef})...)},
		{"unknown tag", encodeACL(2, append(base(6, 4, 4), aclEntry{0x40, 4, 0})...)},
		{"perm out of range", encodeACL(2, append(base(6, 4, 4)[:2], aclEntry{tagOther, 8, undef})...)},
		{"named user without mask", encodeACL(2, withNamed(6, 4, 4, aclEntry{tagUser, 4, 7})...)},
		{"two masks", encodeACL(2, withNamed(6, 4, 4, aclEntry{tagMask, 4, undef}, aclEntry{tagMask, 4, undef})...)},
		{"duplicate user", encodeACL(2, withNamed(6, 4, 4, aclEntry{tagUser, 4, 7}, aclEntry{tagUser, 0, 7}, aclEntry{tagMask, 4, undef})...)},
		{"duplicate group", encodeACL(2, withNamed(6, 4, 4, aclEntry{tagGroup, 4, 7}, aclEntry{tagGroup, 0, 7}, aclEntry{tagMask, 4, undef})...)},
	} {
		if _, err := parseACL(tc.blob); !errors.Is(err, errBadACL) {
			t.Errorf("%s: err = %v, want errBadACL", tc.name, err)
		}
	}
}

// TestDecide covers the kernel algorithm on synthetic inodes, so that it runs
// without root; the root-only tests cross-check the same rules against the
// kernel.
func TestDecide(t *testing.T) {
	bob := &Identity{Name: "bob", UID: 1001, GID: 100, Groups: []uint32{100, 200}}
	st := func(mode, uid, gid uint32) *unix.Stat_t {
		return &unix.Stat_t{Mode: unix.S_IFREG | mode, Uid: uid, Gid: gid}
	}
	mask := func(p uint16) aclEntry { return aclEntry{tagMask, p, undef} }
	user := func(id uint32, p uint16) aclEntry { return aclEntry{tagUser, p, id} }
	group := func(id uint32, p uint16) aclEntry { return aclEntry{tagGroup, p, id} }
	for _, tc := range []struct {
		name string
		st   *unix.Stat_t
		acl  []aclEntry
		want uint16
		ok   bool
		why  string
	}{
		{"owner r", st(0o400, 1001, 0), nil, permRead, true, ""},
		{"owner class only", st(0o044, 1001, 100), nil, permRead, false, "is owner"},
		{"primary group", st(0o040, 0, 100), nil, permRead, true, ""},
		{"supplementary group", st(0o040, 0, 200), nil, permRead, true, ""},
		{"in group, group lacks r, other has", st(0o604, 0, 100), nil, permRead, false, "in group"},
		{"other", st(0o004, 0, 4), nil, permRead, true, ""},
		{"denied", st(0o640, 0, 4), nil, permRead, false, "mode 0640 owner 0 group 4, user bob (uid 1001) not in group"},
		{"owner rw", st(0o600, 1001, 0), nil, permRead, true, ""},
		{"dir search", st(0o711, 0, 0), nil, permSearch, true, ""},
		{"dir no search", st(0o766, 0, 0), nil, permSearch, false, "not in group"},
		{"acl named user", st(0o640, 0, 0), withNamed(6, 4, 0, user(1001, 4), mask(4)), permRead, true, ""},
		{"acl named user masked", st(0o610, 0, 0), withNamed(6, 4, 0, user(1001, 4), mask(1)), permRead, false, "acl user:1001:r--, mask::--x"},
		{"acl named user beats other", st(0o644, 0, 0), withNamed(6, 4, 4, user(1001, 0), mask(4)), permRead, false, "acl user:1001:---"},
		// Linux skips the ACL when the mask (group class bits) is zero.
		{"zero mask falls back to other", st(0o604, 0, 0), withNamed(6, 4, 4, user(1001, 4), mask(0)), permRead, true, ""},
		{"zero mask, no other", st(0o600, 0, 0), withNamed(6, 4, 0, user(1001, 4), mask(0)), permRead, false, "not in group"},
		{"owner ignores mask", st(0o600, 1001, 0), withNamed(6, 4, 0, user(7, 4), mask(0)), permRead, true, ""},
		{"acl named group", st(0o640, 0, 0), withNamed(6, 0, 0, group(200, 4), mask(4)), permRead, true, ""},
		{"acl any matching group grants", st(0o640, 0, 100), withNamed(6, 0, 0, group(200, 4), mask(4)), permRead, true, ""},
		{"acl group found, none grants, other ignored", st(0o644, 0, 100), withNamed(6, 0, 4, group(300, 4), mask(4)), permRead, false, "no matching group entry"},
		{"acl group masked", st(0o614, 0, 0), withNamed(6, 0, 4, group(200, 4), mask(1)), permRead, false, "masked by mask::--x"},
		{"acl other", st(0o644, 0, 0), withNamed(6, 4, 4, user(7, 4), mask(4)), permRead, true, ""},
		{"acl other lacks", st(0o640, 0, 0), withNamed(6, 4, 0, user(7, 4), mask(4)), permRead, false, "acl other::---"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a *acl
			if tc.acl != nil {
				var err error
				if a, err = parseACL(encodeACL(2, tc.acl...)); err != nil {
					t.Fatal(err)
				}
			}
			ok, why := decide(bob, tc.st, a, tc.want)
			if ok != tc.ok || !strings.Contains(why, tc.why) || (ok && why != "") {
				t.Errorf("decide = %v %q, want %v containing %q", ok, why, tc.ok, tc.why)
			}
		})
	}
}

func TestRootIsNotSpecial(t *testing.T) {
	root := &Identity{Name: "root", UID: 0, GID: 0, Groups: []uint32{0}}
	st := &unix.Stat_t{Mode: unix.S_IFREG | 0o600, Uid: 1001, Gid: 100}
	if ok, _ := decide(root, st, nil, permRead); ok {
		t.Error("uid 0 must get the plain mode answer")
	}
}

func TestErrorText(t *testing.T) {
	e := denied("/var/log/x", "mode 0640 owner 0 group 4, user bob (uid 1001) not in group", nil)
	const want = "permission denied: /var/log/x: mode 0640 owner 0 group 4, user bob (uid 1001) not in group"
	if e.Error() != want {
		t.Errorf("got %q", e.Error())
	}
	if !errors.Is(e, ErrDenied) || e.NotExist() {
		t.Error("denial must be ErrDenied and not NotExist")
	}
}

func FuzzParseACL(f *testing.F) {
	f.Add(encodeACL(2, base(6, 4, 4)...))
	f.Add(encodeACL(2, withNamed(6, 4, 0, aclEntry{tagUser, 4, 1001}, aclEntry{tagGroup, 5, 50}, aclEntry{tagMask, 7, undef})...))
	f.Add(encodeACL(2, withNamed(7, 0, 0, aclEntry{tagUser, 0, 0}, aclEntry{tagMask, 0, undef})...))
	f.Add([]byte{2, 0, 0, 0})
	f.Add([]byte{})
	id := &Identity{Name: "f", UID: 1001, GID: 50, Groups: []uint32{50, 60}}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parseACL(b)
		if err != nil {
			return
		}
		st := &unix.Stat_t{Mode: unix.S_IFREG | 0o654, Uid: 0, Gid: 60}
		for _, want := range []uint16{permRead, permSearch} {
			ok, why := decide(id, st, a, want)
			if ok == (why != "") {
				t.Fatalf("inconsistent decision %v %q", ok, why)
			}
		}
	})
}
