package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// End-to-end tests of ~/.ssh/config (issue 17): a Host alias whose
// HostName, Port, User and IdentityFile decide the connection, and
// ProxyJump through a real OpenSSH sshd (run unprivileged on 127.0.0.1 as
// the bastion), with our dserver and the 4.3.2 reference dserver behind it.

// sshConfigClient runs one of our clients as the account with HOME home
// (whose .ssh/config is the file under test).
func sshConfigClient(t *testing.T, home, bin string, args ...string) result {
	t.Helper()
	base := []string{"--cfg", "none", "--plain", "--noColor"}
	return run{bin: filepath.Join(binDir, bin), args: append(base, args...), dir: home, env: baseEnv(home), timeout: 40 * time.Second}.exec(t)
}

func writeSSHConfig(t *testing.T, home, text string) {
	t.Helper()
	writeOwned(t, filepath.Join(home, ".ssh", "config"), []byte(text), 0o600)
}

// TestSSHConfigAlias: "--servers loghost" reaches a dserver on 127.0.0.1
// and a port only the config names, as a user only the config names, with
// a key only the config names (the default keys are absent). 4.x servers
// and ours alike. Explicit flags beat the config; --ssh-config none turns
// it off (and the alias fails as it did before the config was read).
func TestSSHConfigAlias(t *testing.T) {
	requireRoot(t)
	keys(t)
	kinds := []serverKind{oursKind(), refKind(t, "4.3.2")}
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			cfgUser := addUser(t, "sshcfg")
			keyDir := mkdirOwned(t, filepath.Join(newWorkDir(t), "keys"), 0o700)
			idKey := newKey(t, keyDir, "only_key")
			srv := startDServer(t, withKind(kind), withoutSelf(), withUsers(map[string][]byte{cfgUser.name: idKey.pub}))
			dataDir := newWorkDir(t)
			logFile := writeOwned(t, filepath.Join(dataDir, "app.log"), []byte("first line\nsecond line\n"), 0o644)

			home := newHome(t, newWorkDir(t))
			writeSSHConfig(t, home, fmt.Sprintf("Host loghost other-alias\n    HostName 127.0.0.1\n    Port %d\n    User %s\n    IdentityFile %s\nHost *\n    User nobody-else\n    Port 1\n",
				srv.port, cfgUser.name, idKey.priv))

			r := sshConfigClient(t, home, "dcat", "--trustAllHosts", "--servers", "loghost", "--files", logFile)
			if r.code != 0 || string(r.stdout) != "first line\nsecond line\n" {
				t.Fatalf("dcat --servers loghost: %v", r)
			}
			// The host key is recorded under HostName:Port, the name ssh
			// uses, not under the alias.
			kh, _ := os.ReadFile(filepath.Join(home, ".ssh", "known_hosts"))
			if !strings.Contains(string(kh), fmt.Sprintf("[127.0.0.1]:%d ", srv.port)) || strings.Contains(string(kh), "loghost") {
				t.Errorf("known_hosts after the run:\n%s", kh)
			}

			// dgrep too, through the second alias of the same block.
			r = sshConfigClient(t, home, "dgrep", "--servers", "other-alias", "--files", logFile, "--grep", "second")
			if r.code != 0 || string(r.stdout) != "second line\n" {
				t.Fatalf("dgrep --servers other-alias: %v", r)
			}

			// Counts and receipts name the server as the user typed it.
			r = sshConfigClient(t, home, "dgrep", "--servers", "loghost", "--files", logFile, "--grep", "line", "--count", "--receipt", "text")
			if r.code != 0 || !strings.HasPrefix(string(r.stdout), "loghost:") || !strings.Contains(string(r.stdout), ":2\n") {
				t.Errorf("--count through the alias: %v", r)
			}

			// --user on the command line beats the config's User: the
			// server knows only the config's user.
			r = sshConfigClient(t, home, "dcat", "--servers", "loghost", "--user", acct.name, "--files", logFile)
			if r.code == 0 || len(r.stdout) != 0 {
				t.Errorf("--user did not beat the config's User: %v", r)
			}
			// A port in the entry and --port beat the config's Port.
			r = sshConfigClient(t, home, "dcat", "--connect-retry", "0", "--servers", "loghost:1", "--files", logFile)
			if r.code == 0 || !strings.Contains(string(r.stderr), "127.0.0.1:1") {
				t.Errorf("loghost:1 did not dial port 1: %v", r)
			}
			r = sshConfigClient(t, home, "dcat", "--connect-retry", "0", "--servers", "loghost", "--port", "1", "--files", logFile)
			if r.code == 0 || !strings.Contains(string(r.stderr), "127.0.0.1:1") {
				t.Errorf("--port 1 did not beat the config's Port: %v", r)
			}
			// The user sees the name they typed in diagnostics.
			if !strings.Contains(string(r.stderr), "loghost") {
				t.Errorf("the alias is missing from the diagnostics: %v", r)
			}

			// Without the config the alias is an unknown host again, and
			// without the IdentityFile there is no key at all.
			r = sshConfigClient(t, home, "dcat", "--ssh-config", "none", "--servers", "loghost", "--files", logFile)
			if r.code == 0 || !strings.Contains(string(r.stderr), "Unable to find private SSH key information") {
				t.Errorf("--ssh-config none: %v", r)
			}
			// The same file given explicitly works from another HOME.
			other := newHome(t, newWorkDir(t))
			r = sshConfigClient(t, other, "dcat", "--trustAllHosts", "--ssh-config", filepath.Join(home, ".ssh", "config"), "--servers", "loghost", "--files", logFile)
			if r.code != 0 || string(r.stdout) != "first line\nsecond line\n" {
				t.Fatalf("--ssh-config FILE: %v", r)
			}
			// A config other users could write is refused, as ssh does.
			os.Chmod(filepath.Join(home, ".ssh", "config"), 0o666)
			r = sshConfigClient(t, home, "dcat", "--servers", "loghost", "--files", logFile)
			if r.code == 0 || !strings.Contains(string(r.stderr), "bad owner or permissions") {
				t.Errorf("world-writable ~/.ssh/config: %v", r)
			}
		})
	}
}

