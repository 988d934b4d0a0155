package client

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dtail-go/dtail/internal/color"
	"github.com/dtail-go/dtail/internal/sink"
)

// chainInput is what both adapters are fed: the selected lines of one
// file of host web1, as the reader hands them to a serverless run and
// as a server sends them to a remote one.
var chainInput = []sink.Record{
	{Line: []byte("INFO|20240102-100000|start id=17\n"), No: 1, Offset: 0},
	{Line: []byte("WARN|20240102-100001|slow request took=1200ms\n"), No: 2, Offset: 34},
	{Line: []byte("INFO|20240102-100002|done\n"), No: 3, Offset: 81, Context: true},
	// A gap: grep's `--` goes here in plain output with context.
	{Line: []byte("ERROR|20240102-100007|failed id=99 \"quoted\" \\ tab\t\n"), No: 7, Offset: 200},
	{Line: []byte("  continuation without timestamp\n"), No: 8, Offset: 252, Context: true},
	{Line: []byte("INFO|20240102-100009|last"), No: 9, Offset: 290, Context: true},
}

// serverlessChainOutput feeds chainInput through the serverless adapter
// (localSinks, the reader's side) and returns stdout.
func serverlessChainOutput(t *testing.T, o Options) string {
	t.Helper()
	var buf bytes.Buffer
	out := sink.NewOutput(&buf, 4)
	ls := &localSinks{out: out, host: []byte("web1"),
		chain: newChain(o, chainMode{stop: func() {}}), diag: &diagWriter{}}
	src := sink.Source{Path: "app.log", ID: "app.log"}
	f := ls.File(src)
	// Two batches, as a reader hands them.
	if err := f.Lines(chainInput[:2]); err != nil {
		t.Fatal(err)
	}
	if err := f.Lines(chainInput[2:]); err != nil {
		t.Fatal(err)
	}
	f.Close(sink.Done{Source: src, Lines: uint64(len(chainInput))})
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// remoteChainOutput feeds the same lines as REMOTE messages of a server
// through the remote adapter (remoteRun.payload) and returns stdout.
func remoteChainOutput(t *testing.T, o Options) string {
	t.Helper()
	var buf bytes.Buffer
	rn := &remoteRun{o: o, out: newOutput(&buf, OutputBufferSize, time.Hour), toStdout: true}
	rn.chain = newChain(o, chainMode{remote: true, stop: func() {}, perLine: true, stdout: rn.out})
	st := &serverState{name: "web1"}
	w := rn.chain.stream()
	w.conn = st.name
	for _, r := range chainInput {
		no := fmt.Sprint(r.No)
		if o.Output.NDJSON {
			// Our servers add the offset when asked (protocol.OptOffsets).
			no += fmt.Sprintf("@%d", r.Offset)
		}
		rn.payload(st, w, []byte("REMOTE|web1|100|"+no+"|app.log|"+string(r.Line)))
	}
	if err := rn.out.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestChainSameOutputBothModes: the same lines through the serverless
// and the remote adapter print the same bytes with every printer. (The
// one difference DTail keeps: dcat --plain leaves a file's last line
// without newline as it is, like cat; grep adds one. The input here is a
// grep's, as a server sends it.)
func TestChainSameOutputBothModes(t *testing.T) {
	scheme := color.DefaultScheme()
	cases := []struct {
		name string
		o    Options
	}{
		{"remote-text", Options{Mode: ModeGrep}},
		{"remote-colours", Options{Mode: ModeGrep, Output: OutputOptions{Colors: &scheme}}},
		{"plain", Options{Mode: ModeGrep, Output: OutputOptions{Plain: true}}},
		{"plain-separators", Options{Mode: ModeGrep, Grep: GrepOptions{Before: 1, After: 2}, Output: OutputOptions{Plain: true}}},
		{"ndjson", Options{Mode: ModeGrep, Output: OutputOptions{NDJSON: true}}},
		{"max-total", Options{Mode: ModeGrep, Grep: GrepOptions{MaxTotal: 4}, Output: OutputOptions{Plain: true}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			local := serverlessChainOutput(t, c.o)
			remote := remoteChainOutput(t, c.o)
			if local != remote {
				t.Fatalf("serverless and remote output differ:\nserverless:\n%s\nremote:\n%s", local, remote)
			}
			if n := strings.Count(local, "\n"); n < 4 {
				t.Fatalf("only %d lines printed:\n%s", n, local)
			}
		})
	}
	t.Run("coalesce", func(t *testing.T) {
		var summaries [2]string
		for i, run := range []func(*testing.T, Options) string{serverlessChainOutput, remoteChainOutput} {
			co := NewCoalescer()
			if out := run(t, Options{Mode: ModeGrep, Output: OutputOptions{Coalesce: co}}); out != "" {
				t.Fatalf("coalesce printed lines: %q", out)
			}
			var b strings.Builder
			co.Report(&b, CoalesceTop)
			summaries[i] = b.String()
		}
		if summaries[0] != summaries[1] || !strings.Contains(summaries[0], "web1") {
			t.Fatalf("coalesce summaries differ:\nserverless:\n%s\nremote:\n%s", summaries[0], summaries[1])
		}
	})
}

// TestChainPrinters pins what each printer writes for a line, so that
// both modes agreeing cannot hide both being wrong.
func TestChainPrinters(t *testing.T) {
	want := map[string]string{
		"remote": "REMOTE|web1|100|1|app.log|INFO|20240102-100000|start id=17\n",
		"plain":  "INFO|20240102-100000|start id=17\n",
		"ndjson": `{"host":"web1","file":"app.log","line":1,"offset":0,`,
	}
	for name, o := range map[string]Options{
		"remote": {Mode: ModeGrep},
		"plain":  {Mode: ModeGrep, Output: OutputOptions{Plain: true}},
		"ndjson": {Mode: ModeGrep, Output: OutputOptions{NDJSON: true}},
	} {
		got := remoteChainOutput(t, o)
		if !strings.HasPrefix(got, want[name]) {
			t.Errorf("%s: got %q, want it to start with %q", name, got, want[name])
		}
	}
	sep := serverlessChainOutput(t, Options{Mode: ModeGrep, Grep: GrepOptions{Before: 1}, Output: OutputOptions{Plain: true}})
	if strings.Count(sep, "--\n") != 1 {
		t.Errorf("plain output with context: want one `--` before line 7:\n%s", sep)
	}
	cat := serverlessChainOutput(t, Options{Mode: ModeCat, Output: OutputOptions{Plain: true}})
	if !strings.HasSuffix(cat, "|last") {
		t.Errorf("dcat --plain must keep the last line without newline: %q", cat[len(cat)-10:])
	}
}
