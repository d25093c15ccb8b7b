//go:build unix

package cookiesession_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// Unix only: mode 0000 makes a file unreadable, and a child runs as another
// uid. Windows modes carry only the read-only attribute.

// watchChildEnv makes the test binary act as the unprivileged watcher of
// TestWatchFileUnreadableThenFixed: it names the ring file to watch.
const watchChildEnv = "COOKIESESSION_TEST_WATCH_CHILD"

// TestWatchFileUnreadableThenFixed lands a new ring file that its reader
// cannot read (mode 0000), then fixes it with chmod, which changes neither
// its content nor its times: the watcher must report the failure once and
// retry until the reload succeeds. The reader is a child process running
// as uid 65534 when the test runs as root, since root reads anything.
func TestWatchFileUnreadableThenFixed(t *testing.T) {
	if path := os.Getenv(watchChildEnv); path != "" {
		runWatchChild(path)
		return
	}
	dir := sharedDir(t)
	first, second := sameSizeRings(t)
	path := filepath.Join(dir, "ring.json")
	writeFileMode(t, path, first, 0o644)
	child := startWatchChild(t, dir, path)
	child.expect(t, "loaded 1a2b3c4d")

	writeFileMode(t, path+".new", second, 0o000)
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	child.expect(t, "report cookiesession: reading key ring: open "+path+": permission denied: this process's user (uid ")
	if line := child.seen[len(child.seen)-1]; !strings.Contains(line, "must be able to read the file") || !strings.Contains(line, "chgrp") || !strings.HasSuffix(line, "; primary 1a2b3c4d") {
		t.Fatalf("the permission failure %q does not name the fix (chown, chgrp) or the ring changed", line)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	child.expect(t, "report <nil>; primary 5e6f7a8b")
	child.stop(t)
}

// runWatchChild is the child's side: load, watch, print each report on
// stdout until stdin closes.
func runWatchChild(path string) {
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		fmt.Println("watch: load failed:", err)
		return
	}
	fmt.Printf("watch: loaded %08x as uid %d\n", ring.Primary(), os.Geteuid())
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); cancel() }()
	_ = ring.WatchFile(ctx, path, time.Millisecond, func(err error) {
		fmt.Printf("watch: report %v; primary %08x\n", err, ring.Primary())
	})
}

// sharedDir returns a directory an unprivileged child can read: under
// TMPDIR, or under /tmp when root's TMPDIR is a directory others cannot
// enter (one made under umask 077), where uid 65534 could not reach it.
func sharedDir(t *testing.T) string {
	parent := os.TempDir()
	if os.Geteuid() == 0 && !othersCanEnter(parent) {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "cookiesession-watch-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// othersCanEnter says whether every directory on path lets others
// search it.
func othersCanEnter(path string) bool {
	for dir := filepath.Clean(path); ; dir = filepath.Dir(dir) {
		info, err := os.Stat(dir)
		if err != nil || info.Mode().Perm()&0o001 == 0 {
			return false
		}
		if dir == filepath.Dir(dir) {
			return true
		}
	}
}

func writeFileMode(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// watchChild is the running child and the lines it printed.
type watchChild struct {
	cmd   *exec.Cmd
	stdin io.Closer
	lines chan string
	seen  []string
}

// startWatchChild runs a copy of the test binary (go test keeps the
// original in a directory only its owner can enter) as the watcher.
func startWatchChild(t *testing.T, dir, path string) *watchChild {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "watcher.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	writeFileMode(t, bin, data, 0o755)
	cmd := exec.Command(bin, "-test.run=^TestWatchFileUnreadableThenFixed$")
	cmd.Env = append(os.Environ(), watchChildEnv+"="+path)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	c := &watchChild{cmd: cmd, lines: make(chan string, 64)}
	stdout, err := cmd.StdoutPipe()
	if err == nil {
		c.stdin, err = cmd.StdinPipe()
	}
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		t.Fatalf("starting the unprivileged watcher: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	go func() {
		defer close(c.lines)
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if line, ok := strings.CutPrefix(scanner.Text(), "watch: "); ok {
				c.lines <- line
			}
		}
	}()
	return c
}

// expect waits for the child's next line and checks that it starts with
// want; a child running as root would fail the first expectation.
func (c *watchChild) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case line, ok := <-c.lines:
		c.seen = append(c.seen, line)
		if !ok || !strings.HasPrefix(line, want) {
			t.Fatalf("watcher printed %q, want %q (all: %q)", line, want, c.seen)
		}
		if wantUID := 65534; strings.HasPrefix(want, "loaded") && os.Geteuid() == 0 && !strings.HasSuffix(line, fmt.Sprintf("uid %d", wantUID)) {
			t.Fatalf("watcher runs as %q, want uid %d", line, wantUID)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("watcher printed nothing within 30s after %q", c.seen)
	}
}

// stop closes the child's stdin, waits for it, and checks that it printed
// nothing more: the failure was reported once.
func (c *watchChild) stop(t *testing.T) {
	t.Helper()
	c.stdin.Close()
	for line := range c.lines {
		t.Errorf("watcher printed more: %q", line)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("watcher exited with %v", err)
	}
}

// TestCredentialFile loads and reloads a ring delivered as systemd
// credentials and Docker secrets deliver it: a file of mode 0400 in a
// directory no one may write (systemd's $CREDENTIALS_DIRECTORY/ring, a
// ramfs mounted read-only; Docker's /run/secrets/ring). Nothing is written
// beside it, so the package needs only read access.
func TestCredentialFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ring")
	writeFileMode(t, path, marshalRing(t, ringOf(t, 0x1a2b3c4d)), 0o400)
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatalf("LoadKeyRingFile of a read-only credential: %v", err)
	}
	if err := ring.ReloadFile(path); err != nil {
		t.Fatalf("ReloadFile of a read-only credential: %v", err)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 || ring.Primary() != 0x1a2b3c4d {
		t.Errorf("after the reload: directory %v (%v), ring %v; want the credential alone and key 1a2b3c4d", entries, err, ring)
	}
}

