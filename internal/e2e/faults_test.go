package e2e

// Fault, load, signal and hostile-input tests (issue 7). Each test names the
// protection it guards; removing that protection makes it fail. Long cases
// live in bench/soak.sh and bench/load.sh (which run TestSoak and TestLoad*
// of this file with larger parameters).

import (
	"bytes"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestFaultServerKilledMidStream guards: a server that dies mid-stream is
// reported by name and makes the client exit 1 (not 0, not a hang), while
// the other servers' streams complete, every line exactly once.
// The client's stdout is a pipe the test stops reading, so every server is
// blocked mid-file (SSH window full) when B is killed.
func TestFaultServerKilledMidStream(t *testing.T) {
	t.Parallel()
	var ss []*server
	for _, h := range []string{"srvA", "srvB", "srvC"} {
		// The test stops reading while the pipes are full; on a loaded
		// machine that must not run into the stall timeout, which has its
		// own test (TestFaultStallTimeout).
		ss = append(ss, startDServer(t, withHost(h), withServerConfig(map[string]any{"StallTimeoutSeconds": 3600}), withPprof()))
	}
	c := newFClient(t)
	const n = 150000 // 6.5 MB of REMOTE lines per server: more than the SSH window and the buffers
	f := writeOwned(t, filepath.Join(c.dir, "seq.log"), seqLines(1, n), 0o644)
	p := startPiped(t, c.cmd(t, "dcat", ss, "--files", f), c.dir, "dcat")

	tallies := map[string]*tally{"srvA": newTally(n), "srvB": newTally(n), "srvC": newTally(n)}
	var diag []string
	readLine := func() bool {
		l, err := p.r.ReadBytes('\n')
		if len(l) > 0 {
			l = bytes.TrimSuffix(l, []byte("\n"))
			// REMOTE|host|100|lineno|globid|content
			host, content, ok := remoteLine(l)
			if ta := tallies[host]; ok && ta != nil {
				ta.add(content)
			} else {
				diag = append(diag, string(l))
			}
		}
		return err == nil
	}
	// Read until every server has delivered some lines, then stop reading.
	for tallies["srvA"].received() < 1000 || tallies["srvB"].received() < 1000 || tallies["srvC"].received() < 1000 {
		if !readLine() {
			t.Fatalf("dcat ended before all servers streamed: %v; stderr %s", diag, p.stderr())
		}
	}
	time.Sleep(500 * time.Millisecond) // pipe, client and SSH windows fill up
	if !ss[1].proc.stop(syscall.SIGKILL, time.Second) {
		t.Fatal("server B did not die")
	}
	killed := time.Now()
	for readLine() {
	}
	code, ok := p.wait(15 * time.Second)
	if !ok {
		t.Fatalf("dcat did not end within 15 s after server B was killed")
	}
	t.Logf("dcat ended %v after the kill (reading the rest of A and C included)", time.Since(killed).Round(time.Millisecond))
	if code != 1 {
		t.Errorf("dcat exit code %d, want 1 (a server ended before the close handshake)", code)
	}
	all := strings.Join(diag, "\n") + p.stderr()
	if !strings.Contains(all, ss[1].addr) {
		t.Errorf("the client did not name the killed server %s; diagnostics:\n%s", ss[1].addr, all)
	}
	for _, h := range []string{"srvA", "srvC"} {
		miss, dups, first := tallies[h].check(1, n)
		t.Logf("%s: expected %d, received %d, missing %d, duplicated %d", h, n, tallies[h].received(), miss, dups)
		if miss != 0 || dups != 0 || tallies[h].other != 0 {
			t.Errorf("%s: %d missing (first L%07d), %d duplicated, %d unexpected lines (%q)", h, miss, first, dups, tallies[h].other, tallies[h].first)
		}
	}
	miss, dups, _ := tallies["srvB"].check(1, n)
	t.Logf("srvB (killed): received %d of %d, %d duplicated", tallies["srvB"].received(), n, dups)
	if dups != 0 || miss == 0 {
		t.Errorf("killed server B: %d duplicates (want 0), %d missing (want >0: it was killed mid-stream)", dups, miss)
	}
}

// TestFaultServerRestartFollow guards the tail reconnect: when the server
// of a following dtail dies, the client says so, reconnects with back-off
// once the server is back, and prints every line written after the
// reconnect exactly once without repeating lines from before. Lines
// written while no session existed are lost by design: a new tail session
// starts at the end of the file (DTail has no resume offset).
func TestFaultServerRestartFollow(t *testing.T) {
	t.Parallel()
	s := startDServer(t, withPprof())
	c := newFClient(t)
	logs := mkdirOwned(t, filepath.Join(c.dir, "logs"), 0o777)
	f := writeOwned(t, filepath.Join(logs, "app.log"), nil, 0o666)
	fo := follower{t: t, proc: c.start(t, c.cmd(t, "dtail", []*server{s}, "--plain", "--files", f), "dtail")}
	fo.waitProbe(f, 20*time.Second)
	w := &seqWriter{}
	for w.next < 1000 {
		appendFile(t, f, w.lines(100))
		time.Sleep(20 * time.Millisecond)
	}
	fo.waitAll(w.next, 15*time.Second)
	before := w.next

	s.proc.stop(syscall.SIGKILL, time.Second)
	killed := time.Now()
	if !waitFor(10*time.Second, func() bool { return strings.Contains(string(fo.proc.errOutput()), "connection lost") }) {
		t.Errorf("dtail did not report the lost connection within 10 s; stderr: %s", fo.proc.errOutput())
	}
	detect := time.Since(killed)
	t.Logf("time to detect the killed server: %v", detect.Round(time.Millisecond))
	if !strings.Contains(string(fo.proc.errOutput()), s.addr) {
		t.Errorf("the connection-lost warning does not name %s: %s", s.addr, fo.proc.errOutput())
	}
	appendFile(t, f, w.lines(500)) // written while down: lost by design
	down := w.next

	s.restart(t)
	waitMarker(t, fo.proc, f, "reconnect", 20*time.Second) // the new session is following
	t.Logf("reconnected %v after the kill", time.Since(killed).Round(time.Millisecond))
	for i := 0; i < 20; i++ {
		appendFile(t, f, w.lines(100))
		time.Sleep(10 * time.Millisecond)
	}
	end := w.next
	if !waitFor(15*time.Second, func() bool {
		counts, _ := fo.seen()
		for i := down + 1; i <= end; i++ {
			if counts[fmt.Sprintf("L%06d", i)] == 0 {
				return false
			}
		}
		return true
	}) {
		t.Errorf("lines written after the reconnect did not all arrive")
	}
	time.Sleep(300 * time.Millisecond)
	counts, other := fo.seen()
	lost, dups := 0, 0
	for i := 1; i <= end; i++ {
		n := counts[fmt.Sprintf("L%06d", i)]
		switch {
		case n > 1:
			dups++
		case n == 0 && (i <= before || i > down):
			t.Errorf("line L%06d missing", i)
		case n == 0:
			lost++
		}
	}
	t.Logf("expected %d (before kill) + %d (after reconnect); written while down %d, of which lost %d; duplicates %d",
		before, end-down, down-before, lost, dups)
	if dups != 0 {
		t.Errorf("%d lines printed more than once", dups)
	}
	if len(other) > 0 {
		t.Errorf("unexpected output lines: %q", other)
	}
	if !fo.proc.stop(syscall.SIGTERM, 2*time.Second) {
		t.Errorf("dtail did not end within 2 s of SIGTERM")
	}
}

// TestFaultClientKilled guards session teardown on the server: a client
// killed with SIGKILL during dtail, dtail --query and dmap leaves no
// goroutine, no open file and no socket behind (the server notices the
// closed connection, cancels the session's reads and releases its read
// slots), the server's memory stays bounded, and an unrelated follower
// does not notice.
func TestFaultClientKilled(t *testing.T) {
	t.Parallel()
	s := startDServer(t, withServerConfig(map[string]any{"MaxConnections": 30}), withPprof())
	c := newFClient(t)
	logs := mkdirOwned(t, filepath.Join(c.dir, "logs"), 0o777)
	growing := writeOwned(t, filepath.Join(logs, "growing.log"), nil, 0o666)
	stats := writeOwned(t, filepath.Join(logs, "stats.log"), statsLog(1000, 0), 0o666)
	// STATS lines, then 20 GB of sparse zeros: dmap is still reading when killed.
	big := writeOwned(t, filepath.Join(logs, "bigstats.log"), statsLog(20000, 0), 0o644)
	if err := os.Truncate(big, 20<<30); err != nil {
		t.Fatal(err)
	}
	witnessFile := writeOwned(t, filepath.Join(logs, "witness.log"), nil, 0o666)

	// Warm-up and a witness session that must not notice anything.
	if res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", stats), 20*time.Second); res.code != 0 {
		t.Fatalf("warm-up dcat: %v", res)
	}
	witness := follower{t: t, proc: c.start(t, c.cmd(t, "dtail", []*server{s}, "--plain", "--files", witnessFile), "witness")}
	witness.waitProbe(witnessFile, 20*time.Second)
	base := s.baseline(t)
	t.Logf("baseline with the witness follower: %v", base)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var written atomic.Int64
	wg.Go(func() { // writers: the witness file and the growing files
		ws := &seqWriter{}
		i := 0
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			appendTo(witnessFile, ws.lines(20))
			written.Store(int64(ws.next))
			appendTo(growing, seqLines(i, 200))
			appendTo(stats, statsLog(50, i))
			i += 200
		}
	})

	cases := []struct {
		name, bin string
		args      []string
	}{
		{"dtail", "dtail", []string{"--plain", "--files", growing}},
		{"dtail --query", "dtail", []string{"--query", "from STATS select count($line),max(lifetimeConnections) group by $hostname interval 1", "--files", stats}},
		{"dmap", "dmap", []string{"--query", "from STATS select count($line),avg($goroutines) group by currentConnections", "--files", big}},
	}
	peakRSS := 0
	for _, tc := range cases {
		handlers := s.count("Invoking channel handler")
		var procs []*bg
		for i := 0; i < 3; i++ {
			procs = append(procs, c.start(t, c.cmd(t, tc.bin, []*server{s}, tc.args...), strings.ReplaceAll(tc.name, " ", "")))
		}
		s.waitLogCount(t, "Invoking channel handler", handlers+3, 20*time.Second)
		time.Sleep(400 * time.Millisecond) // reads are under way
		during := s.snap(t)
		peakRSS = max(peakRSS, during.rssKB)
		running := 0
		for _, p := range procs {
			if !p.exited() {
				running++
			}
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		}
		for _, p := range procs {
			<-p.done
		}
		if running < 3 {
			t.Logf("%s: only %d of 3 clients were still running when killed", tc.name, running)
		}
		t.Logf("%s: 3 clients killed with SIGKILL while the server had %v", tc.name, during)
		s.expectBaseline(t, tc.name, base, 5*time.Second)
	}
	close(stop)
	wg.Wait()
	witness.waitAll(int(written.Load()), 15*time.Second)
	counts, other := witness.seen()
	for l, n := range counts {
		if n != 1 {
			t.Errorf("witness: line %s printed %d times", l, n)
		}
	}
	if len(other) > 0 {
		t.Errorf("witness: unexpected lines %q", other)
	}
	t.Logf("witness: %d lines expected, %d received exactly once", written.Load(), len(counts))
	end := s.snap(t)
	t.Logf("server RSS: baseline %d MB, peak sampled %d MB, end %d MB, VmHWM %d MB", base.rssKB>>10, peakRSS>>10, end.rssKB>>10, procStatusKB(s.pid(), "VmHWM")>>10)
	if end.rssKB > base.rssKB+128<<10 {
		t.Errorf("server RSS grew from %d MB to %d MB", base.rssKB>>10, end.rssKB>>10)
	}
}

