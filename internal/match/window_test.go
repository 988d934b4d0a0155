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
