package mapr

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
	"github.com/dtail-go/dtail/internal/match"
	"github.com/dtail-go/dtail/internal/query"
	"github.com/dtail-go/dtail/internal/sink"
)

// inputGrace is how long a map waits, once no read is pending, before it
// takes the input as complete: the reads of a dmap session arrive as
// separate commands right after the map command.
const inputGrace = 100 * time.Millisecond

// RunLogger receives the map side's log lines (spec 4.6); nil logs
// nothing.
type RunLogger interface {
	Info(args ...any) string
	Debug(args ...any) string
	Warn(args ...any) string
}

// RunConfig is what a map run needs besides its query.
type RunConfig struct {
	// Format is the log format (logformat.Select); one that cannot be
	// made falls back to generic.
	Format string
	// Host is the short host name of AGGREGATE messages, FullHost the
	// $hostname of queries.
	Host, FullHost string
	// Emit receives every serialized AGGREGATE message (without the
	// protocol delimiter).
	Emit func(msg []byte)
	// Notify tells the user something went wrong with the aggregate
	// (the group limit): wireText is the server log's line, text the
	// plain message.
	Notify func(wireText, text string)
	Log    RunLogger
}

// Run is an installed mapreduce aggregate (spec 4.12): every read feeds
// it through the sink.File of NewFile; Run sends AGGREGATE deltas every
// interval and once more when the input ended.
type Run struct {
	cfg    RunConfig
	q      *query.Query
	agg    *Aggregate
	format string

	warnedGroups atomic.Bool

	mu      sync.Mutex
	started int
	active  int
	idle    chan struct{} // signalled when active drops to 0
	finish  chan struct{}
	once    sync.Once
}

// NewRun makes the map side of q. fallback is the reason the format
// could not be made (the run then uses generic), nil normally.
func NewRun(q *query.Query, cfg RunConfig) (m *Run, fallback error) {
	format := cfg.Format
	if _, err := logformat.New(format, logformat.Options{Hostname: cfg.FullHost}); err != nil {
		fallback = err
		format = logformat.Generic
	}
	return &Run{cfg: cfg, q: q, agg: NewAggregate(q, nil), format: format, idle: make(chan struct{}, 1), finish: make(chan struct{})}, fallback
}

// Finish tells Run that no more reads will come (the in-process client
// knows; a server has to wait for the grace period instead).
func (m *Run) Finish() { m.once.Do(func() { close(m.finish) }) }

// Query returns the parsed query.
func (m *Run) Query() *query.Query { return m.q }

// Skipped is the number of lines the aggregate did not use because of
// its log format.
func (m *Run) Skipped() int64 { return m.agg.SkippedLines() + int64(m.agg.Errors()) }

// parser makes a parser for one reader: only the fields the query reads
// are filled (spec §7.2 allows it), and values borrow the reader's
// buffer; the mapper copies what it keeps.
func (m *Run) parser() logformat.Parser {
	p, _ := logformat.NewOrGeneric(m.format, logformat.Options{
		Hostname: m.cfg.FullHost, Fields: m.q.Fields(), Borrow: true,
	})
	return p
}

// NewFile gives one file reader its own mapper: parsers keep per-file
// state (a CSV header) and are not shared between goroutines. A one-shot
// read of a stateless format gets a BlockMapper that maps blocks of lines
// on every CPU; CSV (the header is the file's first line) and followed
// files (lines must not wait for a block to fill) get one Mapper.
func (m *Run) NewFile(src sink.Source, follow bool) sink.File {
	m.logInfo("Using turbo aggregate processor for MapReduce", src.Path, src.ID)
	if n := runtime.GOMAXPROCS(0); n > 1 && !follow && m.format != logformat.CSV {
		bm := m.agg.NewBlockMapper(m.parser, n, m.lineError)
		return &mapFile{add: bm.Add, done: bm.Close}
	}
	mp := m.agg.NewMapper(m.parser())
	return &mapFile{add: func(line []byte) {
		if err := mp.Add(line); err != nil {
			m.lineError(err)
		}
	}, done: mp.Close}
}

// mapFile feeds one file's selected lines to a mapper.
type mapFile struct {
	add  func(line []byte)
	done func()
}

func (f *mapFile) Lines(recs []sink.Record) error {
	for i := range recs {
		recs[i].Lines(func(line []byte, _ uint64) { f.add(line) })
	}
	return nil
}

func (f *mapFile) Flush() error    { return nil }
func (f *mapFile) Close(sink.Done) { f.done() }

func (m *Run) logInfo(args ...any) {
	if m.cfg.Log != nil {
		m.cfg.Log.Info(args...)
	}
}

// lineError logs a line the aggregate could not use. Lines dropped because
// of the group limit are reported once per aggregate, as a warning the
// user sees, instead of once per line.
func (m *Run) lineError(err error) {
	var tooMany *TooManyGroupsError
	if errors.As(err, &tooMany) {
		if m.warnedGroups.CompareAndSwap(false, true) {
			text := fmt.Sprintf("more than %d groups: lines of further groups are dropped until the next report (the limit keeps memory bounded)", tooMany.Max)
			wire := ""
			if m.cfg.Log != nil {
				wire = m.cfg.Log.Warn("MapReduce group limit reached", text)
			}
			if m.cfg.Notify != nil {
				m.cfg.Notify(wire, text)
			}
		}
		return
	}
	if m.cfg.Log != nil {
		m.cfg.Log.Debug("Error processing line:", err)
	}
}

// Matcher returns the matcher a read of the run's table uses: the table
// regex `\|MAPREDUCE:TABLE\|` is a plain string, which a literal scan
// finds without running the regexp engine on every candidate line.
func (m *Run) Matcher(mt *match.Matcher) *match.Matcher {
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

// ReadStarted and ReadDone bracket every read that feeds the run; Run
// ends (one-shot reads) once none is pending after a grace period.
func (m *Run) ReadStarted() {
	m.mu.Lock()
	m.started++
	m.active++
	m.mu.Unlock()
}

func (m *Run) ReadDone() {
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

func (m *Run) inputDone() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.started > 0 && m.active == 0
}

// Run emits the aggregate every interval until the input of one-shot reads
// ended (then once more, finally) or ctx ends. With tail reads the input
// never ends, so Run lasts as long as the session.
func (m *Run) Run(ctx context.Context) {
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

func (m *Run) emit() {
	for _, msg := range m.agg.Serialize(m.cfg.Host) {
		m.cfg.Emit(msg)
	}
}
