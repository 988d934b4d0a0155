package sshserver

import (
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxCachedKeyFiles bounds the parsed-file cache; past it the cache starts
// afresh (a parse costs one read of a small file, the bound keeps a server
// with many users from pinning their keys forever).
const maxCachedKeyFiles = 4096

// fileID identifies one version of a file well enough to tell an edit:
// replacing the file changes the inode, writing it changes size or the
// change time (ctime cannot be set from user space).
type fileID struct {
	dev, ino  uint64
	size      int64
	mtime     int64
	ctime     int64
	ctimeNsec int64
}

type keyFile struct {
	id   fileID
	keys map[string]struct{}
}

// keyFileCache keeps the parsed authorized keys of recently used files,
// keyed by path and validated by fstat on every use.
type keyFileCache struct {
	mu    sync.Mutex
	files map[string]keyFile
}

// get returns the keys of the open file f, parsing it only when it is not
// the version seen last time.
func (c *keyFileCache) get(f *os.File, warn func(int, error)) (map[string]struct{}, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if _, ok := fi.Sys().(*syscall.Stat_t); !ok {
		return parseAuthorizedKeys(f, warn)
	}
	// x/sys/unix spells the timestamps the same on every Unix (syscall's
	// Stat_t has Mtim on Linux but Mtimespec on darwin, where the clients
	// that link this package are built too).
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, err
	}
	id := fileID{dev: uint64(st.Dev), ino: st.Ino, size: st.Size,
		mtime: st.Mtim.Nano(), ctime: int64(st.Ctim.Sec), ctimeNsec: int64(st.Ctim.Nsec)}
	name := f.Name()
	c.mu.Lock()
	cached, hit := c.files[name]
	c.mu.Unlock()
	if hit && cached.id == id {
		return cached.keys, nil
	}
	keys, err := parseAuthorizedKeys(f, warn)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.files == nil || len(c.files) >= maxCachedKeyFiles {
		c.files = make(map[string]keyFile)
	}
	c.files[name] = keyFile{id: id, keys: keys}
	c.mu.Unlock()
	return keys, nil
}
