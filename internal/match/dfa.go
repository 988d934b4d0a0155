package match

import (
	"bytes"
	"regexp/syntax"
	"strings"
)

// dfa is a lazily built deterministic automaton over the instructions of
// a compiled RE2 program. It answers one question per line: does the
// pattern match anywhere in it. That is all grep needs, and it lets the
// automaton ignore match positions, priorities and captures, so one table
// lookup per byte suffices (Go's regexp runs its backtracker or NFA per
// line at 40-50 MB/s).
//
// Only ASCII bytes are handled by the tables: Go's regexp works on UTF-8
// runes and treats invalid bytes as U+FFFD, so a line with a byte >= 0x80
// is decided by the regexp itself (fallback); log lines are mostly ASCII.
// On ASCII input, runes are bytes and \b is defined on ASCII word
// characters, so the automaton's decision equals regexp.Match exactly
// (FuzzDFAAgreesWithRegexp checks that).
//
// A dfa is not safe for concurrent use: its cache grows while it runs.
type dfa struct {
	prog     *syntax.Prog
	anchored bool // the pattern starts with \A: threads start at offset 0 only

	classes  [256]uint8 // byte → equivalence class
	nclass   int32
	nlClass  uint8 // '\n' (line separator)
	nonASCII uint8 // bytes >= 0x80

	// trans[s+c] is the next state of state offset s on class c, where
	// state offsets are multiples of nclass. 0 means not yet computed,
	// negative values are the special outcomes below.
	trans  []int32
	states []dstate
	cache  map[string]int32
	start  int32 // state at the beginning of a line

	maxStates int
	flushes   int // cache flushes so far (tests, diagnostics)
	// scratch for closures
	stack []uint32
	seen  []uint32 // generation marks per pc
	gen   uint32
	buf   []uint32
	key   []byte
}

const (
	tUnknown  = 0
	tMatch    = -1 // a match ends at or before this byte: the line matches
	tFallback = -2 // non-ASCII byte: let the regexp decide the line
	tNoMatch  = -3 // '\n' reached without a match: next line
	tDead     = -4 // anchored pattern with no thread left: the line cannot match
)

// dstate is one DFA state: the program counters of the threads in flight
// (Rune*, EmptyWidth and Match instructions, after following Alt, Nop and
// Capture) and what the next empty-width test needs to know about the
// previous byte.
type dstate struct {
	pcs   []uint32
	flags uint8
	// end: 0 unknown, 1 no match at end of line, 2 match.
	end uint8
}

const (
	fAtStart  = 1 << 0 // no byte consumed yet on this line
	fPrevWord = 1 << 1 // previous byte is an ASCII word character
)

// defaultMaxStates bounds the cache (and so memory: states × classes × 4
// bytes); a pattern whose automaton is larger flushes the cache and goes
// on, as RE2 does.
const defaultMaxStates = 4096

func newDFA(prog *syntax.Prog) *dfa {
	d := &dfa{prog: prog, maxStates: defaultMaxStates}
	d.anchored = prog.StartCond()&syntax.EmptyBeginText != 0
	d.seen = make([]uint32, len(prog.Inst))
	d.buildClasses()
	d.reset()
	return d
}

// compileProg parses and compiles pattern the way regexp.Compile does.
func compileProg(pattern string) (*syntax.Prog, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	return syntax.Compile(re.Simplify())
}

func isWordByte(b byte) bool {
	return b < 0x80 && syntax.IsWordChar(rune(b))
}

// buildClasses groups the ASCII bytes that no instruction and no word
// boundary test can tell apart; the tables are indexed by class.
func (d *dfa) buildClasses() {
	var runeInsts []*syntax.Inst
	for i := range d.prog.Inst {
		in := &d.prog.Inst[i]
		switch in.Op {
		case syntax.InstRune, syntax.InstRune1:
			runeInsts = append(runeInsts, in)
		}
	}
	sigs := map[string]uint8{}
	var sig strings.Builder
	next := uint8(0)
	for b := 0; b < 0x80; b++ {
		if b == '\n' {
			continue
		}
		sig.Reset()
		if isWordByte(byte(b)) {
			sig.WriteByte('w')
		} else {
			sig.WriteByte('-')
		}
		for _, in := range runeInsts {
			if in.MatchRune(rune(b)) {
				sig.WriteByte('1')
			} else {
				sig.WriteByte('0')
			}
		}
		c, ok := sigs[sig.String()]
		if !ok {
			c = next
			next++
			sigs[sig.String()] = c
		}
		d.classes[b] = c
	}
	d.nlClass = next
	d.classes['\n'] = next
	d.nonASCII = next + 1
	for b := 0x80; b < 0x100; b++ {
		d.classes[b] = d.nonASCII
	}
	d.nclass = int32(next) + 2
}

