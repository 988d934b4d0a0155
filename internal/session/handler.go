package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/match"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/reader"
)

// closeGrace is how long an idle session waits for further commands
// before it starts the close handshake.
const closeGrace = 20 * time.Millisecond

// ServeOptions configure the wire side of a session.
type ServeOptions struct {
	// Health selects the DTAIL-HEALTH handler: only `health` and `.ack`.
	Health bool
	// Capabilities are announced first on normal sessions.
	Capabilities []string
	// MaxFrameSize bounds one client frame (MaxCommandFrameSize).
	MaxFrameSize int
	// AuthKey registers a key for the session's user and returns the reply
	// text (protocol.AuthKey*). Nil answers "feature disabled".
	AuthKey func(b64 string) string
	// Allow, if set, vets every command before it runs; a non-nil error
	// refuses the command with a SERVER error. Job users' sessions are
	// held to their job's query and files this way.
	Allow func(cmd protocol.Command) error
	// HealthStatus is the health handler's answer (OK, or WARNING: /
	// CRITICAL: and a reason); nil answers OK.
	HealthStatus func() string
	// CloseAckTimeout is how long the server waits for `.ack close
	// connection` (default 5 s).
	CloseAckTimeout time.Duration
}

type frameResult struct {
	text string
	err  error
}

