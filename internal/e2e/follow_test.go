package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// seqWriter writes sequence-numbered lines L000001, L000002, … and
// remembers how many it wrote.
type seqWriter struct{ next int }

func (w *seqWriter) lines(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		w.next++
		fmt.Fprintf(&b, "L%06d\n", w.next)
	}
	return b.Bytes()
}

// gluedSeq finds sequence lines printed without a newline between them.
var gluedSeq = regexp.MustCompile(`L\d{6}L\d{6}`)

// follower tracks the lines a following client printed.
type follower struct {
	t    *testing.T
	proc *bg
}

// seen returns how often each sequence line was printed so far and the
// other lines (probes excluded).
func (f follower) seen() (map[string]int, []string) {
	counts := map[string]int{}
	var other []string
	sc := bufio.NewScanner(bytes.NewReader(f.proc.output()))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "L") && len(l) == 7:
			counts[l]++
		case strings.HasPrefix(l, "probe "):
		default:
			other = append(other, l)
		}
	}
	return counts, other
}

// waitAll waits until the lines L000001…upto have all been printed.
func (f follower) waitAll(upto int, d time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(d)
	for {
		counts, _ := f.seen()
		missing := 0
		first := ""
		for i := 1; i <= upto; i++ {
			if counts[fmt.Sprintf("L%06d", i)] == 0 {
				if first == "" {
					first = fmt.Sprintf("L%06d", i)
				}
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			if glued := gluedSeq.FindAll(f.proc.output(), -1); len(glued) > 0 {
				f.t.Errorf("%d printed lines hold several sequence lines without newlines between them, e.g. %q", len(glued), glued[0])
			}
			f.t.Fatalf("after %v %d of %d lines are missing, first %s\nstdout: %s\nstderr: %s", d, missing, upto, first, clip(f.proc.output()), clip(f.proc.errOutput()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitProbe appends numbered probe lines to path until one of them is
// printed: then the follower has surely opened and positioned the file.
func (f follower) waitProbe(path string, d time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(d)
	for i := 0; ; i++ {
		appendFile(f.t, path, []byte(fmt.Sprintf("probe %d\n", i)))
		if f.proc.waitOutput(200*time.Millisecond, func(b []byte) bool { return bytes.Contains(b, []byte("probe ")) }) {
			return
		}
		if f.proc.exited() || time.Now().After(deadline) {
			f.t.Fatalf("follower printed no probe line within %v (exited %v)\nstdout: %s\nstderr: %s", d, f.proc.exited(), clip(f.proc.output()), clip(f.proc.errOutput()))
		}
	}
}

// TestFollowServerless: serverless dtail --plain on a glob sees appends, a
// rename rotation, a copytruncate and a new file, every line exactly once,
// and exits 0 within 2 s of SIGTERM.
func TestFollowServerless(t *testing.T) {
	dir := newWorkDir(t)
	logs := mkdirOwned(t, filepath.Join(dir, "logs"), 0o777)
	app := filepath.Join(logs, "app.log")
	writeOwned(t, app, []byte("old line before following\n"), 0o644)
	cmd := exec.Command(ours("dtail"), "--cfg", "none", "--plain", "--files", filepath.Join(logs, "*.log"))
	cmd.Dir = dir
	cmd.Env = baseEnv(dir)
	f := follower{t: t, proc: startBG(t, cmd, filepath.Join(dir, "dtail.out"))}
	f.waitProbe(app, 10*time.Second)
	w := &seqWriter{}

	// 20,000 appended lines, in writes of varying size.
	for w.next < 20000 {
		appendFile(t, app, w.lines(1+w.next%997))
	}
	f.waitAll(w.next, 20*time.Second)

	// Rotation by rename: the writer keeps writing to the renamed file for
	// a moment, then starts a new app.log.
	old, err := os.OpenFile(app, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	old.Write(w.lines(1000))
	if err := os.Rename(app, app+".1"); err != nil {
		t.Fatal(err)
	}
	old.Write(w.lines(1000))
	old.Close()
	appendFile(t, app, w.lines(2000))
	f.waitAll(w.next, 15*time.Second)

	// copytruncate: the copy is taken once everything was read; then the
	// file is truncated and the writer goes on.
	if err := os.Truncate(app, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // > one 100 ms poll, see docs/DECISIONS.md
	appendFile(t, app, w.lines(2000))
	f.waitAll(w.next, 15*time.Second)

	// A new file under the followed glob is picked up and read from its start.
	writeOwned(t, filepath.Join(logs, "new.log"), w.lines(2000), 0o644)
	f.waitAll(w.next, 15*time.Second)

	time.Sleep(300 * time.Millisecond) // let late duplicates show up
	counts, other := f.seen()
	for l, n := range counts {
		if n != 1 {
			t.Errorf("line %s printed %d times", l, n)
		}
	}
	if len(counts) != w.next {
		t.Errorf("printed %d distinct sequence lines, wrote %d", len(counts), w.next)
	}
	if len(other) > 0 {
		t.Errorf("unexpected lines (first of %d): %q", len(other), other[0])
	}
	start := time.Now()
	if !f.proc.stop(syscall.SIGTERM, 2*time.Second) {
		t.Errorf("dtail did not exit within 2 s of SIGTERM")
	} else if c := f.proc.exitCode(); c != 143 {
		// 128+15: a follow ended by a signal did not finish (DECISIONS).
		t.Errorf("dtail exit status %d after SIGTERM (%v), want 143; stderr: %s", c, time.Since(start), f.proc.errOutput())
	}
}
