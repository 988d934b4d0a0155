package session

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/logformat"
	"github.com/dtail-go/dtail/internal/mapr"
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

// sink gives one file reader its own mapper: parsers keep per-file state
// (a CSV header) and are not shared between goroutines.
func (m *MapRun) sink() (func([]byte), func()) {
	p, _ := logformat.NewOrGeneric(m.format, logformat.Options{Hostname: m.s.cfg.FullHost})
	mp := m.agg.NewMapper(p)
	m.s.logInfo("Using turbo aggregate processor for MapReduce")
	return func(line []byte) {
			if err := mp.Add(line); err != nil && m.s.cfg.Logger != nil {
				m.s.logDebug("Error processing line:", err)
			}
		}, func() {
			mp.Close()
		}
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
