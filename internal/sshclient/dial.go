package sshclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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
}

// NewDialer validates cfg and sizes the throttle.
func NewDialer(cfg DialerConfig) (*Dialer, error) {
	if cfg.User == "" {
		return nil, errors.New("no SSH user name given")
	}
	if len(cfg.Signers) == 0 && cfg.Password == "" {
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
	return &Dialer{cfg: cfg, throttle: make(chan struct{}, cfg.ConnectionsPerCPU*runtime.NumCPU())}, nil
}

// ThrottleSize is the number of connections that may be in setup at once.
func (d *Dialer) ThrottleSize() int { return cap(d.throttle) }

// Dial waits for a throttle slot, connects, authenticates, opens one
// "session" channel and sends exactly one "shell" request (want-reply, no
// pty, no env: the DTail server kills the connection on any other request).
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
	decided := false
	for attempt := 1; ; attempt++ {
		conn, err, retry := d.attempt(ctx, server, timeout, kh, slot)
		slot = nil
		if err == nil {
			return conn, nil
		}
		var u *UnknownHostError
		if !decided && kh != nil && errors.As(err, &u) {
			if err := kh.Decide(ctx, u); err != nil {
				return nil, fmt.Errorf("SSH handshake failed for %s: %w", server.Addr(), err)
			}
			decided = true
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
	if kh != nil {
		// Counted from before the slot wait: the batched question waits
		// until every dial of the wave has seen its host key.
		kh.dialStarted()
		if slot != nil {
			kh.expected.Add(-1)
		}
		defer kh.dialEnded()
	}
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
	netDialer := net.Dialer{Timeout: timeout, KeepAlive: tcpKeepAlive}
	tcp, err := netDialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		// Refused: nothing listens right now (a restart). A TCP timeout
		// or no route means the host is not there; the caller learns
		// that after one connect timeout, as before.
		return nil, fmt.Errorf("failed to dial TCP connection to %s: %w", addr, err), errors.Is(err, syscall.ECONNREFUSED)
	}

	// Closing the socket is the only way to interrupt a handshake or a
	// pending channel open; stop() reports whether it already happened.
	stop := context.AfterFunc(ctx, func() { tcp.Close() })
	fail := func(format string, err error) (*Conn, error, bool) {
		tcp.Close()
		if !stop() && ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return nil, fmt.Errorf(format, addr, err), transientSetup(err)
	}

	tcp.SetDeadline(time.Now().Add(timeout))
	hostKeyCallback := ssh.InsecureIgnoreHostKey()
	if kh != nil {
		hostKeyCallback = kh.Callback()
	}
	var auth []ssh.AuthMethod
	if len(d.cfg.Signers) > 0 {
		auth = append(auth, ssh.PublicKeys(d.cfg.Signers...))
	}
	if d.cfg.Password != "" {
		auth = append(auth, ssh.Password(d.cfg.Password))
	}
	sshConn, chans, reqs, err := ssh.NewClientConn(tcp, addr, &ssh.ClientConfig{
		User:            d.cfg.User,
		Auth:            auth,
		HostKeyCallback: hostKeyCallback,
	})
	if err != nil {
		return fail("SSH handshake failed for %s: %w", err)
	}
	client := ssh.NewClient(sshConn, chans, reqs)

	ch, chReqs, err := client.OpenChannel("session", nil)
	if err != nil {
		client.Close()
		return fail("failed to open SSH session on %s: %w", err)
	}
	go ssh.DiscardRequests(chReqs)
	ok, err := ch.SendRequest("shell", true, nil)
	if err == nil && !ok {
		err = errors.New("request refused")
	}
	if err != nil {
		client.Close()
		return fail("shell request failed on %s: %w", err)
	}
	if !stop() {
		client.Close()
		return nil, fmt.Errorf("connection to %s aborted: %w", addr, ctx.Err()), false
	}
	tcp.SetDeadline(time.Time{})
	// stderr is unused by DTail, but unread extended data would pile up.
	go io.Copy(io.Discard, ch.Stderr())
	return &Conn{server: server, client: client, ch: ch}, nil, false
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
	})
	return c.closeErr
}
