package e2e

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
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

// inTestMode runs our dserver in test mode in d.dir (its ssh_host_key
// and id_rsa.pub, no host-name override), with the JSON config cfg (none:
// --cfg none).
func (d testModeDir) inTestMode(cfg ...string) srvOpt {
	return func(o *srvOpts) {
		inDir(d.dir, d.home)(o)
		withHost("")(o)
		withEnv("DTAIL_INTEGRATION_TEST_RUN_MODE=yes")(o)
		if len(cfg) > 0 {
			withConfig(cfg[0])(o)
		}
	}
}

// dcat reads dcat1a.txt from s with the given auth key, as the reference
// suite does; extra are more flags, env entries go after the test-mode
// environment.
func (d testModeDir) dcat(t *testing.T, s *server, authKey string, env []string, extra ...string) result {
	t.Helper()
	args := []string{"--plain", "--cfg", "none", "--servers", s.addr, "--files", "dcat1a.txt",
		"--trustAllHosts", "--noColor", "--auth-key-path", authKey}
	return run{bin: ours("dcat"), dir: d.dir, env: append(d.env(), env...), timeout: 60 * time.Second,
		args: append(args, extra...)}.exec(t)
}

const dcat1a = "1 Sat  2 Oct 13:46:45 EEST 2021\n"

// fast runs one dcat and reports whether the server authorized it from
// the auth-key store (one more store line in its log).
func (d testModeDir) fast(t *testing.T, s *server, authKey string, env []string, extra ...string) bool {
	t.Helper()
	before := strings.Count(s.log(), storeLogLine)
	res := d.dcat(t, s, authKey, env, extra...)
	if res.code != 0 || string(res.stdout) != dcat1a {
		t.Fatalf("dcat: want exit 0 and %q, got %v\n%s", dcat1a, res, tail(s.log(), 20))
	}
	// The log line is written during authentication, before any output.
	return waitFor(2*time.Second, func() bool { return strings.Count(s.log(), storeLogLine) > before })
}

func expectFast(t *testing.T, what string, got, want bool) {
	t.Helper()
	if got != want {
		t.Errorf("%s: authorized by the auth-key store = %v, want %v", what, got, want)
	}
}

// TestAuthKeyFastReconnectIntegration follows the reference suite's
// subtests (spec 8.2) in integration-test mode: dserver authorizes every
// user with ./id_rsa.pub, the client offers its auth key first (spec 5.4)
// and ./id_rsa later, so a registered auth key is authorized from the
// in-memory store.
func TestAuthKeyFastReconnectIntegration(t *testing.T) {
	t.Run("RegistrationFastPathAndFallback", func(t *testing.T) {
		t.Parallel()
		d := newTestModeDir(t)
		s := startDServer(t, d.inTestMode())
		keyDir := mkdirOwned(t, filepath.Join(d.dir, "client"), 0o700)
		authKey := filepath.Join(keyDir, "auth_key")
		// The auth key does not exist yet: the client generates it (spec 4.17).
		expectFast(t, "first connection", d.fast(t, s, authKey, nil), false)
		for _, f := range []string{authKey, authKey + ".pub"} {
			fi, err := os.Stat(f)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("generated %s: %v (mode %v), want a 0600 file", f, err, fi)
			}
		}
		expectFast(t, "second connection", d.fast(t, s, authKey, nil), true)
		s.proc.stop(syscall.SIGTERM, 5*time.Second)
		s = startDServer(t, d.inTestMode())
		expectFast(t, "first connection after a server restart", d.fast(t, s, authKey, nil), false)
		expectFast(t, "second connection after a server restart", d.fast(t, s, authKey, nil), true)
	})

	t.Run("TTLExpiry", func(t *testing.T) {
		t.Parallel()
		d := newTestModeDir(t)
		s := startDServer(t, d.inTestMode(`{"Server":{"AuthKeyTTLSeconds":8}}`))
		k := newKey(t, d.dir, "ttl_key")
		expectFast(t, "1st", d.fast(t, s, k.priv, nil), false)
		expectFast(t, "2nd", d.fast(t, s, k.priv, nil), true)
		time.Sleep(8500 * time.Millisecond) // the TTL under test (the spec suite uses 8 s)
		expectFast(t, "3rd (key expired)", d.fast(t, s, k.priv, nil), false)
		expectFast(t, "4th (registered again)", d.fast(t, s, k.priv, nil), true)
	})

	t.Run("MaxKeysPerUser", func(t *testing.T) {
		t.Parallel()
		d := newTestModeDir(t)
		s := startDServer(t, d.inTestMode(`{"Server":{"AuthKeyMaxPerUser":1}}`))
		a, b := newKey(t, d.dir, "max_a"), newKey(t, d.dir, "max_b")
		expectFast(t, "key A 1st", d.fast(t, s, a.priv, nil), false)
		expectFast(t, "key A 2nd", d.fast(t, s, a.priv, nil), true)
		expectFast(t, "key B 1st (evicts A)", d.fast(t, s, b.priv, nil), false)
		expectFast(t, "key A after eviction", d.fast(t, s, a.priv, nil), false)
	})

	t.Run("NoAuthKeyFlag", func(t *testing.T) {
		t.Parallel()
		d := newTestModeDir(t)
		s := startDServer(t, d.inTestMode())
		k := newKey(t, d.dir, "noauth_key")
		expectFast(t, "1st with --no-auth-key", d.fast(t, s, k.priv, nil, "--no-auth-key"), false)
		expectFast(t, "2nd with --no-auth-key", d.fast(t, s, k.priv, nil, "--no-auth-key"), false)
	})

	t.Run("PassphraseProtectedKey", func(t *testing.T) {
		t.Parallel()
		d := newTestModeDir(t)
		s := startDServer(t, d.inTestMode())
		k := newKey(t, "", "pass_key")
		blk, err := ssh.MarshalPrivateKeyWithPassphrase(k.raw, "pass_key", []byte("s3cret"))
		if err != nil {
			t.Fatal(err)
		}
		priv := writeOwned(t, filepath.Join(d.dir, "pass_key"), pem.EncodeToMemory(blk), 0o600)
		writeOwned(t, priv+".pub", k.pub, 0o644)
		env := []string{"DTAIL_KEY_PASSPHRASE=s3cret"}
		expectFast(t, "1st", d.fast(t, s, priv, env), false)
		expectFast(t, "2nd", d.fast(t, s, priv, env), true)
	})

	t.Run("MissingKeyDirectoryIsFatal", func(t *testing.T) {
		t.Parallel()
		d := newTestModeDir(t)
		s := startDServer(t, d.inTestMode())
		res := d.dcat(t, s, filepath.Join(d.dir, "no-such-dir", "auth_key"), nil)
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

	s := startDServer(t, d.inTestMode())
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
	srv := startDServer(t, withLogLevel("debug"))
	c := newFClient(t)
	var b strings.Builder
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "INFO line %d\n", i)
	}
	f := writeOwned(t, filepath.Join(c.dir, "maxcount.log"), []byte(b.String()), 0o644)
	res, _ := runCmd(t, c.cmd(t, "dgrep", []*server{srv}, "--plain", "--files", f, "--grep", "INFO", "--max", "3"), 30*time.Second)
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
