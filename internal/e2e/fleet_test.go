package e2e

// Fleet answers (issue 8) end to end: ten loopback dservers, each with its
// own working directory, generated app.log and host name (node01…node10);
// --count, --files-with-matches, --max-total, --coalesce, --output ndjson,
// --receipt json, host sets, failures; the same answers through the
// reference DTail 4.3.2 and 4.3.2-ng dservers (the client counts itself);
// bad input.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const fleetSize = 10

type fleetFixture struct {
	nodes  []*server
	data   map[string][]byte // addr → app.log content
	byHost map[string][]byte // REMOTE host name → app.log content
	home   string
	spec   string // comma list of every address
	base   int    // first port when the ports are consecutive, else 0
}

func newFleetFixture(t *testing.T) *fleetFixture {
	nodes := startFleet(t, fleetSize)
	fx := &fleetFixture{nodes: nodes, data: map[string][]byte{}, byHost: map[string][]byte{}}
	for i, n := range nodes {
		d := fleetLog(i + 1)
		writeOwned(t, n.file("app.log"), d, 0o644)
		fx.data[n.addr] = d
		fx.byHost[n.host] = d
	}
	fx.home = newHome(t, newWorkDir(t))
	fx.spec = strings.Join(addrsOf(nodes), ",")
	if nodes[fleetSize-1].port-nodes[0].port == fleetSize-1 {
		fx.base = nodes[0].port
	}
	groups := mkdirOwned(t, filepath.Join(fx.home, ".config", "dtail", "groups"), 0o755)
	writeOwned(t, filepath.Join(groups, "fleet"), []byte("# the whole test fleet\n"+strings.Join(addrsOf(nodes), "\n")+"\n"), 0o644)
	writeOwned(t, filepath.Join(groups, "firsthalf"), []byte(strings.Join(addrsOf(nodes[:5]), "\n")+"\n"), 0o644)
	writeOwned(t, filepath.Join(groups, "nested"), []byte("@firsthalf\n"+nodes[9].addr+"\n"), 0o644)
	return fx
}

func (fx *fleetFixture) client(t testing.TB, bin string, args ...string) run {
	return fleetClient(t, bin, fx.home, fx.spec, false, args...)
}

