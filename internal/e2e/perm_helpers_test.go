package e2e

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Helpers for the permission and auth-key end-to-end tests: real OS users
// and groups (created per test, removed in cleanup), dservers running as a
// dedicated unprivileged account (optionally holding CAP_DAC_READ_SEARCH, so
// the server itself could read everything and only our check stands between
// a user and a file), per-user SSH keys, a counting ssh-agent and raw
// protocol sessions.

// unreadableMsg is what a client sees for a file it may not read.
const unreadableMsg = "Unable to read file(s), check server logs"

// storeLogLine is the server log line of a login from the auth-key store.
const storeLogLine = "Authorized by in-memory auth key store"

// requireRoot skips unless the tests run as root with the account tools.
func requireRoot(t testing.TB, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 || !acct.cred {
		t.Skip("needs root: creates OS users and runs dserver as another user")
	}
	for _, tool := range append([]string{"useradd", "userdel", "groupadd", "groupdel"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not in PATH", tool)
		}
	}
}

// ---- OS users and groups ----

type osUser struct {
	name     string
	uid, gid int
}

type osGroup struct {
	name string
	gid  int
}

// uniqueName returns a fresh account name ("dtp" + 6 hex + role), short
// enough for useradd (≤ 32 chars) and unique across concurrent runs.
func uniqueName(role string) string {
	var b [3]byte
	rand.Read(b[:])
	if len(role) > 10 {
		role = role[:10]
	}
	return "dtp" + hex.EncodeToString(b[:]) + role
}

