package mapr

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdataLines builds 597 STATS lines with the aggregates of the
// reference's integrationtests/mapr_testdata.log as spec §6.7 gives them:
// Σ$goroutines = 6942 (avg 11.628141), 527 lines with
// lifetimeConnections ≥ 3 summing to 6014 (avg 11.411765), max
// lifetimeConnections 6, no concurrentConnections field, and one line, the
// last, at 1002-071949 with 15 goroutines.
func testdataLines(tb testing.TB) []string {
	high := append(spread(tb, 526, 11, 12, 5999), 15) // lifetime ≥ 3
	low := spread(tb, 70, 13, 14, 928)                // lifetime < 3
	var lines []string
	h, l := 0, 0
	for i := 0; i < 597; i++ {
		t := fmt.Sprintf("1002-07%02d%02d", 11+i%8, i%60)
		if i%8 == 4 && l < len(low) {
			lines = append(lines, statsLine(t, low[l], "currentConnections=1", fmt.Sprintf("lifetimeConnections=%d", l%3)))
			l++
			continue
		}
		life := 3 + h%4
		if h == len(high)-1 {
			t, life = "1002-071949", 6
		}
		lines = append(lines, statsLine(t, high[h], "currentConnections=2", fmt.Sprintf("lifetimeConnections=%d", life)))
		h++
	}
	if h != len(high) || l != len(low) {
		tb.Fatalf("testdata: used %d/%d high, %d/%d low", h, len(high), l, len(low))
	}
	return lines
}

