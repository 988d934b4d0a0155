package client

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/timewindow"
)

// hiddenExtra takes the hidden messages beyond DTail 4.x: the receipt and
// per-file counts.
func (rn *remoteRun) hiddenExtra(st *serverState, msg []byte) {
	if caps, ok := protocol.ParseCapabilities(msg); ok {
		rn.windowCapabilities(st, caps)
		st.escaped = slices.Contains(caps, protocol.CapEscapeV1)
		return
	}
	if rc, ok := protocol.ParseReceipt(msg); ok {
		st.receipt, st.gotReceipt = rc, true
		return
	}
	if rest, ok := bytes.CutPrefix(msg, []byte(protocol.CountPrefix)); ok && (rn.o.Count || rn.o.FilesWithMatches) {
		n, id, _ := strings.Cut(string(rest), " ")
		if v, err := strconv.ParseUint(n, 10, 64); err == nil {
			st.addCount(id, v)
		}
	}
}

// maxCountIDs bounds the per-file counts kept for one server: a server
// sending endless distinct names must not grow the client without end.
const maxCountIDs = 100_000

// addCount adds v matches of source id. Counts beyond maxCountIDs files or
// past the uint64 range are not kept; they make the host incomplete.
func (st *serverState) addCount(id string, v uint64) {
	if st.counts == nil {
		st.counts = map[string]uint64{}
	}
	old, ok := st.counts[id]
	switch {
	case !ok && len(st.counts) >= maxCountIDs:
		st.countsLost++
		return
	case old > math.MaxUint64-v:
		st.counts[id] = math.MaxUint64
		st.countsLost++
		return
	}
	st.counts[id] = old + v
}

// countRemote counts a REMOTE line in counting mode: DTail 4.x servers
// ignore the count option and send the lines themselves.
func (rn *remoteRun) countRemote(st *serverState, msg []byte) bool {
	if !rn.o.Count && !rn.o.FilesWithMatches {
		return false
	}
	rl, ok := protocol.ParseRemoteLine(msg)
	if !ok {
		// The rest of a line a DTail 4.x server cut at the delimiter.
		rn.altered.Add(1)
		return true
	}
	st.addCount(string(rl.SourceID), 1)
	return true
}

// lineBudget is --max-total, one rule for serverless and remote runs: it
// hands out at most max payload lines (log lines, context lines; not
// grep's `--` separators, counts or diagnostics) across every file and
// server of the run, and calls stop when the last one is taken: the
// whole run ends then (every server), unlike 4.x's per-file --max.
type lineBudget struct {
	max  int64
	n    atomic.Int64
	stop func()
}

// newLineBudget returns nil (no limit) for max ≤ 0.
func newLineBudget(max int, stop func()) *lineBudget {
	if max <= 0 {
		return nil
	}
	return &lineBudget{max: int64(max), stop: stop}
}

// take reserves one line and reports whether it may be printed.
func (b *lineBudget) take() bool {
	if b == nil {
		return true
	}
	n := b.n.Add(1)
	if n == b.max && b.stop != nil {
		b.stop()
	}
	return n <= b.max
}

// finishExtras prints counts and the receipt once every server ended and
// returns the receipt.
func (rn *remoteRun) finishExtras(states []*serverState) Receipt {
	if rn.o.Count || rn.o.FilesWithMatches {
		var lines []string
		for _, st := range states {
			if rn.o.Count && st.completed && !st.gotReceipt {
				// A DTail 4.x server sends nothing for a file without
				// matches; grep -c prints 0, and so do our servers.
				for _, f := range rn.o.Files {
					if !strings.ContainsAny(f, "*?[") {
						id := protocol.SourceID(f, f)
						if _, ok := st.counts[id]; !ok {
							if st.counts == nil {
								st.counts = map[string]uint64{}
							}
							st.counts[id] = 0
						}
					}
				}
			}
			for id, n := range st.counts {
				switch {
				case rn.o.FilesWithMatches && n > 0:
					lines = append(lines, st.name+":"+id+"\n")
				case rn.o.Count:
					lines = append(lines, fmt.Sprintf("%s:%s:%d\n", st.name, id, n))
				}
			}
		}
		sort.Strings(lines)
		for _, l := range lines {
			rn.out.Write([]byte(l))
		}
		rn.out.Flush()
	}
	r := rn.receipt(states)
	if rn.o.Receipt != "" {
		rn.out.Flush()
		WriteReceipt(rn.o.Stderr, r, rn.o.Receipt)
	}
	return r
}

