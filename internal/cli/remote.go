package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dtail-go/dtail/internal/client"
	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/config"
	"github.com/dtail-go/dtail/internal/logger"
	"github.com/dtail-go/dtail/internal/sshclient"
)

// runRemote runs dtail, dcat, dgrep or dmap against the servers given by
// -servers/-discovery.
func runRemote(binary string, f *ClientFlags, cfg config.Config, env Env) int {
	if binary == DMap && f.Query == "" {
		fmt.Fprintf(env.Stderr, "%s: No mapreduce query specified, use '-query' flag\n", binary)
		return client.ExitFatal
	}
	home := Home(env.Getenv)
	full, short := Hostnames(env.Getenv)
	testMode := TestMode(env.Getenv)

	var scheme *color.Scheme
	if cfg.Client.TermColorsEnable {
		var ok bool
		if scheme, ok = Scheme(binary, cfg, env); !ok {
			return client.ExitFatal
		}
	}
	out := client.NewOutput(env.Stdout)
	defer out.Close()
	// Diagnostics on stderr erase the progress line of stdout first: on
	// one terminal they would land behind it on its row.
	diagEnv := env
	diagEnv.Stderr = out.Aside(env.Stderr)
	log, ok := clientLogger(binary, f, cfg, diagEnv, home, full, scheme)
	if !ok {
		return client.ExitFatal
	}
	defer log.Close()

	port := cfg.Common.SSHPort
	if f.Port != 2222 {
		port = f.Port
	}
	servers, err := serverList(f, port, home)
	if err != nil {
		// A bad -discovery value is a construction error (exit 1) in the
		// reference; anything else (bad host:port, unreadable server
		// file) was a panic there.
		if strings.HasPrefix(err.Error(), "unable to parse discovery module") {
			fmt.Fprintln(env.Stderr, constructionError(binary, err))
			return 1
		}
		fatal(log, env, binary, err.Error())
		return client.ExitFatal
	}
	if len(servers) == 0 {
		log.Warn("No servers to connect to", f.Servers)
		return client.ExitPartial
	}

	lookupEnv := func(k string) (string, bool) {
		v := env.Getenv(k)
		return v, v != ""
	}
	authKeyPath, explicit := resolveAuthKeyPath(f, cfg, env, home, lookupEnv)
	noAuthKey := f.NoAuthKey || cfg.Client.AuthKeyDisable
	if testMode {
		var err error
		if authKeyPath, err = testModeAuthKey(authKeyPath, log); err != nil {
			fatal(log, env, binary, err.Error())
			return client.ExitFatal
		}
		explicit = true
	}
	if authKeyPath == "" && !noAuthKey {
		fmt.Fprintln(env.Stderr, "WARN: cannot determine home directory; auth-key fast reconnect disabled. Set DTAIL_AUTH_KEY_PATH explicitly to re-enable it.")
		noAuthKey = true
	}
	so := sshclient.SignerOptions{AgentKeyIndex: f.AgentKeyIndex, Home: home, LookupEnv: lookupEnv}
	if explicit {
		// Only a chosen key is reported when it is missing; LoadSigners
		// falls back to the same default path on its own.
		so.AuthKeyPath = authKeyPath
	}
	if testMode {
		so.TestModeKeyPaths = []string{"./id_rsa"}
	}
	signers, err := sshclient.LoadSigners(so)
	if errors.Is(err, sshclient.ErrNoSigners) {
		// The SSH configuration may name the only keys (IdentityFile);
		// resolveRoutes reports ErrNoSigners when a server has none.
		signers, err = sshclient.NewSignerSet(so), nil
	}
	if err != nil {
		fatal(log, env, binary, err.Error())
		return client.ExitFatal
	}
	defer signers.Close()
	for _, w := range signers.Warnings {
		log.Warn(w)
	}

	if servers, err = resolveRoutes(f, servers, home, env, signers, log); err != nil {
		fatal(log, env, binary, err.Error())
		return client.ExitFatal
	}

	kho := sshclient.KnownHostsOptions{
		Home:     home,
		TrustAll: f.TrustAllHosts,
		// The question goes to /dev/tty as OpenSSH asks it: stdout may be
		// a file or a pipe, and stdin may carry data.
		Logf: func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) },
		PauseOutput: func() func() {
			// Logger first: once it is paused it no longer writes to out,
			// so holding out cannot block a log call that holds the
			// logger's lock.
			log.Pause()
			release := out.Hold()
			return func() {
				release()
				log.Resume()
			}
		},
	}
	if testMode {
		kho.Path = "./known_hosts"
	}
	kh, err := sshclient.NewKnownHosts(kho)
	if err != nil {
		fatal(log, env, binary, err.Error())
		return client.ExitFatal
	}
	// Hosts trusted during the run are appended in one locked write.
	defer func() {
		if err := kh.Close(); err != nil {
			log.Warn(err.Error())
		}
	}()
	dialer, err := sshclient.NewDialer(sshclient.DialerConfig{
		User:              f.User,
		Signers:           signers.Signers,
		RouteSigners:      len(signers.Signers) == 0,
		KnownHosts:        kh,
		ConnectTimeout:    time.Duration(cfg.Common.SSHConnectTimeoutMs) * time.Millisecond,
		ConnectionsPerCPU: f.CPC,
		RetryBudget:       f.ConnectRetry,
	})
	if err != nil {
		fmt.Fprintln(env.Stderr, constructionError(binary, err))
		return 1
	}
	// Jump connections are shared by the servers behind them.
	defer dialer.Close()

	o := baseOptions(binary, f, short, scheme, env)
	o.Stdout = out
	o.Stderr = diagEnv.Stderr
	o.Map.ReloadParse = reloadParser(binary)
	if len(o.Files) == 0 {
		fmt.Fprintln(env.Stderr, constructionError(binary, errors.New("No files specified, use '-files'")))
		return 1
	}

	// SIGTERM, SIGHUP and SIGQUIT end the run through RunRemote; this
	// only guarantees the process is gone shortly after even when stdout
	// is blocked.
	_, stopForced := signalContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer stopForced()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if f.Coalesce {
		o.Output.Coalesce = client.NewCoalescer()
	}
	return withCoalesce(o, out, func() int {
		return client.RunRemote(context.Background(), o, client.Remote{
			Servers:     servers,
			Dialer:      dialer,
			AuthKeyPath: authKeyPath,
			NoAuthKey:   noAuthKey,
			Logger:      log,
			LogPayload:  f.LogPayload || cfg.Client.LogPayload,
			Signals:     sigs,
			Interactive: f.InteractiveQuery,
			ControlTTY:  f.ControlTTY,
			// The status line only makes sense on a terminal, and never
			// in output a script reads.
			Progress: !o.Output.Plain && !o.Output.NDJSON && o.Output.Coalesce == nil && isTerminal(env.Stdout),
		})
	})
}

