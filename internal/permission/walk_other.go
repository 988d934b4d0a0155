//go:build !linux

package permission

import "golang.org/x/sys/unix"

// openPath needs O_PATH, which only Linux has: without it a directory the
// user may search but not read, or a symlink, cannot be held as a
// descriptor. dserver is built and packaged for Linux only; the clients
// (darwin included) import this package for serverless runs, which open
// files with the user's own rights and never walk. So elsewhere the walk
// refuses every path instead of checking less than the kernel would.
func openPath(dir int, name string) (int, error) {
	return -1, unix.ENOTSUP
}

// isProcFS: there is no procfs to guard where the walk never opens.
func isProcFS(fd int) (bool, error) { return false, nil }
