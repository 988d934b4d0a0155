package mapr

import (
	"sync"

	"github.com/dtail-go/dtail/internal/logformat"
)

// BlockSize is the amount of line data a BlockMapper hands to a worker at
// once: large enough that the hand-over costs nothing per line, small
// enough that a few blocks in flight keep memory low.
const BlockSize = 256 << 10

// BlockMapper maps the lines of one file on several goroutines: Add copies
// lines into blocks, and each worker maps whole blocks with its own Mapper
// and parser. The result equals a single Mapper's: counts, sums, min/max,
// sketches and sample counts do not depend on the order, and last/len
// values carry their block's sequence number, so merging keeps the value
// of the latest line. Serialize pauses the hand-over and waits for the
// blocks in flight, so every AGGREGATE delta covers a prefix of the file.
//
// It is for stateless formats and one-shot reads: a CSV parser takes its
// first line as the header, so CSV files need one Mapper; and lines wait
// in a partial block until it fills or Close, which a followed file must
// not do.
//
// Add and Close are for one goroutine (the file's reader).
type BlockMapper struct {
	a       *Aggregate
	workers []*Mapper
	onErr   func(error)
	work    chan *block
	free    chan *block
	wg      sync.WaitGroup // the worker goroutines

	mu       sync.Mutex     // held while handing out a block, and by Serialize
	inflight sync.WaitGroup // blocks handed out and not yet mapped
	cur      *block
}

// block is a run of lines: line i is data[ends[i-1]:ends[i]].
type block struct {
	seq  uint64
	data []byte
	ends []int
}

// NewBlockMapper starts n workers (at least 1), each with a parser from
// newParser. onErr, if not nil, receives every error Mapper.Add returns;
// it is called from the workers, concurrently. Close it when the reader is
// done.
func (a *Aggregate) NewBlockMapper(newParser func() logformat.Parser, n int, onErr func(error)) *BlockMapper {
	n = max(n, 1)
	b := &BlockMapper{
		a:     a,
		onErr: onErr,
		work:  make(chan *block, n),
		free:  make(chan *block, 2*n+1),
		cur:   newBlock(),
	}
	for range n {
		m := a.NewMapper(newParser())
		b.workers = append(b.workers, m)
		b.wg.Add(1)
		go b.run(m)
	}
	a.mu.Lock()
	a.blocks[b] = struct{}{}
	a.mu.Unlock()
	return b
}

func newBlock() *block {
	return &block{data: make([]byte, 0, BlockSize), ends: make([]int, 0, BlockSize/128)}
}

// Add queues one line (a trailing newline is not needed). The bytes are
// copied: the caller may reuse line when Add returns.
func (b *BlockMapper) Add(line []byte) {
	c := b.cur
	if len(c.data) > 0 && len(c.data)+len(line) > cap(c.data) {
		b.dispatch()
		c = b.cur
	}
	c.data = append(c.data, line...)
	c.ends = append(c.ends, len(c.data))
}

// dispatch hands the current block to the workers and starts a new one.
func (b *BlockMapper) dispatch() {
	c := b.cur
	b.mu.Lock()
	c.seq = b.a.seq.Add(1)
	b.inflight.Add(1)
	b.mu.Unlock()
	b.work <- c
	select {
	case b.cur = <-b.free:
	default:
		b.cur = newBlock()
	}
}

// run is one worker: it maps whole blocks with its own mapper.
func (b *BlockMapper) run(m *Mapper) {
	defer b.wg.Done()
	for c := range b.work {
		m.mu.Lock()
		m.seq = c.seq
		start := 0
		for _, end := range c.ends {
			if err := m.add(c.data[start:end]); err != nil && b.onErr != nil {
				b.onErr(err)
			}
			start = end
		}
		m.mu.Unlock()
		b.inflight.Done()
		if cap(c.data) > BlockSize { // a huge line grew it: let it go
			continue
		}
		c.data, c.ends = c.data[:0], c.ends[:0]
		select {
		case b.free <- c:
		default:
		}
	}
}

// pause stops the hand-over and waits until the blocks in flight are
// mapped; Serialize calls it with a.mu held.
func (b *BlockMapper) pause() {
	b.mu.Lock()
	b.inflight.Wait()
}

func (b *BlockMapper) resume() { b.mu.Unlock() }

// Close maps the remaining lines, stops the workers and hands their groups
// to the aggregate for the next Serialize.
func (b *BlockMapper) Close() {
	if len(b.cur.ends) > 0 {
		b.dispatch()
	}
	close(b.work)
	b.wg.Wait()
	b.a.mu.Lock()
	delete(b.a.blocks, b)
	b.a.mu.Unlock()
	for _, m := range b.workers {
		m.Close()
	}
}
