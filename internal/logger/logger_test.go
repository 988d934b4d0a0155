package logger

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtail-go/dtail/internal/color"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var t0 = time.Date(2021, 11, 24, 1, 28, 5, 0, time.Local)

type stringer struct{}

func (stringer) String() string { return "str" }

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want Level
		bad  bool
	}{
		{"", Default, false},
		{"none", None, false},
		{"FATAL", Fatal, false},
		{"Error", Error, false},
		{"warn", Warn, false},
		{"info", Info, false},
		{"default", Default, false},
		{"verbose", Verbose, false},
		{"debug", Debug, false},
		{"devel", Devel, false},
		{"trace", Trace, false},
		{"ALL", All, false},
		{"warning", None, true},
		{"5", None, true},
	}
	for _, tt := range tests {
		got, err := ParseLevel(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseLevel(%q) = %v, %v", tt.in, got, err)
		}
	}
	order := []Level{None, Fatal, Error, Warn, Info, Default, Verbose, Debug, Devel, Trace, All}
	for i := 1; i < len(order); i++ {
		if order[i-1] >= order[i] {
			t.Errorf("%v !< %v", order[i-1], order[i])
		}
	}
}

func TestParseSink(t *testing.T) {
	for in, want := range map[string]Sink{"stdout": Stdout, "FILE": File, "Fout": FileAndStdout, "none": Discard} {
		if got, err := ParseSink(in); err != nil || got != want {
			t.Errorf("ParseSink(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseSink("syslog"); err == nil {
		t.Error("ParseSink(syslog) succeeded")
	}
}

func TestFormat(t *testing.T) {
	clk := &fakeClock{t: t0}
	tests := []struct {
		name string
		role Role
		call func(*Logger) string
		want string
	}{
		{"server info", Server, func(l *Logger) string { return l.Info("user@1.2.3.4:5", "Handling connection") },
			"INFO|1124-012805|user@1.2.3.4:5|Handling connection\n"},
		{"server no args", Server, func(l *Logger) string { return l.Warn() }, "WARN|1124-012805\n"},
		{"server types", Server, func(l *Logger) string {
			return l.Error(errors.New("boom"), 42, int64(-7), uint(3), true, 1.5, []byte("raw"), stringer{}, nil)
		}, "ERROR|1124-012805|boom|42|-7|3|true|1.5|raw|str|<nil>\n"},
		{"server fatal", Server, func(l *Logger) string { return l.Fatal("x") }, "FATAL|1124-012805|x\n"},
		{"client warn", Client, func(l *Logger) string {
			return l.Warn("localhost:1", "failed to dial TCP connection to localhost:1")
		}, "CLIENT|integrationtest|WARN|localhost:1|failed to dial TCP connection to localhost:1\n"},
		{"client trace", Client, func(l *Logger) string { return l.Trace("t") }, "CLIENT|integrationtest|TRACE|t\n"},
		{"client no args", Client, func(l *Logger) string { return l.Debug() }, "CLIENT|integrationtest|DEBUG\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		l := New(Options{Level: All, Sink: Stdout, Role: tt.role, Hostname: "integrationtest", Stdout: &out, Clock: clk.now})
		got := tt.call(l)
		if got != tt.want {
			t.Errorf("%s: returned %q, want %q", tt.name, got, tt.want)
		}
		if out.String() != tt.want {
			t.Errorf("%s: wrote %q, want %q", tt.name, out.String(), tt.want)
		}
		l.Close()
	}
}

func TestLevelFiltering(t *testing.T) {
	methods := []struct {
		level Level
		call  func(*Logger, ...any) string
	}{
		{Fatal, (*Logger).Fatal}, {Error, (*Logger).Error}, {Warn, (*Logger).Warn},
		{Info, (*Logger).Info}, {Verbose, (*Logger).Verbose}, {Debug, (*Logger).Debug},
		{Devel, (*Logger).Devel}, {Trace, (*Logger).Trace},
	}
	for _, configured := range []Level{None, Fatal, Error, Warn, Info, Default, Verbose, Debug, Devel, Trace, All} {
		var out bytes.Buffer
		l := New(Options{Level: configured, Stdout: &out, Clock: (&fakeClock{t: t0}).now})
		for _, m := range methods {
			out.Reset()
			got := m.call(l, "x")
			want := m.level <= configured
			if want != l.Enabled(m.level) {
				t.Errorf("level %v: Enabled(%v) = %v", configured, m.level, !want)
			}
			if want && (got == "" || out.String() != got) {
				t.Errorf("level %v: %v returned %q, wrote %q", configured, m.level, got, out.String())
			}
			if !want && (got != "" || out.Len() != 0) {
				t.Errorf("level %v: %v filtered but returned %q, wrote %q", configured, m.level, got, out.String())
			}
		}
	}
}

func TestColorsOnlyOnStdout(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	scheme := color.DefaultScheme()
	l := New(Options{Level: Info, Sink: FileAndStdout, Role: Client, Hostname: "h",
		LogDir: dir, Stdout: &out, Clock: (&fakeClock{t: t0}).now, Colors: &scheme})
	got := l.Warn("a")
	if got != "CLIENT|h|WARN|a\n" {
		t.Errorf("returned %q", got)
	}
	want := string(scheme.AppendLine(nil, []byte(got)))
	if out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "20211124.log")); string(b) != got {
		t.Errorf("file %q, want %q", b, got)
	}
}

func TestDailyRotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub", "log")
	clk := &fakeClock{t: t0}
	l := New(Options{Level: Info, Sink: File, LogDir: dir, Rotation: "Daily", Clock: clk.now})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("LogDir created before the first write: %v", err)
	}
	l.Info("one")
	clk.set(time.Date(2021, 11, 24, 23, 59, 59, 0, time.Local))
	l.Info("two")
	clk.set(time.Date(2021, 11, 25, 0, 0, 0, 0, time.Local))
	l.Info("three")
	l.Raw([]byte("payload"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Info("after close")

	b, _ := os.ReadFile(filepath.Join(dir, "20211124.log"))
	if want := "INFO|1124-012805|one\nINFO|1124-235959|two\n"; string(b) != want {
		t.Errorf("day 1: %q, want %q", b, want)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "20211125.log"))
	if want := "INFO|1125-000000|three\npayload\n"; string(b) != want {
		t.Errorf("day 2: %q, want %q", b, want)
	}
}

