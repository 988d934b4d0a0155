package mapr

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// SketchRelativeError is the sketch's guaranteed relative accuracy: for
// any quantile q, the estimate v' of the exact value v (the element of
// rank ⌊q·(n−1)⌋ in sorted order) satisfies |v'−v| ≤ 1 %·|v|, as long as
// the values span at most SketchMaxBuckets buckets of one sign (about
// eight decades, see below).
const SketchRelativeError = 0.01

// SketchMaxBuckets bounds each sign's store. With γ = 1.01/0.99 the
// buckets cover a factor γ^2048 ≈ 6·10^17 between the smallest and the
// largest magnitude kept exactly; smaller magnitudes are folded into the
// lowest bucket (DDSketch's "collapsing lowest" store), which loses
// accuracy only for those tiny values and keeps memory per group at
// 2×16 KiB at worst. Folding depends only on the largest index ever seen,
// so merged sketches stay equal to a sketch of all values.
const SketchMaxBuckets = 2048

// gamma and its logarithm define the buckets: bucket i holds magnitudes
// in (γ^(i−1), γ^i], and its midpoint estimate 2γ^i/(γ+1) is within α of
// every value in it.
var (
	sketchGamma    = (1 + SketchRelativeError) / (1 - SketchRelativeError)
	sketchLogGamma = math.Log(sketchGamma)
)

// Sketch is a mergeable quantile sketch in the manner of DDSketch
// (Masson, Rim, Lee: "DDSketch: A fast and fully-mergeable quantile sketch
// with relative-error guarantees", VLDB 2019): logarithmic buckets of
// counts for positive and negative values, a zero count, and the exact
// minimum and maximum to clamp estimates with.
//
// Two sketches merge by adding bucket counts, which is exact: Merge of the
// sketches of three servers equals the sketch of all their values, so the
// quantile is the same whichever way the lines were split.
// A Sketch is not safe for concurrent use.
type Sketch struct {
	pos, neg sketchStore
	zero     uint64
	count    uint64
	min, max float64
}

// NewSketch returns an empty sketch.
func NewSketch() *Sketch { return &Sketch{} }

// sketchStore holds the counts of consecutive bucket indexes.
type sketchStore struct {
	counts []uint64
	offset int // bucket index of counts[0]
}

// Count returns the number of values added.
func (s *Sketch) Count() uint64 { return s.count }

// Add adds one finite value; NaN and ±Inf are ignored.
func (s *Sketch) Add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	switch {
	case v > 0:
		s.pos.add(sketchIndex(v), 1)
	case v < 0:
		s.neg.add(sketchIndex(-v), 1)
	default:
		s.zero++
	}
	if s.count == 0 || v < s.min {
		s.min = v
	}
	if s.count == 0 || v > s.max {
		s.max = v
	}
	s.count++
}

// Merge adds o's values to s.
func (s *Sketch) Merge(o *Sketch) {
	if o == nil || o.count == 0 {
		return
	}
	s.pos.merge(&o.pos)
	s.neg.merge(&o.neg)
	s.zero += o.zero
	if s.count == 0 || o.min < s.min {
		s.min = o.min
	}
	if s.count == 0 || o.max > s.max {
		s.max = o.max
	}
	s.count += o.count
}

// Quantile returns the estimate of quantile q (0 ≤ q ≤ 1; clamped), or 0
// for an empty sketch.
func (s *Sketch) Quantile(q float64) float64 {
	if s.count == 0 {
		return 0
	}
	if !(q > 0) { // also NaN
		return s.min
	}
	if q >= 1 {
		return s.max
	}
	rank := uint64(q * float64(s.count-1)) // 0-based rank, rounded down
	var v float64
	var seen uint64
	found := false
	// Negative values, most negative (largest magnitude) first.
	for i := len(s.neg.counts) - 1; i >= 0 && !found; i-- {
		seen += s.neg.counts[i]
		if seen > rank {
			v, found = -sketchValue(s.neg.offset+i), true
		}
	}
	if !found {
		seen += s.zero
		if seen > rank {
			v, found = 0, true
		}
	}
	for i := 0; i < len(s.pos.counts) && !found; i++ {
		seen += s.pos.counts[i]
		if seen > rank {
			v, found = sketchValue(s.pos.offset+i), true
		}
	}
	// The clamp keeps the estimate inside the data (a one-value sketch
	// answers that value exactly) without breaking the error bound: the
	// true quantile lies in [min, max] too.
	return math.Min(math.Max(v, s.min), s.max)
}

// sketchIndex is the bucket of a positive magnitude.
func sketchIndex(v float64) int {
	return int(math.Ceil(math.Log(v) / sketchLogGamma))
}

// sketchValue is the estimate for bucket i: the point of (γ^(i−1), γ^i]
// with the same relative distance α to both ends.
func sketchValue(i int) float64 {
	return 2 * math.Exp(float64(i)*sketchLogGamma) / (sketchGamma + 1)
}

