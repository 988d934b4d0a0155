package logformat

import (
	"strings"
	"testing"
)

// fuzzFormat checks that a format never panics, never returns ok together
// with an error, and always gives $line on accepted lines.
func fuzzFormat(f *testing.F, format string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		p, err := New(format, testOpts)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // twice: csv's second call parses a row
			m, ok, err := p.Parse(line)
			if ok && err != nil {
				t.Fatalf("ok with error %v", err)
			}
			if ok {
				if _, has := m["$line"]; !has {
					t.Fatal("accepted line without $line")
				}
			}
			if err != nil && strings.ContainsRune(err.Error(), '\n') {
				t.Fatalf("multi-line error %q", err)
			}
		}
	})
}

func FuzzDefault(f *testing.F) {
	fuzzFormat(f, Default, perfLine, "INFO|t|p|c|1|2|3|4|5|MAPREDUCE:X|a", "INFO||||||||||", "INFO|012345678901234|")
}

func FuzzGeneric(f *testing.F) { fuzzFormat(f, Generic, "x", "") }

func FuzzGenericKV(f *testing.F) { fuzzFormat(f, GenericKV, perfLine, "a=b|=|c") }

func FuzzCSV(f *testing.F) { fuzzFormat(f, CSV, "a,b,c", ",", "") }

func FuzzJSON(f *testing.F) {
	fuzzFormat(f, JSON, `{"a":{"b":[1,{"c":null}]},"d":"\u00e9"}`, `{`, `{"a":1}{}`, strings.Repeat(`{"a":`, 40)+"1"+strings.Repeat("}", 40))
}

func FuzzLogfmt(f *testing.F) { fuzzFormat(f, Logfmt, `a=1 b="x y" c`, `a="\`, `="" =`) }
