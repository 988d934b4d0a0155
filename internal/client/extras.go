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
)

// hiddenExtra takes the hidden messages beyond DTail 4.x: the receipt and
// per-file counts.
func (rn *remoteRun) hiddenExtra(st *serverState, w *stream, msg []byte) {
	if caps, ok := protocol.ParseCapabilities(msg); ok {
		rn.windowCapabilities(st, w, caps)
		st.escaped = slices.Contains(caps, protocol.CapEscapeV1)
		return
	}
	if rc, ok := protocol.ParseReceipt(msg); ok {
		st.receipt, st.gotReceipt = rc, true
		return
	}
	if rest, ok := bytes.CutPrefix(msg, []byte(protocol.CountPrefix)); ok && (rn.o.Grep.Count || rn.o.Grep.FilesWithMatches) {
		n, id, _ := strings.Cut(string(rest), " ")
		if v, err := strconv.ParseUint(n, 10, 64); err == nil {
			st.counts.add(id, v)
		}
	}
}

// maxCountIDs bounds the per-file counts kept for one server: a server
// sending endless distinct names must not grow the client without end.
const maxCountIDs = 100_000

// fileCounts are the --count/--files-with-matches results of one server
// per source id; lost counts results not kept.
type fileCounts struct {
	m    map[string]uint64
	lost int
}

// add adds v matches of source id. Counts beyond maxCountIDs files or
// past the uint64 range are not kept; they make the host incomplete.
func (fc *fileCounts) add(id string, v uint64) {
	if fc.m == nil {
		fc.m = map[string]uint64{}
	}
	old, ok := fc.m[id]
	switch {
	case !ok && len(fc.m) >= maxCountIDs:
		fc.lost++
		return
	case old > math.MaxUint64-v:
		fc.m[id] = math.MaxUint64
		fc.lost++
		return
	}
	fc.m[id] = old + v
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
	if rn.o.Grep.Count || rn.o.Grep.FilesWithMatches {
		var lines []string
		c := rn.chain
		for _, st := range states {
			if rn.o.Grep.Count && st.completed && !st.gotReceipt {
				// A DTail 4.x server sends nothing for a file without
				// matches; grep -c prints 0, and so do our servers.
				for _, f := range rn.o.Files {
					if !strings.ContainsAny(f, "*?[") {
						id := protocol.SourceID(f, f)
						if _, ok := st.counts.m[id]; !ok {
							if st.counts.m == nil {
								st.counts.m = map[string]uint64{}
							}
							st.counts.m[id] = 0
						}
					}
				}
			}
			for id, n := range st.counts.m {
				if l := c.appendCount(nil, st.name, id, n); l != nil {
					lines = append(lines, string(l))
				}
			}
		}
		sort.Strings(lines)
		for _, l := range lines {
			rn.out.Write([]byte(l))
		}
	}
	rn.out.Flush()
	return rn.receipt(states)
}

// receipt is the run's receipt (runReceipt) from every server's report.
func (rn *remoteRun) receipt(states []*serverState) Receipt {
	hosts := make([]hostReport, len(states))
	for i, st := range states {
		hosts[i] = st.report(rn.o.Mode == ModeTail)
	}
	// A follow never finishes; a signal ends it as it ends tail -f.
	cut := rn.o.Mode == ModeTail && strings.HasPrefix(rn.endCause, "SIG")
	return runReceipt(rn.o, hosts, rn.endCause, cut, rn.chain.altered.Load())
}

// report classifies how the server's run ended.
func (st *serverState) report(follow bool) hostReport {
	h := hostReport{name: st.name, rc: st.receipt, gotReceipt: st.gotReceipt, follow: follow, unreadable: int64(st.unreadable)}
	switch {
	case st.dialErr != "" && !st.completed:
		h.outcome = classifyDialError(st.dialErr)
	case st.failed:
		h.outcome = outcomeIncomplete
	case !st.completed && !follow:
		// Ended by us (signal, --timeout, --max-total) before the
		// server finished: whatever it would still have sent is
		// missing.
		h.outcome = outcomeIncomplete
	case st.cmdFailed > 0:
		h.outcome = outcomeIncomplete
		h.failed, h.failure = st.cmdFailed, st.failure
	case st.counts.lost > 0:
		h.outcome = outcomeIncomplete
		h.failed, h.failure = st.counts.lost, fmt.Sprintf("counts beyond %d files or the uint64 range not kept", maxCountIDs)
	case st.filtered > 0 && !st.gotReceipt:
		h.outcome = outcomeIncomplete
		h.hiddenWarnings = st.filtered
	}
	return h
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
