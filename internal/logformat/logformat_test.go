package logformat

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// perfLine is the line of the performance anchors (spec task brief, §9).
const perfLine = "INFO|20211002-000001|5423|handler.go:120|8|47|6|1.53|400h0m1s|MAPREDUCE:STATS|currentConnections=43|lifetimeConnections=51929|action=GET|status=200|user=user5967|bytes=707815|latency_ms=1828"

var testOpts = Options{Hostname: "integrationtest", Location: time.FixedZone("CET", 3600)}

// withCommon adds the common variables of spec §6.3 for line.
func withCommon(line string, m map[string]string) map[string]string {
	out := map[string]string{
		"$line": line, "$empty": "", "$hostname": "integrationtest", "$server": "integrationtest",
		"$timezone": "CET", "$timeoffset": "3600", "*": "*",
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}

type parseCase struct {
	name   string
	line   string
	want   map[string]string // without the common variables; nil if not ok
	errSub string            // non-empty: an error containing this
}

func runCases(t *testing.T, format string, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(format, testOpts)
			if err != nil {
				t.Fatal(err)
			}
			got, ok, err := p.Parse([]byte(tc.line))
			switch {
			case tc.errSub != "":
				if err == nil || !strings.Contains(err.Error(), tc.errSub) {
					t.Fatalf("err = %v, want containing %q", err, tc.errSub)
				}
				if ok {
					t.Fatal("ok with error")
				}
			case err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.want == nil:
				if ok {
					t.Fatalf("line accepted, want ignored: %v", got)
				}
			default:
				if !ok {
					t.Fatal("line ignored, want accepted")
				}
				want := withCommon(strings.TrimSpace(tc.line), tc.want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("fields\n got %v\nwant %v", got, want)
				}
			}
		})
	}
}

func TestDefault_Parse(t *testing.T) {
	runCases(t, Default, []parseCase{
		{name: "perf anchor line", line: perfLine, want: map[string]string{
			"$severity": "INFO", "$loglevel": "INFO", "$time": "20211002-000001",
			"$date": "20211002", "$hour": "00", "$minute": "00", "$second": "01",
			"$pid": "5423", "$caller": "handler.go:120", "$cpus": "8", "$goroutines": "47",
			"$cgocalls": "6", "$loadavg": "1.53", "$uptime": "400h0m1s",
			"currentConnections": "43", "lifetimeConnections": "51929", "action": "GET",
			"status": "200", "user": "user5967", "bytes": "707815", "latency_ms": "1828",
		}},
		{name: "continuous job line (§6.7)", line: "INFO|19801011-424242|1|dserver_test.go|1|1|1|1.0|1m|MAPREDUCE:INTEGRATIONTEST|foo=1|bar=42",
			want: map[string]string{
				"$severity": "INFO", "$loglevel": "INFO", "$time": "19801011-424242",
				"$date": "19801011", "$hour": "42", "$minute": "42", "$second": "42",
				"$pid": "1", "$caller": "dserver_test.go", "$cpus": "1", "$goroutines": "1",
				"$cgocalls": "1", "$loadavg": "1.0", "$uptime": "1m", "foo": "1", "bar": "42",
			}},
		{name: "dserver MMDD-HHMMSS time leaves date vars unset", line: "  INFO|1002-071949|1|stats.go:56|4|15|2|0.5|2h|MAPREDUCE:STATS|lifetimeConnections=6|x=a=b \n",
			want: map[string]string{
				"$severity": "INFO", "$loglevel": "INFO", "$time": "1002-071949",
				"$pid": "1", "$caller": "stats.go:56", "$cpus": "4", "$goroutines": "15",
				"$cgocalls": "2", "$loadavg": "0.5", "$uptime": "2h", "lifetimeConnections": "6", "x": "a=b",
			}},
		{name: "INFO prefix is enough", line: "INFORMATION|t|p|c|1|2|3|4|5|MAPREDUCE:X|k=v",
			want: map[string]string{
				"$severity": "INFORMATION", "$loglevel": "INFORMATION", "$time": "t",
				"$pid": "p", "$caller": "c", "$cpus": "1", "$goroutines": "2",
				"$cgocalls": "3", "$loadavg": "4", "$uptime": "5", "k": "v",
			}},
		{name: "kv cannot spoof variables", line: "INFO|t|p|c|1|2|3|4|5|MAPREDUCE:X|$hostname=evil|$time=x",
			want: map[string]string{
				"$severity": "INFO", "$loglevel": "INFO", "$time": "t",
				"$pid": "p", "$caller": "c", "$cpus": "1", "$goroutines": "2",
				"$cgocalls": "3", "$loadavg": "4", "$uptime": "5",
			}},
		{name: "WARN ignored", line: strings.Replace(perfLine, "INFO", "WARN", 1)},
		{name: "no MAPREDUCE ignored", line: strings.Replace(perfLine, "MAPREDUCE:", "STATS:", 1)},
		{name: "10 fields ignored", line: "INFO|t|p|c|1|2|3|4|5|MAPREDUCE:X"},
		{name: "empty ignored", line: ""},
		{name: "field without = is an error", line: "INFO|t|p|c|1|2|3|4|5|MAPREDUCE:X|k=v|oops", errSub: "field 11 has no '='"},
		{name: "trailing | is an error", line: "INFO|t|p|c|1|2|3|4|5|MAPREDUCE:X|", errSub: "field 10"},
	})
}

