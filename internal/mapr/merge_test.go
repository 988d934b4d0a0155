package mapr

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestMergeThreeServers is the property test of issue 6: random lines
// split across three "servers" (each with two readers and several
// interval flushes) give the same rows as aggregating all lines at once,
// and both match a direct computation.
func TestMergeThreeServers(t *testing.T) {
	const raw = "from STATS select bar,count($line),sum(v),avg(v),min(v),max(v),len(bar),percentage(v),percentile(v) group by bar"
	q := mustParse(t, raw)
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 42))
		n := 1 + rng.IntN(400)
		lines := make([]string, n)
		type want struct {
			count, samples int
			sum, min, max  float64
			hasV           bool
		}
		ref := map[string]*want{}
		for i := range lines {
			bar := fmt.Sprintf("g%d", rng.IntN(7))
			kv := []string{"bar=" + bar}
			w := ref[bar]
			if w == nil {
				w = &want{}
				ref[bar] = w
			}
			w.count++
			w.samples++
			if rng.IntN(5) > 0 { // v sometimes missing: avg divides by all samples
				v := float64(rng.IntN(2000)-1000) / 8
				kv = append(kv, "v="+strconv.FormatFloat(v, 'f', -1, 64))
				w.sum += v
				if !w.hasV || v < w.min {
					w.min = v
				}
				if !w.hasV || v > w.max {
					w.max = v
				}
				w.hasV = true
			}
			lines[i] = statsLine("1002-071143", 1, kv...)
		}

		// All at once, on one server with one reader.
		whole := reduce(t, q, runMap(t, q, "default", lines)).Rows()

		// Three servers, each line to a random server and reader,
		// serialized at random intervals.
		r := NewResult(q)
		for s := range 3 {
			a := NewAggregate(q, nil)
			ms := []*Mapper{a.NewMapper(mustParser(t, "default")), a.NewMapper(mustParser(t, "default"))}
			for i, l := range lines {
				if i%3 != s {
					continue
				}
				if err := ms[rng.IntN(2)].Add([]byte(l)); err != nil {
					t.Fatal(err)
				}
				if rng.IntN(20) == 0 {
					mergeAll(t, r, a.Serialize(fmt.Sprint("s", s)))
				}
			}
			ms[0].Close()
			mergeAll(t, r, a.Serialize(fmt.Sprint("s", s)))
			ms[1].Close()
			mergeAll(t, r, a.Serialize(fmt.Sprint("s", s)))
		}
		split := r.Rows()

		if fmt.Sprint(whole) != fmt.Sprint(split) {
			t.Fatalf("seed %d: split\n%q\nwhole\n%q", seed, split, whole)
		}

		// Independent computation.
		keys := make([]string, 0, len(ref))
		var total float64
		for k, w := range ref {
			keys = append(keys, k)
			total += w.sum
		}
		sort.Strings(keys)
		for i, k := range keys {
			w := ref[k]
			row := whole[i]
			f := func(x float64) string { return strconv.FormatFloat(x, 'f', 6, 64) }
			pct := 0.0
			if total != 0 {
				pct = w.sum / total * 100
			}
			le := 0
			for _, o := range ref {
				if o.sum <= w.sum {
					le++
				}
			}
			exp := []string{k, strconv.Itoa(w.count), f(w.sum), f(w.sum / float64(w.samples)), f(w.min), f(w.max),
				f(float64(len(k))), f(pct), f(float64(le) / float64(len(ref)) * 100)}
			if fmt.Sprint(row) != fmt.Sprint(exp) {
				t.Errorf("seed %d group %s: got %q want %q", seed, k, row, exp)
			}
		}
	}
}

func mergeAll(tb testing.TB, r *Result, msgs [][]byte) {
	tb.Helper()
	for _, m := range msgs {
		if err := r.Merge(m); err != nil {
			tb.Fatalf("merge %q: %v", m, err)
		}
	}
}

