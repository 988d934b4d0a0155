package sshclient

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// ErrNoSigners is returned when no private key could be found anywhere.
var ErrNoSigners = errors.New("Unable to find private SSH key information") //nolint:staticcheck // text fixed by the spec

// agentDialTimeout bounds the agent dial so a stale SSH_AUTH_SOCK cannot
// hang client start-up.
const agentDialTimeout = 2 * time.Second

// SignerOptions carries everything LoadSigners would otherwise read from the
// process, so tests (and serverless/test modes) can control it.
type SignerOptions struct {
	// AuthKeyPath is the -auth-key-path (or -key) flag value; empty means
	// "use the environment or the default".
	AuthKeyPath string
	// AgentKeyIndex selects one agent key (0-based); negative means all.
	AgentKeyIndex int
	// Home is the user's home directory; empty disables the ~/.ssh keys.
	Home string
	// LookupEnv replaces os.LookupEnv; nil means an empty environment.
	LookupEnv func(key string) (string, bool)
	// TestModeKeyPaths are tried first among the default keys, after the
	// auth key and the agent (integration-test mode uses ./id_rsa, spec
	// 5.4). The auth key must stay first: a reconnect is authorized from
	// the server's auth-key store only when that key is offered first.
	TestModeKeyPaths []string
}

func (o SignerOptions) env(key string) string {
	if o.LookupEnv == nil {
		return ""
	}
	v, _ := o.LookupEnv(key)
	return v
}

// ResolveAuthKeyPath applies the precedence flag > DTAIL_AUTH_KEY_PATH >
// DTAIL_SSH_PRIVATE_KEYFILE_PATH > ~/.ssh/id_rsa. It returns "" when nothing
// is set and the home directory is unknown; the caller then disables the
// auth-key feature (spec §1.8).
func ResolveAuthKeyPath(flagValue, home string, lookupEnv func(string) (string, bool)) string {
	o := SignerOptions{Home: home, LookupEnv: lookupEnv}
	return o.authKeyPath(flagValue)
}

func (o SignerOptions) authKeyPath(flagValue string) string {
	// An empty variable counts as unset: a path of "" can never be meant.
	for _, p := range []string{flagValue, o.env("DTAIL_AUTH_KEY_PATH"), o.env("DTAIL_SSH_PRIVATE_KEYFILE_PATH")} {
		if p != "" {
			return expandHome(p, o.Home)
		}
	}
	if o.Home == "" {
		return ""
	}
	return filepath.Join(o.Home, ".ssh", "id_rsa")
}

func expandHome(path, home string) string {
	if home != "" && (path == "~" || strings.HasPrefix(path, "~/")) {
		return filepath.Join(home, path[1:])
	}
	return path
}

// SignerSet is the ordered, de-duplicated list of signers. It holds the agent
// connection open because agent signers sign through it; Close it when the
// client stops dialing (reconnects included).
type SignerSet struct {
	Signers []ssh.Signer
	// Sources names where each signer came from ("/path" or "agent:<comment>"),
	// parallel to Signers, for debug logging.
	Sources []string
	// Warnings are one-line, user-facing problems (undecryptable key,
	// unreachable agent, ...) that did not prevent loading other keys.
	Warnings []string
	// AuthKeyPath is the resolved auth key path ("" if unknown).
	AuthKeyPath string

	agentConn  net.Conn
	seen       map[string]bool
	passphrase string
	// identities caches IdentityFile signers by path (nil: unusable),
	// so that a fleet sharing one key file reads it once.
	identities map[string]ssh.Signer
}

// Identity loads an IdentityFile of the SSH configuration. An encrypted
// key without DTAIL_KEY_PASSPHRASE is found in the agent by its PATH.pub,
// as OpenSSH does. The second result is a one-line warning when the file
// gives no signer (reported once per path). Not safe for concurrent use:
// the caller resolves its server list before dialling.
func (s *SignerSet) Identity(path string) (ssh.Signer, string) {
	if signer, ok := s.identities[path]; ok {
		return signer, ""
	}
	if s.identities == nil {
		s.identities = map[string]ssh.Signer{}
	}
	s.identities[path] = nil
	probe := &SignerSet{}
	signer, ok := loadKeyFile(probe, path, s.passphrase, true)
	if !ok {
		if pub, err := os.ReadFile(path + ".pub"); err == nil {
			if key, _, _, _, err := ssh.ParseAuthorizedKey(pub); err == nil {
				for _, have := range s.Signers {
					if string(have.PublicKey().Marshal()) == string(key.Marshal()) {
						s.identities[path] = have
						return have, ""
					}
				}
			}
		}
		return nil, strings.Join(probe.Warnings, "; ")
	}
	s.identities[path] = signer
	return signer, ""
}

// Close releases the agent connection, if any.
func (s *SignerSet) Close() error {
	if s == nil || s.agentConn == nil {
		return nil
	}
	return s.agentConn.Close()
}

