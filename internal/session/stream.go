package session

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/dtail-go/dtail/internal/source"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// streamBuffer bounds one stream chunk: what the writer has written so
// far, gathered while more is immediately available (source.NewStream),
// so a fast writer's data is handled in large blocks.
const streamBuffer = 256 << 10

var errSocket = errors.New("is a socket, not a file")

// readsStreams reports whether this session reads FIFOs and character
// devices named as files. Only a serverless client reading as its own
// user does: there the user chose the stream (`<(…)`, a FIFO, /dev/null)
// and waits for it like grep does. dserver keeps refusing them, so that no
// remote command can hang a read slot on a FIFO nobody writes to.
func (s *Session) readsStreams() bool {
	return s.cfg.Serverless && s.cfg.Open == nil
}

// tryStream reads path as a stream when it is one (readsStreams) and
// reports whether it did; otherwise the caller reads it as a file.
func (s *Session) tryStream(ctx context.Context, req ReadRequest, path, id string) bool {
	if !s.readsStreams() {
		return false
	}
	fi, err := os.Stat(path)
	if err == nil && fi.Mode()&os.ModeSocket != 0 {
		// Opening a socket fails with ENXIO, "no such device or
		// address", which sends the user looking in the wrong place.
		s.fileFailed(path, &os.PathError{Op: "open", Path: path, Err: errSocket})
		return true
	}
	if err != nil || !source.IsStream(fi.Mode()) {
		return false
	}
	// Opening a FIFO waits for its writer, as grep's open does.
	raw, err := os.Open(path)
	if err != nil {
		s.fileFailed(path, err)
		return true
	}
	f, err := source.Wrap(path, raw)
	if err != nil {
		raw.Close()
		s.fileFailed(path, err)
		return true
	}
	defer f.Close()
	s.logReadStart(req, path, id)
	s.readStream(ctx, req, f.Reader, id, path)
	return true
}

// readStream reads a stream (stdin, a FIFO, a character device) to its
// end or until ctx ends. Every line is handed on as soon as it is
// complete: the output is flushed whenever no more input is waiting.
func (s *Session) readStream(ctx context.Context, req ReadRequest, in io.Reader, id, path string) {
	p := s.newPipe(req, id, path)
	if req.Window != nil && req.Mode != Tail {
		p.tw = &timewindow.Filter{W: *req.Window, X: timewindow.NewExtractor(time.Now())}
	}
	// A stream cannot be followed past its end; even a tail read ends
	// there, with its last line emitted.
	sp := source.Splitter{MaxLineLength: s.cfg.MaxLineLength, OnLongLine: p.longLine}
	// A stream can block in Read forever (stdin is not pollable); reading
	// it in the background lets a timeout or signal end the command.
	ra := source.NewStream(ctx.Done(), in, streamBuffer, 4)
	defer ra.Close()
	err := sp.RunStream(ra, p.block, p.flush)
	p.finish()
	if ctx.Err() != nil {
		err = nil // ended by the deadline or a signal, not a read error
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		s.fileFailed(path, err)
		return
	}
	s.stats.addFile(sp.Offset, p.lines)
}