// TestFaultStalledClient guards backpressure isolation: a client that stops
// reading (SIGSTOP, its TCP window fills) blocks only its own session. The
// other sessions (cat, grep, tail, health) go on; once the client resumes it
// gets every line exactly once (nothing was dropped while it stalled).
// The 60 s stall timeout itself (stallTimeout in internal/cli/server.go, a
// constant) is exercised by bench/soak.sh, not here.
func TestFaultStalledClient(t *testing.T) {
	t.Parallel()
	s := startDServer(t, withPprof())
	c := newFClient(t)
	const n = 1500000
	big := writeOwned(t, filepath.Join(c.dir, "big.log"), seqLines(1, n), 0o644)
	small := writeOwned(t, filepath.Join(c.dir, "small.log"), seqLines(1, 5000), 0o644)
	wf := writeOwned(t, filepath.Join(c.dir, "witness.log"), nil, 0o666)
	if res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", small), 20*time.Second); res.code != 0 {
		t.Fatalf("warm-up: %v", res)
	}
	witness := follower{t: t, proc: c.start(t, c.cmd(t, "dtail", []*server{s}, "--plain", "--files", wf), "witness")}
	witness.waitProbe(wf, 20*time.Second)
	base := s.baseline(t)

	// The stalled client's stdout is a pipe the test stops reading, and the
	// client is stopped: it reads nothing from its socket either.
	stalled := startPiped(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", big), c.dir, "stalled")
	ta := newTally(n)
	for i := 0; i < 1000; i++ {
		l, err := stalled.r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("the big dcat ended early: %s", stalled.stderr())
		}
		ta.add(bytes.TrimSuffix(l, []byte("\n")))
	}
	syscall.Kill(-stalled.cmd.Process.Pid, syscall.SIGSTOP)
	stoppedAt := time.Now()
	defer syscall.Kill(-stalled.cmd.Process.Pid, syscall.SIGCONT)
	time.Sleep(time.Second) // the server now blocks on the stalled session's window

	w := &seqWriter{}
	for round := 0; round < 5; round++ {
		start := time.Now()
		res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", small), 20*time.Second)
		if res.code != 0 || !bytes.Equal(res.stdout, seqLines(1, 5000)) {
			t.Errorf("dcat while another client is stalled: %v", res)
		}
		res, _ = runCmd(t, c.cmd(t, "dgrep", []*server{s}, "--plain", "--regex", "^L000000[1-5]$", "--files", small), 20*time.Second)
		if res.code != 0 || !bytes.Equal(res.stdout, seqLines(1, 5)) {
			t.Errorf("dgrep while another client is stalled: %v", res)
		}
		appendFile(t, wf, w.lines(100))
		t.Logf("round %d: dcat+dgrep took %v", round, time.Since(start).Round(time.Millisecond))
	}
	hres, _ := runCmd(t, c.healthCmd(s), 15*time.Second)
	if hres.code != 0 {
		t.Errorf("dtailhealth while a client is stalled: %v", hres)
	}
	witness.waitAll(w.next, 10*time.Second)
	select {
	case <-stalled.done:
		t.Errorf("the stalled client ended while stopped (%v after SIGSTOP); the stall timeout is 60 s", time.Since(stoppedAt))
	default:
	}
	syscall.Kill(-stalled.cmd.Process.Pid, syscall.SIGCONT)
	for {
		l, err := stalled.r.ReadBytes('\n')
		if len(l) > 0 {
			ta.add(bytes.TrimSuffix(l, []byte("\n")))
		}
		if err != nil {
			break
		}
	}
	code, ok := stalled.wait(30 * time.Second)
	if !ok || code != 0 {
		t.Errorf("resumed dcat: ended %v, exit %d: %s", ok, code, stalled.stderr())
	}
	miss, dups, first := ta.check(1, n)
	t.Logf("stalled (%v) then resumed client: expected %d, received %d, missing %d, duplicated %d", time.Since(stoppedAt).Round(time.Millisecond), n, ta.received(), miss, dups)
	if miss+dups+ta.other != 0 {
		t.Errorf("stalled client lost %d lines (first L%07d), duplicated %d, %d other lines", miss, first, dups, ta.other)
	}
	s.expectBaseline(t, "after the stalled client finished", base, 5*time.Second)
}

// TestFaultStallTimeout guards the stall timeout (Server.StallTimeoutSeconds,
// 3 s here): two clients that stop reading hold both MaxConcurrentCats
// slots; after the timeout the server must end their sessions for real
// (connection, open files, read slots), so a queued dcat completes while
// the two clients are still stopped.
func TestFaultStallTimeout(t *testing.T) {
	t.Parallel()
	s := startDServer(t, withServerConfig(map[string]any{"MaxConcurrentCats": 2, "StallTimeoutSeconds": 3}), withPprof())
	c := newFClient(t)
	big := writeOwned(t, filepath.Join(c.dir, "big.log"), seqLines(1, 1500000), 0o644)
	small := writeOwned(t, filepath.Join(c.dir, "small.log"), seqLines(1, 5000), 0o644)
	if res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", small), 20*time.Second); res.code != 0 {
		t.Fatalf("warm-up: %v", res)
	}
	base := s.baseline(t)
	var stalled []*piped
	for i := 0; i < 2; i++ {
		p := startPiped(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", big), c.dir, fmt.Sprintf("stalled%d", i))
		if _, err := p.r.ReadBytes('\n'); err != nil {
			t.Fatalf("big dcat: %s", p.stderr())
		}
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGSTOP)
		defer syscall.Kill(-p.cmd.Process.Pid, syscall.SIGCONT)
		stalled = append(stalled, p)
	}
	start := time.Now()
	time.Sleep(time.Second)
	queued := c.start(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", small), "queued")
	s.waitLogCount(t, "Client stopped reading", 2, 30*time.Second)
	t.Logf("the server declared both clients stalled after %v", time.Since(start).Round(time.Second))
	if !waitFor(10*time.Second, queued.exited) {
		t.Errorf("a dcat queued behind two stalled clients did not finish within 10 s of the stall timeout (%v after it started): the stalled sessions still hold the read slots; server %v (baseline %v), fds %s",
			time.Since(start).Round(time.Second), s.snap(t), base, fdList(s.pid()))
	} else if queued.exitCode() != 0 || !bytes.Equal(queued.output(), seqLines(1, 5000)) {
		t.Errorf("queued dcat: exit %d, %d bytes", queued.exitCode(), len(queued.output()))
	} else {
		t.Logf("queued dcat completed %v after it started", time.Since(start).Round(time.Second))
	}
	s.expectBaseline(t, "stalled sessions ended (clients still stopped)", base, 5*time.Second)
	for _, p := range stalled {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGCONT)
		go func() {
			for {
				if _, err := p.r.ReadBytes('\n'); err != nil {
					return
				}
			}
		}()
		if code, ok := p.wait(20 * time.Second); !ok || code != 1 {
			t.Errorf("a client whose session the server ended for stalling: ended %v, exit %d, want 1", ok, code)
		}
	}
}

