package source

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression is chosen by file name suffix only, as DTail 4.x does.
type Compression int

const (
	None Compression = iota
	Gzip
	Zstd
)

// CompressionOf returns the compression implied by a path's suffix.
func CompressionOf(path string) Compression {
	switch {
	case strings.HasSuffix(path, ".gz"), strings.HasSuffix(path, ".gzip"):
		return Gzip
	case strings.HasSuffix(path, ".zst"):
		return Zstd
	}
	return None
}

// Decompress wraps r according to c. The returned closer releases the
// decoder (zstd decoders own goroutines) but not r itself.
func Decompress(r io.Reader, c Compression) (io.Reader, func(), error) {
	switch c {
	case Gzip:
		// flate reads byte by byte from a ByteReader; a large bufio
		// reader keeps the syscalls few.
		zr, err := gzip.NewReader(bufio.NewReaderSize(r, 256<<10))
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return &errPrefixReader{"gzip", zr}, func() { zr.Close() }, nil
	case Zstd:
		// Four decoder stages overlap decoding with the line search
		// (measured: 0.94x `zstdcat | grep` on 2 cores, against 1.10x with
		// one and 1.17x with two); the memory limit guards against hostile
		// frames.
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(4), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return &errPrefixReader{"zstd", zr}, zr.Close, nil
	}
	return r, func() {}, nil
}

// errPrefixReader prefixes decoder errors so a user sees which layer
// failed (`gzip: unexpected EOF` for a truncated archive).
type errPrefixReader struct {
	name string
	r    io.Reader
}

func (e *errPrefixReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", e.name, err)
	}
	return n, err
}

// File is an opened source: the decompressed stream and the raw file.
type File struct {
	Path   string
	Raw    *os.File
	Reader io.Reader
	done   func()
}

// Close releases the decoder and the file.
func (f *File) Close() error {
	if f.done != nil {
		f.done()
	}
	if f.Raw != nil && f.Raw != os.Stdin {
		return f.Raw.Close()
	}
	return nil
}

// Wrap turns an already opened file into a File, decompressing by the
// suffix of path. Opening is left to the caller because the server opens
// files through its permission checks.
func Wrap(path string, raw *os.File) (*File, error) {
	r, done, err := Decompress(raw, CompressionOf(path))
	if err != nil {
		return nil, err
	}
	return &File{Path: path, Raw: raw, Reader: r, done: done}, nil
}
