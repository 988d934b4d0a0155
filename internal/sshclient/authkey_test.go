package sshclient

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestReadAuthKeyPub(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "id_rsa")
	signer := writeKey(t, key, "")
	want := strings.Fields(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))[1]
	if got, err := ReadAuthKeyPub(key); err != nil || got != want {
		t.Fatalf("got %q, %v", got, err)
	}

	cases := map[string]struct{ content, want, err string }{
		"comments first": {content: "# mine\n\n   \nssh-ed25519 AAAA c\nssh-rsa BBBB\n", want: "AAAA"},
		"no comment":     {content: "ssh-ed25519 QUJD\n", want: "QUJD"},
		"not base64":     {content: "ssh-ed25519 !!!! x\n", err: "not base64"},
		"one field":      {content: "ssh-ed25519\n", err: "expected"},
		"only comments":  {content: "# nothing\n\n", err: "no public key line"},
	}
	for name, tc := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(path+".pub", []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadAuthKeyPub(path)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v", name, got, err)
		}
	}
	if _, err := ReadAuthKeyPub(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing file: err = %v", err)
	}
}
