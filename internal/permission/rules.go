package permission

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// TypeReadFiles is the only rule type DTail evaluates; rules of other types
// are carried in the configuration but never consulted.
const TypeReadFiles = "readfiles"

// Reserved SSH user names (spec §4.3). The job users bypass the UNIX and regex
// checks when opening files; all three are checked against the default rules
// for accepting the channel.
const (
	UserHealth     = "DTAIL-HEALTH"
	UserSchedule   = "DTAIL-SCHEDULE"
	UserContinuous = "DTAIL-CONTINUOUS"
)

// IsJobUser reports whether user is one of the reserved job users whose file
// reads skip the permission checks (spec §4.6 step 5).
func IsJobUser(user string) bool { return user == UserSchedule || user == UserContinuous }

func isReservedUser(user string) bool { return user == UserHealth || IsJobUser(user) }

type rule struct {
	src  string
	deny bool
	re   *regexp.Regexp
}

// Rules is a compiled, immutable permission rule list, safe for concurrent
// use.
type Rules struct {
	total   int
	rules   []rule // readfiles rules only, in configuration order
	invalid error  // non-nil: at least one readfiles regex is invalid
}

// RulesFor returns the effective rule strings for an SSH user: a user entry,
// when present (even if empty), replaces the defaults entirely. The reserved
// users always get the defaults, as the spec checks their channel against
// Permissions.Default.
func RulesFor(user string, defaults []string, users map[string][]string) []string {
	if isReservedUser(user) {
		return defaults
	}
	if list, ok := users[user]; ok {
		return list
	}
	return defaults
}

// splitRule applies the spec's split: a rule with a ':' is TYPE:RULE with the
// rest re-joined, so a type-less rule containing ':' is mis-split on purpose
// to stay compatible (it then has an unknown type and is ignored).
func splitRule(s string) (typ, rest string) {
	typ, rest, found := strings.Cut(s, ":")
	if !found {
		return TypeReadFiles, s
	}
	return typ, rest
}

// CompileRules compiles rule strings of the form [TYPE:][!]REGEX. The
// returned *Rules is never nil, so a caller can log the error and keep a rule
// set that fails closed: with an empty list the error is ErrNoRules, with an
// invalid readfiles regex it wraps ErrInvalidRule, and in both cases Allowed
// always returns false.
func CompileRules(list []string) (*Rules, error) {
	r := &Rules{total: len(list)}
	if len(list) == 0 {
		return r, ErrNoRules
	}
	var errs []error
	for _, s := range list {
		typ, expr := splitRule(s)
		if typ != TypeReadFiles {
			continue
		}
		deny := strings.HasPrefix(expr, "!")
		if deny {
			expr = expr[1:]
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w %q: %v", ErrInvalidRule, s, err))
			continue
		}
		r.rules = append(r.rules, rule{src: s, deny: deny, re: re})
	}
	r.invalid = errors.Join(errs...)
	return r, r.invalid
}

// Empty reports whether the effective list had no rules at all, which makes
// the server reject the channel (ErrNoRules).
func (r *Rules) Empty() bool { return r == nil || r.total == 0 }

// Allowed applies the §2.5 evaluation to a resolved absolute path (or a
// journal:UNIT spec): any matching deny rule denies, otherwise at least one
// matching allow rule is needed. No match, an empty list and an invalid regex
// anywhere in the list all deny.
func (r *Rules) Allowed(path string) bool {
	ok, _ := r.explain(path)
	return ok
}

// explain is Allowed plus the reason for the server log.
func (r *Rules) explain(path string) (bool, string) {
	switch {
	case r.Empty():
		return false, "empty permission rule list"
	case r.invalid != nil:
		return false, "rule list contains an invalid regex"
	}
	var allowedBy string
	for _, ru := range r.rules {
		if !ru.re.MatchString(path) {
			continue
		}
		if ru.deny {
			return false, fmt.Sprintf("denied by rule %q", ru.src)
		}
		if allowedBy == "" {
			allowedBy = ru.src
		}
	}
	if allowedBy == "" {
		return false, "no permission rule matches"
	}
	return true, "allowed by rule " + fmt.Sprintf("%q", allowedBy)
}
