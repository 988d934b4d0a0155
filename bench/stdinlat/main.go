// Command stdinlat measures how long a line written to a followed file
// takes to come out of `tail -f FILE | CMD`: the latency a user of
// `tail -f app.log | dgrep --plain --grep X` sees.
//
// For every command given (a shell word list; the pipeline is built here,
// not by a shell) it starts `tail -n0 -F FILE | CMD`, waits until a probe
// line comes out, then appends N matching lines one at a time, each with
// a non-matching line before it, and times each matching line from the
// write to its arrival on CMD's stdout. It prints one line per command:
//
//	LATENCY <cmd>: median 1.2 ms, p90 2.0 ms, max 5.1 ms (100 lines)
//	LATENCY <cmd>: STALLED: probe line not seen within 5s
//
// Usage: go run ./bench/stdinlat -n 100 -- 'grep --line-buffered MARK' 'bin/dgrep --plain --cfg none --grep MARK'
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func main() {
	n := flag.Int("n", 100, "lines to time per command")
	wait := flag.Duration("timeout", 5*time.Second, "give up on a line after this long")
	gap := flag.Duration("gap", 20*time.Millisecond, "pause between lines (each line is written on its own)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: stdinlat [-n N] [-timeout D] CMD...")
		os.Exit(2)
	}
	failed := false
	for _, c := range flag.Args() {
		res, err := measure(strings.Fields(c), *n, *wait, *gap)
		if err != nil {
			fmt.Printf("LATENCY %s: STALLED: %v\n", c, err)
			failed = true
			continue
		}
		sort.Slice(res, func(i, j int) bool { return res[i] < res[j] })
		fmt.Printf("LATENCY %s: median %s, p90 %s, max %s (%d lines)\n", c,
			ms(res[len(res)/2]), ms(res[len(res)*9/10]), ms(res[len(res)-1]), len(res))
	}
	if failed {
		os.Exit(1)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

type arrival struct {
	line string
	at   time.Time
}

func measure(argv []string, n int, wait, gap time.Duration) ([]time.Duration, error) {
	dir, err := os.MkdirTemp("", "stdinlat")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	tail := exec.Command("tail", "-n0", "-F", path)
	tail.Stdout = pw
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = pr
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := tail.Start(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		tail.Process.Kill()
		tail.Wait()
		return nil, err
	}
	pr.Close()
	pw.Close()
	defer func() {
		tail.Process.Kill()
		tail.Wait()
		cmd.Process.Kill()
		cmd.Wait()
	}()

	lines := make(chan arrival, 16)
	go func() {
		defer close(lines)
		br := bufio.NewReader(out)
		for {
			s, err := br.ReadString('\n')
			if err != nil {
				return
			}
			lines <- arrival{s, time.Now()}
		}
	}()
	await := func(want string) (time.Time, error) {
		deadline := time.After(wait)
		for {
			select {
			case a, ok := <-lines:
				if !ok {
					return time.Time{}, fmt.Errorf("command ended before %q arrived", want)
				}
				if strings.Contains(a.line, want) {
					return a.at, nil
				}
			case <-deadline:
				return time.Time{}, fmt.Errorf("%q not seen within %s", want, wait)
			}
		}
	}
	// tail -F needs a moment to start watching; probe until a line comes
	// through, so start-up is not counted as latency.
	ready := false
	for i := 0; i < 20 && !ready; i++ {
		fmt.Fprintf(f, "MARK probe %d\n", i)
		if _, err := await(fmt.Sprintf("MARK probe %d\n", i)); err == nil {
			ready = true
		}
	}
	if !ready {
		return nil, fmt.Errorf("probe line not seen within %s", wait)
	}
	// Drain late probe copies.
	time.Sleep(100 * time.Millisecond)
	for len(lines) > 0 {
		<-lines
	}
	res := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		fmt.Fprintf(f, "noise line %d status=200\n", i)
		want := fmt.Sprintf("MARK line %d status=503\n", i)
		t0 := time.Now()
		if _, err := f.WriteString(want); err != nil {
			return nil, err
		}
		at, err := await(want)
		if err != nil {
			return nil, err
		}
		res = append(res, at.Sub(t0))
		time.Sleep(gap)
	}
	return res, nil
}
