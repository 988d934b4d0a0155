package sshclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/term"
)

// The prompt of spec §5.4; "??" is literal and part of the compatibility
// surface.
const (
	promptHeader   = "Encountered %d unknown hosts: '%s'\n"
	promptQuestion = "Do you want to trust these hosts?? (y=yes,a=all,n=no,d=details):"
)

const (
	defaultBatchSize     = 50
	defaultBatchWait     = 2 * time.Second
	defaultAnswerTimeout = 2 * time.Second
)

// KnownHostsOptions configures host key verification.
type KnownHostsOptions struct {
	// Path overrides the known_hosts location (integration-test mode uses
	// ./known_hosts); otherwise <Home>/.ssh/known_hosts is used.
	Path string
	Home string
	// TrustAll accepts and records unknown hosts without asking. It never
	// accepts a changed key.
	TrustAll bool
	// In and Out carry the prompt; they default to os.Stdin and os.Stdout.
	// The prompt bypasses the logger on purpose so that it still appears
	// with -plain/-quiet.
	In  io.Reader
	Out io.Writer
	// BatchSize (50) pending hosts, or BatchWait (2 s) without a new
	// unknown host, trigger a prompt.
	BatchSize int
	BatchWait time.Duration
	// AnswerTimeout bounds the wait for an answer when In is not a
	// terminal (scripted input must already be there); default 2 s. A
	// terminal user gets unlimited time.
	AnswerTimeout time.Duration
	// Logf receives "Added hosts to known hosts file|<path>"; may be nil.
	Logf func(format string, args ...any)
	// PauseOutput, if set, is called before prompting so the caller can
	// hold back log output that would interleave with the question; the
	// returned func resumes it.
	PauseOutput func() (resume func())
}

// KnownHosts verifies host keys against a known_hosts file and asks the user
// about unknown ones. It is safe for concurrent use by many dials.
type KnownHosts struct {
	opts KnownHostsOptions
	path string

	checkMu sync.RWMutex
	check   ssh.HostKeyCallback

	// writeMu serialises rewrites of the file so concurrent trusts cannot
	// lose each other's lines.
	writeMu sync.Mutex

	mu        sync.Mutex
	queue     []*pendingHost
	timer     *time.Timer
	acceptAll bool

	// promptMu keeps one question on screen at a time; inputErr is guarded
	// by it and makes every later prompt fail fast once input is gone.
	promptMu   sync.Mutex
	inputErr   error
	readerOnce sync.Once
	answers    chan string
}

type pendingHost struct {
	hostname string
	remote   net.Addr
	key      ssh.PublicKey
	done     chan error // buffered: the resolver never blocks on a gone dialer
}

// NewKnownHosts opens (creating if needed) the known_hosts file. A missing
// ~/.ssh is created with mode 0700; the reference failed silently there.
func NewKnownHosts(opts KnownHostsOptions) (*KnownHosts, error) {
	path := opts.Path
	if path == "" {
		if opts.Home == "" {
			return nil, errors.New("cannot locate known_hosts: home directory unknown")
		}
		path = filepath.Join(opts.Home, ".ssh", "known_hosts")
	}
	if opts.In == nil {
		opts.In = os.Stdin
	}
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = defaultBatchSize
	}
	if opts.BatchWait <= 0 {
		opts.BatchWait = defaultBatchWait
	}
	if opts.AnswerTimeout <= 0 {
		opts.AnswerTimeout = defaultAnswerTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("unable to create directory for %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	switch {
	case err == nil:
		f.Close()
	case !errors.Is(err, fs.ErrExist):
		return nil, fmt.Errorf("unable to create %s: %w", path, err)
	}
	k := &KnownHosts{opts: opts, path: path}
	if err := k.reload(); err != nil {
		return nil, err
	}
	return k, nil
}

// Path is the known_hosts file in use.
func (k *KnownHosts) Path() string { return k.path }

func (k *KnownHosts) reload() error {
	check, err := knownhosts.New(k.path)
	if err != nil {
		return fmt.Errorf("unable to read %s: %w", k.path, err)
	}
	k.checkMu.Lock()
	k.check = check
	k.checkMu.Unlock()
	return nil
}

func (k *KnownHosts) currentCheck() ssh.HostKeyCallback {
	k.checkMu.RLock()
	defer k.checkMu.RUnlock()
	return k.check
}

// Callback returns the host key callback for one dial. Cancelling ctx
// abandons a pending question for this host.
func (k *KnownHosts) Callback(ctx context.Context) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := k.currentCheck()(hostname, remote, key)
		if err == nil {
			return nil
		}
		var keyErr *knownhosts.KeyError
		var revoked *knownhosts.RevokedError
		switch {
		case errors.As(err, &keyErr) && len(keyErr.Want) == 0:
			return k.unknown(ctx, &pendingHost{hostname: hostname, remote: remote, key: key, done: make(chan error, 1)})
		case errors.As(err, &keyErr):
			// Unlike the reference (spec §10.20) a changed key is never
			// offered for trust: that is exactly what a MITM looks like.
			old := keyErr.Want[0]
			return fmt.Errorf("host key of %s has CHANGED (offered %s %s, known_hosts has %s at %s:%d); refusing to connect - remove that line if the change is legitimate",
				hostname, key.Type(), ssh.FingerprintSHA256(key), old.Key.Type(), old.Filename, old.Line)
		case errors.As(err, &revoked):
			return fmt.Errorf("host key of %s is revoked at %s:%d; refusing to connect",
				hostname, revoked.Revoked.Filename, revoked.Revoked.Line)
		default:
			return fmt.Errorf("host key check for %s failed: %w", hostname, err)
		}
	}
}

