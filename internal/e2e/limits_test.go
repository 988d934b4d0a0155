package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// The "no one command stops the server" suite (issue 12): each attack runs
// against dserver as an unprivileged account holding CAP_DAC_READ_SEARCH,
// as the packaged unit runs it, while another user's session stays
// connected and must keep working. Server memory is the kernel's VmHWM of
// the dserver process. The tests log their figures (go test -v).

type limitsFixture struct {
	s          *server
	alice, bob osUser
	ka, kb     sshKey
	c          clientEnv
	data       string // a directory everybody may read
}

func newLimitsFixture(t *testing.T, cfg string) *limitsFixture {
	t.Helper()
	requireRoot(t)
	f := &limitsFixture{c: newAcctClient(t)}
	srvU := addUser(t, "lsrv")
	f.alice, f.bob = addUser(t, "lal"), addUser(t, "lbo")
	f.ka, f.kb = newKey(t, f.c.dir, "ka"), newKey(t, f.c.dir, "kb")
	f.data = newWorkDir(t)
	// DTAIL_LIMITS_DSERVER runs the same attacks against another dserver
	// (an older build) to obtain the before figures; it fails there.
	f.s = startDServer(t, asUser(srvU), withCapRead(), withConfig(cfg), withBin(os.Getenv("DTAIL_LIMITS_DSERVER")), withUsers(map[string][]byte{f.alice.name: f.ka.pub, f.bob.name: f.kb.pub}))
	return f
}

func (f *limitsFixture) file(t *testing.T, name string, data []byte) string {
	t.Helper()
	return writeOwned(t, filepath.Join(f.data, name), data, 0o644)
}

func (f *limitsFixture) raw(t *testing.T, u osUser) *rawSession {
	t.Helper()
	k := f.ka
	if u.name == f.bob.name {
		k = f.kb
	}
	return openRaw(t, f.s.addr, u.name, ssh.PublicKeys(k.signer))
}

// client runs one of our clients as SSH user u against the server.
func (f *limitsFixture) client(u osUser, bin string, args ...string) run {
	k := f.ka
	if u.name == f.bob.name {
		k = f.kb
	}
	base := []string{"--cfg", "none", "--plain", "--noColor", "--trustAllHosts",
		"--servers", f.s.addr, "--user", u.name, "--auth-key-path", k.priv}
	return run{bin: filepath.Join(binDir, bin), args: append(base, args...), dir: f.c.dir, env: f.c.env, timeout: 60 * time.Second}
}

// witness is another user's follow that must keep delivering lines
// while an attack runs.
type witness struct {
	f    *limitsFixture
	r    *rawSession
	path string
	n    int
}

func (f *limitsFixture) witness(t *testing.T) *witness {
	t.Helper()
	w := &witness{f: f, path: f.file(t, "witness.log", nil), r: f.raw(t, f.bob)}
	w.r.send(t, "tail "+w.path+" regex:noop")
	f.s.waitCount("Start reading|"+w.path, 1, 20*time.Second)
	w.check(t, "before the attack")
	return w
}

// check appends a line and fails unless it arrives within 30 s.
func (w *witness) check(t *testing.T, when string) {
	t.Helper()
	w.n++
	line := fmt.Sprintf("witness-%d-%d", w.n, time.Now().UnixNano())
	appendFile(t, w.path, []byte(line+"\n"))
	if m, skipped := w.r.next(t, 30*time.Second, line); m == "" {
		t.Fatalf("%s: the other user's follow got nothing (server alive: %v); skipped %d messages, last %q\nserver log tail:\n%s",
			when, !w.f.s.proc.exited(), len(skipped), tailOf(skipped), clipTail(w.f.s.log(), 3000))
	}
}

func tailOf(ms []string) string {
	if len(ms) == 0 {
		return ""
	}
	return clipTail(ms[len(ms)-1], 300)
}

func clipTail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// hwmMiB is the server's peak resident memory so far.
func (f *limitsFixture) hwmMiB() int { return vmHWM(f.s.proc.cmd.Process.Pid) >> 10 }

// --before 2000000000 once made dserver allocate its whole context ring up
// front: a fatal out-of-memory error ended every session on the box.
func TestLimitsHugeBefore(t *testing.T) {
	f := newLimitsFixture(t, "")
	target := f.file(t, "f.log", []byte("a\nb\nx\n"))
	w := f.witness(t)
	base := f.hwmMiB()

	// Our client refuses before connecting (usage error, exit 2).
	r := f.client(f.alice, "dgrep", "--before", "2000000000", "--grep", "x", "--files", target).exec(t)
	if r.code != 2 || !strings.Contains(string(r.stderr), "-before") || !strings.Contains(string(r.stderr), "limit") {
		t.Errorf("dgrep --before 2000000000: want a one-line usage error and exit 2, got %v", r)
	}
	// Any other client (DTail 4.x sends the value as is) gets a SERVER
	// error and nothing is allocated.
	a := f.raw(t, f.alice)
	a.send(t, "grep:before=2000000000 "+target+" regex:default x")
	if m, skipped := a.next(t, 30*time.Second, "Command refused", "REMOTE"); !strings.Contains(m, "before=2000000000 exceeds the limit") {
		t.Fatalf("server answer %q (skipped %q); server alive: %v\n%s", m, skipped, !f.s.proc.exited(), clipTail(f.s.log(), 3000))
	}
	w.check(t, "after --before 2000000000")
	peak := f.hwmMiB()
	t.Logf("grep:before=2000000000: server VmHWM %d MiB → %d MiB; the other user's follow kept working", base, peak)
	if peak-base > 64 {
		t.Errorf("server peak memory grew by %d MiB", peak-base)
	}
}

