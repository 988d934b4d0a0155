package sshserver

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func keyServer(t *testing.T, cfg Config) (*testServer, clientKey) {
	t.Helper()
	k := newClientKey(t)
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(t.TempDir(), "cache")
	}
	writeFile(t, filepath.Join(cfg.CacheDir, "alice.authorized_keys"), k.line)
	return startServer(t, cfg), k
}

func TestMaxConnections(t *testing.T) {
	var statsMu sync.Mutex
	var seen []Stats
	ts, k := keyServer(t, Config{MaxConnections: 2, OnStatsChange: func(s Stats) {
		statsMu.Lock()
		seen = append(seen, s)
		statsMu.Unlock()
	}})
	var clients []*ssh.Client
	for range 2 {
		c, err := ts.dial("alice", ssh.PublicKeys(k.signer))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		shell(t, c)
	}
	if st := ts.srv.Stats(); st.Current != 2 || st.PreAuth != 0 || st.Lifetime != 2 {
		t.Fatalf("stats %+v", st)
	}
	// Beyond MaxConnections the connection is closed, also when it landed
	// on a reserved health handshake: an authentication refusal would
	// read as permanent to the client, which would not retry.
	for range healthReserve + 1 {
		if _, err := ts.dial("alice", ssh.PublicKeys(k.signer)); err == nil {
			t.Fatal("connection beyond MaxConnections accepted")
		} else if strings.Contains(err.Error(), "unable to authenticate") {
			t.Fatalf("a key user beyond MaxConnections was refused authentication (permanent for the client): %v", err)
		}
	}
	// The health check still gets through a full server (reserved
	// handshakes, DTAIL-HEALTH only).
	if line, err := ts.login(t, HealthUser, ssh.Password(HealthUser)); err != nil || !strings.HasPrefix(line, HealthUser) {
		t.Fatalf("health on a full server: %q %v", line, err)
	}
	if !ts.log.has("ERROR|Exceeded max allowed concurrent connections of 2 (current=2, pre-auth=0)") {
		t.Fatalf("log:\n%s", ts.log.dump())
	}
	clients[0].Close()
	waitFor(t, "slot to free", func() bool { return ts.srv.Stats().Current == 1 })
	if line, err := ts.login(t, HealthUser, ssh.Password(HealthUser)); err != nil || !strings.HasPrefix(line, HealthUser) {
		t.Fatalf("health after slot freed: %q %v", line, err)
	}
	clients[1].Close()
	waitFor(t, "all closed", func() bool { return ts.srv.Stats().Current == 0 })
	// The reserved health connection is outside the counters.
	if st := ts.srv.Stats(); st.Lifetime != 3 || st.PreAuth != 0 {
		t.Fatalf("stats %+v", st)
	}
	statsMu.Lock()
	defer statsMu.Unlock()
	// 3 admitted connections × (accept, handshake, disconnect).
	if len(seen) != 9 {
		t.Fatalf("OnStatsChange called %d times: %+v", len(seen), seen)
	}
}

func TestNonSessionChannelRejected(t *testing.T) {
	ts, k := keyServer(t, Config{})
	c, err := ts.dial("alice", ssh.PublicKeys(k.signer))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _, err = c.OpenChannel("direct-tcpip", nil)
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.Prohibited {
		t.Fatalf("got %v", err)
	}
	// The connection itself survives a rejected channel.
	if line, _ := shell(t, c); line != "alice none false" {
		t.Fatalf("got %q", line)
	}
	sess2, err := c.NewSession()
	if err == nil {
		sess2.Close()
		t.Fatal("second session channel accepted")
	}
}

func TestAcceptChannelHook(t *testing.T) {
	ts, k := keyServer(t, Config{AcceptChannel: func(user string, kind UserKind) error {
		if kind == UserNormal {
			return errors.New("Empty set of permission, user won't be able to open any files")
		}
		return nil
	}})
	c, err := ts.dial("alice", ssh.PublicKeys(k.signer))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.NewSession()
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || !strings.Contains(oce.Message, "Empty set of permission") {
		t.Fatalf("got %v", err)
	}
	if _, err := ts.login(t, HealthUser, ssh.Password(HealthUser)); err != nil {
		t.Fatal(err)
	}
}

