package protocol

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func readFrames(fr *FrameReader) ([]string, error) {
	var out []string
	for {
		f, err := fr.Next()
		if err != nil {
			return out, err
		}
		out = append(out, string(f))
	}
}

func TestFrameReader_Next(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		max    int
		frames []string
		err    error
	}{
		{"empty stream", "", 0, nil, io.EOF},
		{"two frames", "a;bb;", 0, []string{"a", "bb"}, io.EOF},
		{"empty frames kept", ";;x;", 0, []string{"", "", "x"}, io.EOF},
		{"partial at EOF", "a;bc", 0, []string{"a"}, io.ErrUnexpectedEOF},
		{"exactly max", "abcd;ef;", 4, []string{"abcd", "ef"}, io.EOF},
		{"max plus one", "ab;abcde;", 4, []string{"ab"}, ErrFrameTooLarge},
		{"over max without terminator", "abcdefgh", 4, nil, ErrFrameTooLarge},
		{"negative limit selects default", ";;a;", -1, []string{"", "", "a"}, io.EOF},
	}
	for _, tc := range tests {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tc.in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			got, err := readFrames(NewFrameReader(r, tc.max))
			if !slices.Equal(got, tc.frames) || !errors.Is(err, tc.err) {
				t.Errorf("%s (oneByte=%v): got %q, %v; want %q, %v", tc.name, oneByte, got, err, tc.frames, tc.err)
			}
		}
	}
}

func TestFrameReader_ErrorsAreSticky(t *testing.T) {
	fr := NewFrameReader(strings.NewReader("abcdefgh;a;"), 4)
	for range 3 {
		if _, err := fr.Next(); err != ErrFrameTooLarge {
			t.Fatalf("err = %v", err)
		}
	}
}

func TestFrameReader_ReadError(t *testing.T) {
	boom := errors.New("boom")
	fr := NewFrameReader(io.MultiReader(strings.NewReader("a;b"), iotest.ErrReader(boom)), 0)
	got, err := readFrames(fr)
	if !slices.Equal(got, []string{"a"}) || err != boom {
		t.Fatalf("got %q, %v", got, err)
	}
}

// endless never ends and never contains a delimiter: a peer that just keeps
// sending must not make the reader grow without bound.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'A'
	}
	return len(p), nil
}

func TestFrameReader_BoundedMemory(t *testing.T) {
	const max = 10000
	fr := NewFrameReader(endless{}, max)
	if _, err := fr.Next(); err != ErrFrameTooLarge {
		t.Fatalf("err = %v", err)
	}
	if len(fr.s.buf) > max+1 {
		t.Fatalf("buffer grew to %d bytes for a %d-byte limit", len(fr.s.buf), max)
	}
	mr := NewMessageReader(endless{}, max)
	if _, err := mr.Next(); err != ErrMessageTooLarge {
		t.Fatalf("err = %v", err)
	}
	if len(mr.s.buf) > max+1 {
		t.Fatalf("buffer grew to %d bytes for a %d-byte limit", len(mr.s.buf), max)
	}
}

