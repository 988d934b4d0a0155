package match

// Window applies grep's before/after/max rules (spec 4.9) to a stream of
// lines. It copies before-context lines, because the caller's buffers are
// reused between blocks.
type Window struct {
	m      *Matcher
	before int
	after  int
	max    int

	ring      []ctxLine
	ringHead  int
	ringLen   int
	afterLeft int
	matches   int
	done      bool
}

type ctxLine struct {
	data []byte
	no   uint64
}

// NewWindow creates a window; zero before/after/max disable each rule.
func NewWindow(m *Matcher, before, after, max int) *Window {
	w := &Window{m: m, before: before, after: after, max: max}
	if before > 0 {
		w.ring = make([]ctxLine, before)
	}
	return w
}

// Done reports that max was reached and no more lines will be emitted.
func (w *Window) Done() bool { return w.done }

// Matches reports how many matching lines were emitted.
func (w *Window) Matches() int { return w.matches }

// Feed handles one line (with its newline if it has one) numbered no.
// emit is called for every line to print, in order.
func (w *Window) Feed(line []byte, no uint64, emit func(line []byte, no uint64)) {
	if w.done {
		return
	}
	if !w.m.Match(trimNL(line)) {
		if w.afterLeft > 0 {
			w.afterLeft--
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
		emit(c.data, c.no)
		w.ringHead = (w.ringHead + 1) % len(w.ring)
		w.ringLen--
	}
	w.ringHead = 0
	emit(line, no)
	w.matches++
	w.afterLeft = w.after
	if w.max > 0 && w.matches >= w.max && w.after == 0 {
		w.done = true
	}
}

func (w *Window) push(line []byte, no uint64) {
	idx := (w.ringHead + w.ringLen) % len(w.ring)
	if w.ringLen == len(w.ring) {
		idx = w.ringHead
		w.ringHead = (w.ringHead + 1) % len(w.ring)
	} else {
		w.ringLen++
	}
	c := &w.ring[idx]
	c.data = append(c.data[:0], line...)
	c.no = no
}
