package client

import (
	"bytes"
	"context"
	"errors"
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
	"github.com/dtail-go/dtail/internal/sshclient"
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
	// closeDrain bounds the wait for a DTail 4.x server to end the
	// connection after our close acknowledgement; it closes right away.
	closeDrain = 2 * time.Second
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
	// cmdFailed counts SERVER errors about commands the client sent;
	// failure is the first one's text, for the receipt.
	cmdFailed int
	failure   string
	// escaped: the server announced protocol.CapEscapeV1, so its REMOTE
	// messages carry 0xAC and 0xFF escaped.
	escaped bool
	// filtered counts empty SERVER messages: a DTail 4.x server whose log
	// level hides warnings still sends one per warning (spec 3.7).
	filtered int
	// lastErr suppresses repeating the same connect error on reconnects,
	// so a host is reported once per kind of failure.
	lastErr string
	// dialErr is the last connection error, for the receipt.
	dialErr string
	// receipt is the server's `.syn receipt`, if it sent one.
	receipt    protocol.Receipt
	gotReceipt bool
	// counts are --count/--files-with-matches results per source id.
	counts fileCounts
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
	// cancel ends the run early (--max-total reached); end records why
	// in endCause first (read after every connection ended).
	cancel   context.CancelFunc
	endOnce  sync.Once
	endCause string
	// chain is the output chain (chain.go), shared with serverless runs.
	chain *chain
	// serverPlain: the servers were asked for bare lines (interactive
	// sessions only); every other run asks for REMOTE headers.
	serverPlain atomic.Bool
	// bare: servers with escape-v1 send bare lines (protocol.OptBareLines).
	bare bool
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
		verb, regex = protocol.VerbGrep, protocol.SerializeRegex(o.Grep.Regex, o.Grep.Invert)
	case ModeTail:
		verb, regex = protocol.VerbTail, protocol.SerializeRegex(o.Grep.Regex, o.Grep.Invert)
	case ModeMap:
		verb = protocol.VerbCat
		if o.Map.Query == "" {
			fmt.Fprintf(o.Stderr, "%s: No mapreduce query specified, use '-query' flag\n", o.Prog)
			return ExitFatal
		}
	default:
		fmt.Fprintf(o.Stderr, "%s: this mode is not supported against servers yet\n", o.Prog)
		return ExitFatal
	}
	var q *query.Query
	if o.Map.Query != "" {
		var err error
		if q, err = parseQuery(o.Map.Query, o.Stderr, o.Prog, logformat.Default, o.Map.Plan); err != nil {
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
		log = logger.New(logger.Options{Level: logger.Info, Sink: logger.Stdout, Role: logger.Client, Stdout: o.Stderr})
	}

	rn := &remoteRun{o: o, r: r, log: log, out: out, colors: o.Output.Colors != nil && !o.Output.Plain && !o.Output.NDJSON, journal: hasJournalTarget(o.Files)}
	switch log.Sink() {
	case logger.Stdout:
		rn.toStdout = true
	case logger.FileAndStdout:
		rn.toStdout, rn.toLog = true, r.LogPayload
	case logger.File:
		rn.toLog = true
	}
	// Servers always send REMOTE headers, --plain strips them here: only
	// then can the client tell a server's warning from a log line, and
	// see the (empty) warnings a DTail 4.x server at a high log level
	// suppresses in plain mode altogether (spec 3.7).
	po := protocol.Options{Quiet: o.Output.Quiet, Before: o.Grep.Before, After: o.Grep.After, Max: o.Grep.Max}
	if o.Output.NDJSON {
		if po.Extra == nil {
			po.Extra = map[string]string{}
		}
		// Our servers add each line's byte offset; DTail 4.x servers
		// ignore the key and the objects carry no offset.
		po.Extra[protocol.OptOffsets] = "true"
	}
	if o.Grep.Count || o.Grep.FilesWithMatches {
		// Counting needs the REMOTE header to tell files apart on DTail
		// 4.x servers, which ignore the extra keys and send lines.
		po.Extra = map[string]string{protocol.OptCount: fmt.Sprint(o.Grep.Count), protocol.OptFilesWithMatches: fmt.Sprint(o.Grep.FilesWithMatches)}
	}
	po.Extra = windowOptions(po.Extra, o.Grep.Window)
	if po.Extra == nil {
		po.Extra = map[string]string{}
	}
	// Our servers then escape the delimiter byte in lines and names
	// (they announce protocol.CapEscapeV1); DTail 4.x ignores the key.
	po.Extra[protocol.OptEscape] = "true"
	// For plain output our servers may leave the REMOTE header out (and
	// keep it on SERVER messages): escaping makes bare lines unambiguous.
	// DTail 4.x servers ignore the key and send REMOTE lines.
	// grep's `--` separators need the line numbers of the headers.
	// Payload goes to stdout, the log file or both (spec §5.6.2); NDJSON
	// objects always go to stdout.
	cm := chainMode{remote: true, stop: func() { rn.end(EndMaxTotal) }, perLine: true, noColor: !rn.toStdout}
	if rn.toStdout || o.Output.NDJSON {
		cm.stdout = out
	}
	if rn.toLog && !o.Output.NDJSON {
		cm.log = log.Raw
	}
	rn.chain = newChain(o, cm)
	rn.bare = rn.chain.printer == printPlain && !rn.chain.seps && !rn.chain.count && rn.chain.merger == nil && q == nil && !r.Interactive
	if rn.bare {
		po.Extra[protocol.OptBareLines] = "true"
	}
	opts := po.Encode()
	if q != nil {
		rn.red = newReducer(o, q, out, func(w string) { log.Warn(w) })
		rn.commands = protocol.AppendFrame(rn.commands, protocol.MapCommand(opts, o.Map.Query))
	}
	for _, f := range o.Files {
		cmd := protocol.ReadCommand(verb, opts, f, regex)
		if q != nil && o.Map.ServerTimeout > 0 {
			// The reference sends query reads with -timeout like this,
			// without options (spec 5.1).
			cmd = protocol.TimeoutReadCommand(int(o.Map.ServerTimeout/time.Second), verb, f, regex)
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
		rn.serverPlain.Store(o.Output.Plain)
		if rn.ic = startInteractive(ctx, cancel, rn, q, r.ControlTTY); rn.ic == nil {
			return ExitPartial
		}
		defer rn.ic.close()
	}

	rn.cancel = cancel
	rn.started = time.Now()
	merger := rn.chain.merger
	states := make([]*serverState, len(r.Servers))
	var wg sync.WaitGroup
	for i, srv := range r.Servers {
		st := &serverState{srv: srv, name: srv.Name}
		if st.name == "" {
			st.name = srv.Addr()
		}
		states[i] = st
		if merger != nil {
			// Registered before any dial: a server not yet connected must
			// hold the merge back like one that is slow.
			merger.open(st.name)
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
					if merger != nil {
						merger.close(st.name)
					}
				}
				return
			}
			wg.Go(func() {
				rn.serve(ctx, st, slot)
				if merger != nil {
					merger.close(st.name)
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
		// A writer may be stuck on stdout (a paused pager): give up on
		// it, or the deferred flush would wait for it forever. The
		// states may still be written to; report what is certain.
		rn.out.Abandon()
		// No host is known to be complete.
		hosts := make([]hostReport, len(states))
		for i, st := range states {
			hosts[i] = hostReport{name: st.name, outcome: outcomeIncomplete}
		}
		return exitCode(runReceipt(rn.o, hosts, rn.endCause, false, rn.chain.altered.Load()))
	}
	if merger != nil {
		merger.flush()
	}
	if rn.endCause == "" && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		rn.endCause = EndTimeout
	}
	code := exitCode(rn.finishExtras(states))
	if err := <-reduced; err != nil {
		log.Error("Unable to write the mapreduce result", err.Error())
		if code == ExitOK {
			code = ExitPartial
		}
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
	return code
}

// end records why the run ends early (the first cause wins) and stops it.
func (rn *remoteRun) end(cause string) {
	rn.endOnce.Do(func() { rn.endCause = cause })
	rn.cancel()
}

// loop waits for the connections to end while printing the stats line and
// handling signals; it returns when the run should end.
func (rn *remoteRun) loop(ctx context.Context, cancel context.CancelFunc, done <-chan struct{}) {
	interval := orDefault(rn.r.StatsInterval, StatsInterval)
	window := orDefault(rn.r.InterruptWindow, InterruptWindow)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var mergeTick <-chan time.Time
	merger := rn.chain.merger
	if merger != nil {
		mt := time.NewTicker(merger.maxWait / 4)
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
			merger.tick()
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
				rn.end(signalName(sig))
				return
			}
			now := time.Now()
			if !lastInterrupt.IsZero() && now.Sub(lastInterrupt) <= window {
				rn.end(signalName(sig))
				return
			}
			lastInterrupt = now
			rn.printInterruptHint()
		case <-ticker.C:
			c := rn.connected.Load()
			if c != lastConnected && !rn.o.Output.Quiet {
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
	// stderr: stdout carries payload only.
	text := "Connection stats: " + s.Pairs()
	if rn.colors {
		b = rn.o.Output.Colors.Client.Client.AppendString(b, text)
	} else {
		b = append(b, ' ')
		b = append(b, text...)
	}
	b = append(b, '\n')
	rn.o.Stderr.Write(b)
}

// serve runs one server: a single session for cat/grep, sessions with
// back-off until ctx ends for tail.
func (rn *remoteRun) serve(ctx context.Context, st *serverState, slot *sshclient.Slot) {
	var backoff sshclient.Backoff
	attempt := 0
	// The stream keeps the server's separator, window and count state
	// across reconnects.
	w := rn.chain.stream()
	w.conn = st.name
	if rn.chain.count {
		w.counts = &st.counts
	}
	for {
		connected := rn.session(ctx, st, w, slot)
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

// session dials, sends the commands and prints the server's stream until
// the close handshake, the end of the connection or ctx. It reports
// whether the connection was established.
func (rn *remoteRun) session(ctx context.Context, st *serverState, w *stream, slot *sshclient.Slot) bool {
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
	// AUTHKEY waits for the server's capabilities: a DTail 4.3.2 server
	// does not know the command, answers it with an error and ends the
	// session before the reads. Every server that announces capabilities
	// knows AUTHKEY; the reads go out at once either way.
	authKey := rn.authKeyFrame()
	var werr error
	if len(commands) > 0 {
		_, werr = conn.Write(commands)
	}
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

	st.escaped = false
	var unescaped []byte
	// closed is armed once a DTail 4.x server sent its close.
	var closed *time.Timer
	defer func() {
		if closed != nil {
			closed.Stop()
		}
	}()
	for {
		var msg []byte
		var err error
		if pending != nil {
			msg, pending = pending, nil
		} else {
			msg, err = mr.Next()
		}
		if st.escaped && bytes.IndexByte(msg, protocol.EscapeByte) >= 0 {
			unescaped = protocol.AppendDelimUnescaped(unescaped[:0], msg)
			msg = unescaped
		}
		if rn.r.Progress {
			rn.received.Add(int64(len(msg) + 1))
		}
		if err != nil {
			if closed != nil {
				// The server ended the connection after our ack: done.
				closed.Stop()
				st.completed = true
				rn.finished.Add(1)
				return true
			}
			rn.connectionLost(ctx, st, err)
			return true
		}
		if closed != nil && !protocol.IsCloseConnection(msg) && (len(msg) == 0 || msg[0] != '.') {
			// More output after the close: the close was part of a log
			// line holding the delimiter byte (a DTail 4.x server does
			// not escape it); the rest of that line follows and is
			// counted as altered. Our ack may have ended the server's
			// session early: then the connection ends without a close
			// and the host is incomplete.
			closed.Stop()
			closed = nil
		}
		if rn.bare && st.escaped && (len(msg) == 0 || msg[0] != '.') && !bytes.HasPrefix(msg, []byte(protocol.ServerPrefix)) {
			// A bare line of our server (protocol.AppendBareLine).
			l := line{content: bytes.TrimPrefix(msg, []byte(protocol.BareLineMark)), off: -1, headerless: true}
			w.put(&l)
			continue
		}
		kind := protocol.KindDisplay
		if !bytes.HasPrefix(msg, []byte(protocol.RemotePrefix)) {
			// A log line ending in "|AUTHKEY OK" is still a log line.
			kind = protocol.Classify(msg)
		}
		switch kind {
		case protocol.KindHidden:
			if authKey != nil && protocol.IsCapabilities(msg) {
				if _, err := conn.Write(authKey); err != nil {
					rn.log.Debug(st.name, "unable to send the auth key", err.Error())
				}
				authKey = nil
			}
			if ib != nil {
				ib.hidden(msg)
			}
			rn.hiddenExtra(st, w, msg)
			if protocol.IsCloseConnection(msg) {
				if !st.escaped && rn.o.Mode == ModeTail {
					// A DTail 4.x tail never ends on its own (spec
					// 3.9): this close is the middle of a log line
					// holding the delimiter byte. No ack: it would end
					// the server's session and lose every later line.
					rn.chain.altered.Add(1)
					continue
				}
				if _, err := io.WriteString(conn, protocol.AckCloseConnectionFrame); err != nil {
					rn.log.Debug(st.name, "unable to acknowledge the close", err.Error())
				}
				if st.escaped {
					// Our server's close cannot be forged: done.
					st.completed = true
					rn.finished.Add(1)
					return true
				}
				// From a DTail 4.x server a log line can forge the close
				// message: read on until the server ends the connection
				// after our ack (at most closeDrain).
				if closed == nil {
					closed = time.AfterFunc(closeDrain, func() { conn.Close() })
				}
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
			if _, text, ok := protocol.SplitServerMessage(msg); ok {
				rn.notice(st, text)
				rn.diag(w, msg)
				continue
			}
			if bytes.HasPrefix(msg, []byte(protocol.ServerPrefix)) {
				rn.diag(w, msg) // a SERVER message without a level
				continue
			}
			rn.payload(st, w, msg)
		}
	}
}

// payload hands a server's payload message to the output chain: a
// REMOTE line, a line of an interactive plain session, or the rest of a
// line a DTail 4.x server cut.
func (rn *remoteRun) payload(st *serverState, w *stream, msg []byte) {
	if rn.serverPlain.Load() && unreadableWarning(msg) {
		st.unreadable++
	}
	// l is a local value filled in place: no copies, no write barriers
	// (this is the client's per-line path).
	var l line
	l.off = -1
	if rl, ok := protocol.ParseRemoteLine(msg); ok {
		l.host, l.percent, l.id, l.noText, l.content = rl.Host, rl.Percent, rl.SourceID, rl.LineNo, rl.Content
	} else {
		l.content, l.headerless = msg, true
		// Neither a line nor a server message: the rest of a line that
		// held the delimiter byte, cut off by a DTail 4.x server (unless
		// an interactive session asked for plain lines). It is printed as
		// the 4.x client would, and counted as altered.
		l.altered = !rn.serverPlain.Load()
	}
	if rn.o.Grep.Window != nil && w.tw == nil {
		// No capabilities message at all: an old server.
		rn.windowCapabilities(st, w, nil)
	}
	if w.direct {
		w.print(&l)
		return
	}
	w.put(&l)
}

// notice records what a SERVER message says about the run: the exit code
// and the receipt come from this classification, at any server log level.
func (rn *remoteRun) notice(st *serverState, text []byte) {
	switch protocol.ClassifyNotice(text) {
	case protocol.NoticeUnreadable:
		st.unreadable++
	case protocol.NoticeCommandFailed:
		st.cmdFailed++
		if st.failure == "" {
			st.failure = string(bytes.TrimSpace(text))
		}
	case protocol.NoticeFiltered:
		st.filtered++
	}
}

// authKeyFrame is the AUTHKEY frame, sent once the server announced its
// capabilities (spec 5.5), nil without one. The .pub file is read once per
// run: reading it per connection cost 64 KiB of scanner buffer for each of
// 10,000 hosts.
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

// diag writes a SERVER message to stderr, escaped, as one line.
func (rn *remoteRun) diag(w *stream, msg []byte) {
	w.scratch = protocol.AppendEscaped(w.scratch[:0], bytes.TrimSuffix(msg, []byte{'\n'}))
	w.scratch = append(w.scratch, '\n')
	if rn.toLog {
		rn.log.Raw(w.scratch)
	}
	rn.o.Stderr.Write(w.scratch)
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
