// Package sshconfig reads the subset of OpenSSH's client configuration
// (ssh_config(5)) that decides where and as whom a DTail client connects:
// HostName, Port, User, IdentityFile, IdentitiesOnly, ProxyJump and
// HostKeyAlias, with Host patterns, Include and the "first obtained value
// wins" rule. Other keywords are accepted and ignored (a DTail client has no
// use for ForwardAgent or ControlMaster); Match blocks are skipped with a
// warning. The syntax follows OpenSSH 9.x, which the tests use as the
// oracle (ssh -G).
package sshconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxDepth is OpenSSH's READCONF_MAX_DEPTH for nested Includes.
const maxDepth = 16

// Options say how a configuration file is read.
type Options struct {
	// Home expands "~" and anchors relative Include paths (~/.ssh/…).
	Home string
	// CheckPerm refuses files that another user could have written
	// (owner neither the caller nor root, or group/other writable), as
	// OpenSSH does for ~/.ssh/config and every included file: whoever can
	// write it decides where the connections go.
	CheckPerm bool
	// SystemDir anchors relative Include paths instead of ~/.ssh (the
	// system file /etc/ssh/ssh_config uses /etc/ssh).
	SystemDir string
}

type kind uint8

const (
	kHost kind = iota
	kMatch
	kSet
	kInclude
)

// item is one line that matters: a Host or Match line, a keyword we use,
// or an Include with the items of its files.
type item struct {
	kind     kind
	file     string
	line     int
	key      string   // lower-case keyword (kSet)
	args     []string // patterns (kHost) or arguments (kSet)
	matchAll bool     // kMatch: "Match all" (always true)
	children []item   // kInclude
}

// Config is a parsed configuration (several files may be appended).
type Config struct {
	items []item
	// Warnings are one-line notes (skipped Match blocks); each kind once.
	Warnings []string
	warned   map[string]bool
}

// Load reads path; a missing file is not an error when missingOK (the
// default ~/.ssh/config), otherwise it is (an explicit --ssh-config FILE,
// as ssh -F).
func Load(path string, opts Options, missingOK bool) (*Config, error) {
	c := &Config{warned: map[string]bool{}}
	items, err := c.readFile(path, opts, 0)
	if err != nil {
		if missingOK && errors.Is(err, fs.ErrNotExist) {
			return c, nil
		}
		return nil, err
	}
	c.items = items
	return c, nil
}

// Append adds the items of another configuration read after c (the system
// file after the user's): earlier files win, as in OpenSSH.
func (c *Config) Append(o *Config) {
	c.items = append(c.items, o.items...)
	for _, w := range o.Warnings {
		c.warn(w)
	}
}

// Parse reads configuration text; name labels error messages.
func Parse(name string, data []byte, opts Options) (*Config, error) {
	c := &Config{warned: map[string]bool{}}
	items, err := c.parse(name, data, opts, 0)
	if err != nil {
		return nil, err
	}
	c.items = items
	return c, nil
}

func (c *Config) warn(msg string) {
	if c.warned == nil {
		c.warned = map[string]bool{}
	}
	if !c.warned[msg] {
		c.warned[msg] = true
		c.Warnings = append(c.Warnings, msg)
	}
}

func (c *Config) readFile(path string, opts Options, depth int) ([]item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ssh config: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("ssh config: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("ssh config %s: not a regular file", path)
	}
	if opts.CheckPerm {
		if err := checkPerm(path, st); err != nil {
			return nil, err
		}
	}
	// A config file is small; a huge one is a mistake, not a config.
	const maxSize = 4 << 20
	if st.Size() > maxSize {
		return nil, fmt.Errorf("ssh config %s: larger than %d bytes", path, maxSize)
	}
	data := make([]byte, st.Size())
	n, err := f.ReadAt(data, 0)
	if err != nil && n != len(data) {
		return nil, fmt.Errorf("ssh config: %w", err)
	}
	return c.parse(path, data[:n], opts, depth)
}

func (c *Config) parse(name string, data []byte, opts Options, depth int) ([]item, error) {
	var items []item
	for i, raw := range strings.Split(string(data), "\n") {
		lineNo := i + 1
		bad := func(format string, args ...any) error {
			return fmt.Errorf("ssh config %s line %d: %s", name, lineNo, fmt.Sprintf(format, args...))
		}
		key, args, err := splitLine(raw)
		if err != nil {
			return nil, bad("%v", err)
		}
		if key == "" {
			continue
		}
		it := item{file: name, line: lineNo, key: key}
		switch key {
		case "host":
			for _, a := range args {
				if a == "" || a == "!" {
					return nil, bad("empty Host pattern")
				}
			}
			it.kind, it.args = kHost, args
		case "match":
			it.kind = kMatch
			it.matchAll = len(args) == 1 && strings.EqualFold(args[0], "all")
			if !it.matchAll {
				c.warn(fmt.Sprintf("ssh config %s line %d: Match blocks are not supported; skipping them", name, lineNo))
			}
		case "include":
			if depth+1 > maxDepth {
				return nil, bad("Include nested too deeply")
			}
			it.kind = kInclude
			for _, a := range args {
				children, err := c.include(a, opts, depth+1)
				if err != nil {
					return nil, bad("%v", err)
				}
				it.children = append(it.children, children...)
			}
		default:
			if !used[key] {
				continue
			}
			if err := validate(key, args); err != nil {
				return nil, bad("%v", err)
			}
			it.kind, it.args = kSet, args
		}
		items = append(items, it)
	}
	return items, nil
}

