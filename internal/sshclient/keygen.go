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
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return fmt.Errorf("generate RSA key: %w", err)
	}
	pub, err := ssh.NewPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := writeNew(path, priv); err != nil {
		return err
	}
	if err := writeNew(path+".pub", ssh.MarshalAuthorizedKey(pub)); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}
