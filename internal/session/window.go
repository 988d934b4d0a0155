package session

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

	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/source"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// Time windows (--since/--until) beyond DTail 4.x: the bounds travel as
// extra command options in unix seconds, which DTail 4.x servers ignore
// (their clients then filter the lines themselves). Servers that apply
// them announce CapTimeWindowV1.
const (
	OptSince        = protocol.OptSince
	OptUntil        = protocol.OptUntil
	CapTimeWindowV1 = protocol.CapTimeWindowV1
)

// probeTail is how much of the end of a plain file is read to find its
// last timestamp.
const probeTail = 64 << 10

// WindowFromOptions reads the since/until extra options; nil when neither
// is present. Unparseable values are ignored like unknown keys.
func WindowFromOptions(extra map[string]string) *timewindow.Window {
	w := timewindow.All
	if v, err := strconv.ParseInt(extra[OptSince], 10, 64); err == nil {
		w.Since = v
	}
	if v, err := strconv.ParseInt(extra[OptUntil], 10, 64); err == nil {
		w.Until = v
	}
	if w.IsAll() {
		return nil
	}
	return &w
}

// WindowOptions adds the window to a command's extra options.
func WindowOptions(extra map[string]string, w *timewindow.Window) map[string]string {
	if w == nil || w.IsAll() {
		return extra
	}
	if extra == nil {
		extra = map[string]string{}
	}
	if w.HasSince() {
		extra[OptSince] = strconv.FormatInt(w.Since, 10)
	}
	if w.HasUntil() {
		extra[OptUntil] = strconv.FormatInt(w.Until, 10)
	}
	return extra
}

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
func (s *Session) rotationSet(paths []string) []string {
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
			ents = s.readDirNames(dir)
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
	if max := s.cfg.MaxGlobTargets; max > 0 && len(out) > max {
		s.notify(s.logWarn("Rotation set exceeded server limit, only the newest targets served", "limit", max, "matched", len(out)),
			"rotation set has "+strconv.Itoa(len(out))+" files, only the newest "+strconv.Itoa(max)+" are read (MaxGlobTargets)")
		out = out[len(out)-max:]
	}
	return out
}

// readWindow reads the rotation sets of paths oldest first, one file
// after another, skipping what lies outside the window.
func (s *Session) readWindow(ctx context.Context, req ReadRequest, paths []string) {
	set := s.rotationSet(paths)
	s.logInfo("Processing files in time window", "count", len(set), "glob", req.Glob, "since", req.Window.Since, "until", req.Window.Until)
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
		s.catWindow(ctx, req, p, now, &carry)
	}
}

// catWindow reads one file of a windowed read. carry holds the last
// timestamp of the previous (older) file for leading continuation lines.
func (s *Session) catWindow(ctx context.Context, req ReadRequest, path string, now time.Time, carry *timewindow.Filter) {
	sl, err := s.cfg.Limits.acquire(ctx, s.cfg.User, false, func() {
		s.logInfo("Server limit hit, queueing file", path)
	})
	if err != nil {
		return
	}
	defer sl.release()
	if s.tryStream(ctx, req, path, protocol.SourceID(req.Glob, path)) {
		return
	}
	w := *req.Window
	raw, err := s.openRaw(path)
	if err != nil {
		s.fileFailed(path, err)
		return
	}
	defer raw.Close()
	fi, err := raw.Stat()
	if err != nil {
		s.fileFailed(path, err)
		return
	}
	x := timewindow.NewExtractor(now)
	skip := func(why string, probed int64) {
		s.logDebug("Skipping file outside the time window", path, why)
		carry.Known = false
		s.stats.addFile(probed, 0)
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
				s.fileFailed(path, err)
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
			s.fileFailed(path, err)
			return
		}
		dr, d, err := source.Decompress(raw, comp)
		if err != nil {
			s.fileFailed(path, err)
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
	s.logInfo("Start reading", path, protocol.SourceID(req.Glob, path), "offset", start)
	s.logInfo("Using turbo mode for reading", path, "mode", req.Mode.String(), "hasAggregate", req.sink != nil)
	p := s.newPipe(req, protocol.SourceID(req.Glob, path), path)
	p.tw = &timewindow.Filter{W: w, X: x, Last: carry.Last, Known: carry.Known}
	// Reads end at until, usually early in a plain file: smaller reads
	// keep what is read past it small.
	sp := source.Splitter{MaxLineLength: s.cfg.MaxLineLength, OnLongLine: p.longLine, BufferSize: 64 << 10}
	err = sp.Run(&ctxReader{ctx: ctx, r: r}, yielding(ctx, sl, p.block))
	p.finish()
	carry.Last, carry.Known = p.tw.Last, p.tw.Known
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		s.fileFailed(path, err)
		return
	}
	s.stats.addFile(probed+sp.Offset, p.lines)
	s.logDebug("File processing complete", "path", path)
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
func (s *Session) readDirNames(dir string) []string {
	if s.cfg.ReadDir != nil {
		return s.cfg.ReadDir(dir)
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
