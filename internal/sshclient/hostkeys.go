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
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// The prompt of spec §5.4; "??" is literal and part of the compatibility
// surface.
const (
	promptHeader   = "Encountered %d unknown hosts: '%s'"
	promptQuestion = "Do you want to trust these hosts?? (y=yes,a=all,n=no,d=details):"
)

const (
	defaultBatchWait     = 2 * time.Second
	defaultAnswerTimeout = 2 * time.Second
	defaultTTYPath       = "/dev/tty"
	// writeDelay batches the known_hosts appends of silently trusted hosts
	// (-trustAllHosts, "a"): one locked append per second at most.
	writeDelay = time.Second
	// promptNames and promptKeys bound what the question shows of a large
	// batch; "d" lists every host.
	promptNames = 10
	promptKeys  = 10
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
	// TTY is the terminal the question is asked on (default /dev/tty, as
	// OpenSSH does: never stdout, which may be a file or a pipe). In and
	// Out, when set, replace it (tests, embedding).
	TTY string
	In  io.Reader
	Out io.Writer
	// BatchSize, if > 0, asks as soon as that many hosts are pending.
	// Otherwise the question waits until no dial is still under way or
	// BatchWait (2 s) passed without a new unknown host, so one question
	// covers a whole fleet.
	BatchSize int
	BatchWait time.Duration
	// AnswerTimeout bounds the wait for an answer when In is not a
	// terminal (scripted input must already be there); default 2 s. A
	// terminal user gets unlimited time: the connections are dialled again
	// after the answer.
	AnswerTimeout time.Duration
	// Logf receives "Added hosts to known hosts file|<path>"; may be nil.
	Logf func(format string, args ...any)
	// PauseOutput, if set, is called before prompting so the caller can
	// hold back log output that would interleave with the question; the
	// returned func resumes it.
	PauseOutput func() (resume func())
}

// KnownHosts verifies host keys against a known_hosts file parsed once
// into an index, asks the user about unknown hosts in batches, and appends
// the hosts trusted during the run. It is safe for concurrent use by many
// dials. Close writes what is still pending.
type KnownHosts struct {
	opts KnownHostsOptions
	path string
	ix   *hostIndex

	// active counts dials under way (not waiting for an answer): when it
	// drops to zero every unknown host of this wave is queued.
	active   atomic.Int64
	expected atomic.Int64 // dials announced by Dialer.Expect, not started yet
	dialing  atomic.Bool  // a Dialer uses this KnownHosts (active means something)

	mu    sync.Mutex
	queue []*pendingHost
	// waiting holds, per host name, the entry queued or being asked
	// about, so that more dials for the same host and key join it.
	waiting   map[string]*pendingHost
	timer     *time.Timer
	acceptAll bool

	// promptMu keeps one question on screen at a time; the fields below it
	// are guarded by it. inputErr makes every later prompt fail fast once
	// input is gone.
	promptMu   sync.Mutex
	inputErr   error
	in         io.Reader
	out        io.Writer
	readerOnce sync.Once
	answers    chan string

	// ttyMu guards tty apart from promptMu: Close must not wait for a
	// question that is still on screen.
	ttyMu sync.Mutex
	tty   *os.File

	// wmu guards the pending known_hosts lines and the append state.
	wmu        sync.Mutex
	pending    []string
	pendingSet map[string]bool
	wtimer     *time.Timer
	seen       int64 // file offset up to which lines are known to us
	writeErr   error
	closed     bool
}

type pendingHost struct {
	hostname string
	remote   net.Addr
	key      ssh.PublicKey
	blob     string     // key.Marshal(), compared when dials join (dups)
	done     chan error // buffered: the resolver never blocks on a gone dialer
	// dups wait for the same host and key (targets behind one unknown
	// jump host): one line in the question, one answer for all.
	dups []*pendingHost
}

// UnknownHostError is what the host key callback returns for a host that
// needs the user's answer: the handshake ends at once (so the server's
// handshake timer cannot expire while a human reads the question) and the
// dialer asks through Decide, then dials again.
type UnknownHostError struct {
	Hostname string
	Remote   net.Addr
	Key      ssh.PublicKey
}

func (e *UnknownHostError) Error() string {
	return fmt.Sprintf("host key of %s is unknown (%s %s)", e.Hostname, keyTypeName(e.Key), ssh.FingerprintSHA256(e.Key))
}

