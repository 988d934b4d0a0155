package timewindow

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

var utc = time.UTC

func TestParse(t *testing.T) {
	now := time.Date(2024, 3, 10, 15, 30, 0, 0, utc)
	cases := []struct {
		in   string
		want time.Time
	}{
		{"now", now},
		{"today", time.Date(2024, 3, 10, 0, 0, 0, 0, utc)},
		{"yesterday", time.Date(2024, 3, 9, 0, 0, 0, 0, utc)},
		{"-2h", now.Add(-2 * time.Hour)},
		{"-30m", now.Add(-30 * time.Minute)},
		{"-7d", now.Add(-7 * 24 * time.Hour)},
		{"-1h30m", now.Add(-90 * time.Minute)},
		{"2024-01-02T15:04:05Z", time.Date(2024, 1, 2, 15, 4, 5, 0, utc)},
		{"2024-01-02T15:04:05+02:00", time.Date(2024, 1, 2, 13, 4, 5, 0, utc)},
		{"2024-01-02 15:04:05", time.Date(2024, 1, 2, 15, 4, 5, 0, utc)},
		{"2024-01-02", time.Date(2024, 1, 2, 0, 0, 0, 0, utc)},
		{"20240102-150405", time.Date(2024, 1, 2, 15, 4, 5, 0, utc)},
	}
	for _, c := range cases {
		got, err := Parse(c.in, now)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "soon", "2h", "-2x", "--2h", "-d", "2024-13-01", "12:00"} {
		if _, err := Parse(bad, now); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}

func TestParseWindow(t *testing.T) {
	now := time.Date(2024, 3, 10, 15, 30, 0, 0, utc)
	w, err := ParseWindow("-2h", "", now)
	if err != nil || w.Since != now.Add(-2*time.Hour).Unix() || w.HasUntil() {
		t.Fatalf("got %+v %v", w, err)
	}
	_, err = ParseWindow("today", "yesterday", now)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "later than") {
		t.Fatalf("since > until: %v", err)
	}
	_, err = ParseWindow("bogus", "", now)
	if err == nil || !strings.Contains(err.Error(), `"bogus"`) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("bad value: %v", err)
	}
	if !InWindow(now, now.Add(-time.Hour), time.Time{}) || InWindow(now, time.Time{}, now) {
		t.Fatal("InWindow")
	}
	if !All.IsAll() || !All.Contains(0) {
		t.Fatal("All")
	}
}

func TestExtract(t *testing.T) {
	now := time.Date(2024, 3, 10, 15, 30, 0, 0, utc)
	x := NewExtractor(now)
	at := func(y int, mo time.Month, d, h, mi, s int) int64 { return time.Date(y, mo, d, h, mi, s, 0, utc).Unix() }
	cases := []struct {
		line string
		want int64
		ok   bool
	}{
		{"INFO|20211002-000001|1|x.go:1|hello", at(2021, 10, 2, 0, 0, 1), true},
		{"ERROR|20211002-235959|", at(2021, 10, 2, 23, 59, 59), true},
		{"WARN|20211002-235959", at(2021, 10, 2, 23, 59, 59), true},
		{"INFO|0309-101112|1|stats.go:56|8", at(2024, 3, 9, 10, 11, 12), true},
		{"INFO|1231-101112|1|stats.go:56|8", at(2023, 12, 31, 10, 11, 12), true}, // previous year
		{"2024-01-02T15:04:05Z something", at(2024, 1, 2, 15, 4, 5), true},
		{"2024-01-02T15:04:05.123456+01:00 x", at(2024, 1, 2, 14, 4, 5), true},
		{"2024-01-02T15:04:05-0130 x", at(2024, 1, 2, 16, 34, 5), true},
		{"2024-01-02 15:04:05,123 INFO x", at(2024, 1, 2, 15, 4, 5), true},
		{"2024-01-02T15:04:05", at(2024, 1, 2, 15, 4, 5), true},
		{"20240102-150405 x", at(2024, 1, 2, 15, 4, 5), true},
		{"Mar  9 10:11:12 host sshd[1]: x", at(2024, 3, 9, 10, 11, 12), true},
		{"Feb 29 10:11:12 host", at(2024, 2, 29, 10, 11, 12), true},
		{"Dec 31 23:59:59 host", at(2023, 12, 31, 23, 59, 59), true},
		{"\tat com.example.Foo(Foo.java:12)", 0, false},
		{"INFO|hello|world", 0, false},
		{"INFO|2021100X-000001|", 0, false},
		{"2024-13-02T15:04:05Z", 0, false},
		{"Foo  9 10:11:12 host", 0, false},
		{"short", 0, false},
		{"", 0, false},
		{"VERYLONGLEVELNAME|20211002-000001|", 0, false},
	}
	for _, c := range cases {
		got, ok := x.Extract([]byte(c.line))
		if ok != c.ok || got != c.want {
			t.Errorf("Extract(%q) = %d (%v), %v; want %d (%v), %v", c.line, got, time.Unix(got, 0).UTC(), ok, c.want, time.Unix(c.want, 0).UTC(), c.ok)
		}
	}
}

func TestExtractDST(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zoneinfo")
	}
	x := NewExtractor(time.Date(2024, 6, 1, 0, 0, 0, 0, loc))
	for _, c := range []struct {
		line string
		want time.Time
	}{
		{"INFO|20240331-013000|", time.Date(2024, 3, 31, 1, 30, 0, 0, loc)},
		{"INFO|20240331-033000|", time.Date(2024, 3, 31, 3, 30, 0, 0, loc)},
		{"INFO|20240401-033000|", time.Date(2024, 4, 1, 3, 30, 0, 0, loc)},
	} {
		got, ok := x.Extract([]byte(c.line))
		if !ok || got != c.want.Unix() {
			t.Errorf("%s: got %v want %v", c.line, time.Unix(got, 0), c.want)
		}
	}
}

