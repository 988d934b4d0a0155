// Command jmock stands in for journalctl in bench/journal.sh: a unit's
// journal of N entries, one per second ending at -end, in journalctl's
// default short format (or short-iso with -o short-iso). --since/--until
// select entries the way journalctl's index does (reading only the
// window), and the number of entries it produced is appended to the
// file named by JMOCK_COUNT, so the script can report how much journalctl
// read. Configuration comes from JMOCK_ENTRIES and JMOCK_END (unix s)
// because dserver passes journalctl only its arguments.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	n, _ := strconv.ParseInt(os.Getenv("JMOCK_ENTRIES"), 10, 64)
	end, _ := strconv.ParseInt(os.Getenv("JMOCK_END"), 10, 64)
	if n <= 0 || end <= 0 {
		fmt.Fprintln(os.Stderr, "jmock: set JMOCK_ENTRIES and JMOCK_END")
		os.Exit(1)
	}
	first := end - n + 1
	lo, hi := first, end // inclusive, in seconds
	unit, iso := "", false
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-u":
			i++
			unit = args[i]
		case "-o":
			i++
			iso = args[i] == "short-iso"
		case "--since", "--until":
			i++
			v := strings.TrimPrefix(args[i], "@")
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				fmt.Fprintln(os.Stderr, "jmock: only @unix timestamps are supported:", args[i])
				os.Exit(1)
			}
			if args[i-1] == "--since" {
				lo = max(lo, int64(f+0.999999))
			} else {
				hi = min(hi, int64(f))
			}
		case "-f", "-n":
			fmt.Fprintln(os.Stderr, "jmock: follow mode is not simulated")
			os.Exit(1)
		}
	}
	w := bufio.NewWriterSize(os.Stdout, 256<<10)
	var count int64
	for t := lo; t <= hi; t++ {
		ts := time.Unix(t, 0).UTC()
		if iso {
			w.WriteString(ts.Format("2006-01-02T15:04:05-0700"))
		} else {
			w.WriteString(ts.Format("Jan 02 15:04:05"))
		}
		fmt.Fprintf(w, " benchhost %s[4242]: request id=%d status=%d took %dms\n", strings.TrimSuffix(unit, ".service"), t-first, 200+100*(t%7/6)*3, t%97)
		count++
	}
	w.Flush()
	if p := os.Getenv("JMOCK_COUNT"); p != "" {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
		if err == nil {
			fmt.Fprintln(f, count)
			f.Close()
		}
	}
}
