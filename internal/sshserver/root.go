package sshserver

import (
	"errors"
	"os"
)

// RefuseRoot implements the start-up rule of spec §1.2: dserver must not run
// with effective UID or GID 0, because it reads files on behalf of remote
// users and would otherwise bypass every file permission.
func RefuseRoot() error {
	return refuseIDs(os.Geteuid(), os.Getegid())
}

func refuseIDs(uid, gid int) error {
	if uid == 0 {
		return errors.New("Not allowed to run as UID 0")
	}
	if gid == 0 {
		return errors.New("Not allowed to run as GID 0")
	}
	return nil
}
