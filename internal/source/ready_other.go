//go:build !unix

package source

import "io"

// readyFunc cannot tell without poll(2): every stream read is handed on
// as it comes.
func readyFunc(io.Reader) func() bool { return nil }
