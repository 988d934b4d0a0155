package e2e

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sepLog has ERROR lines at multiples of 10 and 17 (1-based) and a run at
// 150-154, so context groups are apart, adjacent or overlapping depending
// on N, and inverted matches have gaps too.
func sepLog() []byte {
	var b bytes.Buffer
	for i := 1; i <= 200; i++ {
		if i%10 == 0 || i%17 == 0 || (i >= 150 && i <= 154) {
			fmt.Fprintf(&b, "%d ERROR something failed\n", i)
		} else {
			fmt.Fprintf(&b, "%d INFO all good\n", i)
		}
	}
	return b.Bytes()
}

// TestGroupSeparatorsMatchGrep: dgrep --plain with context prints exactly
// what GNU grep prints, `--` lines between non-adjacent groups included
// (overlapping and touching groups, -max, -invert, several files, stdin).
func TestGroupSeparatorsMatchGrep(t *testing.T) {
	if _, err := exec.LookPath("grep"); err != nil {
		t.Skip("grep not in PATH")
	}
	dir := newWorkDir(t)
	data := sepLog()
	f := writeOwned(t, filepath.Join(dir, "sep.log"), data, 0o644)
	g := writeOwned(t, filepath.Join(dir, "sep2.log"), data[:len(data)/3], 0o644)
	cases := []struct {
		ours, grep []string
		files      []string
		stdin      bool
	}{
		{[]string{"-C", "1"}, []string{"-C1"}, []string{f}, false},
		{[]string{"-C", "2"}, []string{"-C2"}, []string{f}, false},
		{[]string{"-C", "3"}, []string{"-C3"}, []string{f}, false},
		{[]string{"--before", "2"}, []string{"-B2"}, []string{f}, false},
		{[]string{"--after", "1"}, []string{"-A1"}, []string{f}, false},
		{[]string{"--before", "1", "--after", "4"}, []string{"-B1", "-A4"}, []string{f}, false},
		{[]string{"-C", "1", "--invert"}, []string{"-C1", "-v"}, []string{f}, false},
		// -max where DTail 4.x and grep agree: the after-context of the
		// last match holds no further match (4.x stops there, grep prints
		// it as context; DECISIONS.md).
		{[]string{"-C", "1", "--max", "4"}, []string{"-C1", "-m4"}, []string{f}, false},
		{[]string{"--after", "2", "--max", "6"}, []string{"-A2", "-m6"}, []string{f}, false},
		{[]string{"--before", "3", "--max", "5"}, []string{"-B3", "-m5"}, []string{f}, false},
		{[]string{"-C", "1"}, []string{"-h", "-C1"}, []string{f, g, f}, false},
		{[]string{"-C", "2"}, []string{"-C2"}, nil, true},
	}
	for _, c := range cases {
		name := strings.Join(c.grep, " ")
		if len(c.files) > 1 {
			name += " 3 files"
		}
		if c.stdin {
			name += " stdin"
		}
		t.Run(name, func(t *testing.T) {
			gargs := append(append([]string{}, c.grep...), "-e", "ERROR")
			if c.stdin {
				gargs = append(gargs, f)
			} else {
				gargs = append(gargs, c.files...)
			}
			want, err := exec.Command("grep", gargs...).Output()
			if err != nil {
				t.Fatalf("grep %q: %v", gargs, err)
			}
			if !bytes.Contains(want, []byte("--\n")) {
				t.Fatalf("case without separators proves nothing: grep %q", gargs)
			}
			args := append(append([]string{"--plain"}, c.ours...), "ERROR")
			args = append(args, c.files...)
			r := serverless(dir, "dgrep", args...)
			if c.stdin {
				r.stdin = bytes.NewReader(data)
			}
			res := r.exec(t)
			if res.code != 0 {
				t.Fatalf("dgrep %q: %v", args, res)
			}
			expectBytes(t, fmt.Sprintf("dgrep %q vs grep %q", args, gargs), res.stdout, want)
		})
	}
}

