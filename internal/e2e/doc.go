// Package e2e holds the end-to-end tests of the DTail binaries. It has no
// code of its own: the tests build cmd/... once, start dserver processes
// on 127.0.0.1 as an unprivileged user, run the clients against them and
// against the reference DTail 4.3.2 and 4.3.2-ng binaries of the interop
// kit (<repo>/../shared/interop), and compare what they print.
//
// Run with
//
//	go test -race ./internal/e2e/
//
// and regenerate the golden files under testdata/ with -update. As root
// the tests create (once) the user dte2e and run every server and client
// as that user; as any other user they run as that user.
package e2e
