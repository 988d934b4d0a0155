// Package cli holds the command lines of the DTail binaries: one flag
// definition per binary (also the source of the man pages and
// completions), the positional shorthands, and the merge of flags with
// dtail.json following the reference's precedence rules.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dtail-go/dtail/internal/session"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// Binary names.
const (
	DTail       = "dtail"
	DCat        = "dcat"
	DGrep       = "dgrep"
	DMap        = "dmap"
	DServer     = "dserver"
	DTailHealth = "dtailhealth"
)

// ClientFlags are the flags of dtail, dcat, dgrep and dmap (spec 1.3).
type ClientFlags struct {
	AgentKeyIndex    int
	AuthKeyPath      string
	Key              string
	Cfg              string
	ControlTTY       string
	CPC              int
	Discovery        string
	Files            string
	InteractiveQuery bool
	LogPayload       bool
	LogDir           string
	LogLevel         string
	Logger           string
	NoAuthKey        bool
	NoColor          bool
	Plain            bool
	Port             int
	PProf            string
	Quiet            bool
	Servers          string
	SSHConfig        string
	TrustAllHosts    bool
	ConnectRetry     time.Duration
	User             string
	Exclude          string
	Pick             int
	Coalesce         bool
	MergeByTime      bool
	MergeWindow      time.Duration
	Receipt          string
	Count            bool
	FilesWithMatches bool
	MaxTotal         int
	Output           string
	Version          bool
	CPUProfile       bool
	MemProfile       bool
	Profile          bool
	ProfileDir       string

	// dtail, dgrep
	Regex  string
	Grep   string
	Invert bool
	// Grep habits (additive, DECISIONS "grep habits"): -i, -F, -w, -C.
	IgnoreCase   bool
	FixedStrings bool
	WordRegexp   bool
	Context      int
	// regexes holds every -regex value, patterns every -grep and -e
	// value in command-line order (repeated means OR).
	regexes, patterns []string
	Before            int
	After             int
	Max               int
	// dtail, dmap
	Query   string
	Timeout int
	Strict  bool
	// dtail
	ShutdownAfter  int
	CheckHealth    bool
	ColorTable     bool
	WideColorTable bool

	// Since and Until are the time window (--since/--until); Window is
	// the parsed result (timewindow.go), nil without either.
	Since, Until string
	Window       *timewindow.Window

	// Positional are the arguments after the flags.
	Positional []string
	// set records which flags were given explicitly.
	set map[string]bool
}

// IsSet reports whether a flag was given on the command line.
func (f *ClientFlags) IsSet(name string) bool { return f.set[name] }

