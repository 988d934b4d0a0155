package coalesce

import (
	"fmt"
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	cases := []struct{ in, want string }{
		{"took 35ms for id 0x1f", "took <N>ms for id <HEX>"},
		{"took 35 ms for id 0x1f", "took <N> ms for id <HEX>"},
		{"req 123e4567-e89b-12d3-a456-426614174000 done", "req <UUID> done"},
		{"from 10.1.2.3:443 to 192.168.0.1", "from <IP>:<N> to <IP>"},
		{"user=user5967 bytes=707815 up 400h0m15s", "user=user<N> bytes=<N> up <N>h<N>m<N>s"},
		{"trace deadbeef01 facade", "trace <HEX> facade"},
		{"v1.2.3 release", "v<N>.<N>.<N> release"},
		{"at 20211002-000001", "at <N>-<N>"},
		{"", ""},
	}
	for _, tc := range cases {
		if got := Mask([]byte(tc.in)); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCounter(t *testing.T) {
	var c Counter
	for i := 0; i < 5; i++ {
		c.Add(fmt.Sprintf("web%02d", i+1), []byte(fmt.Sprintf("timeout after %dms", i*10)))
	}
	c.Add("web09", []byte("timeout after 3ms"))
	c.Add("db1", []byte("disk full"))
	rows, other, total := c.Top(0)
	if total != 7 || other != 0 || len(rows) != 2 {
		t.Fatalf("rows %v other %d total %d", rows, other, total)
	}
	if rows[0].Template != "timeout after <N>ms" || rows[0].Count != 6 || strings.Join(rows[0].Hosts, ",") != "web[01-05,09]" {
		t.Fatalf("top row %+v", rows[0])
	}
}

func TestCounterBounded(t *testing.T) {
	c := Counter{MaxTemplates: 10}
	for i := 0; i < 1000; i++ {
		c.Add("h", []byte(fmt.Sprintf("unique-%s", strings.Repeat("x", i%50)+fmt.Sprint(i%7))))
	}
	rows, other, total := c.Top(0)
	if len(rows) > 10 || total != 1000 || other == 0 || !c.Capped() {
		t.Fatalf("rows %d other %d total %d", len(rows), other, total)
	}
}

func FuzzMask(f *testing.F) {
	f.Add([]byte("from 10.1.2.3:443 id 123e4567-e89b-12d3-a456-426614174000 0x1f 42"))
	f.Fuzz(func(t *testing.T, line []byte) {
		m := Mask(line)
		if Mask([]byte(m)) != m {
			t.Fatalf("mask not idempotent: %q -> %q -> %q", line, m, Mask([]byte(m)))
		}
	})
}