func (s *SignerSet) add(signer ssh.Signer, source string) {
	key := string(signer.PublicKey().Marshal())
	if s.seen[key] {
		return
	}
	s.seen[key] = true
	s.Signers = append(s.Signers, signer)
	s.Sources = append(s.Sources, source)
}

func (s *SignerSet) warnf(format string, args ...any) {
	s.Warnings = append(s.Warnings, fmt.Sprintf(format, args...))
}

// NewSignerSet is an empty set for IdentityFile keys when LoadSigners
// found nothing (the SSH configuration may name the only keys).
func NewSignerSet(opts SignerOptions) *SignerSet {
	return &SignerSet{seen: map[string]bool{}, AuthKeyPath: opts.authKeyPath(opts.AuthKeyPath), passphrase: opts.env("DTAIL_KEY_PASSPHRASE")}
}

// LoadSigners collects the signers in the order of spec §5.4: the auth key,
// the ssh-agent keys, then the test-mode keys and
// ~/.ssh/id_{rsa,dsa,ecdsa,ed25519}.
// It fails with ErrNoSigners (closing any agent connection) when nothing was
// found; otherwise problems are reported in Warnings.
func LoadSigners(opts SignerOptions) (*SignerSet, error) {
	passphrase := opts.env("DTAIL_KEY_PASSPHRASE")
	set := &SignerSet{seen: map[string]bool{}, AuthKeyPath: opts.authKeyPath(opts.AuthKeyPath), passphrase: passphrase}
	tried := map[string]bool{}
	tryFile := func(path string, mustExist bool) {
		clean := filepath.Clean(path)
		if tried[clean] {
			return
		}
		tried[clean] = true
		if signer, ok := loadKeyFile(set, clean, passphrase, mustExist); ok {
			set.add(signer, clean)
		}
	}

	if set.AuthKeyPath != "" {
		// A missing default is normal; a missing explicitly chosen key is
		// worth telling the user about.
		explicit := opts.AuthKeyPath != "" || opts.env("DTAIL_AUTH_KEY_PATH") != "" ||
			opts.env("DTAIL_SSH_PRIVATE_KEYFILE_PATH") != ""
		tryFile(set.AuthKeyPath, explicit)
	}
	loadAgentSigners(set, opts.env("SSH_AUTH_SOCK"), opts.AgentKeyIndex)
	for _, p := range opts.TestModeKeyPaths {
		tryFile(p, false)
	}
	if opts.Home != "" {
		for _, name := range []string{"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"} {
			tryFile(filepath.Join(opts.Home, ".ssh", name), false)
		}
	}

	if len(set.Signers) == 0 {
		set.Close()
		return nil, ErrNoSigners
	}
	return set, nil
}

func loadKeyFile(set *SignerSet, path, passphrase string, mustExist bool) (ssh.Signer, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		if mustExist || !errors.Is(err, fs.ErrNotExist) {
			set.warnf("unable to read private key %s: %v", path, err)
		}
		return nil, false
	}
	signer, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return signer, true
	case !errors.As(err, &missing):
		set.warnf("unable to parse private key %s: %v; skipping it", path, err)
		return nil, false
	case passphrase == "":
		set.warnf("private key %s is encrypted and DTAIL_KEY_PASSPHRASE is not set; skipping it", path)
		return nil, false
	}
	signer, err = ssh.ParsePrivateKeyWithPassphrase(data, []byte(passphrase))
	switch {
	case errors.Is(err, x509.IncorrectPasswordError):
		set.warnf("DTAIL_KEY_PASSPHRASE is wrong for private key %s; skipping it", path)
		return nil, false
	case err != nil:
		set.warnf("unable to decrypt private key %s with DTAIL_KEY_PASSPHRASE: %v; skipping it", path, err)
		return nil, false
	}
	return signer, true
}

func loadAgentSigners(set *SignerSet, socket string, index int) {
	if socket == "" {
		return
	}
	conn, err := net.DialTimeout("unix", socket, agentDialTimeout)
	if err != nil {
		set.warnf("unable to connect to ssh-agent at %s: %v", socket, err)
		return
	}
	client := agent.NewClient(conn)
	// List and Signers are separate round trips; List gives the comments
	// for the Sources and pairs 1:1 with Signers' order.
	keys, err := client.List()
	if err != nil {
		conn.Close()
		set.warnf("unable to list ssh-agent keys: %v", err)
		return
	}
	signers, err := client.Signers()
	if err != nil {
		conn.Close()
		set.warnf("unable to get ssh-agent signers: %v", err)
		return
	}
	if index >= 0 {
		if index >= len(signers) {
			conn.Close()
			set.warnf("ssh-agent key index %d out of range (agent holds %d keys)", index, len(signers))
			return
		}
		signers = signers[index : index+1]
		if index < len(keys) {
			keys = keys[index : index+1]
		} else {
			keys = nil
		}
	}
	set.agentConn = conn
	for i, s := range signers {
		source := "agent"
		if i < len(keys) {
			source = "agent:" + keys[i].Comment
		}
		set.add(s, source)
	}
}
