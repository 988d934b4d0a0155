package protocol_test

import (
	"fmt"
	"strings"

	"github.com/dtail-go/dtail/internal/protocol"
)

// A dgrep-like client builds its commands, the server decodes a frame and
// answers with a REMOTE line, and the client splits the answer again.
func Example() {
	opts := protocol.Options{Plain: true, Quiet: true, Before: 1, Max: 3}
	spec := protocol.SessionSpec{
		Mode:    protocol.ModeGrep,
		Files:   protocol.SplitFiles("/tmp/nonl.txt"),
		Options: opts.Encode(),
		Regex:   "b2|a1",
	}
	cmds, _ := spec.Commands()
	frame := protocol.EncodeFrame(cmds[0])
	fmt.Println(cmds[0])

	// Server side.
	fr := protocol.NewFrameReader(strings.NewReader(string(frame)), 0)
	raw, _ := fr.Next()
	text, _ := protocol.DecodeFrame(raw)
	cmd, _ := protocol.ParseCommand(text)
	glob, _ := cmd.Glob()
	re, _ := cmd.ReadRegex()
	fmt.Printf("verb=%s before=%d max=%d glob=%s flag=%s pattern=%q\n",
		cmd.Verb, cmd.Options.Before, cmd.Options.Max, glob, re.Flag, re.Pattern)
	out := protocol.AppendRemoteLine(nil, "integrationtest", 2, protocol.SourceID(glob, "/tmp/nonl.txt"), []byte("b2\n"))
	out = protocol.AppendMessage(out, []byte(protocol.SynCloseConnection))

	// Client side.
	mr := protocol.NewMessageReader(strings.NewReader(string(out)), 0)
	for {
		msg, err := mr.Next()
		if err != nil {
			break
		}
		fmt.Printf("%v %q\n", protocol.Classify(msg), msg)
	}
	// Output:
	// grep:before=1:max=3:plain=true:quiet=true /tmp/nonl.txt regex:default b2|a1
	// verb=grep before=1 max=3 glob=/tmp/nonl.txt flag=default pattern="b2|a1"
	// display "REMOTE|integrationtest|100|2|nonl.txt|b2\n"
	// hidden ".syn close connection"
}
