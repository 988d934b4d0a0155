package client

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/dtail-go/dtail/internal/mapr"
	"github.com/dtail-go/dtail/internal/sink"
)

// localSinks adapts a serverless read to the output chain: the
// reader's records become chain lines, its per-file counts the chain's
// -c/-l lines, and events one-line diagnostics on stderr. The counters
// feed the receipt.
type localSinks struct {
	out   *sink.Output
	chain *chain
	host  []byte
	diag  *diagWriter
	log   Logger
	tally sink.Tally
}

// diagWriter prints one-line diagnostics (`prog: text`) to stderr.
type diagWriter struct {
	mu   sync.Mutex
	w    io.Writer
	prog string
	// hideWarnings drops diagnostics that are only warnings (--logLevel
	// error or quieter); problems that leave something unread always
	// print.
	hideWarnings bool
}

func (d *diagWriter) print(text string, warning bool) {
	if d.w == nil || (warning && d.hideWarnings) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.w, "%s: %s\n", d.prog, text)
}

func (ls *localSinks) Event(ev sink.Event) {
	ls.tally.Event(ev)
	path := ev.Source.Path
	switch ev.Kind {
	case sink.Unreadable:
		if ls.log != nil {
			ls.log.Error("No permission to read file", path, ev.Err)
		}
		ls.diag.print(describe(path, ev.Err), false)
	case sink.LongLine:
		ls.diag.print(path+": line longer than MaxLineLength, split into several lines", true)
	case sink.NotYet:
		ls.diag.print(ev.Glob+": no such file(s) yet, waiting for them to appear", true)
	case sink.GlobCapped:
		if ev.Rotation {
			ls.diag.print(fmt.Sprintf("rotation set has %d files, only the newest %d are read (MaxGlobTargets)", ev.Matched, ev.Max), false)
			return
		}
		ls.diag.print(fmt.Sprintf("%s: glob matched %d files, only the first %d are read (MaxGlobTargets)", ev.Glob, ev.Matched, ev.Max), false)
	case sink.ContextDropped:
		ls.diag.print(path+": some before-context lines were dropped to stay within the memory limit (MaxContextBytes)", false)
	case sink.NotFollowed:
		ls.diag.print(path+": compressed files are not followed", false)
	case sink.CommandOutput:
		ls.diag.print(path+": journalctl: "+ev.Text, false)
	}
}

func (ls *localSinks) File(src sink.Source) sink.File {
	f := &localFile{ls: ls, s: ls.chain.stream()}
	f.s.buf = ls.out.Get()
	f.l = line{host: ls.host, percent: percent100, id: []byte(src.ID), off: -1}
	f.s.fix(&f.l)
	return f
}

// localFile feeds the lines of one source into its chain stream, which
// prints them in batches of about sink.BatchSize bytes.
type localFile struct {
	ls *localSinks
	s  *stream
	// l is the line being passed on; host, percent and id stay.
	l line
}

func (f *localFile) Lines(recs []sink.Record) error {
	out, s := f.ls.out, f.s
	if err := out.Err(); err != nil {
		return err
	}
	for i := range recs {
		r := &recs[i]
		f.l.off, f.l.cut = r.Offset, r.Cut
		switch {
		case r.Run && s.c.copyRuns:
			// Plain local cat: the block is already the output.
			s.buf = append(s.buf, r.Line...)
		case r.Run:
			r.Lines(f.put)
		case s.direct:
			// One line, and no stage before the printer: the common
			// case of a grep, one call per line.
			f.l.content, f.l.no = r.Line, r.No
			s.print(&f.l)
		default:
			f.l.content, f.l.no = r.Line, r.No
			s.put(&f.l)
		}
		if len(s.buf) >= sink.BatchSize {
			out.Send(s.buf)
			s.buf = out.Get()
		}
	}
	return nil
}

// put passes one line of a record on.
func (f *localFile) put(content []byte, no uint64) {
	f.l.content, f.l.no = content, no
	f.s.put(&f.l)
}

func (f *localFile) Flush() error {
	if len(f.s.buf) > 0 {
		f.ls.out.Send(f.s.buf)
		f.s.buf = f.ls.out.Get()
	}
	return f.ls.out.Err()
}

func (f *localFile) Close(d sink.Done) {
	ls := f.ls
	ls.tally.Done(d)
	if d.Counted {
		f.s.buf = ls.chain.appendCount(f.s.buf, "", d.Source.Path, d.Count)
	}
	ls.out.Send(f.s.buf)
	f.s.buf = nil
}

// mapSinks feeds every file of a serverless query read to its map run.
type mapSinks struct {
	m      *mapr.Run
	follow bool
	sink.Events
}

func (ms *mapSinks) File(src sink.Source) sink.File { return ms.m.NewFile(src, ms.follow) }

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return b[:n-1]
	}
	return b
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
