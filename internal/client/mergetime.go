package client

import (
	"container/heap"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/timewindow"
)

// Merge-by-time bounds: lines are held until every connected server has
// offered one (a k-way merge), but never longer than MaxWait of wall time
// and never more than mergeMaxLines at once, so a silent or slow server
// delays the output only a little and memory stays bounded.
const (
	DefaultMergeWindow = 2 * time.Second
	mergeMaxLines      = 100000
)

// timeMerger prints the lines of many servers in timestamp order
// (--merge-by-time). Each connection keeps a heap of its held lines; the
// oldest line overall is printed once every open connection has a line
// waiting (so nothing older can still arrive from it) or once it waited
// longer than maxWait. Lines without a timestamp inherit their source's
// last one, so continuation lines stay behind their head.
type timeMerger struct {
	mu      sync.Mutex
	x       *timewindow.Extractor
	maxWait time.Duration
	conns   map[string]*mergeHeap
	done    map[string]bool // connections ended with lines still held
	held    int
	seq     uint64
	last    map[string]int64
	out     func(l *line)
}

type mergeItem struct {
	ts      int64
	seq     uint64
	l       line // a copy, its bytes owned by the item
	arrived time.Time
}

type mergeHeap []mergeItem

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if h[i].ts != h[j].ts {
		return h[i].ts < h[j].ts
	}
	return h[i].seq < h[j].seq
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func newTimeMerger(maxWait time.Duration, out func(*line)) *timeMerger {
	if maxWait <= 0 {
		maxWait = DefaultMergeWindow
	}
	return &timeMerger{x: timewindow.NewExtractor(time.Now()), maxWait: maxWait,
		conns: map[string]*mergeHeap{}, done: map[string]bool{}, last: map[string]int64{}, out: out}
}

// open registers a connection whose lines take part in the merge.
func (m *timeMerger) open(conn string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conns[conn] == nil {
		m.conns[conn] = &mergeHeap{}
	}
}

// close ends a connection: it no longer holds the others back, and its
// held lines are printed in turn.
func (m *timeMerger) close(conn string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if h := m.conns[conn]; h != nil && h.Len() > 0 {
		m.done[conn] = true
	} else {
		delete(m.conns, conn)
	}
	m.release(false)
}

// add takes one line of a connection (the chain passes lines without a
// REMOTE header straight to the printer). l is copied.
func (m *timeMerger) add(conn string, l *line) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := conn + "|" + string(l.id)
	ts, ok := m.x.Extract(l.content)
	if ok {
		m.last[key] = ts
	} else {
		ts = m.last[key]
	}
	h := m.conns[conn]
	if h == nil {
		h = &mergeHeap{}
		m.conns[conn] = h
	}
	m.seq++
	heap.Push(h, mergeItem{ts: ts, seq: m.seq, l: copyLine(l), arrived: time.Now()})
	m.held++
	m.release(false)
}

// release prints the oldest held lines while that is safe (every open
// connection has a line waiting), or forced by the bounds or all.
func (m *timeMerger) release(all bool) {
	now := time.Now()
	for m.held > 0 {
		var min *mergeHeap
		var minConn string
		ready := true
		for c, h := range m.conns {
			if h.Len() == 0 {
				if !m.done[c] {
					ready = false
				}
				continue
			}
			if min == nil || (*h)[0].ts < (*min)[0].ts || ((*h)[0].ts == (*min)[0].ts && (*h)[0].seq < (*min)[0].seq) {
				min, minConn = h, c
			}
		}
		if min == nil {
			return
		}
		top := (*min)[0]
		if !all && !ready && m.held <= mergeMaxLines && now.Sub(top.arrived) < m.maxWait {
			return
		}
		heap.Pop(min)
		m.held--
		if min.Len() == 0 && m.done[minConn] {
			delete(m.conns, minConn)
			delete(m.done, minConn)
		}
		m.out(&top.l)
	}
}

// tick releases lines that waited long enough in wall time.
func (m *timeMerger) tick() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.release(false)
}

// flush prints everything held (end of the run).
func (m *timeMerger) flush() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.release(true)
}

// copyLine copies l and its bytes (one allocation).
func copyLine(l *line) line {
	c := *l
	b := make([]byte, 0, len(l.host)+len(l.percent)+len(l.id)+len(l.noText)+len(l.content))
	part := func(p []byte) []byte {
		if p == nil {
			return nil
		}
		b = append(b, p...)
		return b[len(b)-len(p) : len(b) : len(b)]
	}
	c.host, c.percent, c.id, c.noText, c.content = part(l.host), part(l.percent), part(l.id), part(l.noText), part(l.content)
	return c
}