// Serve speaks the DTail protocol on r (client frames) until the close
// handshake finished, the client went away or ctx ended. Output goes to
// the writer given to New. Serve closes the output before returning.
func (s *Session) Serve(ctx context.Context, r io.Reader, o ServeOptions) error {
	if o.CloseAckTimeout <= 0 {
		o.CloseAckTimeout = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		s.out.Close()
	}()
	if !o.Health {
		s.hidden(protocol.CapabilitiesMessage(o.Capabilities...))
	}
	b := s.acct.b
	s.acct.mu.Lock()
	s.acct.exceed = func(need int64) {
		// The session ends instead of the process: every other session
		// keeps its memory.
		s.SendServer(s.logError("Session memory budget exceeded, closing session", "limit", b.MaxMemory, "requested", need))
		cancel()
	}
	s.acct.mu.Unlock()
	// idle closes a session that sends nothing while nothing runs; a
	// streaming follow is running, so it is never idle.
	idleTimer := time.NewTimer(b.FirstCommandTimeout)
	defer idleTimer.Stop()
	frames := make(chan frameResult)
	go func() {
		defer close(frames)
		fr := protocol.NewFrameReader(r, o.MaxFrameSize)
		for {
			raw, err := fr.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					select {
					case frames <- frameResult{err: err}:
					case <-ctx.Done():
					}
				}
				return
			}
			text, derr := protocol.DecodeFrame(raw)
			select {
			case frames <- frameResult{text: text, err: derr}:
			case <-ctx.Done():
				return
			}
		}
	}()

	ia := newInteractive(s, ctx, &wg)
	done := make(chan struct{}, 64)
	active := 0
	ran := false
	closing := false
	var ackTimer, closeTimer <-chan time.Time
	idle := func() bool { return !closing && active == 0 && ran && !ia.active() }
	// startClose arms a short grace period: DTail 4.x clients send their
	// commands as separate frames, and a command still in flight must
	// not find the server already saying goodbye.
	startClose := func() {
		if idle() {
			closeTimer = time.After(closeGrace)
		}
	}
	doClose := func() {
		if !idle() {
			return
		}
		closing = true
		if !o.Health {
			s.sendReceipt()
		}
		s.hidden(protocol.SynCloseConnection)
		ackTimer = time.After(o.CloseAckTimeout)
	}
	run := func(f func(ctx context.Context)) {
		closeTimer = nil
		active++
		ran = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { done <- struct{}{} }()
			f(ctx)
		}()
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ackTimer:
			s.logDebug("No close acknowledgement from client")
			return nil
		case <-closeTimer:
			closeTimer = nil
			doClose()
		case <-idleTimer.C:
			if active > 0 || s.acct.busy() {
				idleTimer.Reset(b.IdleTimeout)
				continue
			}
			wait := b.IdleTimeout
			if !ran {
				wait = b.FirstCommandTimeout
			}
			s.SendServer(s.logWarn("Closing idle session", "idle", wait))
			return nil
		case <-done:
			active--
			startClose()
		case fr, ok := <-frames:
			if !ok {
				return nil // client went away
			}
			idleTimer.Reset(b.IdleTimeout)
			if fr.err != nil {
				if s.frameError(fr.err) {
					return fr.err
				}
				continue
			}
			cmd, err := protocol.ParseCommand(fr.text)
			if err != nil && cmd.Verb == "" {
				s.SendServer(s.logError(err.Error()))
				ran = true
				startClose()
				continue
			}
			if cmd.Verb == protocol.VerbAck {
				if closing {
					return nil
				}
				continue
			}
			if o.Health {
				if cmd.Verb == protocol.VerbHealth {
					status := "OK"
					if o.HealthStatus != nil {
						status = o.HealthStatus()
					}
					s.SendServer(status)
				} else {
					s.SendServer(s.logError("Received unknown health command", cmd.Verb, len(cmd.Tokens), cmd.Tokens))
				}
				ran = true
				startClose()
				continue
			}
			if o.Allow != nil {
				if aerr := o.Allow(cmd); aerr != nil {
					s.SendServer(s.logWarn("Command refused", aerr))
					ran = true
					startClose()
					continue
				}
			}
			if cmd.HasOptions && err == nil {
				s.applySessionOptions(cmd.Options)
			}
			switch cmd.Verb {
			case protocol.VerbAuthKey:
				reply := protocol.AuthKeyErrFeatureDisabled
				if o.AuthKey != nil {
					b64 := ""
					if len(cmd.Args) > 0 {
						b64 = cmd.Args[0]
					}
					reply = o.AuthKey(b64)
				}
				s.SendServer(reply + "\n")
			case protocol.VerbSession:
				ia.handle(cmd.Tokens)
			case protocol.VerbCat, protocol.VerbGrep, protocol.VerbTail:
				req, done, rerr := s.readRequest(cmd, err, len(fr.text))
				if rerr != nil {
					s.SendServer(rerr.Error())
					ran = true
					startClose()
					continue
				}
				s.wake()
				timeout := cmd.TimeoutDuration()
				run(func(ctx context.Context) {
					defer done()
					if timeout > 0 {
						var c context.CancelFunc
						ctx, c = context.WithTimeout(ctx, timeout)
						defer c()
					}
					s.Read(ctx, req)
					s.logDebug("Command finished", cmd.Verb)
				})
			case protocol.VerbMap:
				done, aerr := s.admit(len(fr.text), cmd.Query())
				if aerr != nil {
					s.SendServer(aerr.Error())
					ran = true
					startClose()
					continue
				}
				m, err := s.StartMap(cmd.Query())
				if err != nil {
					done()
					s.SendServer(err.Error() + "\n")
					ran = true
					startClose()
					continue
				}
				s.wake()
				run(func(ctx context.Context) {
					defer done()
					m.Run(ctx)
				})
			default:
				s.SendServer(s.logError(protocol.UnknownCommandText(cmd)))
				ran = true
				startClose()
			}
		}
	}
}

// frameError answers a bad frame; it reports whether the session must end
// (a frame over the size limit cannot be resynchronised).
func (s *Session) frameError(err error) bool {
	var vm *protocol.VersionMismatchError
	switch {
	case errors.As(err, &vm):
		text := s.logError(vm.Error())
		// Old clients split output at newlines; the logger's line already
		// ends in one, which is all the capture of spec 3.12 shows.
		if vm.LegacyNewline() && text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		s.SendServer(text)
		return false
	case errors.Is(err, protocol.ErrUnknownProtocolVersion), errors.Is(err, protocol.ErrUndecodableMessage):
		s.SendServer(s.logError(err.Error()))
		return false
	}
	s.logError("Closing session", err)
	return true
}

