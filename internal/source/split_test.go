package source

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// naiveSplit is the obvious reference: cut at '\n', then cut every line
// longer than max into max-sized pieces, the last piece keeping '\n'.
func naiveSplit(data []byte, max int) (lines []string, terminated []bool) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		term := true
		if i < 0 {
			line, data, term = data, nil, false
		} else {
			line, data = data[:i], data[i+1:]
		}
		for len(line) > max {
			lines = append(lines, string(line[:max]))
			terminated = append(terminated, false)
			line = line[max:]
		}
		if term {
			lines = append(lines, string(line)+"\n")
		} else {
			lines = append(lines, string(line))
		}
		terminated = append(terminated, term)
	}
	return lines, terminated
}

func collect(t testing.TB, r io.Reader, s *Splitter) (lines []string, terminated []bool) {
	err := s.Run(r, func(data []byte, end Ending) error {
		term := end == Newline
		if !term {
			if bytes.IndexByte(data, '\n') >= 0 {
				t.Fatalf("unterminated block contains a newline: %q", data)
			}
			lines = append(lines, string(data))
			terminated = append(terminated, false)
			return nil
		}
		if len(data) == 0 || data[len(data)-1] != '\n' {
			t.Fatalf("terminated block does not end in newline: %q", data)
		}
		for _, l := range bytes.SplitAfter(data, []byte{'\n'}) {
			if len(l) == 0 {
				continue
			}
			lines = append(lines, string(l))
			terminated = append(terminated, true)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines, terminated
}

func checkSplit(t testing.TB, input []byte, max, bufSize int, oneByte bool) {
	want, wantTerm := naiveSplit(input, max)
	var r io.Reader = bytes.NewReader(input)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	s := &Splitter{MaxLineLength: max, BufferSize: bufSize}
	got, gotTerm := collect(t, r, s)
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Fatalf("content differs: max=%d buf=%d\n got %q\nwant %q", max, bufSize, got, want)
	}
	if len(got) != len(want) {
		t.Fatalf("line count: got %d want %d (max=%d buf=%d)\n got %q\nwant %q", len(got), len(want), max, bufSize, got, want)
	}
	for i := range got {
		if got[i] != want[i] || gotTerm[i] != wantTerm[i] {
			t.Fatalf("line %d: got %q/%v want %q/%v", i, got[i], gotTerm[i], want[i], wantTerm[i])
		}
	}
	if s.Offset != int64(len(input)) {
		t.Fatalf("offset %d, want %d", s.Offset, len(input))
	}
}

func TestSplitter(t *testing.T) {
	cases := []struct {
		name  string
		input string
		max   int
	}{
		{"empty", "", 10},
		{"one line", "hello\n", 10},
		{"no final newline", "a1\nb2\nno-nl", 10},
		{"empty lines", "2 empty lines:\n\n\nline without newline\n", 100},
		{"crlf kept", "a\r\nb\r\n", 10},
		{"exact max", "0123456789\n", 10},
		{"max plus one", "0123456789A\n", 10},
		{"multiple of max", "01234567890123456789\n", 10},
		{"long unterminated", strings.Repeat("x", 35), 10},
		{"long between short", "a\n" + strings.Repeat("y", 25) + "\nb\n", 10},
		{"2615 bytes at 1024", strings.Repeat("z", 2614) + "\n", 1024},
		{"only newlines", "\n\n\n", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, buf := range []int{1, 2, 7, 64, 4096} {
				checkSplit(t, []byte(tc.input), tc.max, buf, false)
				checkSplit(t, []byte(tc.input), tc.max, buf, true)
			}
		})
	}
}

func TestSplitterLongLineWarnsOncePerRun(t *testing.T) {
	input := "a\n" + strings.Repeat("x", 30) + "\n" + strings.Repeat("y", 30) + "\nb\n" + strings.Repeat("z", 30) + "\n"
	warns := 0
	s := &Splitter{MaxLineLength: 10, BufferSize: 8, OnLongLine: func() { warns++ }}
	collect(t, strings.NewReader(input), s)
	if warns < 2 || warns > 3 {
		t.Fatalf("got %d warnings, want one per run of long lines (2, or 3 when a run straddles reads)", warns)
	}
}

func TestSplitterStop(t *testing.T) {
	s := &Splitter{}
	n := 0
	err := s.Run(strings.NewReader("a\nb\nc\n"), func(data []byte, end Ending) error {
		n++
		return ErrStop
	})
	if err != nil || n != 1 {
		t.Fatalf("err=%v n=%d", err, n)
	}
}

func FuzzSplitter(f *testing.F) {
	f.Add([]byte("a1\nb2\nno-nl"), uint8(3), uint8(2))
	f.Add([]byte("\n\n\r\nxx"), uint8(1), uint8(1))
	f.Add([]byte(strings.Repeat("long", 50)+"\nshort\n"), uint8(16), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, max, buf uint8) {
		m := int(max%64) + 1
		b := int(buf%32) + 1
		checkSplit(t, data, m, b, false)
	})
}

func BenchmarkSplitter(b *testing.B) {
	line := "INFO|20211002-000001|5423|handler.go:120|8|47|6|1.53|400h0m1s|MAPREDUCE:STATS|currentConnections=43|lifetimeConnections=51929|action=GET|status=200\n"
	data := []byte(strings.Repeat(line, 20000))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	s := &Splitter{}
	for i := 0; i < b.N; i++ {
		s.Reset()
		s.Run(bytes.NewReader(data), func([]byte, Ending) error { return nil })
	}
}
