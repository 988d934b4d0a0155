package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dtail-go/dtail/internal/authkey"
	"github.com/dtail-go/dtail/internal/config"
	"github.com/dtail-go/dtail/internal/jobs"
	"github.com/dtail-go/dtail/internal/journal"
	"github.com/dtail-go/dtail/internal/logger"
	"github.com/dtail-go/dtail/internal/permission"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/reader"
	"github.com/dtail-go/dtail/internal/session"
	"github.com/dtail-go/dtail/internal/sshserver"
	"github.com/dtail-go/dtail/internal/version"
	"golang.org/x/crypto/ssh"
)

// ServerFlags are the flags of dserver (spec 1.2).
type ServerFlags struct {
	BindAddress   string
	Cfg           string
	Color         bool
	LogDir        string
	LogLevel      string
	Logger        string
	Port          int
	PProf         string
	ShutdownAfter int
	Version       bool
}

// NewServerFlagSet defines dserver's flags.
func NewServerFlagSet(f *ServerFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(DServer, flag.ContinueOnError)
	fs.StringVar(&f.BindAddress, "bindAddress", "", "Listen address (overrides Server.SSHBindAddress)")
	fs.StringVar(&f.Cfg, "cfg", "", "Config file path; 'none' loads no file")
	fs.BoolVar(&f.Color, "color", false, "Enable ANSI colors")
	fs.StringVar(&f.LogDir, "logDir", "", "Log directory (overrides Common.LogDir)")
	fs.StringVar(&f.LogLevel, "logLevel", "info", "Log level")
	fs.StringVar(&f.Logger, "logger", "file", "Logger: file, stdout, fout or none")
	fs.IntVar(&f.Port, "port", 2222, "SSH port (overrides Common.SSHPort)")
	fs.StringVar(&f.PProf, "pprof", "", "Start a pprof HTTP server on this address")
	fs.IntVar(&f.ShutdownAfter, "shutdownAfter", 0, "Exit after N seconds (0: never)")
	fs.BoolVar(&f.Version, "version", false, "Print the version and exit")
	return fs
}

// RunServer runs dserver and returns its exit code.
func RunServer(env Env) int {
	if err := sshserver.RefuseRoot(); err != nil {
		fmt.Fprintf(env.Stderr, "dserver: %v: start it as an unprivileged user\n", err)
		return 2
	}
	f := &ServerFlags{}
	fs := NewServerFlagSet(f)
	fs.SetOutput(env.Stderr)
	if err := fs.Parse(env.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if f.Version {
		if f.Color {
			fmt.Fprintln(env.Stdout, version.Colored())
		} else {
			fmt.Fprintln(env.Stdout, version.String())
		}
		return 0
	}
	cfg, ok := LoadConfig(DServer, f.Cfg, env)
	if !ok {
		return 2
	}
	testMode := TestMode(env.Getenv)
	if f.Port != 2222 {
		cfg.Common.SSHPort = f.Port
	}
	if f.LogLevel != "info" {
		cfg.Common.LogLevel = f.LogLevel
	}
	cfg.Common.Logger = f.Logger
	if f.LogDir != "" {
		cfg.Common.LogDir = config.ExpandHome(f.LogDir, Home(env.Getenv))
	}
	if f.BindAddress != "" {
		cfg.Server.SSHBindAddress = f.BindAddress
	}
	if testMode {
		cfg.Server.MaxLineLength = config.TestModeMaxLineLength
		cfg.Server.HostKeyFile = config.TestModeHostKeyFile
	}
	level, err := logger.ParseLevel(cfg.Common.LogLevel)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dserver: -logLevel: %v\n", err)
		return 2
	}
	sink, err := logger.ParseSink(cfg.Common.Logger)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dserver: -logger: %v\n", err)
		return 2
	}
	if sink == logger.File || sink == logger.FileAndStdout {
		if err := logger.CheckDir(cfg.Common.LogDir); err != nil {
			fmt.Fprintf(env.Stderr, "dserver: LogDir %s is not writable: %v\n", cfg.Common.LogDir, oneLine(err))
			return 2
		}
	}
	full, short := Hostnames(env.Getenv)
	log := logger.New(logger.Options{Level: level, Sink: sink, LogDir: cfg.Common.LogDir,
		Rotation: cfg.Common.LogRotation, Name: DServer, Role: logger.Server, Hostname: full, Stdout: env.Stdout, Stderr: env.Stderr})
	defer log.Close()

	fmt.Fprintln(env.Stdout, version.String())
	log.Info("Starting server", version.String())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.ShutdownAfter > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(f.ShutdownAfter)*time.Second)
		defer cancel()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				log.Reopen()
			case <-ctx.Done():
				return
			}
		}
	}()
	if f.PProf != "" {
		runtime.SetMutexProfileFraction(5)
		runtime.SetBlockProfileRate(100000)
		go http.ListenAndServe(f.PProf, nil)
	}

	// Generating a large host key takes a while and cannot be
	// interrupted; SIGTERM during it still ends dserver at once.
	type started struct {
		srv *server
		err error
	}
	startc := make(chan started, 1)
	go func() {
		srv, err := newServer(cfg, log, full, short, testMode)
		startc <- started{srv, err}
	}()
	var srv *server
	select {
	case st := <-startc:
		srv, err = st.srv, st.err
	case <-ctx.Done():
		log.Info("Server stopped during start-up")
		return 0
	}
	if err != nil {
		log.Error("Unable to start server", err)
		fmt.Fprintf(env.Stderr, "dserver: %v\n", oneLine(err))
		return 2
	}
	stats := newStatsLogger(log)
	srv.onStats = stats.write
	go stats.loop(ctx, srv.ssh)
	jobsDone := startJobs(ctx, cfg, log, full, short, Home(env.Getenv))
	if err := srv.ssh.ListenAndServe(ctx); err != nil {
		log.Error("Unable to serve", err)
		fmt.Fprintf(env.Stderr, "dserver: %v\n", err)
		return 2
	}
	// ctx has ended, which cancels the jobs (spec 4.16); give their
	// clients the time to close their connections and write the outfile.
	select {
	case <-jobsDone:
	case <-time.After(jobsShutdownWait):
		log.Warn("Jobs did not stop in time, exiting anyway")
	}
	log.Info("Server stopped")
	return 0
}

