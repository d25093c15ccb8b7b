package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// Windows reports only the read-only attribute as a mode (0444 or 0666).

// TestRewriteOnWindows checks that a rewrite prints no note about others'
// access, which Windows modes cannot show, and that a read-only ring file
// is refused with the fix and left as it was.
func TestRewriteOnWindows(t *testing.T) {
	path := newRingFile(t)
	res := cli(t, "", "add", "-ring", path)
	if res.code != 0 || strings.Contains(res.stderr, "readable by others") {
		t.Errorf("add: exit %d, stderr %q; want success and no note", res.code, res.stderr)
	}
	if m := fileMode(t, path); m != 0o666 {
		t.Errorf("mode after add %v, want 0666 (not read-only)", m)
	}
	if left := tempLeftovers(t, path); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}

	before, _ := os.ReadFile(path)
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(path, 0o666) })
	res = cli(t, "", "add", "-ring", path)
	if res.code != 1 || !strings.Contains(res.stderr, "attrib -r") {
		t.Errorf("add on a read-only file: exit %d, stderr %q; want exit 1 naming attrib -r", res.code, res.stderr)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Error("the refused add changed the file")
	}
	if left := tempLeftovers(t, path); len(left) != 0 {
		t.Errorf("files left behind after the refusal: %v", left)
	}
}

// TestRewriteWaitsForReader checks that a rewrite succeeds once a reader
// that held the file open (a server's WatchFile, a virus scanner) closes
// it: Windows refuses a rename over an open file.
func TestRewriteWaitsForReader(t *testing.T) {
	path := newRingFile(t)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		time.Sleep(200 * time.Millisecond) // the reader's work; well under lockWait
		f.Close()
		close(closed)
	}()
	res := cli(t, "", "add", "-ring", path)
	<-closed
	if res.code != 0 {
		t.Fatalf("add while a reader held the file for 200ms: exit %d, stderr %q", res.code, res.stderr)
	}
	if keys := listJSON(t, path); len(keys) != 2 {
		t.Errorf("after add: %d keys, want 2", len(keys))
	}
}
