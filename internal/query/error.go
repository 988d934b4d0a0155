package query

import (
	"strconv"
	"strings"
)

// wrapPrefix is the text the reference puts in front of every error found
// while consuming clauses (spec §6.1). Scripts and tests match on it.
const wrapPrefix = "failed to parse query tokens: "

// NoPos marks an error that has no place in the query text (the post-checks
// of spec §6.1 such as the missing select clause).
const NoPos Pos = -1

// Error is a query syntax error. Users see it as
//
//	query:1:24: expected table name after 'from'
//
// (position first, like a compiler, then the problem and, for a likely
// typo, "; did you mean 'select'?"). Reference keeps exactly the DTail
// 4.x message for the wire, where byte equality matters.
type Error struct {
	// Msg is the reference message without the wrapping prefix, e.g.
	// "Invalid query: Unknown aggregation in 'select' clause: cnt".
	Msg string
	// Wrapped reports whether the reference wraps Msg in
	// "failed to parse query tokens: " (errors found inside a clause).
	Wrapped bool
	// Pos is the byte offset of the offending token, or NoPos.
	Pos Pos
	// Line and Col are the 1-based line and byte column of Pos (0 if NoPos).
	Line, Col int
	// Detail, if set, replaces Msg in the text users see (the reference's
	// own text for it says nothing, e.g. "Invalid query: Invalid query: ").
	Detail string
	// Hint is the likely intended word, already quoted as it should be
	// written ('select', "GET"), or "".
	Hint string
	// Warning marks a finding of Check that does not stop the query
	// (unless the user asks for --strict).
	Warning bool
}

// Error returns "query:LINE:COL: problem[; did you mean HINT?]", or
// "query: problem" when the error has no place in the text.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("query:")
	if e.Pos != NoPos {
		b.WriteString(strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ":")
	}
	b.WriteByte(' ')
	if e.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(e.Text())
	if e.Hint != "" {
		b.WriteString("; did you mean " + e.Hint + "?")
	}
	return b.String()
}

// Text is the problem without position and hint: Detail, or Msg without
// the reference's "Invalid query: " prefix, which says nothing once the
// text starts with "query:".
func (e *Error) Text() string {
	if e.Detail != "" {
		return e.Detail
	}
	return strings.TrimPrefix(e.Msg, "Invalid query: ")
}

// Reference returns exactly the text the reference implementation reports,
// without position. The wire (SERVER messages) can use it where byte
// equality with DTail 4.x matters.
func (e *Error) Reference() string {
	if e.Wrapped {
		return wrapPrefix + e.Msg
	}
	return e.Msg
}

// hint sets the suggestion for word among candidates, quoted with q.
func (e *Error) hint(word string, candidates []string) *Error {
	if c := Closest(word, candidates); c != "" {
		e.Hint = "'" + show(c) + "'"
	}
	return e
}

// newError builds an Error and resolves pos to line and column in input.
func newError(input string, pos Pos, wrapped bool, msg string) *Error {
	e := &Error{Msg: msg, Wrapped: wrapped, Pos: pos}
	if pos != NoPos {
		if int(pos) > len(input) {
			pos = Pos(len(input))
		}
		before := input[:pos]
		e.Line = 1 + strings.Count(before, "\n")
		e.Col = 1 + len(before) - (strings.LastIndexByte(before, '\n') + 1)
	}
	return e
}

// Show is show for other packages: text from a query, safe to put in a
// one-line message.
func Show(s string) string { return show(s) }

// show makes token text safe to embed in a one-line error message. Quoted
// tokens may contain newlines and control characters; those are escaped so
// that an error never spans lines. Ordinary text stays verbatim, as in the
// reference messages.
func show(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == 0x85 {
			q := strconv.Quote(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}
