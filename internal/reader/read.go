// Package reader is the reading core of DTail: it expands globs, opens
// files (plain, gzip, zstd), stdin and journal targets, follows them,
// selects lines (regex, grep windows, time windows) and pushes what it
// selected into a sink (internal/sink). It knows nothing about the wire
// or the terminal: dserver's sessions put a wire sink behind it,
// serverless clients their printers, mapreduce runs an aggregate.
package reader

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
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/journal"
	"github.com/dtail-go/dtail/internal/match"
	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/sink"
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

// Logger receives the log lines operators grep for (spec 4.6); nil logs
// nothing. Problems travel as sink events instead.
type Logger interface {
	Info(args ...any) string
	Debug(args ...any) string
}

// Opener opens a file for the reading user; nil means os.Open.
type Opener func(path string) (*os.File, error)

// Config is what every read of one reader shares.
type Config struct {
	// User is whose reads share the Limits fairly.
	User           string
	MaxLineLength  int
	MaxGlobTargets int
	// MaxReadWorkers caps the goroutines that match one file's lines
	// (grep); 0 or 1 reads serially; more than GOMAXPROCS is capped.
	MaxReadWorkers    int
	ReadRetryInterval time.Duration
	Limits            *Limits
	Open              Opener
	// AllowJournal decides whether the user may read a `journal:UNIT`
	// target; nil allows every unit.
	AllowJournal func(target string) error
	// Glob and ReadDir expand and list as the reading user; nil means
	// filepath.Glob and os.ReadDir.
	Glob    func(pattern string) ([]string, error)
	ReadDir func(dir string) []string
	// Stdin, if set, is read for the glob "-" or "" (serverless runs).
	Stdin io.Reader
	// Streams reads FIFOs and character devices named as files (stream.go);
	// otherwise they are refused as not regular files.
	Streams bool
	// Ordered reads the files of a glob one after another in the order
	// given, like cat (local output); otherwise they are read at once.
	Ordered bool
	// BoundWindow, if set, sets the memory bounds of a grep window.
	BoundWindow func(w *match.Window)
	Log         Logger
}

// Request is one cat/grep/tail command.
type Request struct {
	Mode    Mode
	Glob    string
	Matcher *match.Matcher
	Before  int
	After   int
	Max     int
	// Count counts the selected lines per file instead of passing them on
	// (--count); FilesWithMatches stops each file at its first match.
	Count            bool
	FilesWithMatches bool
	// Offsets gives each record its byte offset (--output ndjson); a
	// journal read then asks journalctl for ISO timestamps.
	Offsets bool
	// Window, if set, selects lines by their timestamp (--since/--until):
	// cat and grep read the rotation sets oldest first and skip what lies
	// outside (window.go). Follow mode ignores it.
	Window *timewindow.Window
	// Aggregate only shows in the log (the sinks feed a mapreduce
	// aggregate).
	Aggregate bool
	// Runs: the sink takes blocks of selected lines as Run records (it
	// copies them as they are); otherwise every line is a record.
	Runs bool
}

// Sinks is the destination of a read: one sink.File per source, and the
// events.
type Sinks interface {
	File(src sink.Source) sink.File
	sink.Events
}

// Reader reads for one user.
type Reader struct {
	cfg Config
}

// New returns a reader.
func New(cfg Config) *Reader {
	if cfg.MaxLineLength <= 0 {
		cfg.MaxLineLength = source.DefaultMaxLineLength
	}
	return &Reader{cfg: cfg}
}

// errNotRegular is reported for directories and other non-files.
var errNotRegular = errors.New("not a regular file")

// read is one Read call.
type read struct {
	r   *Reader
	req Request
	dst Sinks
}

