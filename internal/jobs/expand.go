package jobs

import (
	"strings"
	"time"
)

// dateLayout is the YYYYMMDD format of the placeholders.
const dateLayout = "20060102"

// Expand replaces the date placeholders of spec §2.6 in s, relative to now
// in now's location: $today, $yesterday (−24 h), $yyesterday (−48 h),
// $yyyesterday (−72 h) and $tomorrow (+24 h), each as YYYYMMDD. The
// offsets are whole hours as the spec says, not calendar days, so on a
// day with a DST change they may name the same date twice.
func Expand(s string, now time.Time) string {
	if !strings.Contains(s, "$") {
		return s
	}
	day := func(h int) string { return now.Add(time.Duration(h) * time.Hour).Format(dateLayout) }
	// Longest names first: strings.Replacer prefers earlier arguments at
	// the same position.
	return strings.NewReplacer(
		"$yyyesterday", day(-72),
		"$yyesterday", day(-48),
		"$yesterday", day(-24),
		"$tomorrow", day(24),
		"$today", day(0),
	).Replace(s)
}

// InTimeRange reports whether a scheduled job with TimeRange r may run in
// the hour: start <= hour < end (spec §2.6). A range with start >= end
// never matches, as in DTail 4.x.
func InTimeRange(r [2]int, hour int) bool {
	return r[0] <= hour && hour < r[1]
}

// sameDay reports whether a and b fall on the same calendar day of a's
// location.
func sameDay(a, b time.Time) bool {
	b = b.In(a.Location())
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// fileList splits the job's Files like the -files flag: comma separated,
// blanks trimmed, empty entries dropped.
func fileList(files string) []string {
	var out []string
	for _, f := range strings.Split(files, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
