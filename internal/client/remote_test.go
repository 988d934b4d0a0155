package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/logger"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/sshclient"
	"golang.org/x/crypto/ssh"
)

// rig is one client side: a key, a trust-all known_hosts in a temp home
// and the shared output the way the CLI wires it.
type rig struct {
	t       *testing.T
	home    string
	keyPath string
	signer  ssh.Signer
	buf     lockedBuf // stdout (Output) and stderr share it from several goroutines
	out     *Output
	log     *logger.Logger
}

func newRig(t *testing.T) *rig {
	t.Helper()
	rg := &rig{t: t, home: t.TempDir()}
	rg.keyPath, rg.signer = writeClientKey(t, rg.home)
	rg.out = NewOutput(&rg.buf)
	rg.log = logger.New(logger.Options{Level: logger.Info, Sink: logger.Stdout, Role: logger.Client, Hostname: "testhost", Stdout: rg.out})
	return rg
}

func (rg *rig) dialer(signers ...ssh.Signer) *sshclient.Dialer {
	rg.t.Helper()
	if len(signers) == 0 {
		signers = []ssh.Signer{rg.signer}
	}
	kh, err := sshclient.NewKnownHosts(sshclient.KnownHostsOptions{Home: rg.home, TrustAll: true, In: strings.NewReader(""), Out: io.Discard})
	if err != nil {
		rg.t.Fatal(err)
	}
	d, err := sshclient.NewDialer(sshclient.DialerConfig{User: "tester", Signers: signers, KnownHosts: kh, ConnectTimeout: 2 * time.Second})
	if err != nil {
		rg.t.Fatal(err)
	}
	return d
}

func (rg *rig) servers(addrs ...string) []sshclient.Server {
	rg.t.Helper()
	var s []sshclient.Server
	for _, a := range addrs {
		srv, err := sshclient.ParseServer(a, 2222)
		if err != nil {
			rg.t.Fatal(err)
		}
		s = append(s, srv)
	}
	return s
}

// run runs the client and returns its exit code and everything printed.
func (rg *rig) run(ctx context.Context, o Options, r Remote) (int, string) {
	rg.t.Helper()
	o.Stdout, o.Stderr = rg.out, &rg.buf
	if o.Prog == "" {
		o.Prog = "dcat"
	}
	if r.Logger == nil {
		r.Logger = rg.log
	}
	if r.Dialer == nil {
		r.Dialer = rg.dialer()
	}
	code := RunRemote(ctx, o, r)
	rg.out.Close()
	return code, rg.buf.String()
}

func TestRemoteCatFramesAndPrinting(t *testing.T) {
	rg := newRig(t)
	acked := make(chan bool, 1)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		for range 2 {
			s.next()
		}
		s.send(protocol.CapabilitiesMessage(protocol.CapQueryUpdateV1), protocol.OutputWake)
		if f := s.next(); !strings.HasPrefix(f, "AUTHKEY ") {
			t.Errorf("after the capabilities the client sent %q, want AUTHKEY", f)
		}
		s.send("SERVER|fake|AUTHKEY OK\n",
			"REMOTE|fake|100|1|a.log|line one\n",
			"REMOTE|fake|100|2|a.log|no newline",
			"SERVER|fake|INFO|0101-000000|tester@127.0.0.1:1|hello\n",
			".something unknown")
		acked <- s.closeHandshake()
	})
	code, out := rg.run(context.Background(),
		Options{Mode: ModeCat, Files: []string{"/var/log/a.log", "/b"}, Grep: GrepOptions{Regex: "ignored"}},
		Remote{Servers: rg.servers(srv.addr()), AuthKeyPath: rg.keyPath})
	if !<-acked {
		t.Error("close not acknowledged")
	}
	if code != ExitOK {
		t.Errorf("exit %d, want 0; output:\n%s", code, out)
	}
	// The SERVER message goes to stderr (unbuffered, so first here),
	// the lines to stdout.
	want := "SERVER|fake|INFO|0101-000000|tester@127.0.0.1:1|hello\n" +
		"REMOTE|fake|100|1|a.log|line one\n" +
		"REMOTE|fake|100|2|a.log|no newline\n"
	if out != want {
		t.Errorf("output\n%q\nwant\n%q", out, want)
	}
	b64, err := sshclient.ReadAuthKeyPub(rg.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	wantRaw := string(protocol.EncodeFrame("cat:esc=true /var/log/a.log regex:noop ")) +
		string(protocol.EncodeFrame("cat:esc=true /b regex:noop ")) +
		string(protocol.EncodeFrame("AUTHKEY "+b64)) +
		protocol.AckCloseConnectionFrame
	if got := srv.received(0); got != wantRaw {
		t.Errorf("client sent\n%q\nwant\n%q", got, wantRaw)
	}
}

