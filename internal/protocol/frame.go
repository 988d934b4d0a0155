package protocol

import (
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const (
	// ProtocolCompat is compared as a plain string by the server, so
	// "4.1.0" or "4.10" are mismatches just like "3".
	ProtocolCompat = "4.1"

	// MaxCommandFrameSize is the server's default limit (dtail.json
	// Server.MaxCommandFrameSize) for the bytes of one frame before its ';'.
	MaxCommandFrameSize = 1 << 20

	// FrameTerminator ends every client frame; base64 never produces it, so
	// no escaping is needed.
	FrameTerminator byte = ';'

	framePrefix = "protocol " + ProtocolCompat + " base64 "
)

// AckCloseConnectionFrame is the complete frame a client sends after
// receiving ".syn close connection"; precomputed because it is the one frame
// every one-shot client sends.
const AckCloseConnectionFrame = "protocol 4.1 base64 LmFjayBjbG9zZSBjb25uZWN0aW9u;"

// Errors returned by DecodeFrame and FrameReader. The two decode errors carry
// the exact text a reference server reports to the client.
const (
	ErrUnknownProtocolVersion Error = "unable to determine protocol version"
	ErrUndecodableMessage     Error = "unable to decode client message, DTail server and client versions may not be compatible"
	ErrFrameTooLarge          Error = "protocol: client frame exceeds maximum frame size"
)

// EncodeFrame wraps one command in a client frame:
// "protocol 4.1 base64 <std-base64(command)>;".
func EncodeFrame(command string) []byte {
	return AppendFrame(nil, command)
}

// AppendFrame is EncodeFrame appending to dst, so a client can batch the
// legacy command stream into one write.
func AppendFrame(dst []byte, command string) []byte {
	dst = append(dst, framePrefix...)
	dst = base64.StdEncoding.AppendEncode(dst, []byte(command))
	return append(dst, FrameTerminator)
}

// VersionMismatchError reports a frame whose protocol field is not exactly
// ProtocolCompat. The server answers it with a SERVER error and keeps the
// session open.
type VersionMismatchError struct {
	ClientVersion string
}

// Error returns the reference server's message text (without the trailing
// newline of LegacyNewline).
func (e *VersionMismatchError) Error() string {
	return fmt.Sprintf("the DTail server protocol version '%s' does not match client protocol version '%s', please update DTail %s",
		ProtocolCompat, e.ClientVersion, e.Outdated())
}

// Outdated names the side that should be upgraded: "server" when the client
// speaks a newer (major, minor) than 4.1, otherwise "client".
func (e *VersionMismatchError) Outdated() string {
	major, minor := parseVersion(e.ClientVersion)
	if major > 4 || (major == 4 && minor > 1) {
		return "server"
	}
	return "client"
}

// LegacyNewline reports whether the server must append "\n" to the message:
// clients of protocol major 3 and older split output at newlines rather than
// at 0xAC and would otherwise never display it.
func (e *VersionMismatchError) LegacyNewline() bool {
	major, _ := parseVersion(e.ClientVersion)
	return major <= 3
}

// parseVersion reads "major[.minor]" with everything after the first dot as
// the minor number; unparsable parts count as 0. So "4.2.1" is (4, 0) and an
// old client, while "5.1.1" is (5, 0) and a newer one, as the reference
// server decides.
func parseVersion(v string) (major, minor int) {
	parts := strings.SplitN(v, ".", 2)
	major, _ = strconv.Atoi(parts[0])
	if len(parts) > 1 {
		minor, _ = strconv.Atoi(parts[1])
	}
	return major, minor
}

// DecodeFrame checks one frame (without its ';') the way the reference server
// does and returns the decoded command text. Errors are
// ErrUnknownProtocolVersion, *VersionMismatchError or ErrUndecodableMessage.
// The reference sends their text after its logger prefix with no trailing
// newline (only LegacyNewline adds one), unlike most other SERVER errors.
func DecodeFrame(frame []byte) (string, error) {
	// Fields are split at single blanks with empty fields kept, so
	// "protocol  4.1 …" is a version mismatch with version "".
	rest := string(frame)
	f0, rest, ok := strings.Cut(rest, " ")
	if !ok || f0 != "protocol" {
		return "", ErrUnknownProtocolVersion
	}
	version, rest, ok := strings.Cut(rest, " ")
	if !ok { // fewer than three fields
		return "", ErrUnknownProtocolVersion
	}
	if version != ProtocolCompat {
		return "", &VersionMismatchError{ClientVersion: version}
	}
	encoding, data, ok := strings.Cut(rest, " ")
	if !ok || encoding != "base64" || strings.IndexByte(data, ' ') >= 0 {
		return "", ErrUndecodableMessage
	}
	decoded, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return "", ErrUndecodableMessage
	}
	return string(decoded), nil
}

// FrameReader splits the client→server byte stream into frames. Memory is
// bounded by the frame limit no matter what the peer sends.
type FrameReader struct {
	s splitter
}

// NewFrameReader reads frames of at most maxFrameSize bytes (before the ';');
// maxFrameSize ≤ 0 selects MaxCommandFrameSize, matching the configuration
// rule that tuning values ≤ 0 mean "default".
func NewFrameReader(r io.Reader, maxFrameSize int) *FrameReader {
	if maxFrameSize <= 0 {
		maxFrameSize = MaxCommandFrameSize
	}
	return &FrameReader{s: newSplitter(r, FrameTerminator, maxFrameSize, ErrFrameTooLarge)}
}

// Next returns the next frame without its ';'. The slice is only valid until
// the following call. At a clean end of stream it returns io.EOF; bytes
// without a terminating ';' at the end yield io.ErrUnexpectedEOF; an
// over-long frame yields ErrFrameTooLarge. Errors are permanent.
func (fr *FrameReader) Next() ([]byte, error) {
	tok, terminated, err := fr.s.next()
	if err != nil {
		return nil, err
	}
	if !terminated {
		fr.s.failed = io.ErrUnexpectedEOF
		if fr.s.err != io.EOF {
			fr.s.failed = fr.s.err
		}
		return nil, fr.s.failed
	}
	return tok, nil
}
