package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	_ "net/http/pprof" // served only when -pprof is given
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/dtail-go/dtail/internal/client"
	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/config"
	"github.com/dtail-go/dtail/internal/logger"
	"github.com/dtail-go/dtail/internal/query"
	"github.com/dtail-go/dtail/internal/version"
	"golang.org/x/term"
)

// Env is what a binary takes from its process, injectable for tests.
type Env struct {
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// OSEnv returns the real process environment.
func OSEnv() Env {
	return Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// TestMode reports DTAIL_INTEGRATION_TEST_RUN_MODE=yes (spec 4.17).
func TestMode(getenv func(string) string) bool {
	return getenv("DTAIL_INTEGRATION_TEST_RUN_MODE") == "yes"
}

// Hostnames returns the full and the short host name, honouring the
// test mode and DTAIL_HOSTNAME_OVERRIDE (spec 1.8).
func Hostnames(getenv func(string) string) (full, short string) {
	full, _ = os.Hostname()
	if o := getenv("DTAIL_HOSTNAME_OVERRIDE"); o != "" {
		full = o
	}
	if TestMode(getenv) {
		full = "integrationtest"
	}
	short, _, _ = strings.Cut(full, ".")
	return full, short
}

// Home returns the home directory from $HOME, then the user database.
func Home(getenv func(string) string) string {
	if h := getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

func currentUser(getenv func(string) string) string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	if u := getenv("USER"); u != "" {
		return u
	}
	return fmt.Sprint(os.Getuid())
}

// LoadConfig loads dtail.json for a binary and prints a one-line error.
func LoadConfig(prog, path string, env Env) (config.Config, bool) {
	cfg, _, err := config.Load(path, Home(env.Getenv))
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", prog, err)
		return cfg, false
	}
	return cfg, true
}

// Scheme builds the colour scheme from the configuration: on a terminal
// over color.TerminalScheme (theme-neutral payload, control bytes shown as
// text), in pipes and files over DTail 4.x's colours, byte for byte as
// scripts and the spec's tests expect them. Colours set in dtail.json win
// in both.
func Scheme(prog string, cfg config.Config, env Env) (*color.Scheme, bool) {
	base := color.DefaultScheme()
	names := cfg.Client.TermColors.Names()
	if isTerminal(env.Stdout) {
		base = color.TerminalScheme()
		// The configuration holds 4.x's colours for every key it does
		// not set; only the keys set to something else override the
		// terminal scheme.
		for k, v := range config.DefaultWithHome("").Client.TermColors.Names() {
			if names[k] == v {
				delete(names, k)
			}
		}
	}
	s, err := color.SchemeOver(base, names)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: Client.TermColors: %v\n", prog, err)
		return nil, false
	}
	return &s, true
}

