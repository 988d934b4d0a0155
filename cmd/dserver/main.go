// Command dserver is the DTail server: an SSH server that lets
// authenticated users follow, cat, grep and aggregate the log files they
// may read. See internal/cli for its flags.
package main

import (
	"os"

	"github.com/dtail-go/dtail/internal/cli"
)

func main() {
	os.Exit(cli.RunServer(cli.OSEnv()))
}
