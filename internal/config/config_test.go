package config

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultWithHome(t *testing.T) {
	c := DefaultWithHome("/home/alice")
	checks := []struct {
		name      string
		got, want any
	}{
		{"SSHPort", c.Common.SSHPort, 2222},
		{"SSHConnectTimeoutMs", c.Common.SSHConnectTimeoutMs, 2000},
		{"LogDir", c.Common.LogDir, "log"},
		{"Logger", c.Common.Logger, "stdout"},
		{"LogLevel", c.Common.LogLevel, "info"},
		{"LogRotation", c.Common.LogRotation, "daily"},
		{"CacheDir", c.Common.CacheDir, "cache"},
		{"SSHBindAddress", c.Server.SSHBindAddress, "0.0.0.0"},
		{"MaxConnections", c.Server.MaxConnections, 10},
		{"MaxConcurrentCats", c.Server.MaxConcurrentCats, 2},
		{"MaxConcurrentTails", c.Server.MaxConcurrentTails, 50},
		{"MaxLineLength", c.Server.MaxLineLength, 1048576},
		{"Permissions.Default", c.Server.Permissions.Default, []string{"^/.*"}},
		{"Permissions.Users", c.Server.Permissions.Users, map[string][]string(nil)},
		{"MapreduceLogFormat", c.Server.MapreduceLogFormat, "default"},
		{"HostKeyFile", c.Server.HostKeyFile, "./cache/ssh_host_key"},
		{"HostKeyBits", c.Server.HostKeyBits, 4096},
		{"KeyExchanges", c.Server.KeyExchanges, []string(nil)},
		{"AuthKeyEnabled", c.Server.AuthKeyEnabled, true},
		{"AuthKeyTTLSeconds", c.Server.AuthKeyTTLSeconds, 86400},
		{"AuthKeyMaxPerUser", c.Server.AuthKeyMaxPerUser, 5},
		{"ReadGlobRetryIntervalMs", c.Server.ReadGlobRetryIntervalMs, 5000},
		{"ReadRetryIntervalMs", c.Server.ReadRetryIntervalMs, 2000},
		{"MaxCommandFrameSize", c.Server.MaxCommandFrameSize, 1048576},
		{"MaxGlobTargets", c.Server.MaxGlobTargets, 1000},
		{"OutputTransmissionDelayMs", c.Server.OutputTransmissionDelayMs, 50},
		{"OutputEOFWaitBaseMs", c.Server.OutputEOFWaitBaseMs, 500},
		{"OutputEOFWaitPerFileMs", c.Server.OutputEOFWaitPerFileMs, 10},
		{"OutputEOFWaitMaxMs", c.Server.OutputEOFWaitMaxMs, 2000},
		{"OutputChannelBufferSize", c.Server.OutputChannelBufferSize, 1000},
		{"OutputFlushTimeoutMs", c.Server.OutputFlushTimeoutMs, 2000},
		{"OutputFlushPollIntervalMs", c.Server.OutputFlushPollIntervalMs, 10},
		{"OutputReadRetryIntervalMs", c.Server.OutputReadRetryIntervalMs, 1},
		{"OutputEOFAckTimeoutMs", c.Server.OutputEOFAckTimeoutMs, 2000},
		{"ShutdownOutputSerializeWaitMs", c.Server.ShutdownOutputSerializeWaitMs, 500},
		{"ShutdownIdleRecheckWaitMs", c.Server.ShutdownIdleRecheckWaitMs, 10},
		{"TermColorsEnable", c.Client.TermColorsEnable, true},
		{"AuthKeyPath", c.Client.AuthKeyPath, "/home/alice/.ssh/id_rsa"},
		{"AuthKeyDisable", c.Client.AuthKeyDisable, false},
		{"LogPayload", c.Client.LogPayload, false},
		{"Remote.Remote", []string{c.Client.TermColors.Remote.RemoteFg, c.Client.TermColors.Remote.RemoteBg, c.Client.TermColors.Remote.RemoteAttr}, []string{"White", "Blue", "Dim"}},
		{"Remote.Delimiter", []string{c.Client.TermColors.Remote.DelimiterFg, c.Client.TermColors.Remote.DelimiterBg, c.Client.TermColors.Remote.DelimiterAttr}, []string{"Cyan", "Blue", "Dim"}},
		{"Remote.StatsOk", []string{c.Client.TermColors.Remote.StatsOkFg, c.Client.TermColors.Remote.StatsOkBg, c.Client.TermColors.Remote.StatsOkAttr}, []string{"Black", "Green", "None"}},
		{"Client.Client", []string{c.Client.TermColors.Client.ClientFg, c.Client.TermColors.Client.ClientBg, c.Client.TermColors.Client.ClientAttr}, []string{"Black", "Yellow", "Dim"}},
		{"Server.Hostname", []string{c.Client.TermColors.Server.HostnameFg, c.Client.TermColors.Server.HostnameBg, c.Client.TermColors.Server.HostnameAttr}, []string{"Black", "Cyan", "Bold"}},
		{"Common.SeverityFatal", []string{c.Client.TermColors.Common.SeverityFatalFg, c.Client.TermColors.Common.SeverityFatalBg, c.Client.TermColors.Common.SeverityFatalAttr}, []string{"White", "Magenta", "Bold"}},
		{"MaprTable.RawQuery", []string{c.Client.TermColors.MaprTable.RawQueryFg, c.Client.TermColors.MaprTable.RawQueryBg, c.Client.TermColors.MaprTable.RawQueryAttr}, []string{"Cyan", "Black", "Dim"}},
		{"MaprTable.HeaderSortKeyAttr", c.Client.TermColors.MaprTable.HeaderSortKeyAttr, "Underline"},
		{"MaprTable.HeaderGroupKeyAttr", c.Client.TermColors.MaprTable.HeaderGroupKeyAttr, "Reverse"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
	if got := DefaultWithHome("").Client.AuthKeyPath; got != "" {
		t.Errorf("AuthKeyPath without home = %q, want empty", got)
	}
}

// Every colour slot must have a default; an empty one would paint nothing.
func TestDefaultTermColorsComplete(t *testing.T) {
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		case reflect.String:
			if v.String() == "" {
				t.Errorf("%s has no default", path)
			}
		}
	}
	walk(reflect.ValueOf(DefaultWithHome("/h").Client.TermColors), "TermColors")
}