// NewClientFlagSet defines the flags of one client binary on a new set.
// It is the single definition used for parsing, usage, man pages and
// completions.
func NewClientFlagSet(binary string, f *ClientFlags, defaultUser string) *flag.FlagSet {
	fs := flag.NewFlagSet(binary, flag.ContinueOnError)
	fs.IntVar(&f.AgentKeyIndex, "agentKeyIndex", -1, "Use only the n-th (0-based) ssh-agent key; -1 uses all agent keys")
	fs.StringVar(&f.AuthKeyPath, "auth-key-path", "", "Private key offered first and registered for fast reconnect (default ~/.ssh/id_rsa)")
	fs.StringVar(&f.Key, "key", "", "Deprecated alias of -auth-key-path")
	fs.StringVar(&f.Cfg, "cfg", "", "Config file path; 'none' loads no file")
	fs.StringVar(&f.ControlTTY, "control-tty", "/dev/tty", "TTY used by -interactive-query")
	fs.IntVar(&f.CPC, "cpc", 10, "Connections per CPU core allowed to be in handshake at once")
	fs.StringVar(&f.Discovery, "discovery", "", "Server discovery module NAME[:OPTIONS]")
	fs.StringVar(&f.Files, "files", "", "Comma separated list of files or globs to read")
	fs.BoolVar(&f.InteractiveQuery, "interactive-query", false, "Enable :reload control of a running session")
	fs.BoolVar(&f.LogPayload, "log-payload", false, "Also write received payload to the client log file")
	fs.StringVar(&f.LogDir, "logDir", "~/log", "Client log directory")
	fs.StringVar(&f.LogLevel, "logLevel", "info", "Log level")
	fs.StringVar(&f.Logger, "logger", "fout", "Logger: fout, stdout, file or none")
	fs.BoolVar(&f.NoAuthKey, "no-auth-key", false, "Do not register the auth key (disables fast reconnect)")
	fs.BoolVar(&f.NoColor, "noColor", false, "Disable ANSI colors (so do NO_COLOR=1 and TERM=dumb); without it colours stay on in pipes and files, as in DTail 4.x")
	fs.BoolVar(&f.Plain, "plain", false, "Plain output: only the lines, no prefixes, no colors")
	fs.IntVar(&f.Port, "port", 2222, "Default SSH port of servers given without one")
	fs.StringVar(&f.PProf, "pprof", "", "Start a pprof HTTP server on this address")
	fs.BoolVar(&f.Quiet, "quiet", false, "Quiet output: no periodic connection stats")
	fs.StringVar(&f.Servers, "servers", "", "Servers: comma list, file name, /regex/ filter, or serverless")
	fs.StringVar(&f.SSHConfig, "ssh-config", "", "OpenSSH client config applied to server names (HostName, Port, User, IdentityFile, ProxyJump); 'none' reads none (default ~/.ssh/config, then /etc/ssh/ssh_config)")
	fs.BoolVar(&f.TrustAllHosts, "trustAllHosts", false, "Trust unknown host keys without asking")
	fs.DurationVar(&f.ConnectRetry, "connect-retry", 30*time.Second, "How long to retry servers that are busy (handshake timeout, connection dropped) or restarting (refused, at most 10s of it); 0: one attempt")
	fs.StringVar(&f.User, "user", defaultUser, "SSH user name")
	fs.StringVar(&f.Exclude, "exclude", "", "Servers to leave out (same syntax as -servers: list, ranges, @group)")
	fs.IntVar(&f.Pick, "pick", 0, "Use only N servers chosen at random (a canary subset)")
	fs.StringVar(&f.Receipt, "receipt", "", "Completeness receipt on stderr: text, json or none (default: text when stderr is a terminal)")
	if binary != DMap {
		fs.BoolVar(&f.Coalesce, "coalesce", false, "Group lines by template (numbers, hex ids, UUIDs, IPs masked): count and hosts, largest first")
		fs.StringVar(&f.Output, "output", "text", "Output format: text or ndjson (one JSON object per line: host, file, line, text)")
		fs.IntVar(&f.MaxTotal, "max-total", 0, "Stop every server once N lines arrived in total")
		fs.BoolVar(&f.MergeByTime, "merge-by-time", false, "Print the lines of all servers in timestamp order (bounded reorder window)")
		fs.DurationVar(&f.MergeWindow, "merge-window", 2*time.Second, "Longest time a line waits for slower servers with -merge-by-time")
	}
	fs.StringVar(&f.Since, "since", "", "Only lines at or after this time: RFC 3339, 2024-01-02, -2h, -30m, -7d, today, yesterday, now")
	fs.StringVar(&f.Until, "until", "", "Only lines before this time (same forms as -since)")
	if binary == DGrep || binary == DCat {
		fs.BoolVar(&f.Count, "count", false, "Print the number of matching lines per host and file (like grep -c)")
		fs.BoolVar(&f.FilesWithMatches, "files-with-matches", false, "Print only the hosts and files with a match (like grep -l)")
		fs.BoolVar(&f.Count, "c", false, "Same as -count")
		fs.BoolVar(&f.FilesWithMatches, "l", false, "Same as -files-with-matches")
	}
	fs.BoolVar(&f.Version, "version", false, "Print the version and exit")
	fs.BoolVar(&f.CPUProfile, "cpuprofile", false, "Write a CPU profile")
	fs.BoolVar(&f.MemProfile, "memprofile", false, "Write memory profiles at exit")
	fs.BoolVar(&f.Profile, "profile", false, "Write CPU and memory profiles")
	fs.StringVar(&f.ProfileDir, "profiledir", "profiles", "Profile output directory")
	switch binary {
	case DTail, DGrep:
		fs.Var(&patternList{vals: &f.regexes, def: "."}, "regex", "Regular expression (RE2) lines must match; repeated: any of them")
		fs.Var(&patternList{vals: &f.patterns}, "grep", "Alias of -regex; if given it replaces -regex")
		fs.Var(&patternList{vals: &f.patterns}, "e", "Pattern, as -grep (repeatable: any of them)")
		fs.BoolVar(&f.IgnoreCase, "i", false, "Ignore case (same as -ignore-case)")
		fs.BoolVar(&f.IgnoreCase, "ignore-case", false, "Ignore case in the patterns")
		fs.BoolVar(&f.FixedStrings, "F", false, "Patterns are fixed strings (same as -fixed-strings)")
		fs.BoolVar(&f.FixedStrings, "fixed-strings", false, "Patterns are fixed strings, not regular expressions")
		fs.BoolVar(&f.WordRegexp, "w", false, "Match whole words only (same as -word-regexp)")
		fs.BoolVar(&f.WordRegexp, "word-regexp", false, "Match whole words only")
		fs.IntVar(&f.Context, "C", 0, "Print N lines before and after each match (-before N -after N)")
		fs.BoolVar(&f.Invert, "invert", false, "Select lines that do not match")
		fs.IntVar(&f.Before, "before", 0, "Print N lines before each match")
		fs.IntVar(&f.After, "after", 0, "Print N lines after each match")
		fs.IntVar(&f.Max, "max", 0, "Stop after N matches")
		fs.BoolVar(&f.Invert, "v", false, "Select lines that do not match (same as -invert)")
		fs.IntVar(&f.Before, "B", 0, "Print N lines before each match (same as -before)")
		fs.IntVar(&f.After, "A", 0, "Print N lines after each match (same as -after)")
		fs.IntVar(&f.Max, "m", 0, "Stop after N matches (same as -max)")
	}
	switch binary {
	case DTail, DMap:
		fs.StringVar(&f.Query, "query", "", "Mapreduce query")
		fs.IntVar(&f.Timeout, "timeout", 0, "Time limit in seconds (0: none)")
		fs.BoolVar(&f.Strict, "strict", false, "Query warnings are errors: a field the log format cannot fill, a one-group group by, lines the format skipped, an empty result (exit non-zero)")
	}
	if binary == DTail {
		fs.IntVar(&f.ShutdownAfter, "shutdownAfter", 86400, "Exit after N seconds")
		fs.BoolVar(&f.CheckHealth, "checkHealth", false, "Deprecated: use dtailhealth")
		fs.BoolVar(&f.ColorTable, "colorTable", false, "Print the color table and exit")
		fs.BoolVar(&f.WideColorTable, "wideColorTable", false, "Print the wide color table and exit")
	}
	return fs
}

