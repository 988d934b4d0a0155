package keycache

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
)

func newKey(t *testing.T, comment string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) + " " + comment
}

// fixture is a temporary root with homes, a cache directory and a passwd
// file naming the homes.
type fixture struct {
	root, cache, passwd string
	users               []User
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	os.Chmod(root, 0o755)
	f := &fixture{root: root, cache: filepath.Join(root, "cache"), passwd: filepath.Join(root, "passwd")}
	if err := os.Mkdir(f.cache, 0o750); err != nil {
		t.Fatal(err)
	}
	return f
}

// home creates a home for name owned by the test's UID with an
// authorized_keys of the given content ("" = no .ssh at all).
func (f *fixture) home(t *testing.T, name, content string) User {
	t.Helper()
	h := filepath.Join(f.root, "home", name)
	if err := os.MkdirAll(h, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(f.root, "home"), 0o755)
	if content != "" {
		os.Mkdir(filepath.Join(h, ".ssh"), 0o700)
		if err := os.WriteFile(filepath.Join(h, ".ssh", "authorized_keys"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	u := User{Name: name, UID: os.Getuid(), GID: os.Getgid(), Home: h}
	f.users = append(f.users, u)
	f.writePasswd(t)
	return u
}

func (f *fixture) writePasswd(t *testing.T) {
	var b strings.Builder
	for _, u := range f.users {
		fmt.Fprintf(&b, "%s:x:%d:%d::%s:/bin/sh\n", u.Name, 20000+len(b.String())%1000, u.GID, u.Home)
	}
	if err := os.WriteFile(f.passwd, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) cached(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.cache, name+Suffix))
	if err != nil {
		t.Fatalf("cache file of %s: %v", name, err)
	}
	return string(b)
}

func (f *fixture) updater() *Updater { return &Updater{Dir: f.cache, StrictModes: true} }

func TestCopiesPlainKeysAndSkipsRestrictedOnes(t *testing.T) {
	f := newFixture(t)
	plain, nopty, restricted := newKey(t, "plain@laptop"), newKey(t, "nopty"), newKey(t, "restrict")
	cmd, from, expiry, ca, unknown := newKey(t, "cmd"), newKey(t, "from"), newKey(t, "expiry"), newKey(t, "ca"), newKey(t, "unknown")
	content := strings.Join([]string{
		"# a comment",
		plain,
		`command="/usr/bin/backup" ` + cmd,
		`from="10.0.0.0/8" ` + from,
		`no-pty,no-port-forwarding ` + nopty,
		`restrict,pty ` + restricted,
		`expiry-time="20990101" ` + expiry,
		`cert-authority ` + ca,
		`made-up-option ` + unknown,
		"this is not a key",
		"",
	}, "\n")
	u := f.home(t, "alice", content)
	r := f.updater().Update(u, true)
	if r.Err != nil || r.Action != "wrote" || r.Keys != 3 {
		t.Fatalf("result %+v", r)
	}
	got := f.cached(t, "alice")
	for _, k := range []string{plain, nopty, restricted} {
		if !strings.Contains(got, k+"\n") {
			t.Errorf("kept key %q missing from\n%s", k, got)
		}
	}
	for _, k := range []string{cmd, from, expiry, ca, unknown} {
		body := strings.Fields(k)[1]
		if strings.Contains(got, body) {
			t.Errorf("restricted key %q was copied:\n%s", k, got)
		}
	}
	reasons := map[string]bool{}
	for _, s := range r.Skipped {
		reasons[s.Reason] = true
	}
	for _, want := range []string{"option command cannot be honoured by dserver", "option from cannot be honoured by dserver",
		"option expiry-time cannot be honoured by dserver", "option cert-authority cannot be honoured by dserver",
		"option made-up-option cannot be honoured by dserver", "unparsable line"} {
		if !reasons[want] {
			t.Errorf("no skip %q in %+v", want, r.Skipped)
		}
	}
	// The cache file parses the way dserver parses it: every non-comment
	// line is a key.
	for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if _, _, opts, _, err := ssh.ParseAuthorizedKey([]byte(line)); err != nil || len(opts) != 0 {
			t.Errorf("cache line %q: %v %v", line, opts, err)
		}
	}
	fi, err := os.Stat(filepath.Join(f.cache, "alice"+Suffix))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", fi.Mode(), err)
	}
	if r := f.updater().Update(u, true); r.Action != "unchanged" {
		t.Errorf("second run: %+v", r)
	}
}

