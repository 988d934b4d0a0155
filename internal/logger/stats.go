package logger

import (
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

// ServerStats are the values of the periodic dserver stats line. The line
// is what the "default" mapreduce log format parses, so its field positions
// are fixed:
//
//	INFO|MMDD-HHMMSS|pid|caller|cpus|goroutines|cgocalls|loadavg1|uptime|MAPREDUCE:STATS|currentConnections=N|lifetimeConnections=N|preAuthConnections=N
type ServerStats struct {
	PID int
	// Caller is the file:line field; empty means the file:line (base name)
	// of the code calling Args or LogServerStats.
	Caller     string
	NumCPU     int
	Goroutines int
	CgoCalls   int64
	// LoadAvg1 is the first field of /proc/loadavg, passed through as text.
	LoadAvg1 string
	// Uptime is the system uptime; it is printed in whole seconds as a Go
	// duration such as 471h0m21s.
	Uptime              time.Duration
	CurrentConnections  int
	LifetimeConnections int
	PreAuthConnections  int
}

// Args returns the arguments to pass to Logger.Info for the stats line.
func (s ServerStats) Args() []any { return s.args(2) }

func (s ServerStats) args(skip int) []any {
	caller := s.Caller
	if caller == "" {
		caller = "?:0"
		if _, file, line, ok := runtime.Caller(skip); ok {
			caller = filepath.Base(file) + ":" + strconv.Itoa(line)
		}
	}
	return []any{
		s.PID, caller, s.NumCPU, s.Goroutines, s.CgoCalls, s.LoadAvg1,
		s.Uptime.Truncate(time.Second).String(),
		"MAPREDUCE:STATS",
		"currentConnections=" + strconv.Itoa(s.CurrentConnections),
		"lifetimeConnections=" + strconv.Itoa(s.LifetimeConnections),
		"preAuthConnections=" + strconv.Itoa(s.PreAuthConnections),
	}
}

// LogServerStats logs the stats line at Info level and returns it like Info.
func (l *Logger) LogServerStats(s ServerStats) string {
	if !l.Enabled(Info) {
		return ""
	}
	return l.Info(s.args(2)...)
}

// ClientStats are the values of the client's connection stats line
// (CLIENT|host|INFO|STATS:STATS|connected=N|servers=N|connected%=N|new=N|
// throttle=N|goroutines=N|cgocalls=N|cpu=N).
type ClientStats struct {
	Connected  int
	Servers    int
	New        int
	Throttle   int
	Goroutines int
	CgoCalls   int64
	CPU        int
}

// Args returns the arguments to pass to Logger.Info for the stats line.
// connected% is the integer percentage of connected servers (0 when there
// are no servers).
func (s ClientStats) Args() []any {
	percent := 0
	if s.Servers > 0 {
		percent = s.Connected * 100 / s.Servers
	}
	return []any{
		"STATS:STATS",
		"connected=" + strconv.Itoa(s.Connected),
		"servers=" + strconv.Itoa(s.Servers),
		"connected%=" + strconv.Itoa(percent),
		"new=" + strconv.Itoa(s.New),
		"throttle=" + strconv.Itoa(s.Throttle),
		"goroutines=" + strconv.Itoa(s.Goroutines),
		"cgocalls=" + strconv.FormatInt(s.CgoCalls, 10),
		"cpu=" + strconv.Itoa(s.CPU),
	}
}

// Pairs renders the stats as k=v|k=v… (without the STATS:STATS tag) for the
// " Connection stats: " line the client prints on the first SIGINT.
func (s ClientStats) Pairs() string {
	b := make([]byte, 0, 128)
	for i, a := range s.Args()[1:] {
		if i > 0 {
			b = append(b, '|')
		}
		b = append(b, a.(string)...)
	}
	return string(b)
}
