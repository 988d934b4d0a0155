package session

import (
	"context"
	"errors"
	"sync"

	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/query"
)

// interactive is the SESSION START/UPDATE state of one connection (spec
// 3.11). Each generation runs its commands in a sub-session of its own:
// its own context, its own aggregate and its own output queue, which
// forwards to the connection's output only while the generation is the
// current one. So output an old generation produced, even batches that
// were already queued when the UPDATE arrived, never reaches the client
// after the update's acknowledgement.
type interactive struct {
	s      *Session
	parent context.Context
	wg     *sync.WaitGroup

	started bool
	// gen is the wire generation last acknowledged.
	gen uint64

	// mu guards epoch: the internal, strictly increasing number of the
	// current generation (wire generations may repeat or go backwards).
	mu    sync.Mutex
	epoch uint64
	cur   *generation
}

type generation struct {
	epoch  uint64
	sub    *Session
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newInteractive(s *Session, ctx context.Context, wg *sync.WaitGroup) *interactive {
	return &interactive{s: s, parent: ctx, wg: wg}
}

// active reports whether a session was started; it then lives until the
// client disconnects.
func (ia *interactive) active() bool { return ia.started }

// genWriter is a generation's output destination.
type genWriter struct {
	ia    *interactive
	epoch uint64
}

// Write forwards p while the generation is current. The lock is held
// across the send so that an UPDATE, which switches the epoch under the
// same lock before queueing its ack, orders every forwarded batch before
// the ack.
func (w *genWriter) Write(p []byte) (int, error) {
	w.ia.mu.Lock()
	defer w.ia.mu.Unlock()
	if w.ia.epoch == w.epoch {
		w.ia.s.out.SendBytes(p)
	}
	return len(p), nil
}

// handle answers one SESSION command. It runs on the Serve loop.
func (ia *interactive) handle(tokens []string) {
	req, err := protocol.ParseSessionCommand(tokens)
	if err != nil {
		ia.reject(err)
		return
	}
	switch req.Action {
	case protocol.SessionStart:
		if ia.started {
			ia.reject(&protocol.SessionError{Reason: protocol.SessionErrAlreadyStarted})
			return
		}
	case protocol.SessionUpdate:
		if !ia.started {
			ia.reject(&protocol.SessionError{Reason: protocol.SessionErrNotStarted})
			return
		}
	}
	if req.Spec.Query != "" {
		if _, err := query.Parse(req.Spec.Query); err != nil {
			ia.reject(&protocol.SessionError{Reason: protocol.SessionErrInvalidSpec})
			return
		}
	}
	cmds, err := req.Spec.Commands()
	if err != nil {
		ia.reject(err)
		return
	}
	gen := uint64(1)
	ack := protocol.SessionStartOKMessage
	if req.Action == protocol.SessionUpdate {
		gen = req.Generation
		if gen == 0 {
			gen = ia.gen + 1
		}
		ack = protocol.SessionUpdateOKMessage
	} else {
		ia.started = true
		if opts, err := protocol.DecodeOptions(req.Spec.Options); err == nil {
			ia.s.applySessionOptions(opts)
		}
	}
	ia.gen = gen

	ctx, cancel := context.WithCancel(ia.parent)
	ia.mu.Lock()
	old := ia.cur
	ia.epoch++
	g := &generation{epoch: ia.epoch, cancel: cancel}
	cfg := ia.s.cfg
	cfg.StallTimeout = 0 // the connection's output has the watchdog
	g.sub = New(cfg, &genWriter{ia: ia, epoch: g.epoch})
	ia.cur = g
	ia.mu.Unlock()
	if old != nil {
		// Its output is already dropped; stop its reads and its
		// aggregate (whose final flush is dropped as well).
		old.cancel()
	}
	ia.s.logInfo("Interactive session generation", gen, "mode", req.Spec.Mode, "commands", len(cmds))
	ia.s.hidden(ack(gen))
	ia.s.wake()
	for _, text := range cmds {
		ia.dispatch(ctx, g, text)
	}
	// Close the generation's output once its commands ended (at the
	// latest when a later generation cancelled them).
	ia.wg.Add(1)
	go func() {
		defer ia.wg.Done()
		g.wg.Wait()
		g.sub.out.Close()
		cancel()
	}()
}

func (ia *interactive) reject(err error) {
	reason := protocol.SessionErrInvalidSpec
	var se *protocol.SessionError
	if errors.As(err, &se) {
		reason = se.Reason
	}
	ia.s.logDebug("Rejected SESSION command", reason)
	ia.s.hidden(protocol.SessionErrMessage(reason))
}

// dispatch runs one expanded command in generation g, tokenised the way
// the reference does (runs of whitespace).
func (ia *interactive) dispatch(ctx context.Context, g *generation, text string) {
	sub := g.sub
	cmd, err := protocol.ParseCommandFields(text)
	if err != nil && cmd.Verb == "" {
		sub.SendServer(ia.s.logError(err.Error()))
		return
	}
	if cmd.HasOptions && err == nil {
		sub.applySessionOptions(cmd.Options)
	}
	run := func(f func(ctx context.Context)) {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			f(ctx)
		}()
	}
	switch cmd.Verb {
	case protocol.VerbCat, protocol.VerbGrep, protocol.VerbTail:
		req, done, rerr := sub.readRequest(cmd, err, len(text))
		if rerr != nil {
			sub.SendServer(rerr.Error())
			return
		}
		timeout := cmd.TimeoutDuration()
		run(func(ctx context.Context) {
			defer done()
			if timeout > 0 {
				var c context.CancelFunc
				ctx, c = context.WithTimeout(ctx, timeout)
				defer c()
			}
			sub.Read(ctx, req)
			ia.s.logDebug("Command finished", cmd.Verb)
		})
	case protocol.VerbMap:
		done, aerr := sub.admit(len(text), cmd.Query())
		if aerr != nil {
			sub.SendServer(aerr.Error())
			return
		}
		m, merr := sub.StartMap(cmd.Query())
		if merr != nil {
			done()
			sub.SendServer(merr.Error() + "\n")
			return
		}
		run(func(ctx context.Context) {
			defer done()
			m.Run(ctx)
		})
	default:
		sub.SendServer(ia.s.logError(protocol.UnknownCommandText(cmd)))
	}
}
