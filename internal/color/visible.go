package color

import "unicode/utf8"

// NeedsVisible reports whether line holds a byte that AppendVisible
// rewrites: a C0 control other than TAB (the last byte may be the line's
// '\n', a '\r' before it is a CRLF ending), DEL, a UTF-8 encoded C1
// control, or invalid UTF-8. One pass, no allocation; almost every log
// line says no.
func NeedsVisible(line []byte) bool {
	body := trimEOL(line)
	for i := 0; i < len(body); {
		c := body[i]
		if c < 0x80 {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(body[i:])
		if r == utf8.RuneError && n <= 1 || r <= 0x9f {
			return true
		}
		i += n
	}
	return false
}

// AppendVisible appends line with its control bytes made visible, so
// that log content cannot drive the terminal (move the cursor, change
// the title, ring the bell, hide text): C0 controls in caret notation as
// `cat -v` prints them (ESC → ^[, NUL → ^@, BEL → ^G, DEL → ^?), a UTF-8
// encoded C1 control and every byte of invalid UTF-8 as \xHH. TAB stays,
// and so do the line's ending '\n' or "\r\n".
func AppendVisible(dst, line []byte) []byte {
	body := trimEOL(line)
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == '\t' || c >= 0x20 && c < 0x7f:
			dst = append(dst, c)
			i++
		case c < 0x20:
			dst = append(dst, '^', c+'@')
			i++
		case c == 0x7f:
			dst = append(dst, '^', '?')
			i++
		default:
			r, n := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && n <= 1 || r >= 0x80 && r <= 0x9f {
				for _, b := range body[i : i+max(n, 1)] {
					dst = append(dst, '\\', 'x', hexDigit[b>>4], hexDigit[b&15])
				}
				i += max(n, 1)
				continue
			}
			dst = append(dst, body[i:i+n]...)
			i += n
		}
	}
	return append(dst, line[len(body):]...)
}

const hexDigit = "0123456789abcdef"

// trimEOL strips the line ending ("\n" or "\r\n") that AppendVisible keeps.
func trimEOL(line []byte) []byte {
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
		if n > 0 && line[n-1] == '\r' {
			n--
		}
	}
	return line[:n]
}
