package color

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// RemoteScheme colours REMOTE|host|progress|lineno|id|text lines.
type RemoteScheme struct {
	Delimiter Style
	Remote    Style
	Count     Style
	Hostname  Style
	ID        Style
	// StatsOk paints a progress field of exactly "100", StatsWarn any other.
	StatsOk   Style
	StatsWarn Style
	// Text paints the payload unless a severity prefix selects a Common style.
	Text Style
}

// ClientScheme colours CLIENT|host|text lines.
type ClientScheme struct {
	Delimiter Style
	Client    Style
	Hostname  Style
	Text      Style
}

// ServerScheme colours SERVER|host|text lines.
type ServerScheme struct {
	Delimiter Style
	Server    Style
	Hostname  Style
	Text      Style
}

// CommonScheme holds the severity styles that override a line's Text style
// when the text starts with WARN, ERROR or FATAL.
type CommonScheme struct {
	SeverityError Style
	SeverityFatal Style
	SeverityWarn  Style
}

// MaprTableScheme colours mapreduce result tables. The sort and group key
// attributes replace the Header attribute for the respective columns.
type MaprTableScheme struct {
	Data               Style
	Delimiter          Style
	Header             Style
	HeaderDelimiter    Style
	RawQuery           Style
	HeaderSortKeyAttr  Attr
	HeaderGroupKeyAttr Attr
}

// Scheme is the complete colour configuration (config Client.TermColors).
type Scheme struct {
	Remote    RemoteScheme
	Client    ClientScheme
	Server    ServerScheme
	Common    CommonScheme
	MaprTable MaprTableScheme
	// Visible makes AppendLine show control bytes of a line as text
	// (AppendVisible) instead of passing them to the terminal. Set for a
	// terminal; a pipe keeps DTail 4.x's bytes.
	Visible bool
}

// DefaultScheme returns the built-in colours of the reference implementation.
func DefaultScheme() Scheme {
	text := Style{FgWhite, BgBlack, AttrNone}
	return Scheme{
		Remote: RemoteScheme{
			Delimiter: Style{FgCyan, BgBlue, AttrDim},
			Remote:    Style{FgWhite, BgBlue, AttrDim},
			Count:     Style{FgWhite, BgBlue, AttrDim},
			Hostname:  Style{FgWhite, BgBlue, AttrBold},
			ID:        Style{FgWhite, BgBlue, AttrDim},
			StatsOk:   Style{FgBlack, BgGreen, AttrNone},
			StatsWarn: Style{FgWhite, BgRed, AttrNone},
			Text:      text,
		},
		Client: ClientScheme{
			Delimiter: Style{FgBlack, BgYellow, AttrDim},
			Client:    Style{FgBlack, BgYellow, AttrDim},
			Hostname:  Style{FgBlack, BgYellow, AttrDim},
			Text:      text,
		},
		Server: ServerScheme{
			Delimiter: Style{FgBlack, BgCyan, AttrDim},
			Server:    Style{FgBlack, BgCyan, AttrDim},
			Hostname:  Style{FgBlack, BgCyan, AttrBold},
			Text:      text,
		},
		Common: CommonScheme{
			SeverityError: Style{FgWhite, BgRed, AttrBold},
			SeverityFatal: Style{FgWhite, BgMagenta, AttrBold},
			SeverityWarn:  Style{FgWhite, BgBlack, AttrBold},
		},
		MaprTable: MaprTableScheme{
			Data:               Style{FgWhite, BgBlue, AttrNone},
			Delimiter:          Style{FgWhite, BgBlue, AttrDim},
			Header:             Style{FgWhite, BgBlue, AttrBold},
			HeaderDelimiter:    Style{FgWhite, BgBlue, AttrDim},
			RawQuery:           Style{FgCyan, BgBlack, AttrDim},
			HeaderSortKeyAttr:  AttrUnderline,
			HeaderGroupKeyAttr: AttrReverse,
		},
	}
}

// TerminalScheme is DefaultScheme for a terminal: payload and severity
// text in the terminal's own foreground and background (DTail 4.x paints
// it white on black, black bars on a light theme), severities by a
// foreground colour only, metadata kept on its coloured backgrounds, and
// control bytes made visible (Visible).
func TerminalScheme() Scheme {
	s := DefaultScheme()
	text := Style{FgDefault, BgDefault, AttrNone}
	s.Remote.Text, s.Client.Text, s.Server.Text = text, text, text
	s.Common.SeverityWarn = Style{FgYellow, BgDefault, AttrBold}
	s.Common.SeverityError = Style{FgRed, BgDefault, AttrBold}
	s.Common.SeverityFatal = Style{FgMagenta, BgDefault, AttrBold}
	s.MaprTable.RawQuery = Style{FgCyan, BgDefault, AttrNone}
	s.Visible = true
	return s
}

