package protocol

import (
	"fmt"
	"strings"
)

// RegexFlag selects how the server applies a serialized regex.
type RegexFlag int

const (
	RegexDefault RegexFlag = iota // keep matching lines
	RegexInvert                   // keep non-matching lines
	RegexNoop                     // keep every line; the pattern is ignored
)

func (f RegexFlag) String() string {
	switch f {
	case RegexDefault:
		return "default"
	case RegexInvert:
		return "invert"
	case RegexNoop:
		return "noop"
	}
	return fmt.Sprintf("RegexFlag(%d)", int(f))
}

const (
	regexPrefix = "regex:"
	literalHint = "literal"

	// regexMeta are the characters whose absence lets the server use a
	// substring search instead of RE2.
	regexMeta = `.+*?^$[]{}()|\`
)

// NoopRegex is what clients send for an empty or match-all pattern; the
// trailing blank (an empty pattern field) is part of the wire format.
const NoopRegex = "regex:noop "

// Regex is a parsed serialized regex.
type Regex struct {
	Flag    RegexFlag
	Literal bool // Pattern contains no metacharacter: substring search suffices
	Pattern string
}

// SerializeRegex builds the client's "regex:FLAG[,literal] PATTERN" token.
// "", "." and ".*" become NoopRegex whatever invert says, as the reference
// client does.
func SerializeRegex(pattern string, invert bool) string {
	switch pattern {
	case "", ".", ".*":
		return NoopRegex
	}
	r := Regex{Flag: RegexDefault, Pattern: pattern, Literal: !strings.ContainsAny(pattern, regexMeta)}
	if invert {
		r.Flag = RegexInvert
	}
	return r.String()
}

// String returns the serialized form; ParseRegex(r.String()) == r for any r
// with a valid Flag.
func (r Regex) String() string {
	var b strings.Builder
	b.Grow(len(regexPrefix) + len(",literal ") + 8 + len(r.Pattern))
	b.WriteString(regexPrefix)
	b.WriteString(r.Flag.String())
	if r.Literal {
		b.WriteString("," + literalHint)
	}
	b.WriteByte(' ')
	b.WriteString(r.Pattern)
	return b.String()
}

// ParseRegex parses "regex:FLAG[,literal] PATTERN" (the re-joined REGEX
// arguments of a read command). The pattern is everything after the first
// blank and may itself contain blanks.
func ParseRegex(serialized string) (Regex, error) {
	head, pattern, _ := strings.Cut(serialized, " ")
	flags, ok := strings.CutPrefix(head, regexPrefix)
	if !ok {
		return Regex{}, fmt.Errorf("protocol: regex %q does not start with %q", head, regexPrefix)
	}
	r := Regex{Pattern: pattern}
	flag, hints, hasHints := strings.Cut(flags, ",")
	switch flag {
	case "default":
		r.Flag = RegexDefault
	case "invert":
		r.Flag = RegexInvert
	case "noop":
		r.Flag = RegexNoop
	default:
		return Regex{}, fmt.Errorf("protocol: unknown regex flag %q", flag)
	}
	if hasHints {
		for hint := range strings.SplitSeq(hints, ",") {
			if hint != literalHint {
				return Regex{}, fmt.Errorf("protocol: unknown regex flag %q", hint)
			}
			r.Literal = true
		}
	}
	return r, nil
}
