package e2e

// Helpers of the fault, load, signal and hostile-input tests
// (faults_test.go): dservers with a config file, pprof and a fixed port so
// they can be restarted; goroutine, fd and RSS probes; clients whose
// stdout is a pipe the test reads at its own pace (backpressure on
// purpose); sequence-line tallies.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ---- dserver with config, pprof and restarts ----

// ---- goroutines, fds, memory ----

type snapshot struct {
	goroutines, fds, rssKB int
}

func (n snapshot) String() string {
	return fmt.Sprintf("%d goroutines, %d fds, RSS %d MB", n.goroutines, n.fds, n.rssKB>>10)
}

var pprofClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// goroutines reads the total of /debug/pprof/goroutine?debug=1.
func (s *server) goroutines() (int, error) {
	resp, err := pprofClient.Get("http://" + s.pprof + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return 0, err
	}
	var n int
	if _, err := fmt.Sscanf(line, "goroutine profile: total %d", &n); err != nil {
		return 0, fmt.Errorf("pprof answered %q", line)
	}
	io.Copy(io.Discard, resp.Body)
	return n, nil
}

// goroutineDump is the debug=1 profile, for failure messages.
func (s *server) goroutineDump() string {
	resp, err := pprofClient.Get("http://" + s.pprof + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return clip(b)
}

func fdCount(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

// procStatusKB reads a "Vm…:  N kB" field of /proc/PID/status.
func procStatusKB(pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return -1
}

func (s *server) snap(t testing.TB) snapshot {
	t.Helper()
	g, err := s.goroutines()
	if err != nil {
		t.Fatalf("pprof of dserver %s: %v\nlog tail:\n%s", s.pprof, err, tail(s.log(), 10))
	}
	return snapshot{goroutines: g, fds: fdCount(s.pid()), rssKB: procStatusKB(s.pid(), "VmRSS")}
}

// baseline waits until two snapshots 300 ms apart agree on goroutines
// and fds (at most 5 s) and returns the last one.
func (s *server) baseline(t testing.TB) snapshot {
	t.Helper()
	prev := s.snap(t)
	for i := 0; i < 16; i++ {
		time.Sleep(300 * time.Millisecond)
		cur := s.snap(t)
		if cur.goroutines == prev.goroutines && cur.fds == prev.fds {
			return cur
		}
		prev = cur
	}
	return prev
}

// Slack allowed over the baseline: the pprof request itself and a
// runtime goroutine or two. A leaked session costs at least five
// goroutines (mux reader, channel, requests, handler, reader) and a socket.
const (
	goroutineSlack = 2
	fdSlack        = 0
)

// expectBaseline waits up to d for goroutines and fds to return to base
// and reports what it found; it fails the test when they did not.
func (s *server) expectBaseline(t testing.TB, what string, base snapshot, d time.Duration) (snapshot, time.Duration) {
	t.Helper()
	start := time.Now()
	var cur snapshot
	for {
		cur = s.snap(t)
		if cur.goroutines <= base.goroutines+goroutineSlack && cur.fds <= base.fds+fdSlack {
			el := time.Since(start)
			t.Logf("%s: back to baseline after %v: %v (baseline %v)", what, el.Round(10*time.Millisecond), cur, base)
			return cur, el
		}
		if time.Since(start) > d {
			t.Errorf("%s: server did not return to its baseline within %v: %v, baseline %v (leaked %d goroutines, %d fds)\nopen fds: %s\ngoroutines:\n%s",
				what, d, cur, base, cur.goroutines-base.goroutines, cur.fds-base.fds, fdList(s.pid()), s.goroutineDump())
			return cur, time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func fdList(pid int) string {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	var out []string
	for _, e := range ents {
		l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
		out = append(out, e.Name()+"→"+l)
	}
	return strings.Join(out, " ")
}

// ---- clients ----

// fclient is a client home and working directory shared by several client
// processes (known_hosts is filled by the first one).
type fclient struct {
	dir, home string
}

func newFClient(t testing.TB) fclient {
	t.Helper()
	dir := newWorkDir(t)
	return fclient{dir: dir, home: newHome(t, dir)}
}

// cmd builds a remote client command (ours) against ss.
func (c fclient) cmd(t testing.TB, bin string, ss []*server, args ...string) *exec.Cmd {
	t.Helper()
	r := oursClient().remote(t, bin, c.home, ss, args...)
	cmd := exec.Command(r.bin, r.args...)
	cmd.Dir, cmd.Env = r.dir, r.env
	return cmd
}

// local builds a serverless client command.
func (c fclient) local(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(ours(bin), append([]string{"--cfg", "none"}, args...)...)
	cmd.Dir, cmd.Env = c.dir, baseEnv(c.home)
	return cmd
}

var outSeq struct {
	sync.Mutex
	n int
}

// start runs a client in the background, stdout to a file in c.dir.
func (c fclient) start(t testing.TB, cmd *exec.Cmd, name string) *bg {
	t.Helper()
	outSeq.Lock()
	outSeq.n++
	n := outSeq.n
	outSeq.Unlock()
	return startBG(t, cmd, filepath.Join(c.dir, fmt.Sprintf("%s-%d.out", name, n)))
}

// runCmd runs cmd to completion (killed after d) and returns its result
// with the peak RSS of the process.
func runCmd(t testing.TB, cmd *exec.Cmd, d time.Duration) (result, int) {
	t.Helper()
	var out, errb bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	cmd.Stderr = &errb
	cmd.SysProcAttr = procAttr()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	timer := time.AfterFunc(d, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	// The child's VmHWM is sampled while it runs: rusage's ru_maxrss
	// after a vfork-style start can report the (large) test process's
	// peak instead of the child's own. VmHWM is a high-water mark, so the
	// last sample before exit holds the peak up to then.
	hwm := make(chan int, 1)
	stopPoll := make(chan struct{})
	go func() {
		peak := 0
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if kb := vmHWM(cmd.Process.Pid); kb > peak {
				peak = kb
			}
			select {
			case <-stopPoll:
				hwm <- peak
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	close(stopPoll)
	timedOut := !timer.Stop()
	res := result{stdout: out.Bytes(), stderr: errb.Bytes(), elapsed: time.Since(start), timedOut: timedOut}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", cmd.Path, err)
	}
	return res, <-hwm
}

// vmHWM reads a process's peak resident set (kB) from /proc, 0 if gone.
func vmHWM(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb
		}
	}
	return 0
}

// piped is a client whose stdout the test reads itself, so it can stop
// reading (the client then blocks, and so do the servers behind it).
type piped struct {
	cmd     *exec.Cmd
	r       *bufio.Reader
	rf      *os.File
	errPath string
	done    chan struct{}
	err     error
}

func startPiped(t testing.TB, cmd *exec.Cmd, dir, name string) *piped {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &piped{cmd: cmd, rf: r, r: bufio.NewReaderSize(r, 64<<10), errPath: filepath.Join(dir, name+".err"), done: make(chan struct{})}
	ef, err := os.Create(p.errPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, ef
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	w.Close()
	go func() {
		p.err = cmd.Wait()
		ef.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		r.Close()
		<-p.done
	})
	return p
}

func (p *piped) stderr() string { b, _ := os.ReadFile(p.errPath); return string(b) }

func (p *piped) wait(d time.Duration) (code int, ok bool) {
	select {
	case <-p.done:
	case <-time.After(d):
		return 0, false
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode(), true
	}
	if p.err != nil {
		return -2, true
	}
	return 0, true
}

// ---- sequence lines ----

// seqLines returns n lines "L%07d\n" numbered from first.
func seqLines(first, n int) []byte {
	b := make([]byte, 0, n*9)
	for i := first; i < first+n; i++ {
		b = append(b, 'L')
		b = appendPad7(b, i)
		b = append(b, '\n')
	}
	return b
}

func appendPad7(b []byte, i int) []byte {
	var d [7]byte
	for k := 6; k >= 0; k-- {
		d[k] = byte('0' + i%10)
		i /= 10
	}
	return append(b, d[:]...)
}

// parseSeq returns the number of a "L%07d" line, or -1.
func parseSeq(l []byte) int {
	if len(l) != 8 || l[0] != 'L' {
		return -1
	}
	n := 0
	for _, c := range l[1:] {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// tally counts the L%07d lines of b (1…max) and the other lines.
type tally struct {
	counts []uint8
	other  int
	first  string // first other line
}

func newTally(max int) *tally { return &tally{counts: make([]uint8, max+1)} }

func (ta *tally) add(line []byte) {
	n := parseSeq(line)
	if n < 0 || n >= len(ta.counts) {
		if ta.other == 0 {
			ta.first = string(line)
		}
		ta.other++
		return
	}
	if ta.counts[n] < 255 {
		ta.counts[n]++
	}
}

func (ta *tally) addAll(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			ta.add(b)
			return
		}
		ta.add(b[:i])
		b = b[i+1:]
	}
}

// check reports how many of from…to are missing and duplicated, and the
// duplicates outside that range.
func (ta *tally) check(from, to int) (missing, dups int, firstMissing int) {
	firstMissing = -1
	for i := 1; i < len(ta.counts); i++ {
		c := ta.counts[i]
		if c > 1 {
			dups += int(c) - 1
		}
		if i >= from && i <= to && c == 0 {
			if firstMissing < 0 {
				firstMissing = i
			}
			missing++
		}
	}
	return
}

func (ta *tally) received() int {
	n := 0
	for _, c := range ta.counts {
		n += int(c)
	}
	return n
}

// appendTo appends data to path (no test failure from other goroutines).
func appendTo(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// waitFor polls cond every 20 ms for at most d.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// statsLog is a file of n default-format STATS lines for mapreduce.
func statsLog(n, from int) []byte {
	var b bytes.Buffer
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "INFO|1002-071147|1|stats.go:56|2|%d|0|0.10|1h0m0s|MAPREDUCE:STATS|currentConnections=%d|lifetimeConnections=%d\n", 10+i%7, i%5, i)
	}
	return b.Bytes()
}

// envInt reads an integer tuning knob of the load tests.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func encodeB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func netDial(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 2*time.Second) }

// waitMarker appends "probe <name> N" lines to path until the follower
// printed one of them: its (new) session is then surely following.
func waitMarker(t testing.TB, p *bg, path, name string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for i := 0; ; i++ {
		if err := appendTo(path, []byte(fmt.Sprintf("probe %s %d\n", name, i))); err != nil {
			t.Fatal(err)
		}
		if p.waitOutput(200*time.Millisecond, func(b []byte) bool { return bytes.Contains(b, []byte("probe "+name+" ")) }) {
			return
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("follower printed no %q probe within %v (exited %v)\nstdout: %s\nstderr: %s", name, d, p.exited(), clip(p.output()), clip(p.errOutput()))
		}
	}
}

// remoteLine splits REMOTE|host|100|lineno|globid|content.
func remoteLine(l []byte) (host string, content []byte, ok bool) {
	rest, found := bytes.CutPrefix(l, []byte("REMOTE|"))
	if !found {
		return "", nil, false
	}
	i := bytes.IndexByte(rest, '|')
	if i < 0 {
		return "", nil, false
	}
	host = string(rest[:i])
	rest = rest[i+1:]
	for k := 0; k < 3; k++ {
		j := bytes.IndexByte(rest, '|')
		if j < 0 {
			return "", nil, false
		}
		rest = rest[j+1:]
	}
	return host, rest, true
}

// healthCmd runs dtailhealth against s as the account.
func (c fclient) healthCmd(s *server) *exec.Cmd {
	cmd := exec.Command(ours("dtailhealth"), "--server", s.addr)
	cmd.Dir, cmd.Env = c.dir, baseEnv(c.home)
	return cmd
}
