package editdist

import (
	"strings"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3},
		{"kitten", "sitting", 3},
		{"nocolor", "no-color", 1},
		{"grpe", "grep", 1}, // one swap
		{"äb", "ab", 1},     // runes, not bytes
		{"select", "select", 0},
		{"slect", "select", 1},
		{"ca", "abc", 3}, // OSA: no edit of a swapped pair
	} {
		if got := Distance(c.a, c.b); got != c.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
		if got := Distance(c.b, c.a); got != c.d {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", c.b, c.a, got, c.d)
		}
	}
}

func TestDistanceLongWordsAreNeverTypos(t *testing.T) {
	long := strings.Repeat("x", MaxRunes+1)
	if got := Distance(long, "x"); got != MaxRunes+2 {
		t.Fatalf("Distance(long, x) = %d, want %d", got, MaxRunes+2)
	}
}

func FuzzDistance(f *testing.F) {
	f.Add("grpe", "grep")
	f.Add("", "ä")
	f.Fuzz(func(t *testing.T, a, b string) {
		d := Distance(a, b)
		ra, rb := []rune(a), []rune(b)
		if d < 0 || d > len(ra)+len(rb) {
			t.Fatalf("Distance(%q, %q) = %d out of range", a, b, d)
		}
		if (d == 0) != (string(ra) == string(rb)) && len(ra) <= MaxRunes && len(rb) <= MaxRunes {
			t.Fatalf("Distance(%q, %q) = %d", a, b, d)
		}
		if Distance(b, a) != d {
			t.Fatalf("not symmetric for %q, %q", a, b)
		}
	})
}