// zeroReader returns (0, nil) forever.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestFrameReader_NoProgress(t *testing.T) {
	if _, err := NewFrameReader(zeroReader{}, 0).Next(); err != io.ErrNoProgress {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeFrame(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		frame string
		want  string
		err   string
	}{
		{"protocol 4.1 base64 " + b64("cat: x regex:noop "), "cat: x regex:noop ", ""},
		{"protocol 4.1 base64 ", "", ""},
		{"hello", "", "unable to determine protocol version"},
		{"", "", "unable to determine protocol version"},
		{"protocol 4.1", "", "unable to determine protocol version"},
		{"protocol", "", "unable to determine protocol version"},
		{"Protocol 4.1 base64 Zm9v", "", "unable to determine protocol version"},
		{"protocol 4.1 base64", "", "unable to decode client message, DTail server and client versions may not be compatible"},
		{"protocol 4.1 base32 Zm9v", "", "unable to decode client message, DTail server and client versions may not be compatible"},
		{"protocol 4.1 base64 Zm9v extra", "", "unable to decode client message, DTail server and client versions may not be compatible"},
		{"protocol 4.1 base64 !!!", "", "unable to decode client message, DTail server and client versions may not be compatible"},
		{"protocol 4.1  base64 Zm9v", "", "unable to decode client message, DTail server and client versions may not be compatible"},
		{"protocol 4.10 base64 Zm9v", "", "the DTail server protocol version '4.1' does not match client protocol version '4.10', please update DTail server"},
		{"protocol 4.2 base64 Zm9v", "", "the DTail server protocol version '4.1' does not match client protocol version '4.2', please update DTail server"},
		{"protocol 5 base64 Zm9v", "", "the DTail server protocol version '4.1' does not match client protocol version '5', please update DTail server"},
		{"protocol 4.0 base64 Zm9v", "", "the DTail server protocol version '4.1' does not match client protocol version '4.0', please update DTail client"},
		{"protocol 4.1.0 base64 Zm9v", "", "the DTail server protocol version '4.1' does not match client protocol version '4.1.0', please update DTail client"},
		{"protocol  4.1 base64 Zm9v", "", "the DTail server protocol version '4.1' does not match client protocol version '', please update DTail client"},
		{"protocol 4.2.1 base64 Zm9v", "", "the DTail server protocol version '4.1' does not match client protocol version '4.2.1', please update DTail client"},
		{"protocol 5.1.1 base64 Zm9v", "", "the DTail server protocol version '4.1' does not match client protocol version '5.1.1', please update DTail server"},
		{"protocol 5.x base64 Zm9v", "", "the DTail server protocol version '4.1' does not match client protocol version '5.x', please update DTail server"},
		{"protocol x base64", "", "the DTail server protocol version '4.1' does not match client protocol version 'x', please update DTail client"},
	}
	for _, tc := range tests {
		got, err := DecodeFrame([]byte(tc.frame))
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != tc.want || gotErr != tc.err {
			t.Errorf("DecodeFrame(%q) = %q, %q; want %q, %q", tc.frame, got, gotErr, tc.want, tc.err)
		}
	}
}

