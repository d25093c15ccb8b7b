package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seed-ff2808ae/cookiesession"
)

// holdLockEnv makes the test binary, run by TestKilledWhileHoldingLock,
// a command that takes the lock of the ring file it names, says "locked"
// and waits, until it is killed or its stdin closes.
const holdLockEnv = "COOKIESESSION_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdLockEnv); path != "" {
		if _, err := createLock(path, path+".lock"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("locked")
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type result struct {
	code           int
	stdout, stderr string
}

// cli runs the tool in-process with stdin as its standard input.
func cli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(stdin), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// mustCLI runs the tool and fails the test unless it exits 0.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	res := cli(t, "", args...)
	if res.code != 0 {
		t.Fatalf("%v: exit %d, stderr %q", args, res.code, res.stderr)
	}
	return res.stdout
}

// newRingFile writes a fresh one-key ring with keygen and returns its path.
func newRingFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ring.json")
	mustCLI(t, "keygen", "-out", path)
	return path
}

func loadRing(t *testing.T, path string) *cookiesession.KeyRing {
	t.Helper()
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// writeRing writes ring's text form to path as the tool would.
func writeRing(t *testing.T, path string, ring *cookiesession.KeyRing) {
	t.Helper()
	data, err := encodeRing(ring)
	if err == nil {
		err = os.WriteFile(path, data, ringFileMode)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func listJSON(t *testing.T, path string) []keyListing {
	t.Helper()
	var keys []keyListing
	if err := json.Unmarshal([]byte(mustCLI(t, "list", "-ring", path, "-json")), &keys); err != nil {
		t.Fatal(err)
	}
	return keys
}

// primaryOf returns the id listed as primary, failing unless there is
// exactly one.
func primaryOf(t *testing.T, keys []keyListing) string {
	t.Helper()
	var primaries []string
	for _, k := range keys {
		if strings.HasPrefix(k.State, "primary") {
			primaries = append(primaries, k.ID)
		}
	}
	if len(primaries) != 1 {
		t.Fatalf("primaries %v in %+v, want exactly one", primaries, keys)
	}
	return primaries[0]
}

func fileMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestKeygenStdout(t *testing.T) {
	out := mustCLI(t, "keygen")
	ring, err := cookiesession.ParseKeyRing([]byte(out))
	if err != nil {
		t.Fatalf("keygen output does not parse: %v\n%s", err, out)
	}
	keys := ring.Keys()
	if len(keys) != 1 || !keys[0].Primary {
		t.Errorf("keys = %+v, want one primary", keys)
	}
	if !strings.Contains(out, "\n  ") {
		t.Errorf("output is not indented:\n%s", out)
	}
	if out2 := mustCLI(t, "keygen"); out2 == out {
		t.Error("two keygen runs printed the same ring")
	}
}

func TestKeygenOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ring.json")
	mustCLI(t, "keygen", "-out", path)
	first, _ := os.ReadFile(path)
	loadRing(t, path)

	res := cli(t, "", "keygen", "-out", path)
	if res.code != 1 || !strings.Contains(res.stderr, "already exists") || !strings.Contains(res.stderr, "-force") {
		t.Errorf("keygen over an existing file: %+v, want exit 1 naming -force", res)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, first) {
		t.Error("refused keygen changed the file")
	}

	mustCLI(t, "keygen", "-out", path, "-force")
	if now, _ := os.ReadFile(path); bytes.Equal(now, first) {
		t.Error("keygen -force left the old ring")
	}
	if res := cli(t, "", "keygen", "-force"); res.code != 2 {
		t.Errorf("-force without -out: exit %d, want 2", res.code)
	}
}

var keyIDLine = regexp.MustCompile(`^[0-9a-f]{8}\n$`)

func TestAddThenList(t *testing.T) {
	path := newRingFile(t)
	before := primaryOf(t, listJSON(t, path))
	out := mustCLI(t, "add", "-ring", path)
	if !keyIDLine.MatchString(out) {
		t.Fatalf("add printed %q, want one key id", out)
	}
	added := strings.TrimSpace(out)

	keys := listJSON(t, path)
	if len(keys) != 2 || primaryOf(t, keys) != before {
		t.Fatalf("after add: %+v, want 2 keys with %s primary", keys, before)
	}
	fingerprints := map[string]string{}
	for _, k := range keys {
		fingerprints[k.ID] = k.Fingerprint
		if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(k.Fingerprint) {
			t.Errorf("key %s: fingerprint %q, want 12 lower-case hex digits", k.ID, k.Fingerprint)
		}
	}
	if fingerprints[before] == fingerprints[added] {
		t.Errorf("two new keys have one fingerprint, %s", fingerprints[before])
	}
	want := []keyListing{{ID: before, State: "primary", Fingerprint: fingerprints[before]}, {ID: added, State: "open-only", Fingerprint: fingerprints[added]}}
	if !slices.Equal(keys, want) {
		t.Errorf("list -json = %+v, want %+v", keys, want)
	}
	table := mustCLI(t, "list", "-ring", path)
	for _, row := range []string{"ID +STATE +PROMOTE_AT +FINGERPRINT", before + " +primary +- +" + fingerprints[before], added + " +open-only +- +" + fingerprints[added]} {
		if !regexp.MustCompile(`(?m)^` + row + `$`).MatchString(table) {
			t.Errorf("list table lacks a row %q:\n%s", row, table)
		}
	}
}

func TestAddPromoteAt(t *testing.T) {
	path := newRingFile(t)
	at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	added := strings.TrimSpace(mustCLI(t, "add", "-ring", path, "-promote-at", at.Format(time.RFC3339)))
	keys := listJSON(t, path)
	if len(keys) != 2 || keys[1].ID != added || keys[1].State != "scheduled" ||
		keys[1].PromoteAt == nil || !keys[1].PromoteAt.Equal(at) {
		t.Errorf("list = %+v, want %s scheduled at %v", keys, added, at)
	}
	scheduled := loadRing(t, path)
	scheduled.SetClock(func() time.Time { return at })
	if got := scheduled.Primary(); cookiesession.FormatKeyID(got) != added {
		t.Errorf("ring's primary at %v = %08x, want %s", at, got, added)
	}
	for _, bad := range []string{"tomorrow", "2020-01-01T00:00:00Z"} {
		if res := cli(t, "", "add", "-ring", path, "-promote-at", bad); res.code != 2 || res.stderr == "" {
			t.Errorf("-promote-at %q: %+v, want exit 2 and a message", bad, res)
		}
	}
	if n := len(listJSON(t, path)); n != 2 {
		t.Errorf("refused adds changed the ring: %d keys", n)
	}
}

// TestAddPromoteAtExampleTaken: the error for a -promote-at that is no
// RFC 3339 time gave 2026-12-01T00:00:00Z as its example, which add then
// refused as not in the future once that day had passed. The example is
// now an hour or two ahead, a time add takes.
func TestAddPromoteAtExampleTaken(t *testing.T) {
	path := newRingFile(t)
	res := cli(t, "", "add", "-ring", path, "-promote-at", "tomorrow")
	_, example, ok := strings.Cut(strings.SplitN(res.stderr, "\n", 2)[0], "is not an RFC3339 time such as ")
	if res.code != 2 || !ok {
		t.Fatalf("-promote-at tomorrow: %+v, want exit 2 and an example", res)
	}
	if res := cli(t, "", "add", "-ring", path, "-promote-at", example); res.code != 0 {
		t.Errorf("-promote-at %s, the example given: %+v, want it taken", example, res)
	}
}

// TestAddRefusesEmptySchedule: a script's unset variable (-promote-at "")
// or a zero -promote-in once added the key unscheduled, so the rotation it
// asked for never happened and nothing said so.
func TestAddRefusesEmptySchedule(t *testing.T) {
	path := newRingFile(t)
	for _, args := range [][]string{
		{"-promote-at", ""},
		{"-promote-at="},
		{"-promote-in", "0s"},
		{"-promote-in", "0s", "-promote-at", "2099-01-01T00:00:00Z"},
	} {
		res := cli(t, "", append([]string{"add", "-ring", path}, args...)...)
		if res.code != 2 || res.stdout != "" || res.stderr == "" {
			t.Errorf("add %q: %+v, want exit 2, a message and no key", args, res)
		}
	}
	if keys := listJSON(t, path); len(keys) != 1 {
		t.Errorf("refused adds changed the ring: %+v", keys)
	}
}

// TestAddRefusesNearPromotion: add -promote-in 1s was taken, and the key
// sealed before the file could reach another instance, whose users'
// sessions under it were then refused (unknown key id); an instance whose
// clock runs ahead by the 60 s servers allow for found it due on arrival.
// A promotion less than a minute away is now a usage error that says why
// and what to do instead; a minute is taken, whatever the second's
// fraction now is.
func TestAddRefusesNearPromotion(t *testing.T) {
	path := newRingFile(t)
	for _, args := range [][]string{
		{"-promote-in", "1s"},
		{"-promote-in", "59s"},
		{"-promote-at", time.Now().Add(20 * time.Second).UTC().Format(time.RFC3339)},
	} {
		res := cli(t, "", append([]string{"add", "-ring", path}, args...)...)
		for _, want := range []string{
			"cookiesession add: promotion time ",
			"away, under the minute the schedule needs: the file must reach every instance and be loaded there before it",
			"an instance whose clock runs up to 60 s ahead (the skew servers allow for) finds it due as the file arrives",
			"schedule it later (-promote-in 1h, as the runbook does), or to promote at once on purpose, add the key and then use promote",
		} {
			if res.code != 2 || res.stdout != "" || !strings.Contains(res.stderr, want) {
				t.Errorf("add %q: %+v, want exit 2, no key, and %q", args, res, want)
			}
		}
	}
	if res := cli(t, "", "add", "-ring", path, "-promote-in", "1s"); !strings.Contains(res.stderr, "is only 1s away") {
		t.Errorf("-promote-in 1s: %q does not say how far away", res.stderr)
	}
	if keys := listJSON(t, path); len(keys) != 1 {
		t.Errorf("refused adds changed the ring: %+v", keys)
	}
	mustCLI(t, "add", "-ring", path, "-promote-in", "1m")
	if keys := listJSON(t, path); len(keys) != 2 || keys[1].State != "scheduled" {
		t.Errorf("add -promote-in 1m: %+v, want the key scheduled", keys)
	}
}

// TestHelpRefusesExtraArgument: "help add extra" printed add's help and
// dropped the word with nothing said, where every command refuses an
// argument it does not read.
func TestHelpRefusesExtraArgument(t *testing.T) {
	for _, args := range [][]string{{"help", "add", "extra"}, {"help", "add", "-promote-in"}, {"help", "list", "inspect"}} {
		res := cli(t, "", args...)
		want := fmt.Sprintf("cookiesession: help takes one command's name: unexpected argument %q after %q; for its flags, run 'cookiesession help %s'\n", args[2], args[1], args[1])
		if res.code != 2 || res.stdout != "" || !strings.HasPrefix(res.stderr, want) {
			t.Errorf("%q: %+v, want exit 2, no help, and %q", args, res, want)
		}
	}
}

// A scheduled time that has passed makes the key primary by every
// instance's clock, and list must say so rather than "scheduled".
func TestListPrimaryByClock(t *testing.T) {
	old, _ := cookiesession.GenerateKey()
	next, _ := cookiesession.GenerateKey()
	ring, _ := cookiesession.NewKeyRing(old)
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	if err := ring.AddScheduled(next, at); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ring.json")
	writeRing(t, path, ring)
	keys := listJSON(t, path)
	if keys[0].State != "open-only" || keys[1].State != "primary-by-clock" || !keys[1].PromoteAt.Equal(at) {
		t.Errorf("list = %+v, want old open-only and new primary-by-clock", keys)
	}
}

func TestPromote(t *testing.T) {
	path := newRingFile(t)
	old := primaryOf(t, listJSON(t, path))
	added := strings.TrimSpace(mustCLI(t, "add", "-ring", path))
	oldFingerprint := listJSON(t, path)[0].Fingerprint
	if out := mustCLI(t, "promote", "-ring", path, "-id", added); out != "" {
		t.Errorf("promote printed %q on stdout", out)
	}
	keys := listJSON(t, path)
	// The rewrite keeps each key's secret, so its fingerprint too.
	if primaryOf(t, keys) != added || keys[0] != (keyListing{ID: old, State: "open-only", Fingerprint: oldFingerprint}) {
		t.Errorf("after promote %s: %+v", added, keys)
	}
	// A mistyped id, or the wrong file: the message lists the file's keys.
	want := "no key 0badc0de in " + path + ", which holds " + old + ", " + added + " (primary): take the id from list"
	for _, cmd := range []string{"promote", "remove"} {
		if res := cli(t, "", cmd, "-ring", path, "-id", "0badc0de"); res.code != 1 || !strings.Contains(res.stderr, want) {
			t.Errorf("%s of a missing key: %+v, want exit 1 and %q", cmd, res, want)
		}
	}
}

// TestRemoveNotesRecentChange: a promote records no time in the ring
// file, so remove right after one notes the file's last change, which may
// be that promote, and what removing the previous primary then risks; it
// still removes the key, as the runbook allows. A file changed 24h ago or
// more, and a key scheduled to seal later (a cancel), get no note.
func TestRemoveNotesRecentChange(t *testing.T) {
	for _, row := range []struct {
		name    string
		changed time.Duration // how long before the remove the file last changed
		cancel  bool          // remove the scheduled key, not the old primary
		note    string
	}{
		{"right after the promote", 0, false, "was changed less than a minute ago"},
		{"three hours after", 3 * time.Hour, false, "was changed 3h0m0s ago"},
		{"a day after", 24*time.Hour + time.Minute, false, ""},
		{"a scheduled key cancelled", 0, true, ""},
	} {
		t.Run(row.name, func(t *testing.T) {
			path := newRingFile(t)
			old := primaryOf(t, listJSON(t, path))
			added := strings.TrimSpace(mustCLI(t, "add", "-ring", path))
			mustCLI(t, "promote", "-ring", path, "-id", added)
			removed := old
			if row.cancel {
				removed = strings.TrimSpace(mustCLI(t, "add", "-ring", path, "-promote-in", "1h"))
			}
			changed := time.Now().Add(-row.changed)
			if err := os.Chtimes(path, changed, changed); err != nil {
				t.Fatal(err)
			}
			res := cli(t, "", "remove", "-ring", path, "-id", removed)
			if res.code != 0 || loadRing(t, path).Has(mustParseID(t, removed)) {
				t.Fatalf("remove exit %d, stderr %q; want the key removed", res.code, res.stderr)
			}
			if row.note == "" {
				if res.stderr != "" {
					t.Errorf("stderr %q, want no note", res.stderr)
				}
				return
			}
			for _, want := range []string{"cookiesession remove: note: " + path + " " + row.note,
				"if that change promoted key " + added + " over key " + old,
				"instances that have not loaded it yet still seal new sessions under " + old,
				"refused (unknown key id " + old + ") and their users signed out",
				"waits until every instance has the promote and MaxLifetime (else MaxAge) has passed since"} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr %q does not say %q", res.stderr, want)
				}
			}
		})
	}
}

