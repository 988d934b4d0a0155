package client

import (
	"bytes"
	"strconv"

	"github.com/dtail-go/dtail/internal/color"

	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// The printers of both modes: serverless runs hand them the reader's
// records, remote runs the decoded REMOTE messages, and what reaches
// stdout is the same either way.

// percent100 is the progress field of every line a read produces.
var percent100 = []byte("100")

// headerWriter is the one REMOTE header writer of the client, for
// serverless and remote lines alike: header fields are escaped (a host or
// file name holding a newline must not start a forged line). Host,
// progress and file name rarely change from one line to the next; the
// escaped `REMOTE|host|percent|` and `|id|` are kept. One goroutine uses a
// headerWriter.
type headerWriter struct {
	host, percent, id []byte
	pre, mid          []byte
}

// set prepares the parts for host, percent and id.
func (h *headerWriter) set(host, percent, id []byte) {
	if h.pre == nil || !bytes.Equal(host, h.host) || !bytes.Equal(percent, h.percent) {
		h.host = append(h.host[:0], host...)
		h.percent = append(h.percent[:0], percent...)
		h.pre = append(h.pre[:0], protocol.RemotePrefix...)
		h.pre = protocol.AppendEscaped(h.pre, host)
		h.pre = append(h.pre, '|')
		h.pre = protocol.AppendEscaped(h.pre, percent)
		h.pre = append(h.pre, '|')
	}
	if h.mid == nil || !bytes.Equal(id, h.id) {
		h.id = append(h.id[:0], id...)
		h.mid = append(h.mid[:0], '|')
		h.mid = protocol.AppendEscaped(h.mid, id)
		h.mid = append(h.mid, '|')
	}
}

// appendRaw writes one REMOTE line of a server for display (host and id
// were set): the header with the line number field as the server sent
// it, and the content without its newline; paint then adds the newline.
func (h *headerWriter) appendRaw(dst, lineNo, content []byte) []byte {
	dst = append(dst, h.pre...)
	dst = protocol.AppendEscaped(dst, lineNo)
	dst = append(dst, h.mid...)
	return append(dst, trimEOL(content)...)
}

// appendNumbered is appendRaw for a line read here: the line number is a
// number.
func (h *headerWriter) appendNumbered(dst []byte, no uint64, content []byte) []byte {
	dst = append(dst, h.pre...)
	dst = strconv.AppendUint(dst, no, 10)
	dst = append(dst, h.mid...)
	return append(dst, trimEOL(content)...)
}

// paint appends line (from appendRaw or appendNumbered) with colours when scheme is set,
// and the newline.
func paint(dst, line []byte, scheme *color.Scheme) []byte {
	if scheme != nil {
		dst = scheme.AppendLine(dst, line)
	} else {
		dst = append(dst, line...)
	}
	return append(dst, '\n')
}

// appendPlainLine writes a line's content with '\n' added when missing.
func appendPlainLine(dst, content []byte) []byte {
	dst = append(dst, content...)
	if len(content) == 0 || content[len(content)-1] != '\n' {
		dst = append(dst, '\n')
	}
	return dst
}

// appendNDJSON writes one line as a JSON object for jq (--output
// ndjson): host, file, line number, byte offset (-1: unknown, left out)
// and the timestamp x finds in the line.
func appendNDJSON(dst []byte, x *timewindow.Extractor, host, id string, no uint64, off int64, content []byte) []byte {
	content = trimEOL(content)
	ts, ok := x.Extract(content)
	return protocol.AppendJSONLine(dst, host, id, no, off, ts, ok, content)
}
