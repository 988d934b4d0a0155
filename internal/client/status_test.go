package client

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func TestFitStatus(t *testing.T) {
	line := "[connected 10/10, done 0, 0.0 MB/s, waiting for a b c +7]"
	for _, w := range []int{1, 2, 10, 40, 58, 59, 200} {
		got := fitStatus(line, w)
		if n := len([]rune(got)); n > w-1 {
			t.Errorf("width %d: %d columns: %q", w, n, got)
		}
		if w > len(line) && got != line {
			t.Errorf("width %d: cut needlessly: %q", w, got)
		}
	}
	if got := fitStatus(line, 0); got != line {
		t.Errorf("unknown width cut the line: %q", got)
	}
}

// TestStatusRedrawnOnlyWhenChanged: flushes (every 100 ms) do not rewrite
// an unchanged status line; a new text or output in between does.
func TestStatusRedrawnOnlyWhenChanged(t *testing.T) {
	var buf lockedBuf
	o := newOutput(&buf, 1<<10, time.Hour)
	defer o.Close()
	o.SetStatus("[a]")
	for i := 0; i < 5; i++ {
		o.Flush()
	}
	if n := strings.Count(buf.String(), "[a]"); n != 1 {
		t.Fatalf("unchanged status drawn %d times: %q", n, buf.String())
	}
	o.Write([]byte("line\n"))
	o.Flush()
	o.SetStatus("[b]")
	o.Flush()
	o.Flush()
	if got, want := buf.String(), clearStatus+"[a]"+clearStatus+"line\n"+clearStatus+"[a]"+clearStatus+"[b]"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestAsideErasesStatus: a diagnostic written to the other stream of the
// terminal erases the status line first.
func TestAsideErasesStatus(t *testing.T) {
	var out, errw lockedBuf
	o := newOutput(&out, 1<<10, time.Hour)
	defer o.Close()
	o.SetStatus("[s]")
	o.Flush()
	o.Aside(&errw).Write([]byte("warning\n"))
	if got, want := out.String(), clearStatus+"[s]"+clearStatus; got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
	o.Flush()
	if got, want := out.String(), clearStatus+"[s]"+clearStatus+clearStatus+"[s]"; got != want {
		t.Fatalf("status not redrawn after the diagnostic: %q", got)
	}
}

// TestAsideDoesNotWaitForBlockedStdout: a stdout nobody reads blocks the
// output's writer while it holds the lock; diagnostics (the Ctrl+C hint)
// go to stderr anyway, or a user who pauses a pager cannot interrupt.
func TestAsideDoesNotWaitForBlockedStdout(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	o := newOutput(pw, 1<<10, time.Hour)
	blocked := make(chan struct{})
	go func() {
		// Far more than the pipe holds: this Write blocks in the
		// kernel with the output's lock taken, until pr is read.
		close(blocked)
		o.Write(make([]byte, 4<<20))
	}()
	<-blocked
	for o.mu.TryLock() { // wait until the writer holds the lock
		o.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	var errw lockedBuf
	done := make(chan struct{})
	go func() {
		o.Aside(&errw).Write([]byte(" Hint: Hit Ctrl+C again to exit\n"))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the diagnostic waited for the blocked stdout")
	}
	if !strings.Contains(errw.String(), "Hint") {
		t.Fatalf("stderr %q", errw.String())
	}
	pw.Close() // the blocked write fails; the writer goroutine ends
	io.Copy(io.Discard, pr)
}
