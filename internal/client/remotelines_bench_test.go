package client

import (
	"fmt"
	"io"
	"testing"
)

// BenchmarkRemoteLines is the remote adapter and chain's cost per REMOTE
// message of a server (decoding, stages, printer, the shared Output).
func BenchmarkRemoteLines(b *testing.B) {
	msgs := make([][]byte, 1000)
	for i := range msgs {
		msgs[i] = fmt.Appendf(nil, "REMOTE|web1|100|%d|/var/log/app.log|INFO|20240102-1000%02d|worker-%d|request id=%08x action=POST took=%dms\n", i+1, i%60, i%8, i*7919, i%997)
	}
	for _, c := range []struct {
		name string
		o    Options
	}{{"plain", Options{Output: OutputOptions{Plain: true}}}, {"remote", Options{}}} {
		b.Run(c.name, func(b *testing.B) {
			rn := &remoteRun{o: c.o, out: NewOutput(io.Discard), toStdout: true}
			defer rn.out.Close()
			rn.chain = newChain(c.o, chainMode{remote: true, perLine: true, stdout: rn.out})
			st := &serverState{name: "web1"}
			w := rn.chain.stream()
			b.ReportAllocs()
			for b.Loop() {
				for _, m := range msgs {
					rn.payload(st, w, m)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/line")
		})
	}
}