// RunClient runs dtail, dcat, dgrep or dmap and returns the exit code.
func RunClient(binary string, env Env) int {
	f, err := ParseClient(binary, env.Args, currentUser(env.Getenv), env.Stdout)
	if errors.Is(err, ErrHelp) {
		return 0
	}
	if err != nil {
		// One line, no usage dump (ParseClient silences the flag
		// package); -h prints the usage.
		var ue *UsageError
		if errors.As(err, &ue) && ue.AfterParse {
			fmt.Fprintf(env.Stderr, "%s: %v\n", binary, err)
		}
		return client.ExitFatal
	}
	if f.Version {
		if f.NoColor || f.Plain || envNoColor(env.Getenv) {
			fmt.Fprintln(env.Stdout, version.String())
		} else {
			fmt.Fprintln(env.Stdout, version.Colored())
		}
		return 0
	}
	if f.ColorTable || f.WideColorTable {
		if f.Plain {
			// The reference ignores the table flags with -plain.
		} else {
			color.ColorTable(env.Stdout, f.WideColorTable)
			return 0
		}
	}
	if f.CheckHealth {
		fmt.Fprintln(env.Stdout, "WARN: DTail health check has moved to separate binary dtailhealth - please adjust the monitoring scripts!")
		return 1
	}
	cfg, ok := LoadConfig(binary, f.Cfg, env)
	if !ok {
		return client.ExitFatal
	}
	if f.NoColor || f.Plain || envNoColor(env.Getenv) {
		cfg.Client.TermColorsEnable = false
	}
	if f.Query != "" {
		// A bad query is a usage error, found before any connection.
		if _, err := query.Parse(f.Query); err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", binary, err)
			return client.ExitFatal
		}
	}
	if binary == DGrep && f.Regex == "" {
		fmt.Fprintf(env.Stderr, "unable to create dgrep client: No regex specified, use '-regex' flag\n")
		return 1
	}
	stopProfiles, perr := startProfiles(binary, f)
	if perr != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", binary, perr)
		return client.ExitFatal
	}
	defer stopProfiles()
	if f.PProf != "" {
		go http.ListenAndServe(f.PProf, nil)
	}

	serverless := f.Discovery == "" && (f.Servers == "" || f.Servers == "serverless")
	if !serverless {
		return runRemote(binary, f, cfg, env)
	}
	_, short := Hostnames(env.Getenv)
	var scheme *color.Scheme
	if cfg.Client.TermColorsEnable {
		if scheme, ok = Scheme(binary, cfg, env); !ok {
			return client.ExitFatal
		}
	}
	maxLine := cfg.Server.MaxLineLength
	if TestMode(env.Getenv) {
		maxLine = config.TestModeMaxLineLength
	}
	o := baseOptions(binary, f, short, scheme, env)
	o.Local.MaxLineLength = maxLine
	o.Local.MaxGlobTargets = cfg.Server.MaxGlobTargets
	o.Local.MaxReadWorkers = cfg.Server.MaxReadWorkers
	o.Local.MaxConcurrentCats = cfg.Server.MaxConcurrentCats
	o.Local.MaxConcurrentTails = cfg.Server.MaxConcurrentTails
	o.Local.ReadRetryInterval = time.Duration(cfg.Server.ReadRetryIntervalMs) * time.Millisecond
	log, ok := serverlessLogger(binary, f, cfg, env)
	if !ok {
		return client.ExitFatal
	}
	defer log.Close()
	o.Logger = log
	o.HideWarnings = !log.Enabled(logger.Warn)
	if f.LogPayload || cfg.Client.LogPayload {
		o.Output.PayloadLog = log.Raw
	}
	if binary == DMap && f.Query == "" {
		fmt.Fprintf(env.Stderr, "%s: No mapreduce query specified, use '-query' flag\n", binary)
		return client.ExitFatal
	}
	o.FullHost, _ = Hostnames(env.Getenv)
	o.Map.MapreduceLogFormat = cfg.Server.MapreduceLogFormat
	ctx, stop := signalContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer stop()
	if f.Coalesce && o.Map.Query == "" {
		o.Output.Coalesce = client.NewCoalescer()
	}
	return withCoalesce(o, env.Stdout, func() int { return client.RunServerless(ctx, o) })
}

// deadline is dtail's client-side end: the earlier of -timeout and
// -shutdownAfter (spec 5.8).
func deadline(f *ClientFlags) time.Duration {
	d := time.Duration(f.ShutdownAfter) * time.Second
	if t := time.Duration(f.Timeout) * time.Second; t > 0 && (d <= 0 || t < d) {
		d = t
	}
	return d
}