// TestRemoveNotesImminentPromotion: cancelling a rotation by removing its
// key less than the minute add asks for before its promote_at leaves no
// time for the file to reach the instances first: one whose clock runs
// ahead, or that loads the file after then, seals under the key, and
// signs those users out when the file arrives. remove says so at once;
// an hour ahead it says nothing.
func TestRemoveNotesImminentPromotion(t *testing.T) {
	for _, row := range []struct {
		name string
		lead time.Duration
		note bool
	}{
		{"30 s ahead", 30 * time.Second, true},
		{"an hour ahead", time.Hour, false},
	} {
		t.Run(row.name, func(t *testing.T) {
			path := newRingFile(t)
			ring := loadRing(t, path)
			key, err := cookiesession.GenerateKey()
			if err != nil {
				t.Fatal(err)
			}
			if err := ring.AddScheduled(key, time.Now().Add(row.lead)); err != nil {
				t.Fatal(err)
			}
			writeRing(t, path, ring)
			id := cookiesession.FormatKeyID(key.ID())
			res := cli(t, "", "remove", "-ring", path, "-id", id)
			if res.code != 0 || loadRing(t, path).Has(key.ID()) {
				t.Fatalf("remove exit %d, stderr %q; want the key removed", res.code, res.stderr)
			}
			if !row.note {
				if res.stderr != "" {
					t.Errorf("stderr %q, want no note", res.stderr)
				}
				return
			}
			for _, want := range []string{"cookiesession remove: note: key " + id + " is scheduled to become the primary at ",
				"an instance whose clock runs up to 60 s ahead, or that loads this file after then, seals under it first",
				"refused (unknown key id " + id + ")",
				"ship the ring as it was before this remove"} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr %q does not say %q", res.stderr, want)
				}
			}
		})
	}
}

func TestRemove(t *testing.T) {
	path := newRingFile(t)
	old := primaryOf(t, listJSON(t, path))
	added := strings.TrimSpace(mustCLI(t, "add", "-ring", path))
	addedFingerprint := listJSON(t, path)[1].Fingerprint
	before, _ := os.ReadFile(path)

	res := cli(t, "", "remove", "-ring", path, "-id", old)
	if res.code != 1 || !strings.Contains(res.stderr, old) || !strings.Contains(res.stderr, "promote another key first") {
		t.Errorf("remove of the primary: %+v, want exit 1 telling to promote first", res)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Error("refused remove changed the file")
	}

	mustCLI(t, "promote", "-ring", path, "-id", added)
	mustCLI(t, "remove", "-ring", path, "-id", old)
	keys := listJSON(t, path)
	if len(keys) != 1 || keys[0] != (keyListing{ID: added, State: "primary", Fingerprint: addedFingerprint}) {
		t.Errorf("after remove: %+v, want only %s primary", keys, added)
	}
	if loadRing(t, path).Has(mustParseID(t, old)) {
		t.Error("removed key still in the file")
	}
}

// TestRemoveNotesRecentPrimary: removing a key that sealed until less than
// 24h ago (the Manager's default MaxAge), by the promote_at the file still
// holds, succeeds with a note on stderr saying when it stopped sealing and
// that its sessions will be refused. A key that stopped sealing longer ago,
// or never sealed, is removed without one.
func TestRemoveNotesRecentPrimary(t *testing.T) {
	for _, row := range []struct {
		name    string
		ago     time.Duration // since the next key's promote_at
		removed int           // index of the key removed: 0 the old, 2 the never promoted
		note    string
	}{
		{"seconds after its successor's promote_at", 10 * time.Second, 0, "stopped sealing less than a minute ago"},
		{"an hour after its successor's promote_at", time.Hour, 0, "stopped sealing 1h0m0s ago"},
		{"just within 24h", 23*time.Hour + 59*time.Minute, 0, "stopped sealing 23h59m0s ago"},
		{"a day after", 24*time.Hour + time.Minute, 0, ""},
		{"a key that never sealed", time.Hour, 2, ""},
	} {
		keys := make([]cookiesession.Key, 3)
		for i := range keys {
			keys[i], _ = cookiesession.GenerateKey()
		}
		ring, _ := cookiesession.NewKeyRing(keys[0], keys[2])
		at := time.Now().Add(-row.ago).UTC().Truncate(time.Second)
		if err := ring.AddScheduled(keys[1], at); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "ring.json")
		writeRing(t, path, ring)
		// Written two days ago: a change within 24h may be a promote, and
		// is noted (TestRemoveNotesRecentChange).
		written := time.Now().Add(-48 * time.Hour)
		if err := os.Chtimes(path, written, written); err != nil {
			t.Fatal(err)
		}
		id := cookiesession.FormatKeyID(keys[row.removed].ID())
		res := cli(t, "", "remove", "-ring", path, "-id", id)
		if res.code != 0 || loadRing(t, path).Has(keys[row.removed].ID()) {
			t.Errorf("%s: remove exit %d, stderr %q; want the key removed", row.name, res.code, res.stderr)
		}
		if row.note == "" {
			if res.stderr != "" {
				t.Errorf("%s: stderr %q, want no note", row.name, res.stderr)
			}
			continue
		}
		want := "cookiesession remove: note: key " + id + " " + row.note + ", when key " + cookiesession.FormatKeyID(keys[1].ID()) +
			" took over at its promote_at " + at.Format(time.RFC3339) + "; sessions sealed under it that have not expired will be refused"
		if !strings.HasPrefix(res.stderr, want) {
			t.Errorf("%s: stderr %q, want a note starting %q", row.name, res.stderr, want)
		}
	}
}

// TestRemoveNotesWithinMaxLifetime: with -max-lifetime, the Manager's
// MaxLifetime for "remember me" sessions, remove notes a key that stopped
// sealing, or a file changed, within that window rather than within the
// default 24h: a key removed two days after its successor's promote_at
// signs out the 30-day sessions it sealed last. A -max-lifetime that is
// not positive is a usage error, and the file is left as it was.
func TestRemoveNotesWithinMaxLifetime(t *testing.T) {
	for _, row := range []struct {
		name     string
		schedule bool // the successor's promote_at is in the file; else promote, file changed then
		flags    []string
		note     string
	}{
		{"promote_at two days ago, default 24h", true, nil, ""},
		{"promote_at two days ago, 30 days", true, []string{"-max-lifetime", "720h"}, "stopped sealing 48h0m0s ago"},
		{"promote_at two days ago, 36 hours", true, []string{"-max-lifetime", "36h"}, ""},
		{"file changed two days ago, default 24h", false, nil, ""},
		{"file changed two days ago, 30 days", false, []string{"-max-lifetime", "720h"}, "was changed 48h0m0s ago"},
	} {
		t.Run(row.name, func(t *testing.T) {
			path := newRingFile(t)
			old := primaryOf(t, listJSON(t, path))
			ring := loadRing(t, path)
			key, _ := cookiesession.GenerateKey()
			if row.schedule {
				if err := ring.AddScheduled(key, time.Now().Add(-48*time.Hour).Truncate(time.Second)); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := ring.Add(key); err != nil {
					t.Fatal(err)
				}
				if err := ring.Promote(key.ID()); err != nil {
					t.Fatal(err)
				}
			}
			writeRing(t, path, ring)
			changed := time.Now().Add(-48 * time.Hour)
			if err := os.Chtimes(path, changed, changed); err != nil {
				t.Fatal(err)
			}
			res := cli(t, "", append([]string{"remove", "-ring", path, "-id", old}, row.flags...)...)
			if res.code != 0 || loadRing(t, path).Has(mustParseID(t, old)) {
				t.Fatalf("remove exit %d, stderr %q; want the key removed", res.code, res.stderr)
			}
			if row.note == "" {
				if res.stderr != "" {
					t.Errorf("stderr %q, want no note", res.stderr)
				}
				return
			}
			if !strings.Contains(res.stderr, row.note) || !strings.Contains(res.stderr, "-max-lifetime (720h0m0s)") {
				t.Errorf("stderr %q, want a note that says %q and names -max-lifetime (720h0m0s)", res.stderr, row.note)
			}
		})
	}
	for _, bad := range []string{"0s", "-1h"} {
		path := newRingFile(t)
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		res := cli(t, "", "remove", "-ring", path, "-id", primaryOf(t, listJSON(t, path)), "-max-lifetime", bad)
		after, _ := os.ReadFile(path)
		if res.code != 2 || !strings.Contains(res.stderr, "-max-lifetime "+bad) || string(after) != string(before) {
			t.Errorf("-max-lifetime %s: exit %d, stderr %q, file changed %v; want usage error 2 naming it, file untouched", bad, res.code, res.stderr, string(after) != string(before))
		}
	}
}

func mustParseID(t *testing.T, s string) uint32 {
	t.Helper()
	id, err := cookiesession.ParseKeyID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestListNeverPrintsSecrets(t *testing.T) {
	path := newRingFile(t)
	mustCLI(t, "add", "-ring", path)
	mustCLI(t, "add", "-ring", path, "-promote-at", time.Now().Add(time.Hour).Format(time.RFC3339))
	var file struct{ Keys []struct{ Secret string } }
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &file); err != nil || len(file.Keys) != 3 {
		t.Fatalf("ring file: %v, %d keys", err, len(file.Keys))
	}
	outputs := mustCLI(t, "list", "-ring", path) + mustCLI(t, "list", "-ring", path, "-json")
	for _, k := range file.Keys {
		raw, err := base64.StdEncoding.DecodeString(k.Secret)
		if err != nil || len(raw) != cookiesession.KeySize {
			t.Fatalf("secret %q: %v", k.Secret, err)
		}
		forms := []string{k.Secret, base64.RawURLEncoding.EncodeToString(raw), hex.EncodeToString(raw), k.Secret[:12]}
		for _, form := range forms {
			if strings.Contains(outputs, form) {
				t.Errorf("list output contains a secret (%q)", form)
			}
		}
	}
}

// TestListFingerprint checks the fingerprint list prints against values
// computed apart from the package (SHA-256 of the label and the secret,
// FORMAT.md section 6): one id under two secrets shows two fingerprints,
// so that rings can be compared across instances, and no secret shows.
func TestListFingerprint(t *testing.T) {
	for _, c := range []struct {
		secret      []byte
		fingerprint string
	}{
		{secretOf(func(i int) byte { return byte(i) }), "ff10180a7c43"},     // 00 01 ... 1f, the key of testdata/vectors.json
		{secretOf(func(i int) byte { return byte(i + 1) }), "069030b0e9c8"}, // 01 02 ... 20
	} {
		b64 := base64.StdEncoding.EncodeToString(c.secret)
		ring := `{"version":1,"primary":"1a2b3c4d","keys":[{"id":"1a2b3c4d","secret":"` + b64 + `"}]}`
		path := filepath.Join(t.TempDir(), "ring.json")
		if err := os.WriteFile(path, []byte(ring), ringFileMode); err != nil {
			t.Fatal(err)
		}
		table := mustCLI(t, "list", "-ring", path)
		if !regexp.MustCompile(`(?m)^1a2b3c4d +primary +- +` + c.fingerprint + `$`).MatchString(table) {
			t.Errorf("list of secret %x:\n%s\nwant fingerprint %s", c.secret, table, c.fingerprint)
		}
		keys := listJSON(t, path)
		if len(keys) != 1 || keys[0].Fingerprint != c.fingerprint {
			t.Errorf("list -json of secret %x: %+v, want fingerprint %s", c.secret, keys, c.fingerprint)
		}
		out := table + mustCLI(t, "list", "-ring", path, "-json")
		for _, form := range []string{b64, hex.EncodeToString(c.secret), b64[:12]} {
			if strings.Contains(out, form) {
				t.Errorf("list output contains a secret (%q)", form)
			}
		}
	}
}

// TestListNamesTwoSecretsUnderOneID: a ring with two secrets under one
// id does not load, and list says so with both fingerprints, so that the
// one the instances show can be kept; the JS port, which cannot hash at
// once, names this command for them, given the text on stdin or by file.
func TestListNamesTwoSecretsUnderOneID(t *testing.T) {
	key := func(b func(int) byte) string {
		return `{"id":"5e6f7a8b","secret":"` + base64.StdEncoding.EncodeToString(secretOf(b)) + `"}`
	}
	ring := `{"version":1,"primary":"5e6f7a8b","keys":[` + key(func(i int) byte { return byte(i) }) + "," + key(func(i int) byte { return byte(i + 1) }) + `]}`
	path := filepath.Join(t.TempDir(), "ring.json")
	if err := os.WriteFile(path, []byte(ring), ringFileMode); err != nil {
		t.Fatal(err)
	}
	for _, res := range []result{cli(t, ring, "list", "-ring", "-"), cli(t, "", "list", "-ring", path)} {
		if want := "keys[0] and keys[1] are two different keys under one id (fingerprints ff10180a7c43 and 069030b0e9c8)"; res.code != 1 || !strings.Contains(res.stderr, want) {
			t.Errorf("list of two secrets under one id: exit %d, stderr %q, want 1 and %q", res.code, res.stderr, want)
		}
	}
}

func secretOf(b func(int) byte) []byte {
	secret := make([]byte, cookiesession.KeySize)
	for i := range secret {
		secret[i] = b(i)
	}
	return secret
}

// tempLeftovers lists the directory entries other than the ring file.
func tempLeftovers(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Name() != filepath.Base(path) {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestReplacementMode checks the mode a rewrite gives its file on each
// platform: on Unix the owner's and group's bits kept and the others'
// dropped (with a note); on Windows, whose modes are only 0666 or 0444
// (read-only), no note, and a read-only file refused with the fix.
func TestReplacementMode(t *testing.T) {
	for _, tc := range []struct {
		old           fs.FileMode
		windows       bool
		mode, dropped fs.FileMode
		err           string
	}{
		{old: 0o600, mode: 0o600},
		{old: 0o644, mode: 0o640, dropped: 0o004},
		{old: 0o444, mode: 0o440, dropped: 0o004},
		{old: 0o777, mode: 0o770, dropped: 0o007},
		{old: 0o666, windows: true, mode: 0o600},
		{old: 0o444, windows: true, err: `ring.json is read-only (its read-only attribute is set), so it cannot be replaced: clear the attribute (attrib -r "ring.json")`},
	} {
		mode, dropped, err := replacementMode("ring.json", tc.old, tc.windows)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("replacementMode(%04o, windows %v) = %v, want an error containing %q", uint32(tc.old), tc.windows, err, tc.err)
			}
			continue
		}
		if err != nil || mode != tc.mode || dropped != tc.dropped {
			t.Errorf("replacementMode(%04o, windows %v) = %04o, %04o, %v; want %04o, %04o",
				uint32(tc.old), tc.windows, uint32(mode), uint32(dropped), err, uint32(tc.mode), uint32(tc.dropped))
		}
	}
}

