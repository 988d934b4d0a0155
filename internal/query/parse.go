package query

import (
	"strconv"
	"strings"
)

// parser turns the token slice into a Query. Each method handles one
// production of spec §6.2; its grammar is in the comment above it.
type parser struct {
	input string
	items []item
	q     *Query
}

// Parse parses a query. The returned error, if any, is an *Error whose
// text starts with the reference implementation's message.
func Parse(input string) (*Query, error) {
	items, lerr := lex(input)
	if lerr != nil {
		return nil, lerr
	}
	p := &parser{input: input, items: items, q: &Query{Interval: DefaultInterval, Limit: -1}}
	if err := p.query(); err != nil {
		return nil, err
	}
	return p.q, nil
}

// errorf reports an error found while consuming a clause; the reference
// wraps those in "failed to parse query tokens: ".
func (p *parser) errorf(pos Pos, msg string) *Error {
	return newError(p.input, pos, true, msg)
}

// query := clause+
//
// Each keyword consumes the tokens up to the next keyword; a repeated
// clause replaces the earlier one. The post-checks run after all clauses and
// are not wrapped (spec §6.1.5).
func (p *parser) query() *Error {
	for i := 0; i < len(p.items); {
		kw := p.items[i]
		if !kw.keyword() {
			return p.errorf(kw.pos, "Invalid query: Unexpected keyword "+show(kw.val)).hint(kw.val, keywordNames)
		}
		j := i + 1
		for j < len(p.items) && !p.items[j].keyword() {
			j++
		}
		if err := p.clause(kw, p.items[i+1:j]); err != nil {
			return err
		}
		i = j
	}
	return p.check()
}

// clause dispatches one keyword and its arguments.
func (p *parser) clause(kw item, args []item) *Error {
	switch kw.typ {
	case itemSelect:
		return p.selectClause(args)
	case itemFrom:
		return p.fromClause(kw, args)
	case itemWhere:
		return p.whereClause(args)
	case itemSet:
		return p.setClause(args)
	case itemGroup:
		return p.groupClause(kw, args)
	case itemOrder, itemROrder:
		return p.orderClause(kw, args, kw.typ == itemROrder)
	case itemInterval:
		return p.intervalClause(args)
	case itemLimit:
		return p.limitClause(kw, args)
	case itemOutfile:
		return p.outfileClause(kw, args)
	case itemLogformat:
		return p.logformatClause(kw, args)
	}
	return nil
}

// missing reports a clause whose value is missing: the query ends, or the
// next keyword follows, right after last (the keyword, or its "by"). The
// position is last's final byte, the place after which something is
// expected. DTail 4.3.2 refuses these queries too (with "Unexpected end
// of query"), except a missing table, which it names the same way.
func (p *parser) missing(kw, last item, ref, what string) *Error {
	pos := last.pos + Pos(len(last.val)) - 1
	e := newError(p.input, pos, true, ref)
	label := strings.ToLower(show(kw.val))
	if last != kw {
		label += " by"
	}
	e.Detail = "expected " + what + " after '" + label + "'"
	return e
}

// check runs the reference's post-checks: at least one select and an order
// field that names a select entry.
func (p *parser) check() *Error {
	q := p.q
	if len(q.Selects) == 0 {
		return newError(p.input, NoPos, false,
			"Invalid query: Expected at least one field in 'select' clause but got none")
	}
	if q.Order != nil {
		for _, s := range q.Selects {
			if s.Storage == q.Order.Field {
				return nil
			}
		}
		e := newError(p.input, q.Order.Pos, false,
			"Invalid query: Can not '(r)order by' '"+show(q.Order.Field)+"',must be present in 'select' clause")
		for _, s := range q.Selects {
			if s.Field == q.Order.Field { // order by $line for count($line)
				e.Hint = "'" + show(s.Storage) + "'"
				return e
			}
		}
		return e.hint(q.Order.Field, q.Storages())
	}
	return nil
}

