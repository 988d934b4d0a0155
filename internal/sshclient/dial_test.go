package sshclient

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// testServer is a minimal DTail-like SSH server: it accepts one kind of
// channel (session) and one request (shell), echoing the channel back, and
// records every request so tests can assert what the client sent.
type testServer struct {
	addr    string
	port    int
	hostKey ssh.Signer

	opts     testServerOpts
	mu       sync.Mutex
	accepted int
	requests []string // channel request types, in arrival order
	channels []string // channel types
}

// testServerOpts make the test server behave like a busy or strict one.
type testServerOpts struct {
	// handshakeTimeout closes connections whose SSH handshake is not done
	// in time, as dserver does.
	handshakeTimeout time.Duration
	// dropFirst connections are closed at once (MaxConnections reached).
	dropFirst int
	// addr listens on this address instead of a fresh port.
	addr string
	// forward accepts direct-tcpip channels (a jump host); stallForward
	// never answers them.
	forward, stallForward bool
	// noShellReply starts the echo on a shell request but never answers
	// it (a reply the client should not wait for).
	noShellReply bool
}

func startTestServer(t *testing.T, authorized ssh.PublicKey) *testServer {
	t.Helper()
	return startTestServerOpts(t, authorized, testServerOpts{})
}

func startTestServerOpts(t *testing.T, authorized ssh.PublicKey, o testServerOpts) *testServer {
	t.Helper()
	hostKey, _ := newKey(t, "")
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if authorized != nil && samePub(key, authorized) {
				return nil, nil
			}
			return nil, errors.New("not authorized")
		},
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == "DTAIL-HEALTH" && subtle.ConstantTimeCompare(pw, []byte("DTAIL-HEALTH")) == 1 {
				return nil, nil
			}
			return nil, errors.New("not authorized")
		},
	}
	cfg.AddHostKey(hostKey)
	if o.addr == "" {
		o.addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{addr: ln.Addr().String(), port: ln.Addr().(*net.TCPAddr).Port, hostKey: hostKey, opts: o}
	var wg sync.WaitGroup
	var connsMu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		connsMu.Lock()
		for _, c := range conns {
			c.Close()
		}
		connsMu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			connsMu.Lock()
			conns = append(conns, c)
			connsMu.Unlock()
			wg.Go(func() { s.serve(c, cfg, &wg) })
		}
	})
	return s
}

func (s *testServer) serve(c net.Conn, cfg *ssh.ServerConfig, wg *sync.WaitGroup) {
	s.mu.Lock()
	s.accepted++
	drop := s.accepted <= s.opts.dropFirst
	s.mu.Unlock()
	if drop {
		c.Close()
		return
	}
	if s.opts.handshakeTimeout > 0 {
		c.SetDeadline(time.Now().Add(s.opts.handshakeTimeout))
	}
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		c.Close()
		return
	}
	c.SetDeadline(time.Time{})
	wg.Go(func() { ssh.DiscardRequests(reqs) })
	for nc := range chans {
		s.mu.Lock()
		s.channels = append(s.channels, nc.ChannelType())
		s.mu.Unlock()
		if nc.ChannelType() == "direct-tcpip" && s.opts.stallForward {
			continue
		}
		if nc.ChannelType() == "direct-tcpip" && s.opts.forward {
			s.forwardChannel(nc, wg)
			continue
		}
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.Prohibited, "only session")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Go(func() {
			for req := range chReqs {
				s.mu.Lock()
				s.requests = append(s.requests, req.Type)
				s.mu.Unlock()
				if req.Type != "shell" {
					// Like dserver: anything else kills the connection.
					req.Reply(false, nil)
					sc.Close()
					return
				}
				if req.WantReply && s.opts.noShellReply {
					s.mu.Lock()
					s.requests = append(s.requests, "(reply wanted)")
					s.mu.Unlock()
				} else {
					req.Reply(true, nil)
				}
				wg.Go(func() {
					io.Copy(ch, ch)
					ch.Close()
				})
			}
		})
	}
}

func (s *testServer) server() Server {
	return Server{Name: s.addr, Host: "127.0.0.1", Port: s.port}
}

func (s *testServer) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

func (s *testServer) seen() (channels, requests []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.channels...), append([]string(nil), s.requests...)
}

