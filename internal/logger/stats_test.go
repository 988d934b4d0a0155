package logger

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestServerStats(t *testing.T) {
	var out bytes.Buffer
	l := New(Options{Level: Info, Stdout: &out, Clock: (&fakeClock{t: t0}).now})
	s := ServerStats{
		PID: 4711, Caller: "stats.go:77", NumCPU: 8, Goroutines: 23, CgoCalls: 5,
		LoadAvg1: "0.52", Uptime: 471*time.Hour + 21*time.Second + 430*time.Millisecond,
		CurrentConnections: 1, LifetimeConnections: 9, PreAuthConnections: 0,
	}
	want := "INFO|1124-012805|4711|stats.go:77|8|23|5|0.52|471h0m21s|MAPREDUCE:STATS|currentConnections=1|lifetimeConnections=9|preAuthConnections=0\n"
	if got := l.LogServerStats(s); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := l.Info(s.Args()...); got != want {
		t.Errorf("Args: %q", got)
	}

	// What the default log format demands (spec §7.2).
	f := strings.Split(strings.TrimSuffix(want, "\n"), "|")
	if len(f) < 11 || !strings.HasPrefix(f[0], "INFO") || !strings.HasPrefix(f[9], "MAPREDUCE:") {
		t.Errorf("not parseable: %q", f)
	}

	s.Caller = ""
	got := l.LogServerStats(s)
	if !strings.Contains(got, "|stats_test.go:") {
		t.Errorf("caller not derived: %q", got)
	}
	if got := l.Info(s.Args()...); !strings.Contains(got, "|stats_test.go:") {
		t.Errorf("caller not derived via Args: %q", got)
	}

	quiet := New(Options{Level: Warn, Stdout: &out})
	if got := quiet.LogServerStats(s); got != "" {
		t.Errorf("filtered stats returned %q", got)
	}
}

func TestClientStats(t *testing.T) {
	var out bytes.Buffer
	l := New(Options{Level: Info, Role: Client, Hostname: "h", Stdout: &out})
	s := ClientStats{Connected: 3, Servers: 4, New: 1, Throttle: 2, Goroutines: 30, CgoCalls: 1, CPU: 8}
	want := "CLIENT|h|INFO|STATS:STATS|connected=3|servers=4|connected%=75|new=1|throttle=2|goroutines=30|cgocalls=1|cpu=8\n"
	if got := l.Info(s.Args()...); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := s.Pairs(); got != "connected=3|servers=4|connected%=75|new=1|throttle=2|goroutines=30|cgocalls=1|cpu=8" {
		t.Errorf("Pairs %q", got)
	}
	if got := (ClientStats{}).Args()[3]; got != "connected%=0" {
		t.Errorf("zero servers: %v", got)
	}
}
