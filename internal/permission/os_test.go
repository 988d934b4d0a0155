package permission

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fixture holds real OS accounts: alice (primary group gp, supplementary gs),
// bob (primary gb) and carol (primary gc), plus a world-searchable base dir.
type fixture struct {
	dir                string
	alice, bob, carol  *Identity
	gp, gs, gb, gc     string
	gpID, gsID, gbID   uint32
	rules              *Rules
	hasSetfacl, kernel bool
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	var out []byte
	var err error
	// useradd/groupadd fail transiently if another process holds the
	// passwd/group lock.
	for range 10 {
		if out, err = exec.Command(name, args...).CombinedOutput(); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: creating test users and groups needs root")
	}
	for _, tool := range []string{"useradd", "groupadd", "userdel", "groupdel"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: %s not installed (package passwd)", tool)
		}
	}
	sfx := make([]byte, 3)
	_, _ = rand.Read(sfx)
	pre := "dtperm" + hex.EncodeToString(sfx)
	f := &fixture{gp: pre + "gp", gs: pre + "gs", gb: pre + "gb", gc: pre + "gc"}
	for _, g := range []string{f.gp, f.gs, f.gb, f.gc} {
		run(t, "groupadd", g)
		t.Cleanup(func() { _ = exec.Command("groupdel", g).Run() })
	}
	users := []struct{ name, prim, supp string }{
		{pre + "ua", f.gp, f.gs}, {pre + "ub", f.gb, ""}, {pre + "uc", f.gc, ""},
	}
	for _, u := range users {
		args := []string{"-M", "-N", "-s", "/usr/sbin/nologin", "-g", u.prim}
		if u.supp != "" {
			args = append(args, "-G", u.supp)
		}
		run(t, "useradd", append(args, u.name)...)
		t.Cleanup(func() { _ = exec.Command("userdel", u.name).Run() })
	}
	ids := make([]*Identity, 3)
	for i, u := range users {
		id, err := LookupUser(u.name)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	f.alice, f.bob, f.carol = ids[0], ids[1], ids[2]
	f.gpID, f.gsID, f.gbID = gid(t, f.gp), gid(t, f.gs), gid(t, f.gb)

	dir, err := os.MkdirTemp("", "dtperm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The check walks every parent, so the temp dir itself must be on a path
	// the test users can search.
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
		t.Fatal(err)
	}
	f.dir = dir
	f.rules, _ = CompileRules([]string{"^/"})
	_, err = exec.LookPath("setfacl")
	f.hasSetfacl = err == nil
	_, err = exec.LookPath("setpriv")
	f.kernel = err == nil
	return f
}

func gid(t *testing.T, name string) uint32 {
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Fatal(err)
	}
	n, err := parseID(g.Gid)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) path(rel string) string { return filepath.Join(f.dir, rel) }

