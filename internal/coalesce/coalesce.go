// Package coalesce groups log lines by their template: numbers, hex ids,
// UUIDs and IP addresses are masked, so "took 35ms for id 0x1f" and
// "took 7ms for id 0xa2" count as one line shape. An SRE sees which
// shapes dominate across the fleet, and on which hosts, instead of
// scrolling through thousands of near-identical lines.
package coalesce

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/dtail-go/dtail/internal/hostset"
)

// Mask placeholders.
const (
	NumMask  = "<N>"
	HexMask  = "<HEX>"
	UUIDMask = "<UUID>"
	IPMask   = "<IP>"
)

// DefaultMaxTemplates bounds memory: lines of new templates beyond it are
// counted as "other" and reported once.
const DefaultMaxTemplates = 10000

// Mask returns the template of a line (without its trailing newline):
// UUIDs, dotted-quad IPs and hex ids become placeholders, and every run of
// digits inside a word becomes <N> ("35ms" → "<N>ms", "user42" →
// "user<N>", "1h2m" → "<N>h<N>m").
func Mask(line []byte) string {
	var b strings.Builder
	b.Grow(len(line))
	for i := 0; i < len(line); {
		if !isWord(line[i]) {
			b.WriteByte(line[i])
			i++
			continue
		}
		if n := uuidLen(line[i:]); n > 0 {
			b.WriteString(UUIDMask)
			i += n
			continue
		}
		if n := ipv4Len(line[i:]); n > 0 {
			b.WriteString(IPMask)
			i += n
			continue
		}
		j := i
		for j < len(line) && isWord(line[j]) {
			j++
		}
		tok := line[i:j]
		if isHexID(tok) {
			b.WriteString(HexMask)
		} else {
			maskDigits(&b, tok)
		}
		i = j
	}
	return b.String()
}

func maskDigits(b *strings.Builder, tok []byte) {
	for k := 0; k < len(tok); {
		if tok[k] >= '0' && tok[k] <= '9' {
			for k < len(tok) && tok[k] >= '0' && tok[k] <= '9' {
				k++
			}
			b.WriteString(NumMask)
			continue
		}
		b.WriteByte(tok[k])
		k++
	}
}

func isWord(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// isHexID: 0x-prefixed hex, or 8+ hex digits mixing digits and letters
// ("deadbeef01" counts; "facade" and "20211002" do not).
func isHexID(tok []byte) bool {
	if len(tok) > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X') {
		for _, c := range tok[2:] {
			if !isHexDigit(c) {
				return false
			}
		}
		return true
	}
	if len(tok) < 8 {
		return false
	}
	digit, letter := false, false
	for _, c := range tok {
		if !isHexDigit(c) {
			return false
		}
		if c >= '0' && c <= '9' {
			digit = true
		} else {
			letter = true
		}
	}
	// Pure numbers (dates, counters) are <N>, words without digits stay.
	return digit && letter
}

// uuidLen matches 8-4-4-4-12 hex groups.
func uuidLen(s []byte) int {
	groups := []int{8, 4, 4, 4, 12}
	i := 0
	for g, n := range groups {
		for k := 0; k < n; k++ {
			if i >= len(s) || !isHexDigit(s[i]) {
				return 0
			}
			i++
		}
		if g < len(groups)-1 {
			if i >= len(s) || s[i] != '-' {
				return 0
			}
			i++
		}
	}
	if i < len(s) && isWord(s[i]) {
		return 0
	}
	return i
}

// ipv4Len matches a dotted quad (with an optional :port left to the
// number mask).
func ipv4Len(s []byte) int {
	i := 0
	for part := 0; part < 4; part++ {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && i-start < 3 {
			i++
		}
		if i == start {
			return 0
		}
		if part < 3 {
			if i >= len(s) || s[i] != '.' {
				return 0
			}
			i++
		}
	}
	if i < len(s) && (isWord(s[i]) || s[i] == '.') {
		return 0
	}
	return i
}

// Counter counts lines per template and the hosts they came from. It is
// safe for concurrent use.
type Counter struct {
	// MaxTemplates bounds the number of templates (DefaultMaxTemplates
	// when 0).
	MaxTemplates int

	mu        sync.Mutex
	templates map[string]*entry
	other     int
	total     int
}

type entry struct {
	count int
	hosts map[string]int
}

// Add counts one line from host.
func (c *Counter) Add(host string, line []byte) {
	t := Mask(line)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.templates == nil {
		c.templates = map[string]*entry{}
	}
	c.total++
	e, ok := c.templates[t]
	if !ok {
		max := c.MaxTemplates
		if max <= 0 {
			max = DefaultMaxTemplates
		}
		if len(c.templates) >= max {
			c.other++
			return
		}
		e = &entry{hosts: map[string]int{}}
		c.templates[t] = e
	}
	e.count++
	if len(e.hosts) < 100000 {
		e.hosts[host]++
	}
}

// Row is one template with its count and hosts (compressed to ranges).
type Row struct {
	Template string
	Count    int
	Hosts    []string
}

// Top returns the n largest templates (all when n ≤ 0), largest first,
// plus the number of lines not shown (templates beyond the cap).
func (c *Counter) Top(n int) (rows []Row, other, total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for t, e := range c.templates {
		hosts := make([]string, 0, len(e.hosts))
		for h := range e.hosts {
			hosts = append(hosts, h)
		}
		rows = append(rows, Row{Template: t, Count: e.count, Hosts: hostset.Compress(hosts)})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Count != rows[j].Count {
			return rows[i].Count > rows[j].Count
		}
		return rows[i].Template < rows[j].Template
	})
	if n > 0 && len(rows) > n {
		for _, r := range rows[n:] {
			other += r.Count
		}
		rows = rows[:n]
	}
	return rows, other + c.other, c.total
}

// Render writes rows as `count  hosts  template` lines.
func Render(w io.Writer, rows []Row, other, total int, capped bool) {
	for _, r := range rows {
		fmt.Fprintf(w, "%8d  %s  %s\n", r.Count, strings.Join(r.Hosts, ","), r.Template)
	}
	if other > 0 {
		fmt.Fprintf(w, "%8d  (other lines)\n", other)
	}
	if capped {
		fmt.Fprintf(w, "warning: more than %d line templates; further new templates were counted as other lines\n", DefaultMaxTemplates)
	}
	fmt.Fprintf(w, "%8d  lines in total, %d templates shown\n", total, len(rows))
}

// Capped reports whether templates were dropped because of the cap.
func (c *Counter) Capped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.other > 0
}
