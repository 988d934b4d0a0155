package match

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// naivePair is the definition pairScan and pairScanGeneric implement.
func naivePair(hay []byte, from, n, o1, o2 int, b1, b2, m1, m2 byte) int {
	for p := from; p+n <= len(hay); p++ {
		if hay[p+o1]|m1 == b1 && hay[p+o2]|m2 == b2 {
			return p
		}
	}
	return -1
}

// naiveLines is the count pairScanLines returns with p.
func naiveLines(hay []byte, from, p int) int {
	if p < 0 {
		p = len(hay)
	}
	if from >= p {
		return 0
	}
	return bytes.Count(hay[from:p], []byte{'\n'})
}

// pairCase draws a hay from a small alphabet (so candidates fall at every
// position of a vector step) and a needle shape.
func pairCase(rng *rand.Rand, size int) (hay []byte, from, n, o1, o2 int, b1, b2, m1, m2 byte) {
	const alpha = "aAbB=5\n"
	hay = make([]byte, size)
	dense := rng.IntN(8) // 0: no filler, candidates everywhere
	for i := range hay {
		hay[i] = alpha[rng.IntN(len(alpha))]
		if dense > 0 && rng.IntN(dense+1) != 0 {
			hay[i] = 'x'
		}
	}
	n = 1 + rng.IntN(12)
	o1, o2 = rng.IntN(n), rng.IntN(n)
	b1, b2 = alpha[rng.IntN(len(alpha))], alpha[rng.IntN(len(alpha))]
	if rng.IntN(2) == 0 && b1 >= 'a' {
		m1 = 0x20
	}
	if rng.IntN(2) == 0 && b2 >= 'a' {
		m2 = 0x20
	}
	if size > 0 {
		from = rng.IntN(size)
		if rng.IntN(3) == 0 {
			from = 0
		}
	}
	return
}

// TestPairScanVectorAgrees: the vector loop (pairScan on amd64 with AVX2)
// and the word loop (pairScanGeneric) against the byte loop, on hays
// around the 32- and 64-position steps of the vector loop and with a
// single candidate planted at every position near the end (the last
// valid start and the positions a step too far must not be reported).
func TestPairScanVectorAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	check := func(hay []byte, from, n, o1, o2 int, b1, b2, m1, m2 byte) {
		t.Helper()
		want := naivePair(hay, from, n, o1, o2, b1, b2, m1, m2)
		if got := pairScan(hay, from, n, o1, o2, b1, b2, m1, m2); got != want {
			t.Fatalf("pairScan: hay %q from %d n %d offsets %d,%d bytes %q,%q masks %x,%x: got %d want %d",
				hay, from, n, o1, o2, b1, b2, m1, m2, got, want)
		}
		if got := pairScanGeneric(hay, from, n, o1, o2, b1, b2, m1, m2); got != want {
			t.Fatalf("pairScanGeneric: hay %q from %d n %d offsets %d,%d bytes %q,%q masks %x,%x: got %d want %d",
				hay, from, n, o1, o2, b1, b2, m1, m2, got, want)
		}
		if got, lines := pairScanLines(hay, from, n, o1, o2, b1, b2, m1, m2); got != want || lines != naiveLines(hay, from, want) {
			t.Fatalf("pairScanLines: hay %q from %d n %d offsets %d,%d bytes %q,%q masks %x,%x: got %d,%d want %d,%d",
				hay, from, n, o1, o2, b1, b2, m1, m2, got, lines, want, naiveLines(hay, from, want))
		}
	}
	iters := 30000
	if raceEnabled {
		iters = 3000
	}
	for iter := 0; iter < iters; iter++ {
		size := rng.IntN(400)
		if iter%4 == 0 {
			// just below, at and above multiples of 32 positions
			size = 32*(1+rng.IntN(6)) + rng.IntN(16) - 4
		}
		check(pairCase(rng, size))
	}
	// One candidate, planted at every start of a filler hay.
	for _, size := range []int{31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, 129, 200} {
		for n := 1; n <= 10; n += 3 {
			for o1 := 0; o1 < n; o1 += 2 {
				o2 := n - 1
				for p := 0; p < size; p++ {
					hay := make([]byte, size)
					for i := range hay {
						hay[i] = 'x'
						if (i*7+p)%5 == 0 {
							hay[i] = '\n'
						}
					}
					if p+o1 < size {
						hay[p+o1] = 'A'
					}
					if p+o2 < size {
						hay[p+o2] = 'b'
					}
					for _, from := range []int{0, 1, 31, 32, 33} {
						if from <= size {
							check(hay, from, n, o1, o2, 'a', 'b', 0x20, 0)
							check(hay, from, n, o1, o2, 'A', 'b', 0, 0)
						}
					}
				}
			}
		}
	}
}

