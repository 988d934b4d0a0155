package protocol

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// host is the short hostname of a server in integration-test mode, as in
// every capture of spec §3.12.
const host = "integrationtest"

// splitAll reads every message of a captured server stream.
func splitAll(t *testing.T, stream []byte) []string {
	t.Helper()
	mr := NewMessageReader(iotest.OneByteReader(bytes.NewReader(stream)), 0)
	var msgs []string
	for {
		m, err := mr.Next()
		if err == io.EOF {
			return msgs
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		msgs = append(msgs, string(m))
	}
}

func TestGolden_ClientFrames(t *testing.T) {
	tests := []struct {
		name, command, frame string
	}{
		{"cat non-plain", "cat: dcat1b.txt regex:noop ", "protocol 4.1 base64 Y2F0OiBkY2F0MWIudHh0IHJlZ2V4Om5vb3Ag;"},
		{"ack close", ".ack close connection", "protocol 4.1 base64 LmFjayBjbG9zZSBjb25uZWN0aW9u;"},
		{"map", "map: from STATS select count($line)", "protocol 4.1 base64 bWFwOiBmcm9tIFNUQVRTIHNlbGVjdCBjb3VudCgkbGluZSk=;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(EncodeFrame(tc.command)); got != tc.frame {
				t.Errorf("EncodeFrame = %q, want %q", got, tc.frame)
			}
			got, err := DecodeFrame([]byte(strings.TrimSuffix(tc.frame, ";")))
			if err != nil || got != tc.command {
				t.Errorf("DecodeFrame = %q, %v; want %q", got, err, tc.command)
			}
		})
	}
	if got := string(EncodeFrame(AckCloseConnection)); got != AckCloseConnectionFrame {
		t.Errorf("AckCloseConnectionFrame = %q, encoded %q", AckCloseConnectionFrame, got)
	}
}

func TestGolden_CatNonPlain(t *testing.T) {
	want := ".syn capabilities query-update-v1 journal-v1\xAC" +
		".output wake\n\xAC" +
		"REMOTE|integrationtest|100|1|dcat1b.txt|2 empty lines:\n\xAC" +
		"REMOTE|integrationtest|100|2|dcat1b.txt|\n\xAC" +
		"REMOTE|integrationtest|100|3|dcat1b.txt|\n\xAC" +
		"REMOTE|integrationtest|100|4|dcat1b.txt|line without newline\n\xAC" +
		".syn close connection\xAC"

	cmd, err := ParseCommand("cat: dcat1b.txt regex:noop ")
	if err != nil {
		t.Fatal(err)
	}
	glob, err := cmd.Glob()
	if err != nil {
		t.Fatal(err)
	}
	re, err := cmd.ReadRegex()
	if err != nil || re != (Regex{Flag: RegexNoop}) {
		t.Fatalf("ReadRegex = %+v, %v", re, err)
	}
	if cmd.Verb != VerbCat || !cmd.HasOptions || cmd.RawOptions != "" {
		t.Fatalf("command = %+v", cmd)
	}

	var out []byte
	out = AppendMessage(out, []byte(CapabilitiesMessage(CapQueryUpdateV1, CapJournalV1)))
	out = AppendMessage(out, []byte(OutputWake))
	id := SourceID(glob, glob)
	for i, line := range []string{"2 empty lines:\n", "\n", "\n", "line without newline\n"} {
		out = AppendRemoteLine(out, host, uint64(i+1), id, []byte(line))
	}
	out = AppendMessage(out, []byte(SynCloseConnection))
	if string(out) != want {
		t.Fatalf("stream\n got %q\nwant %q", out, want)
	}

	msgs := splitAll(t, out)
	kinds := make([]MessageKind, len(msgs))
	for i, m := range msgs {
		kinds[i] = Classify([]byte(m))
	}
	wantKinds := []MessageKind{KindHidden, KindHidden, KindDisplay, KindDisplay, KindDisplay, KindDisplay, KindHidden}
	if !slices.Equal(kinds, wantKinds) {
		t.Errorf("kinds = %v, want %v", kinds, wantKinds)
	}
	caps, ok := ParseCapabilities([]byte(msgs[0]))
	if !ok || !slices.Equal(caps, []string{CapQueryUpdateV1, CapJournalV1}) {
		t.Errorf("ParseCapabilities = %q, %v", caps, ok)
	}
	if !IsCloseConnection([]byte(msgs[6])) || IsCloseConnection([]byte(msgs[1])) {
		t.Error("IsCloseConnection misclassified")
	}
	rl, ok := ParseRemoteLine([]byte(msgs[2]))
	if !ok || string(rl.Host) != host || string(rl.Percent) != "100" || string(rl.LineNo) != "1" ||
		string(rl.SourceID) != "dcat1b.txt" || string(rl.Content) != "2 empty lines:\n" {
		t.Errorf("ParseRemoteLine = %q, %v", rl, ok)
	}
}

