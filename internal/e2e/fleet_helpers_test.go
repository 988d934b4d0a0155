package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// consecutivePorts finds n free consecutive ports on 127.0.0.1, so that a
// host range like 127.0.0.1:[P1-Pn] names the fleet. 0 when none found.
func consecutivePorts(n int) int {
	for try := 0; try < 50; try++ {
		base := 20000 + int(time.Now().UnixNano()%30000)
		var ls []net.Listener
		ok := true
		for i := 0; i < n; i++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return base
		}
	}
	return 0
}

// startFleet starts n of our dservers in parallel on consecutive ports
// when possible, named node01…nodeNN.
func startFleet(t *testing.T, n int) []*server {
	t.Helper()
	keys(t)
	base := consecutivePorts(n)
	nodes := make([]*server, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for i := 0; i < n; i++ {
		port := 0
		if base != 0 {
			port = base + i
		}
		wg.Go(func() {
			// t.Fatal must not run on another goroutine: collect instead.
			ft := &fleetT{T: t}
			func() {
				defer func() { recover() }()
				nodes[i] = startDServer(ft, withHost(fmt.Sprintf("node%02d", i+1)), preferPort(port))
			}()
			if ft.msg != "" {
				mu.Lock()
				errs = append(errs, ft.msg)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(strings.Join(errs, "\n"))
	}
	return nodes
}

// fleetT turns Fatal on a helper goroutine into a panic plus a message.
type fleetT struct {
	*testing.T
	msg string
}

func (f *fleetT) Fatal(args ...any) { f.msg = fmt.Sprint(args...); panic(f.msg) }
func (f *fleetT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f.msg)
}

func addrsOf(nodes []*server) []string {
	var a []string
	for _, n := range nodes {
		a = append(a, n.addr)
	}
	return a
}

// fleetClient runs one of our clients with --servers spec (as given, so
// host-set syntax reaches the client unchanged).
func fleetClient(t testing.TB, bin, home, spec string, noAuthKey bool, args ...string) run {
	t.Helper()
	a := []string{"--cfg", "none", "--trustAllHosts", "--noColor", "--servers", spec, "--user", acct.name,
		"--auth-key-path", userKey.priv}
	if noAuthKey {
		a = append(a, "--no-auth-key")
	}
	return run{bin: filepath.Join(binDir, bin), args: append(a, args...), dir: filepath.Dir(home), env: baseEnv(home), timeout: 25 * time.Second}
}

// ---- log generation ----

// fleetLog writes a deterministic log for node i (1-based): several
// templates with masked parts (numbers, IPs, UUIDs, hex ids), a different
// mix and length per node, "RARE" lines only on even nodes and "disk"
// lines only on odd nodes.
func fleetLog(i int) []byte {
	var b bytes.Buffer
	n := 1500 + 97*i
	for k := 0; k < n; k++ {
		switch {
		case k%7 == 0:
			fmt.Fprintf(&b, "INFO|req %d status=503 took %dms from 10.%d.%d.%d\n", k, (k*31)%997, i, k%250, (k*7)%250)
		case k%11 == 3:
			fmt.Fprintf(&b, "WARN|user%d login failed session=%08x%04x\n", k%41, 0xdeadbeef+k, i)
		case k%13 == 5:
			fmt.Fprintf(&b, "ERROR|req %08x-%04x-4%03x-a%03x-%012x failed\n", k*i+1, k%65536, k%4096, i, k)
		case i%2 == 0 && k%101 == 50:
			fmt.Fprintf(&b, "CRIT|RARE event %d on shard%d\n", k, i)
		case i%2 == 1 && k%53 == 20:
			fmt.Fprintf(&b, "WARN|disk /dev/sda%d at %d%% full\n", i, 80+k%20)
		default:
			fmt.Fprintf(&b, "INFO|req %d status=200 took %dms\n", k, (k*17)%997)
		}
	}
	return b.Bytes()
}

// grepCount is grep -c -E over data.
func grepCount(data []byte, re *regexp.Regexp) int {
	n := 0
	for _, l := range lines(data) {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

// ---- output parsing ----

// fleetLine is one REMOTE|host|pct|lineno|file|text line.
type fleetLine struct {
	Host string `json:"host"`
	File string `json:"file"`
	Line uint64 `json:"line"`
	// Offset is absent (-1 after parsing) when the server cannot send it
	// (DTail 4.x); Time only when the line has a timestamp.
	Offset *int64 `json:"offset,omitempty"`
	Time   string `json:"time,omitempty"`
	Text   string `json:"text"`
}

func parseRemoteLines(t testing.TB, out []byte) []fleetLine {
	t.Helper()
	var rs []fleetLine
	for _, l := range lines(out) {
		if !strings.HasPrefix(l, "REMOTE|") {
			continue
		}
		f := strings.SplitN(l, "|", 6)
		if len(f) != 6 {
			t.Fatalf("malformed REMOTE line %q", l)
		}
		no, err := strconv.ParseUint(f[3], 10, 64)
		if err != nil {
			t.Fatalf("REMOTE line number in %q: %v", l, err)
		}
		rs = append(rs, fleetLine{Host: f[1], File: f[4], Line: no, Text: f[5]})
	}
	return rs
}

// parseNDJSON parses every stdout line as one JSON object; non-JSON lines
// are returned separately.
func parseNDJSON(out []byte) (rs []fleetLine, bad []string) {
	for _, l := range lines(out) {
		var r fleetLine
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			bad = append(bad, l)
			continue
		}
		rs = append(rs, r)
	}
	return rs, bad
}

func keyOf(r fleetLine) string { return fmt.Sprintf("%s|%s|%d|%s", r.Host, r.File, r.Line, r.Text) }

// receiptJSON finds the JSON receipt among stderr lines.
type receiptJSON struct {
	Hosts             int      `json:"hosts"`
	HostsOK           int      `json:"hosts_ok"`
	HostsUnreachable  int      `json:"hosts_unreachable"`
	HostsAuthFailed   int      `json:"hosts_auth_failed"`
	HostsTimedOut     int      `json:"hosts_timed_out"`
	HostsIncomplete   int      `json:"hosts_incomplete"`
	HostsNoReceipt    int      `json:"hosts_without_receipt"`
	FilesRead         int64    `json:"files_read"`
	FilesUnreadable   int64    `json:"files_unreadable"`
	Bytes             int64    `json:"bytes"`
	Lines             int64    `json:"lines"`
	LinesDropped      int64    `json:"lines_dropped"`
	Complete          bool     `json:"complete"`
	FailedHosts       []string `json:"failed_hosts"`
	HostsNoReceiptIDs []string `json:"hosts_without_receipt_list"`
}

func findReceipt(t testing.TB, stderr []byte) receiptJSON {
	t.Helper()
	var found []receiptJSON
	for _, l := range lines(stderr) {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var r receiptJSON
		if err := json.Unmarshal([]byte(l), &r); err == nil {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one JSON receipt on stderr, got %d:\n%s", len(found), stderr)
	}
	return found[0]
}

// countLines parses `host:file:count` lines (what --count prints).
func countLines(t testing.TB, out []byte) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, l := range lines(dropClientLines(out)) {
		i := strings.LastIndexByte(l, ':')
		if i < 0 {
			t.Fatalf("not a count line: %q", l)
		}
		n, err := strconv.Atoi(l[i+1:])
		if err != nil {
			t.Fatalf("not a count line: %q", l)
		}
		if _, dup := m[l[:i]]; dup {
			t.Errorf("duplicate count line for %s", l[:i])
		}
		m[l[:i]] = n
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// establishedOn counts server-side TCP sockets on port that are still
// ESTABLISHED or in CLOSE_WAIT (the peer closed, the server did not).
func establishedOn(port int) int {
	n := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 4 || fs[0] == "sl" {
				continue
			}
			_, hexPort, ok := strings.Cut(fs[1], ":")
			if !ok {
				continue
			}
			p, err := strconv.ParseUint(hexPort, 16, 32)
			if err != nil || int(p) != port {
				continue
			}
			if fs[3] == "01" || fs[3] == "08" {
				n++
			}
		}
		fh.Close()
	}
	return n
}

// execRSS runs r like run.exec under /usr/bin/time and also returns the
// client's peak RSS in KiB. (The rusage of a child started directly by the
// test would report the test process's own high-water mark: Go starts
// children with CLONE_VM and exec inherits the old mm's maxrss.) tmp is a
// directory the account may write to.
func execRSS(t testing.TB, r run, tmp string) (result, int64) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		t.Skip("/usr/bin/time not installed (apt-get install time)")
	}
	rssFile := filepath.Join(tmp, "rss.txt")
	r.args = append([]string{"-f", "%M", "-o", rssFile, r.bin}, r.args...)
	r.bin = "/usr/bin/time"
	if r.timeout == 0 {
		r.timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, r.args...)
	cmd.Dir, cmd.Env = r.dir, r.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = procAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	err := cmd.Run()
	res := result{stdout: out.Bytes(), stderr: errb.Bytes(), elapsed: time.Since(start), timedOut: ctx.Err() != nil}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", r.bin, err)
	}
	b, err := os.ReadFile(rssFile)
	if err != nil {
		t.Fatalf("/usr/bin/time output: %v", err)
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		t.Fatalf("/usr/bin/time output %q", b)
	}
	rss, err := strconv.ParseInt(f[len(f)-1], 10, 64)
	if err != nil {
		t.Fatalf("/usr/bin/time output %q", b)
	}
	return res, rss
}
