package query

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pos is a byte offset into the query text.
type Pos int

// MaxTokens bounds the number of tokens of one query. Queries arrive from
// the network on dserver; real queries have a few dozen tokens.
const MaxTokens = 4096

// MaxDepth bounds the nesting of set functions such as
// maskdigits(md5sum($line)); there are only two functions, so real queries
// nest at most a handful deep.
const MaxDepth = 32

// itemType identifies the kind of a token. Keywords sit after itemKeyword so
// that one comparison tells clause starts from arguments.
type itemType int

const (
	itemBareword itemType = iota // plain word, may be a field or constant
	itemBacktick                 // `word`: backticks removed, never a keyword
	itemString                   // "text": verbatim, may contain blanks
	itemKeyword                  // marker only: keywords follow
	itemSelect
	itemFrom
	itemWhere
	itemSet
	itemGroup
	itemOrder
	itemROrder
	itemInterval
	itemLimit
	itemOutfile
	itemLogformat
)

// keywords maps the lower-cased bareword to its keyword token (spec §6.1.3).
var keywords = map[string]itemType{
	"select":    itemSelect,
	"from":      itemFrom,
	"where":     itemWhere,
	"set":       itemSet,
	"group":     itemGroup,
	"order":     itemOrder,
	"rorder":    itemROrder,
	"interval":  itemInterval,
	"limit":     itemLimit,
	"outfile":   itemOutfile,
	"logformat": itemLogformat,
}

// item is one token with the byte offset where it starts in the input.
type item struct {
	typ itemType
	pos Pos
	val string // text without quotes or backticks
}

func (i item) keyword() bool { return i.typ > itemKeyword }

// word converts an argument token to the Word the tree stores.
func (i item) word() Word {
	k := Bareword
	switch i.typ {
	case itemBacktick:
		k = Backtick
	case itemString:
		k = String
	}
	return Word{Pos: i.pos, Kind: k, Text: i.val}
}

// lexer holds the state of the scan. The reference tokenizer (split at '"',
// then blanks and commas) is expressed as states so that every token keeps
// its position.
type lexer struct {
	input string
	pos   int // current position
	items []item
	err   *Error
}

// stateFn scans one construct and returns the next state; nil ends the scan.
type stateFn func(*lexer) stateFn

// lex scans the whole input. Tokens are collected into a slice because the
// parser needs to see where each clause ends (the next keyword).
func lex(input string) ([]item, *Error) {
	l := &lexer{input: input}
	for state := stateFn(lexText); state != nil; {
		state = state(l)
	}
	return l.items, l.err
}

// emit appends a token, enforcing MaxTokens.
func (l *lexer) emit(t itemType, pos int, val string) stateFn {
	if len(l.items) >= MaxTokens {
		return l.errorf(pos, "Invalid query: too many tokens (limit "+strconv.Itoa(MaxTokens)+")")
	}
	l.items = append(l.items, item{typ: t, pos: Pos(pos), val: val})
	return lexText
}

// errorf records an error and stops the scan.
func (l *lexer) errorf(pos int, msg string) stateFn {
	l.err = newError(l.input, Pos(pos), false, msg)
	return nil
}

// isSep reports whether r separates barewords: blanks (as strings.Fields
// sees them) and commas, which the reference replaces by blanks.
func isSep(r rune) bool { return r == ',' || unicode.IsSpace(r) }

// lexText skips separators and dispatches on the next token's first rune.
func lexText(l *lexer) stateFn {
	for l.pos < len(l.input) {
		r, w := utf8.DecodeRuneInString(l.input[l.pos:])
		switch {
		case r == '"':
			return lexQuoted
		case isSep(r):
			l.pos += w
		default:
			return lexBareword
		}
	}
	return nil
}

// lexQuoted scans a double-quoted string. There are no escapes; an
// unterminated quote runs to the end of the input, as splitting at '"' does.
func lexQuoted(l *lexer) stateFn {
	start := l.pos
	l.pos++ // opening quote
	end := strings.IndexByte(l.input[l.pos:], '"')
	var val string
	if end < 0 {
		val = l.input[l.pos:]
		l.pos = len(l.input)
	} else {
		val = l.input[l.pos : l.pos+end]
		l.pos += end + 1
	}
	return l.emit(itemString, start, val)
}

// lexBareword scans up to the next separator or quote and classifies the
// word as backtick word, keyword or bareword.
func lexBareword(l *lexer) stateFn {
	start := l.pos
	for l.pos < len(l.input) {
		r, w := utf8.DecodeRuneInString(l.input[l.pos:])
		if r == '"' || isSep(r) {
			break
		}
		l.pos += w
	}
	val := l.input[start:l.pos]
	if isBacktickWrapped(val) {
		return l.emit(itemBacktick, start, val[1:len(val)-1])
	}
	if t, ok := keywords[strings.ToLower(val)]; ok {
		return l.emit(t, start, val)
	}
	return l.emit(itemBareword, start, val)
}

func isBacktickWrapped(s string) bool {
	return len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`'
}
