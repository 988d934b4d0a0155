package e2e

// Time windows (--since/--until, issue 8 item 2) end to end: 30 days of
// rotated logs (app.log, app.log.1, app.log.2.gz … app.log.29.gz, mtimes
// set to the last line), one-hour windows through our dserver and
// serverless, exactly the lines inside coming back while reading under
// 5 % of the bytes of a full scan; a DTail 4.x server (the client
// filters); bad input.

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// twLine is one generated line and its timestamp.
type twLine struct {
	ts   time.Time
	text string
}

// twFixture writes the rotation set: file k (0 = app.log) holds the day
// [now-(k+1)·24h, now-k·24h), a line every minute and a two-line stack
// trace (continuation lines without timestamp) every 37 lines.
func twFixture(t *testing.T, dir string, now time.Time) (lines []twLine, full int64) {
	t.Helper()
	const days = 30
	for k := days - 1; k >= 0; k-- {
		var b bytes.Buffer
		start := now.Add(-time.Duration(k+1) * 24 * time.Hour)
		var last time.Time
		for m := 0; m < 24*60; m++ {
			ts := start.Add(time.Duration(m) * time.Minute)
			l := fmt.Sprintf("INFO|%s|%d|app.go:%d|request file=%d minute=%d status=%d took=%dms", ts.Format("20060102-150405"), 4242, 10+m%90, k, m, 200+(m%7)*50, (m*37)%1000)
			lines = append(lines, twLine{ts, l})
			b.WriteString(l + "\n")
			if m%37 == 0 {
				for _, c := range []string{"\tat handler.go:12", "\tat server.go:99"} {
					c = fmt.Sprintf("%s file=%d minute=%d", c, k, m)
					lines = append(lines, twLine{ts, c})
					b.WriteString(c + "\n")
				}
			}
			last = ts
		}
		full += int64(b.Len())
		name := "app.log"
		data := b.Bytes()
		switch {
		case k == 1:
			name = "app.log.1"
		case k > 1:
			name = fmt.Sprintf("app.log.%d.gz", k)
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(data)
			zw.Close()
			data = z.Bytes()
		}
		p := writeOwned(t, filepath.Join(dir, name), data, 0o644)
		if err := os.Chtimes(p, last, last); err != nil {
			t.Fatal(err)
		}
	}
	return lines, full
}

func twWant(all []twLine, since, until time.Time) []string {
	var want []string
	for _, l := range all {
		if !l.ts.Before(since) && l.ts.Before(until) {
			want = append(want, l.text)
		}
	}
	return want
}