// HostKeyError is a host key refused for good (changed, revoked, invalid
// certificate, not trusted by the user): the dialer never retries it.
type HostKeyError struct{ msg string }

func (e *HostKeyError) Error() string { return e.msg }

func hostKeyErrorf(format string, args ...any) error {
	return &HostKeyError{msg: fmt.Sprintf(format, args...)}
}

// NewKnownHosts opens (creating if needed) and indexes the known_hosts
// file. A missing ~/.ssh is created with mode 0700; the reference failed
// silently there.
func NewKnownHosts(opts KnownHostsOptions) (*KnownHosts, error) {
	path := opts.Path
	if path == "" {
		if opts.Home == "" {
			return nil, errors.New("cannot locate known_hosts: home directory unknown")
		}
		path = filepath.Join(opts.Home, ".ssh", "known_hosts")
	}
	if opts.TTY == "" {
		opts.TTY = defaultTTYPath
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
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("unable to read %s: %w", path, err)
	}
	k := &KnownHosts{opts: opts, path: path, ix: newHostIndex(), seen: int64(len(data)), pendingSet: map[string]bool{}, waiting: map[string]*pendingHost{}}
	k.ix.parse(path, data)
	if n, first := k.ix.skippedLines(); n > 0 && opts.Logf != nil {
		opts.Logf("Ignored %d unparsable lines of known hosts file (first: line %d)|%s", n, first, path)
	}
	return k, nil
}

// Path is the known_hosts file in use.
func (k *KnownHosts) Path() string { return k.path }

// Callback returns the host key callback for one dial. It never blocks: a
// host needing the user's answer yields *UnknownHostError (see Decide).
func (k *KnownHosts) Callback() ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		return k.check(hostname, remote, key)
	}
}

func (k *KnownHosts) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	if e, ok := k.ix.revokedEntry(key); ok {
		return hostKeyErrorf("host key of %s is revoked at %s:%d; refusing to connect", hostname, e.file, e.line)
	}
	if cert, ok := key.(*ssh.Certificate); ok {
		if e, ok := k.ix.revokedEntry(cert.SignatureKey); ok {
			return hostKeyErrorf("host certificate of %s is signed by a key revoked at %s:%d; refusing to connect", hostname, e.file, e.line)
		}
		if k.ix.hasAuthorities() {
			checker := ssh.CertChecker{IsHostAuthority: k.ix.isAuthority}
			if err := checker.CheckHostKey(hostname, remote, key); err == nil {
				return nil
			} else if k.ix.isAuthority(cert.SignatureKey, hostname) {
				// A CA we trust signed it, but it does not fit (expired,
				// wrong principal): that is not a host to ask about.
				return hostKeyErrorf("host certificate of %s is not valid: %v", hostname, err)
			}
		}
		// Without a matching authority the certified key stands for itself.
		key = cert.Key
	}
	blob := string(key.Marshal())
	entries := k.ix.lookup(hostname, blob)
	for _, e := range entries {
		if e.blob == blob {
			return nil
		}
	}
	if len(entries) > 0 {
		// Unlike the reference (spec §10.20) a changed key is never
		// offered for trust: that is exactly what a MITM looks like.
		old := entries[0]
		where := fmt.Sprintf("%s:%d", old.file, old.line)
		if old.line == 0 {
			where = "trusted earlier in this run"
		}
		return hostKeyErrorf("host key of %s has CHANGED (offered %s %s, known_hosts has %s at %s); refusing to connect - remove that line if the change is legitimate",
			hostname, key.Type(), ssh.FingerprintSHA256(key), old.key.Type(), where)
	}
	k.mu.Lock()
	silent := k.opts.TrustAll || k.acceptAll
	k.mu.Unlock()
	if silent {
		k.trust([]*pendingHost{{hostname: hostname, remote: remote, key: key}}, false)
		return nil
	}
	return &UnknownHostError{Hostname: hostname, Remote: remote, Key: key}
}