func TestSymlinkOutOfHomeRefused(t *testing.T) {
	f := newFixture(t)
	outside := filepath.Join(f.root, "outside")
	os.Mkdir(outside, 0o755)
	victim := newKey(t, "victim")
	os.WriteFile(filepath.Join(outside, "keys"), []byte(victim+"\n"), 0o644)

	// authorized_keys itself is a link out of the home.
	u := f.home(t, "mallory", "")
	os.Mkdir(filepath.Join(u.Home, ".ssh"), 0o700)
	if err := os.Symlink(filepath.Join(outside, "keys"), filepath.Join(u.Home, ".ssh", "authorized_keys")); err != nil {
		t.Fatal(err)
	}
	// ~/.ssh is a relative link out of the home.
	v := f.home(t, "eve", "")
	if err := os.Symlink("../../outside", filepath.Join(v.Home, ".ssh")); err != nil {
		t.Fatal(err)
	}
	os.Symlink("keys", filepath.Join(outside, "authorized_keys"))

	for _, usr := range []User{u, v} {
		_, err := OpenInHome(usr.Home, ".ssh/authorized_keys", usr.UID, true)
		if !errors.Is(err, ErrEscape) {
			t.Errorf("%s: OpenInHome error %v, want ErrEscape", usr.Name, err)
		}
		r := f.updater().Update(usr, true)
		if r.Err == nil || r.Keys != 0 {
			t.Errorf("%s: %+v, want an error and no keys", usr.Name, r)
		}
		got := f.cached(t, usr.Name)
		if strings.Contains(got, strings.Fields(victim)[1]) {
			t.Errorf("%s: key from outside the home was copied:\n%s", usr.Name, got)
		}
		// The empty cache file is what stops dserver from falling back
		// to ~/.ssh/authorized_keys and following the link itself.
		if !strings.Contains(got, "refused") {
			t.Errorf("%s: cache file does not say why it is empty:\n%s", usr.Name, got)
		}
	}
}

func TestSymlinkInsideHomeFollowed(t *testing.T) {
	f := newFixture(t)
	u := f.home(t, "bob", "")
	key := newKey(t, "dotfiles")
	os.MkdirAll(filepath.Join(u.Home, "dotfiles", "ssh"), 0o700)
	os.WriteFile(filepath.Join(u.Home, "dotfiles", "ssh", "authorized_keys"), []byte(key+"\n"), 0o600)
	os.Symlink("dotfiles/ssh", filepath.Join(u.Home, ".ssh"))
	r := f.updater().Update(u, true)
	if r.Err != nil || r.Keys != 1 || !strings.Contains(f.cached(t, "bob"), key) {
		t.Fatalf("%+v", r)
	}
}

func TestHomeReachedThroughSymlink(t *testing.T) {
	// /home itself being a link (to /data/home, say) is the admin's
	// choice and must work.
	f := newFixture(t)
	u := f.home(t, "carol", newKey(t, "c")+"\n")
	link := filepath.Join(f.root, "linkedhome")
	os.Symlink(u.Home, link)
	u.Home = link
	if r := f.updater().Update(u, true); r.Err != nil || r.Keys != 1 {
		t.Fatalf("%+v", r)
	}
}

func TestFinalComponentOpenedWithNoFollow(t *testing.T) {
	// Resolution is checked first; the component-wise O_NOFOLLOW open is
	// what catches a link swapped in afterwards. Simulate the swap by
	// asking for a relative path whose last component is a link.
	f := newFixture(t)
	u := f.home(t, "dave", newKey(t, "d")+"\n")
	os.Symlink("authorized_keys", filepath.Join(u.Home, ".ssh", "link"))
	dfd, err := syscall.Open(filepath.Join(u.Home, ".ssh"), syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(dfd)
	_, err = syscall.Openat(dfd, "link", syscall.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if !errors.Is(err, syscall.ELOOP) {
		t.Fatalf("O_NOFOLLOW open of a link: %v, want ELOOP", err)
	}
}

func TestStrictModes(t *testing.T) {
	f := newFixture(t)
	u := f.home(t, "erin", newKey(t, "e")+"\n")
	os.Chmod(filepath.Join(u.Home, ".ssh", "authorized_keys"), 0o666)
	r := f.updater().Update(u, true)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "writable by group or others") || r.Keys != 0 {
		t.Fatalf("%+v", r)
	}
	lax := f.updater()
	lax.StrictModes = false
	if r := lax.Update(u, true); r.Err != nil || r.Keys != 1 {
		t.Fatalf("without strict modes: %+v", r)
	}
}

func TestNotRegularFileRefused(t *testing.T) {
	f := newFixture(t)
	u := f.home(t, "fifo", "")
	os.Mkdir(filepath.Join(u.Home, ".ssh"), 0o700)
	if err := syscall.Mkfifo(filepath.Join(u.Home, ".ssh", "authorized_keys"), 0o600); err != nil {
		t.Skip(err)
	}
	r := f.updater().Update(u, true)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "not a regular file") {
		t.Fatalf("%+v", r)
	}
}

