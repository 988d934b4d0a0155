package client

import (
	"errors"
	"syscall"
)

// isBrokenPipe reports a reader that went away (`dcat x | head`): not an
// error worth a message, as with cat.
func isBrokenPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE)
}
