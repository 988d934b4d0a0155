package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a configuration problem located in the file. Its message is always
// a single line so that it survives being logged or wrapped in a panic.
type Error struct {
	File string
	Line int
	Path string // dotted key path such as "Server.Schedule[0].TimeRange"; empty for syntax errors
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return oneLine(b.String())
}

// oneLine escapes line breaks that might come from a file name or from
// encoding/json's own messages.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\u2028\u2029\u0085") {
		return s
	}
	return strings.NewReplacer("\r", `\r`, "\n", `\n`, "\u2028", `\u2028`, "\u2029", `\u2029`, "\u0085", `\u0085`).Replace(s)
}

// logLevels and loggers are the accepted values of the validated strings
// (compared case-insensitively); functions rather than variables so that no
// package state can be modified.
func logLevels() []string {
	return []string{"none", "fatal", "error", "warn", "info", "default", "", "verbose", "debug", "devel", "trace", "all"}
}

func loggers() []string { return []string{"stdout", "file", "fout", "none"} }

// decoder walks the JSON token stream against the Config struct tree. A token
// walk rather than json.Unmarshal is used because we need the line of every
// key, and Unmarshal neither reports unknown keys with a position nor the path
// of the key whose value had the wrong type.
type decoder struct {
	name string
	data []byte
	dec  *json.Decoder
}

func decode(name string, data []byte, cfg *Config) error {
	d := &decoder{name: name, data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	d.dec.UseNumber()

	// Syntax is checked up front because the scanner behind json.Unmarshal
	// reports a consistent offset (just past the offending byte), while the
	// Decoder's token errors sometimes point before skipped whitespace, which
	// would give wrong line numbers. Syntax errors therefore win over
	// type errors that appear earlier in the file.
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		return d.syntaxError(err)
	}

	tok, err := d.dec.Token()
	if err != nil {
		return d.syntaxError(err)
	}
	switch tok {
	case nil:
		// A bare null decodes to "no change", exactly like encoding/json.
	case json.Delim('{'):
		if err := d.object(reflect.ValueOf(cfg).Elem(), ""); err != nil {
			return err
		}
	default:
		return d.errorf("", "expected object, got %s", describe(tok))
	}
	if tok, err := d.dec.Token(); err != io.EOF {
		if err != nil {
			return d.syntaxError(err)
		}
		return d.errorf("", "invalid JSON: unexpected %s after top-level value", describe(tok))
	}
	return nil
}

// lineAt returns the line of the byte just before offset, i.e. the last byte of
// the most recently read token (the decoder's offsets point past tokens).
func (d *decoder) lineAt(offset int64) int {
	end := min(max(offset-1, 0), int64(len(d.data)))
	return 1 + bytes.Count(d.data[:end], []byte{'\n'})
}

func (d *decoder) errorf(path, format string, args ...any) error {
	return &Error{File: d.name, Line: d.lineAt(d.dec.InputOffset()), Path: path, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) syntaxError(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		msg := se.Error()
		if msg == "unexpected end of JSON input" {
			msg = "unexpected end of input"
		}
		return &Error{File: d.name, Line: d.lineAt(se.Offset), Msg: "invalid JSON: " + msg}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{File: d.name, Line: d.lineAt(int64(len(d.data))), Msg: "invalid JSON: unexpected end of input"}
	default:
		return &Error{File: d.name, Line: d.lineAt(d.dec.InputOffset()), Msg: "invalid JSON: " + err.Error()}
	}
}

// value decodes the next JSON value into v. tag is the field's `dtail` tag
// naming an extra validation.
func (d *decoder) value(v reflect.Value, path, tag string) error {
	tok, err := d.dec.Token()
	if err != nil {
		return d.syntaxError(err)
	}
	if tok == nil {
		// encoding/json semantics: null clears reference types and leaves
		// everything else untouched.
		switch v.Kind() {
		case reflect.Slice, reflect.Map:
			v.SetZero()
		}
		return nil
	}

	switch v.Kind() {
	case reflect.String:
		s, ok := tok.(string)
		if !ok {
			return d.errorf(path, "expected string, got %s", describe(tok))
		}
		if err := d.validate(path, tag, s); err != nil {
			return err
		}
		v.SetString(s)

	case reflect.Bool:
		b, ok := tok.(bool)
		if !ok {
			return d.errorf(path, "expected boolean, got %s", describe(tok))
		}
		v.SetBool(b)

	case reflect.Int:
		n, ok := tok.(json.Number)
		if !ok {
			return d.errorf(path, "expected integer, got %s", describe(tok))
		}
		i, err := strconv.ParseInt(string(n), 10, strconv.IntSize)
		if errors.Is(err, strconv.ErrRange) {
			return d.errorf(path, "integer out of range, got %s", describe(tok))
		}
		if err != nil {
			return d.errorf(path, "expected integer, got %s", describe(tok))
		}
		v.SetInt(i)

	case reflect.Struct:
		if tok != json.Delim('{') {
			return d.errorf(path, "expected object, got %s", describe(tok))
		}
		return d.object(v, path)

	case reflect.Map:
		if tok != json.Delim('{') {
			return d.errorf(path, "expected object, got %s", describe(tok))
		}
		return d.mapObject(v, path)

	case reflect.Slice:
		if tok != json.Delim('[') {
			return d.errorf(path, "expected array, got %s", describe(tok))
		}
		return d.slice(v, path)

	case reflect.Array:
		want := fmt.Sprintf("array of %d %ss", v.Len(), kindName(v.Type().Elem().Kind()))
		if tok != json.Delim('[') {
			return d.errorf(path, "expected %s, got %s", want, describe(tok))
		}
		return d.array(v, path, want)

	default:
		// Only reachable if a field of an unsupported kind is added to Config.
		return d.errorf(path, "unsupported field kind %s", v.Kind())
	}
	return nil
}

