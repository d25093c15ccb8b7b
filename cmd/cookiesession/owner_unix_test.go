//go:build unix

package main

import (
	"os"
	"syscall"
	"testing"
)

// TestRewriteKeepsOwner checks that a rewrite by root gives the new file
// the owner and group of the old one, so that a server running as that
// user still reads it. Only root can give a file to another user: outside
// CI the test skips without it; in CI (CI set), which runs as root to
// install its tools, that is a failure.
func TestRewriteKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		msg := "needs root to give the ring file to another user; run the tests as root"
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set, so running without root is a failure: " + msg)
		}
		t.Skip(msg)
	}
	path := newRingFile(t)
	const uid, gid = 65534, 65533
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "add", "-ring", path)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st := info.Sys().(*syscall.Stat_t); st.Uid != uid || st.Gid != gid {
		t.Errorf("after add: owner %d:%d, want %d:%d", st.Uid, st.Gid, uid, gid)
	}
}
