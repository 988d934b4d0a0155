package cli

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/dtail-go/dtail/internal/hostset"
	"github.com/dtail-go/dtail/internal/sshclient"
)

// groupsDir is where `@name` host groups live: one file per group.
func groupsDir(home string) string {
	return filepath.Join(home, ".config", "dtail", "groups")
}

// serverList resolves -servers with the host-set syntax on top of the
// DTail 4.x forms (file, comma list, /regex/, -discovery): ranges like
// `web[001-500].dc1`, `@group` names, then -exclude and -pick.
func serverList(f *ClientFlags, port int, home string) ([]sshclient.Server, error) {
	spec := f.Servers
	e := hostset.Expander{GroupsDir: groupsDir(home)}
	if isHostSet(spec, f.Discovery) {
		hosts, err := e.Expand(spec)
		if err != nil {
			return nil, err
		}
		spec = strings.Join(hosts, ",")
	}
	servers, err := sshclient.ServerList(spec, f.Discovery, port)
	if err != nil {
		return nil, err
	}
	if f.Exclude != "" {
		drop, err := e.Expand(f.Exclude)
		if err != nil {
			return nil, fmt.Errorf("-exclude: %w", err)
		}
		skip := map[string]bool{}
		for _, d := range drop {
			skip[d] = true
			if s, err := sshclient.ParseServer(d, port); err == nil {
				skip[s.Addr()] = true
			}
		}
		kept := servers[:0]
		for _, s := range servers {
			if !skip[s.Name] && !skip[s.Host] && !skip[s.Addr()] {
				kept = append(kept, s)
			}
		}
		servers = kept
	}
	if f.Pick > 0 {
		servers = hostset.Pick(servers, f.Pick, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
	}
	return servers, nil
}

// isHostSet reports whether -servers uses ranges or groups (and is not a
// server list file, a /regex/ filter or a discovery module's input).
func isHostSet(spec, discovery string) bool {
	if discovery != "" || spec == "" || (strings.HasPrefix(spec, "/") && strings.HasSuffix(spec, "/") && len(spec) > 1) {
		return false
	}
	if _, err := os.Stat(spec); err == nil {
		return false
	}
	return strings.ContainsAny(spec, "[@")
}
