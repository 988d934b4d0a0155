package jobs

import (
	"context"
	"net"
	"os"
	"strings"
	"time"

	"github.com/dtail-go/dtail/internal/client"
	"github.com/dtail-go/dtail/internal/logger"
	"github.com/dtail-go/dtail/internal/reader"
	"github.com/dtail-go/dtail/internal/sshclient"
)

// Access is how a job's reads open files, expand globs and list
// directories (reader.Config's Open, Glob and ReadDir).
type Access struct {
	Open    reader.Opener
	Glob    func(pattern string) ([]string, error)
	ReadDir func(dir string) []string
}

// LocalConfig is what an in-process job run needs from the server.
type LocalConfig struct {
	// Access returns the file access of a job: the permission checks of
	// the job's RunAs user (or none, for ReadAnyFile). dserver may hold
	// CAP_DAC_READ_SEARCH, so a job must never get the process's reach
	// by default.
	Access func(s Spec) (Access, error)
	// Logger is the server log.
	Logger             *logger.Logger
	FullHost, Host     string
	MaxLineLength      int
	MaxGlobTargets     int
	MaxConcurrentCats  int
	MaxConcurrentTails int
	ReadRetryInterval  time.Duration
	MapreduceLogFormat string
}

// LocalRunner runs a job inside the server process with the same session
// code a connection would use, without any SSH login: no password crosses
// the network, and nobody can borrow the job's session.
func LocalRunner(lc LocalConfig) RunFunc {
	return func(ctx context.Context, s Spec) int {
		prefix := "Job " + s.LogName
		w := &lineLogger{log: lc.Logger, prefix: prefix}
		defer w.flush()
		acc, err := lc.Access(s)
		if err != nil {
			lc.Logger.Error(prefix, "Unable to set up the job's permissions", err.Error())
			return client.ExitFatal
		}
		o := client.Options{
			Mode:     client.ModeMap,
			Prog:     "dserver",
			Files:    s.Files,
			Host:     lc.Host,
			FullHost: lc.FullHost,
			Stdout:   w,
			Stderr:   w,
			Logger:   sessionLogger{lc.Logger, prefix},
			Map: client.MapOptions{
				Query:              s.Query,
				NonCumulative:      s.Kind == Continuous,
				MapreduceLogFormat: lc.MapreduceLogFormat,
			},
			Local: client.LocalOptions{
				Open:               acc.Open,
				Glob:               acc.Glob,
				ReadDir:            acc.ReadDir,
				MaxLineLength:      lc.MaxLineLength,
				MaxGlobTargets:     lc.MaxGlobTargets,
				MaxConcurrentCats:  lc.MaxConcurrentCats,
				MaxConcurrentTails: lc.MaxConcurrentTails,
				ReadRetryInterval:  lc.ReadRetryInterval,
			},
		}
		if s.Kind == Continuous {
			o.Mode = client.ModeTail
		}
		return client.RunServerless(ctx, o)
	}
}

// sessionLogger prefixes the in-process session's log lines with the job.
type sessionLogger struct {
	log    *logger.Logger
	prefix string
}

func (l sessionLogger) Info(args ...any) string {
	return l.log.Info(append([]any{l.prefix}, args...)...)
}
func (l sessionLogger) Warn(args ...any) string {
	return l.log.Warn(append([]any{l.prefix}, args...)...)
}
func (l sessionLogger) Error(args ...any) string {
	return l.log.Error(append([]any{l.prefix}, args...)...)
}
func (l sessionLogger) Debug(args ...any) string {
	return l.log.Debug(append([]any{l.prefix}, args...)...)
}

// Runner picks, per run, how a job reaches its servers: in-process when
// every server is this dserver itself (LocalRunner), over SSH otherwise
// (RemoteRunner).
func Runner(rc RemoteConfig, lc LocalConfig) RunFunc {
	local, remote := LocalRunner(lc), RemoteRunner(rc)
	return func(ctx context.Context, s Spec) int {
		srvs, err := Servers(s.Job, rc.BindAddress, rc.Port)
		if err == nil && allLocal(ctx, srvs, rc.BindAddress, rc.Port) {
			return local(ctx, s)
		}
		return remote(ctx, s)
	}
}

// allLocal reports whether every server is this dserver: our port, and a
// host that is a loopback address, one of this machine's addresses, our
// bind address or our host name.
func allLocal(ctx context.Context, srvs []sshclient.Server, bind string, port int) bool {
	if len(srvs) == 0 {
		return false
	}
	own := map[string]bool{}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				own[n.IP.String()] = true
			}
		}
	}
	hostname, _ := os.Hostname()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, s := range srvs {
		if s.Port != port {
			return false
		}
		host := strings.Trim(s.Host, "[]")
		if host == strings.Trim(bind, "[]") || host == "localhost" || (hostname != "" && strings.EqualFold(host, hostname)) {
			continue
		}
		ips := []string{host}
		if net.ParseIP(host) == nil {
			var err error
			if ips, err = net.DefaultResolver.LookupHost(ctx, host); err != nil {
				return false
			}
		}
		for _, a := range ips {
			ip := net.ParseIP(a)
			if ip == nil || !(ip.IsLoopback() || own[ip.String()]) {
				return false
			}
		}
	}
	return true
}
