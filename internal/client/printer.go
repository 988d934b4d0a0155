package client

import (
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// The printers of both modes: serverless runs hand them the reader's
// records, remote runs the decoded REMOTE messages, and what reaches
// stdout is the same either way.

// percent100 is the progress field of every line a read produces.
var percent100 = []byte("100")

// appendDisplayLine writes one REMOTE line for display, the one REMOTE
// header writer of the client: header fields escaped (a host or file name
// holding a newline must not start a forged line), the content as is,
// '\n' added when missing. Colours are painted over the result
// (color.Scheme.AppendLine).
func appendDisplayLine(dst []byte, rl protocol.RemoteLine) []byte {
	return appendPlainLine(appendRemoteHeader(dst, rl), rl.Content)
}

// appendRemoteHeader writes `REMOTE|host|percent|lineno|id|`.
func appendRemoteHeader(dst []byte, rl protocol.RemoteLine) []byte {
	dst = append(dst, protocol.RemotePrefix...)
	dst = protocol.AppendEscaped(dst, rl.Host)
	dst = append(dst, '|')
	dst = protocol.AppendEscaped(dst, rl.Percent)
	dst = append(dst, '|')
	dst = protocol.AppendEscaped(dst, rl.LineNo)
	dst = append(dst, '|')
	dst = protocol.AppendEscaped(dst, rl.SourceID)
	return append(dst, '|')
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