func TestNamedFileReopen(t *testing.T) {
	dir := t.TempDir()
	l := New(Options{Level: Info, Sink: File, LogDir: dir, Rotation: "signal", Name: "dserver", Clock: (&fakeClock{t: t0}).now})
	defer l.Close()
	path := filepath.Join(dir, "dserver.log")
	l.Info("before")
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l.Info("still old")
	l.Reopen()
	l.Info("new")
	l.Flush()
	if b, _ := os.ReadFile(path + ".1"); string(b) != "INFO|1124-012805|before\nINFO|1124-012805|still old\n" {
		t.Errorf("rotated file %q", b)
	}
	if b, _ := os.ReadFile(path); string(b) != "INFO|1124-012805|new\n" {
		t.Errorf("new file %q", b)
	}
}

func TestSinks(t *testing.T) {
	for _, tt := range []struct {
		sink             Sink
		stdout, fileSeen bool
	}{
		{Stdout, true, false}, {File, false, true}, {FileAndStdout, true, true}, {Discard, false, false},
	} {
		dir := filepath.Join(t.TempDir(), "log")
		var out bytes.Buffer
		l := New(Options{Level: Info, Sink: tt.sink, LogDir: dir, Stdout: &out, Clock: (&fakeClock{t: t0}).now})
		got := l.Info("x")
		l.Raw([]byte("payload\n"))
		l.Close()
		if got != "INFO|1124-012805|x\n" {
			t.Errorf("%v: returned %q", tt.sink, got)
		}
		if (out.Len() > 0) != tt.stdout || (tt.stdout && out.String() != got) {
			t.Errorf("%v: stdout %q", tt.sink, out.String())
		}
		b, err := os.ReadFile(filepath.Join(dir, "20211124.log"))
		if tt.fileSeen && string(b) != got+"payload\n" {
			t.Errorf("%v: file %q, %v", tt.sink, b, err)
		}
		if _, err := os.Stat(dir); !tt.fileSeen && !os.IsNotExist(err) {
			t.Errorf("%v: LogDir exists: %v", tt.sink, err)
		}
	}
}

