//go:build unix

package main

import (
	"bytes"
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

// TestKeygenNotesStdoutFile: keygen > ring.json makes the file with the
// shell's umask, mode 0644 under the usual 022, so the ring's secret was
// readable by every user of the machine with nothing said, where -out
// writes 0600; and keygen >> ring.json put a second ring after the first,
// which no loader takes. Each is now noted on stderr with the fix; the
// ring is still printed, as asked.
func TestKeygenNotesStdoutFile(t *testing.T) {
	dir := t.TempDir()
	for _, row := range []struct {
		name    string
		mode    os.FileMode
		before  string
		want    []string
		notWant string
	}{
		{"> with umask 022", 0o644, "", []string{"cookiesession keygen: note: stdout is a file that other users may read (mode 0644), and it now holds the ring's secret: chmod 600 it (or chmod 640 for a group the server runs in); keygen -out FILE writes the ring with mode 0600"}, "appends"},
		{"> into a file of the owner's", 0o600, "", nil, "note"},
		{"> into a file of the group's", 0o640, "", nil, "note"},
		{">> onto a ring", 0o600, "{\"version\":1}\n", []string{"cookiesession keygen: note: stdout is a file that already held 14 bytes (>> appends): the ring follows them, and no loader takes a file that holds more than a ring: write the ring to a file of its own (keygen -out FILE); to add a key to a ring, use add"}, "other users"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(row.name, " ", "_"))
		if err := os.WriteFile(path, []byte(row.before), row.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, row.mode); err != nil { // past the umask
			t.Fatal(err)
		}
		flags := os.O_WRONLY | os.O_TRUNC
		if row.before != "" {
			flags = os.O_WRONLY | os.O_APPEND
		}
		out, err := os.OpenFile(path, flags, 0)
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		code := run([]string{"keygen"}, strings.NewReader(""), out, &stderr)
		out.Close()
		if code != 0 {
			t.Errorf("%s: exit %d, stderr %q", row.name, code, stderr.String())
		}
		for _, want := range row.want {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("%s: stderr %q, want %q", row.name, stderr.String(), want)
			}
		}
		if row.want == nil && stderr.Len() != 0 || strings.Contains(stderr.String(), row.notWant) {
			t.Errorf("%s: stderr %q, want no note of %q", row.name, stderr.String(), row.notWant)
		}
		if data, _ := os.ReadFile(path); !strings.HasPrefix(string(data), row.before+"{") {
			t.Errorf("%s: the file holds %d bytes, not the ring after what it held", row.name, len(data))
		}
	}
}
