package sshclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Route is how a server is reached when the user's SSH configuration says
// more than its name (HostName, User, IdentityFile, HostKeyAlias,
// ProxyJump). A nil Route means the Dialer's user and signers, a direct TCP
// connection and known_hosts entries under host:port.
type Route struct {
	// User replaces DialerConfig.User when not empty.
	User string
	// Signers replace DialerConfig.Signers when not nil (the complete
	// ordered list to offer).
	Signers []ssh.Signer
	// HostKeyName replaces Host in the known_hosts name (HostKeyAlias).
	HostKeyName string
	// Jumps are the ProxyJump hops, first hop first. Each hop's own Route
	// gives its user, signers and host key name; its Jumps are ignored
	// (the chain is already flat).
	Jumps []Server
}

// maxChannelsPerJump (the default of DialerConfig.ChannelsPerJump) bounds
// the connections tunnelled through one jump
// connection: a bastion's sshd spends a socket (a file descriptor) per
// channel, and 10,000 targets behind one bastion would exhaust its
// descriptors; beyond the bound another jump connection is opened.
const maxChannelsPerJump = 256

// hostKeyAddr is the name the server's host key is looked up under, as
// OpenSSH does: HostKeyAlias (with the port) when set, else host:port.
func hostKeyAddr(s Server) string {
	if s.Route != nil && s.Route.HostKeyName != "" {
		return net.JoinHostPort(s.Route.HostKeyName, strconv.Itoa(s.Port))
	}
	return s.Addr()
}

// jumpPool shares jump connections between all targets behind the same
// chain of hops, opening each hop once per maxChannelsPerJump targets.
type jumpPool struct {
	mu       sync.Mutex
	conns    map[string][]*jumpConn
	inflight map[string]*jumpFlight
	closed   bool
	watchers sync.WaitGroup // one watch per jump connection, ended by close
}

type jumpConn struct {
	pool   *jumpPool
	key    string
	client *ssh.Client
	parent *jumpConn // the hop before, held while this one lives
	users  int       // guarded by pool.mu
	dead   bool      // guarded by pool.mu
}

type jumpFlight struct {
	done chan struct{}
	err  error
}

func chainKey(hops []Server) string {
	var b strings.Builder
	for _, h := range hops {
		user := ""
		if h.Route != nil {
			user = h.Route.User
		}
		fmt.Fprintf(&b, "%s@%s/%s,", user, h.Addr(), hostKeyAddr(h))
	}
	return b.String()
}

// acquireJump returns a live connection to the last hop of hops with one
// channel reserved for the caller (release it with jumpConn.release).
// Concurrent callers for the same chain wait for one dial instead of
// each opening the hop.
func (d *Dialer) acquireJump(ctx context.Context, hops []Server, timeout time.Duration, kh *KnownHosts) (*jumpConn, error) {
	p := d.jumps
	key := chainKey(hops)
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errors.New("dialer closed")
		}
		for _, c := range p.conns[key] {
			if !c.dead && c.users < d.cfg.ChannelsPerJump {
				c.users++
				p.mu.Unlock()
				return c, nil
			}
		}
		if f := p.inflight[key]; f != nil {
			p.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if f.err != nil {
				// The same error for every waiter: an unknown host key
				// is then asked about once (Decide merges the waiters).
				return nil, f.err
			}
			continue
		}
		f := &jumpFlight{done: make(chan struct{})}
		p.inflight[key] = f
		p.mu.Unlock()

		c, err := d.dialJump(ctx, hops, key, timeout, kh)
		p.mu.Lock()
		delete(p.inflight, key)
		f.err = err
		close(f.done)
		if err != nil {
			p.mu.Unlock()
			return nil, err
		}
		if p.closed {
			p.mu.Unlock()
			c.client.Close()
			c.parent.release()
			return nil, errors.New("dialer closed")
		}
		c.users = 1
		p.conns[key] = append(p.conns[key], c)
		// Started under mu: close, which sets closed under mu, then
		// waits for every watch it could have missed.
		p.watchers.Go(c.watch)
		p.mu.Unlock()
		return c, nil
	}
}

// dialJump connects to the last hop, through the hops before it.
func (d *Dialer) dialJump(ctx context.Context, hops []Server, key string, timeout time.Duration, kh *KnownHosts) (*jumpConn, error) {
	hop := hops[len(hops)-1]
	var parent *jumpConn
	if len(hops) > 1 {
		var err error
		if parent, err = d.acquireJump(ctx, hops[:len(hops)-1], timeout, kh); err != nil {
			return nil, err
		}
	}
	tc, err, _ := d.connect(ctx, hop, parent, timeout, kh, "jump host ")
	if err != nil {
		parent.release()
		return nil, err
	}
	if !tc.stop() {
		tc.client.Close()
		parent.release()
		return nil, fmt.Errorf("connection to jump host %s aborted: %w", hop.Addr(), abortReason(ctx))
	}
	tc.conn.SetDeadline(time.Time{})
	return &jumpConn{pool: d.jumps, key: key, client: tc.client, parent: parent}, nil
}

// watch marks the connection dead when the hop goes away, so that the
// next target dials it again instead of failing on a closed connection.
func (c *jumpConn) watch() {
	c.client.Wait()
	c.pool.mu.Lock()
	c.dead = true
	list := c.pool.conns[c.key]
	for i, x := range list {
		if x == c {
			c.pool.conns[c.key] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	c.pool.mu.Unlock()
	c.parent.release()
}

// release gives one channel back. The connection stays open for later
// targets and reconnects until the Dialer is closed.
func (c *jumpConn) release() {
	if c == nil {
		return
	}
	c.pool.mu.Lock()
	c.users--
	c.pool.mu.Unlock()
}

// close ends every jump connection (Dialer.Close).
func (p *jumpPool) close() {
	p.mu.Lock()
	p.closed = true
	var all []*jumpConn
	for _, list := range p.conns {
		all = append(all, list...)
	}
	p.conns = map[string][]*jumpConn{}
	p.mu.Unlock()
	// Closing the last hops first ends the channels through the earlier
	// ones cleanly; the order does not matter for correctness.
	for i := len(all) - 1; i >= 0; i-- {
		all[i].client.Close()
	}
	p.watchers.Wait()
}

// tunnelConn is a connection forwarded through a jump host: it has no
// peer address of its own (the hop dialled it), so host keys are checked
// and recorded under the host name only, as OpenSSH does behind a proxy.
type tunnelConn struct{ net.Conn }

func (tunnelConn) RemoteAddr() net.Addr { return nil }
