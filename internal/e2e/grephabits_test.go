package e2e

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestGrepHabits runs the real dgrep serverless the way a grep user
// types it (issue 17, first bullet) and compares with grep.
func TestGrepHabits(t *testing.T) {
	dir := newWorkDir(t)
	data := []byte("INFO start\nERROR disk full\nWARN slow\nerror lower\nERRORS plural\nINFO end\n")
	app := writeOwned(t, filepath.Join(dir, "app.log"), data, 0o644)
	small := writeOwned(t, filepath.Join(dir, "small.log"), []byte("status=503 a\nstatus=200 b\n"), 0o644)
	cases := []struct {
		name  string
		args  []string
		stdin []byte
		want  string
	}{
		{"pattern then file", []string{"--plain", "ERROR", app}, nil, "ERROR disk full\nERRORS plural\n"},
		{"pattern reads stdin", []string{"--plain", "WARN"}, data, "WARN slow\n"},
		{"flags after the file", []string{"--plain", small, "--grep", "status=503"}, nil, "status=503 a\n"},
		{"files flag and positional file", []string{"--plain", "--files", small, "--grep", "status", app}, nil, "status=503 a\nstatus=200 b\n"},
		{"repeated grep is OR", []string{"--plain", "--grep", "WARN", "--grep", "^ERROR ", app}, nil, "ERROR disk full\nWARN slow\n"},
		{"-i -w", []string{"--plain", "-i", "-w", "error", app}, nil, "ERROR disk full\nerror lower\n"},
		{"-F -e", []string{"--plain", "-F", "-e", "status=503 a", "-e", "x.y", small}, nil, "status=503 a\n"},
		{"-C", []string{"--plain", "-C", "1", "WARN", app}, nil, "ERROR disk full\nWARN slow\nerror lower\n"},
	}
	for _, tc := range cases {
		r := serverless(dir, "dgrep", tc.args...)
		if tc.stdin != nil {
			r.stdin = bytes.NewReader(tc.stdin)
		}
		res := r.exec(t)
		if res.code != 0 || string(res.stdout) != tc.want {
			t.Errorf("%s: dgrep %v: want %q, got %v", tc.name, tc.args, tc.want, res)
		}
	}

	res := serverless(dir, "dgrep", "--no-color", "ERROR", app).exec(t)
	if res.code != 2 || len(res.stdout) != 0 || string(res.stderr) != "dgrep: unknown flag --no-color; did you mean --noColor?\n" {
		t.Errorf("unknown flag: %v", res)
	}
	res = serverless(dir, "dgrep", "-h").exec(t)
	if res.code != 0 || !strings.Contains(string(res.stdout), "-ignore-case") || len(res.stderr) != 0 {
		t.Errorf("-h: %v", res)
	}
}
