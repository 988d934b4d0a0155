package sshclient

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func hashedName(salt []byte, name string) string {
	m := hmac.New(sha1.New, salt)
	m.Write([]byte(name))
	return "|1|" + base64.StdEncoding.EncodeToString(salt) + "|" + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func authorized(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

func writeKnownHosts(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKnownHostsIndexForms checks every form of line the index reads
// against what OpenSSH means by it.
func TestKnownHostsIndexForms(t *testing.T) {
	keyOf := func() ssh.PublicKey { s, _ := newKey(t, ""); return s.PublicKey() }
	plain, hashed, wild, port22, revoked, other := keyOf(), keyOf(), keyOf(), keyOf(), keyOf(), keyOf()
	content := strings.Join([]string{
		"# comment",
		"",
		"[plain.example]:2222,[10.1.1.1]:2222 " + authorized(plain) + " a comment",
		hashedName([]byte("0123456789abcdef0123"), "[hashed.example]:2222") + " " + authorized(hashed),
		"*.wild.example,!bad.wild.example " + authorized(wild),
		"[*.wild.example]:2222 " + authorized(wild),
		"PORT22.example " + authorized(port22),
		"@revoked * " + authorized(revoked),
		"garbage line without a key",
		"[partial.example]:2222 ssh-ed25519 AAAAC3Nza", // a crash mid-append
	}, "\n")
	path := writeKnownHosts(t, content)
	var notes []string
	k, err := NewKnownHosts(KnownHostsOptions{Path: path, In: strings.NewReader(""), Out: &syncBuffer{},
		Logf: func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "Ignored 2 unparsable lines") || !strings.Contains(notes[0], "line 9") {
		t.Errorf("notes = %q", notes)
	}
	cb := k.Callback()
	remote := &net.TCPAddr{IP: net.IPv4(10, 9, 9, 9), Port: 2222}
	for _, c := range []struct {
		host string
		key  ssh.PublicKey
		want string // "" accepted, else a substring of the error
	}{
		{"plain.example:2222", plain, ""},
		{"PLAIN.example:2222", plain, ""},
		{"10.1.1.1:2222", plain, ""},
		{"plain.example:2222", other, "CHANGED"},
		{"plain.example:22", plain, "unknown"},
		{"hashed.example:2222", hashed, ""},
		{"hashed.example:2222", other, "CHANGED"},
		{"hashed.example:2223", hashed, "unknown"},
		{"a.wild.example:22", wild, ""},
		{"a.wild.example:2222", wild, ""},
		{"bad.wild.example:22", wild, "unknown"},
		{"wild.example:22", wild, "unknown"},
		{"port22.example:22", port22, ""},
		{"port22.example:2222", port22, "unknown"},
		{"plain.example:2222", revoked, "revoked"},
		{"partial.example:2222", other, "unknown"},
	} {
		err := cb(c.host, remote, c.key)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.host, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: err = %v, want %q", c.host, err, c.want)
		}
		var u *UnknownHostError
		if c.want == "unknown" && !errors.As(err, &u) {
			t.Errorf("%s: %T is not an UnknownHostError", c.host, err)
		}
	}
}

// TestKnownHostsCertAuthority: a host certificate signed by a
// @cert-authority key for the host's pattern is accepted, one for another
// pattern is not, and a revoked CA is refused.
func TestKnownHostsCertAuthority(t *testing.T) {
	ca, _ := newKey(t, "")
	host, _ := newKey(t, "")
	cert := &ssh.Certificate{Key: host.PublicKey(), CertType: ssh.HostCert, ValidPrincipals: []string{"db1.example"},
		ValidBefore: ssh.CertTimeInfinity}
	if err := cert.SignCert(strings.NewReader(strings.Repeat("r", 1000)), ca); err != nil {
		t.Fatal(err)
	}
	remote := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 2222}
	ok := writeKnownHosts(t, "@cert-authority *.example "+authorized(ca.PublicKey())+"\n")
	k, _ := NewKnownHosts(KnownHostsOptions{Path: ok, In: strings.NewReader(""), Out: &syncBuffer{}})
	if err := k.Callback()("db1.example:22", remote, cert); err != nil {
		t.Errorf("certificate of a trusted CA: %v", err)
	}
	if err := k.Callback()("db2.example:22", remote, cert); err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Errorf("wrong principal: %v", err)
	}
	elsewhere := writeKnownHosts(t, "@cert-authority *.other "+authorized(ca.PublicKey())+"\n")
	k, _ = NewKnownHosts(KnownHostsOptions{Path: elsewhere, In: strings.NewReader(""), Out: &syncBuffer{}})
	var u *UnknownHostError
	if err := k.Callback()("db1.example:22", remote, cert); !errors.As(err, &u) {
		t.Errorf("CA for other hosts: want unknown, got %v", err)
	}
	revoked := writeKnownHosts(t, "@cert-authority *.example "+authorized(ca.PublicKey())+"\n@revoked * "+authorized(ca.PublicKey())+"\n")
	k, _ = NewKnownHosts(KnownHostsOptions{Path: revoked, In: strings.NewReader(""), Out: &syncBuffer{}})
	if err := k.Callback()("db1.example:22", remote, cert); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("revoked CA: %v", err)
	}
}

