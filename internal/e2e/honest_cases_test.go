package e2e

// The remaining cases of issue 13's first list, with the client's
// defaults against our dserver, DTail 4.3.2 and 4.3.2-ng (the others are
// in honest_test.go, dmap_validation_test.go, trust_test.go and
// faults_test.go). Each case logs one "case|server|exit|excerpt" row:
// DTAIL_HONEST_CLIENT_DIR=<dir of older client builds> runs the same
// invocations with those clients for the before column of the issue's
// table (the tests then fail, as they should).

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clientBin is one of our client binaries, or the one from
// DTAIL_HONEST_CLIENT_DIR.
func clientBin(name string) string {
	if d := os.Getenv("DTAIL_HONEST_CLIENT_DIR"); d != "" {
		return filepath.Join(d, name)
	}
	return filepath.Join(binDir, name)
}

// row logs one line of the before/after table.
func row(t *testing.T, name, server string, code int, out []byte) {
	t.Helper()
	ex := strconv.QuoteToASCII(string(out))
	if len(ex) > 160 {
		ex = ex[:160] + "…"
	}
	t.Logf("TABLE|%s|%s|exit %d|%s", name, server, code, ex)
}

// A log line holding the delimiter byte forges a SERVER warning: from
// our server the line arrives exactly and nothing is reported unreadable;
// from a DTail 4.x server the run says the answer is altered (exit 1).
func TestHonestForgedServerMessage(t *testing.T) {
	u := newDefaultUser(t)
	dir := newWorkDir(t)
	evil := "x\xacSERVER|testhost|WARN|" + unreadableMsg + "\xacy"
	f := writeOwned(t, filepath.Join(dir, "forge.log"), []byte("first\n"+evil+"\nlast\n"), 0o644)
	for _, kind := range honestKinds(t) {
		t.Run(kind.name, func(t *testing.T) {
			srv := startDServer(t, withKind(kind), withUsers(map[string][]byte{acct.name: u.pub}))
			res := u.client("dcat", srv, "--plain", "--receipt", "json", "--files", f).exec(t)
			row(t, "forged SERVER message", kind.name, res.code, append(res.stdout, res.stderr...))
			r := findReceipt(t, res.stderr)
			if kind.kit == "" {
				if res.code != 0 || string(res.stdout) != "first\n"+evil+"\nlast\n" || r.FilesUnreadable != 0 || !r.Complete {
					t.Errorf("ours: want the exact three lines, exit 0, nothing unreadable: %v", res)
				}
				if bytes.Contains(res.stderr, []byte(unreadableMsg)) {
					t.Errorf("ours: the forged warning is reported: %v", res)
				}
				return
			}
			if res.code != 1 || r.Complete || !bytes.Contains(res.stderr, []byte(`"lines_altered":`)) || bytes.Contains(res.stderr, []byte(`"lines_altered":0`)) {
				t.Errorf("%s: want exit 1 and lines_altered > 0: %v", kind.name, res)
			}
			if !bytes.Contains(res.stdout, []byte("first\n")) || !bytes.Contains(res.stdout, []byte("last\n")) {
				t.Errorf("%s: lines around the forged message are missing: %v", kind.name, res)
			}
		})
	}
}

// A file name holding a newline cannot forge a REMOTE line of another
// host: names are printed with control bytes escaped.
func TestHonestNewlineInFileName(t *testing.T) {
	u := newDefaultUser(t)
	dir := newWorkDir(t)
	writeOwned(t, filepath.Join(dir, "evil\nREMOTE|otherhost|100|1|forged.log|forged line.log"), []byte("real line\n"), 0o644)
	glob := filepath.Join(dir, "*.log")
	for _, kind := range honestKinds(t) {
		t.Run(kind.name, func(t *testing.T) {
			srv := startDServer(t, withKind(kind), withUsers(map[string][]byte{acct.name: u.pub}))
			res := u.client("dcat", srv, "--files", glob).exec(t)
			row(t, "newline in file name", kind.name, res.code, res.stdout)
			ls := lines(res.stdout)
			for _, l := range ls {
				if strings.HasPrefix(l, "REMOTE|otherhost") {
					t.Errorf("a file name forged a line of otherhost: %q\n%v", l, res)
				}
			}
			if res.code != 0 || len(ls) != 1 || !strings.HasPrefix(ls[0], "REMOTE|testhost|") || !strings.HasSuffix(ls[0], "|real line") {
				t.Errorf("want the one line of testhost, exit 0: %v", res)
			}
		})
	}
}

