package manpage

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
				if !strings.Contains(fish, " -o "+f.Name+" ") {
					t.Errorf("fish completion lacks -%s", f.Name)
				}
			})
			if n == 0 {
				t.Fatal("flag set is empty")
			}
			if got := len(Flags(c.FlagSet)); got != n {
				t.Errorf("Commands() flag set has %d flags, the binary's has %d", got, n)
			}
		})
	}
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

// TestBashCompletionRuns sources the generated script in bash and asks it
// to complete "-" and a -logger value.
func TestBashCompletionRuns(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	for _, c := range Commands() {
		script := render(t, func(b *bytes.Buffer) error { return WriteBash(b, c) })
		dir := t.TempDir()
		p := filepath.Join(dir, c.Name)
		if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		prog := `source "$1"; COMP_WORDS=(` + c.Name + ` -); COMP_CWORD=1; ` + bashFunc(c.Name) + `; printf '%s\n' "${COMPREPLY[@]}"`
		out, err := exec.Command(bash, "-c", prog, "bash", p).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.Name, err, out)
		}
		got := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			got[l] = true
		}
		for _, f := range Flags(c.FlagSet) {
			if !got["-"+f.Name] {
				t.Errorf("%s: completing '-' does not offer -%s (got %q)", c.Name, f.Name, out)
			}
		}
		if c.FlagSet.Lookup("logger") != nil {
			prog := `source "$1"; COMP_WORDS=(` + c.Name + ` -logger s); COMP_CWORD=2; ` + bashFunc(c.Name) + `; printf '%s\n' "${COMPREPLY[@]}"`
			out, err := exec.Command(bash, "-c", prog, "bash", p).CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "stdout" {
				t.Errorf("%s: completing -logger s: %q, %v", c.Name, out, err)
			}
		}
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
