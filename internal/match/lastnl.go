package match

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// lastNewline is bytes.LastIndexByte(b, '\n') eight bytes at a time.
// bytes.LastIndexByte is a byte loop; every match walks back to its
// line's start through it (about 170 bytes for status=503 in a DTail
// log line), which was 4 % of a common-literal grep's CPU.
func lastNewline(b []byte) int {
	const lo7, nl8 = 0x7f7f7f7f7f7f7f7f, 0x0a0a0a0a0a0a0a0a
	i := len(b)
	for ; i >= 8; i -= 8 {
		t := binary.LittleEndian.Uint64(b[i-8:]) ^ nl8
		// 0x80 in exactly the zero bytes of t (no borrow between bytes,
		// so the highest one is exact too)
		if z := ^(((t & lo7) + lo7) | t | lo7); z != 0 {
			return i - 8 + (63-bits.LeadingZeros64(z))/8
		}
	}
	for i--; i >= 0; i-- {
		if b[i] == '\n' {
			return i
		}
	}
	return -1
}

var newline = []byte{'\n'}

// pairScanLinesGeneric is pairScanGeneric and a count of the '\n' in
// hay[from:p] (hay[from:] when p is -1).
func pairScanLinesGeneric(hay []byte, from, n, o1, o2 int, b1, b2, m1, m2 byte) (int, int) {
	p := pairScanGeneric(hay, from, n, o1, o2, b1, b2, m1, m2)
	end := p
	if p < 0 {
		end = len(hay)
	}
	if from >= end {
		return p, 0
	}
	return p, bytes.Count(hay[from:end], newline)
}
