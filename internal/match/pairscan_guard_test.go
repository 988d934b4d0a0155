//go:build linux || darwin

package match

import (
	"math/rand/v2"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPairScanPageEnd: hays that end exactly where an unreadable page
// begins (as the last block of a mapped file may), so a vector load one
// byte too far faults instead of passing unnoticed. Every end offset of a
// 64-position step is covered, with candidates planted near the end.
func TestPairScanPageEnd(t *testing.T) {
	pg := os.Getpagesize()
	mem, err := unix.Mmap(-1, 0, 2*pg, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer unix.Munmap(mem)
	if err := unix.Mprotect(mem[pg:], unix.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	page := mem[:pg]
	rng := rand.New(rand.NewPCG(5, 6))
	for size := 0; size <= 200; size++ {
		hay := page[pg-size:]
		for i := range hay {
			hay[i] = 'x'
			switch rng.IntN(50) {
			case 0:
				hay[i] = '5'
			case 1, 2:
				hay[i] = '\n'
			}
		}
		for _, n := range []int{1, 2, 3, 10} {
			o1, o2 := 0, n-1
			for _, plant := range []int{size - 1, size - 2, size - n, size - n - 1, size / 2} {
				h := append([]byte(nil), hay...)
				if plant >= 0 && plant+n <= size {
					hay[plant+o1], hay[plant+o2] = '5', '5'
				}
				for _, from := range []int{0, 1, size / 3} {
					if from > size {
						continue
					}
					want := naivePair(hay, from, n, o1, o2, '5', '5', 0, 0)
					if got := pairScan(hay, from, n, o1, o2, '5', '5', 0, 0); got != want {
						t.Fatalf("size %d n %d from %d: got %d want %d", size, n, from, got, want)
					}
					if got, lines := pairScanLines(hay, from, n, o1, o2, '5', '5', 0, 0); got != want || lines != naiveLines(hay, from, want) {
						t.Fatalf("lines: size %d n %d from %d: got %d,%d want %d,%d", size, n, from, got, lines, want, naiveLines(hay, from, want))
					}
				}
				copy(hay, h)
			}
		}
	}
}