func TestDefaultIsNormalized(t *testing.T) {
	c := DefaultWithHome("/h")
	n := c
	n.Normalize()
	if !reflect.DeepEqual(c, n) {
		t.Fatal("Normalize changed the defaults")
	}
}

func TestNormalize(t *testing.T) {
	c := DefaultWithHome("/h")
	c.Common.SSHPort = 0
	c.Common.SSHConnectTimeoutMs = -1
	c.Server.MaxConnections = 0
	c.Server.AuthKeyTTLSeconds = -5
	c.Server.AuthKeyMaxPerUser = 0
	c.Server.OutputReadRetryIntervalMs = 0
	c.Server.ShutdownIdleRecheckWaitMs = -1
	c.Server.MaxConcurrentCats = 7
	c.Normalize()

	want := DefaultWithHome("/h")
	want.Server.MaxConcurrentCats = 7
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Normalize:\n got %+v\nwant %+v", c.Server, want.Server)
	}
}

// Every field of Config must be reachable from a file: encoding a config with
// encoding/json and parsing it back must give the same value.
func TestParseRoundTrip(t *testing.T) {
	c := DefaultWithHome("/h")
	c.Server.Permissions.Users = map[string][]string{"bob": {"^/tmp/"}}
	c.Server.Schedule = []Job{{Name: "s", Enable: true, Files: "f", Query: "q", Outfile: "o",
		Discovery: "d", Servers: []string{"a"}, AllowFrom: []string{"b"}, TimeRange: [2]int{3, 4}}}
	c.Server.Continuous = []Job{{Name: "c", RestartOnDayChange: true}}
	c.Server.Ciphers = []string{"aes128-ctr"}
	c.Client.LogPayload = true
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseOnto(DefaultWithHome("/other"), "rt.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, c)
	}
}

