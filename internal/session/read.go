package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/journal"
	"github.com/dtail-go/dtail/internal/match"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/source"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// Mode is the kind of read a command asks for.
type Mode int

const (
	Cat Mode = iota
	Grep
	Tail
)

func (m Mode) String() string {
	switch m {
	case Grep:
		return "grep"
	case Tail:
		return "tail"
	}
	return "cat"
}

// ReadRequest is one cat/grep/tail command after parsing.
type ReadRequest struct {
	Mode    Mode
	Glob    string
	Matcher *match.Matcher
	Before  int
	After   int
	Max     int
	Plain   bool
	// Count prints only the number of selected lines per file (--count);
	// FilesWithMatches stops each file at its first match and reports it
	// (--files-with-matches).
	Count            bool
	FilesWithMatches bool
	// NDJSON prints local output as JSON objects (--output ndjson).
	NDJSON bool
	// Offsets sends each line's byte offset in the REMOTE line number
	// field as `N@OFFSET` (asked for by our clients for ndjson only).
	Offsets bool
	// Escape writes 0xAC and 0xFF of REMOTE messages escaped
	// (protocol.CapEscapeV1): our clients ask for it, so that a line
	// holding the delimiter cannot end or forge messages.
	Escape bool
	// BareLines (with Escape) sends payload lines without the REMOTE
	// header while SERVER messages keep theirs (protocol.OptBareLines).
	BareLines bool
	// Window, if set, selects lines by their timestamp (--since/--until):
	// cat and grep read the rotation sets oldest first and skip what
	// lies outside (window.go). Follow mode ignores it.
	Window *timewindow.Window
	// sink, set when the session has a mapreduce aggregate, makes every
	// file's selected lines feed it instead of the output.
	sink func(path, id string) (add func(line []byte), done func())
}

// errNotRegular is reported for directories and other non-files.
var errNotRegular = errors.New("not a regular file")

// Read runs one read command to completion (cat/grep) or until ctx ends
// (tail). Per-file problems are reported and counted, not returned.
func (s *Session) Read(ctx context.Context, req ReadRequest) {
	if req.Matcher == nil {
		req.Matcher = match.NewAll()
	}
	if m := s.currentMap(); m != nil {
		req.sink = m.sinkFor(req.Mode)
		req.Matcher = m.matcher(req.Matcher)
		m.readStarted()
		defer m.readDone()
	}
	if s.cfg.Serverless && (req.Glob == "-" || req.Glob == "") {
		s.readStdin(ctx, req)
		return
	}
	if journal.IsTarget(req.Glob) {
		s.readJournal(ctx, req, req.Glob)
		return
	}
	if req.Mode == Tail {
		s.follow(ctx, req)
		return
	}
	paths := s.expand(req.Glob)
	if len(paths) == 0 {
		s.fileFailed(req.Glob, &os.PathError{Op: "open", Path: req.Glob, Err: os.ErrNotExist})
		return
	}
	if req.Window != nil {
		s.readWindow(ctx, req, paths)
		return
	}
	s.logInfo("Processing files", "count", len(paths), "glob", req.Glob)
	if s.cfg.Serverless {
		// Like cat, a local read prints files in the order given.
		for _, p := range paths {
			if ctx.Err() != nil {
				return
			}
			s.catFile(ctx, req, p)
		}
		return
	}
	var wg sync.WaitGroup
	for _, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.catFile(ctx, req, p)
		}()
	}
	wg.Wait()
}

// expand resolves a glob into paths (lexical order), capped at
// MaxGlobTargets with a warning.
func (s *Session) expand(glob string) []string {
	clean := filepath.Clean(glob)
	expand := filepath.Glob
	if s.cfg.Glob != nil {
		expand = s.cfg.Glob
	}
	paths, err := expand(clean)
	if err != nil || len(paths) == 0 {
		return nil
	}
	sort.Strings(paths)
	if max := s.cfg.MaxGlobTargets; max > 0 && len(paths) > max {
		s.notify(s.logWarn("Glob expansion exceeded server limit, only first targets served", "limit", max, "matched", len(paths)),
			fmt.Sprintf("%s: glob matched %d files, only the first %d are read (MaxGlobTargets)", glob, len(paths), max))
		s.stats.skipped.Add(int64(len(paths) - max))
		paths = paths[:max]
	}
	return paths
}

