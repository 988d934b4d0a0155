package match

import (
	"regexp/syntax"
	"unicode/utf8"
)

// lit is a literal string; with fold it matches ASCII case-insensitively
// (s is stored in lower case then).
type lit struct {
	s    string
	fold bool
}

// litInfo describes what a sub-expression says about literals:
// exact, if ok, is the finite set of strings the expression matches (""
// for empty-width ones); req is a set of literals one of which every
// match contains (nil: none known).
type litInfo struct {
	exact   []lit
	exactOK bool
	req     []lit
}

// Bounds that keep the extraction cheap and the sets searchable by a few
// IndexByte passes.
const (
	maxExact   = 16 // size of an exact set (cross products are cut)
	maxReq     = 8  // needles in a required set
	maxClass   = 4  // runes of a class turned into single-rune literals
	maxLitSize = 64 // bytes of one literal
)

// requiredSet returns literals such that every match of re contains at
// least one of them (as a substring of the line), or nil. It looks into
// concatenations, alternations, groups and repetitions with a minimum,
// like ripgrep's inner-literal extraction; it never claims a literal a
// match could lack, which is all a prefilter needs.
func requiredSet(re *syntax.Regexp) (set []lit, exact bool) {
	info := analyze(re)
	best := info.req
	if info.exactOK && usable(info.exact) && !hasAssertion(re) {
		// The pattern is exactly "one of these strings": containing one
		// is matching, no confirmation needed.
		return info.exact, true
	}
	if info.exactOK && better(info.exact, best) {
		best = info.exact
	}
	if !usable(best) {
		return nil, false
	}
	return best, false
}

// hasAssertion reports an empty-width operator (^ $ \A \z \b \B) anywhere
// in re: the literal analysis treats them as "", which is right for a
// prefilter but not for deciding a match.
func hasAssertion(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	for _, sub := range re.Sub {
		if hasAssertion(sub) {
			return true
		}
	}
	return false
}

// usable: no empty member (it would match everywhere) and no newline
// (a line never contains one).
func usable(set []lit) bool {
	if len(set) == 0 || len(set) > maxReq {
		return false
	}
	for _, l := range set {
		if l.s == "" {
			return false
		}
		for i := 0; i < len(l.s); i++ {
			if l.s[i] == '\n' {
				return false
			}
		}
	}
	return true
}

// score ranks a required set: longer shortest member first, fewer
// members and no case folding next. Unusable sets score lowest.
func score(set []lit) int {
	if !usable(set) {
		return -1 << 30
	}
	min := 1 << 30
	fold := 0
	for _, l := range set {
		if len(l.s) < min {
			min = len(l.s)
		}
		if l.fold {
			fold = 1
		}
	}
	if min > 8 {
		min = 8
	}
	return min*16 - len(set)*2 - fold
}

func better(a, b []lit) bool { return score(a) > score(b) }

func analyze(re *syntax.Regexp) litInfo {
	switch re.Op {
	case syntax.OpLiteral:
		return literalInfo(re.Rune, re.Flags&syntax.FoldCase != 0)
	case syntax.OpCharClass:
		return classInfo(re.Rune)
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return litInfo{exact: []lit{{}}, exactOK: true}
	case syntax.OpCapture:
		return analyze(re.Sub[0])
	case syntax.OpPlus:
		return litInfo{req: reqOf(analyze(re.Sub[0]))}
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return litInfo{req: reqOf(analyze(re.Sub[0]))}
		}
		return litInfo{}
	case syntax.OpConcat:
		return concatInfo(re.Sub)
	case syntax.OpAlternate:
		return alternateInfo(re.Sub)
	}
	// Star, Quest, AnyChar, AnyCharNotNL, NoMatch: nothing required.
	return litInfo{}
}

// reqOf returns the best required set of an info (its exact set counts).
func reqOf(in litInfo) []lit {
	best := in.req
	if in.exactOK && better(in.exact, best) {
		best = in.exact
	}
	if !usable(best) {
		return nil
	}
	return best
}

// foldSafe reports whether ASCII case folding describes (?i) matching of
// r exactly: k and s also fold to non-ASCII runes (U+212A, U+017F).
func foldSafe(r rune) bool {
	if r >= utf8.RuneSelf {
		return false
	}
	switch r {
	case 'k', 'K', 's', 'S':
		return false
	}
	return true
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func literalInfo(runes []rune, fold bool) litInfo {
	for _, r := range runes {
		if r == utf8.RuneError {
			// U+FFFD also matches every invalid byte: its UTF-8 bytes
			// are not required.
			return litInfo{}
		}
	}
	if !fold {
		s := string(runes)
		if len(s) > maxLitSize {
			return litInfo{req: []lit{{s: s[:maxLitSize]}}}
		}
		return litInfo{exact: []lit{{s: s}}, exactOK: true}
	}
	hasLetter := false
	for _, r := range runes {
		if !foldSafe(r) {
			// The longest run of safe runes is still required.
			return litInfo{req: longestFoldRun(runes)}
		}
		if ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') {
			hasLetter = true
		}
	}
	b := make([]byte, len(runes))
	for i, r := range runes {
		b[i] = lower(byte(r))
	}
	s := string(b)
	if len(s) > maxLitSize {
		return litInfo{req: []lit{{s: s[:maxLitSize], fold: hasLetter}}}
	}
	return litInfo{exact: []lit{{s: s, fold: hasLetter}}, exactOK: true}
}