// Verify checks a host key and, for an unknown host, asks (in a batch with
// the other hosts pending) and waits for the answer. Dialers use Callback
// and Decide instead so that no connection is held open meanwhile.
func (k *KnownHosts) Verify(ctx context.Context, hostname string, remote net.Addr, key ssh.PublicKey) error {
	err := k.check(hostname, remote, key)
	var u *UnknownHostError
	if errors.As(err, &u) {
		return k.Decide(ctx, u)
	}
	return err
}

// decideFresh is Decide for a dial, unless the host was answered for
// meanwhile: dials behind one jump host meet it together, and the first
// answer may come before the others ask.
func (k *KnownHosts) decideFresh(ctx context.Context, u *UnknownHostError) error {
	var still *UnknownHostError
	if err := k.check(u.Hostname, u.Remote, u.Key); !errors.As(err, &still) {
		return err
	}
	return k.Decide(ctx, u)
}

// Decide queues an unknown host for the batched question and waits for the
// user's answer: nil when the host is trusted now (and recorded), an error
// naming the host otherwise. Cancelling ctx abandons the question for it.
func (k *KnownHosts) Decide(ctx context.Context, u *UnknownHostError) error {
	p := &pendingHost{hostname: u.Hostname, remote: u.Remote, key: u.Key, blob: string(u.Key.Marshal()), done: make(chan error, 1)}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("host key of %s not verified: %w", p.hostname, err)
	}
	k.mu.Lock()
	if k.opts.TrustAll || k.acceptAll {
		k.mu.Unlock()
		k.trust([]*pendingHost{p}, false)
		return nil
	}
	if q := k.waiting[p.hostname]; q != nil && q.blob == p.blob {
		q.dups = append(q.dups, p)
	} else {
		k.queue = append(k.queue, p)
		k.waiting[p.hostname] = p
	}
	k.schedule()
	k.mu.Unlock()

	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		k.mu.Lock()
		k.abandon(p)
		k.mu.Unlock()
		return fmt.Errorf("host key of %s not verified: %w", p.hostname, ctx.Err())
	}
}

// abandon takes a cancelled dial's host out of the queue; the caller holds
// mu. Dials waiting for the same host keep their place.
func (k *KnownHosts) abandon(p *pendingHost) {
	q := k.waiting[p.hostname]
	if q == nil {
		return
	}
	if q != p {
		for j, dup := range q.dups {
			if dup == p {
				q.dups = append(q.dups[:j:j], q.dups[j+1:]...)
				break
			}
		}
		return
	}
	for i, x := range k.queue {
		if x != p {
			continue
		}
		if len(p.dups) > 0 {
			next := p.dups[0]
			next.dups = p.dups[1:]
			k.queue[i] = next
			k.waiting[p.hostname] = next
		} else {
			k.queue = append(k.queue[:i], k.queue[i+1:]...)
			delete(k.waiting, p.hostname)
		}
		return
	}
	// Being asked right now: flush answers it and its dups.
}

// schedule decides when the queue is asked about; the caller holds mu.
func (k *KnownHosts) schedule() {
	if len(k.queue) == 0 {
		return
	}
	now := (k.dialing.Load() && k.active.Load()+k.expected.Load() <= 0) || (k.opts.BatchSize > 0 && len(k.queue) >= k.opts.BatchSize)
	switch {
	case now:
		if k.timer != nil {
			k.timer.Stop()
			k.timer = nil
		}
		go k.flush()
	case k.timer == nil:
		k.timer = time.AfterFunc(k.opts.BatchWait, k.flush)
	default:
		k.timer.Reset(k.opts.BatchWait)
	}
}

// dialStarted and dialEnded bracket the part of a dial that may still find
// an unknown host, so that the question is asked once the wave is over.
func (k *KnownHosts) dialStarted() {
	k.dialing.Store(true)
	k.active.Add(1)
}

func (k *KnownHosts) dialEnded() {
	if k.active.Add(-1)+k.expected.Load() <= 0 {
		k.mu.Lock()
		if len(k.queue) > 0 {
			k.schedule()
		}
		k.mu.Unlock()
	}
}

