package reader

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dtail-go/dtail/internal/sink"
	"github.com/dtail-go/dtail/internal/source"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// probeTail is how much of the end of a plain file is read to find its
// last timestamp.
const probeTail = 64 << 10

// rotated is one file of a rotation set with its age rank.
type rotated struct {
	path string
	base string
	// kind: 0 dated suffix (older first by date), 1 numbered (higher is
	// older), 2 the live file.
	kind int
	num  int
	date string
}

// rotationOf splits a path into its rotation base and rank:
// app.log.3.gz → (app.log, numbered 3), app.log-20240101.gz → (app.log,
// dated), app.log → live.
func rotationOf(path string) rotated {
	r := rotated{path: path, base: path, kind: 2}
	p := path
	for _, ext := range []string{".gz", ".gzip", ".zst"} {
		if strings.HasSuffix(p, ext) {
			p = strings.TrimSuffix(p, ext)
			break
		}
	}
	if i := strings.LastIndexByte(p, '.'); i > 0 && i < len(p)-1 {
		if n, err := strconv.Atoi(p[i+1:]); err == nil && n >= 0 && len(p)-i-1 <= 4 {
			return rotated{path: path, base: p[:i], kind: 1, num: n}
		}
	}
	if i := strings.LastIndexByte(p, '-'); i > 0 && len(p)-i-1 >= 8 {
		d := p[i+1:]
		if _, err := strconv.Atoi(d); err == nil && len(d) <= 10 {
			return rotated{path: path, base: p[:i], kind: 0, date: d}
		}
	}
	if p != path {
		// app.log.gz: a compressed live file; keep it as its own base.
		return rotated{path: path, base: path, kind: 2}
	}
	return r
}

