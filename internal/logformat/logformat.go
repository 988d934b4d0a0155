// Package logformat turns one log line into the field map the mapreduce
// query reads (spec §7): DTail's own "default" format, "generic",
// "generickv", "csv", the failing "custom1"/"custom2" templates, and two
// formats beyond DTail 4.x, "json" and "logfmt".
//
// A Parser is made per file (per reader): "csv" takes the first line it
// sees as the header, and every parser reuses one map across lines to keep
// the per-line path free of map allocations. The map a Parse call returns
// belongs to the parser: the caller may read and modify it (query set
// assignments do) until the next Parse call, which clears it, and must copy
// anything it wants to keep. Parsers are not safe for concurrent use.
//
// The package is a leaf: standard library only, no package state.
package logformat

import (
	"errors"
	"os"
	"strconv"
	"time"
	"unsafe"
)

// Parser turns one line into fields.
type Parser interface {
	// Parse returns the line's fields. ok=false with a nil error means the
	// format ignores the line (it is not counted); a non-nil error means
	// the line is malformed and dropped (the server logs it). The line is
	// whitespace-trimmed first; it is not retained.
	Parse(line []byte) (fields map[string]string, ok bool, err error)
}

// HeaderLine reports whether the line p ignored last was a header (the
// first line of a csv file): it names the columns and is not data, so a
// caller counting skipped lines leaves it out. Call it right after Parse
// returned ok=false with a nil error.
func HeaderLine(p Parser) bool {
	h, ok := p.(interface{ headerLine() bool })
	return ok && h.headerLine()
}

// Options are the per-server values the common variables need (spec §6.3).
type Options struct {
	// Hostname is the server's full hostname for $hostname and $server
	// (or "integrationtest" in test mode). Empty means os.Hostname().
	Hostname string
	// Location gives $timezone and $timeoffset; nil means time.Local.
	Location *time.Location
	// Fields, if not nil, names the only fields the caller will read (a
	// query's Fields). Parsers may then leave every other field out of
	// the map, which makes a line much cheaper (spec §7.2 allows it: the
	// results are the same). Validation is unchanged: a line that is
	// ignored or an error without the filter still is with it.
	Fields []string
	// Borrow lets field values alias the bytes passed to Parse instead of
	// copying them: they are then only valid until the caller reuses
	// those bytes, and a caller that keeps a value must copy it. It saves
	// one allocation per line. Only the default, generic, generickv and
	// csv formats borrow; the others always copy.
	Borrow bool
}

// Names of the registered formats (spec §7.1 plus our additions).
const (
	Default         = "default"
	Generic         = "generic"
	GenericKV       = "generickv"
	CSV             = "csv"
	Custom1         = "custom1"
	Custom2         = "custom2"
	Mimecast        = "mimecast"
	MimecastGeneric = "mimecastgeneric"
	JSON            = "json"
	Logfmt          = "logfmt"
)

// Names returns the registered format names, including those whose
// constructor fails (they are registered in DTail 4.x too).
func Names() []string {
	return []string{Default, Generic, GenericKV, CSV, Custom1, Custom2, Mimecast, MimecastGeneric, JSON, Logfmt}
}

// Select returns the effective format name (spec §7.1): the query's
// logformat clause if present, else "generic" without a from clause, else
// the server's MapreduceLogFormat (serverDefault, "default" if empty).
func Select(clause string, hasFrom bool, serverDefault string) string {
	switch {
	case clause != "":
		return clause
	case !hasFrom:
		return Generic
	case serverDefault != "":
		return serverDefault
	}
	return Default
}

// ErrUnknownFormat is returned by New for a name that is not registered.
var ErrUnknownFormat = errors.New("unknown log format")

