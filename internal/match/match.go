// Package match decides which lines a read emits: literal and RE2
// matching (with a substring prefilter that searches whole buffers, not
// line by line), inversion, and grep's before/after/max windows.
package match

import (
	"bytes"
	"fmt"
	"regexp"
	"regexp/syntax"
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
type Matcher struct {
	kind    Kind
	invert  bool
	lit     []byte
	re      *regexp.Regexp
	pattern string
	// prefilter is a literal every match must contain; candidates are
	// found with bytes.Index over a whole block and confirmed with re.
	prefilter []byte
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
	m.prefilter = requiredLiteral(pattern)
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
		if m.prefilter != nil && !bytes.Contains(line, m.prefilter) {
			return false
		}
		return m.re.Match(line)
	}
	return true
}

// Match reports whether a line (without its '\n') is selected.
func (m *Matcher) Match(line []byte) bool {
	return m.raw(line) != m.invert
}

// CanScan reports whether NextMatch may be used: selection is positive
// and a substring narrows the candidates.
func (m *Matcher) CanScan() bool {
	if m.invert {
		return false
	}
	// A needle spanning a newline could pair a line with text of the
	// next one; such patterns go through the per-line path.
	switch m.kind {
	case Literal:
		return bytes.IndexByte(m.lit, '\n') < 0
	case Regexp:
		return m.prefilter != nil && bytes.IndexByte(m.prefilter, '\n') < 0
	}
	return false
}

// Scanner finds selected lines in whole blocks. It keeps per-reader
// search state, so each concurrent reader needs its own.
type Scanner struct {
	m *Matcher
	f *finder
}

// NewScanner returns a Scanner; only valid when CanScan is true.
func (m *Matcher) NewScanner() *Scanner {
	needle := m.lit
	if m.kind == Regexp {
		needle = m.prefilter
	}
	return &Scanner{m: m, f: newFinder(needle)}
}

// NextMatch finds the first selected line in block[from:], where block is
// a run of complete '\n'-terminated lines. It returns the line's bounds
// including the newline.
func (sc *Scanner) NextMatch(block []byte, from int) (start, end int, ok bool) {
	m := sc.m
	for from < len(block) {
		i := sc.f.index(block[from:])
		if i < 0 {
			return 0, 0, false
		}
		i += from
		start = bytes.LastIndexByte(block[from:i], '\n') + 1 + from
		e := bytes.IndexByte(block[i:], '\n')
		if e < 0 {
			end = len(block)
		} else {
			end = i + e + 1
		}
		if m.kind == Literal || m.re.Match(trimNL(block[start:end])) {
			return start, end, true
		}
		from = end
	}
	return 0, 0, false
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

// requiredLiteral returns the longest literal that every match of pattern
// must contain, or nil. Only top-level concatenations are inspected: it is
// cheap and never wrong, which is what a prefilter needs.
func requiredLiteral(pattern string) []byte {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	for re.Op == syntax.OpCapture && len(re.Sub) == 1 {
		re = re.Sub[0]
	}
	var best []rune
	consider := func(r *syntax.Regexp) {
		if r.Op == syntax.OpLiteral && r.Flags&syntax.FoldCase == 0 && len(r.Rune) > len(best) {
			best = r.Rune
		}
	}
	switch re.Op {
	case syntax.OpLiteral:
		consider(re)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			consider(s)
		}
	}
	if len(best) == 0 {
		return nil
	}
	return []byte(string(best))
}
