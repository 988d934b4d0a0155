package permission

import (
	"errors"
	"io/fs"
)

// ErrDenied is what every policy or permission failure wraps, so the server
// can answer the client with a generic message without revealing whether a
// file exists, while the *Error text carries the detail for the server log.
var ErrDenied = errors.New("permission denied")

// ErrNoRules marks an empty effective rule list; the server rejects the SSH
// channel with this text (spec §2.5), hence the exact wording.
var ErrNoRules = errors.New("Empty set of permission, user won't be able to open any files")

// ErrInvalidRule is wrapped by the error CompileRules reports for a rule
// whose regex does not compile; such a rule set denies everything.
var ErrInvalidRule = errors.New("invalid permission rule")

// Error is the detailed form of a denial. errors.Is(err, ErrDenied) is true
// for every *Error; errors.Is(err, fs.ErrNotExist) is additionally true when
// the file (or a path component) does not exist, so logs can tell the cases
// apart while the client cannot.
type Error struct {
	// Path is the path the decision was about (resolved when known).
	Path string
	// Reason explains the denial for the server log.
	Reason string
	// Err is the underlying system error, if any.
	Err error
}

func (e *Error) Error() string {
	kind := "permission denied"
	if e.NotExist() {
		kind = "not found"
	}
	return kind + ": " + e.Path + ": " + e.Reason
}

// NotExist reports whether the denial is due to a missing file.
func (e *Error) NotExist() bool { return e.Err != nil && errors.Is(e.Err, fs.ErrNotExist) }

// Unwrap exposes both ErrDenied and the system error so that errors.Is works
// for either.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrDenied}
	}
	return []error{ErrDenied, e.Err}
}

func denied(path, reason string, err error) *Error {
	return &Error{Path: path, Reason: reason, Err: err}
}
