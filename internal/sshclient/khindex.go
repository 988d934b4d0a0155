package sshclient

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"hash"
	"net"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// khEntry is one host key line of known_hosts (or one trusted this run).
type khEntry struct {
	key  ssh.PublicKey
	blob string // key.Marshal(), for comparisons
	file string
	line int
}

// khPatternLine is a line whose host field needs pattern matching
// (wildcards, negations) or belongs to a @cert-authority marker.
type khPatternLine struct {
	patterns []khPattern
	entry    khEntry
}

type khPattern struct {
	host, port string
	negate     bool
}

// khSalt holds the hashed entries (|1|salt|hash) sharing one salt.
// OpenSSH gives every hashed line its own salt, so a lookup costs one
// HMAC-SHA1 per distinct salt: unavoidable, as the name is only known
// in hashed form. The HMAC is kept per salt; Reset reuses its precomputed
// pad states, so a lookup is two SHA-1 blocks per salt and no allocation.
type khSalt struct {
	mac    hash.Hash
	byHash map[string][]khEntry
}

// hostIndex is known_hosts parsed once: exact host names in a map (O(1)
// per lookup), hashed names grouped by salt, pattern lines in a list
// (usually a handful), CA keys and revoked keys. A linear scan of every
// line per host (x/crypto's knownhosts) made first contact with 10,000
// hosts quadratic.
type hostIndex struct {
	mu      sync.RWMutex
	exact   map[string][]khEntry
	pattern []khPatternLine
	cas     []khPatternLine
	revoked map[string]khEntry

	hashMu sync.Mutex // the salts' HMAC states are not safe for concurrent use
	salts  map[string]*khSalt

	// skipped counts unparsable lines (ignored, as OpenSSH does); first is
	// the first of them, for the notice.
	skipped int
	first   int
}

func newHostIndex() *hostIndex {
	return &hostIndex{exact: map[string][]khEntry{}, revoked: map[string]khEntry{}, salts: map[string]*khSalt{}}
}

// parse adds every line of data (file name for messages).
func (ix *hostIndex) parse(file string, data []byte) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	n := 0
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		n++
		if !ix.addLine(file, n, line) {
			if ix.skipped == 0 {
				ix.first = n
			}
			ix.skipped++
		}
	}
}

// addLine indexes one line; false for a line that is neither empty, a
// comment nor a valid entry. The caller holds mu.
func (ix *hostIndex) addLine(file string, n int, line []byte) bool {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] == '#' {
		return true
	}
	fields := strings.Fields(string(line))
	marker := ""
	if strings.HasPrefix(fields[0], "@") {
		marker, fields = fields[0], fields[1:]
		if marker != "@cert-authority" && marker != "@revoked" {
			return false
		}
	}
	if len(fields) < 3 {
		return false
	}
	blob, err := base64.StdEncoding.DecodeString(fields[2])
	if err != nil {
		return false
	}
	key, err := ssh.ParsePublicKey(blob)
	if err != nil || key.Type() != fields[1] {
		return false
	}
	e := khEntry{key: key, blob: string(blob), file: file, line: n}
	hosts := fields[0]
	switch marker {
	case "@revoked":
		ix.revoked[e.blob] = e
		return true
	case "@cert-authority":
		pats, ok := parsePatterns(hosts)
		if !ok {
			return false
		}
		ix.cas = append(ix.cas, khPatternLine{patterns: pats, entry: e})
		return true
	}
	if strings.HasPrefix(hosts, "|") {
		return ix.addHashed(hosts, e)
	}
	if strings.ContainsAny(hosts, "*?!") {
		pats, ok := parsePatterns(hosts)
		if !ok {
			return false
		}
		ix.pattern = append(ix.pattern, khPatternLine{patterns: pats, entry: e})
		return true
	}
	for h := range strings.SplitSeq(hosts, ",") {
		if h == "" {
			continue
		}
		ix.exact[normalizeHostField(h)] = append(ix.exact[normalizeHostField(h)], e)
	}
	return true
}

// addHashed indexes a |1|base64(salt)|base64(hmac-sha1(salt, host)) entry.
func (ix *hostIndex) addHashed(field string, e khEntry) bool {
	parts := strings.Split(field, "|")
	if len(parts) != 4 || parts[0] != "" || parts[1] != "1" {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[2])
	sum, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(sum) != sha1.Size {
		return false
	}
	s := ix.salts[string(salt)]
	if s == nil {
		s = &khSalt{mac: hmac.New(sha1.New, salt), byHash: map[string][]khEntry{}}
		ix.salts[string(salt)] = s
	}
	s.byHash[string(sum)] = append(s.byHash[string(sum)], e)
	return true
}

