package e2e

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// inPty runs r inside a pseudo-terminal (util-linux script) whose size is
// cols columns, with env the full environment; it returns what the
// terminal received (stdout and stderr, "\n" turned into "\r\n").
func inPty(t *testing.T, r run, cols string) result {
	t.Helper()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (util-linux) not installed")
	}
	quoted := []string{shellQuote(r.bin)}
	for _, a := range r.args {
		quoted = append(quoted, shellQuote(a))
	}
	cmd := strings.Join(quoted, " ")
	if cols != "" {
		cmd = "stty cols " + cols + " rows 30; " + cmd
	}
	r.args = []string{"-qec", cmd, "/dev/null"}
	r.bin = script
	return r.exec(t)
}

// ctlLog holds log lines with bytes that would drive a terminal.
var ctlLog = []byte("plain line\n" +
	"title \x1b]0;pwned\x07 clear\x1b[2J nul\x00 del\x7f bad\xff c1\xc2\x9b end\n" +
	"tab\there é ok\n")

// TestTerminalColours: on a terminal the coloured view shows control
// bytes as text and paints payload in the terminal's own colours; NO_COLOR
// and TERM=dumb turn colours off; a pipe keeps DTail 4.x's bytes.
func TestTerminalColours(t *testing.T) {
	dir := newWorkDir(t)
	f := writeOwned(t, filepath.Join(dir, "ctl.log"), ctlLog, 0o644)
	t.Run("control bytes visible on a terminal", func(t *testing.T) {
		res := inPty(t, serverless(dir, "dcat", f), "")
		if res.code != 0 {
			t.Fatalf("%v", res)
		}
		text := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(string(res.stdout), "")
		want := `REMOTE|testhost|100|2|ctl.log|title ^[]0;pwned^G clear^[[2J nul^@ del^? bad\xff c1\xc2\x9b end` + "\r\n"
		if !strings.Contains(text, want) {
			t.Errorf("control bytes reach the terminal raw; want %q in %q", want, text)
		}
		if !strings.Contains(text, "|tab\there é ok\r\n") {
			t.Errorf("TAB or UTF-8 changed: %q", text)
		}
		for _, b := range []string{"\x07", "\x00", "\x7f", "\xff", "\x1b]", "\x1b[2J"} {
			if strings.Contains(string(res.stdout), b) {
				t.Errorf("raw %q reached the terminal", b)
			}
		}
		// Payload in the terminal's colours: default fg/bg, not white on
		// black (4.x), which shows black bars on light themes.
		if bytes.Contains(res.stdout, []byte("\x1b[37m\x1b[40mplain line")) || !bytes.Contains(res.stdout, []byte("\x1b[39m\x1b[49mplain line")) {
			t.Errorf("payload not in default colours: %q", res.stdout)
		}
	})
	t.Run("plain stays byte exact on a terminal", func(t *testing.T) {
		res := inPty(t, serverless(dir, "dcat", "--plain", "--receipt", "none", f), "")
		// The pty turns \n into \r\n and nothing else.
		if want := strings.ReplaceAll(string(ctlLog), "\n", "\r\n"); string(res.stdout) != want {
			t.Errorf("--plain on a terminal: got %q want %q", res.stdout, want)
		}
	})
	t.Run("NO_COLOR and TERM=dumb", func(t *testing.T) {
		for _, env := range []string{"NO_COLOR=1", "TERM=dumb"} {
			r := serverless(dir, "dgrep", "line", f)
			r.env = append(r.env, env)
			res := inPty(t, r, "")
			if res.code != 0 || bytes.Contains(res.stdout, []byte("\x1b[")) || !bytes.Contains(res.stdout, []byte("REMOTE|testhost|100|1|ctl.log|plain line\r\n")) {
				t.Errorf("%s: want uncoloured output, got %v", env, res)
			}
		}
		r := serverless(dir, "dcat", f)
		r.env = append(r.env, "NO_COLOR=")
		if res := inPty(t, r, ""); !bytes.Contains(res.stdout, []byte("\x1b[")) {
			t.Errorf("an empty NO_COLOR turned colours off: %v", res)
		}
	})
	t.Run("pipe keeps 4.x bytes", func(t *testing.T) {
		res := serverless(dir, "dcat", f).exec(t)
		if !bytes.Contains(res.stdout, []byte("\x1b[37m\x1b[40mplain line\x1b[49m\x1b[39m\n")) || !bytes.Contains(res.stdout, []byte("title \x1b]0;pwned\x07")) {
			t.Errorf("coloured output in a pipe changed: %q", res.stdout)
		}
	})
}

// TestProgressLineFitsTerminal: in a 40-column terminal every drawn status
// line is cut to 39 columns, so it never wraps (a wrapped line leaves a
// stale copy per redraw, as "\r\x1b[K" clears one row), and it is erased
// at the end.
func TestProgressLineFitsTerminal(t *testing.T) {
	fx := newFleetFixture(t)
	res := inPty(t, fx.client(t, "dtail", "--noColor", "--timeout", "2", "--files", "app.log"), "40")
	out := string(res.stdout)
	draws := regexp.MustCompile(`\[connected [^\r\n\x1b]*`).FindAllString(out, -1)
	if len(draws) == 0 {
		t.Fatalf("no status line on a terminal: exit %d, output %q", res.code, out[max(0, len(out)-400):])
	}
	for _, d := range draws {
		if n := len([]rune(d)); n > 39 {
			t.Fatalf("status line of %d columns in a 40-column terminal: %q", n, d)
		}
	}
	last := strings.LastIndex(out, "[connected ")
	if !strings.Contains(out[last:], "\r\x1b[K") {
		t.Errorf("status line not erased at the end: %q", out[last:])
	}
}
