package sshclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

const (
	defaultConnectTimeout = 2 * time.Second
	defaultCPC            = 10
	tcpKeepAlive          = 30 * time.Second
)

// DialerConfig configures a Dialer.
type DialerConfig struct {
	User string
	// Signers are offered with the single publickey method, in order.
	Signers []ssh.Signer
	// RouteSigners allows empty Signers: every server's Route brings
	// its own (IdentityFile keys of the SSH configuration).
	RouteSigners bool
	// Password enables password auth; only the reserved users
	// (DTAIL-HEALTH, DTAIL-SCHEDULE, DTAIL-CONTINUOUS) use it.
	Password string
	// KnownHosts verifies host keys; required unless InsecureIgnoreHostKey.
	KnownHosts *KnownHosts
	// InsecureIgnoreHostKey skips host key verification. Only for the
	// reserved-user clients (health, jobs), which talk to servers they
	// configure themselves and have no one to ask.
	InsecureIgnoreHostKey bool
	// ConnectTimeout bounds TCP dial, SSH handshake and session setup
	// (default 2 s). Time spent waiting for the user to answer a host key
	// question is not counted.
	ConnectTimeout time.Duration
	// ConnectionsPerCPU sizes the throttle as cpc × NumCPU (0 → 10).
	ConnectionsPerCPU int
	// ChannelsPerJump bounds the sessions tunnelled through one jump
	// connection (0 → 256); more open another connection to the jump host.
	ChannelsPerJump int
	// RetryBudget is how long a server that fails transiently
	// (MaxConnections reached, handshake timeout or connection dropped
	// during setup under load; connection refused while it restarts, for
	// at most 10 s of it) is retried, with jittered exponential back-off;
	// 0 makes one attempt. Permanent failures (authentication, host keys,
	// no route) are never retried.
	RetryBudget time.Duration
}

// Connect retry back-off: short, because a restarting or busy server is
// usually back within seconds, and jittered by ±50 % so that a fleet of
// clients turned away together does not come back together.
const (
	retryInitial = 250 * time.Millisecond
	retryMax     = 4 * time.Second
	retryJitter  = 0.5
	// maxAttemptTimeout caps the connect timeout, which doubles after
	// each timed-out attempt so that an overloaded server gets the time it
	// needs.
	maxAttemptTimeout = 30 * time.Second
	// maxRefusedRetry bounds the retries of refused connections within
	// RetryBudget.
	maxRefusedRetry = 10 * time.Second
)

// Dialer opens DTail sessions. Its throttle caps how many connections are
// being set up at once, so that thousands of servers do not flood the agent,
// the network or the prompt all at the same moment.
type Dialer struct {
	cfg      DialerConfig
	throttle chan struct{}
	jumps    *jumpPool
}

