package timewindow

import (
	"bytes"
	"io"
)

// Sizes of the probes into plain files.
const (
	probeSize = 4 << 10
	// probeLimit bounds how far one probe reads looking for a line with a
	// timestamp; past it the search gives up and the caller scans.
	probeLimit = 2 << 20
	// scanSpan: once the search range is this small, reading it line by
	// line is cheaper than probing further.
	scanSpan = 16 << 10
)

// Filter decides line by line whether a line lies in the window. A line
// without a timestamp (a continuation line, e.g. of a stack trace)
// inherits the last timestamp seen; before any timestamp it is outside.
type Filter struct {
	W     Window
	X     *Extractor
	Last  int64
	Known bool
}

// Line reports whether line is inside the window, and whether it is a
// timestamped line at or after Until, where a sorted log can stop.
func (f *Filter) Line(line []byte) (in, past bool) {
	if t, ok := f.X.Extract(line); ok {
		f.Last, f.Known = t, true
		if t >= f.W.Until {
			return false, true
		}
		return t >= f.W.Since, false
	}
	if !f.Known {
		return false, false
	}
	return f.W.Contains(f.Last), false
}

// FirstTimestamp returns the timestamp of the first line of r that has
// one, reading at most limit bytes; n is the number of bytes read.
func FirstTimestamp(r io.Reader, x *Extractor, limit int) (t int64, ok bool, n int64) {
	buf := make([]byte, min(limit, probeSize))
	// The first line is usually short: start small, then read more.
	step := min(512, len(buf))
	var pending []byte
	for n < int64(limit) {
		m, err := r.Read(buf[:step])
		step = len(buf)
		n += int64(m)
		data := buf[:m]
		if len(pending) > 0 {
			data = append(pending, data...)
		}
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			if t, ok := x.Extract(data[:i]); ok {
				return t, true, n
			}
			data = data[i+1:]
		}
		// Keep only a line start; a timestamp is within its first bytes.
		if len(data) > 64 {
			data = data[:64]
		}
		pending = append(pending[:0], data...)
		if err != nil {
			if t, ok := x.Extract(pending); ok {
				return t, true, n
			}
			return 0, false, n
		}
	}
	return 0, false, n
}

// LastTimestamp returns the timestamp of the last line with one in the
// last tail bytes of a file of the given size.
func LastTimestamp(r io.ReaderAt, size int64, x *Extractor, tail int) (t int64, ok bool, n int64) {
	// Most last lines are short: look at the last KiBs first.
	for try := min(4<<10, tail); ; try = tail {
		t, ok, m := lastTimestamp(r, size, x, try)
		n += m
		if ok || try >= tail || int64(try) >= size {
			return t, ok, n
		}
	}
}

func lastTimestamp(r io.ReaderAt, size int64, x *Extractor, tail int) (t int64, ok bool, n int64) {
	if size <= 0 {
		return 0, false, 0
	}
	off := max(size-int64(tail), 0)
	buf := make([]byte, size-off)
	m, err := r.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return 0, false, int64(m)
	}
	buf = buf[:m]
	n = int64(m)
	if off > 0 {
		// The first piece may be the end of a line: skip it.
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return 0, false, n
		}
		buf = buf[i+1:]
	}
	for len(buf) > 0 {
		end := len(buf)
		if buf[end-1] == '\n' {
			end--
		}
		i := bytes.LastIndexByte(buf[:end], '\n')
		if t, ok := x.Extract(buf[i+1 : end]); ok {
			return t, true, n
		}
		if i < 0 {
			break
		}
		buf = buf[:i+1]
	}
	return 0, false, n
}

// SeekStart finds where reading a plain file of the given size must start
// so that no line at or after since is missed: the returned offset is a
// line start at or before the first line whose timestamp is ≥ since
// (continuation lines inherit). It binary-searches with probes (seek,
// resync to the next newline, parse the first timestamped line) until the
// range is small, and gives up (returning the range start, for a linear
// scan) when probes find no timestamps. n is the number of bytes read.
func SeekStart(r io.ReaderAt, size, since int64, x *Extractor) (off int64, n int64) {
	lo, hi := int64(0), size
	buf := make([]byte, probeSize)
	for hi-lo > scanSpan {
		mid := lo + (hi-lo)/2
		_, end, t, ok, read := probe(r, mid, size, x, buf)
		n += read
		if !ok {
			break // no timestamps here: scan linearly from lo
		}
		if t < since {
			if end <= lo {
				break
			}
			lo = end
		} else {
			hi = mid
		}
	}
	// lo is 0 or a line end, so a line start.
	return lo, n
}

// probe finds the first line starting after pos (pos itself when it
// follows a newline) that has a timestamp. It returns that line's start,
// end (after its newline), timestamp, and the bytes read.
func probe(r io.ReaderAt, pos, size int64, x *Extractor, buf []byte) (start, end, t int64, ok bool, n int64) {
	// Resync: a line starts after the first newline at or after pos-1.
	at := pos - 1
	if at < 0 {
		at = 0
	}
	var pending []byte
	pendingStart := int64(-1)
	if pos == 0 {
		pendingStart = 0
	}
	step := min(1<<10, len(buf))
	for n < probeLimit && at < size {
		m, err := r.ReadAt(buf[:step], at)
		step = len(buf)
		n += int64(m)
		data := buf[:m]
		base := at
		at += int64(m)
		for len(data) > 0 {
			if pendingStart < 0 {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					data = nil
					break
				}
				pendingStart = base + int64(i) + 1
				base += int64(i) + 1
				data = data[i+1:]
				continue
			}
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				if len(pending) < 64 {
					pending = append(pending, data[:min(len(data), 64-len(pending))]...)
				}
				data = nil
				break
			}
			line := data[:i]
			if len(pending) > 0 {
				line = append(pending, line[:min(len(line), 64)]...)
			}
			lineEnd := base + int64(i) + 1
			if tt, good := x.Extract(line); good {
				return pendingStart, lineEnd, tt, true, n
			}
			pending = pending[:0]
			pendingStart = lineEnd
			base = lineEnd
			data = data[i+1:]
		}
		if err != nil {
			break
		}
	}
	return 0, 0, 0, false, n
}