// TestPromoteNotesLaterSchedule checks that promote says so when a key
// scheduled for later will take over from the key it promotes.
func TestPromoteNotesLaterSchedule(t *testing.T) {
	path := newRingFile(t)
	first := primaryOf(t, listJSON(t, path))
	later := strings.TrimSpace(mustCLI(t, "add", "-ring", path, "-promote-in", "1h"))
	res := cli(t, "", "promote", "-ring", path, "-id", first)
	if res.code != 0 || !strings.Contains(res.stderr, "key "+later+" is scheduled to become the primary at") ||
		!strings.Contains(res.stderr, "remove it to cancel") {
		t.Errorf("promote with a later schedule pending: exit %d, stderr %q", res.code, res.stderr)
	}
	other := strings.TrimSpace(mustCLI(t, "add", "-ring", path))
	// Promoting the scheduled key itself drops its schedule: said once, and
	// without the note about later schedules, which names other keys.
	dropped := "the key was scheduled to become the primary at "
	if res := cli(t, "", "promote", "-ring", path, "-id", later); res.code != 0 || strings.Count(res.stderr, "note:") != 1 ||
		!strings.Contains(res.stderr, dropped) || !strings.Contains(res.stderr, "unknown key id "+later) {
		t.Errorf("promote of the scheduled key itself: exit %d, stderr %q, want one note that its schedule was dropped", res.code, res.stderr)
	}
	if res := cli(t, "", "promote", "-ring", path, "-id", other); strings.Contains(res.stderr, "note:") {
		t.Errorf("promote with nothing scheduled: %q, want no note", res.stderr)
	}
}

// TestPromoteOfThePrimaryNotes: promote of the key that already seals (the
// old key's id pasted for the new one's) changed nothing and said nothing,
// so the rotation looked done; a later remove of the "old" key would then
// drop the new one. It now says so on stderr, and still exits 0.
func TestPromoteOfThePrimaryNotes(t *testing.T) {
	path := newRingFile(t)
	old := primaryOf(t, listJSON(t, path))
	added := strings.TrimSpace(mustCLI(t, "add", "-ring", path))
	const note = "the key was already the primary, so nothing changed; to rotate, promote the key that add printed"
	if res := cli(t, "", "promote", "-ring", path, "-id", old); res.code != 0 || !strings.Contains(res.stderr, note) {
		t.Errorf("promote of the primary: exit %d, stderr %q; want exit 0 and %q", res.code, res.stderr, note)
	}
	if res := cli(t, "", "promote", "-ring", path, "-id", added); res.code != 0 || res.stderr != "" {
		t.Errorf("promote of the added key: exit %d, stderr %q; want no note", res.code, res.stderr)
	}
}

// TestPromoteOfPrimaryByClockNotes: promote of a key that is the primary
// because its promote_at has passed (an operator who scheduled with
// -promote-in, then ran step 3 of the runbook as well) is told that
// servers already seal with it. Before, the note said to promote "the
// key that add printed", which is the key just promoted.
func TestPromoteOfPrimaryByClockNotes(t *testing.T) {
	path := newRingFile(t)
	ring := loadRing(t, path)
	key, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	ring.SetClock(func() time.Time { return due.Add(-2 * time.Hour) })
	if err := ring.AddScheduled(key, due); err != nil {
		t.Fatal(err)
	}
	writeRing(t, path, ring)
	id := cookiesession.FormatKeyID(key.ID())
	res := cli(t, "", "promote", "-ring", path, "-id", id)
	want := "cookiesession promote: note: the key has been the primary since its promote_at " + due.Format(time.RFC3339) + ", so nothing changes for servers"
	if res.code != 0 || !strings.Contains(res.stderr, want) || strings.Contains(res.stderr, "promote the key that add printed") {
		t.Errorf("exit %d, stderr %q; want exit 0 and %q", res.code, res.stderr, want)
	}
	if keys := listJSON(t, path); primaryOf(t, keys) != id {
		t.Errorf("list after promote: %+v", keys)
	}
}

// TestAddNotesLaterSchedule: a key added with a promotion time before
// another key's pending one (a second rotation scheduled while the first
// waits) seals only until the other takes over; add now says so, as
// promote does.
func TestAddNotesLaterSchedule(t *testing.T) {
	path := newRingFile(t)
	later := strings.TrimSpace(mustCLI(t, "add", "-ring", path, "-promote-in", "2h"))
	res := cli(t, "", "add", "-ring", path, "-promote-in", "1h")
	added := strings.TrimSpace(res.stdout)
	want := "cookiesession add: note: key " + later + " is scheduled to become the primary at "
	if res.code != 0 || !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, "will take over from "+added+" then") {
		t.Errorf("add before a pending schedule: exit %d, stderr %q; want %q naming %s", res.code, res.stderr, want, added)
	}
	for _, args := range [][]string{{"-promote-in", "3h"}, nil} {
		if res := cli(t, "", append([]string{"add", "-ring", path}, args...)...); res.code != 0 || res.stderr != "" {
			t.Errorf("add %v: exit %d, stderr %q; want no note", args, res.code, res.stderr)
		}
	}
}

// TestAddNotesSameInstant: a key added for the same instant as a key
// already scheduled (a cron job's rotation run twice, two operators each
// scheduling midnight) takes over then, being listed last, and the other
// never seals, while list showed both as scheduled. add now says so.
func TestAddNotesSameInstant(t *testing.T) {
	path := newRingFile(t)
	first := strings.TrimSpace(mustCLI(t, "add", "-ring", path, "-promote-at", "2098-01-01T00:00:00Z"))
	res := cli(t, "", "add", "-ring", path, "-promote-at", "2098-01-01T01:00:00+01:00")
	added := strings.TrimSpace(res.stdout)
	want := "cookiesession add: note: key " + first + " is scheduled to become the primary at the same instant, 2098-01-01T00:00:00Z; of keys due together the one listed last, " + added + ", takes over, so " + first + " will never seal"
	if res.code != 0 || !strings.Contains(res.stderr, want) {
		t.Errorf("add at a pending key's instant: exit %d, stderr %q; want %q", res.code, res.stderr, want)
	}
	ring := loadRing(t, path)
	ring.SetClock(func() time.Time { return time.Date(2098, 1, 1, 0, 0, 0, 0, time.UTC) })
	if got, _ := cookiesession.ParseKeyID(added); ring.Primary() != got {
		t.Errorf("at the shared instant the primary is not the key added last, %s", added)
	}
	if res := cli(t, "", "add", "-ring", path, "-promote-at", "2098-01-01T00:00:01Z"); res.code != 0 || res.stderr != "" {
		t.Errorf("add a second later: exit %d, stderr %q; want no note", res.code, res.stderr)
	}
}

// TestKeygenForceNotesReplacedRing: keygen -force over a live ring drops
// its keys, which signs out every user once servers load the file; it
// now names the keys it dropped. Over a file that is no ring, or none,
// there is nothing to say.
func TestKeygenForceNotesReplacedRing(t *testing.T) {
	path := newRingFile(t)
	old := primaryOf(t, listJSON(t, path))
	added := strings.TrimSpace(mustCLI(t, "add", "-ring", path))
	res := cli(t, "", "keygen", "-out", path, "-force")
	if res.code != 0 || !strings.Contains(res.stderr, "held a key ring (keys "+old+" "+added+") that the new one replaces") ||
		!strings.Contains(res.stderr, "use add, promote and remove") {
		t.Errorf("keygen -force over a ring: exit %d, stderr %q", res.code, res.stderr)
	}
	notRing := filepath.Join(t.TempDir(), "ring.json")
	if err := os.WriteFile(notRing, []byte("not a ring"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{notRing, filepath.Join(t.TempDir(), "new.json")} {
		if res := cli(t, "", "keygen", "-out", out, "-force"); res.code != 0 || res.stderr != "" {
			t.Errorf("keygen -force -out %s: exit %d, stderr %q; want no note", out, res.code, res.stderr)
		}
	}
}

// TestInspectUnknownKeyNotes: the usual answer to "users are being signed
// out" is a token under a key the ring lacks; inspect printed only the
// reason. It now names the ring's keys and the two ways to lack one.
func TestInspectUnknownKeyNotes(t *testing.T) {
	path := newRingFile(t)
	old := primaryOf(t, listJSON(t, path))
	token, _ := newSealer(t, loadRing(t, path)).seal(t, time.Now(), "k", "v")
	added := strings.TrimSpace(mustCLI(t, "add", "-ring", path))
	mustCLI(t, "promote", "-ring", path, "-id", added)
	mustCLI(t, "remove", "-ring", path, "-id", old)
	res := cli(t, "", "inspect", "-ring", path, token)
	want := "the ring holds keys " + added + " (primary), not " + old + ": a server with this ring refuses the cookie"
	if res.code != 1 || !strings.Contains(res.stderr, "unknown key id "+old) || !strings.Contains(res.stderr, want) ||
		!strings.Contains(res.stderr, old+" was removed before the sessions it sealed expired") {
		t.Errorf("inspect under a removed key: exit %d, stderr %q; want the reason and %q", res.code, res.stderr, want)
	}
}

func TestWriteFileAtomicFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "ring.json")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := (&env{stderr: io.Discard}).writeFileAtomic(target, []byte("{}")); err == nil {
		t.Fatal("rename over a directory succeeded")
	}
	if left := tempLeftovers(t, target); len(left) != 0 {
		t.Errorf("failed write left %v", left)
	}
}

// fullWriter is a stdout whose writes fail, as on a full disk.
type fullWriter struct{}

func (fullWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestPrintFailsAfterTheWrite: add and keygen -out print the new key's id
// after the ring file is written. When stdout failed (a full disk, a
// closed pipe) they said only "write /dev/stdout: ...", which reads as a
// failed command, and add run again added a second key. The error now
// says the file holds the key, naming it.
func TestPrintFailsAfterTheWrite(t *testing.T) {
	path := newRingFile(t)
	fresh := filepath.Join(t.TempDir(), "new.json")
	for _, args := range [][]string{{"add", "-ring", path}, {"add", "-ring", path, "-json"}, {"keygen", "-out", fresh}} {
		var stderr bytes.Buffer
		code := run(args, strings.NewReader(""), fullWriter{}, &stderr)
		ids := regexp.MustCompile(`holds the new key ([0-9a-f]{8}), but printing its id failed: no space left on device`).FindStringSubmatch(stderr.String())
		if code != 1 || ids == nil {
			t.Errorf("%v with stdout failing: exit %d, stderr %q; want exit 1 saying the file holds the new key", args, code, stderr.String())
			continue
		}
		if !loadRing(t, args[2]).Has(mustParseID(t, ids[1])) {
			t.Errorf("%v: %s does not hold the key %s the error names", args, args[2], ids[1])
		}
	}
}

// TestDirectorySyncFailureReported: a ring file is synced, renamed into
// place, and its directory synced so that the rename survives a crash.
// That last sync's error was dropped: with it failing (EIO from a failing
// disk; strace -e inject=fsync:error=EIO:when=2 reproduces it), add and
// keygen -out exited 0, and a crash could then bring back the ring
// without the key the fleet was being given. Such an error is now the
// command's, saying that the file holds the change; a directory the
// platform cannot sync (EINVAL, ENOTSUP) is still skipped.
func TestDirectorySyncFailureReported(t *testing.T) {
	path := newRingFile(t)
	for _, row := range []struct {
		err  error
		code int
	}{
		{syscall.EIO, 1},
		{syscall.EINVAL, 0},
		{syscall.ENOTSUP, 0},
	} {
		dirSync = func(d *os.File) error { return &fs.PathError{Op: "sync", Path: d.Name(), Err: row.err} }
		before := len(loadRing(t, path).Keys())
		res := cli(t, "", "add", "-ring", path)
		fresh := filepath.Join(t.TempDir(), "new.json")
		kg := cli(t, "", "keygen", "-out", fresh)
		dirSync = (*os.File).Sync
		if got := len(loadRing(t, path).Keys()); got != before+1 {
			t.Errorf("sync failing with %v: the ring holds %d keys, want %d: the rename is done either way", row.err, got, before+1)
		}
		for _, r := range []result{res, kg} {
			said := strings.Contains(r.stderr, "was written and holds the change, but syncing its directory failed") &&
				strings.Contains(r.stderr, row.err.Error()) && strings.Contains(r.stderr, "before running the command again")
			if r.code != row.code || said != (row.code == 1) {
				t.Errorf("directory sync failing with %v: exit %d, stderr %q; want exit %d", row.err, r.code, r.stderr, row.code)
			}
		}
	}
}

// TestWriteFailureSaysRingUnchanged: a ring file that could not be
// written was refused as "writing ring.json: write ring.json.lock: no
// space left on device" (a full disk, reproduced on a 8 KiB tmpfs), which
// does not say whether ring.json was left half written. It is left as it
// was, and the error now says so, with the fix for a full disk. The
// failure here is the rename, over a directory put in the ring's place
// while the command held the lock.
func TestWriteFailureSaysRingUnchanged(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
		if got := writeFix(&fs.PathError{Op: "write", Path: "ring.json.lock", Err: errno}); !strings.Contains(got, "free space") {
			t.Errorf("writeFix(%v) = %q, want the fix", errno, got)
		}
	}
	path := newRingFile(t)
	err := (&env{stderr: io.Discard}).replaceFile(path, func() ([]byte, error) {
		if err := os.Remove(path); err != nil {
			return nil, err
		}
		return []byte("{}"), os.Mkdir(path, 0o700)
	})
	if want := "; " + path + " is unchanged"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("replaceFile failing at the rename: %v, want it to say %q", err, want)
	}
}

// TestKeygenStdoutFailureSaysPartial: keygen > ring.json on a full disk
// (reproduced on an 8 KiB tmpfs) said only "write /dev/stdout: no space
// left on device", and left ring.json holding part of a ring. The error
// now says what stdout holds and the fix.
func TestKeygenStdoutFailureSaysPartial(t *testing.T) {
	var stderr bytes.Buffer
	code := run([]string{"keygen"}, strings.NewReader(""), fullWriter{}, &stderr)
	want := "cookiesession: printing the new ring to stdout failed: no space left on device; whatever stdout went to holds part of the ring at most, which no server loads: remove it"
	if code != 1 || !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("keygen with stdout failing: exit %d, stderr %q; want exit 1 and %q", code, stderr.String(), want)
	}
}

