// Command dcat is the DTail dcat client; see internal/cli for its flags.
package main

import (
	"os"

	"github.com/dtail-go/dtail/internal/cli"
)

func main() {
	os.Exit(cli.RunClient(cli.DCat, cli.OSEnv()))
}
