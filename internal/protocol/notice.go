package protocol

import "bytes"

// NoticeKind is what a SERVER message tells about the run. The client's
// exit code and receipt come from these kinds, never from the message
// being displayed.
type NoticeKind int

const (
	// NoticeNone: informational (INFO/DEBUG text, AUTHKEY replies, OK).
	NoticeNone NoticeKind = iota
	// NoticeUnreadable: a file or glob could not be read (WARN "Unable to
	// read file(s)", glob limit, journal). "Giving up to read file(s)"
	// follows an "Unable to read" of the same glob and is not counted.
	NoticeUnreadable
	// NoticeCommandFailed: the server refused or failed a command the
	// client sent (ERROR/FATAL level, "Unable to parse command").
	NoticeCommandFailed
	// NoticeFiltered: the text is empty. DTail 4.x sends what its logger
	// returned, and a logger whose level filters WARN returns "": the
	// client knows that something was reported, not what (spec 3.7).
	NoticeFiltered
)

// Texts of the DTail 4.x SERVER messages the classification relies on
// (spec 3.7).
var (
	unreadableTexts = [][]byte{
		[]byte("Unable to read file(s)"),
		[]byte("Glob expansion exceeded server limit"),
		[]byte("Unable to read journal"),
	}
	commandFailedTexts = [][]byte{
		[]byte("Unable to parse command"),
		[]byte("Received unknown user command"),
	}
)

// SplitServerMessage returns the text of a `SERVER|host|TEXT` message;
// ok is false for other messages.
func SplitServerMessage(msg []byte) (host, text []byte, ok bool) {
	rest, found := bytes.CutPrefix(msg, []byte(ServerPrefix))
	if !found {
		return nil, nil, false
	}
	host, text, found = bytes.Cut(rest, []byte{'|'})
	if !found {
		return rest, nil, true
	}
	return host, text, true
}

// ClassifyNotice classifies the text of a SERVER message (without the
// SERVER|host| header, as plain-mode servers send it).
func ClassifyNotice(text []byte) NoticeKind {
	t := bytes.TrimSpace(text)
	if len(t) == 0 {
		return NoticeFiltered
	}
	level, _, _ := bytes.Cut(t, []byte{'|'})
	switch string(level) {
	case "ERROR", "FATAL":
		return NoticeCommandFailed
	case "WARN":
		for _, u := range unreadableTexts {
			if bytes.Contains(t, u) {
				return NoticeUnreadable
			}
		}
		for _, c := range commandFailedTexts {
			if bytes.Contains(t, c) {
				return NoticeCommandFailed
			}
		}
	}
	return NoticeNone
}

// AppendEscaped appends server text that is not a log line (host and file
// names, SERVER messages) with control bytes written as \n, \r, \t, \e or
// \xNN, so that it cannot forge or hide lines on a terminal or in a file.
func AppendEscaped(dst, text []byte) []byte {
	const hex = "0123456789abcdef"
	for _, c := range text {
		switch {
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\\':
			dst = append(dst, '\\', '\\')
		case c < 0x20 || c == 0x7f:
			dst = append(dst, '\\', 'x', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// NeedsEscape reports whether AppendEscaped would change text.
func NeedsEscape(text []byte) bool {
	for _, c := range text {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return true
		}
	}
	return false
}

// Escaping of the delimiter between our client and our server (capability
// CapEscapeV1, requested with the command option OptEscape): the server
// writes 0xAC as EscapeByte 'a' and EscapeByte itself as EscapeByte 'f',
// in every REMOTE message (names and line), so any line arrives exactly.
// 0xFF never occurs in UTF-8 text, so escaped messages are rare and the
// check is one IndexByte per block or message.
//
// With OptEscape, OptBareLines asks for payload lines without the REMOTE
// header (what --plain prints) while SERVER messages keep theirs. A bare
// line whose first byte could be read as another kind of message ('.',
// 'A', 'R', 'S' or EscapeByte) starts with BareLineMark.
const (
	CapEscapeV1  = "escape-v1"
	OptEscape    = "esc"
	OptBareLines = "bare"
	EscapeByte   = 0xFF
)

// BareLineMark starts a bare line that would otherwise look like another
// message kind.
const BareLineMark = "\xffl"

// AppendBareLine appends an (already escaped) bare payload line and the
// delimiter.
func AppendBareLine(dst, line []byte) []byte {
	if len(line) > 0 {
		switch line[0] {
		case '.', 'A', 'R', 'S', EscapeByte:
			dst = append(dst, BareLineMark...)
		}
	}
	dst = append(dst, line...)
	return append(dst, MessageDelimiter)
}

// NeedsDelimiterEscape reports whether b holds a byte AppendDelimEscaped
// changes.
func NeedsDelimiterEscape(b []byte) bool {
	return bytes.IndexByte(b, MessageDelimiter) >= 0 || bytes.IndexByte(b, EscapeByte) >= 0
}

// AppendDelimEscaped appends b with 0xAC and 0xFF escaped.
func AppendDelimEscaped(dst, b []byte) []byte {
	for len(b) > 0 {
		i := bytes.IndexByte(b, MessageDelimiter)
		if j := bytes.IndexByte(b, EscapeByte); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i < 0 {
			return append(dst, b...)
		}
		dst = append(dst, b[:i]...)
		if b[i] == MessageDelimiter {
			dst = append(dst, EscapeByte, 'a')
		} else {
			dst = append(dst, EscapeByte, 'f')
		}
		b = b[i+1:]
	}
	return dst
}

// AppendDelimUnescaped reverses AppendDelimEscaped; an escape byte not
// followed by 'a' or 'f' is kept as is.
func AppendDelimUnescaped(dst, b []byte) []byte {
	for len(b) > 0 {
		i := bytes.IndexByte(b, EscapeByte)
		if i < 0 || i+1 >= len(b) {
			return append(dst, b...)
		}
		dst = append(dst, b[:i]...)
		switch b[i+1] {
		case 'a':
			dst = append(dst, MessageDelimiter)
		case 'f':
			dst = append(dst, EscapeByte)
		default:
			dst = append(dst, b[i], b[i+1])
		}
		b = b[i+2:]
	}
	return dst
}