func TestDefault_KnownVariables(t *testing.T) {
	// The query package warns about $variables outside this list (spec
	// §5.9); it keeps its own copy, so pin the list here.
	want := []string{"$caller", "$cgocalls", "$cpus", "$date", "$empty", "$goroutines", "$hostname",
		"$hour", "$line", "$loadavg", "$loglevel", "$minute", "$pid", "$second", "$server",
		"$severity", "$time", "$timeoffset", "$timezone", "$uptime"}
	p, _ := New(Default, testOpts)
	m, ok, err := p.Parse([]byte(perfLine))
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	var got []string
	for k := range m {
		if strings.HasPrefix(k, "$") {
			got = append(got, k)
		}
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("variables\n got %v\nwant %v", got, want)
	}
}

func TestDefault_ReusesMap(t *testing.T) {
	p, _ := New(Default, testOpts)
	m1, _, _ := p.Parse([]byte("INFO|t|p|c|1|2|3|4|5|MAPREDUCE:X|a=1"))
	m1["$set"] = "by the query"
	m2, _, _ := p.Parse([]byte("INFO|t|p|c|1|2|3|4|5|MAPREDUCE:X|b=2"))
	if _, ok := m2["a"]; ok {
		t.Error("field of the previous line leaked")
	}
	if _, ok := m2["$set"]; ok {
		t.Error("caller's addition leaked")
	}
}

func TestGeneric_Parse(t *testing.T) {
	runCases(t, Generic, []parseCase{
		{name: "any line", line: "  hello|a=b  ", want: map[string]string{}},
		{name: "empty line", line: "", want: map[string]string{}},
		{name: "WARN default line", line: strings.Replace(perfLine, "INFO", "WARN", 1), want: map[string]string{}},
	})
}

func TestGenericKV_Parse(t *testing.T) {
	runCases(t, GenericKV, []parseCase{
		{name: "pieces with =", line: "WARN|a=1|b=x=y|noeq|=empty|c=", want: map[string]string{
			"a": "1", "b": "x=y", "": "empty", "c": "",
		}},
		{name: "perf line", line: perfLine, want: map[string]string{
			"currentConnections": "43", "lifetimeConnections": "51929", "action": "GET",
			"status": "200", "user": "user5967", "bytes": "707815", "latency_ms": "1828",
		}},
		{name: "no pairs", line: "plain text", want: map[string]string{}},
	})
}

