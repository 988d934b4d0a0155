// Command dtailhealth checks whether a DTail server answers its health
// command; see internal/cli for its flags.
package main

import (
	"os"

	"github.com/dtail-go/dtail/internal/cli"
)

func main() {
	os.Exit(cli.RunHealth(cli.OSEnv()))
}
