package client

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/sink"
)

// benchFile writes a log of about size bytes (DTail default format lines)
// once per benchmark.
func benchFile(b *testing.B, size int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for n, i := 0, 0; n < size; i++ {
		k, _ := fmt.Fprintf(w, "INFO|20240102-10%02d%02d|worker-%d|request id=%08x user=u%d action=%s took=%dms\n",
			(i/60)%60, i%60, i%8, i*2654435761, i%1000, []string{"GET", "POST", "PUT", "DELETE"}[i%4], i%997)
		n += k
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkServerless runs whole serverless reads into io.Discard: the
// output chain's cost per line shows in ns/op of a 64 MB file.
func BenchmarkServerless(b *testing.B) {
	path := benchFile(b, 64<<20)
	cases := []struct {
		name string
		o    Options
	}{
		{"cat-plain", Options{Mode: ModeCat, Output: OutputOptions{Plain: true}}},
		{"cat-remote", Options{Mode: ModeCat}},
		{"grep-plain", Options{Mode: ModeGrep, Grep: GrepOptions{Regex: "action=POST"}, Output: OutputOptions{Plain: true}}},
		{"grep-remote", Options{Mode: ModeGrep, Grep: GrepOptions{Regex: "action=POST"}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			o := c.o
			o.Files, o.Host, o.Stdout, o.Stderr, o.Stdin = []string{path}, "bench", io.Discard, io.Discard, nil
			b.SetBytes(64 << 20)
			b.ReportAllocs()
			for b.Loop() {
				if code := RunServerless(context.Background(), o); code != ExitOK {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
}

// BenchmarkChainLines is the chain's own cost per line of a serverless
// file (records of single lines, as grep hands them), printer by
// printer; it must allocate nothing per line.
func BenchmarkChainLines(b *testing.B) {
	recs := make([]sink.Record, 1000)
	for i := range recs {
		recs[i] = sink.Record{Line: fmt.Appendf(nil, "INFO|20240102-1000%02d|worker-%d|request id=%08x action=POST took=%dms\n", i%60, i%8, i*7919, i%997), No: uint64(i + 1), Offset: int64(i * 90)}
	}
	scheme := color.DefaultScheme()
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"plain", Options{Mode: ModeGrep, Output: OutputOptions{Plain: true}}},
		{"remote", Options{Mode: ModeGrep}},
		{"colours", Options{Mode: ModeGrep, Output: OutputOptions{Colors: &scheme}}},
		{"ndjson", Options{Mode: ModeGrep, Output: OutputOptions{NDJSON: true}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			out := sink.NewOutput(io.Discard, 16)
			defer out.Close()
			ls := &localSinks{out: out, host: []byte("web1"), chain: newChain(c.o, chainMode{}), diag: &diagWriter{}}
			f := ls.File(sink.Source{Path: "app.log", ID: "app.log"})
			b.ReportAllocs()
			for b.Loop() {
				f.Lines(recs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/line")
		})
	}
}
