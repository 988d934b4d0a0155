package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dtail-go/dtail/internal/logformat"
	"github.com/dtail-go/dtail/internal/logger"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/query"
	"github.com/dtail-go/dtail/internal/session"
	"github.com/dtail-go/dtail/internal/sshclient"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// Timings of spec §5.7.
const (
	// StatsInterval is how often the connected count is compared; a stats
	// line is logged only when it changed.
	StatsInterval = 3 * time.Second
	// InterruptWindow is how long a second Ctrl+C ends the run.
	InterruptWindow = 3 * time.Second
	// drainTimeout bounds the wait for the connection goroutines once the
	// run was told to stop, so a wedged write cannot keep the client alive.
	drainTimeout = 5 * time.Second
)

// Remote is what a run against DTail servers needs besides Options.
type Remote struct {
	// Servers is the resolved, de-duplicated and shuffled server list.
	Servers []sshclient.Server
	// Dialer carries user, signers, known_hosts, connect timeout and the
	// connect throttle (cpc × NumCPU).
	Dialer *sshclient.Dialer
	// AuthKeyPath is the private auth key; "<AuthKeyPath>.pub" is registered
	// with AUTHKEY on every connection unless NoAuthKey (spec §5.5).
	AuthKeyPath string
	NoAuthKey   bool
	// Logger receives the client diagnostics (CLIENT|host|LEVEL|…). Its
	// sink also decides where payload goes: stdout for stdout/fout, the log
	// file for file, nowhere for none (spec §5.6.2). nil logs INFO to
	// Options.Stdout.
	Logger *logger.Logger
	// LogPayload also writes the payload to the log file (-log-payload).
	LogPayload bool
	// ShutdownAfter ends the run after this long (0: never); Options.Timeout
	// does the same, the earlier one wins.
	ShutdownAfter time.Duration
	// Signals delivers SIGINT/SIGTERM/SIGHUP/SIGQUIT; nil ignores signals.
	Signals <-chan os.Signal
	// Interactive enables :reload control through ControlTTY (default
	// /dev/tty) with SESSION START/UPDATE (spec 5.11).
	Interactive bool
	ControlTTY  string

	// StatsInterval and InterruptWindow override the spec's 3 s (tests).
	StatsInterval   time.Duration
	InterruptWindow time.Duration
	// Progress keeps a status line (connected/total, done, MB/s, hosts
	// still running) below the output; only for a terminal.
	Progress bool

	// Coalesce, if set, takes every REMOTE line instead of printing it
	// (--coalesce); the caller prints its summary.
	Coalesce *Coalescer

	// ReconnectDelay returns the wait before the attempt-th consecutive
	// reconnect of a tail run; nil uses sshclient.Backoff (2 s doubling to
	// 60 s, ±20 %).
	ReconnectDelay func(attempt int) time.Duration
}

// serverState is owned by one server's goroutine until the run has
// collected it after that goroutine ended.
type serverState struct {
	srv  sshclient.Server
	name string
	// completed: the close handshake was done (cat/grep).
	completed bool
	// failed: unreachable, authentication or host key failure, or the
	// connection ended without the close handshake.
	failed bool
	// unreadable counts WARN "Unable to read file(s)" messages.
	unreadable int
	// lastErr suppresses repeating the same connect error on reconnects,
	// so a host is reported once per kind of failure.
	lastErr string
	// dialErr is the last connection error, for the receipt.
	dialErr string
	// receipt is the server's `.syn receipt`, if it sent one.
	receipt    session.Receipt
	gotReceipt bool
	// counts are --count/--files-with-matches results per source id.
	counts map[string]uint64
	// tw filters lines by time for servers without time windows.
	tw *clientWindow
	// refused: the server cannot read journal targets; not retried.
	refused bool
}

