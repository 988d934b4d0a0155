package protocol

import (
	"bytes"
	"io"
	"strconv"
	"strings"
)

// MessageDelimiter terminates every server→client message. It is the raw
// byte 0xAC, not UTF-8 "¬"; payload is not escaped, so content containing
// the byte (e.g. "€" = E2 82 AC) splits into two messages on the client.
const MessageDelimiter byte = 0xAC

// Hidden control messages (first byte '.') and their pieces.
const (
	CapabilitiesPrefix = ".syn capabilities"
	OutputWake         = ".output wake\n"
	SynCloseConnection = ".syn close connection"
	AckCloseConnection = ".ack close connection"
	sessionStartOK     = ".syn session start ok "
	sessionUpdateOK    = ".syn session update ok "
	sessionErr         = ".syn session err "

	CapQueryUpdateV1 = "query-update-v1"
	CapJournalV1     = "journal-v1"
)

// Prefixes of non-hidden messages.
const (
	RemotePrefix    = "REMOTE|"
	ServerPrefix    = "SERVER|"
	AggregatePrefix = "AGGREGATE|"

	// RemotePercent is what current servers always put into the PERC field;
	// older ones used %3d, which clients colour as a warning.
	RemotePercent = "100"
)

// DefaultMaxMessageSize bounds one server message on the client. Servers
// split lines at MaxLineLength (1 MiB by default), so legitimate messages
// stay far below it.
const DefaultMaxMessageSize = 16 << 20

// messageReadBuffer is the client's read size for server output.
const messageReadBuffer = 256 << 10

// ErrMessageTooLarge is returned by MessageReader for a message over its limit.
const ErrMessageTooLarge Error = "protocol: server message exceeds maximum message size"

// AppendMessage appends payload and the delimiter.
func AppendMessage(dst, payload []byte) []byte {
	dst = append(dst, payload...)
	return append(dst, MessageDelimiter)
}

// AppendRemoteLine appends one non-plain payload line,
// "REMOTE|host|100|lineNo|sourceID|content" + 0xAC, without allocating when
// dst has room.
func AppendRemoteLine(dst []byte, host string, lineNo uint64, sourceID string, content []byte) []byte {
	dst = append(dst, RemotePrefix...)
	dst = append(dst, host...)
	dst = append(dst, '|')
	dst = append(dst, RemotePercent...)
	dst = append(dst, '|')
	dst = strconv.AppendUint(dst, lineNo, 10)
	dst = append(dst, '|')
	dst = append(dst, sourceID...)
	dst = append(dst, '|')
	dst = append(dst, content...)
	return append(dst, MessageDelimiter)
}

// AppendServerMessage appends a SERVER message. In plain mode the header is
// dropped and texts that are empty or a lone "\n" are not sent at all (the
// reference's logger returns "" for filtered levels, which non-plain clients
// see as "SERVER|host|" plus whatever remained).
func AppendServerMessage(dst []byte, host, text string, plain bool) []byte {
	if plain {
		if text == "" || text == "\n" {
			return dst
		}
		dst = append(dst, text...)
		return append(dst, MessageDelimiter)
	}
	dst = append(dst, ServerPrefix...)
	dst = append(dst, host...)
	dst = append(dst, '|')
	dst = append(dst, text...)
	return append(dst, MessageDelimiter)
}

// CapabilitiesMessage is the first message of a normal session, e.g.
// ".syn capabilities query-update-v1 journal-v1".
func CapabilitiesMessage(caps ...string) string {
	var b strings.Builder
	b.WriteString(CapabilitiesPrefix)
	for _, c := range caps {
		b.WriteByte(' ')
		b.WriteString(c)
	}
	return b.String()
}

// IsCapabilities reports whether msg is the capabilities message.
func IsCapabilities(msg []byte) bool {
	_, ok := ParseCapabilities(msg)
	return ok
}

// ParseCapabilities returns the capability names of a capabilities message;
// ok is false for any other message.
func ParseCapabilities(msg []byte) (caps []string, ok bool) {
	rest, found := bytes.CutPrefix(msg, []byte(CapabilitiesPrefix))
	if !found {
		return nil, false
	}
	if len(rest) > 0 && rest[0] != ' ' && rest[0] != '\n' {
		return nil, false
	}
	for f := range strings.FieldsSeq(string(rest)) {
		caps = append(caps, f)
	}
	return caps, true
}