// TestKnownHostsConcurrentWriters: two client runs trusting hosts at the
// same time append to the same file; no entry of either is lost (the
// rewrite-and-rename of DTail 4.x lost the other run's lines).
func TestKnownHostsConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "known_hosts")
	const perRun = 150
	signer, _ := newKey(t, "")
	runs := make([]*KnownHosts, 2)
	for i := range runs {
		k, err := NewKnownHosts(KnownHostsOptions{Path: path, TrustAll: true, In: strings.NewReader(""), Out: &syncBuffer{}})
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = k
	}
	var wg sync.WaitGroup
	for r, k := range runs {
		wg.Go(func() {
			for i := range perRun {
				name := fmt.Sprintf("run%d-host%d:2222", r, i)
				remote := &net.TCPAddr{IP: net.IPv4(10, byte(r), byte(i/256), byte(i%256)), Port: 2222}
				if err := k.Verify(context.Background(), name, remote, signer.PublicKey()); err != nil {
					t.Error(err)
				}
				if i%10 == 0 {
					k.Flush() // interleave the appends of both runs
				}
			}
			if err := k.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	fresh, err := knownhosts.New(path)
	if err != nil {
		t.Fatal(err)
	}
	content := readFile(t, path)
	if n := strings.Count(content, "\n"); n != 2*2*perRun {
		t.Errorf("known_hosts has %d lines, want %d", n, 2*2*perRun)
	}
	for r := range runs {
		for i := range perRun {
			name := fmt.Sprintf("run%d-host%d:2222", r, i)
			if err := fresh(name, &net.TCPAddr{IP: net.IPv4(1, 1, 1, 1), Port: 2222}, signer.PublicKey()); err != nil {
				t.Errorf("%s lost: %v", name, err)
			}
		}
	}
}

// TestKnownHostsAppendAfterPartialLine: a file whose last line lacks its
// newline (a crash during an append) gets the new lines on lines of their
// own, and nothing already there is removed.
func TestKnownHostsAppendAfterPartialLine(t *testing.T) {
	old, _ := newKey(t, "")
	start := "[old.example]:2222 " + authorized(old.PublicKey()) + "\n[cut.example]:2222 ssh-ed25519 AAAA"
	path := writeKnownHosts(t, start)
	k, err := NewKnownHosts(KnownHostsOptions{Path: path, TrustAll: true, In: strings.NewReader(""), Out: &syncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	h := newFakeHost(t, 1)
	if err := h.check(k); err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, path)
	want := start + "\n" + strings.Join(knownHostsLines(&pendingHost{hostname: h.name, remote: h.remote, key: h.key}), "\n") + "\n"
	if got != want {
		t.Fatalf("known_hosts =\n%q\nwant\n%q", got, want)
	}
	again, _ := NewKnownHosts(KnownHostsOptions{Path: path, In: strings.NewReader(""), Out: &syncBuffer{}})
	if err := again.Callback()(h.name, h.remote, h.key); err != nil {
		t.Errorf("host not known to the next run: %v", err)
	}
	if err := again.Callback()("old.example:2222", h.remote, old.PublicKey()); err != nil {
		t.Errorf("old host lost: %v", err)
	}
}

// TestKnownHostsOneQuestionForAFleet: 10,000 unknown hosts are one
// question (header and fingerprints bounded), and "y" trusts all of them.
func TestKnownHostsOneQuestionForAFleet(t *testing.T) {
	const n = 10000
	keys := make([]ssh.PublicKey, 4)
	for i := range keys {
		s, _ := newKey(t, "")
		keys[i] = s.PublicKey()
	}
	k, out := newTestKnownHosts(t, KnownHostsOptions{In: strings.NewReader("y\n"), BatchWait: 500 * time.Millisecond})
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("127.%d.%d.%d:%d", i>>16, (i>>8)&255, i&255, 2222+i%4)
			errs[i] = k.Verify(context.Background(), name, nil, keys[i%4])
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("host %d: %v", i, err)
		}
	}
	text := out.String()
	if c := strings.Count(text, "Do you want to trust"); c != 1 {
		t.Fatalf("asked %d times", c)
	}
	if len(text) > 4096 || !strings.Contains(text, fmt.Sprintf("Encountered %d unknown hosts: '", n)) || !strings.Contains(text, "' and 9990 more\n") {
		t.Fatalf("question (%d bytes): %.2000q", len(text), text)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(readFile(t, k.Path()), "\n"); lines != n {
		t.Fatalf("%d lines written, want %d", lines, n)
	}
	t.Logf("10,000 hosts asked about and trusted in %v", time.Since(start).Round(time.Millisecond))
}

// BenchmarkKnownHostsLookup: checking one host against a known_hosts of
// 10,000 plain entries (the index: O(1)) and of 1,000 hashed entries (one
// HMAC per salt, as OpenSSH salts every line).
func BenchmarkKnownHostsLookup(b *testing.B) {
	signer, _ := newKey(&testing.T{}, "")
	key := signer.PublicKey()
	for _, c := range []struct {
		name   string
		n      int
		hashed bool
	}{{"plain-10000", 10000, false}, {"hashed-1000", 1000, true}} {
		var sb strings.Builder
		for i := range c.n {
			host := fmt.Sprintf("[127.0.%d.%d]:2222", i/250, i%250)
			if c.hashed {
				host = hashedName(fmt.Appendf(nil, "salt-%016d", i), host)
			}
			sb.WriteString(host + " " + authorized(key) + "\n")
		}
		dir := b.TempDir()
		path := filepath.Join(dir, "known_hosts")
		os.WriteFile(path, []byte(sb.String()), 0o600)
		b.Run("index/"+c.name, func(b *testing.B) {
			k, err := NewKnownHosts(KnownHostsOptions{Path: path, In: strings.NewReader(""), Out: &syncBuffer{}})
			if err != nil {
				b.Fatal(err)
			}
			cb := k.Callback()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if err := cb(fmt.Sprintf("127.0.%d.%d:2222", (i%c.n)/250, i%250), nil, key); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("x-crypto-knownhosts/"+c.name, func(b *testing.B) {
			cb, err := knownhosts.New(path)
			if err != nil {
				b.Fatal(err)
			}
			remote := &net.TCPAddr{IP: net.IPv4(1, 1, 1, 1), Port: 2222}
			for i := 0; b.Loop(); i++ {
				if err := cb(fmt.Sprintf("127.0.%d.%d:2222", (i%c.n)/250, i%250), remote, key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
