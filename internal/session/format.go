package session

import (
	"strconv"
	"time"

	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/timewindow"
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
	// offset of the line being appended, and whether the wire line number
	// carries it (`N@OFFSET`).
	offset      int64
	wireOffsets bool
	ts          *timewindow.Extractor
	tmp         []byte
	// escape: wire lines escape 0xAC/0xFF (the client asked for
	// protocol.OptEscape); dirty: the current block holds such a byte.
	escape, dirty bool
	// bare: wire lines without the REMOTE header, marked where needed
	// (protocol.AppendBareLine); only with escape.
	bare bool
}

// needsLineNumbers reports whether the format prints line numbers.
func (f *lineFormat) needsLineNumbers() bool { return !f.plain && !f.bare }

// rawBlocks reports whether a block of complete lines can be copied as is.
func (f *lineFormat) rawBlocks() bool { return !f.wire && f.plain }

// appendLine appends one line. line includes its '\n' when terminated.
func (f *lineFormat) appendLine(dst, line []byte, no uint64) []byte {
	if f.wire {
		// Tail lines keep their newline on the wire. The 4.3.2-ng server
		// strips it (spec 3.6) and its client appends one, but 4.3.2
		// clients print messages as they come and would glue lines
		// together; with the newline kept both print correctly.
		if f.escape && f.dirty && protocol.NeedsDelimiterEscape(line) {
			f.tmp = protocol.AppendDelimEscaped(f.tmp[:0], line)
			line = f.tmp
		}
		if f.bare {
			return protocol.AppendBareLine(dst, line)
		}
		if f.plain {
			return protocol.AppendMessage(dst, line)
		}
		if f.wireOffsets {
			dst = append(dst, "REMOTE|"...)
			dst = append(dst, f.host...)
			dst = append(dst, "|100|"...)
			dst = strconv.AppendUint(dst, no, 10)
			dst = append(dst, '@')
			dst = strconv.AppendInt(dst, f.offset, 10)
			dst = append(dst, '|')
			dst = append(dst, f.id...)
			dst = append(dst, '|')
			dst = append(dst, line...)
			return append(dst, protocol.MessageDelimiter)
		}
		return protocol.AppendRemoteLine(dst, f.host, no, f.id, line)
	}
	if f.ndjson {
		if f.ts == nil {
			f.ts = timewindow.NewExtractor(time.Now())
		}
		ts, ok := f.ts.Extract(line)
		return protocol.AppendJSONLine(dst, f.host, f.id, no, f.offset, ts, ok, trimEOL(line))
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
