package client

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/logformat"
	"github.com/dtail-go/dtail/internal/mapr"
	"github.com/dtail-go/dtail/internal/query"
)

// QueryPlan holds a query run's choices beyond DTail 4.x (issue 13).
type QueryPlan struct {
	// Strict makes query warnings errors (--strict): the plan-time ones
	// stop the run before it starts (exit 2), the ones about the result
	// (empty, a field in no line, lines the format skipped) make the
	// exit status 1.
	Strict bool
	// Terminal is set when stdout is a terminal: only then does a table
	// without a limit clause stop at mapr.DefaultTerminalLimit rows. In a
	// pipe or file every row is written (dmap ... > users.txt).
	Terminal bool
}

// reducer is the client half of a mapreduce query (spec 5.9): it merges
// the AGGREGATE partials of every server and reports the result as a
// terminal table or a CSV outfile, every interval and at the end.
type reducer struct {
	raw        string
	q          *query.Query
	res        *mapr.Result
	cumulative bool
	out        io.Writer
	warn       func(string)
	paint      mapr.Painter
	plan       QueryPlan
	diag       io.Writer // stderr, for the notes of finish
	prog       string
	// serverFormat is the log format of queries with a from clause:
	// the configured one serverless, "default" for servers (spec 5.9).
	serverFormat string

	mu   sync.Mutex
	last string
}

// parseQuery parses the client's query, refuses what query.Check finds
// wrong, and prints the warnings of spec 5.9 for variables the log format
// cannot fill and those of query.Check, once. With plan.Strict a warning
// is an error. serverDefault is the log format a query with a from clause
// gets (the spec lets the client assume "default" for servers).
func parseQuery(raw string, stderr io.Writer, prog, serverDefault string, plan QueryPlan) (*query.Query, error) {
	q, err := query.Parse(raw)
	if err != nil {
		return nil, err
	}
	format := logformat.Select(q.LogFormat, q.HasFrom, serverDefault)
	errs, warns := query.Check(q, raw, format, logformat.Names())
	if len(errs) > 0 {
		return nil, errs[0]
	}
	var fallback []string
	if _, err := logformat.New(format, logformat.Options{Hostname: "-"}); err != nil {
		// A registered name that cannot be made here (custom1, the
		// mimecast formats): servers log a fallback to generic (spec
		// 7.1) and the user would only see blanks.
		fallback = append(fallback, fmt.Sprintf("%s: warning: %v: servers fall back to log format 'generic'", prog, err))
		format = logformat.Generic
		_, warns = query.Check(q, raw, format, logformat.Names())
	}
	for _, w := range fallback {
		fmt.Fprintln(stderr, w)
	}
	vars := query.UnknownVariables(q, format)
	for _, w := range vars {
		fmt.Fprintln(stderr, w)
	}
	for _, w := range warns {
		fmt.Fprintf(stderr, "%s: %v\n", prog, w)
	}
	if n := len(fallback) + len(vars) + len(warns); plan.Strict && n > 0 {
		return nil, fmt.Errorf("--strict: the query has %d warning(s)", n)
	}
	return q, nil
}

func newReducer(o Options, q *query.Query, out io.Writer, warn func(string)) *reducer {
	r := &reducer{
		raw: o.Map.Query, q: q, res: mapr.NewResult(q), out: out, warn: warn,
		// dmap accumulates; dtail reports each interval on its own unless
		// it writes an outfile (spec 5.9); continuous jobs never accumulate.
		cumulative: !o.Map.NonCumulative && (o.Mode == ModeMap || q.Outfile != ""),
		plan:       o.Map.Plan, diag: o.Stderr, prog: o.Prog, serverFormat: o.Map.MapreduceLogFormat,
	}
	if o.Output.Colors != nil && !o.Output.Plain {
		r.paint = maprPainter(o.Output.Colors)
	}
	return r
}

func (r *reducer) merge(msg []byte) {
	r.mu.Lock()
	err := r.res.Merge(msg)
	r.mu.Unlock()
	if err != nil {
		r.warn("Unable to merge aggregate: " + err.Error())
	}
}

// report writes the current result; the table is skipped when it is empty
// or unchanged since the last one printed.
func (r *reducer) report() error {
	r.mu.Lock()
	var rows [][]string
	if r.cumulative {
		rows = r.res.Rows()
	} else {
		rows = r.res.TakeRows()
	}
	raw, q := r.raw, r.q // an interactive reload replaces them
	r.mu.Unlock()
	if q.Outfile != "" {
		if len(rows) == 0 && !r.cumulative {
			return nil
		}
		return mapr.WriteCSV(q.Outfile, q.Append, raw, q, rows)
	}
	limit := 0 // every row, in a pipe or file
	if r.plan.Terminal {
		limit = mapr.DefaultTerminalLimit
	}
	t := mapr.RenderTable(raw, q, rows, limit, r.paint)
	if t.Body == "" || t.String() == r.last {
		return nil
	}
	r.last = t.String()
	io.WriteString(r.out, t.Query)
	if t.Warn != "" {
		r.warn(t.Warn)
	}
	_, err := io.WriteString(r.out, t.Body)
	if f, ok := r.out.(interface{ Flush() error }); ok {
		f.Flush()
	}
	return err
}

