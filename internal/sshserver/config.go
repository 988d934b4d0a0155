// Package sshserver is dserver's SSH transport and authentication policy
// (spec §3.1, §4.1–§4.4, §4.16, §4.17). It accepts TCP connections, enforces
// the connection limit, authenticates users by public key (in-memory auth-key
// store, key cache directory, the user's authorized_keys) or, for the reserved
// DTail users only, by password, and then hands the single `session` channel of
// each connection to a Handler once the client sent its `shell` request. It
// knows nothing of DTail commands: those belong to the handler.
package sshserver

import (
	"context"
	"fmt"
	"net"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/dtail-go/dtail/internal/authkey"
)

// Defaults applied by New to zero-valued Config fields (spec §2.3, §4.3).
const (
	DefaultBindAddress      = "0.0.0.0"
	DefaultPort             = 2222
	DefaultHostKeyFile      = "./cache/ssh_host_key"
	TestModeHostKeyFile     = "./ssh_host_key"
	TestModeAuthorizedKeys  = "./id_rsa.pub"
	DefaultHostKeyBits      = 4096
	DefaultMaxConnections   = 10
	DefaultCacheDir         = "cache"
	DefaultHandshakeTimeout = 10 * time.Second
)

// Reserved user names: they authenticate by password only (spec §4.3).
const (
	HealthUser     = "DTAIL-HEALTH"
	ScheduleUser   = "DTAIL-SCHEDULE"
	ContinuousUser = "DTAIL-CONTINUOUS"
)

// Logger is the subset of dserver's logger this package needs. Each method
// joins its arguments with `|` and returns the rendered line.
type Logger interface {
	Info(args ...any) string
	Warn(args ...any) string
	Error(args ...any) string
	Debug(args ...any) string
}

// Job is the part of a scheduled or continuous job (spec §2.6) that matters
// for authentication: its Name is the password of the job user and AllowFrom
// lists the host names or IPs the job user may connect from.
type Job struct {
	Name      string
	AllowFrom []string
}

// Stats are the connection counters of the STATS log line (spec §4.15).
type Stats struct {
	// Current counts authenticated connections that are still open.
	Current int
	// Lifetime counts every connection that ever completed the handshake.
	Lifetime int
	// PreAuth counts accepted connections still in the SSH handshake.
	PreAuth int
}

// Config configures a Server. The zero value of each field means the
// documented default; New copies the Config, so later changes to the
// caller's value have no effect.
type Config struct {
	// BindAddress and Port are used by ListenAndServe only
	// (defaults "0.0.0.0" and 2222).
	BindAddress string
	Port        int

	// HostKeyFile is loaded or, if missing, created (default
	// "./cache/ssh_host_key", in TestMode "./ssh_host_key").
	HostKeyFile string
	// HostKeyBits is the RSA size used when generating (default 4096).
	HostKeyBits int

	// MaxConnections bounds authenticated connections (default 10).
	// Connections still in the handshake are bounded apart from them
	// (MaxPreAuth, MaxPreAuthPerSource), so that idle TCP connections,
	// which need no key, cannot lock out users who have one.
	MaxConnections int
	// MaxPreAuth bounds connections in the SSH handshake (default
	// MaxConnections) and MaxPreAuthPerSource those from one source
	// address (default MaxPreAuth). Beyond either, a silent or stale
	// handshake of that source (or of the busiest source) gives way.
	MaxPreAuth          int
	MaxPreAuthPerSource int

	// KeyExchanges, Ciphers and MACs restrict the SSH algorithms; empty means
	// the x/crypto/ssh defaults.
	KeyExchanges []string
	Ciphers      []string
	MACs         []string

	// CacheDir holds <user>.authorized_keys (default "cache", relative to
	// the working directory unless absolute).
	CacheDir string

	// TestMode authorizes every non-reserved user with ./id_rsa.pub (§4.17).
	TestMode bool

	// HandshakeTimeout bounds the SSH handshake including authentication
	// (default 10 s).
	HandshakeTimeout time.Duration

	// AuthKeys is consulted first for public keys; nil disables the store.
	AuthKeys *authkey.Store

	// ScheduleJobs and ContinuousJobs provide the passwords and source
	// restrictions of DTAIL-SCHEDULE and DTAIL-CONTINUOUS: only the jobs
	// that accept remote logins belong here. Failed attempts are throttled
	// per source address; names are never logged.
	ScheduleJobs   []Job
	ContinuousJobs []Job

	// LookupUser returns the home directory and UID of an OS user (default:
	// os/user). The UID is the owner StrictModes accept besides root.
	LookupUser func(user string) (home string, uid int, err error)
	// LookupHost resolves an AllowFrom entry to IP addresses (default:
	// net.DefaultResolver.LookupHost). IP literals resolve to themselves.
	LookupHost func(ctx context.Context, host string) ([]string, error)

	// Logger receives the server's log lines (default: discard).
	Logger Logger

	// AcceptChannel, if set, decides whether the session channel of an
	// authenticated user is accepted (spec §4.3: empty permission list). A
	// non-nil error rejects the channel with its message.
	AcceptChannel func(user string, kind UserKind) error

	// Handler runs once per connection after the `shell` request. It owns
	// the Session until it returns; then the server closes the connection.
	// ctx is cancelled when the server stops or the connection dies.
	Handler func(ctx context.Context, s *Session)

	// OnStatsChange, if set, is called after every counter change. It runs
	// on the goroutine that changed the counters, without locks held.
	OnStatsChange func(Stats)
}

