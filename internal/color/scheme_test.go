package color

import (
	"bytes"
	"strings"
	"testing"
)

func TestAppendLineRemoteExample(t *testing.T) {
	s := DefaultScheme()
	line := "REMOTE|integrationtest|100|1|dcatcolors.txt|some payload\n"
	got := string(s.AppendLine(nil, []byte(line)))
	// The spec quotes the first bytes of dcatcolors.expected.
	prefix := esc("ESC[37mESC[44mESC[2mREMOTEESC[0mESC[49mESC[39m" +
		"ESC[36mESC[44mESC[2m|ESC[0mESC[49mESC[39m" +
		"ESC[37mESC[44mESC[1mintegrationtestESC[0m")
	if !strings.HasPrefix(got, prefix) {
		t.Fatalf("got %q\nwant prefix %q", got, prefix)
	}
	if !strings.Contains(got, esc("ESC[30mESC[42m100ESC[49mESC[39m")) {
		t.Errorf("progress 100 not painted StatsOk: %q", got)
	}
	d := "ESC[36mESC[44mESC[2m|ESC[0mESC[49mESC[39m"
	want := esc("ESC[37mESC[44mESC[2mREMOTEESC[0mESC[49mESC[39m" + d +
		"ESC[37mESC[44mESC[1mintegrationtestESC[0mESC[49mESC[39m" + d +
		"ESC[30mESC[42m100ESC[49mESC[39m" + d +
		"ESC[37mESC[44mESC[2m1ESC[0mESC[49mESC[39m" + d +
		"ESC[37mESC[44mESC[2mdcatcolors.txtESC[0mESC[49mESC[39m" + d +
		"ESC[37mESC[40msome payloadESC[49mESC[39m\n")
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestAppendLine(t *testing.T) {
	s := DefaultScheme()
	cd := "ESC[30mESC[43mESC[2m|ESC[0mESC[49mESC[39m"
	sd := "ESC[30mESC[46mESC[2m|ESC[0mESC[49mESC[39m"
	rd := "ESC[36mESC[44mESC[2m|ESC[0mESC[49mESC[39m"
	tests := []struct {
		name, line, want string
	}{
		{"other", "hello|world\n", "ESC[39mESC[49mhello|worldESC[49mESC[39m\n"},
		{"other no newline", "x", "ESC[39mESC[49mxESC[49mESC[39m"},
		{"short remote", "REMOTE|h|100|1\n", "ESC[39mESC[49mREMOTE|h|100|1ESC[49mESC[39m\n"},
		{"short client", "CLIENT|h\n", "ESC[39mESC[49mCLIENT|hESC[49mESC[39m\n"},
		{"client warn", "CLIENT|host|WARN|a|b\n",
			"ESC[30mESC[43mESC[2mCLIENTESC[0mESC[49mESC[39m" + cd +
				"ESC[30mESC[43mESC[2mhostESC[0mESC[49mESC[39m" + cd +
				"ESC[37mESC[40mESC[1mWARN|a|bESC[0mESC[49mESC[39m\n"},
		{"client info", "CLIENT|host|INFO|a\n",
			"ESC[30mESC[43mESC[2mCLIENTESC[0mESC[49mESC[39m" + cd +
				"ESC[30mESC[43mESC[2mhostESC[0mESC[49mESC[39m" + cd +
				"ESC[37mESC[40mINFO|aESC[49mESC[39m\n"},
		{"server error", "SERVER|srv|ERROR|0101-000000|x\n",
			"ESC[30mESC[46mESC[2mSERVERESC[0mESC[49mESC[39m" + sd +
				"ESC[30mESC[46mESC[1msrvESC[0mESC[49mESC[39m" + sd +
				"ESC[37mESC[41mESC[1mERROR|0101-000000|xESC[0mESC[49mESC[39m\n"},
		{"server empty quirk", "SERVER|srv|\n",
			"ESC[30mESC[46mESC[2mSERVERESC[0mESC[49mESC[39m" + sd +
				"ESC[30mESC[46mESC[1msrvESC[0mESC[49mESC[39m" + sd +
				"ESC[37mESC[40mESC[49mESC[39m\n"},
		{"remote fatal, progress 50", "REMOTE|h| 50|7|id|FATAL boom|x\n",
			"ESC[37mESC[44mESC[2mREMOTEESC[0mESC[49mESC[39m" + rd +
				"ESC[37mESC[44mESC[1mhESC[0mESC[49mESC[39m" + rd +
				"ESC[37mESC[41m 50ESC[49mESC[39m" + rd +
				"ESC[37mESC[44mESC[2m7ESC[0mESC[49mESC[39m" + rd +
				"ESC[37mESC[44mESC[2midESC[0mESC[49mESC[39m" + rd +
				"ESC[37mESC[45mESC[1mFATAL boom|xESC[0mESC[49mESC[39m\n"},
	}
	for _, tt := range tests {
		got := string(s.AppendLine(nil, []byte(tt.line)))
		if got != esc(tt.want) {
			t.Errorf("%s:\n got  %q\n want %q", tt.name, got, esc(tt.want))
		}
	}
}

func TestAppendLineAllocs(t *testing.T) {
	s := DefaultScheme()
	dst := make([]byte, 0, 1024)
	line := []byte("REMOTE|integrationtest|100|1|dcatcolors.txt|WARN some payload\n")
	n := testing.AllocsPerRun(100, func() { dst = s.AppendLine(dst[:0], line) })
	if n != 0 {
		t.Errorf("AppendLine allocates %v times", n)
	}
}

func TestSchemeFromNames(t *testing.T) {
	s, err := SchemeFromNames(map[string]string{
		"Remote.DelimiterFg":          "red",
		"remote.delimiterbg":          "Default",
		"Remote.DelimiterAttr":        "Underline",
		"Common.SeverityWarnAttr":     "None",
		"MaprTable.HeaderSortKeyAttr": "Blink",
		"Client.TextFg":               "", // empty keeps the default
	})
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultScheme()
	want.Remote.Delimiter = Style{FgRed, BgDefault, AttrUnderline}
	want.Common.SeverityWarn.Attr = AttrNone
	want.MaprTable.HeaderSortKeyAttr = AttrBlink
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}

	_, err = SchemeFromNames(map[string]string{
		"Remote.NopeFg":      "Red",
		"Remote.TextFg":      "Bold",
		"Server.ServerAttr":  "Purple",
		"Client":             "Red",
		"MaprTable.DataAttr": "Dim",
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, part := range []string{"Remote.NopeFg", "Remote.TextFg", "Server.ServerAttr", `"Client"`} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %s", err, part)
		}
	}
}

