package protocol

import "bytes"

// AUTHKEY replies. They travel as SERVER messages (text plus the logger's
// "\n" in non-plain mode) and are recognised by LastField.
const (
	AuthKeyOK                     = "AUTHKEY OK"
	AuthKeyErrFeatureDisabled     = "AUTHKEY ERR feature disabled"
	AuthKeyErrMissingPublicKey    = "AUTHKEY ERR missing public key"
	AuthKeyErrInvalidBase64       = "AUTHKEY ERR invalid base64"
	AuthKeyErrInvalidPublicKey    = "AUTHKEY ERR invalid public key"
	AuthKeyErrKeyStoreUnavailable = "AUTHKEY ERR internal key store unavailable"
	authKeyErrPrefix              = "AUTHKEY ERR"
)

// AuthKeyCommand registers the public key whose OpenSSH .pub line has b64 as
// its second field.
func AuthKeyCommand(b64 string) string {
	return VerbAuthKey + " " + b64
}

// AuthKeyErrDetail returns the reason of an AUTHKEY ERR reply (e.g.
// "invalid base64") and whether msg is such a reply.
func AuthKeyErrDetail(msg []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(LastField(msg), []byte(authKeyErrPrefix))
	if !ok {
		return "", false
	}
	return string(bytes.TrimSpace(rest)), true
}