// --before 600 on a file of long lines: the ring is bounded in bytes, not
// before × MaxLineLength.
func TestLimitsLongLinesBefore(t *testing.T) {
	f := newLimitsFixture(t, "")
	const lines = 128
	long := append(bytes.Repeat([]byte("y"), 1<<20-1), '\n')
	path := filepath.Join(f.data, "long.log")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for range lines {
		fh.Write(long)
	}
	fh.WriteString("x marks the match\n")
	fh.Close()
	chown(t, path, 0o644)
	w := f.witness(t)
	base := f.hwmMiB()
	a := f.raw(t, f.alice)
	a.send(t, "grep:before=600 "+path+" regex:default x marks")
	if m, skipped := a.next(t, 60*time.Second, "x marks the match"); m == "" {
		t.Fatalf("no match line (skipped %d); server alive: %v\n%s", len(skipped), !f.s.proc.exited(), clipTail(f.s.log(), 3000))
	}
	if m, _ := a.next(t, 30*time.Second, "Before-context lines dropped"); m == "" {
		t.Error("no warning that context lines were dropped")
	}
	w.check(t, "after --before 600 on 1 MiB lines")
	peak := f.hwmMiB()
	t.Logf("grep:before=600 on %d lines of 1 MiB: server VmHWM %d MiB → %d MiB; the other user's follow kept working", lines, base, peak)
	if peak-base > 80 {
		t.Errorf("server peak memory grew by %d MiB for one grep (the ring alone would hold %d MiB unbounded)", peak-base, lines)
	}
}

// One session sending eight tail commands with 330 KB regexes made the
// server compile ~850 MB of RE2 programs.
func TestLimitsManyBigRegexes(t *testing.T) {
	f := newLimitsFixture(t, "")
	target := f.file(t, "t.log", []byte("abc\n"))
	w := f.witness(t)
	base := f.hwmMiB()
	a := f.raw(t, f.alice)
	for i := range 8 {
		re := fmt.Sprintf("%d", i) + strings.Repeat("[a-z]{100}", 33000)
		a.send(t, "tail "+target+" regex:default "+re)
	}
	refused := 0
	for range 8 {
		m, _ := a.next(t, 60*time.Second, "Command refused")
		if m == "" {
			break
		}
		refused++
	}
	w.check(t, "after 8 tail commands with 330 KB regexes")
	peak := f.hwmMiB()
	t.Logf("8 × tail with 330 KB regexes: %d refused; server VmHWM %d MiB → %d MiB; the other user's follow kept working", refused, base, peak)
	if refused != 8 {
		t.Errorf("%d of 8 commands refused", refused)
	}
	if peak-base > 100 {
		t.Errorf("server peak memory grew by %d MiB", peak-base)
	}
}

// slowReader drains a client's stdout at about rate bytes per second, as
// a slow terminal or network would.
func slowReader(r io.Reader, rate int, read *atomic.Int64, eof *atomic.Bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		read.Add(int64(n))
		if err != nil {
			eof.Store(true)
			return
		}
		time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
	}
}

// One user grepping two huge files held both cat slots until done, so
// another user's dcat of a small file waited for the whole grep.
func TestLimitsFairCatSlots(t *testing.T) {
	f := newLimitsFixture(t, "")
	big := bytes.Repeat([]byte("0123456789 hog line with some text to grep through\n"), 40<<20/52)
	h1, h2 := f.file(t, "hog1.log", big), f.file(t, "hog2.log", big)
	small := f.file(t, "small.log", []byte("bob's line\n"))

	solo := f.client(f.bob, "dcat", "--files", small).exec(t)
	if solo.code != 0 {
		t.Fatalf("dcat alone: %v", solo)
	}
	hr := f.client(f.alice, "dgrep", "--grep", "hog", "--files", h1+","+h2)
	cmd := exec.Command(hr.bin, hr.args...)
	cmd.Dir, cmd.Env, cmd.SysProcAttr = hr.dir, hr.env, procAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var read atomic.Int64
	var eof atomic.Bool
	go slowReader(out, 1<<20, &read, &eof)
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	f.s.waitCount("Start reading|"+h1, 1, 30*time.Second)
	f.s.waitCount("Start reading|"+h2, 1, 30*time.Second)
	r := f.client(f.bob, "dcat", "--files", small).exec(t)
	hogDone := eof.Load()
	t.Logf("bob's dcat: alone %v, with alice grepping 2 × 40 MB (read slowly, %d MiB so far) %v (exit %d)",
		solo.elapsed.Round(time.Millisecond), read.Load()>>20, r.elapsed.Round(time.Millisecond), r.code)
	if r.code != 0 || !strings.Contains(string(r.stdout), "bob's line") {
		t.Fatalf("bob's dcat: %v", r)
	}
	if r.elapsed > 15*time.Second || hogDone {
		t.Errorf("bob's dcat waited %v behind alice's grep", r.elapsed)
	}
}