// TestConcurrentAdd feeds one aggregate from several goroutines, through
// Add and through mappers, while another goroutine serializes, and checks
// that no line is lost or counted twice.
func TestConcurrentAdd(t *testing.T) {
	q := mustParse(t, "from STATS select count($line),sum(v) group by bar")
	a := NewAggregate(q, mustParser(t, "default"))
	r := NewResult(q)
	const workers, perWorker = 6, 2000
	var wg sync.WaitGroup
	done := make(chan struct{})
	var serWG sync.WaitGroup
	serWG.Add(1)
	go func() {
		defer serWG.Done()
		for {
			select {
			case <-done:
				return
			default:
				mergeAll(t, r, a.Serialize("h"))
			}
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			add := a.Add
			if w%2 == 1 {
				m := a.NewMapper(mustParser(t, "default"))
				defer m.Close()
				add = m.Add
			}
			for i := range perWorker {
				if err := add([]byte(statsLine("1002-071143", 1, fmt.Sprintf("bar=%d", i%3), "v=2"))); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	serWG.Wait()
	mergeAll(t, r, a.Serialize("h"))
	var count, sum float64
	for _, row := range r.Rows() {
		c, _ := strconv.ParseFloat(row[0], 64)
		s, _ := strconv.ParseFloat(row[1], 64)
		count += c
		sum += s
	}
	if count != workers*perWorker || sum != 2*workers*perWorker {
		t.Errorf("count %v sum %v, want %d and %d", count, sum, workers*perWorker, 2*workers*perWorker)
	}
}

// TestMergeErrors checks that malformed messages are rejected whole with a
// one-line error naming the problem.
func TestMergeErrors(t *testing.T) {
	q := mustParse(t, "from STATS select count($line),last($time),len(x) group by $hostname")
	for _, tt := range []struct{ msg, want string }{
		{"REMOTE|h|x", "not an AGGREGATE message"},
		{"AGGREGATE|h", "without host"},
		{"AGGREGATE|h|k∥1∥", "has 3 parts"},
		{"AGGREGATE|h|k∥x∥count($line)≔1∥", "bad samples"},
		{"AGGREGATE|h|k∥-1∥count($line)≔1∥", "bad samples"},
		{"AGGREGATE|h|k∥1∥count($line)1∥", "without '≔'"},
		{"AGGREGATE|h|k∥1∥count($line)≔one∥", "count($line) is not a number"},
		{"AGGREGATE|h|k∥1∥last($time)≔a∥count($line)≔\n∥", "not a number"},
	} {
		r := NewResult(q)
		err := r.Merge([]byte(tt.msg))
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: got %v, want one line containing %q", tt.msg, err, tt.want)
		}
		if r.Len() != 0 {
			t.Errorf("%q: a rejected message changed the result", tt.msg)
		}
	}
	// Unknown keys are ignored, and a message with none of the select's
	// keys adds no group; the values may contain ≔ and |.
	r := NewResult(q)
	for _, m := range []string{
		"AGGREGATE|h|k∥3∥other≔1∥",
		"AGGREGATE|h|k∥2∥count($line)≔2∥len(x)≔5∥last($time)≔a≔b|c∥len(x)≔a|bc∥",
		"AGGREGATE|h|k∥1∥count($line)≔1∥",
	} {
		if err := r.Merge([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(r.Rows()); got != "[[3 a≔b|c 4.000000]]" {
		t.Errorf("rows %s", got)
	}
	if got := r.TakeRows(); len(got) != 1 || r.Len() != 0 {
		t.Errorf("TakeRows %q, left %d groups", got, r.Len())
	}
}

// FuzzMerge feeds arbitrary messages to Merge: never a panic, errors are
// one line, and an accepted message yields rows of the select's width.
func FuzzMerge(f *testing.F) {
	f.Add([]byte("AGGREGATE|h|k∥597∥count($line)≔597∥avg($goroutines)≔6942∥max(lifetimeConnections)≔6∥last($time)≔1002-071949∥"))
	f.Add([]byte("AGGREGATE|h|a,b∥2∥len($caller)≔11∥len($caller)≔stats.go:56∥percentage(x)≔1e308∥percentile(x)≔-Inf∥"))
	f.Add([]byte("AGGREGATE|h|∥∥∥∥"))
	f.Add([]byte("AGGREGATE|h|k∥1∥p99(v)≔" + sketchOf(1, 2, 3).String() + "∥"))
	q := mustParse(f, "from STATS select count($line),last($time),avg($goroutines),min(x),max(x),len($caller),percentage(x),percentile(x),sum(x) group by $hostname")
	cols, slots := columnsOf(q)
	cols = append(cols, column{field: "v", storage: "p99(v)", op: opQuantile, q: 0.99})
	slots = assignSlots(cols)
	f.Fuzz(func(t *testing.T, msg []byte) {
		r := newResult(q, cols, slots)
		err := r.Merge(msg)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		for _, row := range r.Rows() {
			if len(row) != len(cols) {
				t.Fatalf("row %q", row)
			}
		}
		_ = RenderTable("q", q, r.Rows(), 10, nil)
	})
}

func sketchOf(vs ...float64) *Sketch {
	s := NewSketch()
	for _, v := range vs {
		s.Add(v)
	}
	return s
}
