package client

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/logformat"
	"github.com/dtail-go/dtail/internal/mapr"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/query"
)

// Interactive query control (spec 5.11): a control TTY drives SESSION
// START/UPDATE on every connection.
const (
	capsWait = 250 * time.Millisecond
	ackWait  = 2 * time.Second

	// The texts of spec 5.11.
	InteractiveEnabledText = "Interactive query control enabled. Commands: :reload <flags>, :show, :help, :quit"
	InteractiveHelpText    = `Commands: :reload <flags>, :show, :help, :quit. Use quotes around multi-word values such as --query "select count(status) from stats".`
	bootstrapFallbackText  = "Interactive session bootstrap unsupported, falling back to legacy commands"
)

// interactiveControl is the client side of one interactive run.
type interactiveControl struct {
	rn     *remoteRun
	cancel context.CancelFunc
	tty    *os.File
	// msg receives the control messages: the TTY when it is a terminal,
	// else the client output (a FIFO as control "TTY" would read them
	// back as commands).
	msg io.Writer

	// mu serialises session starts and reloads; it guards spec, conns
	// and the connections' generation state.
	mu    sync.Mutex
	spec  protocol.SessionSpec
	conns map[*iconn]struct{}
}

// iconn is one connection's interactive state.
type iconn struct {
	name    string
	w       io.Writer
	capsCh  chan []string
	closed  chan struct{}
	legacy  []byte // frames of the legacy command stream
	capable bool
	gen     uint64
	spec    protocol.SessionSpec

	// wmu orders writes and the acks they wait for: a server answers
	// SESSION commands one by one, in order.
	wmu     sync.Mutex
	waiters []chan protocol.SessionAck
}

// sessionSpec is the spec of the run's initial command line.
func sessionSpec(o Options, q *query.Query) protocol.SessionSpec {
	spec := protocol.SessionSpec{
		Files:       append([]string(nil), o.Files...),
		Options:     protocol.Options{Quiet: o.Output.Quiet, Plain: o.Output.Plain, Before: o.Grep.Before, After: o.Grep.After, Max: o.Grep.Max}.Encode(),
		Regex:       o.Grep.Regex,
		RegexInvert: o.Grep.Invert,
	}
	switch o.Mode {
	case ModeTail:
		spec.Mode = protocol.ModeTail
	case ModeCat:
		spec.Mode, spec.Regex, spec.RegexInvert = protocol.ModeCat, "", false
	case ModeGrep:
		spec.Mode = protocol.ModeGrep
	case ModeMap:
		spec.Mode = protocol.ModeMap
	}
	if q != nil {
		spec.Query = o.Map.Query
		spec.Regex, spec.RegexInvert = q.TableRegex(), false
		spec.Timeout = int(o.Map.ServerTimeout / time.Second)
	}
	return spec
}

// startInteractive opens the control TTY and starts reading commands.
// It returns nil when the TTY cannot be opened (exit 1).
func startInteractive(ctx context.Context, cancel context.CancelFunc, rn *remoteRun, q *query.Query, path string) *interactiveControl {
	if path == "" {
		path = "/dev/tty"
	}
	tty, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintf(rn.o.Stderr, "%s: unable to open control tty: %v\n", rn.o.Prog, err)
		return nil
	}
	ic := &interactiveControl{rn: rn, cancel: cancel, tty: tty, msg: rn.out, spec: sessionSpec(rn.o, q), conns: map[*iconn]struct{}{}}
	if fi, err := tty.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		ic.msg = tty
	}
	ic.say(InteractiveEnabledText)
	go ic.readLoop(ctx)
	return ic
}

func (ic *interactiveControl) close() { ic.tty.Close() }

func (ic *interactiveControl) say(text string) {
	io.WriteString(ic.msg, text+"\n")
	if f, ok := ic.msg.(interface{ Flush() error }); ok {
		f.Flush()
	}
}

func (ic *interactiveControl) readLoop(ctx context.Context) {
	sc := bufio.NewScanner(ic.tty)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		if ctx.Err() != nil {
			return
		}
		if ic.command(sc.Text()) {
			return
		}
	}
}

// command runs one TTY line; it reports whether the run ends.
func (ic *interactiveControl) command(line string) bool {
	line = strings.TrimSpace(line)
	if line == "" {
		return false
	}
	name, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch name {
	case ":help", ":show", ":quit":
		if rest != "" {
			ic.say("interactive query error: unexpected arguments: " + rest)
			return false
		}
	}
	switch name {
	case ":help":
		ic.say(InteractiveHelpText)
	case ":show":
		ic.say(ic.show())
	case ":quit":
		ic.say("quitting interactive session")
		ic.cancel()
		return true
	case ":reload":
		args, err := shellSplit(rest)
		if err != nil {
			ic.say("interactive query error: " + err.Error())
			return false
		}
		ic.reload(args)
	default:
		ic.say(fmt.Sprintf("interactive query error: unknown command %q", name))
	}
	return false
}