// TestGroupSeparatorsOnlyInPlain: the REMOTE view (coloured or not) keeps
// DTail 4.x's output without separators; its line numbers show the gaps.
func TestGroupSeparatorsOnlyInPlain(t *testing.T) {
	dir := newWorkDir(t)
	f := writeOwned(t, filepath.Join(dir, "sep.log"), sepLog(), 0o644)
	res := serverless(dir, "dgrep", "--noColor", "-C", "1", "ERROR", f).exec(t)
	if res.code != 0 || bytes.Contains(res.stdout, []byte("\n--\n")) || !bytes.HasPrefix(res.stdout, []byte("REMOTE|testhost|100|9|sep.log|9 INFO")) {
		t.Errorf("REMOTE view: %v", res)
	}
}

// TestGroupSeparatorsRemote: the same `--` lines through servers, ours
// and DTail 4.x: the client places them from the line numbers every
// server sends with context lines (the REMOTE header, which --plain
// strips), so no server change is needed.
func TestGroupSeparatorsRemote(t *testing.T) {
	if _, err := exec.LookPath("grep"); err != nil {
		t.Skip("grep not in PATH")
	}
	u := newDefaultUser(t)
	dir := newWorkDir(t)
	f := writeOwned(t, filepath.Join(dir, "sep.log"), sepLog(), 0o644)
	cases := []struct{ ours, grep []string }{
		{[]string{"-C", "1"}, []string{"-C1"}},
		{[]string{"--before", "2"}, []string{"-B2"}},
		{[]string{"--after", "1"}, []string{"-A1"}},
		{[]string{"--before", "1", "--after", "4"}, []string{"-B1", "-A4"}},
	}
	for _, kind := range honestKinds(t) {
		t.Run(kind.name, func(t *testing.T) {
			srv := startDServer(t, withKind(kind), withUsers(map[string][]byte{acct.name: u.pub}))
			for _, c := range cases {
				want, err := exec.Command("grep", append(append([]string{}, c.grep...), "-e", "ERROR", f)...).Output()
				if err != nil || !bytes.Contains(want, []byte("--\n")) {
					t.Fatalf("grep %q: %v (a case without separators proves nothing)", c.grep, err)
				}
				args := append(append([]string{"--plain"}, c.ours...), "--grep", "ERROR", "--files", f)
				res := u.client("dgrep", srv, args...).exec(t)
				if res.code != 0 {
					t.Fatalf("dgrep %q: %v", args, res)
				}
				expectBytes(t, fmt.Sprintf("dgrep %q vs grep %q", args, c.grep), res.stdout, want)
			}
		})
	}
}

// TestMaxTotalSameRule: --max-total counts payload lines (matches and
// context), not grep's `--` separators, with one rule serverless and
// through servers: both print the same lines and exit 1 (cut short).
func TestMaxTotalSameRule(t *testing.T) {
	u := newDefaultUser(t)
	dir := newWorkDir(t)
	f := writeOwned(t, filepath.Join(dir, "sep.log"), sepLog(), 0o644)
	srv := startDServer(t, withUsers(map[string][]byte{acct.name: u.pub}))
	for _, n := range []string{"3", "7", "12"} {
		args := []string{"--plain", "-C", "1", "--max-total", n, "--grep", "ERROR", "--files", f}
		local := serverless(dir, "dgrep", args...).exec(t)
		remote := u.client("dgrep", srv, args...).exec(t)
		payload := 0
		for _, l := range lines(local.stdout) {
			if l != "--" {
				payload++
			}
		}
		if fmt.Sprint(payload) != n || local.code != 1 || (n != "3" && !bytes.Contains(local.stdout, []byte("--\n"))) {
			t.Errorf("serverless --max-total %s: %d payload lines, exit %d:\n%s", n, payload, local.code, local.stdout)
		}
		if remote.code != 1 {
			t.Errorf("remote --max-total %s: exit %d: %v", n, remote.code, remote)
		}
		expectBytes(t, "--max-total "+n+" remote vs serverless", remote.stdout, local.stdout)
	}
}