func TestParseOverlayKeepsDefaults(t *testing.T) {
	c, err := parseOnto(DefaultWithHome("/h"), "x.json", []byte(`{"Server": {"MaxConnections": 50}, "Common": {"LogDir": "/tmp/l"}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultWithHome("/h")
	want.Server.MaxConnections = 50
	want.Common.LogDir = "/tmp/l"
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

func TestParseCaseInsensitiveKeys(t *testing.T) {
	c, err := Parse("x.json", []byte(`{"server": {"maxconnections": 7, "PERMISSIONS": {"default": ["a"]}},
		"CLIENT": {"termcolors": {"remote": {"remotefg": "Red"}}}, "cOmMoN": {"loglevel": "DEBUG", "LOGGER": "Fout"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.MaxConnections != 7 || !reflect.DeepEqual(c.Server.Permissions.Default, []string{"a"}) ||
		c.Client.TermColors.Remote.RemoteFg != "Red" || c.Common.LogLevel != "DEBUG" || c.Common.Logger != "Fout" {
		t.Fatalf("case-insensitive keys not applied: %+v", c)
	}
}

func TestParseExample(t *testing.T) {
	data, err := os.ReadFile("testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseOnto(DefaultWithHome("/h"), "example.json", data)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultWithHome("/h")
	want.Common.LogRotation = "Daily"
	want.Common.LogLevel = "Info"
	want.Server.HostKeyFile = "cache/ssh_host_key"
	want.Server.HostKeyBits = 2048
	want.Server.MaxConnections = 50
	want.Server.Permissions = Permissions{
		Default: []string{"readfiles:^/.*$"},
		Users:   map[string][]string{"alice": {"readfiles:^/var/log/.*$", `readfiles:!\.gz$`}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

func TestParseSample(t *testing.T) {
	data, err := os.ReadFile("testdata/dtail.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseOnto(DefaultWithHome("/h"), "dtail.json", data)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultWithHome("/h")
	want.Common = Common{SSHPort: 2223, SSHConnectTimeoutMs: 3000, LogDir: "/var/log/dserver", Logger: "file",
		LogLevel: "Verbose", LogRotation: "Signal", CacheDir: "/var/cache/dserver"}
	s := &want.Server
	s.SSHBindAddress = "127.0.0.1"
	s.MaxConnections, s.MaxConcurrentCats, s.MaxConcurrentTails, s.MaxLineLength = 50, 4, 100, 65536
	s.HostKeyFile, s.HostKeyBits, s.MapreduceLogFormat = "cache/ssh_host_key", 2048, "generickv"
	s.KeyExchanges = []string{"curve25519-sha256", "curve25519-sha256@libssh.org"}
	s.Ciphers = []string{"aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"}
	s.MACs = []string{"hmac-sha2-256-etm@openssh.com"}
	s.AuthKeyEnabled, s.AuthKeyTTLSeconds, s.AuthKeyMaxPerUser = false, 3600, 3
	s.ReadGlobRetryIntervalMs, s.ReadRetryIntervalMs, s.MaxCommandFrameSize, s.MaxGlobTargets = 1000, 300, 65536, 200
	s.Permissions = Permissions{
		Default: []string{"readfiles:^/var/log/.*$", `readfiles:!\.gz$`},
		Users: map[string][]string{
			"jamesblake": {"readfiles:^/tmp/foo.log$", "readfiles:^/.*$", "readfiles:!^/tmp/bar.log$"},
			"nobody":     {},
		},
	}
	s.Schedule = []Job{{Name: "stats-daily", Enable: true, TimeRange: [2]int{1, 23},
		Files:     "/var/log/dserver/$yesterday.log",
		Query:     "from STATS select count($line),last($time) group by $hostname",
		Outfile:   "/var/run/dserver/stats-$yesterday.csv",
		Servers:   []string{"localhost:2223"},
		AllowFrom: []string{"localhost"}}}
	s.Continuous = []Job{{Name: "stats-live", Enable: true, RestartOnDayChange: true,
		Files:     "/var/log/dserver/$today.log",
		Query:     "from STATS select count($line) group by $hostname interval 60",
		Outfile:   "/var/run/dserver/live-$today.csv",
		AllowFrom: []string{"127.0.0.1"}}}
	cl := &want.Client
	cl.TermColorsEnable, cl.AuthKeyPath, cl.AuthKeyDisable, cl.LogPayload = false, "/home/alice/.ssh/dtail_key", true, true
	cl.TermColors.Remote.RemoteFg = "Green"
	cl.TermColors.Remote.HostnameAttr = "Underline"
	cl.TermColors.MaprTable.HeaderSortKeyAttr = "Bold"
	cl.TermColors.MaprTable.HeaderGroupKeyAttr = "Italic"
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

func TestParseAccepted(t *testing.T) {
	tests := []struct {
		name  string
		input string
		check func(Config) bool
	}{
		{"removed server keys", `{"Server": {"TurboBoostDisable": true, "TurboChannelBufferSize": 5,
			"turboWriteIntervalMs": {"any": ["thing"]}, "ShutdownTurboSerializeWaitMs": 3, "ExperimentalFeaturesEnable": "x"}}`,
			func(c Config) bool { return c.Server.MaxConnections == 10 }},
		{"removed keys elsewhere", `{"Common": {"TurboBoostDisable": true, "ExperimentalFeaturesEnable": true},
			"Client": {"turboboostdisable": 1, "ExperimentalFeaturesEnable": false}}`,
			func(c Config) bool { return c.Common.ExperimentalFeaturesEnable }},
		{"empty object", `{}`, func(c Config) bool { return reflect.DeepEqual(c, Default()) }},
		{"top-level null", ` null `, func(c Config) bool { return reflect.DeepEqual(c, Default()) }},
		{"null keeps scalars", `{"Common": {"SSHPort": null}, "Server": null}`,
			func(c Config) bool { return c.Common.SSHPort == 2222 && c.Server.MaxConnections == 10 }},
		{"null clears lists", `{"Server": {"Permissions": {"Default": null}}}`,
			func(c Config) bool { return c.Server.Permissions.Default == nil }},
		{"empty log level", `{"Common": {"LogLevel": ""}}`, func(c Config) bool { return c.Common.LogLevel == "" }},
		{"log level any case", `{"Common": {"LogLevel": "TrAcE"}}`, func(c Config) bool { return c.Common.LogLevel == "TrAcE" }},
		{"logger none", `{"Common": {"Logger": "NONE"}}`, func(c Config) bool { return c.Common.Logger == "NONE" }},
		{"zero tuning int normalized", `{"Server": {"AuthKeyTTLSeconds": 0, "AuthKeyMaxPerUser": -3}}`,
			func(c Config) bool { return c.Server.AuthKeyTTLSeconds == 86400 && c.Server.AuthKeyMaxPerUser == 5 }},
		{"duplicate key last wins", `{"Server": {"MaxConnections": 1, "maxConnections": 2}}`,
			func(c Config) bool { return c.Server.MaxConnections == 2 }},
		{"users merge across duplicates", `{"Server": {"Permissions": {"Users": {"a": ["x"]}, "Users": {"b": []}}}}`,
			func(c Config) bool { return len(c.Server.Permissions.Users) == 2 }},
		{"negative and zero TimeRange", `{"Server": {"Schedule": [{"TimeRange": [0, 24]}]}}`,
			func(c Config) bool { return c.Server.Schedule[0].TimeRange == [2]int{0, 24} }},
		{"string escapes", `{"Server": {"Permissions": {"Users": {"ali\u0063e": ["\\d\t"]}}}}`,
			func(c Config) bool { return c.Server.Permissions.Users["alice"][0] == "\\d\t" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("x.json", []byte(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("unexpected result %+v", c)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, file, input, want string
	}{
		{"unknown key", "dtail.json", "{\n  \"Server\": {\n    \"MaxConections\": 5\n  }\n}",
			"dtail.json:3: Server.MaxConections: unknown key"},
		{"unknown section", "dtail.json", `{"Servers": {}}`, "dtail.json:1: Servers: unknown key"},
		{"unknown job key", "d.json", "{\"Server\": {\"Schedule\": [{}, {\n\"Nme\": \"x\"}]}}",
			"d.json:2: Server.Schedule[1].Nme: unknown key"},
		{"unknown colour key", "d.json", `{"Client": {"TermColors": {"Remote": {"RemoteFG2": "Red"}}}}`,
			"d.json:1: Client.TermColors.Remote.RemoteFG2: unknown key"},
		{"turbo only ignored under Server", "d.json", `{"Common": {"TurboMode": 1}}`,
			"d.json:1: Common.TurboMode: unknown key"},
		{"removed key not ignored in jobs", "d.json", `{"Server": {"Continuous": [{"TurboBoostDisable": true}]}}`,
			"d.json:1: Server.Continuous[0].TurboBoostDisable: unknown key"},
		{"string for int", "dtail.json", "{\n\"Server\": {\n\n\n\n\n\"MaxConnections\": \"50\"}}",
			`dtail.json:7: Server.MaxConnections: expected integer, got string "50"`},
		{"key as written", "d.json", `{"server": {"maxconnections": true}}`,
			"d.json:1: server.maxconnections: expected integer, got boolean true"},
		{"float for int", "d.json", `{"Common": {"SSHPort": 22.5}}`,
			"d.json:1: Common.SSHPort: expected integer, got number 22.5"},
		{"exponent for int", "d.json", `{"Common": {"SSHPort": 1e3}}`,
			"d.json:1: Common.SSHPort: expected integer, got number 1e3"},
		{"int overflow", "d.json", `{"Common": {"SSHPort": 123456789012345678901234567890}}`,
			"d.json:1: Common.SSHPort: integer out of range, got number 123456789012345678901234567890"},
		{"int for string", "d.json", `{"Common": {"LogDir": 5}}`,
			"d.json:1: Common.LogDir: expected string, got number 5"},
		{"string for bool", "d.json", `{"Client": {"TermColorsEnable": "yes"}}`,
			`d.json:1: Client.TermColorsEnable: expected boolean, got string "yes"`},
		{"array for object", "d.json", `{"Server": []}`, "d.json:1: Server: expected object, got array"},
		{"object for string", "d.json", `{"Common": {"CacheDir": {}}}`,
			"d.json:1: Common.CacheDir: expected string, got object"},
		{"string for list", "d.json", `{"Server": {"Ciphers": "aes128-ctr"}}`,
			`d.json:1: Server.Ciphers: expected array, got string "aes128-ctr"`},
		{"bad list element", "d.json", "{\"Server\": {\"Permissions\": {\"Default\": [\n\"a\",\n 7]}}}",
			"d.json:3: Server.Permissions.Default[1]: expected string, got number 7"},
		{"bad user list", "d.json", `{"Server": {"Permissions": {"Users": {"bob": "x"}}}}`,
			`d.json:1: Server.Permissions.Users.bob: expected array, got string "x"`},
		{"odd user name quoted", "d.json", `{"Server": {"Permissions": {"Users": {"a.b\nc": [1]}}}}`,
			`d.json:1: Server.Permissions.Users."a.b\nc"[0]: expected string, got number 1`},
		{"users not object", "d.json", `{"Server": {"Permissions": {"Users": ["bob"]}}}`,
			"d.json:1: Server.Permissions.Users: expected object, got array"},
		{"bad log level", "d.json", "{\"Common\": {\n\"LogLevel\": \"loud\"}}",
			`d.json:2: Common.LogLevel: invalid value "loud" (want one of none, fatal, error, warn, info, default, verbose, debug, devel, trace, all)`},
		{"bad logger", "d.json", `{"Common": {"Logger": "syslog"}}`,
			`d.json:1: Common.Logger: invalid value "syslog" (want one of stdout, file, fout, none)`},
		{"empty logger", "d.json", `{"Common": {"Logger": ""}}`,
			`d.json:1: Common.Logger: invalid value "" (want one of stdout, file, fout, none)`},
		{"time range too long", "d.json", "{\"Server\": {\"Schedule\": [{\"TimeRange\":\n [1, 2, 3]}]}}",
			"d.json:2: Server.Schedule[0].TimeRange: expected array of 2 integers, got 3 elements"},
		{"time range too short", "d.json", `{"Server": {"Schedule": [{"TimeRange": [1]}]}}`,
			"d.json:1: Server.Schedule[0].TimeRange: expected array of 2 integers, got 1 element"},
		{"time range empty", "d.json", `{"Server": {"Schedule": [{"TimeRange": []}]}}`,
			"d.json:1: Server.Schedule[0].TimeRange: expected array of 2 integers, got 0 elements"},
		{"time range not array", "d.json", `{"Server": {"Schedule": [{"TimeRange": "1-2"}]}}`,
			`d.json:1: Server.Schedule[0].TimeRange: expected array of 2 integers, got string "1-2"`},
		{"time range element", "d.json", `{"Server": {"Schedule": [{"TimeRange": [1, "2"]}]}}`,
			`d.json:1: Server.Schedule[0].TimeRange[1]: expected integer, got string "2"`},
		{"job not object", "d.json", `{"Server": {"Continuous": ["job"]}}`,
			`d.json:1: Server.Continuous[0]: expected object, got string "job"`},
		{"top level array", "cfg.json", `[1]`, "cfg.json:1: expected object, got array"},
		{"top level string", "cfg.json", `"x"`, `cfg.json:1: expected object, got string "x"`},
		{"long value truncated", "d.json", `{"Common": {"SSHPort": "` + strings.Repeat("a", 100) + `"}}`,
			`d.json:1: Common.SSHPort: expected integer, got string "` + strings.Repeat("a", 60) + `..."`},

		{"empty file", "cfg.json", ``, "cfg.json:1: invalid JSON: unexpected end of input"},
		{"truncated", "cfg.json", "{\n\"Common\": {\n", "cfg.json:2: invalid JSON: unexpected end of input"},
		{"truncated in ignored key", "cfg.json", `{"Server": {"TurboX": [1,`, "cfg.json:1: invalid JSON: unexpected end of input"},
		{"trailing comma", "cfg.json", "{\n\"Common\": {},\n}", "cfg.json:3: invalid JSON: invalid character '}' looking for beginning of object key string"},
		{"missing colon", "cfg.json", "{\n\n\"Common\" {}}", "cfg.json:3: invalid JSON: invalid character '{' after object key"},
		{"syntax error in ignored value", "cfg.json", "{\"Server\": {\n\"TurboX\": [1 2]}}", "cfg.json:2: invalid JSON: invalid character '2' after array element"},
		{"raw newline in string", "cfg.json", "{\"Common\": {\"LogDir\": \"a\nb\"}}", `cfg.json:1: invalid JSON: invalid character '\n' in string literal`},
		{"trailing data", "cfg.json", "{}\n{}", "cfg.json:2: invalid JSON: invalid character '{' after top-level value"},
		{"trailing garbage", "cfg.json", "{}\n\nx", "cfg.json:3: invalid JSON: invalid character 'x' after top-level value"},
		{"syntax error wins over earlier type error", "cfg.json", "{\"Common\": {\"SSHPort\": \"x\"},\n\"Server\": {]}",
			"cfg.json:2: invalid JSON: invalid character ']' looking for beginning of object key string"},
		{"byte order mark", "cfg.json", "\xef\xbb\xbf{}", "cfg.json:1: invalid JSON: invalid character 'ï' looking for beginning of value"},
		{"comments", "cfg.json", "{\n// c\n}", "cfg.json:2: invalid JSON: invalid character '/' looking for beginning of object key string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.file, []byte(tt.input))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Fatalf("error\n got %q\nwant %q", err.Error(), tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != tt.file {
				t.Fatalf("error %#v is not a *Error for %s", err, tt.file)
			}
		})
	}
}

func TestErrorIsOneLine(t *testing.T) {
	e := &Error{File: "a\nb.json", Line: 1, Path: "X", Msg: "bad\r\nthing"}
	if got, want := e.Error(), `a\nb.json:1: X: bad\r\nthing`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	home := t.TempDir()
	xdg := filepath.Join(home, ".config", "dtail", "dtail.conf")
	dot := filepath.Join(home, ".dtail.conf")

	// No file at all → defaults.
	c, used, err := Load("", home)
	if err != nil || used != "" || !reflect.DeepEqual(c, DefaultWithHome(home)) {
		t.Fatalf("no files: used=%q err=%v", used, err)
	}

	writeFile(t, dot, `{"Server": {"MaxConnections": 2}}`)
	c, used, err = Load("", home)
	if err != nil || used != dot || c.Server.MaxConnections != 2 {
		t.Fatalf("dot file: used=%q err=%v max=%d", used, err, c.Server.MaxConnections)
	}
	if c.Client.AuthKeyPath != filepath.Join(home, ".ssh", "id_rsa") {
		t.Fatalf("AuthKeyPath %q does not use the given home", c.Client.AuthKeyPath)
	}

	// The XDG location wins and only one file is loaded.
	writeFile(t, xdg, `{"Server": {"MaxConcurrentCats": 3}}`)
	c, used, err = Load("", home)
	if err != nil || used != xdg || c.Server.MaxConcurrentCats != 3 || c.Server.MaxConnections != 10 {
		t.Fatalf("xdg file: used=%q err=%v %+v", used, err, c.Server)
	}

	// A broken file found by the search is an error, not a silent fallback.
	writeFile(t, xdg, `{"Server": {"MaxConcurrentCats": "3"}}`)
	_, used, err = Load("", home)
	if want := xdg + `:1: Server.MaxConcurrentCats: expected integer, got string "3"`; err == nil || err.Error() != want || used != xdg {
		t.Fatalf("broken xdg file: used=%q err=%v", used, err)
	}

	for _, none := range []string{"none", "NONE", "None"} {
		c, used, err = Load(none, home)
		if err != nil || used != "" || !reflect.DeepEqual(c, DefaultWithHome(home)) {
			t.Fatalf("%s: used=%q err=%v", none, used, err)
		}
	}

	explicit := filepath.Join(t.TempDir(), "dtail.json")
	writeFile(t, explicit, `{"Common": {"SSHPort": 2300}}`)
	c, used, err = Load(explicit, home)
	if err != nil || used != explicit || c.Common.SSHPort != 2300 || c.Server.MaxConcurrentCats != 2 {
		t.Fatalf("explicit: used=%q err=%v", used, err)
	}

	missing := filepath.Join(home, "missing.json")
	if _, _, err = Load(missing, home); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing explicit file: err=%v", err)
	}

	// Without a home nothing is searched.
	c, used, err = Load("", "")
	if err != nil || used != "" || c.Client.AuthKeyPath != "" {
		t.Fatalf("no home: used=%q err=%v path=%q", used, err, c.Client.AuthKeyPath)
	}
}

func TestLoadSearchDirectoryIsError(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".config", "dtail", "dtail.conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load("", home); err == nil {
		t.Fatal("a directory in place of the config file must be reported")
	}
}

func TestExpandHome(t *testing.T) {
	tests := []struct{ path, home, want string }{
		{"~/log", "/home/a", "/home/a/log"},
		{"~/log/", "/home/a", "/home/a/log"},
		{"~", "/home/a", "/home/a"},
		{"~/", "/home/a", "/home/a"},
		{"~bob/log", "/home/a", "~bob/log"},
		{"/var/log", "/home/a", "/var/log"},
		{"log/~/x", "/home/a", "log/~/x"},
		{"~/log", "", "~/log"},
		{"", "/home/a", ""},
	}
	for _, tt := range tests {
		if got := ExpandHome(tt.path, tt.home); got != tt.want {
			t.Errorf("ExpandHome(%q, %q) = %q, want %q", tt.path, tt.home, got, tt.want)
		}
	}
}

func TestTermColorsNames(t *testing.T) {
	names := DefaultWithHome("").Client.TermColors.Names()
	// §5.6.3: 8 Remote, 4 Client, 4 Server, 3 Common, 5 MaprTable triples + 2 single attrs.
	if want := (8+4+4+3+5)*3 + 2; len(names) != want {
		t.Fatalf("got %d keys, want %d", len(names), want)
	}
	for key, want := range map[string]string{
		"Remote.DelimiterAttr":         "Dim",
		"Remote.DelimiterBg":           "Blue",
		"Remote.DelimiterFg":           "Cyan",
		"Client.ClientBg":              "Yellow",
		"Server.ServerFg":              "Black",
		"Common.SeverityWarnAttr":      "Bold",
		"MaprTable.HeaderSortKeyAttr":  "Underline",
		"MaprTable.HeaderGroupKeyAttr": "Reverse",
	} {
		if names[key] != want {
			t.Errorf("%s = %q, want %q", key, names[key], want)
		}
	}
}
