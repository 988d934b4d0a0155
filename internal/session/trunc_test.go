package session

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dtail-go/dtail/internal/reader"
)

// truncWriter truncates the file being read when the first batch goes
// out.
type truncWriter struct {
	once sync.Once
	path string
}

func (w *truncWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { os.Truncate(w.path, 0) })
	return len(p), nil
}

// A file truncated while the server reads it (mapped) is reported as
// unreadable; the session (and the server) survive.
func TestReadTruncatedWhileSending(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.log")
	if err := os.WriteFile(p, []byte(strings.Repeat("L0123456789 some log line text\n", 400000)), 0o644); err != nil {
		t.Fatal(err)
	}
	log := &fixedLogger{}
	s := New(Config{Host: "h", Logger: log}, &truncWriter{path: p})
	s.Read(context.Background(), ReadRequest{Request: reader.Request{Mode: reader.Cat, Glob: p}, Escape: true, BareLines: true})
	s.Close()
	if !log.contains("truncated") || s.Receipt().FilesFailed != 1 {
		t.Fatalf("receipt %+v, log %q", s.Receipt(), log.lines)
	}
}
