package mapr

import (
	"testing"
)

// perfLine is the STATS line of spec perf-anchors.md.
const perfLine = "INFO|20211002-000001|5423|handler.go:120|8|47|6|1.53|400h0m1s|MAPREDUCE:STATS|currentConnections=43|lifetimeConnections=51929|action=GET|status=200|user=user5967|bytes=707815|latency_ms=1828"

const perfQuery = "from STATS select action,count($line) group by action"

func reportLines(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkAggregateAdd is one reader feeding the group-by count of the
// issue's speed target.
func BenchmarkAggregateAdd(b *testing.B) {
	a := NewAggregate(mustParse(b, perfQuery), mustParser(b, "default"))
	line := []byte(perfLine)
	b.ReportAllocs()
	for b.Loop() {
		_ = a.Add(line)
	}
	reportLines(b)
}

// BenchmarkAggregateAddShared has every goroutine go through Add: one
// parser and one lock for all readers.
func BenchmarkAggregateAddShared(b *testing.B) {
	a := NewAggregate(mustParse(b, perfQuery), mustParser(b, "default"))
	line := []byte(perfLine)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = a.Add(line)
		}
	})
	reportLines(b)
}

// BenchmarkMapperParallel gives every goroutine its own Mapper, as one
// per file reader.
func BenchmarkMapperParallel(b *testing.B) {
	a := NewAggregate(mustParse(b, perfQuery), nil)
	line := []byte(perfLine)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		m := a.NewMapper(mustParser(b, "default"))
		defer m.Close()
		for pb.Next() {
			_ = m.Add(line)
		}
	})
	reportLines(b)
}

// BenchmarkAggregateAddWide is a heavier query: five aggregations over
// two group fields.
func BenchmarkAggregateAddWide(b *testing.B) {
	q := mustParse(b, "from STATS select action,status,count($line),avg(latency_ms),max(bytes),min(bytes),last(user) group by action,status")
	a := NewAggregate(q, mustParser(b, "default"))
	line := []byte(perfLine)
	b.ReportAllocs()
	for b.Loop() {
		_ = a.Add(line)
	}
	reportLines(b)
}

// BenchmarkMerge is the client side: one AGGREGATE message of the wide
// query per iteration.
func BenchmarkMerge(b *testing.B) {
	q := mustParse(b, "from STATS select action,status,count($line),avg(latency_ms),max(bytes),min(bytes),last(user) group by action,status")
	msgs := runMap(b, q, "default", []string{perfLine})
	r := NewResult(q)
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Merge(msgs[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSketchAdd is the cost of one value in a quantile sketch.
func BenchmarkSketchAdd(b *testing.B) {
	s := NewSketch()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Add(float64(1 + i%5000))
		i++
	}
}