// TestFaultUnwritableDirs guards: an unwritable server log dir stops
// dserver at start with one clear line; an unwritable client log dir or
// mapreduce outfile dir is reported and never crashes or hangs anything;
// the data still flows and the outfile failure gives exit 1.
func TestFaultUnwritableDirs(t *testing.T) {
	t.Parallel()
	if !acct.cred {
		t.Skip("needs root to make directories the test account cannot write")
	}
	ro := filepath.Join(newWorkDir(t), "readonly")
	if err := os.Mkdir(ro, 0o755); err != nil { // owned by root: not writable by the account
		t.Fatal(err)
	}
	c := newFClient(t)
	data := seqLines(1, 20000)
	f := writeOwned(t, filepath.Join(c.dir, "seq.log"), data, 0o644)

	t.Run("server log dir", func(t *testing.T) {
		// Refused at start (issue 12, docs/DECISIONS.md): a daemon that
		// cannot write its log would serve without leaving a trace.
		res := run{bin: ours("dserver"), dir: newWorkDir(t), timeout: 20 * time.Second,
			args: []string{"--cfg", "none", "--bindAddress", "127.0.0.1", "--port", strconv.Itoa(freePort(t)), "--logger", "file", "--logDir", filepath.Join(ro, "log")}}.exec(t)
		if e := string(res.stderr); res.code == 0 || res.timedOut || !strings.Contains(e, "LogDir") || !strings.Contains(e, "permission denied") || strings.Count(e, "\n") != 1 {
			t.Errorf("dserver with an unwritable log dir: want a non-zero exit and one stderr line naming it: %v", res)
		}
	})
	s2 := startDServer(t, withPprof())
	stats := writeOwned(t, filepath.Join(c.dir, "stats.log"), statsLog(3000, 0), 0o644)
	q := "from STATS select count($line) group by $hostname outfile " + filepath.Join(ro, "out.csv")
	t.Run("dmap outfile remote", func(t *testing.T) {
		res, _ := runCmd(t, c.cmd(t, "dmap", []*server{s2}, "--query", q, "--files", stats), 20*time.Second)
		out := string(res.stdout) + string(res.stderr)
		if res.code != 1 || res.timedOut || !strings.Contains(out, "out.csv") {
			t.Errorf("dmap with an unwritable outfile dir: want exit 1 naming out.csv: %v", res)
		}
	})
	t.Run("dmap outfile serverless", func(t *testing.T) {
		res, _ := runCmd(t, c.local("dmap", "--query", q, "--files", stats), 20*time.Second)
		out := string(res.stdout) + string(res.stderr)
		if res.code != 1 || res.timedOut || !strings.Contains(out, "out.csv") {
			t.Errorf("serverless dmap with an unwritable outfile dir: want exit 1 naming out.csv: %v", res)
		}
	})
	t.Run("client log dir", func(t *testing.T) {
		res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s2}, "--logger", "fout", "--logDir", filepath.Join(ro, "clientlog"), "--files", f), 20*time.Second)
		if res.code != 0 || res.timedOut || bytes.Count(res.stdout, []byte("\n")) < 20000 {
			t.Errorf("dcat with an unwritable client log dir: %v", res)
		}
	})
	t.Run("disk full outfile", func(t *testing.T) {
		full := filepath.Join(newWorkDir(t), "full")
		os.Mkdir(full, 0o777)
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k,mode=0777", "tmpfs", full).CombinedOutput(); err != nil {
			t.Skipf("cannot mount a small tmpfs to fill (%v: %s)", err, out)
		}
		defer exec.Command("umount", "-l", full).Run()
		os.WriteFile(filepath.Join(full, "filler"), bytes.Repeat([]byte("x"), 1<<20), 0o644) // ENOSPC
		qf := "from STATS select count($line),$time group by $time outfile " + filepath.Join(full, "out.csv")
		res, _ := runCmd(t, c.cmd(t, "dmap", []*server{s2}, "--query", qf, "--files", stats), 20*time.Second)
		if res.code != 1 || res.timedOut {
			t.Errorf("dmap with the outfile on a full disk: want exit 1: %v", res)
		}
	})
}

// TestFaultFileDeletedRotated guards reading through deletion, rotation
// and truncation: a dcat whose file is deleted or renamed mid-read still
// prints the whole file it opened; a truncation mid-read is reported and
// gives exit 1 (docs/DECISIONS.md); a remote follower survives rename
// rotation, delete-and-recreate and copytruncate with every line once.
func TestFaultFileDeletedRotated(t *testing.T) {
	t.Parallel()
	s := startDServer(t, withPprof())
	c := newFClient(t)
	const n = 800000
	data := seqLines(1, n)
	// midRead returns the exit code, the tally and stderr plus the lines
	// that are not sequence lines (server messages come on stdout with --plain).
	midRead := func(t *testing.T, name string, fault func(path string)) (int, *tally, string) {
		f := writeOwned(t, filepath.Join(c.dir, name+".log"), data, 0o666)
		p := startPiped(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", f), c.dir, name)
		ta := newTally(n)
		var msgs []string
		for i := 0; i < 1000; i++ {
			l, err := p.r.ReadBytes('\n')
			if err != nil {
				t.Fatalf("dcat ended early: %s", p.stderr())
			}
			ta.add(bytes.TrimSuffix(l, []byte("\n")))
		}
		fault(f)
		for {
			l, err := p.r.ReadBytes('\n')
			if len(l) > 0 {
				l = bytes.TrimSuffix(l, []byte("\n"))
				if parseSeq(l) < 0 {
					msgs = append(msgs, string(l))
					continue
				}
				ta.add(l)
			}
			if err != nil {
				break
			}
		}
		code, ok := p.wait(10 * time.Second)
		if !ok {
			t.Fatalf("dcat did not end")
		}
		return code, ta, p.stderr() + strings.Join(msgs, "\n")
	}
	for _, tc := range []struct {
		name  string
		fault func(string)
	}{
		{"deleted", func(p string) { os.Remove(p) }},
		{"renamed", func(p string) { os.Rename(p, p+".1"); os.WriteFile(p, []byte("new file\n"), 0o644) }},
	} {
		t.Run("dcat "+tc.name, func(t *testing.T) {
			code, ta, stderr := midRead(t, tc.name, tc.fault)
			miss, dups, _ := ta.check(1, n)
			t.Logf("expected %d, received %d, missing %d, duplicated %d, exit %d", n, ta.received(), miss, dups, code)
			if code != 0 || miss+dups+ta.other != 0 {
				t.Errorf("file %s mid-read: exit %d, %d missing, %d duplicated, %d other (%q); stderr %s", tc.name, code, miss, dups, ta.other, ta.first, stderr)
			}
		})
	}
	t.Run("dcat truncated", func(t *testing.T) {
		code, ta, stderr := midRead(t, "truncated", func(p string) { os.Truncate(p, 0) })
		_, dups, _ := ta.check(1, n)
		t.Logf("received %d of %d before the truncation took effect, exit %d", ta.received(), n, code)
		if frag := regexp.MustCompile(`(?m)^L\d{0,6}$`).FindAllString(stderr, -1); len(frag) > 0 {
			t.Logf("FINDING: the line cut by the truncation is printed as a fragment: %q", frag)
		}
		if code != 1 || dups != 0 || !(strings.Contains(stderr, "truncated") || strings.Contains(stderr, "Unable to read file(s)")) {
			t.Errorf("file truncated mid-read: want exit 1, the 'truncated' warning and no duplicates; got exit %d, %d dups, stderr %s", code, dups, stderr)
		}
	})
	t.Run("follow", func(t *testing.T) {
		logs := mkdirOwned(t, filepath.Join(c.dir, "logs"), 0o777)
		app := filepath.Join(logs, "app.log")
		writeOwned(t, app, nil, 0o666)
		fo := follower{t: t, proc: c.start(t, c.cmd(t, "dtail", []*server{s}, "--plain", "--files", app), "follow")}
		fo.waitProbe(app, 20*time.Second)
		w := &seqWriter{}
		appendFile(t, app, w.lines(5000))
		fo.waitAll(w.next, 15*time.Second)
		// rename rotation, the writer finishing on the old file
		old, _ := os.OpenFile(app, os.O_WRONLY|os.O_APPEND, 0)
		os.Rename(app, app+".1")
		old.Write(w.lines(1000))
		old.Close()
		appendFile(t, app, w.lines(1000))
		fo.waitAll(w.next, 15*time.Second)
		// deleted, then created again
		os.Remove(app)
		os.Remove(app + ".1")
		time.Sleep(300 * time.Millisecond)
		appendFile(t, app, w.lines(1000))
		fo.waitAll(w.next, 15*time.Second)
		// copytruncate
		os.Truncate(app, 0)
		time.Sleep(300 * time.Millisecond)
		appendFile(t, app, w.lines(1000))
		fo.waitAll(w.next, 15*time.Second)
		time.Sleep(300 * time.Millisecond)
		counts, other := fo.seen()
		for l, k := range counts {
			if k != 1 {
				t.Errorf("line %s printed %d times", l, k)
			}
		}
		if len(other) > 0 {
			t.Errorf("unexpected lines %q", other)
		}
		t.Logf("follow through rotation, deletion and truncation: %d lines written, %d distinct received", w.next, len(counts))
	})
}

// TestFaultGlob1000 guards MaxGlobTargets and the read slots: a glob over
// 1,001 files is cut at the 1,000 limit with a warning, 1,000 files are
// read completely, and the server never holds more than a handful of the
// files open at once (MaxConcurrentCats), so fds return to baseline.
func TestFaultGlob1000(t *testing.T) {
	t.Parallel()
	s := startDServer(t, withPprof())
	c := newFClient(t)
	g := mkdirOwned(t, filepath.Join(c.dir, "glob"), 0o755)
	for i := 0; i <= 1000; i++ {
		writeOwned(t, filepath.Join(g, fmt.Sprintf("f%04d.log", i)), fmt.Appendf(nil, "file %04d line 1\nfile %04d line 2\n", i, i), 0o644)
	}
	if res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", filepath.Join(g, "f0000.log")), 20*time.Second); res.code != 0 {
		t.Fatalf("warm-up: %v", res)
	}
	base := s.baseline(t)
	want := func(files int) map[string]int {
		m := map[string]int{}
		for i := 0; i < files; i++ {
			m[fmt.Sprintf("file %04d line 1", i)]++
			m[fmt.Sprintf("file %04d line 2", i)]++
		}
		return m
	}
	check := func(t *testing.T, files int) result {
		var peak atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				peak.Store(max(peak.Load(), int64(fdCount(s.pid()))))
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		})
		res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", filepath.Join(g, "*.log")), 60*time.Second)
		close(stop)
		wg.Wait()
		got := map[string]int{}
		var server []string // with --plain, server messages arrive on stdout without their prefix
		for _, l := range lines(res.stdout) {
			if strings.HasPrefix(l, "WARN|") || strings.HasPrefix(l, "ERROR|") {
				server = append(server, l)
				continue
			}
			got[l]++
		}
		res.stderr = append(res.stderr, strings.Join(server, "\n")...)
		w := want(files)
		bad := 0
		for k, v := range w {
			if got[k] != v {
				bad++
			}
		}
		t.Logf("%d lines expected, %d received, %d wrong counts, exit %d in %v; server fds: baseline %d, peak %d",
			2*files, len(lines(res.stdout)), bad, res.code, res.elapsed.Round(time.Millisecond), base.fds, peak.Load())
		if bad != 0 || len(got) != len(w) || res.timedOut {
			t.Errorf("glob over the files: %d lines with wrong counts, %d distinct lines, want %d: %v", bad, len(got), len(w), res)
		}
		if p := int(peak.Load()); p > base.fds+10 {
			t.Errorf("server held %d fds while reading the glob (baseline %d): files are opened before a read slot is free", p, base.fds)
		}
		s.expectBaseline(t, "glob", base, 5*time.Second)
		return res
	}
	t.Run("1001 files", func(t *testing.T) {
		res := check(t, 1000)
		if e := string(res.stderr); !strings.Contains(e, "MaxGlobTargets") && !strings.Contains(e, "Glob expansion exceeded server limit") {
			t.Errorf("no MaxGlobTargets warning: %s", res.stderr)
		}
		// Coverage was incomplete: the 1,001st file was not read.
		if res.code != 1 {
			t.Errorf("glob cut at MaxGlobTargets: exit %d, want 1 (DECISIONS: exit 1 when something was not read)", res.code)
		}
	})
	t.Run("1000 files", func(t *testing.T) {
		os.Remove(filepath.Join(g, "f1000.log"))
		if res := check(t, 1000); res.code != 0 {
			t.Errorf("1,000 files: exit %d: %s", res.code, res.stderr)
		}
	})
}

