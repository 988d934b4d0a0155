package e2e

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Auth-key fast reconnect end to end (spec 3.10, 4.3, 5.5): dservers run as
// an unprivileged account, clients as the harness account. The only key in
// authorized_keys is held by a counting ssh-agent; the client's
// --auth-key-path key pair is authorized nowhere, so it can only get in
// through an AUTHKEY registration. Every signature the agent makes is one
// touch of a hardware token.

// akFixture is one test's cast: a server account, an SSH user with an OS
// account, the agent key and a world-readable tiny file.
type akFixture struct {
	srvU, cliU osUser
	agentKey   sshKey
	tiny       string
	tinyData   string
}

func newAKFixture(t *testing.T) *akFixture {
	requireRoot(t)
	keys(t)
	f := &akFixture{srvU: addUser(t, "aksrv"), cliU: addUser(t, "akcli")}
	f.agentKey = newKey(t, "", "agent-key")
	dir := newWorkDir(t)
	f.tinyData = "tiny line one\ntiny line two\n"
	f.tiny = writeAs(t, filepath.Join(dir, "tiny.log"), []byte(f.tinyData), 0, 0, 0o644)
	return f
}

func (f *akFixture) server(t *testing.T, cfg string) *server {
	return startDServer(t, asUser(f.srvU), withConfig(cfg), withUsers(map[string][]byte{f.cliU.name: f.agentKey.pub}))
}

// akClient is a client HOME with its own auth key pair, talking to the
// counting agent.
type akClient struct {
	env     clientEnv
	authKey sshKey
	agent   *countingAgent
}

func (f *akFixture) client(t *testing.T, ag *countingAgent, sock, name string) akClient {
	env := newAcctClient(t, "SSH_AUTH_SOCK="+sock)
	return akClient{env: env, authKey: newKey(t, env.dir, name), agent: ag}
}

// run does one dcat of the tiny file on servers and returns the number of
// agent signatures it cost.
func (c akClient) run(t *testing.T, f *akFixture, bin string, servers []*server, extra ...string) int64 {
	t.Helper()
	var addrs []string
	for _, s := range servers {
		addrs = append(addrs, s.addr)
	}
	before := c.agent.signs.Load()
	res := c.env.dcat(t, bin, addrs, f.cliU.name, c.authKey.priv, append(extra, "--files", f.tiny)...)
	signs := c.agent.signs.Load() - before
	want := strings.Repeat(f.tinyData, len(servers))
	got := string(dropClientLines(res.stdout))
	if res.code != 0 || !sameMultiset(lines([]byte(got)), lines([]byte(want))) {
		var logs string
		for _, s := range servers {
			logs += tail(s.log(), 10) + "\n"
		}
		t.Fatalf("dcat: want exit 0 and %d copies of the file\ngot %v\nserver logs:\n%s", len(servers), res, logs)
	}
	return signs
}

func expectSigns(t *testing.T, what string, got, want int64) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %d agent signatures, want %d", what, got, want)
	}
}

// expectStoreLogins waits for each server's count of store logins.
func expectStoreLogins(t *testing.T, what string, want int, servers ...*server) {
	t.Helper()
	for _, s := range servers {
		if got := s.waitCount(storeLogLine, want, 20*time.Second); got != want {
			t.Errorf("%s: server %s logged %q %d times, want %d\n%s", what, s.addr, storeLogLine, got, want, tail(s.log(), 20))
		}
	}
}

