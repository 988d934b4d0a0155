package permission

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Glob expands pattern like filepath.Glob (same syntax, lexical order per
// directory, names spelled as in the pattern), but as the Checker's user:
// every directory is reached through the same walk as Open, and a
// directory is listed only when the user could list it (read and search
// permission on the directory's own descriptor, ACLs included). A
// directory the user cannot list contributes nothing, exactly like one
// that does not exist, so neither names, nor counts, nor existence of
// anything inside it can reach the client, a receipt or a warning. A
// literal path (no metacharacters) is returned when the user's walk
// reaches it. The only error is filepath.ErrBadPattern.
func (c *Checker) Glob(pattern string) ([]string, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	w := c.walker()
	return w.glob(pattern), nil
}

func (c *Checker) walker() walker {
	return walker{id: c.id, skip: c.skip, dirs: &c.dirs, pid: os.Getpid(), protected: c.protected}
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

func (w *walker) glob(pattern string) []string {
	if !hasMeta(pattern) {
		if w.reaches(pattern) {
			return []string{pattern}
		}
		return nil
	}
	dir, file := filepath.Split(pattern)
	dir = cleanGlobDir(dir)
	var dirs []string
	if !hasMeta(dir) {
		dirs = []string{dir}
	} else {
		if dir == pattern {
			return nil // cannot recurse further (filepath.Glob does the same)
		}
		dirs = w.glob(dir)
	}
	var out []string
	for _, d := range dirs {
		out = append(out, w.list(d, file)...)
	}
	return out
}

// cleanGlobDir is filepath.Glob's cleanGlobPath for the directory part.
func cleanGlobDir(dir string) string {
	switch dir {
	case "":
		return "."
	case "/":
		return dir
	}
	return dir[:len(dir)-1]
}

// reaches reports whether the user's walk resolves p (following symlinks).
func (w *walker) reaches(p string) bool {
	abs, err := filepath.Abs(p)
	if err != nil {
		return false
	}
	ww := *w
	ww.statFinal = true // existence only: no descriptor for the last entry
	wk, err := ww.resolve(abs)
	if err != nil {
		return false
	}
	wk.Close()
	return true
}

// list returns dir's entries matching pattern, joined to dir, in lexical
// order; nothing if the user could not list dir.
func (w *walker) list(dir, pattern string) []string {
	names := w.readDirNames(dir)
	var out []string
	for _, n := range names {
		if ok, _ := filepath.Match(pattern, n); ok {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out
}

// readDirNames lists dir (sorted) if the user may read and search it.
func (w *walker) readDirNames(dir string) []string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	wk, err := w.resolve(abs)
	if err != nil {
		return nil
	}
	defer wk.Close()
	d := wk.top()
	if !isDir(&d.st) {
		return nil
	}
	// "." of the O_PATH descriptor is the same directory: no second lookup
	// by name that could be swapped.
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Dev != d.st.Dev || st.Ino != d.st.Ino {
		_ = unix.Close(fd)
		return nil
	}
	if !w.skip {
		ok, _, err := decideFD(w.id, &st, fd, false, permRead|permSearch)
		if err != nil || !ok {
			_ = unix.Close(fd)
			return nil
		}
	}
	f := os.NewFile(uintptr(fd), abs)
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	slices.Sort(names)
	return names
}

// ReadDir lists dir as the user (see Glob): the entries' names in lexical
// order, nothing if the user cannot list dir.
// Time-window reads use it to find rotated siblings of a log.
func (c *Checker) ReadDir(dir string) []string {
	w := c.walker()
	return w.readDirNames(dir)
}