// TestLockFix: a ring whose directory the command may not write (a
// read-only mount, a directory owned by another user) was refused as
// "open ring.json.lock: permission denied" (or "read-only file system")
// alone, naming a file the operator never asked for, while the ring file
// itself may be writable. The error now says why the directory counts.
// (Root, as which tests may run, gets neither error, so the wording is
// checked for the errors os.OpenFile returns.)
func TestLockFix(t *testing.T) {
	for _, row := range []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: "ring.json.lock", Err: syscall.EROFS}, "change the ring where it comes from"},
		{&fs.PathError{Op: "open", Path: "ring.json.lock", Err: syscall.EACCES}, "needs write permission on the ring's directory, not only on the file"},
		{&fs.PathError{Op: "open", Path: "ring.json.lock", Err: syscall.ENOSPC}, "free space on its file system"},
		{&fs.PathError{Op: "open", Path: "ring.json.lock", Err: syscall.EEXIST}, ""},
	} {
		if got := lockFix(row.err); row.want == "" && got != "" || !strings.Contains(got, row.want) {
			t.Errorf("lockFix(%v) = %q, want it to say %q", row.err, got, row.want)
		}
	}
}

// TestCreateFix: keygen -out into a directory this user may not write,
// or on a read-only mount, said only "open new.json: permission denied"
// (or "read-only file system"). The error now names the directory and
// the fix. (Root gets neither error, so the wording is checked for the
// errors os.OpenFile returns.)
func TestCreateFix(t *testing.T) {
	for _, row := range []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: "/etc/app/new.json", Err: syscall.EROFS}, "/etc/app is on a read-only file system; write the ring where this user may"},
		{&fs.PathError{Op: "open", Path: "/etc/app/new.json", Err: syscall.EACCES}, "this user may not create files in /etc/app; name a file in a directory it may write"},
		{&fs.PathError{Op: "write", Path: "/etc/app/new.json", Err: syscall.ENOSPC}, "free space on its file system"},
		{&fs.PathError{Op: "open", Path: "/etc/app/new.json", Err: syscall.EINVAL}, ""},
	} {
		if got := createFix(row.err, "/etc/app"); row.want == "" && got != "" || !strings.Contains(got, row.want) {
			t.Errorf("createFix(%v) = %q, want it to say %q", row.err, got, row.want)
		}
	}
}

// TestWriteRefusesADirectory: keygen -force onto a directory noted that
// the directory's mode was changed and then failed at the rename, saying
// only "file exists". It is now refused first, saying what the path is.
func TestWriteRefusesADirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ring.json")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"keygen", "-out", dir}, {"keygen", "-force", "-out", dir}, {"add", "-ring", dir}} {
		res := cli(t, "", args...)
		if want := dir + " is a directory, not a regular file"; res.code != 1 || !strings.Contains(res.stderr, want) || strings.Contains(res.stderr, "note:") {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 saying %q and no note", args, res.code, res.stderr, want)
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Errorf("%v: the directory is gone (%v)", args, err)
		}
	}
}

func TestRewriteFollowsSymlink(t *testing.T) {
	path := newRingFile(t)
	link := filepath.Join(filepath.Dir(path), "current.json")
	if err := os.Symlink(filepath.Base(path), link); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "add", "-ring", link)
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("link replaced by a regular file: %v", err)
	}
	if n := len(loadRing(t, path).Keys()); n != 2 {
		t.Errorf("link target has %d keys, want 2", n)
	}
}

// TestWriteFollowsDanglingSymlink: a link made before the ring it names
// (ring.json -> keys/ring.json, the file not written yet) was replaced by
// keygen -force with a regular file, and keygen without -force said the
// file "already exists"; the ring never reached the link's target, which
// a server may read, and nothing said so. Both now write the target.
func TestWriteFollowsDanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "keys", "ring.json")
	for i, args := range [][]string{{"keygen", "-out"}, {"keygen", "-force", "-out"}} {
		os.Remove(target)
		link := filepath.Join(dir, []string{"new.json", "forced.json"}[i])
		if err := os.Symlink(filepath.Join("keys", "ring.json"), link); err != nil {
			t.Fatal(err)
		}
		res := cli(t, "", append(args, link)...)
		if fi, err := os.Lstat(link); res.code != 0 || err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%v through a dangling link: exit %d, stderr %q; the link is no longer one (%v)", args, res.code, res.stderr, err)
		}
		if n := len(loadRing(t, target).Keys()); n != 1 {
			t.Errorf("%v: the link's target has %d keys, want 1", args, n)
		}
	}
}

func TestCorruptRingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ring.json")
	os.WriteFile(path, []byte(`{"version":1,"primary":"1a2b3c4d","keys":[`), 0o600)
	commands := [][]string{
		{"list", "-ring", path},
		{"add", "-ring", path},
		{"promote", "-ring", path, "-id", "1a2b3c4d"},
		{"remove", "-ring", path, "-id", "1a2b3c4d"},
		{"inspect", "-ring", path, "-name", "session", "AAAA"},
	}
	for _, args := range commands {
		res := cli(t, "", args...)
		if res.code != 1 || !strings.HasPrefix(res.stderr, "cookiesession: parsing key ring") || !strings.Contains(res.stderr, path) {
			t.Errorf("%s on a corrupt file: %+v, want exit 1 with the parse error and path", args[0], res)
		}
		if res.stdout != "" {
			t.Errorf("%s on a corrupt file printed %q", args[0], res.stdout)
		}
	}
	res := cli(t, "", "list", "-ring", filepath.Join(t.TempDir(), "missing.json"))
	if res.code != 1 || !strings.Contains(res.stderr, "no such file") {
		t.Errorf("missing file: %+v", res)
	}
}

// TestHelp: help asked for, with -h, -help or --help before a command,
// after one or beside help, prints usage on stdout and exits 0, as Go's
// flag package does. "help -h" and "help --help" said unknown command
// "-h" and exited 2, and "help add -h" refused its -h as an extra word.
func TestHelp(t *testing.T) {
	for _, c := range commands() {
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "--help"}, {c.name, "-help"}, {"help", c.name}, {"help", c.name, "-h"}, {"help", "--help", c.name}} {
			res := cli(t, "", args...)
			if res.code != 0 || !strings.HasPrefix(res.stdout, "usage: cookiesession "+c.name) ||
				!strings.Contains(res.stdout, "Flags:") || res.stderr != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", args, res.code, res.stdout, res.stderr)
			}
		}
	}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-help"}, {"help"}, {"help", "-h"}, {"help", "--help"}, {"help", "help"}} {
		res := cli(t, "", args...)
		if res.code != 0 || !strings.HasPrefix(res.stdout, "usage: cookiesession COMMAND") || res.stderr != "" {
			t.Errorf("%v: %+v", args, res)
		}
		for _, c := range commands() {
			if !strings.Contains(res.stdout, "  "+c.name+" ") {
				t.Errorf("%v does not list %s", args, c.name)
			}
		}
	}
}

// TestHelpPlaceholdersMatchUsage: each flag that the usage line shows with
// a value (-max-chunks N) is listed under Flags: with that placeholder.
// inspect listed "-max-chunks int", the flag package's word for a flag
// whose help names no placeholder.
func TestHelpPlaceholdersMatchUsage(t *testing.T) {
	usageFlag := regexp.MustCompile(`\[(-[a-z-]+) ([A-Z0-9|-]+)\]|(-[a-z-]+) ([A-Z0-9]+)`)
	for _, c := range commands() {
		res := cli(t, "", c.name, "-h")
		usage, flags, _ := strings.Cut(res.stdout, "Flags:")
		line, _, _ := strings.Cut(usage, "\n")
		for _, m := range usageFlag.FindAllStringSubmatch(line, -1) {
			name, value := m[1]+m[3], m[2]+m[4]
			if i := strings.IndexByte(value, '|'); i >= 0 {
				value = value[:i] // -ring FILE|-
			}
			if !strings.Contains(flags, "\n  "+name+" "+value+"\n") {
				t.Errorf("%s -h: the usage line has %s %s, and Flags: does not:\n%s", c.name, name, value, flags)
			}
		}
	}
}

// TestEmptyEnvKeysSaysSo: COOKIESESSION_KEYS="$(cat ring.json)" of a file
// that cannot be read sets the variable empty, and list and inspect said
// "-ring is required when COOKIESESSION_KEYS is not set", as a server
// said "is not set", sending the operator to a line that sets it. Both now
// say it is empty, and exit 1 as for any other bad value.
func TestEmptyEnvKeysSaysSo(t *testing.T) {
	t.Setenv(envKeys, "")
	for _, args := range [][]string{{"list"}, {"inspect", "x"}} {
		res := cli(t, "", args...)
		if res.code != 1 || !strings.Contains(res.stderr, "cookiesession: COOKIESESSION_KEYS is set but empty") {
			t.Errorf("%v with COOKIESESSION_KEYS empty: exit %d, stderr %q", args, res.code, res.stderr)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Setenv(envKeys, "")
	os.Unsetenv(envKeys) // t.Setenv restores it afterwards
	path := newRingFile(t)
	tests := []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		// A flag before the command is named as one, not as an unknown command.
		{[]string{"-ring", path, "list"}, `"-ring" is a flag, not a command: flags follow the command's name (cookiesession COMMAND [flags]; commands: keygen, add, promote, remove, list, inspect)`},
		{[]string{"--version"}, `"--version" is a flag, not a command`},
		{[]string{"help", "help", "add"}, `help takes one command's name: unexpected argument "add" after "help"`},
		{[]string{"list", "-ring", path, "extra"}, `unexpected argument "extra"`},
		{[]string{"list", "-ring", path, "-bogus"}, "-bogus"},
		{[]string{"keygen", "stray"}, `unexpected argument "stray"`},
		{[]string{"add", "-ring"}, "needs an argument"},
		{[]string{"promote", "-ring", path}, "-id is required"},
		{[]string{"add", "-ring", "-"}, "-ring - (stdin) is for list and inspect, which only read a ring; add rewrites the ring's file"},
		{[]string{"remove", "-ring", "-", "-id", "1a2b3c4d"}, "remove rewrites the ring's file: name the file"},
		{[]string{"promote", "-ring", path, "-id", "xyz"}, "is not 8 lower-case hex digits"},
		{[]string{"promote", "-ring", path, "-id", "1A2B3C4D"}, "is not 8 lower-case hex digits: it has upper-case letters; write them in lower case"},
		// An id pasted with what came with it, or a fingerprint for the id,
		// was named only by its length.
		{[]string{"promote", "-ring", path, "-id", "1a2b3c4d\r"}, "key id of 9 characters is not 8 lower-case hex digits: it has a space or a line end around it (a CR, from a Windows line end): remove it"},
		{[]string{"promote", "-ring", path, "-id", " 1a2b3c4d"}, "it has a space or a line end around it"},
		{[]string{"promote", "-ring", path, "-id", `"1a2b3c4d"`}, "key id of 10 characters is not 8 lower-case hex digits: it is inside quotes that are part of it: remove them"},
		{[]string{"promote", "-ring", path, "-id", "0x1a2b3c4d"}, "key id of 10 characters is not 8 lower-case hex digits: it starts with 0x: write the 8 hex digits alone"},
		{[]string{"remove", "-ring", path, "-id", "d3abeb567fde"}, "key id of 12 characters is not 8 lower-case hex digits: it has 12 hex digits, as a key's fingerprint does: the id is the 8 digits of list's ID column"},
		{[]string{"remove", "-ring", path, "-id", "00000000"}, "is reserved"},
		{[]string{"inspect", "-ring", path, "-name", "", "x"}, "-name is required"},
		{[]string{"inspect", "-ring", "-"}, "-ring - reads the ring from stdin: give the token as an argument"},
		{[]string{"inspect", "-ring", "-", "-"}, "-ring - reads the ring from stdin"},
		{[]string{"list"}, "-ring is required when COOKIESESSION_KEYS is not set"},
		{[]string{"inspect", "x"}, "-ring is required when COOKIESESSION_KEYS is not set"},
		{[]string{"add", "-ring", path, "-promote-at", "2099-01-01T00:00:00Z", "-promote-in", "1h"}, "not both"},
		{[]string{"add", "-ring", path, "-promote-in", "-1h"}, "is not in the future"},
		{[]string{"inspect", "-ring", path, "-name", "s", "a", "b"}, `unexpected argument "b"`},
		{[]string{"inspect", "-ring", path, "-name", "bad name", "x"}, `Name "bad name" is not a cookie name`},
		{[]string{"inspect", "-ring", path, "-name", "s", "-max-age", "soon", "x"}, "-max-age"},
		// The Manager's message names its Options: the flags that set them
		// are named beside it.
		{[]string{"inspect", "-ring", path, "-max-chunks", "100", "x"}, "-max-chunks gives MaxChunks"},
		{[]string{"inspect", "-ring", path, "-max-lifetime", "1h", "x"}, "-max-age gives MaxAge, default 24h"},
	}
	for _, tt := range tests {
		res := cli(t, "", tt.args...)
		if res.code != 2 || !strings.Contains(res.stderr, tt.want) || !strings.Contains(res.stderr, "-h' for usage") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 mentioning %q", tt.args, res.code, res.stderr, tt.want)
		}
		if strings.Contains(res.stderr, "cookiesession: cookiesession:") {
			t.Errorf("%q: doubled prefix in %q", tt.args, res.stderr)
		}
	}
}

// sealer seals tokens for the cookie "session" with a ring, as a server
// would.
type sealer struct {
	ring  *cookiesession.KeyRing
	codec *cookiesession.Codec
}

func newSealer(t *testing.T, ring *cookiesession.KeyRing) sealer {
	t.Helper()
	codec, err := cookiesession.NewCodec(ring, cookiesession.CodecOptions{Name: "session"})
	if err != nil {
		t.Fatal(err)
	}
	return sealer{ring, codec}
}

// seal seals values (key, value pairs) as if sealed at sealedAt.
func (s sealer) seal(t *testing.T, sealedAt time.Time, kv ...any) (string, *cookiesession.Record) {
	t.Helper()
	rec := new(cookiesession.Record)
	for i := 0; i < len(kv); i += 2 {
		if err := rec.Values.Set(kv[i].(string), kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	token, err := s.codec.SealAt(rec, sealedAt)
	if err != nil {
		t.Fatal(err)
	}
	return token, rec
}

type inspected struct {
	ID         string    `json:"id"`
	Created    time.Time `json:"created"`
	Expires    time.Time `json:"expires"`
	KeyID      string    `json:"key_id"`
	KeyPrimary bool      `json:"key_primary"`
	Lifetime   *struct {
		MaxAge         int64 `json:"max_age_seconds"`
		IdleTimeout    int64 `json:"idle_timeout_seconds"`
		BrowserSession bool  `json:"browser_session"`
	} `json:"lifetime"`
	Values map[string]struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
		Go    string          `json:"go"`
		GoKey bool            `json:"go_key"`
	} `json:"values"`
}

func decodeInspection(t *testing.T, out string) inspected {
	t.Helper()
	var got inspected
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("inspect output %q: %v", out, err)
	}
	return got
}

