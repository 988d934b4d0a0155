package protocol

import (
	"path/filepath"
	"strings"
)

// StdinSourceID identifies data read from standard input.
const StdinSourceID = "-"

// journalPrefix marks systemd journal targets, which are their own source id.
const journalPrefix = "journal:"

// SourceID computes the REMOTE line's source id ("glob id") for path, matched
// by glob: the path components at the positions of the glob's components
// containing '*', joined with '/', or the basename when the glob has none.
// This lets a reader of /var/log/*/app.log tell hosts' directories apart.
func SourceID(glob, path string) string {
	if glob == StdinSourceID || path == StdinSourceID {
		return StdinSourceID
	}
	if strings.HasPrefix(glob, journalPrefix) {
		return glob
	}
	globParts := strings.Split(filepath.Clean(glob), "/")
	pathParts := strings.Split(path, "/")
	var ids []string
	for i, g := range globParts {
		if strings.Contains(g, "*") && i < len(pathParts) {
			ids = append(ids, pathParts[i])
		}
	}
	if len(ids) == 0 {
		return filepath.Base(path)
	}
	return strings.Join(ids, "/")
}