func TestGolden_CatPlain(t *testing.T) {
	want := ".syn capabilities query-update-v1 journal-v1\xAC.output wake\n\xACa1\n\xACb2\n\xACno-nl\xAC.syn close connection\xAC"
	cmd, err := ParseCommand("cat:plain=true /tmp/nonl.txt regex:noop ")
	if err != nil || !cmd.Options.Plain {
		t.Fatalf("ParseCommand = %+v, %v", cmd, err)
	}
	var out []byte
	out = AppendMessage(out, []byte(CapabilitiesMessage(CapQueryUpdateV1, CapJournalV1)))
	out = AppendMessage(out, []byte(OutputWake))
	for _, line := range []string{"a1\n", "b2\n", "no-nl"} {
		out = AppendMessage(out, []byte(line))
	}
	out = AppendMessage(out, []byte(SynCloseConnection))
	if string(out) != want {
		t.Fatalf("stream\n got %q\nwant %q", out, want)
	}
	want2 := []string{".syn capabilities query-update-v1 journal-v1", ".output wake\n", "a1\n", "b2\n", "no-nl", ".syn close connection"}
	if got := splitAll(t, out); !slices.Equal(got, want2) {
		t.Errorf("messages = %q", got)
	}
}

func TestGolden_GrepContext(t *testing.T) {
	cmd, err := ParseCommand("grep:before=1 /tmp/nonl.txt regex:default,literal b2")
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Verb != VerbGrep || cmd.Options.Before != 1 || !cmd.IsRead() {
		t.Fatalf("command = %+v", cmd)
	}
	re, err := cmd.ReadRegex()
	if err != nil || re != (Regex{Flag: RegexDefault, Literal: true, Pattern: "b2"}) {
		t.Fatalf("ReadRegex = %+v, %v", re, err)
	}
	glob, _ := cmd.Glob()
	id := SourceID(glob, "/tmp/nonl.txt")
	var out []byte
	out = AppendRemoteLine(out, host, 1, id, []byte("a1\n"))
	out = AppendRemoteLine(out, host, 2, id, []byte("b2\n"))
	out = AppendMessage(out, []byte(SynCloseConnection))
	want := "REMOTE|integrationtest|100|1|nonl.txt|a1\n\xACREMOTE|integrationtest|100|2|nonl.txt|b2\n\xAC.syn close connection\xAC"
	if string(out) != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
}

func TestGolden_Map(t *testing.T) {
	mapCmd, err := ParseCommand("map: from STATS select count($line),avg($goroutines),last($time),min(lifetimeConnections),len($time) group by $hostname")
	if err != nil || mapCmd.Verb != VerbMap {
		t.Fatalf("map = %+v, %v", mapCmd, err)
	}
	if q := mapCmd.Query(); q != "from STATS select count($line),avg($goroutines),last($time),min(lifetimeConnections),len($time) group by $hostname" {
		t.Errorf("Query = %q", q)
	}
	read := ReadCommand(VerbCat, "", "mapr_testdata.log", SerializeRegex(TableRegex("stats"), false))
	if read != `cat: mapr_testdata.log regex:default \|MAPREDUCE:STATS\|` {
		t.Errorf("read command = %q", read)
	}
	cmd, err := ParseCommand(read)
	if err != nil {
		t.Fatal(err)
	}
	re, err := cmd.ReadRegex()
	if err != nil || re != (Regex{Flag: RegexDefault, Pattern: `\|MAPREDUCE:STATS\|`}) {
		t.Errorf("ReadRegex = %+v, %v", re, err)
	}
	stream := ".syn capabilities query-update-v1 journal-v1\xAC.output wake\n\xAC" +
		"AGGREGATE|integrationtest|integrationtest∥597∥avg($goroutines)≔6942∥min(lifetimeConnections)≔1∥len($time)≔11∥count($line)≔597∥last($time)≔1002-071949∥len($time)≔1002-071949∥\xAC" +
		".syn close connection\xAC"
	msgs := splitAll(t, []byte(stream))
	if len(msgs) != 4 || Classify([]byte(msgs[2])) != KindAggregate {
		t.Fatalf("messages = %q", msgs)
	}
}

func TestGolden_Health(t *testing.T) {
	cmd, err := ParseCommand("health")
	if err != nil || cmd.Verb != VerbHealth || len(cmd.Args) != 0 {
		t.Fatalf("health = %+v, %v", cmd, err)
	}
	var out []byte
	out = AppendServerMessage(out, host, "OK", false)
	out = AppendMessage(out, []byte(SynCloseConnection))
	if string(out) != "SERVER|integrationtest|OK\xAC.syn close connection\xAC" {
		t.Fatalf("got %q", out)
	}
	if got := LastField([]byte("SERVER|integrationtest|OK")); string(got) != "OK" {
		t.Errorf("LastField = %q", got)
	}
}

