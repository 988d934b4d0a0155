package protocol

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// The wire vocabulary beyond DTail 4.x, shared by our client and server.
// DTail 4.x servers ignore unknown command options, DTail 4.x clients
// ignore unknown hidden messages (spec 3.3, 3.8), so both degrade.

// Hidden messages.
const (
	// ReceiptPrefix starts the per-session completeness receipt, sent
	// right before `.syn close connection`.
	ReceiptPrefix = ".syn receipt "
	// CountPrefix starts a per-file match count: `.syn count N SOURCEID`.
	CountPrefix = ".syn count "
)

// Command options (extra `key=value` of the options field).
const (
	OptCount            = "count"
	OptFilesWithMatches = "fwm"
	// OptOffsets asks for `N@OFFSET` in the REMOTE line number field.
	OptOffsets = "offsets"
	// OptSince and OptUntil carry a time window as Unix seconds.
	OptSince = "since"
	OptUntil = "until"
)

// CapTimeWindowV1 announces that the server applies OptSince/OptUntil.
const CapTimeWindowV1 = "timewindow-v1"

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

// ReceiptMessage is the hidden message carrying r.
func ReceiptMessage(r Receipt) string {
	b, _ := json.Marshal(r)
	return ReceiptPrefix + string(b)
}

// ParseReceipt reads a `.syn receipt {json}` hidden message.
func ParseReceipt(msg []byte) (Receipt, bool) {
	var rc Receipt
	rest, ok := strings.CutPrefix(string(msg), ReceiptPrefix)
	if !ok || json.Unmarshal([]byte(rest), &rc) != nil {
		return rc, false
	}
	return rc, true
}

// AppendJSONLine writes {"host","file","line","offset","time","text"} for
// jq ("time" only when the line has a timestamp, as RFC 3339; "offset"
// only when known, ≥ 0); strings go through encoding/json so control
// bytes and invalid UTF-8 still give valid JSON. Serverless and remote
// output print the same objects with it.
func AppendJSONLine(dst []byte, host, file string, no uint64, offset int64, ts int64, hasTS bool, text []byte) []byte {
	dst = append(dst, `{"host":`...)
	dst = appendJSONString(dst, host)
	dst = append(dst, `,"file":`...)
	dst = appendJSONString(dst, file)
	dst = append(dst, `,"line":`...)
	dst = strconv.AppendUint(dst, no, 10)
	if offset >= 0 {
		dst = append(dst, `,"offset":`...)
		dst = strconv.AppendInt(dst, offset, 10)
	}
	if hasTS {
		dst = append(dst, `,"time":"`...)
		dst = time.Unix(ts, 0).AppendFormat(dst, time.RFC3339)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"text":`...)
	dst = appendJSONString(dst, string(text))
	return append(dst, "}\n"...)
}

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(dst, b...)
}