// normalizeHostField turns a plain host field ("host", "[host]:port") into
// the lookup form: lower case, port 22 without brackets.
func normalizeHostField(h string) string {
	h = strings.ToLower(h)
	if strings.HasPrefix(h, "[") {
		if i := strings.Index(h, "]:"); i > 0 {
			if h[i+2:] == "22" {
				return h[1:i]
			}
		}
	}
	return h
}

// lookupName is the normalized form of a dial address "host:port".
func lookupName(address string) string {
	return strings.ToLower(knownhosts.Normalize(address))
}

func parsePatterns(field string) ([]khPattern, bool) {
	var pats []khPattern
	for p := range strings.SplitSeq(field, ",") {
		if p == "" {
			continue
		}
		var kp khPattern
		if strings.HasPrefix(p, "!") {
			kp.negate, p = true, p[1:]
		}
		kp.host, kp.port = p, "22"
		if strings.HasPrefix(p, "[") {
			i := strings.Index(p, "]:")
			if i < 0 {
				return nil, false
			}
			kp.host, kp.port = p[1:i], p[i+2:]
		}
		kp.host = strings.ToLower(kp.host)
		pats = append(pats, kp)
	}
	return pats, len(pats) > 0
}

// matchPatterns is OpenSSH's rule: some positive pattern matches and no
// negated one does.
func matchPatterns(pats []khPattern, host, port string) bool {
	ok := false
	for _, p := range pats {
		if p.port != port && !wildMatch(p.port, port) {
			continue
		}
		if wildMatch(p.host, host) {
			if p.negate {
				return false
			}
			ok = true
		}
	}
	return ok
}

// wildMatch matches s against a pattern of '*' (any run) and '?' (one
// byte), iteratively (no exponential backtracking on hostile files).
func wildMatch(pat, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pat) && (pat[pi] == '?' || pat[pi] == s[si]):
			pi++
			si++
		case pi < len(pat) && pat[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}

// splitLookup splits the dial address into lower-case host and port.
func splitLookup(address string) (host, port string) {
	h, p, err := net.SplitHostPort(address)
	if err != nil {
		return strings.ToLower(address), "22"
	}
	return strings.ToLower(h), p
}

// lookup returns the entries known for address ("host:port"), exact, hashed
// and pattern lines together. When an exact or pattern line already holds
// key (blob), the hashed lines are not searched: a known host costs no
// HMAC even in a big hashed file.
func (ix *hostIndex) lookup(address, blob string) []khEntry {
	name := lookupName(address)
	ix.mu.RLock()
	out := append([]khEntry(nil), ix.exact[name]...)
	if len(ix.pattern) > 0 {
		host, port := splitLookup(address)
		for _, pl := range ix.pattern {
			if matchPatterns(pl.patterns, host, port) {
				out = append(out, pl.entry)
			}
		}
	}
	hashed := len(ix.salts) > 0
	ix.mu.RUnlock()
	for _, e := range out {
		if e.blob == blob {
			return out
		}
	}
	if hashed {
		out = append(out, ix.lookupHashed(name)...)
	}
	return out
}

func (ix *hostIndex) lookupHashed(name string) []khEntry {
	ix.hashMu.Lock()
	defer ix.hashMu.Unlock()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []khEntry
	var sum [sha1.Size]byte
	for _, s := range ix.salts {
		s.mac.Reset()
		s.mac.Write([]byte(name))
		if es, ok := s.byHash[string(s.mac.Sum(sum[:0]))]; ok {
			out = append(out, es...)
		}
	}
	return out
}

// isAuthority reports whether auth is a @cert-authority key for address.
func (ix *hostIndex) isAuthority(auth ssh.PublicKey, address string) bool {
	host, port := splitLookup(address)
	blob := string(auth.Marshal())
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for _, ca := range ix.cas {
		if ca.entry.blob == blob && matchPatterns(ca.patterns, host, port) {
			return true
		}
	}
	return false
}

func (ix *hostIndex) hasAuthorities() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.cas) > 0
}

// revokedEntry returns the @revoked line of key, if any.
func (ix *hostIndex) revokedEntry(key ssh.PublicKey) (khEntry, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	e, ok := ix.revoked[string(key.Marshal())]
	return e, ok
}

// add records a key trusted during this run under the given names.
func (ix *hostIndex) add(names []string, key ssh.PublicKey, file string) {
	e := khEntry{key: key, blob: string(key.Marshal()), file: file}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, n := range names {
		ix.exact[n] = append(ix.exact[n], e)
	}
}

// skippedLines reports unparsable lines: how many, and the first one.
func (ix *hostIndex) skippedLines() (n, first int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.skipped, ix.first
}
