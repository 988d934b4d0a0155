package e2e

// The user-experience tests of issue 17: every invocation of its first
// list, run as a grep, ripgrep or OpenSSH user types it, checking stdout,
// stderr and the exit code. GNU grep is the oracle for what a grep user
// expects to see. One test per bullet of the issue:
//
//	grep-style invocations      TestUXGrepShape
//	the flags people type first TestUXFirstFlags
//	streaming stdin             TestUXStreamingStdin; FIFOs, <(…), /dev/null: TestStreamFiles (stream_test.go)
//	host-key trust              TestUXTrustOnTerminal, TestTrustWithoutTerminal (trust_test.go)
//	~/.ssh/config               TestUXSSHConfig; every directive, ProxyJump: sshconfig_test.go
//	terminal hygiene            TestUXTerminal; TestTerminalColours, TestProgressLineFitsTerminal (terminal_test.go)
//	docs and completion         TestUXExitStatus, TestUXDocs

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dtail-go/dtail/internal/client"
	"github.com/dtail-go/dtail/internal/manpage"
)

// uxFiles are app.log (20,000 lines: ERROR, WARN, lower-case and plural
// errors, regex metacharacters, rare neighbours for context) and
// small.log (1,000 lines of status codes), owned by the test account.
type uxFiles struct {
	dir, app, small string
}

func newUXFiles(t *testing.T) uxFiles {
	t.Helper()
	dir := newWorkDir(t)
	var app bytes.Buffer
	for i := 1; i <= 20000; i++ {
		switch {
		case i%97 == 0:
			fmt.Fprintf(&app, "ERROR disk full on sda%d\n", i%7)
		case i%89 == 0:
			fmt.Fprintf(&app, "WARN slow request took %dms\n", i)
		case i%53 == 0:
			fmt.Fprintf(&app, "error lower case id=%d\n", i)
		case i%71 == 0:
			fmt.Fprintf(&app, "INFO ERRORS plural, %d of them\n", i%9)
		case i%101 == 0:
			fmt.Fprintf(&app, "INFO literal a.b(c)+[x] id=%d\n", i)
		case i%1009 == 0:
			fmt.Fprintf(&app, "INFO RARE event %d\n", i)
		default:
			fmt.Fprintf(&app, "INFO request id=%d status=%d\n", i, 200+(i%3)*100)
		}
	}
	var small bytes.Buffer
	for i := 1; i <= 1000; i++ {
		st := 200
		if i%7 == 0 {
			st = 503
		}
		fmt.Fprintf(&small, "request %d status=%d\n", i, st)
	}
	return uxFiles{
		dir:   dir,
		app:   writeOwned(t, filepath.Join(dir, "app.log"), app.Bytes(), 0o644),
		small: writeOwned(t, filepath.Join(dir, "small.log"), small.Bytes(), 0o644),
	}
}

// grepOracle runs GNU grep in dir; exit 1 (no match) is an empty answer.
func grepOracle(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	g, err := exec.LookPath("grep")
	if err != nil {
		t.Skip("grep not installed: it is the oracle of these tests")
	}
	cmd := exec.Command(g, args...)
	cmd.Dir, cmd.Env = dir, []string{"LC_ALL=C"}
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 1) {
		t.Fatalf("grep %q: %v", args, err)
	}
	return out
}

var ansiSeq = regexp.MustCompile("\x1b\\[[0-9;]*m")

// numbered turns DTail's default view (REMOTE|host|100|N|file|line, with
// or without colours) into grep -n's "N:line" lines for one file.
func numbered(t *testing.T, out []byte, file string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, l := range lines(ansiSeq.ReplaceAll(out, nil)) {
		f := strings.SplitN(l, "|", 6)
		if len(f) != 6 || f[0] != "REMOTE" || f[4] != file {
			t.Fatalf("not a REMOTE line of %s: %q", file, l)
		}
		fmt.Fprintf(&b, "%s:%s\n", f[3], f[5])
	}
	return b.Bytes()
}

// expectRun checks a finished invocation: the exit code, stdout exactly,
// and stderr exactly (nil: empty).
func expectRun(t *testing.T, what string, res result, code int, stdout, stderr []byte) {
	t.Helper()
	if res.code != code || res.timedOut {
		t.Errorf("%s: exit %d (timed out %v), want %d; stderr %q", what, res.code, res.timedOut, code, clip(res.stderr))
	}
	if stdout != nil && !bytes.Equal(res.stdout, stdout) {
		expectBytes(t, what+": stdout", res.stdout, stdout)
	}
	if !bytes.Equal(res.stderr, stderr) {
		t.Errorf("%s: stderr %q, want %q", what, clip(res.stderr), stderr)
	}
}

