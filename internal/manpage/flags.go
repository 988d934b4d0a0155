// Package manpage renders man pages and bash, zsh and fish completions for
// the DTail binaries from the very *flag.FlagSet each binary parses with,
// and the dtail.json(5) page from the config.Config struct by reflection.
// Nothing here keeps its own list of flags or config keys: a flag added to
// internal/cli (or a key added to internal/config) shows up in the
// generated documents on the next `make man`.
package manpage

import (
	"flag"
	"sort"
	"strings"

	"github.com/dtail-go/dtail/internal/logger"
)

// Flag is one flag of a FlagSet in the form the renderers need.
type Flag struct {
	Name    string
	Usage   string
	Default string // as flag.Flag.DefValue
	Arg     string // value placeholder ("string", "int", ...); "" for bools
	Bool    bool
}

// Flags lists every flag of fs, sorted by name (flag.FlagSet.VisitAll order).
func Flags(fs *flag.FlagSet) []Flag {
	var out []Flag
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		isBool := ok && b.IsBoolFlag()
		if isBool {
			arg = ""
		}
		out = append(out, Flag{Name: f.Name, Usage: usage, Default: f.DefValue, Arg: arg, Bool: isBool})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Spellings are the ways completion offers a flag: single-letter flags as
// grep users type them (-i), the others in the README's spelling (--files)
// and in Go's single-dash form (-files), which DTail 4.x scripts use.
func (f Flag) Spellings() []string {
	if len(f.Name) == 1 {
		return []string{"-" + f.Name}
	}
	return []string{"--" + f.Name, "-" + f.Name}
}

// Value hints for completion. These say what kind of value a flag takes
// (a file, a directory, one of a few words, servers); they are keyed by
// flag name and only consulted for flags the FlagSet actually has, so a
// hint for a flag that a binary lacks is harmless and a flag without a
// hint still completes (its value is just free text).
const (
	hintNone = iota
	hintFile
	hintDir
	hintWords
	// hintServers: @group names, known hosts, and (for -servers) files
	// with one server per line; comma separated lists complete per item.
	hintServers
	// hintHosts: known hosts only (dtailhealth -server).
	hintHosts
)

type hint struct {
	kind  int
	words []string
	// list: the value is a comma separated list, completed item by item.
	list bool
	// files: file names are candidates too (with hintServers, hintWords).
	files bool
}

// logLevels are the names logger.ParseLevel accepts.
func logLevels() []string {
	var out []string
	for l := logger.None; l <= logger.All; l++ {
		out = append(out, strings.ToLower(l.String()))
	}
	return out
}

// logSinks are the names logger.ParseSink accepts.
func logSinks() []string {
	var out []string
	for s := logger.Stdout; s <= logger.Discard; s++ {
		out = append(out, s.String())
	}
	return out
}

func valueHint(name string) hint {
	switch name {
	case "files":
		return hint{kind: hintFile, list: true}
	case "auth-key-path", "key", "control-tty", "passwd":
		return hint{kind: hintFile}
	case "cfg", "ssh-config":
		return hint{kind: hintWords, words: []string{"none"}, files: true}
	case "logDir", "profiledir", "cache-dir":
		return hint{kind: hintDir}
	case "logger":
		return hint{kind: hintWords, words: logSinks()}
	case "logLevel":
		return hint{kind: hintWords, words: logLevels()}
	case "output":
		return hint{kind: hintWords, words: []string{"text", "ndjson"}}
	case "receipt":
		return hint{kind: hintWords, words: []string{"text", "json", "none"}}
	case "discovery":
		return hint{kind: hintWords, words: []string{"COMMA", "FILE"}}
	case "since", "until":
		return hint{kind: hintWords, words: []string{"now", "today", "yesterday", "-15m", "-1h", "-2h", "-1d", "-7d"}}
	case "servers":
		return hint{kind: hintServers, list: true, files: true}
	case "exclude":
		return hint{kind: hintServers, list: true}
	case "server":
		return hint{kind: hintHosts}
	}
	return hint{}
}
