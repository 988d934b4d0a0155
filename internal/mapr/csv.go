package mapr

import (
	"fmt"
	"os"
	"strings"

	"github.com/dtail-go/dtail/internal/query"
)

// WriteCSV writes one report to the outfile (spec §5.9):
//
//  1. the raw query, without newline, to PATH.query.tmp, renamed to
//     PATH.query;
//  2. without append, header and rows to PATH.tmp, renamed to PATH, so
//     readers see either the previous or the new report, never a partial
//     one; with append, header (only into a missing or empty file) and
//     rows appended to PATH.
//
// The header is the select entries' storage names joined by ",", each row
// its values joined by ","; no quoting, "\n" line ends. The query's limit
// applies; there is no default limit. rows come from Result.Rows.
func WriteCSV(path string, appendMode bool, raw string, q *query.Query, rows [][]string) error {
	if err := writeRename(path+".query", []byte(raw)); err != nil {
		return err
	}
	if q.Limit >= 0 && len(rows) > q.Limit {
		rows = rows[:q.Limit]
	}
	header := strings.Join(q.Storages(), ",") + "\n"
	var body strings.Builder
	for _, row := range rows {
		body.WriteString(strings.Join(row, ","))
		body.WriteByte('\n')
	}
	if !appendMode {
		return writeRename(path, []byte(header+body.String()))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return fmt.Errorf("mapr: outfile: %w", err)
	}
	st, err := f.Stat()
	data := body.String()
	if err == nil && st.Size() == 0 {
		data = header + data
	}
	if err == nil {
		_, err = f.WriteString(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("mapr: outfile %s: %w", path, err)
	}
	return nil
}

// writeRename writes data to path+".tmp" and renames it to path.
func writeRename(path string, data []byte) error {
	tmp := path + ".tmp"
	err := os.WriteFile(tmp, data, 0o666)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		// Leave no stray temporary file behind. Its removal can only
		// fail for the reason the write failed, which err reports (os
		// errors name the path).
		_ = os.Remove(tmp)
		return fmt.Errorf("mapr: outfile: %w", err)
	}
	return nil
}
