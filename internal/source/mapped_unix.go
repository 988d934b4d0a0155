//go:build unix

package source

import (
	"os"

	"golang.org/x/sys/unix"
)

func mmapFile(f *os.File, size int) ([]byte, error) {
	data, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	// Read-ahead for files not yet in the page cache.
	_ = unix.Madvise(data, unix.MADV_SEQUENTIAL)
	return data, nil
}

func munmap(b []byte) error { return unix.Munmap(b) }

// dontNeed drops pages from this process's page tables; a shared file
// mapping keeps its data in the page cache, so a later touch refaults the
// same bytes.
func dontNeed(b []byte) { _ = unix.Madvise(b, unix.MADV_DONTNEED) }
