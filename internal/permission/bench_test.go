package permission

import (
	"os"
	"path/filepath"
	"testing"
)

// benchFile is a 0644 file three directories below a fresh temp dir, all
// searchable by everyone, for a user who owns none of it.
func benchFile(b *testing.B) (string, *Identity, *Rules) {
	b.Helper()
	dir := b.TempDir()
	deep := filepath.Join(dir, "var", "log", "app")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		b.Fatal(err)
	}
	for d := deep; d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			b.Fatal(err)
		}
		if d == filepath.Dir(dir) {
			break
		}
	}
	p := filepath.Join(deep, "x.log")
	if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	rules, _ := CompileRules([]string{"^/"})
	return p, &Identity{Name: "nobody", UID: 65534, GID: 65534}, rules
}

func BenchmarkOpen(b *testing.B) {
	p, id, rules := benchFile(b)
	b.Run("os.Open", func(b *testing.B) {
		for b.Loop() {
			f, err := os.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("Open", func(b *testing.B) {
		for b.Loop() {
			f, _, err := Open(id, rules, p)
			if err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("Checker.Open", func(b *testing.B) {
		c := NewChecker(id, rules)
		for b.Loop() {
			f, _, err := c.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
}
