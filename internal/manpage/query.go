package manpage

import (
	"strings"

	"github.com/dtail-go/dtail/internal/logformat"
	"github.com/dtail-go/dtail/internal/query"
)

// Section is an extra man page section (after OPTIONS).
type Section struct {
	Title string
	Paras []Para
}

// Para is one paragraph: plain text, a tagged item (.TP) or a literal
// block kept as written (.nf).
type Para struct {
	Tag     string
	Text    string
	Literal bool
}

// queryGrammar is the clause grammar of spec §6.2 with our additions
// (quantiles); TestQueryGrammarKeywords checks that it names every
// keyword the parser knows.
const queryGrammar = `query    := clause ...        (any order; a repeated clause replaces the earlier)
select   SEL[,SEL ...]        SEL := FIELD | AGG(FIELD) | quantile(FIELD;Q)
from     TABLE                lines tagged MAPREDUCE:TABLE (upper-cased)
where    COND [and COND ...]  COND := ARG OP ARG (three words)
set      $VAR = RVALUE[, ...] RVALUE := FUNC(RVALUE) | FIELD | constant
group by FIELD[,FIELD ...]    default: the field of the first SEL
order by SEL                  largest first (rorder by SEL: smallest first)
interval SECONDS              report interval (default 5)
limit    N                    rows shown (10 on a terminal unless given)
outfile  [append] PATH        write CSV to PATH instead of the table
logformat NAME                how lines become fields`

// querySection documents the query language for dmap and dtail -query,
// from spec §6 and the vocabulary of internal/query.
func querySection() Section {
	w := query.Words()
	return Section{Title: "QUERY LANGUAGE", Paras: []Para{
		{Text: "A query (-query, or a positional argument containing \"select \") is a list of clauses. " +
			"Keywords are case-insensitive; commas are blanks; a double-quoted \"string\" is one token taken " +
			"verbatim; a `backticked` word is never a keyword or an aggregation. Each server evaluates the query " +
			"over its lines and the client merges the per-server results into one table."},
		{Literal: true, Text: queryGrammar},
		{Tag: "Fields", Text: "Names starting with $ are variables DTail sets; every log format provides " +
			strings.Join(w.Variables, ", ") + ", and * (one group for everything: group by *). The default " +
			"format adds $time, $severity, $pid, $caller, $goroutines and more; other names are the key=value " +
			"fields of the line (after MAPREDUCE:TABLE in the default format)."},
		{Tag: "Aggregations", Text: strings.Join(w.Aggregations, ", ") + ". A plain FIELD is last(FIELD). " +
			"count counts the lines where the field exists; sum, min, max and avg are numeric; percentage is the " +
			"group's share of the total, percentile its rank among the groups; p50, p90, p95, p99 and quantile(FIELD;Q) (Q between 0 and 1) are merged " +
			"quantile estimates (1% relative error). A column is named exactly as written, e.g. avg($goroutines); " +
			"there is no AS alias."},
		{Tag: "Operators", Text: "Numeric: " + strings.Join(w.NumericOps, " ") + " (both sides are numbers or fields " +
			"holding numbers). String: " + strings.Join(w.StringOps, " ") + " (case-sensitive; lacks is ncontains). " +
			"A bare word is always a field: compare with a literal as in action eq \"POST\". Conditions are ANDed; " +
			"a condition on a missing field is false. where runs before set."},
		{Tag: "Functions", Text: "In set: " + strings.Join(w.Functions, ", ") + ", nestable, e.g. " +
			"set $m = maskdigits(md5sum($line)); a word that is no field is a constant ($n = 42)."},
		{Tag: "Log formats", Text: "logformat NAME chooses how lines become fields: " +
			strings.Join(formatNames(), ", ") + ". Without logformat a query with from reads the server's " +
			"MapreduceLogFormat (default), one without from reads generic (every line)."},
		{Text: "Mistakes are refused before anything runs, with the position and a suggestion " +
			"(dmap: query:1:37: ... did you mean 'group by'?); what the table cannot show (a field no line had, " +
			"lines the format skipped) is a warning on stderr after the table, an error with -strict."},
	}}
}

// formatNames are the log formats a query can name (custom1, custom2 and
// mimecast are empty templates that fall back to generic with a warning).
func formatNames() []string {
	var out []string
	for _, n := range logformat.Names() {
		if _, err := logformat.New(n, logformat.Options{}); err == nil {
			out = append(out, n)
		}
	}
	return out
}
