package mapr

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// exactQuantile is the quantile the sketch promises to approximate: the
// element of rank ⌊q·(n−1)⌋.
func exactQuantile(sorted []float64, q float64) float64 {
	return sorted[int(q*float64(len(sorted)-1))]
}

var quantiles = []float64{0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1}

func distributions(rng *rand.Rand, n int) map[string][]float64 {
	d := map[string][]float64{}
	gen := func(name string, f func() float64) {
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = f()
		}
		d[name] = vs
	}
	gen("uniform", func() float64 { return rng.Float64() * 1000 })
	gen("lognormal", func() float64 { return math.Exp(rng.NormFloat64() * 3) })
	gen("latency_ms", func() float64 { return float64(rng.IntN(5000)) })
	gen("mixed_sign", func() float64 { return rng.NormFloat64() * 100 })
	gen("with_zeros", func() float64 {
		if rng.IntN(3) == 0 {
			return 0
		}
		return rng.ExpFloat64()
	})
	gen("wide", func() float64 { return math.Pow(10, rng.Float64()*16-8) })
	return d
}

// TestSketchRelativeError checks the stated bound: every estimate is
// within 1 % of the exact quantile.
func TestSketchRelativeError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 10, 1000, 50000} {
		for name, vs := range distributions(rng, n) {
			s := NewSketch()
			for _, v := range vs {
				s.Add(v)
			}
			sorted := slices.Clone(vs)
			slices.Sort(sorted)
			for _, q := range quantiles {
				got, want := s.Quantile(q), exactQuantile(sorted, q)
				// A hair of slack for the rounding of Log at bucket edges.
				if math.Abs(got-want) > SketchRelativeError*math.Abs(want)*(1+1e-9) {
					t.Errorf("%s n=%d q=%v: got %v, exact %v (rel %.4g)", name, n, q, got, want, math.Abs(got-want)/math.Abs(want))
				}
			}
		}
	}
	if got := NewSketch().Quantile(0.5); got != 0 {
		t.Errorf("empty sketch: %v", got)
	}
}

// TestSketchMergeExact checks that merging the sketches of a random split
// gives exactly the sketch of all values, also through the wire encoding
// and when the values span more buckets than a store keeps.
func TestSketchMergeExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	dists := distributions(rng, 3000)
	// Twenty decades: more than SketchMaxBuckets, so the stores fold.
	dists["folding"] = func() []float64 {
		vs := make([]float64, 3000)
		for i := range vs {
			vs[i] = math.Pow(10, rng.Float64()*40-20)
			if i%2 == 0 {
				vs[i] = -vs[i]
			}
		}
		return vs
	}()
	for name, vs := range dists {
		whole := NewSketch()
		for _, v := range vs {
			whole.Add(v)
		}
		parts := []*Sketch{NewSketch(), NewSketch(), NewSketch()}
		for _, v := range vs {
			parts[rng.IntN(3)].Add(v)
		}
		merged := NewSketch()
		for _, i := range rng.Perm(3) {
			dec, err := DecodeSketch(parts[i].String())
			if err != nil {
				t.Fatal(err)
			}
			merged.Merge(dec)
		}
		if merged.String() != whole.String() {
			t.Errorf("%s: merged sketch differs from whole", name)
		}
		for _, q := range quantiles {
			if a, b := merged.Quantile(q), whole.Quantile(q); a != b {
				t.Errorf("%s q=%v: merged %v, whole %v", name, q, a, b)
			}
		}
		// The sorted order is the worst case for folding order.
		sorted := NewSketch()
		for _, v := range slices.Sorted(slices.Values(vs)) {
			sorted.Add(v)
		}
		if sorted.String() != whole.String() {
			t.Errorf("%s: sketch depends on insertion order", name)
		}
		if len(whole.pos.counts) > SketchMaxBuckets || len(whole.neg.counts) > SketchMaxBuckets {
			t.Errorf("%s: store grew past %d buckets", name, SketchMaxBuckets)
		}
	}
}

// TestSketchEncodingSize documents the wire size: a latency sketch of
// 100,000 values is a few hundred bytes.
func TestSketchEncodingSize(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	s := NewSketch()
	for range 100000 {
		s.Add(float64(1 + rng.IntN(5000)))
	}
	if n := len(s.String()); n > 2000 {
		t.Errorf("encoding is %d bytes", n)
	}
	t.Logf("100k latencies in [1,5000] ms: %d bytes", len(s.String()))
}

// TestQuantileColumns runs quantile columns through the whole pipeline:
// map on three servers, AGGREGATE messages, merge, rows, as the p50/p99/
// quantile aggregations will once the query language has them.
func TestQuantileColumns(t *testing.T) {
	q := mustParse(t, "from STATS select bar,count($line) group by bar")
	cols, _ := columnsOf(q)
	cols = append(cols,
		column{field: "v", storage: "p50(v)", op: opQuantile, q: 0.5},
		column{field: "v", storage: "p99(v)", op: opQuantile, q: 0.99},
		column{field: "v", storage: "quantile(v,0.9)", op: opQuantile, q: 0.9})
	slots := assignSlots(cols)
	rng := rand.New(rand.NewPCG(7, 8))
	var vals []float64
	r := newResult(q, cols, slots)
	whole := newAggregate(q, cols, slots, mustParser(t, "default"))
	for s := range 3 {
		a := newAggregate(q, cols, slots, mustParser(t, "default"))
		for range 1000 {
			v := float64(rng.IntN(100000)) / 10
			vals = append(vals, v)
			line := statsLine("1002-071143", 1, "bar=x", "v="+strconv.FormatFloat(v, 'f', -1, 64))
			if err := a.Add([]byte(line)); err != nil {
				t.Fatal(err)
			}
			_ = whole.Add([]byte(line))
		}
		// Non-numbers and infinities are skipped with a value error.
		inf := []byte(statsLine("1002-071143", 1, "bar=x", "v=Inf"))
		if err := a.Add(inf); err == nil {
			t.Error("Inf accepted by a quantile")
		}
		_ = whole.Add(inf)
		mergeAll(t, r, a.Serialize(fmt.Sprint("s", s)))
	}
	rw := newResult(q, cols, slots)
	mergeAll(t, rw, whole.Serialize("all"))
	rows, wrows := r.Rows(), rw.Rows()
	if fmt.Sprint(rows) != fmt.Sprint(wrows) {
		t.Errorf("three servers %q, one %q", rows, wrows)
	}
	slices.Sort(vals)
	for i, qq := range []float64{0.5, 0.99, 0.9} {
		got, _ := strconv.ParseFloat(rows[0][2+i], 64)
		want := exactQuantile(vals, qq)
		if math.Abs(got-want) > SketchRelativeError*want+1e-6 {
			t.Errorf("q=%v: got %v, exact %v", qq, got, want)
		}
	}
	if rows[0][1] != "3003" { // the Inf lines still count
		t.Errorf("count %s", rows[0][1])
	}
}

// FuzzDecodeSketch: hostile encodings give an error, never a panic, and
// accepted ones re-encode identically.
func FuzzDecodeSketch(f *testing.F) {
	f.Add(sketchOf(1, 2, 3).String())
	f.Add(sketchOf(-1, 0, 1e300, 1e-300).String())
	f.Add(NewSketch().String())
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := DecodeSketch(text)
		if err != nil {
			return
		}
		for _, q := range quantiles {
			s.Quantile(q)
		}
		m := NewSketch()
		m.Merge(s)
		m.Merge(s)
		if m.Count() != 2*s.Count() {
			t.Fatalf("merge count %d of %d", m.Count(), s.Count())
		}
	})
}
