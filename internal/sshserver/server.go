package sshserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// Server is dserver's SSH front end. Create it with New.
type Server struct {
	cfg     Config
	sshCfg  *ssh.ServerConfig
	hostKey ssh.Signer
	// healthCfg authenticates only DTAIL-HEALTH: it serves the few
	// connections admitted beyond MaxConnections, so monitoring still gets
	// an answer from a server whose slots are all taken.
	healthCfg *ssh.ServerConfig

	// keyFiles caches parsed authorized_keys files between logins.
	keyFiles keyFileCache
	// guesses throttles job password attempts per source address.
	guesses *guessThrottle

	mu       sync.Mutex
	stats    Stats
	overflow int
	// pending are the connections in the handshake, oldest first.
	pending   []*pendingConn
	perSource map[string]int
	// lastDrop is when the handshake pool was last full: a handshake
	// dropped or a connection refused (dtailhealth warns for a minute).
	lastDrop time.Time
}

// pendingConn is a connection in the SSH handshake.
type pendingConn struct {
	c       *countConn
	src     string
	start   time.Time
	dropped bool
}

// healthReserve is how many handshakes may run beyond MaxConnections, for
// DTAIL-HEALTH only.
const healthReserve = 2

// healthHandshakeTimeout bounds a reserved handshake: a client that is not
// the health check must not keep the reserve busy.
const healthHandshakeTimeout = 3 * time.Second

// New copies cfg, applies defaults, and loads or creates the host key. An
// existing but unreadable or unparsable host key is an error (fatal for
// dserver, spec §4.2).
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	signer, err := loadOrCreateHostKey(cfg.HostKeyFile, cfg.HostKeyBits, cfg.Logger)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, hostKey: signer, guesses: newGuessThrottle(nil)}
	sc := &ssh.ServerConfig{
		PublicKeyCallback:         s.publicKeyCallback,
		VerifiedPublicKeyCallback: s.verifiedPublicKeyCallback,
		PasswordCallback:          s.passwordCallback,
	}
	sc.KeyExchanges = cfg.KeyExchanges
	sc.Ciphers = cfg.Ciphers
	sc.MACs = cfg.MACs
	sc.AddHostKey(signer)
	s.sshCfg = sc
	hc := &ssh.ServerConfig{
		PasswordCallback: func(meta ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
			if reservedKind(meta.User()) != UserHealth {
				return nil, notAuthorized(meta)
			}
			return s.passwordCallback(meta, password)
		},
	}
	hc.KeyExchanges, hc.Ciphers, hc.MACs = cfg.KeyExchanges, cfg.Ciphers, cfg.MACs
	hc.AddHostKey(signer)
	s.healthCfg = hc
	return s, nil
}

// admitOverflow takes one of the reserved health handshakes.
func (s *Server) admitOverflow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.overflow >= healthReserve {
		return false
	}
	s.overflow++
	return true
}

func (s *Server) releaseOverflow() {
	s.mu.Lock()
	s.overflow--
	s.mu.Unlock()
}

// HostKey returns the public host key the server presents.
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey.PublicKey() }

// Stats returns a snapshot of the connection counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// update applies fn to the counters and reports the result outside the lock,
// so OnStatsChange may call back into Stats.
func (s *Server) update(fn func(*Stats)) {
	s.mu.Lock()
	fn(&s.stats)
	snap := s.stats
	s.mu.Unlock()
	if s.cfg.OnStatsChange != nil {
		s.cfg.OnStatsChange(snap)
	}
}

// Handshakes that may give way to a new connection: one that sent
// nothing for silentGrace (a real client sends its version line at once),
// or any older than half the handshake timeout.
const silentGrace = 500 * time.Millisecond

// refusal says why admit refused a connection.
type refusal int

const (
	admitted refusal = iota
	refusedFull
	refusedPreAuth
)

