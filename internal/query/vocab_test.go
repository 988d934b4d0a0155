package query

import "testing"

// TestWordsParse: every word of the documented vocabulary is one the
// parser accepts, and every parser table is covered by it.
func TestWordsParse(t *testing.T) {
	w := Words()
	for _, k := range w.Keywords {
		if _, ok := keywords[k]; !ok {
			t.Errorf("keyword %q is not a keyword of the lexer", k)
		}
	}
	if len(w.Keywords) != len(keywords) {
		t.Errorf("%d keywords documented, the lexer has %d", len(w.Keywords), len(keywords))
	}
	for _, a := range w.Aggregations {
		arg := "$line"
		if a == "quantile" {
			arg = "$line;0.5"
		}
		if _, err := Parse("select " + a + "(" + arg + ")"); err != nil {
			t.Errorf("aggregation %s: %v", a, err)
		}
	}
	if want := len(aggByName) + len(quantileNames) + 1; len(w.Aggregations) != want {
		t.Errorf("%d aggregations documented, the parser knows %d", len(w.Aggregations), want)
	}
	for _, op := range append(append([]string{}, w.NumericOps...), w.StringOps...) {
		if _, err := Parse("select $line where a " + op + " b"); err != nil {
			t.Errorf("operator %s: %v", op, err)
		}
	}
	if len(w.NumericOps) != len(numericOps) || len(w.StringOps) != len(stringOps) {
		t.Errorf("operators: %d+%d documented, the parser knows %d+%d", len(w.NumericOps), len(w.StringOps), len(numericOps), len(stringOps))
	}
	for _, f := range w.Functions {
		if _, err := Parse("select $x set $x = " + f + "($line)"); err != nil {
			t.Errorf("function %s: %v", f, err)
		}
	}
	if len(w.Functions) != len(funcByName) {
		t.Errorf("%d functions documented, the parser knows %d", len(w.Functions), len(funcByName))
	}
}