// receipt sums up every server's outcome; the exit code comes from it,
// so what the receipt says and what the exit code says cannot differ.
func (rn *remoteRun) receipt(states []*serverState) Receipt {
	var c receiptCollector
	c.interrupted(rn.endCause)
	c.r.LinesAltered = rn.altered.Load()
	if rn.o.Mode == ModeTail && strings.HasPrefix(rn.endCause, "SIG") {
		// A follow never finishes; a signal ends it as it ends tail -f.
		c.cut = true
	}
	for _, st := range states {
		o := outcomeOK
		switch {
		case st.dialErr != "" && !st.completed:
			o = classifyDialError(st.dialErr)
		case st.failed:
			o = outcomeIncomplete
		case !st.completed && rn.o.Mode != ModeTail:
			// Ended by us (signal, --timeout, --max-total) before the
			// server finished: whatever it would still have sent is
			// missing.
			o = outcomeIncomplete
		case st.cmdFailed > 0:
			o = outcomeIncomplete
			c.commandFailed(st.name, st.cmdFailed, st.failure)
		case st.countsLost > 0:
			o = outcomeIncomplete
			c.commandFailed(st.name, st.countsLost, fmt.Sprintf("counts beyond %d files or the uint64 range not kept", maxCountIDs))
		case st.filtered > 0 && !st.gotReceipt:
			o = outcomeIncomplete
			c.serverWarnings(st.filtered)
		}
		if st.gotReceipt {
			c.addServer(st.receipt)
		}
		if st.unreadable > 0 && !st.gotReceipt {
			c.r.FilesUnreadable += int64(st.unreadable)
		}
		c.addHost(st.name, o, st.gotReceipt || rn.o.Mode == ModeTail)
	}
	return c.result()
}

// ndjsonLine renders one REMOTE message as a JSON object for jq, with the
// same fields as serverless output: the byte offset comes from our
// servers (`N@OFFSET`), the timestamp is parsed here.
func (rn *remoteRun) ndjsonLine(dst []byte, rl protocol.RemoteLine) []byte {
	noText, offText, hasOff := strings.Cut(string(rl.LineNo), "@")
	no, _ := strconv.ParseUint(noText, 10, 64)
	off := int64(-1)
	if hasOff {
		if v, err := strconv.ParseInt(offText, 10, 64); err == nil {
			off = v
		}
	}
	rn.tsMu.Lock()
	defer rn.tsMu.Unlock()
	if rn.ts == nil {
		rn.ts = timewindow.NewExtractor(time.Now())
	}
	return appendNDJSON(dst, rn.ts, string(rl.Host), string(rl.SourceID), no, off, rl.Content)
}

// progressInterval is how often the status line is redrawn.
const progressInterval = 500 * time.Millisecond

// progressLine renders the status line: connected/total, done, MB/s and
// up to three hosts still running (the slowest, by definition).
func (rn *remoteRun) progressLine() string {
	var slow []string
	n := 0
	rn.running.Range(func(k, _ any) bool {
		n++
		if len(slow) < 3 {
			slow = append(slow, k.(string))
		}
		return true
	})
	sort.Strings(slow)
	secs := time.Since(rn.started).Seconds()
	mbps := 0.0
	if secs > 0 {
		mbps = float64(rn.received.Load()) / 1e6 / secs
	}
	line := fmt.Sprintf("[connected %d/%d, done %d, %.1f MB/s", rn.connected.Load(), len(rn.r.Servers), rn.finished.Load(), mbps)
	if n > 0 {
		line += ", waiting for " + strings.Join(slow, " ")
		if n > len(slow) {
			line += fmt.Sprintf(" +%d", n-len(slow))
		}
	}
	return line + "]"
}
