package keycache

import (
	"strings"
	"testing"
)

// FuzzFilterKeys: any authorized_keys content gives usable keys without
// options and one-line skip reasons, never a panic.
func FuzzFilterKeys(f *testing.F) {
	f.Add([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGf1KZ2kS4kL0C6Lx6ZbJvQyWmqz1lJ2mEDh0RB0VvJN a@b\n"))
	f.Add([]byte("command=\"/bin/false\",no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGf1KZ2kS4kL0C6Lx6ZbJvQyWmqz1lJ2mEDh0RB0VvJN\n# c\n\nbad line\n"))
	f.Add([]byte("from=\"10.0.0.0/8\" ssh-rsa AAAA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, skipped := FilterKeys(data)
		for _, k := range keys {
			if strings.ContainsAny(k, "\r\n") || strings.Contains(k, "command=") || strings.Contains(k, "from=") {
				t.Fatalf("unsafe key line %q", k)
			}
		}
		for _, s := range skipped {
			if strings.ContainsAny(s.Reason, "\n") {
				t.Fatalf("multi-line reason %q", s.Reason)
			}
		}
	})
}
