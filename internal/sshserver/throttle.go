package sshserver

import (
	"net"
	"sync"
	"time"
)

// Job password guessing: DTAIL-SCHEDULE/DTAIL-CONTINUOUS passwords are job
// names (spec 4.3), short and guessable, so every failed attempt from a
// source address doubles how long that address must wait before its next
// attempt is even compared. Attempts during the wait are refused unseen, so
// hammering gains nothing. Unthrottled, 1,668 guesses/s found a name in
// 1.8 s.
const (
	guessBaseDelay = 250 * time.Millisecond
	guessMaxDelay  = time.Minute
	// guessForget drops an address's record after this long without a
	// failure, so a legitimate client that once mistyped is not punished
	// forever.
	guessForget = 10 * time.Minute
	// maxGuessSources bounds the table; past it records older than the
	// longest delay are dropped, and if that frees nothing every address
	// waits the longest delay (a flood of sources must not grow memory
	// or escape throttling).
	maxGuessSources = 65536
)

// guessSource is the throttling key of a client address. Every loopback
// address is one source (a local user can bind any of 127.0.0.0/8 and
// would otherwise get a fresh budget per address), and an IPv6 client is
// its /64 (one host usually holds a whole /64).
func guessSource(ip net.IP) string {
	switch {
	case ip == nil:
		return "unknown"
	case ip.IsLoopback():
		return "loopback"
	case ip.To4() != nil:
		return ip.To4().String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

type guessRecord struct {
	fails     int
	lastFail  time.Time
	nextAllow time.Time
}

type guessThrottle struct {
	now func() time.Time

	mu      sync.Mutex
	sources map[string]*guessRecord
	// saturated is set while the table is full: every source then waits
	// the longest delay after any failure.
	saturatedUntil time.Time
}

func newGuessThrottle(now func() time.Time) *guessThrottle {
	if now == nil {
		now = time.Now
	}
	return &guessThrottle{now: now, sources: make(map[string]*guessRecord)}
}

// allow reports whether an attempt from src may be compared now, and if
// not, how long src still has to wait.
func (g *guessThrottle) allow(src string) (bool, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if now.Before(g.saturatedUntil) {
		return false, g.saturatedUntil.Sub(now)
	}
	r := g.sources[src]
	if r == nil || !now.Before(r.nextAllow) {
		return true, 0
	}
	return false, r.nextAllow.Sub(now)
}

// fail records a failed attempt from src and returns the new delay.
func (g *guessThrottle) fail(src string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	r := g.sources[src]
	if r != nil && now.Sub(r.lastFail) > guessForget {
		r = nil
	}
	if r == nil {
		if len(g.sources) >= maxGuessSources {
			g.pruneLocked(now)
		}
		if len(g.sources) >= maxGuessSources {
			g.saturatedUntil = now.Add(guessMaxDelay)
			return guessMaxDelay
		}
		r = &guessRecord{}
		g.sources[src] = r
	}
	r.fails++
	d := guessBaseDelay << min(r.fails-1, 20)
	d = min(d, guessMaxDelay)
	r.lastFail, r.nextAllow = now, now.Add(d)
	return d
}

// succeed forgets src's failures.
func (g *guessThrottle) succeed(src string) {
	g.mu.Lock()
	delete(g.sources, src)
	g.mu.Unlock()
}

func (g *guessThrottle) pruneLocked(now time.Time) {
	for src, r := range g.sources {
		if now.Sub(r.lastFail) > guessMaxDelay {
			delete(g.sources, src)
		}
	}
}
