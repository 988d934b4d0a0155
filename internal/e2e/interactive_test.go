package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// control is the client's control TTY as the test drives it: a FIFO
// (our client then prints its messages to stdout) or a pseudo terminal
// (messages come back on the master side).
type control struct {
	t      *testing.T
	path   string // what --control-tty gets
	w      *os.File
	master *os.File
	echo   bytes.Buffer
	echoCh chan []byte
}

func newFIFOControl(t *testing.T, dir string) *control {
	t.Helper()
	p := filepath.Join(dir, "control.fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	chown(t, p, 0o600)
	return &control{t: t, path: p}
}

// newPTYControl opens a pseudo terminal; the client gets the slave.
func newPTYControl(t *testing.T) *control {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	slave := fmt.Sprintf("/dev/pts/%d", n)
	// Keep a slave descriptor open ourselves so the master never sees a
	// hang-up before the client opened it; raw mode keeps it simple.
	s, err := os.OpenFile(slave, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open %s: %v", slave, err)
	}
	if tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS); err == nil {
		tio.Lflag &^= unix.ECHO
		unix.IoctlSetTermios(int(s.Fd()), unix.TCSETS, tio)
	}
	chown(t, slave, 0o620)
	c := &control{t: t, path: slave, w: m, master: m, echoCh: make(chan []byte, 64)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			if n > 0 {
				c.echoCh <- append([]byte(nil), buf[:n]...)
			}
			if err != nil {
				close(c.echoCh)
				return
			}
		}
	}()
	t.Cleanup(func() { s.Close(); m.Close() })
	return c
}

// ttyOutput returns what the client wrote to a pty control so far.
func (c *control) ttyOutput() string {
	for {
		select {
		case b, ok := <-c.echoCh:
			if !ok {
				return c.echo.String()
			}
			c.echo.Write(b)
			continue
		default:
		}
		return c.echo.String()
	}
}

func (c *control) send(line string) {
	c.t.Helper()
	if c.w == nil {
		// The client holds the FIFO open read/write, so this does not block.
		w, err := os.OpenFile(c.path, os.O_WRONLY, 0)
		if err != nil {
			c.t.Fatal(err)
		}
		c.w = w
		c.t.Cleanup(func() { w.Close() })
	}
	if _, err := c.w.WriteString(line + "\n"); err != nil {
		c.t.Fatal(err)
	}
}

// waitAny waits until the client's stdout or the pty shows s.
func waitAny(t *testing.T, p *bg, c *control, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if bytes.Contains(p.output(), []byte(s)) || (c.master != nil && strings.Contains(c.ttyOutput(), s)) {
			return
		}
		if p.exited() {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	tty := ""
	if c.master != nil {
		tty = c.ttyOutput()
	}
	t.Fatalf("no %q within %v (exited %v)\nstdout: %s\nstderr: %s\ntty: %s", s, d, p.exited(), clip(p.output()), clip(p.errOutput()), tty)
}

// appendUntilSeen appends line (numbered) until the follower printed it.
func appendUntilSeen(t *testing.T, p *bg, path, line string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		appendFile(t, path, []byte(fmt.Sprintf("%s %d\n", line, i)))
		if p.waitOutput(300*time.Millisecond, func(b []byte) bool { return bytes.Contains(b, []byte(line)) }) {
			return
		}
	}
	t.Fatalf("%q never printed\nstdout: %s\nstderr: %s", line, clip(p.output()), clip(p.errOutput()))
}

func handlers(s *server) int { return strings.Count(s.log(), "Creating new server handler") }

