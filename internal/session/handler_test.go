package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtail-go/dtail/internal/protocol"
)

// fixedLogger formats like the server logger with a fixed time stamp, so
// SERVER messages are reproducible.
type fixedLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *fixedLogger) log(level string, args []any) string {
	parts := []string{level, "1124-012313"}
	for _, a := range args {
		parts = append(parts, fmt.Sprint(a))
	}
	line := strings.Join(parts, "|") + "\n"
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	return line
}
func (l *fixedLogger) Info(a ...any) string  { return l.log("INFO", a) }
func (l *fixedLogger) Warn(a ...any) string  { return l.log("WARN", a) }
func (l *fixedLogger) Error(a ...any) string { return l.log("ERROR", a) }
func (l *fixedLogger) Debug(a ...any) string { return "" }

func (l *fixedLogger) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.lines {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

// exchange runs a server session fed with the given client frames and
// returns everything the server wrote. The client acknowledges the close
// request as a real client does.
func exchange(t *testing.T, opts ServeOptions, cfg Config, commands ...string) string {
	t.Helper()
	cr, cw := io.Pipe()
	var out bytes.Buffer
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		out.Write(p)
		if bytes.Contains(p, []byte(protocol.SynCloseConnection)) {
			go cw.Write([]byte(protocol.AckCloseConnectionFrame))
		}
		return len(p), nil
	})
	if cfg.Host == "" {
		cfg.Host = "integrationtest"
	}
	if cfg.Logger == nil {
		cfg.Logger = &fixedLogger{}
	}
	cfg.LogPrefix = "specuser@127.0.0.1:59976"
	s := New(cfg, w)
	go func() {
		for _, c := range commands {
			if strings.HasPrefix(c, "RAW:") {
				cw.Write([]byte(strings.TrimPrefix(c, "RAW:")))
				continue
			}
			cw.Write(protocol.EncodeFrame(c))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.Serve(ctx, cr, opts)
	cw.Close()
	if ctx.Err() != nil {
		t.Fatal("session did not finish")
	}
	mu.Lock()
	defer mu.Unlock()
	return stripReceipts(out.String())
}

// stripReceipts removes the `.syn receipt` messages (checked by
// TestServeReceipt) so the goldens stay those of spec 3.12.
func stripReceipts(s string) string {
	var b strings.Builder
	for _, m := range strings.SplitAfter(s, "\xac") {
		if !strings.HasPrefix(m, protocol.ReceiptPrefix) {
			b.WriteString(m)
		}
	}
	return b.String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const d = "\xac"

// The byte-level examples of spec 3.12, with our capability list.
func TestServeGolden(t *testing.T) {
	dcat1b := writeFile(t, "dcat1b.txt", "2 empty lines:\n\n\nline without newline\n")
	nonl := writeFile(t, "nonl.txt", "a1\nb2\nno-nl")
	caps := ServeOptions{Capabilities: []string{"query-update-v1", "journal-v1"}}
	cases := []struct {
		name string
		opts ServeOptions
		cmds []string
		want string
	}{
		{"cat non-plain", caps, []string{"cat: " + dcat1b + " regex:noop "},
			".syn capabilities query-update-v1 journal-v1" + d + ".output wake\n" + d +
				"REMOTE|integrationtest|100|1|dcat1b.txt|2 empty lines:\n" + d +
				"REMOTE|integrationtest|100|2|dcat1b.txt|\n" + d +
				"REMOTE|integrationtest|100|3|dcat1b.txt|\n" + d +
				"REMOTE|integrationtest|100|4|dcat1b.txt|line without newline\n" + d +
				".syn close connection" + d},
		{"cat plain", caps, []string{"cat:plain=true " + nonl + " regex:noop "},
			".syn capabilities query-update-v1 journal-v1" + d + ".output wake\n" + d + "a1\n" + d + "b2\n" + d + "no-nl" + d + ".syn close connection" + d},
		{"grep with context", caps, []string{"grep:before=1 " + nonl + " regex:default,literal b2"},
			".syn capabilities query-update-v1 journal-v1" + d + ".output wake\n" + d +
				"REMOTE|integrationtest|100|1|nonl.txt|a1\n" + d + "REMOTE|integrationtest|100|2|nonl.txt|b2\n" + d + ".syn close connection" + d},
		{"health", ServeOptions{Health: true}, []string{"health"},
			"SERVER|integrationtest|OK" + d + ".syn close connection" + d},
		{"unknown verb", caps, []string{"foo: bar"},
			".syn capabilities query-update-v1 journal-v1" + d +
				"SERVER|integrationtest|ERROR|1124-012313|specuser@127.0.0.1:59976|Received unknown user command|foo|2|[foo: bar]\n" + d +
				".syn close connection" + d},
		{"authkey invalid then unknown", caps, []string{"AUTHKEY notbase64!", "foo: bar"},
			".syn capabilities query-update-v1 journal-v1" + d +
				"SERVER|integrationtest|AUTHKEY ERR feature disabled\n" + d +
				"SERVER|integrationtest|ERROR|1124-012313|specuser@127.0.0.1:59976|Received unknown user command|foo|2|[foo: bar]\n" + d +
				".syn close connection" + d},
		{"version mismatch keeps the session", caps, []string{"RAW:protocol 3 base64 Zm9v;", "foo: bar"},
			".syn capabilities query-update-v1 journal-v1" + d +
				"SERVER|integrationtest|ERROR|1124-012313|specuser@127.0.0.1:59976|the DTail server protocol version '4.1' does not match client protocol version '3', please update DTail client\n" + d +
				"SERVER|integrationtest|ERROR|1124-012313|specuser@127.0.0.1:59976|Received unknown user command|foo|2|[foo: bar]\n" + d +
				".syn close connection" + d},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := exchange(t, tc.opts, Config{}, tc.cmds...)
			if got != tc.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestServeMissingFileWarnsAndCloses(t *testing.T) {
	lg := &fixedLogger{}
	got := exchange(t, ServeOptions{}, Config{Logger: lg}, "cat:plain=true /nonexistent/x.log regex:noop ")
	want := ".syn capabilities" + d + ".output wake\n" + d +
		"WARN|1124-012313|specuser@127.0.0.1:59976|Unable to read file(s), check server logs\n" + d + ".syn close connection" + d
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if !lg.contains("/nonexistent/x.log") {
		t.Fatal("the server log must name the file")
	}
}

func TestServeAuthKeyReply(t *testing.T) {
	opts := ServeOptions{AuthKey: func(b64 string) string {
		if b64 == "notbase64!" {
			return protocol.AuthKeyErrInvalidBase64
		}
		return protocol.AuthKeyOK
	}}
	got := exchange(t, opts, Config{}, "AUTHKEY notbase64!", "AUTHKEY AAAA", "foo: x")
	for _, w := range []string{"SERVER|integrationtest|AUTHKEY ERR invalid base64\n" + d, "SERVER|integrationtest|AUTHKEY OK\n" + d} {
		if !strings.Contains(got, w) {
			t.Fatalf("missing %q in %q", w, got)
		}
	}
}

func TestServeOversizedFrameEndsSession(t *testing.T) {
	big := "RAW:" + strings.Repeat("A", 2048)
	got := exchange(t, ServeOptions{MaxFrameSize: 1024}, Config{}, big)
	if strings.Contains(got, "close connection") {
		t.Fatalf("an oversized frame must end the session without a handshake: %q", got)
	}
}

func TestServeClientGoneDuringTail(t *testing.T) {
	path := writeFile(t, "t.log", "x\n")
	cr, cw := io.Pipe()
	s := New(Config{Host: "h", Logger: &fixedLogger{}}, io.Discard)
	done := make(chan struct{})
	go func() {
		s.Serve(context.Background(), cr, ServeOptions{})
		close(done)
	}()
	cw.Write(protocol.EncodeFrame("tail: " + path + " regex:noop "))
	time.Sleep(50 * time.Millisecond)
	cw.Close() // the client disconnects
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the client went away")
	}
}

// blockingWriter never completes a write: a client that stopped reading.
type blockingWriter struct{ release chan struct{} }

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	return 0, io.ErrClosedPipe
}

func TestStalledClientEndsSession(t *testing.T) {
	path := writeFile(t, "big.log", strings.Repeat("some log line\n", 100000))
	bw := &blockingWriter{release: make(chan struct{})}
	stalled := make(chan struct{})
	cr, cw := io.Pipe()
	s := New(Config{Host: "h", Logger: &fixedLogger{}, StallTimeout: 200 * time.Millisecond,
		OnStall: func() { close(stalled); close(bw.release); cw.Close() }}, bw)
	done := make(chan struct{})
	go func() { s.Serve(context.Background(), cr, ServeOptions{}); close(done) }()
	cw.Write(protocol.EncodeFrame("cat: " + path + " regex:noop "))
	select {
	case <-stalled:
	case <-time.After(5 * time.Second):
		t.Fatal("the watchdog did not fire")
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the session did not end after the stall")
	}
}

func TestServeMapreduce(t *testing.T) {
	var lines strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&lines, "INFO|1002-0719%02d|1|stats.go:56|8|%d|6|1.5|1h|MAPREDUCE:STATS|currentConnections=%d|lifetimeConnections=%d\n", i, 10+i%3, i%5, 100+i)
	}
	lines.WriteString("INFO|1002-071959|1|x.go:1|8|1|1|1|1h|MAPREDUCE:OTHER|currentConnections=1|lifetimeConnections=1\n")
	path := writeFile(t, "mapr.log", lines.String())
	got := exchange(t, ServeOptions{}, Config{FullHost: "integrationtest", MapreduceLogFormat: "default"},
		"map: from STATS select count($line),avg($goroutines),last($time),min(lifetimeConnections),len($time) group by $hostname",
		`cat: `+path+` regex:default \|MAPREDUCE:STATS\|`)
	want := ".syn capabilities" + d + ".output wake\n" + d +
		"AGGREGATE|integrationtest|integrationtest∥30∥count($line)≔30∥avg($goroutines)≔330∥min(lifetimeConnections)≔100∥len($time)≔11∥last($time)≔1002-071929∥len($time)≔1002-071929∥" + d +
		".syn close connection" + d
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

func TestServeMapreduceBadQuery(t *testing.T) {
	got := exchange(t, ServeOptions{}, Config{}, "map: select from where")
	if !strings.Contains(got, "SERVER|integrationtest|") || !strings.Contains(got, "Invalid query") || !strings.HasSuffix(got, ".syn close connection"+d) {
		t.Fatalf("got %q", got)
	}
}

func TestServeReceipt(t *testing.T) {
	path := writeFile(t, "r.log", "a1\nb2\nc3\n")
	cr, cw := io.Pipe()
	var out bytes.Buffer
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		out.Write(p)
		if bytes.Contains(p, []byte(protocol.SynCloseConnection)) {
			go cw.Write([]byte(protocol.AckCloseConnectionFrame))
		}
		return len(p), nil
	})
	s := New(Config{Host: "h", Logger: &fixedLogger{}}, w)
	go func() {
		cw.Write(protocol.EncodeFrame("cat: " + path + " regex:noop "))
		cw.Write(protocol.EncodeFrame("cat: /nonexistent/x regex:noop "))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.Serve(ctx, cr, ServeOptions{})
	mu.Lock()
	got := out.String()
	mu.Unlock()
	want := protocol.ReceiptPrefix + `{"files_read":1,"files_unreadable":1,"bytes":9,"lines":3,"rotated":0,"truncated":0,"lines_dropped":0}` + d + ".syn close connection" + d
	if !strings.HasSuffix(got, want) {
		t.Fatalf("got %q\nwant suffix %q", got, want)
	}
}