func (ic *interactiveControl) show() string {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	capable := 0
	for c := range ic.conns {
		if c.capable {
			capable++
		}
	}
	s := ic.spec
	return fmt.Sprintf("mode=%s files=%s query=%q regex=%q options=%q timeout=%d capable=%d/%d",
		s.Mode, strings.Join(s.Files, ","), s.Query, s.Regex, s.Options, s.Timeout, capable, len(ic.rn.r.Servers))
}

// reload applies :reload flags to every connection, or to none.
func (ic *interactiveControl) reload(args []string) {
	if len(args) == 0 {
		ic.say("interactive query error: reload requires flags to change")
		return
	}
	ic.mu.Lock()
	defer ic.mu.Unlock()
	apply := ic.applyFlags
	if ic.rn.o.Map.ReloadParse != nil {
		apply = ic.applyReload // the binary's own flags (reload.go)
	}
	spec, q, err := apply(ic.spec, args)
	if err != nil {
		ic.say("interactive query error: " + err.Error())
		return
	}
	conns := make([]*iconn, 0, len(ic.conns))
	var unsupported []string
	for c := range ic.conns {
		conns = append(conns, c)
		if !c.capable {
			unsupported = append(unsupported, c.name)
		}
	}
	sort.Slice(conns, func(i, j int) bool { return conns[i].name < conns[j].name })
	sort.Strings(unsupported)
	switch {
	case len(unsupported) > 0:
		ic.say("reload failed: runtime query updates unsupported by server: " + strings.Join(unsupported, ", "))
		return
	case len(conns) == 0:
		ic.say("reload failed: no server connected")
		return
	}
	var updated []*iconn
	for _, c := range conns {
		prev := c.spec
		if err := c.update(c.gen+1, spec); err != nil {
			for _, u := range updated {
				if rerr := u.update(u.gen+1, prev); rerr != nil {
					ic.rn.log.Warn(u.name, "unable to restore the previous session", rerr.Error())
				}
			}
			ic.say(fmt.Sprintf("reload failed: %s: %v", c.name, err))
			return
		}
		updated = append(updated, c)
	}
	ic.spec = spec
	if ic.rn.red != nil && q != nil {
		ic.rn.red.reset(spec.Query, q)
	}
	ic.say("reload applied successfully")
}