// bastion is an OpenSSH sshd run as the account on 127.0.0.1 that allows
// TCP forwarding (direct-tcpip) for one key.
type bastion struct {
	port    int
	dir     string
	hostPub []byte
	key     sshKey
	proc    *bg
}

func startBastion(t *testing.T) *bastion {
	t.Helper()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/sshd"); err2 != nil {
			t.Skip("OpenSSH sshd is not installed: the ProxyJump tests need a jump host that forwards TCP")
		}
		sshd = "/usr/sbin/sshd"
	}
	dir := newWorkDir(t)
	hk := filepath.Join(dir, "bastion_host_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-C", "bastion", "-f", hk).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	chown(t, hk, 0o600)
	chown(t, hk+".pub", 0o644)
	hostPub, _ := os.ReadFile(hk + ".pub")
	b := &bastion{dir: dir, hostPub: hostPub, key: newKey(t, dir, "bastion_user_key")}
	writeOwned(t, filepath.Join(dir, "authorized_keys"), b.key.pub, 0o600)
	for attempt := 0; ; attempt++ {
		b.port = freePort(t)
		cfg := writeOwned(t, filepath.Join(dir, "sshd_config"), []byte(fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile none
UsePAM no
StrictModes no
AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
LogLevel DEBUG1
`, b.port, hk, filepath.Join(dir, "authorized_keys"))), 0o600)
		cmd := exec.Command(sshd, "-D", "-e", "-f", cfg)
		cmd.Dir = dir
		cmd.Env = baseEnv(dir)
		b.proc = startBG(t, cmd, filepath.Join(dir, fmt.Sprintf("sshd-%d.out", attempt)))
		if waitPort(b.proc, fmt.Sprintf("127.0.0.1:%d", b.port), 15*time.Second) {
			return b
		}
		b.proc.stop(syscall.SIGKILL, time.Second)
		if attempt == 2 {
			t.Fatalf("sshd did not listen:\n%s%s", b.proc.output(), b.proc.errOutput())
		}
	}
}

func (b *bastion) log() string { return string(b.proc.output()) + string(b.proc.errOutput()) }

func waitPort(p *bg, addr string, d time.Duration) bool {
	s := &server{addr: addr, proc: p}
	return s.waitListening(d)
}

// TestSSHConfigProxyJump: three dservers (ours twice, 4.3.2) reachable
// only by names of the config, all behind one OpenSSH bastion. Every
// server delivers its lines through the bastion, over ONE bastion
// connection (the jump connection is shared); the bastion's host key is
// checked against known_hosts like any host (unknown: trusted and recorded
// with --trustAllHosts; changed: refused). A chain through our dserver
// fails: dserver forwards nothing.
func TestSSHConfigProxyJump(t *testing.T) {
	keys(t)
	b := startBastion(t)
	kinds := []serverKind{oursKind(), oursKind(), refKind(t, "4.3.2")}
	var srvs []*server
	for _, k := range kinds {
		srvs = append(srvs, startDServer(t, withKind(k)))
	}
	dataDir := newWorkDir(t)
	logFile := writeOwned(t, filepath.Join(dataDir, "app.log"), []byte("through the bastion\n"), 0o644)

	home := newHome(t, newWorkDir(t))
	// The dserver key is the user's default key; the bastion accepts only
	// its own key, named by the config.
	def, _ := os.ReadFile(userKey.priv)
	writeOwned(t, filepath.Join(home, ".ssh", "id_ed25519"), def, 0o600)
	var conf strings.Builder
	fmt.Fprintf(&conf, "Host bastion\n  HostName 127.0.0.1\n  Port %d\n  IdentityFile %s\n  IdentitiesOnly yes\n", b.port, b.key.priv)
	var names []string
	for i, s := range srvs {
		name := fmt.Sprintf("behind%d", i)
		names = append(names, name)
		fmt.Fprintf(&conf, "Host %s\n  HostName 127.0.0.1\n  Port %d\n", name, s.port)
	}
	fmt.Fprintf(&conf, "Host behind*\n  ProxyJump bastion\nHost dserver-direct\n  HostName 127.0.0.1\n  Port %d\nHost via-dserver\n  HostName 127.0.0.1\n  Port %d\n  ProxyJump dserver-direct\n", srvs[0].port, srvs[1].port)
	writeSSHConfig(t, home, conf.String())

	// Nobody to ask (no terminal) and the bastion unknown: a quick
	// failure that names the bastion and the way out, nothing tunnelled.
	r := sshConfigClient(t, home, "dcat", "--servers", strings.Join(names, ","), "--files", logFile)
	bastionAddr := fmt.Sprintf("127.0.0.1:%d", b.port)
	if r.code == 0 || len(r.stdout) != 0 || !strings.Contains(string(r.stderr), "through jump host "+bastionAddr) ||
		!strings.Contains(string(r.stderr), "trustAllHosts") || r.elapsed > 20*time.Second {
		t.Errorf("unknown bastion without a terminal: %v", r)
	}
	if strings.Contains(b.log(), "server_request_direct_tcpip") {
		t.Errorf("tunnelled through a bastion whose key nobody accepted")
	}

	r = sshConfigClient(t, home, "dcat", "--trustAllHosts", "--servers", strings.Join(names, ","), "--files", logFile)
	if r.code != 0 || strings.Count(string(r.stdout), "through the bastion\n") != len(srvs) {
		t.Fatalf("dcat behind the bastion: %v\nbastion log:\n%s", r, b.log())
	}
	log := b.log()
	if n := strings.Count(log, "Accepted publickey for "); n != 1 {
		t.Errorf("%d bastion logins for %d servers, want 1 shared connection:\n%s", n, len(srvs), log)
	}
	for _, s := range srvs {
		if !strings.Contains(log, fmt.Sprintf("target 127.0.0.1 port %d", s.port)) {
			t.Errorf("no direct-tcpip to %s in the bastion log", s.addr)
		}
	}
	kh, _ := os.ReadFile(filepath.Join(home, ".ssh", "known_hosts"))
	bastionKey := strings.Fields(string(b.hostPub))[1]
	if !strings.Contains(string(kh), fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 %s", b.port, bastionKey)) {
		t.Errorf("the bastion's host key was not recorded:\n%s", kh)
	}

	// Known now: the next run asks nothing (no --trustAllHosts, no
	// terminal) and still gets every server.
	r = sshConfigClient(t, home, "dcat", "--servers", strings.Join(names, ","), "--files", logFile)
	if r.code != 0 || strings.Count(string(r.stdout), "through the bastion\n") != len(srvs) {
		t.Fatalf("second run: %v", r)
	}

	// A bastion whose key changed is refused before anything is
	// tunnelled through it.
	lines := strings.Split(string(kh), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, fmt.Sprintf("[127.0.0.1]:%d ", b.port)) {
			lines[i] = fmt.Sprintf("[127.0.0.1]:%d %s", b.port, strings.TrimSpace(string(otherKeyPub(t))))
		}
	}
	writeOwned(t, filepath.Join(home, ".ssh", "known_hosts"), []byte(strings.Join(lines, "\n")), 0o600)
	before := strings.Count(b.log(), "server_request_direct_tcpip")
	r = sshConfigClient(t, home, "dcat", "--servers", "behind0", "--files", logFile)
	if r.code == 0 || len(r.stdout) != 0 || !strings.Contains(string(r.stderr), "CHANGED") || !strings.Contains(string(r.stderr), "jump host") {
		t.Errorf("changed bastion key: %v", r)
	}
	if after := strings.Count(b.log(), "server_request_direct_tcpip"); after != before {
		t.Errorf("something was tunnelled through a bastion with a changed key")
	}

	// dserver is no jump host: it refuses to forward.
	r = sshConfigClient(t, home, "dcat", "--trustAllHosts", "--ssh-config", filepath.Join(home, ".ssh", "config"), "--servers", "via-dserver", "--files", logFile)
	if r.code == 0 || len(r.stdout) != 0 {
		t.Errorf("a connection through dserver worked: %v", r)
	}
}

func otherKeyPub(t *testing.T) []byte {
	t.Helper()
	// otherKey.pub is "ssh-ed25519 AAAA… other_ed25519": type and key.
	f := strings.Fields(string(otherKey.pub))
	return []byte(f[0] + " " + f[1])
}
