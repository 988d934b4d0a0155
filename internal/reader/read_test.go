package reader

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dtail-go/dtail/internal/match"
	"github.com/dtail-go/dtail/internal/sink"
)

func writeFile(t testing.TB, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A grep window marks its context lines: the sink can tell them from
// the matches (grep's `-` and `:` separators need it).
func TestReadContextRecords(t *testing.T) {
	p := writeFile(t, "a.log", "one\ntwo\nhit 1\nthree\nfour\nfive\nhit 2\nhit 3\nsix\n")
	m, _ := match.New("hit", false, false)
	var out textSinks
	New(Config{}).Read(context.Background(), Request{Mode: Grep, Glob: p, Matcher: m, Before: 1, After: 1}, &out)
	want := "a.log:2:C:two\na.log:3:hit 1\na.log:4:C:three\na.log:6:C:five\na.log:7:hit 2\na.log:8:hit 3\na.log:9:C:six\n"
	if got := out.String(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// cat hands whole blocks on as runs; their line numbers go on across
// blocks, and a last line without newline arrives as it is.
func TestReadCatRuns(t *testing.T) {
	var b strings.Builder
	for i := range 100000 {
		b.WriteString(strings.Repeat("x", i%50))
		b.WriteByte('\n')
	}
	b.WriteString("last")
	p := writeFile(t, "big.log", b.String())
	var lines runSinks
	New(Config{}).Read(context.Background(), Request{Mode: Cat, Glob: p}, &lines)
	if lines.runs != 0 || lines.text.String() != b.String() || lines.next != 100002 {
		t.Fatalf("without Runs: %d runs, %d bytes up to line %d", lines.runs, lines.text.Len(), lines.next-1)
	}
	var rs runSinks
	New(Config{}).Read(context.Background(), Request{Mode: Cat, Glob: p, Runs: true}, &rs)
	if rs.runs < 2 {
		t.Fatalf("%d runs: want whole blocks as runs", rs.runs)
	}
	if rs.text.String() != b.String() || rs.next != 100002 {
		t.Fatalf("got %d bytes up to line %d, want %d bytes up to line 100001", rs.text.Len(), rs.next-1, b.Len())
	}
	if rs.done.Lines != 100001 || rs.done.Bytes != int64(b.Len()) || rs.done.Failed {
		t.Fatalf("done %+v", rs.done)
	}
}

// runSinks checks that line numbers are consecutive.
type runSinks struct {
	text strings.Builder
	next uint64
	runs int
	done sink.Done
}

func (r *runSinks) Event(sink.Event)               {}
func (r *runSinks) File(src sink.Source) sink.File { r.next = 1; return r }
func (r *runSinks) Flush() error                   { return nil }
func (r *runSinks) Close(d sink.Done)              { r.done = d }
func (r *runSinks) Lines(recs []sink.Record) error {
	for i := range recs {
		if recs[i].Run {
			r.runs++
		}
		recs[i].Lines(func(line []byte, no uint64) {
			if no != r.next {
				r.next = 0
			}
			r.next++
			r.text.Write(line)
		})
	}
	return nil
}

// Unreadable sources are events with the reason; counting reads report
// their count when the source ends.
func TestReadEvents(t *testing.T) {
	p := writeFile(t, "a.log", "a\nb\na\n")
	m, _ := match.New("a", false, false)
	var out textSinks
	r := New(Config{})
	r.Read(context.Background(), Request{Mode: Grep, Glob: p, Matcher: m, Count: true}, &out)
	r.Read(context.Background(), Request{Mode: Cat, Glob: p + ".missing"}, &out)
	got := out.String()
	if !strings.Contains(got, "a.log count 2\n") || !strings.Contains(got, "a.log.missing open "+p+".missing: file does not exist") {
		t.Fatalf("got %q", got)
	}
}

// discard is the cheapest sink: what the benchmarks measure is the
// reader's own cost per block and line.
type discard struct{ n int }

func (d *discard) Event(sink.Event)               {}
func (d *discard) File(src sink.Source) sink.File { return d }
func (d *discard) Flush() error                   { return nil }
func (d *discard) Close(sink.Done)                {}
func (d *discard) Lines(recs []sink.Record) error {
	for i := range recs {
		d.n += len(recs[i].Line)
	}
	return nil
}

func benchFile(b *testing.B) string {
	var sb strings.Builder
	for i := 0; sb.Len() < 32<<20; i++ {
		sev := "INFO"
		if i%97 == 0 {
			sev = "ERROR"
		}
		sb.WriteString(sev + "|20260102-030405|host|user=u" + strings.Repeat("7", i%9) + "|status=200|path=/api/v1/items\n")
	}
	return writeFile(b, "bench.log", sb.String())
}

func benchRead(b *testing.B, req Request) {
	p := benchFile(b)
	fi, _ := os.Stat(p)
	req.Glob = p
	r := New(Config{})
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for range b.N {
		var d discard
		r.Read(context.Background(), req, &d)
		if d.n == 0 {
			b.Fatal("nothing read")
		}
	}
}

func BenchmarkReadCat(b *testing.B)     { benchRead(b, Request{Mode: Cat}) }
func BenchmarkReadCatRuns(b *testing.B) { benchRead(b, Request{Mode: Cat, Runs: true}) }

func BenchmarkReadGrep(b *testing.B) {
	m, _ := match.New("ERROR", false, false)
	benchRead(b, Request{Mode: Grep, Matcher: m})
}

func BenchmarkReadGrepEveryLine(b *testing.B) {
	m, _ := match.New("status=200", false, false)
	benchRead(b, Request{Mode: Grep, Matcher: m})
}