func TestCSV_Parse(t *testing.T) {
	// Spec §6.7: dmap5.csv.in has DTail's own CSV output as input.
	p, err := New(CSV, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{
		"count($time),$time,max($goroutines),avg($goroutines),min($goroutines)",
		"23,1002-071147,16.000000,14.391304,12.000000",
		"20,1002-071143",
		"1,2,3,4,5,6",
	}
	if _, ok, err := p.Parse([]byte(lines[0])); ok || err != nil {
		t.Fatalf("header: ok=%v err=%v, want ignored", ok, err)
	}
	m, ok, err := p.Parse([]byte(lines[1]))
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	want := withCommon(lines[1], map[string]string{
		"count($time)": "23", "$time": "1002-071147", "max($goroutines)": "16.000000",
		"avg($goroutines)": "14.391304", "min($goroutines)": "12.000000",
	})
	if !reflect.DeepEqual(m, want) {
		t.Errorf("row\n got %v\nwant %v", m, want)
	}
	m, ok, err = p.Parse([]byte(lines[2]))
	if !ok || err != nil || m["$time"] != "1002-071143" {
		t.Fatal(ok, err, m)
	}
	if _, set := m["max($goroutines)"]; set {
		t.Error("short row: missing column should be unset")
	}
	if _, ok, err := p.Parse([]byte(lines[3])); ok || err == nil {
		t.Errorf("long row: ok=%v err=%v, want error", ok, err)
	}

	// A new parser (a new file) consumes its own header.
	p2, _ := New(CSV, testOpts)
	if _, ok, _ := p2.Parse([]byte("a,b")); ok {
		t.Error("second file's header was aggregated")
	}
}

func TestJSON_Parse(t *testing.T) {
	runCases(t, JSON, []parseCase{
		{name: "flat and nested", line: `{"level":"info","n":1.50,"big":12345678901234567890,"ok":true,"nil":null,` +
			`"req":{"method":"GET","h":{"ua":"x\"y"}},"arr":[1, 2 ,{"a":1}],"e":{}}`,
			want: map[string]string{
				"level": "info", "n": "1.50", "big": "12345678901234567890", "ok": "true", "nil": "null",
				"req.method": "GET", "req.h.ua": `x"y`, "arr": `[1,2,{"a":1}]`,
			}},
		{name: "not an object is ignored", line: `plain text`},
		{name: "array line ignored", line: `[1,2]`},
		{name: "broken object", line: `{"a":`, errSub: "json log format"},
		{name: "trailing data", line: `{"a":1} x`, errSub: "data after the object"},
	})
}

func TestLogfmt_Parse(t *testing.T) {
	runCases(t, Logfmt, []parseCase{
		{name: "pairs", line: `level=info msg="request done" status=200 flag empty= q="a\"b\\c"`,
			want: map[string]string{
				"level": "info", "msg": "request done", "status": "200", "flag": "", "empty": "", "q": `a"b\c`,
			}},
		{name: "trailing bare key", line: "a=1 last", want: map[string]string{"a": "1", "last": ""}},
		{name: "no pairs", line: "", want: map[string]string{}},
		{name: "unterminated", line: `msg="oops`, errSub: "unterminated"},
	})
}

func TestNew(t *testing.T) {
	for _, name := range Names() {
		_, err := New(name, testOpts)
		fails := name == Custom1 || name == Custom2 || name == Mimecast || name == MimecastGeneric
		if (err != nil) != fails {
			t.Errorf("New(%q) err = %v", name, err)
		}
	}
	p, err := NewOrGeneric("nope", testOpts)
	if err == nil || p == nil {
		t.Fatalf("NewOrGeneric(nope) = %v, %v", p, err)
	}
	if _, ok, _ := p.Parse([]byte("x")); !ok {
		t.Error("fallback is not generic")
	}
}

func TestSelect(t *testing.T) {
	tests := []struct {
		clause  string
		hasFrom bool
		server  string
		want    string
	}{
		{"csv", true, "default", "csv"},
		{"", false, "default", "generic"},
		{"", true, "generickv", "generickv"},
		{"", true, "", "default"},
	}
	for _, tc := range tests {
		if got := Select(tc.clause, tc.hasFrom, tc.server); got != tc.want {
			t.Errorf("Select(%q, %v, %q) = %q, want %q", tc.clause, tc.hasFrom, tc.server, got, tc.want)
		}
	}
}

func BenchmarkDefault(b *testing.B) {
	p, _ := New(Default, testOpts)
	line := []byte(perfLine)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := p.Parse(line); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkDefault_Ignored(b *testing.B) {
	p, _ := New(Default, testOpts)
	line := []byte(strings.Replace(perfLine, "INFO", "WARN", 1))
	b.ReportAllocs()
	for b.Loop() {
		p.Parse(line)
	}
}
