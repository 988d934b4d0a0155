package sshserver

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// loadOrCreateHostKey implements spec §4.2. Access goes through an os.Root
// opened on the key's directory so a symlink cannot redirect the read or the
// write outside of it.
func loadOrCreateHostKey(path string, bits int, log Logger) (ssh.Signer, error) {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	root, rootErr := os.OpenRoot(dir)
	if rootErr == nil {
		defer root.Close()
		data, err := root.ReadFile(name)
		switch {
		case err == nil:
			return parseHostKey(path, data)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("unable to read host key %s: %w", path, err)
		}
	} else if !errors.Is(rootErr, fs.ErrNotExist) {
		return nil, fmt.Errorf("unable to open host key directory %s: %w", dir, rootErr)
	}

	log.Info("Generating private server RSA host key", path, bits)
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("unable to generate RSA host key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return nil, err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	werr := rootErr
	if werr == nil {
		werr = writeNew(root, name, pemBytes)
	}
	if werr != nil {
		// Spec: keep serving with the in-memory key; clients will see a new
		// host key on every start, which the ERROR line explains.
		log.Error("Unable to write private server RSA host key to file", path, werr)
	}
	return signer, nil
}

func parseHostKey(path string, data []byte) (ssh.Signer, error) {
	raw, err := ssh.ParseRawPrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("unable to parse host key %s: %w", path, err)
	}
	signer, err := ssh.NewSignerFromKey(raw)
	if err != nil {
		return nil, fmt.Errorf("unable to use host key %s: %w", path, err)
	}
	return signer, nil
}

// writeNew refuses to follow or replace an existing file (O_EXCL): the file
// did not exist a moment ago, so anything there now was placed by someone else.
func writeNew(root *os.Root, name string, data []byte) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A truncated key file would make every later start fatal.
		root.Remove(name)
	}
	return err
}
