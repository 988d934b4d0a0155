package config

import (
	"os"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/dtail.json", "testdata/example.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"Server":{"MaxConnections":"50"}}`, `{"Common":{"LogLevel":"loud"}}`,
		`{"Server":{"Schedule":[{"TimeRange":[1,2,3]}]}}`, `{"Server":{"TurboX":{"a":[1,{"b":null}]}}}`,
		`{"Server":{"Permissions":{"Users":{"a.b\n":["x",1]}}}}`, "{\n\"Common\": {,\n}", `{"Common":{"SSHPort":1e999}}`,
		`{"Client":{"TermColors":{"Remote":{"RemoteFg":"\u0000"}}}}`, "{\"a\n\":1}", `{} {}`, "\xef\xbb\xbf{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.json", data)
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("multi-line error %q", msg)
			}
			if !strings.HasPrefix(msg, "fuzz.json:") {
				t.Fatalf("error without file name: %q", msg)
			}
			return
		}
		// Anything accepted must be normalized.
		if cfg.Server.MaxConnections <= 0 || cfg.Common.SSHPort <= 0 || cfg.Server.AuthKeyTTLSeconds <= 0 {
			t.Fatalf("accepted config not normalized: %+v", cfg)
		}
	})
}