// testModeAuthKey applies spec 4.17: in integration-test mode the auth
// key is generated when missing (./id_rsa when no path is configured), so
// that the fast-reconnect path works on a fresh test machine. A missing
// directory is fatal.
func testModeAuthKey(path string, log *logger.Logger) (string, error) {
	if path == "" {
		path = "./id_rsa"
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return path, nil
	}
	if err := sshclient.GenerateKeyPair(path, sshclient.TestModeKeyBits); err != nil {
		return "", fmt.Errorf("unable to generate auth key %s: %w", path, err)
	}
	log.Info("Generated auth key", path)
	return path, nil
}

// resolveAuthKeyPath applies spec §1.8: -auth-key-path > -key >
// DTAIL_AUTH_KEY_PATH > DTAIL_SSH_PRIVATE_KEYFILE_PATH > Client.AuthKeyPath
// (whose default is ~/.ssh/id_rsa). explicit reports a path the user chose,
// as opposed to that default.
func resolveAuthKeyPath(f *ClientFlags, cfg config.Config, env Env, home string, lookupEnv func(string) (string, bool)) (path string, explicit bool) {
	p := f.AuthKeyPath
	if p != "" && f.Key != "" {
		fmt.Fprintln(env.Stderr, "WARN: -key is deprecated; ignoring it because -auth-key-path was also set")
	}
	if p == "" {
		p = f.Key
	}
	explicit = p != "" || env.Getenv("DTAIL_AUTH_KEY_PATH") != "" || env.Getenv("DTAIL_SSH_PRIVATE_KEYFILE_PATH") != ""
	if !explicit {
		p = cfg.Client.AuthKeyPath
		explicit = p != "" && p != config.DefaultWithHome(home).Client.AuthKeyPath
	}
	return sshclient.ResolveAuthKeyPath(p, home, lookupEnv), explicit
}

// clientLogger builds the client diagnostics logger from -logger,
// -logLevel and -logDir (spec §2.1: the level flag only counts when it is
// not "info"; -logDir always wins and has "~/" expanded).
func clientLogger(binary string, f *ClientFlags, cfg config.Config, env Env, home, full string, scheme *color.Scheme) (*logger.Logger, bool) {
	levelName := cfg.Common.LogLevel
	if f.LogLevel != "info" {
		levelName = f.LogLevel
	}
	level, err := logger.ParseLevel(levelName)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", binary, err)
		return nil, false
	}
	sink, err := logger.ParseSink(f.Logger)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", binary, err)
		return nil, false
	}
	logDir := cfg.Common.LogDir
	if f.LogDir != "" {
		logDir = f.LogDir
	}
	// stdout carries only payload in every mode (lines, tables), so that
	// `dgrep … > file` and pipes get nothing else; the client's own lines
	// (CLIENT|…, stats) go to stderr (DECISIONS.md).
	diag := env.Stderr
	return logger.New(logger.Options{
		Level:    level,
		Sink:     sink,
		LogDir:   config.ExpandHome(logDir, home),
		Rotation: cfg.Common.LogRotation,
		Name:     binary,
		Role:     logger.Client,
		Hostname: full,
		Stdout:   diag,
		Stderr:   env.Stderr,
		Colors:   scheme,
	}), true
}

// fatal reports a fatal setup error as a CLIENT FATAL log line and, when
// that line would not reach the terminal, on stderr as well.
func fatal(log *logger.Logger, env Env, binary, msg string) {
	log.Fatal(msg)
	if !log.Enabled(logger.Fatal) || log.Sink() == logger.File || log.Sink() == logger.Discard {
		fmt.Fprintf(env.Stderr, "%s: %s\n", binary, msg)
	}
}

// constructionError words a client construction failure like the
// reference (spec §1.9).
func constructionError(binary string, err error) string {
	if binary == DTail {
		return "unable to initialize dtail client: " + err.Error()
	}
	return fmt.Sprintf("unable to create %s client: %v", binary, err)
}