// admit counts a fresh TCP connection as pre-auth, or refuses it when
// every authenticated slot is taken (spec §4.4 counted handshakes too,
// which let anyone without a key lock everybody out). A full handshake
// pool (in total or for the source address) makes its oldest silent or
// stale handshake of that source, or of the busiest source, give way; only
// when every handshake is young and talking is the new one refused, as a
// burst of real clients would be, which retry.
func (s *Server) admit(c net.Conn) (*pendingConn, Stats, refusal) {
	src := sourceOf(c.RemoteAddr())
	now := time.Now()
	s.mu.Lock()
	st := s.stats
	if st.Current >= s.cfg.MaxConnections {
		s.mu.Unlock()
		return nil, st, refusedFull
	}
	if s.perSource == nil {
		s.perSource = map[string]int{}
	}
	var drop *pendingConn
	full := false
	switch {
	case s.perSource[src] >= s.cfg.MaxPreAuthPerSource:
		full = true
		drop = s.droppableLocked(now, func(p *pendingConn) bool { return p.src == src })
	case len(s.pending) >= s.cfg.MaxPreAuth:
		full = true
		// The busiest source with a droppable handshake gives way; a
		// source holding more than half the pool gives way to another
		// source even while its handshakes are young.
		var best, hog *pendingConn
		for _, p := range s.pending {
			if s.droppable(p, now) && (best == nil || s.perSource[p.src] > s.perSource[best.src]) {
				best = p
			}
			if hog == nil && p.src != src && 2*s.perSource[p.src] > s.cfg.MaxPreAuth {
				hog = p
			}
		}
		drop = best
		if drop == nil {
			drop = hog
		}
	}
	if full && drop == nil {
		s.lastDrop = now
		s.mu.Unlock()
		return nil, st, refusedPreAuth
	}
	if drop != nil {
		s.removeLocked(drop)
		drop.dropped = true
		s.lastDrop = now
	}
	cc := &countConn{Conn: c}
	p := &pendingConn{c: cc, src: src, start: now}
	s.pending = append(s.pending, p)
	s.perSource[src]++
	s.stats.PreAuth = len(s.pending)
	st = s.stats
	s.mu.Unlock()
	if drop != nil {
		s.cfg.Logger.Warn(drop.c.RemoteAddr().String(), "Dropping idle unauthenticated connection to admit a new one",
			"source", drop.src, "pre-auth", st.PreAuth)
		drop.c.Close()
	}
	if s.cfg.OnStatsChange != nil {
		s.cfg.OnStatsChange(st)
	}
	return p, st, admitted
}

func (s *Server) droppable(p *pendingConn, now time.Time) bool {
	age := now.Sub(p.start)
	if age >= s.cfg.HandshakeTimeout/2 {
		return true
	}
	// Silent: nothing read and nothing waiting to be read (a loaded
	// server may not have read a real client's first bytes yet).
	return age >= silentGrace && p.c.read.Load() == 0 && unreadBytes(p.c.Conn) == 0
}

// droppableLocked returns the oldest droppable handshake matching ok.
func (s *Server) droppableLocked(now time.Time, ok func(*pendingConn) bool) *pendingConn {
	for _, p := range s.pending {
		if ok(p) && s.droppable(p, now) {
			return p
		}
	}
	return nil
}

// countConn counts the bytes a client sent during the handshake.
type countConn struct {
	net.Conn
	read atomic.Int64
}

func (c *countConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.read.Add(int64(n))
	return n, err
}

func (s *Server) removeLocked(p *pendingConn) {
	for i, q := range s.pending {
		if q == p {
			s.pending = append(s.pending[:i:i], s.pending[i+1:]...)
			break
		}
	}
	if s.perSource[p.src]--; s.perSource[p.src] <= 0 {
		delete(s.perSource, p.src)
	}
	s.stats.PreAuth = len(s.pending)
}

// handshakeDone takes p out of the handshake pool; ok tells whether it
// authenticated. It reports false when the connection may not proceed
// (dropped meanwhile, or every authenticated slot taken).
func (s *Server) handshakeDone(p *pendingConn, ok bool) (admitted, dropped bool) {
	s.mu.Lock()
	if p.dropped {
		s.mu.Unlock()
		return false, true
	}
	s.removeLocked(p)
	admitted = ok && s.stats.Current < s.cfg.MaxConnections
	if admitted {
		s.stats.Current++
		s.stats.Lifetime++
	}
	snap := s.stats
	s.mu.Unlock()
	if s.cfg.OnStatsChange != nil {
		s.cfg.OnStatsChange(snap)
	}
	if ok && !admitted {
		s.cfg.Logger.Error(fmt.Sprintf("Exceeded max allowed concurrent connections of %d (current=%d, pre-auth=%d)",
			s.cfg.MaxConnections, snap.Current, snap.PreAuth))
	}
	return admitted, false
}