func TestRemoteGrepPlainOptionsNoAuthKey(t *testing.T) {
	rg := newRig(t)
	cmds := make(chan string, 4)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		cmds <- s.next()
		s.send(protocol.CapabilitiesMessage(protocol.CapQueryUpdateV1), "REMOTE|fake|100|1|nonl.txt|a1\n", "REMOTE|fake|100|2|nonl.txt|b2", "REMOTE|fake|100|3|nonl.txt|")
		s.closeHandshake()
	})
	code, out := rg.run(context.Background(),
		Options{Mode: ModeGrep, Files: []string{"/tmp/nonl.txt"}, Grep: GrepOptions{Regex: "b2|a1", Before: 1, Max: 3}, Output: OutputOptions{Plain: true, Quiet: true}},
		Remote{Servers: rg.servers(srv.addr()), AuthKeyPath: rg.keyPath, NoAuthKey: true})
	if code != ExitOK {
		t.Errorf("exit %d", code)
	}
	// --plain is applied by the client: servers always send REMOTE
	// headers, so that their warnings cannot pass for lines. With
	// context no bare lines either: grep's `--` separators come from the
	// headers' line numbers.
	if got, want := <-cmds, "grep:before=1:esc=true:max=3:quiet=true /tmp/nonl.txt regex:default b2|a1"; got != want {
		t.Errorf("command %q, want %q", got, want)
	}
	// An empty message prints as an empty line, as the reference does.
	if want := "a1\nb2\n\n"; out != want {
		t.Errorf("output %q, want %q", out, want)
	}
}

func TestRemoteUnreadablePubKeyIsSkipped(t *testing.T) {
	rg := newRig(t)
	cmds := make(chan string, 4)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		cmds <- s.next()
		s.closeHandshake()
	})
	os.Remove(rg.keyPath + ".pub")
	code, _ := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"x"}},
		Remote{Servers: rg.servers(srv.addr()), AuthKeyPath: rg.keyPath})
	if code != ExitOK {
		t.Errorf("exit %d", code)
	}
	if got := <-cmds; got != "cat:esc=true x regex:noop " {
		t.Errorf("first command %q", got)
	}
}

func TestRemoteColors(t *testing.T) {
	rg := newRig(t)
	lines := []string{"REMOTE|fake|100|1|a.log|INFO hello\n", "SERVER|fake|WARN|x|Unable to read file(s), check server logs\n", "other"}
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.send(lines...)
		s.closeHandshake()
	})
	scheme := color.DefaultScheme()
	code, out := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"a.log"}, Output: OutputOptions{Colors: &scheme}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true})
	if code != ExitPartial {
		t.Errorf("exit %d, want 1 for the unreadable file warning", code)
	}
	// The SERVER message goes to stderr, uncoloured (first: stdout is
	// buffered); "other" is the rest of a line cut at the delimiter.
	want := []byte(lines[1])
	want = scheme.AppendLine(want, []byte(lines[0]))
	want = append(want, "other\n"...)
	if out != string(want) {
		t.Errorf("output\n%q\nwant\n%q", out, want)
	}
	if !strings.Contains(out, "\x1b[") {
		t.Error("no colours")
	}
}

func TestRemoteUnreadableFilePlain(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.send("WARN|1124-012805|tester@127.0.0.1:46242|Unable to read file(s), check server logs\n")
		s.closeHandshake()
	})
	code, out := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"nope"}, Output: OutputOptions{Plain: true}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true})
	if code != ExitPartial {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "Unable to read file(s)") {
		t.Errorf("warning not shown: %q", out)
	}
}