// oneLine keeps a start-up error on one line of stderr.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// jobsShutdownWait bounds the wait for cancelled jobs at shutdown; it
// exceeds the client's own 5 s drain timeout.
const jobsShutdownWait = 6 * time.Second

// startJobs runs the scheduled and continuous jobs of spec 4.14 until ctx
// ends; the returned channel is closed when they all returned. A job
// whose servers are this dserver runs in-process, others connect over SSH.
func startJobs(ctx context.Context, cfg config.Config, log *logger.Logger, fullHost, host, home string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		jobs.Run(ctx, jobs.Config{
			Schedule:   cfg.Server.Schedule,
			Continuous: cfg.Server.Continuous,
			Logger:     log,
			Run: jobs.Runner(jobs.RemoteConfig{
				BindAddress:    cfg.Server.SSHBindAddress,
				Port:           cfg.Common.SSHPort,
				ConnectTimeout: time.Duration(cfg.Common.SSHConnectTimeoutMs) * time.Millisecond,
				Logger:         log,
				FullHost:       fullHost,
				Host:           host,
				Home:           home,
			}, jobs.LocalConfig{
				Access: func(s jobs.Spec) (jobs.Access, error) {
					return jobAccess(cfg, log, "Job "+s.LogName, s.Job)
				},
				Logger:             log,
				FullHost:           fullHost,
				Host:               host,
				MaxLineLength:      cfg.Server.MaxLineLength,
				MaxGlobTargets:     cfg.Server.MaxGlobTargets,
				MaxConcurrentCats:  cfg.Server.MaxConcurrentCats,
				MaxConcurrentTails: cfg.Server.MaxConcurrentTails,
				ReadRetryInterval:  time.Duration(cfg.Server.ReadRetryIntervalMs) * time.Millisecond,
				MapreduceLogFormat: cfg.Server.MapreduceLogFormat,
			}),
		})
	}()
	return done
}

// remoteLoginJobs are the jobs that accept DTAIL-SCHEDULE /
// DTAIL-CONTINUOUS logins (AllowRemoteLogin), enabled or not: Enable says
// whether this server runs the job itself, a server that only receives
// another host's job lists it disabled. sshserver.Session.Job indexes
// this list.
func remoteLoginJobs(js []config.Job) []config.Job {
	var out []config.Job
	for _, j := range js {
		if j.AllowRemoteLogin && j.Name != "" {
			out = append(out, j)
		}
	}
	return out
}

type server struct {
	ssh     *sshserver.Server
	onStats func(sshserver.Stats)
}

