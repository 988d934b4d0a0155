package manpage

import (
	"strconv"
	"syscall"

	"github.com/dtail-go/dtail/internal/client"
)

// ExitCode is one row of a man page's EXIT STATUS section. Code is the
// value (or "128+N") as the page prints it.
type ExitCode struct {
	Code    string
	Meaning string
}

// ClientExitCodes is the EXIT STATUS of dtail, dcat, dgrep and dmap. The
// codes are the constants internal/client returns, so the page cannot
// drift from them; the meanings were checked against the binaries (the
// end-to-end test TestUXExitStatus runs a case for every row).
func ClientExitCodes() []ExitCode {
	return []ExitCode{
		{strconv.Itoa(client.ExitOK), "Complete: every host answered and every file was read (the receipt says complete). " +
			"Unlike grep(1), a search without a matching line is complete too. Also after -h, -version and -colorTable."},
		{strconv.Itoa(client.ExitPartial), "Incomplete: a host was unreachable, refused the login, timed out or ended early; " +
			"a file was missing, not readable or skipped; a server reported an error about the command; -timeout or " +
			"-max-total ended the reads; a -strict query warning; or the client could not be set up " +
			"(for example -interactive-query without a terminal). The receipt names what is missing."},
		{strconv.Itoa(client.ExitFatal), "Usage or configuration error, found before anything is read: an unknown flag or bad " +
			"flag value, a configuration file that cannot be read, no SSH key, an invalid regular expression or query, " +
			"dmap without -query."},
		{"128+N", "Signal N ended the run before every read finished: " +
			strconv.Itoa(client.ExitSignal(syscall.SIGINT)) + " after SIGINT (Ctrl+C), " +
			strconv.Itoa(client.ExitSignal(syscall.SIGTERM)) + " after SIGTERM, " +
			strconv.Itoa(client.ExitSignal(syscall.SIGHUP)) + " after SIGHUP."},
	}
}