func TestAuthKeyFastReconnect(t *testing.T) {
	f := newAKFixture(t)

	t.Run("N5xM3", func(t *testing.T) {
		t.Parallel()
		ag, sock := startAgent(t, 0, f.agentKey)
		c := f.client(t, ag, sock, "auth_key")
		var servers []*server
		for i := 0; i < 3; i++ {
			servers = append(servers, f.server(t, ""))
		}
		if keyWorks(servers[0].addr, f.cliU.name, c.authKey.signer) {
			t.Fatal("the auth key is accepted before any registration")
		}
		expectSigns(t, "1st connection to 3 servers", c.run(t, f, "", servers), 3)
		for i := 2; i <= 5; i++ {
			expectSigns(t, fmt.Sprintf("connection %d to 3 servers", i), c.run(t, f, "", servers), 0)
			expectStoreLogins(t, fmt.Sprintf("after connection %d", i), i-1, servers...)
		}
	})

	t.Run("ttl-expiry", func(t *testing.T) {
		t.Parallel()
		ag, sock := startAgent(t, 0, f.agentKey)
		c := f.client(t, ag, sock, "auth_key")
		// The 2nd and 4th runs must log in within the TTL of the
		// registration in the run before: two client runs (exec, SSH
		// handshake, read, close) took more than 2 s on a machine with a
		// load of 20-40, so the TTL is 10 s. The sleep after the 2nd run
		// outlasts the TTL of a registration that happened before it.
		const ttl = 10 * time.Second
		s := f.server(t, fmt.Sprintf(`{"Server":{"AuthKeyTTLSeconds":%d}}`, int(ttl/time.Second)))
		pair := func(first, second string) {
			start := time.Now()
			expectSigns(t, first, c.run(t, f, "", []*server{s}), 1)
			n := c.run(t, f, "", []*server{s})
			if el := time.Since(start); el >= ttl && n != 0 {
				t.Fatalf("%s: two runs took %v, beyond the %v TTL: the machine is too slow to tell", second, el, ttl)
			}
			expectSigns(t, second, n, 0)
		}
		pair("1st", "2nd (fresh key)")
		time.Sleep(ttl + 100*time.Millisecond)
		pair("3rd (key expired)", "4th (registered again)")
		expectStoreLogins(t, "ttl", 2, s)
	})

	t.Run("max-per-user", func(t *testing.T) {
		t.Parallel()
		ag, sock := startAgent(t, 0, f.agentKey)
		a := f.client(t, ag, sock, "key_a")
		b := f.client(t, ag, sock, "key_b")
		s := f.server(t, `{"Server":{"AuthKeyMaxPerUser":1}}`)
		srv := []*server{s}
		expectSigns(t, "A 1st", a.run(t, f, "", srv), 1)
		expectSigns(t, "A 2nd", a.run(t, f, "", srv), 0)
		expectSigns(t, "B 1st (evicts A)", b.run(t, f, "", srv), 1)
		if keyWorks(s.addr, f.cliU.name, a.authKey.signer) {
			t.Error("A's key still authenticates after B's registration with AuthKeyMaxPerUser 1")
		}
		expectSigns(t, "A 3rd (evicted, falls back)", a.run(t, f, "", srv), 1)
		expectSigns(t, "A 4th", a.run(t, f, "", srv), 0)
		expectSigns(t, "B 2nd (evicted by A)", b.run(t, f, "", srv), 1)
	})

	t.Run("restart", func(t *testing.T) {
		t.Parallel()
		ag, sock := startAgent(t, 0, f.agentKey)
		c := f.client(t, ag, sock, "auth_key")
		s := f.server(t, "")
		expectSigns(t, "1st", c.run(t, f, "", []*server{s}), 1)
		expectSigns(t, "2nd", c.run(t, f, "", []*server{s}), 0)
		s.restart(t)
		if keyWorks(s.addr, f.cliU.name, c.authKey.signer) {
			t.Fatal("the auth key survived a server restart")
		}
		expectSigns(t, "after restart", c.run(t, f, "", []*server{s}), 1)
		expectSigns(t, "after restart, 2nd", c.run(t, f, "", []*server{s}), 0)
	})

	t.Run("no-auth-key", func(t *testing.T) {
		t.Parallel()
		ag, sock := startAgent(t, 0, f.agentKey)
		c := f.client(t, ag, sock, "auth_key")
		s := f.server(t, "")
		for i := 1; i <= 3; i++ {
			expectSigns(t, fmt.Sprintf("--no-auth-key run %d", i), c.run(t, f, "", []*server{s}, "--no-auth-key"), 1)
		}
		if keyWorks(s.addr, f.cliU.name, c.authKey.signer) {
			t.Error("--no-auth-key registered the key")
		}
		expectStoreLogins(t, "--no-auth-key", 0, s)
		if n := s.count("AUTHKEY"); n != 0 {
			t.Errorf("server log mentions AUTHKEY %d times with --no-auth-key", n)
		}
	})

	t.Run("scope", func(t *testing.T) {
		// A registered key authenticates only the user who registered it,
		// never another user and never a reserved user.
		t.Parallel()
		other := "dtpother" // an SSH user with no registration
		ag, sock := startAgent(t, 0, f.agentKey)
		c := f.client(t, ag, sock, "auth_key")
		s := startDServer(t, asUser(f.srvU), withUsers(map[string][]byte{f.cliU.name: f.agentKey.pub, other: f.agentKey.pub}))
		expectSigns(t, "register", c.run(t, f, "", []*server{s}), 1)
		if !keyWorks(s.addr, f.cliU.name, c.authKey.signer) {
			t.Fatal("registered key does not authenticate its user")
		}
		for _, u := range []string{other, "DTAIL-HEALTH", "DTAIL-SCHEDULE", "DTAIL-CONTINUOUS", "root", f.srvU.name} {
			if keyWorks(s.addr, u, c.authKey.signer) {
				t.Errorf("key registered by %s authenticates %s", f.cliU.name, u)
			}
		}
	})
}

