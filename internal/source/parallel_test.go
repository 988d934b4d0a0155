package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// parallelCollect runs RunParallel with workers that count the lines of
// their batch and an emit that rebuilds the stream; it returns the bytes
// emitted, the line total and the number of work batches.
func parallelCollect(t *testing.T, r io.Reader, s *Splitter, workers int) (string, int, int) {
	t.Helper()
	var out bytes.Buffer
	lines, batches := 0, 0
	err := RunParallel(s, r, workers,
		func() func([]byte, *int) {
			return func(data []byte, n *int) { *n = bytes.Count(data, []byte{'\n'}) }
		},
		func(data []byte, end Ending, n *int, work bool) error {
			if work {
				if end != Newline || len(data) == 0 || data[len(data)-1] != '\n' {
					t.Fatalf("work batch not whole lines (end %v, %d bytes)", end, len(data))
				}
				batches++
				lines += *n
			} else if *n != 0 {
				t.Fatal("a piece for the consumer carries a result")
			}
			out.Write(data)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), lines, batches
}

func TestRunParallelKeepsOrder(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 60000; i++ {
		fmt.Fprintf(&b, "line %d %s\n", i, strings.Repeat("x", i%97))
	}
	b.WriteString(strings.Repeat("L", 3000) + "\n") // over-long line: chunks
	b.WriteString("no newline at the end")
	in := b.String()
	for _, workers := range []int{1, 2, 4, 7} {
		s := &Splitter{MaxLineLength: 1024}
		got, lines, batches := parallelCollect(t, iotest.HalfReader(strings.NewReader(in)), s, workers)
		if got != in {
			t.Fatalf("workers %d: output differs from input (%d vs %d bytes)", workers, len(got), len(in))
		}
		if want := strings.Count(in[:len(in)-len("no newline at the end")-3001], "\n"); lines < want {
			t.Fatalf("workers %d: workers saw %d lines, want at least %d", workers, lines, want)
		}
		if batches < 2 {
			t.Fatalf("workers %d: %d batches: the input was not split", workers, batches)
		}
		if s.Offset != int64(len(in)) {
			t.Fatalf("Offset %d, want %d", s.Offset, len(in))
		}
	}
}

func TestRunParallelStopsEarly(t *testing.T) {
	in := strings.Repeat(strings.Repeat("y", 99)+"\n", 100000)
	for _, stopErr := range []error{ErrStop, errors.New("output closed")} {
		calls := 0
		err := RunParallel(&Splitter{}, strings.NewReader(in), 3,
			func() func([]byte, *struct{}) { return func([]byte, *struct{}) {} },
			func(data []byte, end Ending, _ *struct{}, work bool) error {
				calls++
				if calls == 2 {
					return stopErr
				}
				if calls > 2 {
					t.Fatal("emit called after it failed")
				}
				return nil
			})
		if stopErr == ErrStop && err != nil || stopErr != ErrStop && !errors.Is(err, stopErr) {
			t.Fatalf("stop with %v: RunParallel returned %v", stopErr, err)
		}
	}
}

type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestRunParallelReportsReadErrors(t *testing.T) {
	boom := errors.New("gzip: unexpected EOF")
	r := &failingReader{r: strings.NewReader(strings.Repeat("z\n", 1<<20)), err: boom}
	err := RunParallel(&Splitter{}, r, 2,
		func() func([]byte, *int) { return func([]byte, *int) {} },
		func([]byte, Ending, *int, bool) error { return nil })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

// TestRunParallelDirectEqualsRun: with the default line limit a stream is
// read straight into batch buffers (directOK); the pieces emitted, merged
// as collectPieces does, must equal a serial Run's, long lines and the
// final unterminated line included, for short reads too.
func TestRunParallelDirectEqualsRun(t *testing.T) {
	if !(&Splitter{}).directOK() {
		t.Fatal("the default line limit should read directly")
	}
	for name, in := range mappedInputs() {
		want, err := collectPieces(func(h Handler) error { return (&Splitter{}).Run(strings.NewReader(in), h) })
		if err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 3} {
			short := in[:min(len(in), 50000)]
			for _, c := range []struct {
				r    io.Reader
				text string
			}{{strings.NewReader(in), in}, {iotest.HalfReader(strings.NewReader(in)), in}, {iotest.OneByteReader(strings.NewReader(short)), short}} {
				r := c.r
				w := want
				if c.text != in {
					w, _ = collectPieces(func(h Handler) error { return (&Splitter{}).Run(strings.NewReader(c.text), h) })
				}
				s := &Splitter{}
				var got []piece
				err := RunParallel(s, r, workers,
					func() func([]byte, *int) {
						return func(data []byte, n *int) { *n = bytes.Count(data, []byte{'\n'}) }
					},
					func(data []byte, end Ending, n *int, work bool) error {
						if work && (end != Newline || data[len(data)-1] != '\n') {
							t.Fatalf("%s: work batch not whole lines", name)
						}
						if end == Newline && len(got) > 0 && got[len(got)-1].end == Newline {
							got[len(got)-1].data += string(data)
						} else {
							got = append(got, piece{string(data), end})
						}
						return nil
					})
				if err != nil {
					t.Fatal(err)
				}
				if s.Offset != int64(len(c.text)) {
					t.Fatalf("%s: Offset %d, want %d", name, s.Offset, len(c.text))
				}
				if fmt.Sprint(got) != fmt.Sprint(w) {
					t.Fatalf("%s workers %d: %d pieces, want %d", name, workers, len(got), len(w))
				}
			}
		}
	}
}