// NewDialer validates cfg and sizes the throttle.
func NewDialer(cfg DialerConfig) (*Dialer, error) {
	if cfg.User == "" {
		return nil, errors.New("no SSH user name given")
	}
	if len(cfg.Signers) == 0 && cfg.Password == "" && !cfg.RouteSigners {
		return nil, ErrNoSigners
	}
	if cfg.KnownHosts == nil && !cfg.InsecureIgnoreHostKey {
		return nil, errors.New("no known_hosts verification configured")
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	if cfg.ConnectionsPerCPU <= 0 {
		cfg.ConnectionsPerCPU = defaultCPC
	}
	if cfg.ChannelsPerJump <= 0 {
		cfg.ChannelsPerJump = maxChannelsPerJump
	}
	return &Dialer{
		cfg:      cfg,
		throttle: make(chan struct{}, cfg.ConnectionsPerCPU*runtime.NumCPU()),
		jumps:    &jumpPool{conns: map[string][]*jumpConn{}, inflight: map[string]*jumpFlight{}},
	}, nil
}

// Close ends the jump connections shared by the dialled servers (and so
// every connection tunnelled through them). Connections dialled directly
// are closed by their owners.
func (d *Dialer) Close() error {
	d.jumps.close()
	return nil
}

// ThrottleSize is the number of connections that may be in setup at once.
func (d *Dialer) ThrottleSize() int { return cap(d.throttle) }

// Dial waits for a throttle slot, connects, authenticates, opens one
// "session" channel and sends exactly one "shell" request (no pty, no env:
// the DTail server kills the connection on any other request; no
// want-reply, so the commands can follow without waiting).
// The slot stays taken until the returned Conn is Released or Closed; on
// error it is given back before returning.
//
// An unknown host key ends the handshake at once; the slot is given back
// while the user answers the (batched) question, and a trusted host is
// dialled again, so a slow answer costs nothing. Transient failures are
// retried within RetryBudget; the final error says how often it was tried.
func (d *Dialer) Dial(ctx context.Context, server Server) (*Conn, error) {
	return d.DialSlot(ctx, server, nil)
}

// Slot is a connection slot taken by Admit for one DialSlot.
type Slot struct{ release func() }

// Expect announces n dials that will follow through Admit and DialSlot, so
// that the batched host key question waits for them too.
func (d *Dialer) Expect(n int) {
	if d.cfg.KnownHosts != nil && !d.cfg.InsecureIgnoreHostKey {
		d.cfg.KnownHosts.expected.Add(int64(n))
	}
}

// Admit waits for a connection slot. A fan-out over thousands of servers
// starts each server's goroutine only once it has a slot, instead of
// parking thousands of goroutines (and their stacks) on the throttle.
func (d *Dialer) Admit(ctx context.Context) (*Slot, error) {
	select {
	case d.throttle <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a connection slot: %w", ctx.Err())
	}
	var once sync.Once
	return &Slot{release: func() { once.Do(func() { <-d.throttle }) }}, nil
}

// DialSlot is Dial with the first attempt on a slot taken by Admit (nil:
// wait for one). It counts as one of the dials announced by Expect.
func (d *Dialer) DialSlot(ctx context.Context, server Server, slot *Slot) (*Conn, error) {
	start := time.Now()
	backoff := Backoff{Initial: retryInitial, Max: retryMax, Jitter: retryJitter}
	timeout := d.cfg.ConnectTimeout
	kh := d.cfg.KnownHosts
	if d.cfg.InsecureIgnoreHostKey {
		kh = nil
	}
	// The dial counts as under way (the batched host-key question waits
	// for it) from before its slot wait until it fails for good, backoff
	// waits included: a host retried after a transient failure would
	// otherwise find its key after the question was asked, and be asked
	// about alone. It does not count while it waits for the answer.
	counted := false
	begin := func() {
		if kh != nil && !counted {
			kh.dialStarted()
			counted = true
		}
	}
	end := func() {
		if counted {
			counted = false
			kh.dialEnded()
		}
	}
	defer end()
	begin()
	if kh != nil && slot != nil {
		// Admitted by the caller: no longer among the expected dials.
		kh.expected.Add(-1)
	}
	// One question per host: a ProxyJump chain may meet several unknown
	// hosts one after the other on the way to the server.
	decided := map[string]bool{}
	for attempt := 1; ; attempt++ {
		begin()
		conn, err, retry := d.attempt(ctx, server, timeout, kh, slot)
		slot = nil
		if err == nil {
			return conn, nil
		}
		var u *UnknownHostError
		if kh != nil && errors.As(err, &u) && !decided[u.Hostname] {
			end()
			if err := kh.decideFresh(ctx, u); err != nil {
				via := ""
				if u.Hostname != hostKeyAddr(server) {
					via = " through jump host " + u.Hostname
				}
				return nil, fmt.Errorf("SSH handshake failed for %s%s: %w", server.Addr(), via, err)
			}
			decided[u.Hostname] = true
			attempt--
			// The retry budget starts again: the user's reading time is
			// not the server's fault.
			start = time.Now()
			continue
		}
		if !retry || ctx.Err() != nil {
			return nil, attemptsNote(err, attempt, start)
		}
		wait := backoff.Next()
		budget := d.cfg.RetryBudget
		if errors.Is(err, syscall.ECONNREFUSED) {
			// Nothing listens: a restart is over within seconds, a host
			// without dserver should not hold the run for long.
			budget = min(budget, maxRefusedRetry)
		}
		if time.Since(start)+wait >= budget {
			return nil, attemptsNote(err, attempt, start)
		}
		if isTimeout(err) {
			timeout = min(2*timeout, maxAttemptTimeout)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, attemptsNote(err, attempt, start)
		case <-t.C:
		}
	}
}

// attemptsNote adds how often a retried dial was tried to its last error.
func attemptsNote(err error, attempts int, start time.Time) error {
	if attempts <= 1 {
		return err
	}
	return fmt.Errorf("%w (gave up after %d attempts in %v)", err, attempts, time.Since(start).Round(100*time.Millisecond))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// attempt is one connection attempt under a throttle slot; retry reports a
// transient failure.
func (d *Dialer) attempt(ctx context.Context, server Server, timeout time.Duration, kh *KnownHosts, slot *Slot) (*Conn, error, bool) {
	if slot == nil {
		var err error
		if slot, err = d.Admit(ctx); err != nil {
			return nil, fmt.Errorf("waiting for a connection slot for %s: %w", server.Addr(), ctx.Err()), false
		}
	}
	release := slot.release

	conn, err, retry := d.dial(ctx, server, timeout, kh)
	if err != nil {
		release()
		return nil, err, retry
	}
	conn.release = release
	return conn, nil, false
}

func (d *Dialer) dial(ctx context.Context, server Server, timeout time.Duration, kh *KnownHosts) (*Conn, error, bool) {
	addr := server.Addr()
	var jump *jumpConn
	if server.Route != nil && len(server.Route.Jumps) > 0 {
		var err error
		if jump, err = d.acquireJump(ctx, server.Route.Jumps, timeout, kh); err != nil {
			return nil, fmt.Errorf("unable to reach %s: %w", addr, err), transientSetup(err)
		}
	}
	tc, err, retry := d.connect(ctx, server, jump, timeout, kh, "")
	if err != nil {
		jump.release()
		return nil, err, retry
	}
	client := tc.client
	fail := func(format string, err error) (*Conn, error, bool) {
		client.Close()
		jump.release()
		if !tc.stop() && ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return nil, fmt.Errorf(format, addr, err), transientSetup(err)
	}
	ch, chReqs, err := client.OpenChannel("session", nil)
	if err != nil {
		return fail("failed to open SSH session on %s: %w", err)
	}
	go ssh.DiscardRequests(chReqs)
	// The shell request asks for no reply and the commands follow at once
	// (DECISIONS): waiting for the reply cost a round trip per server with
	// the connection slot held, and a packet each way. A server refuses a
	// shell only by ending the connection, which the session then reports.
	if _, err := ch.SendRequest("shell", false, nil); err != nil {
		return fail("shell request failed on %s: %w", err)
	}
	if !tc.stop() {
		client.Close()
		jump.release()
		return nil, fmt.Errorf("connection to %s aborted: %w", addr, abortReason(ctx)), ctx.Err() == nil
	}
	tc.conn.SetDeadline(time.Time{})
	// stderr is unused by DTail, but unread extended data would pile up.
	go io.Copy(io.Discard, ch.Stderr())
	return &Conn{server: server, client: client, ch: ch, jump: jump}, nil, false
}

// abortReason is why a guard closed a connection in setup: the run ended,
// or the timer of a tunnelled connection fired (a timeout, retried).
func abortReason(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return os.ErrDeadlineExceeded
}

// transport is a connection in setup: stop ends the guards (ctx and, for a
// tunnelled connection, the timer) and reports whether neither had closed
// it yet.
type transport struct {
	conn   net.Conn
	client *ssh.Client
	stop   func() bool
}

// connect opens the transport to server (TCP, or a channel through jump)
// and runs the SSH handshake with the server's user, signers and host key
// name. label prefixes the server in errors ("jump host "). Until stop is
// called, ctx and the timeout (a TCP deadline, or a timer for a channel,
// which has no deadlines) close the connection.
func (d *Dialer) connect(ctx context.Context, server Server, jump *jumpConn, timeout time.Duration, kh *KnownHosts, label string) (transport, error, bool) {
	addr := server.Addr()
	var conn net.Conn
	var timer *time.Timer
	if jump == nil {
		netDialer := net.Dialer{Timeout: timeout, KeepAlive: tcpKeepAlive}
		tcp, err := netDialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			// Refused: nothing listens right now (a restart). A TCP timeout
			// or no route means the host is not there; the caller learns
			// that after one connect timeout, as before.
			return transport{}, fmt.Errorf("failed to dial TCP connection to %s%s: %w", label, addr, err), errors.Is(err, syscall.ECONNREFUSED)
		}
		conn = tcp
		tcp.SetDeadline(time.Now().Add(timeout))
	} else {
		// A jump host that never answers the channel open must not hold
		// the dial beyond the connect timeout.
		openCtx, cancel := context.WithTimeout(ctx, timeout)
		ch, err := jump.client.DialContext(openCtx, "tcp", addr)
		cancel()
		if err != nil {
			// The jump host could not connect (refused, no route): its
			// reason cannot be told apart reliably, so it is not retried.
			return transport{}, fmt.Errorf("failed to dial TCP connection to %s%s through jump host %s: %w", label, addr, jump.client.RemoteAddr(), err), false
		}
		conn = tunnelConn{ch}
		timer = time.AfterFunc(timeout, func() { conn.Close() })
	}

	// Closing the transport is the only way to interrupt a handshake or a
	// pending channel open; stop() reports whether it already happened.
	stopCtx := context.AfterFunc(ctx, func() { conn.Close() })
	stop := func() bool {
		ok := stopCtx()
		if timer != nil && !timer.Stop() {
			ok = false
		}
		return ok
	}
	hostKeyCallback := ssh.InsecureIgnoreHostKey()
	if kh != nil {
		hostKeyCallback = kh.Callback()
	}
	user, signers := d.cfg.User, d.cfg.Signers
	if r := server.Route; r != nil {
		if r.User != "" {
			user = r.User
		}
		if r.Signers != nil {
			signers = r.Signers
		}
	}
	var auth []ssh.AuthMethod
	if len(signers) > 0 {
		auth = append(auth, ssh.PublicKeys(signers...))
	}
	if d.cfg.Password != "" {
		auth = append(auth, ssh.Password(d.cfg.Password))
	}
	sshConn, chans, reqs, err := ssh.NewClientConn(conn, hostKeyAddr(server), &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: hostKeyCallback,
	})
	if err != nil {
		conn.Close()
		if !stop() && ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return transport{}, fmt.Errorf("SSH handshake failed for %s%s: %w", label, addr, err), transientSetup(err)
	}
	return transport{conn: conn, client: ssh.NewClient(sshConn, chans, reqs), stop: stop}, nil, false
}

