package match

import (
	"bufio"
	"compress/bzip2"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

func checkAgainstRegexp(t *testing.T, pattern string, lines []string) {
	t.Helper()
	re, err := regexp.Compile(pattern)
	if err != nil {
		return
	}
	m, err := New(pattern, false, false)
	if err != nil {
		t.Fatalf("regexp accepts %q but New fails: %v", pattern, err)
	}
	if m.Kind() != Regexp {
		return
	}
	// Every path of a Matcher: Match (pooled DFA), a Scanner over a block
	// holding just the line, and the DFA's block scan; the scanner and the
	// DFA keep their caches from line to line, as in a read.
	sc := m.NewScanner()
	d := newDFA(m.prog)
	for _, l := range lines {
		want := re.MatchString(l)
		a := m.Match([]byte(l))
		b, c := a, a
		if strings.IndexByte(l, '\n') < 0 {
			block := []byte(l + "\n")
			_, _, b = sc.NextMatch(block, 0)
			_, _, c = d.nextMatch(block, 0, m.re.Match)
		}
		if a != want || b != want || c != want {
			t.Fatalf("pattern %q line %q: Match %v, Scanner %v, DFA scan %v; regexp says %v", pattern, l, a, b, c, want)
		}
	}
}

func TestDFACases(t *testing.T) {
	lines := []string{"", "a", "ab", "foo bar", "foobar", "FOO", "Foo_bar", "x foo", "foo.", "K", "\u212a", "ſ", "s",
		"caf\u00e9", "\xff\xfe", "a\xffb", "disk", "DISK", "di\u212a", "error: disk", "ERROR 42", "status=503|x", "1234567", "a\xff", "\xfe", "a\xef\xbf\xbd", "status=200", "status=201", "Status=302", "xstatus=3020", "status=30", "status=20 status=300", "ERRNO", "eRror", "START"}
	patterns := []string{`\bfoo\b`, `\Bfoo`, `foo\B`, `^foo`, `foo$`, `^$`, `^`, `$`, `(?i)foo`, `(?i)disk`, `(?i)k`,
		`(?i)s`, `[^a]`, `.`, `(?s).`, `a|b`, `(?m)^foo$`, `\Afoo\z`, `(?i)ERROR|status=50[34]`, `[0-9]{5}`,
		`x*`, `\b`, `\B`, `é`, `(?i)É`, `[\x{80}-\x{10ffff}]`, `\pL+`, `(a|b)*c`, `(?U)a+?b`, `^(?:a|ab)$`,
		`a\x{FFFD}`, `[\x{FFFD}x]`, `(?i)a\x{FFFD}|zz`, `status=[23]0[02]`, `(?i)err(or|no)`, `(?i)sta(tus|rt)`}
	for _, p := range patterns {
		checkAgainstRegexp(t, p, lines)
	}
}

// TestDFAOnRE2Vectors replays the search tests of Go's regexp package
// (RE2's vectors) and compares every match decision.
func TestDFAOnRE2Vectors(t *testing.T) {
	dir := filepath.Join(runtime.GOROOT(), "src", "regexp", "testdata")
	f, err := os.Open(filepath.Join(dir, "re2-search.txt"))
	if err != nil {
		t.Skipf("Go's regexp test data not found: %v", err)
	}
	defer f.Close()
	max := 0
	if raceEnabled {
		max = 300
	}
	n := replayVectors(t, f, max)
	if testing.Short() || raceEnabled {
		return
	}
	ef, err := os.Open(filepath.Join(dir, "re2-exhaustive.txt.bz2"))
	if err != nil {
		t.Skipf("Go's regexp test data not found: %v", err)
	}
	defer ef.Close()
	// The exhaustive file holds millions of cases; a prefix keeps the test
	// within a few seconds.
	n += replayVectors(t, bzip2.NewReader(ef), 4000)
	t.Logf("%d patterns checked", n)
}

func replayVectors(t *testing.T, r io.Reader, maxPatterns int) int {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var strs []string
	inStrings := false
	n := 0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "strings":
			strs, inStrings = nil, true
		case line == "regexps":
			inStrings = false
		case strings.HasPrefix(line, `"`):
			s, err := strconv.Unquote(line)
			if err != nil {
				continue
			}
			if inStrings {
				strs = append(strs, s)
				continue
			}
			checkAgainstRegexp(t, s, strs)
			n++
			if maxPatterns > 0 && n >= maxPatterns {
				return n
			}
		}
	}
	return n
}