// TestFaultSparse5G guards bounded memory on a pathological file: 5 GB of
// sparse zeros is a single 5 GB "line", split at MaxLineLength; dgrep must
// stream through it with bounded RSS (client and server) and finish.
func TestFaultSparse5G(t *testing.T) {
	// Not parallel: it needs the machine to itself (2 cores).
	s := startDServer(t, withPprof())
	c := newFClient(t)
	f := filepath.Join(c.dir, "sparse.log")
	writeOwned(t, f, nil, 0o644)
	if err := os.Truncate(f, 5<<30); err != nil {
		t.Skipf("cannot create a 5 GB sparse file: %v", err)
	}
	const limitMB = 160
	t.Run("serverless", func(t *testing.T) {
		res, rss := runCmd(t, c.local("dgrep", "--plain", "--regex", "NEVERMATCHES", "--files", f), 120*time.Second)
		t.Logf("serverless dgrep over 5 GB of zeros: exit %d in %v, peak RSS %d MB, %d stdout bytes, %d stderr lines",
			res.code, res.elapsed.Round(time.Millisecond), rss>>10, len(res.stdout), bytes.Count(res.stderr, []byte("\n")))
		if res.timedOut || len(res.stdout) != 0 || rss>>10 > limitMB {
			t.Errorf("serverless dgrep: want it to finish with no output and < %d MB RSS: %v", limitMB, res)
		}
		if bytes.Count(res.stderr, []byte("\n")) > 10 {
			t.Errorf("serverless dgrep printed %d diagnostic lines for one long line", bytes.Count(res.stderr, []byte("\n")))
		}
	})
	t.Run("remote", func(t *testing.T) {
		before := procStatusKB(s.pid(), "VmHWM")
		res, rss := runCmd(t, c.cmd(t, "dgrep", []*server{s}, "--plain", "--regex", "NEVERMATCHES", "--files", f), 120*time.Second)
		hwm := procStatusKB(s.pid(), "VmHWM")
		t.Logf("remote dgrep over 5 GB of zeros: exit %d in %v, client peak RSS %d MB, server peak RSS %d MB (before %d MB), %d stderr lines",
			res.code, res.elapsed.Round(time.Millisecond), rss>>10, hwm>>10, before>>10, bytes.Count(res.stderr, []byte("\n")))
		if res.timedOut || res.code != 0 || bytes.Contains(res.stdout, []byte("\x00")) || rss>>10 > limitMB || hwm>>10 > limitMB {
			t.Errorf("remote dgrep: want it to finish with no output and < %d MB RSS on both sides: %v", limitMB, res)
		}
	})
}

// ---- network namespaces ----

type netLab struct {
	ns, hostIf, nsIf, hostIP, nsIP string
}

var netLabSeq atomic.Int64

// newNetLab creates a network namespace joined to the host by a veth pair,
// or skips the test saying why it cannot.
func newNetLab(t *testing.T) *netLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network faults need root (ip netns, veth)")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("network faults need setpriv (util-linux) to drop root inside the namespace")
	}
	k := int(netLabSeq.Add(1))
	id := fmt.Sprintf("%d%d", os.Getpid()%100000, k)
	subnet := 100 + (os.Getpid()+k)%150
	l := &netLab{ns: "dte2e" + id, hostIf: "dte" + id + "h", nsIf: "dte" + id + "n",
		hostIP: fmt.Sprintf("10.213.%d.1", subnet), nsIP: fmt.Sprintf("10.213.%d.2", subnet)}
	ip := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ip("netns", "add", l.ns); err != nil {
		t.Skipf("cannot create a network namespace here: %v", err)
	}
	t.Cleanup(func() { ip("link", "del", l.hostIf); ip("netns", "del", l.ns) })
	for _, a := range [][]string{
		{"link", "add", l.hostIf, "type", "veth", "peer", "name", l.nsIf},
		{"link", "set", l.nsIf, "netns", l.ns},
		{"addr", "add", l.hostIP + "/24", "dev", l.hostIf},
		{"link", "set", l.hostIf, "up"},
		{"-n", l.ns, "addr", "add", l.nsIP + "/24", "dev", l.nsIf},
		{"-n", l.ns, "link", "set", l.nsIf, "up"},
		{"-n", l.ns, "link", "set", "lo", "up"},
	} {
		if err := ip(a...); err != nil {
			t.Skipf("cannot set up the veth pair: %v", err)
		}
	}
	return l
}

// link brings the namespace side of the pair up or down: a cut cable. The
// host keeps its route (the veth only loses carrier), so packets vanish
// silently instead of failing with "network unreachable".
func (l *netLab) link(t *testing.T, up bool) {
	state := "down"
	if up {
		state = "up"
	}
	if out, err := exec.Command("ip", "-n", l.ns, "link", "set", l.nsIf, state).CombinedOutput(); err != nil {
		t.Fatalf("ip -n %s link set %s %s: %v: %s", l.ns, l.nsIf, state, err, out)
	}
}