func TestInspectValid(t *testing.T) {
	path := newRingFile(t)
	s := newSealer(t, loadRing(t, path))
	when := time.Date(2026, 3, 1, 12, 30, 0, 5, time.FixedZone("", 3600))
	token, rec := s.seal(t, time.Now(),
		"user_id", "u_8f3a2c", "n", 42, "n64", int64(-7), "u8", uint8(255), "ok", true,
		"raw", []byte{1, 2, 3}, "when", when, "ttl", 90*time.Minute, "tags", []string{"a", "b"},
		"attrs", map[string]string{"k": "v"}, "f", 1.5, "nan", math.NaN(), "doc", json.RawMessage(`{"x":[1]}`),
		"none", nil)
	want := map[string][2]string{
		"user_id": {"string", `"u_8f3a2c"`}, "n": {"int", "42"}, "n64": {"int64", "-7"}, "u8": {"uint8", "255"},
		"ok": {"bool", "true"}, "raw": {"[]byte", `"AQID"`}, "when": {"time.Time", `"2026-03-01T12:30:00.000000005+01:00"`},
		"ttl": {"time.Duration", `"1h30m0s"`}, "tags": {"[]string", `["a","b"]`}, "attrs": {"map[string]string", `{"k":"v"}`},
		"f": {"float64", "1.5"}, "nan": {"float64", `"NaN"`}, "doc": {"json.RawMessage", `{"x":[1]}`}, "none": {"nil", "null"},
	}
	inputs := []struct {
		name, stdin string
		args        []string
	}{
		{"argument", "", []string{token}},
		{"stdin", token + "\n", nil},
		{"dash", token, []string{"-"}},
		{"cookie header", "", []string{"theme=dark; session=" + token + "; other=1"}},
		{"pasted header line", "Cookie: a=b; session=" + token + "\r\n", []string{"-"}},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			res := cli(t, in.stdin, append([]string{"inspect", "-ring", path, "-name", "session", "-json"}, in.args...)...)
			if res.code != 0 || res.stderr != "" {
				t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
			}
			got := decodeInspection(t, res.stdout)
			if got.ID != rec.ID.String() || !got.Created.Equal(rec.Created) || !got.Expires.Equal(rec.Expires) ||
				got.KeyID != cookiesession.FormatKeyID(rec.KeyID) || !got.KeyPrimary {
				t.Errorf("metadata %+v, want id %s created %v expires %v key %08x primary", got, rec.ID, rec.Created, rec.Expires, rec.KeyID)
			}
			if len(got.Values) != len(want) {
				t.Errorf("%d values, want %d", len(got.Values), len(want))
			}
			for k, w := range want {
				g := got.Values[k]
				var value bytes.Buffer
				json.Compact(&value, g.Value) // the output is indented
				if g.Type != w[0] || value.String() != w[1] {
					t.Errorf("value %q = %s %s, want %s %s", k, g.Type, value.String(), w[0], w[1])
				}
			}
		})
	}
}

// TestInspectNotUTF8 checks that a value holding text that is not UTF-8
// (a Go string may hold any bytes) is shown byte for byte, as Go source
// spells it: -json printed U+FFFD for each such byte of a string, and a
// json.RawMessage's bytes as they were, which made the output invalid
// UTF-8 that jq and Python refuse.
func TestInspectNotUTF8(t *testing.T) {
	path := newRingFile(t)
	token, _ := newSealer(t, loadRing(t, path)).seal(t, time.Now(),
		"bin", "a\xffb", "doc", json.RawMessage("\"\xfe\""), "tags", []string{"ok", "\xc3"},
		"attrs", map[string]string{"k": "\x80"}, "plain", "é")
	want := map[string][2]string{
		"bin":   {"string", `"a\xffb"`},
		"doc":   {"json.RawMessage", `json.RawMessage("\"\xfe\"")`},
		"tags":  {"[]string", `[]string{"ok", "\xc3"}`},
		"attrs": {"map[string]string", `map[string]string{"k":"\x80"}`},
		"plain": {"string", ""},
	}
	out := mustCLI(t, "inspect", "-ring", path, "-json", token)
	if !utf8.ValidString(out) {
		t.Errorf("inspect -json printed invalid UTF-8:\n%s", out)
	}
	got := decodeInspection(t, out)
	for k, w := range want {
		if g := got.Values[k]; g.Type != w[0] || g.Go != w[1] {
			t.Errorf("value %q: type %s, go %q; want %s, %q", k, g.Type, g.Go, w[0], w[1])
		}
	}
	text := mustCLI(t, "inspect", "-ring", path, token)
	for k, w := range want {
		if w[1] == "" {
			w[1] = `"é"`
		}
		if line := `value "` + k + `"`; !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(line) + ` +` + regexp.QuoteMeta(w[0]) + ` +` + regexp.QuoteMeta(w[1]) + `$`).MatchString(text) {
			t.Errorf("inspect output lacks the line %s %s %s:\n%s", line, w[0], w[1], text)
		}
	}
}

// TestInspectKeyNotUTF8 checks that -json names a key that is not UTF-8
// as Go source spells it, marked go_key: encoding/json wrote U+FFFD for
// each byte that is not UTF-8, so "k\xfe" and "k\xff" got one name, and
// a reader kept one of the two values. A key that begins with a quote is
// spelled too, so that its text cannot be another key's name.
func TestInspectKeyNotUTF8(t *testing.T) {
	path := newRingFile(t)
	token, _ := newSealer(t, loadRing(t, path)).seal(t, time.Now(),
		"k\xfe", "a", "k\xff", "b", `"k\xfe"`, "c", "plain", "d")
	want := map[string][2]string{ // the name in -json: the value, and whether go_key is set
		`"k\xfe"`:      {`"a"`, "true"},
		`"k\xff"`:      {`"b"`, "true"},
		`"\"k\\xfe\""`: {`"c"`, "true"},
		"plain":        {`"d"`, "false"},
	}
	out := mustCLI(t, "inspect", "-ring", path, "-json", token)
	got := decodeInspection(t, out)
	if len(got.Values) != len(want) {
		t.Errorf("inspect -json gave %d values, want %d:\n%s", len(got.Values), len(want), out)
	}
	for name, w := range want {
		if g, ok := got.Values[name]; !ok || string(g.Value) != w[0] || strconv.FormatBool(g.GoKey) != w[1] {
			t.Errorf("value named %s: %s, go_key %t (present %t); want %s, go_key %s", name, g.Value, g.GoKey, ok, w[0], w[1])
		}
	}
	text := mustCLI(t, "inspect", "-ring", path, token)
	for name, w := range want {
		if w[1] == "false" {
			name = strconv.Quote(name)
		}
		if !regexp.MustCompile(`(?m)^value ` + regexp.QuoteMeta(name) + ` +string +` + regexp.QuoteMeta(w[0]) + `$`).MatchString(text) {
			t.Errorf("inspect output lacks the value %s:\n%s", name, text)
		}
	}
}

// TestInspectLongMaxAge checks that inspect opens the token of a service
// whose MaxAge passes the 400 days browsers keep a cookie, which such a
// service may set beside an IdleTimeout or BrowserSession: inspect has
// neither flag, and refused the -max-age with a fix it cannot take.
func TestInspectLongMaxAge(t *testing.T) {
	const day = 24 * time.Hour
	path := newRingFile(t)
	codec, err := cookiesession.NewCodec(loadRing(t, path), cookiesession.CodecOptions{Name: "session", MaxAge: 730 * day, IdleTimeout: 30 * day})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rec := &cookiesession.Record{Created: now.Add(-500 * day).Truncate(time.Second)}
	token, err := codec.SealAt(rec, now.Add(-day))
	if err != nil {
		t.Fatal(err)
	}
	res := cli(t, "", "inspect", "-ring", path, "-max-age", "17520h", "-json", token)
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want the session", res.code, res.stderr)
	}
	if got := decodeInspection(t, res.stdout); !got.Created.Equal(rec.Created) || !got.Expires.Equal(rec.Expires) {
		t.Errorf("created %v expires %v, want %v and %v", got.Created, got.Expires, rec.Created, rec.Expires)
	}
}