func (k *KnownHosts) unknown(ctx context.Context, p *pendingHost) error {
	k.mu.Lock()
	if k.opts.TrustAll || k.acceptAll {
		k.mu.Unlock()
		return k.trust([]*pendingHost{p})
	}
	k.queue = append(k.queue, p)
	switch {
	case len(k.queue) >= k.opts.BatchSize:
		if k.timer != nil {
			k.timer.Stop()
		}
		go k.flush()
	case k.timer == nil:
		k.timer = time.AfterFunc(k.opts.BatchWait, k.flush)
	default:
		k.timer.Reset(k.opts.BatchWait)
	}
	k.mu.Unlock()

	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		k.mu.Lock()
		for i, q := range k.queue {
			if q == p {
				k.queue = append(k.queue[:i], k.queue[i+1:]...)
				break
			}
		}
		k.mu.Unlock()
		return fmt.Errorf("host key of %s not verified: %w", p.hostname, ctx.Err())
	}
}

func (k *KnownHosts) flush() {
	k.promptMu.Lock()
	defer k.promptMu.Unlock()

	k.mu.Lock()
	batch := k.queue
	k.queue = nil
	acceptAll := k.acceptAll
	k.mu.Unlock()
	if len(batch) == 0 {
		return
	}

	trust, all, err := acceptAll, false, error(nil)
	if !acceptAll {
		trust, all, err = k.ask(batch)
	}
	if all {
		k.mu.Lock()
		k.acceptAll = true
		k.mu.Unlock()
	}
	switch {
	case err != nil:
		err = fmt.Errorf("%w; use -trustAllHosts or add the hosts to %s", err, k.path)
	case !trust:
		err = errors.New("rejected by the user")
	default:
		err = k.trust(batch)
	}
	for _, p := range batch {
		if err != nil {
			p.done <- fmt.Errorf("host key of %s is unknown and was not trusted: %w", p.hostname, err)
		} else {
			p.done <- nil
		}
	}
}

// ask runs the interactive dialogue; it must be called with promptMu held.
func (k *KnownHosts) ask(batch []*pendingHost) (trust, all bool, err error) {
	if k.inputErr != nil {
		return false, false, k.inputErr
	}
	if k.opts.PauseOutput != nil {
		if resume := k.opts.PauseOutput(); resume != nil {
			defer resume()
		}
	}
	names := make([]string, len(batch))
	for i, p := range batch {
		names[i] = p.hostname
	}
	out := k.opts.Out
	for {
		fmt.Fprintf(out, promptHeader, len(batch), strings.Join(names, ","))
		fmt.Fprint(out, promptQuestion)
		answer, err := k.readAnswer()
		if err != nil {
			fmt.Fprintln(out)
			return false, false, err
		}
		switch strings.ToLower(strings.TrimSpace(answer)) {
		case "y", "yes":
			return true, false, nil
		case "a", "all":
			return true, true, nil
		case "n", "no":
			return false, false, nil
		case "d", "details":
			for _, p := range batch {
				for _, line := range knownHostsLines(p) {
					fmt.Fprintln(out, line)
				}
			}
		}
	}
}

// readAnswer must be called with promptMu held. Input is read by one
// long-lived goroutine so that a timed-out wait never loses a later line and
// a blocked read never blocks the dialers.
func (k *KnownHosts) readAnswer() (string, error) {
	k.readerOnce.Do(func() {
		k.answers = make(chan string)
		go func(in io.Reader, answers chan<- string) {
			scanner := bufio.NewScanner(in)
			for scanner.Scan() {
				answers <- scanner.Text()
			}
			close(answers)
		}(k.opts.In, k.answers)
	})
	var timeout <-chan time.Time
	if !isTerminal(k.opts.In) {
		t := time.NewTimer(k.opts.AnswerTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case line, ok := <-k.answers:
		if !ok {
			k.inputErr = errors.New("no answer to the host key question (input closed)")
			return "", k.inputErr
		}
		return line, nil
	case <-timeout:
		k.inputErr = fmt.Errorf("no answer to the host key question within %v (input is not a terminal)", k.opts.AnswerTimeout)
		return "", k.inputErr
	}
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// knownHostsLines are the hostname line and, if different, the IP line.
func knownHostsLines(p *pendingHost) []string {
	addrs := []string{knownhosts.Normalize(p.hostname)}
	if p.remote != nil {
		if ip := knownhosts.Normalize(p.remote.String()); ip != addrs[0] {
			addrs = append(addrs, ip)
		}
	}
	lines := make([]string, len(addrs))
	for i, a := range addrs {
		lines[i] = knownhosts.Line([]string{a}, p.key)
	}
	return lines
}

// trust puts the new lines at the top and keeps every old line whose first
// field differs, replacing the file atomically via known_hosts.tmp.
func (k *KnownHosts) trust(batch []*pendingHost) error {
	k.writeMu.Lock()
	defer k.writeMu.Unlock()

	var b strings.Builder
	added := map[string]bool{}
	for _, p := range batch {
		for _, line := range knownHostsLines(p) {
			field, _, _ := strings.Cut(line, " ")
			if added[field] {
				continue
			}
			added[field] = true
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	old, err := os.ReadFile(k.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unable to read %s: %w", k.path, err)
	}
	for line := range strings.SplitSeq(string(old), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || added[fields[0]] {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}

	tmp := k.path + ".tmp"
	if err := writeFileSync(tmp, []byte(b.String())); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("unable to write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, k.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("unable to replace %s: %w", k.path, err)
	}
	if k.opts.Logf != nil {
		k.opts.Logf("Added hosts to known hosts file|%s", k.path)
	}
	return k.reload()
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	// O_TRUNC keeps the mode of a stale tmp file; the key list is private.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
