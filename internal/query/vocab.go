package query

import "slices"

// Vocabulary is every word of the query language, for the man pages and
// shell completions (internal/manpage), so that the documented grammar is
// the parsed one.
type Vocabulary struct {
	Keywords     []string // clause keywords
	Aggregations []string // select aggregations, DTail 4.x and ours
	NumericOps   []string // where operators comparing floats
	StringOps    []string // where operators comparing strings
	Functions    []string // set functions
	Variables    []string // $variables every built-in log format provides
}

// Words returns the vocabulary; the slices are copies.
func Words() Vocabulary {
	return Vocabulary{
		Keywords:     slices.Clone(keywordNames),
		Aggregations: slices.Clone(aggregationNames),
		NumericOps:   []string{"==", "!=", "<", "<=", "=<", ">", ">=", "=>"},
		StringOps:    slices.Clone(operationNames),
		Functions:    slices.Clone(functionNames),
		Variables:    slices.Clone(commonVars),
	}
}
