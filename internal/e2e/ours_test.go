package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOursOurs: our clients against our dserver, the same matrix.
func TestOursOurs(t *testing.T) {
	srv := startDServer(t)
	checkRemote(t, oursClient(), srv)

	t.Run("coloured", func(t *testing.T) {
		dir := newWorkDir(t)
		home := newHome(t, dir)
		log := contextLog(t, dir)
		r := oursClient().remote(t, "dcat", home, []*server{srv}, "--files", log)
		r.args = removeArg(r.args, "--noColor")
		res := r.exec(t)
		if res.code != 0 || !bytes.Contains(res.stdout, []byte("\x1b[")) {
			t.Errorf("dcat without --noColor: no ESC[ in output: %v", res)
		}
		want, _ := os.ReadFile(filepath.Join("testdata", "dcat.golden"))
		expectBytes(t, "coloured remote output without its escapes", dropClientLines(ansi.ReplaceAll(res.stdout, nil)), want)
	})
}

func removeArg(args []string, drop string) []string {
	var out []string
	for _, a := range args {
		if a != drop {
			out = append(out, a)
		}
	}
	return out
}

// authFailure matches a clear authentication failure message.
var authFailure = regexp.MustCompile(`(?i)unable to authenticate|no supported methods remain|permission denied|auth`)

// TestOursAuthFailures: a server that does not know the user, or knows
// another key, fails with a message naming it and a non-zero exit, while
// the other server of the same --servers list still delivers.
func TestOursAuthFailures(t *testing.T) {
	keys(t)
	good := startDServer(t)
	noUser := startDServer(t, withoutSelf())
	wrongKey := startDServer(t, withoutSelf(), withUsers(map[string][]byte{acct.name: otherKey.pub}))
	dir := newWorkDir(t)
	home := newHome(t, dir)
	f := writeOwned(t, filepath.Join(dir, "data.log"), []byte("delivered line 1\ndelivered line 2\n"), 0o644)

	for _, c := range []struct {
		name string
		bad  *server
	}{{"unknown user", noUser}, {"wrong key", wrongKey}} {
		t.Run(c.name, func(t *testing.T) {
			res := oursClient().remote(t, "dcat", home, []*server{c.bad, good}, "--plain", "--files", f).exec(t)
			if res.code == 0 || res.timedOut {
				t.Errorf("want a non-zero exit: %v", res)
			}
			if got := string(dropClientLines(res.stdout)); got != "delivered line 1\ndelivered line 2\n" {
				t.Errorf("the good server's lines: got %q", got)
			}
			out := string(res.stdout) + string(res.stderr)
			if !strings.Contains(out, c.bad.addr) || !authFailure.MatchString(out) {
				t.Errorf("want a message naming %s and the authentication failure: %v", c.bad.addr, res)
			}
			if strings.Contains(out, good.addr) && authFailure.MatchString(lineWith(out, good.addr)) {
				t.Errorf("the good server %s is reported as failing: %v", good.addr, res)
			}
		})
	}

	t.Run("nonexistent OS user", func(t *testing.T) {
		r := oursClient().remote(t, "dcat", home, []*server{good}, "--plain", "--files", f)
		for i, a := range r.args {
			if a == "--user" {
				r.args[i+1] = "e2e-no-such-user"
			}
		}
		res := r.exec(t)
		out := string(res.stdout) + string(res.stderr)
		if res.code == 0 || res.timedOut || !strings.Contains(out, good.addr) || !authFailure.MatchString(out) || strings.Contains(out, "delivered") {
			t.Errorf("want a non-zero exit and an authentication failure naming %s: %v", good.addr, res)
		}
	})
}

func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// TestOursServerKilledMidStream: our dcat is reading a large file when the
// server dies by SIGKILL; the client reports the server and exits non-zero.
func TestOursServerKilledMidStream(t *testing.T) {
	keys(t)
	srv := startDServer(t)
	dir := newWorkDir(t)
	home := newHome(t, dir)
	var b bytes.Buffer
	for i := 0; b.Len() < 32<<20; i++ {
		fmt.Fprintf(&b, "big file line %08d with some padding to make it longer\n", i)
	}
	f := writeOwned(t, filepath.Join(dir, "big.log"), b.Bytes(), 0o644)

	r := oursClient().remote(t, "dcat", home, []*server{srv}, "--plain", "--files", f)
	cmd := exec.Command(r.bin, r.args...)
	cmd.Dir, cmd.Env = r.dir, r.env
	// stdout is a pipe nobody reads yet: the client blocks, the SSH window
	// fills, and the server is stuck mid-stream when it is killed.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = pw, &errb
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		pr.Close()
	})
	if !srv.proc.waitOutput(10*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte("Start reading")) }) {
		t.Fatalf("server never started reading:\n%s", tail(srv.log(), 20))
	}
	time.Sleep(500 * time.Millisecond)
	srv.proc.stop(syscall.SIGKILL, time.Second)

	got := make(chan int64, 1)
	go func() {
		n, _ := io.Copy(io.Discard, pr)
		got <- n
	}()
	select {
	case err := <-done:
		n := <-got
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if n >= int64(b.Len()) {
			t.Fatalf("the whole file (%d bytes) arrived: the kill was not mid-stream", n)
		}
		if code == 0 {
			t.Errorf("client exit status 0 after its only server died mid-stream (%d of %d bytes); stderr: %s", n, b.Len(), errb.String())
		}
		if !strings.Contains(errb.String(), srv.addr) {
			t.Errorf("stderr does not name the dead server %s: %q", srv.addr, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Errorf("client still running 15 s after its server was killed; stderr: %s", errb.String())
	}
}
