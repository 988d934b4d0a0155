// Package protocol implements the DTail 4.1 wire protocol as spoken by
// DTail 4.x peers: the base64 client frames, the command grammar carried in
// them, the serialized regex and option strings, the 0xAC-delimited server
// messages and the SESSION START/UPDATE payload.
//
// Everything here is byte-exact with the reference implementation, including
// its quirks (no escaping of 0xAC inside payload, a trailing blank after
// "regex:noop", options dropped from "timeout N" read commands), because real
// DTail clients and servers must be able to talk to ours.
//
// The package is a leaf: it does no I/O of its own beyond reading from an
// io.Reader handed to it, holds no global state and imports only the standard
// library, so both the server session and the client can share it.
package protocol

// Error is the type of this package's sentinel errors. It is a string type
// so that the sentinels can be constants; their text is exactly what a
// reference server sends back, so callers can forward Error() verbatim.
type Error string

func (e Error) Error() string { return string(e) }
