package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dtail-go/dtail/internal/timewindow"
)

func TestRotationSetOrder(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"app.log", "app.log.1", "app.log.2.gz", "app.log.10.gz", "app.log-20240101.gz", "app.log-20231231",
		"app.logger", "other.log", "other.log.1"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := New(Config{Serverless: true}, &strings.Builder{})
	got := s.rotationSet([]string{filepath.Join(dir, "other.log"), filepath.Join(dir, "app.log")})
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	want := "app.log-20231231 app.log-20240101.gz app.log.10.gz app.log.2.gz app.log.1 app.log other.log.1 other.log"
	if strings.Join(got, " ") != want {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

func TestWindowOptions(t *testing.T) {
	if WindowFromOptions(map[string]string{"count": "true"}) != nil {
		t.Fatal("window without options")
	}
	w := timewindow.All
	w.Since = 1700000000
	extra := WindowOptions(nil, &w)
	if extra[OptSince] != "1700000000" || extra[OptUntil] != "" {
		t.Fatalf("%v", extra)
	}
	got := WindowFromOptions(extra)
	if got == nil || *got != w {
		t.Fatalf("%v", got)
	}
}
