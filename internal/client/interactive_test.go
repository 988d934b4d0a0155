package client

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dtail-go/dtail/internal/logger"
	"github.com/dtail-go/dtail/internal/protocol"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// interactiveRun runs an interactive client with a FIFO as control TTY.
type interactiveRun struct {
	t    *testing.T
	buf  *syncBuf
	ctl  *os.File
	code chan int
}

func startInteractiveRun(t *testing.T, rg *rig, o Options, servers ...string) *interactiveRun {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "ctl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ir := &interactiveRun{t: t, buf: &syncBuf{}, code: make(chan int, 1)}
	out := NewOutput(ir.buf)
	log := logger.New(logger.Options{Level: logger.Info, Sink: logger.Stdout, Role: logger.Client, Hostname: "testhost", Stdout: out})
	o.Stdout, o.Stderr, o.Output.Quiet = out, ir.buf, true
	if o.Prog == "" {
		o.Prog = "dtail"
	}
	go func() {
		ir.code <- RunRemote(context.Background(), o, Remote{Servers: rg.servers(servers...), Dialer: rg.dialer(), NoAuthKey: true,
			Logger: log, Interactive: true, ControlTTY: fifo, ShutdownAfter: 20 * time.Second})
		out.Close()
	}()
	ctl, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	ir.ctl = ctl
	t.Cleanup(func() { ctl.Close() })
	return ir
}

func (ir *interactiveRun) type_(line string) {
	ir.t.Helper()
	if _, err := ir.ctl.WriteString(line + "\n"); err != nil {
		ir.t.Fatal(err)
	}
}

func (ir *interactiveRun) waitFor(s string) {
	ir.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(ir.buf.String(), s) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	ir.t.Fatalf("timed out waiting for %q in\n%s", s, ir.buf.String())
}

func (ir *interactiveRun) quit() int {
	ir.t.Helper()
	ir.type_(":quit")
	select {
	case c := <-ir.code:
		return c
	case <-time.After(10 * time.Second):
		ir.t.Fatal("the client did not quit")
	}
	return -1
}

func sessionReq(t *testing.T, cmd string) protocol.SessionRequest {
	t.Helper()
	req, err := protocol.ParseSessionCommand(strings.Split(cmd, " "))
	if err != nil {
		t.Fatalf("%q: %v", cmd, err)
	}
	return req
}

func TestInteractiveReloadGrep(t *testing.T) {
	rg := newRig(t)
	got := make(chan []protocol.SessionRequest, 1)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.send(protocol.CapabilitiesMessage(protocol.CapQueryUpdateV1))
		var reqs []protocol.SessionRequest
		defer func() { got <- reqs }()
		start := s.next()
		if !strings.HasPrefix(start, "SESSION START ") {
			t.Errorf("first command %q", start)
			return
		}
		reqs = append(reqs, sessionReq(t, start))
		s.send(protocol.SessionStartOKMessage(1), "ERROR first")
		upd := s.next()
		if upd == "" {
			return
		}
		reqs = append(reqs, sessionReq(t, upd))
		s.send(protocol.SessionUpdateOKMessage(reqs[1].Generation), "WARN live")
		s.next() // until the client goes away
	})
	ir := startInteractiveRun(t, rg, Options{Mode: ModeTail, Files: []string{"/var/log/app.log"}, Grep: GrepOptions{Regex: "ERROR"}, Output: OutputOptions{Plain: true}}, srv.addr())
	ir.waitFor(InteractiveEnabledText)
	ir.waitFor("ERROR first")
	ir.type_(":reload --grep 'WARN'")
	ir.waitFor("reload applied successfully")
	ir.waitFor("WARN live")
	ir.type_(":show")
	ir.waitFor(`mode=tail files=/var/log/app.log query="" regex="WARN" options="plain=true:quiet=true" timeout=0 capable=1/1`)
	if code := ir.quit(); code != ExitOK {
		t.Errorf("exit %d", code)
	}
	reqs := <-got
	if len(reqs) != 2 {
		t.Fatalf("requests %+v", reqs)
	}
	want := protocol.SessionSpec{Mode: protocol.ModeTail, Files: []string{"/var/log/app.log"}, Options: "plain=true:quiet=true", Regex: "ERROR"}
	if !reflect.DeepEqual(reqs[0].Spec, want) {
		t.Errorf("start spec %+v want %+v", reqs[0].Spec, want)
	}
	want.Regex = "WARN"
	if reqs[1].Action != protocol.SessionUpdate || reqs[1].Generation != 2 || !reflect.DeepEqual(reqs[1].Spec, want) {
		t.Errorf("update %+v", reqs[1])
	}
	if !strings.Contains(ir.buf.String(), "quitting interactive session") {
		t.Error("no quit message")
	}
}

func TestInteractiveCommandErrors(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.send(protocol.CapabilitiesMessage(protocol.CapQueryUpdateV1))
		s.next()
		s.send(protocol.SessionStartOKMessage(1))
		for s.next() != "" {
		}
	})
	ir := startInteractiveRun(t, rg, Options{Mode: ModeCat, Prog: "dcat", Files: []string{"/a"}}, srv.addr())
	for _, c := range []struct{ in, want string }{
		{":help", InteractiveHelpText},
		{":x", `interactive query error: unknown command ":x"`},
		{":reload", "interactive query error: reload requires flags to change"},
		{":reload --grep x", "interactive query error: flag provided but not defined: -grep"},
		{":reload --plain extra", "interactive query error: unexpected arguments: extra"},
		{`:reload --files "/a`, "interactive query error: unterminated double quote"},
		{":show now", "interactive query error: unexpected arguments: now"},
	} {
		ir.type_(c.in)
		ir.waitFor(c.want)
	}
	ir.quit()
}

