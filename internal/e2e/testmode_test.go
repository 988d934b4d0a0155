package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Integration-test mode (DTAIL_INTEGRATION_TEST_RUN_MODE=yes, spec 4.17)
// as the reference integration suite runs it: server and clients share a
// working directory holding ssh_host_key, id_rsa and id_rsa.pub.

type testModeDir struct {
	dir, home string
}

func newTestModeDir(t *testing.T) testModeDir {
	t.Helper()
	keys(t)
	dir := newWorkDir(t)
	copyOwned := func(src, dst string, mode os.FileMode) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		writeOwned(t, filepath.Join(dir, dst), b, mode)
	}
	copyOwned(hostKey.priv, "ssh_host_key", 0o600)
	copyOwned(userKey.priv, "id_rsa", 0o600)
	writeOwned(t, filepath.Join(dir, "id_rsa.pub"), userKey.pub, 0o644)
	writeOwned(t, filepath.Join(dir, "dcat1a.txt"), []byte("1 Sat  2 Oct 13:46:45 EEST 2021\n"), 0o644)
	return testModeDir{dir: dir, home: newHome(t, dir)}
}

func (d testModeDir) env() []string {
	return baseEnv(d.home, "DTAIL_INTEGRATION_TEST_RUN_MODE=yes")
}

// startServer runs our dserver in test mode in d.dir.
func (d testModeDir) startServer(t *testing.T) *server {
	t.Helper()
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		cmd := exec.Command(ours("dserver"), "--cfg", "none", "--logger", "stdout", "--logLevel", "info",
			"--bindAddress", "127.0.0.1", "--port", strconv.Itoa(port))
		cmd.Dir, cmd.Env = d.dir, d.env()
		s := &server{kind: oursKind(), dir: d.dir, port: port, addr: fmt.Sprintf("127.0.0.1:%d", port)}
		s.proc = startBG(t, cmd, filepath.Join(d.dir, fmt.Sprintf("dserver-%d.out", attempt)))
		if s.waitListening(15 * time.Second) {
			return s
		}
		s.proc.stop(syscall.SIGKILL, time.Second)
		if attempt == 2 {
			t.Fatalf("test-mode dserver did not listen:\n%s", s.log())
		}
	}
}

func (d testModeDir) dcat(t *testing.T, s *server, authKey string) result {
	t.Helper()
	return run{bin: ours("dcat"), dir: d.dir, env: d.env(), timeout: 60 * time.Second,
		args: []string{"--plain", "--cfg", "none", "--servers", s.addr, "--files", "dcat1a.txt",
			"--trustAllHosts", "--noColor", "--auth-key-path", authKey}}.exec(t)
}

// TestAuthKeyFastReconnectIntegration follows the reference suite's
// RegistrationFastPathAndFallback: the auth key does not exist yet (the
// client generates it, spec 4.17), the first connection gets in with
// ./id_rsa and registers it, the second is authorized from the in-memory
// store, because the auth key is offered before ./id_rsa (spec 5.4).
func TestAuthKeyFastReconnectIntegration(t *testing.T) {
	d := newTestModeDir(t)
	s := d.startServer(t)
	keyDir := mkdirOwned(t, filepath.Join(d.dir, "client"), 0o700)
	authKey := filepath.Join(keyDir, "auth_key")

	res := d.dcat(t, s, authKey)
	if res.code != 0 || string(res.stdout) != "1 Sat  2 Oct 13:46:45 EEST 2021\n" {
		t.Fatalf("first dcat: %v\n%s", res, tail(s.log(), 20))
	}
	for _, f := range []string{authKey, authKey + ".pub"} {
		fi, err := os.Stat(f)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("generated %s: %v (mode %v), want a 0600 file", f, err, fi)
		}
	}
	if n := strings.Count(s.log(), storeLogLine); n != 0 {
		t.Errorf("first connection used the store (%d lines)", n)
	}
	res = d.dcat(t, s, authKey)
	if res.code != 0 || string(res.stdout) != "1 Sat  2 Oct 13:46:45 EEST 2021\n" {
		t.Fatalf("second dcat: %v", res)
	}
	if !waitFor(5*time.Second, func() bool { return strings.Count(s.log(), storeLogLine) == 1 }) {
		t.Errorf("second connection: want one %q line, log:\n%s", storeLogLine, tail(s.log(), 30))
	}

	t.Run("MissingKeyDirectoryIsFatal", func(t *testing.T) {
		res := d.dcat(t, s, filepath.Join(d.dir, "no-such-dir", "auth_key"))
		out := string(res.stdout) + string(res.stderr)
		if res.code == 0 || !strings.Contains(out, "no-such-dir") || bytes.Contains(res.stdout, []byte("EEST")) {
			t.Errorf("auth key in a missing directory: want a fatal error naming it, got %v", res)
		}
	})
}