func TestFlusherAndFatal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "20211124.log")
	l := New(Options{Level: Info, Sink: File, LogDir: dir, Clock: (&fakeClock{t: t0}).now})
	defer l.Close()
	l.Fatal("now")
	if b, _ := os.ReadFile(path); string(b) != "FATAL|1124-012805|now\n" {
		t.Errorf("Fatal not flushed: %q", b)
	}
	l.Info("later")
	deadline := time.Now().Add(2 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.HasSuffix(string(b), "later\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not flushed by the background flusher: %q", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBrokenLogDir(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr, out bytes.Buffer
	l := New(Options{Level: Info, Sink: FileAndStdout, LogDir: blocker, Stdout: &out, Stderr: &stderr, Clock: (&fakeClock{t: t0}).now})
	l.Info("a")
	l.Info("b")
	l.Close()
	if n := strings.Count(stderr.String(), "\n"); n != 1 {
		t.Errorf("want one report, got %q", stderr.String())
	}
	if strings.Count(out.String(), "\n") != 2 {
		t.Errorf("stdout must keep working: %q", out.String())
	}
}

func TestPauseResume(t *testing.T) {
	var out bytes.Buffer
	dir := t.TempDir()
	l := New(Options{Level: Info, Sink: FileAndStdout, Role: Client, Hostname: "h", LogDir: dir,
		Stdout: &out, Clock: (&fakeClock{t: t0}).now, PauseLimit: 40})
	defer l.Close()
	l.Pause()
	l.Pause()
	if got := l.Info("a"); got != "CLIENT|h|INFO|a\n" {
		t.Errorf("returned %q while paused", got)
	}
	l.Info("b")
	l.Info("c") // exceeds the 40 byte bound
	l.Resume()
	if out.Len() != 0 {
		t.Fatalf("output while still paused: %q", out.String())
	}
	l.Resume()
	l.Resume() // unbalanced, ignored
	l.Info("d")
	want := "CLIENT|h|INFO|a\nCLIENT|h|INFO|b\nCLIENT|h|WARN|Dropped log lines while output was paused|1\nCLIENT|h|INFO|d\n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
	l.Flush()
	if b, _ := os.ReadFile(filepath.Join(dir, "20211124.log")); strings.Count(string(b), "\n") != 4 {
		t.Errorf("file must not be paused: %q", b)
	}
}

// syncBuffer lets the test read stdout while the logger writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func TestConcurrent(t *testing.T) {
	dir := t.TempDir()
	var out syncBuffer
	scheme := color.DefaultScheme()
	l := New(Options{Level: Info, Sink: FileAndStdout, Role: Client, Hostname: "h", LogDir: dir,
		Stdout: &out, Colors: &scheme})
	const workers, lines = 16, 300
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				if i%50 == 0 {
					l.Pause()
					l.Resume()
				}
				if i%100 == 0 {
					l.Reopen()
				}
				l.Info("worker", w, "line", i)
				l.Debug("filtered")
				l.Raw([]byte("payload"))
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.b.String(), "\n"); n != workers*lines {
		t.Errorf("stdout has %d lines", n)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	var total int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if line != "payload" && !strings.HasPrefix(line, "CLIENT|h|INFO|worker|") {
				t.Fatalf("torn line %q", line)
			}
			total++
		}
	}
	if total != 2*workers*lines {
		t.Errorf("file has %d lines, want %d", total, 2*workers*lines)
	}
}

func BenchmarkInfoFile(b *testing.B) {
	l := New(Options{Level: Info, Sink: File, LogDir: b.TempDir()})
	defer l.Close()
	b.ReportAllocs()
	for b.Loop() {
		l.Info("user@127.0.0.1:4242", "Reading", "/var/log/x.log", 42)
	}
}

// A server log field can neither end the line nor add a field: whatever a
// client sends as a user name arrives as one escaped field.
func TestServerFieldsEscaped(t *testing.T) {
	l := New(Options{Level: Info, Sink: Discard, Role: Server})
	forged := "evil\nINFO|1203-000000|1|stats.go:1|MAPREDUCE:STATS|currentConnections=999\r\x1b[2J\x7f"
	line := l.Info(forged+"@127.0.0.1:1", "Incoming authorization", "tab\tkept")
	want := `evil\x0aINFO\x7c1203-000000\x7c1\x7cstats.go:1\x7cMAPREDUCE:STATS\x7ccurrentConnections=999\x0d\x1b[2J\x7f@127.0.0.1:1|Incoming authorization|tab` + "\tkept\n"
	if !strings.HasSuffix(line, want) {
		t.Fatalf("line %q\nwant suffix %q", line, want)
	}
	if strings.Count(line, "\n") != 1 || strings.Count(line, "|") != 4 {
		t.Fatalf("forged structure: %q", line)
	}
	clean := l.Info("plain", "fields")
	if !strings.HasSuffix(clean, "|plain|fields\n") {
		t.Fatalf("clean line changed: %q", clean)
	}
}
