// Package logger writes DTail's diagnostic log lines for the server and the
// clients: level filtering, the two line layouts (server and client), the
// stdout / file / fout / none sinks with daily or signal-driven file rotation,
// optional colouring of the stdout copy, and holding stdout output while the
// client talks to the user.
//
// Every logging method returns the line it formatted because the server
// forwards exactly that string to its clients, including the empty string
// when the level is filtered out (spec §3.7).
package logger

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/color"
)

// Options configures a Logger. The zero value logs at None to stdout; real
// callers set at least Level and Sink.
type Options struct {
	Level Level
	Sink  Sink
	// LogDir receives the log files; it is created on the first file write.
	// Empty means "log", the config default.
	LogDir string
	// Rotation "daily" (case-insensitive, also the empty string) writes to
	// <LogDir>/YYYYMMDD.log by local date and switches files when the date
	// changes; any other value writes to <LogDir>/<Name>.log, which is only
	// switched by Reopen (the binaries call it on SIGHUP).
	Rotation string
	// Name is the base name of the non-daily log file; empty means the base
	// name of os.Args[0].
	Name string
	Role Role
	// Hostname is printed in client lines (the full host name or override).
	Hostname string
	// Stdout receives the stdout copy of each line in a single Write call;
	// nil means os.Stdout. If other code writes to the same writer
	// concurrently, the writer has to serialise those writes itself. A
	// writer with a Flush() error method is flushed by Flush and after
	// Fatal lines.
	Stdout io.Writer
	// Stderr receives reports about log file failures; nil means os.Stderr.
	Stderr io.Writer
	// Clock provides time stamps and the date for daily rotation; nil means
	// time.Now.
	Clock func() time.Time
	// Colors, when set, paints the stdout copy (never the file) with
	// color.Scheme.AppendLine.
	Colors *color.Scheme
	// PauseLimit bounds the bytes of stdout output held while paused; lines
	// beyond it are dropped and counted. Zero means 1 MiB.
	PauseLimit int
}

// Logger is safe for concurrent use. Create it with New and release it with
// Close when a file sink is used.
type Logger struct {
	level  Level
	sink   Sink
	role   Role
	host   string
	clock  func() time.Time
	colors *color.Scheme
	bufs   sync.Pool

	mu        sync.Mutex // guards the stdout side below
	stdout    io.Writer
	paint     []byte
	paused    int
	held      []byte
	heldLimit int
	heldDrops int

	file *fileSink // nil unless the sink includes the file
}

// New creates a Logger. With a file sink it starts a goroutine that flushes
// the file buffer every 100 ms until Close.
func New(o Options) *Logger {
	l := &Logger{
		level:     o.Level,
		sink:      o.Sink,
		role:      o.Role,
		host:      o.Hostname,
		clock:     o.Clock,
		colors:    o.Colors,
		stdout:    o.Stdout,
		heldLimit: o.PauseLimit,
	}
	l.bufs.New = func() any { b := make([]byte, 0, 256); return &b }
	if l.clock == nil {
		l.clock = time.Now
	}
	if l.stdout == nil {
		l.stdout = os.Stdout
	}
	if l.heldLimit <= 0 {
		l.heldLimit = 1 << 20
	}
	if o.Sink.toFile() {
		dir := o.LogDir
		if dir == "" {
			dir = "log"
		}
		name := o.Name
		if name == "" {
			name = filepath.Base(os.Args[0])
		}
		stderr := o.Stderr
		if stderr == nil {
			stderr = os.Stderr
		}
		daily := o.Rotation == "" || strings.EqualFold(o.Rotation, "daily")
		l.file = newFileSink(dir, name, daily, stderr, l.clock)
		l.file.startFlusher(flushInterval)
	}
	return l
}

// Enabled reports whether lines of the level are formatted, so that hot
// paths can skip building arguments.
func (l *Logger) Enabled(level Level) bool {
	return level != None && level <= l.level
}