func (k *KnownHosts) flush() {
	k.promptMu.Lock()
	defer k.promptMu.Unlock()

	k.mu.Lock()
	batch := k.queue
	k.queue = nil
	if k.timer != nil {
		k.timer.Stop()
		k.timer = nil
	}
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
		k.trust(batch, true)
	}
	// Under mu: a dial that joins a host of this batch (waiting) while
	// the answers go out still gets one.
	k.mu.Lock()
	for _, p := range batch {
		for _, w := range append([]*pendingHost{p}, p.dups...) {
			if err != nil {
				w.done <- hostKeyErrorf("host key of %s is unknown and was not trusted: %v", p.hostname, err)
			} else {
				w.done <- nil
			}
		}
		if k.waiting[p.hostname] == p {
			delete(k.waiting, p.hostname)
		}
	}
	k.mu.Unlock()
}

// ask runs the interactive dialogue; it must be called with promptMu held.
func (k *KnownHosts) ask(batch []*pendingHost) (trust, all bool, err error) {
	if k.inputErr != nil {
		return false, false, k.inputErr
	}
	if err := k.openTerminal(); err != nil {
		k.inputErr = err
		return false, false, err
	}
	if k.opts.PauseOutput != nil {
		if resume := k.opts.PauseOutput(); resume != nil {
			defer resume()
		}
	}
	w := bufio.NewWriter(k.out)
	defer w.Flush()
	for {
		writeQuestion(w, batch)
		w.Flush()
		answer, err := k.readAnswer()
		if err != nil {
			fmt.Fprintln(w)
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
				fmt.Fprintf(w, "%s %s key fingerprint is %s\n", p.hostname, keyTypeName(p.key), ssh.FingerprintSHA256(p.key))
				for _, line := range knownHostsLines(p) {
					fmt.Fprintln(w, line)
				}
			}
		}
	}
}

// openTerminal picks where the question goes: In/Out when given, else the
// controlling terminal. Without one there is nobody to ask, which is
// reported at once instead of waiting for an answer that cannot come.
func (k *KnownHosts) openTerminal() error {
	if k.in != nil {
		return nil
	}
	if k.opts.In != nil || k.opts.Out != nil {
		k.in, k.out = k.opts.In, k.opts.Out
		if k.in == nil {
			k.in = strings.NewReader("")
		}
		if k.out == nil {
			k.out = io.Discard
		}
		return nil
	}
	tty, err := os.OpenFile(k.opts.TTY, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("no terminal to ask about unknown host keys (%v)", err)
	}
	k.ttyMu.Lock()
	k.tty = tty
	k.ttyMu.Unlock()
	k.in, k.out = tty, tty
	return nil
}

// writeQuestion prints the batch: the spec's header (at most promptNames
// names, so 10,000 hosts do not print a 200 KB line), the SHA256
// fingerprints OpenSSH users compare, grouped by key, and the question.
func writeQuestion(w io.Writer, batch []*pendingHost) {
	names := make([]string, 0, min(len(batch), promptNames))
	for _, p := range batch[:min(len(batch), promptNames)] {
		names = append(names, p.hostname)
	}
	fmt.Fprintf(w, promptHeader, len(batch), strings.Join(names, ","))
	if len(batch) > promptNames {
		fmt.Fprintf(w, " and %d more", len(batch)-promptNames)
	}
	fmt.Fprintln(w)
	type group struct {
		fp, typ string
		hosts   []string
	}
	var groups []*group
	byFP := map[string]*group{}
	for _, p := range batch {
		fp := ssh.FingerprintSHA256(p.key)
		g := byFP[fp]
		if g == nil {
			g = &group{fp: fp, typ: keyTypeName(p.key)}
			byFP[fp] = g
			groups = append(groups, g)
		}
		g.hosts = append(g.hosts, p.hostname)
	}
	for _, g := range groups[:min(len(groups), promptKeys)] {
		fmt.Fprintf(w, "  %s key fingerprint %s: %s", g.typ, g.fp, strings.Join(g.hosts[:min(len(g.hosts), 3)], ","))
		if len(g.hosts) > 3 {
			fmt.Fprintf(w, " and %d more", len(g.hosts)-3)
		}
		fmt.Fprintln(w)
	}
	if len(groups) > promptKeys {
		fmt.Fprintf(w, "  ... %d more keys (d=details lists every host)\n", len(groups)-promptKeys)
	}
	fmt.Fprint(w, promptQuestion)
}

