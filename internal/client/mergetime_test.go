package client

import (
	"strings"
	"testing"
	"time"
)

func TestTimeMergerOrdersAcrossHosts(t *testing.T) {
	var got []string
	m := newTimeMerger(2*time.Second, func(msg []byte) { got = append(got, string(msg)) })
	line := func(host, ts, text string) []byte {
		return []byte("REMOTE|" + host + "|100|1|app.log|INFO|" + ts + "|" + text + "\n")
	}
	// web2 lags behind web1 by a few seconds of log time.
	m.add(line("web1", "20240102-100000", "a"))
	m.add(line("web1", "20240102-100003", "c"))
	m.add(line("web2", "20240102-100001", "b"))
	m.add([]byte("REMOTE|web2|100|2|app.log|  continuation of b\n"))
	m.add(line("web2", "20240102-100004", "d"))
	m.add([]byte("SERVER|web2|WARN|something\n"))
	m.add(line("web1", "20240102-100010", "e"))
	m.flush()
	var order []string
	for _, g := range got {
		switch {
		case strings.HasPrefix(g, "SERVER"):
			order = append(order, "S")
		case strings.Contains(g, "continuation"):
			order = append(order, "b+")
		default:
			order = append(order, g[len(g)-2:len(g)-1])
		}
	}
	// Lines come out in time order, the continuation right after its
	// head; a, b and b+ left the window when d (2 s newer) arrived, before
	// the server message, which is never held.
	if strings.Join(order, " ") != "a b b+ S c d e" {
		t.Fatalf("order %v", order)
	}
}
