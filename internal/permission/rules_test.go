package permission

import (
	"errors"
	"reflect"
	"testing"
)

func TestSplitRule(t *testing.T) {
	for _, tc := range []struct{ in, typ, rest string }{
		{"^/var/log/", "readfiles", "^/var/log/"},
		{"readfiles:^/tmp/foo.log$", "readfiles", "^/tmp/foo.log$"},
		{"readfiles:!^/tmp/bar.log$", "readfiles", "!^/tmp/bar.log$"},
		{"readfiles:^/a:b$", "readfiles", "^/a:b$"},
		// The documented mis-split: a type-less rule containing ':'.
		{"^/a:b$", "^/a", "b$"},
		{"other:x", "other", "x"},
	} {
		typ, rest := splitRule(tc.in)
		if typ != tc.typ || rest != tc.rest {
			t.Errorf("splitRule(%q) = %q, %q; want %q, %q", tc.in, typ, rest, tc.typ, tc.rest)
		}
	}
}

func TestRulesAllowed(t *testing.T) {
	spec := []string{"readfiles:^/tmp/foo.log$", "readfiles:^/.*$", "readfiles:!^/tmp/bar.log$"}
	for _, tc := range []struct {
		name  string
		rules []string
		path  string
		want  bool
	}{
		{"spec example allows others", spec, "/tmp/foo.log", true},
		{"spec example allows any", spec, "/etc/hosts", true},
		{"spec example denies bar", spec, "/tmp/bar.log", false},
		{"deny before allow wins", []string{"!bar", "^/"}, "/tmp/bar.log", false},
		{"deny after allow wins", []string{"^/", "!bar"}, "/tmp/bar.log", false},
		{"no match denies", []string{"^/var/log/"}, "/etc/passwd", false},
		{"unanchored match", []string{"log"}, "/var/log/x", true},
		{"only deny rules deny all", []string{"!^/etc/"}, "/var/log/x", false},
		{"default type", []string{"^/var/log/.*\\.log$"}, "/var/log/a.log", true},
		{"other types ignored", []string{"write:^/", "^/var/"}, "/etc/x", false},
		{"mis-split rule ignored", []string{"^/a:b"}, "/a:b", false},
		{"journal spec", []string{"readfiles:^journal:ssh"}, "journal:sshd", true},
		{"empty regex matches all", []string{"readfiles:"}, "/x", true},
		{"empty deny regex denies all", []string{"^/", "readfiles:!"}, "/x", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := CompileRules(tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Allowed(tc.path); got != tc.want {
				t.Errorf("Allowed(%q) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

func TestRulesInvalidRegexDeniesAll(t *testing.T) {
	r, err := CompileRules([]string{"^/", "readfiles:!([", "^/var/"})
	if !errors.Is(err, ErrInvalidRule) {
		t.Fatalf("err = %v, want ErrInvalidRule", err)
	}
	if r == nil || r.Allowed("/var/log/x") {
		t.Fatal("rule set with an invalid regex must deny")
	}
	if _, why := r.explain("/x"); why == "" {
		t.Error("no reason given")
	}
	// An invalid regex in an ignored type does not poison the list.
	r, err = CompileRules([]string{"^/", "other:(["})
	if err != nil || !r.Allowed("/x") {
		t.Fatalf("ignored invalid rule: err=%v allowed=%v", err, r.Allowed("/x"))
	}
}

func TestRulesEmpty(t *testing.T) {
	for _, list := range [][]string{nil, {}} {
		r, err := CompileRules(list)
		if !errors.Is(err, ErrNoRules) || !r.Empty() || r.Allowed("/x") {
			t.Fatalf("empty list: err=%v empty=%v", err, r.Empty())
		}
	}
	if ErrNoRules.Error() != "Empty set of permission, user won't be able to open any files" {
		t.Errorf("ErrNoRules text changed: %q", ErrNoRules)
	}
	var nilRules *Rules
	if !nilRules.Empty() || nilRules.Allowed("/x") {
		t.Error("nil rules must be empty and deny")
	}
	// Only non-readfiles rules: not empty (channel accepted) but nothing readable.
	r, err := CompileRules([]string{"other:^/"})
	if err != nil || r.Empty() || r.Allowed("/x") {
		t.Errorf("other-only list: err=%v empty=%v allowed=%v", err, r.Empty(), r.Allowed("/x"))
	}
}

func TestRulesFor(t *testing.T) {
	def := []string{"^/var/log/"}
	users := map[string][]string{"bob": {"^/tmp/"}, "eve": {}, UserSchedule: {"^/x"}}
	for _, tc := range []struct {
		user string
		want []string
	}{
		{"bob", []string{"^/tmp/"}},
		{"alice", def},
		{"eve", []string{}},
		{UserSchedule, def},
		{UserContinuous, def},
		{UserHealth, def},
	} {
		if got := RulesFor(tc.user, def, users); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("RulesFor(%q) = %q, want %q", tc.user, got, tc.want)
		}
	}
	if !IsJobUser(UserSchedule) || !IsJobUser(UserContinuous) || IsJobUser(UserHealth) || IsJobUser("bob") {
		t.Error("IsJobUser")
	}
}
