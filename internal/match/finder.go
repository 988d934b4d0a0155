package match

import "bytes"

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
}

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

// setFinder finds the first occurrence of any of a few needles (a
// literal set from an alternation, or a case-folded literal). Each needle
// is searched by IndexByte on its rarest byte (both cases for a folded
// one); the next position of every needle is cached so that each needle
// passes over a block once, however the candidates interleave.
type setFinder struct {
	needles    []setNeedle
	calibrated bool
}

type setNeedle struct {
	s      []byte // lower case when fold
	fold   bool
	rare   int
	c1, c2 byte // the rare byte in both cases (equal when it has no case)
	p1, p2 int  // cached next position of c1/c2; -1 none left, -2 unknown
	occ    int  // cached next occurrence; -1 none left, -2 unknown
}

func newSetFinder(set []lit) *setFinder {
	f := &setFinder{}
	for _, l := range set {
		f.needles = append(f.needles, setNeedle{s: []byte(l.s), fold: l.fold})
	}
	f.reset()
	return f
}

func (f *setFinder) reset() {
	for i := range f.needles {
		n := &f.needles[i]
		n.p1, n.p2, n.occ = -2, -2, -2
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
	for i := range f.needles {
		n := &f.needles[i]
		best := -1
		for j, c := range n.s {
			k := count(c)
			if n.fold && 'a' <= c && c <= 'z' {
				k += count(c - 'a' + 'A')
			}
			if best < 0 || k < best {
				best, n.rare = k, j
			}
		}
		n.c1 = n.s[n.rare]
		n.c2 = n.c1
		if n.fold && 'a' <= n.c1 && n.c1 <= 'z' {
			n.c2 = n.c1 - 'a' + 'A'
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