func TestOtherChannelRequestsCloseConnection(t *testing.T) {
	for _, req := range []string{"exec", "env", "pty-req", "subsystem"} {
		t.Run(req, func(t *testing.T) {
			ts, k := keyServer(t, Config{})
			c, err := ts.dial("alice", ssh.PublicKeys(k.signer))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			sess, err := c.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			switch req {
			case "exec":
				err = sess.Start("ls")
			case "env":
				err = sess.Setenv("LANG", "C")
			case "pty-req":
				err = sess.RequestPty("xterm", 24, 80, nil)
			case "subsystem":
				err = sess.RequestSubsystem("sftp")
			}
			if err == nil {
				t.Fatalf("%s request accepted", req)
			}
			done := make(chan struct{})
			go func() { c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("connection not closed")
			}
			if ts.log.has("Invoking channel handler") {
				t.Fatal("handler started")
			}
		})
	}
}

func TestRequestAfterShellClosesConnection(t *testing.T) {
	ts, k := keyServer(t, Config{})
	c, err := ts.dial("alice", ssh.PublicKeys(k.signer))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, sess := shell(t, c)
	if ok, _ := sess.SendRequest("shell", true, nil); ok {
		t.Fatal("second shell accepted")
	}
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed")
	}
}

func TestGlobalRequestsDiscarded(t *testing.T) {
	ts, k := keyServer(t, Config{})
	c, err := ts.dial("alice", ssh.PublicKeys(k.signer))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _, err := c.SendRequest("tcpip-forward", true, nil); ok || err != nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if line, _ := shell(t, c); line != "alice none false" {
		t.Fatalf("got %q", line)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	ts := startServer(t, Config{HandshakeTimeout: 200 * time.Millisecond, MaxConnections: 1})
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitFor(t, "pre-auth count", func() bool { return ts.srv.Stats().PreAuth == 1 })
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	// Read the server banner, then stall; the server must hang up.
	_, err = io.Copy(io.Discard, conn)
	if err != nil {
		t.Fatalf("server did not close the stalled connection: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
	waitFor(t, "slot released", func() bool { return ts.srv.Stats().PreAuth == 0 })
	if _, err := ts.login(t, HealthUser, ssh.Password(HealthUser)); err != nil {
		t.Fatal(err)
	}
}

func TestHandlerPanicRecovered(t *testing.T) {
	ts, k := keyServer(t, Config{Handler: func(ctx context.Context, s *Session) {
		if s.Kind == UserNormal {
			panic("boom")
		}
		reportHandler(ctx, s)
	}})
	c, err := ts.dial("alice", ssh.PublicKeys(k.signer))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed after panic")
	}
	waitFor(t, "panic log", func() bool { return ts.log.has("Panic in channel handler|boom") })
	if !ts.log.has("server_test.go") {
		t.Errorf("no stack in log:\n%s", ts.log.dump())
	}
	if _, err := ts.login(t, HealthUser, ssh.Password(HealthUser)); err != nil {
		t.Fatalf("server unusable after panic: %v", err)
	}
}

func TestHandlerContextCancelledWhenClientLeaves(t *testing.T) {
	returned := make(chan struct{})
	ts, k := keyServer(t, Config{Handler: func(ctx context.Context, s *Session) {
		s.Write([]byte("hi\n"))
		<-ctx.Done()
		close(returned)
	}})
	c, err := ts.dial("alice", ssh.PublicKeys(k.signer))
	if err != nil {
		t.Fatal(err)
	}
	shell(t, c)
	c.Close()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("handler ctx not cancelled after disconnect")
	}
	waitFor(t, "good bye", func() bool { return ts.log.has("alice@127.0.0.1:") && ts.log.has("|Good bye Mister!") })
}

func TestHandlerReturnClosesConnection(t *testing.T) {
	ts, k := keyServer(t, Config{Handler: func(ctx context.Context, s *Session) {
		io.WriteString(s, "bye\n")
	}})
	c, err := ts.dial("alice", ssh.PublicKeys(k.signer))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if line, _ := shell(t, c); line != "bye" {
		t.Fatalf("got %q", line)
	}
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("connection still open after handler returned")
	}
}

func settledGoroutines(limit int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 200 && n > limit; i++ {
		time.Sleep(20 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// stableGoroutines waits until goroutines of earlier tests have wound down.
func stableGoroutines() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			return n
		}
		n = m
	}
	return n
}

