package reader

import (
	"context"
	"testing"
	"time"
)

// A user holding every slot gives one back at its next block when
// another user waits; without waiters it keeps them all.
func TestSlotsYieldToOtherUser(t *testing.T) {
	l := NewLimits(2, 0)
	ctx := context.Background()
	a1, _ := l.acquire(ctx, "alice", false, nil)
	a2, _ := l.acquire(ctx, "alice", false, nil)
	if err := a1.yield(ctx); err != nil || !a1.held {
		t.Fatal("yielded without anybody waiting")
	}
	got := make(chan *slot)
	go func() {
		b, _ := l.acquire(ctx, "bob", false, nil)
		got <- b
	}()
	waitUntil(t, func() bool { c, _ := l.Usage(); return c.Waiting == 1 })
	// alice's next block: over her share (1 of 2) while bob waits.
	yielded := make(chan error)
	go func() { yielded <- a1.yield(ctx) }()
	var b *slot
	select {
	case b = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("bob still waits after alice's yield")
	}
	// alice's yielded read waits for a slot again; it gets one when bob
	// is done.
	select {
	case <-yielded:
		t.Fatal("alice's yield returned while both slots are taken")
	case <-time.After(50 * time.Millisecond):
	}
	b.release()
	if err := <-yielded; err != nil {
		t.Fatal(err)
	}
	a1.release()
	a2.release()
	if c, _ := l.Usage(); c.Used != 0 || c.Waiting != 0 {
		t.Fatalf("usage after release: %+v", c)
	}
}

// Freed slots go to waiting users in turn, not in arrival order.
func TestSlotsRoundRobin(t *testing.T) {
	l := NewLimits(1, 0)
	ctx := context.Background()
	hold, _ := l.acquire(ctx, "x", false, nil)
	order := make(chan string, 8)
	start := func(user string) {
		go func() {
			s, err := l.acquire(ctx, user, false, nil)
			if err != nil {
				return
			}
			order <- user
			time.Sleep(5 * time.Millisecond)
			s.release()
		}()
	}
	for i := range 3 {
		start("alice")
		waitUntil(t, func() bool { c, _ := l.Usage(); return c.Waiting == i+1 })
	}
	start("bob")
	waitUntil(t, func() bool { c, _ := l.Usage(); return c.Waiting == 4 })
	hold.release()
	var got []string
	for range 4 {
		got = append(got, <-order)
	}
	if got[0] != "alice" || got[1] != "bob" {
		t.Fatalf("admission order %v: bob waited behind all of alice's reads", got)
	}
}

// A waiter that gives up leaves no trace in the pool.
func TestSlotsCancelledWaiter(t *testing.T) {
	l := NewLimits(1, 0)
	hold, _ := l.acquire(context.Background(), "x", false, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := l.acquire(ctx, "y", false, nil); done <- err }()
	waitUntil(t, func() bool { c, _ := l.Usage(); return c.Waiting == 1 })
	cancel()
	if err := <-done; err == nil {
		t.Fatal("cancelled acquire succeeded")
	}
	hold.release()
	if c, _ := l.Usage(); c.Used != 0 || c.Waiting != 0 {
		t.Fatalf("usage %+v", c)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}