func (f *fixture) file(t *testing.T, rel string, mode os.FileMode, uid, gid uint32) string {
	t.Helper()
	p := f.path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("content of "+rel+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	chown(t, p, mode, uid, gid)
	return p
}

func (f *fixture) mkdir(t *testing.T, rel string, mode os.FileMode, uid, gid uint32) string {
	t.Helper()
	p := f.path(rel)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	chown(t, p, mode, uid, gid)
	return p
}

func chown(t *testing.T, p string, mode os.FileMode, uid, gid uint32) {
	t.Helper()
	if err := os.Chown(p, int(uid), int(gid)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) setfacl(t *testing.T, p string, spec string) {
	t.Helper()
	if !f.hasSetfacl {
		t.Skip("skipping: setfacl not installed (package acl)")
	}
	// -n: keep the mask exactly as given instead of recomputing it.
	if out, err := exec.Command("setfacl", "-n", "-m", spec, p).CombinedOutput(); err != nil {
		if strings.Contains(string(out), "Operation not supported") {
			t.Skipf("skipping: filesystem of %s has no ACL support", p)
		}
		t.Fatalf("setfacl -m %s %s: %v: %s", spec, p, err, out)
	}
}

// kernelCanRead asks the kernel: can the account read p through cat?
func kernelCanRead(t *testing.T, id *Identity, p string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "setpriv", fmt.Sprintf("--reuid=%d", id.UID),
		fmt.Sprintf("--regid=%d", id.GID), "--init-groups", "cat", "--", p)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if msg := stderr.String(); err != nil && !strings.Contains(msg, "Permission denied") && !strings.Contains(msg, "No such file") {
		t.Fatalf("setpriv cat %s as %s: %v: %s", p, id, err, stderr.String())
	}
	return err == nil
}

func TestLookupUser(t *testing.T) {
	f := newFixture(t)
	if !f.alice.InGroup(f.gpID) || !f.alice.InGroup(f.gsID) || f.alice.InGroup(f.gbID) {
		t.Errorf("alice groups: %+v (want %d and %d)", f.alice, f.gpID, f.gsID)
	}
	if f.alice.GID != f.gpID || !slices.Contains(f.alice.Groups, f.gsID) {
		t.Errorf("alice: %+v", f.alice)
	}
	_, err := LookupUser(f.gp + "nosuchuser")
	var unknown user.UnknownUserError
	if !errors.As(err, &unknown) {
		t.Errorf("unknown user: err = %v", err)
	}
	if _, err := LookupUser(""); err == nil {
		t.Error("empty name accepted")
	}
}

// TestOpenAsUsers is the end-to-end table: Open must agree with the
// expectation, and for the cases the kernel can decide (no regex rule or
// file-type policy involved) with `cat` run as that account.
func TestOpenAsUsers(t *testing.T) {
	f := newFixture(t)
	type check struct {
		who *Identity
		ok  bool
	}
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T) string
		rules  []string // default ^/
		checks []check
		kernel bool
		why    string // substring of the denial reason for the first denied check
	}{
		{name: "owner read", kernel: true,
			setup:  func(t *testing.T) string { return f.file(t, "owner.log", 0o400, f.alice.UID, 0) },
			checks: []check{{f.alice, true}, {f.bob, false}}},
		{name: "owner class only, even if group and other may read", kernel: true, why: "is owner",
			setup:  func(t *testing.T) string { return f.file(t, "ownerclass.log", 0o044, f.alice.UID, f.gpID) },
			checks: []check{{f.alice, false}, {f.bob, true}}},
		{name: "group read via primary group", kernel: true,
			setup:  func(t *testing.T) string { return f.file(t, "gprim.log", 0o040, 0, f.gpID) },
			checks: []check{{f.alice, true}, {f.bob, false}}},
		{name: "group read via supplementary group", kernel: true,
			setup:  func(t *testing.T) string { return f.file(t, "gsupp.log", 0o040, 0, f.gsID) },
			checks: []check{{f.alice, true}, {f.carol, false}}},
		{name: "group class lacks r though other has it", kernel: true, why: "in group",
			setup:  func(t *testing.T) string { return f.file(t, "gclass.log", 0o604, 0, f.gpID) },
			checks: []check{{f.alice, false}, {f.bob, true}}},
		{name: "other read", kernel: true,
			setup:  func(t *testing.T) string { return f.file(t, "other.log", 0o004, 0, 0) },
			checks: []check{{f.bob, true}, {f.carol, true}}},
		{name: "denied", kernel: true, why: "not in group",
			setup:  func(t *testing.T) string { return f.file(t, "denied.log", 0o640, 0, 0) },
			checks: []check{{f.bob, false}, {f.alice, false}}},
		{name: "acl named user grant", kernel: true,
			setup: func(t *testing.T) string {
				p := f.file(t, "acluser.log", 0o600, 0, 0)
				f.setfacl(t, p, fmt.Sprintf("u:%s:r,m::r", f.bob.Name))
				return p
			},
			checks: []check{{f.bob, true}, {f.carol, false}}},
		{name: "acl mask without r: named user denied, owner allowed", kernel: true, why: "mask::--x",
			setup: func(t *testing.T) string {
				p := f.file(t, "aclmask.log", 0o600, f.alice.UID, 0)
				f.setfacl(t, p, fmt.Sprintf("u:%s:r,m::x", f.bob.Name))
				return p
			},
			checks: []check{{f.bob, false}, {f.alice, true}}},
		{name: "acl empty mask: named user denied, owner allowed", kernel: true,
			setup: func(t *testing.T) string {
				p := f.file(t, "aclmask0.log", 0o600, f.alice.UID, 0)
				f.setfacl(t, p, fmt.Sprintf("u:%s:r,m::-", f.bob.Name))
				return p
			},
			checks: []check{{f.bob, false}, {f.alice, true}}},
		{name: "acl empty mask: kernel skips the acl and uses other", kernel: true,
			setup: func(t *testing.T) string {
				p := f.file(t, "aclmask0other.log", 0o604, 0, 0)
				f.setfacl(t, p, fmt.Sprintf("u:%s:r,m::-", f.bob.Name))
				return p
			},
			checks: []check{{f.bob, true}, {f.carol, true}}},
		{name: "acl named user entry overrides other", kernel: true, why: "acl user:",
			setup: func(t *testing.T) string {
				p := f.file(t, "aclnouser.log", 0o644, 0, 0)
				f.setfacl(t, p, fmt.Sprintf("u:%s:-,m::r", f.bob.Name))
				return p
			},
			checks: []check{{f.bob, false}, {f.carol, true}}},
		{name: "acl named group grant", kernel: true,
			setup: func(t *testing.T) string {
				p := f.file(t, "aclgroup.log", 0o600, 0, 0)
				f.setfacl(t, p, fmt.Sprintf("g:%s:r,m::r", f.gb))
				return p
			},
			checks: []check{{f.bob, true}, {f.carol, false}, {f.alice, false}}},
		{name: "acl named supplementary group grant", kernel: true,
			setup: func(t *testing.T) string {
				p := f.file(t, "aclsupp.log", 0o600, 0, 0)
				f.setfacl(t, p, fmt.Sprintf("g:%s:r,m::r", f.gs))
				return p
			},
			checks: []check{{f.alice, true}, {f.bob, false}}},
		{name: "acl matching group without r hides other", kernel: true, why: "no matching group entry",
			setup: func(t *testing.T) string {
				p := f.file(t, "aclgroupnone.log", 0o644, 0, 0)
				f.setfacl(t, p, fmt.Sprintf("g:%s:-,m::r", f.gb))
				return p
			},
			checks: []check{{f.bob, false}, {f.carol, true}}},
		{name: "parent directory without x for the user", kernel: true, why: "no search permission on directory",
			setup: func(t *testing.T) string {
				p := f.file(t, "closed/sub/file.log", 0o644, 0, 0)
				f.mkdir(t, "closed", 0o700, 0, 0)
				return p
			},
			checks: []check{{f.bob, false}, {f.carol, false}}},
		{name: "parent directory x via group", kernel: true,
			setup: func(t *testing.T) string {
				p := f.file(t, "gdir/file.log", 0o644, 0, 0)
				f.mkdir(t, "gdir", 0o710, 0, f.gpID)
				return p
			},
			checks: []check{{f.alice, true}, {f.bob, false}}},
		{name: "parent directory r without x", kernel: true,
			setup: func(t *testing.T) string {
				p := f.file(t, "rdir/file.log", 0o644, 0, 0)
				f.mkdir(t, "rdir", 0o744, 0, 0)
				return p
			},
			checks: []check{{f.bob, false}}},
		{name: "parent directory x via acl", kernel: true,
			setup: func(t *testing.T) string {
				p := f.file(t, "acldir/file.log", 0o644, 0, 0)
				d := f.mkdir(t, "acldir", 0o700, 0, 0)
				f.setfacl(t, d, fmt.Sprintf("u:%s:x,m::x", f.bob.Name))
				return p
			},
			checks: []check{{f.bob, true}, {f.carol, false}}},
		{name: "symlink to a file the rules forbid", why: "no permission rule matches",
			rules: []string{"^DIR/public/"},
			setup: func(t *testing.T) string {
				target := f.file(t, "secret.log", 0o644, 0, 0)
				f.mkdir(t, "public", 0o755, 0, 0)
				link := f.path("public/link.log")
				if err := os.Symlink(target, link); err != nil {
					t.Fatal(err)
				}
				return link
			},
			checks: []check{{f.bob, false}}},
		{name: "symlink to a file the user may not read", kernel: true,
			setup: func(t *testing.T) string {
				f.file(t, "private.log", 0o600, 0, 0)
				link := f.path("private-link.log")
				if err := os.Symlink("private.log", link); err != nil {
					t.Fatal(err)
				}
				return link
			},
			checks: []check{{f.bob, false}}},
		{name: "deny rule on the resolved path", rules: []string{"^/", "!secret2"},
			setup: func(t *testing.T) string {
				f.file(t, "secret2.log", 0o644, 0, 0)
				link := f.path("innocent.log")
				if err := os.Symlink("secret2.log", link); err != nil {
					t.Fatal(err)
				}
				return link
			},
			checks: []check{{f.bob, false}}},
		{name: "dot-dot is normalized before the rules", rules: []string{"^DIR/norm.log$"},
			setup: func(t *testing.T) string {
				f.file(t, "norm.log", 0o644, 0, 0)
				f.mkdir(t, "x", 0o755, 0, 0)
				return f.dir + "/x/../norm.log"
			},
			checks: []check{{f.bob, true}}},
		{name: "directory rejected", why: "not a regular file (directory)",
			setup:  func(t *testing.T) string { return f.mkdir(t, "adir", 0o755, 0, 0) },
			checks: []check{{f.bob, false}}},
		{name: "fifo rejected without blocking", why: "not a regular file (fifo)",
			setup: func(t *testing.T) string {
				p := f.path("fifo")
				if err := unix.Mkfifo(p, 0o666); err != nil {
					t.Fatal(err)
				}
				return p
			},
			checks: []check{{f.bob, false}}},
		{name: "missing file", kernel: true,
			setup:  func(t *testing.T) string { return f.path("does-not-exist.log") },
			checks: []check{{f.bob, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.setup(t)
			rules := f.rules
			if tc.rules != nil {
				list := make([]string, len(tc.rules))
				for i, r := range tc.rules {
					list[i] = strings.ReplaceAll(r, "DIR", f.dir)
				}
				var err error
				if rules, err = CompileRules(list); err != nil {
					t.Fatal(err)
				}
			}
			reasonSeen := tc.why == ""
			for _, c := range tc.checks {
				file, info, err := Open(c.who, rules, p)
				if got := err == nil; got != c.ok {
					t.Errorf("Open(%s) as %s: allowed=%v, want %v (err: %v)", p, c.who, got, c.ok, err)
				}
				if err == nil {
					b, rerr := io.ReadAll(file)
					_ = file.Close()
					if rerr != nil || !strings.HasPrefix(string(b), "content of ") {
						t.Errorf("read %s: %q %v", info.Resolved, b, rerr)
					}
				} else {
					if !errors.Is(err, ErrDenied) {
						t.Errorf("error %v does not wrap ErrDenied", err)
					}
					if !reasonSeen && strings.Contains(err.Error(), tc.why) {
						reasonSeen = true
					}
				}
				if st, serr := os.Stat(p); tc.kernel && serr == nil && st.Mode().IsRegular() {
					// CanRead alone ignores parent directories, so compare it
					// with Open only where the parents are searchable by all.
					if parentsOpen(p) {
						got, cerr := CanRead(c.who, p, nil)
						if cerr != nil || got != c.ok {
							t.Errorf("CanRead(%s) as %s = %v, %v; want %v", p, c.who, got, cerr, c.ok)
						}
					}
				}
				if tc.kernel && f.kernel {
					if k := kernelCanRead(t, c.who, p); k != c.ok {
						t.Errorf("kernel says %s can read %s: %v; Open said %v", c.who, p, k, err == nil)
					}
				}
			}
			if !reasonSeen {
				t.Errorf("no denial reason contained %q", tc.why)
			}
		})
	}
	if !f.kernel {
		t.Log("setpriv not installed: kernel cross-check skipped")
	}
}