func TestGolden_AuthKey(t *testing.T) {
	cmd, err := ParseCommand(AuthKeyCommand("AAAAB3NzaC1yc2E"))
	if err != nil || cmd.Verb != VerbAuthKey || !slices.Equal(cmd.Args, []string{"AAAAB3NzaC1yc2E"}) {
		t.Fatalf("AUTHKEY = %+v, %v", cmd, err)
	}
	tests := []struct {
		text, want string
		kind       MessageKind
		detail     string
	}{
		{AuthKeyOK + "\n", "SERVER|integrationtest|AUTHKEY OK\n\xAC", KindAuthKeyOK, ""},
		{AuthKeyErrInvalidBase64 + "\n", "SERVER|integrationtest|AUTHKEY ERR invalid base64\n\xAC", KindAuthKeyErr, "invalid base64"},
	}
	for _, tc := range tests {
		out := AppendServerMessage(nil, host, tc.text, false)
		if string(out) != tc.want {
			t.Errorf("got %q, want %q", out, tc.want)
		}
		msg := out[:len(out)-1]
		if k := Classify(msg); k != tc.kind {
			t.Errorf("Classify(%q) = %v, want %v", msg, k, tc.kind)
		}
		d, ok := AuthKeyErrDetail(msg)
		if d != tc.detail || ok != (tc.kind == KindAuthKeyErr) {
			t.Errorf("AuthKeyErrDetail(%q) = %q, %v", msg, d, ok)
		}
	}
	if c, _ := ParseCommand("authkey x"); c.Verb != VerbAuthKey {
		t.Errorf("authkey verb = %q", c.Verb)
	}
	if c, _ := ParseCommand("AuthKey x"); c.Verb != "AuthKey" {
		t.Errorf("mixed-case verb must stay unknown, got %q", c.Verb)
	}
}

func TestGolden_UnknownVerb(t *testing.T) {
	cmd, err := ParseCommand("foo: bar")
	if err != nil {
		t.Fatal(err)
	}
	text := "ERROR|1124-012313|specuser@127.0.0.1:59976|" + UnknownCommandText(cmd) + "\n"
	out := AppendServerMessage(nil, host, text, false)
	out = AppendMessage(out, []byte(SynCloseConnection))
	want := "SERVER|integrationtest|ERROR|1124-012313|specuser@127.0.0.1:59976|Received unknown user command|foo|2|[foo: bar]\n\xAC.syn close connection\xAC"
	if string(out) != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
}

// Observed from a reference 4.3.2-ng dserver: a "timeout" prefix without a
// command behind it is just an unknown verb.
func TestGolden_TimeoutWithoutCommand(t *testing.T) {
	cmd, err := ParseCommand("timeout 5")
	if err != nil {
		t.Fatal(err)
	}
	if got := UnknownCommandText(cmd); got != "Received unknown user command|timeout|2|[timeout 5]" {
		t.Errorf("got %q", got)
	}
}

func TestGolden_VersionMismatch(t *testing.T) {
	_, err := DecodeFrame([]byte("protocol 3 base64 Zm9v"))
	var vm *VersionMismatchError
	if !errors.As(err, &vm) {
		t.Fatalf("err = %v", err)
	}
	if !vm.LegacyNewline() {
		t.Error("protocol 3 client needs the legacy newline")
	}
	text := "ERROR|1124-012316|specuser@127.0.0.1:59982|" + err.Error() + "\n"
	want := "SERVER|integrationtest|ERROR|1124-012316|specuser@127.0.0.1:59982|the DTail server protocol version '4.1' does not match client protocol version '3', please update DTail client\n\xAC"
	if got := AppendServerMessage(nil, host, text, false); string(got) != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if _, err := DecodeFrame([]byte("hello")); err != ErrUnknownProtocolVersion || err.Error() != "unable to determine protocol version" {
		t.Errorf("hello: %v", err)
	}
}

