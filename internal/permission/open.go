package permission

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// Open resolves path (relative paths against the process CWD), applies the
// regex rules to the resolved path, requires search permission on its parent
// directories and read permission on the file for id, and returns the open
// file. The resolved entry is opened with O_NOFOLLOW|O_NONBLOCK and must be
// the same regular file (dev/ino) that was lstat'ed before the checks, which
// defeats swapping it between check and open; the permission decision itself
// is made on the opened descriptor. Every policy or permission failure is an
// *Error wrapping ErrDenied.
func Open(id *Identity, rules *Rules, path string, opts ...Option) (*os.File, Info, error) {
	skip := false
	for _, o := range opts {
		if o == Skip {
			skip = true
		}
	}
	return openFile(id, rules, path, skip, nil, nil)
}

// Checker opens files for one user with fixed rules, remembering which
// directories the user may search (see dirCache). dserver keeps one per
// session; it is safe for concurrent use.
type Checker struct {
	id    *Identity
	rules *Rules
	skip  bool
	dirs  dirCache
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
	return openFile(c.id, c.rules, path, c.skip, nil, &c.dirs)
}

func openFile(id *Identity, rules *Rules, path string, skip bool, hook func(stage, string), dirs *dirCache) (*os.File, Info, error) {
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
	resolved, walked, err := resolve(abs)
	if err != nil {
		return nil, info, denied(abs, "resolving symlinks: "+errText(err), err)
	}
	info.Resolved = resolved
	if !skip {
		if ok, why := rules.explain(resolved); !ok {
			return nil, info, denied(resolved, why, nil)
		}
	}
	before, ok := walked[resolved]
	if !ok {
		if err := unix.Lstat(resolved, &before); err != nil {
			return nil, info, denied(resolved, "lstat: "+err.Error(), err)
		}
	}
	if !isRegular(&before) {
		// Refusing before open matters: opening a device or fifo can have
		// side effects even if it is closed right away.
		return nil, info, denied(resolved, "not a regular file ("+fileType(&before)+")", nil)
	}
	if !skip {
		if e := checkParents(id, resolved, dirs, walked); e != nil {
			return nil, info, e
		}
	}
	if hook != nil {
		hook(stageBeforeOpen, resolved)
	}
	fd, err := openNoFollow(resolved)
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
	f, err := checkOpened(fd, id, resolved, &before, skip, &info)
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
		a, err := readACL(func(buf []byte) (int, error) { return unix.Fgetxattr(fd, xattrACLAccess, buf) })
		if err != nil {
			return nil, denied(resolved, err.Error(), err)
		}
		if ok, why := decide(id, &st, a, permRead); !ok {
			return nil, denied(resolved, why, nil)
		}
	}
	// O_NONBLOCK only guarded the open itself; readers expect normal
	// blocking semantics from the descriptor.
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags&^unix.O_NONBLOCK)
	}
	if err != nil {
		return nil, fmt.Errorf("permission: fcntl %s: %w", resolved, err)
	}
	info.Dev, info.Ino, info.Size = uint64(st.Dev), st.Ino, st.Size
	info.Mode = fs.FileMode(st.Mode & 0o777)
	info.ModTime = time.Unix(st.Mtim.Unix())
	return os.NewFile(uintptr(fd), resolved), nil
}

func openNoFollow(p string) (int, error) {
	for {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
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

// maxSymlinks bounds link following like the kernel's ELOOP limit.
const maxSymlinks = 40

// resolve is filepath.EvalSymlinks for an absolute path that also returns
// the lstat of every directory and of the final entry it walked through,
// so the permission checks need not stat the same components again (one
// lstat per component instead of two or three: it matters for globs over
// thousands of files).
func resolve(abs string) (string, map[string]unix.Stat_t, error) {
	walked := make(map[string]unix.Stat_t, 8)
	var st unix.Stat_t
	if err := unix.Lstat("/", &st); err != nil {
		return "", nil, &fs.PathError{Op: "lstat", Path: "/", Err: err}
	}
	walked["/"] = st
	cur := "/"
	parts := strings.Split(abs, "/")
	links := 0
	for len(parts) > 0 {
		p := parts[0]
		parts = parts[1:]
		switch p {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, p)
		if err := unix.Lstat(next, &st); err != nil {
			return "", nil, &fs.PathError{Op: "lstat", Path: next, Err: err}
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			links++
			if links > maxSymlinks {
				return "", nil, &fs.PathError{Op: "resolve", Path: abs, Err: unix.ELOOP}
			}
			target, err := os.Readlink(next)
			if err != nil {
				return "", nil, err
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			parts = append(strings.Split(target, "/"), parts...)
			continue
		}
		if len(parts) > 0 && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			// More components follow a non-directory; report it the way
			// the kernel would.
			rest := false
			for _, q := range parts {
				if q != "" && q != "." {
					rest = true
					break
				}
			}
			if rest {
				return "", nil, &fs.PathError{Op: "lstat", Path: next, Err: unix.ENOTDIR}
			}
		}
		walked[next] = st
		cur = next
	}
	return cur, walked, nil
}
