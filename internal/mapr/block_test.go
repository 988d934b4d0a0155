package mapr

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dtail-go/dtail/internal/logformat"
)

// TestBlockMapperEqualsMapper: a BlockMapper with 1–3 workers, borrowed
// and filtered field values, and Serialize running concurrently, gives
// the same table as one Mapper over the same lines, including the last
// and len values, which depend on the line order.
func TestBlockMapperEqualsMapper(t *testing.T) {
	queries := []string{
		"from STATS select g,count($line),last($time),len($caller),last(v),sum(v),min(v),max(v),avg(v),p90(v) group by g",
		"from STATS select count($line),last($line),len($line) group by *",
		"from STATS select $time,count(v),last(v) where v >= 500 group by $time",
		"from STATS select $m,last($m),count($line) set $m = maskdigits($caller) group by g,$m",
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var lines []string
	for i := range 40000 {
		lines = append(lines, statsLine(fmt.Sprintf("1002-07%04d", i/100), rng.IntN(50),
			fmt.Sprintf("g=%d", rng.IntN(7)), fmt.Sprintf("v=%d", rng.IntN(1000)))+
			strings.Repeat(" ", rng.IntN(2))+"\n")
		if rng.IntN(100) == 0 {
			lines = append(lines, "INFO|bad|1|c|1|1|1|1|1|MAPREDUCE:STATS|noequals\n")
		}
	}
	lines = append(lines, statsLine("1002-079999", 1, "g=1", "v=7")) // no newline
	for _, qs := range queries {
		q := mustParse(t, qs)
		want := reduce(t, q, runMap(t, q, "default", lines)).Rows()
		for workers := 1; workers <= 3; workers++ {
			a := NewAggregate(q, nil)
			var errs atomic.Int64
			bm := a.NewBlockMapper(func() logformat.Parser {
				p, _ := logformat.New("default", logformat.Options{Hostname: testHost, Fields: q.Fields(), Borrow: true})
				return p
			}, workers, func(error) { errs.Add(1) })
			r := NewResult(q)
			var mu sync.Mutex
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() { // interval deltas while the file is read
				defer close(done)
				for {
					select {
					case <-stop:
						return
					default:
					}
					msgs := a.Serialize("h")
					mu.Lock()
					mergeAll(t, r, msgs)
					mu.Unlock()
				}
			}()
			buf := make([]byte, 0, 512)
			for _, l := range lines {
				buf = append(buf[:0], l...)
				bm.Add(buf)
				clear(buf) // the mapper must have copied
			}
			bm.Close()
			close(stop)
			<-done
			mergeAll(t, r, a.Serialize("h"))
			if got := r.Rows(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s, %d workers:\n got %.300q\nwant %.300q", qs, workers, got, want)
			}
			if errs.Load() != int64(a.Errors()) || a.Errors() == 0 {
				t.Errorf("errors %d reported, %d counted", errs.Load(), a.Errors())
			}
		}
	}
}
