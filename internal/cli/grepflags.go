package cli

import (
	"flag"
	"regexp"
	"strings"

	"github.com/dtail-go/dtail/internal/editdist"
)

// patternList is a repeatable pattern flag (-grep, -regex, -e): every
// value is kept, in command-line order, so that a repeated flag means
// OR as it does in grep, instead of the last value silently winning.
type patternList struct {
	vals *[]string
	def  string
}

func (p *patternList) String() string {
	if p == nil || p.vals == nil || len(*p.vals) == 0 {
		if p == nil {
			return ""
		}
		return p.def
	}
	return strings.Join(*p.vals, " OR ")
}

func (p *patternList) Set(s string) error {
	*p.vals = append(*p.vals, s)
	return nil
}

// wirePattern builds the one RE2 pattern sent to servers from the grep
// style options, so that they work against DTail 4.x servers too: they
// only understand a single regex (spec 3.4). A single pattern without
// options is returned unchanged, keeping the 4.x wire bytes (and the
// server's literal fast path) for every 4.x command line.
func wirePattern(pats []string, ignoreCase, fixed, word bool) string {
	q := make([]string, len(pats))
	for i, p := range pats {
		if fixed {
			p = regexp.QuoteMeta(p)
		}
		q[i] = p
	}
	var core string
	if len(q) == 1 {
		if !ignoreCase && !word {
			return q[0]
		}
		core = q[0]
	} else {
		core = "(?:" + strings.Join(q, ")|(?:") + ")"
	}
	if word {
		core = `\b(?:` + core + `)\b`
	}
	if ignoreCase {
		core = "(?i)" + core
	}
	return core
}

// grepLetters are grep's one-letter spellings of flags that have a long
// DTail name; a flag set through either is recorded under the long one,
// so "-B 1 -C 3" keeps the explicit before-context as in grep, and
// :reload names what changed once.
var grepLetters = map[string]string{
	"v": "invert", "B": "before", "A": "after", "m": "max",
	"c": "count", "l": "files-with-matches",
}

// setFlags lists the flags given on the command line by their long names.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) {
		if long, ok := grepLetters[fl.Name]; ok {
			set[long] = true
			return
		}
		set[fl.Name] = true
	})
	return set
}

// expandLetters spells out grep's short-option clusters: "-iw" is "-i
// -w", "-C2" is "-C 2", "-vm1" is "-v -m 1", "-eERROR" is "-e ERROR". It
// only applies when every letter up to a value is a one-letter flag, so
// a mistyped long flag ("-fles") still gets its did-you-mean. ok is false
// when name is no such cluster.
func expandLetters(fs *flag.FlagSet, name string) (args []string, needsValue, ok bool) {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return nil, false, false
		}
		fl := fs.Lookup(name[i : i+1])
		if fl == nil {
			return nil, false, false
		}
		args = append(args, "-"+name[i:i+1])
		if bf, isBool := fl.Value.(interface{ IsBoolFlag() bool }); isBool && bf.IsBoolFlag() {
			continue
		}
		if i+1 < len(name) {
			return append(args, name[i+1:]), false, true
		}
		return args, true, true
	}
	return args, false, len(args) > 1
}

// splitArgs separates flags (with their values) from positional
// arguments anywhere on the command line, as GNU tools do: the flag
// package alone stops at the first non-flag, which made
// `dgrep --count a.log --grep X` read "--grep" and "X" as files. "--"
// ends the flags. An undefined flag is reported here, with a
// suggestion, instead of the flag package's message and usage dump.
func splitArgs(prog string, fs *flag.FlagSet, args []string) (flags, positional []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(positional, args[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		name := strings.TrimPrefix(a[1:], "-")
		if name == "" || name[0] == '-' || name[0] == '=' {
			// Bad syntax: the flag package reports it.
			flags = append(flags, a)
			continue
		}
		name, _, hasValue := strings.Cut(name, "=")
		fl := fs.Lookup(name)
		if fl == nil && !hasValue && a[1] != '-' {
			if letters, needsValue, ok := expandLetters(fs, name); ok {
				flags = append(flags, letters...)
				if needsValue && i+1 < len(args) {
					i++
					flags = append(flags, args[i])
				}
				continue
			}
		}
		if fl == nil {
			if name == "h" || name == "help" {
				flags = append(flags, a)
				continue
			}
			typed, _, _ := strings.Cut(a, "=")
			return nil, nil, &UsageError{Msg: unknownFlagMsg(prog, fs, typed, name), AfterParse: true}
		}
		flags = append(flags, a)
		if bf, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			continue
		}
		if !hasValue && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, positional, nil
}

// unknownFlagMsg is the one-line error for an undefined flag, with the
// closest defined name when one is close enough to be a likely typo.
func unknownFlagMsg(prog string, fs *flag.FlagSet, typed, name string) string {
	msg := "unknown flag " + typed
	if s := suggestFlag(fs, name); s != "" {
		return msg + "; did you mean " + s + "?"
	}
	return msg + "; see '" + prog + " -h' for the flags"
}

// suggestFlag returns the defined flag closest to name (case-insensitive
// edit distance, or a unique-enough prefix), spelled as users type it.
func suggestFlag(fs *flag.FlagSet, name string) string {
	low := strings.ToLower(name)
	best, bestD := "", 1<<30
	fs.VisitAll(func(f *flag.Flag) {
		cand := strings.ToLower(f.Name)
		d := editdist.Distance(low, cand)
		if len(low) >= 3 && strings.HasPrefix(cand, low) && d > 0 {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = f.Name, d
		}
	})
	// A single-letter typo is no evidence (every letter is one edit from
	// every other short flag); longer names get up to two edits.
	if best == "" || bestD > 2 || bestD >= len(low) {
		return ""
	}
	if len(best) == 1 {
		return "-" + best
	}
	return "--" + best
}
