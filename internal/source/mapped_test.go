package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type piece struct {
	data string
	end  Ending
}

// collectPieces returns what a handler saw, merged: consecutive Newline blocks
// are joined (block boundaries are free to differ between Run and
// RunMapped; the lines, chunks and their order are not).
func collectPieces(run func(Handler) error) ([]piece, error) {
	var out []piece
	err := run(func(data []byte, end Ending) error {
		if end == Newline && len(out) > 0 && out[len(out)-1].end == Newline {
			out[len(out)-1].data += string(data)
			return nil
		}
		out = append(out, piece{string(data), end})
		return nil
	})
	return out, err
}

func writeTemp(t *testing.T, content string) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.log")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func mappedInputs() map[string]string {
	var b strings.Builder
	for i := 0; b.Len() < 3<<20; i++ {
		fmt.Fprintf(&b, "line %d %s\n", i, strings.Repeat("x", i%300))
	}
	lines := b.String()
	return map[string]string{
		"lines":            lines,
		"no final newline": lines + "tail without newline",
		"long lines":       lines[:1<<20] + strings.Repeat("L", 2500000) + "\n" + lines[:1<<20] + strings.Repeat("M", 5000),
		"one long line":    strings.Repeat("Z", 3<<20),
	}
}

// TestRunMappedEqualsRun: a mapped read hands the handler the same
// lines, chunks and EOF piece as a read(2) of the same file.
func TestRunMappedEqualsRun(t *testing.T) {
	for name, in := range mappedInputs() {
		for _, max := range []int{0, 1000} {
			want, err := collectPieces(func(h Handler) error {
				return (&Splitter{MaxLineLength: max}).Run(strings.NewReader(in), h)
			})
			if err != nil {
				t.Fatal(err)
			}
			f := writeTemp(t, in)
			m := MapFile(f)
			if m == nil {
				t.Fatalf("%s: a %d-byte file was not mapped", name, len(in))
			}
			s := &Splitter{MaxLineLength: max}
			got, err := collectPieces(func(h Handler) error { return s.RunMapped(m, nil, h) })
			m.Close()
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s max %d: mapped read differs (%d pieces, want %d)", name, max, len(got), len(want))
			}
			if s.Offset != int64(len(in)) {
				t.Fatalf("%s: Offset %d, want %d", name, s.Offset, len(in))
			}
		}
	}
}

// TestRunMappedReadsGrowth: bytes appended after the file was mapped are
// read on (with the mapped tail joined to its continuation), as a read to
// EOF would.
func TestRunMappedReadsGrowth(t *testing.T) {
	in := mappedInputs()["no final newline"]
	f := writeTemp(t, in)
	m := MapFile(f)
	if m == nil {
		t.Fatal("not mapped")
	}
	defer m.Close()
	more := " continued\nlast line\npartial"
	w, err := os.OpenFile(f.Name(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString(more)
	w.Close()
	want, _ := collectPieces(func(h Handler) error { return (&Splitter{}).Run(strings.NewReader(in+more), h) })
	s := &Splitter{}
	got, err := collectPieces(func(h Handler) error {
		return s.RunMapped(m, io.NewSectionReader(f, int64(m.Len()), 1<<40), h)
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("growth not read: got %d pieces, want %d", len(got), len(want))
	}
	if s.Offset != int64(len(in)+len(more)) {
		t.Fatalf("Offset %d, want %d", s.Offset, len(in)+len(more))
	}
}

// TestMappedTruncationIsAnError: a copytruncate while a mapped file is
// read makes its later pages fault (SIGBUS); the read must end with
// ErrTruncated, not kill the process. Serial and parallel reads.
func TestMappedTruncationIsAnError(t *testing.T) {
	in := mappedInputs()["lines"]
	for _, workers := range []int{0, 1, 3} {
		f := writeTemp(t, in)
		m := MapFile(f)
		if m == nil {
			t.Fatal("not mapped")
		}
		truncated := false
		truncate := func() {
			if !truncated {
				truncated = true
				if err := os.Truncate(f.Name(), 0); err != nil {
					t.Fatal(err)
				}
			}
		}
		var seen bytes.Buffer
		var err error
		if workers == 0 {
			err = (&Splitter{}).RunMapped(m, nil, func(data []byte, end Ending) error {
				truncate()
				seen.Write(data) // touches the pages
				return nil
			})
		} else {
			err = RunParallelMapped(&Splitter{}, m, nil, workers,
				func() func([]byte, *int) {
					return func(data []byte, n *int) { *n = bytes.Count(data, []byte{'\n'}) }
				},
				func(data []byte, end Ending, n *int, work bool) error {
					truncate()
					seen.Write(data)
					return nil
				})
		}
		m.Close()
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("workers %d: err %v after %d bytes, want ErrTruncated", workers, err, seen.Len())
		}
	}
}

// TestRunParallelMappedKeepsOrder: the mapped parallel read emits the
// file in order, with whole-line work batches.
func TestRunParallelMappedKeepsOrder(t *testing.T) {
	for name, in := range mappedInputs() {
		for _, workers := range []int{1, 2, 5} {
			f := writeTemp(t, in)
			m := MapFile(f)
			var out bytes.Buffer
			err := RunParallelMapped(&Splitter{MaxLineLength: 4096}, m, nil, workers,
				func() func([]byte, *int) {
					return func(data []byte, n *int) { *n = bytes.Count(data, []byte{'\n'}) }
				},
				func(data []byte, end Ending, n *int, work bool) error {
					if work && (end != Newline || data[len(data)-1] != '\n' || *n != bytes.Count(data, []byte{'\n'})) {
						t.Fatalf("%s: bad work batch", name)
					}
					out.Write(data)
					return nil
				})
			m.Close()
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != in {
				t.Fatalf("%s workers %d: output differs from the file", name, workers)
			}
		}
	}
}

// TestRunParallelMappedReadsGrowth: the parallel mapped read also reads
// what was appended after the mapping, after the mapped batches.
func TestRunParallelMappedReadsGrowth(t *testing.T) {
	in := mappedInputs()["no final newline"]
	f := writeTemp(t, in)
	m := MapFile(f)
	if m == nil {
		t.Fatal("not mapped")
	}
	defer m.Close()
	more := " continued\n" + strings.Repeat("appended line\n", 50000) + "partial"
	w, err := os.OpenFile(f.Name(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString(more)
	w.Close()
	var out bytes.Buffer
	err = RunParallelMapped(&Splitter{}, m, io.NewSectionReader(f, int64(m.Len()), 1<<40), 3,
		func() func([]byte, *int) { return func([]byte, *int) {} },
		func(data []byte, end Ending, _ *int, work bool) error {
			out.Write(data)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != in+more {
		t.Fatalf("got %d bytes, want %d (order or growth lost)", out.Len(), len(in+more))
	}
}