// ErrHelp is returned when -h or -help was given; exit 0.
var ErrHelp = flag.ErrHelp

// UsageError is a bad command line; exit 2.
type UsageError struct {
	Msg string
	// AfterParse marks errors found after flag parsing, which the flag
	// package has not printed.
	AfterParse bool
}

func (e *UsageError) Error() string { return e.Msg }

// ParseClient parses a client command line. The usage asked for with
// -h goes to out; errors are returned as one line for the caller.
func ParseClient(binary string, args []string, defaultUser string, out io.Writer) (*ClientFlags, error) {
	f := &ClientFlags{}
	fs := NewClientFlagSet(binary, f, defaultUser)
	// The flag package would print every error followed by the whole
	// usage; the caller prints one line instead.
	fs.SetOutput(io.Discard)
	flagArgs, positional, err := splitArgs(binary, fs, args)
	if err != nil {
		return nil, err
	}
	if err := fs.Parse(flagArgs); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fs.Usage()
			return nil, ErrHelp
		}
		return nil, &UsageError{Msg: err.Error(), AfterParse: true}
	}
	f.set = setFlags(fs)
	f.Positional = positional
	if binary == DTail || binary == DGrep {
		applyPatterns(binary, f)
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"before", f.Before}, {"after", f.After}, {"max", f.Max}, {"timeout", f.Timeout}, {"cpc", f.CPC}, {"pick", f.Pick}, {"max-total", f.MaxTotal}, {"C", f.Context}} {
		if c.v < 0 {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid value %d for flag -%s: must not be negative", c.v, c.name), AfterParse: true}
		}
	}
	// Servers refuse larger values (MaxContextLines, 32-bit peers); say so
	// before connecting anywhere.
	for _, c := range []struct {
		name  string
		v, to int
	}{{"before", f.Before, session.DefaultMaxContextLines}, {"after", f.After, session.DefaultMaxContextLines}, {"max", f.Max, session.MaxMatchCount}} {
		if c.v > c.to {
			return nil, &UsageError{Msg: fmt.Sprintf("invalid value %d for flag -%s: more than the limit of %d", c.v, c.name, c.to), AfterParse: true}
		}
	}
	if f.Profile {
		f.CPUProfile, f.MemProfile = true, true
	}
	switch f.Receipt {
	case "", "text", "json", "none":
	default:
		return nil, &UsageError{Msg: fmt.Sprintf("invalid value %q for flag -receipt: want text, json or none", f.Receipt), AfterParse: true}
	}
	switch f.Output {
	case "", "text", "ndjson":
	default:
		return nil, &UsageError{Msg: fmt.Sprintf("invalid value %q for flag -output: want text or ndjson", f.Output), AfterParse: true}
	}
	if err := parseWindowFlags(binary, f); err != nil {
		return nil, err
	}
	applyPositional(f)
	return f, nil
}

