package jobs

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/client"
	"github.com/dtail-go/dtail/internal/config"
	"github.com/dtail-go/dtail/internal/logger"
	"github.com/dtail-go/dtail/internal/sshclient"
)

// ConnectionsPerCPU is the job clients' connect throttle (10 × NumCPU).
const ConnectionsPerCPU = 10

// RemoteConfig is what RemoteRunner needs from the server.
type RemoteConfig struct {
	// BindAddress and Port are the server's own SSHBindAddress and
	// Common.SSHPort: the default target of a job without Servers.
	BindAddress string
	Port        int
	// ConnectTimeout bounds each connection attempt (0: client default).
	ConnectTimeout time.Duration
	// Logger is the server log; the job clients' diagnostics and whatever
	// the servers send them are logged there, one line per entry.
	Logger *logger.Logger
	// FullHost is the host name printed in the clients' log lines.
	FullHost string
	// Host is the short host name.
	Host string
	// KnownHostsPath is the known_hosts file job clients verify servers
	// against (default: HOME/.ssh/known_hosts of the dserver account). A
	// server whose key is not there is refused: an impostor must not
	// receive the job's password. Nobody is asked; add keys with ssh-keyscan
	// or one interactive dtail run as the dserver account.
	KnownHostsPath string
	// Home is the dserver account's home directory.
	Home string
}

// DefaultServer is the server a job without Servers connects to: the
// bind address, with a wildcard replaced by the loopback address.
func DefaultServer(bind string, port int) sshclient.Server {
	host := strings.Trim(bind, "[]")
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	return sshclient.Server{Name: addr, Host: host, Port: port}
}

// Servers resolves a job's Servers and Discovery (default port: port);
// with neither it is DefaultServer.
func Servers(j config.Job, bind string, port int) ([]sshclient.Server, error) {
	if len(j.Servers) == 0 && j.Discovery == "" {
		return []sshclient.Server{DefaultServer(bind, port)}, nil
	}
	srvs, err := sshclient.ServerList(strings.Join(j.Servers, ","), j.Discovery, port)
	if err != nil {
		return nil, err
	}
	if len(srvs) == 0 {
		return []sshclient.Server{DefaultServer(bind, port)}, nil
	}
	return srvs, nil
}

// RemoteRunner returns the RunFunc for jobs on other hosts: a DTail client
// connecting as the job user with the job Name as password, verifying host
// keys like every client. Scheduled jobs run like dmap (map mode,
// cumulative), continuous jobs like dtail --query (tail mode, one report per
// interval).
func RemoteRunner(rc RemoteConfig) RunFunc {
	return func(ctx context.Context, s Spec) int {
		prefix := "Job " + s.LogName
		w := &lineLogger{log: rc.Logger, prefix: prefix}
		defer w.flush()
		servers, err := Servers(s.Job, rc.BindAddress, rc.Port)
		if err != nil {
			rc.Logger.Error(prefix, "Unable to resolve servers", err.Error())
			return client.ExitFatal
		}
		kh, err := sshclient.NewKnownHosts(sshclient.KnownHostsOptions{
			Path: rc.KnownHostsPath,
			Home: rc.Home,
			// No one answers a trust prompt inside a daemon: an unknown
			// or changed host key fails the connection at once.
			In:  strings.NewReader(""),
			Out: w,
		})
		if err != nil {
			rc.Logger.Error(prefix, "Unable to open known hosts", err.Error())
			return client.ExitFatal
		}
		dialer, err := sshclient.NewDialer(sshclient.DialerConfig{
			User:              s.Kind.User(),
			Password:          s.Job.Name,
			KnownHosts:        kh,
			ConnectTimeout:    rc.ConnectTimeout,
			ConnectionsPerCPU: ConnectionsPerCPU,
		})
		if err != nil {
			rc.Logger.Error(prefix, "Unable to create the client", err.Error())
			return client.ExitFatal
		}
		clog := logger.New(logger.Options{Level: rc.Logger.Level(), Sink: logger.Stdout,
			Role: logger.Client, Hostname: rc.FullHost, Stdout: w})
		defer clog.Close()
		o := client.Options{
			Mode:     client.ModeMap,
			Prog:     "dserver",
			Files:    s.Files,
			Host:     rc.Host,
			FullHost: rc.FullHost,
			Stdout:   w,
			Stderr:   w,
			Map:      client.MapOptions{Query: s.Query, NonCumulative: s.Kind == Continuous},
		}
		if s.Kind == Continuous {
			o.Mode = client.ModeTail
		}
		return client.RunRemote(ctx, o, client.Remote{
			Servers:   servers,
			Dialer:    dialer,
			NoAuthKey: true,
			Logger:    clog,
		})
	}
}

// lineLogger logs every complete line written to it at INFO on the server
// log, prefixed with the job.
type lineLogger struct {
	log    *logger.Logger
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimRight(string(l.buf[:i]), "\r"); line != "" {
			l.log.Info(l.prefix, line)
		}
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) == 0 {
		l.buf = nil
	}
	return len(p), nil
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.log.Info(l.prefix, string(l.buf))
		l.buf = nil
	}
}
