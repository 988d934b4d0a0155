// Package keycache is dtail-keycache: it fills dserver's key cache
// <CacheDir>/<user>.authorized_keys (spec §4.3) from the users'
// ~/.ssh/authorized_keys without ever following a symbolic link out of a
// home directory, and without passing on keys whose options dserver
// cannot honour.
package keycache

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dtail-go/dtail/internal/config"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// Name is the binary name.
const Name = "dtail-keycache"

// Suffix is the cache file suffix after the user name.
const Suffix = ".authorized_keys"

// MaxFileSize bounds how much of an authorized_keys file is read.
const MaxFileSize = 1 << 20

// Options are the command line of dtail-keycache.
type Options struct {
	Cfg         string
	CacheDir    string
	Passwd      string
	Users       string
	MinUID      int
	Owner       string
	Prune       bool
	StrictModes bool
	DryRun      bool
	Verbose     bool
}

// NewFlagSet defines dtail-keycache's flags; it is also the source of its
// man page and completions.
func NewFlagSet(o *Options) *flag.FlagSet {
	fs := flag.NewFlagSet(Name, flag.ContinueOnError)
	fs.StringVar(&o.Cfg, "cfg", "/etc/dtail/dtail.json", "dtail.json whose Common.CacheDir is filled; 'none' uses the built-in default")
	fs.StringVar(&o.CacheDir, "cache-dir", "", "Cache directory; overrides Common.CacheDir of -cfg")
	fs.StringVar(&o.Passwd, "passwd", "/etc/passwd", "passwd file listing the users and their home directories")
	fs.StringVar(&o.Users, "users", "", "Comma separated user names to update (default: every user with UID >= -min-uid)")
	fs.IntVar(&o.MinUID, "min-uid", 1000, "Lowest UID considered when -users is not given")
	fs.StringVar(&o.Owner, "owner", "dserver", "Owner of the cache files when run as root")
	fs.BoolVar(&o.Prune, "prune", true, "Remove cache files of users without an authorized_keys file (only those of -users if given)")
	fs.BoolVar(&o.StrictModes, "strict-modes", true, "Like sshd StrictModes: refuse group/world-writable or foreign-owned home, ~/.ssh and authorized_keys")
	fs.BoolVar(&o.DryRun, "n", false, "Dry run: report what would be written, change nothing")
	fs.BoolVar(&o.Verbose, "v", false, "Report every user, also those left unchanged")
	return fs
}

// User is one passwd entry.
type User struct {
	Name string
	UID  int
	GID  int
	Home string
}

// ReadPasswd parses a passwd(5) file.
func ReadPasswd(path string) ([]User, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var users []User
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 7 {
			continue
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || !validUserName(f[0]) {
			continue
		}
		users = append(users, User{Name: f[0], UID: uid, GID: gid, Home: f[5]})
	}
	return users, nil
}

// validUserName keeps names usable as a file name in the cache directory.
func validUserName(name string) bool {
	if name == "" || name == "." || name == ".." || strings.HasPrefix(name, "-") {
		return false
	}
	return !strings.ContainsAny(name, "/\x00\n")
}

// Skip is a key (or a whole file) that was not copied, with the reason.
type Skip struct {
	Line   int
	Reason string
}

// Option classes. dserver grants no shell, no forwarding and no pty, so
// options that only take those away change nothing and the key is kept.
// Options that restrict *who* or *when* or *what runs* cannot be honoured
// by dserver (it ignores options) and make the key be skipped, as does
// any option not known here.
var harmlessOptions = map[string]bool{
	"restrict": true, "no-pty": true, "pty": true,
	"no-port-forwarding": true, "port-forwarding": true,
	"no-agent-forwarding": true, "agent-forwarding": true,
	"no-x11-forwarding": true, "x11-forwarding": true,
	"no-user-rc": true, "user-rc": true,
	"permitopen": true, "permitlisten": true, "tunnel": true,
	"environment": true, "no-touch-required": true,
}

// RefusedOptions are the known options that make a key be skipped.
var RefusedOptions = []string{"command", "from", "expiry-time", "cert-authority", "principals", "verify-required"}

