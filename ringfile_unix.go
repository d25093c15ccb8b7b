//go:build unix

package cookiesession

import (
	"errors"
	"io/fs"
	"syscall"
)

// unlinked reports whether fi is of a file that no directory holds any
// more (a link count of 0), as a path shows it only through a mount of
// that one file whose source was since deleted or replaced.
func unlinked(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}

// linkLoop reports whether err is the system's refusal of a path whose
// symbolic links form a loop.
func linkLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }
