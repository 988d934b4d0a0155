package query

import (
	"flag"
	"strings"
	"testing"
)

var debug = flag.Bool("debug", false, "print parse errors while writing tests")

// exampleQueries are the queries of spec §6.7 and §5.9, verbatim.
var exampleQueries = []string{
	`from STATS select count($line),last($time),avg($goroutines),min(concurrentConnections),max(lifetimeConnections) group by $hostname`,
	`from STATS select count($line),last($time),avg($goroutines),min(concurrentConnections),max(lifetimeConnections) group by $hostname where lifetimeConnections >= 3`,
	`from STATS select count($line),last($time),avg($goroutines),min(concurrentConnections),max(lifetimeConnections) group by $hostname where $time eq "1002-071949"`,
	`from STATS select $mask,$md5,$foo,$bar,$baz,last($time), set $mask = maskdigits($time), $md5 = md5sum($time), $foo = 42, $bar = "baz", $baz = $time group by $hostname`,
	`from STATS select count($time),$time,max($goroutines),avg($goroutines),min($goroutines) group by $time order by count($time)`,
	`from STATS select count($line),$hostname group by $hostname`,
	"select sum($timecount),last($time),min($min_goroutines) group by $hostname set $timecount = `count($time)`, $time = `$time`, $min_goroutines = `min($goroutines)` logformat csv",
	`select count($line) group by * logformat csv`,
	`from INTEGRATIONTEST select last($line),max(foo),min(bar) group by $hostname interval 1`,
	`from STATS select count($time),$time,max($goroutines),avg($goroutines),min($goroutines) group by $time order by count($time) limit 5`,
	`from STATS select count($line) as cnt`,
}

func TestParse_Valid(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"minimal", "select $line", "select $line"},
		{"keywords any case", "SELECT count($line) FROM stats", "select count($line) from STATS"},
		{"clauses any order", "limit 3 from x select a", "select a from X limit 3"},
		{"repeated clause overwrites", "select a select b", "select b"},
		{"commas are blanks", "select a,b,,c", "select a, b, c"},
		{"every aggregation",
			"select count(a) sum(b) min(c) max(d) last(e) avg(f) len(g) percentage(h) percentile(i)",
			"select count(a), sum(b), min(c), max(d), last(e), avg(f), len(g), percentage(h), percentile(i)"},
		{"backtick field", "select `count($x)`", "select `count($x)`"},
		{"quoted field", `select "a b"`, `select "a b"`},
		{"as is not an alias", "select count($line) as cnt", "select count($line), as, cnt"},
		{"where numeric", "select a where b >= 3 and c =< 4, d => 5 e != 1",
			"select a where b >= 3 and c <= 4 and d >= 5 and e != 1"},
		{"where string ops", `select a where b EQ "x" c lacks $d e HasPrefix "p"`,
			`select a where b eq "x" and c ncontains $d and e hasprefix "p"`},
		{"where all string ops", `select a where a ne "" a contains "" a nhasprefix "" a hassuffix "" a nhassuffix ""`,
			`select a where a ne "" and a contains "" and a nhasprefix "" and a hassuffix "" and a nhassuffix ""`},
		{"set nesting", "select $m set $m = maskdigits(md5sum($line)), $n = `x`",
			"select $m set $m = maskdigits(md5sum($line)), $n = `x`"},
		{"group by", "select a group by b, c", "select a group by b, c"},
		{"group without by", "select a group B", "select a group by B"},
		{"group by keyword-like quoted", `select a group by "limit"`, `select a group by "limit"`},
		{"order by ignores desc", "select count(a) order by count(a) desc", "select count(a) order by count(a)"},
		{"rorder", "select count(a) RORDER BY count(a) reverse", "select count(a) rorder by count(a)"},
		{"interval", "select a interval 1", "select a interval 1"},
		{"interval default not printed", "select a interval 5", "select a"},
		{"interval missing keeps 5", "select a interval", "select a"},
		{"limit", "select a limit 0", "select a limit 0"},
		{"outfile", "select a outfile /tmp/x.csv", "select a outfile /tmp/x.csv"},
		{"outfile append", "select a outfile append /tmp/x.csv", "select a outfile append /tmp/x.csv"},
		{"outfile append: is a name", "select a outfile append:/tmp/x.csv", "select a outfile append:/tmp/x.csv"},
		{"outfile named append", "select a outfile append", "select a outfile append"},
		{"logformat", "select a logformat generickv", "select a logformat generickv"},
		{"from star", "select a from *", "select a from *"},
		{"unterminated quote runs to end", `select a where b eq "x y`, `select a where b eq "x y"`},
		{"empty quoted", `select a where b eq ""`, `select a where b eq ""`},
		{"and as operand", `select a where x == 1 and and eq "y"`, `select a where x == 1 and and eq "y"`},
		{"multi-line", "select a\nfrom b", "select a from B"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.input)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.input, err)
			}
			if got := q.String(); got != tc.want {
				t.Errorf("Parse(%q).String() =\n  %s\nwant\n  %s", tc.input, got, tc.want)
			}
		})
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name, input string
		want        string // full Error() text
		ref         string // Reference() text
	}{
		{"no select", "from STATS", "query: Expected at least one field in 'select' clause but got none",
			"Invalid query: Expected at least one field in 'select' clause but got none"},
		{"empty query", "", "query: Expected at least one field in 'select' clause but got none",
			"Invalid query: Expected at least one field in 'select' clause but got none"},
		{"unexpected keyword", "foo select a",
			"query:1:1: Unexpected keyword foo",
			"failed to parse query tokens: Invalid query: Unexpected keyword foo"},
		{"unknown aggregation", "select cnt($line)",
			"query:1:8: Unknown aggregation in 'select' clause: cnt; did you mean 'count'?",
			"failed to parse query tokens: Invalid query: Unknown aggregation in 'select' clause: cnt"},
		{"aggregation is case-sensitive", "select COUNT($line)",
			"query:1:8: Unknown aggregation in 'select' clause: COUNT; did you mean 'count'?", ""},
		{"malformed aggregation", "select a, count($line",
			"query:1:11: Can't parse 'select' aggregation: count($line",
			"failed to parse query tokens: Can't parse 'select' aggregation: count($line"},
		{"empty aggregation", "select count()",
			"query:1:8: Can't parse 'select' aggregation: count()", ""},
		{"nested aggregation", "select max(count(a))",
			"query:1:8: Can't parse 'select' aggregation: max(count(a))", ""},
		{"bad order field", "select count($line) order by $line",
			"query:1:30: Can not '(r)order by' '$line',must be present in 'select' clause; did you mean 'count($line)'?",
			"Invalid query: Can not '(r)order by' '$line',must be present in 'select' clause"},
		{"bad rorder field", "select a rorder x",
			"query:1:17: Can not '(r)order by' 'x',must be present in 'select' clause", ""},
		{"outfile too many tokens", "select a outfile append x y",
			"query:1:27: expected one file name after 'outfile' (or 'outfile append PATH')",
			"failed to parse query tokens: Invalid query: Invalid query: "},
		{"outfile two tokens without append", "select a outfile x y",
			"query:1:20: expected one file name after 'outfile' (or 'outfile append PATH')", ""},
		{"unknown where op", "select a where b like c",
			"query:1:18: Unknown operation in 'where' clause: like",
			"failed to parse query tokens: Invalid query: Unknown operation in 'where' clause: like"},
		{"where too short", "select a where b ==",
			"query:1:16: Not enough arguments in 'where' clause",
			"failed to parse query tokens: Not enough arguments in 'where' clause"},
		{"where trailing and", "select a where b == 1 and",
			"query:1:26: Not enough arguments in 'where' clause", ""},
		{"numeric with quoted", `select a where b > "1"`,
			`query:1:20: Quoted string "1" can not be used with numeric operation '>' in 'where' clause`, ""},
		{"unknown function", "select $a set $a = sha1($line)",
			"query:1:20: unknown function 'sha1'",
			"failed to parse query tokens: unknown function 'sha1'"},
		{"unbalanced set", "select $a set $a = md5sum($line",
			"query:1:20: Unbalanced parentheses in 'set' clause: md5sum($line", ""},
		{"unbalanced set close", "select $a set $a = md5sum($line))",
			"query:1:20: Unbalanced parentheses in 'set' clause: md5sum($line))", ""},
		{"set lhs", "select $a set a = 1",
			"query:1:15: Expected a $variable on the left side of 'set' assignment but got a", ""},
		{"set op", "select $a set $a := 1",
			"query:1:18: Unknown operation in 'set' clause: :=", ""},
		{"set too short", "select $a set $a =",
			"query:1:15: Not enough arguments in 'set' clause", ""},
		{"from two tables", "select a from x y",
			"query:1:17: Expected exactly one table in 'from' clause but got 2", ""},
		{"bad interval", "select a interval soon",
			"query:1:19: Can not parse 'interval' value: soon", ""},
		{"bad limit", "select a limit 1.5",
			"query:1:16: Can not parse 'limit' value: 1.5", ""},
		{"position on second line", "select a\nwhere b ?? c",
			"query:2:9: Unknown operation in 'where' clause: ??", ""},
		{"newline in token stays one line", "select a where b \"x\ny\" c",
			`query:1:18: Unknown operation in 'where' clause: x\ny`, ""},
		{"too deep", "select $a set $a = " + strings.Repeat("md5sum(", MaxDepth+1) + "x" + strings.Repeat(")", MaxDepth+1),
			"query:1:20: 'set' functions nested deeper than 32", ""},
		{"from without table", "select count($line) from",
			"query:1:24: expected table name after 'from'",
			"Invalid query: expected table name after 'from'"},
		{"from followed by a keyword", "from select count($line)",
			"query:1:4: expected table name after 'from'", ""},
		{"group by without field", "select a group by",
			"query:1:17: expected a field after 'group by'",
			"failed to parse query tokens: Invalid query: Unexpected end of query"},
		{"group without by and field", "select a group limit 3",
			"query:1:14: expected a field after 'group'", ""},
		{"order by without field", "select a order by",
			"query:1:17: expected a select entry after 'order by'", ""},
		{"limit without value", "select a limit",
			"query:1:14: expected a number after 'limit'", ""},
		{"logformat without name", "select a logformat",
			"query:1:18: expected a log format name after 'logformat'", ""},
		{"outfile without path", "select a outfile",
			"query:1:16: expected a file name after 'outfile'",
			"failed to parse query tokens: Invalid query: Invalid query: "},
		{"misspelt keyword", "selet count($line) from X",
			"query:1:1: Unexpected keyword selet; did you mean 'select'?", ""},
		{"abbreviated aggregation", "select cnt($line)",
			"query:1:8: Unknown aggregation in 'select' clause: cnt; did you mean 'count'?", ""},
		{"misspelt aggregation", "select sun($line)",
			"query:1:8: Unknown aggregation in 'select' clause: sun; did you mean 'sum'?", ""},
		{"misspelt operation", "select a where b contians \"x\"",
			"query:1:18: Unknown operation in 'where' clause: contians; did you mean 'contains'?", ""},
		{"misspelt function", "select $a set $a = md5($line)",
			"query:1:20: unknown function 'md5'; did you mean 'md5sum'?", ""},
		{"misspelt order field", "select count($line) order by cuont($line)",
			"query:1:30: Can not '(r)order by' 'cuont($line)',must be present in 'select' clause; did you mean 'count($line)'?", ""},
		{"too many tokens", "select" + strings.Repeat(" a", MaxTokens),
			"query:1:8198: too many tokens (limit 4096)", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.input)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if *debug {
				t.Log(err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error\n  %s\nwant\n  %s", got, tc.want)
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error type %T, want *Error", err)
			}
			if tc.ref != "" && e.Reference() != tc.ref {
				t.Errorf("Reference() = %q, want %q", e.Reference(), tc.ref)
			}
		})
	}
}