func TestStopLeavesNoGoroutines(t *testing.T) {
	before := stableGoroutines()
	k := newClientKey(t)
	cache := filepath.Join(t.TempDir(), "cache")
	writeFile(t, filepath.Join(cache, "alice.authorized_keys"), k.line)
	handlerDone := make(chan struct{}, 2)
	ts := startServer(t, Config{CacheDir: cache, HandshakeTimeout: 30 * time.Second, Handler: func(ctx context.Context, s *Session) {
		reportHandler(ctx, s)
		handlerDone <- struct{}{}
	}})
	var clients []*ssh.Client
	for range 2 {
		c, err := ts.dial("alice", ssh.PublicKeys(k.signer))
		if err != nil {
			t.Fatal(err)
		}
		shell(t, c)
		clients = append(clients, c)
	}
	// One connection stuck in the handshake must be torn down too.
	raw, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pre-auth", func() bool { return ts.srv.Stats().PreAuth == 1 })

	ts.stop()
	for range 2 {
		select {
		case <-handlerDone:
		default:
			t.Fatal("Serve returned before its handlers")
		}
	}
	for _, c := range clients {
		c.Close()
	}
	raw.Close()
	if after := settledGoroutines(before); after > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: before=%d after=%d\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
	if st := ts.srv.Stats(); st.Current != 0 || st.PreAuth != 0 {
		t.Fatalf("stats after stop: %+v", st)
	}
}

func TestServeReturnsListenerError(t *testing.T) {
	srv, err := New(Config{HostKeyFile: writeHostKey(t, t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if err := srv.Serve(context.Background(), ln); err == nil {
		t.Fatal("Serve on a closed listener returned nil")
	}
}

func TestHostKeyGeneratedAndReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ssh_host_key")
	log := &memLogger{}
	s1, err := New(Config{HostKeyFile: path, HostKeyBits: 2048, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	data, _ := os.ReadFile(path)
	if !bytes.HasPrefix(data, []byte("-----BEGIN RSA PRIVATE KEY-----")) {
		t.Fatalf("not PKCS#1 PEM: %.40q", data)
	}
	if s1.HostKey().Type() != ssh.KeyAlgoRSA {
		t.Fatalf("type %s", s1.HostKey().Type())
	}
	s2, err := New(Config{HostKeyFile: path, HostKeyBits: 2048})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s1.HostKey().Marshal(), s2.HostKey().Marshal()) {
		t.Fatal("host key not reused")
	}
}

func TestHostKeyMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "ssh_host_key")
	log := &memLogger{}
	s, err := New(Config{HostKeyFile: path, HostKeyBits: 2048, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if s.HostKey() == nil {
		t.Fatal("no in-memory key")
	}
	if !log.has("ERROR|Unable to write private server RSA host key to file|" + path + "|") {
		t.Fatalf("log:\n%s", log.dump())
	}
}

func TestHostKeyUnparsable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ssh_host_key")
	writeFile(t, path, "garbage")
	if _, err := New(Config{HostKeyFile: path}); err == nil {
		t.Fatal("garbage host key accepted")
	}
	if data, _ := os.ReadFile(path); string(data) != "garbage" {
		t.Fatal("existing host key file overwritten")
	}
}

func TestHostKeyUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads mode-0 files")
	}
	path := filepath.Join(t.TempDir(), "ssh_host_key")
	writeFile(t, path, "x")
	os.Chmod(path, 0)
	if _, err := New(Config{HostKeyFile: path}); err == nil {
		t.Fatal("unreadable host key accepted")
	}
}

func TestHostKeySymlinkEscapeRefused(t *testing.T) {
	dir := t.TempDir()
	outside := writeHostKey(t, t.TempDir())
	if err := os.Symlink(outside, filepath.Join(dir, "ssh_host_key")); err != nil {
		t.Skip(err)
	}
	if _, err := New(Config{HostKeyFile: filepath.Join(dir, "ssh_host_key")}); err == nil {
		t.Fatal("host key read through a symlink escaping its directory")
	}
}