func (s *Session) catFile(ctx context.Context, req ReadRequest, path string) {
	sl, err := s.cfg.Limits.acquire(ctx, s.cfg.User, req.Mode == Tail, func() {
		s.logInfo("Server limit hit, queueing file", path)
	})
	if err != nil {
		return
	}
	defer sl.release()
	if s.tryStream(ctx, req, path, protocol.SourceID(req.Glob, path)) {
		return
	}
	f, err := s.open(path)
	if err != nil {
		s.fileFailed(path, err)
		return
	}
	defer f.Close()
	s.logReadStart(req, path, protocol.SourceID(req.Glob, path))
	p := s.newPipe(req, protocol.SourceID(req.Glob, path), path)
	n := s.readWorkers()
	parallel := n > 1 && p.parallelOK()
	var r io.Reader = f.Reader
	// A read-ahead ring keeps decompression off the matching goroutine;
	// a parallel read of zstd needs none (the decoder runs its own
	// goroutines and RunParallel reads on its own), the ring's copy only
	// costs CPU there. gzip decodes inside Read, so it keeps the ring.
	if c := source.CompressionOf(path); c == source.Gzip || c == source.Zstd && !parallel {
		ra := source.NewReadAhead(f.Reader, 256<<10, 4)
		defer ra.Close()
		r = ra
	}
	sp := source.Splitter{MaxLineLength: s.cfg.MaxLineLength, OnLongLine: p.longLine}
	// A plain file is searched in place (mapped); not for a mapreduce
	// sink, whose code may hold locks while it touches a line (a fault
	// on a truncated file unwinds through it).
	var mp *source.Mapping
	if source.CompressionOf(path) == source.None && p.add == nil {
		if mp = source.MapFile(f.Raw); mp != nil {
			defer mp.Close()
		}
	}
	switch {
	case mp != nil && parallel:
		p.yield = func() error { return yieldCtx(ctx, sl) }
		err = p.runParallelMapped(&sp, mp, &ctxReader{ctx: ctx, r: grown(f.Raw, mp)}, n)
	case mp != nil:
		err = sp.RunMapped(mp, &ctxReader{ctx: ctx, r: grown(f.Raw, mp)}, yielding(ctx, sl, p.block))
	case parallel:
		p.yield = func() error { return sl.yield(ctx) }
		err = p.runParallel(&sp, &ctxReader{ctx: ctx, r: r}, n)
	default:
		err = sp.Run(&ctxReader{ctx: ctx, r: r}, yielding(ctx, sl, p.block))
	}
	p.finish()
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		s.fileFailed(path, err)
		return
	}
	if fi, serr := f.Raw.Stat(); serr == nil && source.CompressionOf(path) == source.None && fi.Size() < sp.Offset {
		s.fileFailed(path, errors.New("file was truncated while being read"))
		return
	}
	s.stats.addFile(sp.Offset, p.lines)
	s.logDebug("File processing complete", "path", path)
}

// logReadStart writes the server log lines operators grep for when a
// read begins (spec 4.6): the source, the read mode (DTail 4.x calls its
// only read path "turbo mode") and how the pattern is matched.
func (s *Session) logReadStart(req ReadRequest, path, id string) {
	s.logInfo("Start reading", path, id)
	s.logInfo("Using turbo mode for reading", path, "mode", req.Mode.String(), "hasAggregate", req.sink != nil)
	if req.Matcher.Kind() == match.Literal {
		s.logInfo("Using optimized literal string matching for pattern:", req.Matcher.Pattern())
	} else if req.Matcher.Kind() == match.Regexp {
		s.logInfo("Using regex matching for pattern:", req.Matcher.Pattern())
	}
}

func (s *Session) readStdin(ctx context.Context, req ReadRequest) {
	in := s.cfg.Stdin
	if in == nil {
		in = os.Stdin
	}
	s.readStream(ctx, req, in, "-", "-")
}

