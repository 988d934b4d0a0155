package color

import "testing"

func TestAppendVisible(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain\n", "plain\n"},
		{"crlf\r\n", "crlf\r\n"},
		{"tab\tok é 日本", "tab\tok é 日本"},
		{"esc\x1b[2Jx\n", "esc^[[2Jx\n"},
		{"bel\x07 nul\x00 del\x7f cr\rmid\n", "bel^G nul^@ del^? cr^Mmid\n"},
		{"bad\xff\xfe utf8\xe2\x82", `bad\xff\xfe utf8\xe2\x82`},
		{"c1 \xc2\x9b[31m", `c1 \xc2\x9b[31m`},
		{"nbsp\xc2\xa0ok", "nbsp\xc2\xa0ok"},
	} {
		if got := string(AppendVisible(nil, []byte(c.in))); got != c.want {
			t.Errorf("AppendVisible(%q) = %q, want %q", c.in, got, c.want)
		}
		if need := NeedsVisible([]byte(c.in)); need != (c.in != c.want) {
			t.Errorf("NeedsVisible(%q) = %v", c.in, need)
		}
	}
}

// TestTerminalSchemeVisible: a terminal scheme shows control bytes and
// paints payload in the default colours; DefaultScheme keeps 4.x bytes.
func TestTerminalSchemeVisible(t *testing.T) {
	line := []byte("REMOTE|h|100|1|id|a\x1bb\n")
	ts := TerminalScheme()
	got := string(ts.AppendLine(nil, line))
	if want := esc("ESC[39mESC[49ma^[bESC[49mESC[39m\n"); got[len(got)-len(want):] != want {
		t.Errorf("terminal scheme: %q, want suffix %q", got, want)
	}
	ds := DefaultScheme()
	got = string(ds.AppendLine(nil, line))
	if want := esc("ESC[37mESC[40ma\x1bbESC[49mESC[39m\n"); got[len(got)-len(want):] != want {
		t.Errorf("default scheme: %q, want suffix %q", got, want)
	}
}
