// Package config holds the typed dtail.json configuration (spec §2): the
// built-in defaults, a strict loader that reports problems as one line with
// file, line and key path, and the small helpers the binaries share.
//
// Field names equal the JSON key names on purpose: the file format is the
// reference implementation's, and keeping the names identical means a key in
// an error message can be searched for verbatim in both code and config.
package config

import (
	"os"
	"path/filepath"
	"reflect"
)

// Defaults of §2 that other packages need on their own (flag defaults, test
// mode), so they do not have to build a whole Config to learn one value.
const (
	DefaultSSHPort             = 2222
	DefaultSSHConnectTimeoutMs = 2000
	DefaultLogDir              = "log"
	DefaultLogger              = "stdout"
	DefaultLogLevel            = "info"
	DefaultLogRotation         = "daily"
	DefaultCacheDir            = "cache"

	DefaultSSHBindAddress     = "0.0.0.0"
	DefaultMaxConnections     = 10
	DefaultMaxConcurrentCats  = 2
	DefaultMaxConcurrentTails = 50
	DefaultMaxLineLength      = 1048576
	DefaultPermission         = "^/.*"
	DefaultMapreduceLogFormat = "default"
	DefaultHostKeyFile        = "./cache/ssh_host_key"
	DefaultHostKeyBits        = 4096
	DefaultAuthKeyTTLSeconds  = 86400
	DefaultAuthKeyMaxPerUser  = 5
	DefaultMaxCommandFrame    = 1048576
	DefaultMaxGlobTargets     = 1000
	// DefaultMaxReadWorkers: goroutines matching one file (capped at
	// GOMAXPROCS); MaxConcurrentCats files × this bounds a server's cores.
	DefaultMaxReadWorkers = 4

	// Integration-test mode (§1.8, §4.17) replaces these two defaults.
	TestModeMaxLineLength = 1024
	TestModeHostKeyFile   = "./ssh_host_key"

	// NoFile as -cfg value (case-insensitive) means "load no file at all".
	NoFile = "none"
)

// Config is the whole dtail.json document.
type Config struct {
	Common Common
	Server Server
	Client Client
}

// Common holds settings shared by server and clients (§2.2).
type Common struct {
	SSHPort             int
	SSHConnectTimeoutMs int
	// ExperimentalFeaturesEnable is unused; it exists so that old files which
	// set it still load and a wrongly typed value is still reported.
	ExperimentalFeaturesEnable bool
	LogDir                     string
	Logger                     string `dtail:"logger"`
	LogLevel                   string `dtail:"loglevel"`
	LogRotation                string
	CacheDir                   string
}

// Server holds dserver settings (§2.3). Every int here is a tuning value for
// which Normalize turns ≤0 into the default.
type Server struct {
	SSHBindAddress     string
	MaxConnections     int
	MaxConcurrentCats  int
	MaxConcurrentTails int
	MaxLineLength      int
	Permissions        Permissions
	MapreduceLogFormat string
	HostKeyFile        string
	HostKeyBits        int
	Schedule           []Job
	Continuous         []Job
	// Empty lists mean "golang.org/x/crypto/ssh defaults".
	KeyExchanges []string
	Ciphers      []string
	MACs         []string

	AuthKeyEnabled    bool
	AuthKeyTTLSeconds int
	AuthKeyMaxPerUser int

	ReadGlobRetryIntervalMs int
	ReadRetryIntervalMs     int
	MaxCommandFrameSize     int
	MaxGlobTargets          int
	MaxReadWorkers          int

	OutputTransmissionDelayMs     int
	OutputEOFWaitBaseMs           int
	OutputEOFWaitPerFileMs        int
	OutputEOFWaitMaxMs            int
	OutputChannelBufferSize       int
	OutputFlushTimeoutMs          int
	OutputFlushPollIntervalMs     int
	OutputReadRetryIntervalMs     int
	OutputEOFAckTimeoutMs         int
	ShutdownOutputSerializeWaitMs int
	ShutdownIdleRecheckWaitMs     int

	// StallTimeoutSeconds ends a session whose client accepted no output
	// for this long, so a stopped client cannot hold the read slots.
	StallTimeoutSeconds int

	// Session and connection bounds (docs/SECURITY.md, "Limits"): what one
	// client may make the server hold, and how long idle peers may stay.
	MaxContextLines        int
	MaxContextBytes        int
	MaxSessionCommands     int
	MaxSessionPatternBytes int
	MaxSessionMemoryBytes  int
	IdleTimeoutSeconds     int
	MaxPreAuthConnections  int
	MaxPreAuthPerSource    int
}