func interactiveReloadTail(t *testing.T, ck clientKind, ctl func(t *testing.T, dir string) *control) {
	srv := startDServer(t, withLogLevel("debug"))
	dir := newWorkDir(t)
	logs := mkdirOwned(t, filepath.Join(dir, "logs"), 0o777)
	app := writeOwned(t, filepath.Join(logs, "app.log"), []byte("ERROR before start\n"), 0o666)
	c := ctl(t, dir)
	home := newHome(t, dir)
	r := ck.remote(t, "dtail", home, []*server{srv}, "--files", app, "--grep", "ERROR", "--plain", "--interactive-query", "--control-tty", c.path)
	cmd := exec.Command(r.bin, r.args...)
	cmd.Dir, cmd.Env = r.dir, r.env
	p := startBG(t, cmd, filepath.Join(dir, "dtail.out"))
	waitAny(t, p, c, "Interactive query control enabled", 10*time.Second)
	appendUntilSeen(t, p, app, "ERROR first")

	c.send(":reload --grep WARN")
	waitAny(t, p, c, "reload applied successfully", 10*time.Second)
	appendFile(t, app, []byte("ERROR late\nWARN live\n"))
	waitAny(t, p, c, "WARN live", 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	c.send(":quit")
	deadline := time.Now().Add(10 * time.Second)
	for !p.exited() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !p.exited() {
		t.Fatalf(":quit did not end the client\nstdout: %s", clip(p.output()))
	}
	out := string(p.output())
	if strings.Contains(out, "ERROR late") {
		t.Errorf("a post-reload ERROR line was printed:\n%s", out)
	}
	if n := handlers(srv); n != 1 {
		t.Errorf("%d server handlers, want 1 (the reload must reuse the session)\n%s", n, clip([]byte(srv.log())))
	}
	if code := p.exitCode(); code != 0 {
		t.Errorf("exit %d\nstderr: %s", code, p.errOutput())
	}
}

// TestInteractiveReloadTail: dtail --interactive-query against our dserver,
// :reload from ERROR to WARN reuses the SSH session and never prints a
// post-reload ERROR line (spec 8.2 TestDTailInteractiveReload…).
func TestInteractiveReloadTail(t *testing.T) {
	interactiveReloadTail(t, oursClient(), newFIFOControl)
}

// TestInteractiveReloadTailPTY: the same with a pseudo terminal as control
// TTY, where the messages go to the terminal.
func TestInteractiveReloadTailPTY(t *testing.T) {
	interactiveReloadTail(t, oursClient(), func(t *testing.T, _ string) *control { return newPTYControl(t) })
}

// TestInteractiveReloadRefClient: the reference 4.3.2-ng dtail drives
// SESSION START/UPDATE against our dserver.
func TestInteractiveReloadRefClient(t *testing.T) {
	interactiveReloadTail(t, refClient(t, "4.3.2-ng"), func(t *testing.T, _ string) *control { return newPTYControl(t) })
}

// TestInteractiveReloadDGrep: dgrep's read finished, the session stays and
// a reload reads again (spec 8.2 TestDGrepInteractiveReload…).
func TestInteractiveReloadDGrep(t *testing.T) {
	srv := startDServer(t, withLogLevel("debug"))
	dir := newWorkDir(t)
	app := writeOwned(t, filepath.Join(dir, "app.log"), []byte("ERROR first\nWARN second\n"), 0o644)
	c := newFIFOControl(t, dir)
	home := newHome(t, dir)
	r := oursClient().remote(t, "dgrep", home, []*server{srv}, "--files", app, "--grep", "ERROR", "--plain", "--interactive-query", "--control-tty", c.path)
	cmd := exec.Command(r.bin, r.args...)
	cmd.Dir, cmd.Env = r.dir, r.env
	p := startBG(t, cmd, filepath.Join(dir, "dgrep.out"))
	waitAny(t, p, c, "ERROR first", 10*time.Second)
	time.Sleep(300 * time.Millisecond) // the read has finished; the session must stay
	if p.exited() {
		t.Fatalf("dgrep ended before the reload\nstdout: %s", clip(p.output()))
	}
	c.send(":reload --grep WARN")
	waitAny(t, p, c, "reload applied successfully", 10*time.Second)
	waitAny(t, p, c, "WARN second", 10*time.Second)
	c.send(":quit")
	deadline := time.Now().Add(10 * time.Second)
	for !p.exited() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := handlers(srv); n != 1 {
		t.Errorf("%d server handlers, want 1", n)
	}
	if strings.Count(string(p.output()), "ERROR first") != 1 {
		t.Errorf("ERROR first printed again after the reload:\n%s", p.output())
	}
}