func TestFleet(t *testing.T) {
	fx := newFleetFixture(t)
	nodes := fx.nodes

	t.Run("count equals grep -c per host", func(t *testing.T) {
		for _, c := range []struct{ bin, regex string }{{"dgrep", "status=503"}, {"dgrep", "RARE"}, {"dgrep", "failed|disk"}, {"dcat", ""}} {
			args := []string{"--count", "--files", "app.log"}
			re := regexp.MustCompile(".")
			if c.bin == "dgrep" {
				args = append(args, "--regex", c.regex)
				re = regexp.MustCompile(c.regex)
			}
			res := fx.client(t, c.bin, args...).exec(t)
			if res.code != 0 {
				t.Fatalf("%s --count %s: %v", c.bin, c.regex, res)
			}
			got := countLines(t, res.stdout)
			want := map[string]int{}
			for addr, d := range fx.data {
				want[addr+":app.log"] = grepCount(d, re)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s --count %q:\n got %v\nwant %v (grep -c per server)", c.bin, c.regex, got, want)
			}
		}
	})

	t.Run("files-with-matches equals grep -l per host", func(t *testing.T) {
		for _, regex := range []string{"status=503", "RARE", "disk", "no-such-text"} {
			res := fx.client(t, "dgrep", "--files-with-matches", "--regex", regex, "--files", "app.log").exec(t)
			if res.code != 0 {
				t.Fatalf("--files-with-matches %s: %v", regex, res)
			}
			var want []string
			re := regexp.MustCompile(regex)
			for addr, d := range fx.data {
				if grepCount(d, re) > 0 {
					want = append(want, addr+":app.log")
				}
			}
			sort.Strings(want)
			got := lines(dropClientLines(res.stdout))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("--files-with-matches %q:\n got %q\nwant %q", regex, got, want)
			}
		}
	})

	t.Run("max-total stops every server", func(t *testing.T) {
		var b bytes.Buffer
		for i := 0; b.Len() < 2<<20; i++ {
			fmt.Fprintf(&b, "big line %07d status=503 padding padding padding padding padding\n", i)
		}
		for _, n := range nodes {
			writeOwned(t, n.file("big.log"), b.Bytes(), 0o644)
		}
		for _, max := range []int{1, 25, 1000} {
			res := fx.client(t, "dgrep", "--plain", "--max-total", strconv.Itoa(max), "--regex", "status=503", "--files", "big.log").exec(t)
			got := lines(res.stdout)
			if res.code != 1 || len(got) != max {
				// Exit 1: the servers were stopped before they finished.
				t.Errorf("--max-total %d: %d lines, want exactly %d and exit 1: %v", max, len(got), max, res)
			}
			for _, l := range got {
				if !strings.HasPrefix(l, "big line ") {
					t.Errorf("--max-total %d: unexpected line %q", max, l)
					break
				}
			}
			if res.elapsed > 10*time.Second {
				t.Errorf("--max-total %d took %v", max, res.elapsed)
			}
			// Every server must close its side: no ESTABLISHED or
			// CLOSE_WAIT sockets on any fleet port shortly after.
			deadline := time.Now().Add(3 * time.Second)
			for {
				open := map[string]int{}
				for _, n := range nodes {
					if c := establishedOn(n.port); c > 0 {
						open[n.addr] = c
					}
				}
				if len(open) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("--max-total %d: connections still open 3 s after the client ended: %v", max, open)
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	})

	t.Run("coalesce templates and host ranges", func(t *testing.T) {
		regex := "status=503|failed|RARE|disk"
		res := fx.client(t, "dgrep", "--coalesce", "--regex", regex, "--files", "app.log").exec(t)
		if res.code != 0 {
			t.Fatalf("--coalesce: %v", res)
		}
		rows, total, other := parseCoalesce(t, dropClientLines(res.stdout))
		all := "node[01-10]"
		want := map[string]struct {
			re    string
			hosts string
		}{
			"INFO|req <N> status=<N> took <N>ms from <IP>": {"status=503", all},
			"WARN|user<N> login failed session=<HEX>":      {"login failed", all},
			"ERROR|req <UUID> failed":                      {"^ERROR", all},
			"CRIT|RARE event <N> on shard<N>":              {"RARE", "node[02,04,06,08,10]"},
			"WARN|disk /dev/sda<N> at <N>% full":           {"disk", "node[01,03,05,07,09]"},
		}
		sum, wantTotal := other, 0
		for _, d := range fx.data {
			wantTotal += grepCount(d, regexp.MustCompile(regex))
		}
		for _, r := range rows {
			sum += r.count
			w, ok := want[r.template]
			if !ok {
				t.Errorf("unexpected template %q (%d, %s)", r.template, r.count, r.hosts)
				continue
			}
			n := 0
			for _, d := range fx.data {
				n += grepCount(d, regexp.MustCompile(w.re))
			}
			if r.count != n || r.hosts != w.hosts {
				t.Errorf("template %q: count %d hosts %s, want %d %s", r.template, r.count, r.hosts, n, w.hosts)
			}
		}
		if len(rows) != len(want) || other != 0 {
			t.Errorf("want %d templates and no other lines, got %d rows, %d other:\n%s", len(want), len(rows), other, res.stdout)
		}
		if sum != wantTotal || total != wantTotal {
			t.Errorf("counts add up to %d, total line says %d, grep -c says %d", sum, total, wantTotal)
		}
		for i := 1; i < len(rows); i++ {
			if rows[i].count > rows[i-1].count {
				t.Errorf("not largest first: %v", rows)
			}
		}
	})

	t.Run("ndjson equals the REMOTE lines and the files", func(t *testing.T) {
		args := []string{"--regex", "status=503|RARE", "--files", "app.log"}
		plain := fx.client(t, "dgrep", args...).exec(t)
		nd := fx.client(t, "dgrep", append([]string{"--output", "ndjson"}, args...)...).exec(t)
		if plain.code != 0 || nd.code != 0 {
			t.Fatalf("plain: %v\nndjson: %v", plain, nd)
		}
		want := parseRemoteLines(t, plain.stdout)
		got, bad := parseNDJSON(nd.stdout)
		if len(bad) > 0 {
			t.Errorf("%d stdout lines are not JSON objects, first: %q", len(bad), bad[0])
		}
		var wk, gk []string
		for _, r := range want {
			wk = append(wk, keyOf(r))
		}
		for _, r := range got {
			gk = append(gk, keyOf(r))
		}
		if len(want) == 0 || !sameMultiset(wk, gk) {
			t.Errorf("ndjson (%d objects) differs from the REMOTE lines (%d)", len(got), len(want))
		}
		wantN := 0
		for _, d := range fx.data {
			wantN += grepCount(d, regexp.MustCompile("status=503|RARE"))
		}
		if len(got) != wantN {
			t.Errorf("%d ndjson objects, grep -c says %d", len(got), wantN)
		}
		for _, r := range got {
			fl := lines(fx.byHost[r.Host])
			if r.File != "app.log" || r.Line < 1 || int(r.Line) > len(fl) || fl[r.Line-1] != r.Text {
				t.Errorf("ndjson object %+v does not match line %d of %s's app.log", r, r.Line, r.Host)
				break
			}
			// Our servers send the byte offset: the text starts there.
			d := fx.byHost[r.Host]
			if r.Offset == nil || *r.Offset < 0 || int(*r.Offset)+len(r.Text) > len(d) || string(d[*r.Offset:int(*r.Offset)+len(r.Text)]) != r.Text {
				t.Errorf("ndjson object %+v: offset does not point at its text", r)
				break
			}
		}
	})

	t.Run("receipt json sums the files", func(t *testing.T) {
		res := fx.client(t, "dgrep", "--plain", "--receipt", "json", "--regex", "status=503", "--files", "app.log").exec(t)
		if res.code != 0 {
			t.Fatalf("%v", res)
		}
		r := findReceipt(t, res.stderr)
		var bytesSum, linesSum int64
		for _, d := range fx.data {
			bytesSum += int64(len(d))
			linesSum += int64(len(lines(d)))
		}
		if r.Hosts != fleetSize || r.HostsOK != fleetSize || r.FilesRead != fleetSize || r.FilesUnreadable != 0 ||
			r.Bytes != bytesSum || r.Lines != linesSum || r.LinesDropped != 0 || !r.Complete || r.HostsNoReceipt != 0 {
			t.Errorf("receipt %+v, want hosts %d ok, %d files, %d bytes, %d lines, complete", r, fleetSize, fleetSize, bytesSum, linesSum)
		}
		text := fx.client(t, "dgrep", "--plain", "--receipt", "text", "--regex", "status=503", "--files", "app.log").exec(t)
		if text.code != 0 || !strings.Contains(string(text.stderr), fmt.Sprintf("receipt: complete; hosts %d ok of %d", fleetSize, fleetSize)) {
			t.Errorf("text receipt: %v", text)
		}
	})

	t.Run("host sets", func(t *testing.T) {
		hostsOf := func(res result) []string {
			var hs []string
			for k := range countLines(t, res.stdout) {
				hs = append(hs, strings.TrimSuffix(k, ":app.log"))
			}
			sort.Strings(hs)
			return hs
		}
		sorted := func(a []string) []string { a = append([]string(nil), a...); sort.Strings(a); return a }
		check := func(name string, want []string, spec string, extra ...string) {
			t.Helper()
			args := append([]string{"--count", "--regex", "status=503", "--files", "app.log"}, extra...)
			res := fleetClient(t, "dgrep", fx.home, spec, false, args...).exec(t)
			if res.code != 0 {
				t.Errorf("%s: %v", name, res)
				return
			}
			if got := hostsOf(res); strings.Join(got, ",") != strings.Join(sorted(want), ",") {
				t.Errorf("%s (--servers %q %q): hosts %v, want %v", name, spec, extra, got, sorted(want))
			}
		}
		all := addrsOf(nodes)
		check("@group", all, "@fleet")
		check("nested @group", append(addrsOf(nodes[:5]), nodes[9].addr), "@nested")
		check("@group and a host", append(addrsOf(nodes[:5]), nodes[7].addr), "@firsthalf,"+nodes[7].addr)
		check("--exclude list", all[2:], "@fleet", "--exclude", all[0]+","+all[1])
		check("--exclude @group", all[5:], fx.spec, "--exclude", "@firsthalf")
		if fx.base != 0 {
			check("port range", all, fmt.Sprintf("127.0.0.1:[%d-%d]", fx.base, fx.base+fleetSize-1))
			check("port range list", []string{all[0], all[2], all[3], all[4]}, fmt.Sprintf("127.0.0.1:[%d,%d-%d]", fx.base, fx.base+2, fx.base+4))
			check("--exclude range", all[3:], "@fleet", "--exclude", fmt.Sprintf("127.0.0.1:[%d-%d]", fx.base, fx.base+2))
		} else {
			t.Log("ports are not consecutive; range checks skipped")
		}
		seen := map[string]bool{}
		for i := 0; i < 4; i++ {
			res := fleetClient(t, "dgrep", fx.home, "@fleet", false, "--pick", "3", "--count", "--regex", "status=503", "--files", "app.log").exec(t)
			hs := hostsOf(res)
			if res.code != 0 || len(hs) != 3 {
				t.Errorf("--pick 3: hosts %v: %v", hs, res)
				continue
			}
			for _, h := range hs {
				if fx.data[h] == nil {
					t.Errorf("--pick 3 chose %s, not a fleet member", h)
				}
				seen[h] = true
			}
		}
		if len(seen) <= 3 {
			t.Logf("--pick 3 chose the same 3 hosts 4 times: %v (possible, 1 in 14,000)", seen)
		}
	})

	t.Run("unreadable file on one server", func(t *testing.T) {
		for i, n := range nodes {
			mode := os.FileMode(0o644)
			if i == 3 {
				mode = 0 // the server's account (the owner) cannot read it
			}
			writeOwned(t, n.file("secret.log"), []byte("secret line status=503\n"), mode)
		}
		res := fx.client(t, "dgrep", "--plain", "--receipt", "json", "--regex", "status=503", "--files", "secret.log").exec(t)
		r := findReceipt(t, res.stderr)
		if res.code != 1 || r.FilesUnreadable != 1 || r.FilesRead != fleetSize-1 || r.HostsOK != fleetSize || r.Complete {
			t.Errorf("want exit 1, files_unreadable 1, files_read %d: receipt %+v, %v", fleetSize-1, r, res)
		}
		// The server's WARN line is printed as DTail 4.x does, also with --plain.
		if got := bytes.Count(res.stdout, []byte("secret line")); got != fleetSize-1 {
			t.Errorf("%d lines, want %d: %v", got, fleetSize-1, res)
		}
		if strings.Contains(string(res.stdout)+string(res.stderr), nodes[3].file("secret.log")) {
			t.Errorf("the unreadable file's path is named")
		}
	})

	t.Run("ndjson stdout stays JSON with a missing file", func(t *testing.T) {
		home := newHome(t, newWorkDir(t)) // fresh known_hosts
		res := fleetClient(t, "dgrep", home, fx.spec, false, "--output", "ndjson", "--regex", "status=503", "--files", "app.log,missing.log").exec(t)
		_, bad := parseNDJSON(res.stdout)
		if len(bad) > 0 {
			t.Errorf("--output ndjson: %d stdout lines are not JSON (jq fails on them), e.g. %q", len(bad), bad[0])
		}
		if res.code != 1 {
			t.Errorf("missing.log on every server: want exit 1, got %d", res.code)
		}
	})

	// Last: it kills a server.
	t.Run("one server killed", func(t *testing.T) {
		dead := nodes[fleetSize-1]
		dead.proc.stop(syscall.SIGKILL, time.Second)
		res := fx.client(t, "dgrep", "--plain", "--receipt", "json", "--count", "--regex", "status=503", "--files", "app.log").exec(t)
		r := findReceipt(t, res.stderr)
		if res.code != 1 || r.HostsUnreachable != 1 || r.HostsOK != fleetSize-1 || r.Complete ||
			len(r.FailedHosts) != 1 || r.FailedHosts[0] != dead.addr || r.FilesRead != fleetSize-1 {
			t.Errorf("want exit 1, hosts_unreachable 1 (%s): receipt %+v, %v", dead.addr, r, res)
		}
		if got := countLines(t, res.stdout); len(got) != fleetSize-1 {
			t.Errorf("counts of %d hosts, want %d: %v", len(got), fleetSize-1, got)
		}
	})
}

type coalesceRow struct {
	count    int
	hosts    string
	template string
}

// parseCoalesce reads the --coalesce summary: rows, the total and the
// "(other lines)" count.
func parseCoalesce(t testing.TB, out []byte) (rows []coalesceRow, total, other int) {
	t.Helper()
	total = -1
	for _, l := range lines(out) {
		if strings.HasPrefix(l, "warning:") {
			continue
		}
		f := strings.SplitN(strings.TrimLeft(l, " "), "  ", 3)
		n, err := strconv.Atoi(f[0])
		if err != nil || len(f) < 2 {
			t.Fatalf("unexpected --coalesce line %q", l)
		}
		switch {
		case f[1] == "(other lines)":
			other = n
		case strings.HasPrefix(f[1], "lines in total"):
			total = n
		case len(f) == 3:
			rows = append(rows, coalesceRow{n, f[1], f[2]})
		default:
			t.Fatalf("unexpected --coalesce line %q", l)
		}
	}
	if total < 0 {
		t.Fatalf("no total line in --coalesce output:\n%s", out)
	}
	return rows, total, other
}

// TestFleetReference: the fleet answers through DTail 4.x dservers, alone
// and mixed with ours. The 4.x servers ignore count=/fwm= and send lines;
// the client counts them; they send no receipt.
func TestFleetReference(t *testing.T) {
	keys(t)
	var nodes []*server
	kinds := []serverKind{refKind(t, "4.3.2"), refKind(t, "4.3.2-ng"), oursKind(), oursKind(), oursKind()}
	data := map[string][]byte{}
	for i, k := range kinds {
		n := startDServer(t, withKind(k), withHost(fmt.Sprintf("node%02d", i+1)))
		d := fleetLog(i + 1)
		writeOwned(t, n.file("app.log"), d, 0o644)
		data[n.addr] = d
		nodes = append(nodes, n)
	}
	home := newHome(t, newWorkDir(t))
	for _, c := range []struct {
		name  string
		nodes []*server
	}{{"4.3.2", nodes[:1]}, {"4.3.2-ng", nodes[1:2]}, {"mixed", nodes}} {
		t.Run(c.name, func(t *testing.T) {
			spec := strings.Join(addrsOf(c.nodes), ",")
			cl := func(args ...string) result {
				// The defaults a user has: AUTHKEY on, sent only to
				// servers that announce capabilities (4.3.2 does not).
				return fleetClient(t, "dgrep", home, spec, false, args...).exec(t)
			}
			var ref []string
			for _, n := range c.nodes {
				if n.kind.kit != "" {
					ref = append(ref, n.addr)
				}
			}
			sort.Strings(ref)

			for _, regex := range []string{"status=503", "RARE"} {
				re := regexp.MustCompile(regex)
				res := cl("--count", "--regex", regex, "--files", "app.log")
				want := map[string]int{}
				var wantL []string
				for _, n := range c.nodes {
					want[n.addr+":app.log"] = grepCount(data[n.addr], re)
					if want[n.addr+":app.log"] > 0 {
						wantL = append(wantL, n.addr+":app.log")
					}
				}
				sort.Strings(wantL)
				if got := countLines(t, res.stdout); res.code != 0 || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("--count %s: got %v, want %v (grep -c; a 0 count must be printed too): %v", regex, got, want, res)
				}
				res = cl("--files-with-matches", "--regex", regex, "--files", "app.log")
				if got := lines(dropClientLines(res.stdout)); res.code != 0 || strings.Join(got, ",") != strings.Join(wantL, ",") {
					t.Errorf("--files-with-matches %s: got %v, want %v: %v", regex, got, wantL, res)
				}
			}

			res := cl("--plain", "--receipt", "json", "--regex", "status=503", "--files", "app.log")
			r := findReceipt(t, res.stderr)
			got := append([]string(nil), r.HostsNoReceiptIDs...)
			sort.Strings(got)
			if res.code != 0 || r.HostsOK != len(c.nodes) || r.HostsNoReceipt != len(ref) || strings.Join(got, ",") != strings.Join(ref, ",") ||
				r.FilesRead != int64(len(c.nodes)-len(ref)) {
				t.Errorf("receipt %+v: want %d hosts ok, without receipt %v: %v", r, len(c.nodes), ref, res)
			}
			res = cl("--plain", "--receipt", "text", "--regex", "status=503", "--files", "app.log")
			if !strings.Contains(string(res.stderr), fmt.Sprintf("%d hosts sent no receipt", len(ref))) {
				t.Errorf("text receipt does not say %d hosts sent no receipt: %s", len(ref), res.stderr)
			}

			res = cl("--coalesce", "--regex", "status=503", "--files", "app.log")
			rows, total, _ := parseCoalesce(t, dropClientLines(res.stdout))
			wantN := 0
			for _, n := range c.nodes {
				wantN += grepCount(data[n.addr], regexp.MustCompile("status=503"))
			}
			if res.code != 0 || len(rows) != 1 || rows[0].count != wantN || total != wantN ||
				rows[0].template != "INFO|req <N> status=<N> took <N>ms from <IP>" {
				t.Errorf("--coalesce: rows %v total %d, want one template with %d: %v", rows, total, wantN, res)
			} else if want := map[int]string{1: c.nodes[0].host, 5: "node[01-05]"}[len(c.nodes)]; rows[0].hosts != want {
				t.Errorf("--coalesce hosts %q, want %q", rows[0].hosts, want)
			}

			plain := cl("--regex", "status=503|RARE", "--files", "app.log")
			nd := cl("--output", "ndjson", "--regex", "status=503|RARE", "--files", "app.log")
			objs, bad := parseNDJSON(nd.stdout)
			var wk, gk []string
			for _, r := range parseRemoteLines(t, plain.stdout) {
				wk = append(wk, keyOf(r))
			}
			for _, r := range objs {
				gk = append(gk, keyOf(r))
			}
			if nd.code != 0 || len(bad) > 0 || len(wk) == 0 || !sameMultiset(wk, gk) {
				t.Errorf("ndjson: %d objects, %d non-JSON lines, %d REMOTE lines: %v", len(objs), len(bad), len(wk), nd)
			}

			// The run stops the servers before they finished: exactly 7
			// lines, and an exit status that says the answer is cut.
			res = cl("--plain", "--max-total", "7", "--receipt", "text", "--regex", "status=503", "--files", "app.log")
			if res.code != 1 || len(lines(res.stdout)) != 7 || !strings.Contains(string(res.stderr), "interrupted (max-total)") {
				t.Errorf("--max-total 7: %d lines: %v", len(lines(res.stdout)), res)
			}
		})
	}
}