// TestUXGrepShape: the first bullet. `dgrep ERROR app.log` greps (it
// printed all of app.log before), flags after a file are flags, --files
// plus a positional file reads both, a repeated --grep means either.
func TestUXGrepShape(t *testing.T) {
	fx := newUXFiles(t)
	dir := fx.dir
	errLines := grepOracle(t, dir, "ERROR", "app.log")
	if n := bytes.Count(errLines, []byte("\n")); n < 300 {
		t.Fatalf("test data: only %d ERROR lines", n)
	}

	res := serverless(dir, "dgrep", "ERROR", "app.log").exec(t)
	expectRun(t, "dgrep ERROR app.log", res, 0, nil, nil)
	if got, want := numbered(t, res.stdout, "app.log"), grepOracle(t, dir, "-n", "ERROR", "app.log"); !bytes.Equal(got, want) {
		expectBytes(t, "dgrep ERROR app.log (as grep -n)", got, want)
	}
	res = serverless(dir, "dgrep", "--plain", "ERROR", "app.log").exec(t)
	expectRun(t, "dgrep --plain ERROR app.log", res, 0, errLines, nil)

	res = serverless(dir, "dgrep", "--count", "small.log", "--grep", "status=503").exec(t)
	expectRun(t, "dgrep --count small.log --grep status=503", res, 0,
		append([]byte("small.log:"), grepOracle(t, dir, "-c", "status=503", "small.log")...), nil)

	both, err := os.ReadFile(fx.small)
	if err != nil {
		t.Fatal(err)
	}
	appData, _ := os.ReadFile(fx.app)
	res = serverless(dir, "dcat", "--plain", "--files", "small.log", "app.log").exec(t)
	expectRun(t, "dcat --plain --files small.log app.log", res, 0, append(both, appData...), nil)
	res = serverless(dir, "dgrep", "--plain", "--grep", "status=503", "--files", "small.log", "app.log").exec(t)
	expectRun(t, "dgrep --plain --grep status=503 --files small.log app.log", res, 0,
		grepOracle(t, dir, "-h", "status=503", "small.log", "app.log"), nil)

	res = serverless(dir, "dgrep", "--plain", "--grep", "ERROR", "--grep", "WARN", "app.log").exec(t)
	expectRun(t, "dgrep --grep ERROR --grep WARN", res, 0, grepOracle(t, dir, "-e", "ERROR", "-e", "WARN", "app.log"), nil)

	// grep's pattern-then-stdin form: zcat x.gz | dgrep PATTERN.
	r := serverless(dir, "dgrep", "--plain", "WARN")
	r.stdin = bytes.NewReader(appData)
	expectRun(t, "dgrep WARN < app.log", r.exec(t), 0, grepOracle(t, dir, "WARN", "app.log"), nil)
}