// FilterKeys parses authorized_keys content and returns the keys dserver
// may use, in authorized_keys form without options, and what was skipped.
func FilterKeys(data []byte) (keys []string, skipped []Skip) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), MaxFileSize)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		pub, comment, options, _, err := ssh.ParseAuthorizedKey(line)
		if err != nil {
			skipped = append(skipped, Skip{n, "unparsable line"})
			continue
		}
		if bad := refusedOption(options); bad != "" {
			skipped = append(skipped, Skip{n, "option " + bad + " cannot be honoured by dserver"})
			continue
		}
		k := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
		if c := strings.TrimSpace(comment); c != "" && !strings.ContainsAny(c, "\r\n") {
			k += " " + c
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		skipped = append(skipped, Skip{n + 1, "rest of file unreadable: " + err.Error()})
	}
	return keys, skipped
}

// RefusedOption returns the first option of an authorized_keys entry that
// dserver cannot honour (see RefusedOptions), or "" when the key is usable.
// dserver applies the same rule when it reads a home's authorized_keys.
func RefusedOption(options []string) string { return refusedOption(options) }

func refusedOption(options []string) string {
	for _, o := range options {
		name, _, _ := strings.Cut(o, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if !harmlessOptions[name] {
			return name
		}
	}
	return ""
}

// ErrEscape is returned when authorized_keys resolves outside the home.
var ErrEscape = errors.New("resolves outside the home directory")

// OpenInHome opens home/rel for reading without following a symbolic link
// out of home. The path is resolved first and must stay inside the
// (resolved) home; it is then opened one component at a time with
// O_NOFOLLOW from the home directory, so a component swapped for a link
// after the check makes the open fail instead of escaping. With strict,
// every directory on the way and the file must be owned by uid or root
// and not be writable by group or others (sshd's StrictModes). A missing
// file is reported as fs.ErrNotExist.
func OpenInHome(home, rel string, uid int, strict bool) (*os.File, error) {
	if !filepath.IsAbs(home) {
		return nil, fmt.Errorf("home %q is not absolute", home)
	}
	realHome, err := filepath.EvalSymlinks(home)
	if err != nil {
		return nil, err
	}
	if realHome == "/" {
		return nil, fmt.Errorf("home %q is the root directory", home)
	}
	resolved, err := filepath.EvalSymlinks(filepath.Join(realHome, rel))
	if err != nil {
		return nil, err
	}
	inside, err := filepath.Rel(realHome, resolved)
	if err != nil || inside == "." || inside == ".." || strings.HasPrefix(inside, "../") || filepath.IsAbs(inside) {
		return nil, fmt.Errorf("%s: %w (%s)", filepath.Join(home, rel), ErrEscape, resolved)
	}
	const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	dfd, err := unix.Open(realHome, dirFlags, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: realHome, Err: err}
	}
	where := realHome
	if err := checkMode(dfd, where, uid, strict, true); err != nil {
		unix.Close(dfd)
		return nil, err
	}
	parts := strings.Split(inside, string(filepath.Separator))
	for _, p := range parts[:len(parts)-1] {
		where = filepath.Join(where, p)
		nfd, err := unix.Openat(dfd, p, dirFlags, 0)
		unix.Close(dfd)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: where, Err: err}
		}
		dfd = nfd
		if err := checkMode(dfd, where, uid, strict, true); err != nil {
			unix.Close(dfd)
			return nil, err
		}
	}
	where = filepath.Join(where, parts[len(parts)-1])
	// O_NONBLOCK so that a FIFO planted here cannot hang us; regular
	// files ignore it.
	fd, err := unix.Openat(dfd, parts[len(parts)-1], unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	unix.Close(dfd)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: where, Err: err}
	}
	if err := checkMode(fd, where, uid, strict, false); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), where), nil
}