// FuzzPairScan compares pairScan (the vector loop where the CPU has one)
// and pairScanGeneric with the byte loop on any hay and needle shape.
func FuzzPairScan(f *testing.F) {
	f.Add([]byte("status=200 status=503 "+string(make([]byte, 70))+"status=503"), uint16(0), uint8(10), uint8(7), uint8(9), byte('5'), byte('3'), false, false)
	f.Add([]byte(strings.Repeat("a\nb=5\n\n", 20)), uint16(3), uint8(3), uint8(0), uint8(2), byte('b'), byte('5'), false, false)
	f.Add(make([]byte, 129), uint16(1), uint8(3), uint8(0), uint8(2), byte(0), byte(0), false, false)
	f.Add([]byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxEeRr"), uint16(5), uint8(2), uint8(0), uint8(1), byte('e'), byte('r'), true, true)
	f.Fuzz(func(t *testing.T, hay []byte, from uint16, n, o1, o2 uint8, b1, b2 byte, fold1, fold2 bool) {
		nn := 1 + int(n)%16
		oo1, oo2 := int(o1)%nn, int(o2)%nn
		ff := int(from)
		if ff > len(hay) {
			ff = len(hay)
		}
		var m1, m2 byte
		if fold1 {
			m1, b1 = 0x20, b1|0x20
		}
		if fold2 {
			m2, b2 = 0x20, b2|0x20
		}
		want := naivePair(hay, ff, nn, oo1, oo2, b1, b2, m1, m2)
		if got := pairScan(hay, ff, nn, oo1, oo2, b1, b2, m1, m2); got != want {
			t.Fatalf("pairScan: got %d want %d", got, want)
		}
		if got := pairScanGeneric(hay, ff, nn, oo1, oo2, b1, b2, m1, m2); got != want {
			t.Fatalf("pairScanGeneric: got %d want %d", got, want)
		}
		if got, lines := pairScanLines(hay, ff, nn, oo1, oo2, b1, b2, m1, m2); got != want || lines != naiveLines(hay, ff, want) {
			t.Fatalf("pairScanLines: got %d,%d want %d,%d", got, lines, want, naiveLines(hay, ff, want))
		}
	})
}

// TestLastNewline: the word loop against bytes.LastIndexByte, with
// newlines and bytes that differ from '\n' in one bit (0x0b, 0x8a) at
// every position of short slices.
func TestLastNewline(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const alpha = "\n\x0b\x8a\x00\xffx"
	for iter := 0; iter < 50000; iter++ {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = 'x'
			if rng.IntN(6) == 0 {
				b[i] = alpha[rng.IntN(len(alpha))]
			}
		}
		if got, want := lastNewline(b), bytes.LastIndexByte(b, '\n'); got != want {
			t.Fatalf("%q: got %d want %d", b, got, want)
		}
	}
}

