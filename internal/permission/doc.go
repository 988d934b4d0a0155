// Package permission decides whether an SSH user of dserver may read a file and
// opens it without a window for swapping the file between decision and open.
//
// dserver runs as an unprivileged account, frequently with CAP_DAC_READ_SEARCH
// so that it can open any log. Its own access rights therefore say nothing
// about the SSH user: every decision here is made on behalf of an Identity
// (the OS account named like the SSH user) and is meant to reproduce what the
// kernel would decide for that account, i.e. what `sudo -u user cat FILE`
// gives. On top of that the configured regex rules (spec §2.5) are applied to
// the resolved absolute path.
//
// POSIX semantics rather than the reference rule. Spec §4.7 describes a check
// in which an ACL mask lacking `r` also blocks the owner and "other" entries.
// The kernel does not work that way: the mask only limits named users, the
// owning group and named groups (POSIX 1003.1e), and Linux skips the ACL
// entirely when the group class bits of the mode (the mask) are all zero. A
// stricter rule would refuse files the user can plainly read with a shell,
// and a laxer one would leak; the only defensible contract is "exactly the
// kernel's answer", so that is what CanRead implements, including the
// zero-mask shortcut, and the tests cross-check it against the kernel.
//
// Uid 0 is not special. The kernel lets root read everything through
// CAP_DAC_OVERRIDE, but dserver must not become a way to read any file by
// logging in as root over DTail, so root gets the plain mode/ACL answer like
// any other account.
//
// Paths are resolved by walking them one component at a time from "/" with
// directory descriptors (walk.go), as the kernel's own path walk does:
// search permission is decided on each directory the walk holds, symlinks
// are followed by restarting on their target, the file is opened from its
// parent's descriptor, and the regex rules see the path the walk actually
// went through. No decision is ever made on a path string that could name
// another inode by the time it is opened.
package permission
