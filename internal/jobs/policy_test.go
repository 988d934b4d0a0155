package jobs

import (
	"strings"
	"testing"

	"github.com/dtail-go/dtail/internal/config"
	"github.com/dtail-go/dtail/internal/protocol"
)

func cmd(t *testing.T, text string) protocol.Command {
	t.Helper()
	c, err := protocol.ParseCommand(text)
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	return c
}

func TestSessionPolicy(t *testing.T) {
	j := config.Job{Query: "from STATS  select count($line)", Files: "/var/log/a-$today.log, /var/log/b.log"}
	p := NewSessionPolicy(j)
	steps := []struct {
		text string
		ok   bool
	}{
		{"cat /var/log/b.log x", false}, // before the query: raw lines
		{"map from STATS select max($x)", false},
		{"map from STATS select count($line) outfile /tmp/o.csv extra", false},
		{"AUTHKEY AAAA", true},
		{"map from STATS select count($line) outfile ./out-20240101.csv", true},
		{"cat /var/log/b.log x", true},
		{"tail /var/log/a-20240101.log x", true},
		{"cat /var/log/a-2024010.log x", false},
		{"cat /var/log/a-*.log x", false},
		{"cat /etc/passwd x", false},
		{"cat /var/log/b.log.old x", false},
		{"SESSION START", false},
		{"health", false},
	}
	for _, s := range steps {
		err := p.Allow(cmd(t, s.text))
		if (err == nil) != s.ok {
			t.Errorf("%q: allowed=%v, want %v (%v)", s.text, err == nil, s.ok, err)
		}
	}
}

func TestLogNameHidesPasswords(t *testing.T) {
	if n := LogName(Scheduled, 3, config.Job{Name: "local"}); n != "local" {
		t.Errorf("in-process job: %q", n)
	}
	for _, j := range []config.Job{
		{Name: "s3cret", AllowRemoteLogin: true},
		{Name: "s3cret", Servers: []string{"other:2222"}},
		{Name: "s3cret", Discovery: "file:x"},
	} {
		if n := LogName(Continuous, 2, j); strings.Contains(n, "s3cret") || n != "continuous job #2" {
			t.Errorf("%+v: logged as %q", j, n)
		}
	}
}
