package logformat

import (
	"bytes"
	"strings"
)

// genericParser accepts every line and provides only the common variables
// (spec §7.3).
type genericParser struct{ common }

// Parse implements Parser.
func (p *genericParser) Parse(b []byte) (map[string]string, bool, error) {
	m := p.reset()
	p.setCommon(m, p.str(bytes.TrimSpace(b)))
	return m, true, nil
}

// genericKVParser accepts every line and adds a field for every
// '|'-separated piece that contains '=' (spec §7.4).
type genericKVParser struct{ common }

// Parse implements Parser.
func (p *genericKVParser) Parse(b []byte) (map[string]string, bool, error) {
	line := p.str(bytes.TrimSpace(b))
	m := p.reset()
	for piece := range strings.SplitSeq(line, "|") {
		if k, v, ok := strings.Cut(piece, "="); ok && p.wants(k) {
			m[k] = v
		}
	}
	p.setCommon(m, line)
	return m, true, nil
}
