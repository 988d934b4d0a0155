package client

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/logformat"
	"github.com/dtail-go/dtail/internal/mapr"
	"github.com/dtail-go/dtail/internal/query"
)

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

	mu   sync.Mutex
	last string
}

// parseQuery parses the client's query and prints the warnings of spec
// 5.9 for variables the log format cannot fill.
func parseQuery(raw string, stderr io.Writer) (*query.Query, error) {
	q, err := query.Parse(raw)
	if err != nil {
		return nil, err
	}
	format := logformat.Select(q.LogFormat, q.HasFrom, logformat.Default)
	for _, w := range query.UnknownVariables(q, format) {
		fmt.Fprintln(stderr, w)
	}
	return q, nil
}

func newReducer(o Options, q *query.Query, out io.Writer, warn func(string)) *reducer {
	r := &reducer{
		raw: o.Query, q: q, res: mapr.NewResult(q), out: out, warn: warn,
		// dmap accumulates; dtail reports each interval on its own unless
		// it writes an outfile (spec 5.9); continuous jobs never accumulate.
		cumulative: !o.NonCumulative && (o.Mode == ModeMap || q.Outfile != ""),
	}
	if o.Colors != nil && !o.Plain {
		r.paint = maprPainter(o.Colors)
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
	t := mapr.RenderTable(raw, q, rows, mapr.DefaultTerminalLimit, r.paint)
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
