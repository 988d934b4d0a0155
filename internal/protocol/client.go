package protocol

import (
	"strconv"
	"strings"
)

// ReadCommand builds "verb:options file regex" (cat, grep or tail). The ':'
// is present even with empty options, giving e.g. "cat: x regex:noop ".
func ReadCommand(verb, options, file, serializedRegex string) string {
	return verb + ":" + options + " " + file + " " + serializedRegex
}

// TimeoutReadCommand builds "timeout N verb file regex". The reference client
// uses it for query reads with -timeout and sends no options with it.
func TimeoutReadCommand(timeout int, verb, file, serializedRegex string) string {
	return TimeoutKeyword + " " + strconv.Itoa(timeout) + " " + verb + " " + file + " " + serializedRegex
}

// MapCommand builds "map:options query".
func MapCommand(options, query string) string {
	return VerbMap + ":" + options + " " + query
}

// TableRegex is the unserialized regex a mapreduce client reads with, given
// the query's table (the "from" argument, "" when absent). "" and "." match
// every line; "*" yields the reference's `\|MAPREDUCE:\|`, which only
// matches an empty table name.
func TableRegex(table string) string {
	switch table {
	case "", ".":
		return "."
	case "*":
		table = ""
	}
	return `\|MAPREDUCE:` + strings.ToUpper(table) + `\|`
}

// SplitFiles turns a -files value into read targets: split at ',', items
// trimmed, empty items dropped.
func SplitFiles(list string) []string {
	var files []string
	for f := range strings.SplitSeq(list, ",") {
		if f = strings.TrimSpace(f); f != "" {
			files = append(files, f)
		}
	}
	return files
}