func TestHostKeyECDSAPKCS8(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ssh_host_key")
	writeFile(t, path, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	s, err := New(Config{HostKeyFile: path})
	if err != nil {
		t.Fatal(err)
	}
	if s.HostKey().Type() != ssh.KeyAlgoECDSA256 {
		t.Fatalf("type %s", s.HostKey().Type())
	}
}

func TestHostKeyFromSSHKeygen(t *testing.T) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen not installed")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ssh_host_key")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	k := newClientKey(t)
	cache := filepath.Join(dir, "cache")
	writeFile(t, filepath.Join(cache, "alice.authorized_keys"), k.line)
	ts := startServer(t, Config{HostKeyFile: path, CacheDir: cache})
	if ts.srv.HostKey().Type() != ssh.KeyAlgoED25519 {
		t.Fatalf("type %s", ts.srv.HostKey().Type())
	}
	var seen ssh.PublicKey
	c, err := ssh.Dial("tcp", ts.addr, &ssh.ClientConfig{
		User: "alice",
		Auth: []ssh.AuthMethod{ssh.PublicKeys(k.signer)},
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			seen = key
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	pub, _ := os.ReadFile(path + ".pub")
	want, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil || !bytes.Equal(seen.Marshal(), want.Marshal()) {
		t.Fatalf("host key mismatch (%v)", err)
	}
}

func TestAlgorithmRestrictions(t *testing.T) {
	ts, k := keyServer(t, Config{Ciphers: []string{"aes256-ctr"}, MACs: []string{"hmac-sha2-256"}})
	cfg := &ssh.ClientConfig{
		User:            "alice",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(k.signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	}
	cfg.Ciphers = []string{"aes128-gcm@openssh.com"}
	if _, err := ssh.Dial("tcp", ts.addr, cfg); err == nil {
		t.Fatal("cipher outside the configured list negotiated")
	}
	cfg.Ciphers = []string{"aes256-ctr"}
	c, err := ssh.Dial("tcp", ts.addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestRefuseIDs(t *testing.T) {
	for _, c := range []struct {
		uid, gid int
		want     string
	}{
		{0, 0, "Not allowed to run as UID 0"},
		{0, 5, "Not allowed to run as UID 0"},
		{5, 0, "Not allowed to run as GID 0"},
		{5, 5, ""},
	} {
		err := refuseIDs(c.uid, c.gid)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("refuseIDs(%d,%d)=%q want %q", c.uid, c.gid, got, c.want)
		}
	}
	if err := RefuseRoot(); (err != nil) != (os.Geteuid() == 0 || os.Getegid() == 0) {
		t.Errorf("RefuseRoot()=%v", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.BindAddress != "0.0.0.0" || c.Port != 2222 || c.HostKeyFile != "./cache/ssh_host_key" || c.HostKeyBits != 4096 ||
		c.MaxConnections != 10 || c.CacheDir != "cache" || c.HandshakeTimeout != 10*time.Second {
		t.Fatalf("%+v", c)
	}
	if tm := (Config{TestMode: true}).withDefaults(); tm.HostKeyFile != "./ssh_host_key" {
		t.Fatalf("test mode host key %q", tm.HostKeyFile)
	}
	jobs := []Job{{Name: "a", AllowFrom: []string{"h"}}}
	c = Config{ScheduleJobs: jobs}.withDefaults()
	jobs[0].AllowFrom[0] = "changed"
	if c.ScheduleJobs[0].AllowFrom[0] != "h" {
		t.Fatal("config shares slices with the caller")
	}
}

// A thousand idle connections at once from one address: only the newest
// MaxPreAuthPerSource stay in the handshake, the rest are closed right
// away (never queued in memory), and users and the health check still
// get in while the flood holds its connections.
func TestConnectionFloodPastMaxConnections(t *testing.T) {
	ts, k := keyServer(t, Config{MaxConnections: 10, HandshakeTimeout: 2 * time.Second})
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 1000; i++ {
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	waitFor(t, "the flood to be handled", func() bool { return ts.srv.Stats().PreAuth == 10 })
	// The excess must have been closed by the server: reading reaches EOF
	// (after the banner) instead of blocking.
	closed := 0
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := io.Copy(io.Discard, c); err == nil {
			closed++
		}
	}
	// The health reserve holds a few more for its short handshake
	// timeout; connections still in the listen backlog are accepted late.
	if closed < 950 {
		t.Fatalf("only %d of 1000 flood connections were closed", closed)
	}
	// Once the flood's handshakes have been silent for silentGrace, a
	// real client makes one of them give way.
	time.Sleep(silentGrace + 100*time.Millisecond)
	if line, err := ts.login(t, HealthUser, ssh.Password(HealthUser)); err != nil || !strings.HasPrefix(line, HealthUser) {
		t.Fatalf("health during the flood: %q %v", line, err)
	}
	if _, err := ts.login(t, "alice", ssh.PublicKeys(k.signer)); err != nil {
		t.Fatalf("normal user during the flood: %v", err)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	waitFor(t, "slots to free", func() bool { st := ts.srv.Stats(); return st.PreAuth == 0 && st.Current == 0 })
	if _, err := ts.login(t, "alice", ssh.PublicKeys(k.signer)); err != nil {
		t.Fatalf("normal user after the flood: %v", err)
	}
}

// Settings that would start a broken server are refused by New, with the
// key named: a huge key size never finishes generating, an unknown
// algorithm name makes every later handshake fail.
func TestConfigValidated(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{HostKeyBits: 100000}, "HostKeyBits 100000 is outside 2048…8192"},
		{Config{HostKeyBits: 1000}, "HostKeyBits 1000 is outside"},
		{Config{KeyExchanges: []string{"curve25519-sha256", "bogus-kex"}}, `KeyExchanges: unknown algorithm "bogus-kex"`},
		{Config{Ciphers: []string{"rot13"}}, `Ciphers: unknown algorithm "rot13"`},
		{Config{MACs: []string{"hmac-md4"}}, `MACs: unknown algorithm "hmac-md4"`},
	} {
		c.cfg.HostKeyFile = filepath.Join(dir, "never_written")
		_, err := New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("New(%+v) = %v, want one line with %q", c.cfg, err, c.want)
		}
		if _, serr := os.Stat(c.cfg.HostKeyFile); serr == nil {
			t.Fatal("a host key was generated for an invalid configuration")
		}
	}
	// Explicitly chosen insecure but implemented algorithms still work.
	if _, err := New(Config{HostKeyFile: filepath.Join(dir, "k"), HostKeyBits: 2048, Ciphers: []string{"aes128-cbc"}}); err != nil {
		t.Fatalf("implemented cipher refused: %v", err)
	}
}

// Handshakes are bounded per source address and in total, apart from
// MaxConnections: a silent handshake of the source (or of the busiest
// source) makes room, so idle connections never lock out a user; while
// all handshakes are young, a new connection is refused (clients retry).
func TestPreAuthLimits(t *testing.T) {
	ts, k := keyServer(t, Config{MaxConnections: 2, MaxPreAuth: 4, MaxPreAuthPerSource: 2, HandshakeTimeout: 20 * time.Second})
	from := func(ip string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
		c, err := d.Dial("tcp", ts.addr)
		if err != nil {
			t.Skipf("cannot dial from %s: %v", ip, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	perSource := func() map[string]int {
		ts.srv.mu.Lock()
		defer ts.srv.mu.Unlock()
		m := map[string]int{}
		for k, v := range ts.srv.perSource {
			m[k] = v
		}
		return m
	}
	from("127.0.0.1")
	from("127.0.0.1")
	waitFor(t, "two handshakes", func() bool { return ts.srv.Stats().PreAuth == 2 })
	from("127.0.0.1")
	waitFor(t, "refusal", func() bool { return ts.log.has("Refusing connection: too many unauthenticated connections") })
	if m := perSource(); m["127.0.0.1"] != 2 {
		t.Fatalf("third handshake from one source admitted while the others are young: %v", m)
	}
	time.Sleep(silentGrace + 100*time.Millisecond)
	from("127.0.0.1")
	waitFor(t, "per-source bound", func() bool { return ts.srv.Stats().PreAuth == 2 && perSource()["127.0.0.1"] == 2 })
	from("127.0.0.2")
	from("127.0.0.2")
	waitFor(t, "pool full", func() bool { return ts.srv.Stats().PreAuth == 4 })
	from("127.0.0.3")
	waitFor(t, "a silent handshake gives way", func() bool {
		m := perSource()
		return ts.srv.Stats().PreAuth == 4 && m["127.0.0.3"] == 1 && m["127.0.0.1"] == 1 && m["127.0.0.2"] == 2
	})
	time.Sleep(silentGrace + 100*time.Millisecond)
	if _, err := ts.login(t, "alice", ssh.PublicKeys(k.signer)); err != nil {
		t.Fatalf("user locked out by idle handshakes: %v", err)
	}
	if !ts.srv.Saturation().RecentDrop {
		t.Fatal("the full handshake pool is not reported to the health check")
	}
}
