//go:build !unix

package cookiesession

import "io/fs"

// unlinked reports false: only Unix gives a file's link count.
func unlinked(fs.FileInfo) bool { return false }

// linkLoop reports false: a symbolic link loop is named on Unix only.
func linkLoop(error) bool { return false }
