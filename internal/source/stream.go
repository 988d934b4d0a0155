package source

import (
	"errors"
	"io"
	"os"
)

// NewStream reads a stream (stdin, a FIFO, a character device) in the
// background for a Splitter. Unlike NewReadAhead each chunk is what one
// Read returned, never a buffer filled by several: a pipe read returns
// whatever the writer has written so far, so a line written alone is
// handed on at once (grep's latency), while a fast writer still fills
// whole buffers (throughput). Reads give up with ErrAbandoned when done
// closes, because a stream may block forever.
func NewStream(done <-chan struct{}, r io.Reader, size, n int) *ReadAhead {
	growPipe(r)
	ra := newReadAhead(r, size, n, true)
	ra.until = done
	return ra
}

// Pending reports whether data already read waits to be consumed, i.e.
// whether the next Read returns without waiting for the source.
func (ra *ReadAhead) Pending() bool {
	return ra.off < ra.cur.n || len(ra.full) > 0
}

// RunStream is Run for a stream: it calls idle whenever everything read
// so far was handed to h and the next read may wait for the writer, so
// the caller can flush its output there and buffer only while more input
// is immediately available.
func (s *Splitter) RunStream(r *ReadAhead, h Handler, idle func() error) error {
	for {
		more, err := s.ReadOnce(r, h)
		if err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
		if !more {
			return nil
		}
		if !r.Pending() {
			if err := idle(); err != nil {
				return err
			}
		}
	}
}

// IsStream reports whether a file of this mode is read as a stream rather
// than refused as not regular: FIFOs (named pipes, `<(…)` process
// substitution) and character devices (/dev/null, a terminal). They have
// no size and no offsets, so they cannot be followed, checked for
// truncation or split for parallel reading; they are read once, to EOF.
func IsStream(m os.FileMode) bool {
	return m&os.ModeNamedPipe != 0 || m&os.ModeCharDevice != 0
}

// gather performs one Read of r into buf and then reads on only while
// ready says more input is already there, so a chunk holds what the
// writer has written so far and the read never waits with data in hand.
func gather(r io.Reader, buf []byte, ready func() bool) (int, error) {
	n, err := r.Read(buf)
	for err == nil && n < len(buf) && ready != nil && ready() {
		var m int
		m, err = r.Read(buf[n:])
		n += m
		if m == 0 {
			break
		}
	}
	return n, err
}
