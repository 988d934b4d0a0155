package sshclient

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

	"golang.org/x/crypto/ssh"
)

func TestResolveAuthKeyPath(t *testing.T) {
	home := "/home/u"
	tests := []struct {
		name string
		flag string
		env  map[string]string
		want string
	}{
		{"default", "", nil, "/home/u/.ssh/id_rsa"},
		{"legacy env", "", map[string]string{"DTAIL_SSH_PRIVATE_KEYFILE_PATH": "/legacy"}, "/legacy"},
		{"env beats legacy", "", map[string]string{"DTAIL_AUTH_KEY_PATH": "/new", "DTAIL_SSH_PRIVATE_KEYFILE_PATH": "/legacy"}, "/new"},
		{"empty env is unset", "", map[string]string{"DTAIL_AUTH_KEY_PATH": "", "DTAIL_SSH_PRIVATE_KEYFILE_PATH": "/legacy"}, "/legacy"},
		{"flag beats env", "/flag", map[string]string{"DTAIL_AUTH_KEY_PATH": "/new"}, "/flag"},
		{"tilde expanded", "~/k", nil, "/home/u/k"},
	}
	for _, tc := range tests {
		if got := ResolveAuthKeyPath(tc.flag, home, envFunc(tc.env)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := ResolveAuthKeyPath("", "", nil); got != "" {
		t.Errorf("no home: got %q, want empty", got)
	}
}

func TestLoadSignersOrderAndDedupe(t *testing.T) {
	home := t.TempDir()
	ssh_ := filepath.Join(home, ".ssh")
	ed := writeKey(t, filepath.Join(ssh_, "id_ed25519"), "")
	rsa := writeKey(t, filepath.Join(ssh_, "id_rsa"), "") // any key type works under this name
	auth := writeKey(t, filepath.Join(home, "keys", "auth"), "")
	// Same key under another name must be offered once only.
	data, _ := os.ReadFile(filepath.Join(ssh_, "id_ed25519"))
	if err := os.WriteFile(filepath.Join(ssh_, "id_ecdsa"), data, 0o600); err != nil {
		t.Fatal(err)
	}

	set, err := LoadSigners(SignerOptions{
		Home:          home,
		AgentKeyIndex: -1,
		LookupEnv:     envFunc(map[string]string{"DTAIL_AUTH_KEY_PATH": filepath.Join(home, "keys", "auth")}),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	want := []ssh.Signer{auth, rsa, ed}
	if len(set.Signers) != len(want) {
		t.Fatalf("got %d signers (%v), want %d", len(set.Signers), set.Sources, len(want))
	}
	for i := range want {
		if !samePub(set.Signers[i].PublicKey(), want[i].PublicKey()) {
			t.Errorf("signer %d from %s is not the expected key", i, set.Sources[i])
		}
	}
	if len(set.Warnings) != 0 {
		t.Errorf("unexpected warnings %q", set.Warnings)
	}
	if set.AuthKeyPath != filepath.Join(home, "keys", "auth") {
		t.Errorf("AuthKeyPath = %q", set.AuthKeyPath)
	}
}

// In integration-test mode ./id_rsa (the key every test server
// authorizes) joins the default keys, but the auth key stays the first
// signer: otherwise the server authorizes ./id_rsa on every reconnect and
// the auth-key store is never used (issue 15).
func TestLoadSignersTestModeKeyAfterAuthKey(t *testing.T) {
	home := t.TempDir()
	cwdKey := writeKey(t, filepath.Join(home, "cwd", "id_rsa"), "")
	rsa := writeKey(t, filepath.Join(home, ".ssh", "id_rsa"), "")
	auth := writeKey(t, filepath.Join(home, "keys", "auth"), "")
	set, err := LoadSigners(SignerOptions{
		Home:             home,
		AgentKeyIndex:    -1,
		AuthKeyPath:      filepath.Join(home, "keys", "auth"),
		TestModeKeyPaths: []string{filepath.Join(home, "cwd", "id_rsa")},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	want := []ssh.Signer{auth, cwdKey, rsa}
	if len(set.Signers) != len(want) {
		t.Fatalf("got %d signers (%v), want %d", len(set.Signers), set.Sources, len(want))
	}
	for i := range want {
		if !samePub(set.Signers[i].PublicKey(), want[i].PublicKey()) {
			t.Errorf("signer %d is %s, not the expected key (order %v)", i, set.Sources[i], set.Sources)
		}
	}
}

func TestLoadSignersSSHKeygenKey(t *testing.T) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen not installed; Go-generated keys are covered elsewhere")
	}
	home := t.TempDir()
	key := filepath.Join(home, ".ssh", "id_rsa")
	os.MkdirAll(filepath.Dir(key), 0o700)
	if out, err := exec.Command(keygen, "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	set, err := LoadSigners(SignerOptions{Home: home, AgentKeyIndex: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if len(set.Signers) != 1 || set.Signers[0].PublicKey().Type() != ssh.KeyAlgoRSA {
		t.Fatalf("got %v", set.Sources)
	}
}

func TestLoadSignersEncrypted(t *testing.T) {
	home := t.TempDir()
	keyPath := filepath.Join(home, ".ssh", "id_ed25519")
	pub := writeEncryptedKey(t, keyPath, "s3cret")

	set, err := LoadSigners(SignerOptions{Home: home, AgentKeyIndex: -1,
		LookupEnv: envFunc(map[string]string{"DTAIL_KEY_PASSPHRASE": "s3cret"})})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Signers) != 1 || !samePub(set.Signers[0].PublicKey(), pub) {
		t.Fatalf("encrypted key not loaded: %v %q", set.Sources, set.Warnings)
	}

	for name, env := range map[string]map[string]string{
		"wrong passphrase":   {"DTAIL_KEY_PASSPHRASE": "nope"},
		"missing passphrase": nil,
	} {
		_, err := LoadSigners(SignerOptions{Home: home, AgentKeyIndex: -1, LookupEnv: envFunc(env)})
		if err != ErrNoSigners {
			t.Fatalf("%s: err = %v, want ErrNoSigners", name, err)
		}
		// The warning is what the user sees; check it via a second key so
		// the set is returned.
		writeKey(t, filepath.Join(home, ".ssh", "id_rsa"), "")
		set, err := LoadSigners(SignerOptions{Home: home, AgentKeyIndex: -1, LookupEnv: envFunc(env)})
		if err != nil {
			t.Fatal(err)
		}
		if len(set.Warnings) != 1 || !strings.Contains(set.Warnings[0], keyPath) ||
			!strings.Contains(set.Warnings[0], "DTAIL_KEY_PASSPHRASE") || strings.Contains(set.Warnings[0], "\n") {
			t.Fatalf("%s: warnings %q, want one line naming %s", name, set.Warnings, keyPath)
		}
		os.Remove(filepath.Join(home, ".ssh", "id_rsa"))
	}
}

func TestLoadSignersNone(t *testing.T) {
	_, err := LoadSigners(SignerOptions{Home: t.TempDir(), AgentKeyIndex: -1})
	if err == nil || err.Error() != "Unable to find private SSH key information" {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadSignersExplicitMissingKeyWarns(t *testing.T) {
	home := t.TempDir()
	writeKey(t, filepath.Join(home, ".ssh", "id_ed25519"), "")
	set, err := LoadSigners(SignerOptions{Home: home, AgentKeyIndex: -1, AuthKeyPath: filepath.Join(home, "missing")})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Warnings) != 1 || !strings.Contains(set.Warnings[0], "missing") {
		t.Fatalf("warnings %q", set.Warnings)
	}
}

func TestLoadSignersAgent(t *testing.T) {
	agentBin, err1 := exec.LookPath("ssh-agent")
	addBin, err2 := exec.LookPath("ssh-add")
	if err1 != nil || err2 != nil {
		t.Skip("ssh-agent/ssh-add not installed; skipping the real-agent test")
	}
	// Unix socket paths are limited to ~108 bytes; t.TempDir can be long.
	dir, err := os.MkdirTemp("", "agt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	cmd := exec.Command(agentBin, "-D", "-a", sock)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start ssh-agent: %v", err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGTERM)
		cmd.Wait()
	})
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("ssh-agent (pid %d) socket never appeared: %s", pid, stderr.String())
		}
	}

	home := t.TempDir()
	auth := writeKey(t, filepath.Join(home, ".ssh", "id_rsa"), "")
	var agentKeys []ssh.Signer
	for i := range 2 {
		path := filepath.Join(home, "agentkey"+strconv.Itoa(i))
		agentKeys = append(agentKeys, writeKey(t, path, ""))
		add := exec.Command(addBin, path)
		add.Env = []string{"SSH_AUTH_SOCK=" + sock}
		if out, err := add.CombinedOutput(); err != nil {
			t.Fatalf("ssh-add: %v: %s", err, out)
		}
	}
	// The auth key is also in the agent: it must be offered once, first.
	add := exec.Command(addBin, filepath.Join(home, ".ssh", "id_rsa"))
	add.Env = []string{"SSH_AUTH_SOCK=" + sock}
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	env := envFunc(map[string]string{"SSH_AUTH_SOCK": sock})

	set, err := LoadSigners(SignerOptions{Home: home, AgentKeyIndex: -1, LookupEnv: env})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	want := []ssh.Signer{auth, agentKeys[0], agentKeys[1]}
	if len(set.Signers) != len(want) {
		t.Fatalf("got %v, want 3 signers", set.Sources)
	}
	for i := range want {
		if !samePub(set.Signers[i].PublicKey(), want[i].PublicKey()) {
			t.Errorf("signer %d (%s) is not the expected key", i, set.Sources[i])
		}
	}
	// An agent signer must actually sign through the kept-open socket.
	if _, err := set.Signers[1].Sign(nil, []byte("data")); err != nil {
		t.Fatalf("agent signing: %v", err)
	}

	one, err := LoadSigners(SignerOptions{Home: home, AgentKeyIndex: 1, LookupEnv: env})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	if len(one.Signers) != 2 || !samePub(one.Signers[1].PublicKey(), agentKeys[1].PublicKey()) {
		t.Fatalf("AgentKeyIndex 1: got %v", one.Sources)
	}

	out, err := LoadSigners(SignerOptions{Home: home, AgentKeyIndex: 9, LookupEnv: env})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if len(out.Signers) != 1 || len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], "index 9") {
		t.Fatalf("AgentKeyIndex 9: got %v %q", out.Sources, out.Warnings)
	}

	bad, err := LoadSigners(SignerOptions{Home: home, AgentKeyIndex: -1,
		LookupEnv: envFunc(map[string]string{"SSH_AUTH_SOCK": filepath.Join(dir, "nope")})})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad.Warnings) != 1 || !strings.Contains(bad.Warnings[0], "ssh-agent") {
		t.Fatalf("bad socket warnings %q", bad.Warnings)
	}
}
