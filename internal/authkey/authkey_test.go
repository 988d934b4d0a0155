package authkey

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDefaults(t *testing.T) {
	s := New(0, -1)
	if s.TTL() != DefaultTTL || s.MaxPerUser() != DefaultMaxPerUser {
		t.Fatalf("got ttl=%v max=%d", s.TTL(), s.MaxPerUser())
	}
}

func TestTTLExpiry(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_000_000, 0)}
	s := NewWithClock(time.Hour, 5, clk.now)
	k := newKey(t)
	s.Add("alice", k, k)
	if !s.Has("alice", k) {
		t.Fatal("fresh key not found")
	}
	clk.advance(59 * time.Minute)
	if !s.Has("alice", k) {
		t.Fatal("key expired too early")
	}
	clk.advance(time.Minute)
	if s.Has("alice", k) {
		t.Fatal("key still valid at TTL")
	}
	if s.Len("alice") != 0 {
		t.Fatal("expired entry not pruned")
	}
}

func TestReAddRefreshes(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_000_000, 0)}
	s := NewWithClock(time.Hour, 5, clk.now)
	k := newKey(t)
	s.Add("alice", k, k)
	clk.advance(50 * time.Minute)
	s.Add("alice", k, k)
	if s.Len("alice") != 1 {
		t.Fatalf("duplicate kept: %d", s.Len("alice"))
	}
	clk.advance(50 * time.Minute)
	if !s.Has("alice", k) {
		t.Fatal("re-added key should have a fresh timestamp")
	}
}

func TestEvictionKeepsNewest(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_000_000, 0)}
	s := NewWithClock(time.Hour, 3, clk.now)
	keys := make([]ssh.PublicKey, 5)
	for i := range keys {
		keys[i] = newKey(t)
		s.Add("bob", keys[i], keys[i])
		clk.advance(time.Second)
	}
	if s.Len("bob") != 3 {
		t.Fatalf("len=%d", s.Len("bob"))
	}
	for i, k := range keys {
		if want := i >= 2; s.Has("bob", k) != want {
			t.Errorf("key %d: has=%v want %v", i, !want, want)
		}
	}
	// Re-adding the oldest surviving key protects it from the next eviction.
	s.Add("bob", keys[2], keys[2])
	s.Add("bob", newKey(t), newKey(t))
	if !s.Has("bob", keys[2]) || s.Has("bob", keys[3]) {
		t.Fatal("re-add did not move key to newest position")
	}
}

func TestPerUserIsolation(t *testing.T) {
	s := New(time.Hour, 5)
	ka, kb := newKey(t), newKey(t)
	s.Add("alice", ka, ka)
	s.Add("bob", kb, kb)
	if s.Has("alice", kb) || s.Has("bob", ka) {
		t.Fatal("keys leak between users")
	}
	if !s.Has("alice", ka) || !s.Has("bob", kb) {
		t.Fatal("own keys missing")
	}
	if s.Has("carol", ka) {
		t.Fatal("unknown user authorized")
	}
}

func TestNilKey(t *testing.T) {
	s := New(time.Hour, 5)
	s.Add("alice", nil, nil)
	if s.Has("alice", nil) || s.Len("alice") != 0 {
		t.Fatal("nil key handled wrongly")
	}
}

func TestPruneOtherUsers(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_000_000, 0)}
	s := NewWithClock(time.Minute, 5, clk.now)
	s.Add("gone", newKey(t), newKey(t))
	clk.advance(2 * time.Minute)
	s.Add("alice", newKey(t), newKey(t))
	s.mu.Lock()
	_, present := s.users["gone"]
	s.mu.Unlock()
	if present {
		t.Fatal("expired user entries kept in memory")
	}
}

func TestConcurrent(t *testing.T) {
	s := New(time.Hour, 3)
	// Keys are made up front: t.Fatal must not run on a worker goroutine.
	keys := make([]ssh.PublicKey, 8*20)
	for i := range keys {
		keys[i] = newKey(t)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			user := fmt.Sprintf("u%d", i%3)
			for j := range 20 {
				k := keys[i*20+j]
				s.Add(user, k, k)
				s.Has(user, k)
			}
		})
	}
	wg.Wait()
	for i := range 3 {
		if n := s.Len(fmt.Sprintf("u%d", i)); n != 3 {
			t.Errorf("u%d has %d keys", i, n)
		}
	}
}

// The fast path must not extend a key's life: only Add does, and the
// server only calls Add from sessions a real authorized key let in.
func TestLookupReturnsAuthorizerAndNeverRefreshes(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_000_000, 0)}
	s := NewWithClock(time.Hour, 5, clk.now)
	k, by := newKey(t), newKey(t)
	s.Add("alice", k, by)
	for range 5 {
		clk.advance(15 * time.Minute)
		got, ok := s.Lookup("alice", k)
		if clk.t.Sub(time.Unix(1_000_000, 0)) >= time.Hour {
			if ok {
				t.Fatal("lookups kept the key alive past its TTL")
			}
			continue
		}
		if !ok || !bytes.Equal(got, by.Marshal()) {
			t.Fatalf("lookup = %v, %v; want the registering session's key", got, ok)
		}
	}
	s.Add("alice", k, nil)
	if s.Has("alice", k) {
		t.Fatal("a key without its authorizing key was stored")
	}
}