// include reads the files one Include argument names: "~" is expanded,
// relative paths live in ~/.ssh (or SystemDir), globs may match nothing.
func (c *Config) include(arg string, opts Options, depth int) ([]item, error) {
	switch {
	case arg == "~" || strings.HasPrefix(arg, "~/"):
		if opts.SystemDir != "" {
			return nil, fmt.Errorf("bad include path %s", arg)
		}
		arg = filepath.Join(opts.Home, arg[1:])
	case !filepath.IsAbs(arg):
		dir := opts.SystemDir
		if dir == "" {
			dir = filepath.Join(opts.Home, ".ssh")
		}
		arg = filepath.Join(dir, arg)
	}
	paths, err := filepath.Glob(arg)
	if err != nil {
		return nil, fmt.Errorf("bad include pattern %s: %v", arg, err)
	}
	var items []item
	// Included files are always checked, as OpenSSH does.
	sub := opts
	sub.CheckPerm = true
	for _, p := range paths {
		children, err := c.readFile(p, sub, depth)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		items = append(items, children...)
	}
	return items, nil
}

func checkPerm(path string, st fs.FileInfo) error {
	uid, ok := ownerOf(st)
	if (ok && uid != 0 && uid != os.Getuid()) || st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("ssh config %s: bad owner or permissions (it must belong to you or root and be writable by no one else)", path)
	}
	return nil
}

// used are the keywords whose values this package returns.
var used = map[string]bool{
	"hostname": true, "port": true, "user": true, "identityfile": true,
	"identitiesonly": true, "proxyjump": true, "proxycommand": true,
	"hostkeyalias": true,
}

// validate checks the values OpenSSH checks on every line, matching or not
// (a typo in any block makes ssh refuse the file, and so do we).
func validate(key string, args []string) error {
	if !used[key] {
		return nil
	}
	if len(args) == 0 {
		return fmt.Errorf("no argument after keyword %q", key)
	}
	switch key {
	case "port":
		if _, err := parsePort(args[0]); err != nil {
			return err
		}
	case "identitiesonly":
		if _, err := parseYesNo(args[0]); err != nil {
			return err
		}
	case "proxyjump":
		if args[0] != "none" {
			if _, err := ParseJumps(args[0]); err != nil {
				return err
			}
		}
	case "hostname", "user", "hostkeyalias":
		if args[0] == "" {
			return fmt.Errorf("empty %s", key)
		}
	}
	return nil
}

func parsePort(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 65535 {
			return 0, fmt.Errorf("bad port %q", s)
		}
		return n, nil
	}
	if n, err := net.LookupPort("tcp", s); err == nil && n > 0 {
		return n, nil
	}
	return 0, fmt.Errorf("bad port %q", s)
}

func parseYesNo(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "true":
		return true, nil
	case "no", "false":
		return false, nil
	}
	return false, fmt.Errorf("bad yes/no value %q", s)
}

// splitLine splits one line into its lower-case keyword and arguments like
// OpenSSH's strdelim and argv_split: "Key Value" or "Key=Value", double or
// single quotes, backslash escapes of quotes, backslash and space, and a
// "#" at the start of a word ends the line.
func splitLine(line string) (string, []string, error) {
	line = strings.TrimRight(line, " \t\r\n\f")
	s := strings.TrimLeft(line, " \t\r\n")
	if s == "" || s[0] == '#' {
		return "", nil, nil
	}
	end := strings.IndexAny(s, " \t\r\n=\"")
	if end < 0 {
		return "", nil, fmt.Errorf("no argument after keyword %q", strings.ToLower(s))
	}
	if s[end] == '"' {
		return "", nil, errors.New("invalid quotes")
	}
	key := strings.ToLower(s[:end])
	rest := s[end:]
	if rest[0] == '=' {
		rest = strings.TrimLeft(rest[1:], " \t\r\n")
	} else {
		rest = strings.TrimLeft(rest, " \t\r\n")
		if strings.HasPrefix(rest, "=") {
			rest = strings.TrimLeft(rest[1:], " \t\r\n")
		}
	}
	if rest == "" {
		return "", nil, fmt.Errorf("no argument after keyword %q", key)
	}
	args, err := splitArgs(rest)
	if err != nil {
		return "", nil, err
	}
	return key, args, nil
}

func splitArgs(s string) ([]string, error) {
	var args []string
	i := 0
	for i < len(s) {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		if s[i] == '#' {
			break
		}
		var b strings.Builder
		var quote byte
	word:
		for ; i < len(s); i++ {
			ch := s[i]
			switch {
			case ch == '\\' && i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"' || s[i+1] == '\\' || (quote == 0 && s[i+1] == ' ')):
				i++
				b.WriteByte(s[i])
			case quote == 0 && (ch == ' ' || ch == '\t'):
				break word
			case quote == 0 && (ch == '"' || ch == '\''):
				quote = ch
			case quote != 0 && ch == quote:
				quote = 0
			default:
				b.WriteByte(ch)
			}
		}
		if quote != 0 {
			return nil, errors.New("invalid quotes")
		}
		args = append(args, b.String())
	}
	return args, nil
}