// selectClause: "select" sel ( sel )*
func (p *parser) selectClause(args []item) *Error {
	sels := make([]*Select, 0, len(args))
	for _, a := range args {
		s, err := p.sel(a)
		if err != nil {
			return err
		}
		sels = append(sels, s)
	}
	p.q.Selects = sels
	return nil
}

// sel := FIELD | AGG "(" FIELD ")"
//
// Only barewords can be aggregations; a backtick or quoted token is always
// a plain field of that literal name.
func (p *parser) sel(a item) (*Select, *Error) {
	s := &Select{Pos: a.pos, Field: a.val, Storage: a.val, Kind: a.word().Kind}
	if a.typ != itemBareword || !strings.ContainsAny(a.val, "()") {
		return s, nil
	}
	open := strings.IndexByte(a.val, '(')
	if strings.HasPrefix(a.val, "quantile(") && !strings.HasSuffix(a.val, ")") {
		return nil, p.errorf(a.pos, "Can't parse 'select' aggregation: "+show(a.val)+
			" (write quantile(f;q): a comma separates tokens)")
	}
	if open <= 0 || !strings.HasSuffix(a.val, ")") || open+2 >= len(a.val) ||
		strings.Count(a.val, "(") != 1 || strings.Count(a.val, ")") != 1 {
		return nil, p.errorf(a.pos, "Can't parse 'select' aggregation: "+show(a.val))
	}
	name, arg := a.val[:open], a.val[open+1:len(a.val)-1]
	if q, ok := quantileNames[name]; ok {
		s.Agg, s.Field, s.Quantile = AggQuantile, arg, q
		return s, nil
	}
	if name == "quantile" {
		i := strings.LastIndex(arg, QuantileSep)
		if i <= 0 {
			return nil, p.errorf(a.pos, "Invalid query: 'quantile' needs a field and a quantile, e.g. quantile($x;0.99) (no comma: commas separate tokens): "+show(a.val))
		}
		q, err := strconv.ParseFloat(arg[i+len(QuantileSep):], 64)
		if err != nil || !(q >= 0 && q <= 1) {
			return nil, p.errorf(a.pos, "Invalid query: 'quantile' needs a quantile between 0 and 1, e.g. quantile($x;0.99): "+show(a.val))
		}
		s.Agg, s.Field, s.Quantile = AggQuantile, arg[:i], q
		return s, nil
	}
	agg, ok := aggByName[name]
	if !ok {
		return nil, p.errorf(a.pos, "Invalid query: Unknown aggregation in 'select' clause: "+show(name)).hint(name, aggregationNames)
	}
	s.Agg = agg
	s.Field = arg
	return s, nil
}

// fromClause: "from" TABLE
//
// A missing table is an error, as in DTail 4.3.2 (which says "Invalid
// query: expected table name after 'from'"); more than one token is
// rejected because the table selects the lines the server aggregates and a
// silently dropped word would change the result.
func (p *parser) fromClause(kw item, args []item) *Error {
	switch len(args) {
	case 0:
		e := p.missing(kw, kw, "Invalid query: expected table name after 'from'", "table name")
		e.Wrapped = false
		return e
	case 1:
		p.q.Table = strings.ToUpper(args[0].val)
		p.q.HasFrom = true
		return nil
	}
	return p.errorf(args[1].pos, "Invalid query: Expected exactly one table in 'from' clause but got "+strconv.Itoa(len(args)))
}

// whereClause: "where" cond ( ["and"] cond )*
func (p *parser) whereClause(args []item) *Error {
	var conds []*Cond
	for i := 0; i < len(args); {
		if len(conds) > 0 && args[i].typ == itemBareword && strings.EqualFold(args[i].val, "and") {
			i++
		}
		if len(args)-i < 3 {
			pos := Pos(len(p.input))
			if i < len(args) {
				pos = args[i].pos
			}
			return p.errorf(pos, "Not enough arguments in 'where' clause")
		}
		c, err := p.cond(args[i], args[i+1], args[i+2])
		if err != nil {
			return err
		}
		conds = append(conds, c)
		i += 3
	}
	p.q.Where = conds
	return nil
}

