package match

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestMatcherKinds(t *testing.T) {
	cases := []struct {
		pattern string
		kind    Kind
		set     string // required literals, "," separated; "~" marks case folding
	}{
		{"ERROR", Literal, ""},
		{"status=503", Literal, ""},
		{"status=5[0-9][0-9]", Regexp, "status=5"},
		{"(ERROR|WARNING)", Regexp, "ERROR,WARNING"},
		{"ERROR.*failed", Regexp, "failed"},
		{"^INFO:", Regexp, "INFO:"},
		{"(?i)error", Regexp, "~error"},
		{"(?i)disk", Regexp, "~di"},         // k also folds to U+212A
		{"x(?:ab|cd)+y", Regexp, "ab,cd"},   // inner literals under a repetition
		{"[a-z]+=[0-9]{5}[|]", Regexp, "="}, // weak: the scanner may drop it
		{"[Ee]rror: (disk|net)", Regexp, "rror: disk,rror: net"},
		{"a*b?", Regexp, ""},
		{"(foo|.*)", Regexp, ""},
		{"status=50[34]", Regexp, "status=503,status=504"},
	}
	for _, tc := range cases {
		m, err := New(tc.pattern, false, false)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range m.set {
			if l.fold {
				got = append(got, "~"+l.s)
			} else {
				got = append(got, l.s)
			}
		}
		if m.Kind() != tc.kind || strings.Join(got, ",") != tc.set {
			t.Errorf("%q: kind %v set %q, want %v %q", tc.pattern, m.Kind(), strings.Join(got, ","), tc.kind, tc.set)
		}
	}
}

func TestMatchWithoutNewline(t *testing.T) {
	m, _ := New("foo$", false, false)
	if !m.Match([]byte("a foo")) {
		t.Fatal("foo$ must match a line ending in foo")
	}
}

func TestInvalidRegex(t *testing.T) {
	if _, err := New("(", false, false); err == nil || !strings.Contains(err.Error(), `invalid regex "("`) {
		t.Fatalf("err = %v", err)
	}
}

// scanAll collects the lines NextMatch finds.
func scanAll(m *Matcher, block []byte) []string {
	var out []string
	from := 0
	sc := m.NewScanner()
	for {
		s, e, ok := sc.NextMatch(block, from)
		if !ok {
			return out
		}
		out = append(out, string(block[s:e]))
		from = e
	}
}

// perLine is the reference: every line tested with regexp alone.
func perLine(re *regexp.Regexp, block []byte) []string {
	var out []string
	for _, l := range bytes.SplitAfter(block, []byte{'\n'}) {
		if len(l) > 0 && re.Match(bytes.TrimSuffix(l, []byte{'\n'})) {
			out = append(out, string(l))
		}
	}
	return out
}

func FuzzNextMatchAgreesWithRegexp(f *testing.F) {
	f.Add("status=5[0-9][0-9]", "a status=503\nstatus=200\nxstatus=599y\n")
	f.Add("ERROR.*failed", "ERROR it failed\nfailed ERROR\nERROR\nfailed\n")
	f.Add("b2", "a1\nb2\nb2b2\n")
	f.Add("^x", "x\nax\n\nxx\n")
	f.Fuzz(func(t *testing.T, pattern, text string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		m, err := New(pattern, false, false)
		if err != nil {
			t.Fatalf("regexp accepts %q but New fails: %v", pattern, err)
		}
		block := []byte(text)
		if len(block) > 0 && block[len(block)-1] != '\n' {
			block = append(block, '\n')
		}
		want := perLine(re, block)
		var got []string
		if m.CanScan() {
			got = scanAll(m, block)
		} else {
			for _, l := range bytes.SplitAfter(block, []byte{'\n'}) {
				if len(l) > 0 && m.Match(bytes.TrimSuffix(l, []byte{'\n'})) {
					got = append(got, string(l))
				}
			}
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("pattern %q text %q: got %q want %q", pattern, text, got, want)
		}
	})
}

