package protocol

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// TestMessageReaderBufferGrowsWithTheStream: a session of a few lines
// keeps a small buffer (10,000 sessions at 256 KiB each were most of a
// fleet client's memory); a stream that keeps the buffer full grows it to
// the 256 KiB reads that make big transfers fast. Every message survives
// the growth intact.
func TestMessageReaderBufferGrowsWithTheStream(t *testing.T) {
	var small bytes.Buffer
	for i := range 10 {
		fmt.Fprintf(&small, "REMOTE|host|100|%d|f|line %d\n%c", i+1, i, MessageDelimiter)
	}
	mr := NewMessageReader(bytes.NewReader(small.Bytes()), 0)
	for {
		if _, err := mr.Next(); err != nil {
			break
		}
	}
	if n := cap(mr.s.buf); n > initialSplitBuffer {
		t.Errorf("10 short messages: buffer of %d bytes, want at most %d", n, initialSplitBuffer)
	}

	var big bytes.Buffer
	var want []string
	for i := range 20000 {
		m := fmt.Sprintf("REMOTE|host|100|%d|f|%s\n", i+1, bytes.Repeat([]byte{'a' + byte(i%26)}, i%300))
		want = append(want, m)
		big.WriteString(m)
		big.WriteByte(MessageDelimiter)
	}
	// iotest.OneByteReader would never fill the buffer; a reader handing
	// out up to 64 KiB per call is what an SSH channel does.
	mr = NewMessageReader(&chunkReader{r: &big, n: 64 << 10}, 0)
	for i := 0; ; i++ {
		m, err := mr.Next()
		if err == io.EOF {
			if i != len(want) {
				t.Fatalf("%d messages, want %d", i, len(want))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if string(m) != want[i] {
			t.Fatalf("message %d = %q, want %q", i, m, want[i])
		}
	}
	if n := cap(mr.s.buf); n != messageReadBuffer {
		t.Errorf("streamed 3 MB: buffer of %d bytes, want %d", n, messageReadBuffer)
	}
}

type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}
