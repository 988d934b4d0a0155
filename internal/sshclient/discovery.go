package sshclient

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Server is one entry of the server list, already split into host and port.
type Server struct {
	// Name is the entry as given by the user (trimmed); it is what log
	// lines show so that users recognise their own spelling.
	Name string
	Host string
	Port int
	// Route, when not nil, carries what the user's SSH configuration
	// says about reaching this server (user, keys, jump hosts).
	Route *Route
}

// Addr is the dialable "host:port" form (IPv6 hosts are bracketed).
func (s Server) Addr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

func (s Server) String() string { return s.Addr() }

// DiscoveryModule produces raw server entries. options is the part after
// "NAME:" in -discovery and source is the text the module should interpret
// (normally the -servers value).
type DiscoveryModule func(options, source string) ([]string, error)

// Discovery resolves server lists. The zero value knows the built-in modules
// COMMA and FILE and shuffles with math/rand.
type Discovery struct {
	// Modules adds (or overrides) discovery modules by upper-case name,
	// standing in for the reference's ServerListFrom<NAME> methods.
	Modules map[string]DiscoveryModule
	// Shuffle replaces rand.Shuffle so tests get a deterministic order.
	Shuffle func(n int, swap func(i, j int))
}

// ServerList resolves -servers/-discovery with the default Discovery.
// An empty result (and nil error) means serverless mode.
func ServerList(servers, discovery string, defaultPort int) ([]Server, error) {
	return Discovery{}.ServerList(servers, discovery, defaultPort)
}

// ServerList resolves the server list as described in spec §5.2.
//
// Deliberate differences from the reference, all of which only turn former
// errors or surprises into useful behaviour:
//   - lines of a server file are trimmed, and empty and "#" lines are skipped
//     (the reference took lines verbatim);
//   - "[v6addr]:port", "[v6addr]" and bare IPv6 literals are accepted (the
//     reference split at ":" and could not express IPv6);
//   - duplicates are detected on the normalised host:port, so "a" and
//     "a:2222" collapse when 2222 is the default port;
//   - with a "/REGEX/" filter, a module reads its list from its OPTIONS
//     (e.g. -discovery FILE:/etc/dtail/servers -servers /web/) because
//     -servers is taken by the regex; without OPTIONS the list is empty, as
//     in the reference.
func (d Discovery) ServerList(servers, discovery string, defaultPort int) ([]Server, error) {
	servers = strings.TrimSpace(servers)
	discovery = strings.TrimSpace(discovery)

	var filter *regexp.Regexp
	if len(servers) >= 2 && strings.HasPrefix(servers, "/") && strings.HasSuffix(servers, "/") {
		re, err := regexp.Compile(servers[1 : len(servers)-1])
		if err != nil {
			return nil, fmt.Errorf("invalid server filter %q: %w", servers, err)
		}
		filter = re
	}

	var entries []string
	switch {
	case discovery != "":
		name, options, err := parseDiscovery(discovery)
		if err != nil {
			return nil, err
		}
		module, err := d.module(name)
		if err != nil {
			return nil, err
		}
		source := servers
		if filter != nil {
			source = options
		}
		if source == "" || source == "serverless" {
			break
		}
		if entries, err = module(options, source); err != nil {
			return nil, fmt.Errorf("discovery module %s: %w", name, err)
		}
	case filter != nil, servers == "", servers == "serverless":
		// Serverless, or a filter with nothing to filter.
	default:
		var err error
		if isRegularFile(servers) {
			entries, err = serversFromFile("", servers)
		} else {
			entries, err = serversFromComma("", servers)
		}
		if err != nil {
			return nil, err
		}
	}

	seen := make(map[string]bool, len(entries))
	list := make([]Server, 0, len(entries))
	for _, entry := range entries {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if filter != nil && !filter.MatchString(entry) {
			continue
		}
		server, err := ParseServer(entry, defaultPort)
		if err != nil {
			return nil, err
		}
		if seen[server.Addr()] {
			continue
		}
		seen[server.Addr()] = true
		list = append(list, server)
	}

	shuffle := d.Shuffle
	if shuffle == nil {
		shuffle = rand.Shuffle
	}
	shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	return list, nil
}

func parseDiscovery(value string) (name, options string, err error) {
	name, options, hasOptions := strings.Cut(value, ":")
	if name == "" || (hasOptions && options == "") {
		return "", "", fmt.Errorf("unable to parse discovery module %q", value)
	}
	return strings.ToUpper(name), options, nil
}

func (d Discovery) module(name string) (DiscoveryModule, error) {
	if m, ok := d.Modules[name]; ok && m != nil {
		return m, nil
	}
	switch name {
	case "COMMA":
		return serversFromComma, nil
	case "FILE":
		return serversFromFile, nil
	}
	return nil, fmt.Errorf("unknown discovery module %q (built-in modules: COMMA, FILE)", name)
}

func serversFromComma(_, source string) ([]string, error) {
	var entries []string
	for item := range strings.SplitSeq(source, ",") {
		if item = strings.TrimSpace(item); item != "" {
			entries = append(entries, item)
		}
	}
	return entries, nil
}

func serversFromFile(_, path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("unable to read server list: %w", err)
	}
	defer f.Close()
	var entries []string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		entries = append(entries, line)
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("unable to read server list %s: %w", path, err)
	}
	return entries, nil
}

func isRegularFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}

// ParseServer splits one server entry: "host", "host:port", "[v6]:port",
// "[v6]" or a bare IPv6 literal. defaultPort applies when no port is given.
func ParseServer(entry string, defaultPort int) (Server, error) {
	entry = strings.TrimSpace(entry)
	server := Server{Name: entry, Port: defaultPort}
	invalid := func(reason string) (Server, error) {
		return Server{}, fmt.Errorf("invalid server entry %q: %s", entry, reason)
	}
	port := ""
	switch {
	case entry == "":
		return invalid("empty")
	case strings.HasPrefix(entry, "["):
		end := strings.Index(entry, "]")
		if end < 0 {
			return invalid("missing ']'")
		}
		server.Host = entry[1:end]
		switch rest := entry[end+1:]; {
		case rest == "":
		case strings.HasPrefix(rest, ":"):
			port = rest[1:]
			if port == "" {
				return invalid("empty port")
			}
		default:
			return invalid("unexpected text after ']'")
		}
	case strings.Count(entry, ":") > 1:
		if _, err := netip.ParseAddr(entry); err != nil {
			return invalid("neither host:port nor an IPv6 address (use [addr]:port)")
		}
		server.Host = entry
	default:
		host, p, hasPort := strings.Cut(entry, ":")
		server.Host = host
		if hasPort {
			if p == "" {
				return invalid("empty port")
			}
			port = p
		}
	}
	if server.Host == "" {
		return invalid("empty host")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return invalid(fmt.Sprintf("port %q is not a number between 1 and 65535", port))
		}
		server.Port = n
	}
	return server, nil
}
