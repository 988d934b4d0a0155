package reader

import (
	"context"
	"errors"
	"io"

	"github.com/dtail-go/dtail/internal/journal"
	"github.com/dtail-go/dtail/internal/sink"
	"github.com/dtail-go/dtail/internal/source"
)

// readJournal reads a `journal:UNIT` target (spec 4.11) through the same
// line pipe as a file: matching, mapreduce, counting and output do not
// know the difference. Source id and path are the target itself.
func (rd *read) readJournal(ctx context.Context, target string) {
	req := rd.req
	rd.r.logInfo("Processing files", "count", 1, "glob", target)
	src := sink.Source{Path: target, ID: target}
	unit, err := journal.Unit(target)
	if err != nil {
		rd.failed(src, err)
		return
	}
	// Only the regex rules decide, against the literal target: there is
	// no file whose UNIX permissions could be checked.
	if rd.r.cfg.AllowJournal != nil {
		if err := rd.r.cfg.AllowJournal(target); err != nil {
			rd.failed(src, err)
			return
		}
	}
	tail := req.Mode == Tail
	sl, err := rd.acquire(ctx, target, tail)
	if err != nil {
		return
	}
	defer sl.release()
	rd.logReadStart(target, target)
	p := rd.newPipe(src)
	p.journal = true
	// Byte offsets of journalctl's output would point nowhere.
	p.offsets = false
	o := journal.Options{
		Unit:   unit,
		Follow: tail,
		Retry:  rd.r.cfg.ReadRetryInterval,
		// The entry's own timestamp (with year and zone) for JSON output.
		ISOTime: req.Offsets,
		OnStderr: func(line string) {
			rd.dst.Event(sink.Event{Kind: sink.CommandOutput, Source: src, Text: line})
		},
		OnRestart: func(reason error) {
			rd.r.logInfo("Reading journal again", target, reason)
		},
	}
	if req.Window != nil && !tail {
		if req.Window.HasSince() {
			o.Since = req.Window.Since
		}
		if req.Window.HasUntil() {
			o.Until = req.Window.Until
		}
	}
	var bytes int64
	err = journal.Run(ctx, o, func(r io.Reader) error {
		sp := source.Splitter{MaxLineLength: rd.r.cfg.MaxLineLength, OnLongLine: p.longLine}
		h := p.block
		if tail {
			// Followed lines are wanted as soon as journalctl writes them.
			h = func(data []byte, end source.Ending) error {
				if err := p.block(data, end); err != nil {
					return err
				}
				return p.out.Flush()
			}
		}
		h = yielding(ctx, sl, h)
		stopped := false
		err := sp.Run(&ctxReader{ctx: ctx, r: r}, func(data []byte, end source.Ending) error {
			err := h(data, end)
			stopped = errors.Is(err, source.ErrStop)
			return err
		})
		bytes += sp.Offset
		if err == nil && stopped {
			// --max or --files-with-matches is satisfied: a followed
			// journal must not be started again.
			err = source.ErrStop
		}
		return err
	})
	if errors.Is(err, source.ErrStop) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	p.finish(bytes, err)
	if err == nil {
		rd.r.logDebug("File processing complete", "path", target)
	}
}
