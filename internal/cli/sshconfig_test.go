package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dtail-go/dtail/internal/sshclient"
	"github.com/dtail-go/dtail/internal/sshconfig"
	"golang.org/x/crypto/ssh"
)

func resolverFor(t *testing.T, conf string, args ...string) (*routeResolver, *[]string) {
	t.Helper()
	c, err := sshconfig.Parse("test", []byte(conf), sshconfig.Options{Home: "/home/me"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseClient(DCat, args, "me", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	return &routeResolver{conf: c, f: f, home: t.TempDir(), localUser: "me", signers: sshclient.NewSignerSet(sshclient.SignerOptions{}),
		warn: func(m string) { warnings = append(warnings, m) }, warned: map[string]bool{}}, &warnings
}

func resolveOne(t *testing.T, r *routeResolver, entry string) sshclient.Server {
	t.Helper()
	s, err := sshclient.ParseServer(entry, r.f.Port) // as serverList does
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.apply([]sshclient.Server{s})
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func TestRoutePrecedence(t *testing.T) {
	conf := "Host loghost\n HostName 10.1.2.3\n Port 2301\n User logs\nHost *\n User everyone\n"
	r, _ := resolverFor(t, conf)
	s := resolveOne(t, r, "loghost")
	if s.Name != "loghost" || s.Host != "10.1.2.3" || s.Port != 2301 || s.Route == nil || s.Route.User != "logs" {
		t.Errorf("alias: %+v %+v", s, s.Route)
	}
	// Not in the config: the built-in defaults, no route at all.
	if s := resolveOne(t, r, "plain.example"); s.Port != 2222 || s.Host != "plain.example" || s.Route.User != "everyone" {
		t.Errorf("Host * user: %+v %+v", s, s.Route)
	}
	// A port in the entry beats the config.
	if s := resolveOne(t, r, "loghost:4000"); s.Port != 4000 || s.Host != "10.1.2.3" {
		t.Errorf("entry port: %+v", s)
	}
	// --port and --user beat it too.
	r, _ = resolverFor(t, conf, "--port", "5000", "--user", "cli")
	if s := resolveOne(t, r, "loghost"); s.Port != 5000 || s.Route.User != "" {
		t.Errorf("flags: %+v %+v", s, s.Route)
	}
	// Nothing configured for the name: the server is left alone.
	r, _ = resolverFor(t, "Host other\n Port 1\n")
	if s := resolveOne(t, r, "web1:2222"); s.Route != nil || s.Port != 2222 {
		t.Errorf("unconfigured: %+v", s)
	}
}

func TestRouteJumpChain(t *testing.T) {
	conf := `Host target
  ProxyJump ops@j1:23,j2
Host j1
  HostName j1.example
  ProxyJump j0
  Port 99
Host j2
  HostName 10.0.0.2
  User jumper
Host j0
  User zero
`
	r, _ := resolverFor(t, conf)
	s := resolveOne(t, r, "target")
	if s.Route == nil || len(s.Route.Jumps) != 3 {
		t.Fatalf("route %+v", s.Route)
	}
	want := []struct {
		host string
		port int
		user string
	}{{"j0", 22, "zero"}, {"j1.example", 23, "ops"}, {"10.0.0.2", 22, "jumper"}}
	for i, w := range want {
		j := s.Route.Jumps[i]
		user := ""
		if j.Route != nil {
			user = j.Route.User
		}
		if j.Host != w.host || j.Port != w.port || user != w.user {
			t.Errorf("hop %d: %s:%d user %q, want %+v", i, j.Host, j.Port, user, w)
		}
		if j.Route != nil && len(j.Route.Jumps) != 0 {
			t.Errorf("hop %d keeps jumps of its own: %+v", i, j.Route.Jumps)
		}
	}
	r, _ = resolverFor(t, "Host a\n ProxyJump b\nHost b\n ProxyJump a\n")
	sv, _ := sshclient.ParseServer("a", 2222)
	if _, err := r.apply([]sshclient.Server{sv}); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("ProxyJump loop: %v", err)
	}
}

func TestRouteIdentityFiles(t *testing.T) {
	r, warnings := resolverFor(t, "")
	dir := r.home
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	blk, _ := ssh.MarshalPrivateKey(priv, "id")
	keyPath := filepath.Join(dir, "id_logs_2301")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(priv)
	conf := "Host loghost\n Port 2301\n IdentityFile %d/id_logs_%p\n IdentityFile ~/missing\n IdentitiesOnly yes\nHost proxied\n ProxyCommand ssh -W %h:%p b\n"
	c, err := sshconfig.Parse("test", []byte(conf), sshconfig.Options{Home: dir})
	if err != nil {
		t.Fatal(err)
	}
	r.conf = c
	s := resolveOne(t, r, "loghost")
	if s.Route == nil || len(s.Route.Signers) != 1 || string(s.Route.Signers[0].PublicKey().Marshal()) != string(signer.PublicKey().Marshal()) {
		t.Fatalf("IdentitiesOnly signers: %+v", s.Route)
	}
	if len(*warnings) != 1 || !strings.Contains((*warnings)[0], "missing") {
		t.Errorf("warnings %q", *warnings)
	}
	resolveOne(t, r, "proxied")
	if len(*warnings) != 2 || !strings.Contains((*warnings)[1], "ProxyCommand") {
		t.Errorf("ProxyCommand warning: %q", *warnings)
	}
}
