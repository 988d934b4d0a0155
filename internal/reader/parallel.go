package reader

import (
	"io"
	"runtime"

	"github.com/dtail-go/dtail/internal/source"
)

// hits are the selected lines of one batch, found by a worker: byte
// bounds (with the newline) and 1-based line numbers within the batch.
type hits struct {
	spans []int
	nos   []uint64
	lines uint64
}

// parallelOK reports whether a read may match its batches on several
// workers: a positive block search with nothing that needs the lines one
// after the other (context windows, time windows, follow mode, offsets,
// a mapreduce aggregate, which maps on every CPU itself).
func (p *pipe) parallelOK() bool {
	return p.m.CanScan() && !p.m.MatchAll() && p.win == nil && !p.tail &&
		p.tw == nil && !p.offsets && !p.rd.req.Aggregate
}

// runParallel reads r with sp, matching batches on workers and emitting
// the selected lines in file order (source.RunParallel). Matching is the
// CPU-bound part of a grep; the sink's work stays on this goroutine.
func (p *pipe) runParallel(sp *source.Splitter, r io.Reader, workers int) error {
	return source.RunParallel(sp, r, workers, p.parallelWorker, p.parallelEmit)
}

// runParallelMapped is runParallel over a mapped plain file.
func (p *pipe) runParallelMapped(sp *source.Splitter, mp *source.Mapping, rest io.Reader, workers int) error {
	return source.RunParallelMapped(sp, mp, rest, workers, p.parallelWorker, p.parallelEmit)
}

// parallelWorker returns one worker's function: it finds the selected
// lines of a batch with its own Scanner.
func (p *pipe) parallelWorker() func([]byte, *hits) {
	sc := p.m.NewScanner()
	return func(data []byte, h *hits) {
		h.spans, h.nos = h.spans[:0], h.nos[:0]
		var line uint64
		from := 0
		for {
			// the scanner counts the lines it passes (one pass, not two)
			start, end, n, ok := sc.NextMatchLines(data, from)
			if !ok {
				line += uint64(n)
				break
			}
			line += uint64(n) + 1
			h.spans = append(h.spans, start, end)
			h.nos = append(h.nos, line)
			from = end
		}
		h.lines = line
	}
}

// parallelEmit hands a batch's hits on in file order (the reading
// goroutine).
func (p *pipe) parallelEmit(data []byte, end source.Ending, h *hits, work bool) error {
	if p.yield != nil {
		if err := p.yield(); err != nil {
			return err
		}
	}
	if !work {
		return p.block(data, end)
	}
	base := p.lines
	for i, no := range h.nos {
		p.emit(data[h.spans[2*i]:h.spans[2*i+1]], base+no)
		if p.stop {
			p.lines = base + no
			p.push()
			return source.ErrStop
		}
		if len(p.recs) >= maxRecs {
			if err := p.push(); err != nil {
				return err
			}
		}
	}
	p.lines = base + h.lines
	return p.push()
}

// readWorkers is the number of matching goroutines per file.
func (r *Reader) readWorkers() int {
	n := r.cfg.MaxReadWorkers
	if max := runtime.GOMAXPROCS(0); n > max {
		n = max
	}
	return n
}