// yielding lets a read give its slot to a waiting user between blocks
// (and ends it when ctx is done: a mapped read has no Read to cancel).
func yielding(ctx context.Context, sl *slot, h source.Handler) source.Handler {
	return func(data []byte, end source.Ending) error {
		if err := yieldCtx(ctx, sl); err != nil {
			return err
		}
		return h(data, end)
	}
}

func yieldCtx(ctx context.Context, sl *slot) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return sl.yield(ctx)
}

// grown reads what was appended to f after it was mapped, so a mapped
// read ends where a read(2) to EOF would.
func grown(f *os.File, mp *source.Mapping) io.Reader {
	return io.NewSectionReader(f, int64(mp.Len()), math.MaxInt64-int64(mp.Len()))
}

// ctxReader stops a long read when the command is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// follow tails every path of the glob, picking up files that appear later.
func (s *Session) follow(ctx context.Context, req ReadRequest) {
	var wg sync.WaitGroup
	defer wg.Wait()
	started := map[string]bool{}
	first := true
	warned := false
	rescan := s.cfg.ReadRetryInterval
	if rescan <= 0 {
		rescan = 2 * time.Second
	}
	for {
		paths := s.expand(req.Glob)
		for _, p := range paths {
			if started[p] {
				continue
			}
			started[p] = true
			if source.CompressionOf(p) != source.None {
				s.notify(s.logWarn("Not following compressed file", p), p+": compressed files are not followed")
				continue
			}
			fromStart := !first
			wg.Add(1)
			go func() {
				defer wg.Done()
				if s.tryStream(ctx, req, p, protocol.SourceID(req.Glob, p)) {
					return
				}
				s.tailFile(ctx, req, p, fromStart)
			}()
		}
		if len(paths) == 0 && !warned && first {
			warned = true
			s.warn(s.logWarn("Unable to read file(s), check server logs"), req.Glob+": no such file(s) yet, waiting for them to appear")
		}
		first = false
		select {
		case <-ctx.Done():
			return
		case <-time.After(rescan):
		}
	}
}

func (s *Session) tailFile(ctx context.Context, req ReadRequest, path string, fromStart bool) {
	sl, err := s.cfg.Limits.acquire(ctx, s.cfg.User, true, func() {
		s.logInfo("Server limit hit, queueing file", path)
	})
	if err != nil {
		return
	}
	defer sl.release()
	s.logReadStart(req, path, protocol.SourceID(req.Glob, path))
	p := s.newPipe(req, protocol.SourceID(req.Glob, path), path)
	fw := source.Follower{
		Path:          path,
		FromStart:     fromStart,
		MaxLineLength: s.cfg.MaxLineLength,
		OnLongLine:    p.longLine,
		Open: func(name string) (*os.File, error) {
			f, err := s.openRaw(name)
			return f, err
		},
		OnEvent: func(ev source.FollowEvent) {
			switch ev {
			case source.Rotated:
				s.stats.rotated()
				s.logInfo("Reading file again", path, "rotated")
			case source.Truncated:
				s.stats.truncated()
				s.logInfo("Reading file again", path, "truncated")
			}
		},
	}
	// A follow gives its slot back at a poll, where it has caught up.
	err = fw.Run(ctx, p.block, func() error {
		if err := p.flush(); err != nil {
			return err
		}
		return sl.yield(ctx)
	})
	p.finish()
	if err != nil {
		s.fileFailed(path, err)
	}
}

