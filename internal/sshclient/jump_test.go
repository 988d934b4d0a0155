package sshclient

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// generous is the connect timeout of the jump tests: the default 2 s is
// cut short by a loaded machine under -race.
const generous = 30 * time.Second

// forwardChannel serves one direct-tcpip channel like sshd: connect to the
// target and copy both ways.
func (s *testServer) forwardChannel(nc ssh.NewChannel, wg *sync.WaitGroup) {
	var req struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if err := ssh.Unmarshal(nc.ExtraData(), &req); err != nil {
		nc.Reject(ssh.ConnectionFailed, "bad request")
		return
	}
	target, err := net.Dial("tcp", net.JoinHostPort(req.Host, strconv.Itoa(int(req.Port))))
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		target.Close()
		return
	}
	wg.Go(func() { ssh.DiscardRequests(reqs) })
	wg.Go(func() {
		io.Copy(target, ch)
		target.(*net.TCPConn).CloseWrite()
	})
	wg.Go(func() {
		io.Copy(ch, target)
		ch.Close()
		target.Close()
	})
}

// knownHostsFor writes a known_hosts holding the given servers' keys.
func knownHostsFor(t *testing.T, in io.Reader, out io.Writer, servers ...*testServer) *KnownHosts {
	t.Helper()
	home := t.TempDir()
	path := filepath.Join(home, ".ssh", "known_hosts")
	os.MkdirAll(filepath.Dir(path), 0o700)
	var lines []string
	for _, s := range servers {
		lines = append(lines, knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, s.hostKey.PublicKey()))
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if in == nil {
		in = strings.NewReader("")
	}
	kh, err := NewKnownHosts(KnownHostsOptions{Home: home, In: in, Out: out, AnswerTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return kh
}

func behind(target *testServer, hops ...*testServer) Server {
	s := target.server()
	s.Route = &Route{}
	for _, h := range hops {
		s.Route.Jumps = append(s.Route.Jumps, h.server())
	}
	return s
}

func echo(t *testing.T, c *Conn, msg string) {
	t.Helper()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != msg {
		t.Fatalf("echo: %q, %v", buf, err)
	}
}

// TestJumpSharedAndBounded: many sessions behind one jump host share its
// connection, up to ChannelsPerJump each; more open another connection.
// Closing the Dialer ends the jump connections.
func TestJumpSharedAndBounded(t *testing.T) {
	signer, _ := newKey(t, "")
	jump := startTestServerOpts(t, signer.PublicKey(), testServerOpts{forward: true})
	target := startTestServer(t, signer.PublicKey())
	kh := knownHostsFor(t, nil, io.Discard, jump, target)
	d, err := NewDialer(DialerConfig{User: "alice", Signers: []ssh.Signer{signer}, KnownHosts: kh, ChannelsPerJump: 3, ConnectTimeout: generous})
	if err != nil {
		t.Fatal(err)
	}
	const n = 7
	conns := make([]*Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			c, err := d.Dial(context.Background(), behind(target, jump))
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, c := range conns {
		echo(t, c, fmt.Sprintf("hello %d\n", i))
	}
	// 7 sessions, at most 3 per jump connection: 3 connections.
	if got := jump.connections(); got != 3 {
		t.Errorf("%d jump connections for %d sessions at 3 each, want 3", got, n)
	}
	if got := target.connections(); got != n {
		t.Errorf("%d target connections, want %d", got, n)
	}
	// Sessions closed: their channels are free again, no new connection.
	for _, c := range conns {
		c.Close()
	}
	c, err := d.Dial(context.Background(), behind(target, jump))
	if err != nil {
		t.Fatal(err)
	}
	echo(t, c, "again\n")
	if got := jump.connections(); got != 3 {
		t.Errorf("a released channel was not reused: %d jump connections", got)
	}
	d.Close()
	// The tunnelled session ends with its jump connection.
	closeAfter(t, c, 10*time.Second)
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("session still readable after the Dialer closed its jump connection")
	}
	c.Close()
}

// closeAfter closes c after d, so that a read that does not end fails the
// test instead of hanging it.
func closeAfter(t *testing.T, c *Conn, d time.Duration) {
	timer := time.AfterFunc(d, func() { c.client.Close() })
	t.Cleanup(func() { timer.Stop() })
}

// TestJumpChainUnknownHostsAskedOnceEach: a two-hop chain to two targets
// where every host is new. The user is asked about each host once (the
// targets' dials all wait on the same first hop), and every session
// connects after the answers: one decision per host, not one per dial.
func TestJumpChainUnknownHostsAskedOnceEach(t *testing.T) {
	signer, _ := newKey(t, "")
	hop1 := startTestServerOpts(t, signer.PublicKey(), testServerOpts{forward: true})
	hop2 := startTestServerOpts(t, signer.PublicKey(), testServerOpts{forward: true})
	t1 := startTestServer(t, signer.PublicKey())
	t2 := startTestServer(t, signer.PublicKey())
	out := &syncBuffer{}
	answers, w := io.Pipe()
	t.Cleanup(func() { w.Close() })
	kh := knownHostsFor(t, answers, out)
	d, err := NewDialer(DialerConfig{User: "alice", Signers: []ssh.Signer{signer}, KnownHosts: kh, ConnectTimeout: generous})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// Answer every question with yes as it appears.
	go func() {
		asked := 0
		for range 200 {
			if n := strings.Count(out.String(), "Do you want to trust"); n > asked {
				asked = n
				io.WriteString(w, "y\n")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, target := range []*testServer{t1, t2} {
		wg.Go(func() {
			c, err := d.Dial(context.Background(), behind(target, hop1, hop2))
			if err != nil {
				errs <- err
				return
			}
			echo(t, c, "through two hops\n")
			c.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("%v\nquestions:\n%s", err, out.String())
	}
	q := out.String()
	var named []string
	for _, l := range strings.Split(q, "\n") {
		if _, list, ok := strings.Cut(l, "unknown hosts: '"); ok {
			list, _, _ = strings.Cut(list, "'")
			named = append(named, strings.Split(list, ",")...)
		}
	}
	for _, s := range []*testServer{hop1, hop2, t1, t2} {
		n := 0
		for _, name := range named {
			if name == s.addr {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s named %d times in the questions, want once:\n%s", s.addr, n, q)
		}
	}
	if hop1.connections() != 2 || hop2.connections() != 2 {
		// One to learn the key, one after the answer.
		t.Errorf("hop connections %d, %d; want 2 each", hop1.connections(), hop2.connections())
	}
}

// TestJumpHostKeyAlias: HostKeyAlias names the known_hosts entry (with the
// port), as in OpenSSH; a jumped connection records no IP line.
func TestJumpHostKeyAlias(t *testing.T) {
	signer, _ := newKey(t, "")
	jump := startTestServerOpts(t, signer.PublicKey(), testServerOpts{forward: true})
	target := startTestServer(t, signer.PublicKey())
	home := t.TempDir()
	path := filepath.Join(home, ".ssh", "known_hosts")
	os.MkdirAll(filepath.Dir(path), 0o700)
	lines := knownhosts.Line([]string{knownhosts.Normalize(jump.addr)}, jump.hostKey.PublicKey()) + "\n" +
		knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort("logs.alias", strconv.Itoa(target.port)))}, target.hostKey.PublicKey()) + "\n"
	os.WriteFile(path, []byte(lines), 0o600)
	kh, err := NewKnownHosts(KnownHostsOptions{Home: home, In: strings.NewReader(""), Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := NewDialer(DialerConfig{User: "alice", Signers: []ssh.Signer{signer}, KnownHosts: kh, ConnectTimeout: generous})
	defer d.Close()
	s := behind(target, jump)
	s.Route.HostKeyName = "logs.alias"
	c, err := d.Dial(context.Background(), s)
	if err != nil {
		t.Fatalf("known under its HostKeyAlias: %v", err)
	}
	c.Close()
	// Without the alias the target is unknown (and nobody can answer).
	c, err = d.Dial(context.Background(), behind(target, jump))
	if err == nil {
		c.Close()
		t.Fatal("the target was accepted under its address, which known_hosts does not hold")
	}
}

// TestJumpDeadConnectionRedialled: when the jump host drops the shared
// connection, the next session opens a new one instead of failing.
func TestJumpDeadConnectionRedialled(t *testing.T) {
	signer, _ := newKey(t, "")
	jump := startTestServerOpts(t, signer.PublicKey(), testServerOpts{forward: true})
	target := startTestServer(t, signer.PublicKey())
	kh := knownHostsFor(t, nil, io.Discard, jump, target)
	d, _ := NewDialer(DialerConfig{User: "alice", Signers: []ssh.Signer{signer}, KnownHosts: kh, ConnectTimeout: generous})
	defer d.Close()
	c, err := d.Dial(context.Background(), behind(target, jump))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// Kill the jump connection from our side of the pool, as a bastion
	// restart would.
	d.jumps.mu.Lock()
	for _, list := range d.jumps.conns {
		for _, jc := range list {
			jc.client.Close()
		}
	}
	d.jumps.mu.Unlock()
	var last error
	for range 100 {
		c, last = d.Dial(context.Background(), behind(target, jump))
		if last == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if last != nil {
		t.Fatalf("after the jump connection died: %v", last)
	}
	echo(t, c, "new jump connection\n")
	c.Close()
	if jump.connections() != 2 {
		t.Errorf("%d jump connections, want 2", jump.connections())
	}
}

// TestJumpSilentChannelOpen: a jump host that never answers the channel
// open costs one connect timeout, not the run.
func TestJumpSilentChannelOpen(t *testing.T) {
	signer, _ := newKey(t, "")
	jump := startTestServerOpts(t, signer.PublicKey(), testServerOpts{stallForward: true})
	target := startTestServer(t, signer.PublicKey())
	kh := knownHostsFor(t, nil, io.Discard, jump, target)
	d, _ := NewDialer(DialerConfig{User: "alice", Signers: []ssh.Signer{signer}, KnownHosts: kh, ConnectTimeout: 300 * time.Millisecond})
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := d.Dial(ctx, behind(target, jump))
	if err == nil {
		c.Close()
		t.Fatal("dialled through a jump host that never opened the channel")
	}
	if ctx.Err() != nil {
		t.Fatalf("the dial waited for the run's deadline: %v", err)
	}
}

// TestJumpFleet: a fleet behind one bastion opens one bastion connection
// per ChannelsPerJump sessions, not one per server, all held open at once.
// CI: 40 sessions at 16 per connection (3 connections; each handshake
// costs milliseconds under -race); DTAIL_JUMP_FLEET=N runs N at the
// default 256 for the figure (up to ulimit -n / 2.5: this process holds the
// jump host's and the target's end of every forwarded socket).
func TestJumpFleet(t *testing.T) {
	n, per := 40, 16
	if v, err := strconv.Atoi(os.Getenv("DTAIL_JUMP_FLEET")); err == nil && v > 0 {
		n, per = v, maxChannelsPerJump
	}
	signer, _ := newKey(t, "")
	jump := startTestServerOpts(t, signer.PublicKey(), testServerOpts{forward: true})
	target := startTestServer(t, signer.PublicKey())
	kh := knownHostsFor(t, nil, io.Discard, jump, target)
	d, err := NewDialer(DialerConfig{User: "alice", Signers: []ssh.Signer{signer}, KnownHosts: kh, ConnectTimeout: generous, ChannelsPerJump: per})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	conns := make([]*Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			conns[i], errs[i] = d.Dial(context.Background(), behind(target, jump))
			if errs[i] == nil {
				// Held open, as a following session is.
				conns[i].Release()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
	echo(t, conns[n-1], "last\n")
	want := (n + per - 1) / per
	if got := jump.connections(); got != want {
		t.Errorf("%d bastion connections for %d sessions, want %d", got, n, want)
	}
	t.Logf("%d sessions through %d bastion connections in %v", n, jump.connections(), elapsed.Round(time.Millisecond))
	for _, c := range conns {
		c.Close()
	}
}