// reset empties the cache. State offset 0 is a dummy so that 0 can mean
// "not computed" in trans.
func (d *dfa) reset() {
	d.trans = d.trans[:0]
	d.states = d.states[:0]
	d.cache = make(map[string]int32)
	// The dummy is not interned: the empty state with flags 0 is real.
	d.states = append(d.states, dstate{})
	for c := int32(0); c < d.nclass; c++ {
		d.trans = append(d.trans, tUnknown)
	}
	d.start = d.addState(nil, fAtStart)
}

// addState interns a state and returns its offset in trans.
func (d *dfa) addState(pcs []uint32, flags uint8) int32 {
	d.key = d.key[:0]
	d.key = append(d.key, flags)
	for _, pc := range pcs {
		d.key = append(d.key, byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24))
	}
	if s, ok := d.cache[string(d.key)]; ok {
		return s
	}
	off := int32(len(d.trans))
	d.states = append(d.states, dstate{pcs: append([]uint32(nil), pcs...), flags: flags})
	for c := int32(0); c < d.nclass; c++ {
		d.trans = append(d.trans, tUnknown)
	}
	d.trans[off+int32(d.nonASCII)] = tFallback
	d.cache[string(d.key)] = off
	return off
}

// closure follows Alt, Nop, Capture and the empty-width tests satisfied
// by flags from the threads of s (plus a new thread at the program start
// for an unanchored search). It appends the reached Rune* instructions to
// d.buf and reports whether Match was reached. With keepEmpty, unresolved
// EmptyWidth instructions are kept instead of tested (state
// canonicalisation before the next byte is known).
func (d *dfa) closure(pcs []uint32, addStart bool, flags syntax.EmptyOp, keepEmpty bool) bool {
	d.gen++
	if d.gen == 0 {
		for i := range d.seen {
			d.seen[i] = 0
		}
		d.gen = 1
	}
	d.buf = d.buf[:0]
	d.stack = d.stack[:0]
	// Push in reverse so that the order of d.buf follows pcs (only for a
	// stable state key; the decision does not depend on order).
	if addStart {
		d.stack = append(d.stack, uint32(d.prog.Start))
	}
	for i := len(pcs) - 1; i >= 0; i-- {
		d.stack = append(d.stack, pcs[i])
	}
	matched := false
	for len(d.stack) > 0 {
		pc := d.stack[len(d.stack)-1]
		d.stack = d.stack[:len(d.stack)-1]
		if d.seen[pc] == d.gen {
			continue
		}
		d.seen[pc] = d.gen
		in := &d.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			d.stack = append(d.stack, in.Arg, in.Out)
		case syntax.InstNop, syntax.InstCapture:
			d.stack = append(d.stack, in.Out)
		case syntax.InstEmptyWidth:
			if keepEmpty {
				d.buf = append(d.buf, pc)
			} else if syntax.EmptyOp(in.Arg)&^flags == 0 {
				d.stack = append(d.stack, in.Out)
			}
		case syntax.InstMatch:
			matched = true
			if keepEmpty {
				d.buf = append(d.buf, pc)
			}
		case syntax.InstFail:
		default: // Rune, Rune1, RuneAny, RuneAnyNotNL
			d.buf = append(d.buf, pc)
		}
	}
	return matched
}

// emptyFlags returns the empty-width conditions that hold between the
// previous byte (described by flags) and the next byte b (eol: none).
func emptyFlags(flags uint8, b byte, eol bool) syntax.EmptyOp {
	var f syntax.EmptyOp
	if flags&fAtStart != 0 {
		f |= syntax.EmptyBeginText | syntax.EmptyBeginLine
	}
	next := false
	if eol {
		f |= syntax.EmptyEndText | syntax.EmptyEndLine
	} else {
		next = isWordByte(b)
	}
	if (flags&fPrevWord != 0) != next {
		f |= syntax.EmptyWordBoundary
	} else {
		f |= syntax.EmptyNoWordBoundary
	}
	return f
}

