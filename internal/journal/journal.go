// Package journal reads systemd journal targets (`journal:UNIT`, spec
// 4.11) by running journalctl and handing its standard output to the
// caller's line reader. It knows nothing about sessions, permissions or
// the wire: the session decides who may read a unit and formats the lines.
package journal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
)

// Prefix marks a journal target in a file list.
const Prefix = "journal:"

// Command is the program that reads the journal; it is looked up in PATH.
const Command = "journalctl"

// KillAfter is how long journalctl may take to end after SIGTERM before it
// gets SIGKILL (spec 4.11).
const KillAfter = 200 * time.Millisecond

// DefaultRetry is the wait before a followed journal's journalctl is
// started again when ReadRetryIntervalMs is not set.
const DefaultRetry = 2 * time.Second

// ErrUnsupported is returned on systems without a systemd journal reader.
var ErrUnsupported = errors.New("journal reader is only supported on linux")

// IsTarget reports whether a file argument names a journal.
func IsTarget(target string) bool { return strings.HasPrefix(target, Prefix) }

// Unit returns the unit of a `journal:UNIT` target after the spec's
// syntax checks: not empty, not starting with '-' (it would become a
// journalctl option), no whitespace or control characters.
func Unit(target string) (string, error) {
	unit, ok := strings.CutPrefix(target, Prefix)
	if !ok {
		return "", fmt.Errorf("%s: not a journal target", target)
	}
	switch {
	case unit == "":
		return "", fmt.Errorf("%s: empty journal unit", target)
	case unit[0] == '-':
		return "", fmt.Errorf("%s: journal unit must not start with '-'", target)
	}
	for _, r := range unit {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return "", fmt.Errorf("%s: journal unit contains whitespace or control characters", target)
		}
	}
	return unit, nil
}

// Available reports whether this host can read journals: Linux with
// journalctl in PATH. Only then is the journal-v1 capability announced.
func Available() bool {
	if runtime.GOOS != "linux" {
		return false
	}
	_, err := exec.LookPath(Command)
	return err == nil
}

// Options describe one journal read.
type Options struct {
	Unit string
	// Follow runs `journalctl -u UNIT -f -n 0` and starts it again Retry
	// after it exits, until ctx ends; otherwise journalctl runs once.
	Follow bool
	Retry  time.Duration
	// Since and Until (unix seconds, 0 = open) become --since/--until, so
	// journalctl itself reads only the window. Until is exclusive.
	Since, Until int64
	// ISOTime asks for `-o short-iso`: every line starts with the entry's
	// own timestamp with year and zone (used for --output ndjson).
	ISOTime bool
	// Path is the journalctl to run; "" looks up Command in PATH.
	Path string
	// OnStderr receives each line journalctl writes to stderr.
	OnStderr func(line string)
	// OnRestart is called before a followed journal is read again, with
	// the reason the previous journalctl ended.
	OnRestart func(reason error)
}

// Args are journalctl's arguments for o (without the program name).
func Args(o Options) []string {
	args := []string{"-u", o.Unit}
	if o.Follow {
		return append(args, "-f", "-n", "0")
	}
	if o.Since != 0 {
		args = append(args, "--since", "@"+strconv.FormatInt(o.Since, 10))
	}
	if o.Until != 0 {
		// journalctl's --until is inclusive at microsecond precision; the
		// window is half-open at one-second resolution, so the last
		// included second is Until-1 (entries of its fraction included).
		args = append(args, "--until", "@"+strconv.FormatInt(o.Until-1, 10)+".999999")
	}
	if o.ISOTime {
		args = append(args, "-o", "short-iso")
	}
	return args
}

// ExitError is a journalctl that ended with a non-zero status on its own.
type ExitError struct {
	Status int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("journalctl exited with status %d", e.Status)
}

// Run reads the journal: read gets journalctl's stdout and should consume
// it until EOF (an error from read stops journalctl and ends Run with that
// error). A one-shot read returns journalctl's failure, if any; a followed
// read returns only when ctx ends (nil) or read failed. When ctx ends,
// journalctl gets SIGTERM and, KillAfter later, SIGKILL.
func Run(ctx context.Context, o Options, read func(io.Reader) error) error {
	if runtime.GOOS != "linux" {
		return ErrUnsupported
	}
	if !o.Follow {
		err := runOnce(ctx, o, read)
		if ctx.Err() != nil && isStopped(err) {
			return nil
		}
		return err
	}
	retry := o.Retry
	if retry <= 0 {
		retry = DefaultRetry
	}
	for {
		err := runOnce(ctx, o, read)
		if ctx.Err() != nil {
			return nil
		}
		var rerr *readError
		if errors.As(err, &rerr) {
			return rerr.err
		}
		if err == nil {
			err = errors.New("journalctl exited")
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if o.OnRestart != nil {
			o.OnRestart(err)
		}
	}
}

// readError wraps an error of the caller's read function, which ends a
// followed read instead of restarting journalctl.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func isStopped(err error) bool {
	var ee *ExitError
	return err == nil || errors.As(err, &ee)
}

func runOnce(ctx context.Context, o Options, read func(io.Reader) error) error {
	path := o.Path
	if path == "" {
		path = Command
	}
	cmd := exec.Command(path, Args(o)...)
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return err
	}

	var stderrDone sync.WaitGroup
	stderrDone.Go(func() {
		sc := bufio.NewScanner(errR)
		sc.Buffer(make([]byte, 4096), 64<<10)
		for sc.Scan() {
			if o.OnStderr != nil {
				o.OnStderr(sc.Text())
			}
		}
	})
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()

	// stop ends journalctl when the read is cancelled or the caller
	// stopped reading (--max reached, client gone).
	stopCtx, stop := context.WithCancel(ctx)
	defer stop()
	var stopWG sync.WaitGroup
	stopped := false
	stopWG.Go(func() {
		select {
		case <-exited:
			return
		case <-stopCtx.Done():
		}
		select {
		case <-exited:
			return // it ended on its own
		default:
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		t := time.NewTimer(KillAfter)
		select {
		case <-exited:
			t.Stop()
		case <-t.C:
			cmd.Process.Kill()
			<-exited
		}
		// A descendant of journalctl may still hold the pipes open;
		// nothing more is wanted from them.
		outR.Close()
		errR.Close()
	})

	rerr := read(outR)
	if rerr == nil && ctx.Err() == nil {
		// EOF: journalctl closed its output because it is ending; its
		// exit status tells whether it read everything.
		select {
		case <-exited:
		case <-time.After(KillAfter):
		}
	}
	stop()
	stopWG.Wait()
	<-exited
	outR.Close()
	// stderr lines written just before the exit are still delivered; a
	// descendant holding stderr open must not keep the read alive.
	done := make(chan struct{})
	go func() { stderrDone.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(KillAfter):
		errR.Close()
		<-done
	}
	errR.Close()

	if rerr != nil && !errors.Is(rerr, os.ErrClosed) {
		return &readError{rerr}
	}
	if stopped {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			return fmt.Errorf("journalctl killed by signal %v", st.Signal())
		}
		return &ExitError{Status: ee.ExitCode()}
	}
	return waitErr
}