// TestUXFirstFlags: the second bullet. grep's -i -F -w -e -C print what
// grep prints; an unknown flag is one line with a suggestion, no usage
// dump; -h is the usage on stdout.
func TestUXFirstFlags(t *testing.T) {
	fx := newUXFiles(t)
	dir := fx.dir
	for _, args := range [][]string{
		{"-i", "error"},
		{"-w", "ERROR"},
		{"-i", "-w", "errors"},
		{"-F", "a.b(c)+[x]"},
		{"-F", "-e", "a.b(c)", "-e", "sda3"},
		{"-e", "RARE", "-e", "^WARN"},
		{"-C", "1", "RARE"}, // with grep's -- between groups
		{"-C", "2", "-e", "RARE", "-e", "ERROR disk full on sda0"},
		// grep's other letters and its clusters: -iw, -C1, -vm3, -eX.
		{"-iw", "errors"},
		{"-C1", "RARE"},
		{"-B", "1", "-A2", "RARE"},
		{"-B", "1", "-C", "3", "RARE"}, // an explicit -B beats -C's
		{"-m2", "ERROR"},
		{"-v", "-e", "INFO", "-e", "ERROR"},
		{"-vm3", "INFO"},
		{"-eRARE"},
	} {
		res := serverless(dir, "dgrep", append(append([]string{"--plain"}, args...), "app.log")...).exec(t)
		expectRun(t, "dgrep "+strings.Join(args, " ")+" app.log", res, 0, grepOracle(t, dir, append(args, "app.log")...), nil)
	}

	for _, c := range []struct{ typed, want string }{
		{"--no-color", "dgrep: unknown flag --no-color; did you mean --noColor?\n"},
		{"--ignorecase", "dgrep: unknown flag --ignorecase; did you mean --ignore-case?\n"},
		{"-x", "dgrep: unknown flag -x; see 'dgrep -h' for the flags\n"},
	} {
		res := serverless(dir, "dgrep", c.typed, "ERROR", "app.log").exec(t)
		expectRun(t, "dgrep "+c.typed, res, 2, []byte{}, []byte(c.want))
	}

	// -c and -l are -count and -files-with-matches, with DTail's file
	// prefix where grep prints a bare count for one file.
	for _, c := range []struct{ args, grepArgs []string }{
		{[]string{"-c", "RARE"}, []string{"-c", "RARE"}},
		{[]string{"-ic", "rare"}, []string{"-ic", "rare"}},
		{[]string{"-l", "RARE"}, []string{"-l", "RARE"}},
	} {
		res := serverless(dir, "dgrep", append(append([]string{"--plain"}, c.args...), "app.log")...).exec(t)
		want := grepOracle(t, dir, append(c.grepArgs, "app.log")...)
		if c.args[0] != "-l" {
			want = append([]byte("app.log:"), want...)
		}
		expectRun(t, "dgrep "+strings.Join(c.args, " ")+" app.log", res, 0, want, nil)
	}

	res := serverless(dir, "dgrep", "-h").exec(t)
	if res.code != 0 || len(res.stderr) != 0 || !bytes.Contains(res.stdout, []byte("-ignore-case")) {
		t.Errorf("dgrep -h: want the usage on stdout, exit 0; got %v", res)
	}
}

// TestUXStreamingStdin: the third bullet, literally: `tail -f app.log |
// dgrep --plain --grep .` prints tail's lines, then every line appended
// to the file while tail keeps the pipe open (it printed nothing for 8 s).
func TestUXStreamingStdin(t *testing.T) {
	dir := newWorkDir(t)
	var data bytes.Buffer
	for i := 1; i <= 50; i++ {
		fmt.Fprintf(&data, "INFO line %d\n", i)
	}
	app := writeOwned(t, filepath.Join(dir, "app.log"), data.Bytes(), 0o644)
	r := serverless(dir, "dgrep", "--plain", "--grep", ".")
	cmd := exec.Command("bash", "-c", "tail -f app.log | "+shellQuote(r.bin)+" "+strings.Join(r.args, " "))
	cmd.Dir, cmd.Env = dir, r.env
	p := startBG(t, cmd, filepath.Join(dir, "out"))
	// bash, tail and dgrep share the process group procAttr gave bash.
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	want := strings.Join(lines(data.Bytes())[40:], "\n") + "\n"
	if !p.waitOutput(streamWait, func(b []byte) bool { return string(b) == want }) {
		t.Fatalf("tail's 10 lines not printed within %v: stdout %q stderr %q", streamWait, p.output(), p.errOutput())
	}
	for i := 0; i < 3; i++ {
		line := fmt.Sprintf("ERROR appended %d\n", i)
		appendFile(t, app, []byte(line))
		want += line
		if !p.waitOutput(streamWait, func(b []byte) bool { return string(b) == want }) {
			t.Fatalf("appended line %d not printed within %v: stdout %q stderr %q", i, streamWait, p.output(), p.errOutput())
		}
	}
	if len(p.errOutput()) != 0 {
		t.Errorf("stderr: %q", p.errOutput())
	}
}

// TestUXSSHConfig: the fifth bullet. A Host alias of ~/.ssh/config
// (HostName, Port, User, IdentityFile) is what `--servers loghost`
// reaches, with the grep-shaped command line; it failed with "no such
// host" and no key before.
func TestUXSSHConfig(t *testing.T) {
	requireRoot(t)
	keys(t)
	u := addUser(t, "uxcfg")
	k := newKey(t, mkdirOwned(t, filepath.Join(newWorkDir(t), "keys"), 0o700), "ux_key")
	srv := startDServer(t, withoutSelf(), withUsers(map[string][]byte{u.name: k.pub}))
	fx := newUXFiles(t)
	home := newHome(t, newWorkDir(t))
	writeSSHConfig(t, home, fmt.Sprintf("Host loghost\n    HostName 127.0.0.1\n    Port %d\n    User %s\n    IdentityFile %s\n",
		srv.port, u.name, k.priv))
	res := run{bin: ours("dgrep"), args: []string{"--trustAllHosts", "--plain", "--servers", "loghost", "--files", fx.app, "RARE"},
		dir: home, env: baseEnv(home), timeout: 40 * time.Second}.exec(t)
	if res.code != 0 || !bytes.Equal(res.stdout, grepOracle(t, fx.dir, "RARE", "app.log")) {
		t.Fatalf("dgrep --servers loghost: %v", res)
	}
	// Only the note that the new host key was recorded: no warning.
	for _, l := range lines(res.stderr) {
		if !strings.Contains(l, "Added hosts to known hosts file") {
			t.Errorf("stderr: %q", l)
		}
	}
}

