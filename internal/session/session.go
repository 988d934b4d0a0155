// Package session runs DTail commands for one client session: it expands
// globs, reads and matches files, and formats the output for the wire
// (dserver) or for a local terminal (serverless clients). dserver and the
// serverless clients run this same code.
package session

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/source"
)

// Logger is the server log. Each method returns the formatted line, or ""
// when the level is filtered; DTail sends exactly that text to clients as
// a SERVER message (spec 3.7).
type Logger interface {
	Info(args ...any) string
	Warn(args ...any) string
	Error(args ...any) string
	Debug(args ...any) string
}

// Opener opens a file for the session's user. The server's opener checks
// permissions; nil means os.Open.
type Opener func(path string) (*os.File, error)

// Config describes one session.
type Config struct {
	// Host is the short host name put into REMOTE and SERVER headers.
	Host string
	// User is the SSH user: read slots are shared fairly between users.
	User string
	// LogPrefix is `user@ip:port`, the first field of session log lines.
	LogPrefix string
	// Serverless selects local output: payload straight to the writer,
	// diagnostics to Diag instead of SERVER messages, stdin as a source.
	Serverless bool
	// Diag receives one-line local diagnostics in serverless mode.
	Diag io.Writer
	// HideWarnings drops local diagnostics that are only warnings (a long
	// line was split, files not there yet) when the user asked for
	// --logLevel error or quieter; problems that leave something unread
	// are always printed.
	HideWarnings bool
	// Prog prefixes local diagnostics (the binary name).
	Prog string
	// Colors paints local non-plain output; nil prints no colours.
	Colors *color.Scheme
	Stdin  io.Reader

	MaxLineLength  int
	MaxGlobTargets int
	// MaxReadWorkers caps the goroutines that match one file's lines
	// (grep); the file still takes one MaxConcurrentCats slot. 0 or 1
	// reads serially; more than GOMAXPROCS is capped to it.
	MaxReadWorkers    int
	ReadRetryInterval time.Duration
	Limits            *Limits
	// Bounds limit what one session may make the server hold.
	Bounds Bounds
	// acct is shared by a connection's session and its interactive
	// generations (which copy this Config).
	acct *account
	Open Opener
	// AllowJournal decides whether the session's user may read a
	// `journal:UNIT` target (the server's permission rules); nil allows
	// every unit (serverless: journalctl runs as the local user).
	AllowJournal func(target string) error
	// Glob expands a glob as the session's user and ReadDir lists a
	// directory as that user (names), so that nothing about a directory
	// the user could not list reaches the client; nil means filepath.Glob
	// and os.ReadDir (serverless: the user's own process).
	Glob    func(pattern string) ([]string, error)
	ReadDir func(dir string) []string
	Logger  Logger
	// StallTimeout ends the session (OnStall) when the client has not
	// accepted output for this long; zero disables the watchdog.
	StallTimeout time.Duration
	OnStall      func()

	// FullHost is the full host name ($hostname in queries).
	FullHost string
	// MapreduceLogFormat is the log format of queries with a from clause
	// but no logformat (Server.MapreduceLogFormat).
	MapreduceLogFormat string
	// OnAggregate, if set, receives AGGREGATE messages (without the
	// delimiter) instead of the output: serverless clients reduce them in
	// process.
	OnAggregate func(msg []byte)
}

// Stats counts what a session read; the serverless exit code and the
// completeness summary come from it.
type Stats struct {
	FilesRead      int64
	FilesFailed    int64
	Bytes          int64
	Lines          int64
	FilesRotated   int64
	FilesTruncated int64
	// FilesSkipped are glob matches beyond MaxGlobTargets: not read.
	FilesSkipped int64
}

type stats struct {
	filesRead, filesFailed, bytes, lines, rotatedN, truncatedN, skipped atomic.Int64
}

func (s *stats) addFile(bytes int64, lines uint64) {
	s.filesRead.Add(1)
	s.bytes.Add(bytes)
	s.lines.Add(int64(lines))
}
func (s *stats) rotated()   { s.rotatedN.Add(1) }
func (s *stats) truncated() { s.truncatedN.Add(1) }

// Session is one client session.
type Session struct {
	cfg   Config
	acct  *account
	out   *Output
	stats stats
	diag  sync.Mutex
	// groups: `--` between context groups of plain output (separator.go).
	groups groupSeps

	mu         sync.Mutex
	optionsSet bool
	plain      bool
	woke       bool
	mapRun     *MapRun
}

