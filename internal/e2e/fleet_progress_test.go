package e2e

import (
	"os/exec"
	"strings"
	"testing"
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
	quoted := []string{shellQuote(r.bin)}
	for _, a := range r.args {
		quoted = append(quoted, shellQuote(a))
	}
	r.args = []string{"-qec", strings.Join(quoted, " "), "/dev/null"}
	r.bin = script
	res := r.exec(t)
	out := string(res.stdout)
	if !strings.Contains(out, "[connected 10/10, done 0,") {
		t.Fatalf("no status line on a terminal: exit %d, output %q", res.code, out[max(0, len(out)-400):])
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
