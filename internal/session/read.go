package session

import (
	"context"
	"errors"
	"strconv"

	"github.com/dtail-go/dtail/internal/logformat"
	"github.com/dtail-go/dtail/internal/mapr"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/query"
	"github.com/dtail-go/dtail/internal/reader"
	"github.com/dtail-go/dtail/internal/sink"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// ReadRequest is one cat/grep/tail command after parsing: what to read,
// and how its lines go on the wire.
type ReadRequest struct {
	reader.Request
	Plain bool
	// Escape writes 0xAC and 0xFF of REMOTE messages escaped
	// (protocol.CapEscapeV1): our clients ask for it, so that a line
	// holding the delimiter cannot end or forge messages.
	Escape bool
	// BareLines (with Escape) sends payload lines without the REMOTE
	// header while SERVER messages keep theirs (protocol.OptBareLines).
	BareLines bool
}

// MapRun is the session's mapreduce aggregate.
type MapRun = mapr.Run

// Read runs one read command to completion (cat/grep) or until ctx ends
// (tail). Per-file problems are reported and counted, not returned.
func (s *Session) Read(ctx context.Context, req ReadRequest) {
	var dst reader.Sinks = &wireSinks{s: s, req: req}
	if m := s.currentMap(); m != nil {
		if req.Matcher != nil {
			req.Matcher = m.Matcher(req.Matcher)
		}
		req.Aggregate = true
		dst = &mapSinks{m: m, follow: req.Mode == reader.Tail, Events: s}
		m.ReadStarted()
		defer m.ReadDone()
	}
	s.rd.Read(ctx, req.Request, dst)
}

// mapSinks feeds every file of a read to the session's aggregate.
type mapSinks struct {
	m      *MapRun
	follow bool
	sink.Events
}

func (ms *mapSinks) File(src sink.Source) sink.File { return ms.m.NewFile(src, ms.follow) }

// wireSinks writes a read's lines as REMOTE messages.
type wireSinks struct {
	s   *Session
	req ReadRequest
}

func (w *wireSinks) Event(ev sink.Event) { w.s.Event(ev) }

func (w *wireSinks) File(src sink.Source) sink.File {
	s, req := w.s, w.req
	f := &wireFile{s: s, fwm: req.FilesWithMatches}
	f.fmt = lineFormat{plain: req.Plain, host: s.cfg.Host, id: src.ID, offsets: req.Offsets}
	if req.Escape {
		f.fmt.escape = true
		f.fmt.bare = req.BareLines && !req.Offsets
		f.fmt.host = string(protocol.AppendDelimEscaped(nil, []byte(f.fmt.host)))
		f.fmt.id = string(protocol.AppendDelimEscaped(nil, []byte(f.fmt.id)))
	}
	if !req.Count && !req.FilesWithMatches {
		f.batch = s.out.Get()
	}
	return f
}

// wireFile is the wire sink of one source: it formats records into
// batches of about sink.BatchSize bytes for the session's output.
type wireFile struct {
	s     *Session
	fmt   lineFormat
	fwm   bool
	batch []byte
}

func (f *wireFile) Lines(recs []sink.Record) error {
	if err := f.s.out.Err(); err != nil {
		return err
	}
	for i := range recs {
		f.batch = f.fmt.append(f.batch, &recs[i])
		if len(f.batch) >= sink.BatchSize {
			f.s.out.Send(f.batch)
			f.batch = f.s.out.Get()
		}
	}
	return nil
}

func (f *wireFile) Flush() error {
	if len(f.batch) > 0 {
		f.s.out.Send(f.batch)
		f.batch = f.s.out.Get()
	}
	return f.s.out.Err()
}

func (f *wireFile) Close(d sink.Done) {
	s := f.s
	if d.Counted {
		// The client prints the count (DTail 4.x servers ignore the
		// option and send lines, which the client counts).
		s.hidden(protocol.CountPrefix + strconv.FormatUint(d.Count, 10) + " " + f.fmt.id)
	}
	if f.batch != nil {
		s.out.Send(f.batch)
		f.batch = nil
	}
	s.stats.Done(d)
}

// Event turns what a read noticed into the server log and SERVER
// messages: remote clients learn only what DTail 4.x says (details could
// reveal other users' files); the server log has the reason.
func (s *Session) Event(ev sink.Event) {
	s.stats.Event(ev)
	path := ev.Source.Path
	switch ev.Kind {
	case sink.Unreadable:
		s.logError("No permission to read file", path, ev.Err)
		s.SendServer(s.logWarn("Unable to read file(s), check server logs"))
	case sink.LongLine:
		s.SendServer(s.logWarn(path, "Long log line, splitting into multiple lines"))
	case sink.NotYet:
		s.SendServer(s.logWarn("Unable to read file(s), check server logs"))
	case sink.GlobCapped:
		if ev.Rotation {
			s.SendServer(s.logWarn("Rotation set exceeded server limit, only the newest targets served", "limit", ev.Max, "matched", ev.Matched))
			return
		}
		s.SendServer(s.logWarn("Glob expansion exceeded server limit, only first targets served", "limit", ev.Max, "matched", ev.Matched))
	case sink.ContextDropped:
		s.SendServer(s.logWarn(path, "Before-context lines dropped to stay within the server's memory limit", "MaxContextBytes", ev.Max))
	case sink.NotFollowed:
		s.SendServer(s.logWarn("Not following compressed file", path))
	case sink.CommandOutput:
		s.SendServer("journalctl stderr: " + ev.Text + "\n")
	}
}

// WindowFromOptions reads the since/until extra options; nil when neither
// is present. Unparseable values are ignored like unknown keys.
func WindowFromOptions(extra map[string]string) *timewindow.Window {
	w := timewindow.All
	if v, err := strconv.ParseInt(extra[protocol.OptSince], 10, 64); err == nil {
		w.Since = v
	}
	if v, err := strconv.ParseInt(extra[protocol.OptUntil], 10, 64); err == nil {
		w.Until = v
	}
	if w.IsAll() {
		return nil
	}
	return &w
}

// StartMap parses a query and installs its aggregate for the session's
// next reads, replacing an earlier one. The error text is what the
// reference sends for a bad query.
func (s *Session) StartMap(raw string) (*MapRun, error) {
	q, err := query.Parse(raw)
	if err != nil {
		var qe *query.Error
		if errors.As(err, &qe) {
			return nil, errors.New(qe.Reference())
		}
		return nil, err
	}
	format := logformat.Select(q.LogFormat, q.HasFrom, s.cfg.MapreduceLogFormat)
	m, fallback := mapr.NewRun(q, mapr.RunConfig{
		Format: format, Host: s.cfg.Host, FullHost: s.cfg.FullHost,
		Emit: func(msg []byte) {
			b := append(s.out.Get(), msg...)
			s.out.Send(append(b, protocol.MessageDelimiter))
		},
		Notify: func(wireText, _ string) { s.SendServer(wireText) },
		Log:    sessionLog{s},
	})
	if fallback != nil {
		s.logError(logformat.FallbackMessage, format, fallback)
	}
	s.logInfo("Creating turbo aggregate for MapReduce", "query", raw)
	s.mu.Lock()
	s.mapRun = m
	s.mu.Unlock()
	return m, nil
}

func (s *Session) currentMap() *MapRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mapRun
}

// sessionLog is the map side's view of the session log.
type sessionLog struct{ s *Session }

func (l sessionLog) Info(args ...any) string  { return l.s.logInfo(args...) }
func (l sessionLog) Debug(args ...any) string { return l.s.logDebug(args...) }
func (l sessionLog) Warn(args ...any) string  { return l.s.logWarn(args...) }
