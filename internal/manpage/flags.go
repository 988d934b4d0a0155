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

// Value hints for completion. These say what kind of value a flag takes
// (a file, a directory, one of a few words); they are keyed by flag name
// and only consulted for flags the FlagSet actually has, so a hint for a
// flag that a binary lacks is harmless and a flag without a hint still
// completes (its value is just free text).
const (
	hintNone = iota
	hintFile
	hintDir
	hintWords
)

type hint struct {
	kind  int
	words []string
}

var logLevels = []string{"none", "fatal", "error", "warn", "info", "default", "verbose", "debug", "devel", "trace", "all"}

func valueHint(name string) hint {
	switch name {
	case "cfg", "files", "auth-key-path", "key", "control-tty", "servers":
		return hint{kind: hintFile}
	case "logDir", "profiledir", "cache-dir":
		return hint{kind: hintDir}
	case "logger":
		return hint{kind: hintWords, words: []string{"fout", "stdout", "file", "none"}}
	case "logLevel":
		return hint{kind: hintWords, words: logLevels}
	}
	return hint{}
}
