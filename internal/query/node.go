package query

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// WordKind tells how a token was written; it changes its meaning (spec §6.1,
// §6.4, §6.5), so the tree keeps it.
type WordKind uint8

const (
	// Bareword is a plain token: a field name, a number or an aggregation.
	Bareword WordKind = iota
	// Backtick is a `token`: always the literal field of that name.
	Backtick
	// String is a "double-quoted" token: a literal string in where, a
	// value (or field, if one has that name) in set.
	String
)

// Word is one argument token.
type Word struct {
	Pos  Pos
	Kind WordKind
	Text string // without quotes or backticks
}

// String prints the word as it must be written to mean the same thing.
func (w Word) String() string {
	switch w.Kind {
	case Backtick:
		return "`" + w.Text + "`"
	case String:
		return `"` + w.Text + `"`
	}
	return w.Text
}

// Agg is the aggregation of a select entry (spec §6.6).
type Agg uint8

const (
	// AggNone is a plain field: last-value semantics, shown raw.
	AggNone Agg = iota
	AggCount
	AggSum
	AggMin
	AggMax
	AggLast
	AggAvg
	AggLen
	AggPercentage
	AggPercentile
	// AggQuantile is beyond DTail 4.x: p50(f), p90(f), p95(f), p99(f) and
	// quantile(f;q), estimated with a mergeable sketch; Select.Quantile
	// holds q.
	AggQuantile
)

// aggNames is indexed by Agg; the reference names are case-sensitive.
var aggNames = [...]string{
	AggNone: "", AggCount: "count", AggSum: "sum", AggMin: "min", AggMax: "max",
	AggLast: "last", AggAvg: "avg", AggLen: "len", AggPercentage: "percentage",
	AggPercentile: "percentile", AggQuantile: "quantile",
}

