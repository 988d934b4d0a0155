package source

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestStreamGrowsPipe: a pipe read as a stream gets a 1 MiB buffer, so a
// fast writer runs ahead and reads gather large blocks (bench/
// stdin-latency.sh measures the throughput).
func TestStreamGrowsPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	defer pr.Close()
	done := make(chan struct{})
	ra := NewStream(done, pr, 64<<10, 2)
	n, err := unix.FcntlInt(pr.Fd(), unix.F_GETPIPE_SZ, 0)
	close(done)
	ra.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n < streamPipeSize {
		t.Errorf("pipe buffer %d bytes, want %d", n, streamPipeSize)
	}
}