func TestVersionMismatchError_LegacyNewline(t *testing.T) {
	for v, want := range map[string]bool{"3": true, "3.9": true, "1": true, "x": true, "4": false, "4.0": false, "5": false} {
		if got := (&VersionMismatchError{ClientVersion: v}).LegacyNewline(); got != want {
			t.Errorf("LegacyNewline(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text string
		want Command
		err  string
	}{
		{text: "cat: x regex:noop ", want: Command{Verb: "cat", HasOptions: true,
			Tokens: []string{"cat:", "x", "regex:noop", ""}, Args: []string{"x", "regex:noop", ""}}},
		{text: "timeout 5 cat x regex:default a  b", want: Command{Timeout: 5, Verb: "cat",
			Tokens: []string{"cat", "x", "regex:default", "a", "", "b"}, Args: []string{"x", "regex:default", "a", "", "b"}}},
		{text: "timeout -3 tail x y", want: Command{Timeout: -3, Verb: "tail",
			Tokens: []string{"tail", "x", "y"}, Args: []string{"x", "y"}}},
		{text: "timeout 86400 cat x y", want: Command{Timeout: 86400, Verb: "cat",
			Tokens: []string{"cat", "x", "y"}, Args: []string{"x", "y"}}},
		{text: "timeout 86401 cat x y", err: "timeout value 86401 exceeds maximum of 86400 seconds"},
		{text: "timeout x cat a b", err: `invalid timeout value "x": strconv.Atoi: parsing "x": invalid syntax`},
		{text: "timeout 5", want: Command{Verb: "timeout", Tokens: []string{"timeout", "5"}, Args: []string{"5"}}},
		{text: "grep:max=3:quiet=true f r", want: Command{Verb: "grep", HasOptions: true, RawOptions: "max=3:quiet=true",
			Options: Options{Max: 3, Quiet: true}, Tokens: []string{"grep:max=3:quiet=true", "f", "r"}, Args: []string{"f", "r"}}},
		{text: "session START abc", want: Command{Verb: "SESSION", Tokens: []string{"session", "START", "abc"}, Args: []string{"START", "abc"}}},
		{text: ".ack close connection", want: Command{Verb: ".ack", Tokens: []string{".ack", "close", "connection"}, Args: []string{"close", "connection"}}},
		// Option error texts observed from a reference dserver.
		{text: "grep:before=x f r", err: `strconv.Atoi: parsing "x": invalid syntax`},
		{text: "cat:quiet f r", err: `Unable to parse options: [quiet]`},
		{text: "cat:quiet=true: f r", err: `Unable to parse options: []`},
		{text: "cat:a=base64%!! f r", err: `illegal base64 data at input byte 0`},
	}
	for _, tc := range tests {
		got, err := ParseCommand(tc.text)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if gotErr != tc.err {
			t.Errorf("ParseCommand(%q) err = %q, want %q", tc.text, gotErr, tc.err)
			continue
		}
		if tc.err == "" && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseCommand(%q)\n got %+v\nwant %+v", tc.text, got, tc.want)
		}
	}
	// Bad options still leave the verb usable for error reporting.
	if c, err := ParseCommand("foo:zz bar"); err == nil || c.Verb != "foo" || len(c.Tokens) != 2 {
		t.Errorf("bad options: %+v, %v", c, err)
	}
}

func TestParseCommandFields(t *testing.T) {
	c, err := ParseCommandFields("grep: /x regex:default a  b")
	if err != nil {
		t.Fatal(err)
	}
	if txt, _ := c.RegexText(); txt != "regex:default a b" {
		t.Errorf("RegexText = %q", txt)
	}
	c, _ = ParseCommandFields("cat: x regex:noop ")
	if re, err := c.ReadRegex(); err != nil || re.Flag != RegexNoop {
		t.Errorf("ReadRegex = %+v, %v", re, err)
	}
}

func TestCommand_ReadArgs(t *testing.T) {
	c, _ := ParseCommand("cat: x")
	if _, err := c.Glob(); err == nil || err.Error() != "Unable to parse command|[cat: x]|2" {
		t.Errorf("Glob err = %v", err)
	}
	if _, err := c.ReadRegex(); err == nil {
		t.Error("ReadRegex: want error")
	}
	c, _ = ParseCommand("cat: x regex:default,literal")
	if txt, err := c.RegexText(); txt != "" || err != nil {
		t.Errorf("RegexText = %q, %v", txt, err)
	}
	if re, err := c.ReadRegex(); re != (Regex{Flag: RegexNoop}) || err != nil {
		t.Errorf("three tokens must match all, got %+v, %v", re, err)
	}
	c, _ = ParseCommand("cat: x regex:bogus y")
	if _, err := c.ReadRegex(); err == nil {
		t.Error("unknown flag accepted")
	}
	c, _ = ParseCommand("timeout 2 cat x y z")
	if d := c.TimeoutDuration(); d.Seconds() != 2 {
		t.Errorf("TimeoutDuration = %v", d)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		opts    Options
		encoded string
	}{
		{Options{}, ""},
		{Options{Plain: true, Quiet: true, Before: 1, Max: 3}, "before=1:max=3:plain=true:quiet=true"},
		{Options{Serverless: true, After: -2}, "after=-2:serverless=true"},
		{Options{Extra: map[string]string{"z": "a:b", "k": "v", "p": "x|y", "q": "a=b", "b": "base64%x"}},
			"b=base64%YmFzZTY0JXg=:k=v:p=base64%eHx5:q=base64%YT1i:z=base64%YTpi"},
	}
	for _, tc := range tests {
		if got := tc.opts.Encode(); got != tc.encoded {
			t.Errorf("Encode(%+v) = %q, want %q", tc.opts, got, tc.encoded)
		}
		got, err := DecodeOptions(tc.encoded)
		if err != nil || !reflect.DeepEqual(got, tc.opts) {
			t.Errorf("DecodeOptions(%q) = %+v, %v", tc.encoded, got, err)
		}
	}
	// Extra entries cannot override the typed fields.
	if got := (Options{Extra: map[string]string{"quiet": "true", "max": "9"}}).Encode(); got != "" {
		t.Errorf("shadowed extras encoded as %q", got)
	}
	for _, bad := range []string{"quiet", "a=base64%!!", "max=1.5", "before=", "plain=true::quiet=true", ":"} {
		if _, err := DecodeOptions(bad); err == nil {
			t.Errorf("DecodeOptions(%q) accepted", bad)
		}
	}
	// Accepted by the reference server: non-"true" booleans are false, '='
	// inside a value, an empty key, base64% on a typed key.
	o, err := DecodeOptions("plain=yes:quiet=true:a=b=c:=x:before=base64%MQ==")
	want := Options{Quiet: true, Before: 1, Extra: map[string]string{"a": "b=c", "": "x"}}
	if err != nil || !reflect.DeepEqual(o, want) {
		t.Errorf("lenient decode = %+v, %v", o, err)
	}
}

func TestRegex(t *testing.T) {
	tests := []struct {
		pattern string
		invert  bool
		want    string
	}{
		{"", false, "regex:noop "},
		{".", true, "regex:noop "},
		{".*", false, "regex:noop "},
		{"ERROR", false, "regex:default,literal ERROR"},
		{`\|MAPREDUCE:STATS\|`, false, `regex:default \|MAPREDUCE:STATS\|`},
		{"1002-071947", true, "regex:invert,literal 1002-071947"},
		{"b2|a1", false, "regex:default b2|a1"},
		{"two words", false, "regex:default,literal two words"},
		{"a{2}", false, "regex:default a{2}"},
	}
	for _, tc := range tests {
		got := SerializeRegex(tc.pattern, tc.invert)
		if got != tc.want {
			t.Errorf("SerializeRegex(%q, %v) = %q, want %q", tc.pattern, tc.invert, got, tc.want)
		}
		r, err := ParseRegex(got)
		if err != nil || r.String() != got {
			t.Errorf("ParseRegex(%q) = %+v, %v", got, r, err)
		}
	}
	errTests := []struct{ in, err string }{
		{"ERROR x", `unable to deserialize regex 'ERROR x': should start with string 'regex'`},
		{"REGEX:default x", `unable to deserialize regex 'REGEX:default x': should start with string 'regex'`},
		{"", `unable to deserialize regex '': should start with string 'regex'`},
		{"regex: x", `unknown regex flag "": unknown regex flag '', setting to 'undefined'`},
		{"regex:default, x", `unknown regex flag "": unknown regex flag '', setting to 'undefined'`},
		{"regex:default,fast x", `unknown regex flag "fast": unknown regex flag 'fast', setting to 'undefined'`},
		{"regex:bogus x", `unknown regex flag "bogus": unknown regex flag 'bogus', setting to 'undefined'`},
		{"regex:default:x y", `unknown regex flag "default:x": unknown regex flag 'default:x', setting to 'undefined'`},
		{"regex:DEFAULT x", `unknown regex flag "DEFAULT": unknown regex flag 'DEFAULT', setting to 'undefined'`},
	}
	for _, tc := range errTests {
		if r, err := ParseRegex(tc.in); err == nil || err.Error() != tc.err {
			t.Errorf("ParseRegex(%q) = %+v, %v; want error %q", tc.in, r, err, tc.err)
		}
	}
	// Lenient forms the reference server accepts (observed by what it sent back).
	lenient := []struct {
		in   string
		want Regex
	}{
		{"regex h", Regex{Flag: RegexDefault, Pattern: "h"}},
		{"regexp:default x", Regex{Flag: RegexDefault, Pattern: "x"}},
		{"regex:literal h", Regex{Flag: RegexDefault, Literal: true, Pattern: "h"}},
		{"regex:literal,invert h", Regex{Flag: RegexInvert, Literal: true, Pattern: "h"}},
		{"regex:invert,noop h", Regex{Flag: RegexInvert, Pattern: "h"}},
		{"regex:noop,invert h", Regex{Flag: RegexNoop, Pattern: "h"}},
		{"regex:default,default,literal h.llo", Regex{Flag: RegexDefault, Literal: true, Pattern: "h.llo"}},
		{"regex:noop,literal x", Regex{Flag: RegexNoop, Literal: true, Pattern: "x"}},
		{"regex:default", Regex{Flag: RegexDefault}},
	}
	for _, tc := range lenient {
		if r, err := ParseRegex(tc.in); err != nil || r != tc.want {
			t.Errorf("ParseRegex(%q) = %+v, %v; want %+v", tc.in, r, err, tc.want)
		}
	}
}

func TestSourceID(t *testing.T) {
	tests := []struct{ glob, path, want string }{
		{"/var/log/*/app.log", "/var/log/web1/app.log", "web1"},
		{"/var/log/*.log", "/var/log/dserver.log", "dserver.log"},
		{"dcat1b.txt", "dcat1b.txt", "dcat1b.txt"},
		{"/tmp/nonl.txt", "/tmp/nonl.txt", "nonl.txt"},
		{"/srv/*/logs/*.log", "/srv/a/logs/b.log", "a/b.log"},
		{"/var//log/./*/x", "/var/log/h/x", "h"},
		{"/var/log/?.log", "/var/log/a.log", "a.log"},
		{"journal:nginx", "journal:nginx", "journal:nginx"},
		{"-", "-", "-"},
	}
	for _, tc := range tests {
		if got := SourceID(tc.glob, tc.path); got != tc.want {
			t.Errorf("SourceID(%q, %q) = %q, want %q", tc.glob, tc.path, got, tc.want)
		}
	}
}

func TestTableRegex(t *testing.T) {
	for table, want := range map[string]string{
		"STATS": `\|MAPREDUCE:STATS\|`, "stats": `\|MAPREDUCE:STATS\|`,
		"": ".", ".": ".", "*": `\|MAPREDUCE:\|`,
	} {
		if got := TableRegex(table); got != want {
			t.Errorf("TableRegex(%q) = %q, want %q", table, got, want)
		}
	}
	if got := SerializeRegex(TableRegex(""), false); got != NoopRegex {
		t.Errorf("no table serializes as %q", got)
	}
}

func TestAppendServerMessage_Plain(t *testing.T) {
	for text, want := range map[string]string{"": "", "\n": "", "OK": "OK\xAC", "x\n": "x\n\xAC"} {
		if got := AppendServerMessage(nil, "h", text, true); string(got) != want {
			t.Errorf("plain %q = %q, want %q", text, got, want)
		}
	}
	// The filtered-log-level quirk: non-plain still sends the header.
	if got := AppendServerMessage(nil, "h", "", false); string(got) != "SERVER|h|\xAC" {
		t.Errorf("got %q", got)
	}
}

func TestAppendRemoteLine_NoAlloc(t *testing.T) {
	buf := make([]byte, 0, 256)
	content := []byte("some content\n")
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendRemoteLine(buf[:0], "host", 123456789, "id", content)
	})
	if allocs != 0 {
		t.Errorf("AppendRemoteLine allocates %v times", allocs)
	}
	if string(buf) != "REMOTE|host|100|123456789|id|some content\n\xAC" {
		t.Errorf("got %q", buf)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		msg  string
		want MessageKind
	}{
		{"", KindDisplay},
		{".anything", KindHidden},
		{".syn x|AUTHKEY OK", KindHidden},
		{"SERVER|h|AUTHKEY OK\n", KindAuthKeyOK},
		{"AUTHKEY OK", KindAuthKeyOK},
		{"  AUTHKEY OK  ", KindAuthKeyOK},
		{"SERVER|h|AUTHKEY ERR feature disabled\n", KindAuthKeyErr},
		{"AGGREGATE|h|AUTHKEY ERR", KindAuthKeyErr},
		{"AGGREGATE|h|g∥1∥", KindAggregate},
		{"AGGREGATEx", KindDisplay},
		{"SERVER|h|AUTHKEY OKAY", KindDisplay},
		{"REMOTE|h|100|1|f|x\n", KindDisplay},
	}
	for _, tc := range tests {
		if got := Classify([]byte(tc.msg)); got != tc.want {
			t.Errorf("Classify(%q) = %v, want %v", tc.msg, got, tc.want)
		}
	}
}

