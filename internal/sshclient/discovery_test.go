package sshclient

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// noShuffle keeps the discovered order so expectations can be literal.
func noShuffle(int, func(i, j int)) {}

func addrs(list []Server) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.Addr()
	}
	return out
}

func TestServerList(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "servers.txt")
	content := "# fleet\nweb1\n\n  web2:2200  \r\n#web3\ndb1:22\nweb1:2222\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		servers   string
		discovery string
		want      []string
		wantErr   string
	}{
		{name: "empty is serverless", servers: "", want: []string{}},
		{name: "serverless literal", servers: "serverless", want: []string{}},
		{name: "comma list", servers: "a,b:1234,,c", want: []string{"a:2222", "b:1234", "c:2222"}},
		{name: "dedupe keeps first", servers: "b,a,b,a:2222,a:2223", want: []string{"b:2222", "a:2222", "a:2223"}},
		{name: "file", servers: file, want: []string{"web1:2222", "web2:2200", "db1:22"}},
		{name: "file module", servers: file, discovery: "FILE", want: []string{"web1:2222", "web2:2200", "db1:22"}},
		{name: "comma module lower case", servers: "x,y", discovery: "comma", want: []string{"x:2222", "y:2222"}},
		{name: "module options ignored", servers: "x", discovery: "COMMA:whatever", want: []string{"x:2222"}},
		{name: "regex without module is empty", servers: "/web/", want: []string{}},
		{name: "regex filters module list", servers: "/^web/", discovery: "FILE:" + file, want: []string{"web1:2222", "web2:2200"}},
		{name: "regex over comma options", servers: "/2$/", discovery: "COMMA:a1,a2,b2", want: []string{"a2:2222", "b2:2222"}},
		{name: "bracketed ipv6 with port", servers: "[::1]:2200", want: []string{"[::1]:2200"}},
		{name: "bracketed ipv6 default port", servers: "[fe80::1]", want: []string{"[fe80::1]:2222"}},
		{name: "bare ipv6", servers: "2001:db8::1", want: []string{"[2001:db8::1]:2222"}},
		{name: "ipv4 with port", servers: "10.0.0.1:22", want: []string{"10.0.0.1:22"}},
		{name: "non-numeric port", servers: "a,b:ssh", wantErr: `invalid server entry "b:ssh": port "ssh"`},
		{name: "port out of range", servers: "b:70000", wantErr: `invalid server entry "b:70000"`},
		{name: "empty port", servers: "b:", wantErr: `invalid server entry "b:"`},
		{name: "empty host", servers: ":22", wantErr: `invalid server entry ":22": empty host`},
		{name: "garbage colons", servers: "a:b:c", wantErr: `invalid server entry "a:b:c"`},
		{name: "unclosed bracket", servers: "[::1:22", wantErr: `missing ']'`},
		{name: "unknown module", servers: "a", discovery: "LDAP", wantErr: `unknown discovery module "LDAP"`},
		{name: "empty module name", servers: "a", discovery: ":x", wantErr: `unable to parse discovery module ":x"`},
		{name: "empty module options", servers: "a", discovery: "FILE:", wantErr: `unable to parse discovery module "FILE:"`},
		{name: "missing file via module", servers: filepath.Join(dir, "nope"), discovery: "FILE", wantErr: "unable to read server list"},
		{name: "bad regex", servers: "/(/", wantErr: "invalid server filter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Discovery{Shuffle: noShuffle}.ServerList(tc.servers, tc.discovery, 2222)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(addrs(got), tc.want) {
				t.Fatalf("got %q, want %q", addrs(got), tc.want)
			}
		})
	}
}

func TestServerListCustomModuleAndShuffle(t *testing.T) {
	var gotOptions, gotSource string
	d := Discovery{
		Modules: map[string]DiscoveryModule{"CMDB": func(options, source string) ([]string, error) {
			gotOptions, gotSource = options, source
			return []string{"a", "b", "c"}, nil
		}},
		// Reversing proves the shuffle hook is applied to the final list.
		Shuffle: func(n int, swap func(i, j int)) {
			for i := 0; i < n/2; i++ {
				swap(i, n-1-i)
			}
		},
	}
	got, err := d.ServerList("ignored", "cmdb:prod", 2222)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c:2222", "b:2222", "a:2222"}; !reflect.DeepEqual(addrs(got), want) {
		t.Fatalf("got %q, want %q", addrs(got), want)
	}
	if gotOptions != "prod" || gotSource != "ignored" {
		t.Fatalf("module got options %q source %q", gotOptions, gotSource)
	}
	if got[0].Name != "c" {
		t.Fatalf("Name = %q, want the entry as given", got[0].Name)
	}
}

func TestServerListDefaultShuffleKeepsAll(t *testing.T) {
	got, err := ServerList("a,b,c,d,e", "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("got %d servers, want 5", len(got))
	}
}
