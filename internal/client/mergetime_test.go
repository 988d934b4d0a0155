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
	m.open("web1")
	m.open("web2")
	// web1 sends everything before web2 says anything.
	m.add("web1", line("web1", "20240102-100000", "a"))
	m.add("web1", line("web1", "20240102-100003", "c"))
	m.add("web1", line("web1", "20240102-100010", "e"))
	m.add("web2", []byte("SERVER|web2|WARN|something\n"))
	m.add("web2", line("web2", "20240102-100001", "b"))
	m.add("web2", []byte("REMOTE|web2|100|2|app.log|  continuation of b\n"))
	m.add("web2", line("web2", "20240102-100004", "d"))
	m.close("web2")
	m.close("web1")
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
	// head; the server message is never held.
	if strings.Join(order, " ") != "S a b b+ c d e" {
		t.Fatalf("order %v", order)
	}
}
