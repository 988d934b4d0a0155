package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// systemd journal targets (spec 4.11, issue 15) end to end, against a
// stand-in journalctl (internal/journal/testdata/journalctl) put first in
// dserver's PATH: it records its arguments and SIGTERMs, and files next to
// it steer what it prints.

const journalEntries = "journal alpha\njournal beta match-123\njournal gamma match-456\n"

// journalMock is one mock journalctl directory, owned by the account the
// servers run as (the mock writes its log there).
type journalMock struct{ dir string }

func newJournalMock(t *testing.T, files map[string]string) journalMock {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(moduleRoot, "internal", "journal", "testdata", "journalctl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := mkdirOwned(t, filepath.Join(newWorkDir(t), "bin"), 0o755)
	writeOwned(t, filepath.Join(dir, "journalctl"), src, 0o755)
	for name, data := range files {
		writeOwned(t, filepath.Join(dir, name), []byte(data), 0o644)
	}
	return journalMock{dir: dir}
}

func (m journalMock) pathEnv() string { return "PATH=" + m.dir + ":" + os.Getenv("PATH") }

// runs returns the mock's argument lines ("SIGTERM" for a signal).
func (m journalMock) runs() []string {
	b, _ := os.ReadFile(filepath.Join(m.dir, "args.log"))
	var out []string
	for _, l := range lines(b) {
		if _, rest, ok := strings.Cut(l, " "); ok {
			out = append(out, rest)
		}
	}
	return out
}

func (m journalMock) count(s string) int {
	n := 0
	for _, r := range m.runs() {
		if r == s {
			n++
		}
	}
	return n
}

// journalServerConfig: the default rule for files plus one journal.
func journalServerConfig(extra map[string]any) map[string]any {
	c := map[string]any{
		"Permissions":         map[string]any{"Default": []string{"readfiles:^/.*", `readfiles:^journal:test\.service$`}},
		"ReadRetryIntervalMs": 300,
	}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// journalLines keeps the payload of plain output: server messages
// (journalctl's stderr, WARN lines) share stdout with it.
func journalLines(b []byte) string {
	var out strings.Builder
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("journalctl stderr: ")) || bytes.HasPrefix(l, []byte("WARN|")) || bytes.HasPrefix(l, []byte("CLIENT|")) {
			continue
		}
		out.Write(l)
	}
	return out.String()
}

// withJournal is the server side of a journal test: the mock first in
// PATH and journalServerConfig(extra).
func withJournal(m journalMock, extra map[string]any) srvOpt {
	return func(o *srvOpts) {
		withServerConfig(journalServerConfig(extra))(o)
		withEnv(m.pathEnv())(o)
	}
}

