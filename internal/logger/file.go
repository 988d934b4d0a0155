package logger

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

const (
	fileBufferSize = 64 * 1024
	flushInterval  = 100 * time.Millisecond
	// openRetryDelay keeps a broken LogDir from costing an open() per line.
	openRetryDelay = time.Second
)

// fileSink is the buffered log file with its rotation rule.
type fileSink struct {
	dir    string
	name   string
	daily  bool
	stderr io.Writer
	clock  func() time.Time

	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	day     int // YYYYMMDD of the open daily file
	failing bool
	retryAt time.Time
	closed  bool

	stop chan struct{}
	done chan struct{}
}

func newFileSink(dir, name string, daily bool, stderr io.Writer, clock func() time.Time) *fileSink {
	return &fileSink{
		clock:  clock,
		dir:    dir,
		name:   name,
		daily:  daily,
		stderr: stderr,
		w:      bufio.NewWriterSize(io.Discard, fileBufferSize),
	}
}

func (s *fileSink) startFlusher(every time.Duration) {
	s.stop = make(chan struct{})
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				_ = s.flush()
			}
		}
	}()
}

func (s *fileSink) write(line []byte, now time.Time, flush bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ready(now) {
		return
	}
	if _, err := s.w.Write(line); err != nil {
		s.fail(err)
		return
	}
	if flush {
		s.flushLocked()
	}
}

func (s *fileSink) writeRaw(line []byte, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ready(now) {
		return
	}
	_, err := s.w.Write(line)
	if err == nil && (len(line) == 0 || line[len(line)-1] != '\n') {
		err = s.w.WriteByte('\n')
	}
	if err != nil {
		s.fail(err)
	}
}

// ready makes sure the right file is open for a line logged at now.
func (s *fileSink) ready(now time.Time) bool {
	if s.closed {
		return false
	}
	day := 0
	if s.daily {
		y, m, d := now.Date()
		day = y*10000 + int(m)*100 + d
		if s.f != nil && day != s.day {
			s.closeFile()
		}
	}
	if s.f != nil {
		return true
	}
	if s.failing && now.Before(s.retryAt) {
		return false
	}
	path := filepath.Join(s.dir, s.name+".log")
	if s.daily {
		path = filepath.Join(s.dir, fmt.Sprintf("%08d.log", day))
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		s.fail(err)
		return false
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		s.fail(err)
		return false
	}
	s.f, s.day, s.failing = f, day, false
	s.w.Reset(f)
	return true
}

// fail reports the first error of a streak and drops the file so that a
// later line retries from scratch.
func (s *fileSink) fail(err error) {
	if !s.failing {
		fmt.Fprintf(s.stderr, "dtail: log file: %v\n", err)
	}
	s.failing = true
	s.retryAt = s.clock().Add(openRetryDelay)
	if s.f != nil {
		_ = s.f.Close()
		s.f = nil
	}
	s.w.Reset(io.Discard)
}

func (s *fileSink) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked()
}

func (s *fileSink) flushLocked() error {
	if s.f == nil || s.w.Buffered() == 0 {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		s.fail(err)
		return err
	}
	return nil
}

// closeFile flushes and closes the current file; errors were already
// reported by flush or are unreportable at this point.
func (s *fileSink) closeFile() {
	if s.f == nil {
		return
	}
	_ = s.flushLocked()
	if s.f != nil {
		_ = s.f.Close()
		s.f = nil
	}
	s.w.Reset(io.Discard)
}

func (s *fileSink) reopen() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeFile()
	s.failing = false
}

func (s *fileSink) close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if s.stop != nil {
		close(s.stop)
		<-s.done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.f != nil {
		err = s.w.Flush()
		if e := s.f.Close(); err == nil {
			err = e
		}
		s.f = nil
	}
	s.w.Reset(io.Discard)
	return err
}

// CheckDir creates dir if needed and proves that a file can be created in
// it. A daemon whose file sink cannot write would otherwise run without a
// single log line (the sink only reports to stderr, which may be gone).
func CheckDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	err = f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}
