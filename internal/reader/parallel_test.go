package reader

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/dtail-go/dtail/internal/match"
)

// TestParallelReadEqualsSerial: a grep read with several workers prints
// exactly what a serial read prints (lines, order, line numbers, counts),
// for plain and compressed files and every kind of matcher path.
func TestParallelReadEqualsSerial(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2 for more than one worker")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	var b strings.Builder
	for i := 0; b.Len() < 5<<19; i++ {
		sev := "INFO"
		if i%97 == 0 {
			sev = "ERROR"
		}
		fmt.Fprintf(&b, "%s|%d|user=user%04d|status=%d|caf\u00e9=%d\n", sev, i, i%10000, 200+i%7, i%100000)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(workers int, pattern string, count bool) string {
		var out textSinks
		r := New(Config{MaxReadWorkers: workers, Limits: NewLimits(2, 2)})
		m, err := match.New(pattern, false, false)
		if err != nil {
			t.Fatal(err)
		}
		r.Read(context.Background(), Request{Mode: Grep, Glob: path, Matcher: m, Count: count}, &out)
		return out.String()
	}
	for i, p := range []string{"ERROR", "(?i)error", "^INFO\\|[0-9]*5\\|", "status=20[35]\\|caf\u00e9=4"} {
		counts := []bool{false}
		if i == 0 {
			counts = append(counts, true) // --count once
		}
		for _, count := range counts {
			serial, par := run(1, p, count), run(runtime.GOMAXPROCS(0), p, count)
			if serial != par {
				t.Fatalf("%q count=%v: parallel output differs (%d vs %d bytes)", p, count, len(par), len(serial))
			}
			if !count && !strings.Contains(serial, "caf") {
				t.Fatalf("%q: no output at all: %q", p, serial)
			}
		}
	}
}

// TestGrepLineNumbersExact: the line numbers of a grep equal a count of
// the file's lines, serial and parallel, on a mapped file where the
// literal's bytes are all common (the scanner's vector loop counts the
// newlines it passes, match.Scanner.NextMatchLines) and for other
// matcher paths; empty lines and matches at block starts included.
func TestGrepLineNumbersExact(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	var b strings.Builder
	for i := 0; b.Len() < 3<<20; i++ {
		fmt.Fprintf(&b, "INFO|%d|status=%d|user=user%04d\n", i, []int{200, 404, 503}[i%3*(i%7)/6], i%10000)
		if i%1000 == 0 {
			b.WriteString("\n\nstatus=503\n")
		}
	}
	data := b.String()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"status=503", "(?i)STATUS=503", "status=50[34]"} {
		re := regexp.MustCompile(p)
		var want strings.Builder
		for i, line := range strings.SplitAfter(data, "\n") {
			if line != "" && re.MatchString(strings.TrimSuffix(line, "\n")) {
				fmt.Fprintf(&want, "app.log:%d:%s", i+1, line)
			}
		}
		if strings.Count(want.String(), "\n") < 1000 {
			t.Fatalf("%q: the data should have many matching lines", p)
		}
		for _, workers := range []int{1, 2} {
			var out textSinks
			r := New(Config{MaxReadWorkers: workers, Limits: NewLimits(2, 2)})
			m, err := match.New(p, false, false)
			if err != nil {
				t.Fatal(err)
			}
			r.Read(context.Background(), Request{Mode: Grep, Glob: path, Matcher: m}, &out)
			got := out.String()
			if got != want.String() {
				g, w := strings.Split(got, "\n"), strings.Split(want.String(), "\n")
				for i := range min(len(g), len(w)) {
					if g[i] != w[i] {
						t.Fatalf("%q workers %d: line %d: got %q want %q", p, workers, i, g[i], w[i])
					}
				}
				t.Fatalf("%q workers %d: %d lines, want %d", p, workers, len(g), len(w))
			}
		}
	}
}
