package logformat

import (
	"bytes"
	"fmt"
	"strings"
)

// defaultParser reads DTail's own MAPREDUCE lines (spec §7.2):
//
//	INFO|<time>|<pid>|<caller>|<cpus>|<goroutines>|<cgocalls>|<loadavg>|<uptime>|MAPREDUCE:<TABLE>|k1=v1|...
type defaultParser struct {
	common
	// wPos[i] is set if the variable of field i (0..8) is wanted; wSev
	// and wLevel split field 0's two names, wDate the four parts of a
	// 15-character $time.
	wPos                     [9]bool
	wSev, wLevel             bool
	wDate, wHour, wMin, wSec bool
	anyDate                  bool
}

func newDefaultParser(c common) *defaultParser {
	p := &defaultParser{common: c}
	for i := 2; i <= 8; i++ {
		p.wPos[i] = p.wants(positional[i])
	}
	p.wSev, p.wLevel = p.wants("$severity"), p.wants("$loglevel")
	p.wPos[1] = p.wants("$time")
	p.wDate, p.wHour, p.wMin, p.wSec = p.wants("$date"), p.wants("$hour"), p.wants("$minute"), p.wants("$second")
	p.anyDate = p.wDate || p.wHour || p.wMin || p.wSec
	return p
}

var (
	infoPrefix      = []byte("INFO")
	mapreducePrefix = []byte("MAPREDUCE:")
)

// positional names the variables of fields 2 to 8.
var positional = [...]string{2: "$pid", 3: "$caller", 4: "$cpus", 5: "$goroutines", 6: "$cgocalls", 7: "$loadavg", 8: "$uptime"}

// Parse implements Parser. Lines that are not INFO, have no MAPREDUCE:
// marker in field 9 or fewer than 11 fields are ignored; a key=value field
// without '=' is an error. The checks run on the bytes, so ignored lines
// cost no allocation; accepted lines cost one (the line as a string, which
// all values are substrings of), none with Options.Borrow.
func (p *defaultParser) Parse(b []byte) (map[string]string, bool, error) {
	b = bytes.TrimSpace(b)
	if !bytes.HasPrefix(b, infoPrefix) {
		return nil, false, nil
	}
	// ends[i] is the offset of the '|' ending field i, for fields 0..9.
	var ends [10]int
	off := 0
	for i := range ends {
		j := bytes.IndexByte(b[off:], '|')
		if j < 0 {
			return nil, false, nil // fewer than 11 fields
		}
		ends[i] = off + j
		off += j + 1
	}
	if !bytes.HasPrefix(b[ends[8]+1:], mapreducePrefix) {
		return nil, false, nil
	}
	line := p.str(b)
	m := p.reset()
	rest := line[ends[9]+1:]
	for n := 10; ; n++ {
		kv, tail, more := strings.Cut(rest, "|")
		eq := strings.IndexByte(kv, '=')
		if eq < 0 {
			return nil, false, fmt.Errorf("default log format: field %d has no '=': %q", n, kv)
		}
		if k := kv[:eq]; p.wants(k) {
			m[k] = kv[eq+1:]
		}
		if !more {
			break
		}
		rest = tail
	}
	f0 := line[:ends[0]]
	if p.wSev {
		m["$severity"] = f0
	}
	if p.wLevel {
		m["$loglevel"] = f0
	}
	t := line[ends[0]+1 : ends[1]]
	if p.wPos[1] {
		m["$time"] = t
	}
	if len(t) == 15 && p.anyDate { // YYYYMMDD-HHMMSS; dserver itself writes MMDD-HHMMSS
		if p.wDate {
			m["$date"] = t[0:8]
		}
		if p.wHour {
			m["$hour"] = t[9:11]
		}
		if p.wMin {
			m["$minute"] = t[11:13]
		}
		if p.wSec {
			m["$second"] = t[13:15]
		}
	}
	for i := 2; i <= 8; i++ {
		if p.wPos[i] {
			m[positional[i]] = line[ends[i-1]+1 : ends[i]]
		}
	}
	p.setCommon(m, line)
	return m, true, nil
}
