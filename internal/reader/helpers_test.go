package reader

import (
	"fmt"
	"strings"
	"sync"

	"github.com/dtail-go/dtail/internal/sink"
)

// textSinks records what a read delivered as text: `id:no:line` per
// selected line (`id:no:C:line` for context lines), `id count N` per
// counted source, and one line per event.
type textSinks struct {
	mu sync.Mutex
	b  strings.Builder
}

func (t *textSinks) String() string { t.mu.Lock(); defer t.mu.Unlock(); return t.b.String() }

func (t *textSinks) Event(ev sink.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(&t.b, "event %d %s %v\n", ev.Kind, ev.Source.Path, ev.Err)
}

func (t *textSinks) File(src sink.Source) sink.File { return &textFile{t: t, src: src} }

type textFile struct {
	t   *textSinks
	src sink.Source
}

func (f *textFile) Lines(recs []sink.Record) error {
	f.t.mu.Lock()
	defer f.t.mu.Unlock()
	for i := range recs {
		r := &recs[i]
		r.Lines(func(line []byte, no uint64) {
			c := ""
			if r.Context {
				c = "C:"
			}
			fmt.Fprintf(&f.t.b, "%s:%d:%s%s", f.src.ID, no, c, line)
			if !strings.HasSuffix(string(line), "\n") {
				f.t.b.WriteByte('\n')
			}
		})
	}
	return nil
}

func (f *textFile) Flush() error { return nil }

func (f *textFile) Close(d sink.Done) {
	if d.Counted {
		f.t.mu.Lock()
		fmt.Fprintf(&f.t.b, "%s count %d\n", f.src.ID, d.Count)
		f.t.mu.Unlock()
	}
}

// fixedLogger records log lines.
type fixedLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *fixedLogger) log(level string, args []any) string {
	parts := []string{level}
	for _, a := range args {
		parts = append(parts, fmt.Sprint(a))
	}
	line := strings.Join(parts, "|") + "\n"
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	return line
}
func (l *fixedLogger) Info(a ...any) string  { return l.log("INFO", a) }
func (l *fixedLogger) Debug(a ...any) string { return "" }

func (l *fixedLogger) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.lines {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}
