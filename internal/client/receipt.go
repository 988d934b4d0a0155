package client

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/dtail-go/dtail/internal/protocol"
)

// Receipt summarises what a run covered (--receipt): which hosts answered
// and what their servers read. An SRE can tell "no matches" from "half the
// fleet was not searched".
type Receipt struct {
	Hosts            int   `json:"hosts"`
	HostsOK          int   `json:"hosts_ok"`
	HostsUnreachable int   `json:"hosts_unreachable"`
	HostsAuthFailed  int   `json:"hosts_auth_failed"`
	HostsTimedOut    int   `json:"hosts_timed_out"`
	HostsIncomplete  int   `json:"hosts_incomplete"`
	HostsNoReceipt   int   `json:"hosts_without_receipt"`
	FilesRead        int64 `json:"files_read"`
	FilesUnreadable  int64 `json:"files_unreadable"`
	Bytes            int64 `json:"bytes"`
	Lines            int64 `json:"lines"`
	FilesRotated     int64 `json:"files_rotated"`
	FilesTruncated   int64 `json:"files_truncated"`
	LinesDropped     int64 `json:"lines_dropped"`
	FilesSkipped     int64 `json:"files_skipped"`
	LinesSkipped     int64 `json:"lines_skipped"`
	// CommandsFailed are SERVER errors about commands the client sent
	// (e.g. a DTail 4.x server that does not know one); Failures names the
	// host and the server's text of each host's first one.
	CommandsFailed int64    `json:"commands_failed"`
	Failures       []string `json:"failures,omitempty"`
	// ServerWarnings are warnings a DTail 4.x server sent with an empty
	// text because its log level hides them: something was not right,
	// the client cannot tell what.
	ServerWarnings int64 `json:"server_warnings_hidden"`
	// LinesAltered are lines a DTail 4.x server could not carry intact:
	// they held the delimiter byte 0xAC and arrived cut in pieces.
	LinesAltered int64 `json:"lines_altered"`
	// Interrupted names what ended the run before every read finished:
	// "SIGINT", "SIGTERM", …, "timeout" or "max-total"; "" when nothing did.
	Interrupted       string   `json:"interrupted,omitempty"`
	Complete          bool     `json:"complete"`
	FailedHosts       []string `json:"failed_hosts,omitempty"`
	HostsNoReceiptIDs []string `json:"hosts_without_receipt_list,omitempty"`
}

// hostReport is what a run learned about one host: the input of the one
// receipt (and so exit code) rule of both modes. A serverless run is one
// host whose receipt is its own reader's tally.
type hostReport struct {
	name    string
	outcome hostOutcome
	// rc is the server's receipt when gotReceipt.
	rc         protocol.Receipt
	gotReceipt bool
	// follow: a followed host is not expected to send a receipt.
	follow bool
	// unreadable counts the files a server without receipt (DTail 4.x)
	// reported unreadable in SERVER messages.
	unreadable int64
	// failed counts commands that failed (failure: the first one's
	// text); hiddenWarnings the empty warnings of a DTail 4.x server.
	failed         int
	failure        string
	hiddenWarnings int
}

// runReceipt is the one receipt rule: it sums up every host's report,
// what ended the run (cause; cut: a read was cut short by it) and the
// lines a DTail 4.x server altered, prints the receipt when the run asks
// for one and returns it; the exit code comes from it, so what the
// receipt says and what the exit code says cannot differ.
func runReceipt(o Options, hosts []hostReport, cause string, cut bool, altered int64) Receipt {
	var c receiptCollector
	c.interrupted(cause)
	c.cut = cut
	c.r.LinesAltered = altered
	for _, h := range hosts {
		if h.failed > 0 {
			c.commandFailed(h.name, h.failed, h.failure)
		}
		if h.hiddenWarnings > 0 {
			c.serverWarnings(h.hiddenWarnings)
		}
		if h.gotReceipt {
			c.addServer(h.rc)
		} else {
			c.r.FilesUnreadable += h.unreadable
		}
		c.addHost(h.name, h.outcome, h.gotReceipt || h.follow)
	}
	r := c.result()
	if o.Output.Receipt != "" {
		WriteReceipt(o.Stderr, r, o.Output.Receipt)
	}
	return r
}

// receiptCollector gathers per-host results.
type receiptCollector struct {
	mu    sync.Mutex
	r     Receipt
	cause string
	cut   bool // a serverless read was cut short
}

func (c *receiptCollector) addServer(rc protocol.Receipt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r.FilesRead += rc.FilesRead
	c.r.FilesUnreadable += rc.FilesFailed
	c.r.Bytes += rc.Bytes
	c.r.Lines += rc.Lines
	c.r.FilesRotated += rc.FilesRotated
	c.r.FilesTruncated += rc.FilesTruncated
	c.r.LinesDropped += rc.LinesDropped
	c.r.FilesSkipped += rc.FilesSkipped
	c.r.LinesSkipped += rc.LinesSkipped
}

// hostOutcome classifies how a host's run ended.
type hostOutcome int

const (
	outcomeOK hostOutcome = iota
	outcomeUnreachable
	outcomeAuthFailed
	outcomeTimedOut
	outcomeIncomplete
)

// classifyDialError sorts a connection error into the receipt's classes.
func classifyDialError(err string) hostOutcome {
	switch {
	case strings.Contains(err, "unable to authenticate"), strings.Contains(err, "host key"):
		return outcomeAuthFailed
	case strings.Contains(err, "timeout"), strings.Contains(err, "deadline exceeded"):
		return outcomeTimedOut
	}
	return outcomeUnreachable
}

