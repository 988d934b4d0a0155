package logformat

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestFieldsFilter: with Options.Fields (and Borrow) every format gives the
// same verdict (accepted, ignored, error) as without, and exactly the
// wanted subset of the unfiltered fields. CSV parsers see a header first.
func TestFieldsFilter(t *testing.T) {
	lines := []string{
		perfLine,
		"  " + perfLine + " \n",
		"INFO|1002-071143|1|stats.go:56|8|11|7|0.5|1h|MAPREDUCE:STATS|a=1|$line=spoof|$time=x|b==2",
		"INFO|20211002-000001|1|c|8|11|7|0.5|1h|MAPREDUCE:STATS|a=1|noequals",
		"WARN|20211002-000001|1|c|8|11|7|0.5|1h|MAPREDUCE:STATS|a=1",
		"INFO|20211002-000001|1|c|8|11|7|0.5|1h|NOTMAPR|a=1",
		"INFO|short",
		"a=1|b=2|c",
		"x,y,z",
		"1,2",
		"1,2,3,4",
		"",
	}
	names := []string{"$line", "$empty", "$hostname", "$server", "$timezone", "$timeoffset", "*",
		"$severity", "$loglevel", "$time", "$date", "$hour", "$minute", "$second", "$pid", "$caller",
		"$cpus", "$goroutines", "$cgocalls", "$loadavg", "$uptime", "action", "status", "a", "b", "x",
		"y", "z", "missing", "currentConnections", "latency_ms"}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, format := range []string{Default, Generic, GenericKV, CSV, JSON, Logfmt} {
		for range 200 {
			var fields []string
			for _, n := range names {
				if rng.IntN(4) == 0 {
					fields = append(fields, n)
				}
			}
			if rng.IntN(2) == 0 { // more than linearKeys names
				fields = append(fields, names[:12]...)
			}
			full, _ := New(format, testOpts)
			opts := testOpts
			opts.Fields, opts.Borrow = fields, rng.IntN(2) == 0
			filt, _ := New(format, opts)
			if format == CSV {
				hdr := []byte("x,y,$line")
				full.Parse(hdr)
				filt.Parse(hdr)
			}
			for _, l := range lines {
				buf := []byte(l)
				fm, fok, ferr := full.Parse([]byte(l))
				gm, gok, gerr := filt.Parse(buf)
				if fok != gok || (ferr == nil) != (gerr == nil) {
					t.Fatalf("%s %q fields %q: ok %v/%v err %v/%v", format, l, fields, fok, gok, ferr, gerr)
				}
				if !fok {
					continue
				}
				want := map[string]string{}
				for _, f := range fields {
					if v, ok := fm[f]; ok {
						want[f] = v
					}
				}
				got := map[string]string{}
				for _, f := range fields {
					if v, ok := gm[f]; ok {
						got[f] = v
					}
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s %q fields %q:\n got %v\nwant %v", format, l, fields, got, want)
				}
			}
		}
	}
}

// TestBorrowAliases: with Borrow the default parser's values alias the
// input (no copy), without it they survive a change of the input.
func TestBorrowAliases(t *testing.T) {
	for _, borrow := range []bool{false, true} {
		opts := testOpts
		opts.Fields, opts.Borrow = []string{"action"}, borrow
		p, _ := New(Default, opts)
		buf := []byte(perfLine)
		m, ok, err := p.Parse(buf)
		if !ok || err != nil || m["action"] != "GET" || len(m) != 1 {
			t.Fatalf("borrow %v: %v %v %v", borrow, m, ok, err)
		}
		copy(buf, make([]byte, len(buf)))
		if got := m["action"] == "GET"; got == borrow {
			t.Errorf("borrow %v: value %q after the input changed", borrow, m["action"])
		}
	}
}

func BenchmarkDefault_Filtered(b *testing.B) {
	opts := testOpts
	opts.Fields, opts.Borrow = []string{"action", "$line"}, true
	p, _ := New(Default, opts)
	line := []byte(perfLine)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		p.Parse(line)
	}
}