func TestKeysAllSettable(t *testing.T) {
	keys := Keys()
	if len(keys) != (8+4+4+3+5)*3+2 {
		t.Errorf("%d keys", len(keys))
	}
	for _, k := range keys {
		var s Scheme
		val := "Red"
		if strings.HasSuffix(k, "Attr") {
			val = "Hidden"
		}
		if err := s.Set(k, val); err != nil {
			t.Errorf("Set(%q): %v", k, err)
		}
		if s == (Scheme{}) {
			t.Errorf("Set(%q) changed nothing", k)
		}
	}
}

func TestColorTable(t *testing.T) {
	var b bytes.Buffer
	if err := ColorTable(&b, false); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b.Bytes(), []byte("\n")); n != 576 {
		t.Errorf("%d lines, want 576", n)
	}
	if b.Len() != 58752 {
		t.Errorf("%d bytes, want 58752", b.Len())
	}
	first, _, _ := bytes.Cut(b.Bytes(), []byte("\n"))
	want := esc("ESC[30mESC[41mESC[1m Foreground:     Black  |  Background:       Red  |  Attribute:      Bold ESC[0mESC[49mESC[39m")
	if string(first) != want {
		t.Errorf("first line %q\nwant %q", first, want)
	}
	lines := bytes.Split(bytes.TrimSuffix(b.Bytes(), []byte("\n")), []byte("\n"))
	last := esc("ESC[39mESC[47m Foreground:   Default  |  Background:     White  |  Attribute:      None ESC[49mESC[39m")
	if got := string(lines[len(lines)-1]); got != last {
		t.Errorf("last line %q\nwant %q", got, last)
	}

	var wide bytes.Buffer
	if err := ColorTable(&wide, true); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(wide.Bytes(), []byte("\n")); n != 2*576 {
		t.Errorf("wide: %d lines", n)
	}
	if !bytes.Contains(wide.Bytes(), []byte(SampleParagraph)) {
		t.Error("wide table lacks the sample paragraph")
	}
}