// netem applies a netem qdisc on both ends or skips saying why it cannot.
func (l *netLab) netem(t *testing.T, args ...string) {
	for _, dev := range [][]string{{l.hostIf}, {"-n", l.ns, l.nsIf}} {
		a := []string{"qdisc", "add", "dev"}
		var pre []string
		if len(dev) == 3 {
			pre, dev = dev[:2], dev[2:]
		}
		a = append(pre, append(append(a, dev[0], "root", "netem"), args...)...)
		if out, err := exec.Command("tc", a...).CombinedOutput(); err != nil {
			t.Skipf("tc netem is not available (%s: %v: %s); delay and loss cases skipped — the kernel needs sch_netem", strings.Join(a, " "), err, strings.TrimSpace(string(out)))
		}
	}
}

// TestFaultNetwork guards behaviour on a real (virtual) network: a cut
// cable during a follow only delays lines (TCP retransmits, nothing lost or
// repeated once it is back); a host behind a dead link is given up after
// the connect timeout, named, and exit 1 while the reachable host's output
// is complete; delay and loss (tc netem) lose nothing.
func TestFaultNetwork(t *testing.T) {
	t.Parallel()
	l := newNetLab(t)
	s := startDServer(t, inNetns(l.ns), withBind(l.nsIP), withPprof())
	local := startDServer(t, withPprof())
	c := newFClient(t)
	logs := mkdirOwned(t, filepath.Join(c.dir, "logs"), 0o777)

	t.Run("cut link while following", func(t *testing.T) {
		f := writeOwned(t, filepath.Join(logs, "cut.log"), nil, 0o666)
		fo := follower{t: t, proc: c.start(t, c.cmd(t, "dtail", []*server{s}, "--plain", "--files", f), "cut")}
		fo.waitProbe(f, 20*time.Second)
		w := &seqWriter{}
		appendFile(t, f, w.lines(1000))
		fo.waitAll(w.next, 10*time.Second)
		l.link(t, false)
		cut := time.Now()
		for i := 0; i < 30; i++ {
			appendFile(t, f, w.lines(100))
			time.Sleep(100 * time.Millisecond)
		}
		l.link(t, true)
		t.Logf("link cut for %v while 3,000 lines were written", time.Since(cut).Round(time.Millisecond))
		restored := time.Now()
		fo.waitAll(w.next, 30*time.Second)
		t.Logf("all lines arrived %v after the link came back", time.Since(restored).Round(time.Millisecond))
		time.Sleep(300 * time.Millisecond)
		counts, _ := fo.seen()
		for k, v := range counts {
			if v != 1 {
				t.Errorf("line %s printed %d times", k, v)
			}
		}
		fo.proc.stop(syscall.SIGTERM, 2*time.Second)
	})

	t.Run("dead link on connect", func(t *testing.T) {
		data := seqLines(1, 10000)
		f := writeOwned(t, filepath.Join(logs, "dead.log"), data, 0o644)
		l.link(t, false)
		defer l.link(t, true)
		res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s, local}, "--plain", "--files", f), 30*time.Second)
		t.Logf("dcat with one host behind a dead link: exit %d after %v", res.code, res.elapsed.Round(time.Millisecond))
		if res.code != 1 || res.timedOut || !bytes.Equal(res.stdout, data) || !strings.Contains(string(res.stderr), s.addr) {
			t.Errorf("want exit 1 within the connect timeout, the unreachable host named and the other host's output complete: %v", res)
		}
		if res.elapsed > 10*time.Second {
			t.Errorf("giving up on an unreachable host took %v", res.elapsed)
		}
	})

	t.Run("delay and loss", func(t *testing.T) {
		l.netem(t, "delay", "80ms", "20ms", "loss", "3%")
		data := seqLines(1, 100000)
		f := writeOwned(t, filepath.Join(logs, "netem.log"), data, 0o644)
		res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", f), 60*time.Second)
		if res.code != 0 || !bytes.Equal(res.stdout, data) {
			t.Errorf("dcat over a lossy, slow link: %v", res)
		}
		t.Logf("dcat of 100,000 lines over delay 80 ms, loss 3 %%: %v", res.elapsed.Round(time.Millisecond))
	})
}

// ---- load ----

// TestLoadFollowers50 guards fan-out without loss: 50 remote followers of
// one file growing at 50,000 lines/s each get every line exactly once.
// bench/load.sh runs it longer (DTAIL_LOAD_SECONDS, DTAIL_LOAD_FOLLOWERS,
// DTAIL_LOAD_RATE).
func TestLoadFollowers50(t *testing.T) {
	// Not parallel: it needs the machine to itself (2 cores).
	followers := envInt("DTAIL_LOAD_FOLLOWERS", 50)
	secs := envInt("DTAIL_LOAD_SECONDS", 10)
	rate := envInt("DTAIL_LOAD_RATE", 50000)
	s := startDServer(t, withServerConfig(map[string]any{"MaxConnections": followers + 10, "MaxConcurrentTails": followers + 10}), withPprof())
	c := newFClient(t)
	logs := mkdirOwned(t, filepath.Join(c.dir, "logs"), 0o777)
	f := writeOwned(t, filepath.Join(logs, "load.log"), nil, 0o666)
	// One client first fills known_hosts.
	if res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", f), 20*time.Second); res.code != 0 {
		t.Fatalf("warm-up: %v", res)
	}
	base := s.baseline(t)
	var procs []*bg
	handlers := s.count("Invoking channel handler")
	for i := 0; i < followers; i++ {
		procs = append(procs, c.start(t, c.cmd(t, "dtail", []*server{s}, "--plain", "--files", f), "follower"))
	}
	s.waitLogCount(t, "Invoking channel handler", handlers+followers, 60*time.Second)
	// Every follower must be positioned before the measured lines start.
	for i := 0; ; i++ {
		appendFile(t, f, []byte(fmt.Sprintf("probe %d\n", i)))
		time.Sleep(200 * time.Millisecond)
		ready := 0
		for _, p := range procs {
			if bytes.Contains(p.output(), []byte("probe ")) {
				ready++
			}
		}
		if ready == followers {
			break
		}
		if i > 150 {
			t.Fatalf("only %d of %d followers printed a probe line", ready, followers)
		}
	}
	total := rate * secs
	start := time.Now()
	wf, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	written := 0
	const tick = 10 * time.Millisecond
	for written < total {
		due := min(total, int(float64(rate)*time.Since(start).Seconds())+rate/100)
		if due > written {
			wf.Write(seqLines(written+1, due-written))
			written = due
		}
		time.Sleep(tick)
	}
	wf.Close()
	wrote := time.Since(start)
	t.Logf("%d lines written in %v (%.0f lines/s) to %d followers", total, wrote.Round(time.Millisecond), float64(total)/wrote.Seconds(), followers)
	peak := s.snap(t)
	// Wait until every follower has everything (by size: 9 bytes a line).
	deadline := time.Now().Add(time.Duration(secs)*time.Second*4 + 30*time.Second)
	for {
		behind := 0
		for _, p := range procs {
			if fi, err := os.Stat(p.outPath); err != nil || fi.Size() < int64(total*9) {
				behind++
			}
		}
		if behind == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("all followers caught up %v after the writer finished; server during load: %v", (time.Since(start) - wrote).Round(time.Millisecond), peak)
	time.Sleep(300 * time.Millisecond)
	for _, p := range procs {
		if !p.stop(syscall.SIGTERM, 2*time.Second) {
			t.Errorf("follower did not end within 2 s of SIGTERM")
		}
	}
	bad := 0
	for i, p := range procs {
		ta := newTally(total)
		ta.addAll(p.output())
		miss, dups, first := ta.check(1, total)
		probes := bytes.Count(p.output(), []byte("probe "))
		if miss != 0 || dups != 0 || ta.other != probes {
			bad++
			if bad <= 3 {
				t.Errorf("follower %d: expected %d, received %d, missing %d (first L%07d), duplicated %d, other %d; stderr %s",
					i, total, ta.received(), miss, first, dups, ta.other-probes, clip(p.errOutput()))
			}
		}
	}
	t.Logf("followers with every line exactly once: %d of %d", followers-bad, followers)
	s.expectBaseline(t, "after the followers ended", base, 10*time.Second)
}