func TestParse_Examples(t *testing.T) {
	for _, in := range exampleQueries {
		q, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		assertRoundTrip(t, q)
	}
}

func TestParse_Tree(t *testing.T) {
	q, err := Parse(exampleQueries[4])
	if err != nil {
		t.Fatal(err)
	}
	if q.Table != "STATS" || !q.HasFrom {
		t.Errorf("table %q %v", q.Table, q.HasFrom)
	}
	want := []struct {
		agg            Agg
		field, storage string
	}{
		{AggCount, "$time", "count($time)"},
		{AggNone, "$time", "$time"},
		{AggMax, "$goroutines", "max($goroutines)"},
		{AggAvg, "$goroutines", "avg($goroutines)"},
		{AggMin, "$goroutines", "min($goroutines)"},
	}
	if len(q.Selects) != len(want) {
		t.Fatalf("%d selects, want %d", len(q.Selects), len(want))
	}
	for i, w := range want {
		s := q.Selects[i]
		if s.Agg != w.agg || s.Field != w.field || s.Storage != w.storage {
			t.Errorf("select %d = %v %q %q, want %v %q %q", i, s.Agg, s.Field, s.Storage, w.agg, w.field, w.storage)
		}
	}
	if q.Selects[1].Op() != AggLast {
		t.Errorf("plain field Op() = %v, want last", q.Selects[1].Op())
	}
	if q.Order == nil || q.Order.Field != "count($time)" || !q.Order.Descending() {
		t.Errorf("order = %+v, want descending count($time)", q.Order)
	}
	if q.Interval != 5 || q.IntervalDuration().Seconds() != 5 || q.Limit != -1 {
		t.Errorf("interval %d limit %d", q.Interval, q.Limit)
	}
	if got := q.TableRegex(); got != `\|MAPREDUCE:STATS\|` {
		t.Errorf("TableRegex = %q", got)
	}
	if got := strings.Join(q.Storages(), ","); got != "count($time),$time,max($goroutines),avg($goroutines),min($goroutines)" {
		t.Errorf("Storages = %q", got)
	}
}