type remoteRun struct {
	o        Options
	r        Remote
	log      *logger.Logger
	out      *Output
	toStdout bool
	toLog    bool
	colors   bool
	// commands are the encoded command frames of every connection.
	commands []byte
	// red reduces AGGREGATE messages of a mapreduce run; nil otherwise.
	red *reducer
	// cancel ends the run early (--max-total reached).
	cancel  context.CancelFunc
	matches atomic.Int64
	// merger orders lines by timestamp across hosts (--merge-by-time).
	merger *timeMerger
	// ts parses timestamps for --output ndjson.
	tsMu sync.Mutex
	ts   *timewindow.Extractor
	// progress counters: finished servers, bytes received, and the
	// servers connected but not finished.
	finished atomic.Int64
	received atomic.Int64
	running  sync.Map
	started  time.Time
	// ic is the interactive query control; nil otherwise.
	ic *interactiveControl
	// journal: some target is `journal:UNIT`, which needs the server's
	// journal-v1 capability before anything is sent.
	journal bool

	connected atomic.Int64
	dialing   atomic.Int64
	newConns  atomic.Int64

	authKeyOnce sync.Once
	authKey     []byte
}

// RunRemote connects to every server of r, sends the read commands of o and
// prints what the servers send until all of them finished (cat, grep) or
// ctx, the deadline or a signal ends the run (tail). It returns the exit
// code: 0 when every server completed without reporting an unreadable
// file, 1 when a server was unreachable, failed authentication or the host
// key check, ended without the close handshake or reported an unreadable
// file, 2 for setup errors.
func RunRemote(ctx context.Context, o Options, r Remote) int {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	var verb, regex string
	switch o.Mode {
	case ModeCat:
		verb, regex = protocol.VerbCat, protocol.NoopRegex
	case ModeGrep:
		verb, regex = protocol.VerbGrep, protocol.SerializeRegex(o.Regex, o.Invert)
	case ModeTail:
		verb, regex = protocol.VerbTail, protocol.SerializeRegex(o.Regex, o.Invert)
	case ModeMap:
		verb = protocol.VerbCat
		if o.Query == "" {
			fmt.Fprintf(o.Stderr, "%s: No mapreduce query specified, use '-query' flag\n", o.Prog)
			return ExitFatal
		}
	default:
		fmt.Fprintf(o.Stderr, "%s: this mode is not supported against servers yet\n", o.Prog)
		return ExitFatal
	}
	var q *query.Query
	if o.Query != "" {
		var err error
		if q, err = parseQuery(o.Query, o.Stderr, o.Prog, logformat.Default, o.Plan); err != nil {
			fmt.Fprintf(o.Stderr, "%s: %v\n", o.Prog, err)
			return ExitFatal
		}
		regex = protocol.SerializeRegex(q.TableRegex(), false)
	}
	if r.Dialer == nil {
		fmt.Fprintf(o.Stderr, "%s: no SSH dialer configured\n", o.Prog)
		return ExitFatal
	}
	if len(o.Files) == 0 {
		fmt.Fprintf(o.Stderr, "%s: no files given, use '-files'\n", o.Prog)
		return ExitFatal
	}
	if len(r.Servers) == 0 {
		fmt.Fprintf(o.Stderr, "%s: no servers given\n", o.Prog)
		return ExitFatal
	}

	out, ok := o.Stdout.(*Output)
	if !ok {
		out = NewOutput(o.Stdout)
		defer out.Close()
	} else {
		// The caller owns it but the final flush belongs to the run.
		defer out.Flush()
	}
	log := r.Logger
	if log == nil {
		log = logger.New(logger.Options{Level: logger.Info, Sink: logger.Stdout, Role: logger.Client, Stdout: out})
	}

	rn := &remoteRun{o: o, r: r, log: log, out: out, colors: o.Colors != nil && !o.Plain && !o.NDJSON, journal: hasJournalTarget(o.Files)}
	switch log.Sink() {
	case logger.Stdout:
		rn.toStdout = true
	case logger.FileAndStdout:
		rn.toStdout, rn.toLog = true, r.LogPayload
	case logger.File:
		rn.toLog = true
	}
	po := protocol.Options{Quiet: o.Quiet, Plain: o.Plain, Before: o.Before, After: o.After, Max: o.Max}
	if o.MergeByTime {
		po.Plain = false // the merge needs each line's host and file
	}
	if o.NDJSON {
		if po.Extra == nil {
			po.Extra = map[string]string{}
		}
		// Our servers add each line's byte offset; DTail 4.x servers
		// ignore the key and the objects carry no offset.
		po.Extra[session.OptOffsets] = "true"
	}
	if o.Count || o.FilesWithMatches {
		// Counting needs the REMOTE header to tell files apart on DTail
		// 4.x servers, which ignore the extra keys and send lines.
		po.Plain = false
		po.Extra = map[string]string{session.OptCount: fmt.Sprint(o.Count), session.OptFilesWithMatches: fmt.Sprint(o.FilesWithMatches)}
	}
	po.Extra = session.WindowOptions(po.Extra, o.Window)
	opts := po.Encode()
	if q != nil {
		rn.red = newReducer(o, q, out, func(w string) { log.Warn(w) })
		rn.commands = protocol.AppendFrame(rn.commands, protocol.MapCommand(opts, o.Query))
	}
	for _, f := range o.Files {
		cmd := protocol.ReadCommand(verb, opts, f, regex)
		if q != nil && o.ServerTimeout > 0 {
			// The reference sends query reads with -timeout like this,
			// without options (spec 5.1).
			cmd = protocol.TimeoutReadCommand(int(o.ServerTimeout/time.Second), verb, f, regex)
		}
		rn.commands = protocol.AppendFrame(rn.commands, cmd)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, d := range []time.Duration{o.Timeout, r.ShutdownAfter} {
		if d > 0 {
			var c context.CancelFunc
			ctx, c = context.WithTimeout(ctx, d)
			defer c()
		}
	}
	if r.Interactive {
		if rn.ic = startInteractive(ctx, cancel, rn, q, r.ControlTTY); rn.ic == nil {
			return ExitPartial
		}
		defer rn.ic.close()
	}

	rn.cancel = cancel
	rn.started = time.Now()
	if o.MergeByTime {
		mw := &sessionWriter{}
		// The merger's lock serialises its output, so one scratch writer
		// serves every connection.
		plain := o.Plain
		rn.merger = newTimeMerger(o.MergeWindow, func(msg []byte) {
			if plain {
				// The servers were asked for REMOTE headers (to know each
				// line's source); the user asked for bare lines.
				if rl, ok := protocol.ParseRemoteLine(msg); ok {
					msg = rl.Content
				}
			}
			rn.print(mw, msg)
		})
	}
	states := make([]*serverState, len(r.Servers))
	var wg sync.WaitGroup
	for i, srv := range r.Servers {
		st := &serverState{srv: srv, name: srv.Name}
		if st.name == "" {
			st.name = srv.Addr()
		}
		states[i] = st
		if rn.merger != nil {
			// Registered before any dial: a server not yet connected must
			// hold the merge back like one that is slow.
			rn.merger.open(st.name)
		}
	}
	// A server's goroutine starts once a connection slot is free: parked
	// on the throttle, 10,000 goroutines' stacks were a third of the
	// client's memory.
	r.Dialer.Expect(len(states))
	wg.Go(func() {
		for i, st := range states {
			slot, err := r.Dialer.Admit(ctx)
			if err != nil {
				// The run ended before these servers were dialled.
				r.Dialer.Expect(-(len(states) - i))
				for _, st := range states[i:] {
					if rn.merger != nil {
						rn.merger.close(st.name)
					}
				}
				return
			}
			wg.Go(func() {
				rn.serve(ctx, st, slot)
				if rn.merger != nil {
					rn.merger.close(st.name)
				}
			})
		}
	})
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	reduced := make(chan error, 1)
	if rn.red != nil {
		go func() { reduced <- rn.red.run(ctx, done) }()
	} else {
		reduced <- nil
	}

	rn.loop(ctx, cancel, done)

	select {
	case <-done:
	case <-time.After(drainTimeout):
		log.Warn("Some connections did not end in time, exiting anyway")
		// The states may still be written to; report what is certain.
		return ExitPartial
	}
	if rn.merger != nil {
		rn.merger.flush()
	}
	rn.finishExtras(states)
	code := ExitOK
	if err := <-reduced; err != nil {
		log.Error("Unable to write the mapreduce result", err.Error())
		code = ExitPartial
	}
	if rn.red != nil && code == ExitOK {
		var skipped int64
		for _, st := range states {
			skipped += st.receipt.LinesSkipped
		}
		if rn.red.finish(skipped) {
			code = ExitPartial
		}
	}
	for _, st := range states {
		if st.failed || st.unreadable > 0 || st.receipt.FilesSkipped > 0 {
			code = ExitPartial
		}
		if st.unreadable > 0 {
			log.Debug(st.name, "servers reported unreadable files", st.unreadable)
		}
	}
	return code
}

// loop waits for the connections to end while printing the stats line and
// handling signals; it returns when the run should end.
func (rn *remoteRun) loop(ctx context.Context, cancel context.CancelFunc, done <-chan struct{}) {
	interval := orDefault(rn.r.StatsInterval, StatsInterval)
	window := orDefault(rn.r.InterruptWindow, InterruptWindow)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var mergeTick <-chan time.Time
	if rn.merger != nil {
		mt := time.NewTicker(rn.merger.maxWait / 4)
		defer mt.Stop()
		mergeTick = mt.C
	}
	var progress <-chan time.Time
	if rn.r.Progress {
		pt := time.NewTicker(progressInterval)
		defer pt.Stop()
		progress = pt.C
		defer rn.out.SetStatus("")
	}
	var lastConnected int64
	var lastInterrupt time.Time
	for {
		select {
		case <-progress:
			rn.out.SetStatus(rn.progressLine())
		case <-mergeTick:
			rn.merger.tick()
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-rn.out.Failed():
			// Nobody reads our output any more (e.g. `dcat … | head`).
			cancel()
			return
		case sig := <-rn.r.Signals:
			if sig != os.Interrupt && sig != syscall.SIGINT {
				cancel()
				return
			}
			now := time.Now()
			if !lastInterrupt.IsZero() && now.Sub(lastInterrupt) <= window {
				cancel()
				return
			}
			lastInterrupt = now
			rn.printInterruptHint()
		case <-ticker.C:
			c := rn.connected.Load()
			if c != lastConnected && !rn.o.Quiet {
				rn.log.Info(rn.stats(true).Args()...)
			}
			lastConnected = c
		}
	}
}

// stats samples the connection counters; the periodic line consumes the
// count of new connections, the Ctrl+C line only shows it.
func (rn *remoteRun) stats(consumeNew bool) logger.ClientStats {
	n := rn.newConns.Load()
	if consumeNew {
		n = rn.newConns.Swap(0)
	}
	return logger.ClientStats{
		Connected:  int(rn.connected.Load()),
		Servers:    len(rn.r.Servers),
		New:        int(n),
		Throttle:   int(rn.dialing.Load()),
		Goroutines: runtime.NumGoroutine(),
		CgoCalls:   runtime.NumCgoCall(),
		CPU:        runtime.NumCPU(),
	}
}

// printInterruptHint prints the two lines of the first Ctrl+C (spec §5.7).
// Unlike the reference it does not hold the output for 3 s afterwards.
func (rn *remoteRun) printInterruptHint() {
	s := rn.stats(false)
	var b []byte
	b = append(b, " Hint: Hit Ctrl+C again to exit\n"...)
	text := "Connection stats: " + s.Pairs()
	if rn.colors {
		b = rn.o.Colors.Client.Client.AppendString(b, text)
	} else {
		b = append(b, ' ')
		b = append(b, text...)
	}
	b = append(b, '\n')
	rn.out.Write(b)
	rn.out.Flush()
}

// serve runs one server: a single session for cat/grep, sessions with
// back-off until ctx ends for tail.
func (rn *remoteRun) serve(ctx context.Context, st *serverState, slot *sshclient.Slot) {
	var backoff sshclient.Backoff
	attempt := 0
	var w sessionWriter
	for {
		connected := rn.session(ctx, st, &w, slot)
		slot = nil
		if rn.o.Mode != ModeTail || ctx.Err() != nil || st.refused {
			return
		}
		if connected {
			attempt = 0
			backoff.Reset()
		}
		attempt++
		var d time.Duration
		if rn.r.ReconnectDelay != nil {
			d = rn.r.ReconnectDelay(attempt)
		} else {
			d = backoff.Next()
		}
		rn.log.Debug(st.name, "reconnecting in", d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// sessionWriter holds one goroutine's reusable line buffers.
type sessionWriter struct {
	line, painted []byte
}

// session dials, sends the commands and prints the server's stream until
// the close handshake, the end of the connection or ctx. It reports
// whether the connection was established.
func (rn *remoteRun) session(ctx context.Context, st *serverState, w *sessionWriter, slot *sshclient.Slot) bool {
	rn.dialing.Add(1)
	conn, err := rn.r.Dialer.DialSlot(ctx, st.srv, slot)
	if err != nil {
		rn.dialing.Add(-1)
		if ctx.Err() != nil {
			return false // the run ended; not this server's fault
		}
		st.failed = true
		st.dialErr = err.Error()
		if msg := err.Error(); msg != st.lastErr {
			st.lastErr = msg
			rn.log.Warn(st.name, msg)
		}
		return false
	}
	st.lastErr = ""
	rn.connected.Add(1)
	rn.newConns.Add(1)
	defer rn.connected.Add(-1)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()

	mr := protocol.NewMessageReader(conn, 0)
	var pending []byte
	if rn.journal {
		first, ok := rn.awaitJournalCapability(ctx, st, mr, func() { conn.Close() })
		if !ok {
			conn.Release()
			rn.dialing.Add(-1)
			return true
		}
		pending = first
	}
	commands := rn.commands
	if rn.ic != nil {
		commands = nil // SESSION START or the legacy stream follows the capabilities
	}
	frames := commands
	if ak := rn.authKeyFrame(); ak != nil {
		frames = append(ak[:len(ak):len(ak)], commands...)
	}
	_, werr := conn.Write(frames)
	conn.Release()
	rn.dialing.Add(-1)
	if werr != nil {
		rn.connectionLost(ctx, st, werr)
		return true
	}

	var ib *iconn
	if rn.ic != nil {
		ib = rn.ic.attach(st.name, conn)
		defer rn.ic.detach(ib)
	}
	rn.running.Store(st.name, true)
	defer rn.running.Delete(st.name)

	for {
		var msg []byte
		var err error
		if pending != nil {
			msg, pending = pending, nil
		} else {
			msg, err = mr.Next()
		}
		if rn.r.Progress {
			rn.received.Add(int64(len(msg) + 1))
		}
		if err != nil {
			rn.connectionLost(ctx, st, err)
			return true
		}
		switch protocol.Classify(msg) {
		case protocol.KindHidden:
			if ib != nil {
				ib.hidden(msg)
			}
			rn.hiddenExtra(st, msg)
			if protocol.IsCloseConnection(msg) {
				if _, err := io.WriteString(conn, protocol.AckCloseConnectionFrame); err != nil {
					rn.log.Debug(st.name, "unable to acknowledge the close", err.Error())
				}
				st.completed = true
				rn.finished.Add(1)
				return true
			}
		case protocol.KindAuthKeyOK:
			rn.log.Debug(st.name, "AUTHKEY registered")
		case protocol.KindAuthKeyErr:
			detail, _ := protocol.AuthKeyErrDetail(msg)
			rn.log.Warn(st.name, "AUTHKEY registration failed", detail)
		case protocol.KindAggregate:
			if rn.red != nil {
				rn.red.merge(msg)
			}
		default:
			if unreadableWarning(msg) {
				st.unreadable++
			}
			if rn.outsideWindow(st, msg) {
				continue
			}
			if rn.countRemote(st, msg) {
				continue
			}
			if !rn.takeLine() {
				continue // messages still buffered when --max-total hit
			}
			if rn.merger != nil {
				rn.merger.add(st.name, msg)
				continue
			}
			rn.print(w, msg)
		}
	}
}

// authKeyFrame is the AUTHKEY frame sent first on every connection (spec
// 5.5), nil without one. The .pub file is read once per run: reading it per
// connection cost 64 KiB of scanner buffer for each of 10,000 hosts.
func (rn *remoteRun) authKeyFrame() []byte {
	rn.authKeyOnce.Do(func() {
		if rn.r.NoAuthKey || rn.r.AuthKeyPath == "" {
			return
		}
		b64, err := sshclient.ReadAuthKeyPub(rn.r.AuthKeyPath)
		if err != nil {
			rn.log.Debug("not registering the auth key", err.Error())
			return
		}
		rn.authKey = protocol.AppendFrame(nil, protocol.AuthKeyCommand(b64))
	})
	return rn.authKey
}

// connectionLost handles a session that ended without the close handshake.
func (rn *remoteRun) connectionLost(ctx context.Context, st *serverState, err error) {
	if ctx.Err() != nil {
		return // we closed it
	}
	if rn.o.Mode == ModeTail {
		// Expected to happen now and then; serve reconnects.
		rn.log.Warn(st.name, "connection lost", errText(err))
		return
	}
	st.failed = true
	rn.log.Warn(st.name, "connection ended before the server finished", errText(err))
}

func errText(err error) string {
	if err == io.EOF {
		return "EOF"
	}
	return err.Error()
}

// print writes one displayed message as a line: "\n" appended when
// missing, painted when colours are on, in a single Write so that lines
// of different servers never mix.
func (rn *remoteRun) print(w *sessionWriter, msg []byte) {
	if rn.r.Coalesce != nil && rn.r.Coalesce.Message(msg) {
		return
	}
	if rn.o.NDJSON {
		if rl, ok := protocol.ParseRemoteLine(msg); ok {
			w.line = rn.ndjsonLine(w.line[:0], rl)
			rn.out.Write(w.line)
			return
		}
		// Only JSON goes to stdout, so jq can read it; server
		// messages are diagnostics.
		line := append(w.line[:0], msg...)
		if len(line) == 0 || line[len(line)-1] != '\n' {
			line = append(line, '\n')
		}
		w.line = line
		rn.o.Stderr.Write(line)
		return
	}
	w.line = append(w.line[:0], msg...)
	if len(w.line) == 0 || w.line[len(w.line)-1] != '\n' {
		w.line = append(w.line, '\n')
	}
	if rn.toLog {
		rn.log.Raw(w.line)
	}
	if !rn.toStdout {
		return
	}
	b := w.line
	if rn.colors {
		w.painted = rn.o.Colors.AppendLine(w.painted[:0], w.line)
		b = w.painted
	}
	rn.out.Write(b)
	// Long lines would otherwise pin large buffers for the whole run.
	if cap(w.line) > 4<<20 {
		w.line, w.painted = nil, nil
	}
}

const (
	unreadableText = "Unable to read file(s)"
	warnPrefix     = "WARN|"
	warnField      = "|WARN|"
)

// unreadableWarning recognises the server's WARN "Unable to read file(s)"
// both with the SERVER|host| header and in plain mode.
func unreadableWarning(msg []byte) bool {
	i := bytes.Index(msg, []byte(unreadableText))
	if i < 0 {
		return false
	}
	head := msg[:i]
	if bytes.HasPrefix(head, []byte(warnPrefix)) {
		return true
	}
	if !bytes.HasPrefix(head, []byte(protocol.ServerPrefix)) {
		return false
	}
	// SERVER|host|WARN|… : the level is the third field.
	rest := head[len(protocol.ServerPrefix):]
	j := bytes.IndexByte(rest, '|')
	return j >= 0 && bytes.HasPrefix(rest[j:], []byte(warnField))
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
