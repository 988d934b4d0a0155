package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Security regression suite, authentication part (docs/SECURITY.md): each
// test is one attack against a dserver that runs as an unprivileged account
// holding CAP_DAC_READ_SEARCH, as the packaged unit starts it.

// register opens a session with auth and registers key with AUTHKEY,
// returning the reply.
func register(t *testing.T, s *server, user string, auth ssh.Signer, key sshKey) string {
	t.Helper()
	r := openRaw(t, s.addr, user, ssh.PublicKeys(auth))
	defer r.close()
	r.send(t, "AUTHKEY "+key.b64)
	m, skipped := r.next(t, 15*time.Second, "AUTHKEY")
	if m == "" {
		t.Fatalf("no AUTHKEY reply (skipped %q)\n%s", skipped, tail(s.log(), 20))
	}
	return m
}

// Emptying a user's authorized keys must lock out a key registered with
// AUTHKEY at the next connection (DTail 4.x: in until dserver restarts).
func TestSecAuthKeyRevocation(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	srvU, cliU := addUser(t, "rvsrv"), addUser(t, "rvcli")
	real, fast, third := newKey(t, "", "real"), newKey(t, "", "fast"), newKey(t, "", "third")
	s := startDServer(t, asUser(srvU), withCapRead(), withUsers(map[string][]byte{cliU.name: real.pub}))

	if m := register(t, s, cliU.name, real.signer, fast); !strings.Contains(m, "AUTHKEY OK") {
		t.Fatalf("registration from a real key: %q", m)
	}
	if !keyWorks(s.addr, cliU.name, fast.signer) {
		t.Fatalf("registered key does not work:\n%s", tail(s.log(), 20))
	}
	// A session the store let in cannot register further keys.
	if m := register(t, s, cliU.name, fast.signer, third); strings.Contains(m, "AUTHKEY OK") {
		t.Errorf("a store session registered another key: %q", m)
	}
	if keyWorks(s.addr, cliU.name, third.signer) {
		t.Error("key registered from a store session authenticates")
	}

	writeAs(t, filepath.Join(s.dir, "cache", cliU.name+".authorized_keys"), nil, srvU.uid, srvU.gid, 0o644)
	logins := 0
	const tries = 20
	for range tries {
		if keyWorks(s.addr, cliU.name, fast.signer) {
			logins++
		}
	}
	t.Logf("fast-path logins after revocation: %d of %d", logins, tries)
	if logins != 0 {
		t.Fatalf("fast-path logins after revocation: %d of %d, want 0\n%s", logins, tries, tail(s.log(), 20))
	}
	if keyWorks(s.addr, cliU.name, real.signer) {
		t.Fatal("the removed authorized key still works")
	}
}

// The TTL counts from the one real registration: fast-path logins that send
// AUTHKEY again (every DTail client does) must not keep the key alive.
func TestSecAuthKeyTTLNotRefreshedByFastPath(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	srvU, cliU := addUser(t, "ttsrv"), addUser(t, "ttcli")
	real, fast := newKey(t, "", "real"), newKey(t, "", "fast")
	const ttl = 6 * time.Second
	s := startDServer(t, asUser(srvU), withCapRead(), withConfig(fmt.Sprintf(`{"Server":{"AuthKeyTTLSeconds":%d}}`, int(ttl/time.Second))), withUsers(map[string][]byte{cliU.name: real.pub}))
	if m := register(t, s, cliU.name, real.signer, fast); !strings.Contains(m, "AUTHKEY OK") {
		t.Fatalf("registration: %q", m)
	}
	registered := time.Now() // the entry's time is at or before this
	time.Sleep(ttl / 2)
	// A fast-path session re-sends its own key, as clients do.
	if m := register(t, s, cliU.name, fast.signer, fast); !strings.Contains(m, "AUTHKEY OK") {
		t.Fatalf("re-registration from the fast path should answer OK without effect: %q", m)
	}
	if !keyWorks(s.addr, cliU.name, fast.signer) {
		t.Fatalf("fast path lost within the TTL after the client re-sent AUTHKEY:\n%s", tail(s.log(), 20))
	}
	time.Sleep(time.Until(registered.Add(ttl + 500*time.Millisecond)))
	if keyWorks(s.addr, cliU.name, fast.signer) {
		t.Fatalf("key still accepted %v after its registration (TTL %v): a fast-path login refreshed it", time.Since(registered).Round(time.Millisecond), ttl)
	}
}