func parentsOpen(p string) bool {
	for d := filepath.Dir(p); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil || st.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == "/" {
			return true
		}
	}
}

func TestOpenMissingFile(t *testing.T) {
	dir := t.TempDir()
	// The walk checks search permission before every lookup (as the
	// kernel does), so "not found" needs a path the user may search.
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if parentsOpen(filepath.Join(d, "x")) {
			break
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Skip("cannot make the temp dir searchable:", err)
		}
	}
	id := &Identity{Name: "nobody", UID: 65534, GID: 65534}
	rules, _ := CompileRules([]string{"^/"})
	for _, p := range []string{dir + "/missing.log", dir + "/missing-dir/x.log"} {
		_, _, err := Open(id, rules, p)
		var pe *Error
		if !errors.Is(err, ErrDenied) || !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || !pe.NotExist() {
			t.Errorf("Open(%s): %v: want ErrDenied and fs.ErrNotExist", p, err)
		}
		if !strings.HasPrefix(err.Error(), "not found: ") {
			t.Errorf("log text %q", err)
		}
	}
}

func TestOpenInfoAndFlags(t *testing.T) {
	f := newFixture(t)
	p := f.file(t, "info.log", 0o644, 0, 0)
	link := f.path("info-link.log")
	if err := os.Symlink("info.log", link); err != nil {
		t.Fatal(err)
	}
	file, info, err := Open(f.bob, f.rules, link)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	if info.Path != link || info.Resolved != p || info.Ino != st.Ino || info.Dev != uint64(st.Dev) ||
		info.Size != st.Size || info.Mode != 0o644 || info.ModTime.IsZero() || file.Name() != p {
		t.Errorf("info = %+v", info)
	}
	flags, err := unix.FcntlInt(file.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK != 0 {
		t.Error("O_NONBLOCK left set")
	}
	fdflags, err := unix.FcntlInt(file.Fd(), unix.F_GETFD, 0)
	if err != nil || fdflags&unix.FD_CLOEXEC == 0 {
		t.Errorf("FD_CLOEXEC not set: %v", err)
	}
}

func TestOpenRelativePath(t *testing.T) {
	f := newFixture(t)
	f.file(t, "rel/rel.log", 0o644, 0, 0)
	t.Chdir(f.path("rel"))
	file, info, err := Open(f.bob, f.rules, "../rel/./rel.log")
	if err != nil {
		t.Fatal(err)
	}
	file.Close()
	if info.Resolved != f.path("rel/rel.log") {
		t.Errorf("resolved %q", info.Resolved)
	}
}

func TestOpenSkip(t *testing.T) {
	f := newFixture(t)
	p := f.file(t, "job.log", 0o600, 0, 0)
	none, _ := CompileRules(nil)
	if _, _, err := Open(f.bob, none, p); !errors.Is(err, ErrDenied) {
		t.Fatalf("without Skip: %v", err)
	}
	if _, _, err := Open(nil, f.rules, p); !errors.Is(err, ErrDenied) {
		t.Fatalf("nil identity without Skip: %v", err)
	}
	file, _, err := Open(nil, nil, p, Skip)
	if err != nil {
		t.Fatalf("Skip: %v", err)
	}
	file.Close()
	link := f.path("job-link.log")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	file, info, err := Open(nil, nil, link, Skip)
	if err != nil || info.Resolved != p {
		t.Fatalf("Skip via symlink: %v %+v", err, info)
	}
	file.Close()
	fifo := f.path("job.fifo")
	if err := unix.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(nil, nil, fifo, Skip); !errors.Is(err, ErrDenied) {
		t.Errorf("Skip must still reject a fifo: %v", err)
	}
	if _, _, err := Open(nil, nil, f.dir, Skip); !errors.Is(err, ErrDenied) {
		t.Errorf("Skip must still reject a directory: %v", err)
	}
}

// TestOpenSwapRace replaces the checked entry between the checks and the
// open through the internal hook; every swap must be refused.
func TestOpenSwapRace(t *testing.T) {
	f := newFixture(t)
	secret := f.file(t, "race-secret.log", 0o600, 0, 0)
	for _, tc := range []struct {
		name string
		swap func(t *testing.T, resolved string)
		why  string
	}{
		{"replaced by a symlink", func(t *testing.T, resolved string) {
			if err := os.Remove(resolved); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(secret, resolved); err != nil {
				t.Fatal(err)
			}
		}, "became a symlink"},
		{"replaced by another regular file", func(t *testing.T, resolved string) {
			other := f.file(t, "race-other.log", 0o644, 0, 0)
			if err := os.Rename(other, resolved); err != nil {
				t.Fatal(err)
			}
		}, "replaced between check and open"},
		{"replaced by a hard link to a secret", func(t *testing.T, resolved string) {
			if err := os.Remove(resolved); err != nil {
				t.Fatal(err)
			}
			if err := os.Link(secret, resolved); err != nil {
				t.Fatal(err)
			}
		}, "replaced between check and open"},
		{"parent replaced by a symlink", func(t *testing.T, resolved string) {
			dir := filepath.Dir(resolved)
			evil := f.file(t, "race-evil/"+filepath.Base(resolved), 0o644, 0, 0)
			if err := os.WriteFile(evil, []byte("EVIL\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(dir, dir+".moved"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Dir(evil), dir); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"replaced by a fifo", func(t *testing.T, resolved string) {
			if err := os.Remove(resolved); err != nil {
				t.Fatal(err)
			}
			if err := unix.Mkfifo(resolved, 0o666); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file (fifo)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.file(t, "race/"+strings.ReplaceAll(tc.name, " ", "-")+".log", 0o644, 0, 0)
			called := false
			hook := func(s stage, resolved string) {
				if s == stageBeforeOpen {
					called = true
					tc.swap(t, resolved)
				}
			}
			file, _, err := openFile(f.bob, f.rules, p, false, hook, nil, 0)
			if tc.why == "" {
				// The walk holds the parent directory's descriptor: the
				// file is opened in the directory that was checked, never
				// in the one swapped in.
				if err != nil {
					t.Fatalf("open through the held parent: %v", err)
				}
				b, _ := io.ReadAll(file)
				file.Close()
				if strings.Contains(string(b), "EVIL") || !called {
					t.Fatalf("read %q (hook called %v), want the checked file", b, called)
				}
				return
			}
			if err == nil {
				file.Close()
				t.Fatal("swap was not detected")
			}
			if !called || !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("err = %v (hook called %v), want ErrDenied with %q", err, called, tc.why)
			}
			// The job users' bypass must not bypass the race checks.
			p2 := f.file(t, "race/skip-"+strings.ReplaceAll(tc.name, " ", "-")+".log", 0o644, 0, 0)
			if tc.name == "parent replaced by a symlink" {
				return // the race directory is gone; covered above
			}
			if file, _, err := openFile(nil, nil, p2, true, func(s stage, r string) { tc.swap(t, r) }, nil, 0); err == nil {
				file.Close()
				t.Error("swap not detected with Skip")
			}
		})
	}
}

// A Checker caches directory decisions; revoking search permission must
// still take effect for the next file (ctime changes invalidate).
func TestCheckerNoticesRevokedDirectory(t *testing.T) {
	f := newFixture(t)
	sub := filepath.Join(f.dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.log", "b.log"} {
		if err := os.WriteFile(filepath.Join(sub, n), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := NewChecker(f.bob, f.rules)
	file, _, err := c.Open(filepath.Join(sub, "a.log"))
	if err != nil {
		t.Fatalf("first open: %v", err)
	}
	file.Close()
	if err := os.Chmod(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if file, _, err := c.Open(filepath.Join(sub, "b.log")); err == nil {
		file.Close()
		t.Fatal("a cached directory decision survived chmod 0700")
	} else if !errors.Is(err, ErrDenied) {
		t.Fatalf("err = %v, want ErrDenied", err)
	}
}
