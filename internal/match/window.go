package match

// Window applies grep's before/after/max rules (spec 4.9) to a stream of
// lines. It copies before-context lines, because the caller's buffers are
// reused between blocks.
//
// The before-context ring grows with the lines it actually holds, never
// to `before` entries up front: a client may ask for any count, and an
// up-front ring of 2e9 entries killed the whole server. Its memory is
// bounded in bytes (MaxBytes); when a line does not fit, the oldest
// context lines are dropped and Truncated reports it.
type Window struct {
	m      *Matcher
	before int
	after  int
	max    int

	// MaxBytes bounds the memory of the before-context ring (line copies
	// plus per-entry overhead); ≤ 0 means DefaultContextBytes.
	MaxBytes int64
	// Reserve, if set, is asked before the ring grows by n bytes; false
	// keeps the line out of the ring (the caller's budget is spent).
	// Release gives bytes back when the ring shrinks or is closed.
	Reserve func(n int64) bool
	Release func(n int64)
	// Offset is stored with every line kept as context; EmitOffset returns
	// the stored value of the line being emitted.
	Offset int64

	ring      []ctxLine
	ringHead  int
	ringLen   int
	bytes     int64
	emitOff   int64
	truncated bool
	afterLeft int
	matches   int
	done      bool
}

type ctxLine struct {
	data []byte
	no   uint64
	off  int64
}

// DefaultContextBytes bounds one before-context ring unless MaxBytes says
// otherwise.
const DefaultContextBytes = 16 << 20

// entryOverhead is what one ring entry costs besides its line bytes.
const entryOverhead = 48

// NewWindow creates a window; zero before/after/max disable each rule.
func NewWindow(m *Matcher, before, after, max int) *Window {
	return &Window{m: m, before: before, after: after, max: max}
}

// Done reports that max was reached and no more lines will be emitted.
func (w *Window) Done() bool { return w.done }

// Matches reports how many matching lines were emitted.
func (w *Window) Matches() int { return w.matches }

// Truncated reports that before-context lines were dropped to stay within
// MaxBytes (or the caller's budget).
func (w *Window) Truncated() bool { return w.truncated }

// Bytes is the memory the ring holds now.
func (w *Window) Bytes() int64 { return w.bytes }

// EmitOffset is the Offset stored with the line being emitted.
func (w *Window) EmitOffset() int64 { return w.emitOff }

// Close frees the ring and gives its bytes back (Release).
func (w *Window) Close() {
	if w.bytes > 0 && w.Release != nil {
		w.Release(w.bytes)
	}
	w.ring, w.ringHead, w.ringLen, w.bytes = nil, 0, 0, 0
}

// Feed handles one line (with its newline if it has one) numbered no.
// emit is called for every line to print, in order.
func (w *Window) Feed(line []byte, no uint64, emit func(line []byte, no uint64)) {
	if w.done {
		return
	}
	if !w.m.Match(trimNL(line)) {
		if w.afterLeft > 0 {
			w.afterLeft--
			w.emitOff = w.Offset
			emit(line, no)
			if w.afterLeft == 0 && w.max > 0 && w.matches >= w.max {
				w.done = true
			}
			return
		}
		if w.before > 0 {
			w.push(line, no)
		}
		return
	}
	if w.max > 0 && w.matches >= w.max {
		// The reference stops at the first match after max was reached.
		w.done = true
		return
	}
	for w.ringLen > 0 {
		c := &w.ring[w.ringHead]
		w.emitOff = c.off
		emit(c.data, c.no)
		w.ringHead = (w.ringHead + 1) % len(w.ring)
		w.ringLen--
	}
	w.ringHead = 0
	w.emitOff = w.Offset
	emit(line, no)
	w.matches++
	w.afterLeft = w.after
	if w.max > 0 && w.matches >= w.max && w.after == 0 {
		w.done = true
	}
}

func (w *Window) limit() int64 {
	if w.MaxBytes > 0 {
		return w.MaxBytes
	}
	return DefaultContextBytes
}

// grow accounts n more bytes; false when the limit or budget refuses.
func (w *Window) grow(n int64) bool {
	if n <= 0 {
		w.shrink(-n)
		return true
	}
	if w.bytes+n > w.limit() {
		return false
	}
	if w.Reserve != nil && !w.Reserve(n) {
		return false
	}
	w.bytes += n
	return true
}

func (w *Window) shrink(n int64) {
	if n <= 0 {
		return
	}
	w.bytes -= n
	if w.Release != nil {
		w.Release(n)
	}
}

// dropOldest forgets the oldest context line and frees its copy.
func (w *Window) dropOldest() {
	c := &w.ring[w.ringHead]
	w.shrink(int64(cap(c.data)))
	c.data = nil
	w.ringHead = (w.ringHead + 1) % len(w.ring)
	w.ringLen--
	w.truncated = true
}

// freeSpare frees the copy of one unused entry other than skip; false
// when there is none.
func (w *Window) freeSpare(skip int) bool {
	for i := w.ringLen; i < len(w.ring); i++ {
		j := (w.ringHead + i) % len(w.ring)
		if c := &w.ring[j]; j != skip && cap(c.data) > 0 {
			w.shrink(int64(cap(c.data)))
			c.data = nil
			return true
		}
	}
	return false
}

func (w *Window) push(line []byte, no uint64) {
	if w.ringLen == w.before {
		// Full by count: the oldest entry is reused for the new line.
		w.ringHead = (w.ringHead + 1) % len(w.ring)
		w.ringLen--
	}
	if w.ringLen == len(w.ring) && !w.growRing() {
		if w.ringLen == 0 {
			w.truncated = true
			return
		}
		w.dropOldest()
	}
	idx := (w.ringHead + w.ringLen) % len(w.ring)
	c := &w.ring[idx]
	if cap(c.data) < len(line) {
		w.shrink(int64(cap(c.data)))
		c.data = nil
		for !w.grow(int64(len(line))) {
			switch {
			case w.freeSpare(idx):
			case w.ringLen > 0:
				w.dropOldest()
			default:
				// Not even this one line fits: keep no context.
				w.truncated = true
				return
			}
		}
		c.data = make([]byte, len(line))
	}
	c.data = append(c.data[:0], line...)
	c.no = no
	c.off = w.Offset
	w.ringLen++
}

// growRing adds entries (doubling, at most before) when the limit allows.
func (w *Window) growRing() bool {
	n := min(max(16, 2*len(w.ring)), w.before)
	if n <= len(w.ring) || !w.grow(int64(n-len(w.ring))*entryOverhead) {
		return false
	}
	nr := make([]ctxLine, n)
	for i := range w.ring {
		nr[i] = w.ring[(w.ringHead+i)%len(w.ring)]
	}
	w.ring, w.ringHead = nr, 0
	return true
}
