package query

import (
	"strings"
	"testing"
)

func TestParse_Quantiles(t *testing.T) {
	q, err := Parse("select p50($x) p90($x),p95(y) p99(latency_ms) quantile(latency_ms;0.999) quantile(a;b;0.25) percentile(z) group by $hostname")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		field, storage string
		agg            Agg
		q              float64
	}{
		{"$x", "p50($x)", AggQuantile, 0.5},
		{"$x", "p90($x)", AggQuantile, 0.9},
		{"y", "p95(y)", AggQuantile, 0.95},
		{"latency_ms", "p99(latency_ms)", AggQuantile, 0.99},
		{"latency_ms", "quantile(latency_ms;0.999)", AggQuantile, 0.999},
		{"a;b", "quantile(a;b;0.25)", AggQuantile, 0.25}, // split at the last ';'
		{"z", "percentile(z)", AggPercentile, 0},         // 4.x meaning kept
	}
	if len(q.Selects) != len(want) {
		t.Fatalf("%d selects", len(q.Selects))
	}
	for i, w := range want {
		s := q.Selects[i]
		if s.Field != w.field || s.Storage != w.storage || s.Agg != w.agg || s.Quantile != w.q {
			t.Errorf("select %d: %+v, want %+v", i, *s, w)
		}
		if strings.Contains(s.Storage, ",") {
			t.Errorf("storage %q has a comma: CSV header would be ambiguous", s.Storage)
		}
	}
	assertRoundTrip(t, q)
}

func TestParse_QuantileErrors(t *testing.T) {
	for in, msg := range map[string]string{
		"select quantile($x,0.9)": "write quantile(f;q)",
		"select quantile($x)":     "'quantile' needs a field and a quantile",
		"select quantile(;0.9)":   "'quantile' needs a field and a quantile",
		"select quantile($x;1.5)": "between 0 and 1",
		"select quantile($x;abc)": "between 0 and 1",
		"select quantile($x;NaN)": "between 0 and 1",
		"select p42($x)":          "Unknown aggregation in 'select' clause: p42",
		"select P99($x)":          "Unknown aggregation in 'select' clause: P99",
	} {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want %q", in, err, msg)
		}
	}
}

func TestQuery_Fields(t *testing.T) {
	q, err := Parse("from STATS select count($line),avg($goroutines),last($t) where lifetimeConnections >= 3 and $time eq \"x\" and a ne b set $t = maskdigits($time), $c = 42, $d = `x` group by action,$hostname")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(q.Fields(), " ")
	want := "$line $goroutines $t lifetimeConnections $time a b 42 x action $hostname"
	if got != want {
		t.Errorf("Fields = %q, want %q", got, want)
	}
	q, _ = Parse("select count($line)")
	if got := strings.Join(q.Fields(), " "); got != "$line" {
		t.Errorf("default group: %q", got)
	}
}
