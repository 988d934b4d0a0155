// Package query parses DTail's mapreduce query language (spec §6) into a
// typed syntax tree and evaluates the parts of it that run per log line
// (where conditions, set assignments, group keys).
//
// The language is deliberately quirky and this package keeps the quirks,
// because queries travel between DTail 4.x clients and servers and both
// sides must agree on what they mean:
//
//   - clauses come in any order and a repeated clause replaces the earlier one;
//   - "order by" sorts descending and "rorder by" ascending; trailing words
//     such as "desc" are ignored;
//   - "as" is not an alias, it is just another selected field;
//   - a bareword on either side of a string where operator is a field
//     reference, only a double-quoted token is a literal;
//   - "outfile append:PATH" names a file literally called "append:PATH".
//
// Parsing is split like text/template/parse: a state-function lexer turns
// the text into tokens with byte positions, and a recursive-descent parser
// with one method per production of §6.2 builds the tree. Every node prints
// itself back as canonical query text, so Parse(q.String()) round-trips.
//
// Where spec §6 is silent this package chooses, and documents at the
// method concerned: "from", "group by", "order by", "limit", "outfile"
// and "logformat" without a value are errors, as in DTail 4.3.2, while
// "interval", "where" and "set" without one keep their defaults, as
// there; "from" with more than one table, bad interval or
// limit numbers, bad set assignments and quoted operands of numeric where
// operators are errors in the reference's "Invalid query: ..." style; an
// unknown leading token is wrapped like other clause errors; backtick words
// in where and set name fields, never constants.
//
// Errors read "query:LINE:COL: problem; did you mean 'word'?" (Closest
// finds the word: a small edit distance); Error.Reference keeps DTail
// 4.x's text for the wire.
//
// Queries arrive from the network on dserver, so the parser bounds the
// number of tokens (MaxTokens) and the nesting of set functions (MaxDepth).
//
// The package is a leaf: it imports only the standard library and holds no
// mutable package state, so clients and servers can share it freely.
package query