func longestFoldRun(runes []rune) []lit {
	bestStart, bestLen := 0, 0
	for i := 0; i < len(runes); {
		if !foldSafe(runes[i]) {
			i++
			continue
		}
		j := i
		for j < len(runes) && foldSafe(runes[j]) {
			j++
		}
		if j-i > bestLen {
			bestStart, bestLen = i, j-i
		}
		i = j
	}
	if bestLen == 0 {
		return nil
	}
	if bestLen > maxLitSize {
		bestLen = maxLitSize
	}
	b := make([]byte, bestLen)
	for i := range b {
		b[i] = lower(byte(runes[bestStart+i]))
	}
	return []lit{{s: string(b), fold: true}}
}

// classInfo turns a small class into single-rune literals; [Xx] of a
// fold-safe ASCII letter becomes one case-folded literal.
func classInfo(ranges []rune) litInfo {
	n := 0
	for i := 0; i+1 < len(ranges); i += 2 {
		n += int(ranges[i+1]-ranges[i]) + 1
		if n > maxClass {
			return litInfo{}
		}
	}
	var runes []rune
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := ranges[i]; r <= ranges[i+1]; r++ {
			if r == utf8.RuneError {
				return litInfo{} // see literalInfo
			}
			runes = append(runes, r)
		}
	}
	if len(runes) == 2 && runes[0] >= 'A' && runes[0] <= 'Z' && runes[1] == runes[0]+'a'-'A' && foldSafe(runes[0]) {
		return litInfo{exact: []lit{{s: string(runes[1]), fold: true}}, exactOK: true}
	}
	if len(runes) == 0 {
		return litInfo{}
	}
	set := make([]lit, len(runes))
	for i, r := range runes {
		set[i] = lit{s: string(r)}
	}
	return litInfo{exact: set, exactOK: true}
}

// cross concatenates every member of a with every member of b; ok is
// false when the result would be too large or mixes folding.
func cross(a, b []lit) ([]lit, bool) {
	if len(a)*len(b) > maxExact {
		return nil, false
	}
	out := make([]lit, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			fold := x.fold || y.fold
			if (x.fold && !y.fold && hasASCIILetter(y.s)) || (y.fold && !x.fold && hasASCIILetter(x.s)) {
				return nil, false
			}
			s := x.s + y.s
			if fold {
				// A case-sensitive part without letters folds harmlessly,
				// but its non-ASCII bytes would not: keep it ASCII.
				for i := 0; i < len(s); i++ {
					if s[i] >= utf8.RuneSelf {
						return nil, false
					}
				}
			}
			if len(s) > maxLitSize {
				return nil, false
			}
			out = append(out, lit{s: s, fold: fold})
		}
	}
	return out, true
}

func hasASCIILetter(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
			return true
		}
	}
	return false
}

func concatInfo(subs []*syntax.Regexp) litInfo {
	var best []lit
	consider := func(set []lit) {
		if better(set, best) {
			best = set
		}
	}
	cur := []lit{{}} // product of the current run of exact subs
	allExact := true
	for _, sub := range subs {
		in := analyze(sub)
		if in.exactOK {
			if next, ok := cross(cur, in.exact); ok {
				cur = next
				continue
			}
			allExact = false
			consider(cur)
			cur = in.exact
			continue
		}
		allExact = false
		consider(cur)
		consider(in.req)
		cur = []lit{{}}
	}
	consider(cur)
	if allExact {
		return litInfo{exact: cur, exactOK: true, req: best}
	}
	return litInfo{req: best}
}

func alternateInfo(subs []*syntax.Regexp) litInfo {
	var exact, req []lit
	exactOK, reqOK := true, true
	for _, sub := range subs {
		in := analyze(sub)
		if exactOK {
			if in.exactOK && len(exact)+len(in.exact) <= maxExact {
				exact = append(exact, in.exact...)
			} else {
				exactOK = false
			}
		}
		if reqOK {
			r := reqOf(in)
			if r == nil || len(req)+len(r) > maxReq {
				reqOK = false
			} else {
				req = append(req, r...)
			}
		}
	}
	out := litInfo{exact: exact, exactOK: exactOK}
	if reqOK {
		out.req = dedup(req)
	}
	if !exactOK {
		out.exact = nil
	}
	return out
}

func dedup(set []lit) []lit {
	seen := map[lit]bool{}
	out := set[:0:0]
	for _, l := range set {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}