func TestGolden_SessionStart(t *testing.T) {
	spec := SessionSpec{Mode: ModeGrep, Files: []string{"/tmp/nonl.txt"}, Regex: "b2"}
	const js = `{"mode":4,"files":["/tmp/nonl.txt"],"regex":"b2"}`
	line := SessionStartCommand(spec)
	if want := "SESSION START " + base64.StdEncoding.EncodeToString([]byte(js)); line != want {
		t.Fatalf("got %q, want %q", line, want)
	}
	cmd, err := ParseCommand(line)
	if err != nil || cmd.Verb != VerbSession {
		t.Fatalf("ParseCommand = %+v, %v", cmd, err)
	}
	req, err := ParseSessionCommand(cmd.Tokens)
	if err != nil || req.Action != SessionStart || req.Generation != 0 {
		t.Fatalf("ParseSessionCommand = %+v, %v", req, err)
	}
	cmds, err := req.Spec.Commands()
	if err != nil || !slices.Equal(cmds, []string{"grep: /tmp/nonl.txt regex:default,literal b2"}) {
		t.Fatalf("Commands = %q, %v", cmds, err)
	}
	var out []byte
	out = AppendRemoteLine(out, host, 2, SourceID("/tmp/nonl.txt", "/tmp/nonl.txt"), []byte("b2\n"))
	out = AppendMessage(out, []byte(SessionStartOKMessage(1)))
	out = AppendMessage(out, []byte(OutputWake))
	if want := "REMOTE|integrationtest|100|2|nonl.txt|b2\n\xAC.syn session start ok 1\xAC.output wake\n\xAC"; string(out) != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
	ack, ok := ParseSessionAck([]byte(".syn session start ok 1"))
	if !ok || ack != (SessionAck{Kind: SessionAckStart, Generation: 1}) {
		t.Errorf("ParseSessionAck = %+v, %v", ack, ok)
	}
}

func TestGolden_ReferenceClientSequences(t *testing.T) {
	t.Run("dgrep", func(t *testing.T) {
		opts := Options{Plain: true, Quiet: true, Before: 1, Max: 3}.Encode()
		spec := SessionSpec{Mode: ModeGrep, Files: SplitFiles("/tmp/nonl.txt"), Options: opts, Regex: "b2|a1"}
		cmds, err := spec.Commands()
		want := []string{"grep:before=1:max=3:plain=true:quiet=true /tmp/nonl.txt regex:default b2|a1"}
		if err != nil || !slices.Equal(cmds, want) {
			t.Fatalf("Commands = %q, %v", cmds, err)
		}
	})
	t.Run("dmap timeout", func(t *testing.T) {
		spec := SessionSpec{Mode: ModeMap, Files: SplitFiles("/tmp/a,/tmp/b"),
			Query: "from STATS select count($line)", Regex: TableRegex("STATS"), Timeout: 5}
		cmds, err := spec.Commands()
		want := []string{
			"map: from STATS select count($line)",
			`timeout 5 cat /tmp/a regex:default \|MAPREDUCE:STATS\|`,
			`timeout 5 cat /tmp/b regex:default \|MAPREDUCE:STATS\|`,
		}
		if err != nil || !slices.Equal(cmds, want) {
			t.Fatalf("Commands = %q, %v", cmds, err)
		}
		if got := string(EncodeFrame(cmds[0])); got != "protocol 4.1 base64 bWFwOiBmcm9tIFNUQVRTIHNlbGVjdCBjb3VudCgkbGluZSk=;" {
			t.Errorf("frame = %q", got)
		}
		c, err := ParseCommand(cmds[1])
		if err != nil || c.Timeout != 5 || c.Verb != VerbCat || c.HasOptions {
			t.Errorf("timeout command = %+v, %v", c, err)
		}
	})
	t.Run("dcat", func(t *testing.T) {
		cmds, err := SessionSpec{Mode: ModeCat, Files: SplitFiles(" x , ,y")}.Commands()
		want := []string{"cat: x regex:noop ", "cat: y regex:noop "}
		if err != nil || !slices.Equal(cmds, want) {
			t.Fatalf("Commands = %q, %v", cmds, err)
		}
	})
	t.Run("health", func(t *testing.T) {
		cmds, err := SessionSpec{Mode: ModeHealth}.Commands()
		if err != nil || !slices.Equal(cmds, []string{"health"}) {
			t.Fatalf("Commands = %q, %v", cmds, err)
		}
	})
	t.Run("tail query", func(t *testing.T) {
		spec := SessionSpec{Mode: ModeTail, Files: []string{"/var/log/x.log"}, Options: "quiet=true",
			Query: "from STATS select count($line)", Regex: TableRegex("stats")}
		cmds, err := spec.Commands()
		want := []string{"map:quiet=true from STATS select count($line)", `tail:quiet=true /var/log/x.log regex:default \|MAPREDUCE:STATS\|`}
		if err != nil || !slices.Equal(cmds, want) {
			t.Fatalf("Commands = %q, %v", cmds, err)
		}
	})
}

func TestGolden_EuroSplitsMessage(t *testing.T) {
	out := AppendRemoteLine(nil, host, 1, "f", []byte("price 5€ ok\n"))
	if !bytes.HasSuffix(out, []byte("|price 5\xE2\x82\xAC ok\n\xAC")) {
		t.Fatalf("got %q", out)
	}
	msgs := splitAll(t, out)
	want := []string{"REMOTE|integrationtest|100|1|f|price 5\xE2\x82", " ok\n"}
	if !slices.Equal(msgs, want) {
		t.Fatalf("messages = %q, want %q", msgs, want)
	}
}