// IsCloseConnection reports whether msg asks the client to send
// AckCloseConnection and finish.
func IsCloseConnection(msg []byte) bool {
	return string(bytes.TrimSpace(msg)) == SynCloseConnection
}

// MessageKind is the receiver's classification of a server message.
type MessageKind int

const (
	KindDisplay    MessageKind = iota // print as-is (REMOTE, SERVER, plain payload)
	KindHidden                        // first byte '.'; never shown
	KindAuthKeyOK                     // AUTHKEY accepted; not shown
	KindAuthKeyErr                    // AUTHKEY rejected; client warns
	KindAggregate                     // mapreduce partial result
)

func (k MessageKind) String() string {
	switch k {
	case KindDisplay:
		return "display"
	case KindHidden:
		return "hidden"
	case KindAuthKeyOK:
		return "authkey-ok"
	case KindAuthKeyErr:
		return "authkey-err"
	case KindAggregate:
		return "aggregate"
	}
	return "MessageKind(" + strconv.Itoa(int(k)) + ")"
}

// Classify decides a message's class in the reference client's order. Only
// mapreduce clients treat KindAggregate specially; others display it.
func Classify(msg []byte) MessageKind {
	if len(msg) > 0 && msg[0] == '.' {
		return KindHidden
	}
	last := LastField(msg)
	if string(last) == AuthKeyOK {
		return KindAuthKeyOK
	}
	if bytes.HasPrefix(last, []byte(authKeyErrPrefix)) {
		return KindAuthKeyErr
	}
	if bytes.HasPrefix(msg, []byte(AggregatePrefix)) {
		return KindAggregate
	}
	return KindDisplay
}

// LastField returns the part of msg after its last '|' once surrounding
// white space is trimmed; AUTHKEY replies and the health "OK" are recognised
// by it regardless of the SERVER|host| header.
func LastField(msg []byte) []byte {
	msg = bytes.TrimSpace(msg)
	if i := bytes.LastIndexByte(msg, '|'); i >= 0 {
		return msg[i+1:]
	}
	return msg
}

// RemoteLine is a parsed REMOTE message; the slices alias the message.
type RemoteLine struct {
	Host, Percent, LineNo, SourceID, Content []byte
}

// ParseRemoteLine splits a REMOTE message into its fields; the content is
// everything after the fifth '|', so it may itself contain '|'.
func ParseRemoteLine(msg []byte) (RemoteLine, bool) {
	rest, ok := bytes.CutPrefix(msg, []byte(RemotePrefix))
	if !ok {
		return RemoteLine{}, false
	}
	var f [4][]byte
	for i := range f {
		var found bool
		f[i], rest, found = bytes.Cut(rest, []byte{'|'})
		if !found {
			return RemoteLine{}, false
		}
	}
	return RemoteLine{Host: f[0], Percent: f[1], LineNo: f[2], SourceID: f[3], Content: rest}, true
}

// MessageReader splits the server→client stream at MessageDelimiter.
type MessageReader struct {
	s splitter
}

// NewMessageReader reads messages of at most maxSize bytes; maxSize ≤ 0
// selects DefaultMaxMessageSize.
func NewMessageReader(r io.Reader, maxSize int) *MessageReader {
	if maxSize <= 0 {
		maxSize = DefaultMaxMessageSize
	}
	s := newSplitter(r, MessageDelimiter, maxSize, ErrMessageTooLarge)
	// Server output streams in: each Read on an SSH channel may send a
	// window adjustment, so small reads cost a packet per 4 KiB. A 256 KiB
	// buffer made a 100 MB dcat 1.66x faster. It is reached by doubling
	// while reads fill the buffer: 256 KiB up front for each of 10,000
	// sessions of a few lines each was most of the client's memory.
	s.ceiling = messageReadBuffer
	return &MessageReader{s: s}
}

// Next returns the next message without its delimiter; the slice is valid
// until the following call. Bytes after the last delimiter are returned as a
// final message when the stream ends, so nothing the server wrote is lost.
// At the end it returns io.EOF (or the underlying read error).
func (mr *MessageReader) Next() ([]byte, error) {
	tok, _, err := mr.s.next()
	return tok, err
}
