package session

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtail-go/dtail/internal/protocol"
)

// liveSession is a server session the test talks to frame by frame.
type liveSession struct {
	t    *testing.T
	cw   *io.PipeWriter
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func startLive(t *testing.T) *liveSession {
	t.Helper()
	cr, cw := io.Pipe()
	ls := &liveSession{t: t, cw: cw, done: make(chan struct{})}
	w := writerFunc(func(p []byte) (int, error) {
		ls.mu.Lock()
		defer ls.mu.Unlock()
		return ls.out.Write(p)
	})
	s := New(Config{Host: "integrationtest", Logger: &fixedLogger{}, LogPrefix: "specuser@127.0.0.1:59976"}, w)
	go func() {
		defer close(ls.done)
		s.Serve(context.Background(), cr, ServeOptions{Capabilities: []string{protocol.CapQueryUpdateV1}})
	}()
	t.Cleanup(func() { ls.close() })
	return ls
}

func (ls *liveSession) send(cmd string) {
	ls.t.Helper()
	if _, err := ls.cw.Write(protocol.EncodeFrame(cmd)); err != nil {
		ls.t.Fatal(err)
	}
}

func (ls *liveSession) output() string {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.out.String()
}

// waitFor waits until the output contains s and returns the output.
func (ls *liveSession) waitFor(s string) string {
	ls.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if out := ls.output(); strings.Contains(out, s) {
			return out
		}
		time.Sleep(5 * time.Millisecond)
	}
	ls.t.Fatalf("timed out waiting for %q in %q", s, ls.output())
	return ""
}

// close disconnects the client and returns everything the server sent.
func (ls *liveSession) close() string {
	ls.cw.Close()
	select {
	case <-ls.done:
	case <-time.After(5 * time.Second):
		ls.t.Fatal("Serve did not return after the client went away")
	}
	return ls.output()
}

func b64spec(t *testing.T, spec protocol.SessionSpec) string {
	t.Helper()
	cmd := protocol.SessionStartCommand(spec)
	return strings.TrimPrefix(cmd, "SESSION START ")
}

const caps1 = ".syn capabilities query-update-v1" + d