// applyFlags returns spec changed by the :reload flags allowed for the run.
func (ic *interactiveControl) applyFlags(spec protocol.SessionSpec, args []string) (protocol.SessionSpec, *query.Query, error) {
	opts, err := protocol.DecodeOptions(spec.Options)
	if err != nil {
		return spec, nil, err
	}
	fs := flag.NewFlagSet(":reload", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	files := fs.String("files", strings.Join(spec.Files, ","), "")
	fs.BoolVar(&opts.Plain, "plain", opts.Plain, "")
	fs.BoolVar(&opts.Quiet, "quiet", opts.Quiet, "")
	timeout := fs.Int("timeout", spec.Timeout, "")
	var regex, rawQuery string
	isQuery := spec.Query != ""
	readFlags := !isQuery && (spec.Mode == protocol.ModeTail || spec.Mode == protocol.ModeGrep)
	if readFlags {
		fs.StringVar(&regex, "regex", spec.Regex, "")
		fs.StringVar(&regex, "grep", spec.Regex, "")
		fs.BoolVar(&spec.RegexInvert, "invert", spec.RegexInvert, "")
		fs.IntVar(&opts.Before, "before", opts.Before, "")
		fs.IntVar(&opts.After, "after", opts.After, "")
		fs.IntVar(&opts.Max, "max", opts.Max, "")
	}
	if isQuery {
		fs.StringVar(&rawQuery, "query", spec.Query, "")
	}
	if err := fs.Parse(args); err != nil {
		return spec, nil, err
	}
	if fs.NArg() > 0 {
		return spec, nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	for _, n := range []int{opts.Before, opts.After, opts.Max, *timeout} {
		if n < 0 {
			return spec, nil, errors.New("negative values are not allowed")
		}
	}
	spec.Files = protocol.SplitFiles(*files)
	if len(spec.Files) == 0 {
		return spec, nil, errors.New("no files given")
	}
	spec.Options = opts.Encode()
	// Interactive sessions let the servers drop the REMOTE header; the
	// printer must then take bare messages as lines.
	ic.rn.serverPlain.Store(opts.Plain)
	spec.Timeout = *timeout
	if readFlags {
		spec.Regex = regex
	}
	var q *query.Query
	if isQuery {
		if q, err = parseQuery(rawQuery, ic.rn.o.Stderr, ic.rn.o.Prog, logformat.Default, ic.rn.o.Map.Plan); err != nil {
			return spec, nil, err
		}
		spec.Query = rawQuery
		spec.Regex = q.TableRegex()
	}
	return spec, q, nil
}

// attach registers a new connection and bootstraps its session: SESSION
// START when the server can, else the legacy command stream.
func (ic *interactiveControl) attach(name string, w io.Writer) *iconn {
	c := &iconn{name: name, w: w, capsCh: make(chan []string, 1), closed: make(chan struct{})}
	go ic.bootstrap(c)
	return c
}

func (ic *interactiveControl) detach(c *iconn) {
	close(c.closed)
	ic.mu.Lock()
	delete(ic.conns, c)
	ic.mu.Unlock()
}

func (ic *interactiveControl) bootstrap(c *iconn) {
	var caps []string
	t := time.NewTimer(capsWait)
	select {
	case caps = <-c.capsCh:
		t.Stop()
	case <-t.C:
	case <-c.closed:
		t.Stop()
		return
	}
	capable := false
	for _, k := range caps {
		capable = capable || k == protocol.CapQueryUpdateV1
	}
	ic.mu.Lock()
	spec := ic.spec
	if !capable {
		ic.conns[c] = struct{}{}
		ic.mu.Unlock()
		ic.rn.log.Warn(c.name, bootstrapFallbackText)
		c.sendLegacy(spec)
		return
	}
	ch, err := c.request(protocol.SessionStartCommand(spec))
	c.capable, c.gen, c.spec = true, 1, spec
	ic.conns[c] = struct{}{}
	ic.mu.Unlock()
	if err != nil {
		return // the connection is gone
	}
	select {
	case ack := <-ch:
		if ack.Kind == protocol.SessionAckErr {
			ic.mu.Lock()
			c.capable = false
			ic.mu.Unlock()
			ic.rn.log.Warn(c.name, "Interactive session start rejected, falling back to legacy commands", ack.Reason)
			c.sendLegacy(spec)
		}
	case <-time.After(ackWait):
		ic.rn.log.Warn(c.name, "No interactive session acknowledgement")
	case <-c.closed:
	}
}

func (c *iconn) sendLegacy(spec protocol.SessionSpec) {
	cmds, err := spec.Commands()
	if err != nil {
		return
	}
	var frames []byte
	for _, cmd := range cmds {
		frames = protocol.AppendFrame(frames, cmd)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.w.Write(frames)
}

// request sends a SESSION command and returns where its ack arrives.
func (c *iconn) request(cmd string) (<-chan protocol.SessionAck, error) {
	ch := make(chan protocol.SessionAck, 1)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.waiters = append(c.waiters, ch)
	if _, err := c.w.Write(protocol.EncodeFrame(cmd)); err != nil {
		c.waiters = c.waiters[:len(c.waiters)-1]
		return nil, err
	}
	return ch, nil
}

// update runs SESSION UPDATE gen and waits for its matching ack. The
// caller holds interactiveControl.mu.
func (c *iconn) update(gen uint64, spec protocol.SessionSpec) error {
	ch, err := c.request(protocol.SessionUpdateCommand(gen, spec))
	if err != nil {
		return err
	}
	select {
	case ack := <-ch:
		switch {
		case ack.Kind == protocol.SessionAckErr:
			return fmt.Errorf("server rejected the update: %s", ack.Reason)
		case ack.Kind != protocol.SessionAckUpdate || ack.Generation != gen:
			return fmt.Errorf("unexpected session acknowledgement for generation %d", gen)
		}
		c.gen, c.spec = gen, spec
		return nil
	case <-time.After(ackWait):
		c.gen = gen // it may still be applied; never reuse the number
		return errors.New("no session update acknowledgement within 2s")
	case <-c.closed:
		return errors.New("connection closed")
	}
}

// hidden handles the connection's hidden messages: the capabilities and
// the session acks.
func (c *iconn) hidden(msg []byte) {
	if caps, ok := protocol.ParseCapabilities(msg); ok {
		select {
		case c.capsCh <- caps:
		default:
		}
		return
	}
	ack, ok := protocol.ParseSessionAck(msg)
	if !ok {
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if len(c.waiters) == 0 {
		return
	}
	ch := c.waiters[0]
	c.waiters = c.waiters[1:]
	ch <- ack
}

// reset starts the client aggregate afresh after a reload, with the new
// query.
func (r *reducer) reset(raw string, q *query.Query) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.raw, r.q, r.res = raw, q, mapr.NewResult(q)
}

// shellSplit tokenises like a POSIX shell without expansions: blanks
// separate words, single quotes are literal, double quotes allow
// backslash escapes, a backslash outside quotes escapes the next byte.
func shellSplit(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == '"':
			inWord = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated double quote")
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
