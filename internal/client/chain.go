package client

import (
	"bytes"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/reader"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// The client's one output chain. Serverless and remote runs build it
// once from the Options (newChain) and push typed lines into it: the
// serverless run from the reader's records (local.go), the remote run
// from decoded server messages (remote.go). The stages, in order:
//
//	client-side time window  (remote: a DTail 4.x server cannot filter)
//	client-side count        (remote: a DTail 4.x server sends the lines)
//	--max-total budget       (lineBudget, the same rule for both modes)
//	merge by time            (remote, --merge-by-time)
//	one printer              (plain, REMOTE text, ndjson or coalesce)
//
// grep's `--` separators and the -c/-l result lines belong to the
// printer as well. What reaches stdout therefore cannot depend on the
// mode that produced the lines.

// printerKind is the one printer of a run.
type printerKind int

const (
	// printRemote writes REMOTE|host|percent|no|id|content, painted
	// when the run has colours (DTail 4.x's default output).
	printRemote printerKind = iota
	// printPlain writes the content only (--plain).
	printPlain
	// printNDJSON writes one JSON object per line (--output ndjson).
	printNDJSON
	// printCoalesce counts lines by template (--coalesce); the caller
	// prints the summary.
	printCoalesce
)

// line is one payload line on its way through the chain. Its byte
// slices belong to the caller and are valid during put only.
type line struct {
	host, percent, id []byte
	// no is the line number, 0 when unknown, and off the byte offset in
	// the (decompressed) file, -1 unknown, of a line read here. noText is
	// the line number field as a server sent it (`N` or `N@OFFSET`),
	// nil for lines read here: REMOTE text prints it as it came, the
	// printers that need number or offset parse it (numbers).
	no     uint64
	off    int64
	noText []byte
	// content is the line with its newline when it had one.
	content []byte
	// cut: a piece of an over-long line split at MaxLineLength; it has
	// no newline but is not the last line of its file.
	cut bool
	// headerless: the line came without a REMOTE header (a bare line of
	// our server, a line of an interactive plain session, or the rest of
	// a line a DTail 4.x server cut at the delimiter byte).
	headerless bool
	// altered: the rest of a line a DTail 4.x server cut at the
	// delimiter byte; counted when it is printed.
	altered bool
}

// chainMode tells newChain where the lines come from.
type chainMode struct {
	// remote: lines come from servers. Only then do the client-side
	// window and count stages exist (a serverless reader filters and
	// counts itself) and can lines of several hosts be merged by time.
	remote bool
	// stop is called when --max-total was reached.
	stop func()
	// perLine: every printed line goes out on its own (remote: each
	// line is one Write, so lines of different servers never mix): to
	// stdout when set, and without colours to log when set. Otherwise a
	// stream batches its output (serverless, stream.buf).
	perLine bool
	stdout  *Output
	log     func([]byte)
	// noColor: the output does not reach a terminal's stdout (remote
	// runs logging the payload to a file only).
	noColor bool
}

// chain holds the stages a run built once from its Options.
type chain struct {
	printer printerKind
	scheme  *color.Scheme // printRemote only; nil: no colours
	// rawEOF: a file's last line without newline stays so (dcat --plain
	// is byte-identical to cat); only lines read here know that.
	rawEOF bool
	// seps: grep's `--` between non-adjacent context groups of plain
	// output; runSeps spans every file of a serverless run, a remote run
	// keeps one per server.
	seps    bool
	runSeps *groupSeps
	// count and fwm: lines are counted per file instead of printed
	// (remote: a DTail 4.x server ignores the count option).
	count, fwm bool
	// window is the client-side time window (remote, for servers that
	// cannot apply it).
	window *timewindow.Window
	budget *lineBudget
	merger *timeMerger
	co     *Coalescer
	// perLine, stdout, log: see chainMode.
	perLine bool
	stdout  *Output
	log     func([]byte)
	// copyRuns: whole blocks of selected lines (sink.Record.Run) are the
	// output as they are.
	copyRuns bool
	// altered counts lines a DTail 4.x server cut at the delimiter byte.
	altered atomic.Int64
}

// newChain builds the stages of a run from its options; both modes call
// it.
func newChain(o Options, m chainMode) *chain {
	c := &chain{budget: newLineBudget(o.Grep.MaxTotal, m.stop), co: o.Output.Coalesce,
		perLine: m.perLine, stdout: m.stdout, log: m.log}
	switch {
	case o.Output.Coalesce != nil:
		c.printer = printCoalesce
	case o.Output.NDJSON:
		c.printer = printNDJSON
	case o.Output.Plain:
		c.printer = printPlain
	default:
		c.printer = printRemote
		if !m.noColor {
			c.scheme = o.Output.Colors
		}
	}
	c.count, c.fwm = o.Grep.Count || o.Grep.FilesWithMatches, o.Grep.FilesWithMatches
	merge := m.remote && o.Output.MergeByTime
	// Like grep -A/-B/-C. The REMOTE format carries line numbers instead
	// and stays as DTail 4.x prints it (spec 4.9).
	c.seps = c.printer == printPlain && (o.Grep.Before > 0 || o.Grep.After > 0) && !c.count && !merge
	if c.seps && !m.remote {
		c.runSeps = &groupSeps{}
	}
	if !m.remote {
		// The reader counts and applies the window itself.
		c.count, c.window = false, nil
		c.rawEOF = c.printer == printPlain && readMode(o.Mode) == reader.Cat
	} else {
		c.window = o.Grep.Window
	}
	c.copyRuns = c.printer == printPlain && c.budget == nil && !c.seps
	if merge {
		ms := c.stream()
		ms.seps = nil
		c.merger = newTimeMerger(o.Output.MergeWindow, ms.print)
	}
	return c
}

// stream is one goroutine's way into the chain: its scratch buffers and
// the per-source state of the stages (separators, time window filters,
// timestamp parser). A serverless run has one per file, a remote run one
// per server.
type stream struct {
	c *chain
	// buf is printed output not yet handed on: a batch of a serverless
	// file, or the one line being emitted.
	buf []byte
	// tmp holds the uncoloured REMOTE line being painted.
	tmp []byte
	hdr headerWriter
	ts  *timewindow.Extractor
	// hostS and idS are host and id of the last NDJSON line as strings.
	hostB, idB []byte
	hostS, idS string
	seps       *groupSeps
	files      map[string]*fileSeps
	lastSepsID []byte
	lastSeps   *fileSeps
	// tw filters by time for a server that cannot (remote); counts
	// takes the counted lines of a server (remote, counting runs).
	tw     *clientWindow
	counts *fileCounts
	// direct: the chain has no stage before the printer (no window,
	// count, budget or merge), so put is print.
	direct bool
	// fixed: every line of the stream has the same host, percent and id
	// (one file read here), set once by fix: no per-line comparisons.
	fixed bool
	// conn names the connection for the merge.
	conn string
	// scratch is the adapter's own buffer (remote: SERVER diagnostics).
	scratch []byte
}

// stream returns a new stream of the chain.
func (c *chain) stream() *stream {
	s := &stream{c: c, direct: c.window == nil && !c.count && c.budget == nil && c.merger == nil}
	if c.seps {
		s.seps = c.runSeps
		if s.seps == nil {
			s.seps = &groupSeps{}
		}
	}
	return s
}

// fix declares host, percent and id of l the same for every line of the
// stream (a serverless file).
func (s *stream) fix(l *line) {
	s.hdr.set(l.host, l.percent, l.id)
	s.hostB, s.hostS = append(s.hostB[:0], l.host...), string(l.host)
	s.idB, s.idS = append(s.idB[:0], l.id...), string(l.id)
	s.fixed = true
}

// put takes one line through the stages.
func (s *stream) put(l *line) {
	if s.direct {
		s.print(l)
		return
	}
	c := s.c
	if s.tw != nil && !s.tw.applied && !s.tw.keep(c.window, l) {
		return
	}
	if s.counts != nil {
		if l.headerless {
			// The rest of a line a DTail 4.x server cut at the delimiter.
			c.altered.Add(1)
			return
		}
		s.counts.add(string(l.id), 1)
		return
	}
	if !c.budget.take() {
		return // lines still arriving after --max-total was reached
	}
	if c.merger != nil && !l.headerless {
		c.merger.add(s.conn, l)
		return
	}
	s.print(l)
}

// print is the printer: it writes l into s.buf (and emits it).
func (s *stream) print(l *line) {
	c := s.c
	if l.altered {
		c.altered.Add(1)
	}
	start := len(s.buf)
	raw := -1 // start of the uncoloured copy in s.tmp, -1: s.buf is it
	switch {
	case c.printer == printNDJSON:
		s.buf = s.appendNDJSON(s.buf, l)
	case c.printer == printCoalesce && !l.headerless:
		c.co.add(l.host, l.content)
		return
	case c.printer == printPlain:
		if s.seps != nil && !l.headerless {
			if no, _ := l.numbers(); no != 0 && s.fileSeps(l.id).separates(no) {
				s.buf = append(s.buf, groupSeparator...)
			}
		}
		if c.rawEOF && !l.cut && (len(l.content) == 0 || l.content[len(l.content)-1] != '\n') {
			// The file's last line, without newline, stays so, like cat.
			s.buf = append(s.buf, l.content...)
			break
		}
		s.buf = appendPlainLine(s.buf, l.content)
	case l.headerless:
		s.buf = appendPlainLine(s.buf, l.content)
	case c.scheme == nil:
		s.buf = append(s.appendHeader(s.buf, l), '\n')
	default:
		s.tmp = s.appendHeader(s.tmp[:0], l)
		s.buf = paint(s.buf, s.tmp, c.scheme)
		if c.log != nil {
			s.tmp = append(s.tmp, '\n')
			raw = 0
		}
	}
	if !c.perLine {
		return
	}
	out := s.buf[start:]
	if c.log != nil {
		if raw >= 0 {
			c.log(s.tmp)
		} else {
			c.log(out)
		}
	}
	if c.stdout != nil {
		c.stdout.Write(out)
	}
	s.buf = s.buf[:start]
	// Long lines would otherwise pin large buffers for the whole run.
	if cap(s.buf) > 4<<20 || cap(s.tmp) > 4<<20 {
		s.buf, s.tmp = nil, nil
	}
}

// appendHeader writes l as a REMOTE line without its newline.
func (s *stream) appendHeader(dst []byte, l *line) []byte {
	if !s.fixed {
		s.hdr.set(l.host, l.percent, l.id)
	}
	if l.noText != nil {
		return s.hdr.appendRaw(dst, l.noText, l.content)
	}
	return s.hdr.appendNumbered(dst, l.no, l.content)
}

// appendNDJSON writes l as a JSON object for jq: host, file, line
// number, byte offset (when known) and the timestamp found in the line.
func (s *stream) appendNDJSON(dst []byte, l *line) []byte {
	if s.ts == nil {
		s.ts = timewindow.NewExtractor(time.Now())
	}
	if !s.fixed {
		if !bytes.Equal(l.host, s.hostB) {
			s.hostB, s.hostS = append(s.hostB[:0], l.host...), string(l.host)
		}
		if !bytes.Equal(l.id, s.idB) {
			s.idB, s.idS = append(s.idB[:0], l.id...), string(l.id)
		}
	}
	no, off := l.numbers()
	return appendNDJSON(dst, s.ts, s.hostS, s.idS, no, off, l.content)
}

// fileSeps returns the separator state of file id.
func (s *stream) fileSeps(id []byte) *fileSeps {
	if s.lastSeps != nil && bytes.Equal(id, s.lastSepsID) {
		return s.lastSeps
	}
	f := s.files[string(id)]
	if f == nil {
		if s.files == nil {
			s.files = map[string]*fileSeps{}
		}
		f = &fileSeps{session: s.seps}
		s.files[string(id)] = f
	}
	s.lastSepsID, s.lastSeps = append(s.lastSepsID[:0], id...), f
	return f
}

// appendCount writes a --count or --files-with-matches result: like
// grep -c (`name:count`) and grep -l (`name`) for a serverless run, with
// the host in front (`host:name:count`) for a remote one. Nothing for a
// file without matches under --files-with-matches.
func (c *chain) appendCount(dst []byte, host, name string, n uint64) []byte {
	if c.fwm && n == 0 {
		return dst
	}
	if host != "" {
		dst = append(append(dst, host...), ':')
	}
	dst = append(dst, name...)
	if !c.fwm {
		dst = append(dst, ':')
		dst = strconv.AppendUint(dst, n, 10)
	}
	return append(dst, '\n')
}

// keep applies a client-side window to l; continuation lines inherit
// the decision per source file.
func (tw *clientWindow) keep(w *timewindow.Window, l *line) bool {
	key := string(l.id)
	f := tw.filters[key]
	if f == nil {
		if tw.filters == nil {
			tw.filters = map[string]*timewindow.Filter{}
		}
		f = &timewindow.Filter{W: *w, X: timewindow.NewExtractor(time.Now())}
		tw.filters[key] = f
	}
	in, _ := f.Line(l.content)
	return in
}

// numbers returns the line number and byte offset of l.
func (l *line) numbers() (no uint64, off int64) {
	if l.noText == nil {
		return l.no, l.off
	}
	return parseLineNo(l.noText)
}

// parseLineNo reads a REMOTE line number field: `N`, or `N@OFFSET` from
// our servers asked for offsets. Unparsable parts stay 0 and -1.
func parseLineNo(b []byte) (no uint64, off int64) {
	off = -1
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		no = no*10 + uint64(b[i]-'0')
	}
	if i < len(b) && b[i] != '@' || i > 19 {
		return 0, -1
	}
	if i < len(b) {
		rest := b[i+1:]
		if len(rest) == 0 || len(rest) > 18 {
			return no, -1
		}
		var v int64
		for _, ch := range rest {
			if ch < '0' || ch > '9' {
				return no, -1
			}
			v = v*10 + int64(ch-'0')
		}
		off = v
	}
	return no, off
}
