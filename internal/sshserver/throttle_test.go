package sshserver

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestGuessThrottleBackoff(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	g := newGuessThrottle(func() time.Time { return now })
	if ok, _ := g.allow("a"); !ok {
		t.Fatal("fresh source throttled")
	}
	want := guessBaseDelay
	for i := 0; i < 12; i++ {
		if d := g.fail("a"); d != want {
			t.Fatalf("failure %d: delay %v, want %v", i+1, d, want)
		}
		if ok, _ := g.allow("a"); ok {
			t.Fatalf("failure %d: next attempt allowed at once", i+1)
		}
		if ok, _ := g.allow("b"); !ok {
			t.Fatal("another source throttled")
		}
		now = now.Add(want)
		if ok, _ := g.allow("a"); !ok {
			t.Fatalf("failure %d: still throttled after %v", i+1, want)
		}
		want = min(2*want, guessMaxDelay)
	}
	g.succeed("a")
	if d := g.fail("a"); d != guessBaseDelay {
		t.Fatalf("success did not reset the backoff: %v", d)
	}
	now = now.Add(guessForget + time.Second)
	if d := g.fail("a"); d != guessBaseDelay {
		t.Fatalf("old failures not forgotten: %v", d)
	}
}

func TestGuessThrottleTableBounded(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	g := newGuessThrottle(func() time.Time { return now })
	for i := 0; i < maxGuessSources; i++ {
		g.fail(strconv.Itoa(i))
	}
	if d := g.fail("one more"); d != guessMaxDelay {
		t.Fatalf("full table: delay %v, want %v", d, guessMaxDelay)
	}
	if ok, _ := g.allow("unrelated"); ok {
		t.Fatal("a full table must throttle everyone rather than grow")
	}
	if len(g.sources) > maxGuessSources {
		t.Fatalf("table grew to %d", len(g.sources))
	}
}

// A wrong job password makes even the right one fail for a while, and no
// job name ever reaches the log.
func TestJobPasswordGuessesThrottledAndNotLogged(t *testing.T) {
	ts := startServer(t, Config{
		ScheduleJobs: []Job{{Name: "nightly-secret", AllowFrom: []string{"127.0.0.1"}}},
	})
	if _, err := ts.dial(ScheduleUser, ssh.Password("guess")); err == nil {
		t.Fatal("wrong password accepted")
	}
	if _, err := ts.dial(ScheduleUser, ssh.Password("nightly-secret")); err == nil {
		t.Fatal("right password compared during the backoff")
	}
	time.Sleep(2 * guessBaseDelay)
	if line, err := ts.login(t, ScheduleUser, ssh.Password("nightly-secret")); err != nil || line != ScheduleUser+" schedule false" {
		t.Fatalf("right password after the backoff: %q %v\n%s", line, err, ts.log.dump())
	}
	if strings.Contains(ts.log.dump(), "nightly-secret") || !ts.log.has("Job login accepted|schedule job #1") {
		t.Fatalf("log:\n%s", ts.log.dump())
	}
}

func TestGuessSource(t *testing.T) {
	for _, c := range []struct{ ip, want string }{
		{"127.0.0.1", "loopback"},
		{"127.9.8.7", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.2", "loopback"},
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
	} {
		if got := guessSource(net.ParseIP(c.ip)); got != c.want {
			t.Errorf("%s: %q, want %q", c.ip, got, c.want)
		}
	}
	if guessSource(nil) != "unknown" {
		t.Error("nil address")
	}
}
