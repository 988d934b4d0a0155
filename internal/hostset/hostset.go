// Package hostset expands and compresses host sets: ranges such as
// `web[001-500].dc1` or `db[1-3,7]`, `@group` names read from files, and
// the reverse, a list of host names written as ranges (`web[01-07,09]`).
package hostset

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// MaxHosts bounds one expansion; a typo like `h[1-99999999]` must fail
// with a message instead of exhausting memory.
const MaxHosts = 100000

// maxGroupDepth bounds groups that name other groups.
const maxGroupDepth = 8

// Expander expands host set specs.
type Expander struct {
	// GroupsDir holds one file per group: `@web` reads GroupsDir/web, one
	// entry (a host, a range or another @group) per line, `#` comments.
	GroupsDir string
	// Max overrides MaxHosts when > 0.
	Max int
}

// Expand turns a comma separated spec into host names, in order, without
// duplicates. Commas inside brackets belong to the range.
func (e Expander) Expand(spec string) ([]string, error) {
	max := e.Max
	if max <= 0 {
		max = MaxHosts
	}
	var out []string
	seen := map[string]bool{}
	err := e.expand(spec, 0, func(h string) error {
		if seen[h] {
			return nil
		}
		seen[h] = true
		out = append(out, h)
		if len(out) > max {
			return fmt.Errorf("host set %q expands to more than %d hosts", spec, max)
		}
		return nil
	})
	return out, err
}

func (e Expander) expand(spec string, depth int, emit func(string) error) error {
	items, err := splitTop(spec)
	if err != nil {
		return err
	}
	for _, item := range items {
		if strings.HasPrefix(item, "@") {
			if err := e.group(item[1:], depth, emit); err != nil {
				return err
			}
			continue
		}
		if err := expandRanges(item, emit); err != nil {
			return err
		}
	}
	return nil
}

func (e Expander) group(name string, depth int, emit func(string) error) error {
	if depth >= maxGroupDepth {
		return fmt.Errorf("@%s: groups nested more than %d deep", name, maxGroupDepth)
	}
	if name == "" || strings.ContainsAny(name, "/\\") || name == "." || name == ".." {
		return fmt.Errorf("@%s: invalid group name", name)
	}
	if e.GroupsDir == "" {
		return fmt.Errorf("@%s: no groups directory configured", name)
	}
	path := filepath.Join(e.GroupsDir, name)
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("@%s: no such group (%s)", name, path)
		}
		return fmt.Errorf("@%s: %w", name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		if err := e.expand(line, depth+1, emit); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

// splitTop splits at commas outside brackets, trimming and dropping
// empty items.
func splitTop(spec string) ([]string, error) {
	var items []string
	depth, start := 0, 0
	for i := 0; i < len(spec); i++ {
		switch spec[i] {
		case '[':
			depth++
			if depth > 1 {
				return nil, fmt.Errorf("%q: nested brackets", spec)
			}
		case ']':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("%q: unbalanced ']'", spec)
			}
		case ',':
			if depth == 0 {
				if s := strings.TrimSpace(spec[start:i]); s != "" {
					items = append(items, s)
				}
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("%q: unbalanced '['", spec)
	}
	if s := strings.TrimSpace(spec[start:]); s != "" {
		items = append(items, s)
	}
	return items, nil
}

// expandRanges expands every [..] of one item (cartesian product, left
// to right). A host:port suffix is carried along unchanged. IPv6 literals
// in brackets ("[::1]:2222") are passed through.
func expandRanges(item string, emit func(string) error) error {
	open := strings.IndexByte(item, '[')
	if open < 0 {
		return emit(item)
	}
	close := strings.IndexByte(item[open:], ']')
	if close < 0 {
		return fmt.Errorf("%q: unbalanced '['", item)
	}
	close += open
	inner := item[open+1 : close]
	if strings.Contains(inner, ":") {
		// An IPv6 literal, not a range.
		return emit(item)
	}
	values, err := rangeValues(inner)
	if err != nil {
		return fmt.Errorf("%q: %w", item, err)
	}
	prefix, rest := item[:open], item[close+1:]
	for _, v := range values {
		if err := expandRanges(prefix+v+rest, emit); err != nil {
			return err
		}
	}
	return nil
}

// rangeValues expands "001-003,7,x" into its values. Zero padding follows
// the width of the range's start, as in `web[001-120]`.
func rangeValues(inner string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(inner, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, errors.New("empty range element")
		}
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			out = append(out, part)
			continue
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || a < 0 || b < a {
			return nil, fmt.Errorf("invalid range %q", part)
		}
		if b-a >= MaxHosts {
			return nil, fmt.Errorf("range %q has more than %d values", part, MaxHosts)
		}
		width := 0
		if len(lo) > 1 && lo[0] == '0' {
			width = len(lo)
		}
		for i := a; i <= b; i++ {
			out = append(out, fmt.Sprintf("%0*d", width, i))
		}
	}
	return out, nil
}

// Pick returns n items chosen at random (all of them when n ≥ len),
// keeping their original order.
func Pick[T any](items []T, n int, r *rand.Rand) []T {
	if n <= 0 || n >= len(items) {
		return items
	}
	idx := r.Perm(len(items))[:n]
	sort.Ints(idx)
	out := make([]T, n)
	for i, j := range idx {
		out[i] = items[j]
	}
	return out
}