// trustingDialer is a dialer for user "alice" whose known_hosts already
// holds the server's key.
func trustingDialer(t *testing.T, s *testServer, signer ssh.Signer, cfg DialerConfig) *Dialer {
	t.Helper()
	home := t.TempDir()
	path := filepath.Join(home, ".ssh", "known_hosts")
	os.MkdirAll(filepath.Dir(path), 0o700)
	line := knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, s.hostKey.PublicKey())
	if err := os.WriteFile(path, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kh, err := NewKnownHosts(KnownHostsOptions{Home: home, In: strings.NewReader(""), Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	cfg.User = "alice"
	cfg.Signers = []ssh.Signer{signer}
	cfg.KnownHosts = kh
	d, err := NewDialer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDialShellAndEcho(t *testing.T) {
	signer, _ := newKey(t, "")
	other, _ := newKey(t, "")
	s := startTestServer(t, signer.PublicKey())
	d := trustingDialer(t, s, other, DialerConfig{})
	// The unauthorised key is tried first, then the right one.
	d.cfg.Signers = []ssh.Signer{other, signer}

	conn, err := d.Dial(context.Background(), s.server())
	if err != nil {
		t.Fatal(err)
	}
	if conn.Server() != s.server() {
		t.Fatalf("Server() = %v", conn.Server())
	}
	if _, err := io.WriteString(conn, "protocol 4.1 base64 Zm9v;"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 25)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "protocol 4.1 base64 Zm9v;" {
		t.Fatalf("echo = %q, %v", buf, err)
	}
	if err := conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Close: %v", err)
	}
	conn.Close() // idempotent
	channels, requests := s.seen()
	if len(channels) != 1 || channels[0] != "session" {
		t.Fatalf("channels = %q, want exactly one session", channels)
	}
	if len(requests) != 1 || requests[0] != "shell" {
		t.Fatalf("requests = %q, want exactly one shell", requests)
	}
}

// TestDialShellWithoutRoundTrip: the commands follow the shell request at
// once. A client that waits for the shell's reply holds its connection
// slot for one more round trip per server (here: forever, until the
// connect timeout fails the dial).
func TestDialShellWithoutRoundTrip(t *testing.T) {
	signer, _ := newKey(t, "")
	s := startTestServerOpts(t, signer.PublicKey(), testServerOpts{noShellReply: true})
	d := trustingDialer(t, s, signer, DialerConfig{ConnectTimeout: 5 * time.Second})
	conn, err := d.Dial(context.Background(), s.server())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "protocol 4.1 base64 Zm9v;"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 25)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "protocol 4.1 base64 Zm9v;" {
		t.Fatalf("echo = %q, %v", buf, err)
	}
	if _, requests := s.seen(); len(requests) != 1 || requests[0] != "shell" {
		t.Fatalf("requests = %q, want exactly one shell, no reply wanted", requests)
	}
}

func TestDialReservedUserPasswordInsecure(t *testing.T) {
	s := startTestServer(t, nil)
	d, err := NewDialer(DialerConfig{User: "DTAIL-HEALTH", Password: "DTAIL-HEALTH", InsecureIgnoreHostKey: true})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := d.Dial(context.Background(), s.server())
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}

func TestDialTrustAllRecordsServer(t *testing.T) {
	signer, _ := newKey(t, "")
	s := startTestServer(t, signer.PublicKey())
	kh, err := NewKnownHosts(KnownHostsOptions{Home: t.TempDir(), TrustAll: true, Out: io.Discard, In: strings.NewReader("")})
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDialer(DialerConfig{User: "alice", Signers: []ssh.Signer{signer}, KnownHosts: kh})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := d.Dial(context.Background(), s.server())
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if err := kh.Close(); err != nil {
		t.Fatal(err)
	}
	want := knownhosts.Line([]string{"[127.0.0.1]:" + strconv.Itoa(s.port)}, s.hostKey.PublicKey()) + "\n"
	if got := readFile(t, kh.Path()); got != want {
		t.Fatalf("known_hosts = %q, want %q", got, want)
	}
}

func TestDialChangedHostKeyRefused(t *testing.T) {
	signer, _ := newKey(t, "")
	s := startTestServer(t, signer.PublicKey())
	home := t.TempDir()
	path := filepath.Join(home, ".ssh", "known_hosts")
	os.MkdirAll(filepath.Dir(path), 0o700)
	stale, _ := newKey(t, "")
	os.WriteFile(path, []byte(knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, stale.PublicKey())+"\n"), 0o600)
	kh, err := NewKnownHosts(KnownHostsOptions{Home: home, TrustAll: true, Out: io.Discard, In: strings.NewReader("")})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := NewDialer(DialerConfig{User: "alice", Signers: []ssh.Signer{signer}, KnownHosts: kh})
	_, err = d.Dial(context.Background(), s.server())
	if err == nil || !strings.HasPrefix(err.Error(), "SSH handshake failed for "+s.addr+": ") ||
		!strings.Contains(err.Error(), path+":1") {
		t.Fatalf("err = %v", err)
	}
}