// transientSetup tells failures worth another attempt (the server closed
// the connection or did not answer in time: restart, MaxConnections, load)
// from those that would fail again (authentication, host keys, the run
// ending).
func transientSetup(err error) bool {
	var u *UnknownHostError
	var hk *HostKeyError
	switch {
	case errors.As(err, &u), errors.As(err, &hk),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case strings.Contains(err.Error(), "unable to authenticate"):
		return false
	}
	return true
}

// Conn is one DTail session: reads are the server's stream, writes go to the
// server.
type Conn struct {
	server    Server
	client    *ssh.Client
	ch        ssh.Channel
	release   func()
	jump      *jumpConn // the jump connection this one is tunnelled through
	closeOnce sync.Once
	closeErr  error
}

// Server is the server this connection was dialed for.
func (c *Conn) Server() Server { return c.server }

func (c *Conn) Read(p []byte) (int, error)  { return c.ch.Read(p) }
func (c *Conn) Write(p []byte) (int, error) { return c.ch.Write(p) }

// CloseWrite sends EOF to the server while still reading its output.
func (c *Conn) CloseWrite() error { return c.ch.CloseWrite() }

// Release gives the throttle slot back; call it once the session's commands
// are sent so other servers can start connecting. Safe to call repeatedly.
func (c *Conn) Release() {
	if c.release != nil {
		c.release()
	}
}

// Close ends the session and the SSH connection and releases the slot.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.Release()
		c.ch.Close()
		c.closeErr = c.client.Close()
		c.jump.release()
	})
	return c.closeErr
}
