// Package sink is the seam between reading and output: a reader pushes
// the selected lines of each source and typed events into a Sink, and
// the sink decides what they become (protocol frames on a server, printed
// lines, counts or a mapreduce aggregate in a client). It imports nothing
// of ours, so readers, servers and clients can all depend on it.
//
// The shape follows ripgrep's grep-searcher Sink: the searcher knows
// nothing about printing, the printer nothing about searching.
package sink

import (
	"bytes"
	"sync/atomic"
)

// Source is one file (or stdin, or a journal target) being read.
type Source struct {
	// Path is the file as opened: "-" for stdin, "journal:UNIT" for a
	// journal target.
	Path string
	// ID is the source id of REMOTE lines (protocol.SourceID).
	ID string
}

// Record is one selected line, or a run of them. Its bytes belong to the
// reader and are valid only during the Lines call.
type Record struct {
	// Line is the line with its newline when it had one (the last line
	// of a file, or a piece of an over-long line, has none). With Run it
	// holds several complete lines.
	Line []byte
	// No is the 1-based line number of (the first line of) Line.
	No uint64
	// Offset is the byte offset of the line in the (decompressed)
	// stream; -1 when the reader was not asked for offsets.
	Offset int64
	// Context marks a before/after context line of a grep window.
	Context bool
	// Cut: Line is a piece of an over-long line, split at MaxLineLength
	// (it has no newline, but it is not the last line of the file).
	Cut bool
	// Run: Line holds complete lines numbered from No, all selected and
	// without offsets. A reader passes whole blocks this way when every
	// line is selected (cat), so that a sink which copies bytes (plain
	// local output) does no per-line work.
	Run bool
}

// Lines calls f for every line of r: once for a single line, once per
// line of a Run.
func (r *Record) Lines(f func(line []byte, no uint64)) {
	if !r.Run {
		f(r.Line, r.No)
		return
	}
	data, no := r.Line, r.No
	for len(data) > 0 {
		i := indexNL(data)
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i+1], data[i+1:]
		}
		f(line, no)
		no++
	}
}

// File receives what the reading of one source found. One goroutine
// calls it; the reader calls Close exactly once, last.
type File interface {
	// Lines takes selected lines in file order; a non-nil error (the
	// output went away) ends the read.
	Lines(recs []Record) error
	// Flush is called when a followed file caught up: lines held in a
	// batch go out now. Its error ends the read.
	Flush() error
	// Close ends the source with its summary.
	Close(Done)
}

// Done summarises one source when its read ended.
type Done struct {
	Source Source
	// Lines and Bytes were read (Bytes counts probes of a time window
	// too).
	Lines uint64
	Bytes int64
	// Counted is set for --count / --files-with-matches reads: Count is
	// the number of selected lines (with files-with-matches at most 1).
	Counted bool
	Count   uint64
	// Failed is set when the source could not be read to its end; the
	// reader also sent an Unreadable event. A failed source is not read.
	Failed bool
	// Followed: the source was followed (tail); it is not counted as a
	// file read.
	Followed bool
}

// Kind is the type of an Event.
type Kind int

const (
	// Unreadable: a source could not be (fully) read; Err says why (for
	// the server log and a local user; remote clients learn only the 4.x
	// text).
	Unreadable Kind = iota + 1
	// Rotated and Truncated: a followed file was replaced or truncated
	// and is read again from its start.
	Rotated
	Truncated
	// LongLine: a line longer than MaxLineLength was split (a warning:
	// nothing is lost).
	LongLine
	// NotYet: a follow found no file for its glob yet and waits (a
	// warning).
	NotYet
	// GlobCapped: a glob or rotation set matched more files than
	// MaxGlobTargets; N files were skipped (not read), Max is the limit.
	GlobCapped
	// ContextDropped: before-context lines were dropped to stay within
	// the memory limit; Max is the limit in bytes.
	ContextDropped
	// NotFollowed: a compressed file matched a follow; it is not read.
	NotFollowed
	// CommandOutput: a line the journal reader's command wrote to stderr.
	CommandOutput
	// GroupLimit: a mapreduce aggregate dropped lines of groups beyond
	// its limit (Max) until the next report.
	GroupLimit
)

// Event is something a reader noticed besides lines.
type Event struct {
	Kind   Kind
	Source Source
	// Glob is the pattern a GlobCapped or NotYet event is about.
	Glob string
	Err  error
	// Text is the CommandOutput line.
	Text string
	// N counts what the event is about (skipped files); Matched is the
	// number of files a glob matched; Max is the limit involved.
	N, Matched int
	Max        int64
	// Rotation: a GlobCapped event about a time window's rotation set.
	Rotation bool
}

// Events receives a read's events. Any goroutine may call it.
type Events interface {
	Event(Event)
}

func indexNL(b []byte) int { return bytes.IndexByte(b, '\n') }

// Tally counts what reads delivered, for a receipt. Any goroutine may
// call it.
type Tally struct {
	FilesRead, FilesFailed, Bytes, Lines, Rotated, Truncated, Skipped atomic.Int64
}

// Done counts a source that ended: a followed or failed one is not a
// file read.
func (t *Tally) Done(d Done) {
	if d.Failed || d.Followed {
		return
	}
	t.FilesRead.Add(1)
	t.Bytes.Add(d.Bytes)
	t.Lines.Add(int64(d.Lines))
}

// Event counts the events a receipt reports.
func (t *Tally) Event(ev Event) {
	switch ev.Kind {
	case Unreadable:
		t.FilesFailed.Add(1)
	case Rotated:
		t.Rotated.Add(1)
	case Truncated:
		t.Truncated.Add(1)
	case GlobCapped:
		if !ev.Rotation {
			// The newest files of a rotation set are read; the
			// older ones lie outside what the user asked for.
			t.Skipped.Add(int64(ev.N))
		}
	}
}