// SchemeFromNames returns DefaultScheme with the given entries overridden.
//
// Keys are the config key paths below Client.TermColors, e.g.
// "Remote.DelimiterFg", "Common.SeverityWarnAttr",
// "MaprTable.HeaderSortKeyAttr" (matched case-insensitively, like the JSON
// decoder matches config keys). Values are schema names as accepted by
// ParseFg, ParseBg and ParseAttr. An empty value keeps the default so that a
// struct of strings with unset fields can be passed through verbatim. An
// unknown key or colour name is an error; all problems are reported together.
func SchemeFromNames(names map[string]string) (Scheme, error) {
	return SchemeOver(DefaultScheme(), names)
}

// SchemeOver is SchemeFromNames over another base scheme (TerminalScheme):
// the entries a user configured win over either.
func SchemeOver(s Scheme, names map[string]string) (Scheme, error) {
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error messages
	var errs []error
	for _, key := range keys {
		if err := s.Set(key, names[key]); err != nil {
			errs = append(errs, err)
		}
	}
	return s, errors.Join(errs...)
}

// Set overrides one entry by its config key (see SchemeFromNames). An empty
// value leaves the entry unchanged.
func (s *Scheme) Set(key, value string) error {
	group, field, ok := strings.Cut(key, ".")
	if !ok {
		return fmt.Errorf("colour key %q: want Group.Field", key)
	}
	g := strings.ToLower(group)
	f := strings.ToLower(field)
	if g == "maprtable" && (f == "headersortkeyattr" || f == "headergroupkeyattr") {
		if value == "" {
			return nil
		}
		a, err := ParseAttr(value)
		if err != nil {
			return fmt.Errorf("colour key %q: %w", key, err)
		}
		if f == "headersortkeyattr" {
			s.MaprTable.HeaderSortKeyAttr = a
		} else {
			s.MaprTable.HeaderGroupKeyAttr = a
		}
		return nil
	}
	var part string
	for _, suffix := range [...]string{"attr", "bg", "fg"} {
		if strings.HasSuffix(f, suffix) {
			part, f = suffix, strings.TrimSuffix(f, suffix)
			break
		}
	}
	st := s.style(g, f)
	if part == "" || st == nil {
		return fmt.Errorf("unknown colour key %q", key)
	}
	if value == "" {
		return nil
	}
	var err error
	switch part {
	case "fg":
		st.Fg, err = ParseFg(value)
	case "bg":
		st.Bg, err = ParseBg(value)
	default:
		st.Attr, err = ParseAttr(value)
	}
	if err != nil {
		return fmt.Errorf("colour key %q: %w", key, err)
	}
	return nil
}

// Keys lists every config key that Set accepts, in canonical spelling.
func Keys() []string {
	groups := []struct {
		name   string
		fields []string
	}{
		{"Remote", []string{"Delimiter", "Remote", "Count", "Hostname", "ID", "StatsOk", "StatsWarn", "Text"}},
		{"Client", []string{"Delimiter", "Client", "Hostname", "Text"}},
		{"Server", []string{"Delimiter", "Server", "Hostname", "Text"}},
		{"Common", []string{"SeverityError", "SeverityFatal", "SeverityWarn"}},
		{"MaprTable", []string{"Data", "Delimiter", "Header", "HeaderDelimiter", "RawQuery"}},
	}
	var keys []string
	for _, g := range groups {
		for _, f := range g.fields {
			for _, p := range [...]string{"Attr", "Bg", "Fg"} {
				keys = append(keys, g.name+"."+f+p)
			}
		}
	}
	return append(keys, "MaprTable.HeaderSortKeyAttr", "MaprTable.HeaderGroupKeyAttr")
}