func TestFilterContinuation(t *testing.T) {
	x := NewExtractor(time.Date(2024, 3, 10, 0, 0, 0, 0, utc))
	f := Filter{W: Window{Since: time.Date(2024, 1, 1, 0, 1, 0, 0, utc).Unix(), Until: time.Date(2024, 1, 1, 0, 2, 0, 0, utc).Unix()}, X: x}
	lines := []string{"orphan", "INFO|20240101-000000|a", "cont a", "INFO|20240101-000100|b", "cont b", "INFO|20240101-000200|c"}
	var got []string
	for _, l := range lines {
		in, past := f.Line([]byte(l))
		if past {
			got = append(got, "STOP")
			break
		}
		if in {
			got = append(got, l)
		}
	}
	if fmt.Sprint(got) != "[INFO|20240101-000100|b cont b STOP]" {
		t.Fatalf("got %v", got)
	}
}

// genLog writes one line per step from start; every line gets extra
// continuation lines when cont > 0; long pads lines.
type genOpts struct {
	n, cont, pad int
	crlf, noTS   bool
}

func genLog(start time.Time, step time.Duration, o genOpts) (data []byte, stamps []int64, starts []int64) {
	var b bytes.Buffer
	eol := "\n"
	if o.crlf {
		eol = "\r\n"
	}
	for i := 0; i < o.n; i++ {
		ts := start.Add(time.Duration(i) * step)
		starts = append(starts, int64(b.Len()))
		stamps = append(stamps, ts.Unix())
		if o.noTS {
			fmt.Fprintf(&b, "line %d %s%s", i, strings.Repeat("x", o.pad), eol)
		} else {
			fmt.Fprintf(&b, "INFO|%s|%d|%s%s", ts.Format("20060102-150405"), i, strings.Repeat("x", o.pad), eol)
		}
		for c := 0; c < o.cont; c++ {
			fmt.Fprintf(&b, "\tat frame %d%s", c, eol)
		}
	}
	return b.Bytes(), stamps, starts
}

func TestSeekStart(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, utc)
	x := NewExtractor(time.Date(2024, 3, 1, 0, 0, 0, 0, utc))
	for _, o := range []genOpts{
		{n: 20000},
		{n: 20000, cont: 3},
		{n: 20000, crlf: true},
		{n: 100, pad: 300 << 10}, // long lines, larger than a probe
		{n: 12, pad: 3 << 20},    // lines beyond the probe limit: linear scan
		{n: 20000, noTS: true},
		{n: 3},
		{n: 0},
	} {
		data, stamps, starts := genLog(start, time.Minute, o)
		r := bytes.NewReader(data)
		for _, k := range []int{0, 1, o.n / 3, o.n / 2, o.n - 1, o.n} {
			if k < 0 || (o.n == 0 && k > 0) {
				continue
			}
			since := start.Add(time.Duration(k) * time.Minute).Unix()
			// The answer: the first line ≥ since (the end if none).
			want := int64(len(data))
			if k < o.n {
				want = starts[k]
			}
			off, n := SeekStart(r, int64(len(data)), since, x)
			if off > want {
				t.Fatalf("%+v k=%d: offset %d after the first line ≥ since at %d", o, k, off, want)
			}
			if off > 0 && data[off-1] != '\n' {
				t.Fatalf("%+v k=%d: offset %d is not a line start", o, k, off)
			}
			if !o.noTS && o.pad < 1<<20 && want-off > 2*scanSpan+int64(o.pad) {
				t.Errorf("%+v k=%d: offset %d is %d bytes before %d", o, k, off, want-off, want)
			}
			if !o.noTS && o.n > 1000 && o.pad == 0 && n > int64(len(data))/10 {
				t.Errorf("%+v k=%d: probes read %d of %d bytes", o, k, n, len(data))
			}
			// Scanning from off with the filter finds exactly the lines ≥ since.
			if !o.noTS {
				f := Filter{W: Window{Since: since, Until: NoUntil}, X: x}
				count := 0
				for _, line := range bytes.SplitAfter(data[off:], []byte("\n")) {
					if len(line) == 0 {
						continue
					}
					if in, _ := f.Line(line); in && line[0] == 'I' {
						count++
					}
				}
				if count != o.n-k {
					t.Errorf("%+v k=%d: %d lines ≥ since, want %d", o, k, count, o.n-k)
				}
			}
			_ = stamps
		}
	}
}

func TestFirstLastTimestamp(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, utc)
	x := NewExtractor(time.Date(2024, 3, 1, 0, 0, 0, 0, utc))
	data, stamps, _ := genLog(start, time.Minute, genOpts{n: 5000, cont: 2, crlf: true})
	first, ok, _ := FirstTimestamp(bytes.NewReader(append([]byte("garbage\n"), data...)), x, 64<<10)
	if !ok || first != stamps[0] {
		t.Fatalf("first %d %v", first, ok)
	}
	last, ok, n := LastTimestamp(bytes.NewReader(data), int64(len(data)), x, 64<<10)
	if !ok || last != stamps[len(stamps)-1] || n > 64<<10 {
		t.Fatalf("last %d %v %d", last, ok, n)
	}
	// Without a trailing newline.
	last, ok, _ = LastTimestamp(bytes.NewReader(data[:len(data)-2]), int64(len(data)-2), x, 1000)
	if !ok || last != stamps[len(stamps)-1] {
		t.Fatalf("last without newline %d %v", last, ok)
	}
	if _, ok, _ := FirstTimestamp(strings.NewReader("no\ntimestamps\n"), x, 100); ok {
		t.Fatal("found a timestamp in none")
	}
}
