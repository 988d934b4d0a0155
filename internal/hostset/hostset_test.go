package hostset

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "db"), []byte("# databases\ndb[1-3]\n@cache\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cache"), []byte("redis1:6379\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "loop"), []byte("@loop\n"), 0o644)
	e := Expander{GroupsDir: dir}
	cases := []struct{ spec, want, err string }{
		{"web[01-03].dc1", "web01.dc1 web02.dc1 web03.dc1", ""},
		{"db[1-3],db2", "db1 db2 db3", ""},
		{"web[01-02,09]", "web01 web02 web09", ""},
		{"r[1-2]c[1-2]", "r1c1 r1c2 r2c1 r2c2", ""},
		{"h[8-10]:2223", "h8:2223 h9:2223 h10:2223", ""},
		{"@db,x", "db1 db2 db3 redis1:6379 x", ""},
		{"[::1]:2222", "[::1]:2222", ""},
		{"web[3-1]", "", "invalid range"},
		{"web[1-", "", "unbalanced"},
		{"h[1-200000]", "", "more than 100000"},
		{"a[1-1000]b[1-1000]", "", "more than 100000 hosts"},
		{"@nope", "", "no such group"},
		{"@loop", "", "nested more than"},
		{"@../etc", "", "invalid group name"},
	}
	for _, tc := range cases {
		got, err := e.Expand(tc.spec)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("%s: got %q %v, want %q", tc.spec, got, err, tc.want)
		}
	}
}

func TestCompress(t *testing.T) {
	in := []string{"web03", "web01", "web02", "web09", "db1", "db2", "db10", "lb", "web07", "web05", "web06", "web04"}
	got := strings.Join(Compress(in), " ")
	want := "lb db[1-2,10] web[01-07,09]"
	if got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestCompressAcrossDigitCounts(t *testing.T) {
	var nodes, webs []string
	for i := 1; i <= 10; i++ {
		nodes = append(nodes, fmt.Sprintf("node%02d", i))
	}
	for i := 1; i <= 500; i++ {
		webs = append(webs, fmt.Sprintf("web%03d", i))
	}
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nodes, "node[01-10]"},
		{webs, "web[001-500]"},
		{[]string{"node10", "node02", "node04"}, "node[02,04,10]"},
		{[]string{"h1", "h10", "h2"}, "h[1-2,10]"},
	} {
		for i := 0; i < 5; i++ { // the result must not depend on map order
			if got := strings.Join(Compress(tc.in), ","); got != tc.want {
				t.Fatalf("Compress(%v…) = %q, want %q", tc.in[:1], got, tc.want)
			}
		}
	}
}

func TestCompressRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		var names []string
		seen := map[string]bool{}
		for j := 0; j < 1+r.IntN(30); j++ {
			n := []string{"web", "db", "x-"}[r.IntN(3)] + []string{"%d", "%02d", "%03d"}[r.IntN(3)]
			n = strings.Replace(n, "%d", strings.TrimLeft(strings.Repeat("0", 0), "")+itoa(r.IntN(40)), 1)
			n = strings.Replace(n, "%02d", pad(r.IntN(40), 2), 1)
			n = strings.Replace(n, "%03d", pad(r.IntN(40), 3), 1)
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
		back, err := Expander{}.Expand(strings.Join(Compress(names), ","))
		if err != nil {
			t.Fatal(err)
		}
		if len(back) != len(names) {
			t.Fatalf("round trip of %q gave %q", names, back)
		}
		for _, b := range back {
			if !seen[b] {
				t.Fatalf("round trip of %q produced unknown %q", names, b)
			}
		}
	}
}

func itoa(v int) string { return pad(v, 0) }

func pad(v, w int) string {
	s := ""
	for v > 0 || s == "" {
		s = string(rune('0'+v%10)) + s
		v /= 10
	}
	for len(s) < w {
		s = "0" + s
	}
	return s
}

func TestPick(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	got := Pick(names, 2, rand.New(rand.NewPCG(3, 4)))
	if len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	if len(Pick(names, 9, nil)) != 5 {
		t.Fatal("pick more than available must return all")
	}
}

func FuzzExpand(f *testing.F) {
	f.Add("web[001-010].dc1,db[1-3,7]")
	f.Add("[::1]:2222,h[1-")
	f.Fuzz(func(t *testing.T, spec string) {
		got, err := Expander{Max: 1000}.Expand(spec)
		if err == nil && len(got) > 1000 {
			t.Fatalf("bound exceeded: %d", len(got))
		}
	})
}
