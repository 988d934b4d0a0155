package sshclient

import (
	"testing"
	"time"
)

func TestBackoffSequence(t *testing.T) {
	mid := &Backoff{Rand: func() float64 { return 0.5 }} // no jitter
	want := []time.Duration{2, 4, 8, 16, 32, 60, 60, 60}
	for i, w := range want {
		if got := mid.Next(); got != w*time.Second {
			t.Fatalf("step %d: %v, want %v", i, got, w*time.Second)
		}
	}
	mid.Reset()
	if got := mid.Next(); got != 2*time.Second {
		t.Fatalf("after Reset: %v", got)
	}

	low := &Backoff{Rand: func() float64 { return 0 }}
	high := &Backoff{Rand: func() float64 { return 0.9999999 }}
	for i, w := range want {
		base := w * time.Second
		if got := low.Next(); got != base*8/10 {
			t.Fatalf("low step %d: %v, want %v", i, got, base*8/10)
		}
		if got := high.Next(); got > base*12/10 || got < base*119/100 {
			t.Fatalf("high step %d: %v, want just under %v", i, got, base*12/10)
		}
	}
}

func TestBackoffDefaultRandWithinBounds(t *testing.T) {
	var b Backoff
	for i := range 200 {
		got := b.Next()
		base := min(BackoffInitial<<min(i, 5), BackoffMax)
		if got < base*8/10 || got > base*12/10 {
			t.Fatalf("step %d: %v outside ±20%% of %v", i, got, base)
		}
	}
}