// StrictModes: another member of a group with write access to a user's
// home plants a key; dserver (able to read every ~/.ssh) must refuse it,
// as sshd does. The user's own key in a group-writable home is refused too.
func TestSecStrictModes(t *testing.T) {
	t.Parallel()
	requireRoot(t, "usermod")
	g := addGroup(t, "smgrp")
	srvU, victim, mallory := addUser(t, "smsrv"), addUser(t, "smvic", g), addUser(t, "smmal", g)
	victimKey, malKey := newKey(t, "", "victim"), newKey(t, "", "mallory")
	home := mkdirAs(t, filepath.Join(newWorkDir(t), "victim"), victim.uid, g.gid, 0o755)
	sysCmd(t, "usermod", "-d", home, victim.name)
	dotSSH := mkdirAs(t, filepath.Join(home, ".ssh"), victim.uid, victim.gid, 0o700)
	writeAs(t, filepath.Join(dotSSH, "authorized_keys"), victimKey.pub, victim.uid, victim.gid, 0o600)
	s := startDServer(t, asUser(srvU), withCapRead())

	if !keyWorks(s.addr, victim.name, victimKey.signer) {
		t.Fatalf("victim's own key refused in a strict home:\n%s", tail(s.log(), 20))
	}
	// The victim makes the home group-writable; mallory, a group member,
	// moves ~/.ssh aside and plants her own key, as the kernel allows.
	if err := os.Chmod(home, 0o775); err != nil {
		t.Fatal(err)
	}
	plant := exec.Command("sh", "-c", `mv "$1/.ssh" "$1/.ssh.old" && mkdir -m 700 "$1/.ssh" && cat > "$1/.ssh/authorized_keys"`, "sh", home)
	plant.Stdin = strings.NewReader(string(malKey.pub))
	plant.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(mallory.uid), Gid: uint32(mallory.gid), Groups: []uint32{uint32(g.gid)}}}
	if out, err := plant.CombinedOutput(); err != nil {
		t.Fatalf("mallory could not plant the key (the kernel should allow it): %v: %s", err, out)
	}
	if keyWorks(s.addr, victim.name, malKey.signer) {
		t.Fatalf("mallory's planted key logs in as %s", victim.name)
	}
	// The victim's own files in a group-writable home: refused as well.
	sysCmd(t, "rm", "-rf", dotSSH)
	if err := os.Rename(filepath.Join(home, ".ssh.old"), dotSSH); err != nil {
		t.Fatal(err)
	}
	if keyWorks(s.addr, victim.name, victimKey.signer) {
		t.Fatal("key accepted from a group-writable home")
	}
	if s.count("writable by group or others") == 0 {
		t.Errorf("the refusal is not explained in the server log:\n%s", tail(s.log(), 20))
	}
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if !keyWorks(s.addr, victim.name, victimKey.signer) {
		t.Fatal("victim's key refused after the home was fixed")
	}
}

// A user name carrying a newline and a forged MAPREDUCE:STATS line must not
// become a line of the server log that dmap over the log then counts.
func TestSecLogForging(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	srvU := addUser(t, "lfsrv")
	k := newKey(t, "", "k")
	s := startDServer(t, asUser(srvU), withCapRead())
	forged := "x\nINFO|1203-120000|1|stats.go:1|2|10|0|0.10|1s|MAPREDUCE:STATS|currentConnections=999|lifetimeConnections=999\nINFO"
	if keyWorks(s.addr, forged, k.signer) {
		t.Fatal("forged user authenticated")
	}
	keyWorks(s.addr, "y|MAPREDUCE:STATS|currentConnections=998|z=", k.signer)
	s.waitCount("Incoming authorization", 2, 5*time.Second)
	for _, l := range lines(s.proc.output()) {
		if strings.Contains(l, "999") && !strings.Contains(l, `\x0a`) {
			t.Errorf("forged content reached the log raw: %q", l)
		}
	}
	res := run{bin: filepath.Join(binDir, "dmap"), args: []string{"--cfg", "none", "--plain", "--noColor",
		"--files", s.logs[0], "--query", "from STATS select max(currentConnections),count($line)"}, dir: s.dir}.exec(t)
	out := string(res.stdout) + string(res.stderr)
	if strings.Contains(out, "999") || strings.Contains(out, "998") || res.code != 0 {
		t.Fatalf("dmap over the server log counts forged lines:\n%s", res)
	}
	if !strings.Contains(out, "max(currentConnections)") {
		t.Fatalf("dmap read no STATS table:\n%s", res)
	}
}