func TestParseCapabilities(t *testing.T) {
	tests := []struct {
		msg  string
		caps []string
		ok   bool
	}{
		{".syn capabilities query-update-v1", []string{"query-update-v1"}, true},
		{".syn capabilities", nil, true},
		{".syn capabilitiesX", nil, false},
		{".syn close connection", nil, false},
	}
	for _, tc := range tests {
		caps, ok := ParseCapabilities([]byte(tc.msg))
		if ok != tc.ok || !slices.Equal(caps, tc.caps) {
			t.Errorf("ParseCapabilities(%q) = %q, %v", tc.msg, caps, ok)
		}
	}
	if got := CapabilitiesMessage(CapQueryUpdateV1); got != ".syn capabilities query-update-v1" {
		t.Errorf("CapabilitiesMessage = %q", got)
	}
}

func TestMessageReader(t *testing.T) {
	tests := []struct {
		in   string
		msgs []string
		err  error
	}{
		{"", nil, io.EOF},
		{"a\xAC", []string{"a"}, io.EOF},
		{"a\nb\xAC\xACtail", []string{"a\nb", "", "tail"}, io.EOF},
		{"abcdef\xAC", nil, ErrMessageTooLarge},
	}
	for _, tc := range tests {
		mr := NewMessageReader(iotest.HalfReader(strings.NewReader(tc.in)), 5)
		var got []string
		var err error
		for {
			var m []byte
			if m, err = mr.Next(); err != nil {
				break
			}
			got = append(got, string(m))
		}
		if !slices.Equal(got, tc.msgs) || err != tc.err {
			t.Errorf("%q: got %q, %v; want %q, %v", tc.in, got, err, tc.msgs, tc.err)
		}
	}
}

