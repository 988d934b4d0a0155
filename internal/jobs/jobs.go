// Package jobs runs the scheduled and continuous mapreduce jobs of dserver
// (spec §4.14). A job is an ordinary DTail client started inside the
// server: it connects over SSH as DTAIL-SCHEDULE or DTAIL-CONTINUOUS with
// the job's Name as password and writes the query result as a CSV outfile.
//
// Run owns the timing (start delay, the scheduler's minute tick, the
// continuous retry and the day-change restart) and expands the date
// placeholders; what a run does is a RunFunc, normally the one returned by
// RemoteRunner.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dtail-go/dtail/internal/config"
	"github.com/dtail-go/dtail/internal/query"
)

// Default timings of spec §4.14.
const (
	StartDelay       = 2 * time.Second
	ScheduleInterval = time.Minute
	RetryInterval    = time.Minute
	DayCheckInterval = time.Second
)

// Kind tells scheduled from continuous jobs.
type Kind int

const (
	Scheduled Kind = iota
	Continuous
)

// Reserved SSH users of the job clients (spec §4.3).
const (
	ScheduleUser   = "DTAIL-SCHEDULE"
	ContinuousUser = "DTAIL-CONTINUOUS"
)

// User is the SSH user the job's client logs in as.
func (k Kind) User() string {
	if k == Continuous {
		return ContinuousUser
	}
	return ScheduleUser
}

func (k Kind) String() string {
	if k == Continuous {
		return "continuous"
	}
	return "scheduled"
}

// Spec is one run of a job with its placeholders expanded.
type Spec struct {
	Kind Kind
	Job  config.Job
	// Files are the job's Files, expanded and split at commas.
	Files []string
	// Outfile is the expanded Outfile.
	Outfile string
	// Query is "<Query> outfile <Outfile>".
	Query string
	// LogName names the job in log lines: its Name, unless the name is a
	// password (AllowRemoteLogin), then "<kind> job #<n>".
	LogName string
}

// LogName is how log lines name the n-th (1-based) job of its kind. The
// Name of a job that accepts remote logins, or logs in to other servers,
// is a password, which must never be written to a log other local users
// may read.
func LogName(kind Kind, n int, j config.Job) string {
	if j.AllowRemoteLogin || len(j.Servers) > 0 || j.Discovery != "" {
		return fmt.Sprintf("%s job #%d", kind, n)
	}
	return j.Name
}

// NewSpec expands job for a run starting at now.
func NewSpec(kind Kind, job config.Job, now time.Time) Spec {
	out := Expand(job.Outfile, now)
	return Spec{
		Kind:    kind,
		Job:     job,
		Files:   fileList(Expand(job.Files, now)),
		Outfile: out,
		Query:   job.Query + " outfile " + out,
		LogName: job.Name,
	}
}

// RunFunc runs one job to completion (or until ctx ends) and returns the
// client's exit status.
type RunFunc func(ctx context.Context, s Spec) int

