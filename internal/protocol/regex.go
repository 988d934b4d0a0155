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
	if SelectsAll(pattern) {
		return NoopRegex
	}
	r := Regex{Flag: RegexDefault, Pattern: pattern, Literal: !strings.ContainsAny(pattern, regexMeta)}
	if invert {
		r.Flag = RegexInvert
	}
	return r.String()
}

// SelectsAll is the one match-all rule (spec 3.4): the patterns "", "."
// and ".*" select every line whatever invert says; they travel as
// NoopRegex and a serverless read matches nothing at all.
func SelectsAll(pattern string) bool {
	switch pattern {
	case "", ".", ".*":
		return true
	}
	return false
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
//
// It accepts what the reference server accepts, which is more than clients
// send: any text starting with "regex" (so "regex PATTERN", without flags, is
// a default regex), flags in any order where the first of
// default/invert/noop wins and "literal" may appear anywhere. Error texts are
// the reference's; its server reports them as
// "Unable to parse command|" + err.
func ParseRegex(serialized string) (Regex, error) {
	if !strings.HasPrefix(serialized, "regex") {
		return Regex{}, fmt.Errorf("unable to deserialize regex '%s': should start with string 'regex'", serialized)
	}
	head, pattern, _ := strings.Cut(serialized, " ")
	r := Regex{Flag: RegexDefault, Pattern: pattern}
	_, flags, hasFlags := strings.Cut(head, ":")
	if !hasFlags {
		return r, nil
	}
	flagSet := false
	for name := range strings.SplitSeq(flags, ",") {
		var flag RegexFlag
		switch name {
		case literalHint:
			r.Literal = true
			continue
		case "default":
			flag = RegexDefault
		case "invert":
			flag = RegexInvert
		case "noop":
			flag = RegexNoop
		default:
			return Regex{}, fmt.Errorf("unknown regex flag %q: unknown regex flag '%s', setting to 'undefined'", name, name)
		}
		if !flagSet {
			r.Flag, flagSet = flag, true
		}
	}
	return r, nil
}
