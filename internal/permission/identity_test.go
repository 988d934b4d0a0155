package permission

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable time source.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestIdentitiesCacheWithinTTL(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	var calls atomic.Int32
	groups := []uint32{10}
	lookup := func(name string) (*Identity, error) {
		calls.Add(1)
		return &Identity{Name: name, UID: 1000, GID: 1000, Groups: groups}, nil
	}
	c := newIdentities(2*time.Second, lookup, clock.now, noStamp)
	for range 5 {
		id, err := c.Lookup("alice")
		if err != nil || id.Name != "alice" || !id.InGroup(10) {
			t.Fatalf("Lookup = %v, %v", id, err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d lookups within the TTL, want 1", n)
	}
	if _, err := c.Lookup("bob"); err != nil || calls.Load() != 2 {
		t.Fatalf("another user: err %v, %d lookups, want 2", err, calls.Load())
	}
	// A change of the account's groups is seen once the TTL has passed.
	groups = []uint32{20}
	clock.add(2 * time.Second)
	id, err := c.Lookup("alice")
	if err != nil || id.InGroup(10) || !id.InGroup(20) {
		t.Fatalf("after the TTL: %+v, %v; want the new groups", id, err)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d lookups, want 3", n)
	}
}

func TestIdentitiesErrorsNotCached(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	exists := false
	var calls int
	lookup := func(name string) (*Identity, error) {
		calls++
		if !exists {
			return nil, errors.New("no such user")
		}
		return &Identity{Name: name}, nil
	}
	c := newIdentities(time.Minute, lookup, clock.now, noStamp)
	if _, err := c.Lookup("carol"); err == nil {
		t.Fatal("unknown user found")
	}
	// The account is created: the next session finds it at once.
	exists = true
	if id, err := c.Lookup("carol"); err != nil || id.Name != "carol" {
		t.Fatalf("after useradd: %v, %v", id, err)
	}
	if calls != 2 {
		t.Fatalf("%d lookups, want 2", calls)
	}
}

func TestIdentitiesConcurrentShareOneLookup(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	lookup := func(name string) (*Identity, error) {
		calls.Add(1)
		<-release
		return &Identity{Name: name, UID: 7}, nil
	}
	c := newIdentities(time.Minute, lookup, time.Now, noStamp)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if id, err := c.Lookup("dave"); err != nil || id.UID != 7 {
				t.Errorf("Lookup = %v, %v", id, err)
			}
		})
	}
	// Let the goroutines pile up behind the first lookup.
	deadline := time.Now().Add(10 * time.Second)
	for calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d lookups for 50 concurrent sessions, want 1", n)
	}
}

func TestIdentitiesBounded(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	lookup := func(name string) (*Identity, error) { return &Identity{Name: name}, nil }
	c := newIdentities(time.Second, lookup, clock.now, noStamp)
	for i := range 3 * maxIdentities {
		if i%maxIdentities == 0 {
			clock.add(time.Second) // the earlier entries expire
		}
		if _, err := c.Lookup(string(rune('a'+i%26)) + time.Duration(i).String()); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	n := len(c.m)
	c.mu.Unlock()
	if n > maxIdentities {
		t.Fatalf("%d cached identities, want at most %d", n, maxIdentities)
	}
}

func TestIdentitiesRealUser(t *testing.T) {
	c := NewIdentities(time.Second)
	want, err := LookupUser("root")
	if err != nil {
		t.Skip("no root account:", err)
	}
	got, err := c.Lookup("root")
	if err != nil || got.UID != want.UID || got.GID != want.GID {
		t.Fatalf("Lookup(root) = %+v, %v; want %+v", got, err, want)
	}
}

// noStamp stands for account files that never change.
func noStamp() accountStamp { return accountStamp{} }

// A group removal must reach the next session at once, not after the
// TTL: a new sshd login would already lack the group.
func TestIdentitiesChangedAccountFilesAreNotTrusted(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	var mu sync.Mutex
	groups := []uint32{10}
	var files accountStamp
	stamp := func() accountStamp { mu.Lock(); defer mu.Unlock(); return files }
	var calls atomic.Int32
	lookup := func(name string) (*Identity, error) {
		calls.Add(1)
		mu.Lock()
		defer mu.Unlock()
		return &Identity{Name: name, UID: 1000, GID: 1000, Groups: slices.Clone(groups)}, nil
	}
	c := newIdentities(time.Hour, lookup, clock.now, stamp)
	if id, _ := c.Lookup("alice"); !id.InGroup(10) {
		t.Fatalf("first lookup: %+v", id)
	}
	mu.Lock()
	groups = []uint32{20}                  // gpasswd -d alice g10; gpasswd -a alice g20
	files[1] = fileStamp{ok: true, ino: 2} // /etc/group replaced
	mu.Unlock()
	id, err := c.Lookup("alice")
	if err != nil || id.InGroup(10) || !id.InGroup(20) {
		t.Fatalf("after /etc/group changed: %+v, %v; want the new groups at once", id, err)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d lookups, want 2", n)
	}
	if _, err := c.Lookup("alice"); err != nil || calls.Load() != 2 {
		t.Fatalf("unchanged files: %d lookups, want 2 (cached)", calls.Load())
	}
}

func TestStatStampSeesReplacement(t *testing.T) {
	p := filepath.Join(t.TempDir(), "group")
	if err := os.WriteFile(p, []byte("g10:x:10:alice\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := statStamp(p)
	// usermod writes a new file and renames it over the old one; the
	// size stays the same here, the inode does not.
	tmp := p + "+"
	if err := os.WriteFile(tmp, []byte("g10:x:10:bobby\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	b := statStamp(p)
	if !a.ok || !b.ok || a == b {
		t.Fatalf("stamps %+v and %+v: a replaced file must stamp differently", a, b)
	}
	if m := statStamp(filepath.Join(t.TempDir(), "missing")); m.ok || m != (fileStamp{}) {
		t.Fatalf("missing file stamps %+v", m)
	}
	if st := statAccountFiles(); !st[0].ok {
		t.Fatalf("/etc/passwd not stamped: %+v", st)
	}
}
