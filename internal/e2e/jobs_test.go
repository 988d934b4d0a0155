package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Scheduled and continuous jobs (spec §4.14, integration tests TestDServer1
// and TestDServer2): the jobs run inside our dserver and write the CSV
// outfile. DTail 4.x connected back to itself as DTAIL-SCHEDULE /
// DTAIL-CONTINUOUS; ours runs a job aimed at itself in-process (remote job
// logins: secauth_test.go).

type jobJSON struct {
	Name               string
	Enable             bool
	Files              string
	Query              string
	Outfile            string
	AllowFrom          []string
	TimeRange          *[2]int  `json:",omitempty"`
	RestartOnDayChange bool     `json:",omitempty"`
	Servers            []string `json:",omitempty"`
	AllowRemoteLogin   bool     `json:",omitempty"`
	RunAs              string   `json:",omitempty"`
	ReadAnyFile        bool     `json:",omitempty"`
}

func jobsConfig(t *testing.T, schedule, continuous []jobJSON) string {
	t.Helper()
	server := map[string]any{}
	if schedule != nil {
		server["Schedule"] = schedule
	}
	if continuous != nil {
		server["Continuous"] = continuous
	}
	b, err := json.MarshalIndent(map[string]any{"Server": server}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jobsStatsLog generates a dserver log in the reference layout (spec §4.15,
// §7.2) with STATS lines, lines of other levels and tables and plain text,
// and returns it with the expected TestDServer1 CSV computed directly.
func jobsStatsLog() (log []byte, csv string) {
	var b bytes.Buffer
	count, sumGor := 0, 0
	minCur, maxLife := -1, -1
	last := ""
	for i := range 640 {
		sec := 10 + i/20
		tm := fmt.Sprintf("1002-0719%02d", sec%60)
		gor := 8 + (i*7)%9
		cur := (i * 5) % 7
		life := 1 + i%6
		switch {
		case i%53 == 17:
			fmt.Fprintf(&b, "WARN|%s|4242|stats.go:56|8|%d|13|0.25|1h2m3s|MAPREDUCE:STATS|currentConnections=%d|lifetimeConnections=%d\n", tm, gor, cur, 99)
			continue
		case i%41 == 5:
			fmt.Fprintf(&b, "INFO|%s|4242|stats.go:56|8|%d|13|0.25|1h2m3s|MAPREDUCE:OTHER|currentConnections=%d|lifetimeConnections=%d\n", tm, 99, cur, 99)
			continue
		case i%29 == 3:
			fmt.Fprintf(&b, "INFO|%s|4242|server.go:120|user@127.0.0.1:4711|Handling connection\n", tm)
			continue
		}
		fmt.Fprintf(&b, "INFO|%s|4242|stats.go:56|8|%d|13|0.25|1h2m3s|MAPREDUCE:STATS|currentConnections=%d|lifetimeConnections=%d\n", tm, gor, cur, life)
		count++
		sumGor += gor
		if minCur < 0 || cur < minCur {
			minCur = cur
		}
		if life > maxLife {
			maxLife = life
		}
		last = tm
	}
	csv = "count($line),last($time),avg($goroutines),min(concurrentConnections),max(lifetimeConnections)\n" +
		fmt.Sprintf("%d,%s,%f,%f,%f\n", count, last, float64(sumGor)/float64(count), float64(minCur), float64(maxLife))
	return b.Bytes(), csv
}

const dserver1Query = "from STATS select count($line),last($time),avg($goroutines),min(concurrentConnections),max(lifetimeConnections) group by $hostname"

// TestJobsDServer1: a scheduled job over a STATS log writes the exact CSV
// and .query files 2 s after start; a job whose AllowFrom does not
// include us is refused and writes nothing.
func TestJobsDServer1(t *testing.T) {
	input, wantCSV := jobsStatsLog()
	allDay := &[2]int{0, 24}
	cfg := jobsConfig(t, []jobJSON{
		{Name: "dserver1", Enable: true, Files: "./mapr_testdata.log", Query: dserver1Query,
			Outfile: "./dserver1-$today.csv.tmp", AllowFrom: []string{"localhost", "127.0.0.1"}, TimeRange: allDay},
		{Name: "disabled", Enable: false, Files: "./mapr_testdata.log", Query: dserver1Query,
			Outfile: "./disabled.csv.tmp", AllowFrom: []string{"127.0.0.1"}, TimeRange: allDay},
		{Name: "elsewhen", Enable: true, Files: "./mapr_testdata.log", Query: dserver1Query,
			Outfile: "./elsewhen.csv.tmp", AllowFrom: []string{"127.0.0.1"}, TimeRange: &[2]int{5, 5}},
	}, nil)
	start := time.Now()
	s := startDServer(t, withoutSelf(), withConfig(cfg), withFiles(map[string][]byte{"mapr_testdata.log": input}))
	today := start.Format("20060102")

	s.waitLog(t, `Job exited with status 0\|dserver1`, 20*time.Second)
	if el := time.Since(start); el < 2*time.Second {
		t.Errorf("job finished %v after start, before the 2 s start delay", el)
	}

	out := filepath.Join(s.dir, "dserver1-"+today+".csv.tmp")
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("%v\nserver log:\n%s", err, clip([]byte(s.log())))
	}
	if string(got) != wantCSV {
		t.Errorf("CSV:\n%q\nwant:\n%q", got, wantCSV)
	}
	q, err := os.ReadFile(out + ".query")
	if err != nil {
		t.Fatal(err)
	}
	if wantQ := dserver1Query + " outfile ./dserver1-" + today + ".csv.tmp"; string(q) != wantQ {
		t.Errorf(".query = %q, want %q", q, wantQ)
	}
	for _, name := range []string{"disabled.csv.tmp", "elsewhen.csv.tmp"} {
		if _, err := os.Stat(filepath.Join(s.dir, name)); err == nil {
			t.Errorf("%s was written", name)
		}
	}
	l := s.log()
	if n := strings.Count(l, "Starting job dserver1"); n != 1 {
		t.Errorf("Starting job dserver1 logged %d times", n)
	}
	for _, bad := range []string{"Starting job disabled", "Starting job elsewhen"} {
		if strings.Contains(l, bad) {
			t.Errorf("log contains %q", bad)
		}
	}
	// A job aimed at this server runs in-process: no login at all.
	if strings.Contains(l, "DTAIL-SCHEDULE") || !strings.Contains(l, "Job dserver1|Start reading") {
		t.Errorf("the local job did not run in-process:\n%s", clip([]byte(l)))
	}
	if !s.proc.stop(syscall.SIGTERM, 8*time.Second) {
		t.Error("dserver did not stop within 8 s of SIGTERM")
	}
}

// TestJobsDServer2: a continuous job follows a log that grows by one
// STATS line per second and rewrites the CSV every interval with that
// interval's rows only (non-cumulative).
func TestJobsDServer2(t *testing.T) {
	const query = "from STATS select count($line),max(currentConnections),last($time) group by $hostname interval 2"
	cfg := jobsConfig(t, nil, []jobJSON{
		{Name: "dserver2", Enable: true, Files: "./dserver2.log", Query: query,
			Outfile: "./dserver2-$today.csv.tmp", AllowFrom: []string{"127.0.0.1"}, RestartOnDayChange: true},
	})
	start := time.Now()
	s := startDServer(t, withoutSelf(), withConfig(cfg), withFiles(map[string][]byte{
		// Lines before the job starts are not followed (tail starts at the end).
		"dserver2.log": []byte("INFO|1002-071900|4242|stats.go:56|8|12|13|0.25|1h2m3s|MAPREDUCE:STATS|currentConnections=9|lifetimeConnections=9\n"),
	}))
	today := start.Format("20060102")
	s.waitLog(t, `Starting job dserver2`, 10*time.Second)
	s.waitLog(t, `Job dserver2\|Start reading`, 10*time.Second)
	time.Sleep(500 * time.Millisecond) // let the server open and position the file

	out := filepath.Join(s.dir, "dserver2-"+today+".csv.tmp")
	logPath := filepath.Join(s.dir, "dserver2.log")
	header := "count($line),max(currentConnections),last($time)\n"
	row := regexp.MustCompile(`^([0-9]+),3\.000000,1002-0720([0-9]{2})\n$`)
	inodes := map[uint64]bool{}
	var seen []string
	observe := func() {
		b, err := os.ReadFile(out)
		if err != nil {
			return
		}
		var st syscall.Stat_t
		if syscall.Stat(out, &st) == nil {
			inodes[st.Ino] = true
		}
		if len(seen) == 0 || seen[len(seen)-1] != string(b) {
			seen = append(seen, string(b))
		}
	}
	const lines = 10
	for i := range lines {
		appendFile(t, logPath, fmt.Appendf(nil, "INFO|1002-0720%02d|4242|stats.go:56|8|12|13|0.25|1h2m3s|MAPREDUCE:STATS|currentConnections=3|lifetimeConnections=%d\n", i, i))
		for range 10 {
			observe()
			time.Sleep(100 * time.Millisecond)
		}
	}
	for range 30 {
		observe()
		time.Sleep(100 * time.Millisecond)
	}
	if len(seen) == 0 {
		t.Fatalf("no CSV written\nserver log:\n%s", clip([]byte(s.log())))
	}
	total := 0
	lastSec := -1
	for _, c := range seen {
		body, ok := strings.CutPrefix(c, header)
		m := row.FindStringSubmatch(body)
		if !ok || m == nil {
			t.Fatalf("CSV content %q is not the header and one interval row", c)
		}
		n, _ := strconv.Atoi(m[1])
		sec, _ := strconv.Atoi(m[2])
		if n < 1 || n > 4 {
			t.Errorf("interval count %d in %q: not per interval", n, c)
		}
		if sec <= lastSec {
			t.Errorf("last($time) went from %d to %d", lastSec, sec)
		}
		lastSec = sec
		total += n
	}
	if len(inodes) < 3 {
		t.Errorf("CSV replaced %d times over %d s, want one report per 2 s interval", len(inodes), lines)
	}
	if total > lines {
		t.Errorf("interval counts add up to %d > %d lines appended: %q", total, lines, seen)
	}
	if lastSec != lines-1 {
		t.Errorf("last report ends at second %d, want %d: %q", lastSec, lines-1, seen)
	}
	t.Logf("%d reports, %d files: %q", len(seen), len(inodes), seen)
	q, err := os.ReadFile(out + ".query")
	if err != nil {
		t.Fatal(err)
	}
	if wantQ := query + " outfile ./dserver2-" + today + ".csv.tmp"; string(q) != wantQ {
		t.Errorf(".query = %q, want %q", q, wantQ)
	}
	if !s.proc.stop(syscall.SIGTERM, 8*time.Second) {
		t.Error("dserver did not stop within 8 s of SIGTERM")
	}
	if !strings.Contains(s.log(), "Job exited with status") {
		t.Errorf("the continuous job was not ended at shutdown:\n%s", clip([]byte(s.log())))
	}
}
