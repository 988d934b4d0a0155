package manpage

import (
	"strings"

	"github.com/dtail-go/dtail/internal/cli"
)

// Example is one worked example of a man page's EXAMPLES section. Args
// are the binary's arguments exactly as its flag set parses them (the
// test parses every example with internal/cli and every query with
// internal/query); Before and After are shell around the command (a
// producer piped in, a consumer piped to).
type Example struct {
	Text   string
	Before string
	Args   []string
	After  string
}

// CommandLine renders the example as a shell command line for binary.
func (e Example) CommandLine(binary string) string {
	var b strings.Builder
	if e.Before != "" {
		b.WriteString(e.Before + " ")
	}
	b.WriteString(binary)
	for _, a := range e.Args {
		b.WriteString(" " + shellWord(a))
	}
	if e.After != "" {
		b.WriteString(" " + e.After)
	}
	return b.String()
}

// shellWord single-quotes a word when the shell would otherwise split or
// expand it.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:,=@+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// examples are the worked examples per client binary: the grep habits,
// the 4.x spelling, server lists and @groups, queries, receipts and
// NDJSON output.
var examples = map[string][]Example{
	cli.DGrep: {
		{Text: "Lines of a local file that contain ERROR, as grep(1) prints them (no servers: serverless):",
			Args: []string{"ERROR", "app.log"}},
		{Text: "Ignore case, whole words only, two lines of context around each match (-- between groups, as grep prints):",
			Args: []string{"-i", "-w", "-C", "2", "timeout", "app.log"}},
		{Text: "Two fixed strings (either matches) in a compressed file read from stdin:",
			Before: "zcat app.log.1.gz |", Args: []string{"-F", "-e", "a.b(c)", "-e", "[x]"}},
		{Text: "The DTail 4.x spelling: every flag works with two dashes or one, also after the file names:",
			Args: []string{"--files", "/var/log/app.log", "--servers", "web1,web2:2223", "--regex", "status=5[0-9]{2}", "--max", "10"}},
		{Text: "Count the matches per host and file on every host of the group web (the file ~/.config/dtail/groups/web), leaving one host out:",
			Args: []string{"--count", "--servers", "@web", "--exclude", "web07.dc1", "--files", "/var/log/app.log", "status=503"}},
		{Text: "Hosts written as a range; stop at 100 lines in total; the receipt (what was read, what was not) as JSON on stderr:",
			Args: []string{"--servers", "web[01-20].dc1", "--max-total", "100", "--receipt", "json", "--files", "/var/log/app.log", "ERROR"}, After: "2>receipt.json"},
		{Text: "One JSON object per line (host, file, line number, text) for jq(1):",
			Args: []string{"--output", "ndjson", "--servers", "@web", "--files", "/var/log/app.log", "--grep", "ERROR"}, After: "| jq -r .host"},
		{Text: "Only the last two hours of a log, without host prefixes:",
			Args: []string{"--plain", "--since", "-2h", "ERROR", "app.log"}},
	},
	cli.DCat: {
		{Text: "Print a local gzip or zstd file byte for byte (no prefixes, no colours):",
			Args: []string{"--plain", "app.log.2.gz"}},
		{Text: "Print a file of two servers, each line prefixed with its host:",
			Args: []string{"--servers", "db1,db2", "--files", "/var/log/postgresql/postgresql.log"}},
		{Text: "Servers from a file (one per line); the receipt on stderr even when it is not a terminal:",
			Args: []string{"--servers", "hosts.txt", "--files", "/var/log/app.log", "--plain", "--receipt", "text"}, After: "> app.all"},
		{Text: "A server known by its Host alias in ~/.ssh/config (its HostName, Port, User, IdentityFile and ProxyJump apply):",
			Args: []string{"--servers", "loghost", "--files", "/var/log/syslog", "--plain"}},
		{Text: "The lines of all hosts of a group in timestamp order:",
			Args: []string{"--servers", "@web", "--merge-by-time", "--files", "/var/log/app.log"}},
	},
	cli.DTail: {
		{Text: "Follow local files (like tail -F: rotations and new files matching the glob are picked up):",
			Args: []string{"--plain", "/var/log/app/*.log"}},
		{Text: "Follow the nginx logs of two servers, showing only 5xx responses:",
			Args: []string{"--servers", "web1,web2:2223", "--files", "/var/log/nginx/*.log", "--grep", " 50[0-9] "}},
		{Text: "Follow a group of hosts as NDJSON and stop after ten minutes:",
			Args: []string{"--servers", "@web", "--files", "/var/log/app.log", "--output", "ndjson", "--shutdownAfter", "600"}},
		{Text: "A streaming aggregation: requests per host, reported every 10 seconds:",
			Args: []string{"--servers", "@web", "--files", "/var/log/app.log", "--query", "from STATS select $hostname,count($line),avg(latency_ms) group by $hostname interval 10"}},
	},
	cli.DMap: {
		{Text: "Goroutines per host from dserver's own stats lines (log format default):",
			Args: []string{"--query", "from STATS select $hostname,count($line),max($goroutines),avg($goroutines) group by $hostname", "/var/log/dserver/dserver.log"}},
		{Text: "Latency per action (key=value fields after MAPREDUCE:STATS) over a group of hosts, largest count first, top five:",
			Args: []string{"--servers", "@web", "--files", "/var/log/app.log", "--query",
				"from STATS select action,count($line),avg(latency_ms),p99(latency_ms) group by action order by count($line) limit 5"}},
		{Text: "Only slow POST requests (a quoted string is a literal, a bare word a field), written as CSV:",
			Args: []string{"--query", `from STATS select status,count($line),max(latency_ms) where latency_ms > 4000 and action eq "POST" group by status outfile slow.csv`, "app.log"}},
		{Text: "Aggregate a CSV file; a set assignment masks the digits of each user id:",
			Args: []string{"--query", "select $masked,count($line) group by $masked set $masked = maskdigits(user) logformat csv", "users.csv"}},
		{Text: "Treat query warnings (a field no line has, lines the format skipped) as errors, for scripts:",
			Args: []string{"--strict", "--query", "from STATS select action,count($line) group by action", "app.log"}},
	},
}
