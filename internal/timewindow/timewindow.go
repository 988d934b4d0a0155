// Package timewindow parses --since/--until values and extracts the
// timestamp of a log line cheaply (no regexp per line). It is a leaf
// package: dserver, serverless runs and the client filter for DTail 4.x
// servers share it.
//
// A window is half-open, [Since, Until), at one-second resolution: log
// timestamps have seconds, and `--since 10:00 --until 11:00` then selects
// exactly one hour.
package timewindow

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Unbounded ends of a window.
const (
	NoSince = math.MinInt64
	NoUntil = math.MaxInt64
)

// Window is a time range in unix seconds: Since ≤ t < Until.
type Window struct {
	Since int64
	Until int64
}

// All is the window without bounds.
var All = Window{Since: NoSince, Until: NoUntil}

// IsAll reports whether the window has no bounds.
func (w Window) IsAll() bool { return w.Since == NoSince && w.Until == NoUntil }

// HasSince and HasUntil report which ends are set.
func (w Window) HasSince() bool { return w.Since != NoSince }
func (w Window) HasUntil() bool { return w.Until != NoUntil }

// Contains reports whether unix second t is inside the window.
func (w Window) Contains(t int64) bool { return t >= w.Since && t < w.Until }

// InWindow reports whether t lies in [since, until); a zero time is an
// open end.
func InWindow(t, since, until time.Time) bool {
	if !since.IsZero() && t.Before(since) {
		return false
	}
	if !until.IsZero() && !t.Before(until) {
		return false
	}
	return true
}

// ParseWindow parses the --since and --until flag values ("" leaves an
// end open) relative to now. Errors are one line, meant for the user.
func ParseWindow(since, until string, now time.Time) (Window, error) {
	w := All
	if since != "" {
		t, err := Parse(since, now)
		if err != nil {
			return w, fmt.Errorf("invalid value %q for flag -since: %v", since, err)
		}
		w.Since = t.Unix()
	}
	if until != "" {
		t, err := Parse(until, now)
		if err != nil {
			return w, fmt.Errorf("invalid value %q for flag -until: %v", until, err)
		}
		w.Until = t.Unix()
	}
	if w.HasSince() && w.HasUntil() && w.Since > w.Until {
		return w, fmt.Errorf("-since %s is later than -until %s", since, until)
	}
	return w, nil
}

var errSyntax = errors.New(`want RFC 3339 (2024-01-02T15:04:05Z), a date (2024-01-02), a relative time (-2h, -30m, -7d), now, today or yesterday`)

// Parse reads one time value: RFC 3339 (also with a space for the T or
// without a zone, which means local time), a date, DTail's
// YYYYMMDD-HHMMSS, a relative time in the past (-90s, -30m, -2h, -7d,
// -1h30m), now, today or yesterday (local midnight).
func Parse(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "now":
		return now, nil
	case "today":
		y, m, d := now.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, now.Location()), nil
	case "yesterday":
		y, m, d := now.Date()
		return time.Date(y, m, d-1, 0, 0, 0, 0, now.Location()), nil
	case "":
		return time.Time{}, errSyntax
	}
	if s[0] == '-' {
		return parseRelative(s, now)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02", "20060102-150405"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errSyntax
}

func parseRelative(s string, now time.Time) (time.Time, error) {
	body := s[1:]
	if strings.HasSuffix(body, "d") {
		n, err := strconv.Atoi(body[:len(body)-1])
		if err != nil || n < 0 || n > 100000 {
			return time.Time{}, errSyntax
		}
		return now.Add(-time.Duration(n) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(body)
	if err != nil || d < 0 || strings.HasPrefix(body, "-") || strings.HasPrefix(body, "+") {
		return time.Time{}, errSyntax
	}
	return now.Add(-d), nil
}
