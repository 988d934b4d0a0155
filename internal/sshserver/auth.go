package sshserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/dtail-go/dtail/internal/keycache"
)

// UserKind tells which handler a session belongs to.
type UserKind int

const (
	// UserNormal is any user authenticated by public key.
	UserNormal UserKind = iota
	// UserHealth is DTAIL-HEALTH.
	UserHealth
	// UserSchedule is DTAIL-SCHEDULE.
	UserSchedule
	// UserContinuous is DTAIL-CONTINUOUS.
	UserContinuous
)

func (k UserKind) String() string {
	switch k {
	case UserHealth:
		return "health"
	case UserSchedule:
		return "schedule"
	case UserContinuous:
		return "continuous"
	default:
		return "none"
	}
}

// reservedKind maps a user name to its reserved kind, UserNormal if none.
func reservedKind(user string) UserKind {
	switch user {
	case HealthUser:
		return UserHealth
	case ScheduleUser:
		return UserSchedule
	case ContinuousUser:
		return UserContinuous
	default:
		return UserNormal
	}
}

// Permissions.Extensions keys carrying the auth result to the session.
const (
	extKind    = "dtail-user-kind"
	extAuthKey = "dtail-auth-key-store"
	// extKey holds the wire form of the public key that authenticated the
	// connection, so AUTHKEY can record which authorized key stands behind
	// a registration.
	extKey = "dtail-auth-public-key"
)

func permissions(kind UserKind, fromStore bool, key ssh.PublicKey) *ssh.Permissions {
	ext := map[string]string{extKind: kind.String()}
	if fromStore {
		ext[extAuthKey] = "yes"
	}
	if key != nil {
		ext[extKey] = string(key.Marshal())
	}
	return &ssh.Permissions{Extensions: ext}
}

func kindFromPermissions(p *ssh.Permissions) (UserKind, bool) {
	if p == nil {
		return UserNormal, false
	}
	_, fromStore := p.Extensions[extAuthKey]
	for k := UserNormal; k <= UserContinuous; k++ {
		if p.Extensions[extKind] == k.String() {
			return k, fromStore
		}
	}
	return UserNormal, fromStore
}

// keyFromPermissions returns the public key that authenticated the
// connection, nil for password logins.
func keyFromPermissions(p *ssh.Permissions) ssh.PublicKey {
	if p == nil {
		return nil
	}
	wire, ok := p.Extensions[extKey]
	if !ok {
		return nil
	}
	k, err := ssh.ParsePublicKey([]byte(wire))
	if err != nil {
		return nil
	}
	return k
}

func sessionPrefix(meta ssh.ConnMetadata) string {
	return meta.User() + "@" + meta.RemoteAddr().String()
}

func notAuthorized(meta ssh.ConnMetadata) error {
	return fmt.Errorf("user %s@%s not authorized", meta.User(), meta.RemoteAddr())
}

// safeUserName rejects names that could escape CacheDir when used as a file
// name, before any file system access happens.
func safeUserName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "/\\\x00") && !strings.Contains(name, "..")
}

func (s *Server) publicKeyCallback(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	prefix := sessionPrefix(meta)
	user := meta.User()
	log := s.cfg.Logger
	log.Info(prefix, "Incoming authorization")
	if reservedKind(user) != UserNormal {
		// Reserved users authenticate by password only, so an AUTHKEY
		// registered by a job or a key in some file can never widen their access.
		log.Warn(prefix, "Reserved user may not authenticate by public key")
		return nil, notAuthorized(meta)
	}
	if !safeUserName(user) {
		log.Warn(prefix, "Refusing unsafe user name")
		return nil, notAuthorized(meta)
	}
	if s.cfg.AuthKeys != nil {
		if by, ok := s.cfg.AuthKeys.Lookup(user, key); ok {
			// A stored key is only as good as the authorized key that
			// registered it: once that one leaves the user's authorized
			// keys, the fast path closes too (revocation).
			listed, err := s.keyListed(prefix, user, by)
			if listed {
				return permissions(UserNormal, true, key), nil
			}
			log.Warn(prefix, "Auth key store entry no longer backed by an authorized key", err)
		}
	}
	listed, err := s.keyListed(prefix, user, key.Marshal())
	if err != nil {
		log.Warn(prefix, "Unable to read authorized keys", err)
		return nil, notAuthorized(meta)
	}
	if !listed {
		return nil, notAuthorized(meta)
	}
	return permissions(UserNormal, false, key), nil
}