func newServer(cfg config.Config, log *logger.Logger, fullHost, host string, testMode bool) (*server, error) {
	limits := reader.NewLimits(cfg.Server.MaxConcurrentCats, cfg.Server.MaxConcurrentTails)
	var store *authkey.Store
	if cfg.Server.AuthKeyEnabled {
		store = authkey.New(time.Duration(cfg.Server.AuthKeyTTLSeconds)*time.Second, cfg.Server.AuthKeyMaxPerUser)
	}
	caps := []string{protocol.CapQueryUpdateV1, protocol.CapTimeWindowV1, protocol.CapEscapeV1}
	if journal.Available() {
		caps = append(caps, protocol.CapJournalV1)
	}
	s := &server{}
	// Sessions of one user arriving together (a fleet-wide run, many
	// clients of one server) share one account lookup (DECISIONS).
	ids := permission.NewIdentities(identityTTL)
	rules := newRuleCache(cfg.Server.Permissions)
	schedJobs, contJobs := remoteLoginJobs(cfg.Server.Schedule), remoteLoginJobs(cfg.Server.Continuous)
	authJobs := func(js []config.Job) []sshserver.Job {
		var out []sshserver.Job
		for _, j := range js {
			out = append(out, sshserver.Job{Name: j.Name, AllowFrom: j.AllowFrom})
		}
		return out
	}
	// jobOf returns the job a job user's session logged in as.
	jobOf := func(sess *sshserver.Session) (config.Job, bool) {
		list := schedJobs
		if sess.Kind == sshserver.UserContinuous {
			list = contJobs
		}
		if sess.Job < 0 || sess.Job >= len(list) {
			return config.Job{}, false
		}
		return list[sess.Job], true
	}
	sc := sshserver.Config{
		BindAddress:         cfg.Server.SSHBindAddress,
		Port:                cfg.Common.SSHPort,
		HostKeyFile:         cfg.Server.HostKeyFile,
		HostKeyBits:         cfg.Server.HostKeyBits,
		MaxConnections:      cfg.Server.MaxConnections,
		MaxPreAuth:          cfg.Server.MaxPreAuthConnections,
		MaxPreAuthPerSource: cfg.Server.MaxPreAuthPerSource,
		KeyExchanges:        cfg.Server.KeyExchanges,
		Ciphers:             cfg.Server.Ciphers,
		MACs:                cfg.Server.MACs,
		CacheDir:            cfg.Common.CacheDir,
		TestMode:            testMode,
		AuthKeys:            store,
		ScheduleJobs:        authJobs(schedJobs),
		ContinuousJobs:      authJobs(contJobs),
		Logger:              log,
		AcceptChannel: func(user string, kind sshserver.UserKind) error {
			_, err := rules.forUser(user)
			if errors.Is(err, permission.ErrNoRules) {
				return err
			}
			return nil
		},
		OnStatsChange: func(st sshserver.Stats) {
			if s.onStats != nil {
				s.onStats(st)
			}
		},
		Handler: func(ctx context.Context, sess *sshserver.Session) {
			log.Debug(sess.Prefix(), "Creating new server handler")
			var allow func(protocol.Command) error
			var fa fileAccess
			if sess.Kind == sshserver.UserSchedule || sess.Kind == sshserver.UserContinuous {
				job, ok := jobOf(sess)
				if !ok {
					log.Error(sess.Prefix(), "Job session without its job")
					return
				}
				// A job password buys that job's query on that job's
				// files, read with the job's permissions; nothing else.
				allow = jobs.NewSessionPolicy(job).Allow
				var err error
				if fa, err = jobAccess(cfg, log, sess.Prefix(), job); err != nil {
					log.Error(sess.Prefix(), "Unable to set up the job's permissions", err)
					return
				}
			} else {
				fa = opener(cfg, log, sess, ids, rules)
			}
			open, glob, readDir := fa.Open, fa.Glob, fa.ReadDir
			ss := session.New(session.Config{
				Open:               open,
				AllowJournal:       journalRules(rules, sess),
				Glob:               glob,
				ReadDir:            readDir,
				Host:               host,
				LogPrefix:          sess.Prefix(),
				User:               sess.User,
				Bounds:             sessionBounds(cfg),
				MaxLineLength:      cfg.Server.MaxLineLength,
				MaxGlobTargets:     cfg.Server.MaxGlobTargets,
				MaxReadWorkers:     cfg.Server.MaxReadWorkers,
				ReadRetryInterval:  time.Duration(cfg.Server.ReadRetryIntervalMs) * time.Millisecond,
				Limits:             limits,
				Logger:             log,
				StallTimeout:       time.Duration(cfg.Server.StallTimeoutSeconds) * time.Second,
				FullHost:           fullHost,
				MapreduceLogFormat: cfg.Server.MapreduceLogFormat,
				OnStall:            func() { sess.Disconnect() },
			}, sess)
			opts := session.ServeOptions{
				Health:       sess.Kind == sshserver.UserHealth,
				Capabilities: caps,
				MaxFrameSize: cfg.Server.MaxCommandFrameSize,
				Allow:        allow,
				HealthStatus: func() string {
					sat := s.ssh.Saturation()
					if !sess.Reserved {
						sat.Current-- // not this health check itself
					}
					return healthStatus(sat, limits)
				},
				AuthKey: func(b64 string) string {
					return registerAuthKey(store, sess, b64)
				},
			}
			ss.Serve(ctx, sess, opts)
		},
	}
	srv, err := sshserver.New(sc)
	if err != nil {
		return nil, err
	}
	s.ssh = srv
	return s, nil
}