func TestSessionSpec_JSON(t *testing.T) {
	tests := []struct {
		spec SessionSpec
		js   string
	}{
		{SessionSpec{Mode: ModeCat}, `{"mode":3,"files":null}`},
		{SessionSpec{Mode: ModeCat, Files: []string{}}, `{"mode":3,"files":null}`},
		{SessionSpec{Mode: ModeMap, Files: []string{"a", "b"}, Options: "quiet=true", Query: "from X select count($line)",
			Regex: `\|MAPREDUCE:X\|`, RegexInvert: true, Timeout: 7},
			`{"mode":5,"files":["a","b"],"options":"quiet=true","query":"from X select count($line)","regex":"\\|MAPREDUCE:X\\|","regex_invert":true,"timeout":7}`},
	}
	for _, tc := range tests {
		b64 := base64.StdEncoding.EncodeToString([]byte(tc.js))
		if got := SessionStartCommand(tc.spec); got != "SESSION START "+b64 {
			t.Errorf("SessionStartCommand(%+v) = %q, want JSON %s", tc.spec, got, tc.js)
		}
		if got := SessionUpdateCommand(3, tc.spec); got != "SESSION UPDATE 3 "+b64 {
			t.Errorf("SessionUpdateCommand = %q", got)
		}
		if got := SessionUpdateCommand(0, tc.spec); got != "SESSION UPDATE "+b64 {
			t.Errorf("SessionUpdateCommand(0) = %q", got)
		}
	}
}

