// Package client runs a DTail client: serverless (the reader on local
// files or stdin, printing what it selects) or against servers over SSH,
// fanning out to every server and printing what they send.
package client

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/logformat"
	"github.com/dtail-go/dtail/internal/mapr"
	"github.com/dtail-go/dtail/internal/match"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/reader"
	"github.com/dtail-go/dtail/internal/sink"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// Mode is what the client asks for.
type Mode int

const (
	ModeTail Mode = iota
	ModeCat
	ModeGrep
	ModeMap
	ModeHealth
)

// Options is a client run, resolved from flags and configuration. The
// fields beyond the basics are grouped by concern: what is selected
// (Grep), how it is printed (Output), a mapreduce query (Map) and the
// limits and file access of a serverless read (Local).
type Options struct {
	Mode  Mode
	Prog  string
	Files []string
	// Host is the short host name for REMOTE headers, FullHost the full
	// one (query results).
	Host     string
	FullHost string
	Stdout   io.Writer
	Stderr   io.Writer
	Stdin    io.Reader
	Timeout  time.Duration // client-side deadline; 0 none
	// Logger receives the in-process server's log lines (the client log
	// file); nil logs nothing.
	Logger Logger
	// HideWarnings drops local warnings (--logLevel error or quieter).
	HideWarnings bool

	Grep   GrepOptions
	Output OutputOptions
	Map    MapOptions
	Local  LocalOptions

	red *reducer // set for mapreduce runs
}

// GrepOptions select the lines of a run.
type GrepOptions struct {
	Regex  string
	Invert bool
	Before int
	After  int
	Max    int
	// Count and FilesWithMatches report per-file match counts or the files
	// with matches instead of lines (--count, --files-with-matches).
	Count            bool
	FilesWithMatches bool
	// MaxTotal stops the whole run after this many lines (--max-total).
	MaxTotal int
	// Window selects lines by timestamp (--since/--until); nil: all.
	Window *timewindow.Window
}

// OutputOptions choose the printer of the output chain and what goes
// with it.
type OutputOptions struct {
	Plain  bool
	Quiet  bool
	Colors *color.Scheme // nil: no colours
	// NDJSON prints one JSON object per line (--output ndjson).
	NDJSON bool
	// MergeByTime orders the lines of all servers by their timestamps
	// within a reorder window of MergeWindow (0: DefaultMergeWindow).
	MergeByTime bool
	MergeWindow time.Duration
	// Receipt prints the completeness receipt to Stderr: "text", "json"
	// or "" for none.
	Receipt string
	// Coalesce, if set, is the printer: it counts every line by template
	// instead of printing it (--coalesce); the caller prints its summary.
	Coalesce *Coalescer
	// PayloadLog, if set, also receives every output batch of a
	// serverless run (-log-payload).
	PayloadLog func([]byte)
}

// MapOptions are a mapreduce query run's (dmap, dtail -query).
type MapOptions struct {
	// Query is the raw query; "" none.
	Query string
	// ServerTimeout is dmap's -timeout, applied by the server to each read
	// (the `timeout N` command prefix); serverless runs apply it locally.
	ServerTimeout time.Duration
	// Plan holds the query run's choices beyond DTail 4.x (--strict, the
	// terminal row limit).
	Plan QueryPlan
	// NonCumulative makes a query run report each interval on its own even
	// with an outfile (continuous jobs, spec 4.14); by default a run is
	// cumulative in dmap mode or when the query has an outfile.
	NonCumulative bool
	// MapreduceLogFormat is the server default log format (serverless).
	MapreduceLogFormat string
	// ReloadParse parses interactive `:reload` lines with the binary's
	// flag definitions; nil: the built-in set of spec 5.11.
	ReloadParse ReloadParser
}

// LocalOptions are a serverless read's file access and limits (the
// server's, from dtail.json).
type LocalOptions struct {
	// Open opens the files of a serverless run; nil opens them as the
	// calling process may. dserver's in-process jobs pass a permission
	// checked opener: the process may hold CAP_DAC_READ_SEARCH.
	Open reader.Opener
	// Glob and ReadDir, if set, expand globs and list directories for
	// the serverless session (with Open: the same user's view).
	Glob    func(pattern string) ([]string, error)
	ReadDir func(dir string) []string

	MaxLineLength      int
	MaxGlobTargets     int
	MaxReadWorkers     int
	MaxConcurrentCats  int
	MaxConcurrentTails int
	ReadRetryInterval  time.Duration
}

// Logger is the client log of a serverless run (the reader's log lines
// go there); its methods return the line written, as the server's do.
type Logger interface {
	Info(args ...any) string
	Warn(args ...any) string
	Error(args ...any) string
	Debug(args ...any) string
}

