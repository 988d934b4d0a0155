package sshserver

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

// FuzzAuthorizedKeys: whatever an authorized_keys file holds, the check
// never panics, and a key carrying command=/from= never authorizes.
func FuzzAuthorizedKeys(f *testing.F) {
	seed := make([]byte, ed25519.SeedSize)
	pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(seed).Public())
	if err != nil {
		f.Fatal(err)
	}
	line := string(ssh.MarshalAuthorizedKey(pub))
	f.Add([]byte(line))
	f.Add([]byte("# comment\n\ngarbage\n" + line))
	f.Add([]byte(`command="/bin/false" ` + line))
	f.Add([]byte(`from="10.0.0.1",no-pty ` + line))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "authorized_keys")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		set, _ := parseAuthorizedKeys(fh, func(int, error) {})
		fh.Close()
		if _, ok := set[string(pub.Marshal())]; !ok {
			return
		}
		// Authorized: some line must hold the key without a refused option.
		keys := 0
		for rest := data; len(rest) > 0; {
			k, _, opts, next, err := ssh.ParseAuthorizedKey(rest)
			if err != nil {
				break
			}
			if string(k.Marshal()) == string(pub.Marshal()) {
				usable := true
				for _, o := range opts {
					if len(o) >= 7 && (o[:7] == "command" || (len(o) >= 4 && o[:4] == "from")) {
						usable = false
					}
				}
				if usable {
					keys++
				}
			}
			rest = next
		}
		if keys == 0 {
			t.Fatalf("authorized by %q although every copy of the key is restricted", data)
		}
	})
}