func TestJournalWithServer(t *testing.T) {
	m := newJournalMock(t, map[string]string{"entries": journalEntries, "stderr": "mock warning\n"})
	srv := startDServer(t, withJournal(m, nil))
	c := newFClient(t)

	t.Run("DCatBoundedJournal", func(t *testing.T) {
		res, _ := runCmd(t, c.cmd(t, "dcat", []*server{srv}, "--plain", "--files", "journal:test.service"), 30*time.Second)
		if res.code != 0 || journalLines(res.stdout) != journalEntries {
			t.Fatalf("dcat journal: want exit 0 and the three entries, got %v\n%s", res, tail(srv.log(), 20))
		}
		// A SERVER message: on stderr, stdout carries the entries only.
		if !bytes.Contains(res.stderr, []byte("journalctl stderr: mock warning\n")) {
			t.Errorf("journalctl's stderr line is not passed on (stderr): %v", res)
		}
		if m.count("-u test.service") == 0 {
			t.Errorf("mock arguments: %q, want -u test.service", m.runs())
		}
		for _, want := range []string{"Start reading|journal:test.service|journal:test.service",
			"Using turbo mode for reading|journal:test.service|mode|cat|hasAggregate|false"} {
			if !strings.Contains(srv.log(), want) {
				t.Errorf("server log lacks %q:\n%s", want, tail(srv.log(), 20))
			}
		}
	})

	t.Run("DGrepJournalRegex", func(t *testing.T) {
		res, _ := runCmd(t, c.cmd(t, "dgrep", []*server{srv}, "--plain", "--files", "journal:test.service", "--regex", "match-[0-9]+"), 30*time.Second)
		if res.code != 0 || journalLines(res.stdout) != "journal beta match-123\njournal gamma match-456\n" {
			t.Fatalf("dgrep journal: %v", res)
		}
	})

	t.Run("Receipt", func(t *testing.T) {
		res, _ := runCmd(t, c.cmd(t, "dcat", []*server{srv}, "--plain", "--receipt", "json", "--files", "journal:test.service"), 30*time.Second)
		r := findReceipt(t, res.stderr)
		if res.code != 0 || r.FilesRead != 1 || r.Lines != 3 {
			t.Errorf("receipt of a journal read: %+v (%v)", r, res)
		}
	})

	t.Run("NDJSONJournalTime", func(t *testing.T) {
		m2 := newJournalMock(t, map[string]string{"entries": "2026-01-02T03:04:05+0000 host unit[1]: iso entry\n"})
		s2 := startDServer(t, withJournal(m2, nil))
		res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s2}, "--output", "ndjson", "--files", "journal:test.service"), 30*time.Second)
		var obj map[string]any
		if err := json.Unmarshal(bytes.TrimSpace(res.stdout), &obj); err != nil || res.code != 0 {
			t.Fatalf("ndjson: %v (%v)", err, res)
		}
		if obj["time"] != "2026-01-02T03:04:05Z" || obj["file"] != "journal:test.service" || obj["offset"] != nil {
			t.Errorf("ndjson object %v: want the entry's own time, the journal as file and no offset", obj)
		}
		if m2.count("-u test.service -o short-iso") != 1 {
			t.Errorf("mock arguments %q: want -o short-iso for JSON output", m2.runs())
		}
	})

	t.Run("TimeWindowPushedDown", func(t *testing.T) {
		res, _ := runCmd(t, c.cmd(t, "dgrep", []*server{srv}, "--plain", "--files", "journal:test.service", "--regex", "alpha",
			"--since", "2026-01-02T10:00:00Z", "--until", "2026-01-02T11:00:00Z"), 30*time.Second)
		if res.code != 0 || journalLines(res.stdout) != "journal alpha\n" {
			t.Fatalf("dgrep with a window: %v", res)
		}
		since := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC).Unix()
		want := fmt.Sprintf("-u test.service --since @%d --until @%d.999999", since, since+3599)
		if m.count(want) != 1 {
			t.Errorf("mock arguments %q: want %q", m.runs(), want)
		}
	})

	t.Run("DTailFollowJournal", func(t *testing.T) {
		before := m.count("SIGTERM")
		p := c.start(t, c.cmd(t, "dtail", []*server{srv}, "--plain", "--files", "journal:test.service"), "dtail")
		if !p.waitOutput(20*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte("journal follow 3\n")) }) {
			t.Fatalf("dtail: no journal follow 1..3:\n%s\n%s\n%s", p.output(), p.errOutput(), tail(srv.log(), 20))
		}
		if !strings.HasPrefix(journalLines(p.output()), "journal follow 1\njournal follow 2\njournal follow 3\n") {
			t.Errorf("followed lines: %q", p.output())
		}
		// 143 = 128+SIGTERM: a follow a signal ended (DECISIONS).
		if !p.stop(syscall.SIGTERM, 10*time.Second) || p.exitCode() != 143 {
			t.Errorf("dtail did not exit cleanly on SIGTERM: exit %d, want 143", p.exitCode())
		}
		if !waitFor(10*time.Second, func() bool { return m.count("SIGTERM") > before }) {
			t.Errorf("the mock journalctl got no SIGTERM after the client left: %q", m.runs())
		}
		if m.count("-u test.service -f -n 0") == 0 {
			t.Errorf("mock arguments %q: want -u test.service -f -n 0", m.runs())
		}
	})

	t.Run("PermissionRegexDenialAndSuccess", func(t *testing.T) {
		res, _ := runCmd(t, c.cmd(t, "dcat", []*server{srv}, "--plain", "--files", "journal:other.service"), 30*time.Second)
		if res.code != 1 || journalLines(res.stdout) != "" {
			t.Errorf("a journal no rule allows: want exit 1 and no lines, got %v", res)
		}
		if !waitFor(5*time.Second, func() bool { return strings.Contains(srv.log(), "No permission to read file|journal:other.service") }) {
			t.Errorf("server log lacks the denial:\n%s", tail(srv.log(), 20))
		}
		for _, r := range m.runs() {
			if strings.Contains(r, "other.service") {
				t.Errorf("journalctl ran for a denied unit: %q", r)
			}
		}
	})

	t.Run("BadUnitSyntax", func(t *testing.T) {
		res, _ := runCmd(t, c.cmd(t, "dcat", []*server{srv}, "--plain", "--files", "journal:-fake"), 30*time.Second)
		if res.code != 1 || journalLines(res.stdout) != "" {
			t.Errorf("journal:-fake: want exit 1 and no lines, got %v", res)
		}
		for _, r := range m.runs() {
			if strings.Contains(r, "fake") {
				t.Errorf("journalctl ran for an invalid unit: %q", r)
			}
		}
	})

	t.Run("DefaultRuleDoesNotGrantJournals", func(t *testing.T) {
		s2 := startDServer(t, withEnv(m.pathEnv())) // Permissions.Default ^/.*
		res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s2}, "--plain", "--files", "journal:test.service"), 30*time.Second)
		if res.code != 1 || journalLines(res.stdout) != "" {
			t.Errorf("the default rule ^/.* granted a journal: %v", res)
		}
	})
}

