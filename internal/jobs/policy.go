package jobs

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/dtail-go/dtail/internal/config"
	"github.com/dtail-go/dtail/internal/protocol"
)

// SessionPolicy holds a job user's session to its job: the job password
// must not buy a general-purpose reader. The session may install the job's
// own query (with any outfile clause: the client writes the outfile, the
// server ignores it) and then read only the job's Files, whose lines go into
// that query's aggregate. Everything else is refused.
type SessionPolicy struct {
	query  string
	files  []*regexp.Regexp
	mapped bool
}

// placeholder matches the date placeholders of Files (spec 2.6), longest
// first; each stands for one YYYYMMDD date in a request.
var placeholder = regexp.MustCompile(`\$(yyyesterday|yyesterday|yesterday|tomorrow|today)`)

// NewSessionPolicy returns the policy of one session of job j. A policy
// is used by one session's command loop only.
func NewSessionPolicy(j config.Job) *SessionPolicy {
	p := &SessionPolicy{query: normalizeQuery(j.Query)}
	for _, f := range fileList(j.Files) {
		var b strings.Builder
		b.WriteString("^")
		last := 0
		for _, m := range placeholder.FindAllStringIndex(f, -1) {
			b.WriteString(regexp.QuoteMeta(f[last:m[0]]))
			b.WriteString("[0-9]{8}")
			last = m[1]
		}
		b.WriteString(regexp.QuoteMeta(f[last:]))
		b.WriteString("$")
		p.files = append(p.files, regexp.MustCompile(b.String()))
	}
	return p
}

func normalizeQuery(q string) string { return strings.Join(strings.Fields(q), " ") }

// Allow reports whether the session may run cmd.
func (p *SessionPolicy) Allow(cmd protocol.Command) error {
	switch cmd.Verb {
	case protocol.VerbAuthKey:
		// Answered by the key store, which refuses job users.
		return nil
	case protocol.VerbMap:
		q := normalizeQuery(cmd.Query())
		if q == p.query {
			p.mapped = true
			return nil
		}
		if rest, ok := strings.CutPrefix(q, p.query+" outfile "); ok && rest != "" && !strings.Contains(rest, " ") {
			p.mapped = true
			return nil
		}
		return errors.New("job sessions may only run their job's query")
	case protocol.VerbCat, protocol.VerbGrep, protocol.VerbTail:
		if !p.mapped {
			// Without the aggregate a read would send the lines
			// themselves.
			return errors.New("job sessions read only into their job's query")
		}
		glob, err := cmd.Glob()
		if err != nil {
			return err
		}
		for _, re := range p.files {
			if re.MatchString(glob) {
				return nil
			}
		}
		return fmt.Errorf("%s is not one of the job's files", glob)
	}
	return fmt.Errorf("%s is not allowed in job sessions", cmd.Verb)
}
