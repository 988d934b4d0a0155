package sshconfig

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// oracleCases are configurations and the host names looked up in them;
// each is checked against what OpenSSH's own parser (ssh -G -F) makes of
// them.
var oracleCases = []struct {
	name  string
	conf  string
	hosts []string
}{
	{"alias", "Host loghost\n  HostName 127.0.0.1\n  Port 2223\n  User alice\n", []string{"loghost", "LogHost", "other"}},
	{"first wins", "Host web*\n Port 1\n User a\nHost *\n Port 2\n User b\n HostName fallback.example\n", []string{"web1", "db1"}},
	{"equals", "Host=x\nPort=5\nUser = bob\nHostName =h.example # comment\n", []string{"x", "y"}},
	{"patterns", "Host a?c !abc *z\n Port 7\nHost *\n Port 8\n", []string{"abc", "axc", "bz", "abz", "zz", "ac"}},
	{"negation only", "Host !foo\n Port 9\n", []string{"foo", "bar"}},
	{"quotes", "Host q\n User \"a b\"\n IdentityFile \"/x y/id\"\n IdentityFile '/s q'\n IdentityFile /e\\ s\n", []string{"q"}},
	{"identity files", "Host i\n IdentityFile ~/.ssh/one\n IdentityFile ~/k_%h_%p_%r_%u_%%\nHost *\n IdentityFile /etc/k\n IdentitiesOnly yes\n", []string{"i", "j"}},
	{"hostname token", "Host t*\n HostName %h.internal.example\n", []string{"t1", "x"}},
	{"proxyjump", "Host p\n ProxyJump u@j1:23,j2,ssh://v@j3:4\nHost p6\n ProxyJump [::1]:4\nHost n\n ProxyJump none\n HostName n.example\nHost *\n ProxyJump bastion\n", []string{"p", "p6", "n", "z"}},
	{"proxycommand first", "Host c\n ProxyCommand ssh -W %h:%p b\n ProxyJump j\n", []string{"c"}},
	{"hostkeyalias", "Host h\n HostKeyAlias alias.example\n CheckHostIP no\n ServerAliveInterval 30\n", []string{"h"}},
	{"keyword case", "HOST Up\n PORT 44\n user Low\n", []string{"Up"}},
	{"global before host", "Port 3000\nUser early\nHost g\n Port 1\n", []string{"g", "h"}},
	{"match skipped", "Host m\n Port 10\nMatch host nothing-matches-this\n Port 11\n User inmatch\nHost *\n User after\n", []string{"m", "k"}},
	{"match all", "Host m\n Port 10\nMatch all\n User everyone\n", []string{"m", "k"}},
	{"comment word", "Host w # the w host\n Port 12 # twelve\n", []string{"w", "#"}},
	{"tabs crlf", "Host\ttab\r\n\tPort\t13\r\n", []string{"tab"}},
}

// sshG runs OpenSSH's parser on conf for host and returns its settings.
func sshG(t *testing.T, ssh, conf, host string) (map[string][]string, error) {
	t.Helper()
	cmd := exec.Command(ssh, "-G", "-F", conf, "--", host)
	cmd.Stdin = nil
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, err
	}
	m := map[string][]string{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		m[k] = append(m[k], v)
	}
	return m, nil
}

func lookPathSSH(t *testing.T) string {
	p, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("OpenSSH's ssh is not installed: the oracle tests need it (ssh -G)")
	}
	return p
}

