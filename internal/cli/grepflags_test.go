package cli

import (
	"errors"
	"flag"
	"io"
	"regexp"
	"strings"
	"testing"
)

// TestGrepHabits: the grep-shaped command lines of issue 17 (part 1).
func TestGrepHabits(t *testing.T) {
	cases := []struct {
		name          string
		binary        string
		args          []string
		regex, files  string
		before, after int
	}{
		// 1. the first positional is the pattern when no pattern flag is given
		{"pattern then file", DGrep, []string{"ERROR", "app.log"}, "ERROR", "app.log", 0, 0},
		{"pattern only reads stdin", DGrep, []string{"ERROR"}, "ERROR", "", 0, 0},
		{"pattern then files", DGrep, []string{"ERROR", "a.log", "b.log"}, "ERROR", "a.log,b.log", 0, 0},
		{"pattern flag keeps positionals as files", DGrep, []string{"--grep", "X", "a.log"}, "X", "a.log", 0, 0},
		{"regex flag keeps positionals as files", DGrep, []string{"--regex", "X", "a.log"}, "X", "a.log", 0, 0},
		{"files flag and positional pattern", DGrep, []string{"--files", "a.log", "ERROR"}, "ERROR", "a.log", 0, 0},
		{"no pattern, no positional", DGrep, []string{"--files", "a.log"}, ".", "a.log", 0, 0},
		{"dtail positionals stay files", DTail, []string{"a.log"}, ".", "a.log", 0, 0},
		// 2. flags after positional arguments
		{"flags after file", DGrep, []string{"--count", "small.log", "--grep", "status=503"}, "status=503", "small.log", 0, 0},
		{"flags after pattern", DGrep, []string{"ERROR", "a.log", "--before", "2"}, "ERROR", "a.log", 2, 0},
		{"double dash ends flags", DGrep, []string{"--grep", "X", "--", "-odd.log", "--max"}, "X", "-odd.log,--max", 0, 0},
		{"flag value may start with a dash", DGrep, []string{"--grep", "-v", "a.log"}, "-v", "a.log", 0, 0},
		{"bool flag does not eat the next arg", DGrep, []string{"--plain", "ERROR", "a.log"}, "ERROR", "a.log", 0, 0},
		// 3. --files with positional files reads both
		{"files and positionals", DCat, []string{"--files", "a,b", "c"}, "", "a,b,c", 0, 0},
		{"files twice in a row", DGrep, []string{"--files", "small.log", "--grep", "x", "app.log"}, "x", "small.log,app.log", 0, 0},
		// 4. repeated pattern flag means OR
		{"repeated grep", DGrep, []string{"--grep", "ERROR", "--grep", "WARN"}, "(?:ERROR)|(?:WARN)", "", 0, 0},
		{"repeated regex", DGrep, []string{"--regex", "a|b", "--regex", "c"}, "(?:a|b)|(?:c)", "", 0, 0},
		{"grep still replaces regex", DGrep, []string{"-regex", "A", "-grep", "B"}, "B", "", 0, 0},
		{"empty grep does not replace regex", DGrep, []string{"-regex", "A", "-grep", ""}, "A", "", 0, 0},
		// 5. -i -F -w -e -C
		{"ignore case", DGrep, []string{"-i", "error"}, "(?i)error", "", 0, 0},
		{"ignore case long", DGrep, []string{"--ignore-case", "--grep", "error"}, "(?i)error", "", 0, 0},
		{"fixed strings", DGrep, []string{"-F", "a.b[1]", "x.log"}, `a\.b\[1\]`, "x.log", 0, 0},
		{"fixed literal unchanged", DGrep, []string{"-F", "ERROR"}, "ERROR", "", 0, 0},
		{"word", DGrep, []string{"-w", "ERR"}, `\b(?:ERR)\b`, "", 0, 0},
		{"e repeated", DGrep, []string{"-e", "ERROR", "-e", "WARN", "a.log"}, "(?:ERROR)|(?:WARN)", "a.log", 0, 0},
		{"e with grep in order", DGrep, []string{"-e", "A", "--grep", "B"}, "(?:A)|(?:B)", "", 0, 0},
		{"all options", DGrep, []string{"-i", "-w", "-F", "-e", "a.b", "-e", "c"}, `(?i)\b(?:(?:a\.b)|(?:c))\b`, "", 0, 0},
		{"context", DGrep, []string{"-C", "2", "X"}, "X", "", 2, 2},
		{"explicit before wins over context", DGrep, []string{"-C", "2", "--before", "1", "X"}, "X", "", 1, 2},
		{"dtail has the grep options", DTail, []string{"-i", "--grep", "x", "a.log"}, "(?i)x", "a.log", 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseClient(tc.binary, tc.args, "me", io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if tc.binary != DCat && f.Regex != tc.regex {
				t.Errorf("regex %q, want %q", f.Regex, tc.regex)
			}
			if f.Files != tc.files || f.Before != tc.before || f.After != tc.after {
				t.Errorf("files %q before %d after %d, want %q %d %d", f.Files, f.Before, f.After, tc.files, tc.before, tc.after)
			}
			if _, err := regexp.Compile(f.Regex); tc.binary != DCat && err != nil {
				t.Errorf("wire regex does not compile: %v", err)
			}
		})
	}
}

