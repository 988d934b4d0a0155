//go:build !linux

package source

import "io"

// growPipe is Linux only (F_SETPIPE_SZ).
func growPipe(io.Reader) {}