func checkMode(fd int, path string, uid int, strict, dir bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if !dir && st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%s: not a regular file", path)
	}
	if !strict {
		return nil
	}
	if int(st.Uid) != uid && st.Uid != 0 {
		return fmt.Errorf("%s: owned by UID %d, not by the user or root", path, st.Uid)
	}
	if st.Mode&0o022 != 0 {
		return fmt.Errorf("%s: writable by group or others (mode %04o)", path, st.Mode&0o7777)
	}
	return nil
}

// Result is what happened for one user.
type Result struct {
	User    string
	Source  string
	Keys    int
	Skipped []Skip
	// Action is "wrote", "unchanged", "removed", "absent" or "error".
	Action string
	Err    error
}

// Updater writes cache files.
type Updater struct {
	Dir         string
	StrictModes bool
	DryRun      bool
	// Chown, when set, is applied to every written file (root only).
	Chown *[2]int
}

// ReadUser reads and filters u's authorized_keys. found is false when the
// file does not exist.
func (up *Updater) ReadUser(u User) (keys []string, skipped []Skip, found bool, err error) {
	if u.Home == "" || !filepath.IsAbs(u.Home) {
		return nil, nil, false, nil
	}
	f, err := OpenInHome(u.Home, filepath.Join(".ssh", "authorized_keys"), u.UID, up.StrictModes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, true, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, nil, true, err
	}
	if len(data) > MaxFileSize {
		return nil, nil, true, fmt.Errorf("%s: larger than %d bytes", f.Name(), MaxFileSize)
	}
	keys, skipped = FilterKeys(data)
	return keys, skipped, true, nil
}

