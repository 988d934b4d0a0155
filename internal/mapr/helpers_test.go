package mapr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dtail-go/dtail/internal/logformat"
	"github.com/dtail-go/dtail/internal/query"
)

const testHost = "integrationtest"

func mustParse(tb testing.TB, s string) *query.Query {
	tb.Helper()
	q, err := query.Parse(s)
	if err != nil {
		tb.Fatalf("parse %q: %v", s, err)
	}
	return q
}

func mustParser(tb testing.TB, name string) logformat.Parser {
	tb.Helper()
	p, err := logformat.New(name, logformat.Options{Hostname: testHost})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// statsLine builds a default-format MAPREDUCE:STATS line.
func statsLine(time string, goroutines int, kv ...string) string {
	return fmt.Sprintf("INFO|%s|1234|stats.go:56|8|%d|7|0.52|1h2m3s|MAPREDUCE:STATS|%s",
		time, goroutines, strings.Join(kv, "|"))
}

// spread returns n integers in [lo,hi] with lo and hi both present (n ≥ 2)
// summing to sum, to build inputs whose min, max and avg are prescribed.
func spread(tb testing.TB, n, lo, hi, sum int) []int {
	tb.Helper()
	v := make([]int, n)
	for i := range v {
		v[i] = lo
	}
	v[n-1] = hi
	rest := sum - (n-1)*lo - hi
	for i := 1; i < n-1 && rest > 0; i++ {
		d := min(rest, hi-lo)
		v[i] += d
		rest -= d
	}
	if rest != 0 || (n > 1 && sum < (n-1)*lo+hi) {
		tb.Fatalf("spread(%d,%d,%d,%d) impossible", n, lo, hi, sum)
	}
	return v
}

// runMap aggregates lines with one mapper and returns the messages.
func runMap(tb testing.TB, q *query.Query, format string, lines []string) [][]byte {
	tb.Helper()
	a := NewAggregate(q, mustParser(tb, format))
	for _, l := range lines {
		_ = a.Add([]byte(l))
	}
	return a.Serialize("host")
}

// reduce merges messages into a new result.
func reduce(tb testing.TB, q *query.Query, msgs ...[][]byte) *Result {
	tb.Helper()
	r := NewResult(q)
	for _, ms := range msgs {
		for _, m := range ms {
			if err := r.Merge(m); err != nil {
				tb.Fatalf("merge %q: %v", m, err)
			}
		}
	}
	return r
}

// csvOf renders rows as WriteCSV does, without touching the disk.
func csvOf(q *query.Query, rows [][]string) string {
	var b strings.Builder
	b.WriteString(strings.Join(q.Storages(), ",") + "\n")
	if q.Limit >= 0 && len(rows) > q.Limit {
		rows = rows[:q.Limit]
	}
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	return b.String()
}
