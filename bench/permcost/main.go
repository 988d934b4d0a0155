// Command permcost measures what dserver's per-file permission check costs
// (bench/permcheck.sh). For every file given it times, over -rounds
// interleaved passes (median and minimum reported):
//
//	os      os.Open + Close (what a server without any check would do)
//	safety  permission.Open with Skip: symlink resolution, lstat, O_NOFOLLOW
//	        open and same-inode check, but no user decision (job users)
//	full    permission.Open for -user with the default rule ^/.*: the
//	        above plus regex rules, parent-directory search checks, mode
//	        bits and the POSIX ACL xattr (what every normal session pays)
//
// and prints ns per file for each, plus the user-check share (full-safety)
// and the whole check (full-os).
//
//	go run ./bench/permcost -user alice /var/log/app/*.log
package main

import (
	"flag"
	"fmt"
	"os"
	"os/user"
	"sort"
	"time"

	"github.com/dtail-go/dtail/internal/permission"
)

func main() {
	name := flag.String("user", "", "OS user the check is made for (default: the caller)")
	rounds := flag.Int("rounds", 21, "passes over all files per mode")
	flag.Parse()
	files := flag.Args()
	if len(files) == 0 {
		fmt.Fprintln(os.Stderr, "usage: permcost [-user U] [-rounds N] FILE...")
		os.Exit(2)
	}
	if *name == "" {
		u, err := user.Current()
		if err != nil {
			fail(err)
		}
		*name = u.Username
	}
	id, err := permission.LookupUser(*name)
	if err != nil {
		fail(err)
	}
	rules, err := permission.CompileRules(permission.RulesFor(*name, []string{"^/.*"}, nil))
	if err != nil {
		fail(err)
	}
	modes := []struct {
		name string
		open func(string) (*os.File, error)
	}{
		{"os", os.Open},
		{"safety", func(p string) (*os.File, error) {
			f, _, err := permission.Open(nil, nil, p, permission.Skip)
			return f, err
		}},
		{"full", func(p string) (*os.File, error) {
			f, _, err := permission.Open(id, rules, p)
			return f, err
		}},
	}
	// Modes are interleaved per pass so a busy machine slows all alike.
	samples := make([][]time.Duration, len(modes))
	for r := 0; r < *rounds; r++ {
		for i, m := range modes {
			start := time.Now()
			for _, p := range files {
				f, err := m.open(p)
				if err != nil {
					fail(fmt.Errorf("%s: %w", m.name, err))
				}
				f.Close()
			}
			samples[i] = append(samples[i], time.Since(start))
		}
	}
	med, low := map[string]float64{}, map[string]float64{}
	for i, m := range modes {
		s := samples[i]
		sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
		med[m.name] = float64(s[len(s)/2].Nanoseconds()) / float64(len(files))
		low[m.name] = float64(s[0].Nanoseconds()) / float64(len(files))
		fmt.Printf("PERMCOST %-6s %8.0f ns/file median, %8.0f min  (%d files, %d interleaved passes)\n",
			m.name, med[m.name], low[m.name], len(files), *rounds)
	}
	fmt.Printf("PERMCOST user-check (full-safety) %8.0f ns/file median, %8.0f min\n", med["full"]-med["safety"], low["full"]-low["safety"])
	fmt.Printf("PERMCOST whole check (full-os)    %8.0f ns/file median, %8.0f min\n", med["full"]-med["os"], low["full"]-low["os"])
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "permcost:", err)
	os.Exit(1)
}
