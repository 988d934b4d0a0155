package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func ours(name string) string { return filepath.Join(binDir, name) }

// genLog returns random log text: words, digits, UTF-8, empty lines, CRLF
// endings; without terminated the last line has no newline.
func genLog(seed uint64, terminated bool) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	words := []string{"error", "warn", "info", "foo", "abc", "ab", "bar", "123", "4567", "x9",
		"äöü", "日本語", "€uro", "ñ", "[x]", "k=v", "a:b", "|", "😀", "ERROR", "tab\tbed"}
	var b bytes.Buffer
	n := 150 + r.IntN(150)
	for i := 0; i < n; i++ {
		if r.IntN(10) > 0 {
			for w := r.IntN(8) + 1; w > 0; w-- {
				b.WriteString(words[r.IntN(len(words))])
				if w > 1 {
					b.WriteByte(' ')
				}
			}
		}
		if r.IntN(7) == 0 {
			b.WriteByte('\r')
		}
		b.WriteByte('\n')
	}
	if !terminated {
		b.WriteString("last line without newline abc")
	}
	return b.Bytes()
}

// variants writes data as name, name.gz and name.zst and returns their paths
// (plain first); compressed variants are left out, with a log line, when
// gzip or zstd is missing.
func variants(t *testing.T, dir, name string, data []byte) []string {
	t.Helper()
	plain := writeOwned(t, filepath.Join(dir, name), data, 0o644)
	paths := []string{plain}
	for _, c := range []struct{ tool, ext string }{{"gzip", ".gz"}, {"zstd", ".zst"}} {
		if _, err := exec.LookPath(c.tool); err != nil {
			t.Skipf("%s not in PATH (apt-get install -y %s)", c.tool, c.tool)
		}
		cmd := exec.Command(c.tool, "-c", "-q", plain)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s -c %s: %v", c.tool, plain, err)
		}
		paths = append(paths, writeOwned(t, plain+c.ext, out, 0o644))
	}
	return paths
}

// grepE is the oracle: grep -E (-v) in the C locale, which like RE2 works
// on the line without its newline and keeps \r as a character.
func grepE(t *testing.T, pattern string, invert bool, file string) []byte {
	t.Helper()
	args := []string{"-a", "-E"}
	if invert {
		args = append(args, "-v")
	}
	cmd := exec.Command("grep", append(args, "-e", pattern, file)...)
	cmd.Env = []string{"LC_ALL=C"}
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		err = nil // no match
	}
	if err != nil {
		t.Fatalf("grep %v: %v", args, err)
	}
	return out
}

func serverless(dir string, bin string, args ...string) run {
	return run{bin: ours(bin), args: append([]string{"--cfg", "none"}, args...), dir: dir,
		env: baseEnv(dir, "DTAIL_HOSTNAME_OVERRIDE=testhost"), timeout: 20 * time.Second}
}

func expectBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-60)
	t.Errorf("%s: output differs at byte %d (got %d bytes, want %d)\n got: %q\nwant: %q", what, i, len(got), len(want),
		got[lo:min(len(got), i+60)], want[lo:min(len(want), i+60)])
}

var grepPatterns = []string{
	"error",           // literal
	"[0-9]{3}",        // character class
	"error|warn|€uro", // alternation
	"^ab",             // anchor at the start
	"abc$",            // anchor at the end (CRLF lines end in \r, as for grep)
	"^$",              // empty lines
	"日本語 [a-z]+ab?c",  // UTF-8 literal with classes
}

