package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// TestFleetMergeByTime: ten servers each hold every tenth second of a
// minute; --merge-by-time must print the whole minute in time order,
// whatever order the hosts' streams interleave in.
func TestFleetMergeByTime(t *testing.T) {
	fx := newFleetFixture(t)
	var want []string
	for i, n := range fx.nodes {
		var b strings.Builder
		for s := i; s < 600; s += len(fx.nodes) {
			line := fmt.Sprintf("INFO|20240102-10%02d%02d|%s seq %03d", s/60, s%60, n.host, s)
			fmt.Fprintln(&b, line)
			want = append(want, line)
		}
		writeOwned(t, n.file("timed.log"), []byte(b.String()), 0o644)
	}
	sort.Strings(want) // the timestamps sort lexically
	res := fx.client(t, "dcat", "--plain", "--merge-by-time", "--files", "timed.log").exec(t)
	if res.code != 0 {
		t.Fatalf("dcat --merge-by-time: %v", res)
	}
	got := strings.Split(strings.TrimSuffix(string(res.stdout), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		n := 0
		for n < len(got) && n < len(want) && got[n] == want[n] {
			n++
		}
		t.Fatalf("%d lines, want %d; first difference at %d: got %q want %q", len(got), len(want), n, got[n], want[n])
	}
}
