package manpage

import (
	"flag"

	"github.com/dtail-go/dtail/internal/cli"
	"github.com/dtail-go/dtail/internal/keycache"
)

// Command is one binary: its flag set (the one it parses with) and the
// prose of its man page.
type Command struct {
	Name     string
	Section  int
	Summary  string // NAME line after the dash
	Synopsis string // after the binary name
	// Description paragraphs; ".B x" style roff is not allowed here, the
	// text is escaped.
	Description []string
	Exit        []ExitCode // EXIT STATUS
	// Sections follow OPTIONS (e.g. QUERY LANGUAGE).
	Sections []Section
	// Examples is the EXAMPLES section.
	Examples []Example
	Files    [][2]string
	Env      [][2]string
	SeeAlso  []string
	// Positional is what completion offers after the flags: "files" or "".
	Positional string
	FlagSet    *flag.FlagSet
}

var clientEnv = [][2]string{
	{"DTAIL_AUTH_KEY_PATH", "Auth key path when neither -auth-key-path nor -key is given."},
	{"DTAIL_SSH_PRIVATE_KEYFILE_PATH", "Legacy alias of DTAIL_AUTH_KEY_PATH, used only when that is unset."},
	{"DTAIL_KEY_PASSPHRASE", "Passphrase for an encrypted private key file."},
	{"DTAIL_HOSTNAME_OVERRIDE", "Replaces the host name in log prefixes and headers."},
	{"SSH_AUTH_SOCK", "ssh-agent socket whose keys are offered."},
	{"NO_COLOR", "Any non-empty value turns colours off, as -noColor does."},
	{"TERM", "dumb turns colours off. On a terminal the coloured view shows control bytes of log lines as text (^[, ^G, \\xHH); --plain, -noColor and pipes get the bytes as they are."},
	{"HOME", "Location of ~/.ssh/known_hosts, the default keys, ~/log and the configuration search path."},
}

var clientFiles = [][2]string{
	{"~/.config/dtail/dtail.conf, ~/.dtail.conf", "Configuration searched for when -cfg is not given (the first that exists); see dtail.json(5)."},
	{"~/.ssh/known_hosts", "Known server host keys."},
	{"~/.ssh/config, /etc/ssh/ssh_config", "OpenSSH client configuration applied to server names (-ssh-config): HostName, Port, User, IdentityFile, IdentitiesOnly, HostKeyAlias and ProxyJump of the matching Host blocks; the first value obtained wins; -port, -user and host:port beat it."},
	{"~/.ssh/id_rsa", "Default auth key; its .pub is registered with the server for fast reconnects."},
	{"~/log/", "Client log directory (-logDir)."},
	{"~/.config/dtail/groups/NAME", "The hosts of the group @NAME for -servers and -exclude: one host, range or @group per line, # comments."},
}

var clientSeeAlso = []string{"dtail(1)", "dcat(1)", "dgrep(1)", "dmap(1)", "dserver(8)", "dtailhealth(1)", "dtail.json(5)"}

func clientCommand(name, summary, synopsis string, desc ...string) Command {
	return Command{
		Name: name, Section: 1, Summary: summary, Synopsis: synopsis,
		Description: append(desc,
			"Without -servers (or with -servers serverless) the files are read locally without SSH. "+
				"With -servers the client connects to dserver(8) on every listed host over SSH as -user and "+
				"streams the results back, each line prefixed with its host unless -plain is given. "+
				"Flags take one dash or two (-files or --files) and may follow positional arguments; -- ends the flags. "+
				"A positional argument containing \"select \" is the query (unless -query is given), the others are "+
				"added to the -files list.",
			"-servers takes a comma separated list of HOST[:PORT], ranges such as web[01-20].dc1, @NAME for the "+
				"hosts listed in ~/.config/dtail/groups/NAME (one per line, # comments, groups may name groups), a "+
				"file with one server per line, or or with -discovery a /regex/ that filters its list. -exclude removes "+
				"hosts, -pick N keeps N at random."),
		Exit:       ClientExitCodes(),
		Examples:   examples[name],
		Files:      clientFiles,
		Env:        clientEnv,
		SeeAlso:    clientSeeAlso,
		Positional: "files",
		FlagSet:    cli.NewClientFlagSet(name, &cli.ClientFlags{}, ""),
	}
}

// withQuery adds the query language to a client that takes -query.
func withQuery(c Command) Command {
	c.Sections = append(c.Sections, querySection())
	return c
}