// Level returns the configured level.
func (l *Logger) Level() Level { return l.level }

// Sink returns the configured sink, e.g. for a client deciding where payload
// goes.
func (l *Logger) Sink() Sink { return l.sink }

// Fatal logs at Fatal level and flushes the sinks so that the line survives
// an immediate exit; terminating is up to the caller.
func (l *Logger) Fatal(args ...any) string { return l.Log(Fatal, args...) }

// Error logs at Error level.
func (l *Logger) Error(args ...any) string { return l.Log(Error, args...) }

// Warn logs at Warn level.
func (l *Logger) Warn(args ...any) string { return l.Log(Warn, args...) }

// Info logs at Info level.
func (l *Logger) Info(args ...any) string { return l.Log(Info, args...) }

// Verbose logs at Verbose level.
func (l *Logger) Verbose(args ...any) string { return l.Log(Verbose, args...) }

// Debug logs at Debug level.
func (l *Logger) Debug(args ...any) string { return l.Log(Debug, args...) }

// Devel logs at Devel level.
func (l *Logger) Devel(args ...any) string { return l.Log(Devel, args...) }

// Trace logs at Trace level.
func (l *Logger) Trace(args ...any) string { return l.Log(Trace, args...) }

// Log formats args at the level and writes the line to the sinks. It returns
// the uncoloured line including its trailing newline, or "" when the level
// is filtered out; the returned line does not depend on the sink.
func (l *Logger) Log(level Level, args ...any) string {
	if !l.Enabled(level) {
		return ""
	}
	var now time.Time
	if l.role == Server || l.file != nil {
		now = l.clock()
	}
	bp := l.bufs.Get().(*[]byte)
	b := l.format((*bp)[:0], level, now, args)
	line := string(b)
	if l.sink.toStdout() {
		l.writeStdout(b, level == Fatal)
	}
	if l.file != nil {
		l.file.write(b, now, level == Fatal)
	}
	if cap(b) <= 64*1024 { // keep the pool from pinning huge buffers
		*bp = b
		l.bufs.Put(bp)
	}
	return line
}

// Raw writes a payload line verbatim (newline added if missing) to the log
// file only; it is a no-op without a file sink and is not level filtered.
// Clients use it for -log-payload.
func (l *Logger) Raw(line []byte) {
	if l.file == nil {
		return
	}
	l.file.writeRaw(line, l.clock())
}

// Pause holds stdout output (lines are kept and written by the matching
// Resume) so that a prompt can use the terminal undisturbed. The file sink
// keeps writing. Pauses nest.
func (l *Logger) Pause() {
	l.mu.Lock()
	l.paused++
	l.mu.Unlock()
}

// Resume ends one Pause; when the last one ends, the held output is written,
// followed by a WARN line if some had to be dropped. A Resume without Pause
// is ignored.
func (l *Logger) Resume() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.paused == 0 {
		return
	}
	l.paused--
	if l.paused > 0 {
		return
	}
	if len(l.held) > 0 {
		_, _ = l.stdout.Write(l.held)
	}
	l.held = l.held[:0]
	if cap(l.held) > 64*1024 {
		l.held = nil
	}
	if n := l.heldDrops; n > 0 {
		l.heldDrops = 0
		b := l.format(nil, Warn, l.clock(), []any{"Dropped log lines while output was paused", n})
		_, _ = l.stdout.Write(l.painted(b))
	}
}

