package manpage

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dtail-go/dtail/internal/cli"
	"github.com/dtail-go/dtail/internal/keycache"
)

// freshFlagSet builds the binary's flag set straight from its owner
// package, independently of Commands(), so the test also catches a
// Command wired to the wrong set.
func freshFlagSet(t *testing.T, name string) *flag.FlagSet {
	t.Helper()
	switch name {
	case cli.DTail, cli.DCat, cli.DGrep, cli.DMap:
		return cli.NewClientFlagSet(name, &cli.ClientFlags{}, "someone")
	case cli.DServer:
		return cli.NewServerFlagSet(&cli.ServerFlags{})
	case cli.DTailHealth:
		return cli.NewHealthFlagSet(&cli.HealthFlags{})
	case keycache.Name:
		return keycache.NewFlagSet(&keycache.Options{})
	}
	t.Fatalf("no flag set known for %s", name)
	return nil
}

func render(t *testing.T, f func(*bytes.Buffer) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := f(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestEveryFlagDocumentedAndCompleted(t *testing.T) {
	for _, c := range Commands() {
		t.Run(c.Name, func(t *testing.T) {
			man := render(t, func(b *bytes.Buffer) error { return WriteMan(b, c) })
			bash := render(t, func(b *bytes.Buffer) error { return WriteBash(b, c) })
			zsh := render(t, func(b *bytes.Buffer) error { return WriteZsh(b, c) })
			fish := render(t, func(b *bytes.Buffer) error { return WriteFish(b, c) })
			n := 0
			freshFlagSet(t, c.Name).VisitAll(func(f *flag.Flag) {
				n++
				if want := `\fB\-` + roff(f.Name) + `\fR`; !strings.Contains(man, want) {
					t.Errorf("man page lacks flag -%s", f.Name)
				}
				if _, usage := flag.UnquoteUsage(f); !strings.Contains(man, roff(usage)) {
					t.Errorf("man page lacks the usage of -%s", f.Name)
				}
				if !containsWord(bash, "-"+f.Name) {
					t.Errorf("bash completion lacks -%s", f.Name)
				}
				if !strings.Contains(zsh, "'-"+f.Name+"[") {
					t.Errorf("zsh completion lacks -%s", f.Name)
				}
				if !strings.Contains(fish, " -o "+f.Name+" ") && !strings.Contains(fish, " -s "+f.Name+" ") {
					t.Errorf("fish completion lacks -%s", f.Name)
				}
				if len(f.Name) > 1 && (!containsWord(bash, "--"+f.Name) || !strings.Contains(zsh, "'--"+f.Name)) {
					t.Errorf("bash or zsh completion lacks --%s", f.Name)
				}
			})
			if n == 0 {
				t.Fatal("flag set is empty")
			}
			if got := len(Flags(c.FlagSet)); got != n {
				t.Errorf("Commands() flag set has %d flags, the binary's has %d", got, n)
			}
			// Exactly the binary's flags: no page entry for a flag it lacks.
			documented := manOptions(man)
			fs := freshFlagSet(t, c.Name)
			for _, name := range documented {
				if fs.Lookup(name) == nil {
					t.Errorf("man page documents -%s, which %s does not have", name, c.Name)
				}
			}
			if len(documented) != n {
				t.Errorf("man page OPTIONS has %d entries, the flag set %d", len(documented), n)
			}
		})
	}
}

// manOptions returns the flag names of the OPTIONS section of a page.
func manOptions(man string) []string {
	start := strings.Index(man, ".SH OPTIONS\n")
	if start < 0 {
		return nil
	}
	sec := man[start+len(".SH OPTIONS\n"):]
	if end := strings.Index(sec, "\n.SH "); end >= 0 {
		sec = sec[:end]
	}
	var names []string
	for _, l := range strings.Split(sec, "\n") {
		if rest, ok := strings.CutPrefix(l, `\fB\-`); ok {
			name, _, _ := strings.Cut(rest, `\fR`)
			names = append(names, strings.ReplaceAll(name, `\-`, "-"))
		}
	}
	return names
}

func containsWord(s, w string) bool {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '"' || r == '|' || r == '\n' || r == ')' }) {
		if f == w {
			return true
		}
	}
	return false
}

