package sshserver

import (
	"io"

	"golang.org/x/crypto/ssh"
)

// Session is one authenticated connection's `session` channel after the
// client's `shell` request. Reads return the client's stdin, writes go to its
// stdout.
type Session struct {
	// User is the SSH user name, taken verbatim.
	User string
	// RemoteAddr is the client's ip:port.
	RemoteAddr string
	// FromAuthKeyStore is true when the in-memory auth-key store authorized
	// the connection.
	FromAuthKeyStore bool
	// Key is the public key the connection authenticated with (nil for
	// the password users). AUTHKEY records it as the registration's
	// authorizing key; it must not register when FromAuthKeyStore.
	Key ssh.PublicKey
	// Kind tells whether User is one of the reserved users.
	Kind UserKind
	// Job is, for UserSchedule and UserContinuous, the index of the job
	// (in Config.ScheduleJobs or ContinuousJobs) whose password was used;
	// -1 otherwise.
	Job int
	// Reserved is set for a health connection admitted beyond
	// MaxConnections; it is not counted in Stats.Current.
	Reserved bool

	ch   ssh.Channel
	conn ssh.Conn
}

// Disconnect closes the whole SSH connection. Closing only the channel
// does not release a Write blocked on the client's window (a client that
// stopped reading); closing the connection does.
func (s *Session) Disconnect() error {
	if s.conn == nil {
		return s.ch.Close()
	}
	return s.conn.Close()
}

var _ io.ReadWriteCloser = (*Session)(nil)

// Read reads client data from the channel.
func (s *Session) Read(p []byte) (int, error) { return s.ch.Read(p) }

// Write sends data to the client.
func (s *Session) Write(p []byte) (int, error) { return s.ch.Write(p) }

// CloseWrite signals EOF to the client while still allowing reads.
func (s *Session) CloseWrite() error { return s.ch.CloseWrite() }

// Close closes the channel. The server closes the whole connection once the
// handler returns, so calling Close is optional.
func (s *Session) Close() error { return s.ch.Close() }

// Prefix is the `user@ip:port` that starts session-related log lines.
func (s *Session) Prefix() string { return s.User + "@" + s.RemoteAddr }
