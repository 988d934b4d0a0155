// Package color implements DTail's ANSI terminal painting: the escape codes,
// the paint rule that every coloured byte of output goes through, the
// per-prefix line colouring of printed protocol lines, and the -colorTable
// output.
//
// Unlike the reference implementation, colour names coming from the config
// file are translated into real escape sequences (the reference printed them
// literally); an unknown name is reported as an error instead.
package color

import (
	"fmt"
	"strings"
)

// Fg is a foreground colour.
type Fg uint8

// Foreground colours. The order matches the ANSI numbering so that the
// escape code can be derived from the value.
const (
	FgBlack Fg = iota
	FgRed
	FgGreen
	FgYellow
	FgBlue
	FgMagenta
	FgCyan
	FgWhite
	FgDefault
)

// Bg is a background colour.
type Bg uint8

// Background colours, numbered like Fg.
const (
	BgBlack Bg = iota
	BgRed
	BgGreen
	BgYellow
	BgBlue
	BgMagenta
	BgCyan
	BgWhite
	BgDefault
)

// Attr is a text attribute.
type Attr uint8

// Attributes. AttrNone is the zero value so that an unset attribute paints
// without the attribute escape and without the ESC[0m reset.
const (
	AttrNone Attr = iota
	AttrBold
	AttrDim
	AttrItalic
	AttrUnderline
	AttrBlink
	AttrSlowBlink
	AttrRapidBlink
	AttrReverse
	AttrHidden
)

// Escape sequences that are not derived from a colour value.
const (
	// Reset clears all attributes; painting emits it only after a non-None
	// attribute.
	Reset = "\x1b[0m"
	// BgReset and FgReset restore the terminal's default colours and close
	// every painted span.
	BgReset = "\x1b[49m"
	FgReset = "\x1b[39m"
)

// colorNames lists the schema names shared by Fg and Bg for error messages.
const colorNames = "Black Red Green Yellow Blue Magenta Cyan White Default"

// fgCodes and bgCodes hold the fixed-width (5 byte) escapes back to back,
// which gives an allocation-free, immutable lookup by slicing.
const (
	fgCodes = "\x1b[30m\x1b[31m\x1b[32m\x1b[33m\x1b[34m\x1b[35m\x1b[36m\x1b[37m\x1b[39m"
	bgCodes = "\x1b[40m\x1b[41m\x1b[42m\x1b[43m\x1b[44m\x1b[45m\x1b[46m\x1b[47m\x1b[49m"
	// attrCodes starts at AttrBold (4 bytes each); AttrNone has no escape.
	// Blink and SlowBlink share ESC[5m.
	attrCodes = "\x1b[1m\x1b[2m\x1b[3m\x1b[4m\x1b[5m\x1b[5m\x1b[6m\x1b[7m\x1b[8m"
)

// Escape returns the ANSI escape of the colour; out-of-range values fall back
// to the default colour so a corrupted value can never emit garbage.
func (f Fg) Escape() string {
	if f > FgDefault {
		f = FgDefault
	}
	return fgCodes[int(f)*5 : int(f)*5+5]
}

// String returns the schema name of the colour.
func (f Fg) String() string { return colorName(uint8(f)) }

// Escape returns the ANSI escape of the colour (see Fg.Escape).
func (b Bg) Escape() string {
	if b > BgDefault {
		b = BgDefault
	}
	return bgCodes[int(b)*5 : int(b)*5+5]
}

// String returns the schema name of the colour.
func (b Bg) String() string { return colorName(uint8(b)) }

// Escape returns the ANSI escape of the attribute, "" for AttrNone and for
// out-of-range values.
func (a Attr) Escape() string {
	if a == AttrNone || a > AttrHidden {
		return ""
	}
	i := int(a-AttrBold) * 4
	return attrCodes[i : i+4]
}

// String returns the schema name of the attribute.
func (a Attr) String() string {
	switch a {
	case AttrNone:
		return "None"
	case AttrBold:
		return "Bold"
	case AttrDim:
		return "Dim"
	case AttrItalic:
		return "Italic"
	case AttrUnderline:
		return "Underline"
	case AttrBlink:
		return "Blink"
	case AttrSlowBlink:
		return "SlowBlink"
	case AttrRapidBlink:
		return "RapidBlink"
	case AttrReverse:
		return "Reverse"
	case AttrHidden:
		return "Hidden"
	}
	return fmt.Sprintf("Attr(%d)", uint8(a))
}

