package client

import (
	"bytes"
	"strconv"
	"testing"
)

// refLineNo is parseLineNo written the obvious way with strconv: the
// REMOTE line number field of a server is `N` or `N@OFFSET`.
func refLineNo(b []byte) (uint64, int64) {
	num, rest, hasOff := bytes.Cut(b, []byte{'@'})
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0, -1
		}
	}
	if len(num) > 19 {
		return 0, -1
	}
	var no uint64
	if len(num) > 0 {
		no, _ = strconv.ParseUint(string(num), 10, 64)
	}
	if !hasOff {
		return no, -1
	}
	if len(rest) == 0 || len(rest) > 18 {
		return no, -1
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return no, -1
		}
	}
	off, _ := strconv.ParseInt(string(rest), 10, 64)
	return no, off
}

// FuzzParseLineNo: the REMOTE line number field comes from any server
// (DTail 4.x or ours); the hand-written parser on the per-line path must
// agree with the strconv one and never panic.
func FuzzParseLineNo(f *testing.F) {
	for _, s := range []string{"", "1", "42", "42@0", "42@1234", "@", "1@", "@5", "x", "1x", "1@x",
		"18446744073709551615", "99999999999999999999", "1@999999999999999999", "1@1000000000000000000", "12@3@4"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		no, off := parseLineNo(b)
		wno, woff := refLineNo(b)
		if no != wno || off != woff {
			t.Fatalf("parseLineNo(%q) = %d, %d; want %d, %d", b, no, off, wno, woff)
		}
	})
}
