// Package match decides which lines a read emits: literal and RE2
// matching (with a substring prefilter that searches whole buffers, not
// line by line), inversion, and grep's before/after/max windows.
package match

import (
	"bytes"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sync"
)

// Kind is how a Matcher tests a line.
type Kind int

const (
	// All matches every line (the serialized `regex:noop`).
	All Kind = iota
	// Literal is a plain substring search.
	Literal
	// Regexp is Go RE2 matching, unanchored.
	Regexp
)

// Matcher tests lines. Lines are given without their trailing '\n', so
// `foo$` matches a line ending in foo (unlike DTail 4.x cat/grep reads,
// which saw the newline; see docs/DECISIONS.md).
//
// A Regexp matcher decides lines with a lazy DFA (dfa.go) and Go's
// regexp only for lines with non-ASCII bytes; a Scanner first looks for
// the literals every match must contain (literal.go) in whole blocks.
type Matcher struct {
	kind    Kind
	invert  bool
	lit     []byte
	re      *regexp.Regexp
	pattern string
	prog    *syntax.Prog
	// set is the prefilter: every match contains one of these literals.
	// With exact, containing one of them is matching (the pattern is a
	// plain literal set such as `ERROR|status=503` or `(?i)error`).
	set   []lit
	exact bool
	// dfas serves Match, which may be called from several readers at
	// once (a DFA's cache is per user).
	dfas *sync.Pool
}

// New compiles a matcher. literal requests substring search (the client's
// `,literal` hint); a pattern without regexp metacharacters is searched
// as a substring either way. An empty pattern with All kind matches all.
func New(pattern string, invert, literal bool) (*Matcher, error) {
	m := &Matcher{invert: invert, pattern: pattern}
	if literal || isLiteral(pattern) {
		m.kind = Literal
		m.lit = []byte(pattern)
		if len(m.lit) == 0 {
			m.kind = All
		}
		return m, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("invalid regex %q: %w", pattern, err)
	}
	m.kind = Regexp
	m.re = re
	parsed, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("invalid regex %q: %w", pattern, err)
	}
	parsed = parsed.Simplify()
	m.prog, err = syntax.Compile(parsed)
	if err != nil {
		return nil, fmt.Errorf("invalid regex %q: %w", pattern, err)
	}
	m.set, m.exact = requiredSet(parsed)
	prog := m.prog
	m.dfas = &sync.Pool{New: func() any { return newDFA(prog) }}
	return m, nil
}

// NewAll returns a matcher that accepts every line.
func NewAll() *Matcher { return &Matcher{kind: All} }

// Kind reports how lines are tested.
func (m *Matcher) Kind() Kind { return m.kind }

// Inverted reports whether non-matching lines are selected.
func (m *Matcher) Inverted() bool { return m.invert }

// Pattern returns the source pattern.
func (m *Matcher) Pattern() string { return m.pattern }

// MatchAll reports whether every line is selected without looking at it.
func (m *Matcher) MatchAll() bool { return m.kind == All && !m.invert }

func (m *Matcher) raw(line []byte) bool {
	switch m.kind {
	case Literal:
		return bytes.Contains(line, m.lit)
	case Regexp:
		if len(m.set) == 1 && !m.set[0].fold && !bytes.Contains(line, []byte(m.set[0].s)) {
			return false
		}
		d := m.dfas.Get().(*dfa)
		matched, ok := d.matchLine(line)
		m.dfas.Put(d)
		if !ok {
			return m.re.Match(line)
		}
		return matched
	}
	return true
}

// Match reports whether a line (without its '\n') is selected.
func (m *Matcher) Match(line []byte) bool {
	return m.raw(line) != m.invert
}

// CanScan reports whether NextMatch may be used: selection is positive
// (and for a literal, it cannot span lines).
func (m *Matcher) CanScan() bool {
	if m.invert {
		return false
	}
	switch m.kind {
	case Literal:
		return bytes.IndexByte(m.lit, '\n') < 0
	case Regexp:
		return true
	}
	return false
}

// Scanner finds selected lines in whole blocks. It keeps per-reader
// search state (prefilter positions, the DFA cache), so each concurrent
// reader needs its own.
type Scanner struct {
	m   *Matcher
	f   *finder    // a literal matcher, or one case-sensitive required literal
	set *setFinder // a required literal set or a case-folded literal
	d   *dfa
	// dfaOnly: no prefilter, or its candidates cover so much of the data
	// that running the DFA over every byte is cheaper.
	dfaOnly          bool
	scanned, candLen int64
	lastFrom         int
}