// sourceOf is the address a connection comes from, without its port.
func sourceOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// Saturation tells dtailhealth how close the server is to refusing
// users.
type Saturation struct {
	Current, MaxConnections int
	PreAuth, MaxPreAuth     int
	// RecentDrop: the handshake pool was full (a handshake dropped or a
	// connection refused) within the last minute.
	RecentDrop bool
}

// Saturation returns the current connection saturation.
func (s *Server) Saturation() Saturation {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	return Saturation{
		Current: s.stats.Current, MaxConnections: s.cfg.MaxConnections,
		PreAuth: s.stats.PreAuth, MaxPreAuth: s.cfg.MaxPreAuth,
		RecentDrop: !s.lastDrop.IsZero() && now.Sub(s.lastDrop) < time.Minute,
	}
}

// ListenAndServe listens on BindAddress:Port and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context) error {
	addr := net.JoinHostPort(s.cfg.BindAddress, strconv.Itoa(s.cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.cfg.Logger.Info("Binding server", addr)
	return s.Serve(ctx, ln)
}

// Serve accepts connections on ln until ctx is cancelled or Accept fails
// permanently. On return ln and every connection are closed and all handlers
// have returned. A cancelled ctx yields nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	stopListener := context.AfterFunc(ctx, func() { ln.Close() })
	var wg sync.WaitGroup
	defer func() {
		cancel()
		stopListener()
		ln.Close()
		wg.Wait()
	}()

	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				// Transient (EMFILE, ECONNABORTED, ...): back off instead of
				// spinning or giving up on the whole server.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
					return nil
				}
				continue
			}
			return err
		}
		backoff = 0
		p, st, why := s.admit(c)
		if why != admitted {
			if why == refusedFull {
				s.cfg.Logger.Error(fmt.Sprintf("Exceeded max allowed concurrent connections of %d (current=%d, pre-auth=%d)",
					s.cfg.MaxConnections, st.Current, st.PreAuth))
			} else {
				s.cfg.Logger.Warn(c.RemoteAddr().String(), "Refusing connection: too many unauthenticated connections", "pre-auth", st.PreAuth)
			}
			if !s.admitOverflow() {
				c.Close()
				continue
			}
			wg.Go(func() {
				defer s.releaseOverflow()
				s.handleHealthOverflow(ctx, c)
			})
			continue
		}
		wg.Go(func() { s.handleConn(ctx, p.c, p) })
	}
}

// handleHealthOverflow serves a connection beyond MaxConnections if, and
// only if, it authenticates as DTAIL-HEALTH.
func (s *Server) handleHealthOverflow(ctx context.Context, c net.Conn) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	c.SetDeadline(time.Now().Add(healthHandshakeTimeout))
	// Anyone but the health check is cut off at its first authentication
	// attempt, before the server answers it: an answer offering only
	// "password" reads as "unable to authenticate" to a key user's client,
	// a permanent failure, while a closed connection is what a full
	// server means (the client retries).
	cfg := *s.healthCfg
	cfg.AuthLogCallback = func(meta ssh.ConnMetadata, _ string, _ error) {
		if reservedKind(meta.User()) != UserHealth {
			c.Close()
		}
	}
	sconn, chans, reqs, err := ssh.NewServerConn(c, &cfg)
	if err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	s.serveConn(ctx, sconn, chans, reqs, true)
}