// Exit codes (docs/DECISIONS.md): 0 all read, 1 something could not be
// read or a setup error, 2 usage or fatal errors.
const (
	ExitOK      = 0
	ExitPartial = 1
	ExitFatal   = 2
)

// Matcher compiles the client's regex the way the wire would carry it
// (protocol.SelectsAll).
func Matcher(regex string, invert bool) (*match.Matcher, error) {
	if protocol.SelectsAll(regex) {
		return match.NewAll(), nil
	}
	return match.New(regex, invert, false)
}

// RunServerless reads local files (or stdin) with the reader and prints
// what it selects; it returns the exit code.
func RunServerless(ctx context.Context, o Options) int {
	m, err := Matcher(o.Grep.Regex, o.Grep.Invert)
	if err != nil {
		io.WriteString(o.Stderr, o.Prog+": "+err.Error()+"\n")
		return ExitFatal
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	ctx, cancelCause := context.WithCancelCause(ctx)
	defer cancelCause(nil)
	cancelRun := func() { cancelCause(errMaxTotal) }
	if o.Map.Query != "" {
		q, err := parseQuery(o.Map.Query, o.Stderr, o.Prog, o.Map.MapreduceLogFormat, o.Map.Plan)
		if err != nil {
			io.WriteString(o.Stderr, o.Prog+": "+err.Error()+"\n")
			return ExitFatal
		}
		o.red = newReducer(o, q, o.Stdout, func(w string) { io.WriteString(o.Stderr, o.Prog+": "+w+"\n") })
	}
	stdin := o.Stdin
	if stdin == nil {
		stdin = os.Stdin
	}
	var log reader.Logger
	if o.Logger != nil {
		log = o.Logger
	}
	rd := reader.New(reader.Config{
		MaxLineLength:     o.Local.MaxLineLength,
		MaxGlobTargets:    o.Local.MaxGlobTargets,
		MaxReadWorkers:    o.Local.MaxReadWorkers,
		ReadRetryInterval: o.Local.ReadRetryInterval,
		Limits:            reader.NewLimits(o.Local.MaxConcurrentCats, o.Local.MaxConcurrentTails),
		Open:              o.Local.Open,
		Glob:              o.Local.Glob,
		ReadDir:           o.Local.ReadDir,
		Stdin:             stdin,
		// FIFOs and devices the user named are read like grep does;
		// a job's checked opener (dserver) refuses them.
		Streams: o.Local.Open == nil,
		// Like cat, a local read prints files in the order given.
		Ordered: true,
		Log:     log,
	})
	out := sink.NewOutput(teeWriter(o.Stdout, o.Output.PayloadLog), 16)
	ls := &localSinks{
		out: out, host: []byte(o.Host),
		chain: newChain(o, chainMode{stop: cancelRun}),
		diag:  &diagWriter{w: o.Stderr, prog: o.Prog, hideWarnings: o.HideWarnings}, log: o.Logger,
	}
	if ls.diag.prog == "" {
		ls.diag.prog = "dtail"
	}
	files := o.Files
	if len(files) == 0 {
		files = []string{"-"}
	}
	if o.Map.Query != "" {
		return runServerlessMap(ctx, o, rd, ls, files)
	}
	mode := readMode(o.Mode)
	c := ls.chain
	req := func(glob string) reader.Request {
		return reader.Request{Mode: mode, Glob: glob, Matcher: m, Before: o.Grep.Before, After: o.Grep.After, Max: o.Grep.Max,
			Count: o.Grep.Count, FilesWithMatches: o.Grep.FilesWithMatches, Offsets: c.printer == printNDJSON, Window: o.Grep.Window,
			// Whole blocks of a cat are copied or split here.
			Runs: (c.printer == printPlain || c.printer == printCoalesce) && !c.seps}
	}
	if mode == reader.Tail {
		// Every file is followed at once; the run ends with ctx.
		var wg sync.WaitGroup
		for _, f := range files {
			wg.Go(func() { rd.Read(ctx, req(f), ls) })
		}
		wg.Wait()
	} else {
		for _, f := range files {
			if ctx.Err() != nil {
				break
			}
			rd.Read(ctx, req(f), ls)
		}
	}
	cause, cut := endCause(ctx, mode == reader.Tail)
	werr := out.Close()
	code := exitCode(serverlessReceipt(o, reader.Receipt(&ls.tally, 0), cause, cut))
	if werr != nil && !isBrokenPipe(werr) && !errors.Is(werr, errMaxTotal) {
		io.WriteString(o.Stderr, o.Prog+": write output: "+werr.Error()+"\n")
		if code == ExitOK {
			code = ExitPartial
		}
	}
	return code
}

// readMode is the one mapping of the client's mode to a read (the wire
// verb of a read is its String).
func readMode(m Mode) reader.Mode {
	switch m {
	case ModeGrep:
		return reader.Grep
	case ModeTail:
		return reader.Tail
	}
	return reader.Cat
}

// endCause tells what ended a serverless run early, and whether a read
// was cut by it: any cancellation of a cat, grep or query read, only a
// signal for a follow (which never finishes by itself).
func endCause(ctx context.Context, follow bool) (cause string, cut bool) {
	if ctx.Err() == nil {
		return "", false
	}
	var in Interrupt
	switch c := context.Cause(ctx); {
	case errors.As(c, &in):
		return signalName(in.Signal), true
	case errors.Is(c, errMaxTotal):
		cause = EndMaxTotal
	case errors.Is(c, context.DeadlineExceeded):
		cause = EndTimeout
	default:
		cause = c.Error()
	}
	return cause, !follow
}

// serverlessReceipt is the receipt of an in-process run: one host, whose
// receipt is the reader's own.
func serverlessReceipt(o Options, rc protocol.Receipt, cause string, cut bool) Receipt {
	return runReceipt(o, []hostReport{{name: o.Host, rc: rc, gotReceipt: true}}, cause, cut, 0)
}

// errMaxTotal is the cause of a run ended by --max-total.
var errMaxTotal = errors.New("--max-total reached")

// teeWriter copies every output batch to log as well, for -log-payload.
func teeWriter(w io.Writer, log func([]byte)) io.Writer {
	if log == nil {
		return w
	}
	return writerFunc(func(p []byte) (int, error) {
		log(p)
		return w.Write(p)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// runServerlessMap runs a query in process: the map run feeds the reducer
// directly, with the same map and reduce code as against servers.
func runServerlessMap(ctx context.Context, o Options, rd *reader.Reader, ls *localSinks, files []string) int {
	q := o.red.q
	m, fallback := mapr.NewRun(q, mapr.RunConfig{
		Format: logformat.Select(q.LogFormat, q.HasFrom, o.Map.MapreduceLogFormat),
		Host:   o.Host, FullHost: o.FullHost,
		Emit:   o.red.merge,
		Notify: func(_, text string) { ls.diag.print(text, false) },
		Log:    o.Logger,
	})
	if fallback != nil && o.Logger != nil {
		o.Logger.Error(logformat.FallbackMessage, fallback)
	}
	tm, err := Matcher(q.TableRegex(), false)
	if err != nil {
		tm = match.NewAll()
	}
	tm = m.Matcher(tm)
	mode := reader.Cat
	if o.Mode == ModeTail {
		mode = reader.Tail
	}
	readCtx := ctx
	if o.Map.ServerTimeout > 0 {
		var cancel context.CancelFunc
		readCtx, cancel = context.WithTimeout(ctx, o.Map.ServerTimeout)
		defer cancel()
	}
	mapDone := make(chan struct{})
	go func() {
		m.Run(ctx)
		close(mapDone)
	}()
	reduced := make(chan error, 1)
	go func() { reduced <- o.red.run(ctx, mapDone) }()
	dst := &mapSinks{m: m, follow: mode == reader.Tail, Events: ls}
	var wg sync.WaitGroup
	for _, f := range files {
		m.ReadStarted()
		wg.Go(func() {
			defer m.ReadDone()
			rd.Read(readCtx, reader.Request{Mode: mode, Glob: f, Matcher: tm, Window: o.Grep.Window, Aggregate: true}, dst)
		})
		if mode == reader.Cat {
			// Like dcat, files are read in the order given.
			wg.Wait()
		}
	}
	wg.Wait()
	cause, cut := endCause(readCtx, mode == reader.Tail)
	if cause == EndTimeout && o.Map.ServerTimeout > 0 && ctx.Err() == nil {
		// dmap -timeout bounds each read by design, like on a server.
		cause, cut = "", false
	}
	if mode == reader.Cat {
		m.Finish()
	}
	<-mapDone
	rerr := <-reduced
	werr := ls.out.Close()
	rc := serverlessReceipt(o, reader.Receipt(&ls.tally, m.Skipped()), cause, cut)
	code := exitCode(rc)
	strictFail := rerr == nil && o.red.finish(rc.LinesSkipped)
	if rerr != nil {
		io.WriteString(o.Stderr, o.Prog+": "+rerr.Error()+"\n")
		return ExitPartial
	}
	if werr != nil && !isBrokenPipe(werr) && code == ExitOK {
		return ExitPartial
	}
	if strictFail && code == ExitOK {
		return ExitPartial
	}
	return code
}
