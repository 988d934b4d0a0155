package query

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Eval evaluates the condition against one line's fields (spec §6.4).
//
// Numeric operators compare floats: a constant operand is its value, any
// other operand names a field whose value must parse as a float. String
// operators compare exactly: a double-quoted operand is literal, any other
// names a field. A missing field or a non-number makes the condition false,
// for the negated operators too.
func (c *Cond) Eval(fields map[string]string) bool {
	if c.Op.Numeric() {
		l, ok := c.Left.float(fields)
		if !ok {
			return false
		}
		r, ok := c.Right.float(fields)
		if !ok {
			return false
		}
		switch c.Op {
		case OpEq:
			return l == r
		case OpNe:
			return l != r
		case OpLt:
			return l < r
		case OpLe:
			return l <= r
		case OpGt:
			return l > r
		case OpGe:
			return l >= r
		}
		return false
	}
	l, ok := c.Left.str(fields)
	if !ok {
		return false
	}
	r, ok := c.Right.str(fields)
	if !ok {
		return false
	}
	switch c.Op {
	case OpStrEq:
		return l == r
	case OpStrNe:
		return l != r
	case OpContains:
		return strings.Contains(l, r)
	case OpNContains:
		return !strings.Contains(l, r)
	case OpHasPrefix:
		return strings.HasPrefix(l, r)
	case OpNHasPrefix:
		return !strings.HasPrefix(l, r)
	case OpHasSuffix:
		return strings.HasSuffix(l, r)
	case OpNHasSuffix:
		return !strings.HasSuffix(l, r)
	}
	return false
}

func (o *Operand) float(fields map[string]string) (float64, bool) {
	if o.isConst {
		return o.num, true
	}
	v, ok := fields[o.Text]
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

func (o *Operand) str(fields map[string]string) (string, bool) {
	if o.Kind == String {
		return o.Text, true
	}
	v, ok := fields[o.Text]
	return v, ok
}

// Match reports whether all where conditions hold. It must run before
// Apply: set-produced variables are not visible to where (spec §6.4).
func (q *Query) Match(fields map[string]string) bool {
	for _, c := range q.Where {
		if !c.Eval(fields) {
			return false
		}
	}
	return true
}

// Value computes the assignment's value for one line (spec §6.5).
//
// The innermost argument resolves as: a backtick word is the value of the
// field of that name ("" if missing); any other word is the value of the
// field of that name if it exists, else its own text (so $foo = 42 assigns
// the constant 42). The functions then apply innermost first.
func (a *Assign) Value(fields map[string]string) string {
	var v string
	if a.Arg.Kind == Backtick {
		v = fields[a.Arg.Text]
	} else if fv, ok := fields[a.Arg.Text]; ok {
		v = fv
	} else {
		v = a.Arg.Text
	}
	for i := len(a.Funcs) - 1; i >= 0; i-- {
		v = a.Funcs[i].Apply(v)
	}
	return v
}

// Apply runs the function on s.
func (f Func) Apply(s string) string {
	switch f {
	case FuncMD5Sum:
		sum := md5.Sum([]byte(s))
		return hex.EncodeToString(sum[:])
	case FuncMaskDigits:
		return maskDigits(s)
	}
	return s
}

// maskDigits replaces every ASCII digit by '.', leaving other bytes alone.
func maskDigits(s string) string {
	if strings.IndexAny(s, "0123456789") < 0 {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c >= '0' && c <= '9' {
			b[i] = '.'
		}
	}
	return string(b)
}

// Apply runs the set assignments in order, writing into fields; a later
// assignment sees the results of earlier ones.
func (q *Query) Apply(fields map[string]string) {
	for _, a := range q.Set {
		fields[a.Name] = a.Value(fields)
	}
}

// GroupFields returns the fields forming the group key: the group by
// clause, or else the field of the first select entry (count($line) groups
// by $line), as the reference does.
func (q *Query) GroupFields() []string {
	if q.GroupBy != nil {
		return q.GroupBy
	}
	if len(q.Selects) == 0 {
		return nil
	}
	return []string{q.Selects[0].Field}
}

// GroupKey returns the line's group key: the group fields' values joined
// by ",", a missing field counting as "".
func (q *Query) GroupKey(fields map[string]string) string {
	g := q.GroupFields()
	if len(g) == 1 {
		return fields[g[0]]
	}
	var b strings.Builder
	for i, f := range g {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(fields[f])
	}
	return b.String()
}

// IntervalDuration returns the effective report interval: the interval
// clause in seconds, 1 s if it is not positive (spec §4.12).
func (q *Query) IntervalDuration() time.Duration {
	if q.Interval <= 0 {
		return time.Second
	}
	return time.Duration(q.Interval) * time.Second
}

// TableRegex returns the pattern the client sends to select the lines to
// aggregate (spec §6.2, §11.13): `\|MAPREDUCE:TABLE\|`, or "." (every
// line) without a from clause. The table is not escaped and "*" becomes the
// empty table, reproducing the reference's `\|MAPREDUCE:\|` (§10.12).
func (q *Query) TableRegex() string {
	if !q.HasFrom {
		return "."
	}
	t := q.Table
	if t == "*" {
		t = ""
	}
	return `\|MAPREDUCE:` + t + `\|`
}

// Storages returns the select entries' storage names in order: the column
// headers of tables and CSV files.
func (q *Query) Storages() []string {
	s := make([]string, len(q.Selects))
	for i, sel := range q.Selects {
		s[i] = sel.Storage
	}
	return s
}

// Fields returns the names of the fields the query reads from a line, each
// once, in order of first use: the select fields, the non-constant where
// operands, the set arguments (a bareword argument is read if a field of
// that name exists) and the group fields. Names a set assignment produces
// are included only where they are also read before being assigned. A log
// format parser need only fill these (logformat.Options.Fields); the
// result of the query is the same.
func (q *Query) Fields() []string {
	var out []string
	seen := make(map[string]bool)
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, s := range q.Selects {
		add(s.Field)
	}
	for _, c := range q.Where {
		for _, o := range []*Operand{&c.Left, &c.Right} {
			if o.isConst || (!c.Op.Numeric() && o.Kind == String) {
				continue
			}
			add(o.Text)
		}
	}
	for _, a := range q.Set {
		add(a.Arg.Text)
	}
	for _, g := range q.GroupFields() {
		add(g)
	}
	return out
}