// applyPatterns turns the pattern flags into the one regex of -regex.
// As in 4.x a non-empty -grep replaces -regex; -e counts as -grep.
// Without any pattern flag dgrep takes its first positional argument as
// the pattern, as grep does. -C N sets -before and -after unless they
// were given.
func applyPatterns(binary string, f *ClientFlags) {
	var pats []string
	for _, p := range f.patterns {
		// An empty -grep does not replace -regex (4.x); an empty -e
		// matches every line either way.
		if p != "" {
			pats = append(pats, p)
		}
	}
	if len(pats) == 0 {
		pats = f.regexes
	}
	if binary == DGrep && !f.set["regex"] && !f.set["grep"] && !f.set["e"] && len(f.Positional) > 0 {
		pats, f.Positional = f.Positional[:1], f.Positional[1:]
	}
	if len(pats) == 0 {
		pats = []string{"."}
	}
	f.Regex = wirePattern(pats, f.IgnoreCase, f.FixedStrings, f.WordRegexp)
	if len(f.patterns) > 0 {
		f.Grep = f.patterns[len(f.patterns)-1]
	}
	if f.set["C"] {
		if !f.set["before"] {
			f.Before = f.Context
		}
		if !f.set["after"] {
			f.After = f.Context
		}
	}
}

// applyPositional implements spec 1.4, widened: a positional argument
// containing "select " is the query (unless -query was given), the
// others are files. They are added to -files rather than ignored as in
// 4.x, which silently dropped them (DECISIONS "grep habits").
func applyPositional(f *ClientFlags) {
	files := FileList(f.Files)
	for _, a := range f.Positional {
		if strings.Contains(strings.ToLower(a), "select ") {
			if f.Query == "" {
				f.Query = a
			}
			continue
		}
		files = append(files, a)
	}
	f.Files = strings.Join(files, ",")
}

// FileList splits -files at commas, trimming and dropping empty items.
func FileList(files string) []string {
	var out []string
	for _, f := range strings.Split(files, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
