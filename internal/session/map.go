package session

import (
	"context"
	"errors"
	"fmt"
	"regexp/syntax"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dtail-go/dtail/internal/logformat"
	"github.com/dtail-go/dtail/internal/mapr"
	"github.com/dtail-go/dtail/internal/match"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/query"
)

// inputGrace is how long a map waits, once no read is pending, before it
// takes the input as complete: the reads of a dmap session arrive as
// separate commands right after the map command.
const inputGrace = 100 * time.Millisecond

// MapRun is an installed mapreduce aggregate (spec 4.12): every read of
// the session feeds it; Run sends AGGREGATE deltas every interval and once
// more when the input ended.
type MapRun struct {
	s      *Session
	q      *query.Query
	agg    *mapr.Aggregate
	format string

	warnedGroups atomic.Bool

	mu      sync.Mutex
	started int
	active  int
	idle    chan struct{} // signalled when active drops to 0
	finish  chan struct{}
	once    sync.Once
}

// Finish tells Run that no more reads will come (the in-process client
// knows; a server has to wait for the grace period instead).
func (m *MapRun) Finish() { m.once.Do(func() { close(m.finish) }) }

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
	if _, err := logformat.New(format, logformat.Options{Hostname: s.cfg.FullHost}); err != nil {
		s.logError(logformat.FallbackMessage, format, err)
		format = logformat.Generic
	}
	m := &MapRun{s: s, q: q, agg: mapr.NewAggregate(q, nil), format: format, idle: make(chan struct{}, 1), finish: make(chan struct{})}
	s.logInfo("Creating turbo aggregate for MapReduce", "query", raw)
	s.mu.Lock()
	s.mapRun = m
	s.mu.Unlock()
	return m, nil
}

// Query returns the parsed query.
func (m *MapRun) Query() *query.Query { return m.q }

func (s *Session) currentMap() *MapRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mapRun
}

// sinkFor returns the sink maker of a read of the given mode.
func (m *MapRun) sinkFor(mode Mode) func(path, id string) (func([]byte), func()) {
	return func(path, id string) (func([]byte), func()) {
		m.s.logInfo("Using turbo aggregate processor for MapReduce", path, id)
		return m.sink(mode)
	}
}

// parser makes a parser for one reader: only the fields the query reads
// are filled (spec §7.2 allows it), and values borrow the reader's
// buffer; the mapper copies what it keeps.
func (m *MapRun) parser() logformat.Parser {
	p, _ := logformat.NewOrGeneric(m.format, logformat.Options{
		Hostname: m.s.cfg.FullHost, Fields: m.q.Fields(), Borrow: true,
	})
	return p
}

// sink gives one file reader its own mapper: parsers keep per-file state
// (a CSV header) and are not shared between goroutines. A one-shot read of
// a stateless format gets a BlockMapper that maps blocks of lines on
// every CPU; CSV (the header is the file's first line) and followed files
// (lines must not wait for a block to fill) get one Mapper.
func (m *MapRun) sink(mode Mode) (func([]byte), func()) {
	if n := runtime.GOMAXPROCS(0); n > 1 && mode != Tail && m.format != logformat.CSV {
		bm := m.agg.NewBlockMapper(m.parser, n, m.lineError)
		return bm.Add, bm.Close
	}
	mp := m.agg.NewMapper(m.parser())
	return func(line []byte) {
			if err := mp.Add(line); err != nil {
				m.lineError(err)
			}
		}, func() {
			mp.Close()
		}
}

// lineError logs a line the aggregate could not use. Lines dropped because
// of the group limit are reported once per aggregate, as a warning the
// user sees, instead of once per line.
func (m *MapRun) lineError(err error) {
	var tooMany *mapr.TooManyGroupsError
	if errors.As(err, &tooMany) {
		if m.warnedGroups.CompareAndSwap(false, true) {
			text := fmt.Sprintf("more than %d groups: lines of further groups are dropped until the next report (the limit keeps memory bounded)", tooMany.Max)
			m.s.notify(m.s.logWarn("MapReduce group limit reached", text), text)
		}
		return
	}
	if m.s.cfg.Logger != nil {
		m.s.logDebug("Error processing line:", err)
	}
}

// matcher returns the matcher a read of the session's table uses: the
// table regex `\|MAPREDUCE:TABLE\|` is a plain string, which a literal
// scan finds without running the regexp engine on every candidate line.
func (m *MapRun) matcher(mt *match.Matcher) *match.Matcher {
	if mt.Kind() != match.Regexp || mt.Inverted() {
		return mt
	}
	re, err := syntax.Parse(mt.Pattern(), syntax.Perl)
	if err != nil {
		return mt
	}
	re = re.Simplify()
	if re.Op != syntax.OpLiteral || re.Flags&syntax.FoldCase != 0 {
		return mt
	}
	lit, err := match.New(string(re.Rune), false, true)
	if err != nil || lit.Kind() != match.Literal {
		return mt
	}
	return lit
}

func (m *MapRun) readStarted() {
	m.mu.Lock()
	m.started++
	m.active++
	m.mu.Unlock()
}

func (m *MapRun) readDone() {
	m.mu.Lock()
	m.active--
	idle := m.active == 0
	m.mu.Unlock()
	if idle {
		select {
		case m.idle <- struct{}{}:
		default:
		}
	}
}

func (m *MapRun) inputDone() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.started > 0 && m.active == 0
}

// Run emits the aggregate every interval until the input of one-shot reads
// ended (then once more, finally) or ctx ends. With tail reads the input
// never ends, so Run lasts as long as the session.
func (m *MapRun) Run(ctx context.Context) {
	t := time.NewTicker(m.q.IntervalDuration())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			m.emit()
			return
		case <-t.C:
			m.emit()
		case <-m.finish:
			m.emit()
			return
		case <-m.idle:
			// Re-check after a grace period: the next read command of
			// the session may be on its way.
			select {
			case <-time.After(inputGrace):
			case <-m.finish:
			case <-ctx.Done():
			}
			if m.inputDone() {
				m.emit()
				return
			}
		}
	}
}

func (m *MapRun) emit() {
	for _, msg := range m.agg.Serialize(m.s.cfg.Host) {
		if m.s.cfg.OnAggregate != nil {
			m.s.cfg.OnAggregate(msg)
			continue
		}
		b := append(m.s.out.Get(), msg...)
		m.s.out.Send(append(b, protocol.MessageDelimiter))
	}
}