// pipe carries the lines of one file through matching and formatting.
type pipe struct {
	s    *Session
	req  ReadRequest
	path string
	fmt  lineFormat
	m    *match.Matcher
	win  *match.Window
	scan *match.Scanner
	// add and sinkDone feed a mapreduce aggregate instead of the output.
	add      func(line []byte)
	sinkDone func()
	// offsets tracks each line's byte offset (--output ndjson): streamPos
	// is the offset of the next block, blockBase of the current one; the
	// window keeps the offsets of its before-context lines.
	offsets   bool
	streamPos int64
	blockBase int64
	curOff    int64
	// counting (--count, --files-with-matches) counts selected lines
	// instead of sending them; stop ends the file early.
	counting bool
	count    uint64
	stop     bool
	// ending of the data being processed: a final line without newline
	// is printed as is by a local plain cat, like cat does.
	ending source.Ending
	batch  []byte
	lines  uint64
	// tw selects lines by timestamp (time windows); nil selects all.
	tw *timewindow.Filter
	// yield lets a parallel read give its slot to a waiting user between
	// blocks (sequential reads wrap their handler instead).
	yield func() error
	// seps, if set, puts grep's `--` between context groups.
	seps *fileSeps
}

func (s *Session) newPipe(req ReadRequest, id, path string) *pipe {
	p := &pipe{s: s, req: req, path: path, m: req.Matcher}
	p.fmt = lineFormat{
		wire:  !s.cfg.Serverless,
		plain: req.Plain,
		tail:  req.Mode == Tail,
		host:  s.cfg.Host,
		id:    id,
	}
	if s.cfg.Serverless && !req.Plain {
		p.fmt.scheme = s.cfg.Colors
	}
	// dcat --plain is byte-identical to cat, which does not add a newline
	// to a last line that has none; grep does add one.
	p.fmt.rawEOF = s.cfg.Serverless && req.Plain && req.Mode == Cat && !req.NDJSON
	p.fmt.ndjson = s.cfg.Serverless && req.NDJSON
	if p.fmt.ndjson {
		p.fmt.plain, p.fmt.scheme = false, nil
	}
	p.offsets = req.NDJSON || req.Offsets
	p.fmt.wireOffsets = !s.cfg.Serverless && req.Offsets
	if !s.cfg.Serverless && req.Escape {
		// dirty stays true for reads that do not pass through block.
		p.fmt.escape, p.fmt.dirty = true, true
		p.fmt.bare = req.BareLines && !req.Offsets
		p.fmt.host = string(protocol.AppendDelimEscaped(nil, []byte(p.fmt.host)))
		p.fmt.id = string(protocol.AppendDelimEscaped(nil, []byte(p.fmt.id)))
	}
	if req.Before > 0 || req.After > 0 || req.Max > 0 {
		if req.Count || req.FilesWithMatches {
			// Counting counts matches only, as grep -c does.
			req.Before, req.After = 0, 0
		}
		if req.Max > 0 || req.Before > 0 || req.After > 0 {
			p.win = match.NewWindow(req.Matcher, req.Before, req.After, req.Max)
			s.boundWindow(p.win)
		}
	}
	p.counting = req.Count || req.FilesWithMatches
	if s.wantsGroupSeps(req) {
		p.seps = &fileSeps{session: &s.groups}
	}
	switch {
	case req.sink != nil:
		p.add, p.sinkDone = req.sink(path, id)
	case !p.counting:
		p.batch = s.out.Get()
	}
	return p
}

func (p *pipe) longLine() {
	p.s.warn(p.s.logWarn(p.path, "Long log line, splitting into multiple lines"),
		p.path+": line longer than MaxLineLength, split into several lines")
}

func (p *pipe) emit(line []byte, no uint64) {
	if p.counting {
		p.count++
		if p.req.FilesWithMatches {
			p.stop = true
		}
		return
	}
	if p.add != nil {
		p.add(line)
		return
	}
	if p.offsets {
		p.fmt.offset = p.curOff
		if p.win != nil {
			// Context lines carry their own offsets.
			p.fmt.offset = p.win.EmitOffset()
		}
	}
	if p.seps != nil && p.seps.separates(no) {
		p.batch = p.fmt.appendLine(p.batch, groupSeparator, 0)
	}
	if p.ending == source.EOF && p.fmt.rawEOF && (len(line) == 0 || line[len(line)-1] != '\n') {
		p.batch = append(p.batch, line...)
	} else {
		p.batch = p.fmt.appendLine(p.batch, line, no)
	}
	if len(p.batch) >= batchSize {
		p.s.out.Send(p.batch)
		p.batch = p.s.out.Get()
	}
}