func TestServeCount(t *testing.T) {
	path := writeFile(t, "c.log", "ERROR a\nok\nERROR b\nERROR c\n")
	got := exchange(t, ServeOptions{}, Config{}, "grep:count=true "+path+" regex:default,literal ERROR",
		"grep:fwm=true "+path+" regex:default,literal ERROR")
	for _, w := range []string{protocol.CountPrefix + "3 c.log" + d, protocol.CountPrefix + "1 c.log" + d} {
		if !strings.Contains(got, w) {
			t.Fatalf("missing %q in %q", w, got)
		}
	}
	if strings.Contains(got, "REMOTE|") {
		t.Fatalf("counting must not send lines: %q", got)
	}
}

// Allow vets every command before it runs: a refused read never opens
// its file, and the session goes on with the next command.
func TestServeAllowRefuses(t *testing.T) {
	var opened []string
	cfg := Config{Open: func(path string) (*os.File, error) {
		opened = append(opened, path)
		return nil, os.ErrNotExist
	}}
	opts := ServeOptions{Allow: func(c protocol.Command) error {
		if c.Verb == protocol.VerbCat {
			return errors.New("not for you")
		}
		return nil
	}, AuthKey: func(string) string { return protocol.AuthKeyOK }}
	got := exchange(t, opts, cfg, "cat /etc/shadow x", "AUTHKEY AAAA")
	if !strings.Contains(got, "Command refused|not for you") || !strings.Contains(got, "AUTHKEY OK") {
		t.Fatalf("got %q", got)
	}
	if len(opened) != 0 {
		t.Fatalf("a refused command opened %v", opened)
	}
}

func TestWindowFromOptions(t *testing.T) {
	if WindowFromOptions(map[string]string{"count": "true"}) != nil {
		t.Fatal("window without options")
	}
	got := WindowFromOptions(map[string]string{protocol.OptSince: "1700000000", protocol.OptUntil: "x"})
	if got == nil || got.Since != 1700000000 || got.HasUntil() {
		t.Fatalf("%v", got)
	}
}