// unknownTypeKey is valid base64 of an SSH wire blob with an unknown type.
func unknownTypeKey() string {
	var b []byte
	for _, s := range []string{"ssh-dtailtest", "0123456789abcdef0123456789abcdef"} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestAuthKeyBadInput(t *testing.T) {
	f := newAKFixture(t)
	s := f.server(t, "")
	agentAuth := ssh.PublicKeys(f.agentKey.signer)

	t.Run("garbage", func(t *testing.T) {
		k := newKey(t, "", "registered")
		r := openRaw(t, s.addr, f.cliU.name, agentAuth)
		r.send(t, "AUTHKEY "+k.b64)
		if m, sk := r.next(t, 5*time.Second, "AUTHKEY"); !strings.HasSuffix(strings.TrimSpace(m), "AUTHKEY OK") {
			t.Fatalf("valid key: got %q (skipped %q)", m, sk)
		}
		cases := []struct{ cmd, want string }{
			{"AUTHKEY !!!not*base64###", "AUTHKEY ERR invalid base64"},
			{"AUTHKEY " + unknownTypeKey(), "AUTHKEY ERR invalid public key"},
			{"AUTHKEY " + base64.StdEncoding.EncodeToString([]byte("just some bytes")), "AUTHKEY ERR invalid public key"},
			{"AUTHKEY " + k.b64[:len(k.b64)/2], "AUTHKEY ERR"},
			{"AUTHKEY", "AUTHKEY ERR missing public key"},
		}
		for _, c := range cases {
			r.send(t, c.cmd)
			m, sk := r.next(t, 5*time.Second, "AUTHKEY")
			if !strings.Contains(m, c.want) {
				t.Errorf("%.40q: want %q, got %q (skipped %q)", c.cmd, c.want, m, sk)
			}
		}
		// The session is still usable and the good key is still registered.
		r.send(t, "cat:plain=true "+f.tiny+" .")
		if m, sk := r.next(t, 5*time.Second, "tiny line two"); m == "" {
			t.Errorf("cat after bad AUTHKEYs: no file content (got %q)", sk)
		}
		if !keyWorks(s.addr, f.cliU.name, k.signer) {
			t.Error("the key registered before the bad input no longer authenticates")
		}
	})

	t.Run("flood-10000", func(t *testing.T) {
		const n = 10000
		signers := map[int]ssh.Signer{}
		var frames bytes.Buffer
		for i := 0; i < n; i++ {
			var pub ed25519.PublicKey
			if i == 0 || i >= n-6 {
				k := newKey(t, "", fmt.Sprint("flood", i))
				signers[i] = k.signer
				pub = k.signer.PublicKey().(ssh.CryptoPublicKey).CryptoPublicKey().(ed25519.PublicKey)
			} else {
				pub = make(ed25519.PublicKey, ed25519.PublicKeySize)
				rand.Read(pub)
			}
			sp, err := ssh.NewPublicKey(pub)
			if err != nil {
				t.Fatal(err)
			}
			frames.Write(akFrame("AUTHKEY " + base64.StdEncoding.EncodeToString(sp.Marshal())))
		}
		rssBefore := s.rss(t)
		r := openRaw(t, s.addr, f.cliU.name, agentAuth)
		var ok, other atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			for m := range r.msgs {
				switch {
				case strings.Contains(m, "AUTHKEY OK"):
					if ok.Add(1) == n {
						return
					}
				case strings.Contains(m, "AUTHKEY"):
					other.Add(1)
				}
			}
		}()
		start := time.Now()
		if _, err := r.in.Write(frames.Bytes()); err != nil {
			t.Fatal(err)
		}
		// The server stays responsive while the flood is processed.
		probe := time.Now()
		hc := newAcctClient(t)
		res := run{bin: filepath.Join(binDir, "dtailhealth"), args: []string{"--server", s.addr}, dir: hc.dir, env: hc.env, timeout: 10 * time.Second}.exec(t)
		if res.code != 0 || !strings.Contains(string(res.stdout), "OK") {
			t.Errorf("health check during the flood: %v", res)
		}
		t.Logf("health check during the flood took %v", time.Since(probe).Round(time.Millisecond))
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d of %d AUTHKEY OK replies after 30 s (%d other AUTHKEY replies)", ok.Load(), n, other.Load())
		}
		t.Logf("%d registrations answered in %v", n, time.Since(start).Round(time.Millisecond))
		if other.Load() != 0 {
			t.Errorf("%d non-OK AUTHKEY replies", other.Load())
		}
		if keyWorks(s.addr, f.cliU.name, signers[0]) {
			t.Error("the first of 10,000 keys still authenticates (AuthKeyMaxPerUser 5 not enforced)")
		}
		if keyWorks(s.addr, f.cliU.name, signers[n-6]) {
			t.Error("the 6th newest key still authenticates (AuthKeyMaxPerUser 5 not enforced)")
		}
		for i := n - 5; i < n; i++ {
			if !keyWorks(s.addr, f.cliU.name, signers[i]) {
				t.Errorf("key %d (one of the 5 newest) does not authenticate", i)
			}
		}
		rssAfter := s.rss(t)
		t.Logf("server RSS %d KiB before, %d KiB after", rssBefore, rssAfter)
		if rssAfter-rssBefore > 64<<10 {
			t.Errorf("server RSS grew by %d KiB during 10,000 registrations", rssAfter-rssBefore)
		}
	})

	t.Run("health-session", func(t *testing.T) {
		k := newKey(t, "", "via-health")
		r := openRaw(t, s.addr, "DTAIL-HEALTH", ssh.Password("DTAIL-HEALTH"))
		r.send(t, "AUTHKEY "+k.b64)
		var all []string
		timeout := time.After(10 * time.Second)
	loop:
		for { // until the server ends the session
			select {
			case m, ok := <-r.msgs:
				if !ok {
					break loop
				}
				all = append(all, m)
				if strings.Contains(m, ".syn close connection") {
					r.in.Write(akFrame(".ack close connection"))
				}
			case <-timeout:
				t.Errorf("health session still open after 10 s: %q", all)
				break loop
			}
		}
		joined := strings.Join(all, "|")
		if strings.Contains(joined, "AUTHKEY OK") {
			t.Errorf("AUTHKEY on the health session was accepted: %q", joined)
		}
		if !strings.Contains(joined, "unknown health command") {
			t.Errorf("want an unknown-health-command error, got %q", joined)
		}
		for _, u := range []string{"DTAIL-HEALTH", f.cliU.name} {
			if keyWorks(s.addr, u, k.signer) {
				t.Errorf("key sent on the health session authenticates %s", u)
			}
		}
		hc := newAcctClient(t)
		res := run{bin: filepath.Join(binDir, "dtailhealth"), args: []string{"--server", s.addr}, dir: hc.dir, env: hc.env, timeout: 10 * time.Second}.exec(t)
		if res.code != 0 {
			t.Errorf("health check afterwards: %v", res)
		}
	})
}