// healthStatus is the health handler's answer: OK, or WARNING/CRITICAL
// with the reason when users wait or are refused (dtailhealth used to say
// OK while idle connections locked every user out).
func healthStatus(sat sshserver.Saturation, limits *reader.Limits) string {
	if sat.Current >= sat.MaxConnections {
		return fmt.Sprintf("CRITICAL: all %d connection slots in use, new users are refused", sat.MaxConnections)
	}
	var warn []string
	if sat.RecentDrop || sat.PreAuth >= sat.MaxPreAuth {
		warn = append(warn, fmt.Sprintf("handshake slots exhausted (%d of %d), unauthenticated connections dropped", sat.PreAuth, sat.MaxPreAuth))
	}
	cats, tails := limits.Usage()
	for _, u := range []struct {
		name string
		u    reader.SlotUsage
	}{{"cat", cats}, {"tail", tails}} {
		if u.u.Size > 0 && u.u.Used >= u.u.Size && u.u.Waiting > 0 {
			warn = append(warn, fmt.Sprintf("all %d %s slots in use, %d reads waiting", u.u.Size, u.name, u.u.Waiting))
		}
	}
	if len(warn) > 0 {
		return "WARNING: " + strings.Join(warn, "; ")
	}
	return "OK"
}

// sessionBounds are the per-session limits of dtail.json.
func sessionBounds(cfg config.Config) session.Bounds {
	s := cfg.Server
	return session.Bounds{
		MaxContextLines: s.MaxContextLines,
		MaxContextBytes: int64(s.MaxContextBytes),
		MaxCommands:     s.MaxSessionCommands,
		MaxPatternBytes: s.MaxSessionPatternBytes,
		MaxMemory:       int64(s.MaxSessionMemoryBytes),
		IdleTimeout:     time.Duration(s.IdleTimeoutSeconds) * time.Second,
	}
}

// registerAuthKey answers AUTHKEY (spec 3.10). Reserved users never get
// keys: the store must not widen what a password-authenticated job user
// can do. Only a session authenticated by a real authorized key registers,
// and the entry records that key, so removing it from authorized_keys
// revokes the fast path too. A session the store itself let in changes
// nothing: re-registering its own key answers OK (DTail 4.x clients send
// AUTHKEY on every connection) without restarting the TTL.
func registerAuthKey(store *authkey.Store, sess *sshserver.Session, b64 string) string {
	if store == nil {
		return protocol.AuthKeyErrFeatureDisabled
	}
	if sess.Kind != sshserver.UserNormal || sess.Key == nil {
		return protocol.AuthKeyErrKeyStoreUnavailable
	}
	if strings.TrimSpace(b64) == "" {
		return protocol.AuthKeyErrMissingPublicKey
	}
	raw, err := decodeB64(b64)
	if err != nil {
		return protocol.AuthKeyErrInvalidBase64
	}
	key, err := ssh.ParsePublicKey(raw)
	if err != nil {
		return protocol.AuthKeyErrInvalidPublicKey
	}
	if sess.FromAuthKeyStore {
		if bytes.Equal(key.Marshal(), sess.Key.Marshal()) && store.Has(sess.User, key) {
			return protocol.AuthKeyOK
		}
		return protocol.AuthKeyErrKeyStoreUnavailable
	}
	store.Add(sess.User, key, sess.Key)
	return protocol.AuthKeyOK
}

// journalRules decides journal targets (spec 4.11): only the regex rules,
// against the literal `journal:UNIT`; job users bypass them as they do
// for files.
func journalRules(rc *ruleCache, sess *sshserver.Session) func(string) error {
	if sess.Kind == sshserver.UserSchedule || sess.Kind == sshserver.UserContinuous {
		return nil
	}
	rules, _ := rc.forUser(sess.User)
	return func(target string) error {
		if !rules.Allowed(target) {
			return fmt.Errorf("%w: %s: no permission rule allows this journal", permission.ErrDenied, target)
		}
		return nil
	}
}

