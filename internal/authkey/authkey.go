// Package authkey is dserver's in-memory store of public keys registered by
// clients with the AUTHKEY command (spec §3.10, §4.3). A registered key lets
// the next connection of the same user authenticate without a signature from
// a slow device (agent, hardware token). Each entry remembers the authorized
// key that authenticated the registering session, so the server can refuse
// the fast path as soon as that key leaves the user's authorized keys
// (revocation). Entries live only in memory: a server restart forgets them
// on purpose, and nothing is ever written to disk.
package authkey

import (
	"bytes"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

const (
	// DefaultTTL applies when New is given a TTL ≤ 0 (AuthKeyTTLSeconds).
	DefaultTTL = 24 * time.Hour
	// DefaultMaxPerUser applies when New is given a limit ≤ 0 (AuthKeyMaxPerUser).
	DefaultMaxPerUser = 5
)

type entry struct {
	wire         []byte
	authorizedBy []byte
	registeredAt time.Time
}

// Store maps a user name to the keys that user registered, oldest first.
// The zero value is not usable; create one with New or NewWithClock.
// All methods are safe for concurrent use.
type Store struct {
	ttl        time.Duration
	maxPerUser int
	now        func() time.Time

	mu    sync.Mutex
	users map[string][]entry
}

// New returns an empty store using the wall clock.
func New(ttl time.Duration, maxPerUser int) *Store {
	return NewWithClock(ttl, maxPerUser, nil)
}

// NewWithClock is New with an injectable clock so expiry can be tested
// without sleeping; a nil now means time.Now.
func NewWithClock(ttl time.Duration, maxPerUser int, now func() time.Time) *Store {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if maxPerUser <= 0 {
		maxPerUser = DefaultMaxPerUser
	}
	if now == nil {
		now = time.Now
	}
	return &Store{ttl: ttl, maxPerUser: maxPerUser, now: now, users: make(map[string][]entry)}
}

// TTL reports the effective key lifetime after defaulting.
func (s *Store) TTL() time.Duration { return s.ttl }

// MaxPerUser reports the effective per-user limit after defaulting.
func (s *Store) MaxPerUser() int { return s.maxPerUser }

// Add registers key for user; authorizedBy is the authorized key that
// authenticated the registering session. Re-adding a known key refreshes its
// timestamp and moves it to the newest position; beyond MaxPerUser the oldest
// keys are dropped. Callers must only register from sessions authenticated
// by a real authorized key, never from one the store itself let in, or the
// TTL would restart on every fast-path login.
func (s *Store) Add(user string, key, authorizedBy ssh.PublicKey) {
	if key == nil || authorizedBy == nil {
		return
	}
	wire := key.Marshal()
	by := authorizedBy.Marshal()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.pruneAllLocked(now)
	old := s.users[user]
	kept := make([]entry, 0, len(old)+1)
	for _, e := range old {
		if !bytes.Equal(e.wire, wire) {
			kept = append(kept, e)
		}
	}
	kept = append(kept, entry{wire: wire, authorizedBy: by, registeredAt: now})
	if n := len(kept) - s.maxPerUser; n > 0 {
		kept = kept[n:]
	}
	s.users[user] = kept
}

// Has reports whether key is registered for user and not yet expired.
func (s *Store) Has(user string, key ssh.PublicKey) bool {
	_, ok := s.Lookup(user, key)
	return ok
}

// Lookup returns the wire form of the authorized key that authenticated the
// session which registered key for user, and whether key is registered and
// not yet expired. A lookup never refreshes the entry.
func (s *Store) Lookup(user string, key ssh.PublicKey) (authorizedBy []byte, ok bool) {
	if key == nil {
		return nil, false
	}
	wire := key.Marshal()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneAllLocked(s.now())
	for _, e := range s.users[user] {
		if bytes.Equal(e.wire, wire) {
			return e.authorizedBy, true
		}
	}
	return nil, false
}

// Len reports how many unexpired keys user has; mainly for tests and stats.
func (s *Store) Len(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneAllLocked(s.now())
	return len(s.users[user])
}

// pruneAllLocked drops expired entries of every user, not only the one being
// accessed, so that users who never come back do not pin memory forever. The
// store holds at most MaxPerUser small entries per user, so a full sweep is
// cheap compared to an SSH handshake.
func (s *Store) pruneAllLocked(now time.Time) {
	for user, list := range s.users {
		// Filter rather than cut a prefix: a clock that steps backwards could
		// leave an expired entry behind a fresh one.
		kept := list[:0:0]
		for _, e := range list {
			if !s.expired(e, now) {
				kept = append(kept, e)
			}
		}
		switch {
		case len(kept) == 0:
			delete(s.users, user)
		case len(kept) < len(list):
			s.users[user] = kept
		}
	}
}

// expired treats an entry as gone once its age reaches the TTL.
func (s *Store) expired(e entry, now time.Time) bool {
	return now.Sub(e.registeredAt) >= s.ttl
}
