package mapr

import "github.com/dtail-go/dtail/internal/query"

// op is what a column does with a value: query.Agg resolved once.
type op uint8

const (
	opCount op = iota
	opSum
	opMin
	opMax
	opLast
	opAvg
	opLen
	opPercentage
	opPercentile
	opQuantile
)

// numeric reports whether the op needs its input parsed as a float on the
// map side (count does not look at the value, last and len keep strings).
func (o op) numeric() bool {
	switch o {
	case opSum, opMin, opMax, opAvg, opPercentage, opPercentile, opQuantile:
		return true
	}
	return false
}

// column is one select entry as the engine sees it.
type column struct {
	field   string // the field read from the line, e.g. "$goroutines"
	storage string // AGGREGATE key and header, e.g. "avg($goroutines)"
	op      op
	q       float64 // the quantile for opQuantile, in [0,1]
	// slot indexes the group set's values. Entries with equal storage
	// names share a slot, as they share the key of the reference's map.
	slot int
}

// columnsOf resolves the select clause. The second result is the number of
// distinct slots.
func columnsOf(q *query.Query) ([]column, int) {
	cols := make([]column, len(q.Selects))
	for i, s := range q.Selects {
		cols[i] = column{field: s.Field, storage: s.Storage, op: opOfAgg(s.Op()), q: s.Quantile}
	}
	return cols, assignSlots(cols)
}

func opOfAgg(a query.Agg) op {
	switch a {
	case query.AggCount:
		return opCount
	case query.AggSum:
		return opSum
	case query.AggMin:
		return opMin
	case query.AggMax:
		return opMax
	case query.AggAvg:
		return opAvg
	case query.AggLen:
		return opLen
	case query.AggPercentage:
		return opPercentage
	case query.AggPercentile:
		return opPercentile
	case query.AggQuantile:
		return opQuantile
	}
	return opLast
}

// assignSlots gives every distinct storage name one slot and returns the
// number of slots.
func assignSlots(cols []column) int {
	idx := make(map[string]int, len(cols))
	for i := range cols {
		n, ok := idx[cols[i].storage]
		if !ok {
			n = len(idx)
			idx[cols[i].storage] = n
		}
		cols[i].slot = n
	}
	return len(idx)
}