// TestSpecExamples reproduces the CSV outputs of spec §6.7 and §4.14.
func TestSpecExamples(t *testing.T) {
	data := testdataLines(t)
	const sel = "from STATS select count($line),last($time),avg($goroutines),min(concurrentConnections),max(lifetimeConnections) group by $hostname"
	const head = "count($line),last($time),avg($goroutines),min(concurrentConnections),max(lifetimeConnections)\n"
	tests := []struct {
		name, query, want string
	}{
		{"dmap1", sel, head + "597,1002-071949,11.628141,0.000000,6.000000\n"},
		{"where numeric", sel + " where lifetimeConnections >= 3", head + "527,1002-071949,11.411765,0.000000,6.000000\n"},
		{"where string", sel + ` where $time eq "1002-071949"`, head + "1,1002-071949,15.000000,0.000000,6.000000\n"},
		{"where bareword is a field", sel + ` where $time eq 1002-071949`, ""},
		{"set", `from STATS select $mask,$md5,$foo,$bar,$baz,last($time), set $mask = maskdigits($time), $md5 = md5sum($time), $foo = 42, $bar = "baz", $baz = $time group by $hostname`,
			"$mask,$md5,$foo,$bar,$baz,last($time)\n....-......,0b53853845d68785051a6a9922b601f3,42,baz,1002-071949,1002-071949\n"},
		{"dmap4", "from STATS select count($line),$hostname group by $hostname", "count($line),$hostname\n597,integrationtest\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := mustParse(t, tt.query)
			r := reduce(t, q, runMap(t, q, "default", data))
			rows := r.Rows()
			if tt.want == "" {
				if len(rows) != 0 {
					t.Fatalf("got rows %q, want none", rows)
				}
				return
			}
			if got := csvOf(q, rows); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestSerializeExample checks the AGGREGATE message of spec §4.12 for the
// dserver1 query over the test data: shortest float format, avg sent as
// the sum, strings after floats, absent fields not sent.
func TestSerializeExample(t *testing.T) {
	q := mustParse(t, "from STATS select count($line),last($time),avg($goroutines),min(concurrentConnections),max(lifetimeConnections) group by $hostname")
	msgs := runMap(t, q, "default", testdataLines(t))
	want := "AGGREGATE|host|integrationtest∥597∥count($line)≔597∥avg($goroutines)≔6942∥max(lifetimeConnections)≔6∥last($time)≔1002-071949∥"
	if len(msgs) != 1 || string(msgs[0]) != want {
		t.Fatalf("got %q\nwant %q", msgs, want)
	}
	// Fractions keep their shortest form; len sends both parts, the
	// string last.
	q = mustParse(t, "from STATS select sum($loadavg),len($caller) group by $hostname")
	msgs = runMap(t, q, "default", []string{statsLine("1002-071949", 1, "a=1"), statsLine("1002-071949", 1, "a=2")})
	want = "AGGREGATE|host|integrationtest∥2∥sum($loadavg)≔1.04∥len($caller)≔11∥len($caller)≔stats.go:56∥"
	if len(msgs) != 1 || string(msgs[0]) != want {
		t.Fatalf("got %q\nwant %q", msgs, want)
	}
}

// tableLines builds the groups of the §5.9 table example plus smaller
// groups, in an order that is not the group key order.
func tableLines(tb testing.TB) []string {
	type grp struct {
		time           string
		n, lo, hi, sum int
	}
	groups := []grp{
		{"1002-071948", 11, 11, 15, 157},
		{"1002-071213", 20, 12, 17, 282},
		{"1002-071912", 10, 15, 15, 150},
		{"1002-071147", 23, 12, 16, 331},
		{"1002-071143", 20, 13, 17, 300},
		{"1002-071100", 3, 9, 9, 27},
		{"1002-071949", 1, 15, 15, 15},
	}
	var lines []string
	for _, g := range groups {
		vals := []int{g.lo}
		if g.n > 1 {
			vals = spread(tb, g.n, g.lo, g.hi, g.sum)
		}
		for _, v := range vals {
			lines = append(lines, statsLine(g.time, v, "lifetimeConnections=1"))
		}
	}
	return lines
}

// TestTableExample reproduces the terminal table of spec §5.9 byte for
// byte: order by is descending, ties keep the group key order, and the
// widths are those of all groups.
func TestTableExample(t *testing.T) {
	raw := "from STATS select count($time),$time,max($goroutines),avg($goroutines),min($goroutines) group by $time order by count($time) limit 5"
	q := mustParse(t, raw)
	r := reduce(t, q, runMap(t, q, "default", tableLines(t)))
	tab := RenderTable(raw, q, r.Rows(), DefaultTerminalLimit, nil)
	want := raw + "\n" +
		" count($time) |       $time | max($goroutines) | avg($goroutines) | min($goroutines) \n" +
		"--------------|-------------|------------------|------------------|------------------\n" +
		"           23 | 1002-071147 |        16.000000 |        14.391304 |        12.000000 \n" +
		"           20 | 1002-071143 |        17.000000 |        15.000000 |        13.000000 \n" +
		"           20 | 1002-071213 |        17.000000 |        14.100000 |        12.000000 \n" +
		"           11 | 1002-071948 |        15.000000 |        14.272727 |        11.000000 \n" +
		"           10 | 1002-071912 |        15.000000 |        15.000000 |        15.000000 \n" +
		"\n"
	if got := tab.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if tab.Warn != "" {
		t.Errorf("warn %q with a limit clause", tab.Warn)
	}
	// The dmap2 CSV rows (spec §6.7) come from the same values, unlimited.
	q = mustParse(t, strings.TrimSuffix(raw, " limit 5"))
	csv := csvOf(q, reduce(t, q, runMap(t, q, "default", tableLines(t))).Rows())
	wantCSV := "count($time),$time,max($goroutines),avg($goroutines),min($goroutines)\n" +
		"23,1002-071147,16.000000,14.391304,12.000000\n" +
		"20,1002-071143,17.000000,15.000000,13.000000\n" +
		"20,1002-071213,17.000000,14.100000,12.000000\n" +
		"11,1002-071948,15.000000,14.272727,11.000000\n" +
		"10,1002-071912,15.000000,15.000000,15.000000\n" +
		"3,1002-071100,9.000000,9.000000,9.000000\n" +
		"1,1002-071949,15.000000,15.000000,15.000000\n"
	if csv != wantCSV {
		t.Errorf("csv got\n%s\nwant\n%s", csv, wantCSV)
	}
}

// TestTableDefaultLimit checks the 10-row terminal limit, its warning and
// that the cut rows still widen the columns (output of DTail 4.3.2-ng).
func TestTableDefaultLimit(t *testing.T) {
	var lines []string
	for i := 1; i <= 12; i++ {
		lines = append(lines, statsLine(fmt.Sprintf("1002-0711%d", i), 10, fmt.Sprintf("foo=%d", i)))
	}
	raw := "from STATS select $time,count($line),max(foo) group by $time"
	q := mustParse(t, raw)
	tab := RenderTable(raw, q, reduce(t, q, runMap(t, q, "default", lines)).Rows(), DefaultTerminalLimit, nil)
	want := raw + "\n" +
		"       $time | count($line) |  max(foo) \n" +
		"-------------|--------------|-----------\n" +
		"  1002-07111 |            1 |  1.000000 \n" +
		" 1002-071110 |            1 | 10.000000 \n" +
		" 1002-071111 |            1 | 11.000000 \n" +
		" 1002-071112 |            1 | 12.000000 \n" +
		"  1002-07112 |            1 |  2.000000 \n" +
		"  1002-07113 |            1 |  3.000000 \n" +
		"  1002-07114 |            1 |  4.000000 \n" +
		"  1002-07115 |            1 |  5.000000 \n" +
		"  1002-07116 |            1 |  6.000000 \n" +
		"  1002-07117 |            1 |  7.000000 \n" +
		"\n"
	if got := tab.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if w := "Got 12 results but limited terminal output to 10 rows! Use 'limit' clause to override!"; tab.Warn != w {
		t.Errorf("warn %q, want %q", tab.Warn, w)
	}
	// An explicit limit shows that many rows, without warning.
	q = mustParse(t, raw+" limit 11")
	tab = RenderTable(raw, q, reduce(t, q, runMap(t, q, "default", lines)).Rows(), DefaultTerminalLimit, nil)
	if n := strings.Count(tab.Body, "\n"); tab.Warn != "" || n != 2+11+1 {
		t.Errorf("limit 11: %d lines, warn %q", n, tab.Warn)
	}
	if got := RenderTable(raw, q, nil, 10, nil); got != (Table{}) {
		t.Errorf("no rows: got %+v", got)
	}
}

// TestAggregationValues checks every 4.x aggregation against the output
// of DTail 4.3.2-ng for the same five lines: a non-number skipped,
// percentage and percentile over the groups, avg dividing by the samples
// of lines where any entry applied (§10.17).
func TestAggregationValues(t *testing.T) {
	lines := []string{
		"INFO|1002-071143|1|x.go:1|8|10|6|1.5|1m|MAPREDUCE:STATS|foo=1|bar=a|v=10",
		"INFO|1002-071143|1|x.go:1|8|12|6|1.5|1m|MAPREDUCE:STATS|foo=2|bar=b|v=20",
		"INFO|1002-071144|1|x.go:1|8|14|6|1.5|1m|MAPREDUCE:STATS|foo=3|bar=a|v=30",
		"INFO|1002-071145|1|x.go:1|8|16|6|1.5|1m|MAPREDUCE:STATS|foo=4|bar=c|v=x",
		"INFO|1002-071145|1|x.go:1|8|16|6|1.5|1m|MAPREDUCE:STATS|foo=5|bar=c",
	}
	raw := "from STATS select bar,count($line),sum(v),avg(v),percentage(v),percentile(v),len(bar),min(v),max(foo),last(v) group by bar"
	q := mustParse(t, raw)
	a := NewAggregate(q, mustParser(t, "default"))
	var errs int
	for _, l := range lines {
		if err := a.Add([]byte(l)); err != nil {
			errs++
			if !strings.Contains(err.Error(), `"x"`) {
				t.Errorf("error %v does not name the value", err)
			}
		}
	}
	if errs != 1 || a.ValueErrors() != 5 || a.Errors() != 0 {
		t.Errorf("errs %d, value errors %d (want 5: sum, avg, percentage, percentile, min of x), errors %d", errs, a.ValueErrors(), a.Errors())
	}
	want := raw + "\n" +
		" bar | count($line) |    sum(v) |    avg(v) | percentage(v) | percentile(v) | len(bar) |    min(v) | max(foo) | last(v) \n" +
		"-----|--------------|-----------|-----------|---------------|---------------|----------|-----------|----------|---------\n" +
		"   a |            2 | 40.000000 | 20.000000 |     66.666667 |    100.000000 | 1.000000 | 10.000000 | 3.000000 |      30 \n" +
		"   b |            1 | 20.000000 | 20.000000 |     33.333333 |     66.666667 | 1.000000 | 20.000000 | 2.000000 |      20 \n" +
		"   c |            2 |  0.000000 |  0.000000 |      0.000000 |     33.333333 | 1.000000 |  0.000000 | 5.000000 |       x \n" +
		"\n"
	got := RenderTable(raw, q, reduce(t, q, a.Serialize("h")).Rows(), 10, nil).String()
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	// Order by a string column: non-numbers are 0, so the group key
	// order stays; order by last(v) sorts numerically, x as 0.
	for _, tt := range []struct{ query, want string }{
		{"from STATS select $time,bar,count($line) group by $time,bar order by bar", "1002-071143 a|1002-071143 b|1002-071144 a|1002-071145 c"},
		{"from STATS select $time,bar,count($line) group by bar,$time order by count($line)", "1002-071145 c|1002-071143 a|1002-071144 a|1002-071143 b"},
		{"from STATS select $time,bar,count($line) group by bar,$time rorder by count($line)", "1002-071143 a|1002-071144 a|1002-071143 b|1002-071145 c"},
		{"from STATS select bar,last(v) group by bar order by last(v)", "a 30|b 20|c x"},
		{"from STATS select bar,last(v) group by bar rorder by last(v) desc", "c x|b 20|a 30"},
	} {
		q := mustParse(t, tt.query)
		var got []string
		for _, r := range reduce(t, q, runMap(t, q, "default", lines)).Rows() {
			got = append(got, strings.Join(r[:2], " "))
		}
		if g := strings.Join(got, "|"); g != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.query, g, tt.want)
		}
	}
}

// TestCSVLogformat reproduces the csv examples of spec §6.7: a set of
// backtick field names, and one header per file (one mapper per file).
func TestCSVLogformat(t *testing.T) {
	in := "count($time),$time,max($goroutines),avg($goroutines),min($goroutines)\n" +
		"23,1002-071147,16.000000,14.391304,12.000000\n" +
		"20,1002-071213,17.000000,14.100000,12.000000\n" +
		"20,1002-071143,17.000000,15.000000,13.000000\n"
	q := mustParse(t, "select sum($timecount),last($time),min($min_goroutines) group by $hostname set $timecount = `count($time)`, $time = `$time`, $min_goroutines = `min($goroutines)` logformat csv")
	got := csvOf(q, reduce(t, q, runMap(t, q, "csv", strings.Split(strings.TrimSpace(in), "\n"))).Rows())
	if want := "sum($timecount),last($time),min($min_goroutines)\n63.000000,1002-071143,12.000000\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	q = mustParse(t, "select count($line) group by * logformat csv")
	a := NewAggregate(q, nil)
	for _, file := range [][]string{{"a,b", "1,2", "3,4"}, {"a,b", "1,2", "3,4", "5,6"}} {
		m := a.NewMapper(mustParser(t, "csv"))
		for _, l := range file {
			if err := m.Add([]byte(l)); err != nil {
				t.Fatal(err)
			}
		}
		m.Close()
	}
	if got := csvOf(q, reduce(t, q, a.Serialize("h")).Rows()); got != "count($line)\n5\n" {
		t.Errorf("got %q", got)
	}
}

// TestContinuousJobLine is the dserver continuous job example of §6.7.
func TestContinuousJobLine(t *testing.T) {
	line := "INFO|19801011-424242|1|dserver_test.go|1|1|1|1.0|1m|MAPREDUCE:INTEGRATIONTEST|foo=1|bar=42"
	q := mustParse(t, "from INTEGRATIONTEST select last($line),max(foo),min(bar) group by $hostname interval 1")
	got := csvOf(q, reduce(t, q, runMap(t, q, "default", []string{line, "  " + line + "\r\n"})).Rows())
	if want := "last($line),max(foo),min(bar)\n" + line + ",1.000000,42.000000\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestWriteCSV checks the outfile protocol of spec §5.9.
func TestWriteCSV(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	raw := "from STATS select count($line),$hostname group by $hostname outfile " + path
	q := mustParse(t, raw)
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	rows := [][]string{{"597", "earth"}, {"3", "mars"}}
	if err := WriteCSV(path, false, raw, q, rows); err != nil {
		t.Fatal(err)
	}
	if got := read(path); got != "count($line),$hostname\n597,earth\n3,mars\n" {
		t.Errorf("csv %q", got)
	}
	if got := read(path + ".query"); got != raw {
		t.Errorf("query file %q", got)
	}
	// A second report replaces the file; no temporary files stay.
	if err := WriteCSV(path, false, raw, q, rows[1:]); err != nil {
		t.Fatal(err)
	}
	if got := read(path); got != "count($line),$hostname\n3,mars\n" {
		t.Errorf("csv after second report %q", got)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("files %v, want out.csv and out.csv.query", ents)
	}

	// Append: header once into a missing file, rows appended each time,
	// the limit applied.
	apath := filepath.Join(dir, "app.csv")
	qa := mustParse(t, "from STATS select count($line),$hostname group by $hostname limit 1 outfile append "+apath)
	for range 2 {
		if err := WriteCSV(apath, true, raw, qa, rows); err != nil {
			t.Fatal(err)
		}
	}
	if got := read(apath); got != "count($line),$hostname\n597,earth\n597,earth\n" {
		t.Errorf("append %q", got)
	}
	// An existing empty file gets the header, a non-empty one does not.
	epath := filepath.Join(dir, "empty.csv")
	os.WriteFile(epath, nil, 0o644)
	if err := WriteCSV(epath, true, raw, qa, rows); err != nil {
		t.Fatal(err)
	}
	if got := read(epath); got != "count($line),$hostname\n597,earth\n" {
		t.Errorf("empty file %q", got)
	}
	npath := filepath.Join(dir, "nonempty.csv")
	os.WriteFile(npath, []byte("x\n"), 0o644)
	if err := WriteCSV(npath, true, raw, qa, rows); err != nil {
		t.Fatal(err)
	}
	if got := read(npath); got != "x\n597,earth\n" {
		t.Errorf("non-empty file %q", got)
	}

	// A missing directory is a one-line error naming the path.
	bad := filepath.Join(dir, "nodir", "x.csv")
	err := WriteCSV(bad, false, raw, q, rows)
	if err == nil || !strings.Contains(err.Error(), "nodir") || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing dir: %v", err)
	}
}
