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