func startProfiles(binary string, f *ClientFlags) (func(), error) {
	if !f.CPUProfile && !f.MemProfile {
		return func() {}, nil
	}
	if err := os.MkdirAll(f.ProfileDir, 0o755); err != nil {
		return nil, err
	}
	ts := time.Now().Format("20060102_150405")
	var stops []func()
	if f.CPUProfile {
		out, err := os.Create(filepath.Join(f.ProfileDir, fmt.Sprintf("%s_cpu_%s.prof", binary, ts)))
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			out.Close()
			return nil, err
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); out.Close() })
	}
	if f.MemProfile {
		stops = append(stops, func() {
			runtime.GC()
			for _, p := range []string{"mem", "alloc"} {
				name := "heap"
				if p == "alloc" {
					name = "allocs"
				}
				if out, err := os.Create(filepath.Join(f.ProfileDir, fmt.Sprintf("%s_%s_%s.prof", binary, p, ts))); err == nil {
					pprof.Lookup(name).WriteTo(out, 0)
					out.Close()
				}
			}
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}, nil
}

// serverlessLogger is the client log of a serverless run: the in-process
// server's lines go to the log file only (never stdout, which carries the
// data); an unchanged -logLevel info becomes warn (spec 2.1).
func serverlessLogger(binary string, f *ClientFlags, cfg config.Config, env Env) (*logger.Logger, bool) {
	lvl := f.LogLevel
	if lvl == "info" {
		lvl = "warn"
	}
	level, err := logger.ParseLevel(lvl)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: -logLevel: %v\n", binary, err)
		return nil, false
	}
	sink, err := logger.ParseSink(f.Logger)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: -logger: %v\n", binary, err)
		return nil, false
	}
	if sink != logger.Discard {
		sink = logger.File
	}
	full, _ := Hostnames(env.Getenv)
	return logger.New(logger.Options{
		Level:    level,
		Sink:     sink,
		LogDir:   config.ExpandHome(f.LogDir, Home(env.Getenv)),
		Rotation: cfg.Common.LogRotation,
		Name:     binary,
		Role:     logger.Client,
		Hostname: full,
		Stdout:   io.Discard,
		Stderr:   env.Stderr,
	}), true
}

// baseOptions are the client options shared by serverless and remote
// runs: what to read, how to match it and how to print it.
func baseOptions(binary string, f *ClientFlags, short string, scheme *color.Scheme, env Env) client.Options {
	o := client.Options{
		Prog:   binary,
		Files:  FileList(f.Files),
		Host:   short,
		Stdout: env.Stdout,
		Stderr: env.Stderr,
		Stdin:  env.Stdin,
		Grep:   client.GrepOptions{Regex: f.Regex, Invert: f.Invert, Before: f.Before, After: f.After, Max: f.Max},
		Output: client.OutputOptions{Plain: f.Plain, Quiet: f.Quiet || f.Plain, Colors: scheme},
	}
	switch binary {
	case DCat:
		o.Mode, o.Grep.Regex = client.ModeCat, ""
	case DGrep:
		o.Mode = client.ModeGrep
	case DTail:
		o.Mode = client.ModeTail
		o.Timeout = deadline(f)
	case DMap:
		o.Mode = client.ModeMap
		o.Map.ServerTimeout = time.Duration(f.Timeout) * time.Second
	}
	o.Grep.Count, o.Grep.FilesWithMatches, o.Grep.MaxTotal = f.Count, f.FilesWithMatches, f.MaxTotal
	o.Output.MergeByTime, o.Output.MergeWindow = f.MergeByTime, f.MergeWindow
	o.Grep.Window = f.Window
	if f.Output == "ndjson" {
		o.Output.NDJSON, o.Output.Plain, o.Output.Colors = true, false, nil
	}
	o.Output.Receipt = receiptFormat(f.Receipt, env.Stderr)
	o.Map.Query = f.Query
	o.Map.Plan = client.QueryPlan{Strict: f.Strict, Terminal: isTerminal(env.Stdout)}
	if o.Map.Query != "" && binary == DTail {
		o.Map.ServerTimeout = time.Duration(f.Timeout) * time.Second
	}
	return o
}

// receiptFormat resolves -receipt: by default a text receipt only when
// stderr is a terminal, so scripts see unchanged stderr unless they ask.
func receiptFormat(flag string, stderr io.Writer) string {
	switch flag {
	case "text", "json":
		return flag
	case "none":
		return ""
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return "text"
	}
	return ""
}

// forcedExit bounds how long a binary may take to end after a signal:
// a blocked stdout or stdin must not keep it alive (exit status 128+N
// for signal N: the run was cut short).
const forcedExit = 900 * time.Millisecond

// signalContext is cancelled by the first of sigs; if the run has not
// returned forcedExit later, the process exits.
func signalContext(parent context.Context, sigs ...os.Signal) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case sig := <-ch:
			// The cause tells the run it was interrupted: its receipt
			// and exit code say so.
			cancel(client.Interrupt{Signal: sig})
			code := client.ExitSignal(sig)
			time.AfterFunc(forcedExit, func() { os.Exit(code) })
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(nil)
	}
}
