package protocol

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Verbs of the command grammar. AUTHKEY and SESSION are also accepted in
// lower case; ParseCommand reports them in the upper-case spelling.
const (
	VerbCat     = "cat"
	VerbGrep    = "grep"
	VerbTail    = "tail"
	VerbMap     = "map"
	VerbHealth  = "health"
	VerbAck     = ".ack"
	VerbAuthKey = "AUTHKEY"
	VerbSession = "SESSION"

	// TimeoutKeyword starts the optional "timeout N" command prefix.
	TimeoutKeyword = "timeout"

	// MaxTimeoutSeconds is the largest accepted "timeout N" (one day).
	MaxTimeoutSeconds = 86400
)

// Command is one decoded client command.
type Command struct {
	// Timeout is N of a "timeout N" prefix (seconds); ≤ 0 means no deadline.
	Timeout int
	// Verb is the text before the first ':' of the verb token, with
	// authkey/session normalised to AUTHKEY/SESSION.
	Verb string
	// HasOptions reports whether the verb token contained ':' at all;
	// RawOptions is the text after it.
	HasOptions bool
	RawOptions string
	Options    Options
	// Tokens are the blank-separated fields after the timeout prefix,
	// starting with the verb token; this is what the server calls args and
	// counts as argc.
	Tokens []string
	// Args are Tokens without the verb token.
	Args []string
}

// ParseCommand parses a decoded frame the way the reference server does:
// fields split at single blanks with empty fields preserved.
//
// Timeout errors carry the server's exact text. If only the options fail to
// decode, the returned Command is complete except for Options, so the caller
// can still report by verb.
func ParseCommand(text string) (Command, error) {
	return parseTokens(strings.Split(text, " "))
}

// ParseCommandFields parses a command produced by expanding a SESSION spec;
// the reference server tokenises those at runs of whitespace, so repeated
// blanks inside a regex collapse and "regex:noop " loses its empty field.
func ParseCommandFields(text string) (Command, error) {
	return parseTokens(strings.Fields(text))
}

func parseTokens(tokens []string) (Command, error) {
	var c Command
	if len(tokens) >= 3 && tokens[0] == TimeoutKeyword {
		n, err := strconv.Atoi(tokens[1])
		if err != nil {
			return Command{}, fmt.Errorf("invalid timeout value %q: %w", tokens[1], err)
		}
		if n > MaxTimeoutSeconds {
			return Command{}, fmt.Errorf("timeout value %d exceeds maximum of %d seconds", n, MaxTimeoutSeconds)
		}
		c.Timeout = n
		tokens = tokens[2:]
	}
	c.Tokens = tokens
	if len(tokens) == 0 {
		return c, nil
	}
	c.Args = tokens[1:]
	c.Verb, c.RawOptions, c.HasOptions = strings.Cut(tokens[0], ":")
	switch c.Verb {
	case "authkey":
		c.Verb = VerbAuthKey
	case "session":
		c.Verb = VerbSession
	}
	opts, err := DecodeOptions(c.RawOptions)
	if err != nil {
		return c, err
	}
	c.Options = opts
	return c, nil
}

// TimeoutDuration is the command's deadline, 0 for none.
func (c Command) TimeoutDuration() time.Duration {
	if c.Timeout <= 0 {
		return 0
	}
	return time.Duration(c.Timeout) * time.Second
}

// IsRead reports whether the verb reads files (cat, grep, tail).
func (c Command) IsRead() bool {
	switch c.Verb {
	case VerbCat, VerbGrep, VerbTail:
		return true
	}
	return false
}

// ArgcError is the server's complaint about a read command with fewer than
// three tokens; its text follows the server logger's "|" layout.
type ArgcError struct {
	Tokens []string
}

func (e *ArgcError) Error() string {
	return fmt.Sprintf("Unable to parse command|%v|%d", e.Tokens, len(e.Tokens))
}

// Glob returns the PATHGLOB token of a read command.
func (c Command) Glob() (string, error) {
	if len(c.Tokens) < 3 {
		return "", &ArgcError{Tokens: c.Tokens}
	}
	return c.Tokens[1], nil
}

// RegexText returns the serialized regex of a read command: the tokens after
// the glob re-joined with single blanks. With exactly three tokens the
// reference server ignores the regex token and matches everything; RegexText
// then returns "" and ReadRegex a noop.
func (c Command) RegexText() (string, error) {
	switch {
	case len(c.Tokens) < 3:
		return "", &ArgcError{Tokens: c.Tokens}
	case len(c.Tokens) == 3:
		return "", nil
	}
	return strings.Join(c.Tokens[2:], " "), nil
}

// ReadRegex parses RegexText, treating the three-token form as match-all.
func (c Command) ReadRegex() (Regex, error) {
	text, err := c.RegexText()
	if err != nil {
		return Regex{}, err
	}
	if len(c.Tokens) == 3 {
		return Regex{Flag: RegexNoop}, nil
	}
	return ParseRegex(text)
}

// Query returns the query of a map command (all arguments re-joined).
func (c Command) Query() string {
	return strings.Join(c.Args, " ")
}

// UnknownCommandText is the server's log text for an unrecognised verb,
// e.g. "Received unknown user command|foo|2|[foo: bar]".
func UnknownCommandText(c Command) string {
	return fmt.Sprintf("Received unknown user command|%s|%d|%v", c.Verb, len(c.Tokens), c.Tokens)
}
