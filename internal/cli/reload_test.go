package cli

import (
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestReloadParser(t *testing.T) {
	for _, c := range []struct {
		bin, line, cur string
		regex          string
		set            []string
		files          []string
		err            string
	}{
		{bin: DGrep, line: "-i warn", cur: "ERROR", regex: "(?i)warn", set: []string{"regex"}},
		{bin: DGrep, line: "-i", cur: "ERROR", regex: "(?i)ERROR", set: []string{"regex"}},
		{bin: DGrep, line: "-w -e a -e b", cur: "x", regex: `\b(?:(?:a)|(?:b))\b`, set: []string{"regex"}},
		{bin: DGrep, line: "-F -e a.b", cur: "x", regex: `a\.b`, set: []string{"regex"}},
		{bin: DGrep, line: "-F", cur: "x", err: "-F needs a pattern"},
		{bin: DGrep, line: "X a.log b.log -C 2", cur: "x", regex: "X", set: []string{"after", "before", "files", "regex"}, files: []string{"a.log", "b.log"}},
		// As on dgrep's command line a lone positional is the pattern.
		{bin: DGrep, line: "--files a,b c", cur: "x", regex: "c", set: []string{"files", "regex"}, files: []string{"a", "b"}},
		{bin: DTail, line: "--grep WARN c.log", cur: "x", regex: "WARN", set: []string{"files", "regex"}, files: []string{"c.log"}},
		{bin: DCat, line: "--plain --timeout 3", cur: "", set: []string{"plain", "timeout"}},
		{bin: DCat, line: "--grep X", err: "unknown flag --grep"},
		{bin: DGrep, line: "--gerp X", err: "did you mean --grep?"},
		{bin: DGrep, line: "--before -1", err: "invalid value -1"},
	} {
		r, err := reloadParser(c.bin)(strings.Fields(c.line), c.cur)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s %q: err %v, want %q", c.bin, c.line, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", c.bin, c.line, err)
			continue
		}
		var set []string
		for k := range r.Set {
			set = append(set, k)
		}
		sort.Strings(set)
		if c.regex != "" && r.Regex != c.regex {
			t.Errorf("%s %q: regex %q, want %q", c.bin, c.line, r.Regex, c.regex)
		}
		if c.set != nil && !reflect.DeepEqual(set, c.set) {
			t.Errorf("%s %q: set %v, want %v", c.bin, c.line, set, c.set)
		}
		if c.files != nil && !reflect.DeepEqual(r.Files, c.files) {
			t.Errorf("%s %q: files %v, want %v", c.bin, c.line, r.Files, c.files)
		}
	}
}