// Adaptive prefilter: after prefilterProbe bytes, a prefilter whose
// candidate lines cover more than 1/prefilterCover of the data is dropped
// (e.g. `=` in key=value logs); the DFA costs about one table lookup per
// byte either way.
const (
	prefilterProbe = 1 << 20
	prefilterCover = 4
)

// NewScanner returns a Scanner; only valid when CanScan is true.
func (m *Matcher) NewScanner() *Scanner {
	sc := &Scanner{m: m}
	switch {
	case m.kind == Literal:
		sc.f = newFinder(m.lit)
		return sc
	case len(m.set) == 1 && !m.set[0].fold:
		sc.f = newFinder([]byte(m.set[0].s))
	case len(m.set) > 0:
		sc.set = newSetFinder(m.set)
	default:
		sc.dfaOnly = true
	}
	sc.d = newDFA(m.prog)
	return sc
}

// NextMatch finds the first selected line in block[from:], where block is
// a run of complete '\n'-terminated lines. It returns the line's bounds
// including the newline. Calls for one block pass increasing from,
// starting at 0.
func (sc *Scanner) NextMatch(block []byte, from int) (start, end int, ok bool) {
	m := sc.m
	if m.kind == Literal {
		return sc.nextLiteral(block, from)
	}
	if sc.dfaOnly {
		return sc.d.nextMatch(block, from, m.re.Match)
	}
	if sc.set != nil && (from == 0 || from < sc.lastFrom) {
		sc.set.reset()
	}
	for from < len(block) {
		var i int
		if sc.set != nil {
			i = sc.set.index(block, from)
		} else if i = sc.f.index(block[from:]); i >= 0 {
			i += from
		}
		if i < 0 {
			sc.scanned += int64(len(block) - from)
			sc.lastFrom = len(block)
			return 0, 0, false
		}
		start, end = lineAt(block, from, i)
		sc.scanned += int64(end - from)
		sc.candLen += int64(end - start)
		sc.lastFrom = end
		if m.exact {
			return start, end, true
		}
		line := trimNL(block[start:end])
		matched, known := sc.d.matchLine(line)
		if !known {
			matched = m.re.Match(line)
		}
		if matched {
			return start, end, true
		}
		from = end
		if sc.scanned > prefilterProbe && sc.candLen*prefilterCover > sc.scanned {
			sc.dfaOnly = true
			return sc.d.nextMatch(block, from, m.re.Match)
		}
	}
	return 0, 0, false
}

// NextMatchLines is NextMatch that also returns the number of '\n' in
// block[from:start] (in block[from:] when there is no match), which a
// reader numbering lines would otherwise count in a second pass. For a
// literal searched in pair mode the vector loop counts them on the way.
func (sc *Scanner) NextMatchLines(block []byte, from int) (start, end, lines int, ok bool) {
	if sc.m.kind == Literal && from < len(block) {
		i, n := sc.f.indexLines(block[from:])
		if i < 0 {
			return 0, 0, n, false
		}
		i += from
		// n counts block[from:i]; block[start:i] has no newline
		start, end = lineAt(block, from, i)
		return start, end, n, true
	}
	start, end, ok = sc.NextMatch(block, from)
	stop := start
	if !ok {
		stop = len(block)
	}
	if from < stop {
		lines = bytes.Count(block[from:stop], newline)
	}
	return start, end, lines, ok
}

func (sc *Scanner) nextLiteral(block []byte, from int) (start, end int, ok bool) {
	if from >= len(block) {
		return 0, 0, false
	}
	i := sc.f.index(block[from:])
	if i < 0 {
		return 0, 0, false
	}
	start, end = lineAt(block, from, i+from)
	return start, end, true
}

// lineAt returns the bounds of the line holding block[i], a candidate
// found at or after from: its start (not before from, where the caller's
// previous line ended) and its end after the '\n' (the block's end for
// a last line without one).
func lineAt(block []byte, from, i int) (start, end int) {
	start = lastNewline(block[from:i]) + 1 + from
	end = len(block)
	if e := bytes.IndexByte(block[i:], '\n'); e >= 0 {
		end = i + e + 1
	}
	return start, end
}

func trimNL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return b[:n-1]
	}
	return b
}

// TrimNewline returns a line without its trailing '\n'.
func TrimNewline(b []byte) []byte { return trimNL(b) }

const metachars = `.+*?^$[]{}()|\`

func isLiteral(p string) bool {
	for i := 0; i < len(p); i++ {
		if bytes.IndexByte([]byte(metachars), p[i]) >= 0 {
			return false
		}
	}
	return true
}