// Read runs one read command to completion (cat/grep) or until ctx ends
// (tail). Per-file problems are events, not errors.
func (r *Reader) Read(ctx context.Context, req Request, dst Sinks) {
	if req.Matcher == nil {
		req.Matcher = match.NewAll()
	}
	rd := &read{r: r, req: req, dst: dst}
	if r.cfg.Stdin != nil && (req.Glob == "-" || req.Glob == "") {
		rd.readStdin(ctx)
		return
	}
	if journal.IsTarget(req.Glob) {
		rd.readJournal(ctx, req.Glob)
		return
	}
	if req.Mode == Tail {
		rd.follow(ctx)
		return
	}
	paths := rd.expand(req.Glob)
	if len(paths) == 0 {
		rd.failed(sink.Source{Path: req.Glob, ID: protocol.SourceID(req.Glob, req.Glob)}, &os.PathError{Op: "open", Path: req.Glob, Err: os.ErrNotExist})
		return
	}
	if req.Window != nil {
		rd.readWindow(ctx, paths)
		return
	}
	r.logInfo("Processing files", "count", len(paths), "glob", req.Glob)
	if r.cfg.Ordered {
		for _, p := range paths {
			if ctx.Err() != nil {
				return
			}
			rd.catFile(ctx, p)
		}
		return
	}
	var wg sync.WaitGroup
	for _, p := range paths {
		wg.Go(func() { rd.catFile(ctx, p) })
	}
	wg.Wait()
}

func (r *Reader) logInfo(args ...any) {
	if r.cfg.Log != nil {
		r.cfg.Log.Info(args...)
	}
}

func (r *Reader) logDebug(args ...any) {
	if r.cfg.Log != nil {
		r.cfg.Log.Debug(args...)
	}
}

// failed reports a source that could not be (fully) read.
func (rd *read) failed(src sink.Source, err error) {
	rd.dst.Event(sink.Event{Kind: sink.Unreadable, Source: src, Err: err})
}

// source names path of this read's glob.
func (rd *read) source(path string) sink.Source {
	return sink.Source{Path: path, ID: protocol.SourceID(rd.req.Glob, path)}
}

// expand resolves a glob into paths (lexical order), capped at
// MaxGlobTargets with an event.
func (rd *read) expand(glob string) []string {
	clean := filepath.Clean(glob)
	expand := filepath.Glob
	if rd.r.cfg.Glob != nil {
		expand = rd.r.cfg.Glob
	}
	paths, err := expand(clean)
	if err != nil || len(paths) == 0 {
		return nil
	}
	sort.Strings(paths)
	if max := rd.r.cfg.MaxGlobTargets; max > 0 && len(paths) > max {
		rd.dst.Event(sink.Event{Kind: sink.GlobCapped, Glob: glob, N: len(paths) - max, Matched: len(paths), Max: int64(max)})
		paths = paths[:max]
	}
	return paths
}

func (r *Reader) open(path string) (*source.File, error) {
	raw, err := r.openRaw(path)
	if err != nil {
		return nil, err
	}
	f, err := source.Wrap(path, raw)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return f, nil
}