func (c *receiptCollector) addHost(name string, o hostOutcome, gotReceipt bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r.Hosts++
	switch o {
	case outcomeOK:
		c.r.HostsOK++
	case outcomeUnreachable:
		c.r.HostsUnreachable++
	case outcomeAuthFailed:
		c.r.HostsAuthFailed++
	case outcomeTimedOut:
		c.r.HostsTimedOut++
	case outcomeIncomplete:
		c.r.HostsIncomplete++
	}
	if o != outcomeOK {
		c.r.FailedHosts = append(c.r.FailedHosts, name)
	} else if !gotReceipt {
		c.r.HostsNoReceipt++
		c.r.HostsNoReceiptIDs = append(c.r.HostsNoReceiptIDs, name)
	}
}

// interrupted records why the run ended early; it only counts when some
// read had not finished (a host incomplete, or a serverless read cut).
func (c *receiptCollector) interrupted(cause string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cause = cause
}

func (c *receiptCollector) commandFailed(host string, n int, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r.CommandsFailed += int64(n)
	c.r.Failures = append(c.r.Failures, host+": "+text)
}

func (c *receiptCollector) serverWarnings(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r.ServerWarnings += int64(n)
}

func (c *receiptCollector) result() Receipt {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.r
	if c.cause != "" && (c.cut || r.HostsIncomplete > 0) {
		r.Interrupted = c.cause
	}
	r.Complete = r.HostsOK == r.Hosts && r.FilesUnreadable == 0 && r.LinesDropped == 0 && r.FilesSkipped == 0 &&
		r.CommandsFailed == 0 && r.ServerWarnings == 0 && r.Interrupted == "" && r.LinesAltered == 0
	return r
}

// WriteReceipt prints the receipt as one text line or as JSON.
func WriteReceipt(w io.Writer, r Receipt, format string) {
	if format == "json" {
		b, _ := json.Marshal(r)
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	status := "complete"
	if !r.Complete {
		status = "INCOMPLETE"
	}
	fmt.Fprintf(w, "receipt: %s; hosts %d ok of %d (%d unreachable, %d auth failed, %d timed out, %d incomplete); files %d read, %d not readable; %s in %d lines; %d rotated, %d truncated during the read; %d lines dropped",
		status, r.HostsOK, r.Hosts, r.HostsUnreachable, r.HostsAuthFailed, r.HostsTimedOut, r.HostsIncomplete,
		r.FilesRead, r.FilesUnreadable, humanBytes(r.Bytes), r.Lines, r.FilesRotated, r.FilesTruncated, r.LinesDropped)
	if r.FilesSkipped > 0 {
		fmt.Fprintf(w, "; %d files skipped (beyond MaxGlobTargets)", r.FilesSkipped)
	}
	if r.LinesSkipped > 0 {
		fmt.Fprintf(w, "; %d lines skipped by the log format", r.LinesSkipped)
	}
	if r.LinesAltered > 0 {
		fmt.Fprintf(w, "; %d lines altered (they hold the byte 0xAC, which DTail 4.x servers cannot send)", r.LinesAltered)
	}
	if r.Interrupted != "" {
		fmt.Fprintf(w, "; interrupted (%s) before every read finished", r.Interrupted)
	}
	if r.CommandsFailed > 0 {
		fmt.Fprintf(w, "; %d commands failed (%s)", r.CommandsFailed, strings.Join(r.Failures, "; "))
	}
	if r.ServerWarnings > 0 {
		fmt.Fprintf(w, "; %d server warnings hidden by the server's log level", r.ServerWarnings)
	}
	if r.HostsNoReceipt > 0 {
		fmt.Fprintf(w, "; %d hosts sent no receipt (DTail 4.x servers, not counted above): %s", r.HostsNoReceipt, strings.Join(r.HostsNoReceiptIDs, ","))
	}
	if len(r.FailedHosts) > 0 {
		fmt.Fprintf(w, "; failed: %s", strings.Join(r.FailedHosts, ","))
	}
	fmt.Fprintln(w)
}

func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// What ended a run early (Receipt.Interrupted).
const (
	EndTimeout  = "timeout"
	EndMaxTotal = "max-total"
)

// ExitInterrupted is the exit code after SIGINT, as shells expect (128+2).
const ExitInterrupted = 130

// ExitSignal is the exit code of a run a signal cut short: 128 + the
// signal number, as shells report a process killed by it (130 for SIGINT,
// 143 for SIGTERM).
func ExitSignal(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return ExitInterrupted // os.Interrupt
}

// exitCode maps a receipt to the exit code: 0 complete, 128+N when signal
// N ended the run early, 1 for anything else missing.
func exitCode(r Receipt) int {
	if r.Complete {
		return ExitOK
	}
	for _, s := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		if r.Interrupted == signalName(s) {
			return ExitSignal(s)
		}
	}
	return ExitPartial
}

// signalName names a signal the way the receipt and shells do.
func signalName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		switch s {
		case syscall.SIGINT:
			return "SIGINT"
		case syscall.SIGTERM:
			return "SIGTERM"
		case syscall.SIGHUP:
			return "SIGHUP"
		case syscall.SIGQUIT:
			return "SIGQUIT"
		}
	}
	if sig == os.Interrupt {
		return "SIGINT"
	}
	return sig.String()
}

// Interrupt is the cancellation cause a caller passes (context.WithCancelCause)
// when a signal ends a serverless run.
type Interrupt struct{ Signal os.Signal }

func (i Interrupt) Error() string { return "interrupted by " + signalName(i.Signal) }
