package cookiesession_test

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// More key-ring cases: a secret pasted where promote_at belongs, a rename
// that keeps size and mtime, WatchFile without a report function, and
// Replace with a ring holding no key.

// TestParseKeyRingErrorHidesPromoteAt: a ring file with a secret in a
// promote_at field is refused without echoing the field.
func TestParseKeyRingErrorHidesPromoteAt(t *testing.T) {
	keyForID(t, 0x1a2b3c4d) // registers the secret for checkErrRules
	secret := base64.StdEncoding.EncodeToString(keySecret(0x1a2b3c4d))
	doc := ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", secret),
		keyDoc("5e6f7a8b", base64.StdEncoding.EncodeToString(keySecret(2)), `,"promote_at":"`+secret+`"`))
	ring, err := cookiesession.ParseKeyRing([]byte(doc))
	if err == nil {
		t.Fatalf("ParseKeyRing accepted a secret as promote_at: %v", ring)
	}
	checkErrRules(t, err)
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error echoes the promote_at text: %v", err)
	}
}

// TestWatchFileSeesRenameKeepingSizeAndMtime: `cp -p`, rsync -t and tar
// replace a file keeping its size and modification time. Renamed into
// place, such a file is another file, and WatchFile must reload it.
func TestWatchFileSeesRenameKeepingSizeAndMtime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ring.json")
	source := ringOf(t, 0x11111111, 0x22222222)
	first := marshalRing(t, source)
	if err := source.Promote(0x22222222); err != nil {
		t.Fatal(err)
	}
	promoted := marshalRing(t, source)
	if len(promoted) != len(first) {
		t.Fatalf("the two ring files differ in size: %d and %d bytes", len(first), len(promoted))
	}
	writeFileAtomic(t, path, first, fixedNow)
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	reports := make(chan error, 1)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		ring.WatchFile(ctx, path, 5*time.Millisecond, func(err error) {
			select {
			case reports <- err:
			default:
			}
		})
	}()
	defer func() { cancel(); <-stopped }()
	// The watcher stats the file when it starts, perhaps after the first
	// rename; every rename puts another file in place, so rename until a
	// reload is reported.
	deadline := time.After(30 * time.Second)
	for reloaded := false; !reloaded; {
		writeFileAtomic(t, path, promoted, fixedNow)
		select {
		case err := <-reports:
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			reloaded = true
		case <-time.After(250 * time.Millisecond):
		case <-deadline:
			t.Fatal("WatchFile never reloaded a file renamed into place with the same size and mtime")
		}
	}
	if got := ring.PrimaryAt(fixedNow); got != 0x22222222 {
		t.Errorf("after the reload the primary is %08x, want 22222222", got)
	}
}

// TestReplaceRefusesZeroRing: a KeyRing not built by NewKeyRing holds no
// key; Replace refuses it and keeps the keys it has.
func TestReplaceRefusesZeroRing(t *testing.T) {
	ring := ringOf(t, keyA)
	err := ring.Replace(&cookiesession.KeyRing{})
	checkErrRules(t, err)
	if err == nil || !ring.Has(keyA) || ring.PrimaryAt(fixedNow) != keyA {
		t.Errorf("Replace(zero KeyRing) = %v; ring now %v, want an error and key %08x kept", err, ring, keyA)
	}
}

// TestWatchFileNilReport: report may be nil. A watcher of a missing file,
// which has an error to report at every tick, must not panic, and returns
// once its context is done.
func TestWatchFileNilReport(t *testing.T) {
	ring := ringOf(t, keyA)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		ring.WatchFile(ctx, filepath.Join(t.TempDir(), "missing.json"), time.Millisecond, nil)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("WatchFile did not return after its context was done")
	}
	if !ring.Has(keyA) || ring.PrimaryAt(fixedNow) != keyA {
		t.Errorf("the ring changed: %v", ring)
	}
}
