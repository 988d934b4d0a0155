package logformat

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// maxJSONDepth bounds flattening; deeper objects are kept as JSON text so
// that a hostile line cannot make the per-level re-decoding quadratic.
const maxJSONDepth = 32

// jsonParser reads one JSON object per line (not in DTail 4.x). Nested
// objects are flattened with dotted keys ("a.b"); strings are unescaped;
// numbers, booleans, null and arrays keep their (compacted) JSON text, so
// 1.50 stays "1.50" and large integers keep every digit.
type jsonParser struct {
	common
	buf bytes.Buffer
}

// Parse implements Parser. A line that does not start with '{' is ignored
// (log noise between JSON records); an invalid object is an error.
func (p *jsonParser) Parse(b []byte) (map[string]string, bool, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, false, nil
	}
	m := p.reset()
	if err := p.object(m, b, "", 0); err != nil {
		return nil, false, err
	}
	p.setCommon(m, string(b))
	return m, true, nil
}

// object flattens the JSON object in data into m under prefix.
func (p *jsonParser) object(m map[string]string, data []byte, prefix string, depth int) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // '{'
		return jsonErr(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonErr(err)
		}
		key, _ := tok.(string) // object keys are always strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return jsonErr(err)
		}
		key = prefix + key
		switch {
		case raw[0] == '{' && depth < maxJSONDepth:
			if err := p.object(m, raw, key+".", depth+1); err != nil {
				return err
			}
		case raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return jsonErr(err)
			}
			m[key] = s
		default:
			p.buf.Reset()
			if err := json.Compact(&p.buf, raw); err != nil {
				return jsonErr(err)
			}
			m[key] = p.buf.String()
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("json log format: data after the object")
	}
	return nil
}

func jsonErr(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return errors.New("json log format: " + err.Error())
}
