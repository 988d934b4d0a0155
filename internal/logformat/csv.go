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
	wanted []bool // per header column: does the caller read it
	seen   bool
}

// Parse implements Parser. The header line is ignored (ok=false); a row
// with more values than header columns is an error; a shorter row leaves
// the remaining columns unset.
func (p *csvParser) Parse(b []byte) (map[string]string, bool, error) {
	if !p.seen {
		p.seen = true
		// The header outlives the line: always a copy.
		p.header = strings.Split(string(bytes.TrimSpace(b)), ",")
		p.wanted = make([]bool, len(p.header))
		for i, h := range p.header {
			p.wanted[i] = p.wants(h)
		}
		return nil, false, nil
	}
	line := p.str(bytes.TrimSpace(b))
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
		if p.wanted[i] {
			m[p.header[i]] = v
		}
		i++
	}
	return m, true, nil
}

// headerLine implements HeaderLine: the only line csv ignores is a file's
// header.
func (p *csvParser) headerLine() bool { return true }
