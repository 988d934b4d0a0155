//go:build !purego

package match

import (
	"bytes"

	"golang.org/x/sys/cpu"
)

// pairIndexAVX2 returns the first i in [0, n) with p1[i]|m1 == b1 and
// p2[i]|m2 == b2, or -1, and the number of '\n' in p1[0:i] (p1[0:n] when
// none). n is a multiple of 32 and p1[0:n], p2[0:n] are readable. It
// compares 64 positions per step (two 32-byte vectors at each of the two
// offsets, AND-ed: the "packed pair" search ripgrep's memchr uses for a
// needle whose bytes are each common), about three times the rate of the
// word-at-a-time loop on a 1 % literal; counting the newlines on the way
// saves the reader a second pass for its line numbers. Written in
// pairscan_amd64.s.
//
//go:noescape
func pairIndexAVX2(p1, p2 *byte, n int, b1, b2, m1, m2 byte) (i, lines int)

// vectorPair: the CPU (and OS) run pairIndexAVX2.
func vectorPair() bool { return cpu.X86.HasAVX2 && cpu.X86.HasPOPCNT }

// pairScan is pairScanGeneric with the whole 32-position steps done by
// pairIndexAVX2 where the CPU has AVX2; the generic loop takes the last
// fewer than 32 positions (and everything on CPUs without AVX2).
func pairScan(hay []byte, from, n, o1, o2 int, b1, b2, m1, m2 byte) int {
	if vectorPair() && from >= 0 {
		// positions from..last, the bytes read are hay[from+o .. last+o]
		if k := (len(hay) - n - from + 1) &^ 31; k > 0 {
			if i, _ := pairIndexAVX2(&hay[from+o1], &hay[from+o2], k, b1, b2, m1, m2); i >= 0 {
				return from + i
			}
			from += k
		}
	}
	return pairScanGeneric(hay, from, n, o1, o2, b1, b2, m1, m2)
}

// pairScanLines is pairScan that also returns the number of '\n' in
// hay[from:p] (hay[from:] when p is -1).
func pairScanLines(hay []byte, from, n, o1, o2 int, b1, b2, m1, m2 byte) (int, int) {
	if vectorPair() && from >= 0 {
		if k := (len(hay) - n - from + 1) &^ 31; k > 0 {
			i, c := pairIndexAVX2(&hay[from+o1], &hay[from+o2], k, b1, b2, m1, m2)
			j := k
			if i >= 0 {
				j = i
			}
			// c counts hay[from+o1 : from+o1+j]; hay[from : from+j] has
			// the first o1 bytes more and the last o1 bytes fewer.
			c += bytes.Count(hay[from:from+o1], newline) - bytes.Count(hay[from+j:from+j+o1], newline)
			if i >= 0 {
				return from + i, c
			}
			p, c2 := pairScanLinesGeneric(hay, from+k, n, o1, o2, b1, b2, m1, m2)
			return p, c + c2
		}
	}
	return pairScanLinesGeneric(hay, from, n, o1, o2, b1, b2, m1, m2)
}
