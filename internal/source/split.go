// Package source reads log sources (plain, gzip and zstd files and stdin)
// and cuts them into blocks of whole lines, for one-shot reads and for
// following growing files. It is shared by dserver and serverless clients.
package source

import (
	"bytes"
	"errors"
	"io"
)

// Default sizes. The read buffer is large enough that the assembly in
// bytes.IndexByte/Index works on long slices, and small enough to keep
// peak memory low with many concurrent readers.
const (
	DefaultMaxLineLength = 1 << 20
	DefaultBufferSize    = 256 << 10
)

// ErrStop may be returned by a Handler to end a read early without error.
var ErrStop = errors.New("stop reading")

// Ending tells how the data handed to a Handler ends.
type Ending uint8

const (
	// Newline: one or more complete lines, each ending in '\n' and none
	// longer than MaxLineLength bytes before its newline.
	Newline Ending = iota
	// Chunk: one piece of an over-long line, exactly MaxLineLength bytes,
	// without a newline.
	Chunk
	// EOF: the final line of the input, which has no newline.
	EOF
)

// Handler receives consecutive lines; data is only valid during the call.
type Handler func(data []byte, end Ending) error

// Splitter cuts a byte stream into line blocks.
type Splitter struct {
	// MaxLineLength bounds a line; longer lines are emitted in chunks of
	// exactly this many bytes, the last chunk keeping the newline.
	// Zero means DefaultMaxLineLength.
	MaxLineLength int
	// BufferSize is the initial read size. Zero means DefaultBufferSize.
	BufferSize int
	// OnLongLine, if set, is called once per run of consecutive
	// over-long lines (the reference warns once per run).
	OnLongLine func()
	// Partial keeps an unterminated last line buffered instead of
	// emitting it at EOF; followers use it because the writer may still
	// complete the line.
	Partial bool

	buf    []byte
	keep   int
	inLong bool
	// Offset counts the bytes consumed from the reader so far.
	Offset int64
}

func (s *Splitter) maxLine() int {
	if s.MaxLineLength <= 0 {
		return DefaultMaxLineLength
	}
	return s.MaxLineLength
}

func (s *Splitter) init() {
	if s.buf != nil {
		return
	}
	size := s.BufferSize
	if size <= 0 {
		size = DefaultBufferSize
	}
	if max := s.maxLine() + 1; size > max && max < DefaultBufferSize {
		// Small line limits (test mode) still get a large buffer; only
		// the per-line scan is affected.
		size = DefaultBufferSize
	}
	s.buf = make([]byte, size)
}

// Run reads r to EOF and calls h for every block. It returns the first
// read or handler error; ErrStop from h ends the read with a nil error.
func (s *Splitter) Run(r io.Reader, h Handler) error {
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
	}
}

// ReadOnce performs one Read on r and hands every completed line to h.
// It reports more=false at EOF; then, unless Partial is set, a pending
// unterminated line was emitted.
func (s *Splitter) ReadOnce(r io.Reader, h Handler) (more bool, err error) {
	s.init()
	if s.keep == len(s.buf) {
		s.grow()
	}
	n, rerr := r.Read(s.buf[s.keep:])
	s.Offset += int64(n)
	data := s.buf[:s.keep+n]
	if err := s.consume(data, h); err != nil {
		return false, err
	}
	if rerr == io.EOF {
		if !s.Partial {
			if err := s.FlushPartial(h); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	if rerr != nil {
		return false, rerr
	}
	if n == 0 {
		// A reader may return 0, nil; treat it like a short read.
		return true, nil
	}
	return true, nil
}

// FlushPartial emits a buffered unterminated line, if any.
func (s *Splitter) FlushPartial(h Handler) error {
	if s.keep == 0 {
		return nil
	}
	line := s.buf[:s.keep]
	s.keep = 0
	s.inLong = false
	return h(line, EOF)
}

// Pending reports how many bytes of an unterminated line are buffered.
func (s *Splitter) Pending() int { return s.keep }

// Reset drops buffered data (after a truncation restarts the file).
func (s *Splitter) Reset() {
	s.keep = 0
	s.inLong = false
	s.Offset = 0
}

func (s *Splitter) grow() {
	max := s.maxLine() + 1
	size := 2 * len(s.buf)
	if size > max {
		size = max
	}
	if size <= len(s.buf) {
		return
	}
	nb := make([]byte, size)
	copy(nb, s.buf[:s.keep])
	s.buf = nb
}

// consume processes data = carried partial line + newly read bytes.
func (s *Splitter) consume(data []byte, h Handler) error {
	max := s.maxLine()
	end := bytes.LastIndexByte(data, '\n') + 1
	if end > 0 {
		if err := s.complete(data[:end], h); err != nil {
			s.keep = copy(s.buf, data[end:])
			return err
		}
	}
	rest := data[end:]
	// An unterminated run longer than max is cut into chunks now, so the
	// buffer never has to hold more than max+1 bytes of one line.
	for len(rest) > max {
		s.longLine()
		if err := h(rest[:max], Chunk); err != nil {
			s.keep = copy(s.buf, rest[max:])
			return err
		}
		rest = rest[max:]
	}
	s.keep = copy(s.buf, rest)
	return nil
}

// complete handles a region of whole lines.
func (s *Splitter) complete(region []byte, h Handler) error {
	max := s.maxLine()
	if len(region) <= max+1 {
		s.inLong = false
		return h(region, Newline)
	}
	segStart := 0
	start := 0
	for start < len(region) {
		nl := bytes.IndexByte(region[start:], '\n')
		lineEnd := start + nl // index of '\n'
		if nl <= max {
			if s.inLong {
				s.inLong = false
			}
			start = lineEnd + 1
			continue
		}
		if segStart < start {
			if err := h(region[segStart:start], Newline); err != nil {
				return err
			}
		}
		content := region[start:lineEnd]
		for len(content) > max {
			s.longLine()
			if err := h(content[:max], Chunk); err != nil {
				return err
			}
			content = content[max:]
		}
		// The last piece keeps the newline.
		if err := h(region[lineEnd-len(content):lineEnd+1], Newline); err != nil {
			return err
		}
		start = lineEnd + 1
		segStart = start
	}
	if segStart < len(region) {
		s.inLong = false
		return h(region[segStart:], Newline)
	}
	return nil
}

func (s *Splitter) longLine() {
	if !s.inLong {
		s.inLong = true
		if s.OnLongLine != nil {
			s.OnLongLine()
		}
	}
}