func TestParseSessionCommand(t *testing.T) {
	enc := func(js string) string { return base64.StdEncoding.EncodeToString([]byte(js)) }
	good := enc(`{"mode":2,"files":["/x"],"query":"from A select count($line)"}`)
	tests := []struct {
		line string
		gen  uint64
		err  string
	}{
		{"SESSION START " + good, 0, ""},
		{"session start " + good, 0, ""},
		{"SESSION UPDATE " + good, 0, ""},
		{"SESSION UPDATE 7 " + good, 7, ""},
		{"SESSION START", 0, "invalid SESSION command"},
		{"SESSION", 0, "invalid SESSION command"},
		{"SESSION STOP " + good, 0, "unknown action"},
		{"SESSION UPDATE x " + good, 0, "invalid session generation"},
		{"SESSION UPDATE 0 " + good, 0, ""},
		{"SESSION Start " + good, 0, ""},
		{"SESSION START " + good + " extra", 0, ""},
		{"SESSION UPDATE 3 " + good + " extra", 3, ""},
		{"SESSION UPDATE !!", 0, "invalid session payload"},
		{"SESSION UPDATE -1 " + good, 0, "invalid session generation"},
		{"SESSION START !!", 0, "invalid session payload"},
		{"SESSION START " + enc("{"), 0, "invalid session spec"},
		{"SESSION START " + enc(`{"mode":"x"}`), 0, "invalid session spec"},
		{"SESSION START " + enc(`{}`), 0, "unsupported session mode"},
		{"SESSION START " + enc(`{"mode":1,"files":null}`), 0, "unsupported session mode"},
		{"SESSION START " + enc(`{"mode":7,"files":null}`), 0, "unsupported session mode"},
		{"SESSION UPDATE " + enc(`{"mode":7,"files":null}`), 0, "unsupported session mode"},
		{"SESSION START " + enc(`{"mode":3,"files":null,"query":"q"}`), 0, "query sessions require map or tail mode"},
		{"SESSION START " + enc(`{"mode":5,"files":null}`), 0, "missing session query"},
		{"SESSION START {}", 0, "invalid session payload"},
		{"SESSION START " + enc(`{"mode":4,"files":null,"options":"quiet"}`), 0, "invalid session spec"},
		{"SESSION START " + enc(`{"mode":6,"files":null}`), 0, ""},
	}
	for _, tc := range tests {
		c, _ := ParseCommand(tc.line)
		req, err := ParseSessionCommand(c.Tokens)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
			var se *SessionError
			if !errors.As(err, &se) {
				t.Errorf("%q: error %T is not *SessionError", tc.line, err)
			}
		}
		if gotErr != tc.err || req.Generation != tc.gen {
			t.Errorf("%q: got %+v, %q; want gen %d, %q", tc.line, req, gotErr, tc.gen, tc.err)
		}
	}
}

