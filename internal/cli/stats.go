package cli

import (
	"context"
	"encoding/base64"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/logger"
	"github.com/dtail-go/dtail/internal/sshserver"
)

func decodeB64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// statsLogger writes the server STATS line (spec 4.15) every 10 s and on
// every connection counter change.
type statsLogger struct {
	log   *logger.Logger
	start time.Time

	// The /proc values are read at most once per procRefresh: a counter
	// changes four times per connection, and reading both files each time
	// was 5 % of dserver's CPU at fleet scale (the kernel updates the load
	// average every 5 s anyway).
	mu       sync.Mutex
	procAt   time.Time
	load     string
	upAtRead time.Duration
}

const procRefresh = time.Second

func newStatsLogger(log *logger.Logger) *statsLogger {
	return &statsLogger{log: log, start: time.Now()}
}

// proc returns the load average and the uptime, from /proc at most once
// per procRefresh (the uptime advanced by the time since).
func (s *statsLogger) proc() (string, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.procAt.IsZero() || now.Sub(s.procAt) >= procRefresh {
		s.load, s.upAtRead, s.procAt = loadavg1(), uptime(s.start), now
	}
	return s.load, (s.upAtRead + now.Sub(s.procAt)).Truncate(time.Second)
}

func (s *statsLogger) write(st sshserver.Stats) {
	if !s.log.Enabled(logger.Info) {
		return // nothing would be written: gather nothing either
	}
	load, up := s.proc()
	s.log.LogServerStats(logger.ServerStats{
		PID:                 os.Getpid(),
		NumCPU:              runtime.NumCPU(),
		Goroutines:          runtime.NumGoroutine(),
		CgoCalls:            runtime.NumCgoCall(),
		LoadAvg1:            load,
		Uptime:              up,
		CurrentConnections:  st.Current,
		LifetimeConnections: st.Lifetime,
		PreAuthConnections:  st.PreAuth,
	})
}

func (s *statsLogger) loop(ctx context.Context, srv *sshserver.Server) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.write(srv.Stats())
		}
	}
}

func loadavg1() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "0"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "0"
	}
	return f[0]
}

func uptime(start time.Time) time.Duration {
	b, err := os.ReadFile("/proc/uptime")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				return time.Duration(v) * time.Second
			}
		}
	}
	return time.Since(start)
}