func TestJournalExtendedWithServer(t *testing.T) {
	c := newFClient(t)

	t.Run("MixedFileAndJournalFollow", func(t *testing.T) {
		m := newJournalMock(t, nil)
		srv := startDServer(t, withJournal(m, nil))
		f := writeOwned(t, filepath.Join(c.dir, "mixed.log"), nil, 0o644)
		p := c.start(t, c.cmd(t, "dtail", []*server{srv}, "--plain", "--files", f+",journal:test.service"), "dtail")
		if !p.waitOutput(20*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte("journal follow 2\n")) }) {
			t.Fatalf("no journal lines:\n%s\n%s", p.output(), tail(srv.log(), 20))
		}
		ok := waitFor(20*time.Second, func() bool {
			appendFile(t, f, []byte("file line\n"))
			time.Sleep(300 * time.Millisecond)
			return bytes.Contains(p.output(), []byte("file line\n"))
		})
		if !ok {
			t.Fatalf("no file lines among the journal lines:\n%s", p.output())
		}
		n := bytes.Count(p.output(), []byte("journal follow"))
		if !p.waitOutput(10*time.Second, func(b []byte) bool { return bytes.Count(b, []byte("journal follow")) > n }) {
			t.Errorf("the journal stopped after the file's lines:\n%s", p.output())
		}
		p.stop(syscall.SIGTERM, 10*time.Second)
	})

	t.Run("RetryFirstFailureThenSuccess", func(t *testing.T) {
		m := newJournalMock(t, map[string]string{"fail-first": ""})
		srv := startDServer(t, withJournal(m, nil))
		start := time.Now()
		p := c.start(t, c.cmd(t, "dtail", []*server{srv}, "--files", "journal:test.service"), "dtail")
		if !p.waitOutput(30*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte("journal follow 1\n")) }) {
			t.Fatalf("no lines after the failed first journalctl:\n%s\n%s", p.output(), tail(srv.log(), 20))
		}
		if el := time.Since(start); el < 300*time.Millisecond {
			t.Errorf("second journalctl after %v, before ReadRetryIntervalMs", el)
		}
		if n := m.count("-u test.service -f -n 0"); n < 2 {
			t.Errorf("%d journalctl runs, want ≥ 2: %q", n, m.runs())
		}
		// A SERVER message: on the client's stderr.
		if !strings.Contains(string(p.errOutput()), "journalctl stderr: mock journalctl: first run fails") {
			t.Errorf("the failed run's stderr did not reach the client's stderr:\n%s", p.errOutput())
		}
		p.stop(syscall.SIGTERM, 10*time.Second)
	})

	t.Run("CleanShutdownMidFollow", func(t *testing.T) {
		m := newJournalMock(t, nil)
		srv := startDServer(t, withJournal(m, nil))
		for i := 1; i <= 2; i++ {
			p := c.start(t, c.cmd(t, "dtail", []*server{srv}, "--plain", "--files", "journal:test.service"), "dtail")
			if !p.waitOutput(20*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte("journal follow 2\n")) }) {
				t.Fatalf("follow %d: no lines:\n%s", i, tail(srv.log(), 20))
			}
			if !p.stop(syscall.SIGTERM, 10*time.Second) {
				t.Errorf("follow %d: dtail did not end on SIGTERM", i)
			}
			if !waitFor(10*time.Second, func() bool { return m.count("SIGTERM") == i }) {
				t.Errorf("follow %d: mock SIGTERMs %d: %q", i, m.count("SIGTERM"), m.runs())
			}
		}
	})

	t.Run("DMapJournal", func(t *testing.T) {
		var stats strings.Builder
		for i := 1; i <= 3; i++ {
			fmt.Fprintf(&stats, "INFO|1002-071949|1|stats.go:56|8|13|7|0.21|471h0m21s|MAPREDUCE:STATS|currentConnections=1|lifetimeConnections=%d\n", i)
		}
		m := newJournalMock(t, map[string]string{"entries": stats.String()})
		srv := startDServer(t, withJournal(m, nil))
		out := filepath.Join(c.dir, "journal.csv")
		q := "from STATS select count($line),$hostname group by $hostname outfile " + out
		res, _ := runCmd(t, c.cmd(t, "dmap", []*server{srv}, "--files", "journal:test.service", "--query", q), 30*time.Second)
		csv, _ := os.ReadFile(out)
		if res.code != 0 || string(csv) != "count($line),$hostname\n3,testhost\n" {
			t.Fatalf("dmap over a journal: csv %q, %v", csv, res)
		}
		if qf, _ := os.ReadFile(out + ".query"); string(qf) != q {
			t.Errorf(".query file %q", qf)
		}
		for _, want := range []string{"Creating turbo aggregate for MapReduce|query|",
			"Using turbo aggregate processor for MapReduce|journal:test.service|journal:test.service",
			"Using turbo mode for reading|journal:test.service|mode|cat|hasAggregate|true"} {
			if !strings.Contains(srv.log(), want) {
				t.Errorf("server log lacks %q:\n%s", want, tail(srv.log(), 20))
			}
		}
	})

	t.Run("MissingCapabilityDoesNotHang", func(t *testing.T) {
		// No journalctl in dserver's PATH: no journal-v1.
		srv := startDServer(t, withServerConfig(journalServerConfig(nil)), withEnv("PATH=/nonexistent"))
		for _, bin := range []string{"dcat", "dtail"} {
			res, _ := runCmd(t, c.cmd(t, bin, []*server{srv}, "--files", "journal:test.service"), 30*time.Second)
			out := string(res.stdout) + string(res.stderr)
			if res.code != 1 || res.elapsed > 10*time.Second || !strings.Contains(out, "SERVER|"+srv.addr+"|ERROR|journal file targets require server capability journal-v1") {
				t.Errorf("%s without journal-v1: want exit 1 within 10 s and the refusal, got %v", bin, res)
			}
		}
	})
}

