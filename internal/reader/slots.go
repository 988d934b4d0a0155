package reader

import (
	"context"
	"sync"
	"sync/atomic"
)

// Limits are the server-wide read slots (MaxConcurrentCats/Tails), shared
// fairly between users: when users wait, a freed slot goes to the next
// waiting user in turn (round-robin), not to whoever asked first, and a
// user holding more than its share (slots ÷ users holding or waiting)
// gives slots back between blocks. So one user grepping two huge files or
// following 50 files cannot hold everybody else's reads until it is done.
type Limits struct {
	cats  *pool
	tails *pool
}

// NewLimits creates read slots; values ≤ 0 mean unlimited.
func NewLimits(cats, tails int) *Limits {
	l := &Limits{}
	if cats > 0 {
		l.cats = newPool(cats)
	}
	if tails > 0 {
		l.tails = newPool(tails)
	}
	return l
}

// SlotUsage is a snapshot of one kind of read slot.
type SlotUsage struct {
	Size, Used, Waiting int
}

// Usage reports the cat and tail slots in use and the reads waiting.
func (l *Limits) Usage() (cats, tails SlotUsage) {
	if l == nil {
		return
	}
	return l.cats.usage(), l.tails.usage()
}

// slot is one held read slot. yield gives it back when its user holds
// more than its share while another user waits, then waits for a slot
// again; release ends it.
type slot struct {
	p    *pool
	user string
	held bool
}

func (l *Limits) acquire(ctx context.Context, user string, tail bool, queued func()) (*slot, error) {
	var p *pool
	if l != nil {
		p = l.cats
		if tail {
			p = l.tails
		}
	}
	sl := &slot{p: p, user: user}
	if p == nil {
		return sl, nil
	}
	if err := p.acquire(ctx, user, queued); err != nil {
		return nil, err
	}
	sl.held = true
	return sl, nil
}

func (sl *slot) release() {
	if sl.p != nil && sl.held {
		sl.held = false
		sl.p.release(sl.user)
	}
}

// yield is called between blocks of a read; it is cheap unless someone
// waits.
func (sl *slot) yield(ctx context.Context) error {
	if sl.p == nil || !sl.held || sl.p.waiting.Load() == 0 || !sl.p.overShare(sl.user) {
		return nil
	}
	sl.held = false
	sl.p.release(sl.user)
	if err := sl.p.acquire(ctx, sl.user, nil); err != nil {
		return err
	}
	sl.held = true
	return nil
}

// pool is a counting semaphore with per-user round-robin admission.
type pool struct {
	size    int
	waiting atomic.Int64

	mu     sync.Mutex
	used   int
	held   map[string]int
	queues map[string][]*waiter
	order  []string // users with waiters, in turn order
	next   int
}

type waiter struct {
	ready   chan struct{}
	granted bool
}

func newPool(size int) *pool {
	return &pool{size: size, held: map[string]int{}, queues: map[string][]*waiter{}}
}

func (p *pool) usage() SlotUsage {
	if p == nil {
		return SlotUsage{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return SlotUsage{Size: p.size, Used: p.used, Waiting: int(p.waiting.Load())}
}

func (p *pool) acquire(ctx context.Context, user string, queued func()) error {
	p.mu.Lock()
	if p.used < p.size && len(p.order) == 0 {
		p.grantLocked(user)
		p.mu.Unlock()
		return nil
	}
	w := &waiter{ready: make(chan struct{})}
	if len(p.queues[user]) == 0 {
		p.order = append(p.order, user)
	}
	p.queues[user] = append(p.queues[user], w)
	p.waiting.Add(1)
	p.dispatchLocked()
	p.mu.Unlock()
	if queued != nil {
		select {
		case <-w.ready:
		default:
			queued()
		}
	}
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.granted {
		// Granted while we gave up: pass the slot on.
		p.releaseLocked(user)
		return ctx.Err()
	}
	q := p.queues[user]
	for i, x := range q {
		if x == w {
			q = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	p.waiting.Add(-1)
	if len(q) == 0 {
		delete(p.queues, user)
		p.dropOrderLocked(user)
	} else {
		p.queues[user] = q
	}
	return ctx.Err()
}

func (p *pool) grantLocked(user string) {
	p.used++
	p.held[user]++
}

func (p *pool) release(user string) {
	p.mu.Lock()
	p.releaseLocked(user)
	p.mu.Unlock()
}

func (p *pool) releaseLocked(user string) {
	p.used--
	if p.held[user]--; p.held[user] <= 0 {
		delete(p.held, user)
	}
	p.dispatchLocked()
}

// dispatchLocked hands free slots to waiting users in turn.
func (p *pool) dispatchLocked() {
	for p.used < p.size && len(p.order) > 0 {
		if p.next >= len(p.order) {
			p.next = 0
		}
		user := p.order[p.next]
		q := p.queues[user]
		w := q[0]
		q = q[1:]
		p.waiting.Add(-1)
		p.grantLocked(user)
		w.granted = true
		close(w.ready)
		if len(q) == 0 {
			delete(p.queues, user)
			p.order = append(p.order[:p.next:p.next], p.order[p.next+1:]...)
		} else {
			p.queues[user] = q
			p.next++
		}
	}
}

func (p *pool) dropOrderLocked(user string) {
	for i, u := range p.order {
		if u == user {
			p.order = append(p.order[:i:i], p.order[i+1:]...)
			if p.next > i {
				p.next--
			}
			return
		}
	}
}

// overShare reports whether user holds more than its share while some
// other user waits.
func (p *pool) overShare(user string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	othersWait := false
	users := len(p.held)
	for _, u := range p.order {
		if u != user {
			othersWait = true
		}
		if p.held[u] == 0 {
			users++
		}
	}
	if !othersWait {
		return false
	}
	share := max(1, p.size/users)
	return p.held[user] > share
}
