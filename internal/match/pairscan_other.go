//go:build !amd64 || purego

package match

// pairScan: without a vector loop for this architecture the word-at-a-time
// scan is the whole search (see pairScanGeneric).
func pairScan(hay []byte, from, n, o1, o2 int, b1, b2, m1, m2 byte) int {
	return pairScanGeneric(hay, from, n, o1, o2, b1, b2, m1, m2)
}

func pairScanLines(hay []byte, from, n, o1, o2 int, b1, b2, m1, m2 byte) (int, int) {
	return pairScanLinesGeneric(hay, from, n, o1, o2, b1, b2, m1, m2)
}

// vectorPair: pairScan has no vector loop here.
func vectorPair() bool { return false }
