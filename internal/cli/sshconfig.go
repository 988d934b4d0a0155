package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dtail-go/dtail/internal/logger"
	"github.com/dtail-go/dtail/internal/sshclient"
	"github.com/dtail-go/dtail/internal/sshconfig"
	"golang.org/x/crypto/ssh"
)

// systemSSHConfig is read after the user's file, as ssh does.
const (
	systemSSHConfig    = "/etc/ssh/ssh_config"
	systemSSHConfigDir = "/etc/ssh"
	// jumpPort is the port of a jump host given without one: it is an
	// sshd, not a dserver.
	jumpPort = 22
	// maxJumpDepth bounds ProxyJump chains of jump hosts that have their
	// own ProxyJump (and catches loops).
	maxJumpDepth = 10
)

// loadSSHConfig reads --ssh-config: "none" reads nothing; a named file
// must exist (as ssh -F); by default ~/.ssh/config (checked for safe
// permissions, may be missing) and then /etc/ssh/ssh_config.
func loadSSHConfig(flagValue, home string) (*sshconfig.Config, error) {
	switch {
	case flagValue == "none":
		return nil, nil
	case flagValue != "":
		return sshconfig.Load(expandTilde(flagValue, home), sshconfig.Options{Home: home}, false)
	}
	var user *sshconfig.Config
	if home != "" {
		var err error
		user, err = sshconfig.Load(filepath.Join(home, ".ssh", "config"), sshconfig.Options{Home: home, CheckPerm: true}, true)
		if err != nil {
			return nil, err
		}
	}
	sys, err := sshconfig.Load(systemSSHConfig, sshconfig.Options{Home: home, SystemDir: systemSSHConfigDir}, true)
	if err != nil {
		return nil, err
	}
	if user == nil {
		return sys, nil
	}
	user.Append(sys)
	return user, nil
}

func expandTilde(p, home string) string {
	if home != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
		return filepath.Join(home, p[1:])
	}
	return p
}

// routeResolver applies the SSH configuration to server names.
type routeResolver struct {
	conf      *sshconfig.Config
	f         *ClientFlags
	home      string
	localUser string
	signers   *sshclient.SignerSet
	warn      func(string)
	warned    map[string]bool
}

func (r *routeResolver) warnOnce(msg string) {
	if !r.warned[msg] {
		r.warned[msg] = true
		r.warn(msg)
	}
}

// apply resolves every server: the name the user gave stays what output
// shows; HostName and Port decide the dial unless the entry has its own
// port or --port/--user were given; User, IdentityFile, HostKeyAlias and
// ProxyJump fill the server's Route.
func (r *routeResolver) apply(servers []sshclient.Server) ([]sshclient.Server, error) {
	for i := range servers {
		// A port in the entry itself ("loghost:2223") is as explicit
		// as --port.
		own, err := sshclient.ParseServer(servers[i].Name, 0)
		entryPort := err == nil && own.Port != 0
		s, err := r.resolve(servers[i], entryPort || r.f.IsSet("port"), 0)
		if err != nil {
			return nil, err
		}
		servers[i] = s
	}
	return servers, nil
}

// resolve applies the configuration to one server (or jump host, depth >
// 0). portFixed: the port must not change (given in the entry or by flag).
func (r *routeResolver) resolve(s sshclient.Server, portFixed bool, depth int) (sshclient.Server, error) {
	alias := s.Host
	h := r.conf.Lookup(alias)
	if h.ProxyCommand != "" {
		r.warnOnce(fmt.Sprintf("ssh config: ProxyCommand of %s is not supported (use ProxyJump); connecting directly", alias))
	}
	if h.HostName == "" && h.Port == 0 && h.User == "" && len(h.IdentityFiles) == 0 &&
		len(h.ProxyJump) == 0 && h.HostKeyAlias == "" && !h.IdentitiesOnly && depth == 0 {
		return s, nil
	}
	if h.HostName != "" {
		host, err := sshconfig.ExpandHostName(h.HostName, alias)
		if err != nil {
			return s, fmt.Errorf("ssh config, HostName of %s: %v", alias, err)
		}
		s.Host = host
	}
	if h.Port != 0 && !portFixed {
		s.Port = h.Port
	}
	route := &sshclient.Route{HostKeyName: h.HostKeyAlias}
	user := r.f.User
	if s.Route != nil && s.Route.User != "" {
		user = s.Route.User // a jump hop's own user@
	} else if h.User != "" && (depth > 0 || !r.f.IsSet("user")) {
		user = h.User
	}
	if user != r.f.User {
		route.User = user
	}

	if len(h.IdentityFiles) > 0 || h.IdentitiesOnly {
		signers, err := r.identitySigners(h, alias, s, user)
		if err != nil {
			return s, err
		}
		route.Signers = signers
	}

	if len(h.ProxyJump) > 0 {
		if depth >= maxJumpDepth {
			return s, fmt.Errorf("ssh config: ProxyJump chain of %s is longer than %d hops (a loop?)", alias, maxJumpDepth)
		}
		for k, j := range h.ProxyJump {
			hop := sshclient.Server{Name: j.String(), Host: j.Host, Port: j.Port}
			if j.User != "" {
				hop.Route = &sshclient.Route{User: j.User}
			}
			fixed := j.Port != 0
			if !fixed {
				hop.Port = jumpPort
			}
			resolved, err := r.resolve(hop, fixed, depth+1)
			if err != nil {
				return s, err
			}
			if k == 0 && resolved.Route != nil {
				// The first hop's own ProxyJump comes before it.
				route.Jumps = append(route.Jumps, resolved.Route.Jumps...)
				resolved.Route.Jumps = nil
			}
			route.Jumps = append(route.Jumps, resolved)
		}
	}
	s.Route = route
	return s, nil
}