func TestInteractiveStartGolden(t *testing.T) {
	path := writeFile(t, "nonl.txt", "a1\nb2\nno-nl")
	ls := startLive(t)
	ls.send(protocol.SessionStartCommand(protocol.SessionSpec{Mode: protocol.ModeGrep, Files: []string{path}, Options: "plain=true", Regex: "b2|no"}))
	ls.waitFor("no-nl")
	// A finished read must not start the close handshake while the
	// session is active.
	time.Sleep(300 * time.Millisecond)
	got := ls.close()
	want := caps1 + ".syn session start ok 1" + d + ".output wake\n" + d + "b2\n" + d + "no-nl" + d
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

func TestInteractiveStartNonPlainCat(t *testing.T) {
	path := writeFile(t, "c.txt", "x y\n")
	ls := startLive(t)
	ls.send("session START " + b64spec(t, protocol.SessionSpec{Mode: protocol.ModeCat, Files: []string{path}}))
	ls.waitFor("x y")
	time.Sleep(200 * time.Millisecond)
	got := ls.close()
	want := caps1 + ".syn session start ok 1" + d + ".output wake\n" + d + "REMOTE|integrationtest|100|1|c.txt|x y\n" + d
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// After UPDATE the old generation's grep is gone: its late matches never
// arrive, the new one's do.
func TestInteractiveUpdateTail(t *testing.T) {
	path := writeFile(t, "app.log", "")
	ls := startLive(t)
	spec := protocol.SessionSpec{Mode: protocol.ModeTail, Files: []string{path}, Options: "plain=true", Regex: "ERROR"}
	ls.send(protocol.SessionStartCommand(spec))
	ls.waitFor(".syn session start ok 1")
	time.Sleep(200 * time.Millisecond) // the tail is following
	appendFile(t, path, "ERROR first\n")
	ls.waitFor("ERROR first")
	spec.Regex = "WARN"
	ls.send(protocol.SessionUpdateCommand(0, spec))
	ls.waitFor(".syn session update ok 2")
	time.Sleep(200 * time.Millisecond)
	appendFile(t, path, "ERROR late\nWARN live\n")
	ls.waitFor("WARN live")
	spec.Regex = "INFO"
	ls.send(protocol.SessionUpdateCommand(7, spec))
	ls.waitFor(".syn session update ok 7")
	time.Sleep(200 * time.Millisecond)
	appendFile(t, path, "WARN gone\nINFO new\n")
	ls.waitFor("INFO new")
	got := ls.close()
	want := caps1 + ".syn session start ok 1" + d + ".output wake\n" + d + "ERROR first\n" + d +
		".syn session update ok 2" + d + "WARN live\n" + d +
		".syn session update ok 7" + d + "INFO new\n" + d
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

// Output of the old generation that was already produced (queued batches)
// when the UPDATE came must not follow the acknowledgement.
func TestInteractiveUpdateDropsQueuedOldOutput(t *testing.T) {
	path := writeFile(t, "big.log", strings.Repeat("ERROR old line with some padding to fill batches\n", 200000))
	small := writeFile(t, "small.log", "WARN new\n")
	for i := 0; i < 5; i++ {
		ls := startLive(t)
		ls.send(protocol.SessionStartCommand(protocol.SessionSpec{Mode: protocol.ModeCat, Files: []string{path}, Options: "plain=true"}))
		ls.waitFor("ERROR old")
		ls.send(protocol.SessionUpdateCommand(2, protocol.SessionSpec{Mode: protocol.ModeCat, Files: []string{small}, Options: "plain=true"}))
		ls.waitFor("WARN new")
		time.Sleep(100 * time.Millisecond)
		got := ls.close()
		_, after, ok := strings.Cut(got, ".syn session update ok 2"+d)
		if !ok {
			t.Fatalf("no update ack")
		}
		if strings.Contains(after, "ERROR") {
			t.Fatalf("old generation output after the ack: %q…", after[:min(200, len(after))])
		}
		if after != "WARN new\n"+d {
			t.Fatalf("after the ack: %q", after)
		}
	}
}

// An UPDATE aborts the previous aggregate: its final flush is dropped and
// only the new query's AGGREGATE arrives.
func TestInteractiveUpdateMapreduce(t *testing.T) {
	path := writeFile(t, "m.log", "a=1\na=2\n")
	ls := startLive(t)
	ls.send(protocol.SessionStartCommand(protocol.SessionSpec{Mode: protocol.ModeTail, Files: []string{path},
		Query: "select max(a) group by a interval 60 logformat generickv"}))
	ls.waitFor(".syn session start ok 1")
	ls.send(protocol.SessionUpdateCommand(0, protocol.SessionSpec{Mode: protocol.ModeMap, Files: []string{path},
		Query: "select count($line) group by a logformat generickv"}))
	got := ls.waitFor("AGGREGATE")
	time.Sleep(200 * time.Millisecond)
	got = ls.close()
	if strings.Contains(got, "max(a)") || strings.Count(got, "count($line)≔1") != 2 {
		t.Fatalf("want exactly the new aggregate: %q", got)
	}
	if strings.Contains(got, "close connection") {
		t.Fatalf("an interactive session must not close: %q", got)
	}
}

func TestInteractiveErrors(t *testing.T) {
	enc := func(js string) string { return base64.StdEncoding.EncodeToString([]byte(js)) }
	spec := func(s protocol.SessionSpec) string {
		js, _ := json.Marshal(s)
		return enc(string(js))
	}
	valid := spec(protocol.SessionSpec{Mode: protocol.ModeCat, Files: []string{"/nonexistent"}})
	cases := []struct {
		name   string
		cmds   []string
		reason string
	}{
		{"too few args", []string{"SESSION START"}, protocol.SessionErrInvalidCommand},
		{"unknown action", []string{"SESSION STOP " + valid}, protocol.SessionErrUnknownAction},
		{"bad generation", []string{"SESSION UPDATE x1 " + valid}, protocol.SessionErrInvalidGeneration},
		{"bad base64", []string{"SESSION START %%%"}, protocol.SessionErrInvalidPayload},
		{"bad json", []string{"SESSION START " + enc("{mode:")}, protocol.SessionErrInvalidSpec},
		{"mode server", []string{"SESSION START " + spec(protocol.SessionSpec{Mode: protocol.ModeServer})}, protocol.SessionErrUnsupportedMode},
		{"mode unknown", []string{"SESSION START " + enc(`{"mode":9,"files":null}`)}, protocol.SessionErrUnsupportedMode},
		{"query in grep", []string{"SESSION START " + spec(protocol.SessionSpec{Mode: protocol.ModeGrep, Query: "select count($line)"})}, protocol.SessionErrQueryMode},
		{"map without query", []string{"SESSION START " + spec(protocol.SessionSpec{Mode: protocol.ModeMap})}, protocol.SessionErrMissingQuery},
		{"bad query", []string{"SESSION START " + spec(protocol.SessionSpec{Mode: protocol.ModeMap, Query: "select from where"})}, protocol.SessionErrInvalidSpec},
		{"bad options", []string{"SESSION START " + spec(protocol.SessionSpec{Mode: protocol.ModeCat, Options: "before=x"})}, protocol.SessionErrInvalidSpec},
		{"update before start", []string{"SESSION UPDATE 2 " + valid}, protocol.SessionErrNotStarted},
		{"start twice", []string{"SESSION START " + valid, "SESSION START " + valid}, protocol.SessionErrAlreadyStarted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ls := startLive(t)
			for _, c := range tc.cmds {
				ls.send(c)
			}
			want := ".syn session err " + tc.reason + d
			ls.waitFor(want)
			time.Sleep(100 * time.Millisecond)
			got := ls.close()
			if len(tc.cmds) == 1 && got != caps1+want {
				t.Fatalf("got %q want %q", got, caps1+want)
			}
			if strings.Contains(got, "close connection") {
				t.Fatalf("SESSION must not start the close handshake: %q", got)
			}
		})
	}
}