func (s *Server) handleConn(ctx context.Context, c net.Conn, p *pendingConn) {
	// Closing the raw connection tears down the handshake, the SSH mux and
	// with it every channel, which is all a server stop needs.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()

	c.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	sconn, chans, reqs, err := ssh.NewServerConn(c, s.sshCfg)
	if err != nil {
		if _, dropped := s.handshakeDone(p, false); !dropped {
			s.cfg.Logger.Warn(c.RemoteAddr().String(), "SSH handshake failed", err)
		}
		return
	}
	if ok, _ := s.handshakeDone(p, true); !ok {
		sconn.Close()
		return
	}
	c.SetDeadline(time.Time{})
	defer s.update(func(st *Stats) { st.Current-- })
	s.serveConn(ctx, sconn, chans, reqs, false)
}

// serveConn runs an authenticated connection's channels until it ends.
// reserved connections came in beyond MaxConnections (health only) and
// are not counted in Stats.
func (s *Server) serveConn(ctx context.Context, sconn *ssh.ServerConn, chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request, reserved bool) {
	kind, fromStore := kindFromPermissions(sconn.Permissions)
	prefix := sconn.User() + "@" + sconn.RemoteAddr().String()
	s.cfg.Logger.Info(prefix, "Handling connection")
	defer s.cfg.Logger.Info(prefix, "Good bye Mister!")

	connCtx, connCancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { ssh.DiscardRequests(reqs) })
	// An authenticated connection that never starts its session would
	// hold a MaxConnections slot for nothing.
	var started atomic.Bool
	noShell := time.AfterFunc(s.cfg.HandshakeTimeout, func() {
		if !started.Load() {
			s.cfg.Logger.Warn(prefix, "Closing connection that started no session")
			sconn.Close()
		}
	})
	defer noShell.Stop()

	sessionTaken := false
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.Prohibited, "only session channels are allowed")
			continue
		}
		if sessionTaken {
			nc.Reject(ssh.Prohibited, "only one session channel per connection")
			continue
		}
		if s.cfg.AcceptChannel != nil {
			if err := s.cfg.AcceptChannel(sconn.User(), kind); err != nil {
				s.cfg.Logger.Warn(prefix, "Rejecting channel", err)
				nc.Reject(ssh.Prohibited, err.Error())
				continue
			}
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			s.cfg.Logger.Warn(prefix, "Unable to accept channel", err)
			continue
		}
		sessionTaken = true
		sess := &Session{
			User:             sconn.User(),
			RemoteAddr:       sconn.RemoteAddr().String(),
			FromAuthKeyStore: fromStore,
			Key:              keyFromPermissions(sconn.Permissions),
			Job:              jobFromPermissions(sconn.Permissions),
			Kind:             kind,
			Reserved:         reserved,
			ch:               ch,
			conn:             sconn,
		}
		// Spawned here, before the wg.Wait below, so the request goroutine
		// can safely add the handler to wg while it still holds its own count.
		wg.Go(func() { s.serveRequests(connCtx, sconn, sess, chReqs, &wg, &started) })
	}
	// chans is closed: the connection is gone.
	connCancel()
	sconn.Close()
	wg.Wait()
}

// serveRequests enforces the channel-request policy of spec §3.1: exactly one
// `shell` request starts the handler; anything else ends the connection.
func (s *Server) serveRequests(ctx context.Context, sconn *ssh.ServerConn, sess *Session, reqs <-chan *ssh.Request, wg *sync.WaitGroup, shell *atomic.Bool) {
	started := false
	for req := range reqs {
		if req.Type == "shell" && !started {
			started = true
			shell.Store(true)
			req.Reply(true, nil)
			s.cfg.Logger.Info(sess.Prefix(), "Invoking channel handler")
			wg.Go(func() { s.runHandler(ctx, sconn, sess) })
			continue
		}
		s.cfg.Logger.Warn(sess.Prefix(), "Closing connection after unsupported channel request", req.Type)
		req.Reply(false, nil)
		sconn.Close()
	}
}

func (s *Server) runHandler(ctx context.Context, sconn *ssh.ServerConn, sess *Session) {
	defer sconn.Close()
	defer func() {
		if r := recover(); r != nil {
			s.cfg.Logger.Error(sess.Prefix(), "Panic in channel handler", fmt.Sprint(r), string(debug.Stack()))
		}
	}()
	if s.cfg.Handler != nil {
		s.cfg.Handler(ctx, sess)
	}
}
