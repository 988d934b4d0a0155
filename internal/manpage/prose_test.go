package manpage

import (
	"bytes"
	"io"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/dtail-go/dtail/internal/cli"
	"github.com/dtail-go/dtail/internal/client"
	"github.com/dtail-go/dtail/internal/query"
)

// TestClientExitStatusIsTheCode: the EXIT STATUS of every client page
// lists exactly the codes internal/client returns, and the signal codes
// it names are ExitSignal's.
func TestClientExitStatusIsTheCode(t *testing.T) {
	want := []string{strconv.Itoa(client.ExitOK), strconv.Itoa(client.ExitPartial), strconv.Itoa(client.ExitFatal), "128+N"}
	for _, c := range Commands() {
		if c.Section != 1 || c.Name == cli.DTailHealth {
			continue
		}
		var codes []string
		for _, e := range c.Exit {
			codes = append(codes, e.Code)
		}
		if !slices.Equal(codes, want) {
			t.Errorf("%s: EXIT STATUS codes %q, want %q", c.Name, codes, want)
		}
		man := render(t, func(b *bytes.Buffer) error { return WriteMan(b, c) })
		sec := man[strings.Index(man, ".SH EXIT STATUS"):]
		sec = sec[:strings.Index(sec[1:], ".SH ")+1]
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			if n := strconv.Itoa(client.ExitSignal(sig)); !strings.Contains(sec, n+" after "+strings.ToUpper(unixName(sig))) {
				t.Errorf("%s: EXIT STATUS does not give %s after %v", c.Name, n, sig)
			}
		}
		// The DTail 4.x text this page used to carry (exit 0 with an
		// unreachable server) is not what the binaries do.
		if strings.Contains(sec, "also when a server was unreachable") {
			t.Errorf("%s: EXIT STATUS still describes DTail 4.x's exit 0 after failures", c.Name)
		}
	}
}

func unixName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// TestExamplesParse: every example is a command line its binary accepts,
// every query in one parses, and between them the examples show the grep
// habits, server lists, @groups, queries, receipts and NDJSON.
func TestExamplesParse(t *testing.T) {
	all := map[string]bool{}
	for _, c := range Commands() {
		if c.Section != 1 || c.Name == cli.DTailHealth {
			continue
		}
		if len(c.Examples) < 3 {
			t.Errorf("%s: %d examples", c.Name, len(c.Examples))
		}
		for _, e := range c.Examples {
			f, err := cli.ParseClient(c.Name, e.Args, "someone", io.Discard)
			if err != nil {
				t.Errorf("%s: example %q: %v", c.Name, e.CommandLine(c.Name), err)
				continue
			}
			if f.Query != "" {
				if _, err := query.Parse(f.Query); err != nil {
					t.Errorf("%s: example query %q: %v", c.Name, f.Query, err)
				}
				all["query"] = true
			}
			if c.Name == cli.DGrep && !f.IsSet("regex") && !f.IsSet("grep") && !f.IsSet("e") {
				all["positional pattern"] = true
			}
			for _, fl := range []string{"servers", "receipt", "output", "i", "w", "C", "F", "e", "count"} {
				if f.IsSet(fl) {
					all[fl] = true
				}
			}
			if strings.Contains(f.Servers, "@") {
				all["@group"] = true
			}
			if f.Output == "ndjson" {
				all["ndjson"] = true
			}
		}
		if c.Name == cli.DMap || c.Name == cli.DTail {
			man := render(t, func(b *bytes.Buffer) error { return WriteMan(b, c) })
			if !strings.Contains(man, ".SH QUERY LANGUAGE") || !strings.Contains(man, ".SH EXAMPLES") {
				t.Errorf("%s: no QUERY LANGUAGE or EXAMPLES section", c.Name)
			}
		}
	}
	for _, want := range []string{"query", "positional pattern", "servers", "@group", "receipt", "ndjson", "i", "w", "C", "F", "e", "count"} {
		if !all[want] {
			t.Errorf("no example shows %s", want)
		}
	}
}

// TestQueryGrammarKeywords: the grammar names every clause keyword and
// the page every aggregation, operator and function the parser knows.
func TestQueryGrammarKeywords(t *testing.T) {
	w := query.Words()
	for _, k := range w.Keywords {
		found := false
		for _, l := range strings.Split(queryGrammar, "\n") {
			found = found || strings.HasPrefix(l, k+" ") || strings.Contains(l, "("+k+" by") || strings.HasPrefix(l, k)
		}
		if !found {
			t.Errorf("query grammar lacks the clause %q", k)
		}
	}
	man := render(t, func(b *bytes.Buffer) error { return WriteMan(b, command(t, cli.DMap)) })
	for _, list := range [][]string{w.Aggregations, w.NumericOps, w.StringOps, w.Functions, w.Variables} {
		for _, word := range list {
			if !strings.Contains(man, roff(word)) {
				t.Errorf("dmap(1) does not name %q", word)
			}
		}
	}
}
