package sshclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
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
}

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
func (d *Dialer) Dial(ctx context.Context, server Server) (*Conn, error) {
	select {
	case d.throttle <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a connection slot for %s: %w", server.Addr(), ctx.Err())
	}
	var once sync.Once
	release := func() { once.Do(func() { <-d.throttle }) }

	conn, err := d.dial(ctx, server)
	if err != nil {
		release()
		return nil, err
	}
	conn.release = release
	return conn, nil
}

func (d *Dialer) dial(ctx context.Context, server Server) (*Conn, error) {
	addr := server.Addr()
	timeout := d.cfg.ConnectTimeout
	netDialer := net.Dialer{Timeout: timeout, KeepAlive: tcpKeepAlive}
	tcp, err := netDialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("failed to dial TCP connection to %s: %w", addr, err)
	}

	// Closing the socket is the only way to interrupt a handshake or a
	// pending channel open; stop() reports whether it already happened.
	stop := context.AfterFunc(ctx, func() { tcp.Close() })
	fail := func(format string, err error) (*Conn, error) {
		tcp.Close()
		if !stop() && ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return nil, fmt.Errorf(format, addr, err)
	}

	deadline := func() { tcp.SetDeadline(time.Now().Add(timeout)) }
	deadline()
	hostKeyCallback := ssh.InsecureIgnoreHostKey()
	if !d.cfg.InsecureIgnoreHostKey {
		check := d.cfg.KnownHosts.Callback(ctx)
		hostKeyCallback = func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			// A human may be answering; the connect timeout restarts
			// afterwards rather than expiring mid-question.
			tcp.SetDeadline(time.Time{})
			defer deadline()
			return check(hostname, remote, key)
		}
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
		return nil, fmt.Errorf("connection to %s aborted: %w", addr, ctx.Err())
	}
	tcp.SetDeadline(time.Time{})
	// stderr is unused by DTail, but unread extended data would pile up.
	go io.Copy(io.Discard, ch.Stderr())
	return &Conn{server: server, client: client, ch: ch}, nil
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
