//go:build unix

package sshconfig

import (
	"io/fs"
	"syscall"
)

func ownerOf(st fs.FileInfo) (int, bool) {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(s.Uid), true
	}
	return 0, false
}
