package session

import (
	"encoding/json"
	"strconv"

	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/protocol"
)

// lineFormat turns one read line into bytes for the destination. The four
// shapes are: wire REMOTE (`REMOTE|host|100|n|id|line` + 0xAC), wire plain
// (`line` + 0xAC), and the local (serverless) forms, which print straight
// to a terminal or pipe: plain (`line`, newline added if missing) and
// REMOTE without the protocol delimiter.
type lineFormat struct {
	wire   bool
	plain  bool
	tail   bool
	host   string
	id     string
	scheme *color.Scheme // local non-plain only; nil = no colours
	rawEOF bool          // local plain cat: a last line without newline stays so
	ndjson bool          // local: one JSON object per line (--output ndjson)
	tmp    []byte
}

// needsLineNumbers reports whether the format prints line numbers.
func (f *lineFormat) needsLineNumbers() bool { return !f.plain }

// rawBlocks reports whether a block of complete lines can be copied as is.
func (f *lineFormat) rawBlocks() bool { return !f.wire && f.plain }

// appendLine appends one line. line includes its '\n' when terminated.
func (f *lineFormat) appendLine(dst, line []byte, no uint64) []byte {
	if f.wire {
		// Tail lines keep their newline on the wire. The 4.3.2-ng server
		// strips it (spec 3.6) and its client appends one, but 4.3.2
		// clients print messages as they come and would glue lines
		// together; with the newline kept both print correctly.
		if f.plain {
			return protocol.AppendMessage(dst, line)
		}
		return protocol.AppendRemoteLine(dst, f.host, no, f.id, line)
	}
	if f.ndjson {
		return appendJSONLine(dst, f.host, f.id, no, trimEOL(line))
	}
	if f.plain {
		dst = append(dst, line...)
		if len(line) == 0 || line[len(line)-1] != '\n' {
			dst = append(dst, '\n')
		}
		return dst
	}
	t := f.tmp[:0]
	t = append(t, "REMOTE|"...)
	t = append(t, f.host...)
	t = append(t, "|100|"...)
	t = strconv.AppendUint(t, no, 10)
	t = append(t, '|')
	t = append(t, f.id...)
	t = append(t, '|')
	t = append(t, trimEOL(line)...)
	f.tmp = t
	if f.scheme != nil {
		dst = f.scheme.AppendLine(dst, t)
	} else {
		dst = append(dst, t...)
	}
	return append(dst, '\n')
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return b[:n-1]
	}
	return b
}

// appendJSONLine writes {"host","file","line","text"} for jq; the
// strings go through encoding/json so control bytes and invalid UTF-8
// still give valid JSON.
func appendJSONLine(dst []byte, host, file string, no uint64, text []byte) []byte {
	dst = append(dst, `{"host":`...)
	dst = appendJSONString(dst, host)
	dst = append(dst, `,"file":`...)
	dst = appendJSONString(dst, file)
	dst = append(dst, `,"line":`...)
	dst = strconv.AppendUint(dst, no, 10)
	dst = append(dst, `,"text":`...)
	dst = appendJSONString(dst, string(text))
	return append(dst, "}\n"...)
}

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(dst, b...)
}