func TestUnreadableWarning(t *testing.T) {
	for msg, want := range map[string]bool{
		"WARN|1124-012805|u@h:1|Unable to read file(s), check server logs\n":             true,
		"SERVER|host|WARN|1124-012805|u@h:1|Unable to read file(s), check server logs\n": true,
		"SERVER|host|INFO|1124-012805|u@h:1|Unable to read file(s)\n":                    false,
		"REMOTE|host|100|1|x|WARN|Unable to read file(s)\n":                              false,
		"some line\n": false,
	} {
		if got := unreadableWarning([]byte(msg)); got != want {
			t.Errorf("%q: %v, want %v", msg, got, want)
		}
	}
}

func TestRemoteAuthKeyErrWarns(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.send(protocol.CapabilitiesMessage(protocol.CapQueryUpdateV1))
		s.next()
		s.send("SERVER|fake|AUTHKEY ERR feature disabled\n", "REMOTE|fake|100|1|x|ok\n")
		s.closeHandshake()
	})
	code, out := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"x"}},
		Remote{Servers: rg.servers(srv.addr()), AuthKeyPath: rg.keyPath})
	if code != ExitOK {
		t.Errorf("exit %d", code)
	}
	want := "CLIENT|testhost|WARN|" + srv.addr() + "|AUTHKEY registration failed|feature disabled\nREMOTE|fake|100|1|x|ok\n"
	if out != want {
		t.Errorf("output\n%q\nwant\n%q", out, want)
	}
}

func TestRemoteUnreachableAndHealthyServer(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.send("REMOTE|fake|100|1|x|ok\n")
		s.closeHandshake()
	})
	dead := fmt.Sprintf("127.0.0.1:%d", closedPort(t))
	code, out := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"x"}},
		Remote{Servers: rg.servers(dead, srv.addr()), NoAuthKey: true})
	if code != ExitPartial {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "REMOTE|fake|100|1|x|ok\n") {
		t.Errorf("healthy server's output missing: %q", out)
	}
	prefix := "CLIENT|testhost|WARN|" + dead + "|failed to dial TCP connection to " + dead + ": "
	if n := strings.Count(out, prefix); n != 1 {
		t.Errorf("%d dial warnings with prefix %q in %q", n, prefix, out)
	}
}

func TestRemoteOnlyUnreachable(t *testing.T) {
	rg := newRig(t)
	code, _ := rg.run(context.Background(), Options{Mode: ModeGrep, Files: []string{"x"}, Grep: GrepOptions{Regex: "x"}},
		Remote{Servers: rg.servers(fmt.Sprintf("127.0.0.1:%d", closedPort(t))), NoAuthKey: true})
	if code != ExitPartial {
		t.Errorf("exit %d, want 1", code)
	}
}

func TestRemoteWrongKeyReportedOnce(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, nil, func(s *fakeSession) {}) // accepts no key
	code, out := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"x"}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true})
	if code != ExitPartial {
		t.Errorf("exit %d, want 1", code)
	}
	if n := strings.Count(out, "\n"); n != 1 || !strings.Contains(out, "|WARN|"+srv.addr()+"|SSH handshake failed for "+srv.addr()) {
		t.Errorf("want one handshake warning naming the host, got %q", out)
	}
}

func TestRemoteChangedHostKey(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) { s.next(); s.closeHandshake() })
	// known_hosts has another key for the server's address.
	other := newHostSigner(t)
	line := fmt.Sprintf("[127.0.0.1]:%d %s", srv.port(), ssh.MarshalAuthorizedKey(other.PublicKey()))
	os.MkdirAll(filepath.Join(rg.home, ".ssh"), 0o700)
	if err := os.WriteFile(filepath.Join(rg.home, ".ssh", "known_hosts"), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"x"}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true})
	if code != ExitPartial {
		t.Errorf("exit %d, want 1", code)
	}
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, srv.addr()) || !strings.Contains(out, "CHANGED") {
		t.Errorf("want one line about the changed key, got %q", out)
	}
	if srv.connections() != 0 {
		t.Error("session opened despite the changed host key")
	}
}

func TestRemoteEndedWithoutHandshake(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.send("REMOTE|fake|100|1|x|partial\n")
	})
	code, out := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"x"}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true})
	if code != ExitPartial {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "REMOTE|fake|100|1|x|partial\n") || !strings.Contains(out, "|WARN|"+srv.addr()+"|connection ended before the server finished") {
		t.Errorf("output %q", out)
	}
}