// rotationSet expands the matched paths to their rotation sets (siblings
// named base.N[.gz|.zst] and base-DATE[.gz|.zst] in the same directory)
// and orders every set oldest first. Sets follow each other in the order
// of their base names.
func (rd *read) rotationSet(paths []string) []string {
	seen := map[string]bool{}
	var all []rotated
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			all = append(all, rotationOf(p))
		}
	}
	dirs := map[string][]string{}
	for _, p := range paths {
		add(p)
		r := rotationOf(p)
		dir := filepath.Dir(r.base)
		ents, ok := dirs[dir]
		if !ok {
			ents = rd.r.readDirNames(dir)
			dirs[dir] = ents
		}
		name := filepath.Base(r.base)
		for _, n := range ents {
			if len(n) <= len(name) || !strings.HasPrefix(n, name) || (n[len(name)] != '.' && n[len(name)] != '-') {
				continue
			}
			sib := filepath.Join(dir, n)
			if rr := rotationOf(sib); rr.base == r.base && rr.kind != 2 && isRegularFile(sib) {
				add(sib)
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.base != b.base {
			return a.base < b.base
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.kind == 0 {
			return a.date < b.date
		}
		return a.num > b.num
	})
	out := make([]string, len(all))
	for i, r := range all {
		out[i] = r.path
	}
	if max := rd.r.cfg.MaxGlobTargets; max > 0 && len(out) > max {
		rd.dst.Event(sink.Event{Kind: sink.GlobCapped, Rotation: true, Glob: rd.req.Glob, N: len(out) - max, Matched: len(out), Max: int64(max)})
		out = out[len(out)-max:]
	}
	return out
}

// readWindow reads the rotation sets of paths oldest first, one file
// after another, skipping what lies outside the window.
func (rd *read) readWindow(ctx context.Context, paths []string) {
	req := rd.req
	set := rd.rotationSet(paths)
	rd.r.logInfo("Processing files in time window", "count", len(set), "glob", req.Glob, "since", req.Window.Since, "until", req.Window.Until)
	now := time.Now()
	var carry timewindow.Filter
	prevBase := ""
	for _, p := range set {
		if ctx.Err() != nil {
			return
		}
		if b := rotationOf(p).base; b != prevBase {
			// Continuation lines only continue within one rotation set.
			carry.Known, prevBase = false, b
		}
		rd.catWindow(ctx, p, now, &carry)
	}
}

// catWindow reads one file of a windowed read. carry holds the last
// timestamp of the previous (older) file for leading continuation lines.
func (rd *read) catWindow(ctx context.Context, path string, now time.Time, carry *timewindow.Filter) {
	req := rd.req
	sl, err := rd.acquire(ctx, path, false)
	if err != nil {
		return
	}
	defer sl.release()
	src := rd.source(path)
	if rd.tryStream(ctx, src) {
		return
	}
	w := *req.Window
	raw, err := rd.r.openRaw(path)
	if err != nil {
		rd.failed(src, err)
		return
	}
	defer raw.Close()
	fi, err := raw.Stat()
	if err != nil {
		rd.failed(src, err)
		return
	}
	x := timewindow.NewExtractor(now)
	skip := func(why string, probed int64) {
		rd.r.logDebug("Skipping file outside the time window", path, why)
		carry.Known = false
		// Read (its probe), with nothing selected.
		rd.dst.File(src).Close(sink.Done{Source: src, Bytes: probed})
	}
	// A file last written before since holds no line at or after it.
	if w.HasSince() && fi.ModTime().Unix() < w.Since {
		skip("mtime", 0)
		return
	}
	comp := source.CompressionOf(path)
	var probed, start int64
	var r io.Reader
	var done func()
	if comp == source.None {
		size := fi.Size()
		first, ok, n := timewindow.FirstTimestamp(io.NewSectionReader(raw, 0, size), x, probeTail)
		probed += n
		if ok && first >= w.Until {
			skip("first line after until", probed)
			return
		}
		if w.HasSince() {
			last, ok, n := timewindow.LastTimestamp(raw, size, x, probeTail)
			probed += n
			if ok && last < w.Since {
				skip("last line before since", probed)
				return
			}
			start, n = timewindow.SeekStart(raw, size, w.Since, x)
			probed += n
		}
		if start > 0 {
			if _, err := raw.Seek(start, io.SeekStart); err != nil {
				rd.failed(src, err)
				return
			}
			carry.Known = false
		}
		r = raw
	} else {
		// A compressed file cannot seek; its first line can still show
		// that it starts after the window. The probe decompresses only
		// the first few KiB (small reads keep the decoder from pulling
		// in more of the file).
		if pr, pd, err := source.Decompress(smallReads{raw}, comp); err == nil {
			first, ok, n := timewindow.FirstTimestamp(pr, x, probeTail)
			pd()
			probed += n
			if ok && first >= w.Until {
				skip("first line after until", probed)
				return
			}
		}
		if _, err := raw.Seek(0, io.SeekStart); err != nil {
			rd.failed(src, err)
			return
		}
		dr, d, err := source.Decompress(raw, comp)
		if err != nil {
			rd.failed(src, err)
			return
		}
		done = d
		ra := source.NewReadAhead(dr, 256<<10, 4)
		defer ra.Close()
		r = ra
	}
	if done != nil {
		defer done()
	}
	rd.r.logInfo("Start reading", path, src.ID, "offset", start)
	rd.r.logInfo("Using turbo mode for reading", path, "mode", req.Mode.String(), "hasAggregate", req.Aggregate)
	p := rd.newPipe(src)
	p.tw = &timewindow.Filter{W: w, X: x, Last: carry.Last, Known: carry.Known}
	// Reads end at until, usually early in a plain file: smaller reads
	// keep what is read past it small.
	sp := source.Splitter{MaxLineLength: rd.r.cfg.MaxLineLength, OnLongLine: p.longLine, BufferSize: 64 << 10}
	err = sp.Run(&ctxReader{ctx: ctx, r: r}, yielding(ctx, sl, p.block))
	carry.Last, carry.Known = p.tw.Last, p.tw.Known
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		p.finish(probed+sp.Offset, err)
		return
	}
	p.finish(probed+sp.Offset, nil)
	rd.r.logDebug("File processing complete", "path", path)
}

// smallReads caps each read so that a probe reads little of the file.
type smallReads struct{ r io.Reader }

func (s smallReads) Read(p []byte) (int, error) {
	if len(p) > 4<<10 {
		p = p[:4<<10]
	}
	return s.r.Read(p)
}

// readDirNames lists dir as the session's user (Config.ReadDir): a
// directory the user cannot list yields no siblings.
func (r *Reader) readDirNames(dir string) []string {
	if r.cfg.ReadDir != nil {
		return r.cfg.ReadDir(dir)
	}
	ents, _ := os.ReadDir(dir)
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names
}

// isRegularFile is the rotation-set filter (no symlinks, directories or
// devices); only names the user could list reach it, and the open that
// follows makes the real decision.
func isRegularFile(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}
