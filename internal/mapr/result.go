package mapr

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/dtail-go/dtail/internal/query"
)

// Result is the reduce side (spec §5.9): the global set the AGGREGATE
// messages of all servers merge into. All methods are safe for concurrent
// use; connections to many servers may call Merge at once.
type Result struct {
	q     *query.Query
	cols  []column
	slots int

	// MaxGroups bounds the groups the result holds (0 means
	// DefaultMaxGroups, negative no limit): a message that would open one
	// more is dropped. The first drop makes Merge return a
	// *TooManyGroupsError, so the client warns once; later drops are only
	// counted (DroppedMessages).
	MaxGroups int

	mu      sync.Mutex
	groups  map[string]*set
	dropped int
	cov     Coverage
}

// Coverage is what the merged messages held over the whole run (Reset and
// TakeRows keep it). It lets the client say why a result is empty or
// blank instead of printing zeros as if they were data: a field in no
// line, a group field that was always empty (issue 13).
type Coverage struct {
	// Messages is the number of messages merged.
	Messages int64
	// Columns tells, per select entry, whether any message had its value.
	Columns []bool
	// KeyNotEmpty is set once a group key had a non-empty group field.
	KeyNotEmpty bool
}

// Coverage returns a copy of the result's coverage.
func (r *Result) Coverage() Coverage {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.cov
	c.Columns = append([]bool(nil), r.cov.Columns...)
	return c
}

// DroppedMessages returns the number of messages dropped by MaxGroups.
func (r *Result) DroppedMessages() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// NewResult returns an empty result for the query.
func NewResult(q *query.Query) *Result {
	cols, slots := columnsOf(q)
	return newResult(q, cols, slots)
}

func newResult(q *query.Query, cols []column, slots int) *Result {
	return &Result{q: q, cols: cols, slots: slots, groups: make(map[string]*set), cov: Coverage{Columns: make([]bool, len(cols))}}
}

// entry is one KEY≔VALUE of a message.
type entry struct{ key, val string }

// Merge merges one AGGREGATE message, `AGGREGATE|host|groupkey∥samples∥
// key≔value∥…∥` without the 0xAC delimiter. For each select entry whose
// storage key the message has (the last occurrence wins, so len's string
// part is used), counts, sums and the bases of avg, percentage and
// percentile add, min and max keep the extreme, last overwrites, len takes
// the value and its length; samples add if any entry was present.
//
// A malformed message is rejected whole, with a one-line error, and
// changes nothing.
func (r *Result) Merge(msg []byte) error {
	body, ok := strings.CutPrefix(string(msg), aggregatePrefix)
	if !ok {
		return fmt.Errorf("mapr: not an AGGREGATE message: %.40q", msg)
	}
	_, body, ok = strings.Cut(body, "|") // the server's short hostname
	if !ok {
		return fmt.Errorf("mapr: AGGREGATE message without host: %.40q", msg)
	}
	parts := strings.Split(body, fieldSep)
	if len(parts) < 4 {
		return fmt.Errorf("mapr: AGGREGATE message has %d parts, want at least 4: %.40q", len(parts), msg)
	}
	samples, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || samples < 0 {
		return fmt.Errorf("mapr: AGGREGATE message has bad samples %.20q", parts[1])
	}
	entries := make([]entry, 0, len(parts)-2)
	for i, p := range parts[2:] {
		if p == "" && i == len(parts)-3 {
			break // the trailing empty part
		}
		k, v, ok := strings.Cut(p, kvSep)
		if !ok {
			return fmt.Errorf("mapr: AGGREGATE entry without '≔': %.40q", p)
		}
		entries = append(entries, entry{k, v})
	}

	// Validate every value first, so a bad message leaves no half merge.
	vals := make([]string, len(r.cols))
	have := make([]bool, len(r.cols))
	for i := range r.cols {
		c := &r.cols[i]
		for j := len(entries) - 1; j >= 0; j-- {
			if entries[j].key == c.storage {
				vals[i], have[i] = entries[j].val, true
				break
			}
		}
		if !have[i] {
			continue
		}
		switch c.op {
		case opLast, opLen:
		case opQuantile:
			if _, err := DecodeSketch(vals[i]); err != nil {
				return fmt.Errorf("mapr: AGGREGATE value of %s: %v", c.storage, err)
			}
		default:
			if _, err := strconv.ParseFloat(vals[i], 64); err != nil {
				return fmt.Errorf("mapr: AGGREGATE value of %s is not a number: %.40q", c.storage, vals[i])
			}
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	key := parts[0]
	s := r.groups[key]
	if s == nil && r.MaxGroups >= 0 {
		max := r.MaxGroups
		if max == 0 {
			max = DefaultMaxGroups
		}
		if len(r.groups) >= max {
			r.dropped++
			if r.dropped == 1 {
				return &TooManyGroupsError{Max: max}
			}
			return nil
		}
	}
	applied := false
	for i := range r.cols {
		if !have[i] {
			continue
		}
		r.cov.Columns[i] = true
		if s == nil {
			s = newSet(r.slots)
			r.groups[key] = s
		}
		_ = s.mergeEntry(&r.cols[i], vals[i]) // validated above
		applied = true
	}
	if applied {
		s.samples += samples
		r.cov.Messages++
		if strings.Trim(key, ",") != "" {
			r.cov.KeyNotEmpty = true
		}
	}
	return nil
}

// Len returns the number of groups.
func (r *Result) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.groups)
}