// admit checks a command of size bytes with its regex or query text
// against the session's bounds; done gives its share back. The error is
// the SERVER message to send.
func (s *Session) admit(size int, pattern string) (done func(), err error) {
	done, err = s.acct.admit(size, pattern)
	if err != nil {
		return nil, fmt.Errorf("%s", s.logError("Command refused", err))
	}
	return done, nil
}

// readRequest parses a read command and admits it (done must be called
// when it ended). Commands that break a session bound are refused before
// anything is allocated for them.
func (s *Session) readRequest(cmd protocol.Command, optErr error, size int) (ReadRequest, func(), error) {
	if optErr != nil {
		return ReadRequest{}, nil, fmt.Errorf("%s", s.logWarn("Unable to parse command options", optErr))
	}
	glob, err := cmd.Glob()
	if err != nil {
		return ReadRequest{}, nil, fmt.Errorf("%s", s.logWarn("Unable to parse command", cmd.Tokens, "argc"))
	}
	if len(glob) > maxPathPattern {
		// No path this long can exist; a follow would keep it and
		// re-expand it every few seconds.
		return ReadRequest{}, nil, fmt.Errorf("%s", s.logError("Command refused", fmt.Sprintf("file pattern of %d bytes exceeds the limit of %d bytes (PATH_MAX)", len(glob), maxPathPattern)))
	}
	if err := CheckContext(cmd.Options.Before, cmd.Options.After, cmd.Options.Max, s.acct.b.MaxContextLines); err != nil {
		return ReadRequest{}, nil, fmt.Errorf("%s", s.logError("Command refused", err))
	}
	re, err := cmd.ReadRegex()
	if err != nil {
		return ReadRequest{}, nil, fmt.Errorf("%s", s.logError("Unable to parse regex", err))
	}
	key := ""
	if re.Flag != protocol.RegexNoop {
		key = fmt.Sprintf("%d %t ", re.Flag, re.Literal) + re.Pattern
	}
	done, err := s.admit(size, key)
	if err != nil {
		return ReadRequest{}, nil, err
	}
	m := match.NewAll()
	if re.Flag != protocol.RegexNoop {
		m, err = s.acct.matcher(key, func() (*match.Matcher, error) {
			return match.New(re.Pattern, re.Flag == protocol.RegexInvert, re.Literal)
		})
		if err != nil {
			done()
			return ReadRequest{}, nil, fmt.Errorf("%s", s.logError("Unable to parse regex", err))
		}
	}
	mode := reader.Cat
	switch cmd.Verb {
	case protocol.VerbGrep:
		mode = reader.Grep
	case protocol.VerbTail:
		mode = reader.Tail
	}
	s.mu.Lock()
	plain := s.plain
	s.mu.Unlock()
	extra := cmd.Options.Extra
	return ReadRequest{
		Request: reader.Request{
			Mode:    mode,
			Glob:    glob,
			Matcher: m,
			Before:  cmd.Options.Before,
			After:   cmd.Options.After,
			Max:     cmd.Options.Max,
			// Options beyond DTail 4.x travel as extra keys, which DTail
			// 4.x servers ignore (their clients then count the lines
			// themselves).
			Count:            extra[protocol.OptCount] == "true",
			FilesWithMatches: extra[protocol.OptFilesWithMatches] == "true",
			Offsets:          extra[protocol.OptOffsets] == "true",
			Window:           WindowFromOptions(extra),
		},
		Plain:     plain,
		Escape:    extra[protocol.OptEscape] == "true",
		BareLines: extra[protocol.OptBareLines] == "true",
	}, done, nil
}

// applySessionOptions applies quiet/plain once per session, as the
// reference does: the first command carrying options decides.
func (s *Session) applySessionOptions(o protocol.Options) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.optionsSet {
		return
	}
	s.optionsSet = true
	s.plain = o.Plain
}

func (s *Session) hidden(msg string) {
	b := s.out.Get()
	b = append(b, msg...)
	b = append(b, protocol.MessageDelimiter)
	s.out.Send(b)
}

func (s *Session) wake() {
	s.mu.Lock()
	woke := s.woke
	s.woke = true
	s.mu.Unlock()
	if !woke {
		s.hidden(protocol.OutputWake)
	}
}
