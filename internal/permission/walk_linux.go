package permission

import "golang.org/x/sys/unix"

// openPath opens name relative to dir as an O_PATH descriptor without
// following a final symlink (name has no "/" except for the initial "/").
func openPath(dir int, name string) (int, error) {
	for {
		fd, err := unix.Openat(dir, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// isProcFS reports whether the directory fd is on a procfs mount.
func isProcFS(fd int) (bool, error) {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		return false, err
	}
	return sfs.Type == unix.PROC_SUPER_MAGIC, nil
}
