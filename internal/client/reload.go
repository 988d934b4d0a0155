package client

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dtail-go/dtail/internal/logformat"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/query"
)

// Reload is one `:reload` command line parsed with the binary's own flag
// definitions (internal/cli), so that everything the command line accepts
// works there too: -i, -F, -w, -e, -C, a positional pattern, flags after
// positionals, did-you-mean for typos.
type Reload struct {
	// Set names the settings the line changes: files, plain, quiet,
	// timeout, regex, invert, before, after, max, query. A flag of the
	// binary that maps to none of them is in Set under its own name and
	// refused.
	Set     map[string]bool
	Files   []string
	Regex   string // the wire regex, patterns and -i/-F/-w folded in
	Invert  bool
	Before  int
	After   int
	Max     int
	Timeout int
	Plain   bool
	Quiet   bool
	Query   string
}

// ReloadParser parses `:reload` arguments; current is the session's wire
// regex, which -i or -w without a new pattern apply to.
type ReloadParser func(args []string, current string) (Reload, error)

// reloadable lists the settings :reload may change in this session (spec
// 5.11): always files, plain, quiet and timeout; a read session (dtail,
// dgrep) its pattern and context; a query session its query.
func reloadable(spec protocol.SessionSpec) map[string]bool {
	ok := map[string]bool{"files": true, "plain": true, "quiet": true, "timeout": true}
	switch {
	case spec.Query != "":
		ok["query"] = true
	case spec.Mode == protocol.ModeTail || spec.Mode == protocol.ModeGrep:
		for _, k := range []string{"regex", "invert", "before", "after", "max"} {
			ok[k] = true
		}
	}
	return ok
}

// applyReload returns spec changed by a parsed :reload line.
func (ic *interactiveControl) applyReload(spec protocol.SessionSpec, args []string) (protocol.SessionSpec, *query.Query, error) {
	r, err := ic.rn.o.Map.ReloadParse(args, spec.Regex)
	if err != nil {
		return spec, nil, err
	}
	allowed := reloadable(spec)
	var refused []string
	for k := range r.Set {
		if !allowed[k] {
			refused = append(refused, "-"+k)
		}
	}
	if len(refused) > 0 {
		sort.Strings(refused)
		var ok []string
		for k := range allowed {
			ok = append(ok, "-"+k)
		}
		sort.Strings(ok)
		return spec, nil, fmt.Errorf("%s cannot be changed in this session (allowed: %s)", strings.Join(refused, ", "), strings.Join(ok, " "))
	}
	opts, err := protocol.DecodeOptions(spec.Options)
	if err != nil {
		return spec, nil, err
	}
	set := r.Set
	if set["files"] {
		if len(r.Files) == 0 {
			return spec, nil, errors.New("no files given")
		}
		spec.Files = r.Files
	}
	if set["plain"] {
		opts.Plain = r.Plain
	}
	if set["quiet"] {
		opts.Quiet = r.Quiet
	}
	if set["timeout"] {
		spec.Timeout = r.Timeout
	}
	if set["regex"] {
		spec.Regex = r.Regex
	}
	if set["invert"] {
		spec.RegexInvert = r.Invert
	}
	if set["before"] {
		opts.Before = r.Before
	}
	if set["after"] {
		opts.After = r.After
	}
	if set["max"] {
		opts.Max = r.Max
	}
	spec.Options = opts.Encode()
	// Interactive sessions let the servers drop the REMOTE header; the
	// printer must then take bare messages as lines.
	ic.rn.serverPlain.Store(opts.Plain)
	var q *query.Query
	if set["query"] {
		if q, err = parseQuery(r.Query, ic.rn.o.Stderr, ic.rn.o.Prog, logformat.Default, ic.rn.o.Map.Plan); err != nil {
			return spec, nil, err
		}
		spec.Query = r.Query
		spec.Regex = q.TableRegex()
	}
	return spec, q, nil
}
