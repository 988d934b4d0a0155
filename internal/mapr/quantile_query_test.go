package mapr

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestQuantileQuery runs the parsed quantile aggregations (p50, p90, p95,
// p99, quantile(f;q)) over several distributions: every estimate is within
// SketchRelativeError of the exact quantile, and the table merged from
// three server partials equals, byte for byte, the table of one server
// that saw all lines (sketch merges are exact).
func TestQuantileQuery(t *testing.T) {
	const query = "from STATS select d,count($line),p50(v),p90(v),p95(v),p99(v),quantile(v;0.999),quantile(v;0.25),percentile(v) group by d"
	qs := []float64{0.5, 0.9, 0.95, 0.99, 0.999, 0.25}
	q := mustParse(t, query)
	rng := rand.New(rand.NewPCG(1, 2))
	dists := distributions(rng, 3000)
	split := NewResult(q)
	one := NewResult(q)
	whole := NewAggregate(q, mustParser(t, "default"))
	parts := [3]*Aggregate{}
	for i := range parts {
		parts[i] = NewAggregate(q, mustParser(t, "default"))
	}
	for name, vs := range dists {
		for i, v := range vs {
			line := []byte(statsLine("1002-071143", 1, "d="+name, "v="+strconv.FormatFloat(v, 'g', -1, 64)))
			if err := parts[rng.IntN(3)].Add(line); err != nil {
				t.Fatal(err)
			}
			if err := whole.Add(line); err != nil {
				t.Fatal(err)
			}
			if i%1000 == 999 { // interval deltas merge exactly too
				for s, p := range parts {
					mergeAll(t, split, p.Serialize(fmt.Sprint("s", s)))
				}
			}
		}
	}
	for s, p := range parts {
		mergeAll(t, split, p.Serialize(fmt.Sprint("s", s)))
	}
	mergeAll(t, one, whole.Serialize("all"))
	rows, want := split.Rows(), one.Rows()
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("three partials\n%q\none server\n%q", rows, want)
	}
	if len(rows) != len(dists) {
		t.Fatalf("%d rows", len(rows))
	}
	for _, row := range rows {
		vs := slices.Clone(dists[row[0]])
		slices.Sort(vs)
		for i, qq := range qs {
			got, err := strconv.ParseFloat(row[2+i], 64)
			if err != nil {
				t.Fatal(err)
			}
			exact := exactQuantile(vs, qq)
			// The table prints %f: allow its rounding on top of the bound.
			if math.Abs(got-exact) > SketchRelativeError*math.Abs(exact)+5e-7 {
				t.Errorf("%s q=%v: got %v, exact %v (error %.4f%%)", row[0], qq, got, exact, 100*math.Abs(got-exact)/math.Abs(exact))
			}
		}
	}
}