// TestFleetBadInput: usage errors exit 2 with one line; a template
// explosion in --coalesce stays bounded and warns.
func TestFleetBadInput(t *testing.T) {
	keys(t)
	home := newHome(t, newWorkDir(t))
	for _, c := range []struct {
		name string
		args []string
	}{
		{"range past 100,000 hosts", []string{"--servers", "web[1-100001].dc1"}},
		{"product past 100,000 hosts", []string{"--servers", "web[1-400]x[1-400]"}},
		{"output bogus", []string{"--servers", "127.0.0.1:1", "--output", "bogus"}},
		{"receipt bogus", []string{"--servers", "127.0.0.1:1", "--receipt", "bogus"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--cfg", "none", "--regex", "x", "--files", "app.log"}, c.args...)
			res := run{bin: filepath.Join(binDir, "dgrep"), args: args, dir: filepath.Dir(home), env: baseEnv(home), timeout: 10 * time.Second}.exec(t)
			all := lines(bytes.TrimSpace(append(append([]byte(nil), res.stdout...), res.stderr...)))
			if res.code != 2 || res.elapsed > 5*time.Second {
				t.Errorf("want exit 2 quickly: %v", res)
			}
			if strings.Contains(c.name, "hosts") && len(all) != 1 {
				t.Errorf("want a one-line error, got %d lines: %q", len(all), all)
			}
		})
	}

	t.Run("coalesce template explosion", func(t *testing.T) {
		n := startDServer(t, withHost("node01"))
		// 150,000 distinct templates: letters only (nothing is masked).
		var b bytes.Buffer
		x := uint64(88172645463325252)
		for i := 0; i < 150000; i++ {
			b.WriteString("event ")
			for j := 0; j < 12; j++ {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				b.WriteByte("ghijklmnopqrstuvwxyz"[x%20])
			}
			b.WriteString(" happened in the subsystem of the service with a long tail of constant text\n")
		}
		writeOwned(t, n.file("tpl.log"), b.Bytes(), 0o644)
		cl := func(args ...string) (result, int64) {
			return execRSS(t, fleetClient(t, "dcat", home, n.addr, false, append(args, "--files", "tpl.log")...), filepath.Dir(home))
		}
		base, baseRSS := cl("--plain")
		res, rss := cl("--coalesce")
		if base.code != 0 || res.code != 0 {
			t.Fatalf("plain: %v\ncoalesce: %v", base, res)
		}
		rows, total, other := parseCoalesce(t, dropClientLines(res.stdout))
		if total != 150000 || len(rows) != 50 || other != 150000-50 {
			t.Errorf("total %d, %d rows, %d other; want 150000, 50, %d", total, len(rows), other, 150000-50)
		}
		if !bytes.Contains(res.stdout, []byte("warning: more than 10000 line templates")) {
			t.Errorf("no template cap warning:\n%s", clip(res.stdout))
		}
		t.Logf("peak RSS: dcat --plain %d MB, dcat --coalesce %d MB (150,000 templates, %d MB of lines)", baseRSS>>10, rss>>10, b.Len()>>20)
		if rss > baseRSS+32<<10 {
			t.Errorf("--coalesce peak RSS %d KiB, more than 32 MiB over the plain run's %d KiB", rss, baseRSS)
		}
	})
}
