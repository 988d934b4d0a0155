package sshclient

import (
	"crypto/ed25519"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// FuzzKnownHosts: whatever known_hosts holds, loading it and checking a
// host key never panics, and a host is never accepted silently unless the
// file really lists its key (TrustAll off, no answers on the prompt).
func FuzzKnownHosts(f *testing.F) {
	pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())
	if err != nil {
		f.Fatal(err)
	}
	line := "[127.0.0.1]:2222 " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + "\n"
	f.Add([]byte(line))
	f.Add([]byte("# c\n@revoked * " + line[17:]))
	f.Add([]byte("|1|garbage|hash ssh-ed25519 AAAA\n\x00\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "known_hosts")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		kh, err := NewKnownHosts(KnownHostsOptions{Path: path, Home: dir, In: strings.NewReader(""), Out: io.Discard, BatchWait: time.Millisecond, AnswerTimeout: time.Millisecond})
		if err != nil {
			return // a clear error for a broken file is fine
		}
		addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}
		cb := kh.Callback()
		if cb("127.0.0.1:2222", addr, pub) == nil && !strings.Contains(string(data), strings.Fields(line)[2]) {
			t.Fatalf("accepted a key the file does not list: %q", data)
		}
	})
}
