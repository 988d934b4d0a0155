package match

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// finder searches for one needle with bytes.IndexByte on its rarest byte.
// bytes.Index keys on the needle's first byte; in logs that byte is often
// common ("s" of "status=503" occurs ten times per line), so IndexByte is
// restarted every few bytes. Which byte is rare depends on the data, so a
// finder calibrates on the first block it sees (one bytes.Count per
// distinct needle byte over a sample) instead of using a fixed table.
type finder struct {
	needle     []byte
	rare       int // index in needle of the rarest byte
	rare2      int // second rarest, checked before the full compare
	calibrated bool
	// pair: the rarest byte is still common (more than once per 64
	// bytes), so both bytes are searched at once with pairScan.
	pair bool
}

// pairDensity: a byte seen more often than once per this many bytes of
// the sample makes IndexByte stop too often; pairScan takes over.
const pairDensity = 64

// vectorPairDensity replaces pairDensity for a single needle where
// pairScan runs as a vector loop (at memory speed, like IndexByte): a
// rarest byte once per line (the "f" of lifetimeConnections=12345 in a
// DTail log) already costs IndexByte a call per line, 27 % more user
// CPU than the pair loop over 1 GB.
const vectorPairDensity = 1024

const calibrateSample = 64 << 10

func newFinder(needle []byte) *finder {
	f := &finder{needle: needle}
	if len(needle) > 1 {
		f.rare2 = len(needle) - 1
	}
	return f
}

func (f *finder) calibrate(sample []byte) {
	f.calibrated = true
	if len(f.needle) < 2 {
		return
	}
	if len(sample) > calibrateSample {
		sample = sample[:calibrateSample]
	}
	var counts [256]int
	var seen [256]bool
	for _, c := range f.needle {
		if !seen[c] {
			seen[c] = true
			counts[c] = bytes.Count(sample, []byte{c})
		}
	}
	best, second := -1, -1
	for i, c := range f.needle {
		switch {
		case best < 0 || counts[c] < counts[f.needle[best]]:
			second, best = best, i
		case f.needle[i] != f.needle[best] && (second < 0 || counts[c] < counts[f.needle[second]]):
			second = i
		}
	}
	f.rare = best
	if second >= 0 {
		f.rare2 = second
	} else {
		f.rare2 = best
	}
	density := pairDensity
	if vectorPair() {
		density = vectorPairDensity
	}
	f.pair = f.rare2 != f.rare && counts[f.needle[f.rare]]*density > len(sample)
	if f.pair {
		f.rare, f.rare2 = bestPair(f.needle, func(int) byte { return 0 },
			func(i int) int { return counts[f.needle[i]] }, sample)
	}
}

// index returns the first position of the needle in hay, or -1.
func (f *finder) index(hay []byte) int {
	n := len(f.needle)
	if n == 0 {
		return 0
	}
	if !f.calibrated {
		f.calibrate(hay)
	}
	if n == 1 {
		return bytes.IndexByte(hay, f.needle[0])
	}
	rb, r2, c2 := f.needle[f.rare], f.rare2, f.needle[f.rare2]
	if f.pair {
		for i := 0; ; {
			p := pairScan(hay, i, n, f.rare, r2, rb, c2, 0, 0)
			if p < 0 || bytes.Equal(hay[p:p+n], f.needle) {
				return p
			}
			i = p + 1
		}
	}
	last := len(hay) - n // last valid start
	for i := 0; i <= last; {
		j := bytes.IndexByte(hay[i+f.rare:last+f.rare+1], rb)
		if j < 0 {
			return -1
		}
		start := i + j
		if hay[start+r2] == c2 && bytes.Equal(hay[start:start+n], f.needle) {
			return start
		}
		i = start + 1
	}
	return -1
}

