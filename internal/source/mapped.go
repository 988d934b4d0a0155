package source

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime/debug"
)

// ErrTruncated reports a mapped file that shrank while it was read: the
// pages past its new end fault (SIGBUS), which the read turns into this
// error instead of a crash.
var ErrTruncated = errors.New("file was truncated while being read")

// Mapping is a regular file mapped read-only. Searching the page cache in
// place saves the read(2) copy (a quarter of the CPU of a rare-literal
// grep) and lets parallel workers take batches as views instead of
// copies. A copytruncate rotation can shrink the file under the mapping;
// every goroutine touching the bytes runs with debug.SetPanicOnFault and
// turns the fault into ErrTruncated (guardFault).
type Mapping struct {
	data     []byte
	released int // pages before this offset were given back (MADV_DONTNEED)
}

// MinMapSize: smaller files are read with read(2); mapping costs two
// system calls and a fault per 64 KB, which only pays off on larger files.
const MinMapSize = 256 << 10

// releaseStep: pages behind the read are dropped from the process in
// steps of this size, so peak RSS stays a few MB on a large file (mapped
// pages count towards RSS while they are in the page tables).
const releaseStep = 8 << 20

// MapFile maps f for a one-shot read. It returns nil when the file is not
// worth or not able to be mapped (small, empty, not regular, no mmap on
// this system); the caller then reads it with read(2).
func MapFile(f *os.File) *Mapping {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < MinMapSize || int64(int(fi.Size())) != fi.Size() {
		return nil
	}
	data, err := mmapFile(f, int(fi.Size()))
	if err != nil {
		return nil
	}
	return &Mapping{data: data}
}

// Len is the mapped size (the file's size when it was mapped).
func (m *Mapping) Len() int { return len(m.data) }

// Close unmaps the file; no goroutine may touch its bytes afterwards.
func (m *Mapping) Close() error {
	if m.data == nil {
		return nil
	}
	err := munmap(m.data)
	m.data = nil
	return err
}

// release gives back the pages before off (rounded down to a page).
func (m *Mapping) release(off int) {
	if off-m.released < releaseStep {
		return
	}
	off &^= os.Getpagesize() - 1
	if off > m.released {
		dontNeed(m.data[m.released:off])
		m.released = off
	}
}

// guardFault, deferred, turns the panic of a memory fault on a mapped
// file (after debug.SetPanicOnFault) into ErrTruncated; other panics go
// on.
func guardFault(err *error) {
	if r := recover(); r != nil {
		if _, ok := r.(interface{ Addr() uintptr }); ok {
			*err = ErrTruncated
			return
		}
		panic(r)
	}
}

// faultSafe runs f with memory faults turned into ErrTruncated on this
// goroutine.
func faultSafe(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer guardFault(&err)
	return f()
}

// mappedBlock is the size of the line blocks cut from a mapping: the same
// order as a parallel batch, so a worker gets one view per block.
const mappedBlock = ParallelBatchSize

// RunMapped is Run over a mapped file: blocks of whole lines are views of
// the mapping (no copy), with the same MaxLineLength chunking and EOF
// handling as Run. If the file grew after it was mapped, the read goes on
// with rest (a reader positioned at m.Len(); nil: stop at the mapped
// size), so the result equals a read(2) to EOF. A fault from a
// truncation while reading returns ErrTruncated.
func (s *Splitter) RunMapped(m *Mapping, rest io.Reader, h Handler) error {
	err := faultSafe(func() error { return s.runMapped(m, rest, h, h, 0) })
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// runMapped hands out the mapping's blocks to h (views, valid while the
// mapping is) and what rest adds to hCopy (the Splitter's reused
// buffer); lag keeps the pages of the last lag bytes mapped (batches
// still in flight on workers).
func (s *Splitter) runMapped(m *Mapping, rest io.Reader, h, hCopy Handler, lag int) error {
	s.init()
	data := m.data
	maxLen := s.maxLine()
	pos := 0
	for pos < len(data) {
		end := pos + mappedBlock
		if end > len(data) {
			end = len(data)
		}
		nl := bytes.LastIndexByte(data[pos:end], '\n')
		if nl < 0 {
			// A line longer than the block: it ends within MaxLineLength
			// (never look further ahead than one line's limit), or ...
			lim := min(pos+maxLen+1, len(data))
			k := -1
			if end < lim {
				k = bytes.IndexByte(data[end:lim], '\n')
			}
			if k < 0 {
				// No newline in data[pos:clear]: the tail, or chunks of
				// a line longer than the limit, as many as lie there.
				clear := max(end, lim)
				if len(data)-pos <= maxLen {
					break
				}
				for clear-pos > maxLen {
					s.longLine()
					pos += maxLen
					s.Offset = int64(pos)
					if err := h(data[pos-maxLen:pos], Chunk); err != nil {
						return err
					}
				}
				if pos > lag {
					m.release(pos - lag)
				}
				continue
			}
			nl = end - pos + k
		}
		region := data[pos : pos+nl+1]
		pos += len(region)
		s.Offset = int64(pos)
		if err := s.complete(region, h); err != nil {
			return err
		}
		if pos > lag {
			m.release(pos - lag)
		}
	}
	tail := data[pos:]
	for len(tail) > maxLen {
		s.longLine()
		if err := h(tail[:maxLen], Chunk); err != nil {
			return err
		}
		tail = tail[maxLen:]
	}
	s.Offset = int64(len(data))
	if rest == nil {
		if len(tail) > 0 && !s.Partial {
			s.inLong = false
			return h(tail, EOF)
		}
		return nil
	}
	// Carry the unterminated tail into the buffer and read on.
	if len(s.buf) < len(tail)+1 {
		s.buf = make([]byte, len(tail)+DefaultBufferSize)
	}
	s.keep = copy(s.buf, tail)
	return s.Run(rest, hCopy)
}
