package client

import "sync"

// groupSeparator is the line grep prints between non-adjacent groups of
// context output (`--`).
var groupSeparator = []byte("--\n")

// groupSeps remembers, for a whole session, whether a context group was
// printed already: like grep, the first group of a later file is also
// set apart from the last group of an earlier one.
type groupSeps struct {
	mu      sync.Mutex
	printed bool
}

// swapPrinted marks that a line was printed and reports whether one was
// printed before.
func (g *groupSeps) swapPrinted() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	was := g.printed
	g.printed = true
	return was
}

// fileSeps tracks the last printed line of one file.
type fileSeps struct {
	session *groupSeps
	lastNo  uint64 // 0: nothing of this file printed yet
}

// separates reports whether a `--` goes before line no: it does when the
// line does not follow the previously printed one directly, or when it is
// the first of its file and an earlier file printed something.
func (f *fileSeps) separates(no uint64) bool {
	sep := false
	if f.lastNo == 0 {
		sep = f.session.swapPrinted()
	} else {
		sep = no != f.lastNo+1
	}
	f.lastNo = no
	return sep
}
