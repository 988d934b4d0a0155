//go:build unix

package permission

import "golang.org/x/sys/unix"

func statStamp(path string) fileStamp {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fileStamp{}
	}
	return fileStamp{
		ok:      true,
		ino:     uint64(st.Ino),
		size:    uint64(st.Size),
		mtimeNs: unix.TimespecToNsec(st.Mtim),
		ctimeNs: unix.TimespecToNsec(st.Ctim),
	}
}
