package logger

import (
	"fmt"
	"strings"
)

// Level is a log severity. A message is written when its level is less than
// or equal to the configured level, so None silences everything and All lets
// everything through.
type Level uint8

// Levels in ascending order of verbosity.
const (
	None Level = iota
	Fatal
	Error
	Warn
	Info
	Default
	Verbose
	Debug
	Devel
	Trace
	All
)

// levelNames lists the accepted level names for error messages.
const levelNames = "NONE FATAL ERROR WARN INFO DEFAULT VERBOSE DEBUG DEVEL TRACE ALL"

// String returns the upper-case name used in log lines.
func (l Level) String() string {
	switch l {
	case None:
		return "NONE"
	case Fatal:
		return "FATAL"
	case Error:
		return "ERROR"
	case Warn:
		return "WARN"
	case Info:
		return "INFO"
	case Default:
		return "DEFAULT"
	case Verbose:
		return "VERBOSE"
	case Debug:
		return "DEBUG"
	case Devel:
		return "DEVEL"
	case Trace:
		return "TRACE"
	case All:
		return "ALL"
	}
	return fmt.Sprintf("LEVEL(%d)", uint8(l))
}

// ParseLevel maps a config or flag value (case-insensitive) to a Level; the
// empty string means Default.
func ParseLevel(s string) (Level, error) {
	if s == "" {
		return Default, nil
	}
	for l := None; l <= All; l++ {
		if strings.EqualFold(l.String(), s) {
			return l, nil
		}
	}
	return None, fmt.Errorf("unknown log level %q (want one of %s)", s,
		strings.ToLower(levelNames))
}

// Sink selects where log lines go.
type Sink uint8

// Sinks. FileAndStdout is the "fout" of the command line.
const (
	Stdout Sink = iota
	File
	FileAndStdout
	Discard
)

// String returns the command line name of the sink.
func (s Sink) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case File:
		return "file"
	case FileAndStdout:
		return "fout"
	case Discard:
		return "none"
	}
	return fmt.Sprintf("Sink(%d)", uint8(s))
}

// ParseSink maps a -logger / Common.Logger value (case-insensitive).
func ParseSink(s string) (Sink, error) {
	for k := Stdout; k <= Discard; k++ {
		if strings.EqualFold(k.String(), s) {
			return k, nil
		}
	}
	return Stdout, fmt.Errorf("unknown logger %q (want stdout, file, fout or none)", s)
}

func (s Sink) toStdout() bool { return s == Stdout || s == FileAndStdout }
func (s Sink) toFile() bool   { return s == File || s == FileAndStdout }

// Role selects the line layout.
type Role uint8

const (
	// Server lines are LEVEL|MMDD-HHMMSS|arg|arg…
	Server Role = iota
	// Client lines are CLIENT|<host>|LEVEL|arg|arg… (no time stamp).
	Client
)