// TestDCat3 (spec 8.2): in test mode MaxLineLength is 1024, so a
// 2615-byte line comes out in chunks of 1024 bytes; with --logLevel error
// the client prints no warning about it (issue 15), by default it does.
func TestDCat3(t *testing.T) {
	d := newTestModeDir(t)
	line := strings.Repeat("0123456789", 261) + "abcd\n" // 2615 bytes
	writeOwned(t, filepath.Join(d.dir, "dcat3.txt"), []byte(line), 0o644)
	want := line[:1024] + "\n" + line[1024:2048] + "\n" + line[2048:]

	quiet := run{bin: ours("dcat"), dir: d.dir, env: d.env(), args: []string{"--plain", "--logLevel", "error", "--cfg", "none", "dcat3.txt"}}.exec(t)
	if quiet.code != 0 || string(quiet.stdout) != want || len(quiet.stderr) != 0 {
		t.Errorf("--logLevel error: want exactly the three chunks and nothing on stderr, got %v", quiet)
	}
	loud := run{bin: ours("dcat"), dir: d.dir, env: d.env(), args: []string{"--plain", "--cfg", "none", "dcat3.txt"}}.exec(t)
	if loud.code != 0 || string(loud.stdout) != want || !bytes.Contains(loud.stderr, []byte("line longer than MaxLineLength")) {
		t.Errorf("default level: want the chunks and the warning on stderr, got %v", loud)
	}

	s := d.startServer(t)
	res := run{bin: ours("dcat"), dir: d.dir, env: d.env(), timeout: 60 * time.Second,
		args: []string{"--plain", "--cfg", "none", "--servers", s.addr, "--files", "dcat3.txt", "--trustAllHosts", "--noColor", "--auth-key-path", filepath.Join(d.dir, "id_rsa")}}.exec(t)
	if res.code != 0 || !strings.HasSuffix(string(res.stdout), want) {
		t.Errorf("against a test-mode dserver: want the three chunks, got %v", res)
	}
}

// TestDGrepMaxCountNoEOFError (spec 8.2): a --max early stop is a normal
// end: exactly the first three matches, the server log lines operators
// grep for, and no ERROR …|EOF.
func TestDGrepMaxCountNoEOFError(t *testing.T) {
	srv := startFServer(t, fopts{logger: []string{"--logger", "stdout", "--logLevel", "debug"}})
	c := newFClient(t)
	var b strings.Builder
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "INFO line %d\n", i)
	}
	f := writeOwned(t, filepath.Join(c.dir, "maxcount.log"), []byte(b.String()), 0o644)
	res, _ := runCmd(t, c.cmd(t, "dgrep", []*fserver{srv}, "--plain", "--files", f, "--grep", "INFO", "--max", "3"), 30*time.Second)
	if res.code != 0 || string(res.stdout) != "INFO line 0\nINFO line 1\nINFO line 2\n" {
		t.Fatalf("dgrep --max 3: %v", res)
	}
	for _, want := range []string{
		"Using turbo mode for reading|" + f + "|mode|grep|hasAggregate|false",
		"Using optimized literal string matching for pattern:|INFO",
		"File processing complete|path|" + f,
	} {
		if !waitFor(5*time.Second, func() bool { return strings.Contains(srv.log(), want) }) {
			t.Errorf("server log lacks %q:\n%s", want, tail(srv.log(), 20))
		}
	}
	for _, l := range lines([]byte(srv.log())) {
		if strings.HasPrefix(l, "ERROR") && strings.HasSuffix(l, "|EOF") {
			t.Errorf("server logged an EOF error after the early stop: %s", l)
		}
	}
}