// TestServerlessCatGrepMatchCoreutils: dcat --plain equals cat and dgrep
// --plain equals grep -E for plain, gzip and zstd files over several seeds.
func TestServerlessCatGrepMatchCoreutils(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		for _, term := range []bool{true, false} {
			name := fmt.Sprintf("seed%d/terminated=%v", seed, term)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				dir := newWorkDir(t)
				data := genLog(seed, term)
				files := variants(t, dir, "gen.log", data)
				for _, f := range files {
					res := serverless(dir, "dcat", "--plain", f).exec(t)
					if res.code != 0 || len(res.stderr) > 0 {
						t.Errorf("dcat --plain %s: %v", filepath.Base(f), res)
					}
					expectBytes(t, "dcat --plain "+filepath.Base(f)+" vs cat", res.stdout, data)
				}
				for _, p := range grepPatterns {
					for _, inv := range []bool{false, true} {
						if inv && p != "error" && p != "^$" {
							continue
						}
						want := grepE(t, p, inv, files[0])
						for _, f := range files {
							args := []string{"--plain", "--regex", p}
							if inv {
								args = append(args, "--invert")
							}
							res := serverless(dir, "dgrep", append(args, f)...).exec(t)
							if res.code != 0 || len(res.stderr) > 0 {
								t.Errorf("dgrep %q %s: %v", args, filepath.Base(f), res)
							}
							expectBytes(t, fmt.Sprintf("dgrep %q %s vs grep -E", args, filepath.Base(f)), res.stdout, want)
						}
					}
				}
			})
		}
	}
}

// TestServerlessStdin: cat f | dgrep --plain --regex X equals grep.
func TestServerlessStdin(t *testing.T) {
	dir := newWorkDir(t)
	data := genLog(9, true)
	f := writeOwned(t, filepath.Join(dir, "in.log"), data, 0o644)
	for _, p := range []string{"error", "^ab|4567"} {
		r := serverless(dir, "dgrep", "--plain", "--regex", p)
		r.stdin = bytes.NewReader(data)
		r.timeout = 5 * time.Second
		res := r.exec(t)
		if res.code != 0 || res.timedOut {
			t.Errorf("stdin dgrep %q: %v", p, res)
		}
		expectBytes(t, "stdin dgrep "+p, res.stdout, grepE(t, p, false, f))
	}
	r := serverless(dir, "dcat", "--plain")
	r.stdin = bytes.NewReader(data)
	res := r.exec(t)
	expectBytes(t, "stdin dcat", res.stdout, data)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	expectBytes(t, "golden "+name, got, want)
}

// goldenCases mirror the reference's TestDCatColors (server variant),
// TestDGrepContext1 and TestDGrepContext2 on testdata/context.log.
var goldenCases = []struct {
	golden string
	bin    string
	args   []string
}{
	{"dcat.golden", "dcat", nil},
	{"dgrep_context1.golden", "dgrep", []string{"--regex", "1002-071947", "--before", "2", "--after", "3"}},
	{"dgrep_context2.golden", "dgrep", []string{"--regex", "1002-071947", "--before", "2", "--after", "3", "--invert"}},
}

func contextLog(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "context.log"))
	if err != nil {
		t.Fatal(err)
	}
	return writeOwned(t, filepath.Join(dir, "context.log"), data, 0o644)
}

// TestServerlessGolden: non-plain REMOTE output with --noColor equals the
// golden files; with colours it has escapes and the same text under them.
func TestServerlessGolden(t *testing.T) {
	dir := newWorkDir(t)
	log := contextLog(t, dir)
	for _, c := range goldenCases {
		t.Run(c.golden, func(t *testing.T) {
			res := serverless(dir, c.bin, append(append([]string{"--noColor"}, c.args...), log)...).exec(t)
			if res.code != 0 || len(res.stderr) > 0 {
				t.Errorf("%s %q: %v", c.bin, c.args, res)
			}
			golden(t, c.golden, res.stdout)
			col := serverless(dir, c.bin, append(append([]string{"--logLevel", "error"}, c.args...), log)...).exec(t)
			if col.code != 0 || !bytes.Contains(col.stdout, []byte("\x1b[")) {
				t.Errorf("coloured %s: no ESC[ in output: %v", c.bin, col)
			}
			expectBytes(t, "coloured output without its escapes", ansi.ReplaceAll(col.stdout, nil), res.stdout)
		})
	}
}

// oneLine checks that stderr is exactly one line that names path.
func oneLine(t *testing.T, what string, res result, path string) {
	t.Helper()
	ls := lines(res.stderr)
	if len(ls) != 1 || !strings.Contains(ls[0], path) || !bytes.HasSuffix(res.stderr, []byte("\n")) {
		t.Errorf("%s: want one stderr line naming %s, got %q", what, path, res.stderr)
	}
}

