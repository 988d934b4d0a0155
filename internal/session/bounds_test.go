package session

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// A context count beyond the limit is refused before anything is
// allocated (before=2e9 once made dserver allocate 64 GB and die).
func TestServeRefusesHugeContext(t *testing.T) {
	f := writeFile(t, "f.txt", "a\nx\n")
	for _, opt := range []string{"before=2000000000", "after=100001", "max=2147483648"} {
		out := exchange(t, ServeOptions{}, Config{}, "grep:"+opt+" "+f+" regex:default x")
		if !strings.Contains(out, "Command refused") || !strings.Contains(out, "exceeds the limit") {
			t.Errorf("%s: not refused:\n%q", opt, out)
		}
		if strings.Contains(out, "REMOTE") {
			t.Errorf("%s: the file was read anyway", opt)
		}
	}
	if out := exchange(t, ServeOptions{}, Config{}, "grep:before=100000 "+f+" regex:default x"); !strings.Contains(out, "|x\n") {
		t.Errorf("before at the limit refused:\n%q", out)
	}
}

// Distinct regex text beyond MaxSessionPatternBytes is refused; the same
// regex in many commands counts once.
func TestServePatternBytes(t *testing.T) {
	f := writeFile(t, "f.txt", "abc\n")
	big := strings.Repeat("[a-z]", 20000) // 100 KB
	out := exchange(t, ServeOptions{}, Config{}, "grep "+f+" regex:default "+big)
	if !strings.Contains(out, "MaxSessionPatternBytes") {
		t.Fatalf("100 KB regex accepted:\n%.300q", out)
	}
	re := strings.Repeat("b", 25000) + "|abc" // 3 × 25 KB > 64 KiB
	cmds := []string{}
	for range 3 {
		cmds = append(cmds, "grep "+f+" regex:default "+re)
	}
	out = exchange(t, ServeOptions{}, Config{}, cmds...)
	if strings.Contains(out, "refused") || strings.Count(out, "|abc\n") != 3 {
		t.Fatalf("one 25 KB regex in 3 commands:\n%.500q", out)
	}
}

// A session that exceeds its memory budget ends with an error; the ring
// never allocates beyond it.
func TestServeMemoryBudget(t *testing.T) {
	line := strings.Repeat("y", 10<<10) + "\n"
	f := writeFile(t, "long.txt", strings.Repeat(line, 300)+"x\n")
	log := &fixedLogger{}
	out := exchange(t, ServeOptions{}, Config{Logger: log, Bounds: Bounds{MaxMemory: 1 << 20}}, "grep:before=1000 "+f+" regex:default x")
	if !strings.Contains(out, "Session memory budget exceeded, closing session") {
		t.Fatalf("budget not enforced:\n%.300q", out)
	}
}

// Within the budget, a ring beyond MaxContextBytes drops old lines and
// says so instead of growing.
func TestServeContextBytes(t *testing.T) {
	line := strings.Repeat("y", 10<<10) + "\n"
	f := writeFile(t, "long.txt", strings.Repeat(line, 300)+"x\n")
	out := exchange(t, ServeOptions{}, Config{Bounds: Bounds{MaxContextBytes: 1 << 20}}, "grep:before=1000 "+f+" regex:default x")
	if !strings.Contains(out, "Before-context lines dropped") || !strings.Contains(out, "|x\n") {
		t.Fatalf("no warning or no match:\n%.300q", out)
	}
	if n := strings.Count(out, "yyyy\n"); n == 0 || n > 103 {
		t.Fatalf("%d context lines for a 1 MiB ring of 10 KiB lines", n)
	}
}

// Commands beyond MaxSessionCommands running at once are refused.
func TestAccountCommands(t *testing.T) {
	a := newAccount(Bounds{MaxCommands: 2})
	d1, err1 := a.admit(10, "")
	d2, err2 := a.admit(10, "p")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if _, err := a.admit(10, ""); err == nil || !strings.Contains(err.Error(), "MaxSessionCommands") {
		t.Fatalf("third command: %v", err)
	}
	d1()
	d1() // idempotent
	if _, err := a.admit(10, ""); err != nil {
		t.Fatal(err)
	}
	d2()
	if a.patBytes != 0 || len(a.patterns) != 0 {
		t.Fatalf("pattern bytes not released: %d", a.patBytes)
	}
}

// A session that sends nothing is closed after FirstCommandTimeout.
func TestServeIdle(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	var out strings.Builder
	s := New(Config{Logger: &fixedLogger{}, Bounds: Bounds{IdleTimeout: 200 * time.Millisecond}}, writerFunc(func(p []byte) (int, error) { out.Write(p); return len(p), nil }))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	s.Serve(ctx, r, ServeOptions{})
	if ctx.Err() != nil || time.Since(start) > 10*time.Second {
		t.Fatal("idle session not closed")
	}
	if !strings.Contains(out.String(), "Closing idle session") {
		t.Fatalf("output %q", out.String())
	}
}

// A file pattern longer than PATH_MAX is refused, not followed.
func TestServeLongPattern(t *testing.T) {
	out := exchange(t, ServeOptions{}, Config{}, "cat /"+strings.Repeat("n", 5000)+" regex:noop")
	if !strings.Contains(out, "exceeds the limit of 4096 bytes") {
		t.Fatalf("not refused:\n%.300q", out)
	}
}