// TestLoadDgrep200 guards queueing on the read slots: 200 concurrent dgrep
// sessions against one server with MaxConcurrentCats 2 all complete with the
// right output (they wait for a slot, none fails).
func TestLoadDgrep200(t *testing.T) {
	// Not parallel: it needs the machine to itself (2 cores).
	clients := envInt("DTAIL_LOAD_DGREP", 200)
	s := startDServer(t, withServerConfig(map[string]any{"MaxConnections": clients + 20, "MaxConcurrentCats": 2}), withPprof())
	c := newFClient(t)
	data := seqLines(1, 50000)
	f := writeOwned(t, filepath.Join(c.dir, "grep.log"), data, 0o644)
	var want []byte
	re := regexp.MustCompile(`^L00[0-4]..[37]7$`)
	for _, l := range lines(data) {
		if re.MatchString(l) {
			want = append(want, l+"\n"...)
		}
	}
	if res, _ := runCmd(t, c.cmd(t, "dgrep", []*server{s}, "--plain", "--regex", re.String(), "--files", f), 20*time.Second); res.code != 0 || !bytes.Equal(res.stdout, want) {
		t.Fatalf("warm-up dgrep: %v", res)
	}
	base := s.baseline(t)
	results := make([]result, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range clients {
		wg.Go(func() {
			results[i], _ = runCmd(t, c.cmd(t, "dgrep", []*server{s}, "--plain", "--regex", re.String(), "--files", f), 120*time.Second)
		})
	}
	peak := 0
	for done := false; !done; {
		ch := make(chan struct{})
		go func() { wg.Wait(); close(ch) }()
		select {
		case <-ch:
			done = true
		case <-time.After(200 * time.Millisecond):
			if n := fdCount(s.pid()); n > peak {
				peak = n
			}
		}
	}
	failed, slowest := 0, time.Duration(0)
	for i, r := range results {
		slowest = max(slowest, r.elapsed)
		if r.code != 0 || r.timedOut || !bytes.Equal(r.stdout, want) {
			failed++
			if failed <= 3 {
				t.Errorf("dgrep %d of %d: %v", i, clients, r)
			}
		}
	}
	queued := s.count("Server limit hit, queueing")
	t.Logf("%d concurrent dgrep sessions in %v (slowest %v): %d failed; server queued %d reads; peak fds %d (baseline %d)",
		clients, time.Since(start).Round(time.Millisecond), slowest.Round(time.Millisecond), failed, queued, peak, base.fds)
	if m := s.count("Exceeded max allowed concurrent connections"); m > 0 {
		t.Errorf("the server refused %d connections", m)
	}
	s.expectBaseline(t, "after 200 dgrep sessions", base, 10*time.Second)
}

// TestLoadHealthUnderMaxConnections guards the health reserve: with every
// MaxConnections slot taken by followers, dtailhealth still gets its OK
// (spec 4.4 reserves nothing; without a reserve the server refuses the
// health connection and the check reports CRITICAL, exit 2).
func TestLoadHealthUnderMaxConnections(t *testing.T) {
	t.Parallel()
	const maxConn = 5
	s := startDServer(t, withServerConfig(map[string]any{"MaxConnections": maxConn}), withPprof())
	c := newFClient(t)
	f := writeOwned(t, filepath.Join(c.dir, "h.log"), nil, 0o666)
	health := func() result {
		res, _ := runCmd(t, c.healthCmd(s), 20*time.Second)
		return res
	}
	if r := health(); r.code != 0 {
		t.Fatalf("health on an idle server: %v", r)
	}
	var procs []*bg
	for i := 0; i < maxConn; i++ {
		h := s.count("Invoking channel handler")
		procs = append(procs, c.start(t, c.cmd(t, "dtail", []*server{s}, "--plain", "--files", f), "holder"))
		s.waitLogCount(t, "Invoking channel handler", h+1, 20*time.Second)
		r := health()
		t.Logf("%d of %d connections held by followers: dtailhealth exit %d in %v: %s", i+1, maxConn, r.code, r.elapsed.Round(time.Millisecond), strings.TrimSpace(string(r.stdout)))
		// The answer must come from the server itself: with every slot
		// held it says so (CRITICAL: new users are refused); without the
		// reserve the check could not connect and would print the generic
		// CRITICAL line instead.
		if want := fmt.Sprintf("CRITICAL: all %d connection slots in use", maxConn); i+1 == maxConn && (r.code != 2 || !strings.Contains(string(r.stdout), want)) {
			t.Errorf("with all %d MaxConnections slots held by followers, dtailhealth says (exit %d, %v): %s%s; want %q; the server logged %d refusals",
				maxConn, r.code, r.elapsed.Round(time.Millisecond), r.stdout, r.stderr, want, s.count("Exceeded max allowed concurrent connections"))
		}
		if i+1 < maxConn && r.code != 0 {
			t.Errorf("with %d of %d slots held, dtailhealth: %v", i+1, maxConn, r)
		}
	}
	for _, p := range procs {
		p.stop(syscall.SIGTERM, 2*time.Second)
	}
	waitFor(5*time.Second, func() bool { return health().code == 0 })
	if r := health(); r.code != 0 {
		t.Errorf("health after the followers left: %v", r)
	}
}

// ---- signals and deadlines ----

// TestSignalInterrupt guards spec 5.7 on a remote dtail: the first Ctrl+C
// prints the hint and the connection stats and keeps running; a second one
// within 3 s ends it (exit 130); one after the window only repeats the hint.
func TestSignalInterrupt(t *testing.T) {
	t.Parallel()
	s := startDServer(t, withPprof())
	c := newFClient(t)
	f := writeOwned(t, filepath.Join(c.dir, "i.log"), nil, 0o666)
	p := c.start(t, c.cmd(t, "dtail", []*server{s}, "--files", f), "dtail")
	fo := follower{t: t, proc: p}
	fo.waitProbe(f, 20*time.Second)
	// The hint and the stats go to stderr: stdout carries payload only.
	hint := func() int { return strings.Count(string(p.errOutput()), "Hint: Hit Ctrl+C again to exit") }
	p.cmd.Process.Signal(syscall.SIGINT)
	if !waitFor(2*time.Second, func() bool { return hint() == 1 && strings.Contains(string(p.errOutput()), "Connection stats: ") }) {
		t.Fatalf("no hint and stats on stderr after the first SIGINT: stdout %s\nstderr %s", p.output(), p.errOutput())
	}
	if strings.Contains(string(p.output()), "Hint:") {
		t.Errorf("the Ctrl+C hint is on stdout: %s", p.output())
	}
	time.Sleep(3500 * time.Millisecond) // the window passes
	if p.exited() {
		t.Fatalf("dtail ended after a single SIGINT")
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	if !waitFor(2*time.Second, func() bool { return hint() == 2 }) || p.exited() {
		t.Fatalf("a SIGINT after the 3 s window should print the hint again and keep running (exited %v): %s", p.exited(), p.errOutput())
	}
	time.Sleep(500 * time.Millisecond)
	sent := time.Now()
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
		t.Logf("second SIGINT within the window: dtail ended after %v, exit %d", time.Since(sent).Round(time.Millisecond), p.exitCode())
	case <-time.After(time.Second):
		t.Fatalf("dtail still runs 1 s after the second SIGINT")
	}
	if p.exitCode() != 130 {
		t.Errorf("exit %d after Ctrl+C twice, want 130 (128+SIGINT)", p.exitCode())
	}
}

// termSlack is what a loaded 2-core machine may add between the signal and
// the test noticing the exit (a blocked client's forced exit is measured at
// ~0.9 s on a quiet machine; with a load average of 35 it took 1.26 s). The
// test guards "ends promptly instead of hanging", not a latency figure.
const termSlack = 2 * time.Second

// TestSignalTerm guards: SIGTERM ends every binary within one second, also
// when it is blocked (stdout nobody reads, a stdin that never ends, a
// server stream in progress).
func TestSignalTerm(t *testing.T) {
	t.Parallel()
	s := startDServer(t, withPprof())
	c := newFClient(t)
	big := writeOwned(t, filepath.Join(c.dir, "big.log"), seqLines(1, 1000000), 0o644)
	stats := writeOwned(t, filepath.Join(c.dir, "stats.log"), statsLog(20000, 0), 0o644)
	if err := os.Truncate(stats, 20<<30); err != nil { // STATS lines, then sparse zeros: dmap runs for a while
		t.Fatal(err)
	}
	follow := writeOwned(t, filepath.Join(c.dir, "follow.log"), []byte("x\n"), 0o666)
	q := "from STATS select count($line) group by $hostname"
	type tc struct {
		name    string
		cmd     *exec.Cmd
		blocked bool // stdout is a pipe nobody reads
		stdin   bool // stdin is a pipe that never ends
		server  bool
	}
	cases := []tc{
		{name: "dtail remote", cmd: c.cmd(t, "dtail", []*server{s}, "--files", follow)},
		{name: "dtail --query remote", cmd: c.cmd(t, "dtail", []*server{s}, "--query", q, "--files", stats)},
		{name: "dcat remote, stdout blocked", cmd: c.cmd(t, "dcat", []*server{s}, "--files", big), blocked: true},
		{name: "dgrep remote, stdout blocked", cmd: c.cmd(t, "dgrep", []*server{s}, "--regex", "L", "--files", big), blocked: true},
		{name: "dmap remote", cmd: c.cmd(t, "dmap", []*server{s}, "--query", q, "--files", stats)},
		{name: "dtail serverless", cmd: c.local("dtail", "--files", follow)},
		{name: "dcat serverless, stdout blocked", cmd: c.local("dcat", "--plain", "--files", big), blocked: true},
		{name: "dgrep serverless, stdin", cmd: c.local("dgrep", "--plain", "--regex", "x"), stdin: true},
		{name: "dmap serverless, stdin", cmd: c.local("dmap", "--query", q), stdin: true},
		{name: "dserver with sessions", server: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var pid int
			var done <-chan struct{}
			if tc.server {
				s2 := startDServer(t, withPprof())
				c.start(t, c.cmd(t, "dtail", []*server{s2}, "--files", follow), "holder")
				s2.waitLogCount(t, "Invoking channel handler", 1, 20*time.Second)
				pid, done = s2.pid(), s2.proc.done
			} else if tc.blocked {
				p := startPiped(t, tc.cmd, c.dir, "blocked")
				p.r.ReadString('\n') // it is running and has output
				time.Sleep(500 * time.Millisecond)
				pid, done = tc.cmd.Process.Pid, p.done
			} else {
				if tc.stdin {
					r, w, _ := os.Pipe()
					tc.cmd.Stdin = r
					t.Cleanup(func() { w.Close(); r.Close() })
				}
				p := c.start(t, tc.cmd, "term")
				time.Sleep(1500 * time.Millisecond) // connected and reading
				if p.exited() {
					t.Fatalf("ended before the signal: exit %d: %s", p.exitCode(), p.errOutput())
				}
				pid, done = tc.cmd.Process.Pid, p.done
			}
			sent := time.Now()
			syscall.Kill(pid, syscall.SIGTERM)
			select {
			case <-done:
				t.Logf("ended %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
			case <-time.After(time.Second + termSlack):
				select {
				case <-done:
					t.Errorf("ended only %v after SIGTERM, want < 1 s (+ %v slack)", time.Since(sent).Round(time.Millisecond), termSlack)
				case <-time.After(4 * time.Second):
					t.Errorf("still running %v after SIGTERM (killed by the cleanup)", time.Since(sent).Round(time.Second))
				}
			}
		})
	}
}

// TestSignalDeadlines guards spec 5.8 and dserver -shutdownAfter: the time
// limits end the run in every mode, serverless included.
func TestSignalDeadlines(t *testing.T) {
	t.Parallel()
	s := startDServer(t, withPprof())
	c := newFClient(t)
	follow := writeOwned(t, filepath.Join(c.dir, "follow.log"), []byte("x\n"), 0o666)
	stats := writeOwned(t, filepath.Join(c.dir, "stats.log"), statsLog(100, 0), 0o666)
	sparse := filepath.Join(c.dir, "sparse.log")
	writeOwned(t, sparse, nil, 0o644)
	os.Truncate(sparse, 20<<30)
	q := "from STATS select count($line) group by $hostname"
	cases := []struct {
		name  string
		cmd   *exec.Cmd
		stdin bool
		code  int
	}{
		{"dtail --timeout 2 remote", c.cmd(t, "dtail", []*server{s}, "--timeout", "2", "--files", follow), false, 0},
		{"dtail -shutdownAfter 2 remote", c.cmd(t, "dtail", []*server{s}, "-shutdownAfter", "2", "--files", follow), false, 0},
		{"dtail --query --timeout 2 remote", c.cmd(t, "dtail", []*server{s}, "--timeout", "2", "--query", q, "--files", stats), false, 0},
		{"dmap --timeout 2 remote (20 GB)", c.cmd(t, "dmap", []*server{s}, "--timeout", "2", "--query", q, "--files", sparse), false, 0},
		{"dtail --timeout 2 serverless", c.local("dtail", "--timeout", "2", "--files", follow), false, 0},
		{"dtail -shutdownAfter 2 serverless", c.local("dtail", "-shutdownAfter", "2", "--files", follow), false, 0},
		{"dtail --query --timeout 2 serverless", c.local("dtail", "--timeout", "2", "--query", q, "--files", stats), false, 0},
		{"dmap --timeout 2 serverless (20 GB)", c.local("dmap", "--timeout", "2", "--query", q, "--files", sparse), false, 0},
		{"dmap --timeout 2 serverless stdin", c.local("dmap", "--timeout", "2", "--query", q), true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.stdin {
				r, w, _ := os.Pipe()
				tc.cmd.Stdin = r
				t.Cleanup(func() { w.Close(); r.Close() })
			}
			res, _ := runCmd(t, tc.cmd, 15*time.Second)
			t.Logf("ended after %v, exit %d", res.elapsed.Round(time.Millisecond), res.code)
			if res.timedOut || res.elapsed > 5*time.Second || res.elapsed < 1500*time.Millisecond || res.code != tc.code {
				t.Errorf("want the run to end after ~2 s with exit %d: %v", tc.code, res)
			}
		})
	}
	t.Run("dserver -shutdownAfter 2", func(t *testing.T) {
		t.Parallel()
		s2 := startDServer(t, withArgs("-shutdownAfter", "2"), withPprof())
		started := time.Now()
		c.start(t, c.cmd(t, "dtail", []*server{s2}, "--files", follow), "holder")
		select {
		case <-s2.proc.done:
			t.Logf("dserver ended %v after start, exit %d", time.Since(started).Round(time.Millisecond), s2.proc.exitCode())
			if s2.proc.exitCode() != 0 {
				t.Errorf("exit %d", s2.proc.exitCode())
			}
		case <-time.After(6 * time.Second):
			t.Errorf("dserver -shutdownAfter 2 still runs after 6 s (with a follower connected)")
		}
	})
}

