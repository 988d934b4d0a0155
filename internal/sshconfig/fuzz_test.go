package sshconfig

import (
	"strings"
	"testing"
)

// FuzzParse: any file text is either refused with an error or gives a
// configuration whose lookups and expansions do not panic.
func FuzzParse(f *testing.F) {
	for _, tc := range oracleCases {
		f.Add(tc.conf, tc.hosts[0])
	}
	f.Add("Host \"a b\" !c\n ProxyJump ssh://u@[::1]:2,h\n IdentityFile %d/%h%%\n", "a b")
	f.Add("Host=x\tPort=22 #\nUser='q\\' r'\n", "x")
	f.Fuzz(func(t *testing.T, conf, host string) {
		if strings.Contains(strings.ToLower(conf), "include") {
			// Include reads the real file system (tested on its own):
			// a generated "/*/*/*" would make a run depend on the machine.
			return
		}
		c, err := Parse("fuzz", []byte(conf), Options{Home: "/nonexistent-home"})
		if err != nil {
			return
		}
		h := c.Lookup(host)
		if h.Port < 0 || h.Port > 65535 {
			t.Fatalf("port %d", h.Port)
		}
		for _, p := range h.IdentityFiles {
			Tokens{Alias: host, Host: h.HostName, Port: h.Port}.ExpandPath(p)
		}
		ExpandHostName(h.HostName, host)
		for _, j := range h.ProxyJump {
			if j.Host == "" {
				t.Fatalf("empty jump host in %q", conf)
			}
		}
	})
}