// keyTypeName is the key type as OpenSSH names it in fingerprint lines.
func keyTypeName(key ssh.PublicKey) string {
	t := key.Type()
	if c, ok := key.(*ssh.Certificate); ok {
		t = c.Key.Type()
	}
	switch {
	case t == ssh.KeyAlgoED25519:
		return "ED25519"
	case t == ssh.KeyAlgoRSA:
		return "RSA"
	case strings.HasPrefix(t, "ecdsa-"):
		return "ECDSA"
	case t == ssh.KeyAlgoSKED25519:
		return "ED25519-SK"
	case t == ssh.KeyAlgoSKECDSA256:
		return "ECDSA-SK"
	}
	return strings.ToUpper(t)
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
		}(k.in, k.answers)
	})
	var timeout <-chan time.Time
	if !isTerminal(k.in) {
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

// trust records the hosts in the index (the re-dial finds them) and queues
// their lines for the file: at once after a question, within writeDelay
// for silent trusts, so that a fleet's first contact is one append.
func (k *KnownHosts) trust(batch []*pendingHost, now bool) {
	k.wmu.Lock()
	for _, p := range batch {
		lines := knownHostsLines(p)
		names := make([]string, 0, len(lines))
		for _, line := range lines {
			field, _, _ := strings.Cut(line, " ")
			names = append(names, strings.ToLower(field))
			if !k.pendingSet[line] {
				k.pendingSet[line] = true
				k.pending = append(k.pending, line)
			}
		}
		k.ix.add(names, p.key, k.path)
	}
	if !now && k.wtimer == nil && !k.closed {
		k.wtimer = time.AfterFunc(writeDelay, func() { k.Flush() })
	}
	k.wmu.Unlock()
	if now {
		k.Flush()
	}
}

// Flush appends the pending lines to known_hosts: under an exclusive flock
// (another client run appending at the same time loses nothing), never
// truncating or replacing the file (a crash leaves at most a partial last
// line, which the parser skips), fsynced, and without lines another run
// appended meanwhile. The first error is also returned by Close.
func (k *KnownHosts) Flush() error {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	if k.wtimer != nil {
		k.wtimer.Stop()
		k.wtimer = nil
	}
	if len(k.pending) == 0 {
		return nil
	}
	err := k.appendPending()
	if err != nil {
		if k.writeErr == nil {
			k.writeErr = err
		}
		return err
	}
	if k.opts.Logf != nil {
		k.opts.Logf("Added hosts to known hosts file|%s", k.path)
	}
	return nil
}

// appendPending does Flush's work; the caller holds wmu.
func (k *KnownHosts) appendPending() error {
	f, err := os.OpenFile(k.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("unable to open %s: %w", k.path, err)
	}
	defer f.Close()
	if err := flock(f); err != nil {
		return fmt.Errorf("unable to lock %s: %w", k.path, err)
	}
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("unable to stat %s: %w", k.path, err)
	}
	size := info.Size()
	from := k.seen
	if size < from {
		from = 0 // replaced by someone else: look at all of it
	}
	if from > 0 {
		from-- // the byte before tells whether a line is unterminated
	}
	tail := make([]byte, size-from)
	if _, err := f.ReadAt(tail, from); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("unable to read %s: %w", k.path, err)
	}
	there := map[string]bool{}
	for line := range strings.SplitSeq(string(tail), "\n") {
		there[strings.TrimSpace(line)] = true
	}
	var b strings.Builder
	if len(tail) > 0 && tail[len(tail)-1] != '\n' {
		b.WriteByte('\n')
	}
	for _, line := range k.pending {
		if !there[line] {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	if b.Len() > 0 {
		if _, err := f.WriteString(b.String()); err != nil {
			return fmt.Errorf("unable to append to %s: %w", k.path, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("unable to sync %s: %w", k.path, err)
		}
	}
	k.seen = size + int64(b.Len())
	k.pending = nil
	clear(k.pendingSet)
	return nil
}

// flock takes an exclusive lock on f, released when f is closed.
func flock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// Close writes the pending lines and releases the terminal. It returns the
// first write error of the run.
func (k *KnownHosts) Close() error {
	err := k.Flush()
	k.wmu.Lock()
	k.closed = true
	if err == nil {
		err = k.writeErr
	}
	k.wmu.Unlock()
	k.ttyMu.Lock()
	if k.tty != nil {
		k.tty.Close()
		k.tty = nil
	}
	k.ttyMu.Unlock()
	return err
}
