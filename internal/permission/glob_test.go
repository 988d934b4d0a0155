package permission

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Glob lists a directory only when the user could (read and search), and
// otherwise answers as for a directory that does not exist.
func TestGlobListsOnlyWhatTheUserCould(t *testing.T) {
	f := newFixture(t)
	home := f.mkdir(t, "home", 0o700, f.alice.UID, f.gpID)
	for _, n := range []string{"a.log", "b.log", ".hidden"} {
		f.file(t, "home/"+n, 0o644, f.alice.UID, f.gpID)
	}
	xonly := f.mkdir(t, "xonly", 0o711, f.alice.UID, f.gpID)
	f.file(t, "xonly/known.log", 0o644, f.alice.UID, f.gpID)
	open := f.mkdir(t, "open", 0o755, f.alice.UID, f.gpID)
	f.file(t, "open/o1.log", 0o644, f.alice.UID, f.gpID)
	f.file(t, "open/o2.log", 0o600, f.alice.UID, f.gpID) // listed, not readable: open decides
	alice, bob := NewChecker(f.alice, f.rules), NewChecker(f.bob, f.rules)
	for _, tc := range []struct {
		c       *Checker
		pattern string
		want    []string
	}{
		{alice, home + "/*", []string{home + "/.hidden", home + "/a.log", home + "/b.log"}},
		{bob, home + "/*", nil},
		{bob, home + "/[a.]*", nil},
		{bob, home + "/a.log", nil}, // not even a literal name: no search on home
		{bob, xonly + "/*", nil},    // search without read: no listing
		{bob, xonly + "/known.log", []string{xonly + "/known.log"}},
		{bob, open + "/*.log", []string{open + "/o1.log", open + "/o2.log"}},
		{bob, f.dir + "/*/o1.log", []string{open + "/o1.log"}},
		{bob, f.dir + "/*/*.log", []string{open + "/o1.log", open + "/o2.log"}},
	} {
		got, err := tc.c.Glob(tc.pattern)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s Glob(%s) = %q, %v; want %q", tc.c.id.Name, tc.pattern, got, err, tc.want)
		}
	}
	if _, err := bob.Glob(f.dir + "/["); err != filepath.ErrBadPattern {
		t.Errorf("bad pattern: %v", err)
	}
	// A symlink to an open directory is followed; one inside a closed
	// directory is not reached.
	if err := os.Symlink(open, filepath.Join(f.dir, "openlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(open, filepath.Join(home, "inner")); err != nil {
		t.Fatal(err)
	}
	if got, _ := bob.Glob(f.dir + "/openlink/o1*"); !slices.Equal(got, []string{f.dir + "/openlink/o1.log"}) {
		t.Errorf("through a symlink: %q", got)
	}
	if got, _ := bob.Glob(home + "/inner/*"); got != nil {
		t.Errorf("through a symlink in a closed directory: %q", got)
	}
	if got := bob.ReadDir(home); got != nil {
		t.Errorf("ReadDir of a closed directory: %q", got)
	}
	if got := alice.ReadDir(home); len(got) != 4 {
		t.Errorf("ReadDir of her own directory: %q", got)
	}
}

// dserver's own /proc entries are refused for every user and every
// spelling; a process of the user's own is not.
func TestOpenRefusesOwnProc(t *testing.T) {
	f := newFixture(t)
	root := &Identity{Name: "root", UID: 0, GID: 0}
	link := filepath.Join(f.dir, "self")
	if err := os.Symlink("/proc/self", link); err != nil {
		t.Fatal(err)
	}
	pid := os.Getpid()
	for _, p := range []string{"/proc/self/status", "/proc/thread-self/status", fmt.Sprintf("/proc/%d/status", pid),
		fmt.Sprintf("/proc/%d/task/%d/status", pid, pid), link + "/status", "/proc/self/root/etc/passwd", "/proc/net/dev"} {
		file, _, err := Open(root, f.rules, p)
		if err == nil {
			file.Close()
			t.Errorf("%s was served", p)
			continue
		}
		if !strings.Contains(err.Error(), "/proc entry is never served") {
			t.Errorf("%s: %v", p, err)
		}
	}
	// Another process (init, owned by root) is served to root only.
	file, _, err := Open(root, f.rules, "/proc/1/status")
	if err != nil {
		t.Errorf("root reading /proc/1/status: %v", err)
	} else {
		file.Close()
	}
	if file, _, err := Open(f.bob, f.rules, "/proc/1/status"); err == nil {
		file.Close()
		t.Error("bob was served root's /proc/1/status")
	}
}

// fs.protected_symlinks: with the sysctl on, a link in a sticky
// world-writable directory is followed only for its owner or when the
// directory's owner owns it; with it off, for everyone.
func TestProtectedSymlinks(t *testing.T) {
	f := newFixture(t)
	target := f.file(t, "target.log", 0o644, 0, 0)
	sticky := f.mkdir(t, "sticky", 0o777|os.ModeSticky, 0, 0)
	if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(sticky, "by-alice.log")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, int(f.alice.UID), int(f.gpID)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who       *Identity
		protected int8
		ok        bool
	}{
		{f.alice, 1, true}, {f.bob, 1, false}, {f.bob, -1, true},
	} {
		file, _, err := openFile(tc.who, f.rules, link, false, nil, nil, tc.protected)
		if err == nil {
			file.Close()
		}
		if (err == nil) != tc.ok {
			t.Errorf("%s with protected_symlinks %d: err %v, want ok=%v", tc.who.Name, tc.protected, err, tc.ok)
		}
	}
}