// A token sealed before a rotation opens under the now open-only key, and
// inspect says that a server would re-seal it.
// TestInspectRememberMe checks that inspect opens a session with a
// Lifetime of its own as a server with the same MaxLifetime does: past
// MaxAge, within its own MaxAge.
func TestInspectRememberMe(t *testing.T) {
	path := newRingFile(t)
	codec, err := cookiesession.NewCodec(loadRing(t, path), cookiesession.CodecOptions{Name: "session", MaxLifetime: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	rec := &cookiesession.Record{Lifetime: cookiesession.Lifetime{MaxAge: 30 * 24 * time.Hour}}
	if err := rec.Values.Set("user", "ada"); err != nil {
		t.Fatal(err)
	}
	sealed := time.Now().Add(-48 * time.Hour)
	token, err := codec.SealAt(rec, sealed)
	if err != nil {
		t.Fatal(err)
	}
	res := cli(t, "", "inspect", "-ring", path, "-max-lifetime", "720h", "-json", token)
	if res.code != 0 {
		t.Fatalf("inspect -max-lifetime 720h of a 2-day-old 30-day session: exit %d, stderr %q", res.code, res.stderr)
	}
	got := decodeInspection(t, res.stdout)
	if !got.Expires.Equal(rec.Created.Add(30 * 24 * time.Hour)) {
		t.Errorf("expires %v, want created + 30 days", got.Expires)
	}
	if l := got.Lifetime; l == nil || l.MaxAge != 30*24*3600 || l.IdleTimeout != 0 || l.BrowserSession {
		t.Errorf("lifetime %+v, want max_age_seconds 2592000, idle 0, persistent", l)
	}
	text := cli(t, "", "inspect", "-ring", path, "-max-lifetime", "720h", token).stdout
	if want := regexp.MustCompile(`(?m)^lifetime +own: max age 720h0m0s, idle timeout the service's, cookie persistent \(Max-Age\)$`); !want.MatchString(text) {
		t.Errorf("text output %q, want a line matching %s", text, want)
	}
	const note = "lifetime of its own (remember me) longer than -max-lifetime 24h0m0s allows; a service whose MaxLifetime allows it keeps it until "
	until := rec.Created.Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	if res := cli(t, "", "inspect", "-ring", path, token); res.code != 1 || !strings.Contains(res.stderr, "expired") || !strings.Contains(res.stderr, note+until) {
		t.Errorf("without -max-lifetime (the default bound is MaxAge): exit %d, stderr %q; want expired, with a note naming -max-lifetime and %s", res.code, res.stderr, until)
	}
	// Within -max-age, the expiry shown is cut short: the note says so.
	fresh := &cookiesession.Record{Lifetime: rec.Lifetime}
	young, err := codec.SealAt(fresh, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res := cli(t, "", "inspect", "-ring", path, young); res.code != 0 || !strings.Contains(res.stderr, note) {
		t.Errorf("an hour-old 30-day session without -max-lifetime: exit %d, stderr %q; want a note", res.code, res.stderr)
	}
	if res := cli(t, "", "inspect", "-ring", path, "-max-lifetime", "720h", young); res.code != 0 || res.stderr != "" {
		t.Errorf("with -max-lifetime 720h: exit %d, stderr %q; want no note", res.code, res.stderr)
	}
	// A session with no lifetime of its own gets no note when it expires.
	plain, _ := newSealer(t, loadRing(t, path)).seal(t, time.Now().Add(-48*time.Hour), "k", "v")
	if res := cli(t, "", "inspect", "-ring", path, plain); res.code != 1 || strings.Contains(res.stderr, "note") {
		t.Errorf("an expired 24h session: exit %d, stderr %q; want no note", res.code, res.stderr)
	}
	current, _ := newSealer(t, loadRing(t, path)).seal(t, time.Now(), "k", "v")
	if res := cli(t, "", "inspect", "-ring", path, "-json", current); res.code != 0 || decodeInspection(t, res.stdout).Lifetime != nil || strings.Contains(cli(t, "", "inspect", "-ring", path, current).stdout, "lifetime") {
		t.Errorf("a session on the service's defaults: exit %d, output %q; want no lifetime", res.code, res.stdout)
	}
}

// TestInspectNotesLongerMaxAge: a token sealed by a Codec of a longer
// MaxAge (a week-long magic link) carries its own deadline past what
// -max-age, 24h by default, allows. inspect showed it expired, or
// expiring a day after creation, with nothing to say that the service
// keeps it longer; a note now gives the token's deadline and -max-age.
func TestInspectNotesLongerMaxAge(t *testing.T) {
	path := newRingFile(t)
	week := 7 * 24 * time.Hour
	codec, err := cookiesession.NewCodec(loadRing(t, path), cookiesession.CodecOptions{Name: "session", MaxAge: week})
	if err != nil {
		t.Fatal(err)
	}
	const note = "the token's own deadline, %s, is later than -max-age 24h0m0s allows: it was sealed under a longer MaxAge"
	for _, age := range []time.Duration{time.Hour, 48 * time.Hour} {
		rec := &cookiesession.Record{}
		token, err := codec.SealAt(rec, time.Now().Add(-age))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(note, rec.Expires.UTC().Format(time.RFC3339))
		if res := cli(t, "", "inspect", "-ring", path, token); !strings.Contains(res.stderr, want) {
			t.Errorf("a %v-old week-long token: exit %d, stderr %q; want %q", age, res.code, res.stderr, want)
		}
		if res := cli(t, "", "inspect", "-ring", path, "-max-age", "168h", token); res.code != 0 || res.stderr != "" {
			t.Errorf("a %v-old week-long token, -max-age 168h: exit %d, stderr %q; want it opened, no note", age, res.code, res.stderr)
		}
	}
}

func TestInspectOpenOnlyKey(t *testing.T) {
	path := newRingFile(t)
	token, _ := newSealer(t, loadRing(t, path)).seal(t, time.Now(), "k", "v")
	added := strings.TrimSpace(mustCLI(t, "add", "-ring", path))
	mustCLI(t, "promote", "-ring", path, "-id", added)
	got := decodeInspection(t, mustCLI(t, "inspect", "-ring", path, "-json", token))
	if got.KeyPrimary || got.KeyID == added {
		t.Errorf("key_id %s key_primary %v, want the old key, not primary", got.KeyID, got.KeyPrimary)
	}
}

// TestInspectIncomingKey checks that a token under a key due to become
// the primary within the 60 s servers allow for skew is not said to be
// re-sealed under the primary: servers keep it under its key.
func TestInspectIncomingKey(t *testing.T) {
	path := newRingFile(t)
	old, _ := newSealer(t, loadRing(t, path)).seal(t, time.Now(), "k", "v")
	// add refuses a promotion so near (TestAddRefusesNearPromotion): the
	// ring is written as a hand-made schedule would be.
	key, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	scheduled := loadRing(t, path)
	if err := scheduled.AddScheduled(key, time.Now().Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	writeRing(t, path, scheduled)
	id, added := key.ID(), cookiesession.FormatKeyID(key.ID())
	ahead := loadRing(t, path) // an instance whose clock passed promote_at
	if err := ahead.Promote(id); err != nil {
		t.Fatal(err)
	}
	token, _ := newSealer(t, ahead).seal(t, time.Now(), "k", "v")
	if out := mustCLI(t, "inspect", "-ring", path, token); !strings.Contains(out, added+" (scheduled to seal within 60 s: a server keeps the token under it)") {
		t.Errorf("a token under the incoming key:\n%s", out)
	}
	if out := mustCLI(t, "inspect", "-ring", path, old); !strings.Contains(out, "(primary)") {
		t.Errorf("a token under the primary:\n%s", out)
	}
}

// TestInspectReadsSetCookieAndJar: a session copied as the response's
// Set-Cookie lines (a browser's network panel, curl -D), or given as curl's
// cookie jar (curl -c jar.txt, as README's inspect example makes one), was
// refused as a token "with a line break (a terminal that wrapped it?)",
// or, one Set-Cookie line, as holding no cookie named session (found:
// "Set-Cookie: session", "Max-Age", ...). inspect now reads the cookies of
// either, the chunks of a session over several included.
func TestInspectReadsSetCookieAndJar(t *testing.T) {
	path := newRingFile(t)
	ring := loadRing(t, path)
	m, err := cookiesession.New(ring, cookiesession.Options{MaxChunks: 2, DisableSecure: true})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 3000)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := m.FromContext(r.Context())
		if err := s.Set("k", "v"); err != nil {
			t.Error(err)
		}
		if err := s.Set("filler", big); err != nil {
			t.Error(err)
		}
		w.WriteHeader(http.StatusNoContent)
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil))
	lines := rec.Result().Header.Values("Set-Cookie")
	if len(lines) != 2 {
		t.Fatalf("Set-Cookie lines %q, want two chunks", lines)
	}
	var setCookie, jar strings.Builder
	jar.WriteString("# Netscape HTTP Cookie File\n# https://curl.se/docs/http-cookies.html\n# This file was generated by libcurl! Edit at your own risk.\n\n")
	jar.WriteString("127.0.0.1\tFALSE\t/\tFALSE\t0\ttheme\tdark\n")
	for _, line := range lines {
		setCookie.WriteString("set-cookie: " + line + "\r\n")
		pair, _, _ := strings.Cut(line, ";")
		name, value, _ := strings.Cut(pair, "=")
		jar.WriteString("#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t1893456000\t" + name + "\t" + value + "\n")
	}
	for name, input := range map[string]string{
		"Set-Cookie lines":    setCookie.String(),
		"one Set-Cookie line": "Set-Cookie: " + lines[0],
		"curl's cookie jar":   jar.String(),
		// curl -s -D - -o /dev/null URL, or a network panel's raw
		// headers: the status line and the other headers around them,
		// after a redirect's block.
		"curl -D's header block": "HTTP/1.1 302 Found\r\nLocation: /home\r\n\r\nHTTP/2 204\r\ndate: Thu, 03 Dec 2026 14:00:00 GMT\r\n" + setCookie.String() + "cache-control: no-store\r\nVary: Cookie\r\n\r\n",
	} {
		res := cli(t, input, "inspect", "-ring", path, "-max-chunks", "2", "-json", "-")
		if name == "one Set-Cookie line" {
			// The second chunk is missing: refused as a server refuses it,
			// not for holding no session cookie.
			if res.code != 1 || strings.Contains(res.stderr, "no cookie named") || strings.Contains(res.stderr, "line break") {
				t.Errorf("%s: exit %d, stderr %q; want the chunk's refusal", name, res.code, res.stderr)
			}
			continue
		}
		var got inspected
		if res.code != 0 || json.Unmarshal([]byte(res.stdout), &got) != nil || string(got.Values["k"].Value) != `"v"` {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want the session", name, res.code, res.stdout, res.stderr)
		}
	}
	// A jar without the session's cookie names the cookies it holds.
	res := cli(t, "127.0.0.1\tFALSE\t/\tFALSE\t0\ttheme\tdark\n", "inspect", "-ring", path, "-")
	if res.code != 1 || !strings.Contains(res.stderr, `no cookie named "session" in the input (found: "theme")`) {
		t.Errorf("a jar without the session: exit %d, stderr %q", res.code, res.stderr)
	}
}

// TestInspectTrimsWhatServersTrim: inspect trims space, tab, CR and LF
// around its input, what a server trims around a cookie (FORMAT.md
// section 5, step 1), and nothing else: a token with a vertical tab, a
// form feed or a no-break space around it fails as it fails at a server,
// with a note that names the character.
func TestInspectTrimsWhatServersTrim(t *testing.T) {
	path := newRingFile(t)
	ring := loadRing(t, path)
	good, _ := newSealer(t, ring).seal(t, time.Now(), "k", "v")
	m, err := cookiesession.New(ring, cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, input, note string // note "": it opens
	}{
		{"space, tab, CR and LF", " \t" + good + " \r\n", ""},
		{"Cookie: and spaces", "Cookie: \tsession=" + good + "\n", ""},
		{"vertical tab", "\v" + good, "U+000B"},
		{"form feed", good + "\f", "U+000C"},
		{"no-break space", "\u00a0" + good + "\n", "U+00A0"},
		{"next line", good + "\u0085", "U+0085"},
		{"no-break space after Cookie:", "Cookie:\u00a0session=" + good, "U+00A0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := cli(t, tt.input, "inspect", "-ring", path, "-name", "session", "-")
			if opens := tt.note == ""; (res.code == 0) != opens {
				t.Fatalf("exit %d, stderr %q; want it opened: %v", res.code, res.stderr, opens)
			}
			if tt.note == "" {
				return
			}
			if want := "begins or ends with " + tt.note; !strings.Contains(res.stderr, want) {
				t.Errorf("stderr %q, want a note saying %q", res.stderr, want)
			}
			// A server that gets the same cookie refuses it too.
			header := strings.TrimPrefix(strings.Trim(tt.input, " \t\r\n"), "Cookie:")
			if !strings.Contains(header, "=") {
				header = "session=" + header
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", header)
			if s, err := m.Load(r); err == nil && !s.IsNew() {
				t.Errorf("a server opened Cookie %q, which inspect refused", header)
			}
		})
	}
}

func TestInspectRefused(t *testing.T) {
	path := newRingFile(t)
	ring := loadRing(t, path)
	s := newSealer(t, ring)
	good, _ := s.seal(t, time.Now(), "k", "v")

	otherKey, _ := cookiesession.GenerateKey()
	otherRing, _ := cookiesession.NewKeyRing(otherKey)
	foreign, _ := newSealer(t, otherRing).seal(t, time.Now(), "k", "v")
	expired, _ := s.seal(t, time.Now().Add(-48*time.Hour), "k", "v")
	twoHoursOld, _ := s.seal(t, time.Now().Add(-2*time.Hour), "k", "v")
	// Replace a character near the end with another base64url character
	// (an XOR could leave the alphabet, which fails earlier, as bad
	// encoding): the bytes change, so authentication must fail.
	flipped := []byte(good)
	if flipped[len(flipped)-3] == 'A' {
		flipped[len(flipped)-3] = 'B'
	} else {
		flipped[len(flipped)-3] = 'A'
	}

	tests := []struct {
		name  string
		args  []string
		input string
		want  string
	}{
		{"unknown key", nil, foreign, "cookiesession: unknown key id " + cookiesession.FormatKeyID(otherKey.ID()) + "\n"},
		{"expired", nil, expired, "cookiesession: session expired at "},
		{"shorter max-age", []string{"-max-age", "1h"}, twoHoursOld, "cookiesession: session expired at "},
		{"tampered", nil, string(flipped), "cookiesession: authentication failed\n"},
		{"other cookie name", []string{"-name", "other"}, "other=" + good, "cookiesession: authentication failed\n"},
		{"bad encoding", nil, good[:100] + "*" + good[101:], "cookiesession: bad encoding: illegal base64 data at input byte 100"},
		{"no such cookie", nil, "theme=dark; sid=" + good, `no cookie named "session" in the input (found: "theme", "sid")`},
		{"empty input", nil, "  \n", "no token given"},
		{"empty cookie", nil, "a=b; session=; c=d", "token of 0 bytes is too short to be valid"},
		// Values net/http's parser drops, which the Manager reads and
		// refuses (FORMAT.md section 5, step 1): the reason is what a
		// server logs, not that there is no such cookie.
		{"lone quote", nil, `a=b; session="` + good, "cookiesession: bad encoding: illegal base64 data at input byte 0"},
		{"tab in value", nil, "a=b; session=\t" + good, "cookiesession: bad encoding: illegal base64 data at input byte 0"},
		// A token copied from a terminal that wrapped it: without the
		// line break named, net/http drops the cookie and the message
		// says there is none.
		{"wrapped token", nil, good[:100] + "\n" + good[100:], "the input holds a line break"},
		{"wrapped header", nil, "theme=dark; session=" + good[:100] + "\r\n" + good[100:], "the input holds a line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"inspect", "-ring", path}, tt.args...) // -name session by default
			res := cli(t, tt.input, append(args, "-")...)
			if res.code != 1 || !strings.Contains(res.stderr, tt.want) || res.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", res.code, res.stdout, res.stderr, tt.want)
			}
			// An authentication failure is explained once, in a note
			// before the reason; no other refusal gets that note.
			const authNote = `a token sealed for a cookie name other than "session" (-name)`
			isAuth := strings.Contains(tt.want, "authentication failed")
			if strings.Contains(strings.ReplaceAll(res.stderr, `"other"`, `"session"`), authNote) != isAuth {
				t.Errorf("stderr %q: note on -name present = %v, want %v", res.stderr, !isAuth, isAuth)
			}
			// It names the fingerprint of the ring's key of that id, to
			// compare with the ring of the instance that set the cookie.
			var fingerprint string // the primary's, which sealed the tokens
			for _, k := range ring.Keys() {
				if k.Primary {
					fingerprint = k.Fingerprint
				}
			}
			if strings.Contains(res.stderr, "has fingerprint "+fingerprint+": compare it with the FINGERPRINT") != isAuth {
				t.Errorf("stderr %q: note on the fingerprint present = %v, want %v", res.stderr, !isAuth, isAuth)
			}
		})
	}
	if res := cli(t, "", "inspect", "-ring", path, "-name", "session", "-max-age", "72h", expired); res.code != 1 {
		t.Errorf("a token past its own deadline opened with a longer -max-age: %+v", res)
	}
}

// chunkedCookies saves a session too large for one cookie through a Manager
// and returns the Set-Cookie pairs it wrote, and the session's values.
func chunkedCookies(t *testing.T, ring *cookiesession.KeyRing, name string, maxChunks int) ([]*http.Cookie, string) {
	t.Helper()
	m, err := cookiesession.New(ring, cookiesession.Options{Name: name, MaxChunks: maxChunks})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := m.Load(httptest.NewRequest(http.MethodGet, "/", nil))
	big := strings.Repeat("0123456789abcdef", 400) // 6400 bytes: two cookies at least
	if err := s.Set("big", big); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := m.Save(rec, httptest.NewRequest(http.MethodGet, "/", nil), s); err != nil {
		t.Fatal(err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) < 2 {
		t.Fatalf("Save wrote %d cookies, want chunks", len(cookies))
	}
	return cookies, big
}

func TestInspectChunkedCookieHeader(t *testing.T) {
	path := newRingFile(t)
	cookies, big := chunkedCookies(t, loadRing(t, path), "sess", 3)
	pairs := []string{"theme=dark"}
	for _, c := range slices.Backward(cookies) { // shuffled: chunks last to first
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	header := strings.Join(pairs, "; ")

	out := mustCLI(t, "inspect", "-ring", path, "-name", "sess", "-max-chunks", "3", "-json", header)
	if v := decodeInspection(t, out).Values["big"]; v.Type != "string" || string(v.Value) != `"`+big+`"` {
		t.Errorf("big = %s %.40s..., want the stored string", v.Type, v.Value)
	}

	res := cli(t, "", "inspect", "-ring", path, "-name", "sess", header)
	if res.code != 1 || !strings.Contains(res.stderr, `cookie "sess.1", beyond -max-chunks 1`) {
		t.Errorf("chunks with -max-chunks 1: %+v, want exit 1 and a note", res)
	}
	missing := strings.Replace(header, "sess=", "x=", 1)
	res = cli(t, "", "inspect", "-ring", path, "-name", "sess", "-max-chunks", "3", missing)
	if res.code != 1 || !strings.Contains(res.stderr, `no cookie named "sess"`) {
		t.Errorf("header without the first chunk: %+v", res)
	}
}

// TestInspectFirstChunkOnly checks the note for a bare token that fills a
// whole cookie: the first chunk of a split session, copied alone.
func TestInspectFirstChunkOnly(t *testing.T) {
	path := newRingFile(t)
	cookies, _ := chunkedCookies(t, loadRing(t, path), "session", 3)
	first := cookies[0]
	if first.Name != "session" || len(first.Name)+len(first.Value) != 4096 {
		t.Fatalf("first cookie %s of %d bytes, want session filled to 4096", first.Name, len(first.Name)+len(first.Value))
	}
	const note = `cookie "session" is 4096 bytes, as much as one cookie holds: it is likely the first chunk`
	for _, maxChunks := range []string{"1", "3"} {
		res := cli(t, "", "inspect", "-ring", path, "-max-chunks", maxChunks, first.Value)
		if res.code != 1 || !strings.Contains(res.stderr, note) {
			t.Errorf("-max-chunks %s, first chunk alone: exit %d, stderr %q; want exit 1 and the note", maxChunks, res.code, res.stderr)
		}
	}
	header := first.Name + "=" + first.Value + "; " + cookies[1].Name + "=" + cookies[1].Value
	if len(cookies) == 2 {
		if res := cli(t, "", "inspect", "-ring", path, "-max-chunks", "3", header); res.code != 0 || res.stderr != "" {
			t.Errorf("the whole header: exit %d, stderr %q; want it opened without a note", res.code, res.stderr)
		}
	}
}

// TestEmptyPathFlagsRefused checks that a path flag given empty, as a
// script's unset variable gives it, is refused rather than read as absent:
// list and inspect would read $COOKIESESSION_KEYS instead of the file
// meant, and keygen would print the secrets.
func TestEmptyPathFlagsRefused(t *testing.T) {
	path := newRingFile(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envKeys, string(data))
	t.Chdir(t.TempDir()) // where keygen -out - would leave its file
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "-ring", ""}, "-ring is empty; omit it to read $COOKIESESSION_KEYS"},
		{[]string{"inspect", "-ring", "", "x"}, "-ring is empty"},
		{[]string{"keygen", "-out", ""}, "-out is empty; omit -out to print the ring to stdout"},
		{[]string{"keygen", "-out=", "-json"}, "-out is empty"},
		{[]string{"keygen", "-out", "-"}, `would write a file named "-"`},
	} {
		res := cli(t, "", tt.args...)
		if res.code != 2 || res.stdout != "" || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2, nothing printed, and %q", tt.args, res.code, res.stdout, res.stderr, tt.want)
		}
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error(`keygen -out - created a file named "-"`)
	}
}

