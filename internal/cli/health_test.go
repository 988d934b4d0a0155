package cli

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dtail-go/dtail/internal/protocol"
	"github.com/dtail-go/dtail/internal/version"
)

func TestHealthOK(t *testing.T) {
	srv := startStub(t, func(next func() string, send func(...string)) {
		if next() != protocol.VerbHealth {
			send("SERVER|stub|ERROR|unexpected command\n")
		} else {
			send("SERVER|stub|OK")
		}
		send(protocol.SynCloseConnection)
		next()
	})
	e := newTestEnv(t)
	// The reference would send AUTHKEY because this file exists; ours
	// never does.
	writeKey(t, filepath.Join(e.home, ".ssh", "id_rsa"))
	server := fmt.Sprintf("127.0.0.1:%d", srv.port())
	code := RunHealth(e.env("-server", server))
	if code != 0 {
		t.Errorf("exit %d; stderr %q", code, e.stderr.String())
	}
	if got, want := e.stdout.String(), "OK: All fine at "+server+" :-)\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	cmds := srv.commands()
	if len(cmds) != 1 || len(cmds[0]) != 2 || cmds[0][0] != "health" || cmds[0][1] != protocol.AckCloseConnection {
		t.Errorf("commands %q", cmds)
	}
	if srv.users[0] != HealthUser {
		t.Errorf("user %q", srv.users[0])
	}
}

func TestHealthNotOK(t *testing.T) {
	srv := startStub(t, func(next func() string, send func(...string)) {
		next()
		// "OK" inside a longer field and a newline-separated message that
		// is not OK must not count.
		send("SERVER|stub|NOT OK\nSERVER|stub|OK then", protocol.SynCloseConnection)
		next()
	})
	e := newTestEnv(t)
	server := fmt.Sprintf("127.0.0.1:%d", srv.port())
	if code := RunHealth(e.env("--server", server, "--no-auth-key")); code != 2 {
		t.Errorf("exit %d", code)
	}
	if got, want := e.stdout.String(), "CRITICAL: DTail server not operating properly at "+server+"!\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

func TestHealthOKSplitAtNewline(t *testing.T) {
	srv := startStub(t, func(next func() string, send func(...string)) {
		next()
		send("something\nSERVER|stub|OK\n", protocol.SynCloseConnection)
		next()
	})
	e := newTestEnv(t)
	if code := RunHealth(e.env("-server", fmt.Sprintf("127.0.0.1:%d", srv.port()))); code != 0 {
		t.Errorf("exit %d: %q", code, e.stdout.String())
	}
}

func TestHealthUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	server := ln.Addr().String()
	ln.Close()
	e := newTestEnv(t)
	if code := RunHealth(e.env("-server", server)); code != 2 {
		t.Errorf("exit %d", code)
	}
	if got, want := e.stdout.String(), "CRITICAL: DTail server not operating properly at "+server+"!\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

func TestHealthServerless(t *testing.T) {
	e := newTestEnv(t)
	if code := RunHealth(e.env()); code != 1 {
		t.Errorf("exit %d", code)
	}
	want := "WARNING: All seems fine but the check only run in serverless mode, please specify a remote server via --server hostname:port\n"
	if e.stdout.String() != want {
		t.Errorf("stdout %q", e.stdout.String())
	}
}

func TestHealthFlags(t *testing.T) {
	e := newTestEnv(t)
	if code := RunHealth(e.env("-version")); code != 0 || e.stdout.String() != version.String()+"\n" {
		t.Errorf("version: exit %d %q", code, e.stdout.String())
	}
	e = newTestEnv(t)
	if code := RunHealth(e.env("-cfg", "x")); code != 2 {
		t.Errorf("-cfg must be unknown: exit %d", code)
	}
	e = newTestEnv(t)
	if code := RunHealth(e.env("-h")); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	e = newTestEnv(t)
	if code := RunHealth(e.env("-server", "host:notaport")); code != 2 || !strings.HasPrefix(e.stderr.String(), "CRITICAL: unable to create dtailhealth client: ") {
		t.Errorf("bad server: exit %d stderr %q", code, e.stderr.String())
	}
}