// Update handles one user. A user whose file exists but is refused or has
// no usable key gets a cache file without keys: dserver only falls back
// to the home directory when the cache file is missing, and that fallback
// would use the very keys refused here.
func (up *Updater) Update(u User, prune bool) Result {
	r := Result{User: u.Name, Source: filepath.Join(u.Home, ".ssh", "authorized_keys")}
	keys, skipped, found, err := up.ReadUser(u)
	r.Keys, r.Skipped = len(keys), skipped
	if !found {
		if !prune {
			r.Action = "absent"
			return r
		}
		removed, err := up.remove(u.Name)
		r.Action, r.Err = "absent", err
		if removed {
			r.Action = "removed"
		}
		return r
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Generated by %s from %s; do not edit.\n", Name, r.Source)
	if err != nil {
		r.Err = err
		fmt.Fprintf(&b, "# No keys: the file was refused: %s\n", oneLine(err.Error()))
	}
	for _, s := range skipped {
		fmt.Fprintf(&b, "# Skipped line %d: %s\n", s.Line, s.Reason)
	}
	for _, k := range keys {
		b.WriteString(k + "\n")
	}
	changed, werr := up.write(u.Name, []byte(b.String()))
	switch {
	case werr != nil:
		r.Action, r.Err = "error", errors.Join(r.Err, werr)
	case changed:
		r.Action = "wrote"
	default:
		r.Action = "unchanged"
	}
	if r.Err != nil && r.Action != "error" {
		r.Action = "error"
	}
	return r
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

func (up *Updater) path(user string) string { return filepath.Join(up.Dir, user+Suffix) }

// write replaces the cache file atomically (temporary file in the same
// directory, fsync, rename) with mode 0644. It reports false when the
// content and ownership were already right.
func (up *Updater) write(user string, data []byte) (bool, error) {
	p := up.path(user)
	if old, err := os.Lstat(p); err == nil && old.Mode().IsRegular() && old.Mode().Perm() == 0o644 {
		if cur, err := os.ReadFile(p); err == nil && bytes.Equal(cur, data) && up.ownedRight(old) {
			return false, nil
		}
	}
	if up.DryRun {
		return true, nil
	}
	tmp, err := os.CreateTemp(up.Dir, "."+user+Suffix+".tmp-*")
	if err != nil {
		return false, err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return false, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return false, err
	}
	if up.Chown != nil {
		if err := tmp.Chown(up.Chown[0], up.Chown[1]); err != nil {
			return false, err
		}
	}
	if err := tmp.Sync(); err != nil {
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return false, err
	}
	ok = true
	if d, err := os.Open(up.Dir); err == nil {
		d.Sync()
		d.Close()
	}
	return true, nil
}

func (up *Updater) ownedRight(fi os.FileInfo) bool {
	if up.Chown == nil {
		return true
	}
	st, ok := fi.Sys().(*unix.Stat_t)
	if !ok {
		return true
	}
	return int(st.Uid) == up.Chown[0] && int(st.Gid) == up.Chown[1]
}

func (up *Updater) remove(user string) (bool, error) {
	p := up.path(user)
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if up.DryRun {
		return true, nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, nil
}

// Stale lists the users with a cache file in dir that are not in keep.
func Stale(dir string, keep map[string]bool) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, Suffix) {
			continue
		}
		user := strings.TrimSuffix(name, Suffix)
		if !keep[user] {
			out = append(out, user)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Run is the dtail-keycache command: it returns the exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	var o Options
	fset := NewFlagSet(&o)
	fset.SetOutput(stderr)
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments: %q\n", Name, fset.Args())
		return 2
	}
	dir := o.CacheDir
	if dir == "" {
		cfg, _, err := config.Load(o.Cfg, "")
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", Name, err)
			return 2
		}
		dir = cfg.Common.CacheDir
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		fmt.Fprintf(stderr, "%s: cache directory %s: not a directory (%v)\n", Name, dir, err)
		return 2
	}
	all, err := ReadPasswd(o.Passwd)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", Name, err)
		return 2
	}
	up := &Updater{Dir: dir, StrictModes: o.StrictModes, DryRun: o.DryRun}
	if os.Geteuid() == 0 {
		owner := findUser(all, o.Owner)
		if owner == nil {
			fmt.Fprintf(stderr, "%s: owner %q not in %s\n", Name, o.Owner, o.Passwd)
			return 2
		}
		up.Chown = &[2]int{owner.UID, owner.GID}
	}
	var users []User
	if o.Users != "" {
		for _, name := range strings.Split(o.Users, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			u := findUser(all, name)
			if u == nil {
				fmt.Fprintf(stderr, "%s: user %q not in %s\n", Name, name, o.Passwd)
				return 2
			}
			users = append(users, *u)
		}
	} else {
		for _, u := range all {
			if u.UID >= o.MinUID && u.UID != 65534 {
				users = append(users, u)
			}
		}
	}
	code := 0
	seen := map[string]bool{}
	for _, u := range users {
		if seen[u.Name] {
			continue
		}
		seen[u.Name] = true
		r := up.Update(u, o.Prune)
		report(stdout, stderr, r, o.Verbose, o.DryRun)
		if r.Err != nil {
			code = 1
		}
	}
	if o.Prune && o.Users == "" {
		stale, err := Stale(dir, seen)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", Name, err)
			code = 1
		}
		for _, name := range stale {
			if _, err := up.remove(name); err != nil {
				fmt.Fprintf(stderr, "%s: %s: %v\n", Name, name, err)
				code = 1
				continue
			}
			fmt.Fprintf(stdout, "%s%s: removed (not a user with UID >= %d)\n", dryPrefix(o.DryRun), name, o.MinUID)
		}
	}
	return code
}

func findUser(all []User, name string) *User {
	for i := range all {
		if all[i].Name == name {
			return &all[i]
		}
	}
	return nil
}

func dryPrefix(dry bool) string {
	if dry {
		return "(dry run) "
	}
	return ""
}

func report(stdout, stderr io.Writer, r Result, verbose, dry bool) {
	if r.Err != nil {
		fmt.Fprintf(stderr, "%s: %s: %v\n", Name, r.User, r.Err)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(stderr, "%s: %s: %s line %d skipped: %s\n", Name, r.User, r.Source, s.Line, s.Reason)
	}
	if r.Action == "wrote" || r.Action == "removed" || r.Action == "error" || verbose {
		fmt.Fprintf(stdout, "%s%s: %s (%d keys, %d skipped)\n", dryPrefix(dry), r.User, r.Action, r.Keys, len(r.Skipped))
	}
}
