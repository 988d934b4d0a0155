package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dtail-go/dtail/internal/config"
	"github.com/dtail-go/dtail/internal/logger"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/sshclient"
	"github.com/dtail-go/dtail/internal/version"
)

// Health check constants (spec §1.5, §5.12).
const (
	HealthUser     = "DTAIL-HEALTH"
	HealthPassword = "DTAIL-HEALTH"
	// HealthTimeout bounds the whole remote check so that a monitoring
	// system never waits on a wedged server; the reference could hang.
	HealthTimeout = 10 * time.Second
)

// HealthFlags are the flags of dtailhealth.
type HealthFlags struct {
	Server    string
	Logger    string
	LogLevel  string
	NoAuthKey bool
	PProf     string
	Version   bool
}

// NewHealthFlagSet defines the dtailhealth flags on a new set.
func NewHealthFlagSet(f *HealthFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(DTailHealth, flag.ContinueOnError)
	fs.StringVar(&f.Server, "server", "", "Server to check, host[:port]; empty runs a serverless self-check")
	fs.StringVar(&f.Logger, "logger", "none", "Logger: fout, stdout, file or none")
	fs.StringVar(&f.LogLevel, "logLevel", "none", "Log level")
	fs.BoolVar(&f.NoAuthKey, "no-auth-key", false, "Do not send AUTHKEY (accepted for compatibility; this client never sends it)")
	fs.StringVar(&f.PProf, "pprof", "", "Start a pprof HTTP server on this address")
	fs.BoolVar(&f.Version, "version", false, "Print the version and exit")
	return fs
}

// RunHealth runs dtailhealth and returns its exit code: 0 OK, 1 serverless
// warning, 2 critical.
func RunHealth(env Env) int {
	var f HealthFlags
	fs := NewHealthFlagSet(&f)
	fs.SetOutput(env.Stderr)
	if err := fs.Parse(env.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if f.Version {
		fmt.Fprintln(env.Stdout, version.String())
		return 0
	}
	cfg, ok := LoadConfig(DTailHealth, "", env)
	if !ok {
		return 2
	}
	if f.PProf != "" {
		go http.ListenAndServe(f.PProf, nil)
	}
	if f.Server == "" {
		fmt.Fprintln(env.Stdout, "WARNING: All seems fine but the check only run in serverless mode, please specify a remote server via --server hostname:port")
		return 1
	}
	home := Home(env.Getenv)
	full, _ := Hostnames(env.Getenv)
	log, err := healthLogger(f, cfg, env, home, full)
	if err != nil {
		fmt.Fprintf(env.Stderr, "CRITICAL: unable to create dtailhealth client: %v\n", err)
		return 2
	}
	defer log.Close()
	srv, err := sshclient.ParseServer(f.Server, cfg.Common.SSHPort)
	if err != nil {
		fmt.Fprintf(env.Stderr, "CRITICAL: unable to create dtailhealth client: %v\n", err)
		return 2
	}
	dialer, err := sshclient.NewDialer(sshclient.DialerConfig{
		User:                  HealthUser,
		Password:              HealthPassword,
		InsecureIgnoreHostKey: true,
		ConnectTimeout:        time.Duration(cfg.Common.SSHConnectTimeoutMs) * time.Millisecond,
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "CRITICAL: unable to create dtailhealth client: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), HealthTimeout)
	defer cancel()
	reason := ""
	status := CheckHealth(ctx, dialer, srv, log, func(r string) { reason = r })
	switch {
	case status == 0:
		fmt.Fprintf(env.Stdout, "OK: All fine at %s :-)\n", f.Server)
	case status == 1 && reason != "":
		fmt.Fprintf(env.Stdout, "WARNING: %s at %s\n", reason, f.Server)
	case status == 2 && reason != "":
		fmt.Fprintf(env.Stdout, "CRITICAL: %s at %s\n", reason, f.Server)
	case status == 2:
		fmt.Fprintf(env.Stdout, "CRITICAL: DTail server not operating properly at %s!\n", f.Server)
	default:
		fmt.Fprintf(env.Stdout, "UNKNOWN: Received unknown status code %d from %s!\n", status, f.Server)
	}
	return status
}

func healthLogger(f HealthFlags, cfg config.Config, env Env, home, full string) (*logger.Logger, error) {
	levelName := cfg.Common.LogLevel
	if f.LogLevel != "info" {
		levelName = f.LogLevel
	}
	level, err := logger.ParseLevel(levelName)
	if err != nil {
		return nil, err
	}
	sink, err := logger.ParseSink(f.Logger)
	if err != nil {
		return nil, err
	}
	return logger.New(logger.Options{
		Level:    level,
		Sink:     sink,
		LogDir:   config.ExpandHome(cfg.Common.LogDir, home),
		Rotation: cfg.Common.LogRotation,
		Name:     DTailHealth,
		Role:     logger.Client,
		Hostname: full,
		Stdout:   env.Stdout,
		Stderr:   env.Stderr,
	}), nil
}

// CheckHealth asks one server for its health and returns the handler
// status: 2 until a message whose last '|' field is "OK" arrives, then 0.
// It never sends AUTHKEY: the reference's health handler treats it as an
// unknown command and answers CRITICAL (spec §10 item 18), and the
// reserved health user has nothing to register anyway.
//
// Our dserver may answer "WARNING: reason" (status 1) or "CRITICAL:
// reason" (status 2) when users wait or are refused; report, if set,
// receives the reason.
func CheckHealth(ctx context.Context, dialer *sshclient.Dialer, srv sshclient.Server, log *logger.Logger, report func(reason string)) int {
	conn, err := dialer.Dial(ctx, srv)
	if err != nil {
		log.Warn(srv.Name, err.Error())
		return 2
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	_, err = conn.Write(protocol.EncodeFrame(protocol.VerbHealth))
	conn.Release()
	if err != nil {
		log.Warn(srv.Name, err.Error())
		return 2
	}
	status, reason := 2, ""
	defer func() {
		if reason != "" && report != nil {
			report(reason)
		}
	}()
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 4096), protocol.DefaultMaxMessageSize)
	sc.Split(splitHealth)
	for sc.Scan() {
		msg := sc.Bytes()
		if protocol.IsCloseConnection(msg) {
			if _, err := io.WriteString(conn, protocol.AckCloseConnectionFrame); err != nil {
				log.Debug(srv.Name, "unable to acknowledge the close", err.Error())
			}
			break
		}
		if len(msg) > 0 && msg[0] == '.' {
			continue // hidden
		}
		switch last := string(protocol.LastField(msg)); {
		case last == "OK":
			status = 0
			continue
		case strings.HasPrefix(last, "WARNING: "):
			status, reason = 1, strings.TrimPrefix(last, "WARNING: ")
			continue
		case strings.HasPrefix(last, "CRITICAL: "):
			status, reason = 2, strings.TrimPrefix(last, "CRITICAL: ")
			continue
		}
		log.Debug(srv.Name, string(msg))
	}
	if err := sc.Err(); err != nil && status != 0 {
		log.Warn(srv.Name, err.Error())
	}
	return status
}

// splitHealth splits the health stream at both '\n' and 0xAC, as the
// reference health handler does.
func splitHealth(data []byte, atEOF bool) (advance int, token []byte, err error) {
	// A byte loop, not bytes.IndexAny: that works on runes and 0xAC is
	// not valid UTF-8 on its own.
	for i, b := range data {
		if b == '\n' || b == protocol.MessageDelimiter {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