// Settings that cannot work stop dserver at start with one line naming the
// setting and a non-zero exit, instead of hanging (HostKeyBits 100000
// generates for hours and ignores SIGTERM), accepting connections that all
// fail (bogus algorithm names) or running without a log (LogDir).
func TestSecConfigValidatedAtStart(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	for _, c := range []struct {
		name, cfg, want string
		args            []string
	}{
		{"HostKeyBits", `{"Server":{"HostKeyBits":100000}}`, "HostKeyBits 100000", nil},
		{"KeyExchanges", `{"Server":{"KeyExchanges":["bogus-kex"]}}`, `KeyExchanges: unknown algorithm "bogus-kex"`, nil},
		{"Ciphers", `{"Server":{"Ciphers":["aes128-ctr","rot13"]}}`, `Ciphers: unknown algorithm "rot13"`, nil},
		{"MACs", `{"Server":{"MACs":["hmac-md4"]}}`, `MACs: unknown algorithm "hmac-md4"`, nil},
		{"LogDir", `{"Common":{"LogDir":"/proc/dtail-unwritable"}}`, "LogDir /proc/dtail-unwritable is not writable", []string{"--logger", "file"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := newWorkDir(t)
			mkdirOwned(t, filepath.Join(dir, "cache"), 0o755)
			cfg := writeOwned(t, filepath.Join(dir, "dtail.json"), []byte(c.cfg), 0o644)
			args := append([]string{"--cfg", cfg, "--bindAddress", "127.0.0.1", "--port", fmt.Sprint(freePort(t)), "--logger", "stdout"}, c.args...)
			res := run{bin: filepath.Join(binDir, "dserver"), args: args, dir: dir, timeout: 30 * time.Second}.exec(t)
			errLines := lines(res.stderr)
			if res.timedOut || res.code == 0 || len(errLines) != 1 || !strings.Contains(errLines[0], c.want) {
				t.Fatalf("want a non-zero exit with one stderr line containing %q\ngot %v", c.want, res)
			}
		})
	}
}

// ---- jobs that cannot be borrowed ----

const secJobQuery = "from STATS select count($line) group by $hostname"

// secJobFiles writes a world-readable STATS log and a 0600 log of another
// user (owner) into a fresh directory; the kernel must deny the second to
// srvU, which the test checks with setpriv.
func secJobFiles(t *testing.T, srvU, owner osUser) (pub, secret string) {
	t.Helper()
	dir := newWorkDir(t)
	line := dmStatsLine("INFO", "STATS", "1203-101010", 7, "currentConnections=1")
	pub = writeAs(t, filepath.Join(dir, "pub.log"), []byte(strings.Repeat(line, 3)), 0, 0, 0o644)
	secret = writeAs(t, filepath.Join(dir, "secret.log"), []byte(strings.Repeat(line, 5)), owner.uid, owner.gid, 0o600)
	if out, err := exec.Command("setpriv", "--reuid", fmt.Sprint(srvU.uid), "--regid", fmt.Sprint(srvU.gid), "--clear-groups", "cat", secret).CombinedOutput(); err == nil {
		t.Fatalf("the kernel lets %s read %s, the test needs a denial: %s", srvU.name, secret, out)
	}
	return pub, secret
}

func jobCfg(t *testing.T, schedule []jobJSON) string {
	return jobsConfig(t, schedule, nil)
}

