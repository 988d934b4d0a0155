package protocol

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Option keys understood by the server.
const (
	OptQuiet      = "quiet"
	OptPlain      = "plain"
	OptServerless = "serverless"
	OptBefore     = "before"
	OptAfter      = "after"
	OptMax        = "max"
)

// base64ValuePrefix marks an option value that had to be encoded because it
// would otherwise collide with the ':' and '=' separators (or '|', which the
// server's logger uses as field separator).
const base64ValuePrefix = "base64%"

// Options is the decoded form of the OPTIONS part of "verb:OPTIONS".
type Options struct {
	Quiet      bool
	Plain      bool
	Serverless bool
	Before     int
	After      int
	Max        int
	// Extra keeps keys this implementation does not know, so that a
	// decode/encode cycle does not lose what a newer peer sent. Keys must
	// not contain ':' or '='; entries named like a typed field are ignored.
	Extra map[string]string
}

// Encode produces the client's option string: only true/non-zero values, keys
// sorted, values escaped with base64% where needed. The zero Options encode
// to "", which is why a plain dcat sends "cat: file …".
func (o Options) Encode() string {
	kv := make(map[string]string, 6+len(o.Extra))
	for k, v := range o.Extra {
		kv[k] = v
	}
	setBool := func(k string, v bool) {
		delete(kv, k)
		if v {
			kv[k] = "true"
		}
	}
	setInt := func(k string, v int) {
		delete(kv, k)
		if v != 0 {
			kv[k] = strconv.Itoa(v)
		}
	}
	setBool(OptQuiet, o.Quiet)
	setBool(OptPlain, o.Plain)
	setBool(OptServerless, o.Serverless)
	setInt(OptBefore, o.Before)
	setInt(OptAfter, o.After)
	setInt(OptMax, o.Max)

	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(escapeOptionValue(kv[k]))
	}
	return b.String()
}

func escapeOptionValue(v string) string {
	if strings.ContainsAny(v, ":=|") || strings.HasPrefix(v, base64ValuePrefix) {
		return base64ValuePrefix + base64.StdEncoding.EncodeToString([]byte(v))
	}
	return v
}

// DecodeOptions parses an option string as produced by Options.Encode. The
// empty string means no options. Error texts are the reference server's,
// which sends them as SERVER errors: "Unable to parse options: [pair]" for a
// pair without '=' (including an empty pair, printed "[]"), and the bare
// strconv or base64 error for bad values. Boolean keys are true only for the
// exact value "true"; anything else silently means false, as in the
// reference.
func DecodeOptions(s string) (Options, error) {
	var o Options
	if s == "" {
		return o, nil
	}
	for pair := range strings.SplitSeq(s, ":") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return Options{}, fmt.Errorf("Unable to parse options: %v", []string{pair})
		}
		if enc, found := strings.CutPrefix(v, base64ValuePrefix); found {
			dec, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				return Options{}, err
			}
			v = string(dec)
		}
		var err error
		switch k {
		case OptQuiet:
			o.Quiet = v == "true"
		case OptPlain:
			o.Plain = v == "true"
		case OptServerless:
			o.Serverless = v == "true"
		case OptBefore:
			o.Before, err = strconv.Atoi(v)
		case OptAfter:
			o.After, err = strconv.Atoi(v)
		case OptMax:
			o.Max, err = strconv.Atoi(v)
		default:
			if o.Extra == nil {
				o.Extra = make(map[string]string)
			}
			o.Extra[k] = v
		}
		if err != nil {
			return Options{}, err
		}
	}
	return o, nil
}
