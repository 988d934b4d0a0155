package sshserver

import (
	"net"

	"golang.org/x/sys/unix"
)

// unreadBytes is how many bytes the client sent that the server has not
// read yet (SIOCINQ); -1 when unknown. Under load a handshake goroutine
// may not have read a real client's version line yet: that client is not
// silent.
func unreadBytes(c net.Conn) int {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return -1
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return -1
	}
	n := -1
	rc.Control(func(fd uintptr) {
		if v, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ); err == nil {
			n = v
		}
	})
	return n
}
