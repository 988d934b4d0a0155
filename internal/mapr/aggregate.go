package mapr

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dtail-go/dtail/internal/logformat"
	"github.com/dtail-go/dtail/internal/query"
)

// The AGGREGATE message separators (spec §4.12). They are multi-byte
// UTF-8 runes none of whose bytes is the 0xAC message delimiter.
const (
	aggregatePrefix = "AGGREGATE|"
	fieldSep        = "∥" // U+2225, between group key, samples and entries
	kvSep           = "≔" // U+2254, between an entry's key and value
)

// DefaultMaxGroups is the default of Aggregate.MaxGroups.
const DefaultMaxGroups = 1 << 20

// Aggregate is the map side of one session (spec §4.12): the partial
// aggregates of every group seen since the last Serialize.
//
// Lines come in through Mappers, one per file reader, so that parsers
// (which are per file and not safe for concurrent use) and group maps are
// never shared between reader goroutines; Add is a convenience for a
// single reader. All methods are safe for concurrent use.
type Aggregate struct {
	q        *query.Query
	cols     []column
	ops      []op     // per slot
	storages []string // per slot
	groupBy  []string

	// MaxGroups bounds the number of groups held between two Serialize
	// calls across all mappers (0 means DefaultMaxGroups, negative no
	// limit). A line that would open one more group is dropped and
	// counted by DroppedLines, so a query such as "group by $line" over a
	// huge file keeps memory bounded instead of growing until the OOM
	// killer ends the server. Set it before the first Add.
	MaxGroups int

	seq     atomic.Uint64 // last sequence number handed to a mapper or block
	groups  atomic.Int64  // groups opened since the last Serialize
	errs    atomic.Int64  // lines the parser rejected
	valErrs atomic.Int64  // non-numeric values of numeric aggregations
	dropped atomic.Int64  // lines dropped by MaxGroups
	// skipped counts the lines the parsers of closed mappers ignored;
	// live mappers count their own (no shared counter on the hot path).
	skipped atomic.Int64

	mu      sync.Mutex
	mappers map[*Mapper]struct{}
	blocks  map[*BlockMapper]struct{}
	pending map[string]*set // groups of closed mappers, for the next Serialize
	def     *Mapper         // the mapper behind Add
}

// NewAggregate returns an empty aggregate for the query. p is the parser
// used by Add; it may be nil if all lines come through NewMapper.
func NewAggregate(q *query.Query, p logformat.Parser) *Aggregate {
	cols, slots := columnsOf(q)
	return newAggregate(q, cols, slots, p)
}

// newAggregate takes resolved columns, so tests can build columns
// directly.
func newAggregate(q *query.Query, cols []column, slots int, p logformat.Parser) *Aggregate {
	a := &Aggregate{
		q:        q,
		cols:     cols,
		ops:      slotOps(cols, slots),
		storages: slotStorages(cols, slots),
		groupBy:  q.GroupFields(),
		mappers:  make(map[*Mapper]struct{}),
		blocks:   make(map[*BlockMapper]struct{}),
		pending:  make(map[string]*set),
	}
	if p != nil {
		a.def = a.NewMapper(p)
	}
	return a
}

// Mapper feeds the lines of one reader into its Aggregate. Its methods are
// safe for concurrent use, but it is meant for one goroutine: its lock is
// only contended while Serialize swaps its groups out.
type Mapper struct {
	a      *Aggregate
	p      logformat.Parser
	mu     sync.Mutex
	groups map[string]*set
	key    []byte // scratch for multi-field group keys
	closed bool
	// seq orders this mapper's last/len values against other mappers'
	// when their groups merge: mappers made later (files read later)
	// win, and a BlockMapper's workers set it per block.
	seq uint64
	// skipped counts the lines the parser ignored (a default-format line
	// that is not INFO), under mu; Close adds it to the aggregate's.
	skipped int64
}

