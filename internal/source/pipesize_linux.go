package source

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// streamPipeSize is the capacity asked for a pipe read as a stream: with
// the default 64 KiB a fast writer (`cat big.log | dgrep`) blocks after
// every 64 KiB and each read returns at most that much; 1 MiB (the
// unprivileged maximum, /proc/sys/fs/pipe-max-size) lets the writer run
// ahead and a read gather a whole buffer, so reads, polls and flushes are
// fewer. A refusal (the user's pipe-user-pages limit) keeps the pipe as
// it is.
const streamPipeSize = 1 << 20

// growPipe enlarges r's pipe buffer when r is a pipe.
func growPipe(r io.Reader) {
	f, ok := r.(*os.File)
	if !ok {
		return
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && n < streamPipeSize {
			unix.FcntlInt(fd, unix.F_SETPIPE_SZ, streamPipeSize)
		}
	})
}