// Fifty tail commands in one session held every tail slot; another user's
// follow then waited forever.
func TestLimitsFairTailSlots(t *testing.T) {
	f := newLimitsFixture(t, "")
	a := f.raw(t, f.alice)
	for i := range 50 {
		p := f.file(t, fmt.Sprintf("hog%02d.log", i), []byte("x\n"))
		a.send(t, "tail "+p+" regex:noop")
	}
	if n := f.s.waitCount("Start reading|"+f.data+"/hog", 50, 60*time.Second); n != 50 {
		t.Fatalf("alice follows %d of 50 files", n)
	}
	start := time.Now()
	f.witness(t) // bob's follow must get a slot and deliver
	t.Logf("bob's follow delivered %v after alice took all 50 tail slots", time.Since(start).Round(time.Millisecond))
}

// Fifty idle TCP connections used to take every MaxConnections slot: every
// user was locked out while dtailhealth said OK.
func TestLimitsIdleTCPConnections(t *testing.T) {
	f := newLimitsFixture(t, "")
	target := f.file(t, "f.log", []byte("hello\n"))
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range 50 {
		c, err := net.DialTimeout("tcp", f.s.addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	time.Sleep(200 * time.Millisecond) // let the server accept them all
	r := f.client(f.alice, "dcat", "--files", target).exec(t)
	t.Logf("dcat with 50 idle TCP connections open: exit %d in %v", r.code, r.elapsed.Round(time.Millisecond))
	if r.code != 0 || !strings.Contains(string(r.stdout), "hello") {
		t.Fatalf("user locked out by 50 idle connections: %v\n%s", r, clipTail(f.s.log(), 2000))
	}
	hc := exec.Command(filepath.Join(binDir, "dtailhealth"), "--server", f.s.addr)
	hc.Dir, hc.Env = f.c.dir, f.c.env
	h, _ := runCmd(t, hc, 30*time.Second)
	t.Logf("dtailhealth: exit %d: %s", h.code, strings.TrimSpace(string(h.stdout)))
	if h.code != 1 || !strings.HasPrefix(string(h.stdout), "WARNING: ") {
		t.Errorf("dtailhealth during the flood: %v", h)
	}
}

// Authenticated sessions that send nothing are closed; a follow that is
// streaming is not idle.
func TestLimitsIdleSession(t *testing.T) {
	f := newLimitsFixture(t, `{"Server": {"IdleTimeoutSeconds": 3}}`)
	idle := f.raw(t, f.alice)
	w := f.witness(t)
	start := time.Now()
	m, _ := idle.next(t, 30*time.Second, "Closing idle session")
	if m == "" {
		t.Fatalf("idle session still open after %v", time.Since(start).Round(time.Millisecond))
	}
	t.Logf("idle session closed after %v", time.Since(start).Round(time.Millisecond))
	for time.Since(start) < 8*time.Second {
		w.check(t, "follow running longer than the idle timeout")
		time.Sleep(500 * time.Millisecond)
	}
}

// One session sending hundreds of follow commands of ~700 KB each: the
// server kept every command (and re-expanded each name every 2 s), ~250
// MiB and a busy CPU for one session. A file pattern longer than PATH_MAX
// names nothing and is refused.
func TestLimitsManyBigCommands(t *testing.T) {
	f := newLimitsFixture(t, "")
	w := f.witness(t)
	base := f.hwmMiB()
	a := f.raw(t, f.alice)
	name := strings.Repeat("n", 700<<10)
	const n = 300
	go func() {
		for i := range n {
			if _, err := a.in.Write(akFrame(fmt.Sprintf("tail %s/%d%s regex:noop", f.data, i, name))); err != nil {
				return
			}
		}
	}()
	// A session whose commands were all refused ends by itself (close
	// handshake), so count refusals until it is gone.
	refused := 0
	for {
		m, _ := a.next(t, 60*time.Second, "Command refused")
		if m == "" {
			break
		}
		refused++
	}
	w.check(t, "after 300 follow commands of 700 KB")
	peak := f.hwmMiB()
	accepted := strings.Count(f.s.log(), "Unable to read file(s)") // a follow waiting for its file
	t.Logf("%d follow commands of 700 KB sent: %d refused before the session ended; server VmHWM %d MiB → %d MiB; the other user's follow kept working", n, refused, base, peak)
	if refused == 0 || accepted > 0 {
		t.Errorf("%d commands refused, %d accepted", refused, accepted)
	}
	if peak-base > 100 {
		t.Errorf("server peak memory grew by %d MiB", peak-base)
	}
}
