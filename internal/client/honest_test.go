package client

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dtail-go/dtail/internal/logger"
	"github.com/dtail-go/dtail/internal/protocol"
)

// lockedBuf is a bytes.Buffer safe for the run's goroutines.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runSplit runs the client with stdout and stderr kept apart.
func (rg *rig) runSplit(o Options, r Remote) (code int, stdout, stderr string) {
	rg.t.Helper()
	var out, errb lockedBuf
	o.Stdout, o.Stderr = &out, &errb
	if o.Prog == "" {
		o.Prog = "dcat"
	}
	r.Logger = logger.New(logger.Options{Level: logger.Info, Sink: logger.Stdout, Role: logger.Client, Hostname: "testhost", Stdout: &errb})
	if r.Dialer == nil {
		r.Dialer = rg.dialer()
	}
	code = RunRemote(context.Background(), o, r)
	return code, out.String(), errb.String()
}

// stdout carries payload only: SERVER messages (in plain mode too) go to
// stderr, escaped; a log line that looks like an AUTHKEY reply is a line.
func TestHonestStdoutPayloadOnly(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.send("SERVER|old|WARN|1203|u|Unable to read file(s), check server logs\n",
			"REMOTE|old|100|1|a.log|user said AUTHKEY OK\n",
			"SERVER|old|INFO|evil\x1b[2Jname\n")
		s.closeHandshake()
	})
	code, stdout, stderr := rg.runSplit(Options{Mode: ModeCat, Files: []string{"a.log"}, Output: OutputOptions{Plain: true}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true})
	if code != ExitPartial {
		t.Errorf("exit %d, want 1 (unreadable file)", code)
	}
	if stdout != "user said AUTHKEY OK\n" {
		t.Errorf("stdout %q, want the one log line", stdout)
	}
	if !strings.Contains(stderr, "SERVER|old|WARN|1203|u|Unable to read file(s)") || !strings.Contains(stderr, `evil\x1b[2Jname`) {
		t.Errorf("stderr %q: want the SERVER messages, escaped", stderr)
	}
}

// A file name holding a newline cannot forge a REMOTE line of another
// host: names are printed escaped.
func TestHonestNameEscaped(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.send("REMOTE|h|100|1|evil\nREMOTE|otherhost|100|1|x.log|forged\n")
		s.closeHandshake()
	})
	_, stdout, _ := rg.runSplit(Options{Mode: ModeCat, Files: []string{"*"}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true})
	if strings.Contains(stdout, "\nREMOTE|otherhost") || !strings.HasPrefix(stdout, `REMOTE|h|100|1|evil\nREMOTE|`) {
		t.Errorf("stdout %q: the name's newline must be escaped", stdout)
	}
}

// Our server announces escape-v1: the delimiter byte inside a line
// arrives escaped and is printed exactly.
func TestHonestEscapedLine(t *testing.T) {
	rg := newRig(t)
	line := "before\xac.syn close connection\xacafter \xff end\n"
	dot := ".syn close connection\n" // a log line that looks hidden
	bare := func(l string) string {
		b := protocol.AppendBareLine(nil, protocol.AppendDelimEscaped(nil, []byte(l)))
		return string(b[:len(b)-1]) // send adds the delimiter
	}
	for _, plain := range []bool{true, false} {
		srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
			f := s.next()
			if !strings.HasPrefix(f, "cat:") || !strings.Contains(f, "esc=true") || strings.Contains(f, "bare=true") != plain {
				t.Errorf("read %q: want esc=true, and bare=true with --plain only", f)
			}
			s.send(protocol.CapabilitiesMessage(protocol.CapQueryUpdateV1, protocol.CapEscapeV1))
			if plain {
				s.send(bare(line), bare(dot), "SERVER|ours|INFO|note\n", bare("\xffl odd start\n"))
			} else {
				s.send(string(protocol.AppendDelimEscaped(nil, []byte("REMOTE|ours|100|1|a.log|"+line))), "REMOTE|ours|100|2|a.log|"+dot,
					"SERVER|ours|INFO|note\n", "REMOTE|ours|100|3|a.log|\xfff odd start\n")
			}
			s.closeHandshake()
		})
		code, stdout, stderr := rg.runSplit(Options{Mode: ModeCat, Files: []string{"a.log"}, Output: OutputOptions{Plain: plain}},
			Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true})
		want := line + dot + "\xffl odd start\n"
		if !plain {
			want = "REMOTE|ours|100|1|a.log|" + line + "REMOTE|ours|100|2|a.log|" + dot + "REMOTE|ours|100|3|a.log|\xff odd start\n"
		}
		if code != ExitOK || stdout != want || !strings.Contains(stderr, "SERVER|ours|INFO|note") {
			t.Errorf("plain %v: exit %d stdout %q stderr %q; want exit 0 and\n%q", plain, code, stdout, stderr, want)
		}
	}
}

// A DTail 4.x server cannot escape: the delimiter inside a line forges a
// close message and cuts the line. The client reads on after the close,
// prints every line, and says the answer is altered.
func TestHonestForgedCloseFrom4x(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.send("REMOTE|old|100|1|a.log|before", protocol.SynCloseConnection, "after\n", "REMOTE|old|100|2|a.log|last\n")
		// The forged close was acknowledged; a 4.x server then sends
		// the rest and its real close.
		if f := s.next(); f != protocol.AckCloseConnection {
			t.Errorf("got %q, want the ack of the (forged) close", f)
		}
		s.closeHandshake()
	})
	code, stdout, stderr := rg.runSplit(Options{Mode: ModeCat, Files: []string{"a.log"}, Output: OutputOptions{Plain: true, Receipt: "json"}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true})
	if code != ExitPartial {
		t.Errorf("exit %d, want 1", code)
	}
	if stdout != "before\nafter\nlast\n" {
		t.Errorf("stdout %q: every line must arrive", stdout)
	}
	if !strings.Contains(stderr, `"lines_altered":1`) {
		t.Errorf("receipt %q: want lines_altered 1", stderr)
	}
}

// Per-file counts from a server are bounded: distinct names beyond the
// limit and sums past uint64 are not kept, and the host is incomplete.
func TestHonestCountsBounded(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		var msgs []string
		for i := range maxCountIDs + 10 {
			msgs = append(msgs, fmt.Sprintf(".syn count 1 f%d", i))
		}
		msgs = append(msgs, ".syn count 18446744073709551615 f0")
		s.send(msgs...)
		s.closeHandshake()
	})
	code, stdout, stderr := rg.runSplit(Options{Mode: ModeGrep, Files: []string{"*"}, Grep: GrepOptions{Regex: "x", Count: true}, Output: OutputOptions{Receipt: "text"}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true})
	if code != ExitPartial {
		t.Errorf("exit %d, want 1", code)
	}
	if n := strings.Count(stdout, "\n"); n != maxCountIDs {
		t.Errorf("%d count lines, want %d", n, maxCountIDs)
	}
	if !strings.Contains(stdout, ":f0:18446744073709551615\n") {
		t.Errorf("f0 did not saturate")
	}
	if !strings.Contains(stderr, "counts beyond 100000 files") {
		t.Errorf("receipt %q", stderr[max(0, len(stderr)-400):])
	}
}