// --count with a file that cannot be read: stdout holds the count lines
// only (no SERVER line), the exit code says the answer is not whole.
func TestHonestCountStdout(t *testing.T) {
	u := newDefaultUser(t)
	dir := newWorkDir(t)
	ok := writeOwned(t, filepath.Join(dir, "ok.log"), []byte("line one\nline two\n"), 0o644)
	missing := filepath.Join(dir, "missing.log")
	for _, kind := range honestKinds(t) {
		t.Run(kind.name, func(t *testing.T) {
			srv := startDServer(t, withKind(kind), withUsers(map[string][]byte{acct.name: u.pub}))
			for _, mode := range [][]string{{"--plain"}, nil} {
				res := u.client("dgrep", srv, append(mode, "--count", "--regex", "line", "--files", ok+","+missing)...).exec(t)
				row(t, "dgrep --count ok,missing "+strings.Join(mode, ""), kind.name, res.code, res.stdout)
				if res.code != 1 || !strings.Contains(string(res.stdout), ":ok.log:2\n") {
					t.Errorf("dgrep --count %v ok+missing: want ok.log's count line and exit 1: %v", mode, res)
				}
				for _, l := range lines(res.stdout) {
					if !strings.HasSuffix(l, ":ok.log:2") && !(kind.kit != "" && strings.HasSuffix(l, ":missing.log:0")) {
						// A DTail 4.x server does not say which file it
						// could not read: the client's zero-filled line
						// for it stands beside the exit code 1.
						t.Errorf("dgrep --count %v: stdout holds %q, not a count line: %v", mode, l, res)
					}
				}
			}
		})
	}
}

// The first contact with --trustAllHosts writes the "added hosts"
// diagnostic to stderr: stdout is the file's lines only.
func TestHonestTrustAllStdout(t *testing.T) {
	u := newDefaultUser(t)
	dir := newWorkDir(t)
	ok := writeOwned(t, filepath.Join(dir, "ok.log"), []byte("line one\nline two\n"), 0o644)
	for _, kind := range honestKinds(t) {
		t.Run(kind.name, func(t *testing.T) {
			srv := startDServer(t, withKind(kind), withUsers(map[string][]byte{acct.name: u.pub}))
			os.Remove(filepath.Join(u.home, ".ssh", "known_hosts")) // first contact
			res := u.client("dcat", srv, "--plain", "--files", ok).exec(t)
			row(t, "dcat --plain first contact", kind.name, res.code, res.stdout)
			if res.code != 0 || string(res.stdout) != "line one\nline two\n" {
				t.Errorf("want exactly the two lines on stdout and exit 0: %v", res)
			}
			if _, err := os.Stat(filepath.Join(u.home, ".ssh", "known_hosts")); err != nil {
				t.Errorf("--trustAllHosts did not add the host: %v", err)
			}
		})
	}
}

// dtail following a file that receives a line forging the close message:
// every later line still arrives (no reconnect that loses lines), the
// Ctrl+C hint and the connection stats go to stderr, and Ctrl+C twice
// ends it with 130.
func TestHonestFollowDelimiter(t *testing.T) {
	u := newDefaultUser(t)
	dir := newWorkDir(t)
	for _, kind := range honestKinds(t) {
		t.Run(kind.name, func(t *testing.T) {
			f := writeOwned(t, filepath.Join(dir, "follow-"+kind.name+".log"), nil, 0o666)
			srv := startDServer(t, withKind(kind), withUsers(map[string][]byte{acct.name: u.pub}))
			r := u.client("dtail", srv, "--plain", "--files", f)
			cmd := r.command()
			p := startBG(t, cmd, filepath.Join(dir, "dtail-"+kind.name+".out"))
			fo := follower{t: t, proc: p}
			fo.waitProbe(f, 60*time.Second)
			var w seqWriter
			appendFile(t, f, w.lines(5))
			appendFile(t, f, []byte("before\xac.syn close connection\xacafter\n"))
			appendFile(t, f, w.lines(50))
			fo.waitAll(55, 60*time.Second)
			if kind.kit == "" && !bytes.Contains(p.output(), []byte("before\xac.syn close connection\xacafter\n")) {
				t.Errorf("ours: the line with the delimiter is not exact: %q", p.output())
			}
			hint := func() bool { return bytes.Contains(p.errOutput(), []byte("Hint: Hit Ctrl+C again to exit")) }
			p.cmd.Process.Signal(syscall.SIGINT)
			if !waitFor(20*time.Second, hint) {
				t.Errorf("no Ctrl+C hint on stderr after SIGINT: %s", p.errOutput())
			}
			p.cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-p.done:
			case <-time.After(20 * time.Second):
				t.Fatalf("dtail still runs 20 s after Ctrl+C twice")
			}
			row(t, "dtail follow with forged close, Ctrl+C twice", kind.name, p.exitCode(), p.output())
			if p.exitCode() != 130 {
				t.Errorf("exit %d after Ctrl+C twice, want 130", p.exitCode())
			}
			for _, l := range lines(p.output()) {
				if strings.HasPrefix(l, "Hint:") || strings.Contains(l, "Connection stats") || strings.HasPrefix(l, "CLIENT|") || strings.HasPrefix(l, "SERVER|") {
					t.Errorf("stdout holds a diagnostic: %q", l)
				}
			}
			if counts, _ := fo.seen(); len(counts) != 55 {
				t.Errorf("%d distinct sequence lines, want 55", len(counts))
			} else {
				for l, n := range counts {
					if n != 1 {
						t.Errorf("%s printed %d times (a reconnect re-read the file?)", l, n)
					}
				}
			}
			t.Logf("stderr:\n%s", tail(string(p.errOutput()), 8))
		})
	}
}

// command is r as an exec.Cmd for a background start.
func (r run) command() *exec.Cmd {
	cmd := exec.Command(r.bin, r.args...)
	cmd.Dir, cmd.Env = r.dir, r.env
	if cmd.Env == nil {
		cmd.Env = baseEnv(r.dir)
	}
	return cmd
}
