package protocol

import (
	"bytes"
	"testing"
)

func TestDelimEscapeRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "a\xacb", "\xac.syn close connection\xac", "\xff", "\xffa", "x\xff\xac\xffa\xac", "€ 本"} {
		e := AppendDelimEscaped(nil, []byte(s))
		if bytes.IndexByte(e, MessageDelimiter) >= 0 {
			t.Errorf("%q escaped to %q: still holds the delimiter", s, e)
		}
		if got := AppendDelimUnescaped(nil, e); string(got) != s {
			t.Errorf("%q: round trip gave %q", s, got)
		}
		if NeedsDelimiterEscape([]byte(s)) != (string(e) != s) {
			t.Errorf("%q: NeedsDelimiterEscape disagrees with the escape", s)
		}
	}
}

func FuzzDelimEscape(f *testing.F) {
	f.Add([]byte("a\xacb\xffc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e := AppendDelimEscaped(nil, b)
		if bytes.IndexByte(e, MessageDelimiter) >= 0 {
			t.Fatalf("escaped %q holds the delimiter", e)
		}
		if got := AppendDelimUnescaped(nil, e); !bytes.Equal(got, b) {
			t.Fatalf("%q: round trip gave %q", b, got)
		}
	})
}

func TestClassifyNotice(t *testing.T) {
	for text, want := range map[string]NoticeKind{
		"":   NoticeFiltered,
		"\n": NoticeFiltered,
		"WARN|1203-061609|u@127.0.0.1:1|Unable to read file(s), check server logs\n":              NoticeUnreadable,
		"WARN|1203-061614|u@127.0.0.1:1|Giving up to read file(s)\n":                              NoticeNone,
		"ERROR|1203-061606|u@127.0.0.1:1|Received unknown user command|AUTHKEY|380|[AUTHKEY x]\n": NoticeCommandFailed,
		"WARN|1203|u|Unable to parse command|[cat:]|1\n":                                          NoticeCommandFailed,
		"INFO|1203|u|hello\n": NoticeNone,
		"AUTHKEY OK\n":        NoticeNone,
		"FATAL|1203|u|boom\n": NoticeCommandFailed,
	} {
		if got := ClassifyNotice([]byte(text)); got != want {
			t.Errorf("%q: %v, want %v", text, got, want)
		}
	}
}
