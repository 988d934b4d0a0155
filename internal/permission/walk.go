package permission

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The walk below is how every file is opened for an SSH user: a path is
// never handed to the kernel as a string with more than one component.
// Starting at "/", each component is looked up with
// openat(dir, name, O_PATH|O_NOFOLLOW) in the directory descriptor the
// previous step returned, after checking that the user may search THAT
// directory (fstat and ACL of the descriptor, not of a path that might name
// something else by now). A symlink is never followed by the kernel: its
// target is read from the link's own descriptor and the walk continues with
// the target's components (from "/" when absolute), at most maxSymlinks
// times, like the kernel's ELOOP limit. ".." pops the directory stack, so it
// returns to the directory the walk came through. Swapping any component
// while a walk runs therefore either changes nothing (the descriptors
// already held stay what was checked) or is seen as what it now is (a
// symlink is followed with its target checked like any other path).
//
// openat2(RESOLVE_NO_SYMLINKS) would not add anything here: every lookup is
// of a single name without "/", which O_NOFOLLOW already makes symlink-free,
// and it is not available on every kernel dserver runs on.

// maxSymlinks bounds link following like the kernel's ELOOP limit.
const maxSymlinks = 40

// entry is one resolved component: an O_PATH descriptor, its name in its
// parent and its fstat.
type entry struct {
	fd   int
	name string
	st   unix.Stat_t
}

// walk is the result of resolving a path: the chain of entries from "/"
// (stack[0]) down to the final component. Close releases the descriptors.
type walk struct {
	stack []entry
}

// push descends into e. Only the top entry (where the next name is looked
// up) and its parent (where a final file is opened) need descriptors, so
// older ancestors' descriptors are closed: a walk holds at most two
// whatever the depth, and a server with many reads in flight does not run
// out of descriptors. ".." reopens an ancestor (see ensureOpen).
func (w *walk) push(e entry) {
	w.stack = append(w.stack, e)
	if n := len(w.stack); n >= 3 {
		w.stack[n-3].closeFD()
	}
}

func (e *entry) closeFD() {
	if e.fd >= 0 {
		_ = unix.Close(e.fd)
		e.fd = -1
	}
}

// pop goes up one level for ".." (at "/" it stays at "/", as in the
// kernel): back to the directory the walk came through, not to the
// physical parent of a directory that may have been moved meanwhile.
func (w *walk) pop() error {
	if len(w.stack) <= 1 {
		return nil
	}
	w.stack[len(w.stack)-1].closeFD()
	w.stack = w.stack[:len(w.stack)-1]
	return w.ensureOpen()
}

// toRoot drops everything but "/" (an absolute symlink target).
func (w *walk) toRoot() error {
	for len(w.stack) > 1 {
		w.stack[len(w.stack)-1].closeFD()
		w.stack = w.stack[:len(w.stack)-1]
	}
	return w.ensureOpen()
}

// ensureOpen reopens the descriptors of the top and its parent after ".."
// climbed to entries whose descriptors were closed: one name at a time
// from the nearest open ancestor (or "/"), each required to be the very
// directory (device and inode) the walk went through before, so a swap in
// the meantime is refused rather than followed.
func (w *walk) ensureOpen() error {
	lo := len(w.stack) - 2
	if lo < 0 {
		lo = 0
	}
	j := lo
	for j >= 0 && w.stack[j].fd < 0 {
		j--
	}
	var st unix.Stat_t
	for k := j + 1; k < len(w.stack); k++ {
		var fd int
		var err error
		if k == 0 {
			fd, err = openPath(unix.AT_FDCWD, "/")
		} else {
			fd, err = openPath(w.stack[k-1].fd, w.stack[k].name)
		}
		if err == nil {
			if err = unix.Fstat(fd, &st); err != nil || st.Dev != w.stack[k].st.Dev || st.Ino != w.stack[k].st.Ino {
				_ = unix.Close(fd)
				if err == nil {
					err = errChanged
				}
			}
		}
		if err != nil {
			return denied((&walk{stack: w.stack[:k+1]}).path(), "reopening a directory for \"..\": "+err.Error(), err)
		}
		w.stack[k].fd = fd
		if k < lo {
			defer w.stack[k].closeFD() // only needed to reach the next one
		}
	}
	return nil
}

// errChanged marks a directory that is no longer the one walked through.
var errChanged = errors.New("changed during the walk")

