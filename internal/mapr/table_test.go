package mapr

import (
	"os"
	"strings"
	"testing"
)

// refPainter paints as DTail 4.3.2 does with its default MaprTable
// colours (spec §5.6.3), to show that a Painter can reproduce the
// reference's bytes; the real one lives with the client's colour code.
func refPainter(text string, kind CellKind) string {
	const (
		reset    = "\x1b[0m"
		resetClr = "\x1b[49m\x1b[39m"
	)
	paint := func(style string, attr bool) string {
		nl := strings.HasSuffix(text, "\n")
		t := strings.TrimSuffix(text, "\n")
		out := style + t
		if attr {
			out += reset
		}
		out += resetClr
		if nl {
			out += "\n"
		}
		return out
	}
	switch kind.Base() {
	case CellRawQuery:
		return paint("\x1b[36m\x1b[40m\x1b[2m", true)
	case CellHeader:
		style := "\x1b[37m\x1b[44m\x1b[1m"
		if kind&CellSortKey != 0 {
			style += "\x1b[4m"
		}
		if kind&CellGroupKey != 0 {
			style += "\x1b[7m"
		}
		return paint(style, true)
	case CellHeaderDelimiter, CellDelimiter:
		return paint("\x1b[37m\x1b[44m\x1b[2m", true)
	case CellData:
		return paint("\x1b[37m\x1b[44m", false)
	case CellBlock: // the "any other line" rule
		return paint("\x1b[39m\x1b[49m", false)
	}
	return text
}

// TestTableColors compares with the output of DTail 4.3.2's dmap for the
// same query and data (testdata/color-table-4.3.2.golden).
func TestTableColors(t *testing.T) {
	want, err := os.ReadFile("testdata/color-table-4.3.2.golden")
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{
		"INFO|1002-071143|1|x.go:1|8|10|6|1.5|1m|MAPREDUCE:STATS|foo=1|bar=a|v=10",
		"INFO|1002-071143|1|x.go:1|8|12|6|1.5|1m|MAPREDUCE:STATS|foo=2|bar=b|v=20",
		"INFO|1002-071144|1|x.go:1|8|14|6|1.5|1m|MAPREDUCE:STATS|foo=3|bar=a|v=30",
		"INFO|1002-071145|1|x.go:1|8|16|6|1.5|1m|MAPREDUCE:STATS|foo=4|bar=c|v=x",
		"INFO|1002-071145|1|x.go:1|8|16|6|1.5|1m|MAPREDUCE:STATS|foo=5|bar=c",
	}
	raw := "from STATS select bar,count($line) group by bar order by count($line)"
	q := mustParse(t, raw)
	tab := RenderTable(raw, q, reduce(t, q, runMap(t, q, "default", lines)).Rows(), 10, refPainter)
	if got := tab.String(); got != string(want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// TestTableMultiByte matches DTail 4.3.2: column widths count bytes,
// padding counts runes.
func TestTableMultiByte(t *testing.T) {
	raw := "from STATS select bar,count($line) group by bar"
	q := mustParse(t, raw)
	lines := []string{statsLine("t", 1, "bar=ééé"), statsLine("t", 1, "bar=abcd")}
	got := RenderTable(raw, q, reduce(t, q, runMap(t, q, "default", lines)).Rows(), 10, nil).String()
	want := raw + "\n" +
		"    bar | count($line) \n" +
		"--------|--------------\n" +
		"   abcd |            1 \n" +
		"    ééé |            1 \n" +
		"\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
