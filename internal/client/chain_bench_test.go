package client

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
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
