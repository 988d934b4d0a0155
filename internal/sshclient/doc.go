// Package sshclient is the connecting half of the DTail client: it turns the
// -servers/-discovery flags into a server list, gathers the SSH signers,
// verifies host keys against known_hosts (prompting the user in batches), and
// dials servers under a connect throttle. What it returns is a session
// channel on which the single "shell" request has already been made; speaking
// the DTail protocol over that channel is the caller's business, which keeps
// this package free of any knowledge of DTail commands.
package sshclient
