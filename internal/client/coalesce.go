package client

import (
	"context"
	"io"
	"time"

	"github.com/dtail-go/dtail/internal/coalesce"
)

// CoalesceTop is how many templates the final summary lists.
const CoalesceTop = 50

// Coalescer turns the line stream into a template summary (--coalesce):
// it is the printer of a run's output chain (OutputOptions.Coalesce) and counts
// the typed lines, serverless and remote alike.
type Coalescer struct {
	c *coalesce.Counter
}

// NewCoalescer returns a coalescer.
func NewCoalescer() *Coalescer {
	return &Coalescer{c: &coalesce.Counter{}}
}

// add counts one line (its newline is not part of the template).
func (co *Coalescer) add(host, content []byte) {
	co.c.Add(string(host), trimEOL(content))
}

// Report writes the summary, largest templates first.
func (co *Coalescer) Report(w io.Writer, top int) {
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
