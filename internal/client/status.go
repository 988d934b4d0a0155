package client

import (
	"io"
	"os"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// termWidth returns a function reporting the terminal's current width in
// columns, or nil when w is not a terminal. It is asked at every redraw,
// so a resized pane gets a fitting line at the next one.
func termWidth(w io.Writer) func() int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	fd := int(f.Fd())
	return func() int {
		cols, _, err := term.GetSize(fd)
		if err != nil {
			return 0
		}
		return cols
	}
}

// fitStatus cuts line to fewer than width columns: a line as wide as the
// terminal wraps (or parks the cursor past the margin) on many terminals,
// and "\r\x1b[K" then erases only the last row, leaving a stale copy in
// the scrollback at every redraw. The status line is ASCII and host
// names; a rune counts as one column. width ≤ 0 (unknown) leaves it.
func fitStatus(line string, width int) string {
	if width <= 0 {
		return line
	}
	max := width - 1
	if max < 1 {
		return ""
	}
	if utf8.RuneCountInString(line) <= max {
		return line
	}
	n := 0
	for i := range line {
		if n == max-1 {
			return line[:i] + "…"
		}
		n++
	}
	return line
}

// asideWriter writes diagnostics to another stream (stderr) of the same
// terminal: the status line is erased first, so a message never lands
// behind it on its row; the next flush draws the status again below.
type asideWriter struct {
	o *Output
	w io.Writer
}

// Aside returns w wrapped so that writes to it erase the status line
// first (see asideWriter).
func (o *Output) Aside(w io.Writer) io.Writer { return &asideWriter{o: o, w: w} }

// asideWait bounds how long a diagnostic waits for the output: a writer
// blocked on a stdout nobody reads (a paused pager, a full pipe) holds
// mu for as long as it blocks, and the Ctrl+C hint or a server's error
// must still appear at once.
const asideWait = 200 * time.Millisecond

func (a *asideWriter) Write(p []byte) (int, error) {
	o := a.o
	deadline := time.Now().Add(asideWait)
	for !o.mu.TryLock() {
		if time.Now().After(deadline) {
			// The status line may stay on screen above the message;
			// better than a diagnostic stuck behind payload.
			return a.w.Write(p)
		}
		time.Sleep(time.Millisecond)
	}
	defer o.mu.Unlock()
	if o.statusDrawn && o.held == 0 && o.err == nil {
		o.w.WriteString(clearStatus)
		o.statusDrawn = false
		o.setErr(o.w.Flush())
	}
	return a.w.Write(p)
}