// TestRingSources reads one ring through -ring FILE, -ring - (stdin) and
// COOKIESESSION_KEYS, with list and inspect: each prints the same.
func TestRingSources(t *testing.T) {
	path := newRingFile(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := newSealer(t, loadRing(t, path)).seal(t, time.Now(), "k", "v")
	t.Setenv(envKeys, "")
	want := map[string]string{
		"list":    mustCLI(t, "list", "-ring", path, "-json"),
		"inspect": mustCLI(t, "inspect", "-ring", path, token),
	}
	for _, source := range []struct {
		name  string
		args  []string
		stdin string
		env   string
	}{
		{"stdin", []string{"-ring", "-"}, string(data), ""},
		{"env", nil, "", string(data)},
		{"flag beats env", []string{"-ring", path}, "", "not a ring"},
	} {
		t.Setenv(envKeys, source.env)
		for cmd, args := range map[string][]string{"list": {"-json"}, "inspect": {token}} {
			res := cli(t, source.stdin, append(append([]string{cmd}, source.args...), args...)...)
			if res.code != 0 || res.stdout != want[cmd] {
				t.Errorf("%s from %s: exit %d, stdout %q, stderr %q; want %q", cmd, source.name, res.code, res.stdout, res.stderr, want[cmd])
			}
		}
	}
	t.Setenv(envKeys, `{"version":1}`)
	for _, args := range [][]string{{"list"}, {"inspect", token}} {
		res := cli(t, "", args...)
		if res.code != 1 || !strings.Contains(res.stderr, "(from COOKIESESSION_KEYS)") {
			t.Errorf("%s with a bad env ring: %+v, want exit 1 naming the variable", args[0], res)
		}
	}
	if res := cli(t, `{"version":1}`, "list", "-ring", "-"); res.code != 1 || !strings.Contains(res.stderr, "(from stdin)") {
		t.Errorf("list with a bad ring on stdin: %+v, want exit 1 naming stdin", res)
	}
}

// TestRingStdinWrapped: a secret manager's response piped whole (aws
// secretsmanager get-secret-value ... | cookiesession list -ring -), or
// the ring as a JSON string or in base64 twice, got the parser's first
// complaint ("the key ring has an unknown member (of 3 bytes)"), which
// named neither the wrapping nor the fix. list and inspect now name both,
// with stdin as the source, and never a secret.
func TestRingStdinWrapped(t *testing.T) {
	path := newRingFile(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := newSealer(t, loadRing(t, path)).seal(t, time.Now(), "k", "v")
	asString, _ := json.Marshal(string(data))
	var ring struct{ Keys []struct{ Secret string } }
	if err := json.Unmarshal(data, &ring); err != nil || len(ring.Keys) == 0 {
		t.Fatalf("the ring file: %v", err)
	}
	encoded := base64.StdEncoding.EncodeToString(data)
	for _, row := range []struct{ name, stdin, want string }{
		{"aws secretsmanager get-secret-value", `{"ARN":"arn:aws:secretsmanager:eu-west-1:1:secret:ring","Name":"ring","SecretString":` + string(asString) + `,"VersionStages":["AWSCURRENT"]}` + "\n",
			"holds the key ring as the value of .SecretString in a JSON document (a secret manager's response, such as aws secretsmanager get-secret-value, or a key/value secret): pass that value alone (jq -r '.SecretString'"},
		{"jq without -r", string(asString) + "\n", "holds the key ring inside quotes that are part of the value (a JSON string: jq without -r"},
		{"base64 twice", base64.StdEncoding.EncodeToString([]byte(encoded)) + "\n", "holds the key ring encoded in base64 twice: decode it twice and pass the JSON text (base64 -d | base64 -d)"},
	} {
		for _, args := range [][]string{{"list", "-ring", "-"}, {"inspect", "-ring", "-", token}} {
			res := cli(t, row.stdin, args...)
			if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, "cookiesession: parsing key ring: the text "+row.want) || !strings.Contains(res.stderr, "(from stdin)") {
				t.Errorf("%s | %s: exit %d, stdout %q, stderr %q; want exit 1 and %q from stdin", row.name, args[0], res.code, res.stdout, res.stderr, row.want)
			}
			for _, k := range ring.Keys {
				if strings.Contains(res.stderr, k.Secret) || strings.Contains(res.stderr, k.Secret[:16]) {
					t.Errorf("%s | %s: stderr shows a secret: %q", row.name, args[0], res.stderr)
				}
			}
		}
	}
}

// TestInspectText checks the default, human output and that -name
// defaults to "session".
func TestInspectText(t *testing.T) {
	path := newRingFile(t)
	ring := loadRing(t, path)
	token, rec := newSealer(t, ring).seal(t, time.Now(), "user_id", "u_8f3a2c", "n", 42)
	out := mustCLI(t, "inspect", "-ring", path, token)
	for _, line := range []string{
		`^id +` + rec.ID.String() + `$`,
		`^created +` + regexp.QuoteMeta(rec.Created.UTC().Format(time.RFC3339)) + `$`,
		`^expires +` + regexp.QuoteMeta(rec.Expires.UTC().Format(time.RFC3339)) + `$`,
		`^key +` + cookiesession.FormatKeyID(rec.KeyID) + ` \(primary\)$`,
		`^value "n" +int +42$`,
		`^value "user_id" +string +"u_8f3a2c"$`,
	} {
		if !regexp.MustCompile(`(?m)` + line).MatchString(out) {
			t.Errorf("inspect output lacks a line %s:\n%s", line, out)
		}
	}
}

// TestKeygenOutPrintsID checks that keygen -out names the key it wrote,
// as a line or, with -json, as an object.
func TestKeygenOutPrintsID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ring.json")
	out := mustCLI(t, "keygen", "-out", path)
	if !keyIDLine.MatchString(out) || strings.TrimSpace(out) != primaryOf(t, listJSON(t, path)) {
		t.Errorf("keygen -out printed %q; the file's primary is %s", out, primaryOf(t, listJSON(t, path)))
	}
	var got newKeyOutput
	out = mustCLI(t, "keygen", "-out", path, "-force", "-json")
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.ID != primaryOf(t, listJSON(t, path)) || got.PromoteAt != nil {
		t.Errorf("keygen -out -json printed %q (%v); want the file's primary id", out, err)
	}
	if out := mustCLI(t, "keygen", "-json"); !strings.Contains(out, `"secret"`) {
		t.Errorf("keygen -json without -out printed %q, want the ring", out)
	}
}

// TestAddPromoteIn schedules a promotion relative to now and prints it as
// JSON.
func TestAddPromoteIn(t *testing.T) {
	path := newRingFile(t)
	before := time.Now()
	out := mustCLI(t, "add", "-ring", path, "-promote-in", "1h", "-json")
	after := time.Now()
	var got newKeyOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.PromoteAt == nil {
		t.Fatalf("add -json printed %q: %v", out, err)
	}
	low, high := before.Add(time.Hour).Truncate(time.Second), after.Add(time.Hour)
	if got.PromoteAt.Before(low) || got.PromoteAt.After(high) {
		t.Errorf("promote_at %v, want between %v and %v", got.PromoteAt, low, high)
	}
	keys := listJSON(t, path)
	if len(keys) != 2 || keys[1].ID != got.ID || keys[1].State != "scheduled" || !keys[1].PromoteAt.Equal(*got.PromoteAt) {
		t.Errorf("list = %+v, want %s scheduled at %v", keys, got.ID, got.PromoteAt)
	}
}

// TestEveryPrintingCommandHasJSON runs each command that prints with -json
// and checks that stdout is one JSON value.
func TestEveryPrintingCommandHasJSON(t *testing.T) {
	path := newRingFile(t)
	token, _ := newSealer(t, loadRing(t, path)).seal(t, time.Now(), "k", "v")
	for _, args := range [][]string{
		{"keygen", "-json"},
		{"keygen", "-json", "-out", filepath.Join(t.TempDir(), "other.json")},
		{"add", "-json", "-ring", path},
		{"list", "-json", "-ring", path},
		{"inspect", "-json", "-ring", path, token},
	} {
		out := mustCLI(t, args...)
		if !json.Valid([]byte(out)) {
			t.Errorf("%v printed %q, not JSON", args, out)
		}
	}
}

// TestRingErrorsPrefixedOnce reads a ring with a bad secret from each
// source: 6 bytes, or 32 zero bytes (a placeholder pasted in). Every
// command that reads a ring exits 1 with the package's message, prefixed
// "cookiesession:" once, and names the fix where there is one; add writes
// no new key into the ring.
func TestRingErrorsPrefixedOnce(t *testing.T) {
	for _, c := range []struct{ secret, says, fix string }{
		{"AAAAAAAA", "cookiesession: key 11111111: secret is not 32 bytes", ""},
		{base64.StdEncoding.EncodeToString(make([]byte, 32)), "cookiesession: key 11111111: secret is all zero bytes", "cookiesession keygen"},
	} {
		doc := `{"version":1,"primary":"11111111","keys":[{"id":"11111111","secret":"` + c.secret + `"}]}`
		path := filepath.Join(t.TempDir(), "ring.json")
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv(envKeys, doc)
		for _, run := range []result{
			cli(t, "", "list", "-ring", path),
			cli(t, doc, "list", "-ring", "-"),
			cli(t, "", "list"),
			cli(t, "", "add", "-ring", path),
			cli(t, "", "promote", "-ring", path, "-id", "11111111"),
			cli(t, "", "inspect", "AAAA"),
		} {
			if run.code != 1 || run.stdout != "" || strings.Count(run.stderr, "cookiesession:") != 1 ||
				!strings.HasPrefix(run.stderr, c.says) || !strings.Contains(run.stderr, c.fix) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and one prefixed line %q naming %q", run.code, run.stdout, run.stderr, c.says, c.fix)
			}
		}
		if data, err := os.ReadFile(path); err != nil || string(data) != doc {
			t.Errorf("the ring file is now %q, %v; want it unchanged", data, err)
		}
	}
}

// TestConcurrentEditsLoseNothing runs adds and a promote at once on one
// ring, as a cron job and an operator might. Each either succeeds, and
// its change is in the final ring, or fails saying the ring is being
// changed: before the lock, both loaded the old ring and the later rename
// dropped the other's key without a word.
func TestConcurrentEditsLoseNothing(t *testing.T) {
	path := newRingFile(t)
	first := primaryOf(t, listJSON(t, path))
	const adds = 8
	results := make(chan result, adds+1)
	start := make(chan struct{})
	for i := range adds + 1 {
		go func() {
			<-start
			args := []string{"add", "-ring", path}
			if i == adds {
				args = []string{"promote", "-ring", path, "-id", first}
			}
			var stdout, stderr bytes.Buffer
			results <- result{run(args, strings.NewReader(""), &stdout, &stderr), stdout.String(), stderr.String()}
		}()
	}
	close(start)
	var added []string
	busy := 0
	for range adds + 1 {
		res := <-results
		switch {
		case res.code == 0:
			if id := strings.TrimSpace(res.stdout); id != "" {
				added = append(added, id)
			}
		case strings.Contains(res.stderr, "is being changed by another"), strings.Contains(res.stderr, "is being changed by other"):
			busy++
		default:
			t.Errorf("exit %d, stderr %q", res.code, res.stderr)
		}
	}
	ring := loadRing(t, path)
	for _, id := range added {
		if !ring.Has(mustParseID(t, id)) {
			t.Errorf("key %s was reported added but is not in the ring", id)
		}
	}
	if n := len(ring.Keys()); n != len(added)+1 {
		t.Errorf("ring holds %d keys; want the first and the %d reported added", n, len(added))
	}
	if left := tempLeftovers(t, path); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
	t.Logf("%d adds succeeded, %d refused as busy", len(added), busy)
}

// TestKilledWhileHoldingLock kills (SIGKILL on Unix) a process that
// holds a ring file's lock, as a command killed between taking the lock
// and writing the ring: the next add and promote neither wait for ever
// nor go ahead, but fail at once with the lock file's name and the fix,
// and run once it is removed.
func TestKilledWhileHoldingLock(t *testing.T) {
	defer func(wait time.Duration) { lockWait = wait }(lockWait)
	lockWait = 200 * time.Millisecond
	path := newRingFile(t)
	before, _ := os.ReadFile(path)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	holder := exec.Command(exe, "-test.run=^$")
	holder.Env = append(os.Environ(), holdLockEnv+"="+path)
	stdin, _ := holder.StdinPipe() // closed when the test ends: the holder then exits
	defer stdin.Close()
	stdout, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		holder.Process.Kill()
		t.Fatalf("the holder said %q (%v), want locked", line, err)
	}
	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := holder.Wait(); err == nil {
		t.Fatal("the holder exited by itself")
	}
	lock := path + ".lock"
	for _, args := range [][]string{{"add", "-ring", path}, {"promote", "-ring", path, "-id", primaryOf(t, listJSON(t, path))}} {
		start := time.Now()
		res := cli(t, "", args...)
		if want := "remove " + lock + " and run again"; res.code != 1 || !strings.Contains(res.stderr, want) {
			t.Errorf("%v after a command was killed holding the lock: exit %d, stderr %q; want %q", args, res.code, res.stderr, want)
		}
		if took := time.Since(start); took > 10*lockWait {
			t.Errorf("%v took %v to give up, with lockWait %v", args, took, lockWait)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Error("the ring changed under the killed command's lock")
	}
	if err := os.Remove(lock); err != nil {
		t.Fatalf("the killed command's lock: %v", err)
	}
	mustCLI(t, "add", "-ring", path)
}

// TestStaleLockRefused checks that a lock left by a killed command stops
// an edit with a message naming the file to remove, and leaves the ring
// and the lock alone.
func TestStaleLockRefused(t *testing.T) {
	defer func(wait time.Duration) { lockWait = wait }(lockWait)
	lockWait = 20 * time.Millisecond
	path := newRingFile(t)
	before, _ := os.ReadFile(path)
	lock := path + ".lock"
	if err := os.WriteFile(lock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A lock that other commands keep taking, one after another, is at
	// work: the edit says to wait. A second: on a loaded machine the
	// goroutine that takes it went unscheduled for all of 300ms.
	lockWait = time.Second
	done := make(chan struct{})
	taking := make(chan struct{})
	go func() {
		defer close(taking)
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			// Another command's lock, in place of the last: a rename keeps
			// the name taken throughout.
			if err := os.WriteFile(lock+".next", nil, 0o600); err != nil || os.Rename(lock+".next", lock) != nil {
				t.Error("taking the lock again failed")
				return
			}
		}
	}()
	res := cli(t, "", "add", "-ring", path)
	close(done)
	<-taking
	if res.code != 1 || !strings.Contains(res.stderr, "run again when they are done") {
		t.Errorf("add under a lock others keep taking: exit %d, stderr %q; want to be told to run again later", res.code, res.stderr)
	}
	lockWait = 20 * time.Millisecond
	// A lock that stays as it is was left by a command killed while it
	// held it, whatever its time says: a clock set back since, or a file
	// server's clock ahead, gives it one in the future.
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(lock, future, future); err != nil {
		t.Fatal(err)
	}
	if res := cli(t, "", "add", "-ring", path); res.code != 1 || !strings.Contains(res.stderr, "remove "+lock+" and run again") {
		t.Errorf("add under a lock dated in the future: exit %d, stderr %q; want to be told to remove it", res.code, res.stderr)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(lock, old, old); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"add", "-ring", path},
		{"promote", "-ring", path, "-id", primaryOf(t, listJSON(t, path))},
		{"keygen", "-force", "-out", path},
	} {
		res := cli(t, "", args...)
		if want := "remove " + lock + " and run again"; res.code != 1 || !strings.Contains(res.stderr, want) {
			t.Errorf("%v with a stale lock: exit %d, stderr %q; want %q", args, res.code, res.stderr, want)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Error("the ring changed under another command's lock")
	}
	if _, err := os.Stat(lock); err != nil {
		t.Errorf("the other command's lock is gone: %v", err)
	}
	os.Remove(lock)
	mustCLI(t, "add", "-ring", path)
}

