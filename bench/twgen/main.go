// Command twgen writes a rotation set of DAYS days of DTail-format logs
// for bench/timewindow.sh: app.log (the last 24 h), app.log.1 (plain) and
// app.log.2.gz … app.log.<DAYS-1>.gz, PER_MIN lines per minute, each
// file's mtime set to its last line, as logrotate with delaycompress
// leaves them.
//
// Usage: go run ./bench/twgen -dir DIR -days 30 -per-min 20 -now UNIX
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

func main() {
	dir := flag.String("dir", ".", "output directory")
	days := flag.Int("days", 30, "days of logs")
	perMin := flag.Int("per-min", 20, "lines per minute")
	nowUnix := flag.Int64("now", 0, "end of the newest file (unix seconds; default now, whole minute)")
	flag.Parse()
	now := time.Now().Truncate(time.Minute)
	if *nowUnix != 0 {
		now = time.Unix(*nowUnix, 0)
	}
	for k := *days - 1; k >= 0; k-- {
		name := "app.log"
		switch {
		case k == 1:
			name = "app.log.1"
		case k > 1:
			name = fmt.Sprintf("app.log.%d.gz", k)
		}
		path := filepath.Join(*dir, name)
		f, err := os.Create(path)
		if err != nil {
			fail(err)
		}
		var w io.Writer = f
		var zw *gzip.Writer
		if k > 1 {
			zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
			w = zw
		}
		bw := bufio.NewWriterSize(w, 1<<20)
		start := now.Add(-time.Duration(k+1) * 24 * time.Hour)
		var last time.Time
		n := 0
		for m := 0; m < 24*60; m++ {
			ts := start.Add(time.Duration(m) * time.Minute)
			stamp := ts.Format("20060102-150405")
			for j := 0; j < *perMin; j++ {
				n++
				fmt.Fprintf(bw, "INFO|%s|%d|handler.go:%d|8|%d|1|0.%02d|%dh|request id=%08x action=%s status=%d took=%dms\n",
					stamp, 4242, 100+j, 10+n%40, n%100, k, n*2654435761%0xffffffff, [...]string{"GET", "POST", "PUT"}[n%3], 200+(n%7)*50, (n*37)%1000)
			}
			last = ts
		}
		if err := bw.Flush(); err != nil {
			fail(err)
		}
		if zw != nil {
			zw.Close()
		}
		if err := f.Close(); err != nil {
			fail(err)
		}
		os.Chtimes(path, last, last)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "twgen:", err)
	os.Exit(1)
}