// rawMessages sends cmds in one write on a job session and collects the
// server's messages until the session ends.
func rawMessages(t *testing.T, s *server, password string, cmds ...string) []string {
	t.Helper()
	r := openRaw(t, s.addr, "DTAIL-SCHEDULE", ssh.Password(password))
	defer r.close()
	r.send(t, cmds...)
	var msgs []string
	deadline := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-r.msgs:
			if !ok {
				return msgs
			}
			msgs = append(msgs, m)
			if strings.Contains(m, ".syn close connection") {
				r.send(t, ".ack close connection")
			}
		case <-deadline:
			t.Fatalf("job session did not end; messages so far: %q", msgs)
		}
	}
}

// A job password opens exactly that job: its query on its files, read with
// the permissions of the dserver account (RunAs), unless the job says
// ReadAnyFile. Jobs that do not opt in accept no login at all; names never
// reach the log.
func TestSecJobSessionHeldToItsJob(t *testing.T) {
	t.Parallel()
	requireRoot(t, "setpriv")
	srvU, owner := addUser(t, "jssrv"), addUser(t, "jsown")
	pub, secret := secJobFiles(t, srvU, owner)
	suffix := uniqueName("")
	okJob, closedJob, anyJob := "ok-"+suffix, "closed-"+suffix, "any-"+suffix
	allDay := &[2]int{0, 24}
	s := startDServer(t, asUser(srvU), withCapRead(), withConfig(jobCfg(t, []jobJSON{
		{Name: okJob, Files: pub + "," + secret, Query: secJobQuery, Outfile: "./x.csv", AllowFrom: []string{"127.0.0.1", "127.0.0.2"}, TimeRange: allDay, AllowRemoteLogin: true},
		{Name: closedJob, Files: pub, Query: secJobQuery, Outfile: "./y.csv", AllowFrom: []string{"127.0.0.1"}, TimeRange: allDay},
		{Name: anyJob, Files: secret, Query: secJobQuery, Outfile: "./z.csv", AllowFrom: []string{"127.0.0.1"}, TimeRange: allDay, AllowRemoteLogin: true, ReadAnyFile: true},
	})))

	t.Run("not opted in", func(t *testing.T) {
		if c, err := akDial(s.addr, "DTAIL-SCHEDULE", ssh.Password(closedJob)); err == nil {
			c.Close()
			t.Fatal("a job without AllowRemoteLogin accepted a login")
		}
		time.Sleep(time.Second) // the failure above starts a short backoff
	})

	t.Run("only its query and files", func(t *testing.T) {
		msgs := rawMessages(t, s, okJob,
			"cat /etc/passwd x", // before the query: would send raw lines
			"map from STATS select max(currentConnections) group by $hostname",
			"SESSION START",
			"map "+secJobQuery+" outfile ./whatever.csv",
			"cat /etc/passwd x",
			"tail /etc/shadow x",
			"cat "+pub+" x",
			"cat "+secret+" x",
		)
		all := strings.Join(msgs, "\n")
		if strings.Contains(all, "root:") {
			t.Fatalf("a job session read /etc/passwd:\n%s", all)
		}
		for _, want := range []string{
			"job sessions read only into their job's query",
			"job sessions may only run their job's query",
			"SESSION is not allowed in job sessions",
			"/etc/passwd is not one of the job's files",
			"/etc/shadow is not one of the job's files",
			unreadableMsg, // the secret: the dserver account may not read it
			"AGGREGATE",
		} {
			if !strings.Contains(all, want) {
				t.Errorf("missing %q in the job session's messages:\n%s", want, all)
			}
		}
		if strings.Contains(all, "count($line)≔8") {
			t.Errorf("the secret file was counted:\n%s", all)
		}
	})

	t.Run("ReadAnyFile is explicit", func(t *testing.T) {
		msgs := rawMessages(t, s, anyJob, "map "+secJobQuery, "cat "+secret+" x")
		if all := strings.Join(msgs, "\n"); !strings.Contains(all, "count($line)≔5") {
			t.Errorf("a ReadAnyFile job could not read its file:\n%s", all)
		}
	})

	t.Run("guessing", func(t *testing.T) {
		const hammer = 3 * time.Second
		before := s.count("Job login refused")
		attempts := 0
		for start := time.Now(); time.Since(start) < hammer; attempts++ {
			if c, err := akDial(s.addr, "DTAIL-SCHEDULE", ssh.Password(fmt.Sprintf("guess-%d", attempts))); err == nil {
				c.Close()
				t.Fatal("a guess logged in")
			}
		}
		compared := s.waitCount("Job login refused", before+1, 5*time.Second) - before
		t.Logf("job password guesses: %d attempts in %v, %d compared (%.1f/s)", attempts, hammer, compared, float64(compared)/hammer.Seconds())
		if c, err := akDial(s.addr, "DTAIL-SCHEDULE", ssh.Password(okJob)); err == nil {
			c.Close()
			t.Error("the right password was compared while the source was backing off")
		}
		if float64(compared)/hammer.Seconds() > 5 {
			t.Errorf("%d guesses compared in %v", compared, hammer)
		}
		// Another loopback source address is the same local attacker.
		if loginFrom(s.addr, "127.0.0.2", okJob) {
			t.Error("the right password was compared from another loopback address during the backoff")
		}
	})

	log := s.log()
	for _, name := range []string{okJob, closedJob, anyJob} {
		if strings.Contains(log, name) {
			t.Errorf("job name %s (a password) is in the server log", name)
		}
	}
}