func (c Config) withDefaults() Config {
	if c.BindAddress == "" {
		c.BindAddress = DefaultBindAddress
	}
	if c.Port <= 0 {
		c.Port = DefaultPort
	}
	if c.HostKeyFile == "" {
		c.HostKeyFile = DefaultHostKeyFile
		if c.TestMode {
			c.HostKeyFile = TestModeHostKeyFile
		}
	}
	if c.HostKeyBits <= 0 {
		c.HostKeyBits = DefaultHostKeyBits
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxPreAuth <= 0 {
		c.MaxPreAuth = c.MaxConnections
	}
	if c.MaxPreAuthPerSource <= 0 || c.MaxPreAuthPerSource > c.MaxPreAuth {
		c.MaxPreAuthPerSource = c.MaxPreAuth
	}
	if c.CacheDir == "" {
		c.CacheDir = DefaultCacheDir
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.LookupUser == nil {
		c.LookupUser = lookupUser
	}
	if c.LookupHost == nil {
		c.LookupHost = net.DefaultResolver.LookupHost
	}
	if c.Logger == nil {
		c.Logger = nopLogger{}
	}
	// Copy slices so the caller cannot mutate the running configuration.
	c.KeyExchanges = append([]string(nil), c.KeyExchanges...)
	c.Ciphers = append([]string(nil), c.Ciphers...)
	c.MACs = append([]string(nil), c.MACs...)
	c.ScheduleJobs = copyJobs(c.ScheduleJobs)
	c.ContinuousJobs = copyJobs(c.ContinuousJobs)
	return c
}

// Host key sizes accepted for generation. Below 2048 bits RSA is refused by
// the crypto library's policy anyway; above 8192 generation takes minutes
// during which the process cannot react to SIGTERM (100000 never ends).
const (
	MinHostKeyBits = 2048
	MaxHostKeyBits = 8192
)

// validate rejects settings that would start a server which cannot work:
// an algorithm name the SSH library does not know makes every handshake
// fail later, far from the typo.
func (c Config) validate() error {
	if c.HostKeyBits < MinHostKeyBits || c.HostKeyBits > MaxHostKeyBits {
		return fmt.Errorf("HostKeyBits %d is outside %d…%d", c.HostKeyBits, MinHostKeyBits, MaxHostKeyBits)
	}
	sup, insec := ssh.SupportedAlgorithms(), ssh.InsecureAlgorithms()
	for _, l := range []struct {
		key              string
		names            []string
		secure, insecure []string
	}{
		{"KeyExchanges", c.KeyExchanges, sup.KeyExchanges, insec.KeyExchanges},
		{"Ciphers", c.Ciphers, sup.Ciphers, insec.Ciphers},
		{"MACs", c.MACs, sup.MACs, insec.MACs},
	} {
		for _, n := range l.names {
			// Insecure names still work when asked for explicitly, as
			// in DTail 4.x; only names nobody implements are errors.
			if !slices.Contains(l.secure, n) && !slices.Contains(l.insecure, n) {
				return fmt.Errorf("%s: unknown algorithm %q (supported: %s)", l.key, n, strings.Join(l.secure, ", "))
			}
		}
	}
	return nil
}

func copyJobs(jobs []Job) []Job {
	out := make([]Job, len(jobs))
	for i, j := range jobs {
		out[i] = Job{Name: j.Name, AllowFrom: append([]string(nil), j.AllowFrom...)}
	}
	return out
}

func lookupUser(name string) (string, int, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return "", 0, err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return "", 0, fmt.Errorf("user %s: UID %q: %w", name, u.Uid, err)
	}
	return u.HomeDir, uid, nil
}

type nopLogger struct{}

func (nopLogger) Info(...any) string  { return "" }
func (nopLogger) Warn(...any) string  { return "" }
func (nopLogger) Error(...any) string { return "" }
func (nopLogger) Debug(...any) string { return "" }