// FuzzDFAAgreesWithRegexp compares every match decision of the DFA,
// the prefilters and the Scanner with Go's regexp on random patterns and
// lines (ASCII and not).
func FuzzDFAAgreesWithRegexp(f *testing.F) {
	f.Add(`\bfoo\b`, "foo bar\nxfoo\nfoo_\n")
	f.Add(`(?i)error|status=50[34]`, "ERROR x\nstatus=504\nerr\n\u212a\n")
	f.Add(`^(WARN|ERROR|INFO\|[^|]*\|[12])`, "INFO|x|1\nINFO|x|3\nWARN\n")
	f.Add(`[a-z]+=[0-9]{5}[|]`, "a=12345|\nb=1234|\n")
	f.Add(`(?i)disk$`, "DI\u212a\ndisk\nDisk \n")
	f.Add(`status=[23]0[02]`, "status=200\nstatus=201\nstatus=20 status=302\n")
	f.Fuzz(func(t *testing.T, pattern, text string) {
		if len(pattern) > 200 || len(text) > 4096 {
			return
		}
		checkAgainstRegexp(t, pattern, strings.Split(text, "\n"))
		// The same lines as one block through one Scanner.
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		m, _ := New(pattern, false, false)
		block := []byte(text)
		if len(block) > 0 && block[len(block)-1] != '\n' {
			block = append(block, '\n')
		}
		want := perLine(re, block)
		if !m.CanScan() {
			return
		}
		got := scanAll(m, block)
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("pattern %q text %q: got %q want %q", pattern, text, got, want)
		}
	})
}

func TestFoldSafeLetters(t *testing.T) {
	// foldSafe must admit exactly the ASCII letters whose case orbit (what
	// (?i) matches, see regexp/syntax) stays in ASCII.
	for c := 'A'; c <= 'z'; c++ {
		if !unicode.IsLetter(c) {
			continue
		}
		nonASCII := false
		for r := unicode.SimpleFold(c); r != c; r = unicode.SimpleFold(r) {
			if r >= 0x80 {
				nonASCII = true
			}
		}
		if nonASCII == foldSafe(c) {
			t.Errorf("%q: folds to non-ASCII %v, foldSafe %v", c, nonASCII, foldSafe(c))
		}
	}
}

// TestDFACacheFlush: a pattern whose automaton has far more states than
// the cache holds (the n-th byte from the end) still decides every line
// like the regexp while the cache is flushed again and again.
func TestDFACacheFlush(t *testing.T) {
	for _, p := range []string{`a[ab]{7}$`, `(?i)a[ab]{6}b`, `\ba[ab]{5}\b`} {
		re := regexp.MustCompile(p)
		m, _ := New(p, false, false)
		d := newDFA(m.prog)
		d.maxStates = 8
		var block []byte
		seed := uint32(1)
		for i := 0; i < 400; i++ {
			var l []byte
			for j := 0; j < 1+int(seed%40); j++ {
				seed = seed*1664525 + 1013904223
				l = append(l, "abAB "[seed>>29%5])
			}
			block = append(append(block, l...), '\n')
			got, ok := d.matchLine(l)
			if !ok || got != re.Match(l) {
				t.Fatalf("%q line %q: dfa %v (ok %v), regexp %v", p, l, got, ok, re.Match(l))
			}
		}
		want := perLine(re, block)
		var got []string
		for from := 0; ; {
			s, e, ok := d.nextMatch(block, from, re.Match)
			if !ok {
				break
			}
			got = append(got, string(block[s:e]))
			from = e
		}
		if strings.Join(got, "") != strings.Join(want, "") {
			t.Fatalf("%q: block scan differs from regexp", p)
		}
		if d.flushes == 0 {
			t.Fatalf("%q: the cache was never flushed", p)
		}
		if len(d.states) > d.maxStates+1 {
			t.Fatalf("%q: %d states, limit %d", p, len(d.states), d.maxStates)
		}
	}
}
