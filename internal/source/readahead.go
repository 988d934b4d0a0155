package source

import (
	"io"
)

// ReadAhead runs the reads of r in its own goroutine, so that
// decompression overlaps with line matching. It hands over whole buffers
// through a small ring; at most n buffers of size bytes are in flight.
// The caller must call Close to stop the goroutine if it stops reading
// before EOF.
type ReadAhead struct {
	full chan raChunk
	free chan []byte
	stop chan struct{}
	cur  raChunk
	off  int
	err  error
	done chan struct{}
}

type raChunk struct {
	buf []byte
	n   int
	err error
}

// NewReadAhead starts reading r in the background.
func NewReadAhead(r io.Reader, size, n int) *ReadAhead {
	ra := &ReadAhead{
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
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
		n, err := fill(r, buf)
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
		c, ok := <-ra.full
		if !ok {
			return 0, io.EOF
		}
		ra.cur, ra.off = c, 0
	}
	n := copy(p, ra.cur.buf[ra.off:ra.cur.n])
	ra.off += n
	return n, nil
}

// Close stops the background reader and waits for it.
func (ra *ReadAhead) Close() {
	select {
	case <-ra.stop:
	default:
		close(ra.stop)
	}
	<-ra.done
}
