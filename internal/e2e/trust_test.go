package e2e

import (
	"bytes"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"sync"
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
