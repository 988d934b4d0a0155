package hostset

import (
	"sort"
	"strconv"
	"strings"
)

// Compress writes host names as ranges: web01…web07 and web09 become
// `web[01-07,09]`. Names are grouped by the text around their last run of
// digits; digits of different widths are kept apart so the padding
// survives a round trip through Expand.
func Compress(names []string) []string {
	type key struct {
		prefix, suffix string
		width          int // 0: unpadded numbers
	}
	type num struct {
		v      int
		digits int
		padded bool
	}
	byAffix := map[[2]string][]num{}
	var affixes [][2]string
	var plain []string
	for _, n := range names {
		i, j := lastDigits(n)
		if i < 0 {
			plain = append(plain, n)
			continue
		}
		v, err := strconv.Atoi(n[i:j])
		if err != nil {
			plain = append(plain, n)
			continue
		}
		a := [2]string{n[:i], n[j:]}
		if _, ok := byAffix[a]; !ok {
			affixes = append(affixes, a)
		}
		byAffix[a] = append(byAffix[a], num{v, j - i, n[i] == '0' && j-i > 1})
	}
	// A padded group (node01) takes the unpadded numbers of its width
	// (node10), so node01…node10 is node[01-10]; other unpadded numbers
	// stay apart so the padding survives a round trip through Expand.
	groups := map[key][]int{}
	var order []key
	add := func(k key, v int) {
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], v)
	}
	for _, a := range affixes {
		widths := map[int]bool{}
		for _, x := range byAffix[a] {
			if x.padded {
				widths[x.digits] = true
			}
		}
		for _, x := range byAffix[a] {
			w := 0
			if x.padded || widths[x.digits] {
				w = x.digits
			}
			add(key{a[0], a[1], w}, x.v)
		}
	}
	sort.Strings(plain)
	out := plain
	sort.Slice(order, func(a, b int) bool {
		if order[a].prefix != order[b].prefix {
			return order[a].prefix < order[b].prefix
		}
		if order[a].suffix != order[b].suffix {
			return order[a].suffix < order[b].suffix
		}
		return order[a].width < order[b].width
	})
	for _, k := range order {
		vs := groups[k]
		sort.Ints(vs)
		vs = dedupe(vs)
		format := func(v int) string {
			s := strconv.Itoa(v)
			for len(s) < k.width {
				s = "0" + s
			}
			return s
		}
		if len(vs) == 1 {
			out = append(out, k.prefix+format(vs[0])+k.suffix)
			continue
		}
		var parts []string
		for i := 0; i < len(vs); {
			j := i
			for j+1 < len(vs) && vs[j+1] == vs[j]+1 {
				j++
			}
			if j > i {
				parts = append(parts, format(vs[i])+"-"+format(vs[j]))
			} else {
				parts = append(parts, format(vs[i]))
			}
			i = j + 1
		}
		out = append(out, k.prefix+"["+strings.Join(parts, ",")+"]"+k.suffix)
	}
	return out
}

func dedupe(vs []int) []int {
	out := vs[:0]
	for i, v := range vs {
		if i == 0 || v != vs[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// lastDigits returns the bounds of the last run of ASCII digits.
func lastDigits(s string) (int, int) {
	j := -1
	for k := len(s) - 1; k >= 0; k-- {
		if s[k] >= '0' && s[k] <= '9' {
			j = k + 1
			break
		}
	}
	if j < 0 {
		return -1, -1
	}
	i := j - 1
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if j-i > 9 {
		return -1, -1 // too long to be an index; keep the name as is
	}
	return i, j
}
