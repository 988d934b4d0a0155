package jobs

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dtail-go/dtail/internal/config"
)

// ---- fake clock ----

type waiter struct {
	at time.Time
	ch chan time.Time
}

type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

func newFakeClock(now time.Time) *fakeClock { return &fakeClock{now: now} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock and fires every due waiter.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// Set jumps to t (forward) and fires every due waiter.
func (c *fakeClock) Set(t time.Time) { c.Advance(t.Sub(c.Now())) }

// BlockUntil waits until n waiters are pending.
func (c *fakeClock) BlockUntil(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.waiters)
		c.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fake clock: %d waiters, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// ---- fake logger and run ----

type memLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *memLog) add(level string, args ...any) string {
	parts := []string{level}
	for _, a := range args {
		parts = append(parts, fmt.Sprint(a))
	}
	s := strings.Join(parts, "|")
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
	return s
}
func (l *memLog) Info(a ...any) string  { return l.add("INFO", a...) }
func (l *memLog) Warn(a ...any) string  { return l.add("WARN", a...) }
func (l *memLog) Error(a ...any) string { return l.add("ERROR", a...) }
func (l *memLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// recorder is a RunFunc that reports each call on a channel and then
// behaves as block says: return at once, or wait for ctx.
type recorder struct {
	calls   chan Spec
	block   bool
	code    int
	created func(Spec) // e.g. marks the outfile as written
	ended   chan Spec
}

func newRecorder() *recorder {
	return &recorder{calls: make(chan Spec, 100), ended: make(chan Spec, 100)}
}

func (r *recorder) run(ctx context.Context, s Spec) int {
	if r.created != nil {
		r.created(s)
	}
	r.calls <- s
	if r.block {
		<-ctx.Done()
	}
	r.ended <- s
	return r.code
}

func (r *recorder) next(t *testing.T) Spec {
	t.Helper()
	select {
	case s := <-r.calls:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no job run")
		return Spec{}
	}
}

func (r *recorder) none(t *testing.T) {
	t.Helper()
	select {
	case s := <-r.calls:
		t.Fatalf("unexpected run of %q (%s)", s.Job.Name, s.Outfile)
	case <-time.After(50 * time.Millisecond):
	}
}

// files is a fake file system for the outfile check.
type files struct {
	mu sync.Mutex
	m  map[string]bool
}

func (f *files) add(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]bool{}
	}
	f.m[p] = true
}

func (f *files) exists(p string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[p]
}

func start(t *testing.T, c Config) (cancel func()) {
	t.Helper()
	ctx, cancelCtx := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Run(ctx, c)
		close(done)
	}()
	stop := func() {
		cancelCtx()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

// ---- tests ----

func TestExpand(t *testing.T) {
	loc := time.FixedZone("X", 3*3600)
	now := time.Date(2024, 3, 1, 0, 30, 0, 0, loc) // after a leap day
	in := "/log/$today/x-$yesterday-$yyesterday-$yyyesterday-$tomorrow-$today.csv"
	want := "/log/20240301/x-20240229-20240228-20240227-20240302-20240301.csv"
	if got := Expand(in, now); got != want {
		t.Fatalf("Expand = %q, want %q", got, want)
	}
	now = time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC)
	if got := Expand("$tomorrow $yyyesterday", now); got != "20240101 20231228" {
		t.Fatalf("year boundary: %q", got)
	}
	if got := Expand("no placeholders $other", now); got != "no placeholders $other" {
		t.Fatalf("unchanged: %q", got)
	}
}

func TestInTimeRange(t *testing.T) {
	for _, c := range []struct {
		r    [2]int
		hour int
		want bool
	}{
		{[2]int{0, 24}, 0, true}, {[2]int{0, 24}, 23, true},
		{[2]int{9, 17}, 8, false}, {[2]int{9, 17}, 9, true}, {[2]int{9, 17}, 16, true}, {[2]int{9, 17}, 17, false},
		{[2]int{0, 0}, 0, false}, {[2]int{22, 2}, 23, false}, {[2]int{22, 2}, 1, false},
	} {
		if got := InTimeRange(c.r, c.hour); got != c.want {
			t.Errorf("InTimeRange(%v, %d) = %v", c.r, c.hour, got)
		}
	}
}

func TestNewSpec(t *testing.T) {
	now := time.Date(2024, 5, 6, 12, 0, 0, 0, time.Local)
	s := NewSpec(Continuous, config.Job{Name: "n", Files: " /a/$today.log, ,/b/$yesterday.log ", Query: "from STATS select count($line)",
		Outfile: "./out-$today.csv"}, now)
	if got := strings.Join(s.Files, "|"); got != "/a/20240506.log|/b/20240505.log" {
		t.Errorf("Files = %q", got)
	}
	if s.Outfile != "./out-20240506.csv" || s.Query != "from STATS select count($line) outfile ./out-20240506.csv" {
		t.Errorf("spec = %+v", s)
	}
	if s.Kind.User() != "DTAIL-CONTINUOUS" || Scheduled.User() != "DTAIL-SCHEDULE" {
		t.Error("users")
	}
}

