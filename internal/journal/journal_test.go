package journal

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestUnit(t *testing.T) {
	for target, ok := range map[string]bool{
		"journal:nginx.service":      true,
		"journal:user@1000.service":  true,
		"journal:":                   false,
		"journal:-f":                 false,
		"journal:--since=yesterday":  false,
		"journal:a b":                false,
		"journal:a\tb":               false,
		"journal:a\nb":               false,
		"journal:a\x00b":             false,
		"journal:\u00a0x":            false,
		"/var/log/syslog":            false,
		"journalx:nginx.service":     false,
		"journal:nginx.service\x7f":  false,
		"journal:sshd.service,other": true, // journalctl decides
	} {
		unit, err := Unit(target)
		if (err == nil) != ok {
			t.Errorf("Unit(%q) = %q, %v; want ok=%v", target, unit, err, ok)
		}
		if ok && unit != strings.TrimPrefix(target, Prefix) {
			t.Errorf("Unit(%q) = %q", target, unit)
		}
	}
}

func TestArgs(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Unit: "a.service"}, "-u a.service"},
		{Options{Unit: "a.service", Follow: true, Since: 5}, "-u a.service -f -n 0"},
		{Options{Unit: "a", Since: 1700000000, Until: 1700003600}, "-u a --since @1700000000 --until @1700003599.999999"},
		{Options{Unit: "a", Until: 10, ISOTime: true}, "-u a --until @9.999999 -o short-iso"},
	} {
		if got := strings.Join(Args(c.o), " "); got != c.want {
			t.Errorf("Args(%+v) = %q, want %q", c.o, got, c.want)
		}
	}
}

// mock copies the stand-in journalctl into a directory of its own; the
// files next to it steer it (see testdata/journalctl).
func mock(t *testing.T, files map[string]string) (path, dir string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("journal targets are read on linux only")
	}
	dir = t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "journalctl"))
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "journalctl")
	if err := os.WriteFile(path, src, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path, dir
}

func argsLog(dir string) []string {
	b, _ := os.ReadFile(filepath.Join(dir, "args.log"))
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if _, rest, ok := strings.Cut(l, " "); ok {
			out = append(out, rest)
		}
	}
	return out
}

type stderrLines struct {
	mu    sync.Mutex
	lines []string
}

func (s *stderrLines) add(l string) { s.mu.Lock(); s.lines = append(s.lines, l); s.mu.Unlock() }
func (s *stderrLines) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

func TestRunOnce(t *testing.T) {
	path, dir := mock(t, map[string]string{
		"entries": "journal alpha\njournal beta match-123\njournal gamma match-456\n",
		"stderr":  "a warning\n",
	})
	var errs stderrLines
	var got []byte
	err := Run(context.Background(), Options{Unit: "test.service", Path: path, OnStderr: errs.add}, func(r io.Reader) error {
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "journal alpha\njournal beta match-123\njournal gamma match-456\n" {
		t.Errorf("stdout: %q", got)
	}
	if a := argsLog(dir); len(a) != 1 || a[0] != "-u test.service" {
		t.Errorf("journalctl arguments: %q, want exactly [-u test.service]", a)
	}
	if e := errs.get(); len(e) != 1 || e[0] != "a warning" {
		t.Errorf("stderr lines: %q", e)
	}
}

func TestRunOnceFailure(t *testing.T) {
	path, _ := mock(t, map[string]string{"fail-first": ""})
	var errs stderrLines
	err := Run(context.Background(), Options{Unit: "x.service", Path: path, OnStderr: errs.add}, func(r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Status != 1 {
		t.Errorf("a failing journalctl: got %v, want exit status 1", err)
	}
	if e := errs.get(); len(e) != 1 || !strings.Contains(e[0], "first run fails") {
		t.Errorf("stderr lines: %q", e)
	}
}

// readLines reads journalctl's stdout line by line into ch.
func readLines(ch chan<- string) func(io.Reader) error {
	return func(r io.Reader) error {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
		return sc.Err()
	}
}

func waitLine(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l := <-ch:
			if l == want {
				return
			}
		case <-deadline:
			t.Fatalf("no line %q within 20 s", want)
		}
	}
}

// A followed journal: the first journalctl fails and is started again
// after the retry interval; cancelling sends SIGTERM and Run returns.
func TestFollowRetriesAndStopsWithSIGTERM(t *testing.T) {
	path, dir := mock(t, map[string]string{"fail-first": ""})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan string, 100)
	var restarts stderrLines
	retry := 300 * time.Millisecond
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Unit: "test.service", Path: path, Follow: true, Retry: retry,
			OnRestart: func(err error) { restarts.add(err.Error()) }}, readLines(ch))
	}()
	waitLine(t, ch, "journal follow 3")
	if el := time.Since(start); el < retry {
		t.Errorf("the second journalctl started after %v, before the retry interval %v", el, retry)
	}
	if r := restarts.get(); len(r) != 1 || !strings.Contains(r[0], "status 1") {
		t.Errorf("restart reasons: %q", r)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	a := argsLog(dir)
	if len(a) < 3 || a[0] != "-u test.service -f -n 0" || a[1] != "-u test.service -f -n 0" || a[len(a)-1] != "SIGTERM" {
		t.Errorf("journalctl runs: %q; want two follow runs and a SIGTERM", a)
	}
}

// A journalctl that ignores SIGTERM is killed KillAfter later.
func TestStopKillsStubbornJournalctl(t *testing.T) {
	path, dir := mock(t, map[string]string{"ignore-term": ""})
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan string, 100)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Unit: "u", Path: path, Follow: true}, readLines(ch)) }()
	waitLine(t, ch, "journal follow 1")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a journalctl ignoring SIGTERM kept Run alive")
	}
	for _, a := range argsLog(dir) {
		if a == "SIGTERM" {
			t.Errorf("the mock was told to ignore SIGTERM but logged it")
		}
	}
}

// The reader stopping early (--max reached) ends journalctl and the read
// without error and without a restart.
func TestReaderStopEndsFollow(t *testing.T) {
	path, dir := mock(t, nil)
	stop := errors.New("enough")
	n := 0
	err := Run(context.Background(), Options{Unit: "u", Path: path, Follow: true, Retry: 50 * time.Millisecond}, func(r io.Reader) error {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if n++; n == 2 {
				return stop
			}
		}
		return sc.Err()
	})
	if !errors.Is(err, stop) {
		t.Errorf("Run = %v, want the reader's error", err)
	}
	if a := argsLog(dir); len(a) != 2 || a[1] != "SIGTERM" {
		t.Errorf("journalctl runs: %q, want one run ended by SIGTERM", a)
	}
}