// Reset empties the result (non-cumulative mode, spec §5.9).
func (r *Result) Reset() {
	r.mu.Lock()
	r.groups = make(map[string]*set)
	r.mu.Unlock()
}

// TakeRows returns Rows and empties the result in one step, so no message
// merged in between is lost: the per-interval report of non-cumulative
// mode.
func (r *Result) TakeRows() [][]string {
	r.mu.Lock()
	g := r.groups
	r.groups = make(map[string]*set)
	r.mu.Unlock()
	return r.rows(g)
}

// Rows returns one row of value strings per group, in the order of the
// select clause, formatted as spec §6.6: count as an integer, last and
// plain fields raw, everything else "%f" (a missing number is 0.000000,
// avg is Σsum/Σsamples, percentage is the group's share of the sum over
// all groups, percentile the share of groups whose value is not larger).
//
// Rows are sorted by group key, then, with "order by", stably by the order
// column descending ("rorder by": ascending), comparing numbers (a
// non-numeric last value counts as 0). All rows are returned: the limit
// clause and the terminal's default limit are applied by RenderTable and
// WriteCSV, which need the cut rows too (for column widths and the
// warning).
func (r *Result) Rows() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rows(r.groups)
}

func (r *Result) rows(groups map[string]*set) [][]string {
	keys := sortedKeys(groups)
	sets := make([]*set, len(keys))
	for i, k := range keys {
		sets[i] = groups[k]
	}
	nums := make([][]float64, len(r.cols)) // numeric value per column and row
	for ci := range r.cols {
		nums[ci] = r.columnValues(&r.cols[ci], sets)
	}
	rows := make([][]string, len(sets))
	for ri, s := range sets {
		row := make([]string, len(r.cols))
		for ci := range r.cols {
			c := &r.cols[ci]
			switch c.op {
			case opLast:
				row[ci] = s.vals[c.slot].s
			case opCount:
				row[ci] = strconv.FormatInt(int64(nums[ci][ri]), 10)
			default:
				row[ci] = strconv.FormatFloat(nums[ci][ri], 'f', 6, 64)
			}
		}
		rows[ri] = row
	}
	if o := r.q.Order; o != nil {
		ci := -1
		for i := range r.cols {
			if r.cols[i].storage == o.Field {
				ci = i
				break
			}
		}
		if ci >= 0 {
			idx := make([]int, len(rows))
			for i := range idx {
				idx[i] = i
			}
			v := nums[ci]
			desc := o.Descending()
			sort.SliceStable(idx, func(a, b int) bool {
				if desc {
					return v[idx[a]] > v[idx[b]]
				}
				return v[idx[a]] < v[idx[b]]
			})
			sorted := make([][]string, len(rows))
			for i, j := range idx {
				sorted[i] = rows[j]
			}
			rows = sorted
		}
	}
	return rows
}

// columnValues computes a column's number for every group: the printed
// value of numeric columns, the sort value of last columns.
func (r *Result) columnValues(c *column, sets []*set) []float64 {
	out := make([]float64, len(sets))
	for i, s := range sets {
		x := &s.vals[c.slot]
		switch c.op {
		case opLast:
			f, err := strconv.ParseFloat(x.s, 64)
			if err == nil {
				out[i] = f
			}
		case opAvg:
			if s.samples > 0 {
				out[i] = x.f / float64(s.samples)
			}
		case opQuantile:
			if x.sk != nil {
				out[i] = x.sk.Quantile(c.q)
			}
		default:
			out[i] = x.f // 0 when absent
		}
	}
	switch c.op {
	case opPercentage:
		var total float64
		for _, f := range out {
			total += f
		}
		for i := range out {
			if total != 0 {
				out[i] = out[i] / total * 100
			} else {
				out[i] = 0
			}
		}
	case opPercentile:
		sorted := append([]float64(nil), out...)
		sort.Float64s(sorted)
		for i, f := range out {
			// Number of groups with a value ≤ f.
			n := sort.Search(len(sorted), func(j int) bool { return sorted[j] > f })
			out[i] = float64(n) / float64(len(out)) * 100
		}
	}
	return out
}
