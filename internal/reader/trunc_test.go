package reader

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/dtail-go/dtail/internal/sink"
)

// truncSinks truncates the file being read after the first block.
type truncSinks struct {
	textSinks
	path  string
	done  bool
	lines int
}

func (t *truncSinks) File(src sink.Source) sink.File { return t }
func (t *truncSinks) Flush() error                   { return nil }
func (t *truncSinks) Close(d sink.Done)              { t.done = true }
func (t *truncSinks) Lines(recs []sink.Record) error {
	for i := range recs {
		recs[i].Lines(func(line []byte, _ uint64) { t.lines++ })
	}
	if !t.done {
		os.Truncate(t.path, 0)
		t.done = true
	}
	return nil
}

// A plain file truncated while it is read (mapped) ends the read with
// an Unreadable event, not a crash.
func TestReadTruncatedMidRead(t *testing.T) {
	p := writeFile(t, "t.log", strings.Repeat("L0123456789 some log line text\n", 200000))
	ts := &truncSinks{path: p}
	New(Config{}).Read(context.Background(), Request{Mode: Cat, Glob: p}, ts)
	if got := ts.String(); !strings.Contains(got, "truncated") {
		t.Fatalf("events %q after %d lines", got, ts.lines)
	}
}
