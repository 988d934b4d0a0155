package logformat

import (
	"bytes"
	"fmt"
	"strings"
)

// csvParser maps comma-separated values to the names of the header, which
// is the first line the parser sees (spec §7.5). There is no quoting, as in
// DTail. One parser per file, so each file's header is consumed.
type csvParser struct {
	common
	header []string
	seen   bool
}

// Parse implements Parser. The header line is ignored (ok=false); a row
// with more values than header columns is an error; a shorter row leaves
// the remaining columns unset.
func (p *csvParser) Parse(b []byte) (map[string]string, bool, error) {
	line := string(bytes.TrimSpace(b))
	if !p.seen {
		p.seen = true
		p.header = strings.Split(line, ",")
		return nil, false, nil
	}
	m := p.reset()
	p.setCommon(m, line)
	// Columns are written after the common variables: the header is the
	// user's schema, and DTail's own CSV output uses $-names as headers
	// (e.g. "$hostname"), which must read back as written.
	i := 0
	for v := range strings.SplitSeq(line, ",") {
		if i >= len(p.header) {
			return nil, false, fmt.Errorf("csv log format: %d values but %d header columns", strings.Count(line, ",")+1, len(p.header))
		}
		m[p.header[i]] = v
		i++
	}
	return m, true, nil
}
