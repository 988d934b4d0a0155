package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
)

// Mode is the workload kind of a session spec; the numbers are on the wire.
type Mode int

const (
	ModeUnknown Mode = 0
	ModeServer  Mode = 1
	ModeTail    Mode = 2
	ModeCat     Mode = 3
	ModeGrep    Mode = 4
	ModeMap     Mode = 5
	ModeHealth  Mode = 6
)

// String names the mode for logs; the names are ours, not part of the wire.
func (m Mode) String() string {
	switch m {
	case ModeUnknown:
		return "unknown"
	case ModeServer:
		return "server"
	case ModeTail:
		return "tail"
	case ModeCat:
		return "cat"
	case ModeGrep:
		return "grep"
	case ModeMap:
		return "map"
	case ModeHealth:
		return "health"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// SessionSpec is the JSON payload of SESSION START/UPDATE. Field order and
// omitempty rules reproduce the reference encoding byte for byte.
type SessionSpec struct {
	Mode  Mode     `json:"mode"`
	Files []string `json:"files"` // always present; null when empty
	// Options uses the Options.Encode form.
	Options string `json:"options,omitempty"`
	Query   string `json:"query,omitempty"`
	// Regex is the unserialized pattern; Commands serializes it. For
	// queries the client puts the table regex (TableRegex) here.
	Regex       string `json:"regex,omitempty"`
	RegexInvert bool   `json:"regex_invert,omitempty"`
	Timeout     int    `json:"timeout,omitempty"`
}

// Reasons sent in ".syn session err <reason>" (the mode and query ones were
// observed from a reference 4.3.2-ng dserver).
const (
	SessionErrInvalidCommand    = "invalid SESSION command"
	SessionErrUnknownAction     = "unknown action"
	SessionErrInvalidGeneration = "invalid session generation"
	SessionErrInvalidPayload    = "invalid session payload"
	SessionErrInvalidSpec       = "invalid session spec"
	SessionErrUnsupportedMode   = "unsupported session mode"
	SessionErrQueryMode         = "query sessions require map or tail mode"
	SessionErrMissingQuery      = "missing session query"
	SessionErrAlreadyStarted    = "session already started"
	SessionErrNotStarted        = "session not started"
)

// SessionError carries one of the SessionErr* reasons; Error() is the bare
// reason so it can go straight into SessionErrMessage.
type SessionError struct {
	Reason string
}

func (e *SessionError) Error() string { return e.Reason }

// Session actions (the token after SESSION).
const (
	SessionStart  = "START"
	SessionUpdate = "UPDATE"
)

// encode returns the base64 JSON payload. json.Marshal cannot fail for this
// struct (strings, ints, a bool and a string slice), hence the ignored error.
func (s SessionSpec) encode() string {
	if len(s.Files) == 0 {
		s.Files = nil // the reference sends null, never []
	}
	js, _ := json.Marshal(s)
	return base64.StdEncoding.EncodeToString(js)
}

// SessionStartCommand builds "SESSION START <b64json>".
func SessionStartCommand(spec SessionSpec) string {
	return VerbSession + " " + SessionStart + " " + spec.encode()
}

// SessionUpdateCommand builds "SESSION UPDATE <gen> <b64json>"; generation 0
// omits the number, letting the server use its previous generation + 1.
func SessionUpdateCommand(generation uint64, spec SessionSpec) string {
	if generation == 0 {
		return VerbSession + " " + SessionUpdate + " " + spec.encode()
	}
	return VerbSession + " " + SessionUpdate + " " + strconv.FormatUint(generation, 10) + " " + spec.encode()
}

// SessionRequest is a decoded SESSION command.
type SessionRequest struct {
	Action string // SessionStart or SessionUpdate
	// Generation is the explicit UPDATE generation; 0 when omitted or given
	// as 0, both meaning "previous + 1". START always runs as generation 1.
	Generation uint64
	Spec       SessionSpec
}

// ParseSessionCommand decodes and validates the tokens of a SESSION command
// (Command.Tokens, verb token included). Errors are *SessionError with the
// server's reason. The reference checks all of this before the session state,
// so "session already started"/"session not started" are for the caller to
// report afterwards, as is "invalid session spec" for a query that does not
// parse (which needs the query package).
func ParseSessionCommand(tokens []string) (SessionRequest, error) {
	if len(tokens) < 3 {
		return SessionRequest{}, &SessionError{SessionErrInvalidCommand}
	}
	var req SessionRequest
	payload := tokens[2]
	switch strings.ToUpper(tokens[1]) {
	case SessionStart:
		req.Action = SessionStart
	case SessionUpdate:
		req.Action = SessionUpdate
		if len(tokens) >= 4 {
			gen, err := strconv.ParseUint(tokens[2], 10, 64)
			if err != nil {
				return SessionRequest{}, &SessionError{SessionErrInvalidGeneration}
			}
			req.Generation = gen
			payload = tokens[3]
		}
	default:
		return SessionRequest{}, &SessionError{SessionErrUnknownAction}
	}
	js, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return SessionRequest{}, &SessionError{SessionErrInvalidPayload}
	}
	if err := json.Unmarshal(js, &req.Spec); err != nil {
		return SessionRequest{}, &SessionError{SessionErrInvalidSpec}
	}
	if err := req.Spec.Validate(); err != nil {
		return SessionRequest{}, err
	}
	return req, nil
}

// Validate applies the server's structural checks (everything except parsing
// the query, which needs the query package).
func (s SessionSpec) Validate() error {
	switch {
	case s.Mode < ModeTail || s.Mode > ModeHealth:
		return &SessionError{SessionErrUnsupportedMode}
	case s.Query != "" && s.Mode != ModeMap && s.Mode != ModeTail:
		return &SessionError{SessionErrQueryMode}
	case s.Mode == ModeMap && s.Query == "":
		return &SessionError{SessionErrMissingQuery}
	}
	if _, err := DecodeOptions(s.Options); err != nil {
		return &SessionError{SessionErrInvalidSpec}
	}
	return nil
}

// Commands expands the spec into the legacy command stream. The client sends
// these as frames when the server cannot do SESSION; the server dispatches
// them itself (tokenised with ParseCommandFields).
func (s SessionSpec) Commands() ([]string, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.Mode == ModeHealth {
		return []string{VerbHealth}, nil
	}
	regex := SerializeRegex(s.Regex, s.RegexInvert)
	if s.Query != "" {
		verb := VerbCat
		if s.Mode == ModeTail {
			verb = VerbTail
		}
		cmds := make([]string, 0, 1+len(s.Files))
		cmds = append(cmds, MapCommand(s.Options, s.Query))
		for _, f := range s.Files {
			if s.Timeout > 0 {
				cmds = append(cmds, TimeoutReadCommand(s.Timeout, verb, f, regex))
			} else {
				cmds = append(cmds, ReadCommand(verb, s.Options, f, regex))
			}
		}
		return cmds, nil
	}
	verb := VerbGrep
	switch s.Mode {
	case ModeTail:
		verb = VerbTail
	case ModeCat:
		verb = VerbCat
	}
	cmds := make([]string, 0, len(s.Files))
	for _, f := range s.Files {
		cmds = append(cmds, ReadCommand(verb, s.Options, f, regex))
	}
	return cmds, nil
}

// Session acknowledgement kinds.
type SessionAckKind int

const (
	SessionAckStart SessionAckKind = iota + 1
	SessionAckUpdate
	SessionAckErr
)

// SessionAck is a parsed ".syn session …" message.
type SessionAck struct {
	Kind       SessionAckKind
	Generation uint64 // start/update
	Reason     string // err
}

// SessionStartOKMessage is the server's hidden acceptance of SESSION START.
func SessionStartOKMessage(generation uint64) string {
	return sessionStartOK + strconv.FormatUint(generation, 10)
}

// SessionUpdateOKMessage is the server's hidden acceptance of SESSION UPDATE.
func SessionUpdateOKMessage(generation uint64) string {
	return sessionUpdateOK + strconv.FormatUint(generation, 10)
}

// SessionErrMessage is the server's hidden rejection of a SESSION command.
func SessionErrMessage(reason string) string {
	return sessionErr + reason
}

// ParseSessionAck recognises the three ".syn session …" replies.
func ParseSessionAck(msg []byte) (SessionAck, bool) {
	s := string(bytes.TrimRight(msg, "\n"))
	if rest, ok := strings.CutPrefix(s, sessionErr); ok {
		return SessionAck{Kind: SessionAckErr, Reason: rest}, true
	}
	kind := SessionAckStart
	rest, ok := strings.CutPrefix(s, sessionStartOK)
	if !ok {
		kind = SessionAckUpdate
		if rest, ok = strings.CutPrefix(s, sessionUpdateOK); !ok {
			return SessionAck{}, false
		}
	}
	gen, err := strconv.ParseUint(rest, 10, 64)
	if err != nil {
		return SessionAck{}, false
	}
	return SessionAck{Kind: kind, Generation: gen}, true
}