// TestGrepHabitsMatch checks what the wire regexes select, as grep does.
func TestGrepHabitsMatch(t *testing.T) {
	cases := []struct {
		args      []string
		match     []string
		dontMatch []string
	}{
		{[]string{"--grep", "ERROR", "--grep", "WARN"}, []string{"x ERROR y", "WARN"}, []string{"INFO"}},
		{[]string{"-i", "error"}, []string{"ERROR", "Error x"}, []string{"err"}},
		{[]string{"-w", "ERR"}, []string{"ERR x", "a ERR"}, []string{"ERROR", "xERR"}},
		{[]string{"-w", "-e", "a", "-e", "b"}, []string{"x a y", "b"}, []string{"ab", "ba"}},
		{[]string{"-F", "a.b"}, []string{"xa.by"}, []string{"axb"}},
		{[]string{"-F", "-i", "A+"}, []string{"a+"}, []string{"aa"}},
	}
	for _, tc := range cases {
		f, err := ParseClient(DGrep, tc.args, "me", io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(f.Regex)
		for _, s := range tc.match {
			if !re.MatchString(s) {
				t.Errorf("%v (%q) must match %q", tc.args, f.Regex, s)
			}
		}
		for _, s := range tc.dontMatch {
			if re.MatchString(s) {
				t.Errorf("%v (%q) must not match %q", tc.args, f.Regex, s)
			}
		}
	}
}

func TestUnknownFlagSuggestion(t *testing.T) {
	cases := []struct {
		binary string
		args   []string
		want   string
	}{
		{DGrep, []string{"--no-color"}, "unknown flag --no-color; did you mean --noColor?"},
		{DGrep, []string{"ERROR", "a.log", "--grpe", "x"}, "unknown flag --grpe; did you mean --grep?"},
		{DGrep, []string{"--ignore"}, "unknown flag --ignore; did you mean --ignore-case?"},
		{DCat, []string{"--Plain=true"}, "unknown flag --Plain; did you mean --plain?"},
		{DGrep, []string{"-x"}, "unknown flag -x; see 'dgrep -h' for the flags"},
		{DMap, []string{"--zzzzzz"}, "unknown flag --zzzzzz; see 'dmap -h' for the flags"},
	}
	for _, tc := range cases {
		_, err := ParseClient(tc.binary, tc.args, "me", io.Discard)
		var ue *UsageError
		if !errors.As(err, &ue) || err.Error() != tc.want {
			t.Errorf("%v: err %v, want %q", tc.args, err, tc.want)
		}
	}
	// Through RunClient: one line on stderr, exit 2, no usage dump.
	var stdout, stderr strings.Builder
	env := Env{Args: []string{"--no-color", "x"}, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	if code := RunClient(DGrep, env); code != 2 || stderr.String() != "dgrep: unknown flag --no-color; did you mean --noColor?\n" || stdout.Len() != 0 {
		t.Fatalf("exit %d stdout %q stderr %q", code, stdout.String(), stderr.String())
	}
	// Other parse errors are one line too.
	stderr.Reset()
	env.Args = []string{"--max", "many"}
	if code := RunClient(DGrep, env); code != 2 || strings.Count(stderr.String(), "\n") != 1 {
		t.Fatalf("exit %d stderr %q", code, stderr.String())
	}
}

func TestExpandLetters(t *testing.T) {
	fs := flag.NewFlagSet("dgrep", flag.ContinueOnError)
	var b bool
	var n int
	var s string
	fs.BoolVar(&b, "i", false, "")
	fs.BoolVar(&b, "v", false, "")
	fs.IntVar(&n, "C", 0, "")
	fs.IntVar(&n, "m", 0, "")
	fs.StringVar(&s, "e", "", "")
	fs.StringVar(&s, "files", "", "")
	for _, c := range []struct {
		name       string
		args       []string
		needsValue bool
		ok         bool
	}{
		{"iv", []string{"-i", "-v"}, false, true},
		{"C2", []string{"-C", "2"}, false, true},
		{"vm10", []string{"-v", "-m", "10"}, false, true},
		{"ivC", []string{"-i", "-v", "-C"}, true, true},
		{"eERROR|WARN", []string{"-e", "ERROR|WARN"}, false, true},
		{"i", nil, false, false},    // a flag of its own, not a cluster
		{"fles", nil, false, false}, // a typo of -files keeps its hint
		{"ix", nil, false, false},   // x is no flag
		{"i-v", nil, false, false},  // not letters
		{"", nil, false, false},
	} {
		args, needsValue, ok := expandLetters(fs, c.name)
		if ok != c.ok || needsValue != c.needsValue || (ok && strings.Join(args, " ") != strings.Join(c.args, " ")) {
			t.Errorf("expandLetters(%q) = %q, %v, %v; want %q, %v, %v", c.name, args, needsValue, ok, c.args, c.needsValue, c.ok)
		}
	}
}
