// Command dtail-keycache fills dserver's key cache
// <CacheDir>/<user>.authorized_keys from the users' ~/.ssh/authorized_keys.
// See internal/keycache and dtail-keycache(8).
package main

import (
	"os"

	"github.com/dtail-go/dtail/internal/keycache"
)

func main() {
	os.Exit(keycache.Run(os.Args[1:], os.Stdout, os.Stderr))
}