func TestLookupAgainstSSHG(t *testing.T) {
	ssh := lookPathSSH(t)
	dir := t.TempDir()
	home, _ := os.UserHomeDir()
	local := os.Getenv("USER")
	if local == "" {
		local = "root"
	}
	for _, tc := range oracleCases {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
		if err := os.WriteFile(path, []byte(tc.conf), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, Options{Home: home}, false)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, host := range tc.hosts {
			want, err := sshG(t, ssh, path, host)
			if err != nil {
				t.Fatalf("%s: ssh -G %s: %v", tc.name, host, err)
			}
			if want["user"] != nil && want["user"][0] != local && !strings.Contains(tc.conf, "User") {
				// ssh uses the account name; adjust for the test's user.
				local = want["user"][0]
			}
			h := c.Lookup(host)
			got := map[string][]string{}
			hn := h.HostName
			if hn == "" {
				hn = host
			} else if hn, err = ExpandHostName(hn, host); err != nil {
				t.Fatal(err)
			}
			got["hostname"] = []string{strings.ToLower(hn)}
			port := h.Port
			if port == 0 {
				port = 22
			}
			got["port"] = []string{itoa(port)}
			user := h.User
			if user == "" {
				user = want["user"][0] // the local account, whatever it is
				if strings.Contains(tc.conf, "User") && c.Lookup(host).User != "" {
					user = h.User
				}
			}
			got["user"] = []string{user}
			if len(h.IdentityFiles) > 0 {
				got["identityfile"] = h.IdentityFiles
			} else {
				got["identityfile"] = want["identityfile"] // ssh's defaults
			}
			if h.IdentitiesOnly {
				got["identitiesonly"] = []string{"yes"}
			} else {
				got["identitiesonly"] = []string{"no"}
			}
			if h.HostKeyAlias != "" {
				got["hostkeyalias"] = []string{h.HostKeyAlias}
			}
			if h.ProxyCommand != "" {
				got["proxycommand"] = []string{h.ProxyCommand}
			}
			var gotJumps, wantJumps []Jump
			gotJumps = h.ProxyJump
			if pj := want["proxyjump"]; pj != nil {
				if wantJumps, err = ParseJumps(pj[0]); err != nil {
					t.Fatalf("%s/%s: ssh -G printed proxyjump %q: %v", tc.name, host, pj[0], err)
				}
			}
			if !reflect.DeepEqual(gotJumps, wantJumps) {
				t.Errorf("%s/%s: ProxyJump %v, ssh -G says %v", tc.name, host, gotJumps, wantJumps)
			}
			for _, k := range []string{"hostname", "port", "user", "identityfile", "identitiesonly", "hostkeyalias", "proxycommand"} {
				if !reflect.DeepEqual(got[k], want[k]) {
					t.Errorf("%s/%s: %s = %q, ssh -G says %q", tc.name, host, k, got[k], want[k])
				}
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestErrorsAgainstSSHG: what ssh refuses, we refuse (for the keywords we
// read), with the file and line in the message.
func TestErrorsAgainstSSHG(t *testing.T) {
	ssh := lookPathSSH(t)
	dir := t.TempDir()
	for i, conf := range []string{
		"Host x\n Port abc\n",
		"Host x\n Port 0\n",
		"Host x\n Port 70000\n",
		"Host y\n User \"unterminated\n",
		"Host x\n User\n",
		"Host x\n IdentitiesOnly maybe\n",
		"Host x\n ProxyJump u@\n",
		"Host x\n ProxyJump [::1\n",
		"Host other\n Port bad\n", // validated even in a block that does not match
	} {
		path := filepath.Join(dir, "bad"+itoa(i+1))
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := sshG(t, ssh, path, "x"); err == nil {
			t.Fatalf("ssh -G accepts %q; the case is wrong", conf)
		}
		_, err := Load(path, Options{Home: dir}, false)
		if err == nil {
			t.Errorf("%q: accepted, ssh refuses it", conf)
			continue
		}
		if !strings.Contains(err.Error(), path+" line ") {
			t.Errorf("%q: error %q does not name the file and line", conf, err)
		}
	}
}

func TestIncludeRelativeAndGlob(t *testing.T) {
	home := t.TempDir()
	sshDir := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(filepath.Join(sshDir, "conf.d"), 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(sshDir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("conf.d/10-web.conf", "Host web\n HostName 10.0.0.1\n Port 2001\n")
	write("conf.d/20-db.conf", "Host db\n HostName 10.0.0.2\nHost web\n Port 9999\n User webuser\n")
	write("later.conf", "Host *\n User fromlater\n")
	main := write("config", "Include conf.d/*.conf\nInclude nothing-here-*.conf\nHost ~x\nHost db\n Include ~/.ssh/later.conf\n Port 3000\n")
	c, err := Load(main, Options{Home: home, CheckPerm: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	if h := c.Lookup("web"); h.HostName != "10.0.0.1" || h.Port != 2001 || h.User != "webuser" {
		t.Errorf("web: %+v", h)
	}
	// The Host * inside later.conf applies to db (its include sits in the
	// db block) and, after the include, the db block goes on.
	if h := c.Lookup("db"); h.HostName != "10.0.0.2" || h.Port != 3000 || h.User != "fromlater" {
		t.Errorf("db: %+v", h)
	}
	// later.conf is included only inside "Host db": it never matches web2.
	if h := c.Lookup("web2"); h.User != "" || h.Port != 0 {
		t.Errorf("web2: %+v", h)
	}
}

func TestIncludeLoopAndPermissions(t *testing.T) {
	home := t.TempDir()
	sshDir := filepath.Join(home, ".ssh")
	os.MkdirAll(sshDir, 0o700)
	loop := filepath.Join(sshDir, "loop")
	os.WriteFile(loop, []byte("Include loop\n"), 0o600)
	if _, err := Load(loop, Options{Home: home}, false); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("include loop: %v", err)
	}
	open := filepath.Join(sshDir, "open")
	os.WriteFile(open, []byte("Host x\n Port 1\n"), 0o600)
	os.Chmod(open, 0o666)
	if _, err := Load(open, Options{Home: home, CheckPerm: true}, false); err == nil || !strings.Contains(err.Error(), "bad owner or permissions") {
		t.Errorf("group/world-writable config: %v", err)
	}
	inc := filepath.Join(sshDir, "inc")
	os.WriteFile(inc, []byte("Include open\n"), 0o600)
	if _, err := Load(inc, Options{Home: home}, false); err == nil || !strings.Contains(err.Error(), "bad owner or permissions") {
		t.Errorf("writable included file: %v", err)
	}
	if c, err := Load(filepath.Join(home, "missing"), Options{Home: home}, true); err != nil || c == nil {
		t.Errorf("missing default config: %v", err)
	}
	if _, err := Load(filepath.Join(home, "missing"), Options{Home: home}, false); err == nil {
		t.Error("missing explicit config accepted")
	}
}

func TestMatchWarnsOnce(t *testing.T) {
	c, err := Parse("cfg", []byte("Match host a\n Port 1\nMatch user b\n Port 2\nHost x\n Port 3\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 2 || !strings.Contains(c.Warnings[0], "Match blocks are not supported") {
		t.Errorf("warnings %q", c.Warnings)
	}
	if h := c.Lookup("a"); h.Port != 0 {
		t.Errorf("Match block applied: %+v", h)
	}
	if h := c.Lookup("x"); h.Port != 3 {
		t.Errorf("Host after Match: %+v", h)
	}
}

func TestExpandPath(t *testing.T) {
	tk := Tokens{Alias: "lh", Host: "10.0.0.1", Port: 2222, RemoteUser: "r", LocalUser: "u", Home: "/home/u", UID: 1000}
	for in, want := range map[string]string{
		"~/.ssh/id_%h":        "/home/u/.ssh/id_10.0.0.1",
		"%d/k_%n_%p_%r_%u_%i": "/home/u/k_lh_2222_r_u_1000",
		"/x/100%%":            "/x/100%",
		"plain":               "plain",
	} {
		if got, err := tk.ExpandPath(in); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"%z", "trailing%"} {
		if _, err := tk.ExpandPath(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if got, err := ExpandHostName("%h.example.%%", "web"); err != nil || got != "web.example.%" {
		t.Errorf("HostName: %q %v", got, err)
	}
	if _, err := ExpandHostName("%p", "web"); err == nil {
		t.Errorf("HostName with a %s token accepted", "%p")
	}
}

func TestMatchPattern(t *testing.T) {
	for _, tc := range []struct {
		p, n string
		ok   bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abcd", false},
		{"?", "a", true}, {"?", "", false}, {"*.example.com", "web.example.com", true},
		{"*.example.com", "example.com", false}, {"a**b", "ab", true}, {"Web", "web", false},
	} {
		if Match(tc.p, tc.n) != tc.ok {
			t.Errorf("Match(%q, %q) = %v", tc.p, tc.n, !tc.ok)
		}
	}
}
