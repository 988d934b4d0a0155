package sshserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

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
)

func permissions(kind UserKind, fromStore bool) *ssh.Permissions {
	ext := map[string]string{extKind: kind.String()}
	if fromStore {
		ext[extAuthKey] = "yes"
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
	if s.cfg.AuthKeys != nil && s.cfg.AuthKeys.Has(user, key) {
		return permissions(UserNormal, true), nil
	}
	if !safeUserName(user) {
		log.Warn(prefix, "Refusing unsafe user name")
		return nil, notAuthorized(meta)
	}
	path, home, err := s.authorizedKeysPath(user)
	if err != nil {
		log.Warn(prefix, "No authorized keys file", err)
		return nil, notAuthorized(meta)
	}
	log.Info(prefix, "Reading", path)
	ok, err := authorizedKeysContain(path, home, key, func(lineNo int, err error) {
		log.Warn(prefix, "Skipping authorized key", path, lineNo, err)
	})
	if err != nil {
		log.Warn(prefix, "Unable to read authorized keys", path, err)
		return nil, notAuthorized(meta)
	}
	if !ok {
		return nil, notAuthorized(meta)
	}
	return permissions(UserNormal, false), nil
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
// ~/.ssh/authorized_keys, the home it must stay inside.
func (s *Server) authorizedKeysPath(user string) (path, home string, err error) {
	if s.cfg.TestMode {
		return TestModeAuthorizedKeys, "", nil
	}
	cached := filepath.Join(s.cfg.CacheDir, user+".authorized_keys")
	if _, err := os.Stat(cached); err == nil {
		return cached, "", nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", err
	}
	home, err = s.cfg.LookupHome(user)
	if err != nil {
		return "", "", err
	}
	if home == "" {
		return "", "", fmt.Errorf("user %s has no home directory", user)
	}
	return filepath.Join(home, authorizedKeysRel), home, nil
}

const authorizedKeysRel = ".ssh/authorized_keys"

// authorizedKeysContain scans an OpenSSH authorized_keys file for key.
// A user's own file (home != "") is opened without following a symlink
// out of the home: dserver may hold CAP_DAC_READ_SEARCH, and a link to
// another user's file must not authorize keys found there. Keys with
// options dserver cannot honour (command=, from=, …) are skipped, the same
// rule the key cache updater applies.
func authorizedKeysContain(path, home string, key ssh.PublicKey, warn func(int, error)) (bool, error) {
	var f *os.File
	var err error
	if home != "" {
		f, err = keycache.OpenInHome(home, authorizedKeysRel, -1, false)
	} else {
		f, err = os.Open(path)
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	want := key.Marshal()
	sc := bufio.NewScanner(f)
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
		if bytes.Equal(k.Marshal(), want) {
			return true, nil
		}
	}
	return false, sc.Err()
}

func (s *Server) passwordCallback(meta ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
	prefix := sessionPrefix(meta)
	s.cfg.Logger.Info(prefix, "Incoming authorization")
	kind := reservedKind(meta.User())
	var jobs []Job
	switch kind {
	case UserHealth:
		if subtle.ConstantTimeCompare(password, []byte(HealthUser)) == 1 {
			return permissions(kind, false), nil
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
	for _, job := range jobs {
		// An unnamed job must not turn the empty password into a valid one.
		if job.Name == "" || subtle.ConstantTimeCompare(password, []byte(job.Name)) != 1 {
			continue
		}
		if s.allowedFrom(ip, job.AllowFrom) {
			return permissions(kind, false), nil
		}
		s.cfg.Logger.Warn(prefix, "Job user not allowed from this address", job.Name)
	}
	return nil, notAuthorized(meta)
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
