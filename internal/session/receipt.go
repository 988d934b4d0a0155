package session

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Hidden messages beyond DTail 4.x. DTail 4.x clients ignore hidden
// messages they do not know (spec 3.8), so they are sent unconditionally.
const (
	// ReceiptPrefix starts the per-session completeness receipt, sent
	// right before `.syn close connection`.
	ReceiptPrefix = ".syn receipt "
	// CountPrefix starts a per-file match count: `.syn count N SOURCEID`.
	CountPrefix = ".syn count "
)

// Command options beyond DTail 4.x.
const (
	OptCount            = "count"
	OptFilesWithMatches = "fwm"
	// OptOffsets asks for `N@OFFSET` in the REMOTE line number field.
	OptOffsets = "offsets"
)

// Receipt is what one server read for a session: the client adds these
// up into the completeness summary.
type Receipt struct {
	FilesRead      int64 `json:"files_read"`
	FilesFailed    int64 `json:"files_unreadable"`
	Bytes          int64 `json:"bytes"`
	Lines          int64 `json:"lines"`
	FilesRotated   int64 `json:"rotated"`
	FilesTruncated int64 `json:"truncated"`
	LinesDropped   int64 `json:"lines_dropped"`
	// FilesSkipped are glob matches beyond MaxGlobTargets (not read).
	FilesSkipped int64 `json:"files_skipped,omitempty"`
	// LinesSkipped are lines a mapreduce read selected (table regex) but
	// its log format did not use: ignored (a default-format line that is
	// not INFO) or malformed. The read is complete; the result leaves
	// these lines out by the format's rules (spec §7).
	LinesSkipped int64 `json:"lines_skipped,omitempty"`
}

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
	b, _ := json.Marshal(s.Receipt())
	s.hidden(ReceiptPrefix + string(b))
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
