package e2e

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInteractiveReloadGrepFlags: :reload understands what dgrep's command
// line does (-i, -F, -e, -C, a positional pattern, did-you-mean), not
// only the 4.x flags (spec 5.11).
func TestInteractiveReloadGrepFlags(t *testing.T) {
	srv := startDServer(t, withLogLevel("debug"))
	dir := newWorkDir(t)
	app := writeOwned(t, filepath.Join(dir, "app.log"),
		[]byte("ERROR first\nwarn lower\nWARN upper\nctx before\nhit x\nctx after\nfoo.bar\nfooXbar\n"), 0o644)
	c := newFIFOControl(t, dir)
	home := newHome(t, dir)
	r := oursClient().remote(t, "dgrep", home, []*server{srv}, "--files", app, "--grep", "ERROR", "--plain", "--interactive-query", "--control-tty", c.path)
	cmd := exec.Command(r.bin, r.args...)
	cmd.Dir, cmd.Env = r.dir, r.env
	p := startBG(t, cmd, filepath.Join(dir, "dgrep.out"))
	waitAny(t, p, c, "ERROR first", 10*time.Second)
	// step sends a :reload and returns the output it caused.
	step := func(line, expect string) string {
		t.Helper()
		before := len(p.output())
		c.send(line)
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			out := p.output()[before:]
			if bytes.Contains(out, []byte(expect)) {
				if expect == "reload applied successfully" {
					// The lines of the new read follow the ack.
					time.Sleep(500 * time.Millisecond)
					return string(p.output()[before:])
				}
				return string(out)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s: no %q within 15 s\nstdout: %s\nstderr: %s", line, expect, clip(p.output()[before:]), clip(p.errOutput()))
		return ""
	}
	waitLines := func(line string, want ...string) {
		t.Helper()
		out := step(line, "reload applied successfully")
		deadline := time.Now().Add(15 * time.Second)
		for {
			missing := ""
			for _, w := range want {
				if !strings.Contains(out, w+"\n") {
					missing = w
				}
			}
			if missing == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %q not printed\nstdout since: %q", line, missing, out)
			}
			time.Sleep(50 * time.Millisecond)
			out = string(p.output())
		}
	}
	// A positional pattern with -i.
	waitLines(":reload -i warn", "warn lower", "WARN upper")
	// -F with -e: the dot is literal.
	out := step(":reload -F -e foo.bar", "reload applied successfully")
	if !p.waitOutput(10*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte("foo.bar\n")) }) || strings.Contains(out, "fooXbar") {
		t.Errorf(":reload -F -e foo.bar: %q", out)
	}
	// -C 1 with a positional pattern.
	waitLines(":reload -C 1 hit", "ctx before", "hit x", "ctx after")
	// Typos and flags a session cannot change get one clear line.
	if out := step(":reload --gerp X", "interactive query error:"); !strings.Contains(out, "did you mean --grep?") {
		t.Errorf("typo: %q", out)
	}
	if out := step(":reload --servers x", "interactive query error:"); !strings.Contains(out, "-servers cannot be changed") {
		t.Errorf("not reloadable: %q", out)
	}
	c.send(":quit")
	deadline := time.Now().Add(10 * time.Second)
	for !p.exited() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := handlers(srv); n != 1 {
		t.Errorf("%d server handlers, want 1 (reloads reuse the session)", n)
	}
	if strings.Contains(string(p.output()), "fooXbar") {
		t.Errorf("-F did not quote the pattern:\n%s", p.output())
	}
}
