package mapr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestMaxGroups checks that a group explosion is bounded: lines of new
// groups beyond the limit are dropped and reported, existing groups keep
// counting, and the budget starts over after Serialize.
func TestMaxGroups(t *testing.T) {
	q := mustParse(t, "from STATS select count($line) group by $line")
	a := NewAggregate(q, mustParser(t, "default"))
	a.MaxGroups = 3
	var tooMany *TooManyGroupsError
	for i := range 5 {
		err := a.Add([]byte(statsLine("1002-071143", 1, fmt.Sprintf("n=%d", i))))
		if (i < 3) != (err == nil) || (err != nil && !errors.As(err, &tooMany)) {
			t.Fatalf("line %d: %v", i, err)
		}
	}
	if err := a.Add([]byte(statsLine("1002-071143", 1, "n=0"))); err != nil {
		t.Errorf("existing group: %v", err)
	}
	if a.DroppedLines() != 2 || !strings.Contains(tooMany.Error(), "more than 3 groups") {
		t.Errorf("dropped %d, %v", a.DroppedLines(), tooMany)
	}
	if n := len(a.Serialize("h")); n != 3 {
		t.Errorf("%d groups serialized", n)
	}
	if err := a.Add([]byte(statsLine("1002-071143", 1, "n=9"))); err != nil {
		t.Errorf("after Serialize: %v", err)
	}
}

// TestBadInput covers parser errors (counted, not fatal), ignored lines,
// a 1 MB line, avg with zero samples and a closed mapper.
func TestBadInput(t *testing.T) {
	q := mustParse(t, "from STATS select count($line),avg(v),max(v) group by $hostname")
	a := NewAggregate(q, mustParser(t, "default"))
	if err := a.Add([]byte("INFO|t|1|c|1|1|1|1|1|MAPREDUCE:STATS|novalue")); err == nil {
		t.Error("parser error not returned")
	}
	_ = a.Add([]byte("WARN|t|1|c|1|1|1|1|1|MAPREDUCE:STATS|a=1")) // ignored
	_ = a.Add([]byte(statsLine("t", 1, "v="+strings.Repeat("9", 1<<20))))
	if a.Errors() != 1 {
		t.Errorf("errors %d", a.Errors())
	}
	r := reduce(t, q, a.Serialize("h"))
	if got := fmt.Sprint(r.Rows()); got != "[[1 0.000000 0.000000]]" { // out of range: skipped
		t.Errorf("rows %s", got)
	}
	r = NewResult(q)
	if err := r.Merge([]byte("AGGREGATE|h|k∥0∥avg(v)≔5∥")); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(r.Rows()); got != "[[0 0.000000 0.000000]]" {
		t.Errorf("zero samples: %s", got)
	}
	m := a.NewMapper(mustParser(t, "default"))
	m.Close()
	if err := m.Add([]byte(statsLine("t", 1, "v=1"))); err != nil || a.Serialize("h") != nil {
		t.Errorf("closed mapper still adds: %v", err)
	}
}

// TestResultMaxGroups: the reduce side is bounded too; the first dropped
// message gives one error (the client's one warning), later ones none.
func TestResultMaxGroups(t *testing.T) {
	q := mustParse(t, "select count($line) group by $line")
	r := NewResult(q)
	r.MaxGroups = 2
	var errs int
	for i := range 5 {
		msg := []byte("AGGREGATE|h|k" + string(rune('a'+i)) + "∥1∥count($line)≔1∥")
		if err := r.Merge(msg); err != nil {
			errs++
			if !strings.Contains(err.Error(), "more than 2 groups") {
				t.Error(err)
			}
		}
	}
	if err := r.Merge([]byte("AGGREGATE|h|ka∥1∥count($line)≔1∥")); err != nil {
		t.Errorf("existing group: %v", err)
	}
	if errs != 1 || r.Len() != 2 || r.DroppedMessages() != 3 {
		t.Errorf("errors %d, groups %d, dropped %d", errs, r.Len(), r.DroppedMessages())
	}
}
