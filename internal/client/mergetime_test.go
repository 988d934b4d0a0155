package client

import (
	"strings"
	"testing"
	"time"

	"github.com/dtail-go/dtail/internal/protocol"
)

func TestTimeMergerOrdersAcrossHosts(t *testing.T) {
	var got []string
	m := newTimeMerger(2*time.Second, func(l *line) { got = append(got, string(l.content)) })
	add := func(conn, msg string) {
		rl, _ := protocol.ParseRemoteLine([]byte(msg))
		l := line{host: rl.Host, percent: rl.Percent, id: rl.SourceID, noText: rl.LineNo, off: -1, content: rl.Content}
		m.add(conn, &l)
	}
	line := func(host, ts, text string) string {
		return "REMOTE|" + host + "|100|1|app.log|INFO|" + ts + "|" + text + "\n"
	}
	m.open("web1")
	m.open("web2")
	// web1 sends everything before web2 says anything.
	add("web1", line("web1", "20240102-100000", "a"))
	add("web1", line("web1", "20240102-100003", "c"))
	add("web1", line("web1", "20240102-100010", "e"))
	add("web2", line("web2", "20240102-100001", "b"))
	add("web2", "REMOTE|web2|100|2|app.log|  continuation of b\n")
	add("web2", line("web2", "20240102-100004", "d"))
	m.close("web2")
	m.close("web1")
	m.flush()
	var order []string
	for _, g := range got {
		switch {
		case strings.Contains(g, "continuation"):
			order = append(order, "b+")
		default:
			order = append(order, g[len(g)-2:len(g)-1])
		}
	}
	// Lines come out in time order, the continuation right after its
	// head.
	if strings.Join(order, " ") != "a b b+ c d e" {
		t.Fatalf("order %v", order)
	}
}
