package color

import (
	"fmt"
	"io"
)

// SampleParagraph is printed after every -wideColorTable entry to show the
// combination on running text. The reference used its own fixed paragraph;
// only -colorTable (without it) is byte-compared by the integration tests.
const SampleParagraph = "The quick brown fox jumps over the lazy dog while the " +
	"log lines scroll by: 0123456789, ERROR, WARN, INFO. Sphinx of black " +
	"quartz, judge my vow. Pack my box with five dozen liquor jugs."

// tableAttrs is the attribute order of the colour table; SlowBlink and Hidden
// are left out like in the reference output.
func tableAttrs() [8]Attr {
	return [8]Attr{AttrBold, AttrDim, AttrItalic, AttrUnderline, AttrBlink,
		AttrRapidBlink, AttrReverse, AttrNone}
}

// ColorTable writes the -colorTable output (wide=false) or the
// -wideColorTable output (wide=true): every attribute × foreground ×
// background combination with bg != fg, each painted with itself.
func ColorTable(w io.Writer, wide bool) error {
	buf := make([]byte, 0, 64*1024)
	for _, attr := range tableAttrs() {
		for fg := FgBlack; fg <= FgDefault; fg++ {
			for bg := BgBlack; bg <= BgDefault; bg++ {
				if uint8(bg) == uint8(fg) {
					continue
				}
				text := fmt.Sprintf(" Foreground:%10s  |  Background:%10s  |  Attribute:%10s ",
					fg, bg, attr)
				buf = AppendPaintString(buf, text, fg, bg, attr)
				buf = append(buf, '\n')
				if wide {
					buf = AppendPaintString(buf, SampleParagraph, fg, bg, attr)
					buf = append(buf, '\n')
				}
			}
		}
		if len(buf) > 32*1024 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}
