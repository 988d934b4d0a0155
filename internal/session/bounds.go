package session

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dtail-go/dtail/internal/match"
)

// Defaults of the per-session bounds (docs/SECURITY.md, "Limits"). They
// keep one session from taking the memory every other session needs: a
// single command once made dserver allocate 64 GB up front.
const (
	// DefaultMaxContextLines bounds before= and after=; clients check it
	// before they send (a server may be configured otherwise).
	DefaultMaxContextLines = 100000
	// MaxMatchCount bounds max=: it costs no memory, but must fit the
	// 32-bit integers of DTail 4.x peers.
	MaxMatchCount = math.MaxInt32
	// DefaultMaxContextBytes bounds one file's before-context ring.
	DefaultMaxContextBytes = match.DefaultContextBytes
	// DefaultMaxSessionCommands bounds the read and map commands one
	// session runs at once.
	DefaultMaxSessionCommands = 1000
	// DefaultMaxSessionPatternBytes bounds the distinct regex and query
	// text of one session's running commands: a compiled RE2 program
	// costs up to ~400 bytes per pattern byte.
	DefaultMaxSessionPatternBytes = 64 << 10
	// DefaultMaxSessionMemory is the per-session budget for what a client
	// makes the server keep: running command text, patterns and
	// before-context rings.
	DefaultMaxSessionMemory = 256 << 20
	// DefaultIdleTimeout closes a session that runs nothing and sends
	// nothing; DefaultFirstCommandTimeout is the wait for the first command.
	DefaultIdleTimeout         = 300 * time.Second
	DefaultFirstCommandTimeout = 30 * time.Second
)

// maxPathPattern is Linux's PATH_MAX: a longer file pattern names nothing.
const maxPathPattern = 4096

// Bounds are the per-session limits. Zero values mean the defaults.
type Bounds struct {
	MaxContextLines     int
	MaxContextBytes     int64
	MaxCommands         int
	MaxPatternBytes     int
	MaxMemory           int64
	IdleTimeout         time.Duration
	FirstCommandTimeout time.Duration
}

func (b Bounds) withDefaults() Bounds {
	if b.MaxContextLines <= 0 {
		b.MaxContextLines = DefaultMaxContextLines
	}
	if b.MaxContextBytes <= 0 {
		b.MaxContextBytes = DefaultMaxContextBytes
	}
	if b.MaxCommands <= 0 {
		b.MaxCommands = DefaultMaxSessionCommands
	}
	if b.MaxPatternBytes <= 0 {
		b.MaxPatternBytes = DefaultMaxSessionPatternBytes
	}
	if b.MaxMemory <= 0 {
		b.MaxMemory = DefaultMaxSessionMemory
	}
	if b.IdleTimeout <= 0 {
		b.IdleTimeout = DefaultIdleTimeout
	}
	if b.FirstCommandTimeout <= 0 {
		b.FirstCommandTimeout = min(DefaultFirstCommandTimeout, b.IdleTimeout)
	}
	return b
}

// CheckContext validates before/after/max against the limits; the error
// is one line naming the option.
func CheckContext(before, after, max, maxLines int) error {
	if maxLines <= 0 {
		maxLines = DefaultMaxContextLines
	}
	for _, o := range []struct {
		name string
		v    int
	}{{"before", before}, {"after", after}} {
		if o.v > maxLines {
			return fmt.Errorf("%s=%d exceeds the limit of %d lines", o.name, o.v, maxLines)
		}
	}
	if max > MaxMatchCount {
		return fmt.Errorf("max=%d exceeds the limit of %d", max, MaxMatchCount)
	}
	return nil
}

// account is what one connection's sessions (including interactive
// generations, which share it) hold against their bounds.
type account struct {
	b      Bounds
	mem    atomic.Int64
	exceed func(need int64) // ends the session; set by Serve

	mu        sync.Mutex
	running   int
	patterns  map[string]int // distinct pattern text → running commands using it
	patBytes  int
	matchers  map[string]*match.Matcher
	lastFrame time.Time
	over      bool
}

func newAccount(b Bounds) *account {
	return &account{b: b.withDefaults(), patterns: map[string]int{}, matchers: map[string]*match.Matcher{}}
}

// reserve takes n bytes of the memory budget; false (and the session
// ends) when the budget is spent.
func (a *account) reserve(n int64) bool {
	if a.mem.Add(n) <= a.b.MaxMemory {
		return true
	}
	a.mem.Add(-n)
	a.mu.Lock()
	first := !a.over
	a.over = true
	f := a.exceed
	a.mu.Unlock()
	if first && f != nil {
		f(n)
	}
	return false
}

func (a *account) release(n int64) { a.mem.Add(-n) }

// errLimit is a command refused by a session bound.
type errLimit struct{ msg string }

func (e *errLimit) Error() string { return e.msg }

// admit counts a command of size bytes using pattern; the returned func
// gives everything back when the command ended.
func (a *account) admit(size int, pattern string) (func(), error) {
	a.mu.Lock()
	if a.running >= a.b.MaxCommands {
		a.mu.Unlock()
		return nil, &errLimit{fmt.Sprintf("too many commands running in this session (limit %d, MaxSessionCommands)", a.b.MaxCommands)}
	}
	if pattern != "" && a.patterns[pattern] == 0 && a.patBytes+len(pattern) > a.b.MaxPatternBytes {
		a.mu.Unlock()
		return nil, &errLimit{fmt.Sprintf("regex and query text of this session exceeds %d bytes (MaxSessionPatternBytes)", a.b.MaxPatternBytes)}
	}
	a.mu.Unlock()
	cost := int64(size + len(pattern))
	if !a.reserve(cost) {
		return nil, &errLimit{"session memory budget exceeded"}
	}
	a.mu.Lock()
	a.running++
	if pattern != "" {
		if a.patterns[pattern] == 0 {
			a.patBytes += len(pattern)
		}
		a.patterns[pattern]++
	}
	a.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			a.release(cost)
			a.mu.Lock()
			defer a.mu.Unlock()
			a.running--
			if pattern != "" {
				if a.patterns[pattern]--; a.patterns[pattern] <= 0 {
					delete(a.patterns, pattern)
					delete(a.matchers, pattern)
					a.patBytes -= len(pattern)
				}
			}
		})
	}, nil
}

// matcher returns the session's compiled matcher for key, compiling it
// once: 1,000 commands with one regex cost one compiled program.
func (a *account) matcher(key string, compile func() (*match.Matcher, error)) (*match.Matcher, error) {
	a.mu.Lock()
	m := a.matchers[key]
	a.mu.Unlock()
	if m != nil {
		return m, nil
	}
	m, err := compile()
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if a.patterns[key] > 0 {
		a.matchers[key] = m
	}
	a.mu.Unlock()
	return m, nil
}

func (a *account) busy() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.running > 0
}

// boundWindow makes a grep window's ring count against the session.
func (s *Session) boundWindow(w *match.Window) {
	w.MaxBytes = s.acct.b.MaxContextBytes
	w.Reserve = s.acct.reserve
	w.Release = s.acct.release
}
