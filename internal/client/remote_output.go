package client

import (
	"bufio"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Output sizes of spec §5.6.2: stdout is 64 KiB buffered and flushed every
// 100 ms and at exit, so that thousands of small REMOTE lines cost few
// write calls while a slow trickle still shows up promptly.
const (
	OutputBufferSize    = 64 << 10
	OutputFlushInterval = 100 * time.Millisecond
)

// Output is the one buffered stdout writer that every server connection and
// the client logger share. Each Write is appended under a lock, so a
// message written in one call is never interleaved with another server's.
type Output struct {
	mu     sync.Mutex
	cond   *sync.Cond // signalled when a hold ends
	w      *bufio.Writer
	held   int
	err    error
	failed chan struct{} // closed on the first write error

	stop      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once

	// status is a progress line kept below the output on a terminal
	// (stored without mu: the run sets it while a writer may be stuck
	// on a stdout nobody reads); statusDrawn tells that it is on screen
	// and must be erased before more output.
	status      atomic.Pointer[string]
	statusDrawn bool
	// abandoned: the run ended by a signal while stdout was blocked;
	// Flush, Close and the status no longer wait for the lock.
	abandoned atomic.Bool
	// drawn is the status text on screen; width (nil off a terminal)
	// gives the columns it is cut to (status.go).
	drawn string
	width func() int
}

// clearStatus is carriage return plus erase-line.
const clearStatus = "\r\x1b[K"

// SetStatus sets the progress line drawn after each flush ("" hides it).
func (o *Output) SetStatus(line string) {
	o.status.Store(&line)
}

// Abandon gives up on what is still buffered or being written: after a
// second Ctrl+C (or SIGTERM) the process must end even when a paused
// pager or a full pipe blocks stdout, as grep's would. Writers already
// blocked stay blocked until the process exits.
func (o *Output) Abandon() { o.abandoned.Store(true) }

// NewOutput wraps w with the 64 KiB buffer and starts the periodic flush;
// Close stops it.
func NewOutput(w io.Writer) *Output {
	return newOutput(w, OutputBufferSize, OutputFlushInterval)
}

func newOutput(w io.Writer, size int, interval time.Duration) *Output {
	o := &Output{
		w:       bufio.NewWriterSize(w, size),
		failed:  make(chan struct{}),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	o.width = termWidth(w)
	o.cond = sync.NewCond(&o.mu)
	go o.flushLoop(interval)
	return o
}

func (o *Output) flushLoop(interval time.Duration) {
	defer close(o.stopped)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			o.Flush()
		}
	}
}

// Write appends p as one unit. While the output is held (a host key
// question is on the terminal) writers wait, which lets the SSH channel
// windows push back on the servers instead of buffering without bound.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.held > 0 {
		o.cond.Wait()
	}
	if o.err != nil {
		return 0, o.err
	}
	if o.statusDrawn {
		o.w.WriteString(clearStatus)
		o.statusDrawn = false
	}
	n, err := o.w.Write(p)
	o.setErr(err)
	return n, err
}

// Flush writes out what is buffered (not while held).
func (o *Output) Flush() error {
	if o.abandoned.Load() {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.held > 0 {
		return nil
	}
	if o.err != nil {
		return o.err
	}
	status := ""
	if p := o.status.Load(); p != nil {
		status = *p
	}
	if status != "" || o.statusDrawn {
		line := status
		if o.width != nil {
			line = fitStatus(line, o.width())
		}
		// Redrawn only when it changed: every flush (100 ms) rewriting
		// the same line makes terminals and recorders churn.
		if !o.statusDrawn || line != o.drawn {
			o.w.WriteString(clearStatus)
			o.statusDrawn = false
			if line != "" {
				o.w.WriteString(line)
				o.statusDrawn, o.drawn = true, line
			}
		}
	}
	err := o.w.Flush()
	o.setErr(err)
	return err
}

// setErr records the first write error; the caller holds mu.
func (o *Output) setErr(err error) {
	if err != nil && o.err == nil {
		o.err = err
		close(o.failed)
	}
}

// Failed is closed when writing to the underlying writer failed (e.g. the
// reader of a pipe went away); the run should end then.
func (o *Output) Failed() <-chan struct{} { return o.failed }

// Err returns the first write error.
func (o *Output) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// Hold flushes and then blocks further writes until the returned function
// is called, so that a question printed directly to the terminal is not
// interleaved with payload. Holds nest.
func (o *Output) Hold() (release func()) {
	o.mu.Lock()
	if o.err == nil {
		// The question must not sit on (or behind) the progress line.
		if o.statusDrawn {
			o.w.WriteString(clearStatus)
			o.statusDrawn = false
		}
		o.setErr(o.w.Flush())
	}
	o.held++
	o.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			o.mu.Lock()
			o.held--
			o.mu.Unlock()
			o.cond.Broadcast()
		})
	}
}

// Close stops the periodic flush and flushes the rest. Writes after Close
// still work but are only flushed by Flush.
func (o *Output) Close() error {
	o.closeOnce.Do(func() {
		close(o.stop)
		if !o.abandoned.Load() {
			// (An abandoned flush loop may be stuck on the lock.)
			<-o.stopped
		}
	})
	return o.Flush()
}