// TestMissingDirectoryNamed: a ring path in a directory that does not
// exist (a typo, a volume not mounted yet) was refused as "locking
// nodir/ring.json: open nodir/ring.json.lock: no such file or directory",
// naming a lock file the operator never asked for, and keygen -out said
// "open nodir/ring.json: no such file or directory", as if the ring were
// to exist already. Both now name the missing directory, and a file where
// the directory should be.
func TestMissingDirectoryNamed(t *testing.T) {
	base := t.TempDir()
	missing := filepath.Join(base, "nodir")
	file := filepath.Join(base, "afile")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, row := range []struct{ path, want string }{
		{filepath.Join(missing, "ring.json"), "the directory " + missing + " does not exist"},
		{filepath.Join(missing, "deeper", "ring.json"), "the directory " + filepath.Join(missing, "deeper") + " does not exist"},
		{filepath.Join(file, "ring.json"), file + " is a file, not a directory"},
		{filepath.Join(file, "x", "ring.json"), "a part of " + filepath.Join(file, "x") + " is a file, not a directory"},
	} {
		for _, args := range [][]string{
			{"keygen", "-out", row.path},
			{"keygen", "-force", "-out", row.path},
			{"add", "-ring", row.path},
			{"promote", "-ring", row.path, "-id", "1a2b3c4d"},
			{"remove", "-ring", row.path, "-id", "1a2b3c4d"},
		} {
			res := cli(t, "", args...)
			if res.code != 1 || !strings.Contains(res.stderr, row.path+": "+row.want) || strings.Contains(res.stderr, ".lock") || res.stdout != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 saying %q, no lock file named", args, res.code, res.stdout, res.stderr, row.want)
			}
		}
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the missing directory was created: %v", err)
	}
}

// TestMissingDirectoryThroughLink: a link to a ring in a directory that
// does not exist names the directory and the link.
func TestMissingDirectoryThroughLink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "ring.json")
	if err := os.Symlink(filepath.Join("keys", "ring.json"), link); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"keygen", "-out", link}, {"add", "-ring", link}} {
		res := cli(t, "", args...)
		want := "the directory " + filepath.Join(dir, "keys") + " does not exist (" + link + " is a symbolic link to "
		if res.code != 1 || !strings.Contains(res.stderr, want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 saying %q", args, res.code, res.stderr, want)
		}
	}
}

// TestKeygenRefusesNullStdout: keygen without -out printed the new ring,
// its secret's only copy, to a stdout that was the null device and exited
// 0; a closed stdout (>&-) is the same, since the Go runtime opens the
// null device in its place. It is now refused before a key is made, and
// keygen -out, whose file holds the ring, still succeeds.
func TestKeygenRefusesNullStdout(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	var stderr bytes.Buffer
	if code := run([]string{"keygen"}, strings.NewReader(""), null, &stderr); code != 1 || !strings.Contains(stderr.String(), "stdout, which is the null device: the ring would be lost; write it with -out FILE") {
		t.Errorf("keygen to the null device: exit %d, stderr %q; want exit 1 saying the ring would be lost", code, stderr.String())
	}
	path := filepath.Join(t.TempDir(), "ring.json")
	stderr.Reset()
	if code := run([]string{"keygen", "-out", path}, strings.NewReader(""), null, &stderr); code != 0 {
		t.Fatalf("keygen -out with stdout the null device: exit %d, stderr %q", code, stderr.String())
	}
	if n := len(loadRing(t, path).Keys()); n != 1 {
		t.Errorf("keygen -out wrote %d keys, want 1", n)
	}
}

// TestKeygenPrintsToAPipe: a stdout that is a pipe (keygen | kubectl
// create secret ..., keygen > ring.json in PowerShell) is not the null
// device. On Windows, os.SameFile reads a pipe, a console and NUL as one
// file (none has a file id), and keygen refused to print to any of them.
func TestKeygenPrintsToAPipe(t *testing.T) {
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	printed := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(rd)
		printed <- b
	}()
	var stderr bytes.Buffer
	code := run([]string{"keygen"}, strings.NewReader(""), wr, &stderr)
	wr.Close()
	if code != 0 {
		t.Fatalf("keygen to a pipe: exit %d, stderr %q", code, stderr.String())
	}
	ring, err := cookiesession.ParseKeyRing(<-printed)
	if err != nil || len(ring.Keys()) != 1 {
		t.Errorf("keygen printed no ring of one key to the pipe: %v", err)
	}
}

// TestHandEditedRingSyntaxPosition: a ring file edited by hand with a
// comma missing or one too many was refused as "invalid character '"'
// after object key:value pair", which says what but not where in a file
// of a dozen lines. The error now gives the line and column.
func TestHandEditedRingSyntaxPosition(t *testing.T) {
	path := newRingFile(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []struct{ name, old, new, want string }{
		{"missing comma", `"version": 1,`, `"version": 1`, "after object key:value pair, at line 3, column 3"},
		{"extra comma", "}\n  ]", "},\n  ]", "looking for beginning of value, at line 9, column 3"},
		{"unquoted id", `"id": "`, `"id": x`, "where JSON allows none: an id or a secret must be a quoted string, at line 6, column 13"},
	} {
		edited := strings.Replace(string(data), row.old, row.new, 1)
		if edited == string(data) {
			t.Fatalf("%s: the edit did not apply to %q", row.name, data)
		}
		if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"list", "-ring", path}, {"add", "-ring", path}} {
			res := cli(t, "", args...)
			if res.code != 1 || !strings.Contains(res.stderr, row.want) {
				t.Errorf("%s, %v: exit %d, stderr %q; want exit 1 saying %q", row.name, args, res.code, res.stderr, row.want)
			}
		}
	}
}

// TestPromoteOfScheduledKeyNotes: one operator schedules a key (add
// -promote-in 1h, so that the file reaches every instance first); another,
// following the runbook's step 3, promotes it at once. The schedule was
// dropped without a word, and instances that had not loaded the add yet
// refused every session the key sealed. promote still makes it the primary
// now, and says that the schedule is gone, what that risks and the undo.
func TestPromoteOfScheduledKeyNotes(t *testing.T) {
	path := newRingFile(t)
	scheduled := strings.TrimSpace(mustCLI(t, "add", "-ring", path, "-promote-in", "1h"))
	at := *listJSON(t, path)[1].PromoteAt
	res := cli(t, "", "promote", "-ring", path, "-id", scheduled)
	for _, want := range []string{
		"note: the key was scheduled to become the primary at " + at.Format(time.RFC3339) + "; it is the primary now instead",
		"refuse the sessions it seals (unknown key id " + scheduled + ")",
		"ship the ring as it was before this promote",
	} {
		if res.code != 0 || !strings.Contains(res.stderr, want) {
			t.Errorf("promote of a scheduled key: exit %d, stderr %q; want exit 0 and %q", res.code, res.stderr, want)
		}
	}
	keys := listJSON(t, path)
	if primaryOf(t, keys) != scheduled || keys[1].PromoteAt != nil || keys[1].State != "primary" {
		t.Errorf("after promote of the scheduled key: %+v, want it the primary with no promote_at", keys)
	}
}

// TestRewriteOfAMountedFileNamed: a ring file mounted alone (docker run
// -v FILE:FILE, a Kubernetes subPath, a Compose secret's file:) cannot be
// renamed over, and add or promote run in the container said only
// "rename ring.json.lock ring.json: device or resource busy; ring.json is
// unchanged" (reproduced with unshare -m and mount --bind). The error now
// names the single-file mount and the fix. (Mounting needs privileges
// that tests lack, so the wording is checked for the error the rename
// returns.)
func TestRewriteOfAMountedFileNamed(t *testing.T) {
	err := &os.LinkError{Op: "rename", Old: "ring.json.lock", New: "ring.json", Err: syscall.EBUSY}
	if got, want := writeFix(err), "it is a mount point, a file mounted alone"; !strings.Contains(got, want) || !strings.Contains(got, "change the ring where the mount comes from") {
		t.Errorf("writeFix(%v) = %q, want %q and the fix", err, got, want)
	}
}

// TestInspectReadsCurlVerbose: the output of curl -v (its stderr, with
// the body or without) is read: "> " lines are the request, "< " lines the
// response, "* " and "{ " lines curl's own. The response's Set-Cookie
// lines are inspected, or the request's Cookie line when the response sets
// no session (a refusal, a logout); when both hold the session, which one
// is meant is asked, not guessed. Before, a trace was refused as "a token
// wrapped by a terminal", and one "> Cookie:" line as holding no cookie
// named session.
func TestInspectReadsCurlVerbose(t *testing.T) {
	path := newRingFile(t)
	ring := loadRing(t, path)
	s := newSealer(t, ring)
	sent, _ := s.seal(t, time.Now(), "k", "sent")
	set, _ := s.seal(t, time.Now(), "k", "set")
	request := "*   Trying 127.0.0.1:8091...\n* Connected to 127.0.0.1 (127.0.0.1) port 8091\n> GET /account HTTP/1.1\r\n> Host: 127.0.0.1:8091\r\n> User-Agent: curl/8.5.0\r\n> Accept: */*\r\n> Cookie: theme=dark; session=" + sent + "\r\n>\r\n"
	requestNoCookie := "* Connected to 127.0.0.1 (127.0.0.1) port 8091\n> POST /login HTTP/1.1\r\n> Host: 127.0.0.1:8091\r\n>\r\n"
	response := func(setCookies ...string) string {
		out := "< HTTP/1.1 200 OK\r\n< Cache-Control: no-store\r\n"
		for _, c := range setCookies {
			out += "< Set-Cookie: " + c + "; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax\r\n"
		}
		return out + "< Vary: Cookie\r\n< Content-Length: 5\r\n<\r\n{ [5 bytes data]\n* Connection #0 to host 127.0.0.1 left intact\n"
	}
	for _, tc := range []struct{ what, input, want, refused string }{
		{"a login's response", requestNoCookie + response("session="+set), "set", ""},
		{"with the body", requestNoCookie + response("session="+set) + "hello\n", "set", ""},
		{"a request's Cookie line alone", "> Cookie: session=" + sent, "sent", ""},
		{"a request, the response setting none", request + response(), "sent", ""},
		{"a request, the response clearing it", request + response("session=; Max-Age=0"), "sent", ""},
		{"both", request + response("session="+set), "", `the trace holds cookie "session" in the request's Cookie line (what the server was sent) and in the response's Set-Cookie lines (what it set): pass one of them`},
		{"neither", requestNoCookie + response("theme=dark"), "", `no cookie named "session" in the input (found: "theme")`},
		{"a request without it, a response setting none", strings.Replace(request, "session="+sent, "sid=x", 1) + response(), "", `the trace's request sends no cookie named "session" (found: "theme", "sid"), and its response sets none`},
	} {
		t.Run(tc.what, func(t *testing.T) {
			res := cli(t, tc.input, "inspect", "-ring", path, "-json", "-")
			if tc.refused != "" {
				if res.code != 1 || !strings.Contains(res.stderr, tc.refused) {
					t.Errorf("exit %d, stderr %q; want exit 1 and %q", res.code, res.stderr, tc.refused)
				}
				return
			}
			var got inspected
			if res.code != 0 || json.Unmarshal([]byte(res.stdout), &got) != nil || string(got.Values["k"].Value) != `"`+tc.want+`"` {
				t.Errorf("exit %d, stdout %q, stderr %q; want the session %q", res.code, res.stdout, res.stderr, tc.want)
			}
		})
	}
}

// TestInspectHARNamed: a HAR file (or any JSON document on several lines)
// given to inspect is named as such, with the jq that takes the Cookie
// header out of it. Before, it was called a token that a terminal wrapped.
func TestInspectHARNamed(t *testing.T) {
	path := newRingFile(t)
	har := "{\n  \"log\": {\n    \"entries\": [{\"request\": {\"headers\": [\n      {\"name\": \"Cookie\", \"value\": \"session=AAAA\"}]}}]\n  }\n}\n"
	res := cli(t, har, "inspect", "-ring", path, "-")
	if want := "the input is a JSON document, not a cookie (a HAR file"; res.code != 1 || !strings.Contains(res.stderr, want) || strings.Contains(res.stderr, "terminal") {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", res.code, res.stderr, want)
	}
}

// TestInspectNotesPercentEscapes: a Cookie header or token copied
// URL-encoded (from a log or a URL: session%3D...) is refused as a server
// refuses it, with a note that names the escapes and the fix. Before, the
// refusal said only "bad encoding: illegal base64 data at input byte 7".
func TestInspectNotesPercentEscapes(t *testing.T) {
	path := newRingFile(t)
	good, _ := newSealer(t, loadRing(t, path)).seal(t, time.Now(), "k", "v")
	const note = "the input holds percent-escapes (%3D for '=', %3B for ';')"
	for _, input := range []string{"session%3D" + good, "theme%3Ddark%3B%20session%3D" + good, good + "%0A"} {
		res := cli(t, "", "inspect", "-ring", path, input)
		if res.code != 1 || !strings.Contains(res.stderr, note) {
			t.Errorf("%.30q: exit %d, stderr %q; want exit 1 and the note", input, res.code, res.stderr)
		}
		decoded, err := url.PathUnescape(input)
		if err != nil {
			t.Fatal(err)
		}
		if res := cli(t, "", "inspect", "-ring", path, strings.TrimSpace(decoded)); res.code != 0 {
			t.Errorf("decoded %.30q: exit %d, stderr %q", decoded, res.code, res.stderr)
		}
	}
	if res := cli(t, "", "inspect", "-ring", path, good[:50]+"*"+good[51:]); strings.Contains(res.stderr, note) {
		t.Errorf("a token without escapes got the note: %q", res.stderr)
	}
}