// identitySigners are the keys offered to one host: the DTail auth key
// first (fast reconnect needs it first), then the IdentityFiles, then the
// usual signers; with IdentitiesOnly only the IdentityFiles.
func (r *routeResolver) identitySigners(h sshconfig.Host, alias string, s sshclient.Server, user string) ([]ssh.Signer, error) {
	tokens := sshconfig.Tokens{Alias: alias, Host: s.Host, Port: s.Port, RemoteUser: user, LocalUser: r.localUser, Home: r.home, UID: os.Getuid()}
	var ids []ssh.Signer
	for _, p := range h.IdentityFiles {
		path, err := tokens.ExpandPath(p)
		if err != nil {
			return nil, fmt.Errorf("ssh config, IdentityFile of %s: %v", alias, err)
		}
		signer, warning := r.signers.Identity(path)
		if signer == nil {
			// ssh goes on without a missing identity; so do we, saying so.
			if warning != "" {
				r.warnOnce("ssh config: IdentityFile of " + alias + ": " + warning)
			}
			continue
		}
		ids = append(ids, signer)
	}
	if h.IdentitiesOnly {
		if len(ids) == 0 {
			r.warnOnce(fmt.Sprintf("ssh config: IdentitiesOnly is set for %s but none of its IdentityFiles is usable", alias))
		}
		return ids, nil
	}
	all := r.signers.Signers
	var out []ssh.Signer
	seen := map[string]bool{}
	add := func(sg ssh.Signer) {
		k := string(sg.PublicKey().Marshal())
		if !seen[k] {
			seen[k] = true
			out = append(out, sg)
		}
	}
	if len(all) > 0 && len(r.signers.Sources) > 0 && r.signers.Sources[0] == filepath.Clean(r.signers.AuthKeyPath) {
		add(all[0])
	}
	for _, sg := range ids {
		add(sg)
	}
	for _, sg := range all {
		add(sg)
	}
	return out, nil
}

// resolveRoutes loads the SSH configuration and applies it to servers.
func resolveRoutes(f *ClientFlags, servers []sshclient.Server, home string, env Env, signers *sshclient.SignerSet, log *logger.Logger) ([]sshclient.Server, error) {
	conf, err := loadSSHConfig(f.SSHConfig, home)
	if err == nil && conf != nil {
		servers, err = applyConfig(conf, f, servers, home, env, signers, log)
	}
	if err != nil {
		return nil, err
	}
	if len(signers.Signers) == 0 {
		for _, s := range servers {
			if s.Route == nil || len(s.Route.Signers) == 0 {
				return nil, sshclient.ErrNoSigners
			}
			for _, j := range s.Route.Jumps {
				if j.Route == nil || len(j.Route.Signers) == 0 {
					return nil, sshclient.ErrNoSigners
				}
			}
		}
	}
	return servers, nil
}

func applyConfig(conf *sshconfig.Config, f *ClientFlags, servers []sshclient.Server, home string, env Env, signers *sshclient.SignerSet, log *logger.Logger) ([]sshclient.Server, error) {
	for _, w := range conf.Warnings {
		log.Warn(w)
	}
	r := &routeResolver{
		conf: conf, f: f, home: home, localUser: currentUser(env.Getenv), signers: signers,
		warn: func(msg string) { log.Warn(msg) }, warned: map[string]bool{},
	}
	return r.apply(servers)
}
