package sink

import (
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// BatchSize is the size at which a reader hands its formatted lines to
// the writer. The spec batches per 64 KiB; over SSH that is two packets.
const BatchSize = 64 << 10

// Output owns the destination writer. Readers format whole messages into
// batches and Send them; one goroutine writes them in arrival order, so
// the SSH channel (or stdout) has a single writer. Send blocks when the
// queue is full: a slow consumer slows the readers down instead of lines
// being dropped.
type Output struct {
	w    io.Writer
	ch   chan []byte
	free sync.Pool
	done chan struct{}

	mu     sync.Mutex
	err    error
	closed bool

	// writeStart is the UnixNano time the current Write began, 0 when
	// idle; the stall watchdog reads it.
	writeStart atomic.Int64
}

// NewOutput starts the writer goroutine; queue is the number of batches
// that may wait.
func NewOutput(w io.Writer, queue int) *Output {
	if queue <= 0 {
		queue = 16
	}
	o := &Output{w: w, ch: make(chan []byte, queue), done: make(chan struct{})}
	go o.loop()
	return o
}

func (o *Output) loop() {
	defer close(o.done)
	for b := range o.ch {
		if o.Err() == nil {
			o.writeStart.Store(time.Now().UnixNano())
			_, err := o.w.Write(b)
			o.writeStart.Store(0)
			if err != nil {
				o.mu.Lock()
				o.err = err
				o.mu.Unlock()
			}
			if f, ok := o.w.(interface{ Flush() error }); ok && len(o.ch) == 0 {
				f.Flush()
			}
		}
		o.put(b)
	}
}

// Watch calls onStall once when a single write has not completed for
// longer than timeout: a client that stops reading must not hold the
// server's read slots forever. The watchdog ends with the output.
func (o *Output) Watch(timeout time.Duration, onStall func()) {
	if timeout <= 0 || onStall == nil {
		return
	}
	tick := timeout / 4
	if tick > time.Second {
		tick = time.Second
	}
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-o.done:
				return
			case <-t.C:
				if st := o.writeStart.Load(); st != 0 && time.Since(time.Unix(0, st)) > timeout {
					onStall()
					return
				}
			}
		}
	}()
}

// Err reports the first write error; readers stop when it is set.
func (o *Output) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// firstCap is the capacity of a new batch buffer. Buffers grow to what
// their session needs (for a plain cat: a batch not yet at BatchSize plus
// one whole 256 KiB read block) and are reused from then on; a new buffer
// of that size for each of a session's first messages cost 600 KiB
// zeroed per session (7 % of dserver's CPU when thousands of
// sessions each read a short file).
const firstCap = 4 << 10

// Get returns an empty batch buffer.
func (o *Output) Get() []byte {
	if b, ok := o.free.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, firstCap)
}

func (o *Output) put(b []byte) {
	if cap(b) > 4<<20 {
		return // keep buffers that fit a MaxLineLength chunk, drop larger ones
	}
	b = b[:0]
	o.free.Put(&b)
}

// Send queues a batch; empty batches are recycled. The batch must not be
// used by the caller afterwards.
func (o *Output) Send(b []byte) {
	if len(b) == 0 {
		o.put(b)
		return
	}
	o.ch <- b
}

// SendBytes copies p into a batch and queues it.
func (o *Output) SendBytes(p []byte) {
	b := append(o.Get(), p...)
	o.Send(b)
}

// Close waits until every queued batch was written.
func (o *Output) Close() error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		<-o.done
		return o.Err()
	}
	o.closed = true
	o.mu.Unlock()
	close(o.ch)
	<-o.done
	return o.Err()
}