// cond := ARG OP ARG
func (p *parser) cond(l, op, r item) (*Cond, *Error) {
	c := &Cond{Pos: l.pos, Left: Operand{Word: l.word()}, Right: Operand{Word: r.word()}}
	if o, ok := numericOps[op.val]; ok {
		c.Op = o
		for _, side := range []*Operand{&c.Left, &c.Right} {
			if side.Kind == String {
				return nil, p.errorf(side.Pos, "Invalid query: Quoted string \""+show(side.Text)+
					"\" can not be used with numeric operation '"+op.val+"' in 'where' clause")
			}
			// A bareword that is a number is a constant; backticks
			// always name a field.
			if side.Kind == Bareword {
				if f, err := strconv.ParseFloat(side.Text, 64); err == nil {
					side.isConst, side.num = true, f
				}
			}
		}
		return c, nil
	}
	o, ok := stringOps[strings.ToLower(op.val)]
	if !ok {
		return nil, p.errorf(op.pos, "Invalid query: Unknown operation in 'where' clause: "+show(op.val)).hint(op.val, operationNames)
	}
	c.Op = o
	return c, nil
}

// setClause: "set" assign ( assign )*
func (p *parser) setClause(args []item) *Error {
	var assigns []*Assign
	for i := 0; i < len(args); i += 3 {
		if len(args)-i < 3 {
			return p.errorf(args[i].pos, "Invalid query: Not enough arguments in 'set' clause")
		}
		a, err := p.assign(args[i], args[i+1], args[i+2])
		if err != nil {
			return err
		}
		assigns = append(assigns, a)
	}
	p.q.Set = assigns
	return nil
}

// assign := "$"NAME "=" RVALUE
// RVALUE := FUNC "(" RVALUE ")" | ARG
func (p *parser) assign(lhs, op, rhs item) (*Assign, *Error) {
	if lhs.typ != itemBareword || len(lhs.val) < 2 || lhs.val[0] != '$' {
		return nil, p.errorf(lhs.pos, "Invalid query: Expected a $variable on the left side of 'set' assignment but got "+show(lhs.val))
	}
	if op.val != "=" {
		return nil, p.errorf(op.pos, "Invalid query: Unknown operation in 'set' clause: "+show(op.val))
	}
	a := &Assign{Pos: lhs.pos, Name: lhs.val, Arg: rhs.word()}
	if rhs.typ != itemBareword || !strings.ContainsAny(rhs.val, "()") {
		return a, nil
	}
	// Peel functions off from the outside in. A loop rather than
	// recursion, and MaxDepth, keep hostile nesting cheap.
	s := rhs.val
	for !isBacktickWrapped(s) { // `name` ends the peeling: a literal field
		open := strings.IndexByte(s, '(')
		if open < 0 {
			if strings.IndexByte(s, ')') >= 0 {
				return nil, p.errorf(rhs.pos, "Invalid query: Unbalanced parentheses in 'set' clause: "+show(rhs.val))
			}
			break
		}
		if !strings.HasSuffix(s, ")") {
			return nil, p.errorf(rhs.pos, "Invalid query: Unbalanced parentheses in 'set' clause: "+show(rhs.val))
		}
		f, ok := funcByName[s[:open]]
		if !ok {
			return nil, p.errorf(rhs.pos, "unknown function '"+show(s[:open])+"'").hint(s[:open], functionNames)
		}
		if len(a.Funcs) == MaxDepth {
			return nil, p.errorf(rhs.pos, "Invalid query: 'set' functions nested deeper than "+strconv.Itoa(MaxDepth))
		}
		a.Funcs = append(a.Funcs, f)
		s = s[open+1 : len(s)-1]
	}
	a.Arg = Word{Pos: rhs.pos, Kind: Bareword, Text: s}
	if isBacktickWrapped(s) {
		a.Arg = Word{Pos: rhs.pos, Kind: Backtick, Text: s[1 : len(s)-1]}
	}
	return a, nil
}