// TestServerlessBadInput: each bad input gives its exit code and one stderr
// line naming the file, while the good files around it are still printed.
func TestServerlessBadInput(t *testing.T) {
	dir := newWorkDir(t)
	good1 := writeOwned(t, filepath.Join(dir, "good1.log"), []byte("first good file\nline 2\n"), 0o644)
	good2 := writeOwned(t, filepath.Join(dir, "good2.log"), []byte("second good file\r\nlast\n"), 0o644)
	goods := []byte("first good file\nline 2\nsecond good file\r\nlast\n")

	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	var gzData, zstData []byte
	{
		var payload bytes.Buffer
		for i := 0; payload.Len() < 4<<20; i++ {
			fmt.Fprintf(&payload, "compressed line %d %x\n", i, big[i%len(big):][:40])
		}
		plain := writeOwned(t, filepath.Join(dir, "payload.txt"), payload.Bytes(), 0o644)
		for _, c := range []struct {
			tool string
			dst  *[]byte
		}{{"gzip", &gzData}, {"zstd", &zstData}} {
			if _, err := exec.LookPath(c.tool); err != nil {
				t.Skipf("%s not in PATH (apt-get install -y %s)", c.tool, c.tool)
			}
			out, err := exec.Command(c.tool, "-c", "-q", plain).Output()
			if err != nil {
				t.Fatal(err)
			}
			*c.dst = out
		}
	}
	unreadable := writeOwned(t, filepath.Join(dir, "secret.log"), []byte("secret\n"), 0o000)
	subdir := mkdirOwned(t, filepath.Join(dir, "adir"), 0o755)

	cases := []struct {
		name string
		path string
		code int
	}{
		{"missing file", filepath.Join(dir, "missing.log"), 1},
		{"directory", subdir, 1},
		{"unreadable file", unreadable, 1},
		{"corrupt gzip", writeOwned(t, filepath.Join(dir, "corrupt.gz"), []byte("this is not gzip at all\n"), 0o644), 1},
		{"truncated gzip", writeOwned(t, filepath.Join(dir, "truncated.gz"), gzData[:len(gzData)/2], 0o644), 1},
		{"gzip without trailer", writeOwned(t, filepath.Join(dir, "notrailer.gz"), gzData[:len(gzData)-4], 0o644), 1},
		{"truncated zstd", writeOwned(t, filepath.Join(dir, "truncated.zst"), zstData[:len(zstData)/2], 0o644), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, bin := range []string{"dcat", "dgrep"} {
				args := []string{"--plain", good1, c.path, good2}
				if bin == "dgrep" {
					args = append([]string{"--regex", "good|^line|^last"}, args...)
				}
				r := serverless(dir, bin, args...)
				r.timeout = 4 * time.Second // a 5 s glob retry would show up as a timeout
				res := r.exec(t)
				if res.timedOut || res.code != c.code {
					t.Errorf("%s: want exit %d without waiting: %v", bin, c.code, res)
				}
				oneLine(t, bin+" "+c.name, res, c.path)
				// A damaged compressed file may yield what decompressed
				// before the damage; the good files must be intact around it.
				if bin == "dgrep" {
					expectBytes(t, "dgrep: good files around the bad one", res.stdout, goods)
				} else if !bytes.HasPrefix(res.stdout, goods[:23]) || !bytes.HasSuffix(res.stdout, goods[23:]) {
					t.Errorf("%s: good files not intact around the bad one", bin)
				}
			}
		})
	}

	t.Run("10 MB line without newline", func(t *testing.T) {
		data := bytes.Repeat(big, 10)
		f := writeOwned(t, filepath.Join(dir, "long.log"), data, 0o644)
		res := serverless(dir, "dcat", "--plain", f).exec(t)
		if res.code != 0 {
			t.Errorf("exit %d: %s", res.code, res.stderr)
		}
		oneLine(t, "long line", res, f)
		chunks := bytes.Split(bytes.TrimSuffix(res.stdout, []byte("\n")), []byte("\n"))
		if len(chunks) != 10 {
			t.Errorf("want 10 chunks of MaxLineLength 1 MiB, got %d", len(chunks))
		}
		for i, c := range chunks {
			if len(c) > 1<<20 {
				t.Errorf("chunk %d is %d bytes, longer than 1 MiB", i, len(c))
			}
		}
		if got := bytes.Join(chunks, nil); !bytes.Equal(got, data) {
			t.Errorf("content bytes not preserved: got %d bytes, want %d", len(got), len(data))
		}
	})

	t.Run("binary file", func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		data := make([]byte, 256<<10)
		for i := range data {
			data[i] = byte(r.UintN(256))
		}
		data[len(data)-1] = '\n'
		f := writeOwned(t, filepath.Join(dir, "blob.bin"), data, 0o644)
		res := serverless(dir, "dcat", "--plain", f).exec(t)
		if res.code != 0 || len(res.stderr) > 0 {
			t.Errorf("dcat binary: %v", res)
		}
		expectBytes(t, "dcat --plain binary vs cat", res.stdout, data)
	})

	t.Run("empty file", func(t *testing.T) {
		f := writeOwned(t, filepath.Join(dir, "empty.log"), nil, 0o644)
		for _, bin := range []string{"dcat", "dgrep"} {
			res := serverless(dir, bin, "--plain", f).exec(t)
			if res.code != 0 || len(res.stdout)+len(res.stderr) > 0 {
				t.Errorf("%s empty file: want no output and exit 0: %v", bin, res)
			}
		}
	})

	usage := []struct {
		name string
		bin  string
		args []string
		code int
		out  *regexp.Regexp // stdout, when set
	}{
		{"invalid regex", "dgrep", []string{"--plain", "--regex", "(", good1}, 2, nil},
		{"negative max", "dgrep", []string{"--plain", "--regex", "x", "--max", "-1", good1}, 2, nil},
		{"unknown flag dcat", "dcat", []string{"--no-such-flag", good1}, 2, nil},
		{"unknown flag dgrep", "dgrep", []string{"--no-such-flag", good1}, 2, nil},
		{"unknown flag dtail", "dtail", []string{"--no-such-flag", good1}, 2, nil},
		{"help dcat", "dcat", []string{"-h"}, 0, nil},
		{"help dgrep", "dgrep", []string{"-h"}, 0, nil},
		{"version dcat", "dcat", []string{"-version", "-noColor"}, 0, regexp.MustCompile(`^DTail \S+ Protocol 4\.1 Have a lot of fun!\n$`)},
		{"version dgrep", "dgrep", []string{"-version", "-noColor"}, 0, regexp.MustCompile(`^DTail \S+ Protocol 4\.1 Have a lot of fun!\n$`)},
		{"version dtail", "dtail", []string{"-version", "-noColor"}, 0, regexp.MustCompile(`^DTail \S+ Protocol 4\.1 Have a lot of fun!\n$`)},
		{"version dcat coloured", "dcat", []string{"-version"}, 0, regexp.MustCompile(`\x1b\[.*DTail .*Protocol 4\.1 .*Have a lot of fun!`)},
	}
	for _, u := range usage {
		t.Run(u.name, func(t *testing.T) {
			res := serverless(dir, u.bin, u.args...).exec(t)
			if res.code != u.code {
				t.Errorf("%s %q: want exit %d: %v", u.bin, u.args, u.code, res)
			}
			if u.out != nil && !u.out.Match(res.stdout) {
				t.Errorf("%s %q: stdout %q does not match %s", u.bin, u.args, res.stdout, u.out)
			}
			if u.code == 2 && len(res.stdout) > 0 {
				t.Errorf("%s %q: usage error printed on stdout: %q", u.bin, u.args, res.stdout)
			}
			if u.name == "invalid regex" || u.name == "negative max" {
				if ls := lines(res.stderr); len(ls) != 1 {
					t.Errorf("%s: want a one-line error, got %q", u.name, res.stderr)
				}
			}
		})
	}
}