// step computes (and caches) the transition of state s on byte b.
func (d *dfa) step(s int32, b byte) int32 {
	cls := int32(d.classes[b])
	if t := d.trans[s+cls]; t != tUnknown {
		return t
	}
	st := &d.states[s/d.nclass]
	if b == '\n' {
		t := int32(tNoMatch)
		if d.endMatch(s) {
			t = tMatch
		}
		d.trans[s+cls] = t
		return t
	}
	flags := st.flags
	addStart := !d.anchored || flags&fAtStart != 0
	if d.closure(st.pcs, addStart, emptyFlags(flags, b, false), false) {
		d.trans[s+cls] = tMatch
		return tMatch
	}
	// Step the rune instructions over b.
	var next []uint32
	r := rune(b)
	for _, pc := range d.buf {
		in := &d.prog.Inst[pc]
		ok := false
		switch in.Op {
		case syntax.InstRune, syntax.InstRune1:
			ok = in.MatchRune(r)
		case syntax.InstRuneAny:
			ok = true
		case syntax.InstRuneAnyNotNL:
			ok = b != '\n'
		}
		if ok {
			next = append(next, in.Out)
		}
	}
	var nf uint8
	if isWordByte(b) {
		nf = fPrevWord
	}
	// Canonicalise: follow everything that does not depend on the next byte.
	if d.closure(next, false, 0, true) {
		d.trans[s+cls] = tMatch
		return tMatch
	}
	if d.anchored && len(d.buf) == 0 {
		d.trans[s+cls] = tDead
		return tDead
	}
	pcs := append([]uint32(nil), d.buf...)
	if len(d.states) >= d.maxStates {
		// The cache is full: start over. s is gone afterwards, so the
		// result is not stored for it.
		d.reset()
		d.flushes++
		return d.addState(pcs, nf)
	}
	t := d.addState(pcs, nf)
	d.trans[s+cls] = t
	return t
}

// endMatch reports whether the line ending after state s matches.
func (d *dfa) endMatch(s int32) bool {
	st := &d.states[s/d.nclass]
	if st.end == 0 {
		st.end = 1
		addStart := !d.anchored || st.flags&fAtStart != 0
		if d.closure(st.pcs, addStart, emptyFlags(st.flags, 0, true), false) {
			st.end = 2
		}
	}
	return st.end == 2
}

// matchLine decides one line (without '\n'). ok is false when the line
// has a non-ASCII byte; the caller must ask the regexp then.
func (d *dfa) matchLine(line []byte) (matched, ok bool) {
	s := d.start
	for _, b := range line {
		t := d.trans[s+int32(d.classes[b])]
		if t <= 0 {
			if b == '\n' {
				return false, false // not a line: the regexp decides
			}
			if t == tUnknown {
				t = d.step(s, b)
			}
			switch t {
			case tMatch:
				return true, true
			case tFallback:
				return false, false
			case tDead:
				return false, true
			}
		}
		s = t
	}
	return d.endMatch(s), true
}

// nextMatch finds the first matching line in block[from:], a run of
// complete '\n'-terminated lines. Lines with non-ASCII bytes are decided
// by fallback. It returns the line's bounds including the newline.
func (d *dfa) nextMatch(block []byte, from int, fallback func([]byte) bool) (start, end int, ok bool) {
	lineStart := from
	s := d.start
	i := from
	for i < len(block) {
		// The hot loop: one table lookup per byte.
		trans, classes := d.trans, &d.classes
		for ; i < len(block); i++ {
			t := trans[s+int32(classes[block[i]])]
			if t <= 0 {
				break
			}
			s = t
		}
		if i >= len(block) {
			break
		}
		b := block[i]
		t := d.trans[s+int32(d.classes[b])]
		if t == tUnknown {
			t = d.step(s, b)
			if t > 0 {
				s = t
				i++
				continue
			}
		}
		switch t {
		case tDead:
			k := bytes.IndexByte(block[i:], '\n')
			if k < 0 {
				return 0, 0, false
			}
			i += k + 1
			lineStart = i
			s = d.start
			continue
		case tNoMatch:
			i++
			lineStart = i
			s = d.start
			continue
		case tMatch:
			e := i
			if b != '\n' {
				if k := bytes.IndexByte(block[i:], '\n'); k >= 0 {
					e = i + k
				} else {
					e = len(block)
				}
			}
			if e < len(block) {
				e++
			}
			return lineStart, e, true
		case tFallback:
			e := len(block)
			if k := bytes.IndexByte(block[i:], '\n'); k >= 0 {
				e = i + k + 1
			}
			if fallback(trimNL(block[lineStart:e])) {
				return lineStart, e, true
			}
			i = e
			lineStart = e
			s = d.start
			continue
		}
		s = t
		i++
	}
	if lineStart < len(block) {
		// A last line without newline (not produced by the Splitter for
		// Newline blocks, but valid input here).
		if m, ok := d.matchLine(block[lineStart:]); ok && m || !ok && fallback(block[lineStart:]) {
			return lineStart, len(block), true
		}
	}
	return 0, 0, false
}