func BenchmarkNextMatchLiteral(b *testing.B) {
	line := "INFO|20211002-000001|5423|handler.go:120|8|47|6|1.53|400h0m1s|MAPREDUCE:STATS|currentConnections=43|action=GET|status=200\n"
	block := []byte(strings.Repeat(line, 99) + strings.Replace(line, "200", "503", 1))
	m, _ := New("status=503", false, false)
	b.SetBytes(int64(len(block)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		scanAll(m, block)
	}
}

func FuzzFinder(f *testing.F) {
	f.Add([]byte("status=503"), []byte("status=200 status=503 x"), []byte("sss555"))
	f.Add([]byte("aa"), []byte("aaaa"), []byte(""))
	// pair mode over more than 32 positions (pairScan's widest step),
	// the match in the second step and at the last valid start
	f.Add([]byte("status=503"), []byte(strings.Repeat("status=200|", 7)+"status=503"), []byte(strings.Repeat("status=200 s=5 ", 20)))
	f.Add([]byte("=5"), []byte(strings.Repeat("x=4", 30)+"=5"), []byte(strings.Repeat("=", 100)+strings.Repeat("5", 100)))
	f.Fuzz(func(t *testing.T, needle, hay, sample []byte) {
		fd := newFinder(needle)
		fd.calibrate(sample)
		if got, want := fd.index(hay), bytes.Index(hay, needle); got != want {
			t.Fatalf("needle %q hay %q: got %d want %d", needle, hay, got, want)
		}
	})
}

// TestPairMode: needles whose every byte is common in the data (status=503
// among status=200 lines, (?i)error among key=value pairs) are searched
// two bytes at a time; the results must equal a plain search.
func TestPairMode(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "INFO|%d|currentConnections=%d|status=%d|user=user%04d|error=%d|n=5353535|a=aaa\n", i, i%50, []int{200, 404, 503}[i%3*(i%7)/6], i, i%3)
	}
	b.WriteString("ERROR|Error|eRRoR|status=503\n")
	text := []byte(b.String())
	f := newFinder([]byte("status=503"))
	f.calibrate(text)
	if !f.pair {
		t.Fatal("status=503 in this data should use pair mode")
	}
	for from := 0; from < len(text); {
		got, want := f.index(text[from:]), bytes.Index(text[from:], []byte("status=503"))
		if got != want {
			t.Fatalf("from %d: got %d want %d", from, got, want)
		}
		if got < 0 {
			break
		}
		from += got + 1
	}
	for _, p := range []string{"(?i)error", "(?i)error|status=503", "ERROR|status=503"} {
		m, _ := New(p, false, false)
		sc := m.NewScanner()
		if sc.set != nil {
			sc.set.calibrate(text)
			pair := false
			for _, n := range sc.set.needles {
				pair = pair || n.pair
			}
			if !pair {
				t.Fatalf("%q: expected pair mode", p)
			}
		}
		re := regexp.MustCompile(p)
		if got, want := strings.Join(scanAll(m, text), ""), strings.Join(perLine(re, text), ""); got != want {
			t.Fatalf("%q: scanner and regexp differ", p)
		}
	}
}

// BenchmarkScanLog scans the bench data (DTAIL_BENCH_LOG, e.g.
// bench/data/med.log) with the patterns of bench/grep-matrix.sh; it
// skips without the file.
func BenchmarkScanLog(b *testing.B) {
	path := os.Getenv("DTAIL_BENCH_LOG")
	if path == "" {
		b.Skip("DTAIL_BENCH_LOG not set")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	if len(data) > 64<<20 {
		data = data[:bytes.LastIndexByte(data[:64<<20], '\n')+1]
	}
	for _, p := range []string{"lifetimeConnections=12345", "status=503", "ERROR|status=503", "(?i)error",
		"[a-z]+=[0-9]{5}[|]", `^(WARN|ERROR|INFO\|[^|]*\|[12])`, "latency_ms=999$", "status=[23]0[02]", "[a-z]{4}[0-9]{3}[05][^0-9]"} {
		b.Run(p, func(b *testing.B) {
			m, err := New(p, false, false)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				sc := m.NewScanner()
				for from := 0; from < len(data); {
					for end := from + 1<<20; ; {
						if end > len(data) {
							end = len(data)
						}
						blk := data[from:end]
						blk = blk[:bytes.LastIndexByte(blk, '\n')+1]
						for f := 0; ; {
							_, e, ok := sc.NextMatch(blk, f)
							if !ok {
								break
							}
							f = e
						}
						from += len(blk)
						break
					}
				}
			}
		})
	}
}

// TestPairScanAgreesWithNaive: pairScan's word-at-a-time steps (32, 16
// and 8 positions) against a byte loop, on hays from a small alphabet so
// that candidates fall at every offset of a step.
func TestPairScanAgreesWithNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alpha = "aAbB=5\n"
	for iter := 0; iter < 20000; iter++ {
		hay := make([]byte, rng.IntN(300))
		for i := range hay {
			hay[i] = alpha[rng.IntN(len(alpha))]
			if rng.IntN(4) != 0 {
				hay[i] = 'x'
			}
		}
		n := 1 + rng.IntN(12)
		o1, o2 := rng.IntN(n), rng.IntN(n)
		b1, b2 := alpha[rng.IntN(len(alpha))], alpha[rng.IntN(len(alpha))]
		var m1, m2 byte
		if rng.IntN(2) == 0 && b1 >= 'a' {
			m1 = 0x20
		}
		if rng.IntN(2) == 0 && b2 >= 'a' {
			m2 = 0x20
		}
		from := 0
		if len(hay) > 0 {
			from = rng.IntN(len(hay))
		}
		want := -1
		for p := from; p+n <= len(hay); p++ {
			if hay[p+o1]|m1 == b1 && hay[p+o2]|m2 == b2 {
				want = p
				break
			}
		}
		if got := pairScan(hay, from, n, o1, o2, b1, b2, m1, m2); got != want {
			t.Fatalf("hay %q from %d n %d offsets %d,%d bytes %q,%q masks %x,%x: got %d want %d",
				hay, from, n, o1, o2, b1, b2, m1, m2, got, want)
		}
	}
}