// Interop both ways with DTail 4.3.2-ng (which reads journals) and the
// refusal toward DTail 4.3.2 (which announces no capabilities at all).
func TestJournalInterop(t *testing.T) {
	c := newFClient(t)

	t.Run("RefClientOursServer", func(t *testing.T) {
		m := newJournalMock(t, map[string]string{"entries": journalEntries})
		srv := startDServer(t, withJournal(m, nil))
		r := refClient(t, "4.3.2-ng").remote(t, "dcat", c.home, []*server{srv}, "--plain", "--files", "journal:test.service")
		res := r.exec(t)
		if res.code != 0 || string(dropClientLines(res.stdout)) != journalEntries {
			t.Errorf("4.3.2-ng dcat → our dserver: %v\n%s", res, tail(srv.log(), 20))
		}
		r = refClient(t, "4.3.2-ng").remote(t, "dgrep", c.home, []*server{srv}, "--plain", "--files", "journal:test.service", "--regex", "match-[0-9]+")
		if res := r.exec(t); string(dropClientLines(res.stdout)) != "journal beta match-123\njournal gamma match-456\n" {
			t.Errorf("4.3.2-ng dgrep → our dserver: %v", res)
		}
	})

	t.Run("RefClientFollowOursServer", func(t *testing.T) {
		m := newJournalMock(t, nil)
		srv := startDServer(t, withJournal(m, nil))
		r := refClient(t, "4.3.2-ng").remote(t, "dtail", c.home, []*server{srv}, "--plain", "--files", "journal:test.service")
		cmd := exec.Command(r.bin, r.args...)
		cmd.Dir, cmd.Env = r.dir, r.env
		p := c.start(t, cmd, "refdtail")
		if !p.waitOutput(20*time.Second, func(b []byte) bool { return bytes.Contains(b, []byte("journal follow 3\n")) }) {
			t.Fatalf("4.3.2-ng dtail → our dserver: no journal follow 1..3:\n%s\n%s", p.output(), tail(srv.log(), 20))
		}
		if !p.stop(syscall.SIGTERM, 10*time.Second) {
			t.Errorf("4.3.2-ng dtail did not end on SIGTERM")
		}
		if !waitFor(10*time.Second, func() bool { return m.count("SIGTERM") == 1 }) {
			t.Errorf("journalctl got no SIGTERM after the 4.3.2-ng client left: %q", m.runs())
		}
	})

	t.Run("RefClientOursServerWithoutJournalctl", func(t *testing.T) {
		srv := startDServer(t, withServerConfig(journalServerConfig(nil)), withEnv("PATH=/nonexistent"))
		r := refClient(t, "4.3.2-ng").remote(t, "dcat", c.home, []*server{srv}, "--files", "journal:test.service")
		res := r.exec(t)
		out := string(res.stdout) + string(res.stderr)
		if res.code == 0 || res.elapsed > 10*time.Second || !strings.Contains(out, "journal file targets require server capability journal-v1") {
			t.Errorf("4.3.2-ng dcat → our dserver without journalctl: want exit ≠ 0 within 10 s and the refusal, got %v", res)
		}
	})

	t.Run("OursClientRefServer", func(t *testing.T) {
		m := newJournalMock(t, map[string]string{"entries": journalEntries})
		kind := refKind(t, "4.3.2-ng")
		srv := startDServer(t, withKind(kind), withServerConfig(journalServerConfig(nil)), withEnv(m.pathEnv()))
		res, _ := runCmd(t, c.cmd(t, "dcat", []*server{srv}, "--plain", "--files", "journal:test.service"), 30*time.Second)
		if res.code != 0 || string(res.stdout) != journalEntries {
			t.Errorf("our dcat → 4.3.2-ng dserver: %v\n%s", res, tail(srv.log(), 20))
		}
	})

	t.Run("OursClientOldServerRefused", func(t *testing.T) {
		m := newJournalMock(t, map[string]string{"entries": journalEntries})
		kind := refKind(t, "4.3.2")
		srv := startDServer(t, withKind(kind), withServerConfig(journalServerConfig(nil)), withEnv(m.pathEnv()))
		r := oursClient().remote(t, "dcat", c.home, []*server{srv}, "--plain", "--files", "journal:test.service")
		res := r.exec(t)
		if res.code != 1 || res.timedOut || !bytes.Contains(res.stderr, []byte("journal file targets require server capability journal-v1")) {
			t.Errorf("our dcat → 4.3.2 dserver: want the refusal and exit 1, got %v", res)
		}
		if len(m.runs()) != 0 {
			t.Errorf("journalctl ran on a server that cannot read journals: %q", m.runs())
		}
	})
}

