package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/dtail-go/dtail/internal/client"
	"github.com/dtail-go/dtail/internal/session"
)

// reloadParser parses interactive `:reload` lines (spec 5.11) with the
// binary's own flag set, so every spelling of the command line works
// there too: -i/-F/-w/-e/-C, dgrep's positional pattern, positional
// files, flags after positionals and a did-you-mean for typos. Which
// settings a session may change is the client's decision (Reload.Set).
func reloadParser(binary string) client.ReloadParser {
	return func(args []string, current string) (client.Reload, error) {
		f := &ClientFlags{}
		fs := NewClientFlagSet(binary, f, "")
		fs.SetOutput(io.Discard)
		if fs.Lookup("timeout") == nil {
			// Spec 5.11 allows -timeout in every session.
			fs.IntVar(&f.Timeout, "timeout", 0, "")
		}
		flagArgs, positional, err := splitArgs(binary, fs, args)
		if err != nil {
			return client.Reload{}, err
		}
		if err := fs.Parse(flagArgs); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return client.Reload{}, errors.New("-h: see the man page; :help lists the commands")
			}
			return client.Reload{}, err
		}
		f.set = setFlags(fs)
		f.Positional = positional
		r := client.Reload{Set: map[string]bool{}}
		patterns := f.set["regex"] || f.set["grep"] || f.set["e"]
		if binary == DGrep && !patterns && len(positional) > 0 {
			patterns = true // applyPatterns takes it, as on the command line
		}
		fold := f.IgnoreCase || f.WordRegexp
		if f.FixedStrings && !patterns {
			return r, errors.New("-F needs a pattern (-e PATTERN)")
		}
		if binary == DTail || binary == DGrep {
			applyPatterns(binary, f)
		}
		for name := range f.set {
			switch name {
			case "grep", "e", "i", "ignore-case", "F", "fixed-strings", "w", "word-regexp":
				r.Set["regex"] = true
			case "C":
				r.Set["before"], r.Set["after"] = true, true
			default:
				r.Set[name] = true
			}
		}
		r.Regex = f.Regex
		switch {
		case patterns:
			r.Set["regex"] = true
		case fold:
			// -i or -w alone change the current pattern.
			r.Regex = wirePattern([]string{current}, f.IgnoreCase, false, f.WordRegexp)
		}
		files := FileList(f.Files)
		if len(f.Positional) > 0 {
			files = append(files, f.Positional...)
			r.Set["files"] = true
		}
		r.Files = files
		r.Invert, r.Before, r.After, r.Max = f.Invert, f.Before, f.After, f.Max
		r.Timeout, r.Plain, r.Quiet, r.Query = f.Timeout, f.Plain, f.Quiet, f.Query
		for _, c := range []struct {
			name  string
			v, to int
		}{{"before", r.Before, session.DefaultMaxContextLines}, {"after", r.After, session.DefaultMaxContextLines}, {"max", r.Max, session.MaxMatchCount}, {"timeout", r.Timeout, 1 << 31}} {
			if c.v < 0 || c.v > c.to {
				return r, fmt.Errorf("invalid value %d for flag -%s", c.v, c.name)
			}
		}
		return r, nil
	}
}
