// Package client runs a DTail client: serverless (an in-process session
// reading local files or stdin) or against servers over SSH, fanning out
// to every server and printing what they send.
package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/match"
	"github.com/dtail-go/dtail/internal/session"
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

// Options is a client run, resolved from flags and configuration.
type Options struct {
	Mode    Mode
	Prog    string
	Files   []string
	Regex   string
	Invert  bool
	Before  int
	After   int
	Max     int
	Plain   bool
	Quiet   bool
	Colors  *color.Scheme // nil: no colours
	Host    string        // short host name for REMOTE headers
	Stdout  io.Writer
	Stderr  io.Writer
	Stdin   io.Reader
	Timeout time.Duration // client-side deadline; 0 none
	// Count and FilesWithMatches report per-file match counts or the files
	// with matches instead of lines (--count, --files-with-matches).
	Count            bool
	FilesWithMatches bool
	// MaxTotal stops the whole run after this many lines (--max-total).
	MaxTotal int
	// NDJSON prints one JSON object per line (--output ndjson).
	NDJSON bool
	// MergeByTime orders the lines of all servers by their timestamps
	// within a reorder window of MergeWindow (0: DefaultMergeWindow).
	MergeByTime bool
	MergeWindow time.Duration
	// Window selects lines by timestamp (--since/--until); nil: all.
	Window *timewindow.Window
	// Receipt prints the completeness receipt to Stderr: "text", "json"
	// or "" for none.
	Receipt string
	// Query is the raw mapreduce query (dmap, dtail -query); "" none.
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
	FullHost           string
	// Logger receives the in-process server's log lines (the client log
	// file); nil logs nothing.
	Logger session.Logger
	// HideWarnings drops local warnings (--logLevel error or quieter).
	HideWarnings bool
	// PayloadLog, if set, also receives every output batch
	// (-log-payload).
	PayloadLog func([]byte)

	red *reducer // set for mapreduce runs

	// Open opens the files of a serverless run; nil opens them as the
	// calling process may. dserver's in-process jobs pass a permission
	// checked opener: the process may hold CAP_DAC_READ_SEARCH.
	Open session.Opener
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

// Exit codes (docs/DECISIONS.md): 0 all read, 1 something could not be
// read or a setup error, 2 usage or fatal errors.
const (
	ExitOK      = 0
	ExitPartial = 1
	ExitFatal   = 2
)

// Matcher compiles the client's regex the way the wire would carry it:
// "", "." and ".*" select everything and ignore -invert (spec 3.4).
func Matcher(regex string, invert bool) (*match.Matcher, error) {
	switch regex {
	case "", ".", ".*":
		return match.NewAll(), nil
	}
	return match.New(regex, invert, false)
}

// RunServerless runs the read in-process with the same session code as
// dserver and returns the exit code.
func RunServerless(ctx context.Context, o Options) int {
	m, err := Matcher(o.Regex, o.Invert)
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
	var red *reducer
	var onAggregate func([]byte)
	if o.Query != "" {
		q, err := parseQuery(o.Query, o.Stderr, o.Prog, o.MapreduceLogFormat, o.Plan)
		if err != nil {
			io.WriteString(o.Stderr, o.Prog+": "+err.Error()+"\n")
			return ExitFatal
		}
		red = newReducer(o, q, o.Stdout, func(w string) { io.WriteString(o.Stderr, o.Prog+": "+w+"\n") })
		onAggregate = red.merge
		o.red = red
	}
	s := session.New(session.Config{
		OnAggregate:        onAggregate,
		FullHost:           o.FullHost,
		MapreduceLogFormat: o.MapreduceLogFormat,
		Host:               o.Host,
		Serverless:         true,
		Diag:               o.Stderr,
		HideWarnings:       o.HideWarnings,
		Prog:               o.Prog,
		Colors:             o.Colors,
		Stdin:              o.Stdin,
		MaxLineLength:      o.MaxLineLength,
		MaxGlobTargets:     o.MaxGlobTargets,
		MaxReadWorkers:     o.MaxReadWorkers,
		ReadRetryInterval:  o.ReadRetryInterval,
		Limits:             session.NewLimits(o.MaxConcurrentCats, o.MaxConcurrentTails),
		Logger:             o.Logger,
		Open:               o.Open,
		Glob:               o.Glob,
		ReadDir:            o.ReadDir,
	}, maxTotalWriter(teeWriter(o.Stdout, o.PayloadLog), o.MaxTotal, cancelRun))
	files := o.Files
	if len(files) == 0 {
		files = []string{"-"}
	}
	if o.Query != "" {
		return runServerlessMap(ctx, o, s, files)
	}
	mode := session.Cat
	switch o.Mode {
	case ModeGrep:
		mode = session.Grep
	case ModeTail:
		mode = session.Tail
	}
	req := func(glob string) session.ReadRequest {
		return session.ReadRequest{Mode: mode, Glob: glob, Matcher: m, Before: o.Before, After: o.After, Max: o.Max, Plain: o.Plain,
			Count: o.Count, FilesWithMatches: o.FilesWithMatches, NDJSON: o.NDJSON, Window: o.Window}
	}
	if mode == session.Tail {
		// Every file is followed at once; the run ends with ctx.
		done := make(chan struct{}, len(files))
		for _, f := range files {
			go func() {
				s.Read(ctx, req(f))
				done <- struct{}{}
			}()
		}
		for range files {
			<-done
		}
	} else {
		for _, f := range files {
			if ctx.Err() != nil {
				break
			}
			s.Read(ctx, req(f))
		}
	}
	cause, cut := endCause(ctx, mode == session.Tail)
	werr := s.Close()
	code := exitCode(serverlessReceipt(o, s, cause, cut))
	if werr != nil && !isBrokenPipe(werr) && !errors.Is(werr, errMaxTotal) {
		io.WriteString(o.Stderr, o.Prog+": write output: "+werr.Error()+"\n")
		if code == ExitOK {
			code = ExitPartial
		}
	}
	return code
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

// serverlessReceipt builds the receipt of an in-process run, prints it
// when asked and returns it for the exit code.
func serverlessReceipt(o Options, s *session.Session, cause string, cut bool) Receipt {
	var c receiptCollector
	c.addServer(s.Receipt())
	c.addHost(o.Host, outcomeOK, true)
	c.interrupted(cause)
	c.cut = cut
	r := c.result()
	if o.Receipt != "" {
		WriteReceipt(o.Stderr, r, o.Receipt)
	}
	return r
}

// errMaxTotal ends the output once --max-total lines were written.
var errMaxTotal = errors.New("--max-total reached")

// maxTotalWriter passes at most max lines (0: all), then cancels the run.
// The serverless output only ever holds whole lines.
func maxTotalWriter(w io.Writer, max int, stop func()) io.Writer {
	if max <= 0 {
		return w
	}
	left := max
	return writerFunc(func(p []byte) (int, error) {
		if left <= 0 {
			return 0, errMaxTotal
		}
		n := 0
		for n < len(p) && left > 0 {
			i := bytes.IndexByte(p[n:], '\n')
			if i < 0 {
				n = len(p)
				break
			}
			n += i + 1
			left--
		}
		if _, err := w.Write(p[:n]); err != nil {
			return 0, err
		}
		if left <= 0 {
			stop()
			return n, errMaxTotal
		}
		return n, nil
	})
}

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

// runServerlessMap runs a query in process: the session's aggregate feeds
// the reducer directly, with the same map and reduce code as against
// servers.
func runServerlessMap(ctx context.Context, o Options, s *session.Session, files []string) int {
	m, err := s.StartMap(o.Query)
	if err != nil {
		io.WriteString(o.Stderr, o.Prog+": "+err.Error()+"\n")
		s.Close()
		return ExitFatal
	}
	tm, err := match.New(o.red.q.TableRegex(), false, false)
	if o.red.q.TableRegex() == "." || err != nil {
		tm = match.NewAll()
	}
	mode := session.Cat
	if o.Mode == ModeTail {
		mode = session.Tail
	}
	readCtx := ctx
	if o.ServerTimeout > 0 {
		var cancel context.CancelFunc
		readCtx, cancel = context.WithTimeout(ctx, o.ServerTimeout)
		defer cancel()
	}
	mapDone := make(chan struct{})
	go func() {
		m.Run(ctx)
		close(mapDone)
	}()
	reduced := make(chan error, 1)
	go func() { reduced <- o.red.run(ctx, mapDone) }()
	var wg sync.WaitGroup
	for _, f := range files {
		wg.Go(func() {
			s.Read(readCtx, session.ReadRequest{Mode: mode, Glob: f, Matcher: tm, Plain: o.Plain, Window: o.Window})
		})
		if mode == session.Cat {
			// Like dcat, files are read in the order given.
			wg.Wait()
		}
	}
	wg.Wait()
	cause, cut := endCause(readCtx, mode == session.Tail)
	if cause == EndTimeout && o.ServerTimeout > 0 && ctx.Err() == nil {
		// dmap -timeout bounds each read by design, like on a server.
		cause, cut = "", false
	}
	if mode == session.Cat {
		m.Finish()
	}
	<-mapDone
	rerr := <-reduced
	werr := s.Close()
	rc := serverlessReceipt(o, s, cause, cut)
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
