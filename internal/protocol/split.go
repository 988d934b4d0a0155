package protocol

import (
	"bytes"
	"io"
)

// initialSplitBuffer keeps small sessions cheap; the buffer only grows when a
// single token does not fit, and never beyond the caller's limit.
const initialSplitBuffer = 4096

// maxEmptyReads mirrors bufio's guard against readers that keep returning
// (0, nil), which would otherwise make the splitter spin forever.
const maxEmptyReads = 100

// splitter cuts a byte stream at a single delimiter byte. Both directions of
// the protocol use the same unescaped single-byte framing, differing only in
// the delimiter and in what an unterminated tail at EOF means.
type splitter struct {
	r       io.Reader
	initial int // first buffer size; 0 means initialSplitBuffer
	// ceiling, if above the buffer size, makes a full buffer double
	// instead of being compacted: a stream that keeps filling it gets big
	// reads, a session of a few lines keeps its small buffer.
	ceiling int
	delim   byte
	max     int // longest token accepted, excluding the delimiter
	tooBig  error
	buf     []byte
	start   int // first unconsumed byte
	end     int // end of valid data
	scanned int // bytes after start already known to hold no delimiter
	err     error
	failed  error // sticky: set once the stream can no longer be split
}

func newSplitter(r io.Reader, delim byte, max int, tooBig error) splitter {
	return splitter{r: r, delim: delim, max: max, tooBig: tooBig}
}

// next returns the next token without its delimiter. terminated reports
// whether the delimiter was seen; an unterminated token is only returned once,
// at the end of the stream. The token aliases the internal buffer and is valid
// until the following call.
func (s *splitter) next() (tok []byte, terminated bool, err error) {
	if s.failed != nil {
		return nil, false, s.failed
	}
	empty := 0
	for {
		if i := bytes.IndexByte(s.buf[s.start+s.scanned:s.end], s.delim); i >= 0 {
			pos := s.start + s.scanned + i
			if pos-s.start > s.max {
				s.failed = s.tooBig
				return nil, false, s.failed
			}
			tok = s.buf[s.start:pos:pos]
			s.start = pos + 1
			s.scanned = 0
			return tok, true, nil
		}
		s.scanned = s.end - s.start
		if s.scanned > s.max {
			s.failed = s.tooBig
			return nil, false, s.failed
		}
		if s.err != nil {
			s.failed = s.err
			if s.scanned > 0 {
				tok = s.buf[s.start:s.end:s.end]
				s.start, s.scanned = s.end, 0
				return tok, false, nil
			}
			return nil, false, s.failed
		}
		s.makeRoom()
		n, err := s.r.Read(s.buf[s.end:])
		if n < 0 || n > len(s.buf)-s.end {
			s.err = io.ErrShortBuffer
			continue
		}
		s.end += n
		s.err = err
		if n == 0 && err == nil {
			empty++
			if empty >= maxEmptyReads {
				s.err = io.ErrNoProgress
			}
			continue
		}
		empty = 0
	}
}

// makeRoom guarantees free space after end, first by discarding consumed
// bytes and only then by growing, capped at max+1 so that a token one byte
// over the limit is detected without ever holding more.
func (s *splitter) makeRoom() {
	if s.end < len(s.buf) {
		return
	}
	limit := s.max + 1
	if limit <= 0 { // overflow of max+1
		limit = s.max
	}
	if s.start > 0 && len(s.buf) >= min(s.ceiling, limit) {
		n := copy(s.buf, s.buf[s.start:s.end])
		s.start, s.end = 0, n
		if s.end < len(s.buf) {
			return
		}
	}
	size := 2 * len(s.buf)
	if first := s.initial; size < first {
		size = first
	} else if size < initialSplitBuffer {
		size = initialSplitBuffer
	}
	if size > limit {
		size = limit
	}
	if size <= len(s.buf) {
		// Only reachable when the buffer already holds max+1 bytes, which
		// next rejects before calling makeRoom.
		size = len(s.buf) + 1
	}
	nb := make([]byte, size)
	s.end = copy(nb, s.buf[s.start:s.end])
	s.start = 0
	s.buf = nb
}