// Permissions are the read rules of §2.5. A user present in Users gets that
// list instead of (not in addition to) Default.
type Permissions struct {
	Default []string
	Users   map[string][]string
}

// Job is one entry of Server.Schedule or Server.Continuous (§2.6, §4.14).
// TimeRange is only meaningful for scheduled jobs, RestartOnDayChange only for
// continuous ones; one type keeps the two lists uniform for the job runner.
type Job struct {
	Name               string
	Enable             bool
	Files              string
	Query              string
	Outfile            string
	Discovery          string
	Servers            []string
	AllowFrom          []string
	TimeRange          [2]int
	RestartOnDayChange bool
	// AllowRemoteLogin lets other hosts' job clients log in to this server
	// as the job user with Name as password (spec 4.3). Off by default: a
	// job aimed at this host runs in-process without any login.
	AllowRemoteLogin bool
	// RunAs is the OS user whose permissions (mode bits, ACLs, the
	// Permissions rules) the job's reads get; empty means the account
	// dserver runs as.
	RunAs string
	// ReadAnyFile lets the job read whatever the dserver process can, as in
	// DTail 4.x; it must be set explicitly.
	ReadAnyFile bool
}

// Client holds client settings (§2.4).
type Client struct {
	TermColorsEnable bool
	AuthKeyPath      string
	AuthKeyDisable   bool
	LogPayload       bool
	TermColors       TermColors
}

// TermColors is the colour scheme of §5.6.3. Values are colour names
// ("Black".."White", "Default") and attribute names ("None", "Bold", "Dim",
// ...); the reference printed configured values verbatim, so the terminal
// package must map names to escape sequences itself.
type TermColors struct {
	Remote    RemoteColors
	Client    ClientColors
	Server    ServerColors
	Common    CommonColors
	MaprTable MaprTableColors
}

// RemoteColors paints REMOTE|host|progress|count|id|text lines.
type RemoteColors struct {
	DelimiterAttr, DelimiterBg, DelimiterFg string
	RemoteAttr, RemoteBg, RemoteFg          string
	CountAttr, CountBg, CountFg             string
	HostnameAttr, HostnameBg, HostnameFg    string
	IDAttr, IDBg, IDFg                      string
	StatsOkAttr, StatsOkBg, StatsOkFg       string
	StatsWarnAttr, StatsWarnBg, StatsWarnFg string
	TextAttr, TextBg, TextFg                string
}

// ClientColors paints CLIENT|host|text lines.
type ClientColors struct {
	DelimiterAttr, DelimiterBg, DelimiterFg string
	ClientAttr, ClientBg, ClientFg          string
	HostnameAttr, HostnameBg, HostnameFg    string
	TextAttr, TextBg, TextFg                string
}

// ServerColors paints SERVER|host|text lines.
type ServerColors struct {
	DelimiterAttr, DelimiterBg, DelimiterFg string
	ServerAttr, ServerBg, ServerFg          string
	HostnameAttr, HostnameBg, HostnameFg    string
	TextAttr, TextBg, TextFg                string
}

// CommonColors paints the text part by its severity prefix.
type CommonColors struct {
	SeverityErrorAttr, SeverityErrorBg, SeverityErrorFg string
	SeverityFatalAttr, SeverityFatalBg, SeverityFatalFg string
	SeverityWarnAttr, SeverityWarnBg, SeverityWarnFg    string
}

