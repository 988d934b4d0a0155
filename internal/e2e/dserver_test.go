package e2e

// The one way the end-to-end tests start a dserver: startDServer(t,
// options…). With no options it is our dserver, run as the harness account
// on 127.0.0.1 and a free port, host name testhost, --cfg none, log level
// info, the harness host key, and the account's own name authorizing
// userKey — the server a user would run. Options pick a 4.x reference
// kind, config, files, another account with CAP_DAC_READ_SEARCH, a port,
// environment, log level and extra flags.

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

type serverKind struct {
	name string // "ours", "4.3.2", "4.3.2-ng"
	bin  string // dserver binary
	kit  string // reference kit dir; "" for ours
}

func oursKind() serverKind {
	return serverKind{name: "ours", bin: filepath.Join(binDir, "dserver")}
}

func refKind(t testing.TB, kit string) serverKind {
	dir := interopKit(t, "dtail-"+kit)
	return serverKind{name: kit, bin: filepath.Join(dir, "dserver"), kit: dir}
}

// srvOpts is what the options of startDServer set; the zero value plus
// defaults() is the plain server.
type srvOpts struct {
	kind      serverKind
	as        *osUser           // run as this account (groups cleared); nil: the harness account
	capRead   bool              // ambient CAP_DAC_READ_SEARCH (needs as)
	cfgJSON   string            // a whole dtail.json
	serverCfg map[string]any    // merged into its Server section
	files     map[string][]byte // written into the working directory
	users     map[string][]byte // SSH user → authorized_keys content
	noSelf    bool              // do not authorize userKey for the harness account
	host      string            // DTAIL_HOSTNAME_OVERRIDE ("" = none)
	bind      string
	port      int  // fixed port (0: a free one)
	prefer    bool // port is only a wish: fall back to free ports
	netns     string
	env       []string // extra environment (a later PATH= wins)
	logLevel  string
	args      []string // extra dserver flags
	pprof     bool
	dir, home string // run in this prepared directory; nothing is written there but the config
}

type srvOpt func(*srvOpts)

// withKind runs a reference 4.x dserver (refKind) or ours.
func withKind(k serverKind) srvOpt { return func(o *srvOpts) { o.kind = k } }

// withBin runs another dserver binary as our kind (an older build for
// before figures); "" keeps ours.
func withBin(bin string) srvOpt {
	return func(o *srvOpts) {
		if bin != "" {
			o.kind = serverKind{name: bin, bin: bin}
		}
	}
}

// asUser runs the server as u in a directory owned by u (no groups).
// Only the users given by withUsers are authorized then.
func asUser(u osUser) srvOpt { return func(o *srvOpts) { o.as = &u } }

// withCapRead gives the server CAP_DAC_READ_SEARCH as an ambient
// capability (the packaged unit does), so only our check stands between
// a user and a file; startDServer verifies the process holds it.
func withCapRead() srvOpt { return func(o *srvOpts) { o.capRead = true } }

// withConfig is a whole dtail.json ("" keeps --cfg none).
func withConfig(js string) srvOpt { return func(o *srvOpts) { o.cfgJSON = js } }

// withServerConfig merges keys into the Server section of dtail.json.
func withServerConfig(m map[string]any) srvOpt {
	return func(o *srvOpts) {
		if o.serverCfg == nil {
			o.serverCfg = map[string]any{}
		}
		maps.Copy(o.serverCfg, m)
	}
}

// withFiles creates files (name relative to the working directory).
func withFiles(files map[string][]byte) srvOpt { return func(o *srvOpts) { o.files = files } }

// withUsers authorizes SSH users (name → authorized_keys content).
func withUsers(users map[string][]byte) srvOpt { return func(o *srvOpts) { o.users = users } }

// withoutSelf leaves the harness account's userKey unauthorized.
func withoutSelf() srvOpt { return func(o *srvOpts) { o.noSelf = true } }

// withHost sets DTAIL_HOSTNAME_OVERRIDE ("" leaves the real host name).
func withHost(h string) srvOpt { return func(o *srvOpts) { o.host = h } }

// withBind listens on addr instead of 127.0.0.1.
func withBind(addr string) srvOpt { return func(o *srvOpts) { o.bind = addr } }

// withPort listens on port and nowhere else (restarts keep it).
func withPort(p int) srvOpt { return func(o *srvOpts) { o.port = p; o.prefer = false } }

// preferPort tries port first and falls back to free ports.
func preferPort(p int) srvOpt { return func(o *srvOpts) { o.port = p; o.prefer = true } }

// inNetns runs the server inside a network namespace (as root through
// ip netns exec + setpriv).
func inNetns(ns string) srvOpt { return func(o *srvOpts) { o.netns = ns } }

// withEnv adds environment entries.
func withEnv(env ...string) srvOpt { return func(o *srvOpts) { o.env = append(o.env, env...) } }

// withLogLevel sets --logLevel (default info).
func withLogLevel(l string) srvOpt { return func(o *srvOpts) { o.logLevel = l } }

// withArgs adds dserver flags.
func withArgs(a ...string) srvOpt { return func(o *srvOpts) { o.args = append(o.args, a...) } }

