package sshclient

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"

	"golang.org/x/crypto/ssh"
)

// TestModeKeyBits is the RSA size of keys generated in integration-test
// mode (spec 4.17).
const TestModeKeyBits = 4096

// GenerateKeyPair writes a new RSA key pair: the private key at path (PEM,
// as `ssh-keygen -m PEM` writes it) and the authorized_keys line at
// path.pub, both mode 0600. Existing files are never overwritten, and the
// directory must exist.
func GenerateKeyPair(path string, bits int) error {
	// Claim both files first: a missing directory or an existing key
	// fails at once instead of after seconds of RSA generation.
	priv, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	pubf, err := os.OpenFile(path+".pub", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		priv.Close()
		os.Remove(path)
		return err
	}
	err = writeKeyPair(priv, pubf, bits)
	if cerr := priv.Close(); err == nil {
		err = cerr
	}
	if cerr := pubf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		os.Remove(path + ".pub")
	}
	return err
}

func writeKeyPair(priv, pubf *os.File, bits int) error {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return fmt.Errorf("generate RSA key: %w", err)
	}
	pub, err := ssh.NewPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	if err := pem.Encode(priv, &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}); err != nil {
		return err
	}
	_, err = pubf.Write(ssh.MarshalAuthorizedKey(pub))
	return err
}
