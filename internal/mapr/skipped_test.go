package mapr

import (
	"strings"
	"testing"

	"github.com/dtail-go/dtail/internal/logformat"
)

// TestSkippedLines: lines the log format ignores are counted (issue 13: a
// table query over the default format silently left out every non-INFO
// line), through a Mapper and a BlockMapper, live and closed; a CSV
// file's header line is not a skipped line.
func TestSkippedLines(t *testing.T) {
	q := mustParse(t, "from STATS select count($line),action group by action")
	info := statsLine("1002-071143", 3, "action=GET")
	warn := strings.Replace(info, "INFO|", "WARN|", 1)
	a := NewAggregate(q, nil)
	m := a.NewMapper(mustParser(t, logformat.Default))
	for _, l := range []string{info, warn, warn, info, warn} {
		if err := m.Add([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.SkippedLines(); got != 3 {
		t.Fatalf("live mapper: %d skipped, want 3", got)
	}
	m.Close()
	bm := a.NewBlockMapper(func() logformat.Parser { return mustParser(t, logformat.Default) }, 3, nil)
	for i := 0; i < 1000; i++ {
		bm.Add([]byte(warn))
		bm.Add([]byte(info))
	}
	bm.Close()
	if got := a.SkippedLines(); got != 1003 {
		t.Fatalf("after close and block mapper: %d skipped, want 1003", got)
	}

	c := NewAggregate(mustParse(t, "select count($line) group by * logformat csv"), nil)
	cm := c.NewMapper(mustParser(t, logformat.CSV))
	for _, l := range []string{"a,b", "1,2", "3,4"} {
		if err := cm.Add([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	cm.Close()
	if got := c.SkippedLines(); got != 0 {
		t.Errorf("csv: %d skipped, want 0 (the header is not skipped data)", got)
	}
}