// indexLines is index and the number of '\n' in hay before the result
// (in all of hay when there is none). In pair mode the vector loop
// counts them as it passes; otherwise bytes.Count does.
func (f *finder) indexLines(hay []byte) (int, int) {
	if !f.calibrated {
		f.calibrate(hay)
	}
	if !f.pair {
		p := f.index(hay)
		end := p
		if p < 0 {
			end = len(hay)
		}
		return p, bytes.Count(hay[:end], newline)
	}
	n := len(f.needle)
	total := 0
	for i := 0; ; {
		p, c := pairScanLines(hay, i, n, f.rare, f.rare2, f.needle[f.rare], f.needle[f.rare2], 0, 0)
		total += c
		if p < 0 || bytes.Equal(hay[p:p+n], f.needle) {
			return p, total
		}
		// a false candidate: the next scan starts after it
		if hay[p] == '\n' {
			total++
		}
		i = p + 1
	}
}

// setFinder finds the first occurrence of any of a few needles (a
// literal set from an alternation, or a case-folded literal). Each needle
// is searched by IndexByte on its rarest byte (both cases for a folded
// one); the next position of every needle is cached so that each needle
// passes over a block once, however the candidates interleave.
type setFinder struct {
	needles    []setNeedle
	calibrated bool
	// prefix, when every needle starts with the same few bytes (classes
	// at the end: status=50[34], status=[23]0[02]), is searched alone and
	// the needles are compared where it occurs: one pass instead of one
	// per needle.
	prefix *setNeedle
}

type setNeedle struct {
	s      []byte // lower case when fold
	fold   bool
	rare   int
	c1, c2 byte // the rare byte in both cases (equal when it has no case)
	p1, p2 int  // cached next position of c1/c2; -1 none left, -2 unknown
	occ    int  // cached next occurrence; -1 none left, -2 unknown
	// pair mode (see finder.pair): the two rarest positions, their
	// bytes (lower case) and OR masks (0x20 for a folded letter).
	pair           bool
	o1, o2         int
	b1, b2, m1, m2 byte
}

func newSetFinder(set []lit) *setFinder {
	f := &setFinder{}
	for _, l := range set {
		f.needles = append(f.needles, setNeedle{s: []byte(l.s), fold: l.fold})
	}
	if len(set) > 1 {
		pre := set[0].s
		for _, l := range set[1:] {
			if l.fold != set[0].fold {
				pre = ""
				break
			}
			n := 0
			for n < len(pre) && n < len(l.s) && pre[n] == l.s[n] {
				n++
			}
			pre = pre[:n]
		}
		if len(pre) >= minPrefix {
			f.prefix = &setNeedle{s: []byte(pre), fold: set[0].fold}
		}
	}
	f.reset()
	return f
}

// minPrefix: a shared prefix shorter than this finds too many places.
const minPrefix = 3

func (f *setFinder) reset() {
	for i := range f.needles {
		n := &f.needles[i]
		n.p1, n.p2, n.occ = -2, -2, -2
	}
	if f.prefix != nil {
		f.prefix.p1, f.prefix.p2, f.prefix.occ = -2, -2, -2
	}
}

func (f *setFinder) calibrate(sample []byte) {
	f.calibrated = true
	if len(sample) > calibrateSample {
		sample = sample[:calibrateSample]
	}
	var counts [256]int
	var done [256]bool
	count := func(c byte) int {
		if !done[c] {
			done[c] = true
			counts[c] = bytes.Count(sample, []byte{c})
		}
		return counts[c]
	}
	all := make([]*setNeedle, 0, len(f.needles)+1)
	for i := range f.needles {
		all = append(all, &f.needles[i])
	}
	if f.prefix != nil {
		all = append(all, f.prefix)
	}
	for _, n := range all {
		folded := func(c byte) bool { return n.fold && 'a' <= c && c <= 'z' }
		freq := func(c byte) int {
			k := count(c)
			if folded(c) {
				k += count(c - 'a' + 'A')
			}
			return k
		}
		best, second, bestK := -1, -1, 0
		for j, c := range n.s {
			k := freq(c)
			switch {
			case best < 0 || k < bestK:
				second, best, bestK = best, j, k
			case c != n.s[best] && (second < 0 || k < freq(n.s[second])):
				second = j
			}
		}
		n.rare = best
		n.c1 = n.s[n.rare]
		n.c2 = n.c1
		if folded(n.c1) {
			n.c2 = n.c1 - 'a' + 'A'
		}
		if second >= 0 && bestK*pairDensity > len(sample) {
			n.pair = true
			mask := func(i int) byte {
				if folded(n.s[i]) {
					return 0x20
				}
				return 0
			}
			n.o1, n.o2 = bestPair(n.s, mask, func(i int) int { return freq(n.s[i]) }, sample)
			n.b1, n.b2 = n.s[n.o1], n.s[n.o2]
			n.m1, n.m2 = mask(n.o1), mask(n.o2)
		}
	}
}

