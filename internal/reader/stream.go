package reader

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/dtail-go/dtail/internal/sink"
	"github.com/dtail-go/dtail/internal/source"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// streamBuffer bounds one stream chunk: what the writer has written so
// far, gathered while more is immediately available (source.NewStream),
// so a fast writer's data is handled in large blocks.
const streamBuffer = 256 << 10

var errSocket = errors.New("is a socket, not a file")

// tryStream reads src as a stream when it is one (Config.Streams) and
// reports whether it did; otherwise the caller reads it as a file. Only
// a serverless client reading as its own user reads streams: there the
// user chose the stream (`<(…)`, a FIFO, /dev/null) and waits for it like
// grep does. dserver keeps refusing them, so that no remote command can
// hang a read slot on a FIFO nobody writes to.
func (rd *read) tryStream(ctx context.Context, src sink.Source) bool {
	if !rd.r.cfg.Streams {
		return false
	}
	path := src.Path
	fi, err := os.Stat(path)
	if err == nil && fi.Mode()&os.ModeSocket != 0 {
		// Opening a socket fails with ENXIO, "no such device or
		// address", which sends the user looking in the wrong place.
		rd.failed(src, &os.PathError{Op: "open", Path: path, Err: errSocket})
		return true
	}
	if err != nil || !source.IsStream(fi.Mode()) {
		return false
	}
	// Opening a FIFO waits for its writer, as grep's open does.
	raw, err := os.Open(path)
	if err != nil {
		rd.failed(src, err)
		return true
	}
	f, err := source.Wrap(path, raw)
	if err != nil {
		raw.Close()
		rd.failed(src, err)
		return true
	}
	defer f.Close()
	rd.logReadStart(path, src.ID)
	rd.readStream(ctx, f.Reader, src)
	return true
}

// readStream reads a stream (stdin, a FIFO, a character device) to its
// end or until ctx ends. Every line is handed on as soon as it is
// complete: the sink is flushed whenever no more input is waiting.
func (rd *read) readStream(ctx context.Context, in io.Reader, src sink.Source) {
	p := rd.newPipe(src)
	if rd.req.Window != nil && rd.req.Mode != Tail {
		p.tw = &timewindow.Filter{W: *rd.req.Window, X: timewindow.NewExtractor(time.Now())}
	}
	// A stream cannot be followed past its end; even a tail read ends
	// there, with its last line emitted.
	p.tail = false
	sp := source.Splitter{MaxLineLength: rd.r.cfg.MaxLineLength, OnLongLine: p.longLine}
	// A stream can block in Read forever (stdin is not pollable); reading
	// it in the background lets a timeout or signal end the command.
	ra := source.NewStream(ctx.Done(), in, streamBuffer, 4)
	defer ra.Close()
	err := sp.RunStream(ra, p.block, p.out.Flush)
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		err = nil // ended by the deadline or a signal, not a read error
	}
	p.finish(sp.Offset, err)
}
