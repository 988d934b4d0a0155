package cli

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/dtail-go/dtail/internal/client"
	"golang.org/x/term"
)

// withCoalesce runs run and, with --coalesce, prints the template summary:
// for a follow on a terminal as a top list redrawn every 2 s, and always
// once at the end.
func withCoalesce(o client.Options, out io.Writer, run func() int) int {
	co := o.Output.Coalesce
	if co == nil {
		return run()
	}
	ctx, cancel := context.WithCancel(context.Background())
	if o.Mode == client.ModeTail {
		if f, ok := stdoutFile(out); ok && term.IsTerminal(int(f.Fd())) {
			rows := 20
			if _, h, err := term.GetSize(int(f.Fd())); err == nil && h > 6 {
				rows = h - 4
			}
			go co.Live(ctx, out, 2*time.Second, rows)
		}
	}
	code := run()
	cancel()
	co.Report(out, client.CoalesceTop)
	if fl, ok := out.(interface{ Flush() error }); ok {
		fl.Flush()
	}
	return code
}

func stdoutFile(w io.Writer) (*os.File, bool) {
	f, ok := w.(*os.File)
	return f, ok
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := stdoutFile(w)
	return ok && term.IsTerminal(int(f.Fd()))
}
