package main

import (
	"io"
	"os"
	"syscall"
)

// isNullDevice reports whether w is NUL. os.SameFile cannot tell: Windows
// gives a console, a pipe and NUL no file id, and os reads all three as
// the same file, so comparing with os.Stat(os.DevNull) would refuse a
// terminal and a pipe. NUL is the character device that is not a console
// (as is a serial port, which no one prints a ring to).
func isNullDevice(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	h := syscall.Handle(f.Fd())
	if kind, err := syscall.GetFileType(h); err != nil || kind != syscall.FILE_TYPE_CHAR {
		return false
	}
	var mode uint32
	return syscall.GetConsoleMode(h, &mode) != nil
}
