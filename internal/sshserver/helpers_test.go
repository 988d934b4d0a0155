package sshserver

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// memLogger records rendered lines so tests can assert on them.
type memLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *memLogger) add(level string, args []any) string {
	parts := []string{level}
	for _, a := range args {
		parts = append(parts, fmt.Sprint(a))
	}
	line := strings.Join(parts, "|")
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	return line
}

func (l *memLogger) Info(args ...any) string  { return l.add("INFO", args) }
func (l *memLogger) Warn(args ...any) string  { return l.add("WARN", args) }
func (l *memLogger) Error(args ...any) string { return l.add("ERROR", args) }
func (l *memLogger) Debug(args ...any) string { return l.add("DEBUG", args) }

func (l *memLogger) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, sub) {
			return true
		}
	}
	return false
}

func (l *memLogger) dump() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

type clientKey struct {
	signer ssh.Signer
	line   string // authorized_keys line
}

func newClientKey(t *testing.T) clientKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return clientKey{signer: signer, line: string(ssh.MarshalAuthorizedKey(signer.PublicKey()))}
}

// writeHostKey writes an ed25519 key as PKCS#8 PEM so most tests avoid RSA
// generation time; it also exercises the PKCS#8 loader.
func writeHostKey(t *testing.T, dir string) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ssh_host_key")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// reportHandler tells the client who it is, then waits for the client to
// close its side (or the server to stop), so connections stay open on demand.
func reportHandler(ctx context.Context, s *Session) {
	fmt.Fprintf(s, "%s %s %v\n", s.User, s.Kind, s.FromAuthKeyStore)
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, s)
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

type testServer struct {
	srv  *Server
	addr string
	log  *memLogger
	stop func()
}

// startServer fills in test defaults (temp host key and cache dir, report
// handler) and serves on 127.0.0.1:0 until the test ends.
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	dir := t.TempDir()
	if cfg.HostKeyFile == "" && !cfg.TestMode {
		cfg.HostKeyFile = writeHostKey(t, dir)
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(dir, "cache")
	}
	if cfg.LookupUser == nil {
		cfg.LookupUser = func(user string) (string, int, error) { return "", 0, fmt.Errorf("no such user %s", user) }
	}
	log := &memLogger{}
	if cfg.Logger == nil {
		cfg.Logger = log
	}
	if cfg.Handler == nil {
		cfg.Handler = reportHandler
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Serve did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return &testServer{srv: srv, addr: ln.Addr().String(), log: log, stop: stop}
}

func (ts *testServer) dial(user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", ts.addr, &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         5 * time.Second,
	})
}

// shell opens the session channel, sends `shell` and returns the first line
// the report handler writes plus the session for further use.
func shell(t *testing.T, c *ssh.Client) (string, *ssh.Session) {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	var line bytes.Buffer
	b := make([]byte, 1)
	for {
		if _, err := out.Read(b); err != nil {
			t.Fatalf("reading handler output: %v (got %q)", err, line.String())
		}
		if b[0] == '\n' {
			break
		}
		line.WriteByte(b[0])
	}
	return line.String(), sess
}

// login dials, runs shell and closes the client, returning the handler's line.
func (ts *testServer) login(t *testing.T, user string, auth ...ssh.AuthMethod) (string, error) {
	t.Helper()
	c, err := ts.dial(user, auth...)
	if err != nil {
		return "", err
	}
	defer c.Close()
	line, _ := shell(t, c)
	return line, nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
