package color

import (
	"strings"
	"testing"
)

// esc makes expectations readable by writing ESC as the text "ESC".
func esc(s string) string { return strings.ReplaceAll(s, "ESC", "\x1b") }

func TestEscapes(t *testing.T) {
	for i, want := range []string{"30", "31", "32", "33", "34", "35", "36", "37", "39"} {
		if got := Fg(i).Escape(); got != "\x1b["+want+"m" {
			t.Errorf("Fg(%d) = %q", i, got)
		}
	}
	for i, want := range []string{"40", "41", "42", "43", "44", "45", "46", "47", "49"} {
		if got := Bg(i).Escape(); got != "\x1b["+want+"m" {
			t.Errorf("Bg(%d) = %q", i, got)
		}
	}
	attrs := map[Attr]string{AttrNone: "", AttrBold: "ESC[1m", AttrDim: "ESC[2m",
		AttrItalic: "ESC[3m", AttrUnderline: "ESC[4m", AttrBlink: "ESC[5m",
		AttrSlowBlink: "ESC[5m", AttrRapidBlink: "ESC[6m", AttrReverse: "ESC[7m",
		AttrHidden: "ESC[8m"}
	for a, want := range attrs {
		if got := a.Escape(); got != esc(want) {
			t.Errorf("%v = %q, want %q", a, got, esc(want))
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		fg   Fg
		bad  bool
	}{
		{"Black", FgBlack, false},
		{"red", FgRed, false},
		{"WHITE", FgWhite, false},
		{"Default", FgDefault, false},
		{"Purple", 0, true},
		{"", 0, true},
		{"Bold", 0, true},
	}
	for _, tt := range tests {
		fg, err := ParseFg(tt.name)
		if (err != nil) != tt.bad || (!tt.bad && fg != tt.fg) {
			t.Errorf("ParseFg(%q) = %v, %v", tt.name, fg, err)
		}
		bg, err := ParseBg(tt.name)
		if (err != nil) != tt.bad || (!tt.bad && uint8(bg) != uint8(tt.fg)) {
			t.Errorf("ParseBg(%q) = %v, %v", tt.name, bg, err)
		}
	}
	for a := AttrNone; a <= AttrHidden; a++ {
		got, err := ParseAttr(strings.ToUpper(a.String()))
		if err != nil || got != a {
			t.Errorf("ParseAttr(%q) = %v, %v", a.String(), got, err)
		}
	}
	if _, err := ParseAttr("Blue"); err == nil {
		t.Error("ParseAttr(Blue) succeeded")
	}
}

func TestAppendPaint(t *testing.T) {
	tests := []struct {
		text string
		fg   Fg
		bg   Bg
		attr Attr
		want string
	}{
		{"abc", FgRed, BgBlue, AttrBold, "ESC[31mESC[44mESC[1mabcESC[0mESC[49mESC[39m"},
		{"abc\n", FgRed, BgBlue, AttrBold, "ESC[31mESC[44mESC[1mabcESC[0mESC[49mESC[39m\n"},
		{"abc", FgBlack, BgGreen, AttrNone, "ESC[30mESC[42mabcESC[49mESC[39m"},
		{"abc\n", FgBlack, BgGreen, AttrNone, "ESC[30mESC[42mabcESC[49mESC[39m\n"},
		{"", FgDefault, BgDefault, AttrNone, "ESC[39mESC[49mESC[49mESC[39m"},
		{"\n", FgWhite, BgBlack, AttrDim, "ESC[37mESC[40mESC[2mESC[0mESC[49mESC[39m\n"},
		{"a\r\n", FgWhite, BgBlack, AttrNone, "ESC[37mESC[40ma\rESC[49mESC[39m\n"},
	}
	for _, tt := range tests {
		got := string(AppendPaint([]byte("x"), []byte(tt.text), tt.fg, tt.bg, tt.attr))
		if got != "x"+esc(tt.want) {
			t.Errorf("AppendPaint(%q) = %q, want %q", tt.text, got, esc(tt.want))
		}
		if got := Paint(tt.text, tt.fg, tt.bg, tt.attr); got != esc(tt.want) {
			t.Errorf("Paint(%q) = %q", tt.text, got)
		}
	}
}

func TestAppendPaintAllocs(t *testing.T) {
	dst := make([]byte, 0, 256)
	text := []byte("hello world\n")
	n := testing.AllocsPerRun(100, func() {
		dst = AppendPaint(dst[:0], text, FgWhite, BgBlue, AttrBold)
	})
	if n != 0 {
		t.Errorf("AppendPaint allocates %v times", n)
	}
}