// Flush writes buffered file output and flushes Stdout if it can be flushed.
func (l *Logger) Flush() error {
	var err error
	if l.file != nil {
		err = l.file.flush()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.stdout.(interface{ Flush() error }); ok {
		if e := f.Flush(); err == nil {
			err = e
		}
	}
	return err
}

// Reopen closes the log file so that the next line opens it again, picking
// up a file moved away by logrotate.
func (l *Logger) Reopen() {
	if l.file != nil {
		l.file.reopen()
	}
}

// Close stops the flush goroutine, flushes and closes the log file. Lines
// logged afterwards still reach stdout but no longer the file.
func (l *Logger) Close() error {
	if l.file == nil {
		return l.Flush()
	}
	err := l.file.close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.stdout.(interface{ Flush() error }); ok {
		if e := f.Flush(); err == nil {
			err = e
		}
	}
	return err
}

func (l *Logger) writeStdout(b []byte, flush bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.painted(b)
	if l.paused > 0 {
		if len(l.held)+len(out) > l.heldLimit {
			l.heldDrops++
			return
		}
		l.held = append(l.held, out...)
		return
	}
	_, _ = l.stdout.Write(out)
	if flush {
		if f, ok := l.stdout.(interface{ Flush() error }); ok {
			_ = f.Flush()
		}
	}
}

// painted returns b coloured for stdout; the result aliases l.paint, so the
// caller must hold l.mu and use it before the next call.
func (l *Logger) painted(b []byte) []byte {
	if l.colors == nil {
		return b
	}
	l.paint = l.colors.AppendLine(l.paint[:0], b)
	if cap(l.paint) > 64*1024 {
		out := l.paint
		l.paint = nil
		return out
	}
	return l.paint
}

// format appends the line layout of the role.
func (l *Logger) format(b []byte, level Level, now time.Time, args []any) []byte {
	if l.role == Client {
		b = append(b, "CLIENT|"...)
		b = append(b, l.host...)
		b = append(b, '|')
		b = append(b, level.String()...)
	} else {
		b = append(b, level.String()...)
		b = append(b, '|')
		b = appendStamp(b, now)
	}
	for _, a := range args {
		b = append(b, '|')
		if l.role == Client {
			b = appendArg(b, a)
			continue
		}
		start := len(b)
		b = appendArg(b, a)
		b = escapeField(b, start)
	}
	return append(b, '\n')
}

// escapeField escapes b[start:], one field of a server log line: control
// bytes (tab excepted), DEL and the field separator become \xNN. Fields
// carry what the network sent (user names, client versions, file names,
// commands), and the server log is itself mapreduce input (MAPREDUCE:STATS
// lines, spec 4.15): a raw newline or '|' would let any client forge a
// line or a field that dmap then counts. Lines without such bytes, nearly
// all of them, are not copied.
func escapeField(b []byte, start int) []byte {
	i := start
	for ; i < len(b); i++ {
		if needsEscape(b[i]) {
			break
		}
	}
	if i == len(b) {
		return b
	}
	tail := append([]byte(nil), b[i:]...)
	b = b[:i]
	const hex = "0123456789abcdef"
	for _, c := range tail {
		if needsEscape(c) {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
			continue
		}
		b = append(b, c)
	}
	return b
}

func needsEscape(c byte) bool {
	return (c < 0x20 && c != '\t') || c == 0x7f || c == '|'
}

// appendStamp appends the local-time layout MMDD-HHMMSS.
func appendStamp(b []byte, t time.Time) []byte {
	_, mon, day := t.Date()
	h, m, s := t.Clock()
	return append(b,
		byte('0'+int(mon)/10), byte('0'+int(mon)%10),
		byte('0'+day/10), byte('0'+day%10), '-',
		byte('0'+h/10), byte('0'+h%10),
		byte('0'+m/10), byte('0'+m%10),
		byte('0'+s/10), byte('0'+s%10))
}

func appendArg(b []byte, a any) []byte {
	switch v := a.(type) {
	case string:
		return append(b, v...)
	case []byte:
		return append(b, v...)
	case error:
		return append(b, v.Error()...)
	case fmt.Stringer:
		return append(b, v.String()...)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint:
		return strconv.AppendUint(b, uint64(v), 10)
	case bool:
		return strconv.AppendBool(b, v)
	}
	return fmt.Append(b, a)
}
