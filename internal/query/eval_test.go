package query

import (
	"reflect"
	"strings"
	"testing"
)

func TestCond_Eval(t *testing.T) {
	fields := map[string]string{
		"lifetimeConnections": "3", "$time": "1002-071949", "name": "alpha",
		"1002-071949": "field named like the time", "x": "not a number", "neg": "-2.5",
		"2": "10",
	}
	tests := []struct {
		where string
		want  bool
	}{
		{"lifetimeConnections >= 3", true},
		{"lifetimeConnections > 3", false},
		{"lifetimeConnections == 3.0", true},
		{"lifetimeConnections != 3", false},
		{"lifetimeConnections < 4", true},
		{"lifetimeConnections <= 3", true},
		{"lifetimeConnections =< 2", false},
		{"4 => lifetimeConnections", true},
		{"neg < 0", true},
		{"missing > 0", false},
		{"missing != 0", false},
		{"x == 0", false},
		{"2 == 2", true},    // a number is a constant even if a field has that name
		{"`2` == 10", true}, // backticks always name a field
		{"lifetimeConnections == neg", false},
		{`$time eq "1002-071949"`, true},
		{"$time eq 1002-071949", false}, // bareword: the field "1002-071949"
		{`$time ne "1002-071949"`, false},
		{`missing ne "x"`, false},
		{`name contains "lph"`, true},
		{`name ncontains "lph"`, false},
		{`name LACKS "zz"`, true},
		{`name hasprefix "al"`, true},
		{`name nhasprefix "al"`, false},
		{`name hassuffix "ha"`, true},
		{`name nhassuffix "ha"`, false},
		{`name eq "Alpha"`, false}, // case-sensitive
		{`"alpha" eq name`, true},
		{`name eq name`, true},
	}
	for _, tc := range tests {
		q, err := Parse("select a where " + tc.where)
		if err != nil {
			t.Fatalf("%q: %v", tc.where, err)
		}
		if got := q.Match(fields); got != tc.want {
			t.Errorf("where %s = %v, want %v", tc.where, got, tc.want)
		}
	}
}

func TestQuery_Match_AllConditions(t *testing.T) {
	q, err := Parse(`select a where a > 1 and b eq "x"`)
	if err != nil {
		t.Fatal(err)
	}
	if !q.Match(map[string]string{"a": "2", "b": "x"}) {
		t.Error("both hold: want match")
	}
	if q.Match(map[string]string{"a": "2", "b": "y"}) {
		t.Error("second fails: want no match")
	}
}

func TestQuery_Apply(t *testing.T) {
	// Spec §6.7: the set example and its exact CSV values.
	q, err := Parse(exampleQueries[3])
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{"$time": "1002-071949"}
	q.Apply(fields)
	want := map[string]string{
		"$time": "1002-071949",
		"$mask": "....-......",
		"$md5":  "0b53853845d68785051a6a9922b601f3",
		"$foo":  "42",
		"$bar":  "baz",
		"$baz":  "1002-071949",
	}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("Apply =\n %v\nwant\n %v", fields, want)
	}
}

func TestAssign_Value(t *testing.T) {
	fields := map[string]string{
		"count($time)": "23", "$time": "1002-071147", "baz": "field baz", "$line": "a1b2",
	}
	tests := []struct {
		set, want string
	}{
		{"$x = `count($time)`", "23"},
		{"$x = `missing`", ""},
		{"$x = $time", "1002-071147"},
		{"$x = missing", "missing"},
		{`$x = "baz"`, "field baz"}, // a quoted value is still looked up first
		{`$x = "a b"`, "a b"},
		{"$x = maskdigits($line)", "a.b."},
		{"$x = md5sum($line)", "f2e49af795161e14acf9d9245473a368"},
		{"$x = maskdigits(md5sum($line))", "f.e..af......e..acf.d.......a..."},
		{"$x = md5sum(maskdigits($line))", "7a093f356e5a65f8dc3b651bf31a3a4c"},
		{"$x = maskdigits(`count($time)`)", ".."},
	}
	for _, tc := range tests {
		q, err := Parse("select $x set " + tc.set)
		if err != nil {
			t.Fatalf("%q: %v", tc.set, err)
		}
		if got := q.Set[0].Value(fields); got != tc.want {
			t.Errorf("set %s = %q, want %q", tc.set, got, tc.want)
		}
	}
}

func TestQuery_Apply_InOrder(t *testing.T) {
	q, err := Parse("select $b set $a = 1, $b = md5sum($a), $a = 2")
	if err != nil {
		t.Fatal(err)
	}
	f := map[string]string{}
	q.Apply(f)
	if f["$a"] != "2" || f["$b"] != FuncMD5Sum.Apply("1") {
		t.Errorf("got %v", f)
	}
}

func TestQuery_GroupKey(t *testing.T) {
	q, err := Parse("select count($line) group by a, missing, b")
	if err != nil {
		t.Fatal(err)
	}
	if got := q.GroupKey(map[string]string{"a": "x", "b": "y"}); got != "x,,y" {
		t.Errorf("GroupKey = %q", got)
	}
	q, _ = Parse("select count($line)")
	if got := q.GroupKey(map[string]string{"$line": "l"}); got != "l" {
		t.Errorf("default GroupKey = %q", got)
	}
}

func TestUnknownVariables(t *testing.T) {
	tests := []struct {
		query, format string
		want          []string
	}{
		{"from STATS select count($line),avg($goroutines) group by $hostname", "default", nil},
		{"select count($foo) where $bar > 1 group by $baz", "default", []string{
			`warning: $foo is not a known variable for log format "default"; did you mean bareword foo?`,
			`warning: $bar is not a known variable for log format "default"; did you mean bareword bar?`,
			`warning: $baz is not a known variable for log format "default"; did you mean bareword baz?`,
		}},
		{"select $time", "generic", []string{
			`warning: $time is not a known variable for log format "generic"; did you mean bareword time?`,
		}},
		{"select $time, $time, `$x` set $y = $z", "csv", []string{
			`warning: $time is not a known variable for log format "csv"; did you mean bareword time?`,
			`warning: $z is not a known variable for log format "csv"; did you mean bareword z?`,
		}},
		{exampleQueries[3], "default", nil},
		{exampleQueries[6], "csv", nil},
		{"select $nope", "custom1", nil},
		{`select a where $q eq "$lit"`, "generickv", []string{
			`warning: $q is not a known variable for log format "generickv"; did you mean bareword q?`,
		}},
	}
	for _, tc := range tests {
		q, err := Parse(tc.query)
		if err != nil {
			t.Fatalf("%q: %v", tc.query, err)
		}
		got := UnknownVariables(q, tc.format)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("UnknownVariables(%q, %q) =\n %s\nwant\n %s", tc.query, tc.format,
				strings.Join(got, "\n "), strings.Join(tc.want, "\n "))
		}
	}
}

func TestKnownVariables(t *testing.T) {
	if n := len(KnownVariables("default")); n != 20 {
		t.Errorf("default has %d variables, want 20", n)
	}
	if KnownVariables("mimecast") != nil {
		t.Error("unknown format should give nil")
	}
}
