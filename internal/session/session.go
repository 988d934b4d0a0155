// Package session runs the DTail protocol for one client session of
// dserver: it parses commands, holds the session's limits, and turns what
// the reader (internal/reader) finds into REMOTE frames and hidden
// messages through its wire sink (wire.go), the only code that writes
// them.
package session

import (
	"io"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/reader"
	"github.com/dtail-go/dtail/internal/sink"
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

// Config describes one session.
type Config struct {
	// Host is the short host name put into REMOTE and SERVER headers.
	Host string
	// User is the SSH user: read slots are shared fairly between users.
	User string
	// LogPrefix is `user@ip:port`, the first field of session log lines.
	LogPrefix string

	MaxLineLength  int
	MaxGlobTargets int
	// MaxReadWorkers caps the goroutines that match one file's lines
	// (grep); the file still takes one MaxConcurrentCats slot. 0 or 1
	// reads serially; more than GOMAXPROCS is capped to it.
	MaxReadWorkers    int
	ReadRetryInterval time.Duration
	Limits            *reader.Limits
	// Bounds limit what one session may make the server hold.
	Bounds Bounds
	// acct is shared by a connection's session and its interactive
	// generations (which copy this Config).
	acct *account
	Open reader.Opener
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
}

// Session is one client session.
type Session struct {
	cfg   Config
	acct  *account
	out   *sink.Output
	rd    *reader.Reader
	stats sink.Tally

	mu         sync.Mutex
	optionsSet bool
	plain      bool
	woke       bool
	mapRun     *MapRun
}

// New creates a session writing to w. Close must be called to flush.
func New(cfg Config, w io.Writer) *Session {
	if cfg.acct == nil {
		cfg.acct = newAccount(cfg.Bounds)
	}
	s := &Session{cfg: cfg, out: sink.NewOutput(w, 16), acct: cfg.acct}
	s.rd = reader.New(reader.Config{
		User: cfg.User, MaxLineLength: cfg.MaxLineLength, MaxGlobTargets: cfg.MaxGlobTargets,
		MaxReadWorkers: cfg.MaxReadWorkers, ReadRetryInterval: cfg.ReadRetryInterval, Limits: cfg.Limits,
		Open: cfg.Open, AllowJournal: cfg.AllowJournal, Glob: cfg.Glob, ReadDir: cfg.ReadDir,
		BoundWindow: s.boundWindow, Log: sessionLog{s},
	})
	s.out.Watch(cfg.StallTimeout, func() {
		s.logWarn("Client stopped reading, closing session", "stalled", cfg.StallTimeout)
		if cfg.OnStall != nil {
			cfg.OnStall()
		}
	})
	return s
}

// Close flushes all output.
func (s *Session) Close() error { return s.out.Close() }

// Output exposes the session's writer for protocol messages.
func (s *Session) Output() *sink.Output { return s.out }

// SendServer queues a SERVER message (spec 3.7).
func (s *Session) SendServer(text string) {
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
