package sshconfig

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
)

// Host is what the configuration says about one host name. Empty strings
// and zero mean "not set": the caller's defaults apply.
type Host struct {
	HostName string
	Port     int
	User     string
	// IdentityFiles are unexpanded (see Tokens.Expand): %p and %r depend
	// on the port and user finally used.
	IdentityFiles  []string
	IdentitiesOnly bool
	// ProxyJump lists the hops, first hop first; nil when unset or "none"
	// (JumpNone tells them apart).
	ProxyJump []Jump
	JumpNone  bool
	// ProxyCommand is set when the first proxy setting is a ProxyCommand
	// (not supported; the caller warns).
	ProxyCommand string
	HostKeyAlias string
}

// Jump is one ProxyJump hop: [user@]host[:port] or ssh://[user@]host[:port].
type Jump struct {
	User string
	Host string
	Port int // 0: not given
}

func (j Jump) String() string {
	s := j.Host
	if j.Port != 0 {
		s = net.JoinHostPort(j.Host, strconv.Itoa(j.Port))
	} else if strings.Contains(j.Host, ":") {
		s = "[" + j.Host + "]"
	}
	if j.User != "" {
		s = j.User + "@" + s
	}
	return s
}

// Lookup applies the configuration to alias, the host name as the user
// typed it: for each keyword the first value obtained wins, IdentityFile
// accumulates.
func (c *Config) Lookup(alias string) Host {
	var h Host
	st := lookupState{alias: alias, host: &h, set: map[string]bool{}, seenID: map[string]bool{}}
	active := true // lines before the first Host apply to every host
	st.walk(c.items, &active, false)
	return h
}

type lookupState struct {
	alias  string
	host   *Host
	set    map[string]bool
	seenID map[string]bool
}

func (st *lookupState) walk(items []item, active *bool, neverMatch bool) {
	for i := range items {
		it := &items[i]
		switch it.kind {
		case kHost:
			*active = false
			if neverMatch {
				continue
			}
			for _, p := range it.args {
				negated := strings.HasPrefix(p, "!")
				if negated {
					p = p[1:]
				}
				if Match(p, st.alias) {
					if negated {
						*active = false
						break
					}
					*active = true
				}
			}
		case kMatch:
			*active = it.matchAll && !neverMatch
		case kInclude:
			// A Host line inside an included file does not change the
			// state of the including file (OpenSSH restores it).
			saved := *active
			st.walk(it.children, active, neverMatch || !saved)
			*active = saved
		case kSet:
			if *active {
				st.apply(it)
			}
		}
	}
}

func (st *lookupState) apply(it *item) {
	h := st.host
	key := it.key
	if key == "identityfile" {
		if !st.seenID[it.args[0]] {
			st.seenID[it.args[0]] = true
			h.IdentityFiles = append(h.IdentityFiles, it.args[0])
		}
		return
	}
	if key == "proxycommand" {
		// ProxyJump and ProxyCommand are one setting: the first wins.
		key = "proxyjump"
	}
	if st.set[key] {
		return
	}
	st.set[key] = true
	v := it.args[0]
	switch it.key {
	case "hostname":
		h.HostName = v
	case "port":
		h.Port, _ = parsePort(v)
	case "user":
		h.User = v
	case "identitiesonly":
		h.IdentitiesOnly, _ = parseYesNo(v)
	case "hostkeyalias":
		h.HostKeyAlias = v
	case "proxyjump":
		if v == "none" {
			h.JumpNone = true
			return
		}
		h.ProxyJump, _ = ParseJumps(v)
	case "proxycommand":
		if v == "none" {
			h.JumpNone = true
			return
		}
		h.ProxyCommand = strings.Join(it.args, " ")
	}
}

// Match reports whether name matches one OpenSSH pattern: "*" is any run
// of characters, "?" exactly one; case matters, as in ssh.
func Match(pattern, name string) bool {
	p, n := 0, 0
	starP, starN := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			starP, starN = p, n
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case starP >= 0:
			starN++
			p, n = starP+1, starN
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// ParseJumps parses a ProxyJump value: comma-separated hops, each
// [user@]host[:port] (IPv6 in brackets) or ssh://[user@]host[:port].
func ParseJumps(v string) ([]Jump, error) {
	var jumps []Jump
	for part := range strings.SplitSeq(v, ",") {
		j, err := parseJump(part)
		if err != nil {
			return nil, fmt.Errorf("bad ProxyJump %q: %v", v, err)
		}
		jumps = append(jumps, j)
	}
	return jumps, nil
}

func parseJump(s string) (Jump, error) {
	var j Jump
	s = strings.TrimPrefix(s, "ssh://")
	if at := strings.LastIndex(s, "@"); at >= 0 {
		j.User, s = s[:at], s[at+1:]
		if j.User == "" {
			return j, fmt.Errorf("empty user in %q", s)
		}
	}
	port := ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return j, fmt.Errorf("missing ']' in %q", s)
		}
		j.Host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return j, fmt.Errorf("unexpected %q after ']'", rest)
			}
			port = rest[1:]
			if port == "" {
				return j, fmt.Errorf("empty port in %q", s)
			}
		}
	default:
		host, p, hasPort := strings.Cut(s, ":")
		j.Host = host
		if hasPort {
			if p == "" || strings.Contains(p, ":") {
				return j, fmt.Errorf("bad port in %q", s)
			}
			port = p
		}
	}
	if j.Host == "" || strings.ContainsAny(j.Host, " \t/") {
		return j, fmt.Errorf("bad host in %q", s)
	}
	if port != "" {
		n, err := parsePort(port)
		if err != nil {
			return j, err
		}
		j.Port = n
	}
	return j, nil
}

// Tokens are the values of the % tokens of ssh_config(5).
type Tokens struct {
	Alias      string // %n: the name as typed
	Host       string // %h: the host name finally used (after HostName)
	Port       int    // %p
	RemoteUser string // %r
	LocalUser  string // %u
	Home       string // %d, and "~"
	UID        int    // %i
}

// ExpandHostName expands HostName's tokens: %h (the alias) and %%.
func ExpandHostName(v, alias string) (string, error) {
	return expand(v, func(c byte) (string, bool) {
		if c == 'h' {
			return alias, true
		}
		return "", false
	})
}

// ExpandPath expands "~" and the tokens %% %d %h %i %n %p %r %u of a file
// name (IdentityFile).
func (t Tokens) ExpandPath(v string) (string, error) {
	if (v == "~" || strings.HasPrefix(v, "~/")) && t.Home != "" {
		v = filepath.Join(t.Home, v[1:])
	}
	return expand(v, func(c byte) (string, bool) {
		switch c {
		case 'd':
			return t.Home, true
		case 'h':
			return t.Host, true
		case 'i':
			return strconv.Itoa(t.UID), true
		case 'n':
			return t.Alias, true
		case 'p':
			return strconv.Itoa(t.Port), true
		case 'r':
			return t.RemoteUser, true
		case 'u':
			return t.LocalUser, true
		}
		return "", false
	})
}

func expand(v string, value func(byte) (string, bool)) (string, error) {
	if !strings.Contains(v, "%") {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		i++
		if i == len(v) {
			return "", fmt.Errorf("%q ends in a lone %%", v)
		}
		if v[i] == '%' {
			b.WriteByte('%')
			continue
		}
		s, ok := value(v[i])
		if !ok {
			return "", fmt.Errorf("%q: unknown token %%%c", v, v[i])
		}
		b.WriteString(s)
	}
	return b.String(), nil
}