// A job aimed at this dserver runs in-process (no login) and reads with the
// dserver account's permissions, not the capability's, unless ReadAnyFile.
func TestSecJobInProcess(t *testing.T) {
	t.Parallel()
	requireRoot(t, "setpriv")
	srvU, owner := addUser(t, "jpsrv"), addUser(t, "jpown")
	_, secret := secJobFiles(t, srvU, owner)
	allDay := &[2]int{0, 24}
	s := startDServer(t, asUser(srvU), withCapRead(), withConfig(jobCfg(t, []jobJSON{
		{Name: "plain", Enable: true, Files: secret, Query: secJobQuery, Outfile: "./plain.csv", AllowFrom: []string{"127.0.0.1"}, TimeRange: allDay},
		{Name: "anyfile", Enable: true, Files: secret, Query: secJobQuery, Outfile: "./anyfile.csv", AllowFrom: []string{"127.0.0.1"}, TimeRange: allDay, ReadAnyFile: true},
	})))
	if s.waitCount("Job exited with status", 2, 30*time.Second) < 2 {
		t.Fatalf("jobs did not finish:\n%s", tail(s.log(), 30))
	}
	plain, _ := os.ReadFile(filepath.Join(s.dir, "plain.csv"))
	anyfile, _ := os.ReadFile(filepath.Join(s.dir, "anyfile.csv"))
	if strings.Contains(string(plain), "5") {
		t.Errorf("the job read a file the dserver account may not read: %q\n%s", plain, tail(s.log(), 30))
	}
	if !strings.Contains(string(anyfile), "5") {
		t.Errorf("the ReadAnyFile job did not read its file: %q\n%s", anyfile, tail(s.log(), 30))
	}
	if n := s.count("Incoming authorization"); n != 0 {
		t.Errorf("local jobs logged in over SSH (%d logins):\n%s", n, tail(s.log(), 30))
	}
}