// New creates a session writing to w. Close must be called to flush.
func New(cfg Config, w io.Writer) *Session {
	if cfg.MaxLineLength <= 0 {
		cfg.MaxLineLength = source.DefaultMaxLineLength
	}
	if cfg.acct == nil {
		cfg.acct = newAccount(cfg.Bounds)
	}
	s := &Session{cfg: cfg, out: NewOutput(w, 16), acct: cfg.acct}
	s.out.Watch(cfg.StallTimeout, func() {
		s.logWarn("Client stopped reading, closing session", "stalled", cfg.StallTimeout)
		if cfg.OnStall != nil {
			cfg.OnStall()
		}
	})
	return s
}

// Stats returns the counters so far.
func (s *Session) Stats() Stats {
	return Stats{
		FilesRead:      s.stats.filesRead.Load(),
		FilesFailed:    s.stats.filesFailed.Load(),
		Bytes:          s.stats.bytes.Load(),
		Lines:          s.stats.lines.Load(),
		FilesRotated:   s.stats.rotatedN.Load(),
		FilesTruncated: s.stats.truncatedN.Load(),
		FilesSkipped:   s.stats.skipped.Load(),
	}
}

// Close flushes all output.
func (s *Session) Close() error { return s.out.Close() }

// Output exposes the session's writer for protocol messages.
func (s *Session) Output() *Output { return s.out }

func (s *Session) open(path string) (*source.File, error) {
	raw, err := s.openRaw(path)
	if err != nil {
		return nil, err
	}
	f, err := source.Wrap(path, raw)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return f, nil
}

func (s *Session) openRaw(path string) (*os.File, error) {
	var f *os.File
	var err error
	if s.cfg.Open != nil {
		f, err = s.cfg.Open(path)
	} else {
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		if fi.IsDir() {
			return nil, &os.PathError{Op: "open", Path: path, Err: fmt.Errorf("is a directory")}
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	return f, nil
}

// fileFailed records a file that could not be (fully) read. The remote
// client only learns that something failed (details could reveal other
// users' files); the server log and a local user get the reason.
func (s *Session) fileFailed(path string, err error) {
	s.stats.filesFailed.Add(1)
	s.logError("No permission to read file", path, err)
	s.notify(s.logWarn("Unable to read file(s), check server logs"), describe(path, err))
}

// notify delivers a user-facing message: over the wire the logger's line
// as a SERVER message; locally a one-line diagnostic.
func (s *Session) notify(wireText, localText string) {
	if s.cfg.Serverless {
		if s.cfg.Diag == nil {
			return
		}
		s.diag.Lock()
		defer s.diag.Unlock()
		prog := s.cfg.Prog
		if prog == "" {
			prog = "dtail"
		}
		// Payload and diagnostics share nothing but the terminal; flush
		// payload first so the message lands where it happened.
		fmt.Fprintf(s.cfg.Diag, "%s: %s\n", prog, localText)
		return
	}
	s.SendServer(wireText)
}

// warn is notify for a message that is only a warning: nothing is left
// unread because of it.
func (s *Session) warn(wireText, localText string) {
	if s.cfg.Serverless && s.cfg.HideWarnings {
		return
	}
	s.notify(wireText, localText)
}

// SendServer queues a SERVER message (spec 3.7).
func (s *Session) SendServer(text string) {
	if s.cfg.Serverless {
		return
	}
	s.mu.Lock()
	plain := s.plain
	s.mu.Unlock()
	s.out.Send(protocol.AppendServerMessage(s.out.Get(), s.cfg.Host, text, plain))
}

func (s *Session) args(args []any) []any {
	if s.cfg.LogPrefix == "" {
		return args
	}
	return append([]any{s.cfg.LogPrefix}, args...)
}

func (s *Session) logInfo(args ...any) string {
	if s.cfg.Logger == nil {
		return ""
	}
	return s.cfg.Logger.Info(s.args(args)...)
}

func (s *Session) logWarn(args ...any) string {
	if s.cfg.Logger == nil {
		return ""
	}
	return s.cfg.Logger.Warn(s.args(args)...)
}

func (s *Session) logError(args ...any) string {
	if s.cfg.Logger == nil {
		return ""
	}
	return s.cfg.Logger.Error(s.args(args)...)
}

func (s *Session) logDebug(args ...any) string {
	if s.cfg.Logger == nil {
		return ""
	}
	return s.cfg.Logger.Debug(s.args(args)...)
}
