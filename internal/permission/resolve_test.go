package permission

import (
	"os"
	"path/filepath"
	"testing"
)

// The walk must agree with filepath.EvalSymlinks on every path.
func TestResolveMatchesEvalSymlinks(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := func(p string) {
		if err := os.WriteFile(filepath.Join(root, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	mk("a/b/c")
	mk("x/y")
	file("a/b/c/f.log")
	file("x/y/g.log")
	link("../../x/y", "a/b/rel")            // relative, climbing
	link(filepath.Join(root, "a/b"), "abs") // absolute
	link("abs", "chain")                    // chain of links
	link("g.log", "x/y/glink")
	link("loop2", "loop1")
	link("loop1", "loop2")
	cases := []string{
		"a/b/c/f.log", "a/b/rel/g.log", "abs/c/f.log", "chain/c/../c/f.log",
		"a/b/rel/../y/glink", "x/y/glink", "a/./b//c/f.log", "abs/rel/glink",
		"missing/x", "a/b/c/f.log/x", "loop1/x",
	}
	for _, c := range cases {
		p := filepath.Join(root, c)
		if c == "a/./b//c/f.log" {
			p = root + "/a/./b//c/f.log"
		}
		want, werr := filepath.EvalSymlinks(p)
		w := walker{skip: true, pid: os.Getpid()}
		wk, gerr := w.resolve(p)
		got := ""
		if gerr == nil {
			got = wk.path()
			wk.Close()
		}
		if (werr == nil) != (gerr == nil) || got != want {
			t.Errorf("%s: resolve = %q, %v; EvalSymlinks = %q, %v", c, got, gerr, want, werr)
		}
	}
}
