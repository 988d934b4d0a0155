package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Query validation (issue 13): malformed queries that DTail 4.x answers
// with rows, blanks or nothing at all, and exit 0, are refused with the
// place and a suggestion, or answered with a note on stderr that --strict
// turns into a non-zero exit. Each case runs with the client's defaults,
// serverless and through our dserver.

// dvInput is a default-format log: 200 INFO lines of table REQ with
// action and latency, 20 WARN lines of the same table (skipped by the
// default format) and 10 lines of another table.
func dvInput(t *testing.T, dir string) string {
	var b strings.Builder
	acts := []string{"GET", "POST", "PUT"}
	for i := 0; i < 200; i++ {
		b.WriteString(dmStatsLine("INFO", "REQ", "1002-071143", 3, "action="+acts[i%3], fmt.Sprintf("latency=%d", i)))
		if i%10 == 0 {
			b.WriteString(dmStatsLine("WARN", "REQ", "1002-071143", 3, "action=GET", "latency=5"))
			b.WriteString(dmStatsLine("INFO", "OTHER", "1002-071143", 3, "action=GET"))
		}
	}
	return writeOwned(t, filepath.Join(dir, "req.log"), []byte(b.String()), 0o644)
}

// dvRuns runs dmap with args serverless and through one of our dservers.
func dvRuns(t *testing.T, dir string, srv *server, in string, args ...string) map[string]result {
	t.Helper()
	home := filepath.Join(dir, "home")
	if _, err := os.Stat(home); err != nil {
		newHome(t, dir)
	}
	return map[string]result{
		"serverless": serverless(dir, "dmap", append(append([]string{}, args...), "--files", in)...).exec(t),
		"dserver":    oursClient().remote(t, "dmap", home, []*server{srv}, append(append([]string{}, args...), "--files", in)...).exec(t),
	}
}