// index returns the first start >= from of any needle in hay, or -1.
// Calls for one block must pass non-decreasing from; reset starts a new
// block.
func (f *setFinder) index(hay []byte, from int) int {
	if !f.calibrated {
		f.calibrate(hay)
	}
	if f.prefix != nil {
		for at := from; ; at++ {
			p := f.prefix.next(hay, at)
			if p < 0 {
				return -1
			}
			for i := range f.needles {
				n := &f.needles[i]
				if p+len(n.s) <= len(hay) && n.equal(hay[p:p+len(n.s)]) {
					return p
				}
			}
			at = p
		}
	}
	best := -1
	for i := range f.needles {
		if p := f.needles[i].next(hay, from); p >= 0 && (best < 0 || p < best) {
			best = p
		}
	}
	return best
}

func nextByte(hay []byte, cached *int, c byte, at int) int {
	if *cached == -1 || *cached >= at {
		return *cached
	}
	if at >= len(hay) {
		*cached = -1
		return -1
	}
	j := bytes.IndexByte(hay[at:], c)
	if j >= 0 {
		j += at
	}
	*cached = j
	return j
}

func (n *setNeedle) next(hay []byte, from int) int {
	if n.occ == -1 || n.occ >= from {
		return n.occ
	}
	l := len(n.s)
	if n.pair {
		for p := from; ; p++ {
			p = pairScan(hay, p, l, n.o1, n.o2, n.b1, n.b2, n.m1, n.m2)
			if p < 0 || n.equal(hay[p:p+l]) {
				n.occ = p
				return p
			}
		}
	}
	at := from + n.rare
	for {
		r := nextByte(hay, &n.p1, n.c1, at)
		if n.c2 != n.c1 {
			if r2 := nextByte(hay, &n.p2, n.c2, at); r2 >= 0 && (r < 0 || r2 < r) {
				r = r2
			}
		}
		if r < 0 {
			n.occ = -1
			return -1
		}
		start := r - n.rare
		if start+l <= len(hay) && n.equal(hay[start:start+l]) {
			n.occ = start
			return start
		}
		at = r + 1
	}
}

func (n *setNeedle) equal(h []byte) bool {
	if !n.fold {
		return bytes.Equal(h, n.s)
	}
	for i, c := range n.s {
		if lower(h[i]) != c {
			return false
		}
	}
	return true
}

