package source

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// followCollector gathers the lines a Follower emits.
type followCollector struct {
	mu    sync.Mutex
	lines []string
}

func (c *followCollector) handler(data []byte, end Ending) error {
	term := end == Newline
	c.mu.Lock()
	defer c.mu.Unlock()
	if !term {
		c.lines = append(c.lines, string(data))
		return nil
	}
	for _, l := range bytes.SplitAfter(data, []byte{'\n'}) {
		if len(l) > 0 {
			c.lines = append(c.lines, string(bytes.TrimSuffix(l, []byte{'\n'})))
		}
	}
	return nil
}

func (c *followCollector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines)
}

func (c *followCollector) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for c.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: got %d lines, want %d", c.count(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkExactlyOnce verifies lines 0..n-1 each arrived exactly once and
// in order within the file they were written to.
func (c *followCollector) checkExactlyOnce(t *testing.T, n int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := make([]int, n)
	for _, l := range c.lines {
		i, err := strconv.Atoi(l)
		if err != nil || i < 0 || i >= n {
			t.Fatalf("unexpected line %q", l)
		}
		seen[i]++
	}
	for i, s := range seen {
		if s != 1 {
			t.Fatalf("line %d seen %d times (total %d lines)", i, s, len(c.lines))
		}
	}
}

func appendLines(t *testing.T, f *os.File, from, to int) {
	t.Helper()
	var b []byte
	for i := from; i < to; i++ {
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, '\n')
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func startFollow(t *testing.T, fw *Follower, c *followCollector) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fw.Run(ctx, c.handler, func() error { return nil }) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("follow: %v", err)
		}
	}
}

func TestFollowAppendRotateTruncate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	appendLines(t, f, -5, 0) // existing content is not followed
	events := make(chan FollowEvent, 100)
	fw := &Follower{Path: path, Poll: 5 * time.Millisecond, RotateGrace: 50 * time.Millisecond,
		OnEvent: func(e FollowEvent) { events <- e }}
	c := &followCollector{}
	// Strip the negative pre-existing lines: they must not show up.
	stop := startFollow(t, fw, c)
	defer stop()
	time.Sleep(30 * time.Millisecond) // let it open and seek to the end

	n := 0
	for cycle := 0; cycle < 12; cycle++ {
		appendLines(t, f, n, n+500)
		n += 500
		switch cycle % 3 {
		case 0: // rename rotation; the writer keeps writing briefly to the old file
			if err := os.Rename(path, path+fmt.Sprint(".", cycle)); err != nil {
				t.Fatal(err)
			}
			appendLines(t, f, n, n+50)
			n += 50
			f.Close()
			if f, err = os.Create(path); err != nil {
				t.Fatal(err)
			}
			appendLines(t, f, n, n+100)
			n += 100
			waitEvent(t, events, Rotated)
		case 1: // copytruncate once everything was read
			c.waitFor(t, n)
			if err := f.Truncate(0); err != nil {
				t.Fatal(err)
			}
			f.Seek(0, 0)
			waitEvent(t, events, Truncated)
		case 2: // plain growth with a partial line completed later
			f.WriteString(strconv.Itoa(n))
			time.Sleep(15 * time.Millisecond)
			f.WriteString("\n")
			n++
		}
	}
	c.waitFor(t, n)
	time.Sleep(60 * time.Millisecond)
	c.checkExactlyOnce(t, n)
	f.Close()
}

func waitEvent(t *testing.T, ch chan FollowEvent, want FollowEvent) {
	t.Helper()
	select {
	case e := <-ch:
		if e != want {
			t.Fatalf("event %v, want %v", e, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no %v event", want)
	}
}

func TestFollowFromStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.log")
	os.WriteFile(path, []byte("0\n1\n"), 0o644)
	c := &followCollector{}
	stop := startFollow(t, &Follower{Path: path, FromStart: true, Poll: 5 * time.Millisecond}, c)
	c.waitFor(t, 2)
	stop()
	c.checkExactlyOnce(t, 2)
}