// Without query-update-v1 the client falls back to the legacy commands
// and refuses reloads.
func TestInteractiveFallbackLegacy(t *testing.T) {
	rg := newRig(t)
	cmds := make(chan string, 4)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.send(protocol.CapabilitiesMessage())
		cmds <- s.next()
		s.send("line")
		s.next()
	})
	ir := startInteractiveRun(t, rg, Options{Mode: ModeGrep, Prog: "dgrep", Files: []string{"/a"}, Grep: GrepOptions{Regex: "x"}}, srv.addr())
	ir.waitFor("line")
	ir.waitFor(bootstrapFallbackText)
	if c := <-cmds; c != "grep:quiet=true /a regex:default,literal x" {
		t.Errorf("legacy command %q", c)
	}
	ir.type_(":reload --grep y")
	ir.waitFor("reload failed: runtime query updates unsupported by server: " + srv.addr())
	ir.quit()
}

// A server rejecting the update makes the client restore the previous
// spec on the servers already updated.
func TestInteractiveReloadRollback(t *testing.T) {
	rg := newRig(t)
	type result struct{ reqs []protocol.SessionRequest }
	got := make(chan result, 2)
	var rejectAddr sync.Map
	script := func() func(s *fakeSession) {
		return func(s *fakeSession) {
			_, reject := rejectAddr.Load(s.fs.addr())
			var r result
			defer func() { got <- r }()
			s.send(protocol.CapabilitiesMessage(protocol.CapQueryUpdateV1))
			for {
				c := s.next()
				if c == "" {
					return
				}
				req := sessionReq(t, c)
				r.reqs = append(r.reqs, req)
				switch {
				case req.Action == protocol.SessionStart:
					s.send(protocol.SessionStartOKMessage(1))
				case reject:
					s.send(protocol.SessionErrMessage(protocol.SessionErrInvalidSpec))
				default:
					s.send(protocol.SessionUpdateOKMessage(req.Generation))
				}
			}
		}
	}
	a := startFakeServer(t, rg.signer.PublicKey(), script())
	b := startFakeServer(t, rg.signer.PublicKey(), script())
	// Connections are updated in name order: the second one rejects.
	first, second := a, b
	if a.addr() > b.addr() {
		first, second = b, a
	}
	rejectAddr.Store(second.addr(), true)
	ir := startInteractiveRun(t, rg, Options{Mode: ModeTail, Files: []string{"/a"}, Grep: GrepOptions{Regex: "E"}}, first.addr(), second.addr())
	time.Sleep(500 * time.Millisecond)
	ir.type_(":show")
	ir.waitFor("capable=2/2")
	ir.type_(":reload --regex W --max 3")
	ir.waitFor("reload failed: " + second.addr() + ": server rejected the update: invalid session spec")
	ir.type_(":show")
	ir.waitFor(`regex="E"`)
	ir.quit()
	ra, rb := <-got, <-got
	if len(ra.reqs) < len(rb.reqs) {
		ra, rb = rb, ra
	}
	if len(ra.reqs) != 3 || len(rb.reqs) != 2 {
		t.Fatalf("requests %+v / %+v", ra.reqs, rb.reqs)
	}
	if ra.reqs[1].Generation != 2 || ra.reqs[1].Spec.Regex != "W" || ra.reqs[1].Spec.Options != "max=3:quiet=true" {
		t.Errorf("update %+v", ra.reqs[1])
	}
	if ra.reqs[2].Generation != 3 || ra.reqs[2].Spec.Regex != "E" || ra.reqs[2].Spec.Options != "quiet=true" {
		t.Errorf("rollback %+v", ra.reqs[2])
	}
}

func TestInteractiveControlTTYFailure(t *testing.T) {
	rg := newRig(t)
	buf := &syncBuf{}
	out := NewOutput(buf)
	code := RunRemote(context.Background(), Options{Mode: ModeTail, Prog: "dtail", Files: []string{"/a"}, Stdout: out, Stderr: buf},
		Remote{Servers: rg.servers("127.0.0.1:1"), Dialer: rg.dialer(), Interactive: true, ControlTTY: "/nonexistent/tty", Logger: rg.log})
	out.Close()
	if code != 1 || !strings.Contains(buf.String(), "unable to open control tty") {
		t.Fatalf("exit %d, %q", code, buf.String())
	}
}

func TestShellSplit(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`--grep WARN`, []string{"--grep", "WARN"}},
		{`  --query "select count(status) from stats"  `, []string{"--query", "select count(status) from stats"}},
		{`--grep 'a "b" c'`, []string{"--grep", `a "b" c`}},
		{`--grep a\ b`, []string{"--grep", "a b"}},
		{`--grep "x\"y\\z\n"`, []string{"--grep", `x"y\z\n`}},
		{`--grep ''`, []string{"--grep", ""}},
		{`a"b"'c'`, []string{"abc"}},
	}
	for _, c := range cases {
		got, err := shellSplit(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %q %v, want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`"a`, `'a`, `a\`} {
		if _, err := shellSplit(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
