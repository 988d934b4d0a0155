package query

import (
	"strings"
	"testing"
)

var testFormats = []string{"default", "generic", "generickv", "csv", "custom1", "custom2", "mimecast", "mimecastgeneric", "json", "logfmt"}

// formatOf mirrors logformat.Select for the tests.
func formatOf(q *Query) string {
	switch {
	case q.LogFormat != "":
		return q.LogFormat
	case !q.HasFrom:
		return "generic"
	}
	return "default"
}

// TestCheck: the malformed queries of issue 13 that DTail 4.x runs and
// answers wrongly are refused or warned about, with the place and a
// suggestion; good queries (the spec §6.7 examples among them) pass
// silently.
func TestCheck(t *testing.T) {
	tests := []struct {
		input       string
		errs, warns []string
	}{
		{input: `from REQ select action,count($line) group by action logformat jsn`,
			errs: []string{"query:1:63: unknown log format 'jsn'; did you mean 'json'?"}},
		{input: `select a logformat nginx`,
			errs: []string{"query:1:20: unknown log format 'nginx' (known: default, generic, generickv, csv, custom1, custom2, mimecast, mimecastgeneric, json, logfmt)"}},
		{input: `from REQ select action,count($line) where action eq 'GET' group by action`,
			errs: []string{`query:1:53: 'GET' is a field name here: single quotes do not quote in queries, so the condition is always false; did you mean "GET"?`}},
		{input: `from REQ select count($line) where status == '200'`,
			errs: []string{`query:1:46: '200' is a field name here: single quotes do not quote in queries, so the condition is always false; did you mean 200?`}},
		{input: `from REQ select action,count($line) grup by action`,
			errs: []string{"query:1:37: 'grup by' in the select clause selects the fields 'grup' and 'by'; did you mean 'group by'?"}},
		{input: `from REQ select count($line),action ordr by count($line)`,
			errs: []string{"query:1:37: 'ordr by' in the select clause selects the fields 'ordr' and 'by'; did you mean 'order by'?"}},
		{input: `select action,count($line) group by action`,
			warns: []string{
				"query:1:8: warning: field 'action' is never set: log format 'generic' fills only $line, $empty, $hostname, $server, $timezone, $timeoffset; add a 'from TABLE' clause (DTail's own format) or 'logformat generickv' (key=value fields)",
				"query:1:37: warning: group by action can only produce one group: log format 'generic' never sets the field action (always empty)",
			}},
		{input: `from STATS select count($line),$foo group by $foo`,
			warns: []string{"query:1:46: warning: group by $foo can only produce one group: $foo is not a variable of log format 'default' (always empty)"}},
		{input: `from STATS select count($line) set $k = "x" group by $k, $empty`,
			warns: []string{`query:1:54: warning: group by $k, $empty can only produce one group: $k is set to the constant "x"; $empty is always empty`}},
		// Good queries: nothing to say.
		{input: "from STATS select count($line),last($time),avg($goroutines),min(concurrentConnections),max(lifetimeConnections) group by $hostname"},
		{input: `from STATS select $mask,$md5,$foo,$bar,$baz,last($time), set $mask = maskdigits($time), $md5 = md5sum($time), $foo = 42, $bar = "baz", $baz = $time group by $hostname`},
		{input: "select sum($timecount),last($time),min($min_goroutines) group by $hostname set $timecount = `count($time)`, $time = `$time`, $min_goroutines = `min($goroutines)` logformat csv"},
		{input: "select count($line) group by * logformat csv"},
		{input: "select count($line) group by $line"},
		{input: "from STATS select count($line) as cnt"}, // 4.x: three columns, documented
		{input: "from STATS select `by`,count($line) group by `by`"},
		{input: `from STATS select count($line) where $time eq "1002-071949" and action contains "'"`},
	}
	for _, tc := range tests {
		q, err := Parse(tc.input)
		if err != nil {
			t.Fatalf("%q: %v", tc.input, err)
		}
		errs, warns := Check(q, tc.input, formatOf(q), testFormats)
		if got, want := texts(errs), strings.Join(tc.errs, "\n"); got != want {
			t.Errorf("%q errors:\n%s\nwant\n%s", tc.input, got, want)
		}
		if got, want := texts(warns), strings.Join(tc.warns, "\n"); got != want {
			t.Errorf("%q warnings:\n%s\nwant\n%s", tc.input, got, want)
		}
	}
}

func texts(es []*Error) string {
	var s []string
	for _, e := range es {
		s = append(s, e.Error())
	}
	return strings.Join(s, "\n")
}

func TestClosest(t *testing.T) {
	cands := []string{"select", "from", "where", "group", "order", "count", "json", "$time", "$timeoffset"}
	for word, want := range map[string]string{
		"selet": "select", "SELCET": "select", "frm": "from", "grup": "group", "cnt": "count", "jsn": "json",
		"$tiem": "$time", "$time": "", "x": "", "foo": "", "banana": "", "": "", "count": "",
	} {
		if got := Closest(word, cands); got != want {
			t.Errorf("Closest(%q) = %q, want %q", word, got, want)
		}
	}
}
