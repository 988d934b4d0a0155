//go:build unix

package source

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// readyFunc returns a check whether a Read of r would return at once
// (data or end of input waiting), for files with a descriptor; nil when
// r cannot tell. poll(2) with a zero timeout costs one syscall and never
// blocks.
func readyFunc(r io.Reader) func() bool {
	f, ok := r.(*os.File)
	if !ok {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	return func() bool {
		ready := false
		rc.Control(func(fd uintptr) {
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(pfd, 0)
			ready = err == nil && n > 0 && pfd[0].Revents&(unix.POLLIN|unix.POLLHUP) != 0
		})
		return ready
	}
}
