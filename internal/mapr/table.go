package mapr

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dtail-go/dtail/internal/query"
)

// DefaultTerminalLimit is the number of rows a terminal report shows when
// the query has no limit clause (spec §5.9).
const DefaultTerminalLimit = 10

// CellKind tells a Painter what it is painting. Header cells may carry the
// SortKey and GroupKey flags.
type CellKind uint8

const (
	CellRawQuery        CellKind = iota + 1 // the raw query line's text
	CellHeader                              // a header cell (" name ")
	CellHeaderDelimiter                     // "|" of the header and separator lines, and each column's dashes
	CellData                                // a data cell (" value ")
	CellDelimiter                           // "|" between data cells
	// CellBlock is a whole painted block ending in "\n": the raw query
	// line, then the table (header to the empty line after it). The
	// reference wraps each block once more as an uncoloured line.
	CellBlock

	// CellSortKey marks the header of the order by column.
	CellSortKey CellKind = 1 << 6
	// CellGroupKey marks the header of a column named like a group by field.
	CellGroupKey CellKind = 1 << 7
)

// Base returns the kind without the SortKey and GroupKey flags.
func (k CellKind) Base() CellKind { return k &^ (CellSortKey | CellGroupKey) }

// Painter colours one piece of a table. A nil Painter leaves text plain.
type Painter func(text string, kind CellKind) string

// Table is a rendered terminal report: the raw query line, the warning
// the client logs in between (empty if none), and the table.
type Table struct {
	Query string // the raw query line, "\n"-terminated
	Warn  string // "Got N results but limited terminal output to 10 rows! …" or ""
	Body  string // header, separator, rows, each "\n"-terminated, then "\n"
}

// String returns the report without the warning, as printed to stdout;
// compare it with the previous report to skip an unchanged one.
func (t Table) String() string { return t.Query + t.Body }

// RenderTable lays out rows (from Result.Rows, all of them) as the
// terminal table of spec §5.9:
//
//	 count($line) | $hostname
//	--------------|-----------
//	          597 |     earth
//
// Each cell is " " + right-aligned text + " ", cells joined by "|"; the
// separator has "-" + width dashes + "-" per column; widths cover all
// rows, also those cut by the limit. The rows shown are the query's limit,
// or without one at most terminalLimit (≤ 0: all) with the warning. It
// returns the zero Table when there are no rows: nothing is printed then.
func RenderTable(raw string, q *query.Query, rows [][]string, terminalLimit int, paint Painter) Table {
	if len(rows) == 0 {
		return Table{}
	}
	if paint == nil {
		paint = func(s string, _ CellKind) string { return s }
	}
	heads := q.Storages()
	widths := make([]int, len(heads))
	for i, h := range heads {
		widths[i] = len(h)
	}
	for _, row := range rows {
		for i, v := range row {
			if i < len(widths) && len(v) > widths[i] {
				widths[i] = len(v)
			}
		}
	}

	var t Table
	n := len(rows)
	switch {
	case q.Limit >= 0:
		n = min(n, q.Limit)
	case terminalLimit > 0 && n > terminalLimit:
		t.Warn = "Got " + strconv.Itoa(n) + " results but limited terminal output to " +
			strconv.Itoa(terminalLimit) + " rows! Use 'limit' clause to override!"
		n = terminalLimit
	}

	t.Query = paint(paint(raw, CellRawQuery)+"\n", CellBlock)

	groups := make(map[string]bool)
	for _, g := range q.GroupFields() {
		groups[g] = true
	}
	var b strings.Builder
	for i, h := range heads {
		if i > 0 {
			b.WriteString(paint("|", CellHeaderDelimiter))
		}
		kind := CellHeader
		if q.Order != nil && q.Order.Field == h {
			kind |= CellSortKey
		}
		if groups[h] {
			kind |= CellGroupKey
		}
		b.WriteString(paint(cell(h, widths[i]), kind))
	}
	b.WriteByte('\n')
	for i, w := range widths {
		if i > 0 {
			b.WriteString(paint("|", CellHeaderDelimiter))
		}
		b.WriteString(paint(strings.Repeat("-", w+2), CellHeaderDelimiter))
	}
	b.WriteByte('\n')
	for _, row := range rows[:n] {
		for i := range widths {
			if i > 0 {
				b.WriteString(paint("|", CellDelimiter))
			}
			var v string
			if i < len(row) {
				v = row[i]
			}
			b.WriteString(paint(cell(v, widths[i]), CellData))
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	t.Body = paint(b.String(), CellBlock)
	return t
}

// cell right-aligns s in width and pads it with one blank on each side.
// As in the reference (widths from len, padding from fmt's %*s), the
// width counts bytes but the padding counts runes, so a column with
// multi-byte text is wider than it looks; DTail 4.3.2 prints "ééé" in a
// 6-wide column as 3 blanks and 3 letters.
func cell(s string, width int) string {
	pad := width - utf8.RuneCountInString(s)
	if pad < 0 {
		pad = 0
	}
	return " " + strings.Repeat(" ", pad) + s + " "
}
