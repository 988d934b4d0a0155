package mapr

import (
	"errors"
	"math"
	"strconv"
)

// value is one slot of a group set. A slot holds a float (count, sum,
// min, max, avg, percentage, percentile; len's length), a string (last;
// len's value) or a sketch (quantiles). The has flags tell "never seen"
// from zero: min and max must not compare against an absent 0.
type value struct {
	f  float64
	s  string
	sk *Sketch
	// buf holds s on the map side: field values may borrow the reader's
	// buffer (logformat.Options.Borrow), so last and len copy them, into
	// the same bytes every line instead of a new string each.
	buf []byte
	// seq orders last/len values of different mappers of one aggregate
	// (Mapper.seq): merging keeps the value with the highest.
	seq  uint64
	hasF bool
	hasS bool
}

// set is the partial aggregate of one group.
type set struct {
	// samples counts the lines (map side) or sums the partials' samples
	// (reduce side) in which at least one select entry applied; avg
	// divides by it.
	samples int64
	vals    []value
}

func newSet(slots int) *set { return &set{vals: make([]value, slots)} }

// errNotFinite rejects NaN and ±Inf for quantile sketches, which cannot
// place them in a bucket. The 4.x aggregations accept whatever
// strconv.ParseFloat accepts, as the reference does.
var errNotFinite = errors.New("not a finite number")

// add is the map-side update of one select entry with a field's value
// (spec §4.12 step 5). It fails only for a non-float input of a numeric
// aggregation, which the caller skips.
func (s *set) add(c *column, v string, seq uint64) error {
	x := &s.vals[c.slot]
	switch c.op {
	case opCount:
		x.f++
		x.hasF = true
		return nil
	case opLast:
		x.setString(v, seq)
		return nil
	case opLen:
		x.setString(v, seq)
		x.f, x.hasF = float64(len(v)), true
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return err
	}
	return x.addFloat(c.op, f)
}

// setString stores a copy of v in the slot's own buffer. The string aliases
// the buffer; the next setString of this slot replaces both, and a set
// that was swapped out of its mapper is never written again, so a copy
// taken by merge stays valid.
func (x *value) setString(v string, seq uint64) {
	if x.hasS && x.s == v {
		x.seq = seq
		return // the common case of a last over a group field
	}
	x.buf = append(x.buf[:0], v...)
	x.s, x.hasS, x.seq = unsafeString(x.buf), true, seq
}

// addFloat folds one number into the slot: the accumulation shared by the
// map side (one line's value) and the reduce side (one partial's value).
func (x *value) addFloat(o op, f float64) error {
	switch o {
	case opMin:
		if !x.hasF || f < x.f {
			x.f = f
		}
	case opMax:
		if !x.hasF || f > x.f {
			x.f = f
		}
	case opQuantile:
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return errNotFinite
		}
		if x.sk == nil {
			x.sk = NewSketch()
		}
		x.sk.Add(f)
		return nil
	default: // count (reduce side), sum, avg, percentage, percentile
		x.f += f
	}
	x.hasF = true
	return nil
}

// mergeEntry is the reduce-side update of one select entry with the value
// a server sent for its storage key (spec §5.9): counts and sums add,
// min/max keep the extreme, last overwrites, len takes the value and its
// length, a sketch merges.
func (s *set) mergeEntry(c *column, v string) error {
	x := &s.vals[c.slot]
	switch c.op {
	case opLast:
		x.s, x.hasS = v, true
		return nil
	case opLen:
		x.s, x.hasS = v, true
		x.f, x.hasF = float64(len(v)), true
		return nil
	case opQuantile:
		sk, err := DecodeSketch(v)
		if err != nil {
			return err
		}
		if x.sk == nil {
			x.sk = NewSketch()
		}
		x.sk.Merge(sk)
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return err
	}
	return x.addFloat(c.op, f)
}

// merge folds another partial set of the same group into s (map side:
// the sets of several readers of one session). ops gives each slot's op.
func (s *set) merge(o *set, ops []op) {
	s.samples += o.samples
	for i := range o.vals {
		y := &o.vals[i]
		x := &s.vals[i]
		switch ops[i] {
		case opLast:
			if y.hasS && (!x.hasS || y.seq >= x.seq) {
				x.s, x.hasS, x.seq = y.s, true, y.seq
			}
		case opLen:
			if y.hasS && (!x.hasS || y.seq >= x.seq) {
				x.s, x.hasS, x.seq = y.s, true, y.seq
				x.f, x.hasF = y.f, y.hasF
			}
		case opQuantile:
			if y.sk != nil {
				if x.sk == nil {
					x.sk = NewSketch()
				}
				x.sk.Merge(y.sk)
			}
		default:
			if y.hasF {
				_ = x.addFloat(ops[i], y.f) // never fails: not a quantile
			}
		}
	}
}

// slotOps returns the op of every slot.
func slotOps(cols []column, slots int) []op {
	ops := make([]op, slots)
	for _, c := range cols {
		ops[c.slot] = c.op
	}
	return ops
}

// appendEntries appends the set's "KEY≔VALUE∥" entries: floats first, in
// Go's shortest 'f' format, then strings, then sketches (spec §4.12:
// strings after floats, so a len key's string part comes last).
func (s *set) appendEntries(b []byte, storages []string) []byte {
	for i := range s.vals {
		if x := &s.vals[i]; x.hasF {
			b = append(b, storages[i]...)
			b = append(b, kvSep...)
			b = strconv.AppendFloat(b, x.f, 'f', -1, 64)
			b = append(b, fieldSep...)
		}
	}
	for i := range s.vals {
		if x := &s.vals[i]; x.hasS {
			b = append(b, storages[i]...)
			b = append(b, kvSep...)
			b = append(b, x.s...)
			b = append(b, fieldSep...)
		}
	}
	for i := range s.vals {
		if x := &s.vals[i]; x.sk != nil {
			b = append(b, storages[i]...)
			b = append(b, kvSep...)
			b = x.sk.AppendEncoded(b)
			b = append(b, fieldSep...)
		}
	}
	return b
}

// slotStorages returns each slot's storage name.
func slotStorages(cols []column, slots int) []string {
	st := make([]string, slots)
	for _, c := range cols {
		st[c.slot] = c.storage
	}
	return st
}
