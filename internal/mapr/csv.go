package mapr

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/dtail-go/dtail/internal/query"
)

// WriteCSV writes one report to the outfile (spec §5.9):
//
//  1. the raw query, without newline, to a temporary file next to it,
//     renamed to PATH.query;
//  2. without append, header and rows to a temporary file in PATH's
//     directory, renamed to PATH, so readers see either the previous or
//     the new report, never a partial one; with append, header (only into
//     a missing or empty file) and rows appended to PATH.
//
// PATH and PATH.query must be missing or regular files: a symlink
// (/dev/stdout), FIFO, device or directory is refused with an error
// rather than replaced. The temporary names are PATH.tmpPID.N (DTail 4.x
// used PATH.tmp).
//
// The header is the select entries' storage names joined by ",", each row
// its values joined by ","; no quoting, "\n" line ends. The query's limit
// applies; there is no default limit. rows come from Result.Rows.
func WriteCSV(path string, appendMode bool, raw string, q *query.Query, rows [][]string) error {
	// PATH first: a refused outfile leaves no PATH.query beside it.
	if err := checkRegular(path); err != nil {
		return err
	}
	if err := writeRename(path+".query", []byte(raw)); err != nil {
		return err
	}
	if q.Limit >= 0 && len(rows) > q.Limit {
		rows = rows[:q.Limit]
	}
	header := strings.Join(q.Storages(), ",") + "\n"
	var body strings.Builder
	for _, row := range rows {
		body.WriteString(strings.Join(row, ","))
		body.WriteByte('\n')
	}
	if !appendMode {
		return writeRename(path, []byte(header+body.String()))
	}
	if err := checkRegular(path); err != nil {
		return err
	}
	// O_NOFOLLOW and O_NONBLOCK close the gap after the check: a symlink
	// is not followed and a FIFO does not block the open (Stat refuses
	// it below).
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o666)
	if err != nil {
		return fmt.Errorf("mapr: outfile: %w", err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		f.Close()
		return notRegular(path, st.Mode())
	}
	data := body.String()
	if err == nil && st.Size() == 0 {
		data = header + data
	}
	if err == nil {
		_, err = f.WriteString(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("mapr: outfile %s: %w", path, err)
	}
	return nil
}

// checkRegular refuses to replace or append to anything at path that is
// not a regular file: "outfile /dev/stdout" (a symlink), a FIFO, a device
// or a directory would otherwise be replaced by a regular file (issue 13).
// A missing path is fine.
func checkRegular(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mapr: outfile: %w", err)
	}
	if !st.Mode().IsRegular() {
		return notRegular(path, st.Mode())
	}
	return nil
}

func notRegular(path string, m fs.FileMode) error {
	kind := "not a regular file"
	switch {
	case m&fs.ModeSymlink != 0:
		kind = "a symlink"
	case m&fs.ModeNamedPipe != 0:
		kind = "a FIFO"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m.IsDir():
		kind = "a directory"
	}
	return fmt.Errorf("mapr: outfile %s: is %s, not a regular file; refusing to replace it (name a new or regular file)", path, kind)
}

// writeRename writes data to a new temporary file in path's directory
// and renames it to path, so readers see the old or the new report, never
// a partial one. The temporary name is unique (O_EXCL), so two runs with
// the same outfile never write into one temporary file, and a stale
// PATH.tmp symlink is never followed. path itself must be missing or a
// regular file. Between that check and the rename a symlink planted at
// path would be replaced, not written through.
func writeRename(path string, data []byte) error {
	if err := checkRegular(path); err != nil {
		return err
	}
	var f *os.File
	var err error
	for i := 0; ; i++ {
		tmp := path + ".tmp" + strconv.Itoa(os.Getpid()) + "." + strconv.FormatUint(rand.Uint64()%1e6, 10)
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil || !errors.Is(err, fs.ErrExist) || i == 10 {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("mapr: outfile: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		// Leave no stray temporary file behind. Its removal can only
		// fail for the reason the write failed, which err reports (os
		// errors name the path).
		_ = os.Remove(tmp)
		return fmt.Errorf("mapr: outfile: %w", err)
	}
	return nil
}