// pairScanGeneric returns the first p >= from with p+n <= len(hay) where
// the bytes at p+o1 and p+o2, OR-ed with m1 and m2 (0x20 folds an ASCII
// letter), equal b1 and b2; -1 if none. It tests 8 positions per step
// with word arithmetic, so it keeps its speed when each of the two bytes
// alone is common (an IndexByte per occurrence costs more than the scan).
// pairScan (per architecture) is this function, or a vector loop in
// front of it where the CPU has one.
func pairScanGeneric(hay []byte, from, n, o1, o2 int, b1, b2, m1, m2 byte) int {
	const lo7 = 0x7f7f7f7f7f7f7f7f
	B1, B2 := uint64(b1)*0x0101010101010101, uint64(b2)*0x0101010101010101
	M1, M2 := uint64(m1)*0x0101010101010101, uint64(m2)*0x0101010101010101
	last := len(hay) - n // last valid start
	maxo := o1
	if o2 > maxo {
		maxo = o2
	}
	p := from
	// 32 positions per step with only an "any zero byte" test (three
	// operations a word, exact for existence); the first step with a
	// candidate is searched for its position by the loops below.
	for ; p+maxo+32 <= len(hay) && p+31 <= last; p += 32 {
		h1, h2 := hay[p+o1:p+o1+32], hay[p+o2:p+o2+32]
		t0 := ((binary.LittleEndian.Uint64(h1) | M1) ^ B1) | ((binary.LittleEndian.Uint64(h2) | M2) ^ B2)
		t1 := ((binary.LittleEndian.Uint64(h1[8:]) | M1) ^ B1) | ((binary.LittleEndian.Uint64(h2[8:]) | M2) ^ B2)
		t2 := ((binary.LittleEndian.Uint64(h1[16:]) | M1) ^ B1) | ((binary.LittleEndian.Uint64(h2[16:]) | M2) ^ B2)
		t3 := ((binary.LittleEndian.Uint64(h1[24:]) | M1) ^ B1) | ((binary.LittleEndian.Uint64(h2[24:]) | M2) ^ B2)
		const lo1, hi8 = 0x0101010101010101, 0x8080808080808080
		if ((t0-lo1)&^t0|(t1-lo1)&^t1|(t2-lo1)&^t2|(t3-lo1)&^t3)&hi8 != 0 {
			break
		}
	}
	// Two words per step: the loads of both are independent, which
	// hides their latency.
	for ; p+maxo+16 <= len(hay) && p+8 <= last; p += 16 {
		h1, h2 := hay[p+o1:p+o1+16], hay[p+o2:p+o2+16]
		t := ((binary.LittleEndian.Uint64(h1) | M1) ^ B1) | ((binary.LittleEndian.Uint64(h2) | M2) ^ B2)
		u := ((binary.LittleEndian.Uint64(h1[8:]) | M1) ^ B1) | ((binary.LittleEndian.Uint64(h2[8:]) | M2) ^ B2)
		z := ^(((t & lo7) + lo7) | t | lo7) // 0x80 in each zero byte of t
		y := ^(((u & lo7) + lo7) | u | lo7)
		if z|y != 0 {
			q := p + bits.TrailingZeros64(z)/8
			if z == 0 {
				q = p + 8 + bits.TrailingZeros64(y)/8
			}
			if q > last {
				return -1
			}
			return q
		}
	}
	for ; p+maxo+8 <= len(hay) && p <= last; p += 8 {
		w1 := binary.LittleEndian.Uint64(hay[p+o1:])
		w2 := binary.LittleEndian.Uint64(hay[p+o2:])
		t := ((w1 | M1) ^ B1) | ((w2 | M2) ^ B2)
		z := ^(((t & lo7) + lo7) | t | lo7)
		if z != 0 {
			q := p + bits.TrailingZeros64(z)/8
			if q > last {
				return -1
			}
			return q
		}
	}
	for ; p <= last; p++ {
		if hay[p+o1]|m1 == b1 && hay[p+o2]|m2 == b2 {
			return p
		}
	}
	return -1
}

// bestPair picks the two needle positions whose bytes (with the fold
// masks of mask) occur together least often in sample, counted with
// pairScan itself: single-byte counts cannot see that "s" and "=" of
// "status=503" always come together in logs that contain status=200.
// Only the rarest positions are tried, so the cost stays small.
func bestPair(needle []byte, mask func(i int) byte, freq func(i int) int, sample []byte) (o1, o2 int) {
	const maxTry = 6
	idx := make([]int, len(needle))
	for i := range idx {
		idx[i] = i
	}
	// Positions by single-byte frequency, rarest first (insertion sort:
	// needles are short).
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && freq(idx[j]) < freq(idx[j-1]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	if len(idx) > maxTry {
		idx = idx[:maxTry]
	}
	if len(sample) > pairSample {
		sample = sample[:pairSample]
	}
	best := -1
	o1, o2 = idx[0], idx[len(idx)-1]
	for a := 0; a < len(idx); a++ {
		for b := a + 1; b < len(idx); b++ {
			i, j := idx[a], idx[b]
			n := 0
			for p := 0; ; p++ {
				p = pairScan(sample, p, len(needle), i, j, needle[i]|mask(i), needle[j]|mask(j), mask(i), mask(j))
				if p < 0 {
					break
				}
				n++
				if best >= 0 && n >= best {
					break
				}
			}
			if best < 0 || n < best {
				best, o1, o2 = n, i, j
			}
		}
	}
	return o1, o2
}

const pairSample = 16 << 10
