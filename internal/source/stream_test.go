package source

import (
	"os"
	"testing"
	"time"
)

// TestRunStreamHandsOutLinesAtOnce: a line written alone into a pipe is
// handed to the handler, and idle is called, while the writer keeps the
// pipe open (a filled 64 KiB buffer never comes).
func TestRunStreamHandsOutLinesAtOnce(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	done := make(chan struct{})
	defer close(done)
	got := make(chan string, 16)
	idle := make(chan struct{}, 16)
	res := make(chan error, 1)
	go func() {
		ra := NewStream(done, pr, 64<<10, 4)
		defer ra.Close()
		var sp Splitter
		res <- sp.RunStream(ra, func(data []byte, end Ending) error {
			got <- string(data)
			return nil
		}, func() error {
			idle <- struct{}{}
			return nil
		})
	}()
	wait := func(what string, ch <-chan string) string {
		select {
		case s := <-ch:
			return s
		case <-time.After(15 * time.Second):
			t.Fatalf("%s: nothing within 15 s while the writer is open", what)
		}
		return ""
	}
	pw.WriteString("one\ntw")
	if s := wait("first line", got); s != "one\n" {
		t.Fatalf("first block %q, want %q", s, "one\n")
	}
	select {
	case <-idle:
	case <-time.After(15 * time.Second):
		t.Fatal("idle not called before waiting for more input")
	}
	pw.WriteString("o\n")
	if s := wait("second line", got); s != "two\n" {
		t.Fatalf("second block %q, want %q", s, "two\n")
	}
	pw.WriteString("three")
	pw.Close()
	if s := wait("last line", got); s != "three" {
		t.Fatalf("last block %q, want %q", s, "three")
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
}

// TestGatherReadsWhatIsThere: with data waiting, one chunk takes all of
// it (up to the buffer), so a fast writer's input is handled in large
// blocks.
func TestGatherReadsWhatIsThere(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	for i := 0; i < 8; i++ {
		pw.Write(make([]byte, 4096))
	}
	buf := make([]byte, 64<<10)
	// A reader that returns at most 4 KiB per Read, like a pipe whose
	// writer writes in small pieces.
	n, err := gather(smallReads{pr}, buf, readyFunc(pr))
	if err != nil || n != 8*4096 {
		t.Fatalf("gather: %d bytes, %v; want %d", n, err, 8*4096)
	}
}

type smallReads struct{ f *os.File }

func (s smallReads) Read(p []byte) (int, error) {
	if len(p) > 4096 {
		p = p[:4096]
	}
	return s.f.Read(p)
}