// TestUXTerminal: the sixth bullet, with the first bullet's command on a
// terminal: `dgrep ERROR app.log` shows exactly grep's lines (coloured
// frame, payload escaped where needed), and with NO_COLOR or TERM=dumb
// the same lines without a single escape sequence.
func TestUXTerminal(t *testing.T) {
	fx := newUXFiles(t)
	want := grepOracle(t, fx.dir, "-n", "ERROR", "app.log")
	for _, env := range []string{"TERM=xterm", "NO_COLOR=1", "TERM=dumb"} {
		r := serverless(fx.dir, "dgrep", "ERROR", "app.log")
		r.env = append(r.env, env)
		res := inPty(t, r, "100")
		if res.code != 0 {
			t.Fatalf("%s: %v", env, res)
		}
		out := bytes.ReplaceAll(res.stdout, []byte("\r\n"), []byte("\n"))
		// stderr shares the terminal: the receipt (default there) comes last.
		i := bytes.LastIndex(out, []byte("receipt: "))
		if i < 0 || !bytes.HasPrefix(ansiSeq.ReplaceAll(out[i:], nil), []byte("receipt: complete;")) {
			t.Errorf("%s: no complete receipt at the end: %q", env, out[max(0, len(out)-300):])
			i = len(out)
		}
		out = out[:i]
		if got := numbered(t, out, "app.log"); !bytes.Equal(got, want) {
			expectBytes(t, env+" dgrep ERROR app.log on a terminal (as grep -n)", got, want)
		}
		if colours := bytes.Contains(out, []byte("\x1b[")); colours != (env == "TERM=xterm") {
			t.Errorf("%s: escape sequences on the terminal: %v", env, colours)
		}
	}
}

// TestUXExitStatus runs a case for every row of the clients' EXIT STATUS
// (internal/manpage, the text of the man pages), so the page says what
// the binaries do.
func TestUXExitStatus(t *testing.T) {
	fx := newUXFiles(t)
	dir := fx.dir
	home := newDefaultUser(t).home
	cases := map[string][]func(t *testing.T){
		strconv.Itoa(client.ExitOK): {
			func(t *testing.T) {
				expectRun(t, "complete grep", serverless(dir, "dgrep", "--plain", "RARE", "app.log").exec(t), 0,
					grepOracle(t, dir, "RARE", "app.log"), nil)
			},
			func(t *testing.T) {
				expectRun(t, "no line matched", serverless(dir, "dgrep", "--plain", "NO SUCH TEXT", "app.log").exec(t), 0, []byte{}, nil)
			},
		},
		strconv.Itoa(client.ExitPartial): {
			func(t *testing.T) {
				expectRun(t, "a missing file", serverless(dir, "dgrep", "--plain", "RARE", "app.log", "missing.log").exec(t), 1,
					grepOracle(t, dir, "RARE", "app.log"), []byte("dgrep: missing.log: no such file or directory\n"))
			},
			func(t *testing.T) {
				port := freePort(t) // nothing listens there
				r := run{bin: ours("dcat"), args: []string{"--cfg", "none", "--trustAllHosts", "--noColor", "--connect-retry", "0",
					"--receipt", "text", "--servers", "127.0.0.1:" + strconv.Itoa(port), "--files", "app.log"},
					dir: dir, env: baseEnv(home)}
				res := r.exec(t)
				if res.code != 1 || len(res.stdout) != 0 || !bytes.Contains(res.stderr, []byte("receipt: INCOMPLETE")) ||
					!bytes.Contains(res.stderr, []byte("1 unreachable")) {
					t.Errorf("an unreachable server: want exit 1 and an INCOMPLETE receipt; got %v", res)
				}
			},
		},
		strconv.Itoa(client.ExitFatal): {
			func(t *testing.T) {
				expectRun(t, "a bad regex", serverless(dir, "dgrep", "(", "app.log").exec(t), 2, []byte{},
					[]byte("dgrep: invalid regex \"(\": error parsing regexp: missing closing ): `(`\n"))
			},
			func(t *testing.T) {
				res := serverless(dir, "dmap", "--query", "from STATS select count($line) grup by $line", "app.log").exec(t)
				if res.code != 2 || len(res.stdout) != 0 || !bytes.Contains(res.stderr, []byte("did you mean 'group by'")) {
					t.Errorf("a bad query: want exit 2 and a suggestion; got %v", res)
				}
			},
			func(t *testing.T) {
				res := run{bin: ours("dgrep"), args: []string{"--cfg", filepath.Join(dir, "nope.json"), "RARE", "app.log"}, dir: dir, env: baseEnv(home)}.exec(t)
				if res.code != 2 || len(res.stdout) != 0 || !bytes.Contains(res.stderr, []byte("nope.json")) {
					t.Errorf("a missing -cfg file: want exit 2 naming it; got %v", res)
				}
			},
		},
		"128+N": {
			func(t *testing.T) { uxSignalExit(t, dir, syscall.SIGINT) },
			func(t *testing.T) { uxSignalExit(t, dir, syscall.SIGTERM) },
		},
	}
	rows := manpage.ClientExitCodes()
	for _, row := range rows {
		fns := cases[row.Code]
		if len(fns) == 0 {
			t.Errorf("EXIT STATUS row %q has no case here", row.Code)
		}
		delete(cases, row.Code)
		for i, fn := range fns {
			t.Run(fmt.Sprintf("%s/%d", row.Code, i), fn)
		}
	}
	for code := range cases {
		t.Errorf("exit code %s is tested here but not in the man page's EXIT STATUS", code)
	}
}

