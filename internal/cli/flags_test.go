package cli

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func TestParseClient(t *testing.T) {
	cases := []struct {
		name    string
		binary  string
		args    []string
		files   string
		query   string
		regex   string
		wantErr string
	}{
		{"positional files", DCat, []string{"a.log", "b.log"}, "a.log,b.log", "", "", ""},
		{"double dash value", DGrep, []string{"--regex=ERROR", "x.log"}, "x.log", "", "ERROR", ""},
		{"grep alias wins", DGrep, []string{"-regex", "A", "-grep", "B", "x"}, "x", "", "B", ""},
		{"positional query", DMap, []string{"from STATS select count($line)", "a.log"}, "a.log", "from STATS select count($line)", "", ""},
		{"files flag and positionals both read", DTail, []string{"-files", "x.log", "from T select a", "y.log"}, "x.log,y.log", "from T select a", ".", ""},
		{"negative max", DGrep, []string{"--max", "-1"}, "", "", "", "invalid value -1 for flag -max"},
		{"unknown flag", DCat, []string{"-bogus"}, "", "", "", "unknown flag -bogus; see 'dcat -h' for the flags"},
		{"dcat has no regex", DCat, []string{"-regex", "x"}, "", "", "", "unknown flag -regex"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseClient(tc.binary, tc.args, "me", io.Discard)
			if tc.wantErr != "" {
				var ue *UsageError
				if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want usage error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Files != tc.files || f.Query != tc.query || f.Regex != tc.regex {
				t.Fatalf("files %q query %q regex %q", f.Files, f.Query, f.Regex)
			}
		})
	}
}

func TestParseClientHelp(t *testing.T) {
	var out strings.Builder
	if _, err := ParseClient(DGrep, []string{"-h"}, "me", &out); !errors.Is(err, ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(out.String(), "-regex") {
		t.Fatal("usage must list the flags")
	}
	// RunClient prints -h to stdout (grep's habit) and exits 0.
	var stdout, stderr strings.Builder
	env := Env{Args: []string{"-h"}, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	if code := RunClient(DGrep, env); code != 0 || !strings.Contains(stdout.String(), "-ignore-case") || stderr.Len() != 0 {
		t.Fatalf("exit %d, stdout %d bytes, stderr %q", code, stdout.Len(), stderr.String())
	}
}

func TestFileList(t *testing.T) {
	got := strings.Join(FileList(" a.log, ,b.log,, "), "|")
	if got != "a.log|b.log" {
		t.Fatalf("got %q", got)
	}
}

func FuzzParseClient(f *testing.F) {
	f.Add("dgrep", "--regex\x00ERROR\x00--max\x003\x00a.log")
	f.Add("dtail", "-files\x00x\x00-shutdownAfter=5")
	f.Add("dmap", "from STATS select count($line)\x00-timeout\x00-3")
	f.Fuzz(func(t *testing.T, binary, joined string) {
		switch binary {
		case DTail, DCat, DGrep, DMap:
		default:
			binary = DCat
		}
		args := strings.Split(joined, "\x00")
		f, err := ParseClient(binary, args, "me", io.Discard)
		if err != nil {
			if errors.Is(err, ErrHelp) {
				return
			}
			var ue *UsageError
			// The message quotes the offending argument, which may itself
			// contain anything; it must be a usage error, not a panic.
			if !errors.As(err, &ue) {
				t.Fatalf("error must be a usage error: %v", err)
			}
			return
		}
		if f.Max < 0 || f.Before < 0 || f.After < 0 || f.Timeout < 0 {
			t.Fatalf("negative values accepted: %+v", f)
		}
	})
}

func TestServerListHostSets(t *testing.T) {
	home := t.TempDir()
	dir := groupsDir(home)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(dir+"/db", []byte("db[1-3]\n"), 0o644)
	cases := []struct {
		servers, exclude string
		pick             int
		want             int
		err              string
	}{
		{"web[01-10].dc1", "", 0, 10, ""},
		{"web[01-10].dc1,@db", "web[01-05].dc1,db2", 0, 7, ""},
		{"web[001-500]", "", 3, 3, ""},
		{"web[1-", "", 0, 0, "unbalanced"},
		{"h[1-100001]", "", 0, 0, "more than 100000"},
	}
	for _, tc := range cases {
		f := &ClientFlags{Servers: tc.servers, Exclude: tc.exclude, Pick: tc.pick}
		got, err := serverList(f, 2222, home)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v", tc.servers, err)
			}
			continue
		}
		if err != nil || len(got) != tc.want {
			t.Errorf("%s: %d servers (%v), want %d", tc.servers, len(got), err, tc.want)
		}
	}
}