// Commands returns every binary that gets a man page and completions.
func Commands() []Command {
	return []Command{
		withQuery(clientCommand(cli.DTail, "follow log files on many servers at once",
			"[options] [file ...] ['from TABLE select ...']",
			"dtail follows (like tail -f) the given files on every server. With -regex only matching lines are "+
				"shown; with -query it runs a streaming mapreduce query over the followed lines and prints the "+
				"aggregated result periodically (see QUERY LANGUAGE).")),
		clientCommand(cli.DCat, "print log files of many servers",
			"[options] [file ...]",
			"dcat prints the whole content of the given files (plain, gzip or zstd) from every server."),
		clientCommand(cli.DGrep, "search log files of many servers",
			"[options] {PATTERN | -regex REGEX | -e PATTERN ...} [file ...]",
			"dgrep prints the lines of the given files that match -regex (Go RE2 syntax), with optional context "+
				"lines before and after each match. Without -regex, -grep or -e the first positional argument is the "+
				"pattern, as in grep(1); without files dgrep reads stdin. A repeated -grep, -regex or -e matches any "+
				"of the patterns; -i, -F and -w ignore case, take the patterns literally and match whole words."),
		withQuery(clientCommand(cli.DMap, "run a mapreduce query over log files of many servers",
			"[options] -query 'from TABLE select ...' [file ...]",
			"dmap reads the given files on every server, evaluates the mapreduce query there and merges the "+
				"per-server results into one table (see QUERY LANGUAGE).")),
		{
			Name: cli.DServer, Section: 8, Summary: "the DTail server",
			Synopsis: "[options]",
			Description: []string{
				"dserver is an SSH server that lets authenticated users follow, cat, grep and aggregate the log files " +
					"they may read. It refuses to run as UID or GID 0.",
				"Users authenticate with a public key listed in <CacheDir>/<user>.authorized_keys (filled by " +
					"dtail-keycache(8)) or, when that file does not exist, in the user's ~/.ssh/authorized_keys. " +
					"Every file is opened on behalf of the SSH user: the user's own UNIX permissions and ACLs and the " +
					"Permissions rules of dtail.json(5) decide. The packaged systemd unit gives dserver " +
					"CAP_DAC_READ_SEARCH so that it can open any file; this per-user check is therefore what keeps " +
					"each user to the files they may read.",
				"SIGINT and SIGTERM stop the server gracefully; SIGHUP reopens the log file.",
			},
			Exit: []ExitCode{{"0", "Normal stop (SIGINT, SIGTERM)."},
				{"2", "Started as root, a bad command line, a bad configuration, a bad host key, or the address cannot be bound."}},
			Files: [][2]string{
				{"/etc/dtail/dtail.json", "Configuration of the packaged server (see dtail.json(5))."},
				{"/var/cache/dserver/", "Host key and the <user>.authorized_keys key cache."},
				{"/var/log/dserver/", "Server logs."},
				{"/usr/lib/systemd/system/dserver.service", "The systemd unit; dtail-keycache.timer refreshes the key cache."},
			},
			SeeAlso: []string{"dtail-keycache(8)", "dtail.json(5)", "dtail(1)", "dtailhealth(1)"},
			FlagSet: cli.NewServerFlagSet(&cli.ServerFlags{}),
		},
		{
			Name: cli.DTailHealth, Section: 1, Summary: "check that a dserver answers",
			Synopsis: "[options] -server HOST[:PORT]",
			Description: []string{
				"dtailhealth logs in to a dserver as the reserved health user and asks for its state. " +
					"Its output and exit status follow the conventions of monitoring plugins (Nagios, Icinga).",
			},
			Exit: []ExitCode{{"0", "OK."}, {"1", "WARNING: no -server given, only a serverless self-check ran."},
				{"2", "CRITICAL: the server is not operating properly, cannot be reached, or a bad command line."},
				{"N", "UNKNOWN: any other value is the status the server reported."}},
			SeeAlso: []string{"dserver(8)"},
			FlagSet: cli.NewHealthFlagSet(&cli.HealthFlags{}),
		},
		{
			Name: keycache.Name, Section: 8, Summary: "fill the dserver authorized_keys cache",
			Synopsis: "[options]",
			Description: []string{
				"dtail-keycache copies the keys of each user's ~/.ssh/authorized_keys into " +
					"<CacheDir>/<user>.authorized_keys, where dserver(8) looks first. It never follows a symbolic " +
					"link out of a home directory: the path is resolved, must stay inside the home, and is then " +
					"opened component by component with O_NOFOLLOW. Like sshd's StrictModes it refuses files and " +
					"directories that are writable by group or others or owned by someone else.",
				"Keys whose options dserver cannot honour are skipped: command=, from=, expiry-time=, " +
					"cert-authority, principals=, verify-required and any option it does not know. Options that only " +
					"restrict what dserver never offers anyway (restrict, no-pty, no-port-forwarding, " +
					"no-agent-forwarding, no-X11-forwarding, no-user-rc, permitopen=, permitlisten=, tunnel=, " +
					"environment=, no-touch-required and their positive forms) are dropped and the key kept.",
				"A user whose authorized_keys exists but yields no usable key gets an empty cache file, so that " +
					"dserver does not fall back to reading the home directory itself. Cache files of users without " +
					"an authorized_keys file are removed (see -prune). Files are written atomically with mode 0644 " +
					"and, when run as root, owned by the -owner user.",
				"The packaged dtail-keycache.timer runs it every 15 minutes.",
			},
			Exit: []ExitCode{{"0", "Every user was processed."},
				{"1", "Some user's keys could not be read or written (the others are still updated)."},
				{"2", "A bad command line or configuration."}},
			Files:   [][2]string{{"/etc/dtail/dtail.json", "Source of Common.CacheDir."}, {"/etc/passwd", "Users and home directories."}},
			SeeAlso: []string{"dserver(8)", "dtail.json(5)", "sshd(8)"},
			FlagSet: keycache.NewFlagSet(&keycache.Options{}),
		},
	}
}
