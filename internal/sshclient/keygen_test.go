package sshclient

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestGenerateKeyPair(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "auth")
	// A small key keeps the test fast; the size is only passed through.
	if err := GenerateKeyPair(p, 1024); err != nil {
		t.Fatal(err)
	}
	priv, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(priv)
	if err != nil {
		t.Fatalf("private key does not parse: %v", err)
	}
	pubLine, err := os.ReadFile(p + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(pubLine)
	if err != nil || !samePub(pub, signer.PublicKey()) {
		t.Fatalf(".pub does not hold the private key's public half: %v", err)
	}
	for _, f := range []string{p, p + ".pub"} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", f, fi.Mode().Perm(), err)
		}
	}
	if err := GenerateKeyPair(p, 1024); err == nil {
		t.Error("an existing key was overwritten")
	}
	if err := GenerateKeyPair(filepath.Join(dir, "missing", "k"), 1024); err == nil {
		t.Error("a key was written into a missing directory")
	}
}
