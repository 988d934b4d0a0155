package session

import (
	"context"
	"errors"
	"io"

	"github.com/dtail-go/dtail/internal/journal"
	"github.com/dtail-go/dtail/internal/source"
)

// readJournal reads a `journal:UNIT` target (spec 4.11) through the same
// line pipe as a file: matching, mapreduce, counting and formatting do not
// know the difference. Source id and path are the target itself.
func (s *Session) readJournal(ctx context.Context, req ReadRequest, target string) {
	s.logInfo("Processing files", "count", 1, "glob", target)
	unit, err := journal.Unit(target)
	if err != nil {
		s.fileFailed(target, err)
		return
	}
	// Only the regex rules decide, against the literal target: there is
	// no file whose UNIX permissions could be checked.
	if s.cfg.AllowJournal != nil {
		if err := s.cfg.AllowJournal(target); err != nil {
			s.fileFailed(target, err)
			return
		}
	}
	tail := req.Mode == Tail
	sl, err := s.cfg.Limits.acquire(ctx, s.cfg.User, tail, func() {
		s.logInfo("Server limit hit, queueing file", target)
	})
	if err != nil {
		return
	}
	defer sl.release()
	s.logReadStart(req, target, target)
	p := s.newPipe(req, target, target)
	// Byte offsets of journalctl's output would point nowhere.
	p.offsets, p.fmt.wireOffsets = false, false
	o := journal.Options{
		Unit:   unit,
		Follow: tail,
		Retry:  s.cfg.ReadRetryInterval,
		// The entry's own timestamp (with year and zone) for JSON output.
		ISOTime: req.NDJSON || req.Offsets,
		OnStderr: func(line string) {
			s.notify("journalctl stderr: "+line+"\n", target+": journalctl: "+line)
		},
		OnRestart: func(reason error) {
			s.logInfo("Reading journal again", target, reason)
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
		sp := source.Splitter{MaxLineLength: s.cfg.MaxLineLength, OnLongLine: p.longLine}
		h := p.block
		if tail {
			// Followed lines are wanted as soon as journalctl writes them.
			h = func(data []byte, end source.Ending) error {
				if err := p.block(data, end); err != nil {
					return err
				}
				return p.flush()
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
	p.finish()
	if errors.Is(err, source.ErrStop) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	if err != nil {
		s.fileFailed(target, err)
		return
	}
	s.stats.addFile(bytes, p.lines)
	s.logDebug("File processing complete", "path", target)
}
