// Command dmap is the DTail dmap client; see internal/cli for its flags.
package main

import (
	"os"

	"github.com/dtail-go/dtail/internal/cli"
)

func main() {
	os.Exit(cli.RunClient(cli.DMap, cli.OSEnv()))
}