// sysCmd runs an account tool, retrying while another process holds the
// passwd/group lock.
func sysCmd(t testing.TB, name string, args ...string) {
	t.Helper()
	var out []byte
	var err error
	for i := 0; i < 50; i++ {
		out, err = exec.Command(name, args...).CombinedOutput()
		if err == nil {
			return
		}
		if !bytes.Contains(out, []byte("lock")) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
}

func sysCmdQuiet(name string, args ...string) {
	for i := 0; i < 50; i++ {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err == nil || !bytes.Contains(out, []byte("lock")) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func addGroup(t testing.TB, role string) osGroup {
	t.Helper()
	name := uniqueName(role)
	sysCmd(t, "groupadd", name)
	t.Cleanup(func() { sysCmdQuiet("groupdel", name) })
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	return osGroup{name: name, gid: gid}
}

// addUser creates a user with its own primary group and no home directory,
// member of the given supplementary groups.
func addUser(t testing.TB, role string, groups ...osGroup) osUser {
	t.Helper()
	name := uniqueName(role)
	args := []string{"-M", "-U", "-s", "/usr/sbin/nologin"}
	if len(groups) > 0 {
		var gs []string
		for _, g := range groups {
			gs = append(gs, g.name)
		}
		args = append(args, "-G", strings.Join(gs, ","))
	}
	sysCmd(t, "useradd", append(args, name)...)
	t.Cleanup(func() {
		sysCmdQuiet("userdel", name)
		if _, err := user.LookupGroup(name); err == nil {
			sysCmdQuiet("groupdel", name)
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if uid == 0 || gid == 0 {
		t.Fatalf("user %s has uid/gid 0", name)
	}
	return osUser{name: name, uid: uid, gid: gid}
}

// writeAs writes a file owned by uid:gid with mode.
func writeAs(t testing.TB, path string, data []byte, uid, gid int, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func mkdirAs(t testing.TB, path string, uid, gid int, mode os.FileMode) string {
	t.Helper()
	if err := os.Mkdir(path, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// setfacl runs setfacl and returns getfacl's view for diagnostics.
func setfacl(t testing.TB, path string, args ...string) string {
	t.Helper()
	if out, err := exec.Command("setfacl", append(args, path)...).CombinedOutput(); err != nil {
		t.Fatalf("setfacl %v %s: %v: %s", args, path, err, out)
	}
	out, err := exec.Command("getfacl", "-cn", path).CombinedOutput()
	if err != nil {
		t.Fatalf("getfacl %s: %v: %s", path, err, out)
	}
	return string(out)
}

// ---- SSH keys ----

// sshKey is an ed25519 key pair written as OpenSSH files owned by the
// client account (priv 0600, priv.pub 0644).
type sshKey struct {
	priv   string
	pub    []byte // authorized_keys line
	b64    string // second field of the .pub line
	signer ssh.Signer
	raw    ed25519.PrivateKey
}

func newKey(t testing.TB, dir, name string) sshKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	k := sshKey{priv: filepath.Join(dir, name), signer: signer, raw: priv}
	k.pub = ssh.MarshalAuthorizedKey(signer.PublicKey())
	k.b64 = base64.StdEncoding.EncodeToString(signer.PublicKey().Marshal())
	if dir == "" {
		return k // in-memory only
	}
	blk, err := ssh.MarshalPrivateKey(priv, name)
	if err != nil {
		t.Fatal(err)
	}
	writeAs(t, k.priv, pem.EncodeToMemory(blk), acct.uid, acct.gid, 0o600)
	writeAs(t, k.priv+".pub", k.pub, acct.uid, acct.gid, 0o644)
	return k
}

// ---- clients (run as the harness account) ----

type clientEnv struct {
	dir  string
	home string
	env  []string
}

// newClient returns a throw-away HOME (with .ssh/) for the account;
// extra environment entries (SSH_AUTH_SOCK=…) are added to every run.
func newAcctClient(t testing.TB, extra ...string) clientEnv {
	t.Helper()
	dir := newWorkDir(t)
	home := newHome(t, dir)
	return clientEnv{dir: dir, home: home, env: baseEnv(home, extra...)}
}

// dcat runs a dcat binary (ours unless bin is set) as the account against
// addrs as SSH user user, offering key first.
func (c clientEnv) dcat(t testing.TB, bin string, addrs []string, user, key string, extra ...string) result {
	t.Helper()
	if bin == "" {
		bin = filepath.Join(binDir, "dcat")
	}
	args := []string{"--cfg", "none", "--plain", "--noColor", "--trustAllHosts",
		"--servers", strings.Join(addrs, ","), "--user", user, "--auth-key-path", key}
	return run{bin: bin, args: append(args, extra...), dir: c.dir, env: c.env, timeout: 20 * time.Second}.exec(t)
}

// ---- a counting ssh-agent ----

// countingAgent wraps a keyring: every signature is counted and delayed,
// like a hardware token that needs a touch.
type countingAgent struct {
	agent.ExtendedAgent
	signs atomic.Int64
	delay time.Duration
}

func (a *countingAgent) Sign(key ssh.PublicKey, data []byte) (*ssh.Signature, error) {
	a.signs.Add(1)
	time.Sleep(a.delay)
	return a.ExtendedAgent.Sign(key, data)
}

func (a *countingAgent) SignWithFlags(key ssh.PublicKey, data []byte, flags agent.SignatureFlags) (*ssh.Signature, error) {
	a.signs.Add(1)
	time.Sleep(a.delay)
	return a.ExtendedAgent.SignWithFlags(key, data, flags)
}

// startAgent serves a counting agent holding keys on a unix socket the
// client account can reach; it returns the agent and the socket path.
func startAgent(t testing.TB, delay time.Duration, keys ...sshKey) (*countingAgent, string) {
	t.Helper()
	kr, ok := agent.NewKeyring().(agent.ExtendedAgent)
	if !ok {
		t.Fatal("keyring is not an ExtendedAgent")
	}
	for _, k := range keys {
		if err := kr.Add(agent.AddedKey{PrivateKey: k.raw, Comment: filepath.Base(k.priv)}); err != nil {
			t.Fatal(err)
		}
	}
	a := &countingAgent{ExtendedAgent: kr, delay: delay}
	dir, err := os.MkdirTemp(baseDir, "ag")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	sock := filepath.Join(dir, "a.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	os.Chown(sock, acct.uid, acct.gid)
	os.Chmod(sock, 0o600)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				agent.ServeAgent(a, c)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
		os.RemoveAll(dir)
	})
	return a, sock
}

// ---- raw protocol sessions (x/crypto/ssh client in the test) ----

// akFrame encodes one client command (spec 3.2), independent of our
// protocol package.
func akFrame(cmd string) []byte {
	return []byte("protocol 4.1 base64 " + base64.StdEncoding.EncodeToString([]byte(cmd)) + ";")
}

// rawSession is a DTail session opened by the test itself.
type rawSession struct {
	client *ssh.Client
	sess   *ssh.Session
	in     interface {
		Write([]byte) (int, error)
		Close() error
	}
	msgs chan string
}

func akDial(addr, user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         5 * time.Second,
	})
}

// keyWorks reports whether the server accepts user with only signer.
func keyWorks(addr, user string, signer ssh.Signer) bool {
	c, err := akDial(addr, user, ssh.PublicKeys(signer))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// openRaw authenticates, opens the session channel, sends "shell" and
// starts reading server messages (split at the 0xAC delimiter).
func openRaw(t testing.TB, addr, user string, auth ...ssh.AuthMethod) *rawSession {
	t.Helper()
	c, err := akDial(addr, user, auth...)
	if err != nil {
		t.Fatalf("ssh %s@%s: %v", user, addr, err)
	}
	sess, err := c.NewSession()
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	r := &rawSession{client: c, sess: sess, in: in, msgs: make(chan string, 1<<16)}
	go func() {
		defer close(r.msgs)
		br := bufio.NewReaderSize(out, 64<<10)
		for {
			m, err := br.ReadString(0xAC)
			if m != "" {
				r.msgs <- strings.TrimSuffix(m, "\xac")
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(r.close)
	return r
}

func (r *rawSession) send(t testing.TB, cmds ...string) {
	t.Helper()
	var b []byte
	for _, c := range cmds {
		b = append(b, akFrame(c)...)
	}
	if _, err := r.in.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// next returns the next message containing want (skipping others), or
// fails after d. It returns everything skipped for diagnostics.
func (r *rawSession) next(t testing.TB, d time.Duration, want ...string) (string, []string) {
	t.Helper()
	var skipped []string
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case m, ok := <-r.msgs:
			if !ok {
				return "", skipped
			}
			for _, w := range want {
				if strings.Contains(m, w) {
					return m, skipped
				}
			}
			skipped = append(skipped, m)
		case <-timer.C:
			return "", skipped
		}
	}
}

// close ends the session and the connection.
func (r *rawSession) close() {
	if r.sess != nil {
		r.sess.Close()
	}
	if r.client != nil {
		r.client.Close()
	}
}