// ---- hostile input ----

// TestHostileGarbage guards the session parser and the connection
// handling against garbage over real SSH sessions (random bytes, truncated
// and oversized frames, bad base64, unknown commands, abrupt closes) and
// raw TCP garbage before the handshake: the server survives, other
// sessions are not disturbed, and nothing leaks.
func TestHostileGarbage(t *testing.T) {
	t.Parallel()
	s := startDServer(t, withServerConfig(map[string]any{"MaxConnections": 40}), withPprof())
	c := newFClient(t)
	wf := writeOwned(t, filepath.Join(c.dir, "witness.log"), nil, 0o666)
	small := writeOwned(t, filepath.Join(c.dir, "small.log"), seqLines(1, 1000), 0o644)
	if res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", small), 20*time.Second); res.code != 0 {
		t.Fatalf("warm-up: %v", res)
	}
	witness := follower{t: t, proc: c.start(t, c.cmd(t, "dtail", []*server{s}, "--plain", "--files", wf), "witness")}
	witness.waitProbe(wf, 20*time.Second)
	base := s.baseline(t)
	w := &seqWriter{}

	rnd := func(n int) []byte { b := make([]byte, n); rand.Read(b); return b }
	b64 := func(s string) string { return "protocol 4.1 base64 " + encodeB64(s) + ";" }
	payloads := [][]byte{
		rnd(100), rnd(64 << 10), rnd(3 << 20),
		[]byte("protocol 4.1 base64 "),                                                  // truncated frame
		[]byte("protocol 4.1 base64 !!!notbase64!!!;"),                                  // bad base64
		[]byte(b64("cat:plain=true")),                                                   // truncated command
		[]byte(b64("cat:plain=true " + small)),                                          // no regex
		[]byte(b64("grep:plain=true " + small + " regex:default (")),                    // bad regex
		[]byte(b64("map: from STATS select")),                                           // bad query
		[]byte(b64("nonsense verb with args")),                                          // unknown verb
		[]byte(b64("timeout -5 cat " + small + " regex:noop ")),                         // bad timeout
		[]byte(b64(".ack close connection")),                                            // ack before close
		[]byte(b64("AUTHKEY " + strings.Repeat("A", 5000))),                             // bad key
		[]byte(b64("SESSION START " + strings.Repeat("x", 100))),                        // unsupported
		append([]byte("protocol 4.1 base64 "), bytes.Repeat([]byte("QUFB"), 400000)...), // > 1 MiB frame, no terminator
		[]byte(strings.Repeat(";", 10000)),
		[]byte("protocol 4.1 base64 " + encodeB64("cat:plain=true "+small+" regex:noop ") + ";" + string(rnd(1000))), // good then garbage
	}
	for i, pl := range payloads {
		rc := dialRaw(t, s)
		rc.stdin.Write(pl)
		if i%2 == 0 {
			time.Sleep(50 * time.Millisecond)
			rc.client.Close() // abrupt
		} else {
			rc.stdin.Close()
			select {
			case <-rc.done:
			case <-time.After(3 * time.Second):
			}
			rc.client.Close()
		}
		appendFile(t, wf, w.lines(10))
	}
	// Raw TCP garbage before any SSH handshake, and half-closed handshakes.
	for i := 0; i < 10; i++ {
		conn, err := netDial(s.addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		if i%2 == 0 {
			conn.Write([]byte("SSH-2.0-evil\r\n"))
		}
		conn.Write(rnd(4096))
		conn.Close()
	}
	if s.proc.exited() {
		t.Fatalf("dserver died: %s", tail(s.log(), 30))
	}
	res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", small), 20*time.Second)
	if res.code != 0 || !bytes.Equal(res.stdout, seqLines(1, 1000)) {
		t.Errorf("dcat after the garbage: %v", res)
	}
	witness.waitAll(w.next, 10*time.Second)
	counts, other := witness.seen()
	for l, n := range counts {
		if n != 1 {
			t.Errorf("witness: %s printed %d times", l, n)
		}
	}
	if len(other) > 0 {
		t.Errorf("witness: unexpected lines %q", other)
	}
	if n := strings.Count(s.log(), "panic"); n > 0 {
		t.Errorf("server log mentions panic %d times:\n%s", n, tail(s.log(), 30))
	}
	s.expectBaseline(t, "after the garbage sessions", base, 12*time.Second)
}