func TestDmapQueryValidation(t *testing.T) {
	dir := dmOwnedDir(t)
	in := dvInput(t, dir)
	srv := startDServer(t)

	refused := []struct{ query, msg string }{
		{"select count($line) from", "dmap: query:1:24: expected table name after 'from'\n"},
		{"from REQ select action,count($line) grup by action", "dmap: query:1:37: 'grup by' in the select clause selects the fields 'grup' and 'by'; did you mean 'group by'?\n"},
		{"from REQ select action,count($line) group by action logformat jsn", "dmap: query:1:63: unknown log format 'jsn'; did you mean 'json'?\n"},
		{"from REQ select action,count($line) where action eq 'GET' group by action", `dmap: query:1:53: 'GET' is a field name here: single quotes do not quote in queries, so the condition is always false; did you mean "GET"?` + "\n"},
		{"selet action from REQ", "dmap: query:1:1: Unexpected keyword selet; did you mean 'select'?\n"},
		{"from REQ select action,cnt($line) group by action", "dmap: query:1:24: Unknown aggregation in 'select' clause: cnt; did you mean 'count'?\n"},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.query, func(t *testing.T) {
			for mode, res := range dvRuns(t, dir, srv, in, "--query", tc.query) {
				if res.code != 2 || len(res.stdout) != 0 || string(res.stderr) != tc.msg {
					t.Errorf("%s: want exit 2, no output and %q; got %s", mode, tc.msg, res)
				}
			}
		})
	}

	noted := []struct {
		query string
		notes []string // stderr lines (besides the receipt), in order
		rows  int      // table rows on stdout
	}{
		{"from REQ select action,count($line),avg(latncy) group by action", []string{
			`dmap: warning: log format "default" skipped 20 lines of the input (it reads only INFO lines whose fields after MAPREDUCE:TABLE are key=value): the result leaves them out`,
			"dmap: warning: field latncy occurred in no matching line: avg(latncy) shows 0 in every row",
		}, 3},
		{"from REQ select actoin,count($line) group by actoin", []string{
			`dmap: warning: log format "default" skipped 20 lines of the input (it reads only INFO lines whose fields after MAPREDUCE:TABLE are key=value): the result leaves them out`,
			"dmap: warning: field actoin occurred in no matching line: actoin shows an empty value in every row",
			"dmap: warning: group by actoin was empty in every matching line: all of them fell into one group with an empty key",
		}, 1},
		{`from REQ select action,count($line) where action eq "DELETE" group by action`, []string{
			`dmap: warning: log format "default" skipped 20 lines of the input (it reads only INFO lines whose fields after MAPREDUCE:TABLE are key=value): the result leaves them out`,
			"dmap: the result is empty: no line matched the query",
		}, 0},
		{"from REQ select action,count($line) group by action logformat custom1", []string{
			"dmap: warning: log format custom1 is an empty template: servers fall back to log format 'generic'",
			"dmap: query:1:17: warning: field 'action' is never set: log format 'generic' fills only $line, $empty, $hostname, $server, $timezone, $timeoffset; choose a 'logformat' that has fields, e.g. generickv",
			"dmap: query:1:46: warning: group by action can only produce one group: log format 'generic' never sets the field action (always empty)",
			"dmap: warning: field action occurred in no matching line: action shows an empty value in every row",
			"dmap: warning: group by action was empty in every matching line: all of them fell into one group with an empty key",
		}, 1},
		{"select action,count($line) group by action", []string{
			"dmap: query:1:8: warning: field 'action' is never set: log format 'generic' fills only $line, $empty, $hostname, $server, $timezone, $timeoffset; add a 'from TABLE' clause (DTail's own format) or 'logformat generickv' (key=value fields)",
			"dmap: query:1:37: warning: group by action can only produce one group: log format 'generic' never sets the field action (always empty)",
			"dmap: warning: field action occurred in no matching line: action shows an empty value in every row",
			"dmap: warning: group by action was empty in every matching line: all of them fell into one group with an empty key",
		}, 1},
	}
	for _, tc := range noted {
		t.Run("noted/"+tc.query, func(t *testing.T) {
			for mode, res := range dvRuns(t, dir, srv, in, "--query", tc.query, "--receipt", "json") {
				got := dvNotes(res.stderr)
				if res.code != 0 || got != strings.Join(tc.notes, "\n") {
					t.Errorf("%s: want exit 0 and notes\n%s\ngot %s", mode, strings.Join(tc.notes, "\n"), res)
				}
				if n := dvRows(res.stdout); n != tc.rows {
					t.Errorf("%s: %d table rows, want %d:\n%s", mode, n, tc.rows, res.stdout)
				}
			}
			// --strict: the same notes, exit non-zero (2 when the plan
			// already warns, before the run).
			for mode, res := range dvRuns(t, dir, srv, in, "--query", tc.query, "--strict") {
				if res.code == 0 || len(lines(res.stderr)) == 0 {
					t.Errorf("%s --strict: want a non-zero exit: %s", mode, res)
				}
			}
		})
	}

	// Against DTail 4.x servers: the same notes, except the skipped lines,
	// which only our servers count (in their receipts).
	for _, kit := range kits {
		t.Run("noted/"+kit, func(t *testing.T) {
			ref := startDServer(t, withKind(refKind(t, kit)))
			home := filepath.Join(dir, "home")
			for _, tc := range noted {
				var want []string
				for _, n := range tc.notes {
					if !strings.Contains(n, "skipped 20 lines") {
						want = append(want, n)
					}
				}
				res := oursClient().remote(t, "dmap", home, []*server{ref}, "--query", tc.query, "--files", in).exec(t)
				if got := dvNotes(res.stderr); res.code != 0 || got != strings.Join(want, "\n") || dvRows(res.stdout) != tc.rows {
					t.Errorf("%s: want exit 0, %d rows and notes\n%s\ngot %s", tc.query, tc.rows, strings.Join(want, "\n"), res)
				}
			}
		})
	}

	t.Run("receipt counts skipped lines", func(t *testing.T) {
		for mode, res := range dvRuns(t, dir, srv, in, "--query", "from REQ select action,count($line) group by action", "--receipt", "json") {
			var rc struct {
				Complete     bool  `json:"complete"`
				LinesSkipped int64 `json:"lines_skipped"`
			}
			var js []byte
			for _, l := range lines(res.stderr) {
				if strings.HasPrefix(l, "{") {
					js = []byte(l)
				}
			}
			if json.Unmarshal(js, &rc) != nil || rc.LinesSkipped != 20 || !rc.Complete {
				t.Errorf("%s: want a complete receipt with lines_skipped 20: %s", mode, res)
			}
		}
	})
}