func (w *walk) top() *entry { return &w.stack[len(w.stack)-1] }

// parent is the directory holding the final entry ("/" for "/" itself).
func (w *walk) parent() *entry {
	if len(w.stack) < 2 {
		return &w.stack[0]
	}
	return &w.stack[len(w.stack)-2]
}

// path is the canonical absolute path of the final entry: the names the
// walk actually went through, symlink-free.
func (w *walk) path() string {
	if len(w.stack) == 1 {
		return "/"
	}
	var b strings.Builder
	for _, e := range w.stack[1:] {
		b.WriteByte('/')
		b.WriteString(e.name)
	}
	return b.String()
}

// pathWith is path() joined with one more name, without allocating the
// intermediate string twice.
func (w *walk) pathWith(name string) string {
	p := w.path()
	if p == "/" {
		return "/" + name
	}
	return p + "/" + name
}

func (w *walk) Close() {
	for i := range w.stack {
		w.stack[i].closeFD()
	}
	w.stack = nil
}

// walker resolves paths for one user (or, with skip, for a job user whose
// checks are bypassed but whose walk is still symlink-safe).
type walker struct {
	id   *Identity
	skip bool
	dirs *dirCache
	// pid is dserver's own process id: /proc/PID, /proc/self and
	// /proc/thread-self describe dserver itself (its memory map, its
	// descriptors, its environment) and are refused for everyone.
	pid int
	// statFinal makes the walk fstatat the last component instead of
	// opening it (its entry has no descriptor): Open opens the file itself
	// from the parent's descriptor anyway, so an O_PATH descriptor for it
	// would only cost two more system calls per file.
	statFinal bool
	// protected mirrors the fs.protected_symlinks sysctl: 1 on, -1 off,
	// 0 not read yet (it is read only when a link in a sticky
	// world-writable directory is met).
	protected int8
}

// protectedSymlinks reads fs.protected_symlinks; when it cannot be read
// the protection applies (the default of every distribution).
func protectedSymlinks() int8 {
	b, err := os.ReadFile("/proc/sys/fs/protected_symlinks")
	if err != nil || strings.TrimSpace(string(b)) != "0" {
		return 1
	}
	return -1
}

func isDir(st *unix.Stat_t) bool  { return st.Mode&unix.S_IFMT == unix.S_IFDIR }
func isLink(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFLNK }

// resolve walks abs (an absolute path) from "/". On success the returned
// walk's final entry is not a symlink; the caller closes the walk. Every
// failure is an *Error (ErrDenied), wrapping the system error when there is
// one so that a missing file is told apart in the log.
func (w *walker) resolve(abs string) (*walk, error) {
	root, err := openPath(unix.AT_FDCWD, "/")
	if err != nil {
		return nil, denied(abs, "open /: "+err.Error(), err)
	}
	wk := &walk{stack: make([]entry, 0, 8)}
	var st unix.Stat_t
	if err := unix.Fstat(root, &st); err != nil {
		_ = unix.Close(root)
		return nil, denied(abs, "fstat /: "+err.Error(), err)
	}
	wk.push(entry{fd: root, st: st})
	fail := func(e error) (*walk, error) {
		wk.Close()
		return nil, e
	}
	todo := splitPath(abs, nil)
	links := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case "", ".":
			// Only a directory has "." (and a trailing slash, which
			// splits into "", asks for a directory, as in the kernel).
			if top := wk.top(); !isDir(&top.st) {
				return fail(denied(wk.path(), "not a directory, but the path continues", unix.ENOTDIR))
			}
			continue
		case "..":
			// Like any lookup, ".." needs a directory the user may search
			// (a link target "closed/../x" must not pass through closed).
			top := wk.top()
			if !isDir(&top.st) {
				return fail(denied(wk.path(), "not a directory, but the path continues", unix.ENOTDIR))
			}
			if e := w.search(wk, top); e != nil {
				return fail(e)
			}
			if err := wk.pop(); err != nil {
				return fail(err)
			}
			continue
		}
		dir := wk.top()
		if !isDir(&dir.st) {
			return fail(denied(wk.path(), "not a directory, but the path continues", unix.ENOTDIR))
		}
		if e := w.search(wk, dir); e != nil {
			return fail(e)
		}
		if e := w.procGuard(wk, dir, name); e != nil {
			return fail(e)
		}
		fd := -1
		if w.statFinal && len(todo) == 0 {
			if err := fstatatNoFollow(dir.fd, name, &st); err != nil {
				return fail(denied(wk.pathWith(name), "lookup: "+err.Error(), err))
			}
		} else {
			var err error
			if fd, err = openPath(dir.fd, name); err != nil {
				return fail(denied(wk.pathWith(name), "lookup: "+err.Error(), err))
			}
			if err := unix.Fstat(fd, &st); err != nil {
				_ = unix.Close(fd)
				return fail(denied(wk.pathWith(name), "fstat: "+err.Error(), err))
			}
		}
		if !isLink(&st) {
			wk.push(entry{fd: fd, name: name, st: st})
			continue
		}
		closeLink := func() {
			if fd >= 0 {
				_ = unix.Close(fd)
			}
		}
		links++
		if links > maxSymlinks {
			closeLink()
			return fail(denied(abs, "too many levels of symbolic links", unix.ELOOP))
		}
		if e := w.protectedSymlink(wk, dir, name, &st); e != nil {
			closeLink()
			return fail(e)
		}
		// With a descriptor the target read is the link checked; without
		// one (statFinal) the link is read by name, and a swap in between
		// is either refused (no longer a link) or another link whose
		// target is walked and checked like any other path.
		var target string
		var err error
		if fd >= 0 {
			target, err = readlinkFD(fd)
		} else {
			target, err = readlinkAt(dir.fd, name)
		}
		closeLink()
		if err != nil {
			return fail(denied(wk.pathWith(name), "readlink: "+err.Error(), err))
		}
		if target == "" {
			return fail(denied(wk.pathWith(name), "empty symlink", unix.ENOENT))
		}
		if target[0] == '/' {
			if err := wk.toRoot(); err != nil {
				return fail(err)
			}
		}
		todo = splitPath(target, todo)
	}
	return wk, nil
}

