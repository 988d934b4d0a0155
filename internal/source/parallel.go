package source

import (
	"bytes"
	"errors"
	"io"
	"runtime/debug"
	"sync"
)

// ParallelBatchSize is how many bytes of whole lines a worker gets at
// once: large enough that hand-over costs vanish against matching, small
// enough that workers × batches stay a few MB.
const ParallelBatchSize = 1 << 20

// batch is one unit of work: whole lines (Newline) for the workers, or a
// Chunk/EOF piece that the consumer handles itself, in order. data is a
// copy in buf, or a view of a mapped file (buf nil).
type batch[T any] struct {
	data []byte
	buf  []byte
	end  Ending
	res  T
	work bool
	err  error // a worker's fault on a mapped file
	done chan struct{}
}

// RunParallel reads r like Run, but lines are examined on up to workers
// goroutines: the Splitter's Newline blocks are gathered into batches of
// about ParallelBatchSize bytes, each batch is handed to one worker
// (newWorker is called once per worker and returns its function, so a
// worker may keep state such as a match.Scanner), and emit receives every
// batch with its result on the calling goroutine, in input order. Chunk
// and EOF pieces reach emit as they are, with a zero result and work
// false. At most 2×workers+2 batches exist at once (bounded memory
// whatever the file size).
//
// An error from emit (ErrStop included) stops reading; RunParallel
// returns it like Run does (ErrStop as nil).
func RunParallel[T any](s *Splitter, r io.Reader, workers int,
	newWorker func() func(data []byte, res *T),
	emit func(data []byte, end Ending, res *T, work bool) error) error {
	return runParallel(workers, false, newWorker, emit, func(view, cp Handler, direct directFunc) error {
		if s.directOK() {
			return direct(s, r)
		}
		return s.Run(r, cp)
	})
}

// RunParallelMapped is RunParallel over a mapped file (see RunMapped):
// the batches are views of the mapping, not copies. Workers and emit run
// with memory faults turned into ErrTruncated.
func RunParallelMapped[T any](s *Splitter, m *Mapping, rest io.Reader, workers int,
	newWorker func() func(data []byte, res *T),
	emit func(data []byte, end Ending, res *T, work bool) error) error {
	if workers < 1 {
		workers = 1
	}
	lag := (2*workers + 2) * ParallelBatchSize
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return runParallel(workers, true, newWorker, emit, func(view, cp Handler, _ directFunc) error {
		return faultSafe(func() error { return s.runMapped(m, rest, view, cp, lag) })
	})
}

// directFunc reads a stream straight into batch buffers (see
// Splitter.directOK).
type directFunc func(s *Splitter, r io.Reader) error

// directOK: a stream may be read straight into the batch buffers when a
// buffer of MaxLineLength+1 bytes is about a batch (the default 1 MB):
// every complete line in such a buffer is within the limit, so the only
// long-line case is a full buffer without a newline (one Chunk). One
// copy (the decompressor's or read's) instead of three (read-ahead ring,
// Splitter buffer, batch).
func (s *Splitter) directOK() bool {
	n := s.maxLine() + 1
	return n >= ParallelBatchSize/4 && n <= 4*ParallelBatchSize
}

