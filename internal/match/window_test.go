package match

import (
	"fmt"
	"strings"
	"testing"
)

func runWindow(t *testing.T, pattern string, invert bool, before, after, max int, lines []string) []string {
	t.Helper()
	m, err := New(pattern, invert, false)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWindow(m, before, after, max)
	var out []string
	for i, l := range lines {
		w.Feed([]byte(l+"\n"), uint64(i+1), func(line []byte, no uint64) {
			out = append(out, fmt.Sprintf("%d:%s", no, strings.TrimSuffix(string(line), "\n")))
		})
		if w.Done() {
			break
		}
	}
	return out
}

func TestWindow(t *testing.T) {
	in := []string{"a", "b", "M1", "c", "d", "e", "M2", "f", "M3", "g", "M4"}
	cases := []struct {
		name               string
		pattern            string
		invert             bool
		before, after, max int
		want               string
	}{
		{"plain", "M", false, 0, 0, 0, "3:M1 7:M2 9:M3 11:M4"},
		{"before 2", "M", false, 2, 0, 0, "1:a 2:b 3:M1 5:d 6:e 7:M2 8:f 9:M3 10:g 11:M4"},
		{"after 1", "M", false, 0, 1, 0, "3:M1 4:c 7:M2 8:f 9:M3 10:g 11:M4"},
		{"max 2", "M", false, 0, 0, 2, "3:M1 7:M2"},
		{"max 1 after 2 stops at next match", "M", false, 0, 2, 1, "3:M1 4:c 5:d"},
		{"max 2 after 3 stops at the third match", "M", false, 0, 3, 2, "3:M1 4:c 5:d 6:e 7:M2 8:f"},
		{"invert", "M", true, 0, 0, 0, "1:a 2:b 4:c 5:d 6:e 8:f 10:g"},
		{"before after overlap", "M", false, 1, 1, 0, "2:b 3:M1 4:c 6:e 7:M2 8:f 9:M3 10:g 11:M4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(runWindow(t, tc.pattern, tc.invert, tc.before, tc.after, tc.max, in), " ")
			if got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// A huge before count costs nothing up front: the ring grows with the
// lines it holds (an up-front ring of 2e9 entries killed dserver).
func TestWindowHugeBeforeIsLazy(t *testing.T) {
	m, _ := New("M", false, false)
	w := NewWindow(m, 2_000_000_000, 0, 0)
	var out []string
	for i, l := range []string{"a", "b", "M"} {
		w.Feed([]byte(l+"\n"), uint64(i+1), func(line []byte, no uint64) { out = append(out, string(line)) })
	}
	if got := strings.Join(out, ""); got != "a\nb\nM\n" {
		t.Fatalf("got %q", got)
	}
	if w.Bytes() > 16*entryOverhead+64 {
		t.Fatalf("ring holds %d bytes for two lines", w.Bytes())
	}
}

// The ring stays within MaxBytes: long lines push out the oldest context,
// and Truncated says so.
func TestWindowRingBoundedInBytes(t *testing.T) {
	m, _ := New("M", false, false)
	w := NewWindow(m, 600, 0, 0)
	w.MaxBytes = 1 << 20
	long := []byte(strings.Repeat("x", 100<<10) + "\n")
	var peak int64
	for i := 0; i < 600; i++ {
		w.Feed(long, uint64(i+1), func([]byte, uint64) {})
		peak = max(peak, w.Bytes())
	}
	if peak > w.MaxBytes {
		t.Fatalf("ring peaked at %d bytes, limit %d", peak, w.MaxBytes)
	}
	if !w.Truncated() {
		t.Fatal("dropped context not reported")
	}
	var got []uint64
	w.Feed([]byte("M\n"), 601, func(_ []byte, no uint64) { got = append(got, no) })
	// The newest lines that fit are kept, in order, ending with the match.
	if len(got) < 2 || got[len(got)-1] != 601 || got[len(got)-2] != 600 {
		t.Fatalf("emitted %v", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] != got[i-1]+1 {
			t.Fatalf("not consecutive: %v", got)
		}
	}
}

// A refusing budget keeps lines out of the ring; everything reserved is
// released again on Close.
func TestWindowBudget(t *testing.T) {
	m, _ := New("M", false, false)
	w := NewWindow(m, 10, 0, 0)
	var held int64
	w.Reserve = func(n int64) bool {
		if held+n > 2000 {
			return false
		}
		held += n
		return true
	}
	w.Release = func(n int64) { held -= n }
	for i := 0; i < 50; i++ {
		w.Feed([]byte(strings.Repeat("y", 300)+"\n"), uint64(i+1), func([]byte, uint64) {})
		if held != w.Bytes() || held > 2000 {
			t.Fatalf("held %d, ring %d", held, w.Bytes())
		}
	}
	if !w.Truncated() {
		t.Fatal("budget refusal not reported")
	}
	w.Close()
	if held != 0 {
		t.Fatalf("%d bytes not released", held)
	}
}

// Offsets travel with context lines.
func TestWindowOffsets(t *testing.T) {
	m, _ := New("M", false, false)
	w := NewWindow(m, 2, 1, 0)
	var got []string
	off := int64(0)
	for i, l := range []string{"a", "b", "c", "M", "d", "e"} {
		w.Offset = off
		w.Feed([]byte(l+"\n"), uint64(i+1), func(line []byte, no uint64) {
			got = append(got, fmt.Sprintf("%s@%d", strings.TrimSpace(string(line)), w.EmitOffset()))
		})
		off += int64(len(l) + 1)
	}
	if s := strings.Join(got, " "); s != "b@2 c@4 M@6 d@8" {
		t.Fatalf("got %s", s)
	}
}