// Clock is the time source; tests use a fake one.
type Clock interface {
	Now() time.Time
	// After delivers the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Logger is the part of the server logger the runner uses.
type Logger interface {
	Info(args ...any) string
	Warn(args ...any) string
	Error(args ...any) string
}

// Config configures Run.
type Config struct {
	Schedule   []config.Job
	Continuous []config.Job
	Run        RunFunc
	Logger     Logger
	// Clock defaults to the wall clock.
	Clock Clock
	// Exists reports whether a scheduled job's outfile is already there
	// (default: os.Stat succeeds).
	Exists func(path string) bool
	// Zero durations mean the spec's defaults.
	StartDelay       time.Duration
	ScheduleInterval time.Duration
	RetryInterval    time.Duration
	DayCheckInterval time.Duration
}

type runner struct {
	c  Config
	wg sync.WaitGroup
}

// Run starts the enabled jobs and blocks until ctx ends and every run
// that was in flight has returned (runs get ctx, so they are cancelled).
func Run(ctx context.Context, c Config) {
	if c.Clock == nil {
		c.Clock = wallClock{}
	}
	if c.Exists == nil {
		c.Exists = func(p string) bool { _, err := os.Stat(p); return err == nil }
	}
	c.StartDelay = orDefault(c.StartDelay, StartDelay)
	c.ScheduleInterval = orDefault(c.ScheduleInterval, ScheduleInterval)
	c.RetryInterval = orDefault(c.RetryInterval, RetryInterval)
	c.DayCheckInterval = orDefault(c.DayCheckInterval, DayCheckInterval)
	r := &runner{c: c}

	var sched []named
	for i, j := range c.Schedule {
		n := named{j, LogName(Scheduled, i+1, j)}
		if r.valid(Scheduled, n) {
			if j.TimeRange[0] >= j.TimeRange[1] {
				c.Logger.Warn("Scheduled job never runs: TimeRange start must be below end", n.name, fmt.Sprint(j.TimeRange))
			}
			sched = append(sched, n)
		}
	}
	if len(sched) > 0 {
		r.wg.Go(func() { r.schedule(ctx, sched) })
	}
	for i, j := range c.Continuous {
		n := named{j, LogName(Continuous, i+1, j)}
		if r.valid(Continuous, n) {
			r.wg.Go(func() { r.continuous(ctx, n) })
		}
	}
	r.wg.Wait()
}

// named is a job with the name its log lines use.
type named struct {
	config.Job
	name string
}

func (n named) spec(kind Kind, now time.Time) Spec {
	s := NewSpec(kind, n.Job, now)
	s.LogName = n.name
	return s
}

// valid reports whether the job is enabled and usable; unusable enabled
// jobs are logged once and skipped.
func (r *runner) valid(kind Kind, j named) bool {
	if !j.Enable {
		return false
	}
	var err error
	switch {
	case j.Name == "":
		err = errors.New("Name (the job password) is empty")
	case j.Outfile == "":
		err = errors.New("Outfile is empty")
	case len(fileList(j.Files)) == 0:
		err = errors.New("Files is empty")
	case j.Query == "":
		err = errors.New("Query is empty")
	default:
		if q, perr := query.Parse(j.Query); perr == nil && q.Outfile != "" {
			err = errors.New("Query must not contain an outfile clause, use Outfile")
		}
	}
	if err != nil {
		r.c.Logger.Error("Skipping "+kind.String()+" job", j.name, err.Error())
		return false
	}
	return true
}

// sleep waits d on the clock; false when ctx ended first.
func (r *runner) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-r.c.Clock.After(d):
		return ctx.Err() == nil
	}
}

// runOnce runs one job with the log lines of spec §4.14.
func (r *runner) runOnce(ctx context.Context, s Spec) int {
	r.c.Logger.Info("Starting job " + s.LogName)
	code := r.c.Run(ctx, s)
	r.c.Logger.Info(fmt.Sprintf("Job exited with status %d", code), s.LogName)
	return code
}

// schedule wakes StartDelay after start and then every ScheduleInterval;
// it starts each job whose TimeRange holds the current hour and whose
// expanded outfile does not exist. A job still running from an earlier
// tick is not started again.
func (r *runner) schedule(ctx context.Context, js []named) {
	running := make([]atomic.Bool, len(js))
	d := r.c.StartDelay
	for r.sleep(ctx, d) {
		d = r.c.ScheduleInterval
		now := r.c.Clock.Now()
		for i, j := range js {
			if !InTimeRange(j.TimeRange, now.Hour()) {
				continue
			}
			s := j.spec(Scheduled, now)
			if r.c.Exists(s.Outfile) {
				continue
			}
			if !running[i].CompareAndSwap(false, true) {
				continue
			}
			r.wg.Go(func() {
				defer running[i].Store(false)
				r.runOnce(ctx, s)
			})
		}
	}
}

// continuous runs one job StartDelay after start and again RetryInterval
// after each return. With RestartOnDayChange the run is cancelled when the
// local day changes and restarted at once, with the placeholders expanded
// for the new day.
func (r *runner) continuous(ctx context.Context, j named) {
	if !r.sleep(ctx, r.c.StartDelay) {
		return
	}
	for {
		start := r.c.Clock.Now()
		runCtx, cancel := context.WithCancel(ctx)
		var dayChanged atomic.Bool
		var watch sync.WaitGroup
		if j.RestartOnDayChange {
			watch.Go(func() {
				for r.sleep(runCtx, r.c.DayCheckInterval) {
					if !sameDay(start, r.c.Clock.Now()) {
						dayChanged.Store(true)
						r.c.Logger.Info("Day changed, restarting job", j.name)
						cancel()
						return
					}
				}
			})
		}
		r.runOnce(runCtx, j.spec(Continuous, start))
		cancel()
		watch.Wait()
		if ctx.Err() != nil {
			return
		}
		if dayChanged.Load() {
			continue
		}
		if !r.sleep(ctx, r.c.RetryInterval) {
			return
		}
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
