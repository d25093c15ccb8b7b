//go:build unix

package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Unix file modes: Windows reports only the read-only attribute, so its
// behaviour is checked in mode_windows_test.go and by TestReplacementMode.

// TestKeygenOutMode checks that keygen writes 0600 whatever the umask, and
// that -force over a 0644 file keeps the group's read and drops the
// others'.
func TestKeygenOutMode(t *testing.T) {
	path := newRingFile(t)
	if m := fileMode(t, path); m != 0o600 {
		t.Errorf("mode %v, want 0600", m)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	res := cli(t, "", "keygen", "-out", path, "-force")
	if res.code != 0 || !strings.Contains(res.stderr, "was readable by others (mode 0644); it is now 0640") {
		t.Errorf("keygen -force over a 0644 file: exit %d, stderr %q; want a note that others lost access", res.code, res.stderr)
	}
	if m := fileMode(t, path); m != 0o640 {
		t.Errorf("mode after -force over a 0644 file %v, want 0640: a rewrite keeps the group's read", m)
	}
}

// TestRewriteIsAtomicAndPrivate checks that every rewrite leaves no
// temporary file and keeps the file's owner and group permissions while
// dropping those for others, with a note, since the file holds secrets.
func TestRewriteIsAtomicAndPrivate(t *testing.T) {
	path := newRingFile(t)
	old := primaryOf(t, listJSON(t, path))
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	res := cli(t, "", "add", "-ring", path)
	if res.code != 0 || !strings.Contains(res.stderr, "was readable by others (mode 0644); it is now 0640") {
		t.Errorf("add on a 0644 file: exit %d, stderr %q; want a note that others lost access", res.code, res.stderr)
	}
	added := strings.TrimSpace(res.stdout)
	steps := [][]string{
		{"promote", "-ring", path, "-id", added},
		{"remove", "-ring", path, "-id", old},
		{"remove", "-ring", path, "-id", added}, // refused: the primary
	}
	for _, step := range steps {
		if res := cli(t, "", step...); strings.Contains(res.stderr, "readable by others") {
			t.Errorf("after %v: a note for a file others could not read: %q", step, res.stderr)
		}
		if left := tempLeftovers(t, path); len(left) != 0 {
			t.Errorf("after %v: files left behind: %v", step, left)
		}
		if m := fileMode(t, path); m != 0o640 {
			t.Errorf("after %v: mode %v, want 0640, the group's read kept", step, m)
		}
	}
}

// TestWriteRefusesASpecialFile: keygen -force replaced whatever the path
// named with a regular file by its rename, a socket or a device node
// alike (root's keygen -out /dev/full -force replaced the device), and
// exited 0. A path that is not a regular file is now refused and kept.
func TestWriteRefusesASpecialFile(t *testing.T) {
	dir, err := os.MkdirTemp("", "cs") // a short path: a socket's is bounded
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "ring.json")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, args := range [][]string{{"keygen", "-force", "-out", path}, {"keygen", "-out", path}, {"add", "-ring", path}} {
		res := cli(t, "", args...)
		if want := path + " is a socket, not a regular file"; res.code != 1 || !strings.Contains(res.stderr, want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 saying %q", args, res.code, res.stderr, want)
		}
		if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != os.ModeSocket {
			t.Errorf("%v: the socket was replaced (%v)", args, err)
		}
	}
}