// runParallel is the engine of both: produce calls view with data that
// stays valid until the read ends (a mapping), cp with data that must be
// copied (a reused read buffer), or direct. With mapped, workers and
// emit guard against faults.
func runParallel[T any](workers int, mapped bool,
	newWorker func() func(data []byte, res *T),
	emit func(data []byte, end Ending, res *T, work bool) error,
	produce func(view, cp Handler, direct directFunc) error) error {
	if workers < 1 {
		workers = 1
	}
	nbuf := 2*workers + 2
	free := make(chan []byte, nbuf)
	for i := 0; i < nbuf; i++ {
		free <- nil // allocated on first use
	}
	todo := make(chan *batch[T], nbuf)
	order := make(chan *batch[T], nbuf)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		work := newWorker()
		go func() {
			defer wg.Done()
			if mapped {
				defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			}
			for b := range todo {
				if mapped {
					b.err = faultSafe(func() error { work(b.data, &b.res); return nil })
				} else {
					work(b.data, &b.res)
				}
				close(b.done)
			}
		}()
	}

	var readErr error
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(order)
		defer close(todo)
		var cur *batch[T]
		send := func(b *batch[T]) error {
			if b.work {
				select {
				case todo <- b:
				case <-stop:
					return ErrStop
				}
			} else {
				close(b.done)
			}
			select {
			case order <- b:
				return nil
			case <-stop:
				return ErrStop
			}
		}
		get := func() (*batch[T], error) {
			select {
			case buf := <-free:
				return &batch[T]{buf: buf[:0], done: make(chan struct{})}, nil
			case <-stop:
				return nil, ErrStop
			}
		}
		flush := func() error {
			if cur == nil {
				return nil
			}
			b := cur
			cur = nil
			b.data = b.buf
			return send(b)
		}
		// A view is one batch as it is: the mapped blocks are already
		// about ParallelBatchSize.
		view := func(data []byte, end Ending) error {
			if err := flush(); err != nil {
				return err
			}
			b, err := get()
			if err != nil {
				return err
			}
			b.data, b.end, b.work = data, end, end == Newline
			return send(b)
		}
		cp := func(data []byte, end Ending) error {
			if end != Newline {
				if err := flush(); err != nil {
					return err
				}
				b, err := get()
				if err != nil {
					return err
				}
				b.buf = append(b.buf, data...)
				b.data, b.end = b.buf, end
				return send(b)
			}
			for len(data) > 0 {
				if cur == nil {
					b, err := get()
					if err != nil {
						return err
					}
					b.work = true
					cur = b
				}
				// Fill the batch with whole lines up to its size.
				n := len(data)
				if room := ParallelBatchSize - len(cur.buf); n > room && len(cur.buf) > 0 {
					n = bytes.LastIndexByte(data[:room], '\n') + 1
					if n == 0 {
						if err := flush(); err != nil {
							return err
						}
						continue
					}
				}
				cur.buf = append(cur.buf, data[:n]...)
				data = data[n:]
				if len(cur.buf) >= ParallelBatchSize {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			return nil
		}
		// direct: each batch's buffer is filled from r after the
		// unterminated rest of the previous one; the previous batch is
		// sent once its rest is copied out (buffers return to free only
		// after emit).
		direct := func(s *Splitter, r io.Reader) error {
			max := s.maxLine()
			size := max + 1
			var prev *batch[T]
			var carry []byte
			sendPrev := func() error {
				if prev == nil {
					return nil
				}
				b := prev
				prev = nil
				return send(b)
			}
			for {
				b, err := get()
				if err != nil {
					return err
				}
				if cap(b.buf) < size {
					b.buf = make([]byte, 0, size)
				}
				buf := b.buf[:size]
				k := copy(buf, carry)
				if err := sendPrev(); err != nil {
					return err
				}
				n, rerr := fill(r, buf[k:])
				s.Offset += int64(n)
				data := buf[:k+n]
				nl := bytes.LastIndexByte(data, '\n')
				switch {
				case nl >= 0:
					s.inLong = false
					b.data, b.end, b.work = data[:nl+1], Newline, true
					carry = data[nl+1:]
					prev = b
				case len(data) > max:
					s.longLine()
					b.data, b.end = data[:max], Chunk
					carry = data[max:]
					prev = b
				default:
					carry = data
					if rerr == nil {
						// fill only stops early on an error
						rerr = io.ErrNoProgress
					}
				}
				if rerr != nil {
					if prev == nil {
						free <- b.buf // nothing of it is sent
					}
					if rerr != io.EOF {
						if err := sendPrev(); err != nil {
							return err
						}
						return rerr
					}
					if len(carry) == 0 || s.Partial {
						return sendPrev()
					}
					last, err := get()
					if err != nil {
						return err
					}
					last.buf = append(last.buf, carry...)
					last.data, last.end = last.buf, EOF
					if err := sendPrev(); err != nil {
						return err
					}
					s.inLong = false
					return send(last)
				}
			}
		}
		readErr = produce(view, cp, direct)
		if err := flush(); err != nil && readErr == nil {
			readErr = err
		}
	}()

	callEmit := func(b *batch[T]) (err error) {
		if mapped {
			defer guardFault(&err)
		}
		return emit(b.data, b.end, &b.res, b.work)
	}
	var emitErr error
	for b := range order {
		<-b.done
		if emitErr == nil {
			if b.err != nil {
				emitErr = b.err
			} else {
				emitErr = callEmit(b)
			}
			if emitErr != nil {
				close(stop)
			}
		}
		if emitErr == nil {
			free <- b.buf
		}
	}
	<-readDone
	wg.Wait()
	if emitErr != nil {
		if errors.Is(emitErr, ErrStop) {
			return nil
		}
		return emitErr
	}
	if readErr != nil && !errors.Is(readErr, ErrStop) {
		return readErr
	}
	return nil
}
