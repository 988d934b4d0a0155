package client

import (
	"bytes"
	"testing"
	"time"
)

func TestOutputStatusLineStaysBelowOutput(t *testing.T) {
	var buf bytes.Buffer
	o := newOutput(&buf, 4096, time.Hour)
	o.Write([]byte("line 1\n"))
	o.SetStatus("[connected 1/2]")
	o.Flush()
	o.Write([]byte("line 2\n"))
	o.SetStatus("")
	o.Flush()
	o.Close()
	want := "line 1\n" + clearStatus + "[connected 1/2]" + clearStatus + "line 2\n"
	if got := buf.String(); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestProgressLine(t *testing.T) {
	rn := &remoteRun{started: time.Now().Add(-time.Second)}
	rn.r.Servers = nil
	rn.running.Store("web02", true)
	rn.running.Store("web01", true)
	rn.received.Add(2_000_000)
	line := rn.progressLine()
	if !bytes.Contains([]byte(line), []byte("waiting for web01 web02")) || !bytes.Contains([]byte(line), []byte("MB/s")) {
		t.Fatalf("line %q", line)
	}
}

// TestOutputHoldErasesStatusLine: a host key question printed while the
// output is held starts on a clean line, not after the progress line.
func TestOutputHoldErasesStatusLine(t *testing.T) {
	var buf bytes.Buffer
	o := newOutput(&buf, 4096, time.Hour)
	o.SetStatus("[connected 1/2]")
	o.Flush()
	release := o.Hold()
	if want := clearStatus + "[connected 1/2]" + clearStatus; buf.String() != want {
		t.Fatalf("while held: %q, want %q", buf.String(), want)
	}
	release()
	o.Flush()
	if want := clearStatus + "[connected 1/2]" + clearStatus + clearStatus + "[connected 1/2]"; buf.String() != want {
		t.Fatalf("after release: %q, want %q", buf.String(), want)
	}
	o.SetStatus("")
	o.Close()
}