// TestAuthKeyInterop registers keys across implementations: the reference
// 4.3.2-ng dcat with our dserver, and our dcat with the reference 4.3.2-ng
// dserver.
func TestAuthKeyInterop(t *testing.T) {
	f := newAKFixture(t)
	kit := interopKit(t, "dtail-4.3.2-ng")

	t.Run("ref-client-our-server", func(t *testing.T) {
		t.Parallel()
		ag, sock := startAgent(t, 0, f.agentKey)
		c := f.client(t, ag, sock, "auth_key")
		s := f.server(t, "")
		bin := filepath.Join(kit, "dcat")
		expectSigns(t, "ng dcat 1st", c.run(t, f, bin, []*server{s}), 1)
		expectSigns(t, "ng dcat 2nd", c.run(t, f, bin, []*server{s}), 0)
		expectStoreLogins(t, "ng dcat", 1, s)
	})

	t.Run("our-client-ref-server", func(t *testing.T) {
		t.Parallel()
		ag, sock := startAgent(t, 0, f.agentKey)
		c := f.client(t, ag, sock, "auth_key")
		s := startDServer(t, asUser(f.srvU), withBin(filepath.Join(kit, "dserver")), withUsers(map[string][]byte{f.cliU.name: f.agentKey.pub}))
		expectSigns(t, "our dcat 1st", c.run(t, f, "", []*server{s}), 1)
		if n := s.count(storeLogLine); n != 0 {
			t.Errorf("ng dserver logged %q before any registration", storeLogLine)
		}
		expectSigns(t, "our dcat 2nd", c.run(t, f, "", []*server{s}), 0)
		expectStoreLogins(t, "ng dserver", 1, s)
	})
}