// TestLoadKeyRingFileFromPipe loads the ring from a named pipe, as a
// secret agent or a shell's <(...) hands it over: a pipe can be read only
// once, so the loader must not open it a second time (which waits for a
// writer that never comes) nor compare it with an empty second read.
func TestLoadKeyRingFileFromPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ring.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := ringOf(t, 0x1a2b3c4d).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			f.Write(text)
			f.Close()
		}
	}()
	done := make(chan error, 1)
	go func() {
		_, err := cookiesession.LoadKeyRingFile(path)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("LoadKeyRingFile(a pipe): %v", err)
		}
	case <-time.After(10 * time.Second):
		// Unblock a second open that waits for a writer, so the test ends.
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("LoadKeyRingFile(a pipe) did not return: it opened the pipe again")
	}
}

// TestWatchFileSingleFileMountReplaced: a ring file mounted alone (a
// Kubernetes subPath, docker run -v FILE:FILE, a Compose secret's file:)
// shows the file it was mounted from for good: once its source is
// replaced (the kubelet's update, the CLI's rename on the host), the path
// shows that file, now in no directory, and never the new ring. The
// watcher found its content unchanged and said nothing, and ReloadFile
// returned nil, while the rest of the fleet took the new ring. Both now
// report it, keeping the keys in force. The path here reaches the opened
// file through /proc/self/fd, which shows it as the mount does
// (reproduced with unshare -m and mount --bind: a link count of 0).
func TestWatchFileSingleFileMountReplaced(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reaches the replaced file through /proc/self/fd")
	}
	first, second := sameSizeRings(t)
	source := filepath.Join(t.TempDir(), "ring.json")
	writeFileAtomic(t, source, first, fixedNow)
	f, err := os.Open(source)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mounted := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	ring, err := cookiesession.LoadKeyRingFile(mounted)
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.ReloadFile(mounted); err != nil {
		t.Fatalf("ReloadFile before the source changed: %v", err)
	}
	// A second ring, not watched, for ReloadFile of new text below: the
	// watcher would otherwise load it first, and ReloadFile would find the
	// text in force.
	unwatched, err := cookiesession.LoadKeyRingFile(mounted)
	if err != nil {
		t.Fatal(err)
	}
	reports := watchRing(t, ring, mounted)
	writeFileAtomic(t, source, second, fixedNow)
	const want = "was replaced or deleted where it comes from, and this path still shows the old file, which never changes"
	const fix = "mount its directory and name the file inside it, or recreate the container"
	err = reloadReport(t, reports)
	checkErrRules(t, err)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fix) {
		t.Errorf("WatchFile reported %v, want %q and the fix %q", err, want, fix)
	}
	err = ring.ReloadFile(mounted)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("ReloadFile: %v, want %q", err, want)
	}
	if st := managerOn(t, ring, time.Now).Metrics().Reload; !strings.Contains(st.Error, want) || st.Failures == 0 {
		t.Errorf("reload status %+v, want the error and a failure", st)
	}
	if got := ring.PrimaryAt(fixedNow); got != 0x1a2b3c4d {
		t.Errorf("primary %08x, want the keys in force (1a2b3c4d)", got)
	}
	// A process restarted in the container loads the old keys, and says so.
	logs := defaultLogs(t)
	restarted, err := cookiesession.LoadKeyRingFile(mounted)
	if err != nil {
		t.Fatal(err)
	}
	if st := managerOn(t, restarted, time.Now).Metrics().Reload; !strings.Contains(st.Error, want) || restarted.PrimaryAt(fixedNow) != 0x1a2b3c4d {
		t.Errorf("LoadKeyRingFile of a stale mount: reload status %+v, primary %08x; want the error and the old keys", st, restarted.PrimaryAt(fixedNow))
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "loaded the old keys of a file mounted alone") || !strings.Contains(out, fix) {
		t.Errorf("LoadKeyRingFile of a stale mount logged %q, want a Warn with the fix", out)
	}
	// New text is loaded whatever the link count, in case a file system
	// gives a live file none: by the watcher (which may catch the text
	// half written first) and by ReloadFile.
	if err := os.WriteFile(mounted, second, 0o600); err != nil {
		t.Fatal(err)
	}
	awaitReload(t, reports, ring, 0x5e6f7a8b, true)
	if err := unwatched.ReloadFile(mounted); err != nil {
		t.Errorf("ReloadFile of new text under a link count of 0: %v", err)
	}
	if got := unwatched.PrimaryAt(fixedNow); got != 0x5e6f7a8b {
		t.Errorf("primary %08x, want the new text's (5e6f7a8b)", got)
	}
}