// Serverless runs read journals with the same session code, as the
// local user.
func TestJournalServerless(t *testing.T) {
	m := newJournalMock(t, map[string]string{"entries": journalEntries, "stderr": "mock warning\n"})
	c := newFClient(t)
	f := writeOwned(t, filepath.Join(c.dir, "plain.log"), []byte("file line\n"), 0o644)
	cmd := c.local("dcat", "--plain", f, "journal:test.service")
	cmd.Env = append(cmd.Env, m.pathEnv())
	res, _ := runCmd(t, cmd, 30*time.Second)
	if res.code != 0 || string(res.stdout) != "file line\n"+journalEntries {
		t.Errorf("serverless dcat of a file and a journal: %v", res)
	}
	if !bytes.Contains(res.stderr, []byte("dcat: journal:test.service: journalctl: mock warning\n")) {
		t.Errorf("journalctl's stderr: %v", res)
	}
}

// One test against the real journal of a transient unit, where the
// machine runs systemd.
func TestJournalRealSystemd(t *testing.T) {
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		t.Skip("systemd is not running on this machine (/run/systemd/system missing): no real journal to read")
	}
	for _, p := range []string{"journalctl", "systemd-run"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not in PATH", p)
		}
	}
	requireRoot(t)
	unit := fmt.Sprintf("dtail-e2e-%d.service", time.Now().UnixNano())
	marker := fmt.Sprintf("dtail-e2e-marker-%d", time.Now().UnixNano())
	if out, err := exec.Command("systemd-run", "--unit", unit, "--wait", "/bin/sh", "-c", "echo "+marker+" one; echo "+marker+" two").CombinedOutput(); err != nil {
		t.Skipf("systemd-run cannot start a transient unit here: %v: %s", err, out)
	}
	// The test account needs to read the journal (group systemd-journal).
	exec.Command("usermod", "-a", "-G", "systemd-journal", acct.name).Run()
	srv := startDServer(t, withServerConfig(map[string]any{"Permissions": map[string]any{"Default": []string{"readfiles:^journal:" + regexp.QuoteMeta(unit) + "$"}}}))
	c := newFClient(t)
	var res result
	ok := waitFor(20*time.Second, func() bool {
		res, _ = runCmd(t, c.cmd(t, "dgrep", []*server{srv}, "--plain", "--files", "journal:"+unit, "--regex", marker), 30*time.Second)
		return bytes.Count(res.stdout, []byte(marker)) == 2
	})
	if !ok {
		t.Errorf("dgrep over the real journal of %s: want the two marker lines, got %v", unit, res)
	}
}