// splitPath returns p's components followed by rest (a fresh slice, so the
// caller's rest is not overwritten).
func splitPath(p string, rest []string) []string {
	parts := strings.Split(p, "/")
	out := make([]string, 0, len(parts)+len(rest))
	out = append(out, parts...)
	return append(out, rest...)
}

// search requires search (x) permission for the user on dir, as the kernel
// requires before looking up a name in it.
func (w *walker) search(wk *walk, dir *entry) *Error {
	if w.skip {
		return nil
	}
	if w.dirs.allowed(&dir.st) {
		return nil
	}
	ok, why, err := decideFD(w.id, &dir.st, dir.fd, true, permSearch)
	if err != nil {
		return denied(pathOf(wk, dir), "directory ACL: "+err.Error(), err)
	}
	if !ok {
		return denied(pathOf(wk, dir), "no search permission on directory: "+why, nil)
	}
	w.dirs.remember(&dir.st)
	return nil
}

// pathOf names dir (an entry of wk) for the log.
func pathOf(wk *walk, dir *entry) string {
	for i := range wk.stack {
		if &wk.stack[i] == dir {
			return (&walk{stack: wk.stack[:i+1]}).path()
		}
	}
	return wk.path()
}

// protectedSymlink applies the kernel's fs.protected_symlinks rule when
// the sysctl is on (the default of every distribution): in a sticky, world-writable directory a
// symlink is followed only when the follower owns it or the directory's
// owner does. Without it a user could plant a link in /tmp that the kernel
// would refuse to follow for its victim but dserver would follow.
func (w *walker) protectedSymlink(wk *walk, dir *entry, name string, link *unix.Stat_t) *Error {
	if w.skip {
		return nil
	}
	const sticky, worldWrite = unix.S_ISVTX, 0o002
	if dir.st.Mode&sticky == 0 || dir.st.Mode&worldWrite == 0 {
		return nil
	}
	if w.protected == 0 {
		w.protected = protectedSymlinks()
	}
	if w.protected < 0 {
		return nil
	}
	if link.Uid == w.id.UID || link.Uid == dir.st.Uid {
		return nil
	}
	return denied(wk.pathWith(name), fmt.Sprintf("symlink owned by uid %d in a sticky world-writable directory (protected_symlinks)", link.Uid), nil)
}

// procRootIno is the inode number of the root of every procfs mount.
const procRootIno = 1

