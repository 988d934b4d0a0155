// Package editdist measures how far a typed word is from a known one, for
// "did you mean" hints (flags, query keywords, fields, log formats).
package editdist

// Distance is the optimal-string-alignment edit distance between a and b
// in runes: insert, delete, substitute, and swapping two adjacent runes
// (the commonest typo, "grpe" for "grep") each cost one.
//
// Words compared here are short; a pair where either side is longer than
// MaxRunes is never a typo of the other, and Distance returns the sum of
// their lengths without the quadratic work (a 64 KiB pattern typed where
// a flag was expected must not cost seconds).
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > MaxRunes || len(rb) > MaxRunes {
		return len(ra) + len(rb)
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// MaxRunes bounds the words Distance compares letter by letter.
const MaxRunes = 64