func TestTimeWindow(t *testing.T) {
	dir := newWorkDir(t)
	logs := mkdirOwned(t, filepath.Join(dir, "logs"), 0o755)
	now := time.Now().Truncate(time.Minute)
	all, fullBytes := twFixture(t, logs, now)
	home := newHome(t, dir)
	srv := startDServer(t)
	glob := filepath.Join(logs, "app.log")

	remote := func(bin string, args ...string) run {
		return fleetClient(t, bin, home, srv.addr, false, args...)
	}
	local := func(bin string, args ...string) run {
		a := append([]string{"--cfg", "none", "--noColor"}, args...)
		return run{bin: filepath.Join(binDir, bin), args: a, dir: dir, env: baseEnv(home), timeout: 25 * time.Second}
	}
	// The full scan every windowed read is compared with.
	full := remote("dcat", "--plain", "--receipt", "json", "--files", glob+"*").exec(t)
	if full.code != 0 {
		t.Fatalf("full scan: %v", full)
	}
	fr := findReceipt(t, full.stderr)
	if fr.Bytes != fullBytes || fr.FilesRead != 30 {
		t.Fatalf("full scan receipt %+v, want %d bytes in 30 files", fr, fullBytes)
	}
	if got := len(lines(full.stdout)); got != len(all) {
		t.Fatalf("full scan: %d lines, want %d", got, len(all))
	}

	windows := []struct {
		name  string
		since time.Time
	}{
		// Inside app.log.1 (plain: binary search), inside a compressed
		// day, inside app.log at 13:37 past some hour.
		{"plain rotated file", now.Add(-36*time.Hour + 17*time.Minute)},
		{"compressed day", now.Add(-15*24*time.Hour - 5*time.Hour - 3*time.Minute)},
		{"live file", now.Add(-3*time.Hour - 23*time.Minute)},
	}
	for _, w := range windows {
		since, until := w.since, w.since.Add(time.Hour)
		want := twWant(all, since, until)
		if len(want) < 60 {
			t.Fatalf("%s: fixture has only %d lines in the window", w.name, len(want))
		}
		for _, mode := range []struct {
			name string
			r    run
		}{
			{"dserver dcat", remote("dcat", "--plain", "--receipt", "json", "--files", glob,
				"--since", since.Format(time.RFC3339), "--until", until.Format(time.RFC3339))},
			{"serverless dcat", local("dcat", "--plain", "--receipt", "json", "--files", glob,
				"--since", since.Format(time.RFC3339), "--until", until.Format(time.RFC3339))},
		} {
			t.Run(w.name+"/"+mode.name, func(t *testing.T) {
				res := mode.r.exec(t)
				if res.code != 0 {
					t.Fatalf("%v", res)
				}
				got := lines(res.stdout)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("got %d lines, want %d (window %v – %v)\nfirst got %q\nfirst want %q\nlast got %q\nlast want %q", len(got), len(want), since, until,
						first(got), first(want), lastOf(got), lastOf(want))
				}
				r := findReceipt(t, res.stderr)
				pct := float64(r.Bytes) * 100 / float64(fr.Bytes)
				t.Logf("read %d of %d bytes (%.2f %%) in %v; full scan %v", r.Bytes, fr.Bytes, pct, res.elapsed.Round(time.Millisecond), full.elapsed.Round(time.Millisecond))
				if pct >= 5 {
					t.Errorf("read %d bytes, %.2f %% of the full scan's %d (want < 5 %%)", r.Bytes, pct, fr.Bytes)
				}
				if r.FilesUnreadable != 0 || !r.Complete {
					t.Errorf("receipt %+v", r)
				}
			})
		}
	}

	t.Run("dgrep in a window", func(t *testing.T) {
		since := now.Add(-30 * time.Hour)
		until := since.Add(2 * time.Hour)
		var want []string
		for _, l := range twWant(all, since, until) {
			if strings.Contains(l, "status=500") {
				want = append(want, l)
			}
		}
		res := remote("dgrep", "--plain", "--regex", "status=500", "--files", glob,
			"--since", since.Format(time.RFC3339), "--until", until.Format(time.RFC3339)).exec(t)
		if res.code != 0 || strings.Join(lines(res.stdout), "\n") != strings.Join(want, "\n") {
			t.Fatalf("want %d lines: %v", len(want), res)
		}
	})

	t.Run("relative since", func(t *testing.T) {
		// "-90m" is relative to when the client starts, somewhere
		// between before and after (minutes after the fixture on a
		// loaded machine): the count lies between what the window
		// holds at those two moments (a second of slack for the
		// timestamps' resolution).
		before := time.Now()
		res := local("dcat", "--plain", "--files", glob, "--since", "-90m").exec(t)
		after := time.Now()
		count := func(since time.Time) (c int) {
			for _, l := range all {
				if strings.HasPrefix(l.text, "INFO|") && !l.ts.Before(since) {
					c++
				}
			}
			return c
		}
		hi, lo := count(before.Add(-90*time.Minute-time.Second)), count(after.Add(-90*time.Minute+time.Second))
		n := 0
		for _, l := range lines(res.stdout) {
			if strings.HasPrefix(l, "INFO|") {
				n++
			}
		}
		if res.code != 0 || n < lo || n > hi || hi < 30 {
			t.Fatalf("%d lines, want %d..%d: %v", n, lo, hi, res)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for _, args := range [][]string{
			{"--since", "now", "--until", "-1h"},
			{"--since", "the day before"},
			{"--until", "2024-13-45"},
		} {
			for _, bin := range []string{"dcat", "dgrep", "dmap"} {
				a := append([]string{"--files", glob}, args...)
				switch bin {
				case "dgrep":
					a = append(a, "--regex", "x")
				case "dmap":
					a = append(a, "--query", "from STATS select count($line)")
				}
				res := local(bin, a...).exec(t)
				if res.code != 2 || len(lines(res.stderr)) != 1 || len(res.stdout) != 0 {
					t.Errorf("%s %q: want exit 2 and one line on stderr: %v", bin, args, res)
				}
			}
		}
		res := local("dtail", "--files", glob, "--since", "-1h").exec(t)
		if res.code != 2 || len(lines(res.stderr)) != 1 {
			t.Errorf("dtail --since: want exit 2 and one line: %v", res)
		}
	})

	t.Run("DTail 4.x server: the client filters", func(t *testing.T) {
		ref := startDServer(t, withKind(refKind(t, "4.3.2")))
		since := now.Add(-5 * time.Hour)
		until := since.Add(time.Hour)
		res := fleetClient(t, "dcat", home, ref.addr, false, "--plain", "--files", glob,
			"--since", since.Format(time.RFC3339), "--until", until.Format(time.RFC3339)).exec(t)
		var got []string
		for _, l := range lines(res.stdout) {
			if strings.HasPrefix(l, "INFO|") || strings.HasPrefix(l, "\tat") {
				got = append(got, l)
			}
		}
		if want := twWant(all, since, until); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("got %d lines, want %d: %v", len(got), len(want), res)
		}
	})
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func lastOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}