// ---- soak (bench/soak.sh; skipped unless DTAIL_SOAK_SECONDS is set) ----

// TestSoak: 20 followers of a log rotated every 30 s, random SIGKILLs of
// some followers (restarted at once), a stalled client for the 60 s stall
// timeout; reports lines expected/received/duplicated per follower, leaked
// goroutines and fds, and the server RSS at start and end.
func TestSoak(t *testing.T) {
	secs := envInt("DTAIL_SOAK_SECONDS", 0)
	if secs == 0 {
		t.Skip("soak: set DTAIL_SOAK_SECONDS (bench/soak.sh does)")
	}
	nFollowers := envInt("DTAIL_SOAK_FOLLOWERS", 20)
	rotateEvery := time.Duration(envInt("DTAIL_SOAK_ROTATE_SECONDS", 30)) * time.Second
	killEvery := time.Duration(envInt("DTAIL_SOAK_KILL_SECONDS", 10)) * time.Second
	rate := envInt("DTAIL_SOAK_RATE", 2000)
	s := startDServer(t, withServerConfig(map[string]any{"MaxConnections": nFollowers + 20}), withPprof())
	c := newFClient(t)
	logs := mkdirOwned(t, filepath.Join(c.dir, "logs"), 0o777)
	app := filepath.Join(logs, "app.log")
	writeOwned(t, app, nil, 0o666)
	big := writeOwned(t, filepath.Join(c.dir, "big.log"), seqLines(1, 3000000), 0o644)
	if res, _ := runCmd(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", app), 20*time.Second); res.code != 0 {
		t.Fatalf("warm-up: %v", res)
	}
	base := s.baseline(t)
	report := func(format string, args ...any) { fmt.Printf("SOAK "+format+"\n", args...) }
	report("start: duration %ds, %d followers (half of them killed at random every ~%v), rotation every %v, %d lines/s; server baseline %v", secs, nFollowers, killEvery, rotateEvery, rate, base)

	// The writer: sequence lines at rate, rename rotation every rotateEvery.
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	rotations := 0
	wg.Go(func() {
		f, _ := os.OpenFile(app, os.O_WRONLY|os.O_APPEND, 0)
		start, lastRot := time.Now(), time.Now()
		n := 0
		for {
			select {
			case <-stop:
				f.Close()
				return
			case <-time.After(10 * time.Millisecond):
			}
			due := int(float64(rate) * time.Since(start).Seconds())
			if due > n {
				f.Write(seqLines(n+1, due-n))
				n = due
				written.Store(int64(n))
			}
			if time.Since(lastRot) >= rotateEvery {
				os.Remove(app + ".1")
				os.Rename(app, app+".1")
				f.Write(seqLines(n+1, 50)) // the writer finishes on the old file
				n += 50
				f.Close()
				f, _ = os.OpenFile(app, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
				os.Chown(app, acct.uid, acct.gid)
				written.Store(int64(n))
				lastRot = time.Now()
				rotations++
			}
		}
	})

	type slot struct {
		p         *bg
		firstSeen int // first L line this process printed; expected range starts there
		killable  bool
	}
	type finished struct {
		out       []byte
		killed    bool
		firstSeen int
	}
	var done []finished
	startFollower := func() *bg {
		return c.start(t, c.cmd(t, "dtail", []*server{s}, "--plain", "--files", app), "soak")
	}
	slots := make([]*slot, nFollowers)
	for i := range slots {
		slots[i] = &slot{p: startFollower(), killable: i%2 == 1}
	}
	// The stalled client: stopped until the server's 60 s stall timeout.
	var stalled *bg
	var stalledAt time.Time
	if secs >= 120 {
		stalled = c.start(t, c.cmd(t, "dcat", []*server{s}, "--plain", "--files", big), "stalled")
		if stalled.waitOutput(20*time.Second, func(b []byte) bool { return len(b) > 100000 }) {
			syscall.Kill(-stalled.cmd.Process.Pid, syscall.SIGSTOP)
			stalledAt = time.Now()
		}
	}
	stallReported := false
	kills := 0
	begin := time.Now()
	nextKill := begin.Add(killEvery)
	nextReport := begin.Add(30 * time.Second)
	for time.Since(begin) < time.Duration(secs)*time.Second {
		time.Sleep(200 * time.Millisecond)
		if time.Now().After(nextKill) {
			var ks []*slot
			for _, sl := range slots {
				if sl.killable {
					ks = append(ks, sl)
				}
			}
			sl := ks[mrand.IntN(len(ks))]
			syscall.Kill(-sl.p.cmd.Process.Pid, syscall.SIGKILL)
			<-sl.p.done
			done = append(done, finished{out: sl.p.output(), killed: true})
			sl.p = startFollower()
			kills++
			nextKill = time.Now().Add(killEvery/2 + time.Duration(mrand.Int64N(int64(killEvery))))
		}
		if stalled != nil && !stallReported && s.count("Client stopped reading") > 0 {
			stallReported = true
			at := time.Since(stalledAt).Round(time.Second)
			// The session must really end while the client is still stopped:
			// its open big.log is the marker.
			released := waitFor(5*time.Second, func() bool { return !strings.Contains(fdList(s.pid()), "big.log") })
			report("stall: the server declared the stopped client stalled %v after SIGSTOP (stall timeout 60 s); session released (big.log closed) within 5 s: %v", at, released)
			if !released {
				t.Errorf("the stalled session still holds big.log open after the stall timeout")
			}
			syscall.Kill(-stalled.cmd.Process.Pid, syscall.SIGCONT)
		}
		if time.Now().After(nextReport) {
			g, _ := s.goroutines()
			report("t=%4ds written %d lines, rotations %d, kills %d; server %d goroutines, %d fds, RSS %d MB", int(time.Since(begin).Seconds()), written.Load(), rotations, kills, g, fdCount(s.pid()), procStatusKB(s.pid(), "VmRSS")>>10)
			nextReport = nextReport.Add(30 * time.Second)
		}
	}
	close(stop)
	wg.Wait()
	total := int(written.Load())
	// Let the survivors catch up: every line up to total.
	catchUp := time.Now()
	waitFor(60*time.Second, func() bool {
		for _, sl := range slots {
			if !bytes.Contains(sl.p.output(), append(appendPad7([]byte("L"), total), '\n')) {
				return false
			}
		}
		return true
	})
	report("writer stopped at %d lines; followers caught up in %v", total, time.Since(catchUp).Round(time.Millisecond))
	time.Sleep(time.Second)
	endLoad := s.snap(t)
	for _, sl := range slots {
		if !sl.p.stop(syscall.SIGTERM, 2*time.Second) {
			t.Errorf("a follower did not end within 2 s of SIGTERM")
		}
		done = append(done, finished{out: sl.p.output()})
	}
	if stalled != nil {
		syscall.Kill(-stalled.cmd.Process.Pid, syscall.SIGCONT)
		stalled.stop(syscall.SIGKILL, time.Second)
		if !stallReported {
			t.Errorf("the server never closed the stalled session (no 'Client stopped reading' in its log)")
			report("stall: the server did NOT close the stalled session within %v", time.Since(stalledAt).Round(time.Second))
		}
	}
	// Tally: a follower's expected range is from the first line it printed
	// to the end (survivors) or to the last it printed (killed ones).
	var expSum, recvSum, dupSum, missSum, otherSum int
	var survivorsBad, killedBad int
	for i, d := range done {
		ta := newTally(total + 1)
		ta.addAll(d.out)
		first, last := 0, 0
		for n := 1; n <= total; n++ {
			if ta.counts[n] > 0 {
				if first == 0 {
					first = n
				}
				last = n
			}
		}
		if first == 0 {
			continue // killed before it printed anything
		}
		to := total
		if d.killed {
			to = last
		}
		miss, dups, firstMiss := ta.check(first, to)
		expSum += to - first + 1
		recvSum += ta.received()
		dupSum += dups
		missSum += miss
		otherSum += ta.other
		if miss+dups+ta.other != 0 {
			if d.killed {
				killedBad++
			} else {
				survivorsBad++
			}
			t.Errorf("follower %d (killed %v): lines L%07d…L%07d: %d missing (first L%07d), %d duplicated, %d other (%q)", i, d.killed, first, to, miss, firstMiss, dups, ta.other, ta.first)
		}
	}
	report("followers: %d processes (%d survivors, %d killed); lines expected %d, received %d, missing %d, duplicated %d, other %d; followers with errors: %d survivors, %d killed",
		len(done), nFollowers, len(done)-nFollowers, expSum, recvSum, missSum, dupSum, otherSum, survivorsBad, killedBad)
	end, _ := s.expectBaseline(t, "soak end", base, 10*time.Second)
	report("server: baseline %v; under load at the end %v; after all clients left %v; leaked %d goroutines, %d fds; RSS start %d MB, end %d MB, peak (VmHWM) %d MB",
		base, endLoad, end, end.goroutines-base.goroutines, end.fds-base.fds, base.rssKB>>10, end.rssKB>>10, procStatusKB(s.pid(), "VmHWM")>>10)
}
