package manpage

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Generate writes every man page and completion script under dir:
//
//	man/man1/<binary>.1, man/man8/<binary>.8, man/man5/dtail.json.5
//	completions/bash/<binary>, completions/zsh/_<binary>,
//	completions/fish/<binary>.fish
//
// It returns the files written, relative to dir.
func Generate(dir string) ([]string, error) {
	var written []string
	put := func(rel string, render func(io.Writer) error) error {
		var buf bytes.Buffer
		if err := render(&buf); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			return err
		}
		written = append(written, rel)
		return nil
	}
	for _, c := range Commands() {
		c := c
		steps := []struct {
			rel    string
			render func(io.Writer) error
		}{
			{filepath.Join("man", fmt.Sprintf("man%d", c.Section), ManFileName(c)), func(w io.Writer) error { return WriteMan(w, c) }},
			{filepath.Join("completions", "bash", c.Name), func(w io.Writer) error { return WriteBash(w, c) }},
			{filepath.Join("completions", "zsh", "_"+c.Name), func(w io.Writer) error { return WriteZsh(w, c) }},
			{filepath.Join("completions", "fish", c.Name+".fish"), func(w io.Writer) error { return WriteFish(w, c) }},
		}
		for _, s := range steps {
			if err := put(s.rel, s.render); err != nil {
				return written, err
			}
		}
	}
	if err := put(filepath.Join("man", "man5", "dtail.json.5"), WriteConfigMan); err != nil {
		return written, err
	}
	return written, nil
}