// verifiedPublicKeyCallback runs only after the client proved possession of
// the key, so the store log line is not emitted for mere key queries.
func (s *Server) verifiedPublicKeyCallback(meta ssh.ConnMetadata, _ ssh.PublicKey, p *ssh.Permissions, _ string) (*ssh.Permissions, error) {
	if _, fromStore := kindFromPermissions(p); fromStore {
		s.cfg.Logger.Info(sessionPrefix(meta), "Authorized by in-memory auth key store")
	}
	return p, nil
}

// authorizedKeysPath returns the file to check and, for a user's own
// ~/.ssh/authorized_keys, the home it must stay inside and the UID that
// may own it.
func (s *Server) authorizedKeysPath(user string) (path, home string, uid int, err error) {
	if s.cfg.TestMode {
		return TestModeAuthorizedKeys, "", -1, nil
	}
	cached := filepath.Join(s.cfg.CacheDir, user+".authorized_keys")
	if _, err := os.Stat(cached); err == nil {
		return cached, "", -1, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", -1, err
	}
	home, uid, err = s.cfg.LookupUser(user)
	if err != nil {
		return "", "", -1, err
	}
	if home == "" {
		return "", "", -1, fmt.Errorf("user %s has no home directory", user)
	}
	return filepath.Join(home, authorizedKeysRel), home, uid, nil
}

const authorizedKeysRel = ".ssh/authorized_keys"

// keyListed reports whether the key with wire form want is one of user's
// authorized keys right now. The file is opened every time (cheap) but
// parsed only when its identity, size or times changed (keyFiles), so a
// revocation is seen at the next login without paying for a parse on each.
func (s *Server) keyListed(prefix, user string, want []byte) (bool, error) {
	path, home, uid, err := s.authorizedKeysPath(user)
	if err != nil {
		return false, fmt.Errorf("no authorized keys file: %w", err)
	}
	s.cfg.Logger.Info(prefix, "Reading", path)
	f, err := openAuthorizedKeys(path, home, uid)
	if err != nil {
		return false, err
	}
	defer f.Close()
	keys, err := s.keyFiles.get(f, func(lineNo int, err error) {
		s.cfg.Logger.Warn(prefix, "Skipping authorized key", path, lineNo, err)
	})
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	_, ok := keys[string(want)]
	return ok, nil
}

// openAuthorizedKeys opens the file to check. A user's own file (home !=
// "") is opened without following a symlink out of the home and under
// sshd's StrictModes: the home, every directory below it on the way and
// the file must be owned by the user or root and not be writable by group
// or others. dserver may hold CAP_DAC_READ_SEARCH, and a key planted by
// someone else who can write there must not open a session.
func openAuthorizedKeys(path, home string, uid int) (*os.File, error) {
	if home != "" {
		return keycache.OpenInHome(home, authorizedKeysRel, uid, true)
	}
	return os.Open(path)
}

// parseAuthorizedKeys returns the wire forms of the usable keys of an
// OpenSSH authorized_keys file. Keys with options dserver cannot honour
// (command=, from=, …) are skipped, the same rule the key cache updater
// applies.
func parseAuthorizedKeys(r io.Reader, warn func(int, error)) (map[string]struct{}, error) {
	keys := make(map[string]struct{})
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		k, _, options, _, err := ssh.ParseAuthorizedKey(line)
		if err != nil {
			warn(lineNo, err)
			continue
		}
		if bad := keycache.RefusedOption(options); bad != "" {
			warn(lineNo, fmt.Errorf("option %s cannot be honoured by dserver", bad))
			continue
		}
		keys[string(k.Marshal())] = struct{}{}
	}
	return keys, sc.Err()
}

