package client

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/mapr"
	"github.com/dtail-go/dtail/internal/sink"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// localSinks is the output of a serverless read: the reader's records
// become plain lines, REMOTE lines (painted) or NDJSON objects on stdout,
// counts become grep -c / grep -l lines, and events one-line diagnostics
// on stderr. The counters feed the receipt.
type localSinks struct {
	out  *sink.Output
	host string
	// plain: lines as they are; rawEOF: a last line without newline stays
	// so (dcat --plain is byte-identical to cat, grep adds one).
	plain, rawEOF, ndjson bool
	fwm                   bool
	// seps puts grep's `--` between non-adjacent context groups of
	// plain output (set when the run has context lines).
	seps *groupSeps
	// budget is --max-total (nil: none), the same rule as remote runs.
	budget *lineBudget
	scheme *color.Scheme
	diag   *diagWriter
	log    Logger
	tally  sink.Tally
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
	f := &localFile{ls: ls, src: src}
	f.hdr.set([]byte(ls.host), percent100, []byte(src.ID))
	if ls.seps != nil {
		f.seps = &fileSeps{session: ls.seps}
	}
	f.batch = ls.out.Get()
	return f
}

// localFile prints the lines of one source in batches of about
// sink.BatchSize bytes.
type localFile struct {
	ls    *localSinks
	src   sink.Source
	batch []byte
	tmp   []byte
	ts    *timewindow.Extractor
	seps  *fileSeps
	hdr   headerWriter
}

func (f *localFile) Lines(recs []sink.Record) error {
	out := f.ls.out
	if err := out.Err(); err != nil {
		return err
	}
	for i := range recs {
		r := &recs[i]
		if r.Run && f.ls.plain && f.ls.budget == nil {
			// Plain local cat: the block is already the output.
			f.batch = append(f.batch, r.Line...)
		} else {
			r.Lines(func(line []byte, no uint64) { f.appendLine(line, no, r) })
		}
		if len(f.batch) >= sink.BatchSize {
			out.Send(f.batch)
			f.batch = out.Get()
		}
	}
	return nil
}

func (f *localFile) appendLine(line []byte, no uint64, r *sink.Record) {
	ls := f.ls
	if !ls.budget.take() {
		return
	}
	if f.seps != nil && f.seps.separates(no) {
		f.batch = append(f.batch, groupSeparator...)
	}
	switch {
	case ls.ndjson:
		if f.ts == nil {
			f.ts = timewindow.NewExtractor(time.Now())
		}
		f.batch = appendNDJSON(f.batch, f.ts, ls.host, f.src.ID, no, r.Offset, line)
	case ls.plain:
		if ls.rawEOF && !r.Cut && (len(line) == 0 || line[len(line)-1] != '\n') {
			// The file's last line, without newline, stays so, like cat.
			f.batch = append(f.batch, line...)
			return
		}
		f.batch = appendPlainLine(f.batch, line)
	default:
		if ls.scheme == nil {
			f.batch = append(f.hdr.appendNumbered(f.batch, no, line), '\n')
			return
		}
		f.tmp = f.hdr.appendNumbered(f.tmp[:0], no, line)
		f.batch = paint(f.batch, f.tmp, ls.scheme)
	}
}

func (f *localFile) Flush() error {
	if len(f.batch) > 0 {
		f.ls.out.Send(f.batch)
		f.batch = f.ls.out.Get()
	}
	return f.ls.out.Err()
}

func (f *localFile) Close(d sink.Done) {
	ls := f.ls
	ls.tally.Done(d)
	if d.Counted {
		// Like grep -c (`path:count`) and grep -l (`path`).
		switch {
		case ls.fwm && d.Count > 0:
			f.batch = append(f.batch, d.Source.Path...)
			f.batch = append(f.batch, '\n')
		case ls.fwm:
		default:
			f.batch = fmt.Appendf(f.batch, "%s:%d\n", d.Source.Path, d.Count)
		}
	}
	ls.out.Send(f.batch)
	f.batch = nil
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
