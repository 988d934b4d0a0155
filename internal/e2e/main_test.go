package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "regenerate the golden files under testdata/")

// testUser is the unprivileged account created when the tests run as root.
const testUser = "dte2e"

var (
	moduleRoot string   // directory holding go.mod
	baseDir    string   // 0755 scratch root, reachable by the test account
	binDir     string   // our freshly built binaries
	acct       *account // who runs servers and clients
)

// account is the OS user the binaries run as. cred is false when the
// tests already run unprivileged: then the processes simply inherit it.
type account struct {
	name     string
	uid, gid int
	cred     bool
}

func TestMain(m *testing.M) {
	flag.Parse()
	code, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		code = 1
	} else {
		code = m.Run()
	}
	if baseDir != "" {
		os.RemoveAll(baseDir)
	}
	os.Exit(code)
}

func setup() (int, error) {
	wd, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			moduleRoot = d
			break
		}
		if filepath.Dir(d) == d {
			return 0, fmt.Errorf("no go.mod above %s", wd)
		}
	}
	if acct, err = ensureAccount(); err != nil {
		return 0, err
	}
	// The account must reach everything below baseDir, so every parent
	// must be searchable by others; os.TempDir may not be (e.g. /root/tmp).
	parent := os.TempDir()
	if !searchable(parent) {
		parent = "/tmp"
	}
	if baseDir, err = os.MkdirTemp(parent, "dtail-e2e-"); err != nil {
		return 0, err
	}
	if err := os.Chmod(baseDir, 0o755); err != nil {
		return 0, err
	}
	binDir = filepath.Join(baseDir, "bin")
	build := exec.Command("go", "build", "-o", binDir+string(filepath.Separator), "./cmd/...")
	build.Dir = moduleRoot
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build ./cmd/...: %v\n%s", err, out)
	}
	if err := os.Chmod(binDir, 0o755); err != nil {
		return 0, err
	}
	return 0, nil
}

// searchable reports whether others may traverse dir and all its parents.
func searchable(dir string) bool {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if filepath.Dir(d) == d {
			return true
		}
	}
}

// ensureAccount returns the account the binaries run as: as root the user
// dte2e (created once with useradd, reused afterwards), else the caller.
func ensureAccount() (*account, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return nil, err
		}
		return &account{name: u.Username, uid: os.Getuid(), gid: os.Getgid()}, nil
	}
	u, err := user.Lookup(testUser)
	if err != nil {
		if out, err := exec.Command("useradd", "-m", testUser).CombinedOutput(); err != nil {
			// A concurrent run may have created it meanwhile.
			if u2, err2 := user.Lookup(testUser); err2 == nil {
				u = u2
			} else {
				return nil, fmt.Errorf("useradd -m %s: %v: %s", testUser, err, out)
			}
		} else if u, err = user.Lookup(testUser); err != nil {
			return nil, err
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if uid == 0 || gid == 0 {
		return nil, fmt.Errorf("user %s has uid/gid 0", testUser)
	}
	return &account{name: u.Username, uid: uid, gid: gid, cred: true}, nil
}

var kitCopies sync.Map // kit name → *kitCopy

type kitCopy struct {
	once sync.Once
	dir  string
	err  error
}

// interopKit returns the directory of one reference kit
// (<repo>/../shared/interop/<name>) or skips the test when it is absent.
// When the test account cannot reach it (a checkout below /root), the
// binaries are copied below baseDir once.
func interopKit(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(moduleRoot), "shared", "interop", name)
	if _, err := os.Stat(filepath.Join(dir, "dserver")); err != nil {
		t.Skipf("interop kit not found: %s (expected the reference binaries at <repo>/../shared/interop/%s)", dir, name)
	}
	if !acct.cred || searchable(dir) {
		return dir
	}
	v, _ := kitCopies.LoadOrStore(name, &kitCopy{})
	kc := v.(*kitCopy)
	kc.once.Do(func() {
		kc.dir = filepath.Join(baseDir, "kits", name)
		if kc.err = os.MkdirAll(kc.dir, 0o755); kc.err != nil {
			return
		}
		os.Chmod(filepath.Dir(kc.dir), 0o755)
		for _, b := range []string{"dserver", "dcat", "dgrep", "dtail", "dtailhealth"} {
			data, err := os.ReadFile(filepath.Join(dir, b))
			if err == nil {
				err = os.WriteFile(filepath.Join(kc.dir, b), data, 0o755)
			}
			if err != nil {
				kc.err = err
				return
			}
		}
	})
	if kc.err != nil {
		t.Fatalf("copy interop kit %s: %v", name, kc.err)
	}
	return kc.dir
}
