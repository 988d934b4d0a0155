package protocol

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// fuzzMax keeps fuzzed limits small so that over-long tokens are common.
const fuzzMax = 64

func FuzzFrameReader(f *testing.F) {
	f.Add([]byte("protocol 4.1 base64 Y2F0OiBkY2F0MWIudHh0IHJlZ2V4Om5vb3Ag;"), uint8(0))
	f.Add([]byte(AckCloseConnectionFrame+"protocol 3 base64 Zm9v;hello;"), uint8(5))
	f.Add([]byte(";;;partial"), uint8(1))
	f.Add(bytes.Repeat([]byte("A"), 200), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, max uint8) {
		limit := int(max)%fuzzMax + 1
		fr := NewFrameReader(iotest.HalfReader(bytes.NewReader(data)), limit)
		var frames [][]byte
		var err error
		for {
			var fr1 []byte
			if fr1, err = fr.Next(); err != nil {
				break
			}
			if len(fr1) > limit || bytes.IndexByte(fr1, FrameTerminator) >= 0 {
				t.Fatalf("bad frame %q (limit %d)", fr1, limit)
			}
			frames = append(frames, bytes.Clone(fr1))
			_, _ = DecodeFrame(fr1)
		}
		if len(fr.s.buf) > limit+1 {
			t.Fatalf("buffer %d > limit %d + 1", len(fr.s.buf), limit)
		}
		// Whatever was delivered must agree with a naive split.
		parts := bytes.Split(data, []byte{FrameTerminator})
		for i, got := range frames {
			if !bytes.Equal(got, parts[i]) {
				t.Fatalf("frame %d = %q, naive %q", i, got, parts[i])
			}
		}
		switch {
		case errors.Is(err, ErrFrameTooLarge):
			if len(parts[len(frames)]) <= limit {
				t.Fatalf("too large reported for %q", parts[len(frames)])
			}
		case err == io.EOF:
			if len(frames) != len(parts)-1 || len(parts[len(parts)-1]) != 0 {
				t.Fatalf("EOF with unread data")
			}
		case err == io.ErrUnexpectedEOF:
			if len(frames) != len(parts)-1 || len(parts[len(parts)-1]) == 0 {
				t.Fatalf("unexpected EOF without partial frame")
			}
		default:
			t.Fatalf("error %v", err)
		}
	})
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add("protocol 4.1 base64 Y2F0OiBkY2F0MWIudHh0IHJlZ2V4Om5vb3Ag")
	f.Add("protocol 3 base64 Zm9v")
	f.Add("hello")
	f.Add("protocol 4.1 base64 !!")
	f.Add("cat: x regex:noop ")
	f.Fuzz(func(t *testing.T, s string) {
		cmd, err := DecodeFrame([]byte(s))
		if err == nil {
			return
		}
		var vm *VersionMismatchError
		if !errors.As(err, &vm) && err != ErrUnknownProtocolVersion && err != ErrUndecodableMessage {
			t.Fatalf("unexpected error %T %v", err, err)
		}
		// Any command survives an encode/decode cycle.
		frame := EncodeFrame(s)
		got, err := DecodeFrame(frame[:len(frame)-1])
		if err != nil || got != s {
			t.Fatalf("round trip of %q = %q, %v (first decode %q)", s, got, err, cmd)
		}
	})
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"cat: dcat1b.txt regex:noop ",
		"grep:before=1:max=3:plain=true:quiet=true /tmp/nonl.txt regex:default b2|a1",
		`timeout 5 cat /tmp/a regex:default \|MAPREDUCE:STATS\|`,
		"timeout 99999 cat a b", "timeout x y z", "map: from STATS select count($line)",
		"foo: bar", "AUTHKEY AAAA", "session START e30=", "", " ", "cat:a=base64%!! x y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (Command, error){ParseCommand, ParseCommandFields} {
			c, err := parse(s)
			if err != nil {
				continue
			}
			if len(c.Tokens) > 0 && !reflect.DeepEqual(c.Args, c.Tokens[1:]) {
				t.Fatalf("Args %q vs Tokens %q", c.Args, c.Tokens)
			}
			if c.Timeout > MaxTimeoutSeconds {
				t.Fatalf("timeout %d accepted", c.Timeout)
			}
			_, _ = c.Glob()
			_, _ = c.ReadRegex()
			_ = c.Query()
			_ = UnknownCommandText(c)
			if c.Verb == VerbSession {
				_, _ = ParseSessionCommand(c.Tokens)
			}
		}
	})
}

func FuzzOptions(f *testing.F) {
	f.Add("before=1:max=3:plain=true:quiet=true", "k", "v", true, 3)
	f.Add("z=base64%YTpi", "x", "a:b=c|d", false, -1)
	f.Add("::=:", "base64%", "base64%", false, 0)
	f.Add("quiet", "", "", true, 1<<40)
	f.Fuzz(func(t *testing.T, encoded, key, value string, flag bool, n int) {
		_, _ = DecodeOptions(encoded)

		o := Options{Quiet: flag, Plain: !flag, Serverless: flag, Before: n, After: -n, Max: n / 2}
		if key != "" && !strings.ContainsAny(key, ":=") {
			o.Extra = map[string]string{key: value}
			switch key {
			case OptQuiet, OptPlain, OptServerless, OptBefore, OptAfter, OptMax:
				o.Extra = nil // shadowed by the typed field
			}
		}
		enc := o.Encode()
		got, err := DecodeOptions(enc)
		if err != nil || !reflect.DeepEqual(got, o) {
			t.Fatalf("round trip %+v -> %q -> %+v, %v", o, enc, got, err)
		}
		if enc2 := got.Encode(); enc2 != enc {
			t.Fatalf("re-encode %q != %q", enc2, enc)
		}
	})
}