// NewMapper returns a mapper that parses lines with p (one parser per
// file: csv takes each file's first line as its header). Close it when
// the reader is done.
func (a *Aggregate) NewMapper(p logformat.Parser) *Mapper {
	m := &Mapper{a: a, p: p, groups: make(map[string]*set), seq: a.seq.Add(1)}
	a.mu.Lock()
	a.mappers[m] = struct{}{}
	a.mu.Unlock()
	return m
}

// Close hands the mapper's groups to the aggregate for the next Serialize
// and detaches the mapper; later Adds are ignored.
func (m *Mapper) Close() {
	a := m.a
	a.mu.Lock()
	defer a.mu.Unlock()
	m.mu.Lock()
	groups := m.groups
	m.groups, m.closed = nil, true
	a.skipped.Add(m.skipped)
	m.skipped = 0
	m.mu.Unlock()
	delete(a.mappers, m)
	a.mergeGroups(a.pending, groups)
}

// Add feeds one line through the parser given to NewAggregate. It panics
// if that parser was nil.
func (a *Aggregate) Add(line []byte) error { return a.def.Add(line) }

// Errors returns the number of lines dropped because the parser rejected
// them (the server logs "Error processing line:" for each).
func (a *Aggregate) Errors() int { return int(a.errs.Load()) }

// SkippedLines returns the number of lines the parsers ignored: lines the
// log format does not read, such as default-format lines that are not
// INFO (spec §7.2). A CSV file's header line is not counted. With Errors
// it tells the user how much of the selected input the result leaves
// out, which DTail 4.x never said.
func (a *Aggregate) SkippedLines() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := a.skipped.Load()
	for m := range a.mappers {
		m.mu.Lock()
		n += m.skipped
		m.mu.Unlock()
	}
	return n
}

// ValueErrors returns the number of values skipped because a numeric
// aggregation got a non-number.
func (a *Aggregate) ValueErrors() int { return int(a.valErrs.Load()) }

// DroppedLines returns the number of lines dropped because MaxGroups was
// reached.
func (a *Aggregate) DroppedLines() int { return int(a.dropped.Load()) }

// ValueError reports a value a numeric aggregation could not use; the
// line's other select entries were still applied.
type ValueError struct {
	Storage string // the select entry, e.g. "avg($goroutines)"
	Value   string
	Err     error
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("mapr: %s: value %q: %v", e.Storage, e.Value, e.Err)
}

func (e *ValueError) Unwrap() error { return e.Err }

// TooManyGroupsError is returned by Add for a line dropped by MaxGroups.
type TooManyGroupsError struct{ Max int }

func (e *TooManyGroupsError) Error() string {
	return fmt.Sprintf("mapr: more than %d groups, dropping lines of new groups until the next report", e.Max)
}

// Add runs one line through the map steps of spec §4.12: parse (ignored
// lines are skipped), where, set, group key, then update every select
// entry whose field the line has; the group's samples grow by one if any
// entry applied. It returns the parser's error (the line is dropped), the
// first *ValueError of the line (that entry is skipped, the others apply),
// or *TooManyGroupsError; each is for the caller to log, none is fatal.
func (m *Mapper) Add(line []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.add(line)
}

