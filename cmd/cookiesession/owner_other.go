//go:build !unix

package main

import "io/fs"

// keepOwner does nothing where files have no Unix owner and group.
func keepOwner(string, fs.FileInfo) error { return nil }
