package session

import (
	"fmt"
	"strconv"

	"github.com/dtail-go/dtail/internal/protocol"
)

// The wire vocabulary lives in protocol; these names keep the session's
// own code short.
const (
	ReceiptPrefix       = protocol.ReceiptPrefix
	CountPrefix         = protocol.CountPrefix
	OptCount            = protocol.OptCount
	OptFilesWithMatches = protocol.OptFilesWithMatches
	OptOffsets          = protocol.OptOffsets
)

// Receipt is what one server read for a session (protocol.Receipt).
type Receipt = protocol.Receipt

// Receipt returns the session's counters as a receipt.
func (s *Session) Receipt() Receipt {
	st := s.Stats()
	return Receipt{FilesRead: st.FilesRead, FilesFailed: st.FilesFailed, Bytes: st.Bytes, Lines: st.Lines,
		FilesRotated: st.FilesRotated, FilesTruncated: st.FilesTruncated, FilesSkipped: st.FilesSkipped,
		LinesSkipped: s.mapSkipped()}
}

// mapSkipped is the number of lines the session's mapreduce aggregate did
// not use because of its log format (0 without a query).
func (s *Session) mapSkipped() int64 {
	m := s.currentMap()
	if m == nil {
		return 0
	}
	return m.agg.SkippedLines() + int64(m.agg.Errors())
}

func (s *Session) sendReceipt() {
	s.hidden(protocol.ReceiptMessage(s.Receipt()))
}

// reportCount delivers the result of a counting read: over the wire as a
// hidden message for the client to print, locally as `path:count` (or
// just `path` with --files-with-matches) like grep -c / grep -l.
func (s *Session) reportCount(req ReadRequest, path, id string, n uint64) {
	if !s.cfg.Serverless {
		s.hidden(CountPrefix + strconv.FormatUint(n, 10) + " " + id)
		return
	}
	var line string
	switch {
	case req.FilesWithMatches && n > 0:
		line = path + "\n"
	case req.FilesWithMatches:
		return
	default:
		line = fmt.Sprintf("%s:%d\n", path, n)
	}
	s.out.SendBytes([]byte(line))
}
