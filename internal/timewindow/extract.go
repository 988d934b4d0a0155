package timewindow

import "time"

// Extractor finds the timestamp at the start of a log line. Known
// formats, tried by their first byte and fixed separator positions (no
// regexp):
//
//   - DTail's default format: `LEVEL|YYYYMMDD-HHMMSS|…`
//   - dserver's own log: `LEVEL|MMDD-HHMMSS|…` (current year)
//   - ISO 8601 / RFC 3339 at line start: `2024-01-02T15:04:05[.frac][Z|±hh:mm]`,
//     also with a space instead of the T; without a zone it is local time
//   - a bare `YYYYMMDD-HHMMSS` at line start
//   - syslog: `Jan  2 15:04:05` (current year)
//
// Timestamps without a zone are in the Extractor's location (the
// server's local time). Formats without a year get the current year, or
// the previous one when that would put the line more than two days in the
// future (December logs read in January). An Extractor is not safe for
// concurrent use.
type Extractor struct {
	loc  *time.Location
	year int
	now  int64

	dayKey   int
	dayStart int64
	dayPlain bool // the cached day has 86400 s (no DST change)
}

// NewExtractor returns an extractor for lines written around now, in
// now's location.
func NewExtractor(now time.Time) *Extractor {
	return &Extractor{loc: now.Location(), year: now.Year(), now: now.Unix()}
}

// Extract returns the unix second of the line's timestamp.
func (e *Extractor) Extract(line []byte) (int64, bool) {
	if len(line) < 11 {
		return 0, false
	}
	c := line[0]
	switch {
	case isDigit(c):
		if len(line) >= 19 && line[4] == '-' && line[7] == '-' && (line[10] == 'T' || line[10] == ' ') && line[13] == ':' && line[16] == ':' {
			return e.iso(line)
		}
		if len(line) >= 15 && line[8] == '-' {
			return e.compact(line[:15], true)
		}
	case c >= 'A' && c <= 'Z':
		if len(line) >= 15 && line[3] == ' ' && line[6] == ' ' && line[9] == ':' && line[12] == ':' {
			if t, ok := e.syslog(line); ok {
				return t, true
			}
		}
		// LEVEL|time|: the level is a short upper-case word.
		for i := 1; i < len(line) && i <= 10; i++ {
			b := line[i]
			if b == '|' {
				rest := line[i+1:]
				if len(rest) >= 15 && rest[8] == '-' && (len(rest) == 15 || rest[15] == '|') {
					return e.compact(rest[:15], true)
				}
				if len(rest) >= 11 && rest[4] == '-' && (len(rest) == 11 || rest[11] == '|') {
					return e.compact(rest[:11], false)
				}
				return 0, false
			}
			if !(b >= 'A' && b <= 'Z') {
				return 0, false
			}
		}
	}
	return 0, false
}

// compact parses YYYYMMDD-HHMMSS (withYear) or MMDD-HHMMSS.
func (e *Extractor) compact(b []byte, withYear bool) (int64, bool) {
	y := e.year
	if withYear {
		var ok bool
		if y, ok = num(b[0:4]); !ok {
			return 0, false
		}
		b = b[4:]
	}
	mo, ok1 := num(b[0:2])
	d, ok2 := num(b[2:4])
	h, ok3 := num(b[5:7])
	mi, ok4 := num(b[7:9])
	s, ok5 := num(b[9:11])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return 0, false
	}
	if withYear {
		return e.local(y, mo, d, h, mi, s)
	}
	return e.yearless(mo, d, h, mi, s)
}

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func (e *Extractor) syslog(b []byte) (int64, bool) {
	mo := 0
	for i, m := range months {
		if b[0] == m[0] && b[1] == m[1] && b[2] == m[2] {
			mo = i + 1
			break
		}
	}
	if mo == 0 {
		return 0, false
	}
	d1, d2 := b[4], b[5]
	if d1 == ' ' {
		d1 = '0'
	}
	if !isDigit(d1) || !isDigit(d2) {
		return 0, false
	}
	d := int(d1-'0')*10 + int(d2-'0')
	h, ok1 := num(b[7:9])
	mi, ok2 := num(b[10:12])
	s, ok3 := num(b[13:15])
	if !(ok1 && ok2 && ok3) {
		return 0, false
	}
	return e.yearless(mo, d, h, mi, s)
}

// yearless puts a date without year into the current year, or the
// previous one when it would be more than two days ahead.
func (e *Extractor) yearless(mo, d, h, mi, s int) (int64, bool) {
	t, ok := e.local(e.year, mo, d, h, mi, s)
	if ok && t > e.now+2*86400 {
		return e.local(e.year-1, mo, d, h, mi, s)
	}
	return t, ok
}

func (e *Extractor) iso(b []byte) (int64, bool) {
	y, ok0 := num(b[0:4])
	mo, ok1 := num(b[5:7])
	d, ok2 := num(b[8:10])
	h, ok3 := num(b[11:13])
	mi, ok4 := num(b[14:16])
	s, ok5 := num(b[17:19])
	if !(ok0 && ok1 && ok2 && ok3 && ok4 && ok5) {
		return 0, false
	}
	rest := b[19:]
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		rest = rest[i:]
	}
	if len(rest) == 0 || (rest[0] != 'Z' && rest[0] != '+' && rest[0] != '-') {
		return e.local(y, mo, d, h, mi, s)
	}
	if !valid(mo, d, h, mi, s) {
		return 0, false
	}
	t := civil(y, mo, d) + int64(h*3600+mi*60+s)
	if rest[0] == 'Z' {
		return t, true
	}
	// ±hh, ±hhmm or ±hh:mm
	if len(rest) < 3 {
		return 0, false
	}
	oh, ok := num(rest[1:3])
	if !ok {
		return 0, false
	}
	om := 0
	switch {
	case len(rest) >= 6 && rest[3] == ':':
		om, ok = num(rest[4:6])
	case len(rest) >= 5 && isDigit(rest[3]):
		om, ok = num(rest[3:5])
	}
	if !ok {
		return 0, false
	}
	off := int64(oh*3600 + om*60)
	if rest[0] == '+' {
		return t - off, true
	}
	return t + off, true
}

// local converts a wall-clock time in the extractor's location, caching
// the start of the day so that most lines cost a few additions.
func (e *Extractor) local(y, mo, d, h, mi, s int) (int64, bool) {
	if !valid(mo, d, h, mi, s) {
		return 0, false
	}
	key := y*10000 + mo*100 + d
	if key != e.dayKey || e.dayKey == 0 {
		start := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, e.loc).Unix()
		next := time.Date(y, time.Month(mo), d+1, 0, 0, 0, 0, e.loc).Unix()
		e.dayKey, e.dayStart, e.dayPlain = key, start, next-start == 86400
	}
	if e.dayPlain {
		return e.dayStart + int64(h*3600+mi*60+s), true
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, 0, e.loc).Unix(), true
}

func valid(mo, d, h, mi, s int) bool {
	return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s <= 60
}

// civil returns the unix day start of a proleptic Gregorian date (UTC).
func civil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097+doe-719468) * 86400
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func num(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
