// Command gen writes the synthetic DTail-format log used by the benchmark
// scripts in bench/ (see /work/shared/spec/perf-anchors.md §1).
//
// The output is fully determined by the seed (42) and the line count, so the
// published check values hold, e.g. for -n 5500000:
//
//	grep -c status=503  -> 54931
//	grep -c action=GET  -> 2749809
//
// The order in which random numbers are drawn is part of the format: changing
// it changes every line after the first.
//
// Usage: go run ./bench/gen -n 5500000 > big.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand"
	"os"
)

var (
	verbs   = [...]string{"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"}
	callers = [...]string{"stats.go:56", "handler.go:120", "server.go:88", "reader.go:301"}
)

// record is one generated log line before formatting.
type record struct {
	severity   string
	stamp      string
	pid        int
	caller     string
	goroutines int
	cgoCalls   int
	load       float64
	sec        int
	table      string
	curConns   int
	lifeConns  int
	verb       string
	status     int
	user       int
	bytes      int
	latencyMs  int
}

func severity(rng *rand.Rand) string {
	switch x := rng.Intn(100); {
	case x == 0:
		return "ERROR" // 1 %
	case x < 4:
		return "WARN" // 3 %
	default:
		return "INFO" // 96 %
	}
}

func table(rng *rand.Rand) string {
	if rng.Intn(10) == 0 {
		return "OTHER" // 10 %
	}
	return "STATS"
}

func verb(rng *rand.Rand) string {
	if rng.Intn(2) == 1 { // the other half is spread over the remaining 5 verbs
		return verbs[1+rng.Intn(len(verbs)-1)]
	}
	return "GET"
}

func status(rng *rand.Rand) int {
	switch y := rng.Intn(100); {
	case y == 0:
		return 503 // 1 %
	case y < 6:
		return 404 // 5 %
	case y < 10:
		return 302 // 4 %
	default:
		return 200
	}
}

// next draws one record. sec is the running second counter of the stream.
func next(rng *rand.Rand, sec int) record {
	r := record{sec: sec}
	r.stamp = fmt.Sprintf("20211002-%02d%02d%02d", (sec/3600)%24, (sec/60)%60, sec%60)
	// Draw order matters (see package comment).
	r.severity = severity(rng)
	r.table = table(rng)
	r.verb = verb(rng)
	r.status = status(rng)
	r.pid = 1000 + rng.Intn(9000)
	r.caller = callers[rng.Intn(len(callers))]
	r.goroutines = 10 + rng.Intn(40)
	r.cgoCalls = rng.Intn(10)
	r.load = rng.Float64() * 4
	r.curConns = rng.Intn(50)
	r.lifeConns = rng.Intn(100000)
	r.user = rng.Intn(10000)
	r.bytes = rng.Intn(1000000)
	r.latencyMs = rng.Intn(5000)
	return r
}

func (r record) write(w *bufio.Writer) {
	fmt.Fprintf(w, "%s|%s|%d|%s|%d|%d|%d|%.2f|%dh%dm%ds|MAPREDUCE:%s"+
		"|currentConnections=%d|lifetimeConnections=%d|action=%s|status=%d"+
		"|user=user%04d|bytes=%d|latency_ms=%d\n",
		r.severity, r.stamp, r.pid, r.caller, 8, r.goroutines, r.cgoCalls,
		r.load, 400+r.sec/3600, (r.sec/60)%60, r.sec%60, r.table,
		r.curConns, r.lifeConns, r.verb, r.status,
		r.user, r.bytes, r.latencyMs)
}

func main() {
	n := flag.Int("n", 5500000, "number of lines to write to stdout")
	flag.Parse()

	rng := rand.New(rand.NewSource(42))
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	sec := 0
	for i := 0; i < *n; i++ {
		if i%100 == 0 { // one second per 100 lines, starting at 00:00:01
			sec++
		}
		next(rng, sec).write(w)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
