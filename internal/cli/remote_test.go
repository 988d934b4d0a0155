package cli

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtail-go/dtail/internal/protocol"
	"golang.org/x/crypto/ssh"
)

// stubServer is a minimal DTail server side for the CLI tests: any public
// key or the health password is accepted, each connection's decoded
// commands are recorded and script answers them.
type stubServer struct {
	ln     net.Listener
	cfg    *ssh.ServerConfig
	script func(next func() string, send func(...string))

	mu    sync.Mutex
	cmds  [][]string
	users []string
	wg    sync.WaitGroup
	once  sync.Once
}

// stop closes the listener and waits for every connection's script, so
// that what the client sent last (the ack) has been recorded.
func (s *stubServer) stop() {
	s.once.Do(func() {
		s.ln.Close()
		s.wg.Wait()
	})
}

func startStub(t *testing.T, script func(next func() string, send func(...string))) *stubServer {
	t.Helper()
	s := &stubServer{script: script}
	s.cfg = &ssh.ServerConfig{
		PublicKeyCallback: func(m ssh.ConnMetadata, _ ssh.PublicKey) (*ssh.Permissions, error) { return nil, nil },
		PasswordCallback: func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if m.User() == "DTAIL-HEALTH" && string(pw) == "DTAIL-HEALTH" {
				return nil, nil
			}
			return nil, fmt.Errorf("denied")
		},
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	hk, _ := ssh.NewSignerFromKey(priv)
	s.cfg.AddHostKey(hk)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.handle(c) })
		}
	})
	t.Cleanup(s.stop)
	return s
}

func (s *stubServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// commands stops the server and returns each connection's commands.
func (s *stubServer) commands() [][]string {
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmds
}

func (s *stubServer) handle(c net.Conn) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, s.cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	nc, ok := <-chans
	if !ok {
		return
	}
	ch, chReqs, err := nc.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	go func() {
		for r := range chReqs {
			r.Reply(r.Type == "shell", nil)
		}
	}()
	s.mu.Lock()
	idx := len(s.cmds)
	s.cmds = append(s.cmds, nil)
	s.users = append(s.users, sc.User())
	s.mu.Unlock()
	frames := make(chan string, 100)
	go func() {
		defer close(frames)
		fr := protocol.NewFrameReader(ch, 0)
		for {
			f, err := fr.Next()
			if err != nil {
				return
			}
			cmd, _ := protocol.DecodeFrame(f)
			s.mu.Lock()
			s.cmds[idx] = append(s.cmds[idx], cmd)
			s.mu.Unlock()
			frames <- cmd
		}
	}()
	next := func() string {
		select {
		case f := <-frames:
			return f
		case <-time.After(5 * time.Second):
			return ""
		}
	}
	send := func(msgs ...string) {
		var b []byte
		for _, m := range msgs {
			b = protocol.AppendMessage(b, []byte(m))
		}
		ch.Write(b)
	}
	s.script(next, send)
}

// catScript answers every read command with the given plain lines after
// all commands arrived (one read command expected) and closes properly.
func catScript(lines ...string) func(next func() string, send func(...string)) {
	return func(next func() string, send func(...string)) {
		for {
			cmd := next()
			if cmd == "" || !strings.HasPrefix(cmd, "AUTHKEY") {
				break
			}
			send("SERVER|stub|AUTHKEY OK\n")
		}
		send(append([]string{".syn capabilities query-update-v1"}, lines...)...)
		send(protocol.SynCloseConnection)
		// AUTHKEY follows the capabilities, so it may come before the ack.
		for {
			if cmd := next(); cmd == "" || cmd == protocol.AckCloseConnection {
				return
			}
		}
	}
}

type testEnv struct {
	home           string
	stdout, stderr bytes.Buffer
	vars           map[string]string
}

func newTestEnv(t *testing.T) *testEnv {
	return &testEnv{home: t.TempDir(), vars: map[string]string{}}
}

func (e *testEnv) env(args ...string) Env {
	e.vars["HOME"] = e.home
	return Env{
		Args:   args,
		Stdin:  strings.NewReader(""),
		Stdout: &e.stdout,
		Stderr: &e.stderr,
		Getenv: func(k string) string { return e.vars[k] },
	}
}

// writeKey stores an ed25519 key and its .pub at path.
func writeKey(t *testing.T, path string) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(priv)
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRunRemoteDCatPlain(t *testing.T) {
	srv := startStub(t, catScript("REMOTE|stub|100|1|x.log|a1\n", "REMOTE|stub|100|2|x.log|b2"))
	e := newTestEnv(t)
	key := filepath.Join(e.home, "keys", "mykey")
	writeKey(t, key)
	code := RunClient(DCat, e.env("-cfg", "none", "-servers", fmt.Sprintf("127.0.0.1:%d", srv.port()),
		"-files", "/tmp/x.log", "-trustAllHosts", "-plain", "-user", "tester", "-logger", "stdout", "-logLevel", "warn", "-auth-key-path", key))
	if code != 0 {
		t.Errorf("exit %d; stdout %q stderr %q", code, e.stdout.String(), e.stderr.String())
	}
	if got := e.stdout.String(); got != "a1\nb2\n" {
		t.Errorf("stdout %q", got)
	}
	cmds := srv.commands()
	// The read goes out at once, AUTHKEY once the server announced its
	// capabilities (a DTail 4.3.2 server would end the session on it).
	if len(cmds) != 1 || len(cmds[0]) != 3 || !strings.HasPrefix(cmds[0][1], "AUTHKEY ") ||
		cmds[0][0] != "cat:bare=true:esc=true:quiet=true /tmp/x.log regex:noop " || cmds[0][2] != protocol.AckCloseConnection {
		t.Errorf("commands %q", cmds)
	}
}

