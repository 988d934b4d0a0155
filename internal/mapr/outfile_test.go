package mapr

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestWriteCSVRefusesNonRegular: an outfile that is a symlink, a FIFO, a
// device or a directory is refused with a one-line error and left as it
// was (issue 13: DTail 4.x replaced /dev/stdout, as root, and FIFOs with
// a regular file), for PATH and PATH.query, with and without append. A
// regular file is replaced through a unique temporary file that does not
// stay behind.
func TestWriteCSVRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.csv")
	if err := os.WriteFile(target, []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub.csv")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	queryLink := filepath.Join(dir, "q.csv")
	if err := os.Symlink(target, queryLink+".query"); err != nil {
		t.Fatal(err)
	}
	// stdout is what "outfile /dev/stdout" names, made in the test
	// directory: a run of this test with the check removed must not
	// replace the real /dev/stdout (as root it could).
	stdout := filepath.Join(dir, "stdout")
	if err := os.Symlink("/proc/self/fd/1", stdout); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		link: "a symlink", fifo: "a FIFO", sub: "a directory", stdout: "a symlink", queryLink: "a symlink",
	}
	if os.Geteuid() == 0 { // a device node of our own, like /dev/null
		null := filepath.Join(dir, "null")
		if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
			t.Fatal(err)
		}
		cases[null] = "a device"
	}
	rows := [][]string{{"1", "a"}}
	for path, kind := range cases {
		for _, appendMode := range []bool{false, true} {
			raw := "from STATS select count($line),$hostname outfile " + path
			if appendMode && path == queryLink {
				continue // PATH.query is written the same way either way
			}
			err := WriteCSV(path, appendMode, raw, mustParse(t, raw), rows)
			if err == nil || !strings.Contains(err.Error(), kind) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s (append %v): err %v, want one line naming it as %s", path, appendMode, err, kind)
			}
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "keep\n" {
		t.Errorf("symlink target changed: %q", b)
	}
	for path := range cases {
		if path == queryLink {
			continue
		}
		if _, err := os.Lstat(path + ".query"); err == nil {
			os.Remove(path + ".query")
			t.Errorf("%s.query written beside a refused outfile", path)
		}
	}
	for _, p := range []string{link, queryLink + ".query"} {
		if st, err := os.Lstat(p); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symlink", p)
		}
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("%s is no longer a FIFO", fifo)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s stayed", e.Name())
		}
	}
	// A stale PATH.tmp symlink (DTail 4.x's fixed temporary name) is not
	// written through.
	out := filepath.Join(dir, "out.csv")
	if err := os.Symlink(target, out+".tmp"); err != nil {
		t.Fatal(err)
	}
	raw := "from STATS select count($line),$hostname outfile " + out
	if err := WriteCSV(out, false, raw, mustParse(t, raw), rows); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep\n" {
		t.Errorf("PATH.tmp symlink written through: %q", b)
	}
	if b, _ := os.ReadFile(out); string(b) != "count($line),$hostname\n1,a\n" {
		t.Errorf("out.csv %q", b)
	}
}