func TestQuery_Defaults(t *testing.T) {
	tests := []struct {
		input      string
		group      string
		regex      string
		interval   float64
		outfile    string
		appendMode bool
	}{
		{"select count($line)", "$line", ".", 5, "", false},
		{"select count($line) logformat csv", "$line", ".", 5, "", false},
		{"select a group by b, c interval 0", "b,c", ".", 1, "", false},
		{"select a interval -3 from *", "a", `\|MAPREDUCE:\|`, 1, "", false},
		{"select a from stats outfile append:x.csv", "a", `\|MAPREDUCE:STATS\|`, 5, "append:x.csv", false},
		{"select a outfile append x.csv", "a", ".", 5, "x.csv", true},
		{"select `count($x)`", "count($x)", ".", 5, "", false},
	}
	for _, tc := range tests {
		q, err := Parse(tc.input)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.input, err)
		}
		if got := strings.Join(q.GroupFields(), ","); got != tc.group {
			t.Errorf("%q: GroupFields = %q, want %q", tc.input, got, tc.group)
		}
		if got := q.TableRegex(); got != tc.regex {
			t.Errorf("%q: TableRegex = %q, want %q", tc.input, got, tc.regex)
		}
		if got := q.IntervalDuration().Seconds(); got != tc.interval {
			t.Errorf("%q: interval = %v, want %v", tc.input, got, tc.interval)
		}
		if q.Outfile != tc.outfile || q.Append != tc.appendMode {
			t.Errorf("%q: outfile %q append %v", tc.input, q.Outfile, q.Append)
		}
	}
}

func assertRoundTrip(t *testing.T, q *Query) {
	t.Helper()
	s := q.String()
	q2, err := Parse(s)
	if err != nil {
		t.Fatalf("canonical %q does not parse: %v", s, err)
	}
	if s2 := q2.String(); s2 != s {
		t.Fatalf("round trip changed the query:\n  %s\n  %s", s, s2)
	}
}

func TestParse_RoundTrip(t *testing.T) {
	inputs := []string{
		"select `a b`",
		`select "count(x)" where "a" eq b group by "x y", by`,
		"select a from ſelect",
		"select a from `x`",
		`select a from ""`,
		`select a outfile "my file.csv" logformat "log format"`,
		`select $m set $m = md5sum()`,
		"select $m set $m = md5sum(`a`), $n = \"a b\"",
		"select a limit -7 interval -1",
		"select count(a) order by count(a) group by *",
	}
	for _, in := range inputs {
		q, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		assertRoundTrip(t, q)
	}
}
