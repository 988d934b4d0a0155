// Package version holds DTail's name, release version and protocol version
// and renders the version line printed by -version and at server start.
package version

import "fmt"

const (
	// Name is the product name that starts the version line.
	Name = "DTail"
	// Protocol is compared as a string against the client frame's version
	// field, so it must stay exactly "4.1" for wire compatibility.
	Protocol = "4.1"
	// Tagline ends the version line.
	Tagline = "Have a lot of fun!"
)

// Version is a variable only so that releases can stamp it with
// -ldflags "-X github.com/dtail-go/dtail/internal/version.Version=...";
// nothing in the program assigns it.
var Version = "4.3.2-go"

// String returns the uncoloured version line, e.g.
// "DTail 4.3.2-go Protocol 4.1 Have a lot of fun!".
func String() string {
	return fmt.Sprintf("%s %s Protocol %s %s", Name, Version, Protocol, Tagline)
}

// The escapes are spelled out because this package must not depend on the
// color package; they follow its paint rule (fg bg attr text reset bg-reset
// fg-reset, no attr and no reset for attribute None).
const (
	closeAttr   = "\x1b[0m\x1b[49m\x1b[39m"
	closeNoAttr = "\x1b[49m\x1b[39m"
)

// Colored returns the version line with its four parts painted separately.
// Each part carries a blank on either side inside the paint, and the parts
// are concatenated without further separators.
func Colored() string {
	return "\x1b[33m\x1b[44m\x1b[1m " + Name + " " + closeAttr + // yellow on blue, bold
		"\x1b[34m\x1b[43m\x1b[1m " + Version + " " + closeAttr + // blue on yellow, bold
		"\x1b[30m\x1b[42m Protocol " + Protocol + " " + closeNoAttr + // black on green
		"\x1b[37m\x1b[45m\x1b[4m " + Tagline + " " + closeAttr // white on magenta, underline
}
