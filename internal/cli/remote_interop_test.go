package cli

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// interopDir holds the reference DTail binaries (see its README.md); they
// are test peers only.
const interopDir = "/work/shared/interop"

// refServer is a reference dserver on 127.0.0.1 serving dir.
type refServer struct {
	dir  string // working directory, owned by the server's user
	port int
	cmd  *exec.Cmd
	out  *strings.Builder
}

// startRefServer runs kit's dserver as an unprivileged user (dserver
// refuses UID 0) with a host key, an authorized key for SSH user "alice"
// and the given files in its directory.
func startRefServer(t *testing.T, kit string, clientPub ssh.PublicKey, files map[string]string) *refServer {
	t.Helper()
	bin := filepath.Join(interopDir, kit, "dserver")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("reference binaries not available (%v); interop test skipped", err)
	}
	var prefix []string
	uid, gid := -1, -1
	if os.Getuid() == 0 {
		u, err := user.Lookup("dtref")
		if err != nil {
			t.Skip("running as root needs the unprivileged user dtref for the reference dserver: useradd -m dtref")
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Skip("setpriv not found; needed to run the reference dserver as dtref")
		}
		prefix = []string{setpriv, "--reuid=dtref", "--regid=dtref", "--init-groups"}
	}
	// Not t.TempDir: its parent is private to root and the server user
	// has to reach the files.
	dir, err := os.MkdirTemp("", "dtail-interop-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	write := func(name, data string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	// A 2048-bit host key made here: the server would spend seconds on a
	// 4096-bit one.
	hostKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	write("cache/ssh_host_key", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(hostKey)})), 0o600)
	write("cache/alice.authorized_keys", string(ssh.MarshalAuthorizedKey(clientPub)), 0o600)
	write("home/.keep", "", 0o600)
	for name, data := range files {
		write(name, data, 0o644)
	}
	if uid >= 0 {
		filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err == nil {
				err = os.Lchown(p, uid, gid)
			}
			return err
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	args := append(prefix, bin, "--cfg", "none", "--logger", "stdout", "--logLevel", "info",
		"--bindAddress", "127.0.0.1", "--port", strconv.Itoa(port))
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + filepath.Join(dir, "home"), "PATH=/usr/bin:/bin"}
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rs := &refServer{dir: dir, port: port, cmd: cmd, out: out}
	t.Cleanup(func() {
		// Stop exactly the process we started.
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("reference dserver output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", rs.addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reference dserver did not listen on %s", rs.addr())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return rs
}

func (rs *refServer) addr() string            { return "127.0.0.1:" + strconv.Itoa(rs.port) }
func (rs *refServer) path(name string) string { return filepath.Join(rs.dir, name) }

const interopContent = "line one\n\n\nERROR two\nthree\r\nERROR four\nno newline at the end"

func TestInteropReferenceServer(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test starts the reference dserver")
	}
	for _, kit := range []string{"dtail-4.3.2", "dtail-4.3.2-ng"} {
		t.Run(kit, func(t *testing.T) {
			e := newTestEnv(t)
			key := filepath.Join(e.home, ".ssh", "id_ed25519")
			writeKey(t, key)
			pubData, _ := os.ReadFile(key + ".pub")
			pub, _, _, _, err := ssh.ParseAuthorizedKey(pubData)
			if err != nil {
				t.Fatal(err)
			}
			rs := startRefServer(t, kit, pub, map[string]string{"demo.log": interopContent})
			// The 4.3.2 server does not know AUTHKEY and ends the session
			// when it arrives, so it is only sent to the ng server.
			base := []string{"-cfg", "none", "-servers", rs.addr(), "-user", "alice", "-auth-key-path", key,
				"-trustAllHosts", "-logger", "stdout", "-logLevel", "warn"}
			if kit == "dtail-4.3.2" {
				base = append(base, "-no-auth-key")
			}
			run := func(bin string, args ...string) (int, string) {
				t.Helper()
				e.stdout.Reset()
				e.stderr.Reset()
				code := RunClient(bin, e.env(append(append([]string{}, base...), args...)...))
				if e.stderr.Len() > 0 {
					t.Logf("%s stderr: %s", bin, e.stderr.String())
				}
				return code, e.stdout.String()
			}

			// dcat --plain prints the file; our client ends the last
			// line with a newline as the ng reference does.
			code, out := run(DCat, "-plain", "-files", rs.path("demo.log"))
			if want := interopContent + "\n"; code != 0 || out != want {
				t.Errorf("dcat --plain: exit %d\n%q\nwant\n%q", code, out, want)
			}

			code, out = run(DGrep, "-plain", "-regex", "ERROR", "-files", rs.path("demo.log"))
			if want := "ERROR two\nERROR four\n"; code != 0 || out != want {
				t.Errorf("dgrep --plain: exit %d\n%q\nwant\n%q", code, out, want)
			}

			code, out = run(DGrep, "-plain", "-regex", "ERROR", "-invert", "-files", rs.path("demo.log"))
			if want := "line one\n\n\nthree\r\nno newline at the end\n"; code != 0 || out != want {
				t.Errorf("dgrep --plain --invert: exit %d\n%q\nwant\n%q", code, out, want)
			}

			code, out = run(DGrep, "-plain", "-regex", "two", "-after", "1", "-files", rs.path("demo.log"))
			if want := "ERROR two\nthree\r\n"; code != 0 || out != want {
				t.Errorf("dgrep --plain --after 1: exit %d\n%q\nwant\n%q", code, out, want)
			}

			// Non-plain: REMOTE lines numbered per file.
			code, out = run(DCat, "-noColor", "-files", rs.path("demo.log"))
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if code != 0 || len(lines) != 7 {
				t.Fatalf("dcat: exit %d, %d lines: %q", code, len(lines), out)
			}
			for i, l := range lines {
				f := strings.SplitN(l, "|", 6)
				if len(f) != 6 || f[0] != "REMOTE" || f[2] != "100" || f[3] != strconv.Itoa(i+1) || f[4] != "demo.log" {
					t.Errorf("line %d: %q", i+1, l)
				}
			}

			// A missing file: the server's WARN is shown and the exit code
			// is 1 (the reference exits 0). The reference server retries
			// the glob for a few seconds before giving up.
			code, out = run(DCat, "-plain", "-files", rs.path("missing.log"))
			if code != 1 || !strings.Contains(out, "Unable to read file(s)") {
				t.Errorf("missing file: exit %d, output %q", code, out)
			}

			// dtailhealth never sends AUTHKEY, so both servers answer OK.
			e.stdout.Reset()
			if code := RunHealth(e.env("-server", rs.addr())); code != 0 || e.stdout.String() != fmt.Sprintf("OK: All fine at %s :-)\n", rs.addr()) {
				t.Errorf("dtailhealth: exit %d, %q", code, e.stdout.String())
			}
		})
	}
}
