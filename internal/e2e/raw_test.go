package e2e

import (
	"bytes"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// rawConn is a DTail session spoken by hand over x/crypto/ssh: one
// session channel, one shell request, frames in, 0xAC-delimited messages out.
type rawConn struct {
	t      testing.TB
	client *ssh.Client
	stdin  io.WriteCloser
	mu     sync.Mutex
	msgs   []string
	buf    []byte
	done   chan struct{}
}

func dialRaw(t testing.TB, srv *server) *rawConn {
	t.Helper()
	keys(t)
	pem, err := os.ReadFile(userKey.priv)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ssh.Dial("tcp", srv.addr, &ssh.ClientConfig{
		User:            acct.name,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         5 * time.Second,
	})
	if err != nil {
		t.Fatalf("ssh dial %s: %v", srv.addr, err)
	}
	t.Cleanup(func() { client.Close() })
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatalf("shell request: %v", err)
	}
	c := &rawConn{t: t, client: client, stdin: stdin, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		b := make([]byte, 32<<10)
		for {
			n, err := stdout.Read(b)
			c.mu.Lock()
			c.buf = append(c.buf, b[:n]...)
			for {
				i := bytes.IndexByte(c.buf, 0xAC)
				if i < 0 {
					break
				}
				c.msgs = append(c.msgs, string(c.buf[:i]))
				c.buf = c.buf[i+1:]
			}
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return c
}

// frame sends one client frame with the given protocol version.
func (c *rawConn) frame(version, command string) {
	c.t.Helper()
	f := "protocol " + version + " base64 " + base64.StdEncoding.EncodeToString([]byte(command)) + ";"
	if _, err := io.WriteString(c.stdin, f); err != nil {
		c.t.Fatalf("write frame: %v", err)
	}
}

// waitMsg waits for a message matching re and returns it; it fails the
// test with everything received so far after d.
func (c *rawConn) waitMsg(re *regexp.Regexp, d time.Duration) string {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		c.mu.Lock()
		for _, m := range c.msgs {
			if re.MatchString(m) {
				c.mu.Unlock()
				return m
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			c.t.Fatalf("no message matching %s within %v; got %q", re, d, c.all())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *rawConn) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// TestProtocolVersionMismatch: a frame with another protocol version gets
// the SERVER error text of spec 3.2, and the session stays usable. The
// reference servers run the same assertions.
func TestProtocolVersionMismatch(t *testing.T) {
	kinds := []func(t *testing.T) serverKind{
		func(*testing.T) serverKind { return oursKind() },
		func(t *testing.T) serverKind { return refKind(t, "4.3.2") },
		func(t *testing.T) serverKind { return refKind(t, "4.3.2-ng") },
	}
	for i, name := range []string{"ours", "4.3.2", "4.3.2-ng"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := startDServer(t, withKind(kinds[i](t)))
			f := writeOwned(t, filepath.Join(srv.dir, "after.log"), []byte("still served\n"), 0o644)
			c := dialRaw(t, srv)
			for _, v := range []struct{ version, who, nl string }{{"3", "client", "\n"}, {"4", "client", ""}, {"0", "client", ""}, {"5", "server", ""}} {
				c.frame(v.version, "tail: . /tmp/ignored .")
				who := v.who
				if name == "4.3.2" {
					who = "(client|server)" // upstream 4.3.2 decides differently (spec follows 4.3.2-ng)
				}
				re := regexp.MustCompile(`^SERVER\|testhost\|ERROR\|\d{4}-\d{6}\|` + regexp.QuoteMeta(acct.name) + `@127\.0\.0\.1:\d+\|` +
					regexp.QuoteMeta("the DTail server protocol version '4.1' does not match client protocol version '"+v.version+"', please update DTail ") + who + `\n?$`)
				m := c.waitMsg(re, 5*time.Second)
				if v.nl != "" && !strings.HasSuffix(m, "\n") {
					t.Errorf("version %s: message %q lacks the newline old clients expect", v.version, m)
				}
			}
			// The session survives the mismatches.
			c.frame("4.1", "cat:plain=true "+f+" regex:noop ")
			c.waitMsg(regexp.MustCompile(`^still served\n$`), 5*time.Second)
			c.waitMsg(regexp.MustCompile(`^\.syn close connection$`), 5*time.Second)
		})
	}
}