// dvNotes returns dmap's own stderr lines: not the JSON receipt, not the
// client log (CLIENT|…).
func dvNotes(stderr []byte) string {
	var out []string
	for _, l := range lines(stderr) {
		if strings.HasPrefix(l, "dmap: ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// dvRows counts the data rows of the tables on stdout (lines with " | "
// or a single cell, after the dashed line).
func dvRows(stdout []byte) int {
	n, in := 0, false
	for _, l := range strings.Split(string(ansi.ReplaceAll(stdout, nil)), "\n") {
		switch {
		case strings.HasPrefix(l, "--"):
			in = true
		case l == "":
			in = false
		case in:
			n++
		}
	}
	return n
}

// TestDmapRowLimitOnlyOnTerminal: without a limit clause a table written
// to a pipe or file has every row (DTail 4.x cut it to 10 rows, exit 0:
// "> users.txt" kept 10 of 10,000 users); on a terminal the 10-row limit
// and its warning stay.
func TestDmapRowLimitOnlyOnTerminal(t *testing.T) {
	dir := dmOwnedDir(t)
	var b strings.Builder
	for i := 0; i < 10000; i++ {
		b.WriteString(dmStatsLine("INFO", "REQ", "1002-071143", 3, fmt.Sprintf("user=u%05d", i)))
	}
	in := writeOwned(t, filepath.Join(dir, "users.log"), []byte(b.String()), 0o644)
	srv := startDServer(t)
	q := "from REQ select user,count($line) group by user"
	for mode, res := range dvRuns(t, dir, srv, in, "--query", q) {
		if res.code != 0 || dvRows(res.stdout) != 10000 || bytes.Contains(res.stderr, []byte("limited terminal output")) {
			t.Errorf("%s: want 10000 rows in a pipe, exit 0, no limit warning: %d rows, %s", mode, dvRows(res.stdout), res)
		}
	}
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (util-linux) not installed")
	}
	r := serverless(dir, "dmap", "--noColor", "--query", q, "--files", in)
	quoted := []string{shellQuote(r.bin)}
	for _, a := range r.args {
		quoted = append(quoted, shellQuote(a))
	}
	r.args = []string{"-qec", strings.Join(quoted, " "), "/dev/null"}
	r.bin = script
	res := r.exec(t)
	out := strings.ReplaceAll(string(res.stdout), "\r", "")
	if res.code != 0 || dvRows([]byte(out)) != 10 || !strings.Contains(out, "Got 10000 results but limited terminal output to 10 rows! Use 'limit' clause to override!") {
		t.Errorf("terminal: want 10 rows and the limit warning: exit %d, %d rows, output %q", res.code, dvRows([]byte(out)), out[:min(len(out), 600)])
	}
}

// TestDmapOutfileOnlyRegular: an outfile that is a symlink or a FIFO is
// refused with a one-line error naming it and exit 1, and left as it was
// (DTail 4.x replaced it with a regular file); a regular file is replaced.
func TestDmapOutfileOnlyRegular(t *testing.T) {
	dir := dmOwnedDir(t)
	in := dvInput(t, dir)
	target := writeOwned(t, filepath.Join(dir, "target.csv"), []byte("keep\n"), 0o644)
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.csv")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	chown(t, fifo, 0o666)
	q := "from REQ select action,count($line) group by action outfile "
	for _, out := range []string{link, fifo, "append " + link, "append " + fifo} {
		res := serverless(dir, "dmap", "--query", q+out, "--files", in).exec(t)
		path := strings.TrimPrefix(out, "append ")
		if res.code != 1 || res.timedOut || len(lines(res.stderr)) != 1 || !strings.Contains(string(res.stderr), path+": is a ") {
			t.Errorf("outfile %s: want exit 1 and one line naming it: %s", out, res)
		}
		if _, err := os.Lstat(path + ".query"); err == nil {
			t.Errorf("outfile %s: %s.query written", out, path)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "keep\n" {
		t.Errorf("symlink target changed: %q", b)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link.csv is no longer a symlink")
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("fifo.csv is no longer a FIFO")
	}
	res := serverless(dir, "dmap", "--query", q+target, "--files", in).exec(t)
	if b, _ := os.ReadFile(target); res.code != 0 || string(b) != "action,count($line)\nGET,67\nPOST,67\nPUT,66\n" {
		t.Errorf("regular outfile: %q, %s", b, res)
	}
}
