package query

import "slices"

// commonVars are provided by every built-in log format (spec §6.3).
var commonVars = []string{"$line", "$empty", "$hostname", "$server", "$timezone", "$timeoffset"}

// knownVars lists, per format the client knows, the $variables its parser
// provides (spec §6.3, §7.2–§7.5). The query package is a leaf, so this
// table mirrors the logformat package; logformat's tests check the default
// format against the same list.
var knownVars = map[string]map[string]bool{
	"default": set(append([]string{
		"$severity", "$loglevel", "$time", "$date", "$hour", "$minute", "$second",
		"$pid", "$caller", "$cpus", "$goroutines", "$cgocalls", "$loadavg", "$uptime",
	}, commonVars...)),
	"generic":   set(commonVars),
	"generickv": set(commonVars),
	"csv":       set(commonVars),
}

func set(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// KnownVariables returns the $variables the named format provides, or nil
// if the client does not know the format.
func KnownVariables(format string) []string {
	m := knownVars[format]
	if m == nil {
		return nil
	}
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	return out
}

// UnknownVariables returns one warning line (without newline) for every
// $variable the query reads in select, where, group by or set that the log
// format does not provide and no set assignment produces (spec §5.9):
//
//	warning: $foo is not a known variable for log format "default"; did you mean bareword foo?
//
// Each variable is reported once, in order of first use. Backtick words are
// literal field names (CSV columns such as `$time`) and are not reported.
// Formats other than default, generic, generickv and csv give nil.
func UnknownVariables(q *Query, format string) []string {
	known := knownVars[format]
	if known == nil {
		return nil
	}
	produced := make(map[string]bool, len(q.Set))
	for _, a := range q.Set {
		produced[a.Name] = true
	}
	var out []string
	seen := map[string]bool{}
	names := KnownVariables(format)
	slices.Sort(names)
	check := func(name string, kind WordKind) {
		if kind != Bareword || len(name) < 2 || name[0] != '$' {
			return
		}
		if known[name] || produced[name] || seen[name] {
			return
		}
		seen[name] = true
		// A near variable is the likelier intent ($tiem); otherwise the
		// spec's text suggests the bareword.
		mean := "bareword " + name[1:]
		if c := Closest(name, names); c != "" {
			mean = c
		}
		out = append(out, "warning: "+name+" is not a known variable for log format \""+format+
			"\"; did you mean "+mean+"?")
	}
	for _, s := range q.Selects {
		kind := s.Kind
		if s.Agg != AggNone {
			kind = Bareword
		}
		check(s.Field, kind)
	}
	for _, c := range q.Where {
		for _, o := range []*Operand{&c.Left, &c.Right} {
			if !o.isConst {
				check(o.Text, o.Kind)
			}
		}
	}
	for _, g := range q.GroupBy {
		check(g, Bareword)
	}
	for _, a := range q.Set {
		check(a.Arg.Text, a.Arg.Kind)
	}
	return out
}
