package query

import (
	"strings"

	"github.com/dtail-go/dtail/internal/editdist"
)

// Closest returns the candidate nearest to word by edit distance (case
// ignored; a candidate differing only in case is suggested), or "" if none is near enough to be a plausible typo: at most
// one edit for short words, a third of the word's length for longer ones.
// Ties go to the earlier candidate, so callers list the likelier first.
func Closest(word string, candidates []string) string {
	w := strings.ToLower(word)
	limit := max(1, len([]rune(w))/3)
	best, bestD := "", limit+1
	for _, c := range candidates {
		if c == word {
			continue
		}
		// A distance as long as either word is a replacement, not a typo
		// ("x" is not a misspelt "a").
		d := editdist.Distance(w, strings.ToLower(c))
		if d < bestD && d < len(w) && d < len(c) {
			best, bestD = c, d
		}
	}
	if best == "" && len(w) >= 3 {
		// An abbreviation ("cnt", "grp") is a typo too.
		// Only a few letters left out: "$time" is no abbreviation of
		// "$timeoffset".
		for _, c := range candidates {
			lc := strings.ToLower(c)
			if c != word && lc != "" && len(lc)-len(w) <= 3 && lc[0] == w[0] && isSubsequence(w, lc) {
				return c
			}
		}
	}
	return best
}

// isSubsequence reports whether a's runes appear in b in order.
func isSubsequence(a, b string) bool {
	ra := []rune(a)
	i := 0
	for _, r := range b {
		if i < len(ra) && ra[i] == r {
			i++
		}
	}
	return i == len(ra)
}

// keywordNames are the clause keywords, likeliest first.
var keywordNames = []string{"select", "from", "where", "group", "order", "set", "limit", "rorder", "interval", "outfile", "logformat"}

// aggregationNames are the select aggregations (DTail 4.x and ours).
var aggregationNames = []string{"count", "sum", "avg", "min", "max", "last", "len", "percentage", "percentile", "p50", "p90", "p95", "p99", "quantile"}

// operationNames are the where operators that are words.
var operationNames = []string{"eq", "ne", "contains", "ncontains", "lacks", "hasprefix", "nhasprefix", "hassuffix", "nhassuffix"}

// functionNames are the set functions.
var functionNames = []string{"md5sum", "maskdigits"}