// uxSignalExit: a dgrep reading a pipe that never ends is stopped by sig
// once it has printed (so it is in the middle of the read); the exit
// status is 128+sig as shells report it.
func uxSignalExit(t *testing.T, dir string, sig syscall.Signal) {
	r := serverless(dir, "dgrep", "--plain", "line")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(r.bin, r.args...)
	cmd.Dir, cmd.Env, cmd.Stdin, cmd.SysProcAttr = dir, r.env, pr, procAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	t.Cleanup(func() { pw.Close(); syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	// More than a read-ahead block, so that output comes out even where
	// stdin is read in blocks; the pipe stays open afterwards.
	go func() {
		line := []byte("a line of input\n")
		for i := 0; i < 20000; i++ {
			if _, err := pw.Write(line); err != nil {
				return
			}
		}
	}()
	br := bufio.NewReader(out)
	if _, err := br.ReadBytes('\n'); err != nil {
		t.Fatalf("no output: %v; stderr %q", err, errb.String())
	}
	cmd.Process.Signal(sig)
	go io.Copy(io.Discard, br)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20 s after %v", sig)
	}
	if want := client.ExitSignal(sig); cmd.ProcessState.ExitCode() != want {
		t.Errorf("exit %d after %v, want %d; stderr %q", cmd.ProcessState.ExitCode(), sig, want, errb.String())
	}
}

// TestUXDocs: the installed documents as a user meets them. The man page
// renders with man(1) and says what TestUXExitStatus checked; the bash
// completion, sourced as bash-completion does, registers itself and
// completes --flags, values and @groups.
func TestUXDocs(t *testing.T) {
	dir := t.TempDir()
	if _, err := manpage.Generate(dir); err != nil {
		t.Fatal(err)
	}
	if man, err := exec.LookPath("man"); err == nil {
		cmd := exec.Command(man, "-l", filepath.Join(dir, "man", "man1", "dgrep.1"))
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "MANWIDTH=100", "LC_ALL=C", "MANPAGER=cat", "PAGER=cat"}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("man -l dgrep.1: %v", err)
		}
		text := string(out)
		for _, want := range []string{"EXIT STATUS", "EXAMPLES", "dgrep ERROR app.log", "--servers @web", "--output ndjson", "--receipt json", "130 after SIGINT"} {
			if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
				t.Errorf("man dgrep lacks %q", want)
			}
		}
		t.Logf("man -l dgrep.1: %d lines", strings.Count(text, "\n"))
	} else {
		t.Log("man not installed; the page's content is checked by internal/manpage's tests")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".config", "dtail", "groups"), 0o755)
	os.WriteFile(filepath.Join(home, ".config", "dtail", "groups", "web"), []byte("web1\n"), 0o644)
	prog := `source "$1"; complete -p dgrep; for l in "dgrep --out" "dgrep --output " "dgrep --servers @w"; do ` +
		`COMP_LINE=$l; COMP_POINT=${#l}; _dgrep; echo "$l=> ${COMPREPLY[*]}"; done`
	cmd := exec.Command(bash, "--norc", "-c", prog, "bash", filepath.Join(dir, "completions", "bash", "dgrep"))
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	want := "complete -F _dgrep dgrep\ndgrep --out=> --output\ndgrep --output => text ndjson\ndgrep --servers @w=> web\n"
	if err != nil || string(out) != want {
		t.Errorf("bash completion: %v\n%s\nwant\n%s", err, out, want)
	}
}

