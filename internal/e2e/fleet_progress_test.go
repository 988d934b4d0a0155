package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFleetProgressOnTerminal: the status line appears when stdout is a
// terminal (here the pty of util-linux's script) and never in a pipe.
func TestFleetProgressOnTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (util-linux) not installed")
	}
	fx := newFleetFixture(t)
	r := fx.client(t, "dtail", "--noColor", "--timeout", "2", "--files", "app.log")
	piped := r.exec(t)
	if strings.Contains(string(piped.stdout), "[connected ") {
		t.Fatalf("status line in piped output: %q", piped.stdout)
	}
	r = fx.client(t, "dtail", "--noColor", "--files", "app.log")
	quoted := []string{shellQuote(r.bin)}
	for _, a := range r.args {
		quoted = append(quoted, shellQuote(a))
	}
	// On the terminal the run lasts until every host is connected and
	// the line says so (with --timeout 2 a loaded machine had not dialled
	// all ten yet when the run ended); then it is stopped by its PID.
	cmd := exec.Command(script, "-qec", strings.Join(quoted, " "), "/dev/null")
	cmd.Dir, cmd.Env = r.dir, r.env
	p := startBG(t, cmd, filepath.Join(r.dir, "progress.out"))
	want := "[connected 10/10, done 0,"
	if !p.waitOutput(60*time.Second, func(b []byte) bool { return strings.Contains(string(b), want) }) {
		out := string(p.output())
		t.Fatalf("no %q status line on a terminal within 60 s (exited %v): output %q", want, p.exited(), out[max(0, len(out)-400):])
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM) // script and the dtail in its pty
	p.stop(syscall.SIGKILL, 5*time.Second)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
