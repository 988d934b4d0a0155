package manpage

// keyDocs explains the keys that reflection finds; names, types and
// defaults come from config.Config itself. TestConfigKeysDocumented fails
// when a key has no entry here or an entry names a key that is gone.
var keyDocs = map[string]string{
	"Common.SSHPort":                    "Port dserver listens on; the clients' default port for servers given without one.",
	"Common.SSHConnectTimeoutMs":        "Client TCP connect plus SSH handshake timeout in milliseconds.",
	"Common.ExperimentalFeaturesEnable": "Unused; accepted so that old files still load.",
	"Common.LogDir":                     "Log directory, relative to the working directory unless absolute.",
	"Common.Logger":                     "stdout, file, fout (both) or none. Always overridden by the -logger flag.",
	"Common.LogLevel":                   "none, fatal, error, warn, info, default, verbose, debug, devel, trace or all.",
	"Common.LogRotation":                "daily writes <LogDir>/YYYYMMDD.log per local day; any other value writes <LogDir>/<program>.log and reopens it on SIGHUP.",
	"Common.CacheDir":                   "Directory of the key cache: dserver looks for <CacheDir>/<user>.authorized_keys before the user's ~/.ssh/authorized_keys; dtail-keycache(8) fills it.",

	"Server.SSHBindAddress":                  "Listen address.",
	"Server.MaxConnections":                  "Maximum concurrent authenticated connections. Connections still in the SSH handshake count against MaxPreAuthConnections instead (DTail 4.x counted both here).",
	"Server.MaxConcurrentCats":               "Server-wide maximum of files read at once by cat, grep and mapreduce reads.",
	"Server.MaxConcurrentTails":              "Server-wide maximum of files followed at once.",
	"Server.MaxLineLength":                   "Longer lines are split into chunks of this many bytes.",
	"Server.Permissions.Default":             "Read rules for users without an entry in Permissions.Users. Each rule is [readfiles:]REGEX or [readfiles:]!REGEX (deny), matched against the resolved absolute path; any matching deny rule denies, otherwise at least one allow rule must match. These rules narrow, never widen, what the user's own UNIX permissions and ACLs allow.",
	"Server.Permissions.Users":               "Per-user rule lists; a user listed here gets this list instead of Default.",
	"Server.MapreduceLogFormat":              "Log format of queries that have a from clause but no logformat.",
	"Server.HostKeyFile":                     "RSA host key (PEM). Generated with HostKeyBits bits when missing; its directory must exist or a new key is made on every start.",
	"Server.HostKeyBits":                     "Size of a generated host key.",
	"Server.Schedule":                        "Scheduled mapreduce jobs.",
	"Server.Schedule[].Name":                 "Job name; also the password of the reserved DTAIL-SCHEDULE user for this job.",
	"Server.Schedule[].Enable":               "Run the job.",
	"Server.Schedule[].Files":                "Comma separated files or globs; $today, $yesterday, $yyesterday, $yyyesterday and $tomorrow become YYYYMMDD.",
	"Server.Schedule[].Query":                "The mapreduce query (without outfile).",
	"Server.Schedule[].Outfile":              "Result file; the date placeholders of Files apply.",
	"Server.Schedule[].Discovery":            "Server discovery module NAME[:OPTIONS].",
	"Server.Schedule[].Servers":              "Servers to query; default the server's own SSHBindAddress.",
	"Server.Schedule[].AllowFrom":            "Host names or addresses allowed to connect as the job user.",
	"Server.Schedule[].TimeRange":            "[start, end] hours: a scheduled job runs when start <= hour < end.",
	"Server.Schedule[].RestartOnDayChange":   "Continuous jobs only: restart when the day changes.",
	"Server.Schedule[].AllowRemoteLogin":     "Accept DTAIL-SCHEDULE logins with this job's Name as password from AllowFrom (off: the job runs in-process on its own host and nobody can log in with it).",
	"Server.Schedule[].RunAs":                "OS user whose file permissions and Permissions rules the job's reads get (default: the account dserver runs as).",
	"Server.Schedule[].ReadAnyFile":          "Let the job read every file dserver can read, bypassing the user checks (DTail 4.x behaviour; explicit opt-in).",
	"Server.Continuous":                      "Continuous mapreduce jobs; their objects have the keys of Schedule.",
	"Server.Continuous[].Name":               "Job name; also the password of the reserved DTAIL-CONTINUOUS user for this job.",
	"Server.Continuous[].Enable":             "Run the job.",
	"Server.Continuous[].Files":              "As Schedule[].Files.",
	"Server.Continuous[].Query":              "As Schedule[].Query.",
	"Server.Continuous[].Outfile":            "As Schedule[].Outfile.",
	"Server.Continuous[].Discovery":          "As Schedule[].Discovery.",
	"Server.Continuous[].Servers":            "As Schedule[].Servers.",
	"Server.Continuous[].AllowFrom":          "As Schedule[].AllowFrom.",
	"Server.Continuous[].TimeRange":          "Scheduled jobs only.",
	"Server.Continuous[].RestartOnDayChange": "Restart the job when the day changes.",
	"Server.Continuous[].AllowRemoteLogin":   "As Schedule[].AllowRemoteLogin, for DTAIL-CONTINUOUS.",
	"Server.Continuous[].RunAs":              "As Schedule[].RunAs.",
	"Server.Continuous[].ReadAnyFile":        "As Schedule[].ReadAnyFile.",
	"Server.KeyExchanges":                    "Allowed SSH key exchange algorithms; empty means the Go SSH library's defaults.",
	"Server.Ciphers":                         "Allowed SSH ciphers; empty means the library defaults.",
	"Server.MACs":                            "Allowed SSH MACs; empty means the library defaults.",
	"Server.AuthKeyEnabled":                  "Accept AUTHKEY registrations for fast reconnects (keys kept in memory only).",
	"Server.AuthKeyTTLSeconds":               "Lifetime of a registered auth key.",
	"Server.AuthKeyMaxPerUser":               "Registered keys kept per user; the oldest is evicted.",
	"Server.ReadGlobRetryIntervalMs":         "Wait between glob attempts while nothing matched.",
	"Server.ReadRetryIntervalMs":             "Wait before reopening a followed file after its reader ended.",
	"Server.MaxCommandFrameSize":             "Maximum bytes of one client command frame; more closes the session.",
	"Server.MaxGlobTargets":                  "Maximum paths one glob may expand to; the rest are dropped with a warning.",
	"Server.MaxReadWorkers":                  "Goroutines that match one file's lines for cat/grep (capped at the CPU count); 1 reads serially. A file takes one MaxConcurrentCats slot however many.",
	"Server.OutputTransmissionDelayMs":       "Pause after each file's output flush.",
	"Server.OutputEOFWaitBaseMs":             "Internal tuning.",
	"Server.OutputEOFWaitPerFileMs":          "Internal tuning.",
	"Server.OutputEOFWaitMaxMs":              "Internal tuning.",
	"Server.OutputChannelBufferSize":         "Internal output queue length in 64 KiB batches.",
	"Server.OutputFlushTimeoutMs":            "Internal tuning.",
	"Server.OutputFlushPollIntervalMs":       "Internal tuning.",
	"Server.OutputReadRetryIntervalMs":       "Internal tuning.",
	"Server.OutputEOFAckTimeoutMs":           "Internal tuning.",
	"Server.ShutdownOutputSerializeWaitMs":   "Internal tuning.",
	"Server.ShutdownIdleRecheckWaitMs":       "Internal tuning.",
	"Server.StallTimeoutSeconds":             "Disconnect a client that accepted no output for this many seconds (it would hold read slots); default 60.",
	"Server.MaxContextLines":                 "Largest before= and after= a command may ask for; larger values are refused (clients check the default before sending).",
	"Server.MaxContextBytes":                 "Memory of one file's before-context ring; beyond it the oldest context lines are dropped with a warning.",
	"Server.MaxSessionCommands":              "Read and mapreduce commands one session may run at once; more are refused.",
	"Server.MaxSessionPatternBytes":          "Distinct regex and query text of one session's running commands; a command beyond it is refused.",
	"Server.MaxSessionMemoryBytes":           "Per-session budget for command text, patterns and context rings; a session that exceeds it is closed with an error, other sessions are not affected.",
	"Server.IdleTimeoutSeconds":              "Close an authenticated session that runs no command and sends nothing for this many seconds (the first command must come within min(30, this)). A streaming follow is never idle.",
	"Server.MaxPreAuthConnections":           "Connections allowed in the SSH handshake at once, apart from MaxConnections (0: the value of MaxConnections). When full, a handshake that sent nothing for 0.5 s or is older than half the handshake timeout gives way to a new connection, first from the busiest source address; a source holding more than half of them gives way to other sources.",
	"Server.MaxPreAuthPerSource":             "Connections in the SSH handshake at once from one source address (0: MaxPreAuthConnections); beyond it that address's oldest silent or stale handshake gives way, or the new connection is refused.",

	"Client.TermColorsEnable": "ANSI colors; -noColor and -plain turn them off.",
	"Client.AuthKeyPath":      "Private key offered first and registered for fast reconnects (default $HOME/.ssh/id_rsa).",
	"Client.AuthKeyDisable":   "Do not register the auth key, like -no-auth-key.",
	"Client.LogPayload":       "Also write received lines to the client log file, like -log-payload.",

	"Client.TermColors.Remote.*":    "Colors of REMOTE lines. Each part has an Attr (None, Bold, Dim, Italic, Underline, Blink, SlowBlink, RapidBlink, Reverse, Hidden), a Bg and an Fg (Black, Red, Green, Yellow, Blue, Magenta, Cyan, White, Default) key:",
	"Client.TermColors.Client.*":    "Colors of CLIENT lines, keys as for Remote:",
	"Client.TermColors.Server.*":    "Colors of SERVER lines, keys as for Remote:",
	"Client.TermColors.Common.*":    "Colors of error, fatal and warning texts:",
	"Client.TermColors.MaprTable.*": "Colors of mapreduce result tables:",
}

func describeKey(path string) string { return keyDocs[path] }

// documentedKeys are the paths describeKey needs: leaf keys, and one
// group entry per color group.
func documentedKeys() []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range ConfigKeys() {
		p := k.Path
		if group, _, ok := colorKey(p); ok {
			p = group + ".*"
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