// style resolves lower-cased group and field names to the Style they address.
func (s *Scheme) style(group, field string) *Style {
	switch group {
	case "remote":
		r := &s.Remote
		switch field {
		case "delimiter":
			return &r.Delimiter
		case "remote":
			return &r.Remote
		case "count":
			return &r.Count
		case "hostname":
			return &r.Hostname
		case "id":
			return &r.ID
		case "statsok":
			return &r.StatsOk
		case "statswarn":
			return &r.StatsWarn
		case "text":
			return &r.Text
		}
	case "client":
		c := &s.Client
		switch field {
		case "delimiter":
			return &c.Delimiter
		case "client":
			return &c.Client
		case "hostname":
			return &c.Hostname
		case "text":
			return &c.Text
		}
	case "server":
		v := &s.Server
		switch field {
		case "delimiter":
			return &v.Delimiter
		case "server":
			return &v.Server
		case "hostname":
			return &v.Hostname
		case "text":
			return &v.Text
		}
	case "common":
		c := &s.Common
		switch field {
		case "severityerror":
			return &c.SeverityError
		case "severityfatal":
			return &c.SeverityFatal
		case "severitywarn":
			return &c.SeverityWarn
		}
	case "maprtable":
		m := &s.MaprTable
		switch field {
		case "data":
			return &m.Data
		case "delimiter":
			return &m.Delimiter
		case "header":
			return &m.Header
		case "headerdelimiter":
			return &m.HeaderDelimiter
		case "rawquery":
			return &m.RawQuery
		}
	}
	return nil
}

// AppendLine appends one printed output line painted according to its
// prefix: REMOTE lines (6 fields), CLIENT and SERVER lines (3 fields) get
// their per-field styles with the last field coloured by severity; any other
// line, or one with too few fields, is wrapped in the default colours.
func (s *Scheme) AppendLine(dst, line []byte) []byte {
	if s.Visible && NeedsVisible(line) {
		line = AppendVisible(make([]byte, 0, len(line)+16), line)
	}
	switch {
	case hasPrefix(line, "REMOTE|"):
		var f [6][]byte
		if !splitFields(f[:], line) {
			break
		}
		r := &s.Remote
		dst = r.Remote.Append(dst, f[0])
		dst = r.Delimiter.AppendString(dst, "|")
		dst = r.Hostname.Append(dst, f[1])
		dst = r.Delimiter.AppendString(dst, "|")
		if string(f[2]) == "100" {
			dst = r.StatsOk.Append(dst, f[2])
		} else {
			dst = r.StatsWarn.Append(dst, f[2])
		}
		dst = r.Delimiter.AppendString(dst, "|")
		dst = r.Count.Append(dst, f[3])
		dst = r.Delimiter.AppendString(dst, "|")
		dst = r.ID.Append(dst, f[4])
		dst = r.Delimiter.AppendString(dst, "|")
		return s.severity(f[5], r.Text).Append(dst, f[5])
	case hasPrefix(line, "CLIENT|"):
		var f [3][]byte
		if !splitFields(f[:], line) {
			break
		}
		c := &s.Client
		dst = c.Client.Append(dst, f[0])
		dst = c.Delimiter.AppendString(dst, "|")
		dst = c.Hostname.Append(dst, f[1])
		dst = c.Delimiter.AppendString(dst, "|")
		return s.severity(f[2], c.Text).Append(dst, f[2])
	case hasPrefix(line, "SERVER|"):
		var f [3][]byte
		if !splitFields(f[:], line) {
			break
		}
		v := &s.Server
		dst = v.Server.Append(dst, f[0])
		dst = v.Delimiter.AppendString(dst, "|")
		dst = v.Hostname.Append(dst, f[1])
		dst = v.Delimiter.AppendString(dst, "|")
		return s.severity(f[2], v.Text).Append(dst, f[2])
	}
	return AppendPaint(dst, line, FgDefault, BgDefault, AttrNone)
}

// severity picks the style of a line's text field.
func (s *Scheme) severity(text []byte, fallback Style) Style {
	switch {
	case hasPrefix(text, "WARN"):
		return s.Common.SeverityWarn
	case hasPrefix(text, "ERROR"):
		return s.Common.SeverityError
	case hasPrefix(text, "FATAL"):
		return s.Common.SeverityFatal
	}
	return fallback
}

// splitFields splits line at the first len(f)-1 '|' bytes into f; the last
// field keeps any further delimiters. It reports whether enough fields exist.
func splitFields(f [][]byte, line []byte) bool {
	last := len(f) - 1
	for i := 0; i < last; i++ {
		j := bytes.IndexByte(line, '|')
		if j < 0 {
			return false
		}
		f[i], line = line[:j], line[j+1:]
	}
	f[last] = line
	return true
}

// hasPrefix compares against a string constant without converting it to a
// byte slice.
func hasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}