// Many servers sending many long lines at once: every printed line must be
// one whole message.
func TestRemoteManyServersNoSplitMessages(t *testing.T) {
	rg := newRig(t)
	const servers, lines = 4, 2000
	var addrs []string
	for i := range servers {
		srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
			s.next()
			var b []byte
			for n := range lines {
				msg := fmt.Sprintf("REMOTE|srv%d|100|%d|x|%s\n", i, n+1, strings.Repeat(string(rune('a'+i)), 300+n%700))
				b = protocol.AppendMessage(b, []byte(msg))
				if len(b) > 32<<10 {
					s.ch.Write(b)
					b = b[:0]
				}
			}
			s.ch.Write(b)
			s.closeHandshake()
		})
		addrs = append(addrs, srv.addr())
	}
	code, out := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"x"}, Output: OutputOptions{Quiet: true}},
		Remote{Servers: rg.servers(addrs...), NoAuthKey: true})
	if code != ExitOK {
		t.Errorf("exit %d", code)
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(got) != servers*lines {
		t.Fatalf("%d lines, want %d", len(got), servers*lines)
	}
	next := make([]int, servers)
	for _, l := range got {
		var i, n int
		var content string
		if _, err := fmt.Sscanf(l, "REMOTE|srv%d|100|%d|x|%s", &i, &n, &content); err != nil {
			t.Fatalf("bad line %q: %v", l, err)
		}
		if want := strings.Repeat(string(rune('a'+i)), 300+(n-1)%700); content != want || n != next[i]+1 {
			t.Fatalf("server %d line %d corrupted or out of order", i, n)
		}
		next[i] = n
	}
}

func TestRemoteTailReconnectsUntilDeadline(t *testing.T) {
	rg := newRig(t)
	cmds := make(chan string, 10)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		cmds <- s.next()
		s.send("REMOTE|fake|100|1|x|tail line")
		// The connection drops after each line.
	})
	start := time.Now()
	code, out := rg.run(context.Background(),
		Options{Mode: ModeTail, Files: []string{"/var/log/x"}, Timeout: 700 * time.Millisecond, Grep: GrepOptions{Regex: "ERROR", Invert: true}, Output: OutputOptions{Quiet: true}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true, ReconnectDelay: func(int) time.Duration { return 50 * time.Millisecond }})
	if code != ExitOK {
		t.Errorf("exit %d; %q", code, out)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("run took %v", d)
	}
	if n := srv.connections(); n < 2 {
		t.Errorf("%d connections, want reconnects", n)
	}
	if got := <-cmds; got != "tail:esc=true:quiet=true /var/log/x regex:invert,literal ERROR" {
		t.Errorf("command %q", got)
	}
	if !strings.Contains(out, "REMOTE|fake|100|1|x|tail line\n") {
		t.Errorf("output %q", out)
	}
}

func TestRemoteTailUnreachableBacksOff(t *testing.T) {
	rg := newRig(t)
	var attempts []int
	// The run ends after the third back-off, however long the dials take
	// on a loaded machine (a 500 ms deadline saw fewer than three there);
	// the deadline only bounds a client that never backs off.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code, out := rg.run(ctx,
		Options{Mode: ModeTail, Files: []string{"x"}, Timeout: 60 * time.Second},
		Remote{Servers: rg.servers(fmt.Sprintf("127.0.0.1:%d", closedPort(t))), NoAuthKey: true,
			ReconnectDelay: func(a int) time.Duration {
				attempts = append(attempts, a)
				if a == 3 {
					cancel()
				}
				return 20 * time.Millisecond
			}})
	if code != ExitPartial {
		t.Errorf("exit %d, want 1", code)
	}
	if len(attempts) < 3 || attempts[2] != 3 {
		t.Errorf("attempts %v, want a growing count", attempts)
	}
	// The same error is reported once, not on every retry.
	if n := strings.Count(out, "failed to dial TCP connection"); n != 1 {
		t.Errorf("%d dial warnings: %q", n, out)
	}
}