// TestNextMatchLines: the line counts NextMatchLines returns (counted by
// the vector loop for a literal in pair mode) equal bytes.Count over the
// same spans, for every match of literal, set and regexp patterns, from
// every line start and from inside lines.
func TestNextMatchLines(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "I|%d|status=%d|x\n", i, []int{200, 404, 503}[i%3*(i%7)/6])
		if i%11 == 0 {
			b.WriteString("\n\nstatus=503\n") // empty lines and a match at a line start
		}
	}
	text := []byte(b.String())
	for _, p := range []string{"status=503", "=503|", "status=50[34]", "(?i)STATUS=503", "x"} {
		m, err := New(p, false, false)
		if err != nil {
			t.Fatal(err)
		}
		sc := m.NewScanner()
		if p == "status=503" {
			sc.f.calibrate(text)
			if !sc.f.pair {
				t.Fatalf("%q should use pair mode on this data", p)
			}
		}
		for _, step := range []int{0, 1, 17} {
			// blocks of different sizes, each searched from 0 like a reader does
			for off := 0; off < len(text); {
				end := min(off+4096+step*1000, len(text))
				end = off + bytes.LastIndexByte(text[off:end], '\n') + 1
				blk := text[off:end]
				for from := 0; ; {
					start, e, lines, ok := sc.NextMatchLines(blk, from)
					s2, e2, ok2 := m.NewScanner().NextMatch(blk, from)
					stop := s2
					if !ok2 {
						stop = len(blk)
					}
					want := bytes.Count(blk[from:stop], []byte{'\n'})
					if ok != ok2 || (ok && (start != s2 || e != e2)) || lines != want {
						t.Fatalf("%q from %d: got %d,%d,%d,%v want %d,%d,%d,%v", p, from, start, e, lines, ok, s2, e2, want, ok2)
					}
					if !ok {
						break
					}
					from = e
					if step == 17 && from < len(blk) {
						from += 3 // a reader never does this, but counts must still be exact
						if from > len(blk) {
							from = len(blk)
						}
					}
				}
				off = end
			}
		}
	}
}

// TestIndexLinesFalseCandidates: a pair-mode finder whose two bytes occur
// often without the rest of the needle (a newline right before them), so
// that the count goes on correctly after a rejected candidate.
func TestIndexLinesFalseCandidates(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const alpha = "\n=5ax"
	for iter := 0; iter < 20000; iter++ {
		needle := []byte("a=5x")
		f := &finder{needle: needle, calibrated: true, pair: true, rare: 1, rare2: 2}
		hay := make([]byte, rng.IntN(200))
		for i := range hay {
			hay[i] = alpha[rng.IntN(len(alpha))]
		}
		p, lines := f.indexLines(hay)
		want := bytes.Index(hay, needle)
		if p != want || lines != naiveLines(hay, 0, want) {
			t.Fatalf("%q: got %d,%d want %d,%d", hay, p, lines, want, naiveLines(hay, 0, want))
		}
	}
}

// TestRareLiteralPairWithVectors: a needle whose rarest byte occurs about
// once per line is searched in pair mode where pairScan is a vector loop
// (an IndexByte call per line costs more), with IndexByte otherwise; the
// results equal bytes.Index either way.
func TestRareLiteralPairWithVectors(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 64<<10; i++ {
		fmt.Fprintf(&b, "INFO|%d|currentConnections=%d|lifetimeConnections=%d|status=200|user=user%04d|bytes=%d\n", i, i%50, 10000+i*7%90000, i%10000, i*31%100000)
	}
	text := []byte(b.String())
	needle := []byte("lifetimeConnections=12345")
	f := newFinder(needle)
	f.calibrate(text)
	if f.pair != vectorPair() {
		t.Fatalf("pair mode %v, want %v (vector loop %v)", f.pair, vectorPair(), vectorPair())
	}
	for _, hay := range [][]byte{text, append(append([]byte(nil), text...), "x|lifetimeConnections=12345|\n"...)} {
		if got, want := f.index(hay), bytes.Index(hay, needle); got != want {
			t.Fatalf("got %d want %d", got, want)
		}
	}
}
