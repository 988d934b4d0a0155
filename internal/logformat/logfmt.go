package logformat

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// logfmtParser reads key=value pairs separated by blanks, with
// double-quoted values that may contain blanks and Go-style escapes
// (not in DTail 4.x):
//
//	level=info msg="request done" status=200 flag
//
// A key without '=' gets the empty value. Every line is accepted unless a
// quoted value is unterminated or badly escaped.
type logfmtParser struct{ common }

// Parse implements Parser.
func (p *logfmtParser) Parse(b []byte) (map[string]string, bool, error) {
	line := string(bytes.TrimSpace(b))
	m := p.reset()
	s := line
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		end := strings.IndexAny(s, "= \t")
		if end < 0 {
			m[s] = ""
			break
		}
		key := s[:end]
		if s[end] != '=' {
			m[key] = ""
			s = s[end:]
			continue
		}
		s = s[end+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			n := quotedLen(s)
			if n < 0 {
				return nil, false, errors.New("logfmt log format: unterminated quoted value of " + strconv.Quote(key))
			}
			v, err := strconv.Unquote(s[:n])
			if err != nil {
				return nil, false, errors.New("logfmt log format: bad quoted value of " + strconv.Quote(key))
			}
			val, s = v, s[n:]
		} else {
			n := strings.IndexAny(s, " \t")
			if n < 0 {
				n = len(s)
			}
			val, s = s[:n], s[n:]
		}
		if key != "" {
			m[key] = val
		}
	}
	p.setCommon(m, line)
	return m, true, nil
}

// quotedLen returns the length of the quoted string at the start of s,
// including both quotes, or -1 if it is not terminated.
func quotedLen(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}