// MaprTableColors paints mapreduce result tables.
type MaprTableColors struct {
	DataAttr, DataBg, DataFg                                  string
	DelimiterAttr, DelimiterBg, DelimiterFg                   string
	HeaderAttr, HeaderBg, HeaderFg                            string
	HeaderDelimiterAttr, HeaderDelimiterBg, HeaderDelimiterFg string
	RawQueryAttr, RawQueryBg, RawQueryFg                      string
	HeaderSortKeyAttr                                         string
	HeaderGroupKeyAttr                                        string
}

// Default returns the built-in configuration, with Client.AuthKeyPath derived
// from the current user's home directory.
func Default() Config {
	home, err := os.UserHomeDir()
	if err != nil {
		home = ""
	}
	return DefaultWithHome(home)
}

// DefaultWithHome is Default for an explicit home directory; an empty home
// leaves Client.AuthKeyPath empty, which disables auth-key reconnects (§1.8).
func DefaultWithHome(home string) Config {
	authKeyPath := ""
	if home != "" {
		authKeyPath = filepath.Join(home, ".ssh", "id_rsa")
	}
	return Config{
		Common: Common{
			SSHPort:             DefaultSSHPort,
			SSHConnectTimeoutMs: DefaultSSHConnectTimeoutMs,
			LogDir:              DefaultLogDir,
			Logger:              DefaultLogger,
			LogLevel:            DefaultLogLevel,
			LogRotation:         DefaultLogRotation,
			CacheDir:            DefaultCacheDir,
		},
		Server: Server{
			SSHBindAddress:     DefaultSSHBindAddress,
			MaxConnections:     DefaultMaxConnections,
			MaxConcurrentCats:  DefaultMaxConcurrentCats,
			MaxConcurrentTails: DefaultMaxConcurrentTails,
			MaxLineLength:      DefaultMaxLineLength,
			Permissions:        Permissions{Default: []string{DefaultPermission}},
			MapreduceLogFormat: DefaultMapreduceLogFormat,
			HostKeyFile:        DefaultHostKeyFile,
			HostKeyBits:        DefaultHostKeyBits,

			AuthKeyEnabled:    true,
			AuthKeyTTLSeconds: DefaultAuthKeyTTLSeconds,
			AuthKeyMaxPerUser: DefaultAuthKeyMaxPerUser,

			ReadGlobRetryIntervalMs: 5000,
			ReadRetryIntervalMs:     2000,
			MaxCommandFrameSize:     DefaultMaxCommandFrame,
			MaxGlobTargets:          DefaultMaxGlobTargets,
			MaxReadWorkers:          DefaultMaxReadWorkers,

			OutputTransmissionDelayMs:     50,
			OutputEOFWaitBaseMs:           500,
			OutputEOFWaitPerFileMs:        10,
			OutputEOFWaitMaxMs:            2000,
			OutputChannelBufferSize:       1000,
			OutputFlushTimeoutMs:          2000,
			OutputFlushPollIntervalMs:     10,
			OutputReadRetryIntervalMs:     1,
			OutputEOFAckTimeoutMs:         2000,
			ShutdownOutputSerializeWaitMs: 500,
			ShutdownIdleRecheckWaitMs:     10,
			StallTimeoutSeconds:           60,

			MaxContextLines:        100000,
			MaxContextBytes:        16 << 20,
			MaxSessionCommands:     1000,
			MaxSessionPatternBytes: 64 << 10,
			MaxSessionMemoryBytes:  256 << 20,
			IdleTimeoutSeconds:     300,
			// 0: derived from MaxConnections (sshserver).
			MaxPreAuthConnections: 0,
			MaxPreAuthPerSource:   0,
		},
		Client: Client{
			TermColorsEnable: true,
			AuthKeyPath:      authKeyPath,
			TermColors:       defaultTermColors(),
		},
	}
}

