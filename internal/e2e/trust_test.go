package e2e

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// withoutTrustAll drops --trustAllHosts from a client's arguments.
func withoutTrustAll(args []string) []string {
	return slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "--trustAllHosts" })
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTrustQuestionOnTerminal: first contact with ten unknown hosts from a
// terminal (the pty of util-linux's script) with stdout redirected to a
// file. The question is asked once, on the terminal (never in the output
// file), with SHA256 fingerprints; the user answers after dserver's 10 s
// handshake timeout has expired, and every host still delivers its lines
// because the connections are dialled again after the answer (before, the
// user said yes and got "SSH handshake failed: EOF"). The answer delay is
// DTAIL_TRUST_ANSWER_SECONDS (default 12).
func TestTrustQuestionOnTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (util-linux) not installed")
	}
	delay := time.Duration(envInt("DTAIL_TRUST_ANSWER_SECONDS", 12)) * time.Second
	fx := newFleetFixture(t)
	home := newHome(t, newWorkDir(t)) // empty known_hosts
	r := fleetClient(t, "dcat", home, fx.spec, false, "--plain", "--files", "app.log")
	outFile := filepath.Join(home, "out.txt")
	quoted := []string{shellQuote(r.bin)}
	for _, a := range withoutTrustAll(r.args) {
		quoted = append(quoted, shellQuote(a))
	}
	cmd := exec.Command(script, "-qec", strings.Join(quoted, " ")+" >"+shellQuote(outFile), "/dev/null")
	cmd.Dir, cmd.Env, cmd.SysProcAttr = r.dir, r.env, procAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var tty lockedBuffer
	cmd.Stdout, cmd.Stderr = &tty, &tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	done := make(chan struct{})
	go func() { exited <- cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	const question = "Do you want to trust these hosts??"
	asked := time.Now()
	for !strings.Contains(tty.String(), question) {
		select {
		case err := <-exited:
			t.Fatalf("exited (%v) without asking: %q", err, tty.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Since(asked) > 60*time.Second {
			t.Fatalf("no question after 60 s: %q", tty.String())
		}
	}
	t.Logf("question on the terminal %v after the start; answering in %v", time.Since(asked).Round(time.Millisecond), delay)
	time.Sleep(delay)
	answered := time.Now()
	io.WriteString(stdin, "y\n")
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit: %v; terminal: %q", err, tty.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("still running 60 s after the answer; terminal: %q", tty.String())
	}
	t.Logf("all hosts done %v after the answer", time.Since(answered).Round(time.Millisecond))

	text := tty.String()
	if n := strings.Count(text, question); n != 1 {
		t.Errorf("asked %d times: %q", n, text)
	}
	if !strings.Contains(text, "Encountered 10 unknown hosts: '") || !strings.Contains(text, "key fingerprint SHA256:") {
		t.Errorf("question lacks the batch header or the SHA256 fingerprints: %q", text)
	}
	if strings.Contains(text, "handshake failed") {
		t.Errorf("a host failed after the answer: %q", text)
	}
	out, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("unknown hosts")) {
		t.Errorf("the question went to stdout")
	}
	var want []string
	for _, d := range fx.data {
		want = append(want, lines(d)...)
	}
	got := lines(out)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%d lines in stdout, want the %d lines of all ten hosts", len(got), len(want))
	}
	known, _ := os.ReadFile(filepath.Join(home, ".ssh", "known_hosts"))
	for _, n := range fx.nodes {
		if !bytes.Contains(known, []byte("[127.0.0.1]:"+strings.TrimPrefix(n.addr, "127.0.0.1:")+" ")) {
			t.Errorf("%s not in known_hosts: %q", n.addr, known)
		}
	}
}

// TestTrustWithoutTerminal: unknown hosts and no terminal to ask on (a
// cron job, CI): refused at once with the hint, nothing waits for input,
// nothing is printed to stdout.
func TestTrustWithoutTerminal(t *testing.T) {
	fx := newFleetFixture(t)
	home := newHome(t, newWorkDir(t))
	r := fleetClient(t, "dcat", home, fx.spec, false, "--plain", "--files", "app.log")
	r.args = withoutTrustAll(r.args)
	cmd := exec.Command(r.bin, r.args...)
	cmd.Dir, cmd.Env = r.dir, r.env
	attr := procAttr()
	attr.Setpgid, attr.Setsid = false, true // no controlling terminal
	cmd.SysProcAttr = attr
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
	select {
	case err = <-exited:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("hung without a terminal; stderr %q", stderr.String())
	}
	el := time.Since(start)
	t.Logf("refused after %v", el.Round(time.Millisecond))
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit %v, want 1", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout: %q", stdout.String())
	}
	e := stderr.String()
	if strings.Count(e, "no terminal to ask") != fleetSize || !strings.Contains(e, "use -trustAllHosts") {
		t.Errorf("want each host refused with the hint: %q", e)
	}
	if el > 20*time.Second {
		t.Errorf("refusing took %v", el)
	}
}
