package session

import (
	"strconv"

	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/sink"
)

// lineFormat writes read lines as wire messages: REMOTE
// (`REMOTE|host|100|n|id|line` + 0xAC), plain (`line` + 0xAC) or bare
// (protocol.AppendBareLine).
type lineFormat struct {
	plain bool
	host  string
	id    string
	// offsets: the line number field carries the byte offset
	// (`N@OFFSET`, asked for by our clients for ndjson).
	offsets bool
	// escape: lines escape 0xAC/0xFF (the client asked for
	// protocol.OptEscape).
	escape bool
	// bare: lines without the REMOTE header, marked where needed
	// (protocol.AppendBareLine); only with escape.
	bare bool
	tmp  []byte
}

// append appends the messages of one record.
func (f *lineFormat) append(dst []byte, r *sink.Record) []byte {
	// One scan per record (a whole block for a run): almost none needs
	// escaping.
	dirty := f.escape && protocol.NeedsDelimiterEscape(r.Line)
	if !r.Run {
		return f.appendLine(dst, r.Line, r.No, r.Offset, dirty)
	}
	r.Lines(func(line []byte, no uint64) {
		dst = f.appendLine(dst, line, no, r.Offset, dirty)
	})
	return dst
}

// appendLine appends one line. line includes its '\n' when terminated.
// Lines keep their newline on the wire: the 4.3.2-ng server strips it
// from tail lines (spec 3.6) and its client appends one, but 4.3.2
// clients print messages as they come and would glue lines together;
// with the newline kept both print correctly.
func (f *lineFormat) appendLine(dst, line []byte, no uint64, off int64, dirty bool) []byte {
	if dirty && protocol.NeedsDelimiterEscape(line) {
		f.tmp = protocol.AppendDelimEscaped(f.tmp[:0], line)
		line = f.tmp
	}
	if f.bare {
		return protocol.AppendBareLine(dst, line)
	}
	if f.plain {
		return protocol.AppendMessage(dst, line)
	}
	if f.offsets && off >= 0 {
		dst = append(dst, "REMOTE|"...)
		dst = append(dst, f.host...)
		dst = append(dst, "|100|"...)
		dst = strconv.AppendUint(dst, no, 10)
		dst = append(dst, '@')
		dst = strconv.AppendInt(dst, off, 10)
		dst = append(dst, '|')
		dst = append(dst, f.id...)
		dst = append(dst, '|')
		dst = append(dst, line...)
		return append(dst, protocol.MessageDelimiter)
	}
	return protocol.AppendRemoteLine(dst, f.host, no, f.id, line)
}