func FuzzParseRegex(f *testing.F) {
	for _, s := range []string{"regex:noop ", "regex:default,literal ERROR", `regex:default \|MAPREDUCE:STATS\|`,
		"regex:invert,literal 1002-071947", "regex:default b2|a1", "regex:", "regex:default,", "noop"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, invert bool) {
		if r, err := ParseRegex(s); err == nil {
			r2, err := ParseRegex(r.String())
			if err != nil || r2 != r {
				t.Fatalf("%q: %+v re-parsed as %+v, %v", s, r, r2, err)
			}
		}
		ser := SerializeRegex(s, invert)
		r, err := ParseRegex(ser)
		if err != nil {
			t.Fatalf("SerializeRegex(%q) = %q unparsable: %v", s, ser, err)
		}
		if r.Flag != RegexNoop && r.Pattern != s {
			t.Fatalf("pattern %q came back as %q", s, r.Pattern)
		}
		if r.Literal && strings.ContainsAny(r.Pattern, regexMeta) {
			t.Fatalf("literal hint on %q", r.Pattern)
		}
	})
}

func FuzzMessageReader(f *testing.F) {
	f.Add([]byte(".syn capabilities query-update-v1 journal-v1\xAC.output wake\n\xACa1\n\xACno-nl"), uint8(10))
	f.Add([]byte("REMOTE|h|100|1|f|price 5€ ok\n\xAC"), uint8(2))
	f.Add([]byte("\xAC\xAC\xAC"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, max uint8) {
		limit := int(max)%fuzzMax + 1
		mr := NewMessageReader(iotest.OneByteReader(bytes.NewReader(data)), limit)
		parts := bytes.Split(data, []byte{MessageDelimiter})
		if len(parts[len(parts)-1]) == 0 {
			parts = parts[:len(parts)-1]
		}
		for i := 0; ; i++ {
			m, err := mr.Next()
			if err == io.EOF {
				if i != len(parts) {
					t.Fatalf("EOF after %d of %d messages", i, len(parts))
				}
				break
			}
			if err == ErrMessageTooLarge {
				if len(parts[i]) <= limit {
					t.Fatalf("too large for %d-byte message", len(parts[i]))
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m, parts[i]) {
				t.Fatalf("message %d = %q, naive %q", i, m, parts[i])
			}
			_ = Classify(m)
			_, _ = ParseCapabilities(m)
			_, _ = ParseSessionAck(m)
			_, _ = ParseRemoteLine(m)
			_, _ = AuthKeyErrDetail(m)
		}
		if len(mr.s.buf) > limit+1 {
			t.Fatalf("buffer %d > limit %d + 1", len(mr.s.buf), limit)
		}
	})
}

func FuzzSessionSpec(f *testing.F) {
	f.Add("START", "", `{"mode":4,"files":["/tmp/nonl.txt"],"regex":"b2"}`, 4, "/tmp/x", "quiet=true", "", "b2", false, 0)
	f.Add("UPDATE", "2", `{"mode":5,"files":null,"query":"from A select count($line)"}`, 5, "a,b", "", "from A select x", `\|MAPREDUCE:A\|`, true, 5)
	f.Add("update", "x", `{`, 2, "", "plain=true", "q", ".", false, -1)
	f.Fuzz(func(t *testing.T, action, gen, js string, mode int, files, opts, query, regex string, invert bool, timeout int) {
		// Arbitrary SESSION lines never panic.
		line := "SESSION " + action + " " + gen + " " + js
		if c, err := ParseCommand(line); err == nil {
			_, _ = ParseSessionCommand(c.Tokens)
		}
		_, _ = ParseSessionCommand([]string{"SESSION", action, base64.StdEncoding.EncodeToString([]byte(js))})

		spec := SessionSpec{Mode: Mode(mode), Files: SplitFiles(files), Options: opts, Query: query,
			Regex: regex, RegexInvert: invert, Timeout: timeout}
		for _, s := range []string{spec.Options, spec.Query, spec.Regex} {
			if !utf8.ValidString(s) {
				return // JSON replaces invalid UTF-8, so no exact round trip
			}
		}
		for _, f := range spec.Files {
			if !utf8.ValidString(f) {
				return
			}
		}
		cmdLine := SessionUpdateCommand(7, spec)
		c, err := ParseCommand(cmdLine)
		if err != nil {
			t.Fatalf("ParseCommand(%q): %v", cmdLine, err)
		}
		req, err := ParseSessionCommand(c.Tokens)
		if verr := spec.Validate(); (verr == nil) != (err == nil) {
			t.Fatalf("Validate %v vs ParseSessionCommand %v", verr, err)
		}
		if err != nil {
			return
		}
		if req.Generation != 7 || !reflect.DeepEqual(req.Spec, spec) {
			t.Fatalf("round trip %+v -> %+v", spec, req.Spec)
		}
		cmds, err := req.Spec.Commands()
		if err != nil {
			t.Fatal(err)
		}
		for _, cmd := range cmds {
			_, _ = ParseCommandFields(cmd)
		}
	})
}
