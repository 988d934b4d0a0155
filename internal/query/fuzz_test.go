package query

import (
	"strings"
	"testing"
	"time"
)

// FuzzParse checks the parser on hostile input: no panic, bounded time,
// one-line errors of type *Error, and a canonical form that parses back to
// itself.
func FuzzParse(f *testing.F) {
	for _, q := range exampleQueries {
		f.Add(q)
	}
	for _, q := range []string{
		"", `"`, "`", "``", "select `", "select a where b eq \"x", "select $a set $a = md5sum(maskdigits(`x`))",
		"select a outfile append:/x", "select a from ſelect", "select count() order by x desc",
		"select a,b group by by by", "select a where and == and", "SELECT \u0085a\u00a0b",
		// incomplete clauses and typos (issue 13)
		"select count($line) from", "from select a", "select a group by", "select a group", "select a order by",
		"select a limit", "select a logformat", "select a outfile", "selet a", "select cnt($x)", "select a where b contians \"x\"",
		"select \"a\nb\" order by \"a\nc\"", "select a where b eq 'x'", "select a grup by b", "select ééé order by éé",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, in string) {
		start := time.Now()
		q, err := Parse(in)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Parse took %v for %d bytes", d, len(in))
		}
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error type %T", err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		// The client's checks: no panic, one-line findings.
		for _, format := range []string{"default", "generic", "csv", "json"} {
			errs, warns := Check(q, in, format, []string{"default", "generic", "generickv", "csv", "json", "logfmt"})
			for _, e := range append(errs, warns...) {
				if strings.ContainsAny(e.Error(), "\n\r") {
					t.Fatalf("multi-line finding %q", e)
				}
			}
		}
		s := q.String()
		q2, err := Parse(s)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", s, in, err)
		}
		if s2 := q2.String(); s2 != s {
			t.Fatalf("round trip of %q:\n  %q\n  %q", in, s, s2)
		}
	})
}
