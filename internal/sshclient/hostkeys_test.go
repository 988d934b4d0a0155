package sshclient

import (
	"bytes"
	"context"
	"fmt"
	"io"
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

// syncBuffer lets the prompt goroutine write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fakeHost struct {
	name   string
	remote net.Addr
	key    ssh.PublicKey
}

func newFakeHost(t *testing.T, i int) fakeHost {
	signer, _ := newKey(t, "")
	return fakeHost{
		name:   fmt.Sprintf("web%d:2222", i),
		remote: &net.TCPAddr{IP: net.IPv4(10, 0, byte(i/256), byte(i%256)), Port: 2222},
		key:    signer.PublicKey(),
	}
}

func (h fakeHost) check(k *KnownHosts) error {
	return k.Verify(context.Background(), h.name, h.remote, h.key)
}

// checkAll runs the callbacks concurrently, as parallel dials would.
func checkAll(k *KnownHosts, hosts []fakeHost) []error {
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() { errs[i] = h.check(k) })
	}
	wg.Wait()
	return errs
}

func newTestKnownHosts(t *testing.T, opts KnownHostsOptions) (*KnownHosts, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	if opts.Home == "" && opts.Path == "" {
		opts.Home = t.TempDir()
	}
	if opts.In == nil {
		opts.In = strings.NewReader("")
	}
	opts.Out = out
	if opts.BatchWait == 0 {
		opts.BatchWait = 50 * time.Millisecond
	}
	k, err := NewKnownHosts(opts)
	if err != nil {
		t.Fatal(err)
	}
	return k, out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestKnownHostsCreatesFileAndDir(t *testing.T) {
	home := t.TempDir()
	k, _ := newTestKnownHosts(t, KnownHostsOptions{Home: home})
	dirInfo, err := os.Stat(filepath.Join(home, ".ssh"))
	if err != nil || dirInfo.Mode().Perm() != 0o700 {
		t.Fatalf("~/.ssh: %v %v", dirInfo, err)
	}
	info, err := os.Stat(k.Path())
	if err != nil || info.Mode().Perm() != 0o600 || info.Size() != 0 {
		t.Fatalf("known_hosts: %v %v", info, err)
	}
	if k.Path() != filepath.Join(home, ".ssh", "known_hosts") {
		t.Fatalf("Path = %s", k.Path())
	}
	if _, err := NewKnownHosts(KnownHostsOptions{}); err == nil {
		t.Fatal("no home and no path must fail")
	}
}

func TestKnownHostsPromptYes(t *testing.T) {
	k, out := newTestKnownHosts(t, KnownHostsOptions{In: strings.NewReader("yes\n"), BatchSize: 2, BatchWait: time.Hour})
	hosts := []fakeHost{newFakeHost(t, 1), newFakeHost(t, 2)}
	for i, err := range checkAll(k, hosts) {
		if err != nil {
			t.Fatalf("host %d: %v", i, err)
		}
	}
	text := out.String()
	lines := strings.Split(text, "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "Encountered 2 unknown hosts: '") || !strings.HasSuffix(lines[0], "'") ||
		!strings.Contains(lines[0], "web1:2222") || !strings.Contains(lines[0], "web2:2222") ||
		lines[3] != "Do you want to trust these hosts?? (y=yes,a=all,n=no,d=details):" {
		t.Fatalf("prompt = %q", text)
	}
	// The SHA256 fingerprints OpenSSH shows, one line per key.
	for _, h := range hosts {
		if want := "  ED25519 key fingerprint " + ssh.FingerprintSHA256(h.key) + ": " + h.name + "\n"; !strings.Contains(text, want) {
			t.Errorf("prompt lacks %q: %q", want, text)
		}
	}
	file := readFile(t, k.Path())
	for _, h := range hosts {
		for _, line := range knownHostsLines(&pendingHost{hostname: h.name, remote: h.remote, key: h.key}) {
			if !strings.Contains(file, line+"\n") {
				t.Errorf("known_hosts lacks %q", line)
			}
		}
		if err := h.check(k); err != nil {
			t.Errorf("%s not known after trusting: %v", h.name, err)
		}
	}
	if strings.Count(out.String(), "Encountered") != 1 {
		t.Fatalf("asked again for trusted hosts: %q", out.String())
	}
}

func TestKnownHostsPromptNo(t *testing.T) {
	k, _ := newTestKnownHosts(t, KnownHostsOptions{In: strings.NewReader("n\n")})
	err := newFakeHost(t, 1).check(k)
	if err == nil || !strings.Contains(err.Error(), "rejected by the user") {
		t.Fatalf("err = %v", err)
	}
	if readFile(t, k.Path()) != "" {
		t.Fatal("rejected host was written")
	}
}

func TestKnownHostsPromptDetailsThenYes(t *testing.T) {
	var paused, resumed int
	k, out := newTestKnownHosts(t, KnownHostsOptions{In: strings.NewReader("d\nwhat\ny\n"),
		PauseOutput: func() func() { paused++; return func() { resumed++ } }})
	h := newFakeHost(t, 7)
	if err := h.check(k); err != nil {
		t.Fatal(err)
	}
	if paused != 1 || resumed != 1 {
		t.Errorf("logging paused %d and resumed %d times, want once each", paused, resumed)
	}
	text := out.String()
	b64 := strings.Fields(string(ssh.MarshalAuthorizedKey(h.key)))[1]
	for _, want := range []string{
		"[web7]:2222 ssh-ed25519 " + b64 + "\n",
		"[10.0.0.7]:2222 ssh-ed25519 " + b64 + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("details lack %q in %q", want, text)
		}
	}
	// d, an unknown answer and y: the question is asked three times.
	if n := strings.Count(text, "Do you want to trust these hosts??"); n != 3 {
		t.Errorf("asked %d times, want 3: %q", n, text)
	}
}

func TestKnownHostsPromptAll(t *testing.T) {
	k, out := newTestKnownHosts(t, KnownHostsOptions{In: strings.NewReader("a\n")})
	if err := newFakeHost(t, 1).check(k); err != nil {
		t.Fatal(err)
	}
	// Input is exhausted now, so a second prompt would fail: "all" must
	// trust later hosts without asking.
	if err := newFakeHost(t, 2).check(k); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "Encountered"); n != 1 {
		t.Fatalf("prompted %d times: %q", n, out.String())
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(readFile(t, k.Path()), "\n"); n != 4 {
		t.Fatalf("known_hosts has %d lines, want 4", n)
	}
}

func TestKnownHostsEOFFailsFast(t *testing.T) {
	k, _ := newTestKnownHosts(t, KnownHostsOptions{In: strings.NewReader("")})
	start := time.Now()
	err := newFakeHost(t, 1).check(k)
	if err == nil || !strings.Contains(err.Error(), "input closed") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
	if err := newFakeHost(t, 2).check(k); err == nil {
		t.Fatal("second host accepted after EOF")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v; EOF must fail fast", d)
	}
}

func TestKnownHostsSilentPipeFailsFast(t *testing.T) {
	r, w := io.Pipe()
	t.Cleanup(func() { w.Close() })
	k, _ := newTestKnownHosts(t, KnownHostsOptions{In: r, AnswerTimeout: 100 * time.Millisecond})
	start := time.Now()
	err := newFakeHost(t, 1).check(k)
	if err == nil || !strings.Contains(err.Error(), "not a terminal") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestKnownHostsContextCancelAbandonsQuestion(t *testing.T) {
	k, out := newTestKnownHosts(t, KnownHostsOptions{In: strings.NewReader("y\n"), BatchWait: 200 * time.Millisecond})
	h := newFakeHost(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := k.Verify(ctx, h.name, h.remote, h.key)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("err = %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	if out.String() != "" {
		t.Fatalf("prompted for an abandoned host: %q", out.String())
	}
}

func TestKnownHostsTrustAllAppendsBothLines(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, ".ssh", "known_hosts")
	other, _ := newKey(t, "")
	oldLine := knownhosts.Line([]string{"other.example"}, other.PublicKey())
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, []byte("# comment\n"+oldLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logged []string
	k, out := newTestKnownHosts(t, KnownHostsOptions{Home: home, TrustAll: true,
		Logf: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }})
	h := newFakeHost(t, 3)
	if err := h.check(k); err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	b64 := strings.Fields(string(ssh.MarshalAuthorizedKey(h.key)))[1]
	want := "# comment\n" + oldLine + "\n" +
		"[web3]:2222 ssh-ed25519 " + b64 + "\n" +
		"[10.0.0.3]:2222 ssh-ed25519 " + b64 + "\n"
	if got := readFile(t, path); got != want {
		t.Fatalf("known_hosts =\n%s\nwant\n%s", got, want)
	}
	if out.String() != "" {
		t.Fatalf("TrustAll prompted: %q", out.String())
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", info.Mode())
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("known_hosts.tmp left behind: %v", err)
	}
	if len(logged) != 1 || logged[0] != "Added hosts to known hosts file|"+path {
		t.Fatalf("logged %q", logged)
	}
}

func TestKnownHostsPort22Unbracketed(t *testing.T) {
	k, _ := newTestKnownHosts(t, KnownHostsOptions{TrustAll: true})
	h := newFakeHost(t, 4)
	h.name = "web4:22"
	h.remote = &net.TCPAddr{IP: net.IPv4(10, 0, 0, 4), Port: 22}
	if err := h.check(k); err != nil {
		t.Fatal(err)
	}
	k.Close()
	lines := strings.Split(strings.TrimSpace(readFile(t, k.Path())), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "web4 ") || !strings.HasPrefix(lines[1], "10.0.0.4 ") {
		t.Fatalf("lines %q", lines)
	}
}

func TestKnownHostsChangedKeyRefused(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, ".ssh", "known_hosts")
	h := newFakeHost(t, 5)
	oldKey, _ := newKey(t, "")
	os.MkdirAll(filepath.Dir(path), 0o700)
	content := "# keep\n" + knownhosts.Line([]string{knownhosts.Normalize(h.name)}, oldKey.PublicKey()) + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, trustAll := range []bool{false, true} {
		k, out := newTestKnownHosts(t, KnownHostsOptions{Home: home, TrustAll: trustAll, In: strings.NewReader("y\n")})
		err := h.check(k)
		if err == nil || !strings.Contains(err.Error(), "web5:2222") ||
			!strings.Contains(err.Error(), path+":2") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("trustAll=%v: err = %v", trustAll, err)
		}
		if out.String() != "" {
			t.Fatalf("changed key was offered for trust: %q", out.String())
		}
		if readFile(t, path) != content {
			t.Fatal("known_hosts modified")
		}
	}
}

func TestKnownHostsConcurrentTrusts(t *testing.T) {
	k, _ := newTestKnownHosts(t, KnownHostsOptions{TrustAll: true})
	hosts := make([]fakeHost, 40)
	for i := range hosts {
		hosts[i] = newFakeHost(t, i+1)
	}
	for i, err := range checkAll(k, hosts) {
		if err != nil {
			t.Fatalf("host %d: %v", i, err)
		}
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	content := readFile(t, k.Path())
	if n := strings.Count(content, "\n"); n != 2*len(hosts) {
		t.Fatalf("known_hosts has %d lines, want %d", n, 2*len(hosts))
	}
	// A fresh reader proves the file parses and holds every host.
	fresh, err := knownhosts.New(k.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		if err := fresh(h.name, h.remote, h.key); err != nil {
			t.Errorf("%s: %v", h.name, err)
		}
	}
}