func TestRemoteSignals(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.send("REMOTE|fake|100|1|x|first")
		s.next() // blocks until the client goes away
	})
	sigs := make(chan os.Signal, 3)
	go func() {
		time.Sleep(300 * time.Millisecond)
		sigs <- syscall.SIGINT
		time.Sleep(200 * time.Millisecond)
		sigs <- syscall.SIGINT
	}()
	start := time.Now()
	code, out := rg.run(context.Background(), Options{Mode: ModeTail, Files: []string{"x"}, Output: OutputOptions{Quiet: true}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true, Signals: sigs})
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("second Ctrl+C took %v to end the run", d)
	}
	if code != ExitInterrupted {
		t.Errorf("exit %d, want %d after Ctrl+C", code, ExitInterrupted)
	}
	if !strings.Contains(out, " Hint: Hit Ctrl+C again to exit\n Connection stats: connected=1|servers=1|") {
		t.Errorf("no hint in %q", out)
	}
}

func TestRemoteSIGTERMEndsCat(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.next()
	})
	sigs := make(chan os.Signal, 1)
	sigs <- syscall.SIGTERM
	code, _ := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"x"}, Output: OutputOptions{Receipt: "text"}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true, Signals: sigs})
	// The read had not finished: the run is incomplete, not a success
	// (128+15, as a shell reports a process SIGTERM ended).
	if code != 143 {
		t.Errorf("exit %d, want 143", code)
	}
	if r := rg.buf.String(); !strings.Contains(r, "receipt: INCOMPLETE") || !strings.Contains(r, "interrupted (SIGTERM)") || strings.Contains(r, "sent no receipt") {
		t.Errorf("receipt %q", r)
	}
}

func TestRemoteStatsLine(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.next()
	})
	_, out := rg.run(context.Background(), Options{Mode: ModeTail, Files: []string{"x"}, Timeout: 600 * time.Millisecond},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true, StatsInterval: 100 * time.Millisecond})
	if n := strings.Count(out, "CLIENT|testhost|INFO|STATS:STATS|connected=1|servers=1|connected%=100|new=1|"); n != 1 {
		t.Errorf("want exactly one stats line (count changed once), got %d in %q", n, out)
	}
}

func TestRemoteQuietNoStats(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) { s.next(); s.next() })
	_, out := rg.run(context.Background(), Options{Mode: ModeTail, Files: []string{"x"}, Timeout: 400 * time.Millisecond, Output: OutputOptions{Quiet: true}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true, StatsInterval: 50 * time.Millisecond})
	if strings.Contains(out, "STATS") {
		t.Errorf("stats with quiet: %q", out)
	}
}

func TestRemoteLoggerSinkFileKeepsPayloadOffStdout(t *testing.T) {
	rg := newRig(t)
	dir := t.TempDir()
	log := logger.New(logger.Options{Level: logger.Info, Sink: logger.File, LogDir: dir, Role: logger.Client, Hostname: "testhost", Stdout: rg.out})
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.send("REMOTE|fake|100|1|x|payload")
		s.closeHandshake()
	})
	code, out := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"x"}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true, Logger: log})
	log.Close()
	if code != ExitOK || out != "" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(files) != 1 {
		t.Fatalf("log files %v", files)
	}
	data, _ := os.ReadFile(files[0])
	if !strings.Contains(string(data), "REMOTE|fake|100|1|x|payload\n") {
		t.Errorf("payload not in log file: %q", data)
	}
}

func TestRemoteSetupErrors(t *testing.T) {
	rg := newRig(t)
	if code, _ := rg.run(context.Background(), Options{Mode: ModeCat}, Remote{Servers: rg.servers("127.0.0.1:1")}); code != ExitFatal {
		t.Errorf("no files: exit %d", code)
	}
	if code, _ := rg.run(context.Background(), Options{Mode: ModeMap, Files: []string{"x"}}, Remote{Servers: rg.servers("127.0.0.1:1")}); code != ExitFatal {
		t.Errorf("map: exit %d", code)
	}
}