func TestSessionAck(t *testing.T) {
	tests := []struct {
		msg string
		ack SessionAck
		ok  bool
	}{
		{SessionStartOKMessage(1), SessionAck{Kind: SessionAckStart, Generation: 1}, true},
		{SessionUpdateOKMessage(42), SessionAck{Kind: SessionAckUpdate, Generation: 42}, true},
		{SessionErrMessage(SessionErrNotStarted), SessionAck{Kind: SessionAckErr, Reason: "session not started"}, true},
		{".syn session start ok x", SessionAck{}, false},
		{".syn close connection", SessionAck{}, false},
	}
	for _, tc := range tests {
		ack, ok := ParseSessionAck([]byte(tc.msg))
		if ack != tc.ack || ok != tc.ok {
			t.Errorf("ParseSessionAck(%q) = %+v, %v", tc.msg, ack, ok)
		}
	}
	if SessionErrMessage("x") != ".syn session err x" || SessionUpdateOKMessage(2) != ".syn session update ok 2" {
		t.Error("ack texts changed")
	}
}

func TestSplitFiles(t *testing.T) {
	if got := SplitFiles(" a ,, b,"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("SplitFiles = %q", got)
	}
	if got := SplitFiles(""); got != nil {
		t.Errorf("SplitFiles(\"\") = %q", got)
	}
}

func TestAppendFrame_Batches(t *testing.T) {
	var b []byte
	b = AppendFrame(b, "a")
	b = AppendFrame(b, "b")
	got, err := readFrames(NewFrameReader(bytes.NewReader(b), 0))
	if err != io.EOF || len(got) != 2 {
		t.Fatalf("frames = %q, %v", got, err)
	}
	for i, want := range []string{"a", "b"} {
		if cmd, err := DecodeFrame([]byte(got[i])); cmd != want || err != nil {
			t.Errorf("frame %d = %q, %v", i, cmd, err)
		}
	}
}