func TestRunRemotePortFlagAndDefaultKeyNoAuthKey(t *testing.T) {
	srv := startStub(t, catScript("REMOTE|stub|100|1|x.log|hello\n"))
	e := newTestEnv(t)
	writeKey(t, filepath.Join(e.home, ".ssh", "id_ed25519"))
	code := RunClient(DGrep, e.env("-cfg", "none", "-servers", "127.0.0.1", "-port", fmt.Sprint(srv.port()),
		"-regex", "hel+o", "-trustAllHosts", "-noColor", "-user", "tester", "-logLevel", "error", "/tmp/x.log"))
	if code != 0 {
		t.Errorf("exit %d; stderr %q", code, e.stderr.String())
	}
	if got := e.stdout.String(); got != "REMOTE|stub|100|1|x.log|hello\n" {
		t.Errorf("stdout %q", got)
	}
	// ~/.ssh/id_rsa(.pub) does not exist: no AUTHKEY.
	if cmds := srv.commands(); len(cmds) != 1 || cmds[0][0] != "grep:esc=true /tmp/x.log regex:default hel+o" {
		t.Errorf("commands %q", cmds)
	}
	// The default fout logger is set to -logLevel error: no log file lines
	// are needed, but the directory must not be outside the home.
	if _, err := os.Stat(filepath.Join(e.home, "log")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(e.home, "log"))
		for _, en := range entries {
			if !strings.HasSuffix(en.Name(), ".log") {
				t.Errorf("unexpected log file %s", en.Name())
			}
		}
	}
}

func TestRunRemoteKeyDeprecation(t *testing.T) {
	srv := startStub(t, catScript("REMOTE|stub|100|1|f|x"))
	e := newTestEnv(t)
	key := filepath.Join(e.home, "k1")
	writeKey(t, key)
	code := RunClient(DCat, e.env("-cfg", "none", "-servers", fmt.Sprintf("127.0.0.1:%d", srv.port()), "-files", "f",
		"-trustAllHosts", "-plain", "-user", "u", "-logger", "stdout", "-key", "/nonexistent", "-auth-key-path", key))
	if code != 0 {
		t.Errorf("exit %d: %s", code, e.stderr.String())
	}
	if !strings.Contains(e.stderr.String(), "WARN: -key is deprecated; ignoring it because -auth-key-path was also set\n") {
		t.Errorf("stderr %q", e.stderr.String())
	}
}

func TestRunRemoteNoKeyIsFatal(t *testing.T) {
	e := newTestEnv(t)
	code := RunClient(DCat, e.env("-cfg", "none", "-servers", "127.0.0.1:1", "-files", "f", "-user", "u", "-logger", "stdout", "-noColor"))
	if code != 2 {
		t.Errorf("exit %d", code)
	}
	if !strings.Contains(e.stderr.String(), "|FATAL|Unable to find private SSH key information") || e.stdout.Len() > 0 {
		t.Errorf("stdout %q stderr %q", e.stdout.String(), e.stderr.String())
	}
}

func TestRunRemoteUnreachableExit1(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	e := newTestEnv(t)
	e.vars["DTAIL_HOSTNAME_OVERRIDE"] = "me.example.org"
	writeKey(t, filepath.Join(e.home, ".ssh", "id_ed25519"))
	code := RunClient(DCat, e.env("-cfg", "none", "-servers", fmt.Sprintf("127.0.0.1:%d", port), "-files", "f",
		"-user", "u", "-logger", "stdout", "-noColor", "-trustAllHosts"))
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	want := fmt.Sprintf("CLIENT|me.example.org|WARN|127.0.0.1:%d|failed to dial TCP connection to 127.0.0.1:%d: ", port, port)
	if !strings.HasPrefix(e.stderr.String(), want) || e.stdout.Len() > 0 {
		t.Errorf("stdout %q stderr %q, want stderr prefix %q", e.stdout.String(), e.stderr.String(), want)
	}
}

func TestRunRemoteMapWithoutQuery(t *testing.T) {
	e := newTestEnv(t)
	if code := RunClient(DMap, e.env("-cfg", "none", "-servers", "127.0.0.1:1", "-files", "f")); code != 2 {
		t.Errorf("exit %d", code)
	}
	if n := strings.Count(e.stderr.String(), "\n"); n != 1 || !strings.Contains(e.stderr.String(), "No mapreduce query specified") {
		t.Errorf("stderr %q", e.stderr.String())
	}
}

func TestRunRemoteBadQuery(t *testing.T) {
	e := newTestEnv(t)
	if code := RunClient(DMap, e.env("-cfg", "none", "-servers", "127.0.0.1:1", "-files", "f", "-query", "select from where")); code != 2 {
		t.Errorf("exit %d", code)
	}
	if !strings.Contains(e.stderr.String(), "dmap: query:1:") {
		t.Errorf("stderr %q", e.stderr.String())
	}
}

func TestRunRemoteDiscoveryParseError(t *testing.T) {
	e := newTestEnv(t)
	code := RunClient(DTail, e.env("-cfg", "none", "-discovery", ":x", "-files", "f"))
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	if got := e.stderr.String(); !strings.HasPrefix(got, "unable to initialize dtail client: unable to parse discovery module") {
		t.Errorf("stderr %q", got)
	}
}