func TestDialAuthFailure(t *testing.T) {
	signer, _ := newKey(t, "")
	other, _ := newKey(t, "")
	s := startTestServer(t, signer.PublicKey())
	d := trustingDialer(t, s, other, DialerConfig{})
	if _, err := d.Dial(context.Background(), s.server()); err == nil ||
		!strings.HasPrefix(err.Error(), "SSH handshake failed for "+s.addr) {
		t.Fatalf("err = %v", err)
	}
	if got := len(d.throttle); got != 0 {
		t.Fatalf("%d throttle slots leaked on failure", got)
	}
}

func TestDialThrottle(t *testing.T) {
	signer, _ := newKey(t, "")
	s := startTestServer(t, signer.PublicKey())
	d := trustingDialer(t, s, signer, DialerConfig{ConnectionsPerCPU: 1})
	if d.ThrottleSize() != runtime.NumCPU() {
		t.Fatalf("ThrottleSize = %d, want NumCPU = %d", d.ThrottleSize(), runtime.NumCPU())
	}
	if def, _ := NewDialer(DialerConfig{User: "u", Password: "p", InsecureIgnoreHostKey: true}); def.ThrottleSize() != 10*runtime.NumCPU() {
		t.Fatalf("default throttle = %d", def.ThrottleSize())
	}

	var conns []*Conn
	for range d.ThrottleSize() {
		c, err := d.Dial(context.Background(), s.server())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := d.Dial(ctx, s.server()); err == nil || !strings.Contains(err.Error(), "waiting for a connection slot") {
		t.Fatalf("dial past the throttle: err = %v", err)
	}

	// Release (not Close) frees the slot while the session stays usable.
	done := make(chan error, 1)
	go func() {
		c, err := d.Dial(context.Background(), s.server())
		if err == nil {
			c.Release()
			c.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("dial did not wait for a slot: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	conns[0].Release()
	conns[0].Release() // idempotent: must not free a second slot
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conns[0], "still open"); err != nil {
		t.Fatalf("write after Release: %v", err)
	}
	for _, c := range conns {
		c.Close()
	}
	if got := len(d.throttle); got != 0 {
		t.Fatalf("%d slots still taken after Close", got)
	}
}

// silentListener accepts TCP connections and never speaks, like a hung host.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

func mustParse(t *testing.T, addr string) Server {
	s, err := ParseServer(addr, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDialConnectTimeout(t *testing.T) {
	addr := silentListener(t)
	d, _ := NewDialer(DialerConfig{User: "u", Password: "p", InsecureIgnoreHostKey: true, ConnectTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := d.Dial(context.Background(), mustParse(t, addr))
	if err == nil || !strings.HasPrefix(err.Error(), "SSH handshake failed for "+addr+": ") {
		t.Fatalf("err = %v", err)
	}
	if el := time.Since(start); el < 150*time.Millisecond || el > 2*time.Second {
		t.Fatalf("gave up after %v, want about 200ms", el)
	}
}

func TestDialContextCancel(t *testing.T) {
	addr := silentListener(t)
	d, _ := NewDialer(DialerConfig{User: "u", Password: "p", InsecureIgnoreHostKey: true, ConnectTimeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := d.Dial(ctx, mustParse(t, addr))
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "SSH handshake failed for ") {
		t.Fatalf("err = %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("cancel took %v", el)
	}
}

func TestDialTCPFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d, _ := NewDialer(DialerConfig{User: "u", Password: "p", InsecureIgnoreHostKey: true})
	if _, err := d.Dial(context.Background(), mustParse(t, addr)); err == nil ||
		!strings.HasPrefix(err.Error(), "failed to dial TCP connection to "+addr+": ") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewDialerValidation(t *testing.T) {
	signer, _ := newKey(t, "")
	for name, cfg := range map[string]DialerConfig{
		"no user":       {Signers: []ssh.Signer{signer}, InsecureIgnoreHostKey: true},
		"no auth":       {User: "u", InsecureIgnoreHostKey: true},
		"no host check": {User: "u", Signers: []ssh.Signer{signer}},
	} {
		if _, err := NewDialer(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// newSlowAnswer delivers line after delay, as a human at a terminal would.
func newSlowAnswer(t *testing.T, line string, delay time.Duration) io.Reader {
	r, w := io.Pipe()
	timer := time.AfterFunc(delay, func() { io.WriteString(w, line) })
	t.Cleanup(func() { timer.Stop(); w.Close() })
	return r
}

// TestDialSlowTrustAnswerRedials: the user answers the host key question
// after the server's handshake timer expired; the dial still succeeds
// because the connection is dialled again after the answer (DTail 4.x and
// our earlier client held the handshake open and got EOF).
func TestDialSlowTrustAnswerRedials(t *testing.T) {
	signer, _ := newKey(t, "")
	s := startTestServerOpts(t, signer.PublicKey(), testServerOpts{handshakeTimeout: 300 * time.Millisecond})
	out := &syncBuffer{}
	kh, err := NewKnownHosts(KnownHostsOptions{Home: t.TempDir(), In: newSlowAnswer(t, "y\n", 1500*time.Millisecond), Out: out,
		AnswerTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := NewDialer(DialerConfig{User: "alice", Signers: []ssh.Signer{signer}, KnownHosts: kh, ConnectionsPerCPU: 1})
	start := time.Now()
	conn, err := d.Dial(context.Background(), s.server())
	if err != nil {
		t.Fatalf("after a 1.5 s answer: %v (question: %q)", err, out.String())
	}
	conn.Close()
	if el := time.Since(start); el < 1400*time.Millisecond {
		t.Fatalf("connected after %v, before the answer", el)
	}
	if !strings.Contains(out.String(), "ED25519 key fingerprint "+ssh.FingerprintSHA256(s.hostKey.PublicKey())) {
		t.Errorf("question lacks the SHA256 fingerprint: %q", out.String())
	}
	if n := s.connections(); n != 2 {
		t.Errorf("%d connections, want 2 (one to learn the key, one after the answer)", n)
	}
}

// TestDialRetriesTransientFailures: connections closed during setup
// (MaxConnections reached) and refused connections (server restarting)
// are retried within the budget.
func TestDialRetriesTransientFailures(t *testing.T) {
	signer, _ := newKey(t, "")
	t.Run("dropped", func(t *testing.T) {
		s := startTestServerOpts(t, signer.PublicKey(), testServerOpts{dropFirst: 3})
		d := trustingDialer(t, s, signer, DialerConfig{RetryBudget: 30 * time.Second})
		conn, err := d.Dial(context.Background(), s.server())
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		// Three dropped, then one that succeeds; on a loaded machine a
		// handshake may also time out and be retried once more.
		if n := s.connections(); n < 4 {
			t.Errorf("%d connections, want at least 4", n)
		}
	})
	t.Run("refused while restarting", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		d, _ := NewDialer(DialerConfig{User: "alice", Signers: []ssh.Signer{signer}, InsecureIgnoreHostKey: true, RetryBudget: 30 * time.Second})
		started := make(chan *testServer, 1)
		time.AfterFunc(time.Second, func() { started <- startTestServerOpts(t, signer.PublicKey(), testServerOpts{addr: addr}) })
		conn, err := d.Dial(context.Background(), mustParse(t, addr))
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		<-started
	})
	t.Run("budget ends", func(t *testing.T) {
		s := startTestServerOpts(t, signer.PublicKey(), testServerOpts{dropFirst: 1 << 30})
		d := trustingDialer(t, s, signer, DialerConfig{RetryBudget: 1500 * time.Millisecond})
		start := time.Now()
		_, err := d.Dial(context.Background(), s.server())
		if err == nil || !strings.HasPrefix(err.Error(), "SSH handshake failed for "+s.addr+": ") || !strings.Contains(err.Error(), "gave up after") {
			t.Fatalf("err = %v", err)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Fatalf("gave up after %v", el)
		}
		if n := s.connections(); n < 2 {
			t.Errorf("%d connections: not retried", n)
		}
	})
}

// TestDialPermanentFailuresNotRetried: refused authentication and a
// changed host key fail at the first attempt, whatever the budget.
func TestDialPermanentFailuresNotRetried(t *testing.T) {
	signer, _ := newKey(t, "")
	stranger, _ := newKey(t, "")
	s := startTestServer(t, signer.PublicKey())
	d := trustingDialer(t, s, stranger, DialerConfig{RetryBudget: 30 * time.Second})
	if _, err := d.Dial(context.Background(), s.server()); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("err = %v", err)
	}
	if n := s.connections(); n != 1 {
		t.Errorf("auth refused: %d connections, want 1", n)
	}

	other := startTestServer(t, signer.PublicKey())
	home := t.TempDir()
	path := filepath.Join(home, ".ssh", "known_hosts")
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte(knownhosts.Line([]string{knownhosts.Normalize(other.addr)}, stranger.PublicKey())+"\n"), 0o600)
	kh, _ := NewKnownHosts(KnownHostsOptions{Home: home, TrustAll: true, Out: io.Discard, In: strings.NewReader("")})
	d2, _ := NewDialer(DialerConfig{User: "alice", Signers: []ssh.Signer{signer}, KnownHosts: kh, RetryBudget: 30 * time.Second})
	if _, err := d2.Dial(context.Background(), other.server()); err == nil || !strings.Contains(err.Error(), "CHANGED") {
		t.Fatalf("err = %v", err)
	}
	if n := other.connections(); n != 1 {
		t.Errorf("changed key: %d connections, want 1", n)
	}
}