func (r *Reader) openRaw(path string) (*os.File, error) {
	var f *os.File
	var err error
	if r.cfg.Open != nil {
		f, err = r.cfg.Open(path)
	} else {
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		if fi.IsDir() {
			return nil, &os.PathError{Op: "open", Path: path, Err: fmt.Errorf("is a directory")}
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	return f, nil
}

func (rd *read) acquire(ctx context.Context, path string, tail bool) (*slot, error) {
	return rd.r.cfg.Limits.acquire(ctx, rd.r.cfg.User, tail, func() {
		rd.r.logInfo("Server limit hit, queueing file", path)
	})
}

func (rd *read) catFile(ctx context.Context, path string) {
	sl, err := rd.acquire(ctx, path, rd.req.Mode == Tail)
	if err != nil {
		return
	}
	defer sl.release()
	src := rd.source(path)
	if rd.tryStream(ctx, src) {
		return
	}
	f, err := rd.r.open(path)
	if err != nil {
		rd.failed(src, err)
		return
	}
	defer f.Close()
	rd.logReadStart(path, src.ID)
	p := rd.newPipe(src)
	n := rd.r.readWorkers()
	parallel := n > 1 && p.parallelOK()
	var in io.Reader = f.Reader
	// A read-ahead ring keeps decompression off the matching goroutine;
	// a parallel read of zstd needs none (the decoder runs its own
	// goroutines and RunParallel reads on its own), the ring's copy only
	// costs CPU there. gzip decodes inside Read, so it keeps the ring.
	if c := source.CompressionOf(path); c == source.Gzip || c == source.Zstd && !parallel {
		ra := source.NewReadAhead(f.Reader, 256<<10, 4)
		defer ra.Close()
		in = ra
	}
	sp := source.Splitter{MaxLineLength: rd.r.cfg.MaxLineLength, OnLongLine: p.longLine}
	// A plain file is searched in place (mapped); not for a mapreduce
	// aggregate, whose code may hold locks while it touches a line (a
	// fault on a truncated file unwinds through it).
	var mp *source.Mapping
	if source.CompressionOf(path) == source.None && !rd.req.Aggregate {
		if mp = source.MapFile(f.Raw); mp != nil {
			defer mp.Close()
		}
	}
	if mp == nil {
		sp.BufferSize = blockSize(f.Raw, path)
	}
	switch {
	case mp != nil && parallel:
		p.yield = func() error { return yieldCtx(ctx, sl) }
		err = p.runParallelMapped(&sp, mp, &ctxReader{ctx: ctx, r: grown(f.Raw, mp)}, n)
	case mp != nil:
		err = sp.RunMapped(mp, &ctxReader{ctx: ctx, r: grown(f.Raw, mp)}, yielding(ctx, sl, p.block))
	case parallel:
		p.yield = func() error { return sl.yield(ctx) }
		err = p.runParallel(&sp, &ctxReader{ctx: ctx, r: in}, n)
	default:
		err = sp.Run(&ctxReader{ctx: ctx, r: in}, yielding(ctx, sl, p.block))
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		p.finish(sp.Offset, err)
		return
	}
	if fi, serr := f.Raw.Stat(); serr == nil && source.CompressionOf(path) == source.None && fi.Size() < sp.Offset {
		p.finish(sp.Offset, errors.New("file was truncated while being read"))
		return
	}
	p.finish(sp.Offset, nil)
	rd.r.logDebug("File processing complete", "path", path)
}

// minBlock is the smallest read block of a short file: one that grows
// while it is read is still read in blocks of reasonable size.
const minBlock = 16 << 10

// blockSize is the read block of a short uncompressed file that is not
// mapped: its size (one read to EOF), not source.DefaultBufferSize.
// Thousands of sessions each reading a short file spent 3 % of dserver's
// CPU allocating and clearing 256 KiB blocks, and more in the collector.
// 0 is the default.
func blockSize(f *os.File, path string) int {
	if source.CompressionOf(path) != source.None {
		return 0
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() >= source.DefaultBufferSize-1 {
		return 0
	}
	return max(int(fi.Size())+1, minBlock)
}

// logReadStart writes the server log lines operators grep for when a
// read begins (spec 4.6): the source, the read mode (DTail 4.x calls its
// only read path "turbo mode") and how the pattern is matched.
func (rd *read) logReadStart(path, id string) {
	r, req := rd.r, rd.req
	r.logInfo("Start reading", path, id)
	r.logInfo("Using turbo mode for reading", path, "mode", req.Mode.String(), "hasAggregate", req.Aggregate)
	if req.Matcher.Kind() == match.Literal {
		r.logInfo("Using optimized literal string matching for pattern:", req.Matcher.Pattern())
	} else if req.Matcher.Kind() == match.Regexp {
		r.logInfo("Using regex matching for pattern:", req.Matcher.Pattern())
	}
}

func (rd *read) readStdin(ctx context.Context) {
	rd.readStream(ctx, rd.r.cfg.Stdin, sink.Source{Path: "-", ID: "-"})
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
func (rd *read) follow(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	started := map[string]bool{}
	first := true
	warned := false
	rescan := rd.r.cfg.ReadRetryInterval
	if rescan <= 0 {
		rescan = 2 * time.Second
	}
	for {
		paths := rd.expand(rd.req.Glob)
		for _, p := range paths {
			if started[p] {
				continue
			}
			started[p] = true
			if source.CompressionOf(p) != source.None {
				rd.dst.Event(sink.Event{Kind: sink.NotFollowed, Source: rd.source(p)})
				continue
			}
			fromStart := !first
			wg.Go(func() {
				if rd.tryStream(ctx, rd.source(p)) {
					return
				}
				rd.tailFile(ctx, p, fromStart)
			})
		}
		if len(paths) == 0 && !warned && first {
			warned = true
			rd.dst.Event(sink.Event{Kind: sink.NotYet, Glob: rd.req.Glob})
		}
		first = false
		select {
		case <-ctx.Done():
			return
		case <-time.After(rescan):
		}
	}
}

func (rd *read) tailFile(ctx context.Context, path string, fromStart bool) {
	sl, err := rd.acquire(ctx, path, true)
	if err != nil {
		return
	}
	defer sl.release()
	src := rd.source(path)
	rd.logReadStart(path, src.ID)
	p := rd.newPipe(src)
	fw := source.Follower{
		Path:          path,
		FromStart:     fromStart,
		MaxLineLength: rd.r.cfg.MaxLineLength,
		OnLongLine:    p.longLine,
		Open:          rd.r.openRaw,
		OnEvent: func(ev source.FollowEvent) {
			switch ev {
			case source.Rotated:
				rd.r.logInfo("Reading file again", path, "rotated")
				rd.dst.Event(sink.Event{Kind: sink.Rotated, Source: src})
			case source.Truncated:
				rd.r.logInfo("Reading file again", path, "truncated")
				rd.dst.Event(sink.Event{Kind: sink.Truncated, Source: src})
			}
		},
	}
	// A follow gives its slot back at a poll, where it has caught up.
	err = fw.Run(ctx, p.block, func() error {
		if err := p.out.Flush(); err != nil {
			return err
		}
		return sl.yield(ctx)
	})
	p.finish(0, err)
}

// maxRecs bounds the records collected before they go to the sink: a
// block of very short lines must not grow the slice without end.
const maxRecs = 4096

// pipe carries the lines of one source through matching into its sink.
type pipe struct {
	rd      *read
	src     sink.Source
	out     sink.File
	m       *match.Matcher
	win     *match.Window
	scan    *match.Scanner
	tail    bool
	journal bool
	// offsets: records carry byte offsets; streamPos is the offset of the
	// next block, blockBase of the current one, curOff of the line.
	offsets   bool
	streamPos int64
	blockBase int64
	curOff    int64
	// counting (--count, --files-with-matches) counts selected lines
	// instead of passing them on; stop ends the file early.
	counting bool
	count    uint64
	stop     bool
	recs     []sink.Record
	cut      bool // the data being processed is a piece of a long line
	lines    uint64
	// tw selects lines by timestamp (time windows); nil selects all.
	tw *timewindow.Filter
	// yield lets a parallel read give its slot to a waiting user between
	// blocks (sequential reads wrap their handler instead).
	yield func() error
}

func (rd *read) newPipe(src sink.Source) *pipe {
	req := rd.req
	p := &pipe{rd: rd, src: src, m: req.Matcher, tail: req.Mode == Tail, offsets: req.Offsets}
	p.counting = req.Count || req.FilesWithMatches
	before, after := req.Before, req.After
	if p.counting {
		// Counting counts matches only, as grep -c does.
		before, after = 0, 0
	}
	if req.Max > 0 || before > 0 || after > 0 {
		p.win = match.NewWindow(req.Matcher, before, after, req.Max)
		if rd.r.cfg.BoundWindow != nil {
			rd.r.cfg.BoundWindow(p.win)
		}
	}
	p.out = rd.dst.File(src)
	return p
}

func (p *pipe) longLine() {
	p.rd.dst.Event(sink.Event{Kind: sink.LongLine, Source: p.src})
}

func (p *pipe) emit(line []byte, no uint64) {
	if p.counting {
		p.count++
		if p.rd.req.FilesWithMatches {
			p.stop = true
		}
		return
	}
	rec := sink.Record{Line: line, No: no, Offset: -1, Cut: p.cut}
	if p.offsets {
		rec.Offset = p.curOff
		if p.win != nil {
			// Context lines carry their own offsets.
			rec.Offset = p.win.EmitOffset()
		}
	}
	p.recs = append(p.recs, rec)
}

// push hands the collected records to the sink.
func (p *pipe) push() error {
	if len(p.recs) == 0 {
		return nil
	}
	// The records leave the pipe before the sink sees them: a fault on
	// a truncated mapped file unwinds through Lines, and the records
	// must not be handed on again (finish) outside the fault guard.
	recs := p.recs
	p.recs = recs[:0]
	err := p.out.Lines(recs)
	clear(recs) // the records point into the read buffer
	return err
}

// finish ends the source: bytes read, and the error that ended it early.
// The events follow the source's last lines.
func (p *pipe) finish(bytes int64, err error) {
	dropped := int64(0)
	if p.win != nil {
		if p.win.Truncated() {
			dropped = match.DefaultContextBytes
			if p.win.MaxBytes > 0 {
				dropped = p.win.MaxBytes
			}
		}
		p.win.Close()
		p.win = nil
	}
	if err != nil {
		// The read broke off inside a block: its records may point into
		// a mapped file that was truncated (the fault unwound through
		// the pipe before they were pushed); touching them now, outside
		// the fault guard, would kill the process.
		clear(p.recs)
		p.recs = p.recs[:0]
	}
	p.push()
	p.out.Close(sink.Done{Source: p.src, Lines: p.lines, Bytes: bytes, Counted: p.counting, Count: p.count, Failed: err != nil, Followed: p.tail && !p.journal})
	if dropped > 0 {
		p.rd.dst.Event(sink.Event{Kind: sink.ContextDropped, Source: p.src, Max: dropped})
	}
	if err != nil {
		p.rd.failed(p.src, err)
	}
}

// block handles one Splitter block; it picks the cheapest correct path.
func (p *pipe) block(data []byte, end source.Ending) error {
	if p.offsets {
		// Offsets count bytes of the (decompressed) stream.
		p.blockBase = p.streamPos
		p.streamPos += int64(len(data))
	}
	if end != source.Newline || p.win != nil || p.tail || p.tw != nil {
		return p.perLine(data, end)
	}
	switch {
	case p.m.MatchAll():
		if p.counting || p.offsets || !p.rd.req.Runs {
			// A sink that looks at every line anyway counts them as it
			// splits: no extra pass over the block.
			return p.perLine(data, end)
		}
		// Every line is selected: the block goes on as one run (one
		// pass to count its lines, none per line).
		n := uint64(bytes.Count(data, nl))
		p.recs = append(p.recs, sink.Record{Line: data, No: p.lines + 1, Offset: -1, Run: true})
		p.lines += n
		return p.push()
	case p.m.CanScan():
		if p.scan == nil {
			p.scan = p.m.NewScanner()
		}
		from := 0
		for {
			start, end, n, ok := p.scan.NextMatchLines(data, from)
			if !ok {
				p.lines += uint64(n)
				return p.push()
			}
			p.lines += uint64(n) + 1
			if p.offsets {
				p.curOff = p.blockBase + int64(start)
			}
			p.emit(data[start:end], p.lines)
			if p.stop {
				p.push()
				return source.ErrStop
			}
			if len(p.recs) >= maxRecs {
				if err := p.push(); err != nil {
					return err
				}
			}
			from = end
		}
	}
	return p.perLine(data, end)
}

var nl = []byte{'\n'}

func (p *pipe) perLine(data []byte, end source.Ending) error {
	p.cut = end == source.Chunk
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
				p.push()
				return source.ErrStop
			}
			if !in {
				continue
			}
		}
		if p.win != nil {
			n0, m0 := len(p.recs), p.win.Matches()
			p.win.Feed(line, p.lines, p.emit)
			if len(p.recs) > n0 {
				// Before-context lines live in the window's ring, which
				// the next line may overwrite: they go out now.
				matched := p.win.Matches() > m0
				for i := n0; i < len(p.recs); i++ {
					p.recs[i].Context = !matched || p.recs[i].No != p.lines
				}
				if err := p.push(); err != nil {
					return err
				}
			}
			if p.win.Done() || p.stop {
				p.push()
				return source.ErrStop
			}
			continue
		}
		if p.m.Match(match.TrimNewline(line)) {
			p.emit(line, p.lines)
			if p.stop {
				p.push()
				return source.ErrStop
			}
			if len(p.recs) >= maxRecs {
				if err := p.push(); err != nil {
					return err
				}
			}
		}
	}
	return p.push()
}

// Receipt turns a tally of reads into the receipt a server sends (and a
// serverless client prints); skipped are lines a mapreduce log format
// did not use.
func Receipt(t *sink.Tally, skipped int64) protocol.Receipt {
	return protocol.Receipt{FilesRead: t.FilesRead.Load(), FilesFailed: t.FilesFailed.Load(), Bytes: t.Bytes.Load(), Lines: t.Lines.Load(),
		FilesRotated: t.Rotated.Load(), FilesTruncated: t.Truncated.Load(), FilesSkipped: t.Skipped.Load(), LinesSkipped: skipped}
}
