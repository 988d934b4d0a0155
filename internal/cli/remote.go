package cli

import (
	"fmt"

	"github.com/dtail-go/dtail/internal/client"
	"github.com/dtail-go/dtail/internal/config"
)

func runRemote(binary string, f *ClientFlags, cfg config.Config, env Env) int {
	fmt.Fprintf(env.Stderr, "%s: server mode is not available in this build yet\n", binary)
	return client.ExitFatal
}