func (s *Server) passwordCallback(meta ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
	prefix := sessionPrefix(meta)
	log := s.cfg.Logger
	log.Info(prefix, "Incoming authorization")
	kind := reservedKind(meta.User())
	var jobs []Job
	switch kind {
	case UserHealth:
		if subtle.ConstantTimeCompare(password, []byte(HealthUser)) == 1 {
			return permissions(kind, false, nil), nil
		}
		return nil, notAuthorized(meta)
	case UserSchedule:
		jobs = s.cfg.ScheduleJobs
	case UserContinuous:
		jobs = s.cfg.ContinuousJobs
	default:
		return nil, notAuthorized(meta)
	}
	ip := remoteIP(meta.RemoteAddr())
	src := guessSource(ip)
	if ok, wait := s.guesses.allow(src); !ok {
		// Debug only: a client hammering during its wait must not flood
		// the log; the refusal that started the wait is logged.
		log.Debug(prefix, "Job login throttled", "retry in "+wait.Round(time.Millisecond).String())
		return nil, notAuthorized(meta)
	}
	// Every job is compared (no early exit), so the time taken does not
	// tell which one matched. The job's name is its password and never
	// appears in the log; the job is named by its position.
	match := -1
	for i, job := range jobs {
		// An unnamed job must not turn the empty password into a valid one.
		if job.Name != "" && subtle.ConstantTimeCompare(password, []byte(job.Name)) == 1 && match < 0 {
			match = i
		}
	}
	if match >= 0 {
		if s.allowedFrom(ip, jobs[match].AllowFrom) {
			s.guesses.succeed(src)
			log.Info(prefix, "Job login accepted", fmt.Sprintf("%s job #%d", kind, match+1))
			return jobPermissions(kind, match), nil
		}
		log.Warn(prefix, "Job user not allowed from this address", fmt.Sprintf("%s job #%d", kind, match+1))
	}
	d := s.guesses.fail(src)
	log.Warn(prefix, "Job login refused", "next attempt from this address in "+d.String())
	return nil, notAuthorized(meta)
}

// extJob carries the index of the job a job user authenticated as (in
// ScheduleJobs or ContinuousJobs), so the session can be held to that
// job's query and files without carrying its name around.
const extJob = "dtail-job-index"

func jobPermissions(kind UserKind, index int) *ssh.Permissions {
	p := permissions(kind, false, nil)
	p.Extensions[extJob] = strconv.Itoa(index)
	return p
}

func jobFromPermissions(p *ssh.Permissions) int {
	if p == nil {
		return -1
	}
	v, ok := p.Extensions[extJob]
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return i
}

func remoteIP(addr net.Addr) net.IP {
	if tcp, ok := addr.(*net.TCPAddr); ok {
		return tcp.IP
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return nil
	}
	return net.ParseIP(host)
}

func (s *Server) allowedFrom(ip net.IP, allow []string) bool {
	if ip == nil {
		return false
	}
	// The handshake deadline already bounds the connection; this bounds the
	// resolver so one slow DNS entry cannot use up the whole handshake.
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.HandshakeTimeout)
	defer cancel()
	for _, host := range allow {
		addrs, err := s.cfg.LookupHost(ctx, host)
		if err != nil {
			s.cfg.Logger.Warn("Unable to resolve AllowFrom host", host, err)
			continue
		}
		for _, a := range addrs {
			if other := net.ParseIP(a); other != nil && other.Equal(ip) {
				return true
			}
		}
	}
	return false
}
