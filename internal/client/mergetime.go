package client

import (
	"container/heap"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// Merge-by-time bounds: a line is held until lines DefaultMergeWindow of
// log time newer have arrived, or the buffer is full; lines never wait
// longer than mergeMaxWait of wall time.
const (
	DefaultMergeWindow = 2 * time.Second
	mergeMaxLines      = 100000
	mergeMaxWait       = 2 * time.Second
)

// timeMerger prints the REMOTE lines of many hosts in timestamp order: a
// k-way merge with a bounded reorder window (--merge-by-time). Each host's
// lines arrive in file order already; the window absorbs clock skew and
// network delays between hosts. Lines without a timestamp inherit their
// source's last one, so continuation lines stay with their head.
type timeMerger struct {
	mu     sync.Mutex
	x      *timewindow.Extractor
	window int64 // seconds of log time
	q      mergeHeap
	seq    uint64
	newest int64
	last   map[string]int64
	out    func(msg []byte)
}

type mergeItem struct {
	ts      int64
	seq     uint64
	msg     []byte
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

func newTimeMerger(window time.Duration, out func([]byte)) *timeMerger {
	if window <= 0 {
		window = DefaultMergeWindow
	}
	return &timeMerger{x: timewindow.NewExtractor(time.Now()), window: int64(window / time.Second), last: map[string]int64{}, out: out}
}

// add takes one REMOTE message; other messages are passed straight out.
func (m *timeMerger) add(msg []byte) {
	rl, ok := protocol.ParseRemoteLine(msg)
	if !ok {
		m.out(msg)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	key := string(rl.Host) + "|" + string(rl.SourceID)
	ts, ok := m.x.Extract(rl.Content)
	if ok {
		m.last[key] = ts
	} else {
		ts = m.last[key]
	}
	if ts > m.newest {
		m.newest = ts
	}
	m.seq++
	heap.Push(&m.q, mergeItem{ts: ts, seq: m.seq, msg: append([]byte(nil), msg...), arrived: time.Now()})
	m.release(false)
}

// release prints every held line that can no longer be overtaken.
func (m *timeMerger) release(all bool) {
	now := time.Now()
	for m.q.Len() > 0 {
		top := m.q[0]
		if !all && m.q.Len() <= mergeMaxLines && top.ts > m.newest-m.window && now.Sub(top.arrived) < mergeMaxWait {
			return
		}
		heap.Pop(&m.q)
		m.out(top.msg)
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