func TestOutputHoldBlocksWrites(t *testing.T) {
	var buf bytes.Buffer
	o := newOutput(&buf, 1024, time.Hour)
	o.Write([]byte("a\n"))
	release := o.Hold()
	if buf.String() != "a\n" {
		t.Fatalf("hold did not flush: %q", buf.String())
	}
	done := make(chan struct{})
	go func() { o.Write([]byte("b\n")); close(done) }()
	select {
	case <-done:
		t.Fatal("write went through while held")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	<-done
	o.Close()
	if buf.String() != "a\nb\n" {
		t.Errorf("got %q", buf.String())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, syscall.EPIPE }

func TestOutputFailed(t *testing.T) {
	o := newOutput(failWriter{}, 16, time.Hour)
	o.Write(bytes.Repeat([]byte("x"), 64))
	select {
	case <-o.Failed():
	default:
		t.Fatal("Failed not closed")
	}
	if o.Close() == nil {
		t.Error("no error")
	}
}

// A DTail 4.3.2 server announces no capabilities and ends the session on
// a command it does not know: the client must not send AUTHKEY to it, and
// the reads must not wait for capabilities that never come.
func TestRemoteNoAuthKeyWithoutCapabilities(t *testing.T) {
	rg := newRig(t)
	got := make(chan []string, 1)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		read := s.next()
		s.send("REMOTE|old|100|1|x|ok\n")
		ack := s.closeHandshake()
		got <- []string{read, fmt.Sprint(ack)}
	})
	code, out := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"x"}, Output: OutputOptions{Receipt: "text"}},
		Remote{Servers: rg.servers(srv.addr()), AuthKeyPath: rg.keyPath})
	if code != ExitOK {
		t.Errorf("exit %d, want 0:\n%s", code, out)
	}
	if g := <-got; g[0] != "cat:esc=true x regex:noop " || g[1] != "true" {
		t.Errorf("server saw %q (first frame, close acknowledged)", g)
	}
	if raw := srv.received(0); raw != string(protocol.EncodeFrame("cat:esc=true x regex:noop "))+protocol.AckCloseConnectionFrame {
		t.Errorf("client sent AUTHKEY to a server without capabilities: %q", raw)
	}
}

// A SERVER error about a command the client sent makes the run
// incomplete, named in the receipt, whatever else arrived.
func TestRemoteServerCommandErrorIsIncomplete(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.send("SERVER|old|ERROR|1203-061606|u@127.0.0.1:1|Received unknown user command|frob|2|[frob x]\n")
		s.closeHandshake()
	})
	code, _ := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"x"}, Output: OutputOptions{Receipt: "text"}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true})
	if code != ExitPartial {
		t.Errorf("exit %d, want %d", code, ExitPartial)
	}
	r := rg.buf.String()
	if !strings.Contains(r, "receipt: INCOMPLETE") || !strings.Contains(r, "1 commands failed ("+srv.addr()+": ERROR|") || !strings.Contains(r, "failed: "+srv.addr()) {
		t.Errorf("receipt does not name the failure: %q", r)
	}
}

// A DTail 4.x server whose log level hides warnings still sends one empty
// SERVER message per warning: the client cannot say what, but it must not
// say complete.
func TestRemoteFilteredWarningIsIncomplete(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.send("SERVER|old|\n", "REMOTE|old|100|1|ok.log|line\n")
		s.closeHandshake()
	})
	code, _ := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"ok.log", "missing.log"}, Output: OutputOptions{Receipt: "json"}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true})
	if code != ExitPartial {
		t.Errorf("exit %d, want %d", code, ExitPartial)
	}
	if r := rg.buf.String(); !strings.Contains(r, `"server_warnings_hidden":1`) || !strings.Contains(r, `"complete":false`) {
		t.Errorf("receipt %q", r)
	}
}

// Our server's receipt decides the exit code even when its log level
// hides the warning text (receipt INCOMPLETE must not exit 0).
func TestRemoteReceiptDecidesExitCode(t *testing.T) {
	rg := newRig(t)
	srv := startFakeServer(t, rg.signer.PublicKey(), func(s *fakeSession) {
		s.next()
		s.send(protocol.CapabilitiesMessage(protocol.CapQueryUpdateV1), "SERVER|ours|\n", "REMOTE|ours|100|1|ok.log|line\n",
			`.syn receipt {"files_read":1,"files_unreadable":1,"bytes":5,"lines":1,"rotated":0,"truncated":0,"lines_dropped":0}`)
		s.closeHandshake()
	})
	code, _ := rg.run(context.Background(), Options{Mode: ModeCat, Files: []string{"ok.log", "missing.log"}},
		Remote{Servers: rg.servers(srv.addr()), NoAuthKey: true})
	if code != ExitPartial {
		t.Errorf("exit %d, want %d", code, ExitPartial)
	}
}