func (p *pipe) flush() error {
	if len(p.batch) > 0 {
		p.s.out.Send(p.batch)
		p.batch = p.s.out.Get()
	}
	return p.s.out.Err()
}

func (p *pipe) finish() {
	defer p.closeWindow()
	if p.counting {
		p.s.reportCount(p.req, p.path, p.fmt.id, p.count)
	}
	if p.sinkDone != nil {
		p.sinkDone()
		p.sinkDone = nil
	}
	if p.batch != nil {
		p.s.out.Send(p.batch)
		p.batch = nil
	}
}

// closeWindow frees the context ring; the warning about dropped context
// follows the file's last lines.
func (p *pipe) closeWindow() {
	if p.win == nil {
		return
	}
	if p.win.Truncated() {
		p.s.notify(p.s.logWarn(p.path, "Before-context lines dropped to stay within the server's memory limit", "MaxContextBytes", p.s.bounds().MaxContextBytes),
			p.path+": some before-context lines were dropped to stay within the memory limit (MaxContextBytes)")
	}
	p.win.Close()
	p.win = nil
}

// block handles one Splitter block; it picks the cheapest correct path.
func (p *pipe) block(data []byte, end source.Ending) error {
	if err := p.s.out.Err(); err != nil {
		return err
	}
	if p.fmt.escape {
		// One scan per block: almost every block needs no escaping.
		p.fmt.dirty = protocol.NeedsDelimiterEscape(data)
	}
	if p.offsets {
		// Offsets count bytes of the (decompressed) stream.
		base := p.streamPos
		p.streamPos += int64(len(data))
		p.blockBase = base
	}
	if end != source.Newline || p.win != nil || p.fmt.tail || p.tw != nil {
		return p.perLine(data, end)
	}
	switch {
	case p.m.MatchAll():
		if p.fmt.rawBlocks() && p.add == nil && !p.counting {
			// Plain local cat: the block is already the output.
			p.lines += uint64(bytes.Count(data, nl))
			p.batch = append(p.batch, data...)
			if len(p.batch) >= batchSize {
				p.s.out.Send(p.batch)
				p.batch = p.s.out.Get()
			}
			return nil
		}
		return p.perLine(data, end)
	case p.m.CanScan():
		if p.scan == nil {
			p.scan = p.m.NewScanner()
		}
		from := 0
		for {
			start, end, ok := p.scan.NextMatch(data, from)
			if !ok {
				p.lines += uint64(bytes.Count(data[from:], nl))
				return nil
			}
			p.lines += uint64(bytes.Count(data[from:start], nl)) + 1
			if p.offsets {
				p.curOff = p.blockBase + int64(start)
			}
			p.emit(data[start:end], p.lines)
			if p.stop {
				return source.ErrStop
			}
			from = end
		}
	}
	return p.perLine(data, end)
}

var nl = []byte{'\n'}

func (p *pipe) perLine(data []byte, end source.Ending) error {
	p.ending = end
	off := p.blockBase
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i+1], data[i+1:]
		}
		p.lines++
		if p.offsets {
			p.curOff = off
			if p.win != nil {
				p.win.Offset = off
			}
			off += int64(len(line))
		}
		if p.tw != nil {
			in, past := p.tw.Line(line)
			if past {
				return source.ErrStop
			}
			if !in {
				continue
			}
		}
		if p.win != nil {
			p.win.Feed(line, p.lines, p.emit)
			if p.win.Done() || p.stop {
				return source.ErrStop
			}
			continue
		}
		if p.m.Match(match.TrimNewline(line)) {
			p.emit(line, p.lines)
			if p.stop {
				return source.ErrStop
			}
		}
	}
	return nil
}

// describe renders a file error for a local user in one line.
func describe(path string, err error) string {
	msg := err.Error()
	var pe *os.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
		if errors.Is(pe.Err, os.ErrNotExist) {
			msg = "no such file or directory"
		}
	}
	if strings.HasPrefix(msg, path+": ") {
		return msg
	}
	return path + ": " + msg
}
