package sshserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
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

// admit counts a fresh TCP connection as pre-auth, or refuses it when the
// limit of spec §4.4 is reached.
func (s *Server) admit() (Stats, bool) {
	s.mu.Lock()
	st := s.stats
	ok := st.Current+st.PreAuth < s.cfg.MaxConnections
	if ok {
		s.stats.PreAuth++
		st = s.stats
	}
	s.mu.Unlock()
	if ok && s.cfg.OnStatsChange != nil {
		s.cfg.OnStatsChange(st)
	}
	return st, ok
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
		if st, ok := s.admit(); !ok {
			s.cfg.Logger.Error(fmt.Sprintf("Exceeded max allowed concurrent connections of %d (current=%d, pre-auth=%d)",
				s.cfg.MaxConnections, st.Current, st.PreAuth))
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
		wg.Go(func() { s.handleConn(ctx, c) })
	}
}

// handleHealthOverflow serves a connection beyond MaxConnections if, and
// only if, it authenticates as DTAIL-HEALTH.
func (s *Server) handleHealthOverflow(ctx context.Context, c net.Conn) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	c.SetDeadline(time.Now().Add(healthHandshakeTimeout))
	sconn, chans, reqs, err := ssh.NewServerConn(c, s.healthCfg)
	if err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	s.serveConn(ctx, sconn, chans, reqs)
}

func (s *Server) handleConn(ctx context.Context, c net.Conn) {
	// Closing the raw connection tears down the handshake, the SSH mux and
	// with it every channel, which is all a server stop needs.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()

	c.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	sconn, chans, reqs, err := ssh.NewServerConn(c, s.sshCfg)
	if err != nil {
		s.update(func(st *Stats) { st.PreAuth-- })
		s.cfg.Logger.Warn(c.RemoteAddr().String(), "SSH handshake failed", err)
		return
	}
	c.SetDeadline(time.Time{})
	s.update(func(st *Stats) { st.PreAuth--; st.Current++; st.Lifetime++ })
	defer s.update(func(st *Stats) { st.Current-- })
	s.serveConn(ctx, sconn, chans, reqs)
}

// serveConn runs an authenticated connection's channels until it ends.
func (s *Server) serveConn(ctx context.Context, sconn *ssh.ServerConn, chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request) {
	kind, fromStore := kindFromPermissions(sconn.Permissions)
	prefix := sconn.User() + "@" + sconn.RemoteAddr().String()
	s.cfg.Logger.Info(prefix, "Handling connection")
	defer s.cfg.Logger.Info(prefix, "Good bye Mister!")

	connCtx, connCancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { ssh.DiscardRequests(reqs) })

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
			ch:               ch,
			conn:             sconn,
		}
		// Spawned here, before the wg.Wait below, so the request goroutine
		// can safely add the handler to wg while it still holds its own count.
		wg.Go(func() { s.serveRequests(connCtx, sconn, sess, chReqs, &wg) })
	}
	// chans is closed: the connection is gone.
	connCancel()
	sconn.Close()
	wg.Wait()
}

// serveRequests enforces the channel-request policy of spec §3.1: exactly one
// `shell` request starts the handler; anything else ends the connection.
func (s *Server) serveRequests(ctx context.Context, sconn *ssh.ServerConn, sess *Session, reqs <-chan *ssh.Request, wg *sync.WaitGroup) {
	started := false
	for req := range reqs {
		if req.Type == "shell" && !started {
			started = true
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
