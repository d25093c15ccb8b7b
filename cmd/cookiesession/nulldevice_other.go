//go:build !windows

package main

import (
	"io"
	"os"
)

// isNullDevice reports whether w is the null device. The Go runtime opens
// it in place of a standard descriptor the process was started without,
// so a closed stdout is reported too: writes to either succeed and go
// nowhere.
func isNullDevice(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	got, err := f.Stat()
	if err != nil {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(got, null)
}
