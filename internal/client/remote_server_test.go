package client

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dtail-go/dtail/internal/protocol"
	"golang.org/x/crypto/ssh"
)

// fakeServer speaks just enough of dserver's side of the protocol for the
// client tests: publickey auth of one key, one "session" channel with the
// "shell" request, client frames in, 0xAC messages out. Each connection
// runs script.
type fakeServer struct {
	t      *testing.T
	ln     net.Listener
	config *ssh.ServerConfig
	script func(s *fakeSession)

	mu    sync.Mutex
	conns int
	raw   []*bytes.Buffer // everything each connection sent, in order
	wg    sync.WaitGroup
}

func newHostSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startFakeServer listens on 127.0.0.1:0 and accepts clientKey.
func startFakeServer(t *testing.T, clientKey ssh.PublicKey, script func(s *fakeSession)) *fakeServer {
	t.Helper()
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if clientKey != nil && bytes.Equal(key.Marshal(), clientKey.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(newHostSigner(t))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeServer{t: t, ln: ln, config: cfg, script: script}
	fs.wg.Go(fs.accept)
	t.Cleanup(func() {
		ln.Close()
		fs.wg.Wait()
	})
	return fs
}

func (fs *fakeServer) port() int { return fs.ln.Addr().(*net.TCPAddr).Port }
func (fs *fakeServer) addr() string {
	return "127.0.0.1:" + strconv.Itoa(fs.port())
}

func (fs *fakeServer) connections() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.conns
}

// received returns what connection i sent.
func (fs *fakeServer) received(i int) string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if i >= len(fs.raw) {
		return ""
	}
	return fs.raw[i].String()
}

func (fs *fakeServer) accept() {
	for {
		c, err := fs.ln.Accept()
		if err != nil {
			return
		}
		fs.wg.Go(func() { fs.handle(c) })
	}
}

func (fs *fakeServer) handle(c net.Conn) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, fs.config)
	if err != nil {
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.Prohibited, "no")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		shell := make(chan struct{})
		go func() {
			for r := range chReqs {
				r.Reply(r.Type == "shell", nil)
				if r.Type == "shell" {
					close(shell)
				}
			}
		}()
		select {
		case <-shell:
		case <-time.After(5 * time.Second):
			return
		}
		buf := &bytes.Buffer{}
		fs.mu.Lock()
		fs.conns++
		fs.raw = append(fs.raw, buf)
		fs.mu.Unlock()
		s := &fakeSession{ch: ch, frames: make(chan string, 100), fs: fs, buf: buf}
		go s.readFrames()
		fs.script(s)
		ch.Close()
		return
	}
}

// fakeSession is one connection as the script sees it.
type fakeSession struct {
	ch     ssh.Channel
	frames chan string
	fs     *fakeServer
	buf    *bytes.Buffer
}

func (s *fakeSession) readFrames() {
	defer close(s.frames)
	r := protocol.NewFrameReader(io.TeeReader(s.ch, lockedWriter{s}), 0)
	for {
		f, err := r.Next()
		if err != nil {
			return
		}
		cmd, err := protocol.DecodeFrame(f)
		if err != nil {
			s.frames <- "UNDECODABLE " + string(f)
			continue
		}
		s.frames <- cmd
	}
}

type lockedWriter struct{ s *fakeSession }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.s.fs.mu.Lock()
	defer w.s.fs.mu.Unlock()
	return w.s.buf.Write(p)
}

// next returns the next decoded command ("" when the client is gone).
func (s *fakeSession) next() string {
	select {
	case f := <-s.frames:
		return f
	case <-time.After(5 * time.Second):
		return ""
	}
}

// send writes messages, each followed by 0xAC.
func (s *fakeSession) send(msgs ...string) {
	var b []byte
	for _, m := range msgs {
		b = protocol.AppendMessage(b, []byte(m))
	}
	s.ch.Write(b)
}

// closeHandshake sends ".syn close connection" and reports whether the
// client acknowledged it.
func (s *fakeSession) closeHandshake() bool {
	s.send(protocol.SynCloseConnection)
	return s.next() == protocol.AckCloseConnection
}

// writeClientKey stores a new ed25519 key and its .pub under dir.
func writeClientKey(t *testing.T, dir string) (path string, signer ssh.Signer) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err = ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "id_test")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, signer
}

// closedPort returns a 127.0.0.1 port nobody listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}
