package source

import (
	"errors"
	"io"
)

// ReadAhead runs the reads of r in its own goroutine, so that
// decompression overlaps with line matching. It hands over whole buffers
// through a small ring; at most n buffers of size bytes are in flight.
// The caller must call Close to stop the goroutine if it stops reading
// before EOF.
type ReadAhead struct {
	// until, if set, makes a Read blocked on the background reader return
	// ErrAbandoned: stdin may block forever, and a timeout or signal must
	// still end the read.
	until <-chan struct{}
	full  chan raChunk
	free  chan []byte
	stop  chan struct{}
	cur   raChunk
	off   int
	err   error
	done  chan struct{}
	// once makes each chunk the result of a single Read (NewStream).
	once bool
}

type raChunk struct {
	buf []byte
	n   int
	err error
}

// NewReadAhead starts reading r in the background.
func NewReadAhead(r io.Reader, size, n int) *ReadAhead {
	return newReadAhead(r, size, n, false)
}

func newReadAhead(r io.Reader, size, n int, once bool) *ReadAhead {
	ra := &ReadAhead{
		once: once,
		full: make(chan raChunk, n),
		free: make(chan []byte, n),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for i := 0; i < n; i++ {
		ra.free <- make([]byte, size)
	}
	go ra.loop(r)
	return ra
}

func (ra *ReadAhead) loop(r io.Reader) {
	defer close(ra.done)
	defer close(ra.full)
	var ready func() bool
	if ra.once {
		ready = readyFunc(r)
	}
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
		var n int
		var err error
		if ra.once {
			n, err = gather(r, buf, ready)
		} else {
			n, err = fill(r, buf)
		}
		select {
		case ra.full <- raChunk{buf, n, err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// fill reads until buf is full or r fails. Unlike io.ReadFull it passes
// the reader's own errors through unchanged: a decompressor's
// io.ErrUnexpectedEOF (a truncated archive) must not become a clean EOF.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Read implements io.Reader.
func (ra *ReadAhead) Read(p []byte) (int, error) {
	for ra.off >= ra.cur.n {
		if ra.cur.err != nil {
			return 0, ra.cur.err
		}
		if ra.cur.buf != nil {
			ra.free <- ra.cur.buf
			ra.cur.buf = nil
		}
		var c raChunk
		var ok bool
		select {
		case c, ok = <-ra.full:
		case <-ra.until:
			return 0, ErrAbandoned
		}
		if !ok {
			return 0, io.EOF
		}
		ra.cur, ra.off = c, 0
	}
	n := copy(p, ra.cur.buf[ra.off:ra.cur.n])
	ra.off += n
	return n, nil
}

// ErrAbandoned is returned by a ReadAhead whose done channel closed.
var ErrAbandoned = errors.New("read abandoned")

// NewReadAheadUntil is NewReadAhead whose Reads give up when done closes.
// Close does not wait for a reader stuck in a Read of r then; that
// goroutine ends when r does (for stdin: with the process).
func NewReadAheadUntil(done <-chan struct{}, r io.Reader, size, n int) *ReadAhead {
	ra := NewReadAhead(r, size, n)
	ra.until = done
	return ra
}

// Close stops the background reader and waits for it.
func (ra *ReadAhead) Close() {
	if ra.until != nil {
		select {
		case <-ra.until:
			select {
			case <-ra.stop:
			default:
				close(ra.stop)
			}
			return
		default:
		}
	}
	select {
	case <-ra.stop:
	default:
		close(ra.stop)
	}
	<-ra.done
}