// TestEveryBinaryHasAPage keeps Commands() in step with cmd/.
func TestEveryBinaryHasAPage(t *testing.T) {
	ents, err := os.ReadDir(filepath.Join("..", "..", "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, c := range Commands() {
		have[c.Name] = true
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join("..", "..", "cmd", e.Name(), "main.go")); err != nil {
			continue
		}
		if !have[e.Name()] {
			t.Errorf("cmd/%s has no man page: add it to Commands()", e.Name())
		}
	}
}

// completionHome is a HOME with two @groups (one naming the other) and a
// known_hosts with plain, bracketed, hashed, marker and wildcard entries.
func completionHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for p, data := range map[string]string{
		".config/dtail/groups/web": "web1.dc1 # the first\nweb[02-03].dc1\n@db\n",
		".config/dtail/groups/db":  "db1.dc2\n",
		".ssh/known_hosts": "[127.0.0.1]:2223 ssh-ed25519 AAAA\nloghost,10.1.2.3 ssh-rsa AAAA\n" +
			"|1|c2FsdA==|aGFzaA== ssh-rsa AAAA\n@cert-authority *.dc1 ssh-rsa AAAA\n*.wild ssh-rsa AAAA\n# comment\n",
		".ssh/config": "Host bastion jump-*\n  HostName 10.9.9.9\nhost loghost2 !neg\n  Port 2223\nMatch host x\n",
	} {
		if err := os.MkdirAll(filepath.Join(home, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(home, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(home, "app.log"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return home
}

// bashComplete runs c's generated completion function in bash the way
// bash calls it after TAB at the end of line (COMP_LINE, COMP_POINT and
// the word splitting of COMP_WORDS with the default COMP_WORDBREAKS) and
// returns the words bash would insert in place of the current word.
func bashComplete(t *testing.T, bash, script string, c Command, home, line string) []string {
	t.Helper()
	prog := `source "$1"; COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<<"$COMP_LINE"; ` +
		`COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); [[ $COMP_LINE == *" " ]] && COMP_CWORD=${#COMP_WORDS[@]}; ` +
		bashFunc(c.Name) + `; printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", prog, "bash", script, line)
	cmd.Dir = home
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: completing %q: %v\n%s", c.Name, line, err, out)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			got = append(got, l)
		}
	}
	return got
}

func command(t *testing.T, name string) Command {
	t.Helper()
	for _, c := range Commands() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no command %s", name)
	return Command{}
}

// TestBashCompletionRuns sources the generated scripts in bash (checked
// with complete -p) and completes flags in every spelling, flag values,
// @groups and known hosts.
func TestBashCompletionRuns(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	home := completionHome(t)
	scripts := map[string]string{}
	for _, c := range Commands() {
		src := render(t, func(b *bytes.Buffer) error { return WriteBash(b, c) })
		p := filepath.Join(t.TempDir(), c.Name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		scripts[c.Name] = p
		out, err := exec.Command(bash, "--norc", "-c", `source "$1"; complete -p `+c.Name, "bash", p).CombinedOutput()
		if want := "complete -F " + bashFunc(c.Name) + " " + c.Name; err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("complete -p %s: %q, %v; want %q", c.Name, out, err, want)
		}
		got := map[string]bool{}
		for _, w := range bashComplete(t, bash, p, c, home, c.Name+" -") {
			got[w] = true
		}
		for _, f := range Flags(c.FlagSet) {
			want := "--" + f.Name
			if len(f.Name) == 1 {
				want = "-" + f.Name
			}
			if !got[want] {
				t.Errorf("%s: completing '-' does not offer %s", c.Name, want)
			}
		}
		if c.FlagSet.Lookup("logger") != nil {
			if got := bashComplete(t, bash, p, c, home, c.Name+" -logger s"); !slices.Equal(got, []string{"stdout"}) {
				t.Errorf("%s: completing -logger s: %q", c.Name, got)
			}
		}
	}
	dgrep := command(t, cli.DGrep)
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"dgrep --fi", []string{"--files", "--files-with-matches", "--fixed-strings"}},
		{"dgrep -fi", []string{"-files", "-files-with-matches", "-fixed-strings"}},
		{"dgrep --output ", []string{"text", "ndjson"}},
		{"dgrep -output n", []string{"ndjson"}},
		{"dgrep --output=n", []string{"ndjson"}}, // bash replaces only what follows '='
		{"dgrep --receipt ", []string{"text", "json", "none"}},
		{"dgrep --logLevel de", []string{"default", "debug", "devel"}},
		{"dgrep --servers @", []string{"db", "web"}}, // '@' is a word break too
		{"dgrep --exclude ", []string{"@db", "@web", "10.1.2.3", "127.0.0.1:2223", "bastion", "db1.dc2", "loghost", "loghost2", "web1.dc1", "web[02-03].dc1"}},
		{"dgrep --servers web1.dc1,lo", []string{"web1.dc1,loghost", "web1.dc1,loghost2"}},
		{"dgrep --servers=127.0.0.1:", []string{"2223"}},
		{"dgrep --servers ap", []string{"app.log"}}, // a file with one server per line
		{"dgrep --cfg n", []string{"none"}},
		{"dgrep ERROR ap", []string{"app.log"}},
		{"dgrep -- --ou", nil},
	} {
		got := bashComplete(t, bash, scripts[cli.DGrep], dgrep, home, tc.line)
		if !slices.Equal(got, tc.want) {
			t.Errorf("completing %q: got %q, want %q", tc.line, got, tc.want)
		}
	}
	health := command(t, cli.DTailHealth)
	if got := bashComplete(t, bash, scripts[cli.DTailHealth], health, home, "dtailhealth --server "); !slices.Equal(got, []string{"10.1.2.3", "127.0.0.1:2223", "bastion", "db1.dc2", "loghost", "loghost2", "web1.dc1"}) {
		t.Errorf("dtailhealth --server: %q (hosts only, no @groups or ranges)", got)
	}
}

// TestFishCompletionRuns asks fish's own completion engine (complete -C).
func TestFishCompletionRuns(t *testing.T) {
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Skip("fish not installed")
	}
	home := completionHome(t)
	c := command(t, cli.DGrep)
	p := filepath.Join(t.TempDir(), "dgrep.fish")
	if err := os.WriteFile(p, []byte(render(t, func(b *bytes.Buffer) error { return WriteFish(b, c) })), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"dgrep --output ", []string{"ndjson", "text"}},
		{"dgrep --receipt=", []string{"--receipt=json", "--receipt=none", "--receipt=text"}},
		{"dgrep --fi", []string{"--files", "--files-with-matches", "--fixed-strings"}},
		{"dgrep -fi", []string{"-files", "-files-with-matches", "-fixed-strings"}},
		{"dgrep --exclude @", []string{"@db", "@web"}},
		{"dgrep --servers=web1.dc1,lo", []string{"--servers=web1.dc1,loghost", "--servers=web1.dc1,loghost2"}},
		{"dgrep --exclude 127", []string{"127.0.0.1:2223"}},
	} {
		cmd := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, p, tc.line)
		cmd.Dir = home
		cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("fish: %q: %v\n%s", tc.line, err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if w, _, _ := strings.Cut(l, "\t"); w != "" {
				got = append(got, w)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("fish: completing %q: got %q, want %q", tc.line, got, tc.want)
		}
	}
}

// TestZshHostList runs the zsh script's host list (zsh's completion
// widgets need a terminal; the list is the part that reads files).
func TestZshHostList(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("zsh not installed")
	}
	home := completionHome(t)
	p := filepath.Join(t.TempDir(), "_dgrep")
	if err := os.WriteFile(p, []byte(render(t, func(b *bytes.Buffer) error { return WriteZsh(b, command(t, cli.DGrep)) })), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(zsh, "-f", "-c", `compdef() { :; }; source $1; __dtail_hostlist`, "zsh", p)
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	want := "@db\n@web\n10.1.2.3\n127.0.0.1:2223\nbastion\ndb1.dc2\nloghost\nloghost2\nweb1.dc1\nweb[02-03].dc1\n"
	if err != nil || string(out) != want {
		t.Errorf("zsh host list: %q, %v; want %q", out, err, want)
	}
}

// TestShellSyntax checks the zsh and fish scripts with the shells' own
// parsers where the shells are installed.
func TestShellSyntax(t *testing.T) {
	checks := []struct {
		shell  string
		args   []string
		render func(*bytes.Buffer, Command) error
	}{
		{"zsh", []string{"-n"}, func(b *bytes.Buffer, c Command) error { return WriteZsh(b, c) }},
		{"fish", []string{"--no-execute"}, func(b *bytes.Buffer, c Command) error { return WriteFish(b, c) }},
		{"bash", []string{"-n"}, func(b *bytes.Buffer, c Command) error { return WriteBash(b, c) }},
	}
	for _, ch := range checks {
		sh, err := exec.LookPath(ch.shell)
		if err != nil {
			t.Logf("%s not installed; syntax not checked", ch.shell)
			continue
		}
		for _, c := range Commands() {
			src := render(t, func(b *bytes.Buffer) error { return ch.render(b, c) })
			p := filepath.Join(t.TempDir(), "script")
			os.WriteFile(p, []byte(src), 0o644)
			if out, err := exec.Command(sh, append(ch.args, p)...).CombinedOutput(); err != nil {
				t.Errorf("%s %s: %v\n%s", ch.shell, c.Name, err, out)
			}
		}
	}
}

// TestManPagesFormat runs groff in warning mode over every page.
func TestManPagesFormat(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff not installed")
	}
	dir := t.TempDir()
	files, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasPrefix(f, "man") {
			continue
		}
		out, err := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", filepath.Join(dir, f)).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("groff %s: %v\n%s", f, err, out)
		}
	}
}

func TestConfigManListsEveryKey(t *testing.T) {
	page := render(t, func(b *bytes.Buffer) error { return WriteConfigMan(b) })
	keys := ConfigKeys()
	if len(keys) < 50 {
		t.Fatalf("only %d config keys found by reflection", len(keys))
	}
	for _, k := range keys {
		want := k.Path
		if _, leaf, ok := colorKey(k.Path); ok {
			want = leaf
		}
		if !strings.Contains(page, roff(want)) {
			t.Errorf("dtail.json(5) lacks %s", k.Path)
		}
	}
	for _, p := range []string{"Common.CacheDir", "Server.Permissions.Users", "Server.Schedule[].TimeRange", "Client.TermColors.MaprTable.*"} {
		if !strings.Contains(page, roff(p)) {
			t.Errorf("dtail.json(5) lacks %s", p)
		}
	}
	if !strings.Contains(page, `default "cache"`) {
		t.Error("CacheDir default missing")
	}
}

// TestConfigKeysDocumented: a key added to config.Config needs a line in
// keyDocs, and a removed one must leave it.
func TestConfigKeysDocumented(t *testing.T) {
	want := map[string]bool{}
	for _, p := range documentedKeys() {
		want[p] = true
		if keyDocs[p] == "" {
			t.Errorf("config key %s has no description in internal/manpage/configdoc.go", p)
		}
	}
	for p := range keyDocs {
		if !want[p] {
			t.Errorf("configdoc.go describes %s, which config.Config does not have", p)
		}
	}
}

func TestGenerateLayout(t *testing.T) {
	dir := t.TempDir()
	files, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"man/man1/dcat.1", "man/man8/dserver.8", "man/man5/dtail.json.5",
		"completions/bash/dtail", "completions/zsh/_dgrep", "completions/fish/dtailhealth.fish", "man/man8/dtail-keycache.8"} {
		found := false
		for _, f := range files {
			found = found || filepath.ToSlash(f) == want
		}
		if !found {
			t.Errorf("Generate did not write %s", want)
		}
	}
}

func TestRoffEscapes(t *testing.T) {
	for in, want := range map[string]string{
		`.start`:   `\&.start`,
		`a\b`:      `a\eb`,
		`-x`:       `\-x`,
		`'quoted'`: `\&'quoted'`,
	} {
		if got := roff(in); got != want {
			t.Errorf("roff(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestZshCompletionInTmux types into an interactive zsh (compinit with
// the generated function on fpath) inside tmux and reads the screen:
// zsh's completion widgets run only in a line editor.
func TestZshCompletionInTmux(t *testing.T) {
	zsh, err1 := exec.LookPath("zsh")
	tmux, err2 := exec.LookPath("tmux")
	if err1 != nil || err2 != nil {
		t.Skip("zsh or tmux not installed; TestZshHostList and TestShellSyntax still ran")
	}
	home := completionHome(t)
	fn := t.TempDir()
	if err := os.WriteFile(filepath.Join(fn, "_dgrep"), []byte(render(t, func(b *bytes.Buffer) error { return WriteZsh(b, command(t, cli.DGrep)) })), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TERM=xterm"}
	tm := func(args ...string) string {
		cmd := exec.Command(tmux, append([]string{"-S", sock, "-f", "/dev/null"}, args...)...)
		cmd.Env, cmd.Dir = env, home
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %q: %v: %s", args, err, out)
		}
		return string(out)
	}
	tm("new-session", "-d", "-s", "c", "-x", "200", "-y", "50", zsh+" -f")
	pid, err := strconv.Atoi(strings.TrimSpace(tm("display-message", "-p", "#{pid}")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGTERM) })
	// screen polls the pane until cond holds (20 s at most).
	screen := func(cond func(string) bool) (string, bool) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			s := tm("capture-pane", "-p", "-t", "c")
			if cond(s) || time.Now().After(deadline) {
				return s, cond(s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	has := func(want ...string) func(string) bool {
		return func(s string) bool {
			for _, w := range want {
				if !strings.Contains(s, w) {
					return false
				}
			}
			return true
		}
	}
	tm("send-keys", "-t", "c", "PS1='%% '; fpath=("+fn+" $fpath); autoload -Uz compinit; compinit -u -D; clear; echo READY", "Enter")
	if s, ok := screen(has("READY\n%")); !ok {
		t.Fatalf("zsh did not start: %q", s)
	}
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"dgrep --output ", []string{"ndjson", "text"}},
		{"dgrep -output ", []string{"ndjson", "text"}},
		{"dgrep --rec", []string{"dgrep --receipt="}},
		{"dgrep --servers @", []string{"@db", "@web"}},
		{"dgrep --exclude db1.dc2,127", []string{"dgrep --exclude db1.dc2,127.0.0.1:2223"}},
		{"dgrep --servers bas", []string{"dgrep --servers bastion"}},
	} {
		// C-u, not C-c: keys are read in order, a signal is not.
		tm("send-keys", "-t", "c", "C-u")
		tm("send-keys", "-t", "c", "clear", "Enter")
		if s, ok := screen(func(s string) bool { return strings.TrimRight(s, "\n") == "%" }); !ok {
			t.Fatalf("no clean prompt: %q", s)
		}
		tm("send-keys", "-t", "c", tc.line, "Tab")
		if s, ok := screen(has(tc.want...)); !ok {
			t.Errorf("zsh: %q<TAB>: screen lacks %q:\n%s", tc.line, tc.want, s)
		}
	}
}