// New returns a parser for the named format. custom1, custom2 and the
// mimecast formats are registered but fail here, as in open-source DTail.
func New(name string, opts Options) (Parser, error) {
	c := newCommon(opts)
	switch name {
	case Default:
		return newDefaultParser(c), nil
	case Generic:
		return &genericParser{common: c}, nil
	case GenericKV:
		return &genericKVParser{common: c}, nil
	case CSV:
		return &csvParser{common: c}, nil
	case JSON:
		return &jsonParser{common: c}, nil
	case Logfmt:
		return &logfmtParser{common: c}, nil
	case Custom1, Custom2:
		// Empty templates in DTail: a place to add a format in source.
		return nil, errors.New("log format " + name + " is an empty template")
	case Mimecast, MimecastGeneric:
		return nil, errors.New("log format " + name + " is not available in this build")
	}
	return nil, errors.New(ErrUnknownFormat.Error() + " " + strconv.Quote(name))
}

// FallbackMessage is what the server logs when New fails (spec §7.1).
const FallbackMessage = "Could not create log format parser. Falling back to 'generic'"

// NewOrGeneric is New with the server's fallback: if the named format
// cannot be made it returns a generic parser and New's error, which the
// caller logs with FallbackMessage. The parser is never nil.
func NewOrGeneric(name string, opts Options) (Parser, error) {
	p, err := New(name, opts)
	if err != nil {
		return &genericParser{common: newCommon(opts)}, err
	}
	return p, nil
}

// common holds the values every format provides, the reused map and the
// field filter of Options.Fields.
type common struct {
	hostname, timezone, timeoffset string
	m                              map[string]string

	borrow bool
	filter bool            // Options.Fields was given
	keys   []string        // the wanted names, searched linearly when few
	want   map[string]bool // the wanted names, when many
	// the common variables the caller wants (all without a filter)
	wLine, wEmpty, wHostname, wServer, wTimezone, wTimeoffset, wStar bool
}

// linearKeys is the size up to which a linear search of the wanted names
// beats a map lookup.
const linearKeys = 8

func newCommon(opts Options) common {
	host := opts.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	loc := opts.Location
	if loc == nil {
		loc = time.Local
	}
	zone, off := time.Now().In(loc).Zone()
	c := common{hostname: host, timezone: zone, timeoffset: strconv.Itoa(off), borrow: opts.Borrow}
	if opts.Fields == nil {
		c.m = make(map[string]string, 32)
		c.wLine, c.wEmpty, c.wHostname, c.wServer, c.wTimezone, c.wTimeoffset, c.wStar = true, true, true, true, true, true, true
		return c
	}
	c.filter = true
	c.want = make(map[string]bool, len(opts.Fields))
	for _, f := range opts.Fields {
		if !c.want[f] {
			c.want[f] = true
			c.keys = append(c.keys, f)
		}
	}
	// A small map (at most 8 entries) is cleared in a few instructions.
	c.m = make(map[string]string, len(c.keys))
	c.wLine, c.wEmpty, c.wHostname = c.want["$line"], c.want["$empty"], c.want["$hostname"]
	c.wServer, c.wTimezone, c.wTimeoffset, c.wStar = c.want["$server"], c.want["$timezone"], c.want["$timeoffset"], c.want["*"]
	return c
}

// wants reports whether the caller reads field k.
func (c *common) wants(k string) bool {
	if !c.filter {
		return true
	}
	if len(c.keys) <= linearKeys {
		for _, x := range c.keys {
			if x == k {
				return true
			}
		}
		return false
	}
	return c.want[k]
}

// str returns the line as a string: the bytes themselves with Borrow, else
// a copy. All field values are substrings of it.
func (c *common) str(b []byte) string {
	if c.borrow {
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	return string(b)
}

// reset clears the reused map for a new line.
func (c *common) reset() map[string]string {
	clear(c.m)
	return c.m
}

// setCommon stores the variables of spec §6.3. They are written after the
// line's own fields so that a line cannot spoof them.
func (c *common) setCommon(m map[string]string, line string) {
	if c.wLine {
		m["$line"] = line
	}
	if c.wEmpty {
		m["$empty"] = ""
	}
	if c.wHostname {
		m["$hostname"] = c.hostname
	}
	if c.wServer {
		m["$server"] = c.hostname
	}
	if c.wTimezone {
		m["$timezone"] = c.timezone
	}
	if c.wTimeoffset {
		m["$timeoffset"] = c.timeoffset
	}
	if c.wStar {
		m["*"] = "*"
	}
}