// add counts c values at bucket index i. Indexes more than
// SketchMaxBuckets−1 below the largest index seen are folded into the
// lowest allowed one; since the largest index only grows, each value ends
// up in max(i, top−SketchMaxBuckets+1) whatever the order of adds and
// merges, which keeps merging exact.
func (st *sketchStore) add(i int, c uint64) {
	if len(st.counts) == 0 {
		st.counts = append(st.counts[:0], c)
		st.offset = i
		return
	}
	top := st.offset + len(st.counts) - 1
	if i > top {
		st.counts = append(st.counts, make([]uint64, i-top)...)
		top = i
		if floor := top - SketchMaxBuckets + 1; st.offset < floor {
			n := floor - st.offset
			var folded uint64
			for _, x := range st.counts[:n] {
				folded += x
			}
			st.counts = append(st.counts[:0], st.counts[n:]...)
			st.counts[0] += folded
			st.offset = floor
		}
	}
	if floor := top - SketchMaxBuckets + 1; i < floor {
		i = floor
	}
	if i < st.offset {
		grown := make([]uint64, st.offset-i+len(st.counts))
		copy(grown[st.offset-i:], st.counts)
		st.counts = grown
		st.offset = i
	}
	st.counts[i-st.offset] += c
}

// merge adds o's counts, largest index first, so the fold limit is set
// before the smaller indexes arrive.
func (st *sketchStore) merge(o *sketchStore) {
	for j := len(o.counts) - 1; j >= 0; j-- {
		if o.counts[j] != 0 {
			st.add(o.offset+j, o.counts[j])
		}
	}
}

// sketchVersion is the first byte of the encoding, so that a later format
// can be told apart.
const sketchVersion = 1

// AppendEncoded appends the sketch's wire form: URL-safe unpadded base64
// of a version byte, the count, the zero count, min and max (IEEE bits),
// then each store as bucket count, first index and counts, all varints.
// The alphabet keeps the value clear of the AGGREGATE separators (∥, ≔)
// and of the 0xAC message delimiter.
func (s *Sketch) AppendEncoded(dst []byte) []byte {
	raw := make([]byte, 0, 32+2*(len(s.pos.counts)+len(s.neg.counts)))
	raw = append(raw, sketchVersion)
	raw = binary.AppendUvarint(raw, s.count)
	raw = binary.AppendUvarint(raw, s.zero)
	raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(s.min))
	raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(s.max))
	for _, st := range [...]*sketchStore{&s.pos, &s.neg} {
		raw = binary.AppendUvarint(raw, uint64(len(st.counts)))
		raw = binary.AppendVarint(raw, int64(st.offset))
		for _, c := range st.counts {
			raw = binary.AppendUvarint(raw, c)
		}
	}
	return base64.RawURLEncoding.AppendEncode(dst, raw)
}

// String returns the wire form.
func (s *Sketch) String() string { return string(s.AppendEncoded(nil)) }

// errSketch is the one-line error for any malformed encoding; the input
// comes from the network.
var errSketch = errors.New("malformed quantile sketch")

// DecodeSketch parses the wire form of AppendEncoded. It checks every
// length against the input and the counts against each other, so hostile
// input yields an error, never a panic or a huge allocation.
func DecodeSketch(text string) (*Sketch, error) {
	raw, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil || len(raw) == 0 {
		return nil, errSketch
	}
	if raw[0] != sketchVersion {
		return nil, fmt.Errorf("%w: version %d", errSketch, raw[0])
	}
	r := sketchReader{b: raw[1:]}
	s := &Sketch{count: r.uvarint(), zero: r.uvarint()}
	s.min = math.Float64frombits(r.uint64())
	s.max = math.Float64frombits(r.uint64())
	total := s.zero
	for _, st := range [...]*sketchStore{&s.pos, &s.neg} {
		n := r.uvarint()
		off := r.varint()
		// Every count takes at least one byte, which bounds n by the input.
		if r.err || n > SketchMaxBuckets || n > uint64(len(r.b)) ||
			off < math.MinInt32 || off > math.MaxInt32 {
			return nil, errSketch
		}
		if n == 0 {
			continue
		}
		st.offset = int(off)
		st.counts = make([]uint64, n)
		for i := range st.counts {
			c := r.uvarint()
			if total+c < total {
				return nil, errSketch
			}
			total += c
			st.counts[i] = c
		}
	}
	if r.err || len(r.b) != 0 || total != s.count ||
		(s.count > 0 && !(s.min <= s.max)) || math.IsInf(s.min, 0) || math.IsInf(s.max, 0) {
		return nil, errSketch
	}
	if s.count == 0 {
		s.min, s.max = 0, 0
	}
	return s, nil
}

// sketchReader reads varints and remembers the first error.
type sketchReader struct {
	b   []byte
	err bool
}

func (r *sketchReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = true
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *sketchReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = true
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *sketchReader) uint64() uint64 {
	if len(r.b) < 8 {
		r.err = true
		r.b = nil
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}