// withPprof serves pprof on a free port (goroutine and fd probes).
func withPprof() srvOpt { return func(o *srvOpts) { o.pprof = true } }

// inDir runs the server in a directory the test prepared (keys and all,
// e.g. integration-test mode); startDServer writes nothing there but a
// config file.
func inDir(dir, home string) srvOpt {
	return func(o *srvOpts) { o.dir, o.home, o.noSelf = dir, home, true }
}

// server is one dserver the test started; it keeps its port, directory
// and log files across restarts.
type server struct {
	kind    serverKind
	o       srvOpts
	dir     string // working directory (CWD)
	home    string
	cfgPath string // "" = --cfg none
	host    string // REMOTE header host name (DTAIL_HOSTNAME_OVERRIDE)
	port    int
	addr    string
	pprof   string
	proc    *bg
	logs    []string // output file of every incarnation, in order
}

// startDServer starts a dserver and waits until its port accepts; the
// process is stopped by PID when the test ends.
func startDServer(t testing.TB, opts ...srvOpt) *server {
	t.Helper()
	keys(t)
	o := srvOpts{kind: oursKind(), host: "testhost", bind: "127.0.0.1", logLevel: "info"}
	for _, f := range opts {
		f(&o)
	}
	owner := osUser{name: acct.name, uid: acct.uid, gid: acct.gid}
	if o.as != nil {
		owner = *o.as
		o.noSelf = true
	}
	write := func(path string, data []byte, mode os.FileMode) string {
		if o.as != nil {
			return writeAs(t, path, data, owner.uid, owner.gid, mode)
		}
		return writeOwned(t, path, data, mode)
	}
	mkdir := func(path string, mode os.FileMode) string {
		if o.as != nil {
			return mkdirAs(t, path, owner.uid, owner.gid, mode)
		}
		return mkdirOwned(t, path, mode)
	}
	s := &server{kind: o.kind, o: o, dir: o.dir, home: o.home, host: o.host}
	if s.dir == "" {
		s.dir = newWorkDir(t)
		if o.as != nil {
			if err := os.Chown(s.dir, owner.uid, owner.gid); err != nil {
				t.Fatal(err)
			}
		}
		cache := mkdir(filepath.Join(s.dir, "cache"), 0o755)
		hk, err := os.ReadFile(hostKey.priv)
		if err != nil {
			t.Fatal(err)
		}
		write(filepath.Join(cache, "ssh_host_key"), hk, 0o600)
		if !o.noSelf {
			write(filepath.Join(cache, acct.name+".authorized_keys"), userKey.pub, 0o644)
		}
		for u, k := range o.users {
			write(filepath.Join(cache, u+".authorized_keys"), k, 0o644)
		}
		s.home = mkdir(filepath.Join(s.dir, "home"), 0o755)
		mkdir(filepath.Join(s.home, ".ssh"), 0o700)
	}
	for name, data := range o.files {
		write(filepath.Join(s.dir, name), data, 0o644)
	}
	if o.cfgJSON != "" || o.serverCfg != nil {
		doc := map[string]any{}
		if o.cfgJSON != "" {
			if err := json.Unmarshal([]byte(o.cfgJSON), &doc); err != nil {
				t.Fatalf("withConfig: %v", err)
			}
		}
		if o.serverCfg != nil {
			sec, _ := doc["Server"].(map[string]any)
			if sec == nil {
				sec = map[string]any{}
			}
			maps.Copy(sec, o.serverCfg)
			doc["Server"] = sec
		}
		b, _ := json.MarshalIndent(doc, "", "  ")
		if o.cfgJSON != "" && o.serverCfg == nil {
			b = []byte(o.cfgJSON) // exactly as the test wrote it
		}
		name := "dtail.json"
		if o.dir != "" { // a shared directory: one file per server
			name = fmt.Sprintf("dtail-%d.json", time.Now().UnixNano())
		}
		s.cfgPath = write(filepath.Join(s.dir, name), b, 0o644)
	}
	for attempt := 0; ; attempt++ {
		s.port = o.port
		if s.port == 0 || (o.prefer && attempt > 0) {
			s.port = freePort(t)
		}
		if s.start(t) {
			return s
		}
		if attempt == 2 {
			t.Fatalf("%s dserver did not listen on %s:\n%s", s.kind.name, s.addr, s.log())
		}
		if o.port != 0 && !o.prefer {
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// start runs one dserver process on s.port and waits until it listens.
func (s *server) start(t testing.TB) bool {
	t.Helper()
	o := s.o
	s.addr = net.JoinHostPort(o.bind, strconv.Itoa(s.port))
	cfg := "none"
	if s.cfgPath != "" {
		cfg = s.cfgPath
	}
	args := []string{"--cfg", cfg, "--logger", "stdout", "--logLevel", o.logLevel,
		"--bindAddress", o.bind, "--port", strconv.Itoa(s.port)}
	if o.pprof {
		s.pprof = net.JoinHostPort(o.bind, strconv.Itoa(freePort(t)))
		args = append(args, "--pprof", s.pprof)
	}
	args = append(args, o.args...)
	name := acct.name
	attr := procAttr()
	if o.as != nil {
		name = o.as.name
		attr = &syscall.SysProcAttr{
			Setpgid:    true,
			Credential: &syscall.Credential{Uid: uint32(o.as.uid), Gid: uint32(o.as.gid), Groups: []uint32{}},
		}
		if o.capRead {
			attr.AmbientCaps = []uintptr{unix.CAP_DAC_READ_SEARCH}
		}
	}
	var cmd *exec.Cmd
	if o.netns != "" {
		// ip netns exec and setpriv both exec, so the PID is dserver's.
		u := osUser{uid: acct.uid, gid: acct.gid}
		if o.as != nil {
			u = *o.as
		}
		a := []string{"netns", "exec", o.netns, "setpriv", "--reuid", strconv.Itoa(u.uid), "--regid", strconv.Itoa(u.gid), "--clear-groups", s.kind.bin}
		cmd = exec.Command("ip", append(a, args...)...)
		attr = &syscall.SysProcAttr{Setpgid: true}
	} else {
		cmd = exec.Command(s.kind.bin, args...)
	}
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.home, "USER=" + name, "LOGNAME=" + name, "LANG=C.UTF-8"}
	if o.host != "" {
		cmd.Env = append(cmd.Env, "DTAIL_HOSTNAME_OVERRIDE="+o.host)
	}
	cmd.Env = append(cmd.Env, o.env...)
	out := filepath.Join(s.dir, fmt.Sprintf("dserver-%d-%d.out", s.port, len(s.logs)))
	s.logs = append(s.logs, out)
	s.proc = startBGWith(t, cmd, out, attr)
	if s.waitListening(15 * time.Second) {
		if o.capRead {
			s.requireCap(t)
		}
		return true
	}
	s.proc.stop(syscall.SIGKILL, time.Second)
	return false
}

func (s *server) waitListening(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if s.proc.exited() {
			return false
		}
		c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// restart stops the server by PID and starts a new process on the same
// port and directory (an empty auth-key store).
func (s *server) restart(t testing.TB) {
	t.Helper()
	if !s.proc.stop(syscall.SIGTERM, 3*time.Second) {
		t.Logf("dserver did not stop within 3 s of SIGTERM; killed")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !s.start(t) {
		if time.Now().After(deadline) {
			t.Fatalf("dserver did not come back on %s:\n%s", s.addr, s.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// file returns the path of name in the server's working directory.
func (s *server) file(name string) string { return filepath.Join(s.dir, name) }

func (s *server) pid() int { return s.proc.cmd.Process.Pid }

// log returns the current incarnation's output (stdout and stderr).
func (s *server) log() string { return string(s.proc.output()) + string(s.proc.errOutput()) }

// logAll is the output of every process this server ran, in order.
func (s *server) logAll() string {
	var b strings.Builder
	for _, out := range s.logs {
		o, _ := os.ReadFile(out)
		b.Write(o)
		e, _ := os.ReadFile(out + ".err")
		b.Write(e)
	}
	return b.String()
}

// count reports how often sub occurs in the current incarnation's log.
func (s *server) count(sub string) int { return strings.Count(s.log(), sub) }

// waitCount waits up to d for count(sub) to reach n (server logs are
// written asynchronously to the client's exit) and returns the count.
func (s *server) waitCount(sub string, n int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		c := s.count(sub)
		if c >= n || time.Now().After(deadline) || s.proc.exited() {
			return c
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLogCount is waitCount that fails the test when the log falls short.
func (s *server) waitLogCount(t testing.TB, sub string, n int, d time.Duration) {
	t.Helper()
	if c := s.waitCount(sub, n, d); c < n {
		t.Fatalf("server log holds %q %d times, want %d (exited %v); log tail:\n%s", sub, c, n, s.proc.exited(), tail(s.log(), 20))
	}
}

// waitLog waits up to d for the server log to match re.
func (s *server) waitLog(t testing.TB, re string, d time.Duration) {
	t.Helper()
	rx := regexp.MustCompile(re)
	if !s.proc.waitOutput(d, func(b []byte) bool { return rx.Match(b) }) {
		t.Fatalf("server log does not match %q within %v:\n%s", re, d, clip([]byte(s.log())))
	}
}

// requireCap makes sure the server process really holds
// CAP_DAC_READ_SEARCH, so a denial can only come from our check.
func (s *server) requireCap(t testing.TB) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "CapEff:" {
			v, err := strconv.ParseUint(f[1], 16, 64)
			if err != nil || v&(1<<unix.CAP_DAC_READ_SEARCH) == 0 {
				t.Fatalf("dserver lacks CAP_DAC_READ_SEARCH: %s", l)
			}
			return
		}
	}
	t.Fatal("no CapEff in /proc status")
}

// rss returns the server's resident set size in KiB.
func (s *server) rss(t testing.TB) int {
	t.Helper()
	n := procStatusKB(s.pid(), "VmRSS")
	if n < 0 {
		t.Fatal("no VmRSS")
	}
	return n
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
