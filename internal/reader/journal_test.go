package reader

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// mockJournalctl puts the stand-in journalctl (internal/journal/testdata)
// first in PATH with the given entries.
func mockJournalctl(t *testing.T, entries string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("journal targets are read on linux only")
	}
	src, err := os.ReadFile(filepath.Join("..", "journal", "testdata", "journalctl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "journalctl"), src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "entries"), []byte(entries), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

// Journal reads take the same server-wide slots as files (spec 4.11):
// with MaxConcurrentCats 1 taken, a journal cat waits for it, and with
// MaxConcurrentTails 1 taken, a journal follow does.
func TestJournalReadsTakeReadSlots(t *testing.T) {
	mockJournalctl(t, "journal alpha\n")
	for _, mode := range []Mode{Cat, Tail} {
		t.Run(mode.String(), func(t *testing.T) {
			limits := NewLimits(1, 1)
			held, err := limits.acquire(context.Background(), "other", mode == Tail, nil)
			if err != nil {
				t.Fatal(err)
			}
			log := &fixedLogger{}
			out := &textSinks{}
			r := New(Config{Limits: limits, Log: log, ReadRetryInterval: time.Hour})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan struct{})
			go func() {
				r.Read(ctx, Request{Mode: mode, Glob: "journal:test.service"}, out)
				close(done)
			}()
			deadline := time.Now().Add(10 * time.Second)
			for !log.contains("Server limit hit, queueing file|journal:test.service") {
				if time.Now().After(deadline) {
					t.Fatal("the journal read did not queue for the taken slot")
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			if log.contains("Start reading|journal:test.service") {
				t.Fatal("the journal was read without a free slot")
			}
			held.release()
			want := "journal alpha\n"
			if mode == Tail {
				want = "journal follow 1\n"
			}
			for !strings.Contains(out.String(), want) {
				if time.Now().After(deadline) {
					t.Fatalf("no output after the slot was released: %q", out.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the read did not end after cancel")
			}
		})
	}
}