// quantileNames are the fixed-quantile spellings of AggQuantile.
var quantileNames = map[string]float64{"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}

// QuantileSep separates the field from the quantile in quantile(f;q). The
// tokenizer turns commas into blanks and CSV headers are not quoted, so
// the 2-argument form cannot use a comma; ';' keeps the storage name (the
// CSV header) one comma-free column. The quantile is taken after the last
// ';', so a field name may itself contain one.
const QuantileSep = ";"

// aggByName is the inverse of aggNames without AggNone.
var aggByName = map[string]Agg{
	"count": AggCount, "sum": AggSum, "min": AggMin, "max": AggMax,
	"last": AggLast, "avg": AggAvg, "len": AggLen,
	"percentage": AggPercentage, "percentile": AggPercentile,
}

// String returns the aggregation's name as written in queries ("" for
// AggNone).
func (a Agg) String() string {
	if int(a) < len(aggNames) {
		return aggNames[a]
	}
	return "Agg(" + strconv.Itoa(int(a)) + ")"
}

// Select is one entry of the select clause.
type Select struct {
	Pos Pos
	// Agg is the aggregation, AggNone for a plain field.
	Agg Agg
	// Field is the field the entry reads, e.g. "$line" for count($line).
	Field string
	// Storage is the entry's name in AGGREGATE messages, table and CSV
	// headers: the token exactly as written, e.g. "avg($goroutines)".
	Storage string
	// Kind is how a plain field was written (backticks keep a name such
	// as `count($x)` from being read as an aggregation).
	Kind WordKind
	// Quantile is q in [0,1] for AggQuantile (p99 → 0.99).
	Quantile float64
}

// Op returns the aggregation to perform: a plain field behaves as last.
func (s *Select) Op() Agg {
	if s.Agg == AggNone {
		return AggLast
	}
	return s.Agg
}

// String prints the entry as written.
func (s *Select) String() string {
	if s.Agg != AggNone {
		return s.Storage
	}
	return Word{Kind: s.Kind, Text: s.Field}.String()
}

// CondOp is a where operator (spec §6.4).
type CondOp uint8

const (
	OpEq         CondOp = iota // ==
	OpNe                       // !=
	OpLt                       // <
	OpLe                       // <= (also =<)
	OpGt                       // >
	OpGe                       // >= (also =>)
	OpStrEq                    // eq
	OpStrNe                    // ne
	OpContains                 // contains
	OpNContains                // ncontains (also lacks)
	OpHasPrefix                // hasprefix
	OpNHasPrefix               // nhasprefix
	OpHasSuffix                // hassuffix
	OpNHasSuffix               // nhassuffix
)

// condOpNames is indexed by CondOp and gives the canonical spelling.
var condOpNames = [...]string{
	OpEq: "==", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=",
	OpStrEq: "eq", OpStrNe: "ne", OpContains: "contains", OpNContains: "ncontains",
	OpHasPrefix: "hasprefix", OpNHasPrefix: "nhasprefix",
	OpHasSuffix: "hassuffix", OpNHasSuffix: "nhassuffix",
}

// numericOps are matched exactly; they are symbols.
var numericOps = map[string]CondOp{
	"==": OpEq, "!=": OpNe, "<": OpLt, "<=": OpLe, "=<": OpLe,
	">": OpGt, ">=": OpGe, "=>": OpGe,
}

// stringOps are matched after lower-casing (the reference names are
// case-insensitive).
var stringOps = map[string]CondOp{
	"eq": OpStrEq, "ne": OpStrNe, "contains": OpContains,
	"ncontains": OpNContains, "lacks": OpNContains,
	"hasprefix": OpHasPrefix, "nhasprefix": OpNHasPrefix,
	"hassuffix": OpHasSuffix, "nhassuffix": OpNHasSuffix,
}

// String returns the canonical spelling of the operator.
func (o CondOp) String() string {
	if int(o) < len(condOpNames) {
		return condOpNames[o]
	}
	return "CondOp(" + strconv.Itoa(int(o)) + ")"
}

// Numeric reports whether the operator compares floats.
func (o CondOp) Numeric() bool { return o <= OpGe }

// Operand is one side of a where condition.
type Operand struct {
	Word
	// isConst is set for numeric operands that are float constants; num
	// holds the value, parsed once at parse time rather than per line.
	isConst bool
	num     float64
}

// Cond is one where condition: Left Op Right.
type Cond struct {
	Pos         Pos
	Op          CondOp
	Left, Right Operand
}

// String prints the condition canonically.
func (c *Cond) String() string {
	return c.Left.String() + " " + c.Op.String() + " " + c.Right.String()
}

// Func is a set function (spec §6.5).
type Func uint8

const (
	FuncMD5Sum     Func = iota // lower-case hex MD5
	FuncMaskDigits             // ASCII digits replaced by '.'
)

var funcNames = [...]string{FuncMD5Sum: "md5sum", FuncMaskDigits: "maskdigits"}

var funcByName = map[string]Func{"md5sum": FuncMD5Sum, "maskdigits": FuncMaskDigits}

// String returns the function's name.
func (f Func) String() string {
	if int(f) < len(funcNames) {
		return funcNames[f]
	}
	return "Func(" + strconv.Itoa(int(f)) + ")"
}

// Assign is one set assignment: Name = Funcs[0](Funcs[1](…(Arg))).
type Assign struct {
	Pos Pos
	// Name is the assigned variable including its "$".
	Name string
	// Funcs are outermost first; they are applied innermost first.
	Funcs []Func
	// Arg is the innermost argument (or the whole right-hand side).
	Arg Word
}

// String prints the assignment canonically.
func (a *Assign) String() string {
	var b strings.Builder
	b.WriteString(a.Name)
	b.WriteString(" = ")
	for _, f := range a.Funcs {
		b.WriteString(f.String())
		b.WriteByte('(')
	}
	b.WriteString(a.Arg.String())
	for range a.Funcs {
		b.WriteByte(')')
	}
	return b.String()
}

// Order is the order or rorder clause.
type Order struct {
	Pos Pos
	// Field is the storage name of the select entry to sort by.
	Field string
	// Reverse is set for rorder. "order by" sorts descending (largest
	// first), "rorder by" ascending (spec §6.2, §10.9).
	Reverse bool
}

// Descending reports whether rows sort largest first.
func (o *Order) Descending() bool { return !o.Reverse }

// String prints the clause canonically.
func (o *Order) String() string {
	kw := "order"
	if o.Reverse {
		kw = "rorder"
	}
	return kw + " by " + name(o.Field)
}

// DefaultInterval is the report interval when the query has none.
const DefaultInterval = 5

// Query is a parsed query. The zero value is not useful; use Parse.
type Query struct {
	Selects []*Select
	// Table is the from clause's table, upper-cased; HasFrom tells an
	// absent clause from an empty table.
	Table   string
	HasFrom bool
	Where   []*Cond
	Set     []*Assign
	// GroupBy holds the explicit group by fields; nil means the default
	// (see GroupFields).
	GroupBy []string
	Order   *Order
	// Interval is the report interval in seconds as written (default 5);
	// see IntervalDuration for the effective value.
	Interval int
	// Limit is the maximum number of rows, or negative for none.
	Limit int
	// Outfile is the CSV output path ("" for none) and Append the
	// "outfile append PATH" form.
	Outfile string
	Append  bool
	// LogFormat is the logformat clause ("" if absent).
	LogFormat string
	// LogFormatPos and GroupByPos are where the logformat name and the
	// group by fields are written, for diagnostics (Check).
	LogFormatPos Pos
	GroupByPos   []Pos
}

// String prints the canonical form of the query: clauses in grammar order,
// separated by single blanks, defaults left out.
func (q *Query) String() string {
	var b strings.Builder
	b.WriteString("select")
	for i, s := range q.Selects {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(' ')
		b.WriteString(s.String())
	}
	if q.HasFrom {
		// name, not the original kind: upper-casing can turn an odd
		// bareword into a keyword ("ſelect" -> "SELECT").
		b.WriteString(" from ")
		b.WriteString(name(q.Table))
	}
	if len(q.Where) > 0 {
		b.WriteString(" where")
		for i, c := range q.Where {
			if i > 0 {
				// "and" must be printed: without it a left operand
				// spelled "and" would be taken as the connective.
				b.WriteString(" and")
			}
			b.WriteByte(' ')
			b.WriteString(c.String())
		}
	}
	if len(q.Set) > 0 {
		b.WriteString(" set")
		for i, a := range q.Set {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte(' ')
			b.WriteString(a.String())
		}
	}
	if q.GroupBy != nil {
		b.WriteString(" group by")
		for i, f := range q.GroupBy {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte(' ')
			b.WriteString(name(f))
		}
	}
	if q.Order != nil {
		b.WriteByte(' ')
		b.WriteString(q.Order.String())
	}
	if q.Interval != DefaultInterval {
		b.WriteString(" interval ")
		b.WriteString(strconv.Itoa(q.Interval))
	}
	if q.Limit >= 0 {
		b.WriteString(" limit ")
		b.WriteString(strconv.Itoa(q.Limit))
	}
	if q.Outfile != "" {
		b.WriteString(" outfile ")
		if q.Append {
			b.WriteString("append ")
		}
		b.WriteString(name(q.Outfile))
	}
	if q.LogFormat != "" {
		b.WriteString(" logformat ")
		b.WriteString(name(q.LogFormat))
	}
	return b.String()
}

// name prints a name whose kind does not matter (table, group and order
// fields, paths, format) so that it lexes back as one token with the same
// text: raw if it is an ordinary bareword, else double-quoted. Token text
// never contains '"' (the tokenizer splits there), so quoting always works.
func name(s string) string {
	if s == "" || isBacktickWrapped(s) {
		return `"` + s + `"`
	}
	if _, kw := keywords[strings.ToLower(s)]; kw {
		return `"` + s + `"`
	}
	for _, r := range s {
		if r == '"' || isSep(r) || r == utf8.RuneError {
			return `"` + s + `"`
		}
	}
	return s
}