// procGuard refuses, below the root of any procfs mount, "self" and
// "thread-self" and the directories of dserver's own process and threads:
// they would show dserver's memory, descriptors and environment with
// dserver's rights. The check runs on the directory descriptor during the
// walk, so a symlink to /proc/self, a second procfs mount or /proc/PID
// spelled out are all caught. Other processes' directories are served only
// to the user owning them (procfs grants more by ptrace rules that cannot
// be reproduced from mode bits; see DECISIONS.md).
func (w *walker) procGuard(wk *walk, dir *entry, name string) *Error {
	if dir.st.Ino != procRootIno {
		return nil
	}
	proc, err := isProcFS(dir.fd)
	if err != nil {
		return denied(pathOf(wk, dir), "fstatfs: "+err.Error(), err)
	}
	if !proc {
		return nil
	}
	if name == "self" || name == "thread-self" {
		return denied(wk.pathWith(name), "dserver's own /proc entry is never served", nil)
	}
	n, err := strconv.Atoi(name)
	if err != nil || n <= 0 {
		return nil
	}
	if n == w.pid || w.ownThread(dir.fd, n) {
		return denied(wk.pathWith(name), "dserver's own /proc entry is never served", nil)
	}
	if w.skip {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dir.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil // the lookup itself reports it
	}
	if st.Uid != w.id.UID {
		return denied(wk.pathWith(name), fmt.Sprintf("process directory of uid %d, not the user's", st.Uid), nil)
	}
	return nil
}

// ownThread reports whether tid is a thread of dserver (/proc/TID works
// for threads too, although it is not listed).
func (w *walker) ownThread(procFD, tid int) bool {
	var st unix.Stat_t
	return unix.Fstatat(procFD, strconv.Itoa(w.pid)+"/task/"+strconv.Itoa(tid), &st, 0) == nil
}

func fstatatNoFollow(dir int, name string, st *unix.Stat_t) error {
	for {
		err := unix.Fstatat(dir, name, st, unix.AT_SYMLINK_NOFOLLOW)
		if err != unix.EINTR {
			return err
		}
	}
}

// readlinkAt reads the target of the symlink name in dir.
func readlinkAt(dir int, name string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(dir, name, buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		if len(buf) >= 1<<16 {
			return "", unix.ENAMETOOLONG
		}
		buf = make([]byte, 2*len(buf))
	}
}

// readlinkFD reads the target of the symlink fd refers to (an O_PATH
// descriptor of the link itself), so the target read is the link checked.
func readlinkFD(fd int) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Readlinkat(fd, "", buf)
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		if len(buf) >= 1<<16 {
			return "", unix.ENAMETOOLONG
		}
		buf = make([]byte, 2*len(buf))
	}
}

// decideFD is decide with the ACL read from fd only when the decision
// depends on it (not for the owner, not when the group class is empty).
// pathFD says fd is an O_PATH descriptor, whose xattrs are read through
// /proc/self/fd (fgetxattr refuses O_PATH descriptors).
func decideFD(id *Identity, st *unix.Stat_t, fd int, pathFD bool, want uint16) (bool, string, error) {
	var a *acl
	if st.Uid != id.UID && st.Mode&0o070 != 0 {
		var err error
		a, err = fdACL(fd, pathFD)
		if err != nil {
			return false, "", err
		}
	}
	ok, why := decide(id, st, a, want)
	return ok, why, nil
}

// fdACL reads the access ACL of the inode fd refers to.
func fdACL(fd int, pathFD bool) (*acl, error) {
	if !pathFD {
		return readACL(func(buf []byte) (int, error) { return unix.Fgetxattr(fd, xattrACLAccess, buf) })
	}
	proc := "/proc/self/fd/" + strconv.Itoa(fd)
	a, err := readACL(func(buf []byte) (int, error) { return unix.Getxattr(proc, xattrACLAccess, buf) })
	if err == nil || !errors.Is(err, unix.ENOENT) {
		return a, err
	}
	// No /proc: reopen the directory itself ("." of the descriptor names
	// the same inode, no race) to read its xattr.
	dfd, oerr := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if oerr != nil {
		return nil, fmt.Errorf("ACL of descriptor without /proc: %w", oerr)
	}
	defer unix.Close(dfd)
	return readACL(func(buf []byte) (int, error) { return unix.Fgetxattr(dfd, xattrACLAccess, buf) })
}

// notExist reports whether err is (or wraps) a missing-file error.
func notExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