func colorName(v uint8) string {
	switch Fg(v) {
	case FgBlack:
		return "Black"
	case FgRed:
		return "Red"
	case FgGreen:
		return "Green"
	case FgYellow:
		return "Yellow"
	case FgBlue:
		return "Blue"
	case FgMagenta:
		return "Magenta"
	case FgCyan:
		return "Cyan"
	case FgWhite:
		return "White"
	case FgDefault:
		return "Default"
	}
	return fmt.Sprintf("Color(%d)", v)
}

func parseColor(kind, name string) (uint8, error) {
	for v := uint8(FgBlack); v <= uint8(FgDefault); v++ {
		if strings.EqualFold(colorName(v), name) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown %s colour %q (want one of %s)", kind, name, colorNames)
}

// ParseFg maps a schema colour name (case-insensitive) to a foreground colour.
func ParseFg(name string) (Fg, error) {
	v, err := parseColor("foreground", name)
	return Fg(v), err
}

// ParseBg maps a schema colour name (case-insensitive) to a background colour.
func ParseBg(name string) (Bg, error) {
	v, err := parseColor("background", name)
	return Bg(v), err
}

// ParseAttr maps a schema attribute name (case-insensitive) to an attribute.
func ParseAttr(name string) (Attr, error) {
	for a := AttrNone; a <= AttrHidden; a++ {
		if strings.EqualFold(a.String(), name) {
			return a, nil
		}
	}
	return AttrNone, fmt.Errorf("unknown attribute %q (want one of None Bold Dim Italic Underline Blink SlowBlink RapidBlink Reverse Hidden)", name)
}

// Style bundles the three components every painted span is made of.
type Style struct {
	Fg   Fg
	Bg   Bg
	Attr Attr
}

// AppendPaint appends text painted as fg, bg, attr:
//
//	fg bg attr text ESC[0m ESC[49m ESC[39m   (attr != None)
//	fg bg text ESC[49m ESC[39m                (attr == None)
//
// A trailing newline of text is moved behind the closing escapes so that the
// terminal never carries a coloured background into the next line.
func AppendPaint(dst, text []byte, fg Fg, bg Bg, attr Attr) []byte {
	return appendPaint(dst, text, fg, bg, attr)
}

// AppendPaintString is AppendPaint for string input, avoiding a conversion.
func AppendPaintString(dst []byte, text string, fg Fg, bg Bg, attr Attr) []byte {
	return appendPaint(dst, text, fg, bg, attr)
}

func appendPaint[T string | []byte](dst []byte, text T, fg Fg, bg Bg, attr Attr) []byte {
	nl := len(text) > 0 && text[len(text)-1] == '\n'
	if nl {
		text = text[:len(text)-1]
	}
	dst = append(dst, fg.Escape()...)
	dst = append(dst, bg.Escape()...)
	if attr != AttrNone {
		dst = append(dst, attr.Escape()...)
		dst = append(dst, text...)
		dst = append(dst, Reset...)
	} else {
		dst = append(dst, text...)
	}
	dst = append(dst, BgReset...)
	dst = append(dst, FgReset...)
	if nl {
		dst = append(dst, '\n')
	}
	return dst
}

// Paint returns text painted as fg, bg, attr (see AppendPaint).
func Paint(text string, fg Fg, bg Bg, attr Attr) string {
	return string(AppendPaintString(make([]byte, 0, len(text)+32), text, fg, bg, attr))
}

// Append appends text painted in the style.
func (s Style) Append(dst, text []byte) []byte {
	return AppendPaint(dst, text, s.Fg, s.Bg, s.Attr)
}

// AppendString appends text painted in the style.
func (s Style) AppendString(dst []byte, text string) []byte {
	return AppendPaintString(dst, text, s.Fg, s.Bg, s.Attr)
}

// Paint returns text painted in the style.
func (s Style) Paint(text string) string {
	return Paint(text, s.Fg, s.Bg, s.Attr)
}