// fileAccess is how one session (or in-process job) opens files, expands
// globs and lists directories: all through the permission package, which
// walks each path as the OS user (UNIX permissions and ACLs on each
// directory and on the file) and applies the regex rules and path safety,
// even when dserver itself could read more (CAP_DAC_READ_SEARCH).
type fileAccess = jobs.Access

// ruleCache compiles each user's Permissions rules once per server (the
// configuration does not change while it runs): a session compiled its
// user's regexes three times (channel check, file access, journal
// targets), 3 % of dserver's CPU at 10,000 sessions. Compiled rules are
// immutable and shared.
type ruleCache struct {
	perms config.Permissions
	mu    sync.Mutex
	m     map[string]compiledRules
}

type compiledRules struct {
	rules *permission.Rules
	err   error
}

// maxCachedRules bounds the cache; further users are compiled per call.
const maxCachedRules = 4096

func newRuleCache(p config.Permissions) *ruleCache {
	return &ruleCache{perms: p, m: map[string]compiledRules{}}
}

// forUser is permission.CompileRules of the user's effective rules.
func (c *ruleCache) forUser(user string) (*permission.Rules, error) {
	c.mu.Lock()
	r, ok := c.m[user]
	c.mu.Unlock()
	if ok {
		return r.rules, r.err
	}
	r.rules, r.err = permission.CompileRules(permission.RulesFor(user, c.perms.Default, c.perms.Users))
	c.mu.Lock()
	if len(c.m) < maxCachedRules {
		c.m[user] = r
	}
	c.mu.Unlock()
	return r.rules, r.err
}

// identityTTL is how long a session's OS account (uid, groups) is
// remembered for the next sessions of that user.
const identityTTL = 2 * time.Second

// opener is the file access of a normal session: its SSH user's.
func opener(cfg config.Config, log *logger.Logger, sess *sshserver.Session, ids *permission.Identities, rc *ruleCache) fileAccess {
	return checkedAccess(cfg, log, sess.Prefix(), sess.User, false, ids.Lookup, rc)
}

// jobAccess is the file access of a job's reads (in-process or a remote
// job login): the checks of the job's RunAs user, by default the account
// dserver runs as, and that user's Permissions rules. Only ReadAnyFile,
// set explicitly in the configuration, skips them as DTail 4.x did.
func jobAccess(cfg config.Config, log *logger.Logger, prefix string, j config.Job) (fileAccess, error) {
	name := j.RunAs
	if name == "" {
		u, err := user.Current()
		if err != nil {
			return fileAccess{}, fmt.Errorf("the dserver account: %w", err)
		}
		name = u.Username
	}
	return checkedAccess(cfg, log, prefix, name, j.ReadAnyFile, permission.LookupUser, nil), nil
}

// checkedAccess reads as OS user name under name's Permissions rules; skip
// bypasses the user checks (never for a normal session).
func checkedAccess(cfg config.Config, log *logger.Logger, prefix, name string, skip bool, lookup func(string) (*permission.Identity, error), rc *ruleCache) fileAccess {
	if rc == nil {
		rc = newRuleCache(cfg.Server.Permissions)
	}
	rules, rerr := rc.forUser(name)
	if rerr != nil && !errors.Is(rerr, permission.ErrNoRules) {
		log.Error(prefix, "Invalid permission rule", rerr)
	}
	var opts []permission.Option
	if skip {
		opts = append(opts, permission.Skip)
	}
	var id *permission.Identity
	var idErr error
	if !skip {
		id, idErr = lookup(name)
	}
	checker := permission.NewChecker(id, rules, opts...)
	open := func(path string) (*os.File, error) {
		if idErr != nil {
			return nil, fmt.Errorf("%w: %s: no such OS user %q: %v", permission.ErrDenied, path, name, idErr)
		}
		f, _, err := checker.Open(path)
		return f, err
	}
	glob := func(pattern string) ([]string, error) {
		if idErr != nil {
			// An unknown user can list nothing; the pattern itself goes
			// to open, which logs why.
			return []string{pattern}, nil
		}
		return checker.Glob(pattern)
	}
	readDir := func(dir string) []string {
		if idErr != nil {
			return nil
		}
		return checker.ReadDir(dir)
	}
	return fileAccess{Open: open, Glob: glob, ReadDir: readDir}
}