// skipBy drops the optional "by" after group, order and rorder, and
// returns the last token consumed (kw or its "by").
func skipBy(kw item, args []item) (item, []item) {
	if len(args) > 0 && args[0].typ == itemBareword && strings.EqualFold(args[0].val, "by") {
		return args[0], args[1:]
	}
	return kw, args
}

// endOfQuery is DTail 4.3.2's text for a clause without its value.
const endOfQuery = "Invalid query: Unexpected end of query"

// groupClause: "group" ["by"] FIELD ( FIELD )*
//
// Without fields it is an error, as in DTail 4.3.2.
func (p *parser) groupClause(kw item, args []item) *Error {
	last, args := skipBy(kw, args)
	if len(args) == 0 {
		return p.missing(kw, last, endOfQuery, "a field")
	}
	fields := make([]string, len(args))
	pos := make([]Pos, len(args))
	for i, a := range args {
		fields[i], pos[i] = a.val, a.pos
	}
	p.q.GroupBy, p.q.GroupByPos = fields, pos
	return nil
}

// orderClause: ("order" | "rorder") ["by"] SELSTORAGE
//
// Words after the field ("desc", "reverse") are ignored, as the reference
// does (spec §10.9).
func (p *parser) orderClause(kw item, args []item, reverse bool) *Error {
	last, args := skipBy(kw, args)
	if len(args) == 0 {
		return p.missing(kw, last, endOfQuery, "a select entry")
	}
	p.q.Order = &Order{Pos: args[0].pos, Field: args[0].val, Reverse: reverse}
	return nil
}

// intervalClause: "interval" INT  -- a missing value keeps the current one
func (p *parser) intervalClause(args []item) *Error {
	if len(args) == 0 {
		return nil
	}
	n, err := strconv.Atoi(args[0].val)
	if err != nil {
		return p.errorf(args[0].pos, "Invalid query: Can not parse 'interval' value: "+show(args[0].val))
	}
	p.q.Interval = n
	return nil
}

// limitClause: "limit" INT  -- a missing value is an error (DTail 4.3.2)
func (p *parser) limitClause(kw item, args []item) *Error {
	if len(args) == 0 {
		return p.missing(kw, kw, endOfQuery, "a number")
	}
	n, err := strconv.Atoi(args[0].val)
	if err != nil {
		return p.errorf(args[0].pos, "Invalid query: Can not parse 'limit' value: "+show(args[0].val))
	}
	p.q.Limit = n
	return nil
}

// outfileClause: "outfile" PATH | "outfile" "append" PATH
//
// Only a separate bareword "append" selects append mode; "append:PATH" is a
// file name (spec §10.10). The reference reports any other shape with the
// doubled "Invalid query: Invalid query: " text.
func (p *parser) outfileClause(kw item, args []item) *Error {
	switch {
	case len(args) == 0:
		return p.missing(kw, kw, "Invalid query: Invalid query: ", "a file name")
	case len(args) == 1:
		p.q.Outfile, p.q.Append = args[0].val, false
	case len(args) == 2 && args[0].typ == itemBareword && args[0].val == "append":
		p.q.Outfile, p.q.Append = args[1].val, true
	default:
		e := p.errorf(args[len(args)-1].pos, "Invalid query: Invalid query: ")
		e.Detail = "expected one file name after 'outfile' (or 'outfile append PATH')"
		return e
	}
	if p.q.Outfile == "" {
		p.q.Append = false // an empty path means no outfile at all
	}
	return nil
}

// logformatClause: "logformat" NAME  -- a missing name is an error (DTail 4.3.2)
func (p *parser) logformatClause(kw item, args []item) *Error {
	if len(args) == 0 {
		return p.missing(kw, kw, endOfQuery, "a log format name")
	}
	p.q.LogFormat, p.q.LogFormatPos = args[0].val, args[0].pos
	return nil
}