func TestScheduleRunsOncePerOutfile(t *testing.T) {
	clk := newFakeClock(time.Date(2024, 5, 6, 10, 0, 0, 0, time.Local))
	rec := newRecorder()
	fs := &files{}
	rec.created = func(s Spec) { fs.add(s.Outfile) }
	log := &memLog{}
	start(t, Config{
		Schedule: []config.Job{
			{Name: "daily", Enable: true, Files: "/var/log/$yesterday.log", Query: "from STATS select count($line)", Outfile: "/out/daily-$yesterday.csv", TimeRange: [2]int{9, 11}},
			{Name: "disabled", Enable: false, Files: "f", Query: "q", Outfile: "/out/x", TimeRange: [2]int{0, 24}},
			{Name: "night", Enable: true, Files: "f", Query: "from STATS select count($line)", Outfile: "/out/night-$today.csv", TimeRange: [2]int{0, 6}},
			{Name: "bad", Enable: true, Files: "f", Query: "from STATS select count($line) outfile x.csv", Outfile: "/out/bad", TimeRange: [2]int{0, 24}},
		},
		Run: rec.run, Logger: log, Clock: clk, Exists: fs.exists,
	})
	clk.BlockUntil(t, 1)
	rec.none(t) // nothing before the start delay
	clk.Advance(StartDelay)
	s := rec.next(t)
	if s.Job.Name != "daily" || s.Kind != Scheduled || s.Outfile != "/out/daily-20240505.csv" ||
		s.Query != "from STATS select count($line) outfile /out/daily-20240505.csv" || s.Files[0] != "/var/log/20240505.log" {
		t.Fatalf("spec = %+v", s)
	}
	rec.none(t)
	// The outfile exists now: the following ticks do nothing.
	for range 3 {
		clk.BlockUntil(t, 1)
		clk.Advance(ScheduleInterval)
		rec.none(t)
	}
	// Next day, 10:00: a new outfile name, so it runs again.
	clk.BlockUntil(t, 1)
	clk.Set(time.Date(2024, 5, 7, 10, 0, 0, 0, time.Local))
	if s := rec.next(t); s.Outfile != "/out/daily-20240506.csv" {
		t.Fatalf("second day outfile = %q", s.Outfile)
	}
	// 11:00 is outside [9, 11): no run although the outfile is missing.
	clk.BlockUntil(t, 1)
	clk.Set(time.Date(2024, 5, 8, 11, 0, 0, 0, time.Local))
	rec.none(t)
	// 03:00 next day: the night job (and not daily).
	clk.BlockUntil(t, 1)
	clk.Set(time.Date(2024, 5, 9, 3, 0, 0, 0, time.Local))
	if s := rec.next(t); s.Job.Name != "night" || s.Outfile != "/out/night-20240509.csv" {
		t.Fatalf("night spec = %+v", s)
	}
	rec.none(t)
	l := log.text()
	for _, want := range []string{"INFO|Starting job daily", "INFO|Job exited with status 0|daily", "ERROR|Skipping scheduled job|bad|Query must not contain an outfile clause"} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %q:\n%s", want, l)
		}
	}
	if strings.Contains(l, "disabled") {
		t.Errorf("disabled job mentioned:\n%s", l)
	}
}

func TestScheduleDoesNotOverlapRuns(t *testing.T) {
	clk := newFakeClock(time.Date(2024, 5, 6, 10, 0, 0, 0, time.Local))
	rec := newRecorder()
	rec.block = true
	fs := &files{}
	start(t, Config{
		Schedule: []config.Job{{Name: "slow", Enable: true, Files: "f", Query: "from STATS select count($line)", Outfile: "/o", TimeRange: [2]int{0, 24}}},
		Run:      rec.run, Logger: &memLog{}, Clock: clk, Exists: fs.exists,
	})
	clk.BlockUntil(t, 1)
	clk.Advance(StartDelay)
	rec.next(t)
	for range 3 {
		clk.BlockUntil(t, 1)
		clk.Advance(ScheduleInterval)
		rec.none(t)
	}
}