// defaultTermColors is the scheme described in §5.6.3, as names.
func defaultTermColors() TermColors {
	return TermColors{
		Remote: RemoteColors{
			DelimiterAttr: "Dim", DelimiterBg: "Blue", DelimiterFg: "Cyan",
			RemoteAttr: "Dim", RemoteBg: "Blue", RemoteFg: "White",
			CountAttr: "Dim", CountBg: "Blue", CountFg: "White",
			HostnameAttr: "Bold", HostnameBg: "Blue", HostnameFg: "White",
			IDAttr: "Dim", IDBg: "Blue", IDFg: "White",
			StatsOkAttr: "None", StatsOkBg: "Green", StatsOkFg: "Black",
			StatsWarnAttr: "None", StatsWarnBg: "Red", StatsWarnFg: "White",
			TextAttr: "None", TextBg: "Black", TextFg: "White",
		},
		Client: ClientColors{
			DelimiterAttr: "Dim", DelimiterBg: "Yellow", DelimiterFg: "Black",
			ClientAttr: "Dim", ClientBg: "Yellow", ClientFg: "Black",
			HostnameAttr: "Dim", HostnameBg: "Yellow", HostnameFg: "Black",
			TextAttr: "None", TextBg: "Black", TextFg: "White",
		},
		Server: ServerColors{
			DelimiterAttr: "Dim", DelimiterBg: "Cyan", DelimiterFg: "Black",
			ServerAttr: "Dim", ServerBg: "Cyan", ServerFg: "Black",
			HostnameAttr: "Bold", HostnameBg: "Cyan", HostnameFg: "Black",
			TextAttr: "None", TextBg: "Black", TextFg: "White",
		},
		Common: CommonColors{
			SeverityErrorAttr: "Bold", SeverityErrorBg: "Red", SeverityErrorFg: "White",
			SeverityFatalAttr: "Bold", SeverityFatalBg: "Magenta", SeverityFatalFg: "White",
			SeverityWarnAttr: "Bold", SeverityWarnBg: "Black", SeverityWarnFg: "White",
		},
		MaprTable: MaprTableColors{
			DataAttr: "None", DataBg: "Blue", DataFg: "White",
			DelimiterAttr: "Dim", DelimiterBg: "Blue", DelimiterFg: "White",
			HeaderAttr: "Bold", HeaderBg: "Blue", HeaderFg: "White",
			HeaderDelimiterAttr: "Dim", HeaderDelimiterBg: "Blue", HeaderDelimiterFg: "White",
			RawQueryAttr: "Dim", RawQueryBg: "Black", RawQueryFg: "Cyan",
			HeaderSortKeyAttr:  "Underline",
			HeaderGroupKeyAttr: "Reverse",
		},
	}
}

// Normalize replaces every tuning integer ≤0 (Common's port and timeout and
// all Server ints) by its default, because a zero or negative limit, size or
// interval would stall or disable the server instead of tuning it (§2.3).
// It is idempotent; Parse and Load already call it.
func (c *Config) Normalize() {
	def := DefaultWithHome("")
	normalizeInts(reflect.ValueOf(&c.Common).Elem(), reflect.ValueOf(def.Common))
	normalizeInts(reflect.ValueOf(&c.Server).Elem(), reflect.ValueOf(def.Server))
}

// normalizeInts works by reflection so that a tuning int added to the structs
// later cannot be forgotten here.
func normalizeInts(v, def reflect.Value) {
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Int && f.Int() <= 0 {
			f.SetInt(def.Field(i).Int())
		}
	}
}

// Names flattens the scheme into "Group.Key" → value (e.g.
// "Remote.DelimiterFg" → "Cyan"), the form the colour package consumes, so
// that the binaries need no per-field glue.
func (t TermColors) Names() map[string]string {
	names := make(map[string]string, 74)
	v := reflect.ValueOf(t)
	for i := range v.NumField() {
		group := v.Type().Field(i).Name
		g := v.Field(i)
		for j := range g.NumField() {
			names[group+"."+g.Type().Field(j).Name] = g.Field(j).String()
		}
	}
	return names
}