func TestRootHomeRefused(t *testing.T) {
	if _, err := OpenInHome("/", ".ssh/authorized_keys", 0, true); err == nil || !strings.Contains(err.Error(), "root directory") {
		t.Fatalf("home / : %v", err)
	}
}

func TestRunPrunesAndOwns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: the fixture's homes belong to other UIDs, which needs root")
	}
	f := newFixture(t)
	f.home(t, "gina", newKey(t, "g")+"\n")
	f.home(t, "hank", "") // no authorized_keys
	// Stale files: hank's (no keys any more) and a user who is gone.
	os.WriteFile(filepath.Join(f.cache, "hank"+Suffix), []byte(newKey(t, "old")+"\n"), 0o644)
	os.WriteFile(filepath.Join(f.cache, "gone"+Suffix), []byte(newKey(t, "old")+"\n"), 0o644)
	os.WriteFile(filepath.Join(f.cache, "ssh_host_key"), []byte("not touched"), 0o600)
	// The owner: a user in the passwd file with its own UID.
	pw, _ := os.ReadFile(f.passwd)
	pw = append(pw, []byte("dsrv:x:4242:4343::/nonexistent:/usr/sbin/nologin\n")...)
	os.WriteFile(f.passwd, pw, 0o644)

	var out, errb bytes.Buffer
	code := Run([]string{"-cfg", "none", "-cache-dir", f.cache, "-passwd", f.passwd, "-min-uid", "20000", "-owner", "dsrv"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(f.cache, "hank"+Suffix)); !os.IsNotExist(err) {
		t.Errorf("hank's stale cache file kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.cache, "gone"+Suffix)); !os.IsNotExist(err) {
		t.Errorf("cache file of a user who is gone kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.cache, "ssh_host_key")); err != nil {
		t.Errorf("host key touched: %v", err)
	}
	fi, err := os.Stat(filepath.Join(f.cache, "gina"+Suffix))
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != 4242 || st.Gid != 4343 {
			t.Errorf("owner %d:%d, want 4242:4343", st.Uid, st.Gid)
		}
	}
	if !strings.Contains(out.String(), "gina: wrote") || !strings.Contains(out.String(), "gone: removed") {
		t.Errorf("report:\n%s", out.String())
	}
	// No temporary files left behind.
	ents, _ := os.ReadDir(f.cache)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left over %s", e.Name())
		}
	}
}

func TestRunDryRunChangesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: the fixture's homes belong to other UIDs, which needs root")
	}
	f := newFixture(t)
	f.home(t, "ivan", newKey(t, "i")+"\n")
	var out, errb bytes.Buffer
	owner := "ivan"
	if code := Run([]string{"-n", "-cfg", "none", "-cache-dir", f.cache, "-passwd", f.passwd, "-min-uid", "0", "-owner", owner}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if ents, _ := os.ReadDir(f.cache); len(ents) != 0 {
		t.Errorf("dry run wrote %d files", len(ents))
	}
	if !strings.Contains(out.String(), "(dry run) ivan: wrote") {
		t.Errorf("report: %s", out.String())
	}
}

func TestReadPasswd(t *testing.T) {
	p := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(p, []byte("root:x:0:0:root:/root:/bin/bash\n# comment\nbad line\n../evil:x:1:1::/tmp:/bin/sh\nbob:x:1001:100:Bob:/home/bob:/bin/sh\n"), 0o644)
	users, err := ReadPasswd(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[1] != (User{Name: "bob", UID: 1001, GID: 100, Home: "/home/bob"}) {
		t.Fatalf("%+v", users)
	}
}