// add is Add with m.mu held.
func (m *Mapper) add(line []byte) error {
	a := m.a
	if m.closed {
		return nil
	}
	fields, ok, err := m.p.Parse(line) // the parser trims the line
	if err != nil {
		a.errs.Add(1)
		return err
	}
	if !ok {
		if !logformat.HeaderLine(m.p) {
			m.skipped++
		}
		return nil
	}
	if !a.q.Match(fields) {
		return nil
	}
	a.q.Apply(fields)
	key := m.groupKey(fields)
	s := m.groups[key]
	var firstErr error
	applied := false
	for i := range a.cols {
		c := &a.cols[i]
		v, ok := fields[c.field]
		if !ok {
			continue
		}
		var f float64
		if c.op.numeric() {
			// Check before opening a group: a group exists only once
			// something applied (spec §4.12: groups are never empty).
			var err error
			f, err = strconv.ParseFloat(v, 64)
			if err == nil && c.op == opQuantile && f-f != 0 { // NaN, ±Inf
				err = errNotFinite
			}
			if err != nil {
				a.valErrs.Add(1)
				if firstErr == nil {
					firstErr = &ValueError{Storage: c.storage, Value: strings.Clone(v), Err: err}
				}
				continue
			}
		}
		if s == nil {
			if !a.openGroup() {
				a.dropped.Add(1)
				return &TooManyGroupsError{Max: a.maxGroups()}
			}
			s = newSet(len(a.ops))
			// Clone: the key may be a substring of a long line, or the
			// scratch buffer.
			m.groups[strings.Clone(key)] = s
		}
		if c.op.numeric() {
			_ = s.vals[c.slot].addFloat(c.op, f) // f is finite for sketches
		} else {
			_ = s.add(c, v, m.seq) // count, last and len cannot fail
		}
		applied = true
	}
	if applied {
		s.samples++
	}
	return firstErr
}

// groupKey returns the group fields' values joined by ",", a missing field
// counting as "". The result may alias m.key; it is only valid until the
// next call.
func (m *Mapper) groupKey(fields map[string]string) string {
	g := m.a.groupBy
	if len(g) == 1 {
		return fields[g[0]]
	}
	b := m.key[:0]
	for i, f := range g {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, fields[f]...)
	}
	m.key = b
	return unsafeString(b)
}

func (a *Aggregate) maxGroups() int {
	if a.MaxGroups == 0 {
		return DefaultMaxGroups
	}
	return a.MaxGroups
}

// openGroup reserves room for one more group.
func (a *Aggregate) openGroup() bool {
	max := a.maxGroups()
	if max < 0 {
		a.groups.Add(1)
		return true
	}
	if a.groups.Add(1) > int64(max) {
		a.groups.Add(-1)
		return false
	}
	return true
}

// mergeGroups folds src into dst, reusing src's sets where dst has none.
func (a *Aggregate) mergeGroups(dst, src map[string]*set) {
	for k, s := range src {
		if d, ok := dst[k]; ok {
			d.merge(s, a.ops)
		} else {
			dst[k] = s
		}
	}
}

// Serialize swaps out all groups (the aggregate starts empty: each call
// sends the delta since the previous one) and returns one message per
// group, in group key order:
//
//	AGGREGATE|host|groupkey∥samples∥key≔value∥…∥
//
// without the 0xAC delimiter, which the caller appends. It returns nil if
// there are no groups.
func (a *Aggregate) Serialize(host string) [][]byte {
	a.mu.Lock()
	// Block mappers pause between blocks, so that this delta holds a
	// prefix of each file's lines: a later delta never carries an older
	// last value.
	for b := range a.blocks {
		b.pause()
	}
	all := a.pending
	a.pending = make(map[string]*set)
	for m := range a.mappers {
		m.mu.Lock()
		g := m.groups
		m.groups = make(map[string]*set, len(g))
		m.mu.Unlock()
		a.mergeGroups(all, g)
	}
	a.groups.Store(0)
	for b := range a.blocks {
		b.resume()
	}
	a.mu.Unlock()

	if len(all) == 0 {
		return nil
	}
	keys := sortedKeys(all)
	msgs := make([][]byte, len(keys))
	for i, k := range keys {
		s := all[k]
		b := make([]byte, 0, len(aggregatePrefix)+len(host)+len(k)+64*len(s.vals))
		b = append(b, aggregatePrefix...)
		b = append(b, host...)
		b = append(b, '|')
		b = append(b, k...)
		b = append(b, fieldSep...)
		b = strconv.AppendInt(b, s.samples, 10)
		b = append(b, fieldSep...)
		msgs[i] = s.appendEntries(b, a.storages)
	}
	return msgs
}
