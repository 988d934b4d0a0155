package client

import (
	"bytes"
	"context"
	"io"
	"time"

	"github.com/dtail-go/dtail/internal/coalesce"
	"github.com/dtail-go/dtail/internal/protocol"
)

// CoalesceTop is how many templates the final summary lists.
const CoalesceTop = 50

// Coalescer turns the line stream into a template summary (--coalesce).
type Coalescer struct {
	c    *coalesce.Counter
	host string // serverless: the local host
	buf  []byte
}

// NewCoalescer returns a coalescer; host names serverless lines.
func NewCoalescer(host string) *Coalescer {
	return &Coalescer{c: &coalesce.Counter{}, host: host}
}

// Message consumes a REMOTE line from a server; other messages are left
// to the caller.
func (co *Coalescer) Message(msg []byte) bool {
	rl, ok := protocol.ParseRemoteLine(msg)
	if !ok {
		return false
	}
	co.c.Add(string(rl.Host), bytes.TrimSuffix(rl.Content, []byte{'\n'}))
	return true
}

// Write takes plain local output (serverless), one line per '\n'.
func (co *Coalescer) Write(p []byte) (int, error) {
	n := len(p)
	co.buf = append(co.buf, p...)
	for {
		i := bytes.IndexByte(co.buf, '\n')
		if i < 0 {
			break
		}
		co.c.Add(co.host, co.buf[:i])
		co.buf = co.buf[i+1:]
	}
	return n, nil
}

// flush counts a last line without newline.
func (co *Coalescer) flush() {
	if len(co.buf) > 0 {
		co.c.Add(co.host, co.buf)
		co.buf = nil
	}
}

// Report writes the summary, largest templates first.
func (co *Coalescer) Report(w io.Writer, top int) {
	co.flush()
	rows, other, total := co.c.Top(top)
	coalesce.Render(w, rows, other, total, co.c.Capped())
}

// Live redraws the top list on a terminal every interval until ctx ends.
func (co *Coalescer) Live(ctx context.Context, w io.Writer, every time.Duration, rows int) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			io.WriteString(w, "\x1b[H\x1b[2J") // home, clear screen
			co.Report(w, rows)
			if f, ok := w.(interface{ Flush() error }); ok {
				f.Flush()
			}
		}
	}
}
