package permission

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Option modifies Open.
type Option int

// Skip bypasses the identity, regex and UNIX permission checks for the
// reserved job users (spec §4.3, §4.6). The regular-file, O_NOFOLLOW and
// same-inode checks still apply, so a job can never be tricked into reading a
// fifo, device or swapped-in file.
const Skip Option = 1

// Info describes the file Open returned.
type Info struct {
	// Path is the absolute, cleaned form of the path as given.
	Path string
	// Resolved is the symlink-free path that was checked and opened.
	Resolved string
	Dev      uint64
	Ino      uint64
	Size     int64
	Mode     fs.FileMode
	ModTime  time.Time
}

// stage names points in openFile where tests inject a race.
type stage int

const stageBeforeOpen stage = iota

// Open resolves path (relative paths against the process CWD) component by
// component from "/" as the user (see walk.go: search permission checked on
// each directory descriptor, symlinks followed by restarting on their
// target), applies the regex rules to the canonical path the walk went
// through, opens the file from the parent directory descriptor with
// O_NOFOLLOW|O_NONBLOCK, requires it to be the regular file the walk found
// (dev/ino), and decides read permission on the opened descriptor. Every
// policy or permission failure is an *Error wrapping ErrDenied.
func Open(id *Identity, rules *Rules, path string, opts ...Option) (*os.File, Info, error) {
	skip := false
	for _, o := range opts {
		if o == Skip {
			skip = true
		}
	}
	return openFile(id, rules, path, skip, nil, nil, 0)
}

// Checker opens files for one user with fixed rules, remembering which
// directories the user may search (see dirCache). dserver keeps one per
// session; it is safe for concurrent use.
type Checker struct {
	id    *Identity
	rules *Rules
	skip  bool
	dirs  dirCache
	// protected is fs.protected_symlinks; 0: each walk reads it when it
	// meets a symlink in a sticky world-writable directory (rare, and
	// reading it per session cost 1 % of dserver's CPU at fleet scale).
	protected int8
}

// NewChecker returns a Checker; Skip bypasses the user checks as in Open.
func NewChecker(id *Identity, rules *Rules, opts ...Option) *Checker {
	c := &Checker{id: id, rules: rules}
	for _, o := range opts {
		if o == Skip {
			c.skip = true
		}
	}
	return c
}

// Open is Open with the Checker's user, rules and directory cache.
func (c *Checker) Open(path string) (*os.File, Info, error) {
	return openFile(c.id, c.rules, path, c.skip, nil, &c.dirs, c.protected)
}

func openFile(id *Identity, rules *Rules, path string, skip bool, hook func(stage, string), dirs *dirCache, protected int8) (*os.File, Info, error) {
	var info Info
	if path == "" {
		return nil, info, denied(path, "empty path", nil)
	}
	if !skip && id == nil {
		return nil, info, denied(path, "no user identity", nil)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, info, fmt.Errorf("permission: %s: %w", path, err)
	}
	info.Path = abs
	w := walker{id: id, skip: skip, dirs: dirs, pid: os.Getpid(), protected: protected, statFinal: true}
	wk, err := w.resolve(abs)
	if err != nil {
		return nil, info, err
	}
	defer wk.Close()
	resolved := wk.path()
	info.Resolved = resolved
	if !skip {
		if ok, why := rules.explain(resolved); !ok {
			return nil, info, denied(resolved, why, nil)
		}
	}
	final := wk.top()
	if !isRegular(&final.st) {
		// Refusing before open matters: opening a device or fifo can have
		// side effects even if it is closed right away.
		return nil, info, denied(resolved, "not a regular file ("+fileType(&final.st)+")", nil)
	}
	if hook != nil {
		hook(stageBeforeOpen, resolved)
	}
	// The file is opened by name in the parent directory the walk holds
	// (search permission was checked on that descriptor), and must be the
	// inode the walk found there.
	fd, err := openAt(wk.parent().fd, final.name)
	if err != nil {
		switch {
		case errors.Is(err, unix.ELOOP):
			return nil, info, denied(resolved, "became a symlink before open", err)
		case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM),
			errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.ENXIO):
			return nil, info, denied(resolved, "open: "+err.Error(), err)
		}
		return nil, info, fmt.Errorf("permission: open %s: %w", resolved, err)
	}
	f, err := checkOpened(fd, id, resolved, &final.st, skip, &info)
	if err != nil {
		_ = unix.Close(fd)
		return nil, info, err
	}
	return f, info, nil
}

func checkOpened(fd int, id *Identity, resolved string, before *unix.Stat_t, skip bool, info *Info) (*os.File, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("permission: fstat %s: %w", resolved, err)
	}
	if !isRegular(&st) {
		return nil, denied(resolved, "opened entry is not a regular file ("+fileType(&st)+")", nil)
	}
	if st.Dev != before.Dev || st.Ino != before.Ino {
		return nil, denied(resolved, "file was replaced between check and open", nil)
	}
	if !skip {
		ok, why, err := decideFD(id, &st, fd, false, permRead)
		if err != nil {
			return nil, denied(resolved, err.Error(), err)
		}
		if !ok {
			return nil, denied(resolved, why, nil)
		}
	}
	// O_NONBLOCK only guarded the open itself; readers expect normal
	// blocking semantics from the descriptor.
	// The flags are the ones openAt used, so no F_GETFL is needed
	// (F_SETFL only changes the status flags; the access mode stays).
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, openFlags&^unix.O_NONBLOCK); err != nil {
		return nil, fmt.Errorf("permission: fcntl %s: %w", resolved, err)
	}
	info.Dev, info.Ino, info.Size = uint64(st.Dev), st.Ino, st.Size
	info.Mode = fs.FileMode(st.Mode & 0o777)
	info.ModTime = time.Unix(st.Mtim.Unix())
	return os.NewFile(uintptr(fd), resolved), nil
}

// openFlags open a checked regular file: O_NOFOLLOW and O_NONBLOCK make
// the open itself harmless should the entry have been swapped for a link,
// fifo or device since the walk looked at it.
const openFlags = unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY

func openAt(dir int, name string) (int, error) {
	for {
		fd, err := unix.Openat(dir, name, openFlags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func isRegular(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFREG }

func fileType(st *unix.Stat_t) string {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	case unix.S_IFSOCK:
		return "socket"
	}
	return "regular file"
}

// errText drops the *PathError prefix, which repeats the path already shown.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}