// TestUXTrustOnTerminal: the fourth bullet. First contact with ten unknown hosts from a
// terminal (the pty of util-linux's script) with stdout redirected to a
// file. The question is asked once, on the terminal (never in the output
// file), with SHA256 fingerprints; the user answers after dserver's 10 s
// handshake timeout has expired, and every host still delivers its lines
// because the connections are dialled again after the answer (before, the
// user said yes and got "SSH handshake failed: EOF"). The answer delay is
// DTAIL_TRUST_ANSWER_SECONDS (default 12).
func TestUXTrustOnTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (util-linux) not installed")
	}
	delay := time.Duration(envInt("DTAIL_TRUST_ANSWER_SECONDS", 12)) * time.Second
	fx := newFleetFixture(t)
	home := newHome(t, newWorkDir(t)) // empty known_hosts
	r := fleetClient(t, "dcat", home, fx.spec, false, "--plain", "--receipt", "text", "--files", "app.log")
	outFile := filepath.Join(home, "out.txt")
	quoted := []string{shellQuote(r.bin)}
	for _, a := range withoutTrustAll(r.args) {
		quoted = append(quoted, shellQuote(a))
	}
	cmd := exec.Command(script, "-qec", strings.Join(quoted, " ")+" >"+shellQuote(outFile), "/dev/null")
	cmd.Dir, cmd.Env, cmd.SysProcAttr = r.dir, r.env, procAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var tty lockedBuffer
	cmd.Stdout, cmd.Stderr = &tty, &tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	done := make(chan struct{})
	go func() { exited <- cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	const question = "Do you want to trust these hosts??"
	asked := time.Now()
	for !strings.Contains(tty.String(), question) {
		select {
		case err := <-exited:
			t.Fatalf("exited (%v) without asking: %q", err, tty.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Since(asked) > 60*time.Second {
			t.Fatalf("no question after 60 s: %q", tty.String())
		}
	}
	t.Logf("question on the terminal %v after the start; answering in %v", time.Since(asked).Round(time.Millisecond), delay)
	time.Sleep(delay)
	answered := time.Now()
	io.WriteString(stdin, "y\n")
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit: %v; terminal: %q", err, tty.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("still running 60 s after the answer; terminal: %q", tty.String())
	}
	t.Logf("all hosts done %v after the answer", time.Since(answered).Round(time.Millisecond))

	text := tty.String()
	if n := strings.Count(text, question); n != 1 {
		t.Errorf("asked %d times: %q", n, text)
	}
	if !strings.Contains(text, "Encountered 10 unknown hosts: '") || !strings.Contains(text, "key fingerprint SHA256:") {
		t.Errorf("question lacks the batch header or the SHA256 fingerprints: %q", text)
	}
	// A slow answer costs nothing: every host counts as read.
	if !strings.Contains(text, "receipt: complete; hosts 10 ok of 10 (0 unreachable") {
		t.Errorf("the receipt does not say all ten hosts were read: %q", text)
	}
	if strings.Contains(text, "handshake failed") {
		t.Errorf("a host failed after the answer: %q", text)
	}
	out, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("unknown hosts")) {
		t.Errorf("the question went to stdout")
	}
	var want []string
	for _, d := range fx.data {
		want = append(want, lines(d)...)
	}
	got := lines(out)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%d lines in stdout, want the %d lines of all ten hosts", len(got), len(want))
	}
	known, _ := os.ReadFile(filepath.Join(home, ".ssh", "known_hosts"))
	for _, n := range fx.nodes {
		if !bytes.Contains(known, []byte("[127.0.0.1]:"+strings.TrimPrefix(n.addr, "127.0.0.1:")+" ")) {
			t.Errorf("%s not in known_hosts: %q", n.addr, known)
		}
	}
}