func (d *decoder) object(v reflect.Value, path string) error {
	t := v.Type()
	for d.dec.More() {
		key, err := d.key()
		if err != nil {
			return err
		}
		keyPath := joinKey(path, key)
		field, ok := fieldByFold(t, key)
		if !ok {
			if !ignoredKey(t, key) {
				return d.errorf(keyPath, "unknown key")
			}
			var skip json.RawMessage
			if err := d.dec.Decode(&skip); err != nil {
				return d.syntaxError(err)
			}
			continue
		}
		if err := d.value(v.FieldByIndex(field.Index), keyPath, field.Tag.Get("dtail")); err != nil {
			return err
		}
	}
	return d.closing()
}

// mapObject decodes free-form objects (Permissions.Users). Like encoding/json
// it adds to an existing map rather than replacing it.
func (d *decoder) mapObject(v reflect.Value, path string) error {
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for d.dec.More() {
		key, err := d.key()
		if err != nil {
			return err
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := d.value(elem, joinKey(path, key), ""); err != nil {
			return err
		}
		v.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
	}
	return d.closing()
}

// slice replaces the whole list: a configured list never extends a default.
func (d *decoder) slice(v reflect.Value, path string) error {
	out := reflect.MakeSlice(v.Type(), 0, 0)
	for i := 0; d.dec.More(); i++ {
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := d.value(elem, indexPath(path, i), ""); err != nil {
			return err
		}
		out = reflect.Append(out, elem)
	}
	if err := d.closing(); err != nil {
		return err
	}
	v.Set(out)
	return nil
}

// array demands exactly v.Len() elements: encoding/json would silently drop
// extras or zero-fill, which for TimeRange hides a real mistake.
func (d *decoder) array(v reflect.Value, path, want string) error {
	n := 0
	for ; d.dec.More(); n++ {
		if n >= v.Len() {
			// Only counted, so that the message can say how many there were.
			var skip json.RawMessage
			if err := d.dec.Decode(&skip); err != nil {
				return d.syntaxError(err)
			}
			continue
		}
		if err := d.value(v.Index(n), indexPath(path, n), ""); err != nil {
			return err
		}
	}
	if err := d.closing(); err != nil {
		return err
	}
	if n != v.Len() {
		noun := "elements"
		if n == 1 {
			noun = "element"
		}
		return d.errorf(path, "expected %s, got %d %s", want, n, noun)
	}
	return nil
}

func (d *decoder) key() (string, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return "", d.syntaxError(err)
	}
	key, ok := tok.(string)
	if !ok {
		// The decoder only yields strings in key position; be defensive anyway.
		return "", d.errorf("", "invalid JSON: expected object key, got %s", describe(tok))
	}
	return key, nil
}

// closing consumes the '}' or ']' after the last member; the decoder checks
// that it is the right one.
func (d *decoder) closing() error {
	if _, err := d.dec.Token(); err != nil {
		return d.syntaxError(err)
	}
	return nil
}

func (d *decoder) validate(path, tag, s string) error {
	var allowed []string
	switch tag {
	case "loglevel":
		allowed = logLevels()
	case "logger":
		allowed = loggers()
	default:
		return nil
	}
	for _, a := range allowed {
		if strings.EqualFold(a, s) {
			return nil
		}
	}
	var shown []string
	for _, a := range allowed {
		if a != "" {
			shown = append(shown, a)
		}
	}
	return d.errorf(path, "invalid value %s (want one of %s)", quote(s), strings.Join(shown, ", "))
}

// fieldByFold matches keys case-insensitively as encoding/json does; the field
// names of one struct never differ only in case, so the first match is the
// only one.
func fieldByFold(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && strings.EqualFold(f.Name, key) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// ignoredKey lists keys that older releases documented and that existing
// configuration files still carry; rejecting them would break upgrades.
func ignoredKey(t reflect.Type, key string) bool {
	isServer := t == reflect.TypeFor[Server]()
	if !isServer && t != reflect.TypeFor[Common]() && t != reflect.TypeFor[Client]() {
		return false
	}
	for _, k := range []string{"TurboBoostDisable", "ShutdownTurboSerializeWaitMs", "ExperimentalFeaturesEnable"} {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return isServer && len(key) >= 5 && strings.EqualFold(key[:5], "turbo")
}

func joinKey(path, key string) string {
	if path == "" {
		return pathSegment(key)
	}
	return path + "." + pathSegment(key)
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// pathSegment quotes keys that would make the dotted path ambiguous or span
// lines (user names in Permissions.Users may contain anything).
func pathSegment(key string) string {
	if key == "" || !utf8.ValidString(key) || strings.ContainsFunc(key, func(r rune) bool {
		return r == '.' || r == '[' || r == ']' || r == '"' || r == '\\' || unicode.IsSpace(r) || !unicode.IsPrint(r)
	}) {
		return strconv.Quote(key)
	}
	return key
}

// describe renders a token for "got ..." messages, short and on one line.
func describe(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case string:
		return "string " + quote(t)
	case json.Number:
		return "number " + truncate(string(t))
	case bool:
		return "boolean " + strconv.FormatBool(t)
	case json.Delim:
		switch t {
		case '{':
			return "object"
		case '[':
			return "array"
		}
		return strconv.Quote(t.String())
	}
	return fmt.Sprintf("%T", tok)
}

func quote(s string) string { return strconv.Quote(truncate(s)) }

func truncate(s string) string {
	const maxRunes = 60
	if utf8.RuneCountInString(s) <= maxRunes {
		return s
	}
	return string([]rune(s)[:maxRunes]) + "..."
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Int:
		return "integer"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	}
	return k.String()
}
