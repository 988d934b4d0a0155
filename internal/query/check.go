package query

import (
	"slices"
	"strconv"
	"strings"
)

// Check finds what parses (DTail 4.x runs it) but cannot mean what the
// user wants, before the query runs (issue 13). The client refuses errs
// and prints warns once on stderr (with --strict they are errors too);
// dserver never calls it, so every query a 4.x client sends still runs.
//
// input is the query text (for positions), format the effective log format
// (logformat.Select) and formats the names the client knows
// (logformat.Names; the leaf query package does not import logformat).
//
// Errors: an unknown log format name (4.x servers silently fall back to
// generic); a single-quoted where operand ('GET' is a field name, so the
// condition is always false); "by" as a select field ("grup by action"
// makes three columns). Warnings: a field the format can never fill
// (barewords under generic), and a group by that can only produce one
// group. $variables are checked by UnknownVariables (spec §5.9 text).
func Check(q *Query, input, format string, formats []string) (errs, warns []*Error) {
	at := func(pos Pos, warning bool, ref, detail, hint string) *Error {
		e := newError(input, pos, false, ref)
		e.Detail, e.Hint, e.Warning = detail, hint, warning
		return e
	}
	if q.LogFormat != "" && !slices.Contains(formats, q.LogFormat) {
		detail := "unknown log format '" + show(q.LogFormat) + "'"
		hint := ""
		if c := Closest(q.LogFormat, formats); c != "" {
			hint = "'" + c + "'"
		} else {
			detail += " (known: " + strings.Join(formats, ", ") + ")"
		}
		errs = append(errs, at(q.LogFormatPos, false, "Invalid query: unknown log format "+show(q.LogFormat), detail, hint))
	}
	for _, c := range q.Where {
		for _, o := range []*Operand{&c.Left, &c.Right} {
			if o.Kind != Bareword || o.isConst || !strings.HasPrefix(o.Text, "'") {
				continue
			}
			hint := ""
			if inner, ok := strings.CutSuffix(o.Text[1:], "'"); ok && len(o.Text) >= 2 {
				hint = inner
				if !c.Op.Numeric() {
					hint = `"` + inner + `"`
				}
			}
			errs = append(errs, at(o.Pos, false, "Invalid query: single-quoted operand "+show(o.Text),
				show(o.Text)+" is a field name here: single quotes do not quote in queries, so the condition is always false", hint))
		}
	}
	for i, s := range q.Selects {
		if i == 0 || s.Agg != AggNone || s.Kind != Bareword || !strings.EqualFold(s.Field, "by") {
			continue
		}
		prev := q.Selects[i-1]
		if c := Closest(prev.Field, []string{"group", "order", "rorder"}); c != "" && prev.Agg == AggNone {
			errs = append(errs, at(prev.Pos, false, "Invalid query: misspelt keyword "+show(prev.Field),
				"'"+show(prev.Field)+" by' in the select clause selects the fields '"+show(prev.Field)+"' and 'by'", "'"+c+" by'"))
			continue
		}
		errs = append(errs, at(s.Pos, false, "Invalid query: 'by' in the select clause",
			"'by' in the select clause is a field name (write `by` if you mean one)", "'group by'"))
	}

	produced := make(map[string]*Assign, len(q.Set))
	for _, a := range q.Set {
		produced[a.Name] = a
	}
	// Barewords: only generic fills none of them.
	if format == "generic" {
		seen := map[string]bool{}
		field := func(name string, kind WordKind, pos Pos) {
			if kind == String || name == "*" || (kind == Bareword && strings.HasPrefix(name, "$")) ||
				produced[name] != nil || seen[name] {
				return
			}
			seen[name] = true
			how := "add a 'from TABLE' clause (DTail's own format) or 'logformat generickv' (key=value fields)"
			if q.LogFormat != "" {
				how = "choose a 'logformat' that has fields, e.g. generickv"
			}
			warns = append(warns, at(pos, true, "", "field '"+show(name)+"' is never set: log format 'generic' fills only "+
				strings.Join(commonVars, ", ")+"; "+how, ""))
		}
		for _, s := range q.Selects {
			kind := s.Kind
			if s.Agg != AggNone {
				kind = Bareword
			}
			field(s.Field, kind, s.Pos)
		}
		for _, c := range q.Where {
			for _, o := range []*Operand{&c.Left, &c.Right} {
				if !o.isConst && !(o.Kind == String) {
					field(o.Text, o.Kind, o.Pos)
				}
			}
		}
		for i, g := range q.GroupBy {
			field(g, Bareword, q.GroupByPos[i])
		}
	}
	// A group by whose fields are the same on every line.
	groups, pos := q.GroupFields(), Pos(NoPos)
	if len(q.GroupByPos) > 0 {
		pos = q.GroupByPos[0]
	} else if len(q.Selects) > 0 {
		pos = q.Selects[0].Pos
	}
	var why []string
	for _, g := range groups {
		r := q.constantField(g, format, produced)
		if r == "" {
			why = nil
			break
		}
		why = append(why, r)
	}
	if len(why) > 0 {
		shown := make([]string, len(groups))
		for i, g := range groups {
			shown[i] = show(g)
		}
		label := "group by " + strings.Join(shown, ", ")
		if q.GroupBy == nil {
			label = "the default group (the first select field, " + shown[0] + ")"
		}
		warns = append(warns, at(pos, true, "", label+" can only produce one group: "+strings.Join(why, "; "), ""))
	}
	return errs, warns
}

// constantField says why field g has the same value on every line of a
// server ("" if it may vary). $hostname and friends are left out: "group
// by $hostname" is the documented way to get one group per server.
func (q *Query) constantField(g, format string, produced map[string]*Assign) string {
	name := show(g)
	if a := produced[g]; a != nil {
		if a.Arg.Kind == String {
			return name + " is set to the constant " + strconv.Quote(a.Arg.Text)
		}
		if _, err := strconv.ParseFloat(a.Arg.Text, 64); err == nil && a.Arg.Kind == Bareword {
			return name + " is set to the constant " + show(a.Arg.Text)
		}
		return ""
	}
	switch {
	case g == "$empty":
		return "$empty is always empty"
	case strings.HasPrefix(g, "$"):
		if known := knownVars[format]; known != nil && !known[g] {
			return name + " is not a variable of log format '" + show(format) + "' (always empty)"
		}
	case format == "generic" && g != "*":
		return "log format 'generic' never sets the field " + name + " (always empty)"
	}
	return ""
}