// run reports after half an interval, then every interval, until done is
// closed or ctx ends; then once more in cumulative mode.
func (r *reducer) run(ctx context.Context, done <-chan struct{}) error {
	r.mu.Lock()
	iv := r.q.IntervalDuration()
	r.mu.Unlock()
	timer := time.NewTimer(iv / 2)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			if err := r.report(); err != nil {
				r.warn(err.Error())
			}
			timer.Reset(iv)
			continue
		case <-done:
		case <-ctx.Done():
		}
		break
	}
	if r.cumulative {
		return r.report()
	}
	return nil
}

// finish says on stderr what the result cannot show (issue 13): that it
// is empty, that a selected field occurred in no line (its column is all
// zeros or blanks), that every line had an empty group key, and how many
// lines of the table the log format skipped (skipped, from the receipts;
// DTail 4.x servers send none). It reports whether it said anything, which
// --strict turns into a non-zero exit.
func (r *reducer) finish(skipped int64) bool {
	r.mu.Lock()
	q := r.q
	cov := r.res.Coverage()
	r.mu.Unlock()
	var notes []string
	if skipped > 0 {
		format := logformat.Select(q.LogFormat, q.HasFrom, r.serverFormat)
		why := "it ignores them or cannot parse them"
		if format == logformat.Default {
			why = "it reads only INFO lines whose fields after MAPREDUCE:TABLE are key=value"
		}
		notes = append(notes, fmt.Sprintf("warning: log format %q skipped %d lines of the input (%s): the result leaves them out", format, skipped, why))
	}
	if cov.Messages == 0 {
		notes = append(notes, "the result is empty: no line matched the query")
		return r.note(notes)
	}
	seen := map[string]bool{}
	for i, s := range q.Selects {
		if i >= len(cov.Columns) || cov.Columns[i] || seen[s.Field] {
			continue
		}
		seen[s.Field] = true
		shows := "an empty value"
		if s.Op() != query.AggLast {
			shows = "0"
		}
		notes = append(notes, fmt.Sprintf("warning: field %s occurred in no matching line: %s shows %s in every row", query.Show(s.Field), query.Show(s.Storage), shows))
	}
	if g := q.GroupFields(); !cov.KeyNotEmpty && !slices.Contains(g, "$empty") {
		notes = append(notes, fmt.Sprintf("warning: group by %s was empty in every matching line: all of them fell into one group with an empty key", query.Show(strings.Join(g, ", "))))
	}
	return r.note(notes)
}

func (r *reducer) note(notes []string) bool {
	for _, n := range notes {
		fmt.Fprintf(r.diag, "%s: %s\n", r.prog, n)
	}
	return len(notes) > 0 && r.plan.Strict
}

// maprPainter paints tables with the MaprTable colours of the scheme.
func maprPainter(s *color.Scheme) mapr.Painter {
	t := s.MaprTable
	return func(text string, kind mapr.CellKind) string {
		var st color.Style
		extra := ""
		switch kind.Base() {
		case mapr.CellRawQuery:
			st = t.RawQuery
		case mapr.CellHeader:
			st = t.Header
			if kind&mapr.CellSortKey != 0 {
				extra += t.HeaderSortKeyAttr.Escape()
			}
			if kind&mapr.CellGroupKey != 0 {
				extra += t.HeaderGroupKeyAttr.Escape()
			}
		case mapr.CellHeaderDelimiter:
			st = t.HeaderDelimiter
		case mapr.CellDelimiter:
			st = t.Delimiter
		case mapr.CellData:
			st = t.Data
		case mapr.CellBlock:
			return paintPlainBlock(text)
		default:
			return text
		}
		body, nl := strings.CutSuffix(text, "\n")
		var b strings.Builder
		b.WriteString(st.Fg.Escape() + st.Bg.Escape() + st.Attr.Escape() + extra + body)
		if st.Attr != color.AttrNone || extra != "" {
			b.WriteString(color.Reset)
		}
		b.WriteString(color.BgReset + color.FgReset)
		if nl {
			b.WriteByte('\n')
		}
		return b.String()
	}
}

// paintPlainBlock is the "any other line" rule of spec 5.6.3.
func paintPlainBlock(text string) string {
	body, nl := strings.CutSuffix(text, "\n")
	s := color.FgDefault.Escape() + color.BgDefault.Escape() + body + color.BgReset + color.FgReset
	if nl {
		s += "\n"
	}
	return s
}
