package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ---- files owned by the test account ----

// newWorkDir returns a fresh 0755 directory owned by the account.
func newWorkDir(t testing.TB) string {
	t.Helper()
	name := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	dir, err := os.MkdirTemp(baseDir, name+"-")
	if err != nil {
		t.Fatal(err)
	}
	chown(t, dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// chown gives path to the account and sets its mode.
func chown(t testing.TB, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	if acct.cred {
		if err := os.Lchown(path, acct.uid, acct.gid); err != nil {
			t.Fatal(err)
		}
	}
}

func mkdirOwned(t testing.TB, path string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(path, mode); err != nil {
		t.Fatal(err)
	}
	chown(t, path, mode)
	return path
}

func writeOwned(t testing.TB, path string, data []byte, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	chown(t, path, mode)
	return path
}

func appendFile(t testing.TB, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// ---- ssh keys (generated once per run with the real ssh-keygen) ----

type keyPair struct {
	priv string // private key file
	pub  []byte // authorized_keys line
}

var (
	keysOnce sync.Once
	keysErr  error
	hostKey  keyPair // RSA host key for every server
	userKey  keyPair // ed25519 key the clients offer
	otherKey keyPair // ed25519 key nobody authorizes
)

func keys(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen not in PATH (install openssh-client)")
	}
	keysOnce.Do(func() {
		dir := filepath.Join(baseDir, "keys")
		if keysErr = os.MkdirAll(dir, 0o755); keysErr != nil {
			return
		}
		gen := func(name string, args ...string) keyPair {
			p := filepath.Join(dir, name)
			a := append([]string{"-q", "-N", "", "-C", name, "-f", p}, args...)
			if out, err := exec.Command("ssh-keygen", a...).CombinedOutput(); err != nil {
				keysErr = fmt.Errorf("ssh-keygen %v: %v: %s", a, err, out)
				return keyPair{}
			}
			pub, err := os.ReadFile(p + ".pub")
			if err != nil {
				keysErr = err
			}
			for _, f := range []string{p, p + ".pub"} {
				if acct.cred {
					os.Chown(f, acct.uid, acct.gid)
				}
			}
			return keyPair{priv: p, pub: pub}
		}
		hostKey = gen("ssh_host_key", "-t", "rsa", "-b", "2048", "-m", "PEM")
		userKey = gen("id_ed25519", "-t", "ed25519")
		otherKey = gen("other_ed25519", "-t", "ed25519")
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
}

// ---- processes ----

// procAttr runs a child as the account, in its own process group.
func procAttr() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if acct.cred {
		a.Credential = &syscall.Credential{Uid: uint32(acct.uid), Gid: uint32(acct.gid)}
	}
	return a
}

func baseEnv(home string, extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "USER=" + acct.name, "LOGNAME=" + acct.name, "LANG=C.UTF-8"}
	return append(env, extra...)
}

// newHome returns a throw-away HOME with an empty .ssh/ (the reference
// clients need it for known_hosts).
func newHome(t testing.TB, dir string) string {
	t.Helper()
	home := mkdirOwned(t, filepath.Join(dir, "home"), 0o755)
	mkdirOwned(t, filepath.Join(home, ".ssh"), 0o700)
	return home
}

type result struct {
	stdout, stderr []byte
	code           int // -1 when killed at the deadline
	timedOut       bool
	elapsed        time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d (timed out %v, %v)\nstdout:\n%s\nstderr:\n%s", r.code, r.timedOut, r.elapsed.Round(time.Millisecond), clip(r.stdout), clip(r.stderr))
}

func clip(b []byte) string {
	if len(b) > 1200 {
		return string(b[:600]) + fmt.Sprintf("\n…(%d bytes)…\n", len(b)-1200) + string(b[len(b)-600:])
	}
	return string(b)
}

type run struct {
	bin     string
	args    []string
	env     []string // full environment; baseEnv(dir) when nil
	dir     string
	stdin   io.Reader
	timeout time.Duration // default 20 s
}

// exec runs a client to completion as the account. A deadline kills the
// whole process group.
func (r run) exec(t testing.TB) result {
	t.Helper()
	if r.timeout == 0 {
		r.timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, r.args...)
	cmd.Dir = r.dir
	cmd.Env = r.env
	if cmd.Env == nil {
		cmd.Env = baseEnv(r.dir)
	}
	cmd.Stdin = r.stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = procAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	err := cmd.Run()
	res := result{stdout: out.Bytes(), stderr: errb.Bytes(), elapsed: time.Since(start), timedOut: ctx.Err() != nil}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("%s %q: %v", filepath.Base(r.bin), r.args, err)
	}
	return res
}

// bg is a long-running child (dserver, a following dtail) whose stdout
// goes to a file (stderr to the same name plus .err). It is stopped by PID in t.Cleanup.
type bg struct {
	cmd     *exec.Cmd
	outPath string
	done    chan struct{}
	err     error
}

func startBG(t testing.TB, cmd *exec.Cmd, outPath string) *bg {
	t.Helper()
	return startBGWith(t, cmd, outPath, procAttr())
}

// startBGWith is startBG with a caller-chosen SysProcAttr (another
// account, ambient capabilities).
func startBGWith(t testing.TB, cmd *exec.Cmd, outPath string, attr *syscall.SysProcAttr) *bg {
	t.Helper()
	f, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	ef, err := os.Create(outPath + ".err")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, ef
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		f.Close()
		ef.Close()
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	p := &bg{cmd: cmd, outPath: outPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		ef.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(syscall.SIGTERM, 3*time.Second) })
	return p
}

func (p *bg) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop signals the process by PID and waits; after grace it is killed.
// It reports whether the process ended within grace.
func (p *bg) stop(sig syscall.Signal, grace time.Duration) bool {
	if p.exited() {
		return true
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return true
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
		return false
	}
}

func (p *bg) exitCode() int {
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		return -2
	}
	return 0
}

func (p *bg) output() []byte {
	b, _ := os.ReadFile(p.outPath)
	return b
}

func (p *bg) errOutput() []byte {
	b, _ := os.ReadFile(p.outPath + ".err")
	return b
}

// waitOutput polls the output file until cond holds or d elapses.
func (p *bg) waitOutput(d time.Duration, cond func([]byte) bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond(p.output()) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---- output helpers ----

// lines splits output into lines without their newlines.
func lines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// dropClientLines removes the client's own diagnostics (CLIENT|… lines,
// e.g. the 4.3.2 clients' unknown-host warnings and STATS lines).
func dropClientLines(b []byte) []byte {
	var out []byte
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("CLIENT|")) {
			continue
		}
		out = append(out, l...)
	}
	return out
}

func sameMultiset(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
		if m[s] < 0 {
			return false
		}
	}
	return true
}

// ansi matches colour escape sequences.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)