// A job on one host aimed at another verifies the server's host key: an
// impostor (here: a server whose key is not in known_hosts) never receives
// the job's password. With the key known the job logs in and runs.
func TestSecJobRemoteHostKey(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	aU, bU := addUser(t, "jhasrv"), addUser(t, "jhbsrv")
	dir := newWorkDir(t)
	pub := writeAs(t, filepath.Join(dir, "pub.log"), []byte(strings.Repeat(dmStatsLine("INFO", "STATS", "1203-101010", 7, "currentConnections=1"), 4)), 0, 0, 0o644)
	name := "xhost-" + uniqueName("")
	allDay := &[2]int{0, 24}
	b := startDServer(t, asUser(bU), withCapRead(), withConfig(jobCfg(t, []jobJSON{
		{Name: name, Files: pub, Query: secJobQuery, Outfile: "./unused.csv", AllowFrom: []string{"127.0.0.1"}, TimeRange: allDay, AllowRemoteLogin: true},
	})))
	aCfg := func(out string) string {
		return jobCfg(t, []jobJSON{{Name: name, Enable: true, Servers: []string{b.addr}, Files: pub, Query: secJobQuery, Outfile: out, TimeRange: allDay}})
	}
	a := startDServer(t, asUser(aU), withCapRead(), withConfig(aCfg("./unknown.csv")))
	if a.waitCount("Job exited with status", 1, 30*time.Second) < 1 {
		t.Fatalf("job did not finish:\n%s", tail(a.log(), 30))
	}
	if a.count("Job exited with status 0") != 0 || b.count("DTAIL-SCHEDULE") != 0 {
		t.Fatalf("the job logged in to a server with an unknown host key\nA:\n%s\nB:\n%s", tail(a.log(), 20), tail(b.log(), 20))
	}
	t.Logf("unknown host key, A's log:\n%s", tail(a.log(), 6))

	sshDir := filepath.Join(a.dir, "home", ".ssh")
	if _, err := os.Stat(sshDir); err != nil {
		mkdirAs(t, sshDir, aU.uid, aU.gid, 0o700)
	}
	writeAs(t, filepath.Join(sshDir, "known_hosts"), []byte(fmt.Sprintf("[127.0.0.1]:%d %s", b.port, hostKey.pub)), aU.uid, aU.gid, 0o600)
	writeAs(t, filepath.Join(a.dir, "dtail.json"), []byte(aCfg("./known.csv")), aU.uid, aU.gid, 0o644)
	a.restart(t)
	if a.waitCount("Job exited with status", 1, 30*time.Second) < 1 {
		t.Fatalf("job did not finish:\n%s", tail(a.log(), 30))
	}
	got, _ := os.ReadFile(filepath.Join(a.dir, "known.csv"))
	if string(got) != "count($line)\n4\n" {
		t.Errorf("remote job result %q\nA:\n%s\nB:\n%s", got, tail(a.log(), 20), tail(b.log(), 20))
	}
	if b.count("Job login accepted|schedule job #1") != 1 || strings.Contains(b.log(), name) || strings.Contains(a.log(), name) {
		t.Errorf("remote login not as expected (or the job name was logged)\nA:\n%s\nB:\n%s", tail(a.log(), 20), tail(b.log(), 20))
	}
}

// SIGTERM while dserver generates a large host key ends it at once (the
// generation cannot be interrupted; DTail 4.x and we before ignored the
// signal until it finished).
func TestSecStartupSIGTERM(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	dir := newWorkDir(t)
	cfg := writeOwned(t, filepath.Join(dir, "dtail.json"), []byte(`{"Server":{"HostKeyBits":8192,"HostKeyFile":"./new_host_key"}}`), 0o644)
	cmd := exec.Command(filepath.Join(binDir, "dserver"), "--cfg", cfg, "--bindAddress", "127.0.0.1", "--port", fmt.Sprint(freePort(t)), "--logger", "stdout")
	cmd.Dir = dir
	cmd.Env = baseEnv(dir)
	p := startBGWith(t, cmd, filepath.Join(dir, "dserver.out"), procAttr())
	if !p.waitOutput(10*time.Second, func(b []byte) bool { return strings.Contains(string(b), "Generating private server RSA host key") }) {
		t.Fatalf("dserver did not start generating:\n%s", p.output())
	}
	start := time.Now()
	if !p.stop(syscall.SIGTERM, 5*time.Second) {
		t.Fatalf("dserver ignored SIGTERM while generating its host key (killed after %v)", time.Since(start).Round(time.Millisecond))
	}
	if c := p.exitCode(); c != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", c)
	}
}

// loginFrom tries a DTAIL-SCHEDULE password login from local address src.
func loginFrom(addr, src, password string) bool {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User: "DTAIL-SCHEDULE", Auth: []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
	})
	if err != nil {
		return false
	}
	ssh.NewClient(c, chans, reqs).Close()
	return true
}
