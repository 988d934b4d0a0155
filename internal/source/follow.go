package source

import (
	"context"
	"errors"
	"io"
	"os"
	"time"
)

// Follow defaults.
const (
	DefaultPoll        = 100 * time.Millisecond
	DefaultRotateGrace = 2 * time.Second
)

// FollowEvent tells the caller what happened to a followed file.
type FollowEvent int

const (
	// Rotated: the path now names another file; the old one was read to
	// its end first.
	Rotated FollowEvent = iota + 1
	// Truncated: the file shrank below the read offset (copytruncate);
	// reading restarted at offset 0.
	Truncated
)

// Follower follows one path like `tail -F`, without losing lines on
// rename rotation or truncation.
type Follower struct {
	Path string
	// Open opens the path; the server passes its permission-checked
	// opener. Nil means os.Open.
	Open func(path string) (*os.File, error)
	// FromStart reads the file from offset 0 instead of its end (used for
	// files that appear after following started).
	FromStart     bool
	MaxLineLength int
	OnLongLine    func()
	OnEvent       func(FollowEvent)
	// Poll is the wait at end of file; zero means DefaultPoll.
	Poll time.Duration
	// RotateGrace is how long a rotated-away file is still read in case
	// its writer has not reopened yet; zero means DefaultRotateGrace.
	RotateGrace time.Duration
}

type followed struct {
	f    *os.File
	fi   os.FileInfo
	sp   Splitter
	base int64
}

func (t *followed) pos() int64 { return t.base + t.sp.Offset }

func (fw *Follower) open(fromStart bool) (*followed, error) {
	open := fw.Open
	if open == nil {
		open = os.Open
	}
	f, err := open(fw.Path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	t := &followed{f: f, fi: fi}
	t.sp = Splitter{MaxLineLength: fw.MaxLineLength, OnLongLine: fw.OnLongLine, Partial: true}
	if !fromStart {
		off, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			f.Close()
			return nil, err
		}
		t.base = off
	}
	return t, nil
}

// drain reads t to its current end.
func (t *followed) drain(h Handler) error {
	for {
		more, err := t.sp.ReadOnce(t.f, h)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// Run follows until ctx is done or h fails. flush is called whenever the
// reader caught up with the end of the file, so that buffered output is
// sent with low latency. ErrStop from h ends Run with a nil error.
func (fw *Follower) Run(ctx context.Context, h Handler, flush func() error) error {
	err := fw.run(ctx, h, flush)
	if errors.Is(err, ErrStop) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

func (fw *Follower) run(ctx context.Context, h Handler, flush func() error) error {
	poll := fw.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	grace := fw.RotateGrace
	if grace <= 0 {
		grace = DefaultRotateGrace
	}
	cur, err := fw.open(fw.FromStart)
	if err != nil {
		return err
	}
	var old *followed
	var oldUntil time.Time
	defer func() {
		cur.f.Close()
		if old != nil {
			old.f.Close()
		}
	}()
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if old != nil {
			// A writer that has not reopened its log yet still appends to
			// the rotated file; keep reading it for a grace period.
			if err := old.drain(h); err != nil {
				return err
			}
			if time.Now().After(oldUntil) {
				if err := old.sp.FlushPartial(h); err != nil {
					return err
				}
				old.f.Close()
				old = nil
			}
		}
		if err := cur.drain(h); err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		st, serr := os.Stat(fw.Path)
		if serr == nil && !os.SameFile(st, cur.fi) {
			next, err := fw.open(true)
			if err == nil {
				if err := cur.drain(h); err != nil {
					next.f.Close()
					return err
				}
				if old != nil {
					old.sp.FlushPartial(h)
					old.f.Close()
				}
				old, oldUntil = cur, time.Now().Add(grace)
				cur = next
				if fw.OnEvent != nil {
					fw.OnEvent(Rotated)
				}
				continue
			}
		}
		if fi, err := cur.f.Stat(); err == nil && fi.Size() < cur.pos() {
			// copytruncate: whatever was buffered belonged to the old
			// content; emit it, then start over.
			if err := cur.sp.FlushPartial(h); err != nil {
				return err
			}
			if _, err := cur.f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			cur.sp.Reset()
			cur.base = 0
			if fw.OnEvent != nil {
				fw.OnEvent(Truncated)
			}
			continue
		}
		timer.Reset(poll)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
}
