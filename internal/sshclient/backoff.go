package sshclient

import (
	"math/rand/v2"
	"time"
)

// Reconnect back-off of spec §5.3.
const (
	BackoffInitial = 2 * time.Second
	BackoffMax     = 60 * time.Second
	BackoffJitter  = 0.2
)

// Backoff yields reconnect delays: 2 s doubling up to 60 s, each with ±20 %
// jitter so that many clients reconnecting to a restarted server spread
// out. The cap applies before jitter, so a delay can reach 72 s. Not safe for
// concurrent use; each reconnect loop owns one.
type Backoff struct {
	// Rand returns a value in [0,1); nil uses math/rand/v2.
	Rand func() float64
	// Initial, Max and Jitter override the spec's 2 s, 60 s and ±20 %
	// (the connect retries of Dial use shorter ones).
	Initial, Max time.Duration
	Jitter       float64
	next         time.Duration
}

// Next returns the delay to wait before the next attempt.
func (b *Backoff) Next() time.Duration {
	initial, maxDelay, jitter := BackoffInitial, BackoffMax, BackoffJitter
	if b.Initial > 0 {
		initial = b.Initial
	}
	if b.Max > 0 {
		maxDelay = b.Max
	}
	if b.Jitter > 0 {
		jitter = b.Jitter
	}
	if b.next <= 0 {
		b.next = initial
	}
	base := b.next
	b.next = min(2*b.next, maxDelay)
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	return time.Duration(float64(base) * (1 + jitter*(2*r()-1)))
}

// Reset starts over at 2 s; call it after a successful connection.
func (b *Backoff) Reset() { b.next = 0 }