func TestScheduleCancelStopsRun(t *testing.T) {
	clk := newFakeClock(time.Date(2024, 5, 6, 10, 0, 0, 0, time.Local))
	rec := newRecorder()
	rec.block = true
	stop := start(t, Config{
		Schedule: []config.Job{{Name: "slow", Enable: true, Files: "f", Query: "from STATS select count($line)", Outfile: "/o", TimeRange: [2]int{0, 24}}},
		Run:      rec.run, Logger: &memLog{}, Clock: clk, Exists: (&files{}).exists,
	})
	clk.BlockUntil(t, 1)
	clk.Advance(StartDelay)
	rec.next(t)
	stop() // returns only after the run ended
	select {
	case <-rec.ended:
	default:
		t.Fatal("run still in flight after Run returned")
	}
}

func TestContinuousRetriesEveryMinute(t *testing.T) {
	clk := newFakeClock(time.Date(2024, 5, 6, 10, 0, 0, 0, time.Local))
	rec := newRecorder()
	rec.code = 1
	log := &memLog{}
	start(t, Config{
		Continuous: []config.Job{
			{Name: "live", Enable: true, Files: "/l/$today.log", Query: "from STATS select count($line) interval 1", Outfile: "live-$today.csv"},
			{Name: "off", Files: "f", Query: "q", Outfile: "o"},
			{Enable: true, Files: "f", Query: "q", Outfile: "o"},
		},
		Run: rec.run, Logger: log, Clock: clk,
	})
	clk.BlockUntil(t, 1)
	clk.Advance(StartDelay - time.Millisecond)
	rec.none(t)
	clk.Advance(time.Millisecond)
	s := rec.next(t)
	if s.Kind != Continuous || s.Outfile != "live-20240506.csv" || s.Query != "from STATS select count($line) interval 1 outfile live-20240506.csv" {
		t.Fatalf("spec = %+v", s)
	}
	clk.BlockUntil(t, 1)
	clk.Advance(RetryInterval - time.Second)
	rec.none(t)
	clk.Advance(time.Second)
	rec.next(t)
	if l := log.text(); !strings.Contains(l, "INFO|Job exited with status 1|live") || !strings.Contains(l, "ERROR|Skipping continuous job||Name (the job password) is empty") {
		t.Errorf("log:\n%s", l)
	}
}

func TestContinuousRestartOnDayChange(t *testing.T) {
	clk := newFakeClock(time.Date(2024, 5, 6, 23, 59, 57, 0, time.Local))
	rec := newRecorder()
	rec.block = true
	start(t, Config{
		Continuous: []config.Job{
			{Name: "daily", Enable: true, Files: "/l/$today.log", Query: "from STATS select count($line)", Outfile: "d-$today.csv", RestartOnDayChange: true},
			{Name: "forever", Enable: true, Files: "/l/$today.log", Query: "from STATS select count($line)", Outfile: "f-$today.csv"},
		},
		Run: rec.run, Logger: &memLog{}, Clock: clk,
	})
	clk.BlockUntil(t, 2)
	clk.Advance(StartDelay) // 23:59:59
	got := map[string]string{}
	for range 2 {
		s := rec.next(t)
		got[s.Job.Name] = s.Outfile
	}
	if got["daily"] != "d-20240506.csv" || got["forever"] != "f-20240506.csv" {
		t.Fatalf("first runs: %v", got)
	}
	clk.BlockUntil(t, 1) // the day watcher
	clk.Advance(DayCheckInterval)
	// 00:00:00: only the daily job is cancelled and restarted at once.
	select {
	case s := <-rec.ended:
		if s.Job.Name != "daily" {
			t.Fatalf("%s ended", s.Job.Name)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("day change did not cancel the run")
	}
	if s := rec.next(t); s.Job.Name != "daily" || s.Outfile != "d-20240507.csv" {
		t.Fatalf("restart spec = %+v", s)
	}
	for range 5 {
		clk.BlockUntil(t, 1)
		clk.Advance(DayCheckInterval)
		rec.none(t)
	}
}

func TestServers(t *testing.T) {
	for _, c := range []struct {
		bind string
		want string
	}{{"0.0.0.0", "127.0.0.1:2222"}, {"", "127.0.0.1:2222"}, {"127.0.0.2", "127.0.0.2:2222"}, {"::", "[::1]:2222"}, {"[::1]", "[::1]:2222"}} {
		srvs, err := Servers(config.Job{}, c.bind, 2222)
		if err != nil || len(srvs) != 1 || srvs[0].Addr() != c.want {
			t.Errorf("bind %q: %v %v, want %s", c.bind, srvs, err, c.want)
		}
	}
	srvs, err := Servers(config.Job{Servers: []string{"a:1", "b"}}, "0.0.0.0", 2300)
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[string]bool{}
	for _, s := range srvs {
		addrs[s.Addr()] = true
	}
	if len(addrs) != 2 || !addrs["a:1"] || !addrs["b:2300"] {
		t.Errorf("servers = %v", srvs)
	}
}
