package cookiesession_test

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seed-ff2808ae/cookiesession"
)

// farFuture is a promotion time no clock reaches during a test: scheduled
// tests inject times around it through PrimaryAt and SealAt, or set the
// ring's clock with SetClock.
var farFuture = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)

var equateTimes = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

// TestKeyRingRotation walks the three rotation stages with a token from
// each stage: add open-only, promote, remove.
func TestKeyRingRotation(t *testing.T) {
	const oldID, newID = 0x1a2b3c4d, 0x5e6f7a8b
	ring := ringOf(t, oldID)
	c := newTestCodec(t, ring, cookiesession.CodecOptions{})
	oldToken := sealAt(t, c, &cookiesession.Record{}, fixedNow)

	if err := ring.Add(keyForID(t, newID)); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if got := sealAndKeyID(t, c); got != oldID || ring.Primary() != oldID {
		t.Errorf("after Add: sealed with %08x, primary %08x; want the old key", got, ring.Primary())
	}
	// The fingerprints are SHA-256("cookiesession key fingerprint v1\x00" ||
	// secret)[:6] of keySecret(id), computed apart from the package.
	want := []cookiesession.KeyInfo{{ID: oldID, Primary: true, Fingerprint: "a29385f00e67"}, {ID: newID, Fingerprint: "1ff0c8e94afc"}}
	if diff := cmp.Diff(want, ring.Keys(), equateTimes); diff != "" {
		t.Errorf("Keys after Add (-want +got):\n%s", diff)
	}

	if err := ring.Promote(newID); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	if got := sealAndKeyID(t, c); got != newID {
		t.Errorf("after Promote: sealed with %08x, want %08x", got, newID)
	}
	if rec := openAt(t, c, oldToken, fixedNow); rec.KeyID != oldID {
		t.Errorf("old token opened with %08x, want %08x", rec.KeyID, oldID)
	}
	if got := ring.String(); got != "cookiesession.KeyRing[1a2b3c4d:a29385f00e67 5e6f7a8b*:1ff0c8e94afc]" {
		t.Errorf("String() = %q", got)
	}

	if err := ring.Remove(oldID); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if ring.Has(oldID) || !ring.Has(newID) {
		t.Errorf("Has after Remove: old %v new %v", ring.Has(oldID), ring.Has(newID))
	}
	if _, err := c.OpenAt(oldToken, fixedNow); !errors.Is(err, cookiesession.ErrUnknownKey) {
		t.Errorf("old token after Remove: %v, want ErrUnknownKey", err)
	}
}

func sealAndKeyID(t *testing.T, c *cookiesession.Codec) uint32 {
	t.Helper()
	return openAt(t, c, sealAt(t, c, &cookiesession.Record{}, fixedNow), fixedNow).KeyID
}

// TestKeyRingRefusals is the hostile table for the ring's writers: each
// row must fail and leave the ring as it was.
func TestKeyRingRefusals(t *testing.T) {
	const a, b, missing = 0x1a2b3c4d, 0x5e6f7a8b, 0x0badc0de
	for _, row := range []struct {
		name   string
		change func(r *cookiesession.KeyRing) error
		names  string // a substring the error must contain
	}{
		{"remove primary", func(r *cookiesession.KeyRing) error { return r.Remove(a) }, "1a2b3c4d"},
		{"remove unknown", func(r *cookiesession.KeyRing) error { return r.Remove(missing) }, "0badc0de"},
		{"promote unknown", func(r *cookiesession.KeyRing) error { return r.Promote(missing) }, "0badc0de"},
		{"add duplicate", func(r *cookiesession.KeyRing) error { return r.Add(keyForID(t, b)) }, "5e6f7a8b"},
		{"add zero key", func(r *cookiesession.KeyRing) error { return r.Add(cookiesession.Key{}) }, "zero"},
		{"add scheduled duplicate", func(r *cookiesession.KeyRing) error { return r.AddScheduled(keyForID(t, a), farFuture) }, "1a2b3c4d"},
	} {
		t.Run(row.name, func(t *testing.T) {
			ring := ringOf(t, a, b)
			before := ring.KeysAt(fixedNow)
			err := row.change(ring)
			checkErrRules(t, err)
			if err == nil || !strings.Contains(err.Error(), row.names) {
				t.Fatalf("err = %v, want an error naming %q", err, row.names)
			}
			if diff := cmp.Diff(before, ring.KeysAt(fixedNow), equateTimes); diff != "" {
				t.Errorf("refused change altered the ring (-before +after):\n%s", diff)
			}
		})
	}
}

// TestKeyRingHoldsAtMost256Keys checks that a ring refuses the key its
// text form could not hold, so that no CLI writes a file no loader accepts.
func TestKeyRingHoldsAtMost256Keys(t *testing.T) {
	ring := ringOf(t, 1)
	for id := uint32(2); id <= 256; id++ {
		if err := ring.Add(keyForID(t, id)); err != nil {
			t.Fatalf("adding key %d: %v", id, err)
		}
	}
	text, err := ring.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cookiesession.ParseKeyRing(text); err != nil {
		t.Fatalf("a ring of 256 keys does not parse: %v", err)
	}
	err = ring.Add(keyForID(t, 257))
	checkErrRules(t, err)
	if err == nil || !strings.Contains(err.Error(), "more than 256 keys") || len(ring.Keys()) != 256 {
		t.Errorf("a 257th key: %v, ring of %d keys", err, len(ring.Keys()))
	}
}

// TestNewKeyRingRefusals covers rings that must not be built.
func TestNewKeyRingRefusals(t *testing.T) {
	k := keyForID(t, 0x1a2b3c4d)
	for name, build := range map[string]func() (*cookiesession.KeyRing, error){
		"zero primary":  func() (*cookiesession.KeyRing, error) { return cookiesession.NewKeyRing(cookiesession.Key{}) },
		"zero other":    func() (*cookiesession.KeyRing, error) { return cookiesession.NewKeyRing(k, cookiesession.Key{}) },
		"duplicate ids": func() (*cookiesession.KeyRing, error) { return cookiesession.NewKeyRing(k, keyForID(t, 0x1a2b3c4d)) },
	} {
		ring, err := build()
		checkErrRules(t, err)
		if err == nil || ring != nil {
			t.Errorf("%s: NewKeyRing = %v, %v; want an error", name, ring, err)
		}
	}
}

// TestDuplicateKeyIDNamed: two keys with one id got "duplicate key id
// 1a2b3c4d" alone, which said neither where the two were nor what to do.
// The error now names both places and the fix: the same key twice (two
// rings merged) is removed once; two secrets under one id, which a token
// cannot tell apart, are named by fingerprint, and one of them moves to a
// fresh id. An Add of a key the ring holds says there is nothing to add.
// Copies of one key whose promote_at differs are said to differ, and how:
// "remove one of them" let the scheduled copy go, or kept it, unseen, and
// an AddScheduled of a held key at another time was told "nothing to add".
func TestDuplicateKeyIDNamed(t *testing.T) {
	const id, other = 0x1a2b3c4d, 0x5e6f7a8b
	secret := base64.StdEncoding.EncodeToString(keySecret(id))
	stranger, err := cookiesession.NewKey(id, keySecret(other)) // another secret under id
	if err != nil {
		t.Fatal(err)
	}
	strangerRing, err := cookiesession.NewKeyRing(stranger)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := ringOf(t, id).Keys()[0].Fingerprint, strangerRing.Keys()[0].Fingerprint
	const twice = "are the same key twice (two rings merged, or one key added twice): "
	// Copies that differ in promote_at: "remove one of them" let the
	// wrong one go, and a scheduled promotion with it, unseen.
	const differ = "are the same key twice (two rings merged, or one key added twice), "
	const keepMeant = "keep the one whose promotion the rotation means (none: the key stays open-only until promoted, as the primary has none) and remove the other"
	const promoteAt = `,"promote_at":"2030-01-01T00:00:00Z"`
	otherSecret := base64.StdEncoding.EncodeToString(keySecret(other))
	const freshID = "one id per key; keep the key whose fingerprint the instances show for 1a2b3c4d (cookiesession list, /debug/vars) and replace the other with a key of a fresh id (cookiesession add makes one in a ring file, cookiesession keygen a new ring, GenerateKey in Go)"
	parse := func(keys ...string) error {
		_, err := cookiesession.ParseKeyRing([]byte(ringDoc("1", "1a2b3c4d", keys...)))
		return err
	}
	for _, row := range []struct {
		name string
		err  error
		want []string
	}{
		{"the text, one key twice", parse(keyDoc("1a2b3c4d", secret), keyDoc("5e6f7a8b", base64.StdEncoding.EncodeToString(keySecret(other))), keyDoc("1a2b3c4d", secret)),
			[]string{"cookiesession: duplicate key id 1a2b3c4d: keys[0] and keys[2] " + twice + "remove one of them"}},
		{"the text, two secrets", parse(keyDoc("1a2b3c4d", secret), keyDoc("1a2b3c4d", base64.StdEncoding.EncodeToString(keySecret(other)))),
			[]string{"cookiesession: duplicate key id 1a2b3c4d: keys[0] and keys[1] are two different keys under one id (fingerprints " + ours + " and " + theirs + "), and a token names its key by id alone: " + freshID}},
		{"NewKeyRing, two secrets", func() error {
			_, err := cookiesession.NewKeyRing(keyForID(t, other), keyForID(t, id), stranger)
			return err
		}(),
			[]string{"duplicate key id 1a2b3c4d: keys[1] and keys[2] are two different keys", freshID}},
		{"Add, the same key", ringOf(t, other, id).Add(keyForID(t, id)),
			[]string{"cookiesession: duplicate key id 1a2b3c4d: the ring's keys[1] and the key added " + twice + "the ring holds it already, so there is nothing to add"}},
		{"the text, one key twice, one copy scheduled", parse(keyDoc("1a2b3c4d", secret), keyDoc("5e6f7a8b", otherSecret, promoteAt), keyDoc("5e6f7a8b", otherSecret)),
			[]string{"cookiesession: duplicate key id 5e6f7a8b: keys[1] and keys[2] " + differ + "keys[1] with a promote_at and keys[2] without: " + keepMeant}},
		{"the text, the primary twice, one copy scheduled", parse(keyDoc("1a2b3c4d", secret), keyDoc("1a2b3c4d", secret, promoteAt)),
			[]string{"cookiesession: duplicate key id 1a2b3c4d: keys[0] and keys[1] " + differ + "keys[0] without a promote_at and keys[1] with one: " + keepMeant}},
		{"the text, one key at two times", parse(keyDoc("1a2b3c4d", secret), keyDoc("5e6f7a8b", otherSecret, promoteAt), keyDoc("5e6f7a8b", otherSecret, `,"promote_at":"2031-01-01T00:00:00Z"`)),
			[]string{"keys[1] and keys[2] " + differ + "at two different promote_at times: " + keepMeant}},
		{"the text, one instant written two ways", parse(keyDoc("1a2b3c4d", secret), keyDoc("5e6f7a8b", otherSecret, promoteAt), keyDoc("5e6f7a8b", otherSecret, `,"promote_at":"2030-01-01T01:00:00+01:00"`)),
			[]string{"keys[1] and keys[2] " + twice + "remove one of them"}},
		{"AddScheduled, the same key held unscheduled", ringOf(t, other, id).AddScheduled(keyForID(t, id), farFuture),
			[]string{"cookiesession: duplicate key id 1a2b3c4d: the ring's keys[1] and the key added " + differ + "the ring's keys[1] without a promote_at and the key added with one: the ring holds it already, and Add or AddScheduled does not change a held key's promotion: Promote it when it is due, or, while it is not the primary, Remove it and add it again with the promotion meant"}},
		{"Add, the same key held scheduled", func() error {
			ring := ringOf(t, other)
			if err := ring.AddScheduled(keyForID(t, id), farFuture); err != nil {
				t.Fatal(err)
			}
			return ring.Add(keyForID(t, id))
		}(),
			[]string{"the ring's keys[1] with a promote_at and the key added without: the ring holds it already, and Add or AddScheduled does not change"}},
		{"AddScheduled, the same key at its own time", func() error {
			ring := ringOf(t, other)
			if err := ring.AddScheduled(keyForID(t, id), farFuture); err != nil {
				t.Fatal(err)
			}
			return ring.AddScheduled(keyForID(t, id), farFuture)
		}(),
			[]string{"the ring's keys[1] and the key added " + twice + "the ring holds it already, so there is nothing to add"}},
		{"AddScheduled, two secrets", ringOf(t, other, id).AddScheduled(stranger, farFuture),
			[]string{"duplicate key id 1a2b3c4d: the ring's keys[1] and the key added are two different keys under one id (fingerprints " + ours + " and " + theirs + ")", freshID}},
	} {
		checkErrRules(t, row.err)
		for _, want := range row.want {
			if row.err == nil || !strings.Contains(row.err.Error(), want) {
				t.Errorf("%s: err = %v, want it to say %q", row.name, row.err, want)
			}
		}
	}
}

// TestScheduledPromotion checks that each instance switches primary when
// its clock reaches promote_at, with the time injected on both sides.
func TestScheduledPromotion(t *testing.T) {
	const a, b, c3 = 0x1a2b3c4d, 0x5e6f7a8b, 0x00c0ffee
	ring := ringOf(t, a)
	if err := ring.AddScheduled(keyForID(t, b), farFuture); err != nil {
		t.Fatal(err)
	}
	if err := ring.AddScheduled(keyForID(t, c3), farFuture.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	codec := newTestCodec(t, ring, cookiesession.CodecOptions{})
	for _, step := range []struct {
		at   time.Time
		want uint32
	}{
		{fixedNow, a},
		{farFuture.Add(-time.Nanosecond), a},
		{farFuture, b},
		{farFuture.Add(time.Hour - time.Second), b},
		{farFuture.Add(time.Hour), c3},
		{farFuture.AddDate(1, 0, 0), c3},
	} {
		if got := ring.PrimaryAt(step.at); got != step.want {
			t.Errorf("PrimaryAt(%v) = %08x, want %08x", step.at, got, step.want)
		}
		rec := openAt(t, codec, sealAt(t, codec, &cookiesession.Record{}, step.at), step.at)
		if rec.KeyID != step.want {
			t.Errorf("SealAt(%v) used %08x, want %08x", step.at, rec.KeyID, step.want)
		}
		primaries := 0
		for _, info := range ring.KeysAt(step.at) {
			if info.Primary {
				primaries++
				if info.ID != step.want {
					t.Errorf("KeysAt(%v) marks %08x primary, want %08x", step.at, info.ID, step.want)
				}
			}
		}
		if primaries != 1 {
			t.Errorf("KeysAt(%v) has %d primaries", step.at, primaries)
		}
	}
}

// TestScheduledPromotionAlreadyDue checks that a promotion time in the
// past takes effect at once, and that the ring then treats that key as the
// primary for Remove and MarshalJSON.
func TestScheduledPromotionAlreadyDue(t *testing.T) {
	const a, b = 0x1a2b3c4d, 0x5e6f7a8b
	ring := ringOf(t, a)
	ring.SetClock(func() time.Time { return fixedNow })
	if err := ring.AddScheduled(keyForID(t, b), fixedNow.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ring.Primary() != b {
		t.Fatalf("Primary() = %08x, want the due key %08x", ring.Primary(), b)
	}
	if err := ring.Remove(a); err != nil {
		t.Fatalf("removing the superseded primary: %v", err)
	}
	if err := ring.Remove(b); err == nil {
		t.Errorf("removing the promoted key succeeded")
	}
	var doc struct {
		Primary string
		Keys    []map[string]any
	}
	data, err := ring.MarshalJSON()
	if err != nil || json.Unmarshal(data, &doc) != nil {
		t.Fatalf("MarshalJSON: %v", err)
	}
	if doc.Primary != "5e6f7a8b" || len(doc.Keys) != 1 || doc.Keys[0]["promote_at"] != nil {
		t.Errorf("MarshalJSON = %s, want 5e6f7a8b primary without promote_at", data)
	}
}

// TestScheduledPromotionByWallClock checks that a promotion time given
// with a monotonic clock reading, as time.Now().Add(d) carries, is kept as
// its wall-clock instant alone, the one the text form holds. Compared by
// the monotonic reading, which Go prefers when both times carry one, the
// promotion would move away from the rest of the fleet's when the wall
// clock is stepped (NTP) or the machine is suspended.
func TestScheduledPromotionByWallClock(t *testing.T) {
	const a, b, c3 = 0x1a2b3c4d, 0x5e6f7a8b, 0x00c0ffee
	ring := ringOf(t, a)
	at := time.Now().Add(time.Hour)
	if err := ring.AddScheduled(keyForID(t, b), at); err != nil {
		t.Fatal(err)
	}
	if err := ring.AddScheduled(keyForID(t, c3), at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for i, want := range []time.Time{{}, at.Round(0), at.Add(time.Minute).Round(0)} {
		// == and not Equal: Equal ignores the monotonic reading.
		if got := ring.Keys()[i].PromoteAt; got != want {
			t.Errorf("key %d: PromoteAt = %v, want the wall-clock instant %v", i, got, want)
		}
	}
}

// TestKeyRingSetClock steps an injected clock past a scheduled promotion:
// the readers without a time and the writers (which settle due promotions)
// follow it, not the real clock.
func TestKeyRingSetClock(t *testing.T) {
	const a, b, c3 = 0x1a2b3c4d, 0x5e6f7a8b, 0x00c0ffee
	now := fixedNow
	ring := ringOf(t, a)
	ring.SetClock(func() time.Time { return now })
	if err := ring.AddScheduled(keyForID(t, b), fixedNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		at      time.Time
		primary uint32
		removeA bool // whether a, no longer primary, may be removed
	}{
		{fixedNow, a, false},
		{fixedNow.Add(time.Hour - time.Nanosecond), a, false},
		{fixedNow.Add(time.Hour), b, true},
	} {
		now = step.at
		if got := ring.Primary(); got != step.primary {
			t.Errorf("at %v: Primary() = %08x, want %08x", now, got, step.primary)
		}
		infos := ring.Keys()
		marked := slices.IndexFunc(infos, func(k cookiesession.KeyInfo) bool { return k.Primary })
		if countPrimaries(infos) != 1 || infos[marked].ID != step.primary {
			t.Errorf("at %v: Keys() = %+v, want %08x primary", now, infos, step.primary)
		}
		if err := ring.Remove(a); (err == nil) != step.removeA {
			t.Errorf("at %v: Remove(primary-until-now %08x) = %v", now, a, err)
		}
	}
	// The writers settled b's promotion at the injected time: it is the
	// stored primary now, with no promote_at left in the text form.
	if data := string(marshalRing(t, ring)); strings.Contains(data, "promote_at") || !strings.Contains(data, `"primary":"5e6f7a8b"`) {
		t.Errorf("text form after the settled promotion: %s", data)
	}
	ring.SetClock(nil) // back to the real clock
	due := time.Now().Add(-time.Minute)
	if err := ring.AddScheduled(keyForID(t, c3), due); err != nil {
		t.Fatal(err)
	}
	if got := ring.Primary(); got != c3 {
		t.Errorf("with the real clock, Primary() = %08x, want %08x promoted at %v", got, c3, due)
	}
}

// TestKeyRingJSONRoundTrip marshals a ring with an open-only and a
// scheduled key, parses it back, and checks that each ring opens what the
// other sealed.
func TestKeyRingJSONRoundTrip(t *testing.T) {
	const a, b, c3 = 0x1a2b3c4d, 0x5e6f7a8b, 0x00c0ffee
	ring1 := ringOf(t, a, b)
	promoteAt := farFuture.In(time.FixedZone("", 3600)).Add(500 * time.Millisecond)
	if err := ring1.AddScheduled(keyForID(t, c3), promoteAt); err != nil {
		t.Fatal(err)
	}
	data, err := ring1.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	assertRingDocument(t, data)
	ring2, err := cookiesession.ParseKeyRing(data)
	if err != nil {
		t.Fatalf("ParseKeyRing(MarshalJSON()): %v", err)
	}
	data2, _ := ring2.MarshalJSON()
	if !bytes.Equal(data, data2) {
		t.Errorf("second marshal differs:\n%s\n%s", data, data2)
	}
	for _, at := range []time.Time{fixedNow, promoteAt, promoteAt.Add(time.Hour)} {
		if diff := cmp.Diff(ring1.KeysAt(at), ring2.KeysAt(at), equateTimes); diff != "" {
			t.Errorf("KeysAt(%v) differs (-original +parsed):\n%s", at, diff)
		}
		c1 := newTestCodec(t, ring1, cookiesession.CodecOptions{})
		c2 := newTestCodec(t, ring2, cookiesession.CodecOptions{})
		openAt(t, c2, sealAt(t, c1, &cookiesession.Record{}, at), at)
		openAt(t, c1, sealAt(t, c2, &cookiesession.Record{}, at), at)
	}
}

// assertRingDocument checks the text form documented in the API.
func assertRingDocument(t *testing.T, data []byte) {
	t.Helper()
	var doc struct {
		Version int
		Primary string
		Keys    []struct {
			ID        string  `json:"id"`
			Secret    string  `json:"secret"`
			PromoteAt *string `json:"promote_at"`
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("text form %s: %v", data, err)
	}
	if doc.Version != 1 || doc.Primary != "1a2b3c4d" || len(doc.Keys) != 3 {
		t.Fatalf("text form %s: want version 1, primary 1a2b3c4d, three keys", data)
	}
	for _, k := range doc.Keys {
		id, err := cookiesession.ParseKeyID(k.ID)
		if err != nil {
			t.Fatalf("key id %q: %v", k.ID, err)
		}
		if want := base64.StdEncoding.EncodeToString(keySecret(id)); k.Secret != want {
			t.Errorf("key %s: secret is not the padded standard base64 of the key", k.ID)
		}
		if (k.PromoteAt != nil) != (id == 0x00c0ffee) {
			t.Errorf("key %s: promote_at %v", k.ID, k.PromoteAt)
		}
	}
	if at := *doc.Keys[2].PromoteAt; at != "2099-01-01T00:00:00.5Z" {
		t.Errorf("promote_at = %q, want RFC 3339 in UTC", at)
	}
}

// ringDoc builds a text form from key entries.
func ringDoc(version, primary string, keys ...string) string {
	return `{"version":` + version + `,"primary":"` + primary + `","keys":[` + strings.Join(keys, ",") + `]}`
}

func keyDoc(id, secret string, extra ...string) string {
	return `{"id":"` + id + `","secret":"` + secret + `"` + strings.Join(extra, "") + `}`
}

// hostileRingDocs is the hostile table for the text form, shared with
// FuzzParseKeyRing as seeds.
func hostileRingDocs() map[string]string {
	secret := base64.StdEncoding.EncodeToString(keySecret(0x1a2b3c4d))
	good := keyDoc("1a2b3c4d", secret)
	plus := bytes.Repeat([]byte{0xfb, 0xff, 0xbf}, 11)[:32]
	// 32 bytes end in a character with two unused bits, then one "=".
	const stdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	loose := secret[:42] + string(stdAlphabet[strings.IndexByte(stdAlphabet, secret[42])^1]) + "="
	many := make([]string, 257)
	for i := range many {
		many[i] = keyDoc(fmt.Sprintf("%08x", i+1), secret)
	}
	return map[string]string{
		"not json":                 "nope",
		"empty input":              "",
		"json null":                "null",
		"json array":               "[]",
		"empty object":             "{}",
		"version 2":                ringDoc("2", "1a2b3c4d", good),
		"version 0":                ringDoc("0", "1a2b3c4d", good),
		"version as string":        ringDoc(`"1"`, "1a2b3c4d", good),
		"version 1.5":              ringDoc("1.5", "1a2b3c4d", good),
		"version missing":          `{"primary":"1a2b3c4d","keys":[` + good + `]}`,
		"unknown top-level field":  `{"version":1,"primary":"1a2b3c4d","keys":[` + good + `],"extra":1}`,
		"unknown key field":        ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", secret, `,"name":"x"`)),
		"duplicate ids":            ringDoc("1", "1a2b3c4d", good, good),
		"id zero":                  ringDoc("1", "00000000", keyDoc("00000000", secret)),
		"key id zero":              ringDoc("1", "1a2b3c4d", good, keyDoc("00000000", secret)),
		"key id 7 hex":             ringDoc("1", "1a2b3c4d", good, keyDoc("1a2b3c4", secret)),
		"id 7 hex":                 ringDoc("1", "1a2b3c4", keyDoc("1a2b3c4", secret)),
		"id 9 hex":                 ringDoc("1", "1a2b3c4d0", keyDoc("1a2b3c4d0", secret)),
		"id not hex":               ringDoc("1", "zzzzzzzz", keyDoc("zzzzzzzz", secret)),
		"id 0x prefix":             ringDoc("1", "0x1a2b3c", keyDoc("0x1a2b3c", secret)),
		"id sign":                  ringDoc("1", "+1a2b3c4", keyDoc("+1a2b3c4", secret)),
		"id space":                 ringDoc("1", " 1a2b3c4", keyDoc(" 1a2b3c4", secret)),
		"id as number":             `{"version":1,"primary":"1a2b3c4d","keys":[{"id":12345678,"secret":"` + secret + `"}]}`,
		"secret 31 bytes":          ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", base64.StdEncoding.EncodeToString(keySecret(1)[:31]))),
		"secret 33 bytes":          ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", base64.StdEncoding.EncodeToString(append(keySecret(1), 0)))),
		"secret empty":             ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", "")),
		"secret not base64":        ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", strings.Repeat("!", 44))),
		"secret url alphabet":      ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", base64.URLEncoding.EncodeToString(plus))),
		"secret unpadded":          ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", base64.RawStdEncoding.EncodeToString(keySecret(1)))),
		"secret non-canonical":     ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", loose)),
		"secret hex":               ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", fmt.Sprintf("%x", keySecret(1)))),
		"secret, trailing space":   ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", secret+" ")),
		"secret with a line break": ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", secret[:20]+`\n`+secret[20:])),
		"secret in base64 twice":   ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", base64.StdEncoding.EncodeToString([]byte(secret)))),
		"secret 16 bytes":          ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", base64.StdEncoding.EncodeToString(keySecret(1)[:16]))),
		"secret missing":           `{"version":1,"primary":"1a2b3c4d","keys":[{"id":"1a2b3c4d"}]}`,
		"primary missing":          `{"version":1,"keys":[` + good + `]}`,
		"primary not in ring":      ringDoc("1", "5e6f7a8b", good),
		"keys empty":               ringDoc("1", "1a2b3c4d"),
		"primary with promote_at":  ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", secret, `,"promote_at":"2099-01-01T00:00:00Z"`)),
		"promote_at not rfc3339":   ringDoc("1", "1a2b3c4d", good, keyDoc("5e6f7a8b", base64.StdEncoding.EncodeToString(keySecret(2)), `,"promote_at":"tomorrow"`)),
		"promote_at number":        ringDoc("1", "1a2b3c4d", good, keyDoc("5e6f7a8b", base64.StdEncoding.EncodeToString(keySecret(2)), `,"promote_at":1`)),
		"upper-case hex id":        ringDoc("1", "1A2B3C4D", keyDoc("1A2B3C4D", secret)),
		"upper-case hex primary":   ringDoc("1", "1A2B3C4D", good),
		"member Version":           `{"Version":1,"primary":"1a2b3c4d","keys":[` + good + `]}`,
		"member PRIMARY":           `{"version":1,"PRIMARY":"1a2b3c4d","keys":[` + good + `]}`,
		"member Keys":              `{"version":1,"primary":"1a2b3c4d","Keys":[` + good + `]}`,
		"member ID":                ringDoc("1", "1a2b3c4d", `{"ID":"1a2b3c4d","secret":"`+secret+`"}`),
		"member Secret":            ringDoc("1", "1a2b3c4d", `{"id":"1a2b3c4d","Secret":"`+secret+`"}`),
		"member Promote_At":        ringDoc("1", "1a2b3c4d", good, keyDoc("5e6f7a8b", base64.StdEncoding.EncodeToString(keySecret(2)), `,"Promote_At":"2099-01-01T00:00:00Z"`)),
		"duplicate version":        `{"version":1,"version":1,"primary":"1a2b3c4d","keys":[` + good + `]}`,
		"duplicate primary":        `{"version":1,"primary":"5e6f7a8b","primary":"1a2b3c4d","keys":[` + good + `]}`,
		"duplicate keys":           `{"version":1,"primary":"1a2b3c4d","keys":[],"keys":[` + good + `]}`,
		"duplicate id member":      ringDoc("1", "1a2b3c4d", `{"id":"5e6f7a8b","id":"1a2b3c4d","secret":"`+secret+`"}`),
		"duplicate secret member":  ringDoc("1", "1a2b3c4d", `{"id":"1a2b3c4d","secret":"AAAA","secret":"`+secret+`"}`),
		"duplicate promote_at":     ringDoc("1", "1a2b3c4d", good, keyDoc("5e6f7a8b", base64.StdEncoding.EncodeToString(keySecret(2)), `,"promote_at":"2099-01-01T00:00:00Z","promote_at":"2099-01-01T00:00:00Z"`)),
		"secret with CRLF":         ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", secret[:20]+`\r\n`+secret[20:])),
		"secret with LF":           ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", secret[:20]+`\n`+secret[20:])),
		"secret with a space":      ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", secret[:20]+` `+secret[20:])),
		"secret with a tab":        ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", secret[:20]+`\t`+secret[20:])),
		"secret trailing newline":  ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", secret+`\n`)),
		"version 1.0":              ringDoc("1.0", "1a2b3c4d", good),
		"version 1e0":              ringDoc("1e0", "1a2b3c4d", good),
		"version 1E0":              ringDoc("1E0", "1a2b3c4d", good),
		"version 10e-1":            ringDoc("10e-1", "1a2b3c4d", good),
		"version -1":               ringDoc("-1", "1a2b3c4d", good),
		"version 01":               ringDoc("01", "1a2b3c4d", good),
		"version null":             ringDoc("null", "1a2b3c4d", good),
		"version true":             ringDoc("true", "1a2b3c4d", good),
		"primary null":             `{"version":1,"primary":null,"keys":[` + good + `]}`,
		"primary number":           `{"version":1,"primary":1,"keys":[` + good + `]}`,
		"keys object":              `{"version":1,"primary":"1a2b3c4d","keys":{"k":` + good + `}}`,
		"keys of strings":          `{"version":1,"primary":"1a2b3c4d","keys":["` + secret + `"]}`,
		"key array":                `{"version":1,"primary":"1a2b3c4d","keys":[["1a2b3c4d","` + secret + `"]]}`,
		"promote_at null":          ringDoc("1", "1a2b3c4d", good, keyDoc("5e6f7a8b", base64.StdEncoding.EncodeToString(keySecret(2)), `,"promote_at":null`)),
		"promote_at empty":         ringDoc("1", "1a2b3c4d", good, keyDoc("5e6f7a8b", base64.StdEncoding.EncodeToString(keySecret(2)), `,"promote_at":""`)),
		"promote_at date only":     promoteDoc("2099-01-01"),
		"promote_at no zone":       promoteDoc("2099-01-01T00:00:00"),
		"promote_at lower t":       promoteDoc("2099-01-01t00:00:00Z"),
		"promote_at lower z":       promoteDoc("2099-01-01T00:00:00z"),
		"promote_at space":         promoteDoc("2099-01-01 00:00:00Z"),
		"promote_at no seconds":    promoteDoc("2099-01-01T00:00Z"),
		"promote_at comma":         promoteDoc("2099-01-01T00:00:00,5Z"),
		"promote_at bare dot":      promoteDoc("2099-01-01T00:00:00.Z"),
		"promote_at 10 digits":     promoteDoc("2099-01-01T00:00:00.1234567891Z"),
		"promote_at offset +24":    promoteDoc("2099-01-01T00:00:00+24:00"),
		"promote_at offset :60":    promoteDoc("2099-01-01T00:00:00+05:60"),
		"promote_at offset +0100":  promoteDoc("2099-01-01T00:00:00+0100"),
		"promote_at hour 24":       promoteDoc("2099-01-01T24:00:00Z"),
		"promote_at leap second":   promoteDoc("2098-12-31T23:59:60Z"),
		"promote_at February 30":   promoteDoc("2099-02-30T00:00:00Z"),
		"promote_at year 0 UTC":    promoteDoc("0000-06-01T00:00:00Z"),
		"promote_at before year 1": promoteDoc("0001-01-01T00:30:00+01:00"),
		"promote_at year 1":        promoteDoc("0001-01-01T00:00:00Z"),
		"promote_at 1969":          promoteDoc("1969-12-31T23:59:59Z"),
		"promote_at 1970 by zone":  promoteDoc("1970-01-01T00:30:00+01:00"),
		"promote_at after 9999":    promoteDoc("9999-12-31T23:30:00-01:00"),
		"promote_at 5-digit year":  promoteDoc("10000-01-01T00:00:00Z"),
		"promote_at signed year":   promoteDoc("+2099-01-01T00:00:00Z"),
		"byte order mark":          "\ufeff" + ringDoc("1", "1a2b3c4d", good),
		"UTF-16 byte order mark":   "\xff\xfe{\x00}\x00",
		"UTF-16LE without a mark":  "{\x00\"\x00v\x00",
		"YAML":                     "version: 1\nprimary: \"1a2b3c4d\"\nkeys:\n  - id: \"1a2b3c4d\"\n    secret: \"" + secret + "\"\n",
		"a Kubernetes manifest":    "apiVersion: v1\nkind: Secret\nstringData:\n  ring.json: |\n    " + ringDoc("1", "1a2b3c4d", good) + "\n",
		"leading comment //":       "// the ring\n" + ringDoc("1", "1a2b3c4d", good),
		"leading comment #":        "# the ring\n" + ringDoc("1", "1a2b3c4d", good),
		"UTF-16BE without a mark":  "\x00{\x00\"\x00v",
		"UTF-16LE, space first":    " \x00{\x00\"\x00",
		"empty keys":               ringDoc("1", "1a2b3c4d"),
		"keys null":                `{"version":1,"primary":"1a2b3c4d","keys":null}`,
		"too many keys":            ringDoc("1", "00000001", many...),
		"trailing object":          ringDoc("1", "1a2b3c4d", good) + `{}`,
		"trailing garbage":         ringDoc("1", "1a2b3c4d", good) + `x`,
		"trailing brace":           ringDoc("1", "1a2b3c4d", good) + `}`,
		"trailing bracket":         ringDoc("1", "1a2b3c4d", good) + `]`,
		"trailing comment":         ringDoc("1", "1a2b3c4d", good) + "\n# rotated in May\n",
		"two rings joined":         ringDoc("1", "1a2b3c4d", good) + "\n" + ringDoc("1", "1a2b3c4d", good) + "\n",
		"merge conflict":           "<<<<<<< HEAD\n" + ringDoc("1", "1a2b3c4d", good) + "\n=======\n" + ringDoc("1", "1a2b3c4d", good) + "\n>>>>>>> rotate\n",
		"merge conflict inside":    `{"version":1,"primary":"1a2b3c4d","keys":[` + "\r\n<<<<<<< ours\r\n" + good + "\r\n=======\r\n" + good + "\r\n>>>>>>> theirs\r\n]}",
		"truncated":                ringDoc("1", "1a2b3c4d", good)[:40],
		"secret and id swapped":    ringDoc("1", "1a2b3c4d", keyDoc(secret, "1a2b3c4d")),
		"secret pasted as primary": ringDoc("1", secret, good),
		"secret as promote_at":     promoteDoc(secret),
		"secret all zero":          ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", zeroSecret)),
		"open-only secret zero":    ringDoc("1", "1a2b3c4d", good, keyDoc("5e6f7a8b", zeroSecret)),
	}
}

// TestParseKeyRingHostile checks that every hostile text form is refused
// with an error that does not echo a secret.
func TestParseKeyRingHostile(t *testing.T) {
	keyForID(t, 0x1a2b3c4d) // registers the secret for checkErrRules
	for name, doc := range hostileRingDocs() {
		t.Run(name, func(t *testing.T) {
			ring, err := cookiesession.ParseKeyRing([]byte(doc))
			checkErrRules(t, err)
			if err == nil {
				t.Fatalf("ParseKeyRing accepted %s as %v", doc, ring)
			}
			if n := strings.Count(err.Error(), "cookiesession:"); n != 1 {
				t.Errorf("error %q carries the prefix %d times", err, n)
			}
		})
	}
}

// TestParseKeyRingErrorsNameTheRule checks that a refusal says which rule
// of FORMAT.md section 6 the text broke.
func TestParseKeyRingErrorsNameTheRule(t *testing.T) {
	docs := hostileRingDocs()
	for name, want := range map[string]string{
		"member Version":           `the key ring has a member "Version"; the name is "version"`,
		"member ID":                `keys[0] has a member "ID"; the name is "id"`,
		"unknown key field":        "keys[0] has an unknown member (of 4 bytes); the members are \"id\", \"secret\", \"promote_at\"",
		"duplicate primary":        `the key ring has the member "primary" twice`,
		"duplicate secret member":  `keys[0] has the member "secret" twice`,
		"secret with CRLF":         "key 1a2b3c4d: secret is not 32 bytes in padded standard base64 (44 characters, nothing else): it holds a space, tab or line break (pasted with one): remove it",
		"secret 31 bytes":          "key 1a2b3c4d: secret is not 32 bytes in padded standard base64 (44 characters, nothing else): it decodes to 31 bytes, and a key is 32 bytes from a random source (a secret made for another library or purpose): make a key with cookiesession add (a new id)",
		"secret 16 bytes":          "it decodes to 16 bytes, and a key is 32 bytes",
		"secret empty":             "secret is not 32 bytes in padded standard base64 (44 characters, nothing else): it is empty",
		"secret not base64":        "it holds a character outside standard base64 (A-Z, a-z, 0-9, + and /, then =)",
		"secret url alphabet":      "it is in base64's URL-safe alphabet (- and _): write + for each - and / for each _, and end it with = (44 characters)",
		"secret unpadded":          "it lacks the = that ends it: add it (44 characters)",
		"secret non-canonical":     "its last character before the = has bits set that base64 never writes for 32 bytes (a character changed by hand)",
		"secret hex":               "it is 64 hex digits, the 32 bytes in hex (as openssl rand -hex 32 writes them): write the same bytes in standard base64 (echo HEX | xxd -r -p | base64)",
		"secret with a space":      "it holds a space, tab or line break (pasted with one): remove it",
		"secret, trailing space":   "it holds a space, tab or line break (pasted with one): remove it",
		"secret with a line break": "it holds a space, tab or line break (pasted with one): remove it",
		"secret in base64 twice":   "it is encoded twice (base64 of the secret's text): write the text it decodes to (base64 -d)",
		"UTF-16LE without a mark":  "the text is UTF-16 without a byte-order mark (a NUL byte beside each character): save it as UTF-8",
		"YAML":                     "the text is YAML (lines of name: value), not the ring's JSON text form: write the ring as JSON, as cookiesession keygen does (yq -o json converts it)",
		"a Kubernetes manifest":    "the text is a Kubernetes manifest (YAML), not the ring: mount the Secret as a volume and name the ring's file in it",
		"leading comment //":       "the text starts with a comment (// or #), which the ring's JSON text form does not allow: remove it, so that the text starts with {",
		"leading comment #":        "the text starts with a comment (// or #)",
		"UTF-16BE without a mark":  "the text is UTF-16 without a byte-order mark (a NUL byte beside each character): save it as UTF-8",
		"UTF-16LE, space first":    "the text is UTF-16 without a byte-order mark",
		"version 1.0":              `key ring version is not 1, the only version supported: it is 1 written with a fraction or an exponent (1.0, 1e0); write "version": 1, as cookiesession keygen does`,
		"upper-case hex id":        "not 8 lower-case hex digits: it has upper-case letters; write them in lower case (primary)",
		"key id 7 hex":             "key id of 7 characters is not 8 lower-case hex digits (keys[1].id)",
		"key id zero":              "key id 00000000 is reserved (keys[1].id)",
		"promote_at null":          "keys[1].promote_at is not a string",
		"promote_at empty":         "keys[1].promote_at is empty; leave it out instead",
		"promote_at comma":         "key 5e6f7a8b: promote_at is not an RFC 3339 time",
		"primary with promote_at":  "primary key 1a2b3c4d cannot have a promotion time: remove it",
		"version missing":          `the key ring has no member "version"`,
		"too many keys":            "more than 256 keys: remove the keys whose sessions have expired (cookiesession remove)",
		"trailing object":          "data after the JSON object: a second object follows the ring (two rings joined, by a merge that kept both sides or by >> for >): a text holds one ring: merge the two into one, keeping each key either held",
		"two rings joined":         "data after the JSON object: a second object follows the ring (two rings joined",
		"trailing comment":         "data after the JSON object: remove what follows the ring's closing brace (the text form has no comments)",
		"trailing garbage":         "data after the JSON object: remove what follows the ring's closing brace",
		"merge conflict":           "the text holds a merge conflict's markers (<<<<<<<, =======, >>>>>>>): resolve the conflict into one ring",
		"merge conflict inside":    "the text holds a merge conflict's markers",
		"byte order mark":          "the text starts with a UTF-8 byte-order mark; save it without one",
		"UTF-16 byte order mark":   "the text is UTF-16 (it starts with a byte-order mark); save it as UTF-8 without one",
		"version 0":                "it is 0; write",
		"version as string":        `it is not a number; write "version": 1`,
		"version 2":                "it is 2, a format this release does not read (written by a newer release?): upgrade this program",
		"primary not in ring":      "primary key 5e6f7a8b is not in the ring, which holds 1a2b3c4d: make the primary the key that seals now",
		"keys empty":               "key ring has no keys: a ring holds at least its primary; cookiesession keygen writes one",
	} {
		_, err := cookiesession.ParseKeyRing([]byte(docs[name]))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to say %q", name, err, want)
		}
	}
}

// TestNotYAMLWithoutColonSpace: a text whose first line holds a colon was
// called YAML, and told to convert with yq, though YAML's name: value
// needs a space or a line end after the colon: a URL or a Windows path
// given for the ring is no YAML. A YAML mapping still is.
func TestNotYAMLWithoutColonSpace(t *testing.T) {
	for _, text := range []string{"https://vault.example.com/v1/secret/data/ring", `C:\keys\ring.json`, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ring"} {
		if _, err := cookiesession.ParseKeyRing([]byte(text)); err == nil || strings.Contains(err.Error(), "YAML") {
			t.Errorf("%s: err = %v, which calls it YAML", text, err)
		}
	}
	for _, text := range []string{"version: 1\nkeys:\n", "keys:\n  - id: x\n", "version:\t1\n"} {
		if _, err := cookiesession.ParseKeyRing([]byte(text)); err == nil || !strings.Contains(err.Error(), "the text is YAML") {
			t.Errorf("%q: err = %v, want it called YAML", text, err)
		}
	}
}

// TestSecretLengthNamed: a secret whose characters are all standard
// base64's, but that lost or gained one in the copy (43 characters ending
// in =, 45 with == at the end, an = at the start), was said to hold "a
// character outside standard base64", which the operator cannot find in
// it. The error names its length and the fix, no byte of it.
func TestSecretLengthNamed(t *testing.T) {
	keyForID(t, 0x1a2b3c4d) // registers the secret for checkErrRules
	std := base64.StdEncoding.EncodeToString(keySecret(0x1a2b3c4d))
	for _, secret := range []string{std[:20] + std[21:], std + "=", "=" + std, std[:43] + "=="} {
		_, err := cookiesession.ParseKeyRing([]byte(ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", secret))))
		checkErrRules(t, err)
		want := fmt.Sprintf("it is %d characters of standard base64, where a key's secret is 44 ending in one = (a character lost or added in the copy, or an = out of place): copy it again from where it came from", len(secret))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("secret of %d characters: err = %v, want it to say %q", len(secret), err, want)
		}
	}
	_, err := cookiesession.ParseKeyRing([]byte(ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", std[:43]+"."))))
	if err == nil || !strings.Contains(err.Error(), "it holds a character outside standard base64") {
		t.Errorf("a secret with a .: err = %v", err)
	}
}

// TestRingVersionNamed: a version other than 1 was refused as "not 1"
// alone, which does not tell a ring from a newer release (upgrade) from a
// hand-written 1.0 (respell it). The error says which, without echoing the
// number's text beyond one digit: a secret in hex pasted there unquoted
// is read as a number up to its first letter but e (294e7398...), and its
// digits are the secret's; js/ says the same words.
func TestRingVersionNamed(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString(keySecret(0x1a2b3c4d))
	hexSecret := hex.EncodeToString(keySecret(0x1a2b3c4d))
	const msg = "cookiesession: key ring version is not 1, the only version supported: "
	const respell = `; write "version": 1, as cookiesession keygen does`
	for version, want := range map[string]string{
		"1.0":                    msg + "it is 1 written with a fraction or an exponent (1.0, 1e0)" + respell,
		"1e0":                    msg + "it is 1 written with a fraction or an exponent (1.0, 1e0)" + respell,
		"0":                      msg + "it is 0" + respell,
		"-1":                     msg + "it is negative" + respell,
		"2":                      msg + "it is 2, a format this release does not read (written by a newer release?): upgrade this program to the release that wrote the ring",
		"2.5":                    msg + "it is a number other than 1 written with a fraction or an exponent" + respell,
		"12":                     msg + "it is a number of 2 digits, past any version a release writes" + respell,
		strings.Repeat("9", 300): msg + "it is a number of 300 digits, past any version a release writes" + respell,
		"294e7398":               msg + "it is a number other than 1 written with a fraction or an exponent" + respell,
	} {
		_, err := cookiesession.ParseKeyRing([]byte(ringDoc(version, "1a2b3c4d", keyDoc("1a2b3c4d", secret))))
		if err == nil || err.Error() != want {
			t.Errorf("version %.20s: err = %v, want %q", version, err, want)
		}
	}
	// A hex secret given unquoted as the version: none of its digits is echoed.
	for _, s := range []string{hexSecret, strings.ToUpper(hexSecret), "1234567890" + hexSecret[10:]} {
		_, err := cookiesession.ParseKeyRing([]byte(ringDoc(s, "1a2b3c4d", keyDoc("1a2b3c4d", secret))))
		if err == nil || strings.Contains(err.Error(), s[:4]) {
			t.Errorf("a hex secret as the version: err = %v, echoes its digits %q", err, s[:4])
		}
	}
}

// promoteDoc is a ring whose second key is scheduled at the text at.
func promoteDoc(at string) string {
	return ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", base64.StdEncoding.EncodeToString(keySecret(0x1a2b3c4d))),
		keyDoc("5e6f7a8b", base64.StdEncoding.EncodeToString(keySecret(2)), `,"promote_at":"`+at+`"`))
}

// TestParseKeyRingAccepts lists the inputs FORMAT.md section 6 allows that
// MarshalJSON does not write.
func TestParseKeyRingAccepts(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString(keySecret(0x1a2b3c4d))
	other := base64.StdEncoding.EncodeToString(keySecret(2))
	good := keyDoc("1a2b3c4d", secret)
	for name, row := range map[string]struct {
		doc       string
		promoteAt time.Time
	}{
		"trailing newline":      {doc: ringDoc("1", "1a2b3c4d", good) + "\n"},
		"surrounding spaces":    {doc: " \t" + ringDoc("1", "1a2b3c4d", good) + "\r\n "},
		"spaces between tokens": {doc: "{ \"version\" : 1 ,\n\t\"primary\" : \"1a2b3c4d\" , \"keys\" : [ " + good + " ] }"},
		"members in any order":  {doc: `{"keys":[{"secret":"` + secret + `","id":"1a2b3c4d"}],"primary":"1a2b3c4d","version":1}`},
		"escaped member name":   {doc: `{"\u0076ersion":1,"primary":"1a2b3c4d","keys":[{"\u0069d":"1a2b3c4d","secret":"` + secret + `"}]}`},
		"escaped value":         {doc: ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", `\u0`+fmt.Sprintf("%03x", secret[0])+secret[1:]))},
		"promote_at in a zone":  {doc: promoteDoc("2099-01-01T02:00:00+02:00"), promoteAt: farFuture},
		"promote_at -00:00":     {doc: promoteDoc("2099-01-01T00:00:00-00:00"), promoteAt: farFuture},
		"promote_at fraction":   {doc: promoteDoc("2098-12-31T23:59:59.999999999Z"), promoteAt: farFuture.Add(-time.Nanosecond)},
		"promote_at .0":         {doc: promoteDoc("2099-01-01T00:00:00.0Z"), promoteAt: farFuture},
		"promote_at 1970":       {doc: promoteDoc("1970-01-01T00:00:00Z"), promoteAt: time.Unix(0, 0)},
		"promote_at 9999":       {doc: promoteDoc("9999-12-31T23:59:59.999999999Z"), promoteAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		"promote_at other key":  {doc: ringDoc("1", "1a2b3c4d", keyDoc("5e6f7a8b", other, `,"promote_at":"2099-01-01T00:00:00Z"`), good), promoteAt: farFuture},
	} {
		ring, err := cookiesession.ParseKeyRing([]byte(row.doc))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		before := fixedNow
		if !row.promoteAt.IsZero() {
			before = row.promoteAt.Add(-time.Nanosecond)
		}
		if ring.PrimaryAt(before) != 0x1a2b3c4d {
			t.Errorf("%s: primary %08x at %v", name, ring.PrimaryAt(before), before)
		}
		if !row.promoteAt.IsZero() && ring.PrimaryAt(row.promoteAt) != 0x5e6f7a8b {
			t.Errorf("%s: key not promoted at %v", name, row.promoteAt)
		}
	}
}

// TestParseKeyRingResultRemarshals checks that whatever ParseKeyRing
// accepts, MarshalJSON can write back: promotion times at the edges of
// what JSON times can hold.
func TestParseKeyRingResultRemarshals(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString(keySecret(0x1a2b3c4d))
	other := base64.StdEncoding.EncodeToString(keySecret(2))
	for _, at := range []string{
		"0000-01-01T00:00:00Z",
		"0000-01-01T00:00:00+01:00",
		"9999-12-31T23:59:59Z",
		"9999-12-31T23:30:00-01:00",
	} {
		doc := ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", secret), keyDoc("5e6f7a8b", other, `,"promote_at":"`+at+`"`))
		ring, err := cookiesession.ParseKeyRing([]byte(doc))
		if err != nil {
			continue // refusing it is fine too
		}
		data, err := ring.MarshalJSON()
		if err != nil {
			t.Errorf("promote_at %s: ParseKeyRing accepted it but MarshalJSON fails: %v", at, err)
			continue
		}
		if _, err := cookiesession.ParseKeyRing(data); err != nil {
			t.Errorf("promote_at %s: re-parse: %v", at, err)
		}
	}
}

// TestParseKeyID is the table for the 8-hex-digit id form.
func TestParseKeyID(t *testing.T) {
	for in, want := range map[string]uint32{
		"1a2b3c4d": 0x1a2b3c4d, "00000001": 1, "ffffffff": 0xffffffff, "00ab12cd": 0x00ab12cd, "FFFFFFFF": 0, "1A2B3C4D": 0, "1a2B3c4d": 0,
		"00000000": 0, "1a2b3c4": 0, "1a2b3c4d0": 0, "": 0, "zzzzzzzz": 0, "+1a2b3c4": 0, "0x1a2b3c": 0, "1a2b_3c4": 0,
	} {
		got, err := cookiesession.ParseKeyID(in)
		checkErrRules(t, err)
		if got != want || (err == nil) != (want != 0) {
			t.Errorf("ParseKeyID(%q) = %08x, %v; want %08x", in, got, err, want)
		}
	}
}

// TestNewKey covers key construction: validation, and that the secret is
// copied so the caller may wipe its buffer.
func TestNewKey(t *testing.T) {
	for name, row := range map[string]struct {
		id     uint32
		secret []byte
	}{
		"id zero":   {0, keySecret(1)},
		"nil":       {1, nil},
		"31 bytes":  {1, keySecret(1)[:31]},
		"33 bytes":  {1, append(keySecret(1), 1)},
		"64 bytes":  {1, append(keySecret(1), keySecret(2)...)},
		"16 bytes":  {1, keySecret(1)[:16]},
		"empty key": {1, []byte{}},
		"all zero":  {1, make([]byte, cookiesession.KeySize)},
	} {
		k, err := cookiesession.NewKey(row.id, row.secret)
		checkErrRules(t, err)
		if err == nil || !k.IsZero() {
			t.Errorf("%s: NewKey succeeded", name)
		}
	}
	secret := keySecret(0x0000abcd)
	k, err := cookiesession.NewKey(0x0000abcd, secret)
	if err != nil {
		t.Fatal(err)
	}
	clear(secret)
	ring, _ := cookiesession.NewKeyRing(k)
	token := sealAt(t, newTestCodec(t, ring, cookiesession.CodecOptions{}), &cookiesession.Record{}, fixedNow)
	openAt(t, newTestCodec(t, ringOf(t, 0x0000abcd), cookiesession.CodecOptions{}), token, fixedNow)
}

// zeroSecret is a secret of 32 zero bytes as a ring's text holds it: a
// placeholder pasted in, or a buffer never filled and then written out.
var zeroSecret = base64.StdEncoding.EncodeToString(make([]byte, cookiesession.KeySize))

// TestZeroSecretRefused: anyone can seal a token under a secret of 32
// zero bytes, so every way a key comes in refuses it, naming the key and
// the fix, without echoing the secret.
func TestZeroSecretRefused(t *testing.T) {
	_, err := cookiesession.NewKey(1, make([]byte, cookiesession.KeySize))
	checkErrRules(t, err)
	if err == nil || !strings.Contains(err.Error(), "secret is all zero bytes") || !strings.Contains(err.Error(), "crypto/rand") {
		t.Errorf("NewKey of zero bytes: %v, want an error naming crypto/rand", err)
	}
	text := ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", base64.StdEncoding.EncodeToString(keySecret(0x1a2b3c4d))), keyDoc("5e6f7a8b", zeroSecret))
	path := filepath.Join(t.TempDir(), "keys.json")
	writeFileAtomic(t, path, []byte(text), fixedNow)
	t.Setenv(cookiesession.EnvKeys, text)
	for how, load := range map[string]func() (*cookiesession.KeyRing, error){
		"ParseKeyRing":    func() (*cookiesession.KeyRing, error) { return cookiesession.ParseKeyRing([]byte(text)) },
		"LoadKeyRingFile": func() (*cookiesession.KeyRing, error) { return cookiesession.LoadKeyRingFile(path) },
		"LoadKeyRingEnv":  cookiesession.LoadKeyRingEnv,
	} {
		ring, err := load()
		checkErrRules(t, err)
		if ring != nil || err == nil || !strings.Contains(err.Error(), "key 5e6f7a8b: secret is all zero bytes") ||
			!strings.Contains(err.Error(), "cookiesession keygen") || strings.Contains(err.Error(), zeroSecret) {
			t.Errorf("%s: %v, %v; want an error naming key 5e6f7a8b and the fix", how, ring, err)
		}
	}
}

// TestReloadRefusesZeroSecret: a ring file that now holds a key of zero
// bytes is refused like one that does not parse, and the keys in force
// stay, so sessions keep opening and the failure is in ReloadStatus;
// WatchFile reports it.
func TestReloadRefusesZeroSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	writeFileAtomic(t, path, marshalRing(t, ringOf(t, keyA)), fixedNow)
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := newTestCodec(t, ring, cookiesession.CodecOptions{})
	token := sealAt(t, c, &cookiesession.Record{}, fixedNow)
	for name, text := range map[string]string{
		"the primary zero":  ringDoc("1", "5e6f7a8b", keyDoc("5e6f7a8b", zeroSecret)),
		"an added key zero": ringDoc("1", "1a2b3c4d", keyDoc("1a2b3c4d", base64.StdEncoding.EncodeToString(keySecret(keyA))), keyDoc("5e6f7a8b", zeroSecret)),
	} {
		writeFileAtomic(t, path, []byte(text), fixedNow)
		err := ring.ReloadFile(path)
		checkErrRules(t, err)
		if err == nil || !strings.Contains(err.Error(), "key 5e6f7a8b: secret is all zero bytes") || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: ReloadFile = %v, want an error naming the key and the file", name, err)
		}
		if ring.Has(0x5e6f7a8b) || ring.Primary() != keyA {
			t.Errorf("%s: after the refused reload the ring is %v", name, ring)
		}
		openAt(t, c, token, fixedNow)
		if st := managerOn(t, ring, time.Now).Metrics().Reload; !strings.Contains(st.Error, "all zero bytes") {
			t.Errorf("%s: reload status %+v, want the refusal", name, st)
		}
	}
	writeFileAtomic(t, path, marshalRing(t, ringOf(t, keyA)), fixedNow)
	reports := make(chan error, 16)
	watchFile(t, ring, path, time.Millisecond, func(err error) {
		select {
		case reports <- err:
		default:
		}
	})
	awaitReport(t, reports, path, []byte(ringDoc("1", "5e6f7a8b", keyDoc("5e6f7a8b", zeroSecret))), func(err error) bool {
		if err == nil {
			t.Errorf("WatchFile took a ring whose key has a secret of zero bytes")
			return true
		}
		return strings.Contains(err.Error(), "key 5e6f7a8b: secret is all zero bytes")
	})
	if ring.Has(0x5e6f7a8b) {
		t.Errorf("after WatchFile's refusal the ring is %v", ring)
	}
	openAt(t, c, token, fixedNow)
}

// TestGenerateKey checks that generated keys have distinct non-zero ids
// and work.
func TestGenerateKey(t *testing.T) {
	seen := map[uint32]bool{}
	for range 64 {
		k, err := cookiesession.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		if k.ID() == 0 || seen[k.ID()] || k.IsZero() {
			t.Fatalf("GenerateKey gave id %08x again or zero", k.ID())
		}
		seen[k.ID()] = true
		if want := fmt.Sprintf("cookiesession.Key(%08x)", k.ID()); k.String() != want {
			t.Errorf("String() = %q, want %q", k.String(), want)
		}
	}
}

// secretHolders returns keys and rings in every container a program might
// print: a Key inside an unexported struct field, where fmt cannot call the
// Key's own methods, at several depths, in slices, arrays, maps and
// pointers, and behind an interface.
func secretHolders(t *testing.T) map[string]any {
	k := keyForID(t, 0x1a2b3c4d)
	ring := ringOf(t, 0x1a2b3c4d, 0x5e6f7a8b)
	type holder struct {
		name   string
		key    cookiesession.Key
		keyPtr *cookiesession.Key
		keys   []cookiesession.Key
		byName map[string]cookiesession.Key
		byKey  map[cookiesession.Key]int
		array  [1]cookiesession.Key
		iface  any
		ring   *cookiesession.KeyRing
	}
	type nested struct{ inner struct{ h *holder } }
	type exported struct {
		Key  cookiesession.Key
		Keys []cookiesession.Key
		Ptr  *cookiesession.Key
	}
	h := holder{"h", k, &k, []cookiesession.Key{k}, map[string]cookiesession.Key{"k": k},
		map[cookiesession.Key]int{k: 1}, [1]cookiesession.Key{k}, k, ring}
	var deep nested
	deep.inner.h = &h
	return map[string]any{
		"Key":               k,
		"*Key":              &k,
		"**Key":             ptrTo(&k),
		"*KeyRing":          ring,
		"[]Key":             []cookiesession.Key{k},
		"[]*Key":            []*cookiesession.Key{&k},
		"map of Key":        map[string]cookiesession.Key{"k": k},
		"map keyed by Key":  map[cookiesession.Key]string{k: "v"},
		"unexported field":  h,
		"*unexported":       &h,
		"[]unexported":      []holder{h},
		"map of unexported": map[string]*holder{"h": &h},
		"nested unexported": deep,
		"*nested":           &deep,
		"exported field":    exported{k, []cookiesession.Key{k}, &k},
		"[]KeyInfo":         ring.Keys(),
		"error":             fmt.Errorf("wrapped: %w", errors.New(fmt.Sprint(h))),
	}
}

// printVerbs is every verb fmt has for the kinds a Key holds, with flags.
var printVerbs = []string{
	"%v", "%+v", "%#v", "%s", "%q", "%+q", "%#q", "%x", "%X", "% x", "%#x", "%08x",
	"%t", "%d", "%+d", "%o", "%O", "%b", "%f", "%e", "%E", "%g", "%G", "%c", "%U", "%#U", "%T", "%p",
}

// secretShapes lists how fmt would spell part of a secret with verb: the
// verb applied to 8 of its bytes, with the brackets of the slice removed,
// so that a leak is caught whatever form the verb prints (a decimal list,
// hex, characters, code points, or %!verb(uint8=…) complaints).
func secretShapes(verb string, secret []byte) []string {
	part := [8]byte(secret[8:16])
	text := fmt.Sprintf(verb, part)
	if i := strings.IndexByte(text, '{'); i >= 0 && strings.HasSuffix(text, "}") {
		text = text[i+1 : len(text)-1] // %#v: [8]uint8{0x2f, …}
	} else {
		text = strings.Trim(text, "[]\"`")
	}
	return append(secretForms(secret), text, fmt.Sprint(secret[8:16]), fmt.Sprintf("%v", part)[1:20])
}

// assertNoSecretShape fails if text holds key 1a2b3c4d's secret as verb
// would print it, or in any form assertNoSecret knows.
func assertNoSecretShape(t *testing.T, what, verb, text string) {
	t.Helper()
	for _, shape := range secretShapes(verb, keySecret(0x1a2b3c4d)) {
		if len(shape) >= 8 && strings.Contains(text, shape) {
			t.Errorf("%s shows the secret (as %q): %s", what, shape, text)
		}
	}
	assertNoSecret(t, what, text)
}

// TestSecretsNeverPrinted formats keys and rings with every fmt verb, in
// every container of secretHolders.
func TestSecretsNeverPrinted(t *testing.T) {
	for name, subject := range secretHolders(t) {
		for _, verb := range printVerbs {
			assertNoSecretShape(t, name+" "+verb, verb, fmt.Sprintf(verb, subject))
		}
	}
	k := keyForID(t, 0x1a2b3c4d)
	if out := fmt.Sprintf("%v %+v %#v %s", k, k, k, k); strings.Count(out, "1a2b3c4d") != 4 {
		t.Errorf("fmt of a Key should show its id each time: %q", out)
	}
}

// TestSecretShapesCatchALeak checks the sweep's detector against the bytes
// it must catch: the secret itself, printed with each verb.
func TestSecretShapesCatchALeak(t *testing.T) {
	secret := keySecret(0x1a2b3c4d)
	type leaky struct{ secret [32]byte }
	for _, verb := range printVerbs {
		if verb == "%T" || verb == "%p" {
			continue // print no value
		}
		out := fmt.Sprintf(verb, leaky{[32]byte(secret)})
		caught := false
		for _, shape := range secretShapes(verb, secret) {
			caught = caught || len(shape) >= 8 && strings.Contains(out, shape)
		}
		if !caught {
			t.Errorf("%s: the detector misses %s", verb, out)
		}
	}
}

// TestSecretsNeverLogged logs keys and rings through slog's text and JSON
// handlers, as an operator would when debugging a rotation.
func TestSecretsNeverLogged(t *testing.T) {
	for name, subject := range secretHolders(t) {
		for handler, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
			"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var buf bytes.Buffer
			slog.New(newHandler(&buf)).Info("rotating", "value", subject, slog.Group("g", "value", subject))
			assertNoSecretShape(t, name+" through the slog "+handler+" handler", "%v", buf.String())
		}
	}
}

// TestKeyInfoJSON checks that KeyInfo, the ring's description, marshals
// without secrets.
func TestKeyInfoJSON(t *testing.T) {
	ring := ringOf(t, 0x1a2b3c4d, 0x5e6f7a8b)
	data, err := json.Marshal(ring.KeysAt(fixedNow))
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecretShape(t, "KeyInfo JSON", "%v", string(data))
	want := `[{"id":"1a2b3c4d","primary":true,"fingerprint":"a29385f00e67"},{"id":"5e6f7a8b","primary":false,"fingerprint":"1ff0c8e94afc"}]`
	if string(data) != want {
		t.Errorf("KeyInfo JSON = %s, want %s", data, want)
	}
	at := time.Date(2026, 12, 1, 15, 0, 0, 0, time.FixedZone("CET", 3600))
	data, err = json.Marshal(cookiesession.KeyInfo{ID: 0x0badc0de, PromoteAt: at})
	if want := `{"id":"0badc0de","primary":false,"promote_at":"2026-12-01T14:00:00Z"}`; err != nil || string(data) != want {
		t.Errorf("scheduled KeyInfo JSON = %s (%v), want %s", data, err, want)
	}
}

// TestLoadKeyRingEnv covers the env var: set, unset, empty and bad.
func TestLoadKeyRingEnv(t *testing.T) {
	ring := ringOf(t, 0x1a2b3c4d, 0x5e6f7a8b)
	data, _ := ring.MarshalJSON()
	t.Setenv(cookiesession.EnvKeys, string(data))
	got, err := cookiesession.LoadKeyRingEnv()
	if err != nil {
		t.Fatalf("LoadKeyRingEnv: %v", err)
	}
	if diff := cmp.Diff(ring.KeysAt(fixedNow), got.KeysAt(fixedNow), equateTimes); diff != "" {
		t.Errorf("env ring differs:\n%s", diff)
	}
	for name, value := range map[string]*string{"unset": nil, "empty": ptrTo(""), "bad": ptrTo(string(data[:len(data)-2]))} {
		if value == nil {
			os.Unsetenv(cookiesession.EnvKeys) // t.Setenv restores it afterwards
		} else {
			t.Setenv(cookiesession.EnvKeys, *value)
		}
		_, err := cookiesession.LoadKeyRingEnv()
		checkErrRules(t, err)
		if err == nil || !strings.Contains(err.Error(), "COOKIESESSION_KEYS") {
			t.Errorf("%s: err = %v, want an error naming COOKIESESSION_KEYS", name, err)
		}
		if name == "unset" && (err == nil || !strings.Contains(err.Error(), "the same on every instance") || !strings.Contains(err.Error(), "keygen")) {
			t.Errorf("unset: err = %v, want the fix: the ring's text, the same on every instance, made by keygen", err)
		}
	}
}

// TestLoadKeyRingEnvNearName: a .env line quoted whole, name and all,
// and read by docker run --env-file, which keeps the quotes, sets a
// variable whose name starts with the quote; a name in lower case or
// without its S is another variable. COOKIESESSION_KEYS was then "not
// set", and the operator, looking at a line that sets it, was told to set
// it. The error now names the variable that looks meant to be it, and
// never its value.
func TestLoadKeyRingEnvNearName(t *testing.T) {
	t.Setenv(cookiesession.EnvKeys, "") // restores it afterwards
	os.Unsetenv(cookiesession.EnvKeys)
	for _, name := range []string{`"COOKIESESSION_KEYS`, `'export COOKIESESSION_KEYS`, "cookiesession_keys", "COOKIESESSION_KEY", "COOKIE_SESSION_KEYS"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, `{"secret-looking":1}`)
			_, err := cookiesession.LoadKeyRingEnv()
			checkErrRules(t, err)
			want := fmt.Sprintf("cookiesession: COOKIESESSION_KEYS is not set, but the environment has a variable named %q, which looks meant to be it: name it COOKIESESSION_KEYS exactly", name)
			if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "secret-looking") {
				t.Errorf("err = %v, want %q, without the value", err, want)
			}
		})
	}
	t.Setenv("COOKIESESSION_KEYS_FILE", "/run/secrets/ring")
	if _, err := cookiesession.LoadKeyRingEnv(); err == nil || !strings.HasPrefix(err.Error(), "cookiesession: COOKIESESSION_KEYS is not set: set it") {
		t.Errorf("beside another variable of the package's: err = %v, want it not set", err)
	}
}

func ptrTo[T any](v T) *T { return &v }

// prettyRing returns ring's text indented, as the CLI writes it.
func prettyRing(t *testing.T, ring []byte) []byte {
	t.Helper()
	pretty := new(bytes.Buffer)
	if err := json.Indent(pretty, ring, "", "  "); err != nil {
		t.Fatal(err)
	}
	return pretty.Bytes()
}

// TestLoadKeyRingEnvNotText: COOKIESESSION_KEYS holds the ring's text, and
// the two ways it is commonly set wrong get an error that says how to set
// it right: a file's path instead of its content, and text saved with a
// byte-order mark. Other bad values keep the parser's error.
func TestLoadKeyRingEnvNotText(t *testing.T) {
	ring := marshalRing(t, ringOf(t, 0x1a2b3c4d))
	const asPath = "COOKIESESSION_KEYS looks like a file path, not the key ring's JSON text: set it to the file's content"
	const envTruncated = `a ring written on several lines (as the CLI writes it) keeps only its first line in a file of NAME=value lines (docker run --env-file, systemd's EnvironmentFile=), and an unquoted $(cat ring.json) among a command's arguments is cut at the first space: put the ring on one line (jq -c . ring.json) in such a file, or quote the expansion ("$(cat ring.json)")`
	for _, row := range []struct{ name, value, want string }{
		{"absolute path", "/etc/keys/ring.json", asPath},
		{"file name", "ring.json", asPath},
		{"relative path", "./keys/RING.JSON", asPath},
		{"no extension", "keys/ring", asPath},
		{"Windows path", `C:\keys\ring.json`, asPath},
		{"path and newline", " /etc/keys/ring.json\n", asPath},
		{"byte-order mark", "\ufeff" + string(ring), "the text starts with a UTF-8 byte-order mark; save it without one (from COOKIESESSION_KEYS)"},
		// The CLI writes a ring on several lines: a file of NAME=value
		// lines keeps the first, and a shell splits an unquoted $(cat)
		// at the first space. Neither is "a truncated file".
		{"truncated", string(ring[:20]), "COOKIESESSION_KEYS ends before the key ring does (length 20): " + envTruncated},
		{"the first line of the CLI's ring", "{", "COOKIESESSION_KEYS ends before the key ring does (length 1): " + envTruncated},
		{"a lone secret", base64.StdEncoding.EncodeToString(keySecret(0x1a2b3c4d)), "COOKIESESSION_KEYS holds a single secret (32 bytes in base64), not a key ring"},
		// A shell expansion that no shell ran (single quotes, docker run
		// --env-file, systemd's Environment=) got "invalid character '$'",
		// or, with a path inside, "looks like a file path" with the very
		// $(cat ...) the operator wrote as the fix.
		{"unexpanded", "$(cat ring.json)", `COOKIESESSION_KEYS holds a command substitution ($(...) or ` + "`...`" + `) that no shell expanded: inside single quotes, or in a file that no shell reads (docker run --env-file, a compose env_file, systemd's Environment= and EnvironmentFile=, a Kubernetes manifest), it stays as written: expand it in a shell, in double quotes (COOKIESESSION_KEYS="$(cat ring.json)"), or write the ring's text itself there, on one line (jq -c . ring.json)`},
		{"unexpanded, a path inside, quoted", `'$(cat /etc/app/ring.json)'`, "holds a command substitution ($(...) or `...`) that no shell expanded"},
		{"unexpanded backquotes", "`cat ring.json`", "holds a command substitution"},
		{"unexpanded $(<file)", "$(< ring.json)", "holds a command substitution"},
		{"unexpanded ${NAME}", "${RING}", "holds a variable reference (${...}, $env:...) that no shell expanded"},
		{"unexpanded $NAME", `"$RING"`, "holds a variable reference ($NAME) that no shell expanded"},
		{"unexpanded PowerShell", "$env:RING", "holds a variable reference (${...}, $env:...) that no shell expanded"},
		{"unexpanded cmd.exe", "%RING%", "holds a variable reference (%NAME%, as cmd.exe writes it) that no shell expanded"},
		{"empty", "", `COOKIESESSION_KEYS is set but empty: set it to the key ring's JSON text (COOKIESESSION_KEYS="$(cat ring.json)" sets it empty when the file cannot be read)`},
	} {
		t.Setenv(cookiesession.EnvKeys, row.value)
		_, err := cookiesession.LoadKeyRingEnv()
		checkErrRules(t, err)
		if err == nil || !strings.Contains(err.Error(), row.want) {
			t.Errorf("%s: err = %v, want it to say %q", row.name, err, row.want)
		}
		if strings.Contains(row.want, "ends before") && err != nil && strings.Contains(err.Error(), "truncated file") {
			t.Errorf("%s: err = %v names a file for a variable", row.name, err)
		}
		if row.want == asPath && (err == nil || !strings.Contains(err.Error(), `"$(cat ring.json)"`) || !strings.Contains(err.Error(), "LoadKeyRingFile")) {
			t.Errorf("%s: err = %v, want the $(cat ...) form and LoadKeyRingFile", row.name, err)
		}
	}
}

// TestRingTextUnexpanded: a ring passed as text, or written to its file,
// that is a shell or template expansion nothing ran (a configuration
// loader that keeps ${COOKIESESSION_KEYS} as written, an envsubst or a
// Helm value never rendered) got "invalid character '$' looking for
// beginning of value". ParseKeyRing and LoadKeyRingFile name it as
// LoadKeyRingEnv does, each with its own fix.
func TestRingTextUnexpanded(t *testing.T) {
	for _, text := range []string{"${COOKIESESSION_KEYS}", "$(cat ring.json)", "%RING%", "$RING\n", `"${RING}"`} {
		_, err := cookiesession.ParseKeyRing([]byte(text))
		checkErrRules(t, err)
		const wantText = "that nothing expanded (a configuration loader or a template that keeps it as written): pass the ring's text itself, expand it first (os.ExpandEnv), or load the ring with LoadKeyRingEnv or LoadKeyRingFile"
		if err == nil || !strings.Contains(err.Error(), "cookiesession: parsing key ring: the text is a ") || !strings.Contains(err.Error(), wantText) {
			t.Errorf("ParseKeyRing(%q) = %v, want it named as an expansion nothing ran, and %q", text, err, wantText)
		}
		path := filepath.Join(t.TempDir(), "ring.json")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = cookiesession.LoadKeyRingFile(path)
		checkErrRules(t, err)
		const wantFile = "that nothing expanded (a template not rendered, such as an envsubst or a Helm value): write the ring's text itself to the file (cookiesession keygen -out FILE)"
		if err == nil || !strings.Contains(err.Error(), "key ring file "+path+" holds a ") || !strings.Contains(err.Error(), wantFile) {
			t.Errorf("LoadKeyRingFile of %q = %v, want it named as an expansion nothing ran, and %q", text, err, wantFile)
		}
	}
}

// TestRingSyntaxErrorQuotesNoSecret checks that a secret written without
// its quotes is not echoed, not even its first byte, as the JSON
// decoder's "invalid character 'x'" did; other bytes are still quoted.
func TestRingSyntaxErrorQuotesNoSecret(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString(keySecret(0x1a2b3c4d))
	_, err := cookiesession.ParseKeyRing([]byte(`{"version":1,"primary":"1a2b3c4d","keys":[{"id":"1a2b3c4d","secret":` + secret + `}]}`))
	if err == nil || strings.Contains(err.Error(), "'"+secret[:1]+"'") || !strings.Contains(err.Error(), "must be a quoted string") {
		t.Errorf("unquoted secret: err = %v", err)
	}
	_, err = cookiesession.ParseKeyRing([]byte(`{"version":1,"primary":"1a2b3c4d","keys":[{"id":"1a2b3c4d","secret":"` + secret + `"}}`))
	if err == nil || !strings.Contains(err.Error(), "invalid character '}'") {
		t.Errorf("a brace for a bracket: err = %v", err)
	}
	// A bad escape is inside a quoted string: not one of a bare secret.
	_, err = cookiesession.ParseKeyRing([]byte(`{"version":1,"primary":"1a2b3c4d","keys":[{"id":"1a2b\x3c4d","secret":"` + secret + `"}]}`))
	if err == nil || !strings.Contains(err.Error(), "escape") || strings.Contains(err.Error(), "must be a quoted string") {
		t.Errorf("a bad escape in a quoted id: err = %v", err)
	}
}

// TestLoadKeyRingEnvWrapped: a ring quoted once too often (docker run
// --env-file keeps quotes, jq without -r writes a JSON string, a shell
// escapes them) or encoded in base64 (a Kubernetes Secret's data encoded
// twice) got only the parser's error about its first byte ("invalid
// character 'e'"). Each now gets an error that names the wrapping and the
// fix; a ring in YAML's folded form, with CRLF line ends or a trailing
// newline is valid JSON and loads. A whole .env line (a Secret made with
// kubectl --from-file from a .env file) is named too, and so is the text of
// a JSON or YAML string kept without its quotes, whose line breaks are the
// two characters \n (a SAM template's single-quoted scalar, a CLI's JSON
// output), which got only "invalid character '\\'".
func TestLoadKeyRingEnvWrapped(t *testing.T) {
	ring := marshalRing(t, ringOf(t, 0x1a2b3c4d, 0x5e6f7a8b))
	pretty := new(bytes.Buffer)
	if err := json.Indent(pretty, ring, "", "  "); err != nil {
		t.Fatal(err)
	}
	asString, _ := json.Marshal(string(ring))
	prettyString, _ := json.Marshal(pretty.String())
	lineString, _ := json.Marshal("COOKIESESSION_KEYS=" + string(ring))
	const lineBreaks = `with its line breaks written as \n`
	const quoted, escaped, encoded = "inside quotes that are part of the value", `with its quotes escaped as \"`, "encoded in base64: set it to the decoded JSON text"
	const dotEnv = "as a whole .env line (COOKIESESSION_KEYS=..., perhaps after export): set the variable to the value alone (a Kubernetes Secret made from a .env file: kubectl create secret generic --from-env-file, not --from-file)"
	const stray = "with a stray quote at its start or end, a quote opened and not closed or closed and not opened"
	const dotEnvStray = "as a whole .env line (COOKIESESSION_KEYS=..., perhaps after export) whose value has a stray quote at its start or end, a quote opened and not closed or closed and not opened: set the variable to the value alone, without the stray quote (a Kubernetes Secret made from a .env file: kubectl create secret generic --from-env-file, not --from-file; in the .env file, quote the value at both ends or at neither)"
	const dotEnvQuoted = `as a whole .env line inside quotes, name and all ("COOKIESESSION_KEYS={...}", perhaps after export): set the variable to the value alone, without the name, the = and the quotes around the line (in a .env file, quote the value alone: COOKIESESSION_KEYS='{...}'; a Kubernetes Secret made from a .env file: kubectl create secret generic --from-env-file, not --from-file)`
	const dotEnvLineStray = `as a whole .env line with a stray quote before its name, a quote opened and not closed ("COOKIESESSION_KEYS={..., perhaps after export): set the variable to the value alone, without the stray quote, the name and the = (a Kubernetes Secret made from a .env file: kubectl create secret generic --from-env-file, not --from-file; in the .env file, a line starts with the name, and only the value may be quoted: COOKIESESSION_KEYS='{...}')`
	for _, row := range []struct{ name, value, want string }{
		{"single quotes kept", "'" + string(ring) + "'", quoted},
		{"double quotes kept", `"` + string(ring) + `"`, quoted},
		{"a JSON string", string(asString), quoted},
		{"escaped quotes", strings.ReplaceAll(string(ring), `"`, `\"`), escaped},
		{"line breaks as \\n", strings.ReplaceAll(pretty.String(), "\n", `\n`), lineBreaks},
		{"a JSON string of the pretty text, quotes dropped", strings.Trim(string(prettyString), `"`), lineBreaks},
		{"line breaks as \\n, single-quoted (docker run --env-file keeps them)", "'" + strings.ReplaceAll(pretty.String(), "\n", `\n`) + "'", lineBreaks},
		{"line breaks as \\n, double-quoted around bare quotes", `"` + strings.ReplaceAll(pretty.String(), "\n", `\n`) + `"`, lineBreaks},
		{"base64", base64.StdEncoding.EncodeToString(ring), encoded},
		{"base64 in 76-column lines", wrapLines(base64.StdEncoding.EncodeToString(ring), 76), encoded},
		{"base64url unpadded", base64.RawURLEncoding.EncodeToString(ring), encoded},
		{"CRLF line ends", strings.ReplaceAll(pretty.String(), "\n", "\r\n"), ""},
		{"YAML folded", strings.ReplaceAll(pretty.String(), "\n", " ") + "\n", ""},
		{"trailing newline", string(ring) + "\n", ""},
		{"a stray opening double quote", `"` + pretty.String(), stray + " (a .env file"},
		{"a stray closing double quote and a newline", string(ring) + "\"\n", stray},
		{"a stray opening single quote", "'" + string(ring), stray},
		{"mismatched quotes", `"` + string(ring) + "'", stray},
		{"a stray quote on a line of its own", "\"\n" + pretty.String(), stray},
		{"a .env line", "COOKIESESSION_KEYS=" + string(ring) + "\n", dotEnv},
		{"an exported .env line, quoted, CRLF", "export COOKIESESSION_KEYS='" + string(ring) + "'\r\n", dotEnv},
		{"a .env line, double-quoted", `COOKIESESSION_KEYS="` + strings.ReplaceAll(string(ring), `"`, `\"`) + `"`, dotEnv},
		{"a .env line, its value's quote opened and not closed", `COOKIESESSION_KEYS="` + string(ring) + "\n", dotEnvStray},
		{"an exported .env line, its value's quote closed and not opened", "export COOKIESESSION_KEYS=" + string(ring) + "'", dotEnvStray},
		{"a .env line, its value's quotes mismatched", `COOKIESESSION_KEYS='` + string(ring) + `"`, dotEnvStray},
		{"a .env line inside double quotes, name and all", `"COOKIESESSION_KEYS=` + string(ring) + `"`, dotEnvQuoted},
		{"an exported .env line inside single quotes, name and all", "'export COOKIESESSION_KEYS=" + string(ring) + "'\n", dotEnvQuoted},
		{"a .env line as a JSON string", string(lineString), dotEnvQuoted},
		{"a .env line inside quotes, its value quoted too", `"COOKIESESSION_KEYS='` + string(ring) + `'"`, dotEnvQuoted},
		{"an exported .env line, the quotes after export", "export 'COOKIESESSION_KEYS=" + string(ring) + "'", dotEnvQuoted},
		{"a .env line, a quote before its name not closed", `"COOKIESESSION_KEYS=` + string(ring) + "\n", dotEnvLineStray},
		{"a .env line, a single quote before its name not closed, its value quoted", `'COOKIESESSION_KEYS="` + string(ring) + `"`, dotEnvLineStray},
		{"an exported .env line, a quote after export not closed", `export "COOKIESESSION_KEYS=` + string(ring), dotEnvLineStray},
		{"an exported .env line, a quote before export not closed", `"export COOKIESESSION_KEYS=` + string(ring) + "\r\n", dotEnvLineStray},
		{"a .env line, a quote after the value not opened", "COOKIESESSION_KEYS=" + string(ring) + `"`, dotEnvStray},
		{"base64 twice", base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString(ring))), "encoded in base64 twice: set it to the JSON text, decoded twice"},
		{"base64 inside quotes (docker run --env-file)", `"` + base64.StdEncoding.EncodeToString(ring) + `"`, "encoded in base64 inside quotes that are part of the value (docker run --env-file keeps a .env value's quotes, jq without -r adds them): set it to the decoded JSON text, without the quotes"},
		{"a get-secret-value response", `{"ARN":"arn:aws:secretsmanager:eu-west-1:1:secret:ring","Name":"ring","SecretString":` + string(asString) + `}`, "as the value of .SecretString in a JSON document"},
		{"a key/value secret", `{"other":"x","cookiesession_keys":` + string(prettyString) + `}`, "as the value of .cookiesession_keys in a JSON document (a secret manager's response, such as aws secretsmanager get-secret-value, or a key/value secret): set the variable to that value alone (jq -r '.cookiesession_keys'"},
	} {
		t.Setenv(cookiesession.EnvKeys, row.value)
		_, err := cookiesession.LoadKeyRingEnv()
		checkErrRules(t, err)
		switch {
		case row.want == "" && err != nil:
			t.Errorf("%s: %v, want the ring", row.name, err)
		case row.want != "" && (err == nil || !strings.Contains(err.Error(), "COOKIESESSION_KEYS holds the key ring "+row.want)):
			t.Errorf("%s: err = %v, want it to say %q", row.name, err, row.want)
		}
	}
}

// TestRingQuotesRemoved: a ring's text set in a shell without single
// quotes (COOKIESESSION_KEYS="{"version":1,...}", where each " ends the
// quoted part, or the text bare) or in a systemd Environment= line loses
// every double quote, and was refused with "an id or a secret must be a
// quoted string", which named neither the shell nor the fix. Each source
// now names the quotes removed and its fix; an id of digits alone and a
// promote_at's colons are put back as they were, and no secret is echoed.
func TestRingQuotesRemoved(t *testing.T) {
	ring := ringOf(t, 0x12345678)
	if err := ring.AddScheduled(keyForID(t, 0x5e6f7a8b), fixedNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	text := marshalRing(t, ring)
	const what = "holds the key ring with every double quote removed ("
	for name, bare := range map[string]string{
		"one line":            strings.ReplaceAll(string(text), `"`, ""),
		"as keygen writes it": strings.ReplaceAll(string(prettyRing(t, text)), `"`, "") + "\n",
	} {
		t.Setenv(cookiesession.EnvKeys, bare)
		_, envErr := cookiesession.LoadKeyRingEnv()
		path := filepath.Join(t.TempDir(), "ring.json")
		writeFileAtomic(t, path, []byte(bare), fixedNow)
		_, fileErr := cookiesession.LoadKeyRingFile(path)
		_, textErr := cookiesession.ParseKeyRing([]byte(bare))
		for _, row := range []struct {
			err       error
			want, fix string
		}{
			{envErr, "cookiesession: COOKIESESSION_KEYS " + what, "put the ring's text in single quotes (COOKIESESSION_KEYS='{...}')"},
			{fileErr, "cookiesession: key ring file " + path + " " + what, "write the ring's text as it is"},
			{textErr, "cookiesession: parsing key ring: the text " + what, "pass the ring's text as cookiesession keygen wrote it"},
		} {
			checkErrRules(t, row.err)
			if row.err == nil || !strings.HasPrefix(row.err.Error(), row.want) || !strings.Contains(row.err.Error(), row.fix) {
				t.Errorf("%s: err = %v, want %q and the fix %q", name, row.err, row.want, row.fix)
			}
		}
	}
	// A text that is no ring with its quotes removed keeps the parser's error.
	_, err := cookiesession.ParseKeyRing([]byte("{version:1,primary:12345678,keys:[]}"))
	if err == nil || strings.Contains(err.Error(), "double quote") {
		t.Errorf("a keyless text without quotes: err = %v, want the parser's own error", err)
	}
}

// TestLoadKeyRingFileWrapped: a ring file that holds the ring wrapped (a
// JSON string from jq without -r, a secret manager's JSON response, base64
// from a Secret's stringData or a pipeline that encoded it once more) was
// refused with the parser's first complaint ("the key ring is not an
// object", "an unknown member (of 12 bytes)", "a letter, digit or base64
// sign"), which named neither the wrapping nor the fix. The error now
// says both, naming the file and no secret, as LoadKeyRingEnv does.
func TestLoadKeyRingFileWrapped(t *testing.T) {
	ring := marshalRing(t, ringOf(t, 0x1a2b3c4d, 0x5e6f7a8b))
	asString, _ := json.Marshal(string(ring))
	var asObject map[string]any
	if err := json.Unmarshal(ring, &asObject); err != nil {
		t.Fatal(err)
	}
	vault, _ := json.Marshal(map[string]any{"data": map[string]any{"data": asObject, "metadata": map[string]any{"version": 3}}})
	encoded := base64.StdEncoding.EncodeToString(ring)
	dir := t.TempDir()
	for _, row := range []struct{ name, text, want string }{
		{"a JSON string (jq without -r)", string(asString) + "\n", "inside quotes that are part of the value (jq without -r, or aws --query without --output text, writes a JSON string): write the string's content (jq -r, --output text)"},
		{"a get-secret-value response", `{"ARN":"arn:aws:secretsmanager:eu-west-1:1:secret:ring","SecretString":` + string(asString) + `,"VersionStages":["AWSCURRENT"]}`, "as the value of .SecretString in a JSON document (a secret manager's response, such as aws secretsmanager get-secret-value, or a key/value secret): write that value alone to the file (jq -r '.SecretString'"},
		{"a get-parameter response", `{"Parameter":{"Name":"/app/ring","Type":"SecureString","Value":` + string(asString) + `}}`, "as the value of .Parameter.Value in a JSON document"},
		{"a Vault KV v2 secret, whole", string(vault), "as the value of .data.data in a JSON document"},
		{"a member name jq must quote", `{"my-app ring":` + string(asString) + `}`, `as the value of .["my-app ring"] in a JSON document`},
		{"an empty member name", `{"":` + string(asString) + `}`, `as the value of .[""] in a JSON document (a secret manager's response, such as aws secretsmanager get-secret-value, or a key/value secret): write that value alone to the file (jq -r '.[""]'`},
		{"base64 (stringData)", wrapLines(encoded, 76), "encoded in base64: write the decoded JSON text (base64 -d)"},
		{"base64 twice", base64.StdEncoding.EncodeToString([]byte(encoded)) + "\n", "encoded in base64 twice: write the JSON text, decoded twice"},
		{"base64 as a JSON string (jq without -r)", `"` + encoded + "\"\n", "encoded in base64 inside quotes that are part of the value (jq without -r writes a JSON string): write the string's content decoded (jq -r, then base64 -d)"},
		{"a .env file", "COOKIESESSION_KEYS='" + string(ring) + "'\n", "as a whole .env line (COOKIESESSION_KEYS=..., perhaps after export): write the value alone to the ring file"},
		{"a .env file, its value's quote opened and not closed", `COOKIESESSION_KEYS="` + string(ring) + "\n", "as a whole .env line (COOKIESESSION_KEYS=..., perhaps after export) whose value has a stray quote at its start or end, a quote opened and not closed or closed and not opened: write the value alone to the ring file, without the stray quote, so that the file starts with { and ends with } (an EnvironmentFile= or --env-file reads the .env line; there, quote the value at both ends or at neither)"},
		{"a .env file, its line inside quotes, name and all", `"COOKIESESSION_KEYS=` + string(ring) + "\"\n", `as a whole .env line inside quotes, name and all ("COOKIESESSION_KEYS={...}", perhaps after export): write the value alone to the ring file, without the name, the = and the quotes around the line, so that the file starts with { (an EnvironmentFile= or --env-file reads a .env line, whose value alone is quoted: COOKIESESSION_KEYS='{...}')`},
		{"a .env file, a quote before its line's name not closed", `"COOKIESESSION_KEYS=` + string(ring) + "\n", `as a whole .env line with a stray quote before its name, a quote opened and not closed ("COOKIESESSION_KEYS={..., perhaps after export): write the value alone to the ring file, without the stray quote, the name and the =, so that the file starts with { (an EnvironmentFile= or --env-file reads a .env line, which starts with the name, and only its value may be quoted: COOKIESESSION_KEYS='{...}')`},
		{"a stray quote after the ring", string(ring) + "\"\n", "with a stray quote at its start or end, a quote opened and not closed or closed and not opened (an editor or a script that wrote the ring's text with a quote on one side): remove it, so that the file starts with { and ends with }"},
		{"the ring, saved on Windows", strings.ReplaceAll(string(ring)+"\n", "\n", "\r\n"), ""},
		{"the ring, no final newline", string(ring), ""},
	} {
		path := filepath.Join(dir, "ring.json")
		writeFileAtomic(t, path, []byte(row.text), fixedNow)
		_, err := cookiesession.LoadKeyRingFile(path)
		checkErrRules(t, err)
		switch want := "key ring file " + path + " holds the key ring " + row.want; {
		case row.want == "" && err != nil:
			t.Errorf("%s: %v, want the ring", row.name, err)
		case row.want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: err = %v, want it to say %q", row.name, err, want)
		}
	}
}

// TestParseKeyRingWrapped: ParseKeyRing, given a ring wrapped (the bytes
// of a secret manager's SDK response, a JSON string, base64 once or
// twice), answered with the parser's first complaint ("the key ring has
// an unknown member (of 12 bytes)", "the key ring is not an object", "a
// letter, digit or base64 sign where JSON allows none"), which named
// neither the wrapping nor the fix, while LoadKeyRingFile and
// LoadKeyRingEnv named both. It now names them too, with a fix in terms
// of what to pass instead, and no secret; a text with no ring inside
// keeps the parser's error.
func TestParseKeyRingWrapped(t *testing.T) {
	ring := marshalRing(t, ringOf(t, 0x1a2b3c4d, 0x5e6f7a8b))
	pretty := new(bytes.Buffer)
	if err := json.Indent(pretty, ring, "", "  "); err != nil {
		t.Fatal(err)
	}
	asString, _ := json.Marshal(string(ring))
	var asObject map[string]any
	if err := json.Unmarshal(ring, &asObject); err != nil {
		t.Fatal(err)
	}
	vault, _ := json.Marshal(map[string]any{"data": map[string]any{"data": asObject, "metadata": map[string]any{"version": 3}}})
	encoded := base64.StdEncoding.EncodeToString(ring)
	const secretManager = " in a JSON document (a secret manager's response, such as aws secretsmanager get-secret-value, or a key/value secret): pass that value alone (jq -r '"
	for _, row := range []struct{ name, text, want string }{
		{"a get-secret-value response", `{"ARN":"arn:aws:secretsmanager:eu-west-1:1:secret:ring","Name":"ring","SecretString":` + string(asString) + `,"VersionStages":["AWSCURRENT"]}`,
			"as the value of .SecretString" + secretManager + ".SecretString'; from an SDK, the response's field, such as GetSecretValue's SecretString, not the whole response)"},
		{"a get-parameter response", `{"Parameter":{"Name":"/app/ring","Type":"SecureString","Value":` + string(asString) + `}}`, "as the value of .Parameter.Value" + secretManager + ".Parameter.Value'"},
		{"a Vault KV v2 secret, whole", string(vault), "as the value of .data.data" + secretManager + ".data.data'"},
		{"a member name jq must quote", `{"my-app ring":` + string(asString) + `}`, `as the value of .["my-app ring"]` + secretManager + `.["my-app ring"]'`},
		// Errors carry the prefix once (FuzzParseKeyRing): a name that
		// holds it is written with its colon escaped, which jq reads.
		{"a member name with the prefix", `{"cookiesession: ring":` + string(asString) + `}`, `as the value of .["cookiesession\u003a ring"]`},
		{"a JSON string (jq without -r)", string(asString) + "\n", "inside quotes that are part of the value (a JSON string: jq without -r, aws --query without --output text, or a JSON encoder given the text writes one): pass the string's content (jq -r, --output text; in Go, json.Unmarshal into a string), so that the text starts with {"},
		{"single quotes kept", "'" + string(ring) + "'", "inside quotes that are part of the value"},
		{"escaped quotes", strings.ReplaceAll(string(ring), `"`, `\"`), `with its quotes escaped as \": remove the backslashes (the text was escaped once more than it was unescaped)`},
		{"line breaks as \\n", strings.ReplaceAll(pretty.String(), "\n", `\n`), `with its line breaks written as \n (the text of a JSON or YAML string kept without its quotes): pass the string's content`},
		{"base64", wrapLines(encoded, 76), "encoded in base64: decode it and pass the JSON text (base64 -d; in Go, base64.StdEncoding.DecodeString)"},
		{"base64url unpadded", base64.RawURLEncoding.EncodeToString(ring), "encoded in base64: decode it and pass the JSON text"},
		{"base64 twice", base64.StdEncoding.EncodeToString([]byte(encoded)) + "\n", "encoded in base64 twice: decode it twice and pass the JSON text (base64 -d | base64 -d)"},
		{"base64 as a JSON string", `"` + encoded + `"`, "encoded in base64 inside quotes that are part of the value: pass the string's content decoded (jq -r, then base64 -d)"},
		{"a stray opening quote", `"` + string(ring), "with a stray quote at its start or end, a quote opened and not closed or closed and not opened: remove it, so that the text starts with { and ends with }"},
		{"a .env line", "export COOKIESESSION_KEYS='" + string(ring) + "'\n", "as a whole .env line (COOKIESESSION_KEYS=..., perhaps after export): pass the value alone"},
		{"a .env line inside quotes, name and all", `'COOKIESESSION_KEYS=` + string(ring) + "'\n", `as a whole .env line inside quotes, name and all ("COOKIESESSION_KEYS={...}", perhaps after export): pass the value alone, without the name, the = and the quotes around the line, so that the text starts with { (a .env file is read by an EnvironmentFile=, --env-file or a dotenv loader, which sets the variable; there, quote the value alone: COOKIESESSION_KEYS='{...}')`},
		{"a .env line, its value's quote closed and not opened", "COOKIESESSION_KEYS=" + string(ring) + "\"\n", "as a whole .env line (COOKIESESSION_KEYS=..., perhaps after export) whose value has a stray quote at its start or end, a quote opened and not closed or closed and not opened: pass the value alone, without the name, the = and the stray quote, so that the text starts with { and ends with } (a .env file is read by an EnvironmentFile=, --env-file or a dotenv loader, which sets the variable; there, quote the value at both ends or at neither)"},
		{"an exported .env line, a quote after export not closed", `export "COOKIESESSION_KEYS=` + string(ring) + "\n", `as a whole .env line with a stray quote before its name, a quote opened and not closed ("COOKIESESSION_KEYS={..., perhaps after export): pass the value alone, without the stray quote, the name and the =, so that the text starts with { (a .env file is read by an EnvironmentFile=, --env-file or a dotenv loader, which sets the variable; there, a line starts with the name, and only the value may be quoted: COOKIESESSION_KEYS='{...}')`},
		{"an exported .env line inside quotes after export", `export "COOKIESESSION_KEYS=` + string(ring) + "\"\n", `as a whole .env line inside quotes, name and all ("COOKIESESSION_KEYS={...}", perhaps after export): pass the value alone`},
	} {
		_, err := cookiesession.ParseKeyRing([]byte(row.text))
		checkErrRules(t, err)
		if want := "cookiesession: parsing key ring: the text holds the key ring " + row.want; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to say %q", row.name, err, want)
		} else if msg := err.Error(); strings.Contains(msg, "set the variable") || strings.Contains(msg, "to the file") || strings.Contains(msg, "ring file") {
			t.Errorf("%s: %q gives a variable's or a file's fix to a caller who passed bytes", row.name, msg)
		} else if n := strings.Count(msg, "cookiesession:"); n != 1 {
			t.Errorf("%s: %q holds the prefix %d times", row.name, msg, n)
		}
	}
	// No ring inside, however wrapped: the parser's own error.
	for text, want := range map[string]string{
		`"{}"`:                           "cookiesession: parsing key ring: the key ring is not an object",
		`{"SecretString":"{}"}`:          "cookiesession: parsing key ring: the key ring has an unknown member (of 12 bytes)",
		`"COOKIESESSION_KEYS={}"`:        "cookiesession: parsing key ring: the key ring is not an object",
		`"COOKIESESSION_KEYS={}`:         "cookiesession: parsing key ring: the text ends before the ring does",
		`export "COOKIESESSION_KEYS={}"`: "a letter, digit or base64 sign where JSON allows none",
		base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString([]byte(`{"version":2}`)))): "a letter, digit or base64 sign where JSON allows none",
	} {
		if _, err := cookiesession.ParseKeyRing([]byte(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseKeyRing(%q) = %v, want %q", text, err, want)
		}
	}
}

// wrapLines breaks s into lines of n characters, as base64(1) writes.
func wrapLines(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	return b.String() + s + "\n"
}

// TestRingIsOneSecret: a secret alone where the ring belongs (the way
// other libraries take a key, SESSION_KEY="$(openssl rand -base64 32)")
// got "a letter, digit or base64 sign where JSON allows none" at column 1,
// or, in hex, "the key ring is not an object": neither says that the text
// is a key, not a ring. Each source now names it, with the fix for that
// source, and no byte of the secret.
func TestRingIsOneSecret(t *testing.T) {
	keyForID(t, 0x1a2b3c4d) // registers the secret for checkErrRules
	secret := keySecret(0x1a2b3c4d)
	path := filepath.Join(t.TempDir(), "ring.json")
	for _, row := range []struct{ name, text, what string }{
		{"standard base64", base64.StdEncoding.EncodeToString(secret) + "\n", "32 bytes in base64"},
		{"URL-safe, unpadded", base64.RawURLEncoding.EncodeToString(secret), "32 bytes in base64"},
		{"hex", fmt.Sprintf("%x\n", secret), "32 bytes in hex"},
		{"64 bytes, as securecookie takes", base64.StdEncoding.EncodeToString(append(secret, secret...)), "64 bytes in base64"},
	} {
		const head = " holds a single secret (%s), not a key ring: a ring is the JSON text cookiesession keygen writes, which names each key by an id so that keys can rotate"
		t.Setenv("COOKIESESSION_KEYS", row.text)
		_, envErr := cookiesession.LoadKeyRingEnv()
		writeFileAtomic(t, path, []byte(row.text), fixedNow)
		_, fileErr := cookiesession.LoadKeyRingFile(path)
		_, textErr := cookiesession.ParseKeyRing([]byte(row.text))
		for _, c := range []struct {
			err       error
			want, fix string
		}{
			{envErr, "cookiesession: COOKIESESSION_KEYS" + fmt.Sprintf(head, row.what), `set the variable to it (COOKIESESSION_KEYS="$(cat ring.json)")`},
			{fileErr, "cookiesession: key ring file " + path + fmt.Sprintf(head, row.what), "write it to the file"},
			{textErr, "cookiesession: parsing key ring: the text" + fmt.Sprintf(head, row.what), "pass it"},
		} {
			checkErrRules(t, c.err)
			if c.err == nil || !strings.Contains(c.err.Error(), c.want) || !strings.Contains(c.err.Error(), c.fix) {
				t.Errorf("%s: err = %v, want it to say %q and %q", row.name, c.err, c.want, c.fix)
			}
		}
	}
	// A path is still named as one, and a short word is no secret.
	for value, want := range map[string]string{
		"/run/secrets/ring": "looks like a file path",
		"changeme":          "a letter, digit or base64 sign where JSON allows none",
		// Of 22 characters or more, all in base64's alphabet, and
		// decoding to 16 to 64 bytes: still a path, or no secret.
		"/var/run/secrets/cookiesession": "looks like a file path",
		"secrets/cookiesession/ringkeys": "looks like a file path",
	} {
		t.Setenv("COOKIESESSION_KEYS", value)
		if _, err := cookiesession.LoadKeyRingEnv(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("COOKIESESSION_KEYS=%s: err = %v, want it to say %q", value, err, want)
		}
	}
	// A secret with no = at its end (openssl rand -base64 48, or an
	// unpadded 32 bytes) that holds a / was called a file path in the
	// variable: one of two such secrets. It is a secret wherever it is.
	// A UUID, a path or a number are not secrets, but what they are.
	sum := sha512.Sum512([]byte("a 48-byte secret"))
	for _, secret := range []string{base64.StdEncoding.EncodeToString(sum[:48]), base64.RawStdEncoding.EncodeToString(sum[:32])} {
		if !strings.Contains(secret, "/") || strings.HasSuffix(secret, "=") {
			t.Fatalf("%s: the case needs a / and no =", secret)
		}
		t.Setenv("COOKIESESSION_KEYS", secret)
		_, envErr := cookiesession.LoadKeyRingEnv()
		_, textErr := cookiesession.ParseKeyRing([]byte(secret))
		for _, err := range []error{envErr, textErr} {
			if err == nil || !strings.Contains(err.Error(), " holds a single secret (") || strings.Contains(err.Error(), secret[:8]) {
				t.Errorf("a secret with a / and no =: err = %v, want it to name a single secret, and not echo it", err)
			}
		}
	}
	for _, value := range []string{"123e4567-e89b-12d3-a456-426614174000", "/var/run/secrets/cookiesession", "1234567890123456789012"} {
		if _, err := cookiesession.ParseKeyRing([]byte(value)); err == nil || strings.Contains(err.Error(), "single secret") {
			t.Errorf("%s: err = %v, which names a secret", value, err)
		}
	}
}

// TestRingInBase64Member: a JSON document that holds the ring in base64 as
// a member's value (a Kubernetes Secret read through its API, kubectl get
// secret -o json, whose data is base64) got "an unknown member (of 10
// bytes)". It is named with the member's jq path and @base64d.
func TestRingInBase64Member(t *testing.T) {
	ring := marshalRing(t, ringOf(t, 0x1a2b3c4d, 0x5e6f7a8b))
	doc, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{"name": "ring"}, "data": map[string]any{"ring.json": base64.StdEncoding.EncodeToString(ring)}})
	const what = ` holds the key ring in base64 as the value of .data["ring.json"] in a JSON document (a Kubernetes Secret read through its API, kubectl get secret -o json, whose data is in base64): `
	path := filepath.Join(t.TempDir(), "ring.json")
	writeFileAtomic(t, path, doc, fixedNow)
	_, fileErr := cookiesession.LoadKeyRingFile(path)
	t.Setenv("COOKIESESSION_KEYS", string(doc))
	_, envErr := cookiesession.LoadKeyRingEnv()
	_, textErr := cookiesession.ParseKeyRing(doc)
	for _, c := range []struct {
		err  error
		want string
	}{
		{envErr, "cookiesession: COOKIESESSION_KEYS" + what + `set the variable to that value decoded (jq -r '.data["ring.json"] | @base64d'; a secretKeyRef or a Secret volume decodes it)`},
		{fileErr, "cookiesession: key ring file " + path + what + `write that value decoded to the file (jq -r '.data["ring.json"] | @base64d'; a Secret volume holds it decoded)`},
		{textErr, "cookiesession: parsing key ring: the text" + what + `pass that value decoded (jq -r '.data["ring.json"] | @base64d')`},
	} {
		checkErrRules(t, c.err)
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("err = %v, want it to say %q", c.err, c.want)
		}
	}
}

// TestEmptyRingText: an empty ring file (truncated by a shell redirect
// onto itself, a failed copy) or a blank variable is named as empty, not
// "the text ends before the ring does".
func TestEmptyRingText(t *testing.T) {
	const want = "parsing key ring: the text is empty"
	path := filepath.Join(t.TempDir(), "keys.json")
	writeFileAtomic(t, path, nil, fixedNow)
	_, fileErr := cookiesession.LoadKeyRingFile(path)
	t.Setenv("COOKIESESSION_KEYS", " \n")
	_, envErr := cookiesession.LoadKeyRingEnv()
	_, textErr := cookiesession.ParseKeyRing([]byte("\r\n\t "))
	for _, err := range []error{fileErr, envErr, textErr} {
		checkErrRules(t, err)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "keygen") {
			t.Errorf("err = %v, want it to say %q and name keygen", err, want)
		}
	}
}

// TestLoadKeyRingFileByteOrderMark: a ring file saved with a byte-order
// mark (Notepad, PowerShell's Out-File) is refused as FORMAT.md section 6
// says, by an error that names the mark and the file.
func TestLoadKeyRingFileByteOrderMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	writeFileAtomic(t, path, append([]byte("\xef\xbb\xbf"), marshalRing(t, ringOf(t, 0x1a2b3c4d))...), fixedNow)
	_, err := cookiesession.LoadKeyRingFile(path)
	checkErrRules(t, err)
	if want := "starts with a UTF-8 byte-order mark; save it without one (from " + path + ")"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("LoadKeyRingFile of a file with a BOM: %v, want it to say %q", err, want)
	}
}

// TestLoadKeyRingFile covers a good file, a missing one, a corrupt one and
// one over the size limit.
func TestLoadKeyRingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	ring := ringOf(t, 0x1a2b3c4d)
	writeFileAtomic(t, path, append(marshalRing(t, ring), '\n'), fixedNow)
	got, err := cookiesession.LoadKeyRingFile(path)
	if err != nil || got.PrimaryAt(fixedNow) != 0x1a2b3c4d {
		t.Fatalf("LoadKeyRingFile = %v, %v", got, err)
	}
	corrupt := filepath.Join(dir, "corrupt.json")
	writeFileAtomic(t, corrupt, marshalRing(t, ring)[:30], fixedNow)
	huge := filepath.Join(dir, "huge.json")
	writeFileAtomic(t, huge, append(marshalRing(t, ring), bytes.Repeat([]byte(" "), 1<<20)...), fixedNow)
	for _, p := range []string{filepath.Join(dir, "missing.json"), corrupt, huge, dir} {
		_, err := cookiesession.LoadKeyRingFile(p)
		checkErrRules(t, err)
		if err == nil {
			t.Errorf("LoadKeyRingFile(%s) succeeded", p)
		}
	}
	if _, err := cookiesession.LoadKeyRingFile(corrupt); err == nil || !strings.Contains(err.Error(), corrupt) {
		t.Errorf("corrupt file error %v does not name the file", err)
	}
}

// TestReloadFileKeepsRingOnError checks that a failed reload keeps the
// current keys and a good one swaps them in.
func TestReloadFileKeepsRingOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	first := ringOf(t, 0x1a2b3c4d)
	writeFileAtomic(t, path, marshalRing(t, first), fixedNow)
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := newTestCodec(t, ring, cookiesession.CodecOptions{})
	token := sealAt(t, c, &cookiesession.Record{}, fixedNow)
	for _, bad := range [][]byte{nil, []byte("{"), []byte(`{"version":2}`)} {
		writeFileAtomic(t, path, bad, fixedNow)
		err := ring.ReloadFile(path)
		checkErrRules(t, err)
		if err == nil {
			t.Errorf("ReloadFile(%q) succeeded", bad)
		}
		openAt(t, c, token, fixedNow)
	}
	if err := ring.ReloadFile(path + ".missing"); err == nil {
		t.Errorf("ReloadFile of a missing file succeeded")
	}
	writeFileAtomic(t, path, marshalRing(t, ringOf(t, 0x5e6f7a8b)), fixedNow)
	if err := ring.ReloadFile(path); err != nil {
		t.Fatalf("ReloadFile(good): %v", err)
	}
	if ring.Has(0x1a2b3c4d) || ring.PrimaryAt(fixedNow) != 0x5e6f7a8b {
		t.Errorf("after reload the ring is %v", ring)
	}
	if _, err := c.OpenAt(token, fixedNow); !errors.Is(err, cookiesession.ErrUnknownKey) {
		t.Errorf("token of the replaced key: %v, want ErrUnknownKey", err)
	}
}

// awaitReport writes data over path and waits for a report that want
// accepts. The watcher compares content, so one write is seen whenever it
// lands.
func awaitReport(t *testing.T, reports <-chan error, path string, data []byte, want func(error) bool) {
	t.Helper()
	writeFileAtomic(t, path, data, fixedNow)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case err := <-reports:
			if want(err) {
				return
			}
		case <-deadline:
			t.Fatalf("WatchFile never reported the rewrite of %s", path)
		}
	}
}

// TestWatchFile rewrites a watched file with a new ring, then with a
// corrupt one, and checks the ring follows the first and keeps its keys on
// the second.
func TestWatchFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	writeFileAtomic(t, path, marshalRing(t, ringOf(t, 0x1a2b3c4d)), fixedNow)
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reports := make(chan error, 64)
	watchFile(t, ring, path, 5*time.Millisecond, func(err error) {
		select {
		case reports <- err:
		default:
		}
	})
	next := marshalRing(t, ringOf(t, 0x5e6f7a8b, 0x1a2b3c4d))
	awaitReport(t, reports, path, next, func(err error) bool {
		if err != nil {
			t.Errorf("reload of a good file reported %v", err)
		}
		return err == nil && ring.Has(0x5e6f7a8b)
	})
	if ring.PrimaryAt(fixedNow) != 0x5e6f7a8b {
		t.Errorf("after the watched reload, primary is %08x", ring.PrimaryAt(fixedNow))
	}
	awaitReport(t, reports, path, []byte(`{"version":1`), func(err error) bool {
		checkErrRules(t, err)
		return err != nil
	})
	if ring.PrimaryAt(fixedNow) != 0x5e6f7a8b || !ring.Has(0x1a2b3c4d) {
		t.Errorf("a corrupt file changed the ring to %v", ring)
	}
}

// TestReloadStatus follows Metrics.Reload through ReloadFile, then
// WatchFile: a failure shows its error and counts, the keys staying as
// they were, until a good file is read (a new LastSuccess) or the watched
// file is back at the content in force (the same LastSuccess).
func TestReloadStatus(t *testing.T) {
	const keyC = 0x3c4d5e6f
	if st := managerOn(t, ringOf(t, keyA), time.Now).Metrics().Reload; st != (cookiesession.ReloadStatus{}) {
		t.Errorf("a ring never loaded from a file has reload status %+v, want the zero one", st)
	}
	// README (Operators): a ring from COOKIESESSION_KEYS never reloads,
	// and /debug/vars says "reload": {"failures": 0}.
	t.Setenv(cookiesession.EnvKeys, string(marshalRing(t, ringOf(t, keyA))))
	envRing, err := cookiesession.LoadKeyRingEnv()
	if err != nil {
		t.Fatal(err)
	}
	if v := managerOn(t, envRing, time.Now).Var().String(); !strings.Contains(v, `"reload":{"failures":0}`) {
		t.Errorf("a ring from %s: Var %s, want \"reload\":{\"failures\":0}", cookiesession.EnvKeys, v)
	}
	path := filepath.Join(t.TempDir(), "keys.json")
	writeFileAtomic(t, path, marshalRing(t, ringOf(t, keyA)), fixedNow)
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	loaded := ring.String()
	clock := newFakeClock(fixedNow)
	m := managerOn(t, ring, clock.Now)
	if st := m.Metrics().Reload; st.LastSuccess.IsZero() || st.Error != "" || st.Failures != 0 {
		t.Errorf("after LoadKeyRingFile: %+v; want its time, no error, no failure", st)
	}
	ring.SetClock(clock.Now)
	expect := func(step string, want cookiesession.ReloadStatus) {
		t.Helper()
		got := m.Metrics().Reload
		if want.Failures == 0 { // at least 3: WatchFile counts every failed tick
			want.Failures = max(got.Failures, 3)
		}
		if diff := cmp.Diff(want, got, equateTimes); diff != "" {
			t.Errorf("%s: Metrics.Reload (-want +got):\n%s", step, diff)
		}
	}

	// ReloadFile: a torn file, a missing one, then a good one.
	writeFileAtomic(t, path, []byte("{"), fixedNow)
	torn := ring.ReloadFile(path)
	missing := ring.ReloadFile(path + ".missing")
	if torn == nil || missing == nil || ring.String() != loaded {
		t.Fatalf("bad reloads: %v, %v; ring %v, want %v", torn, missing, ring, loaded)
	}
	firstLoad := m.Metrics().Reload.LastSuccess
	expect("missing", cookiesession.ReloadStatus{LastSuccess: firstLoad, Error: missing.Error(), Failures: 2})
	clock.Advance(time.Minute)
	writeFileAtomic(t, path, marshalRing(t, ringOf(t, keyA, keyB)), fixedNow)
	if err := ring.ReloadFile(path); err != nil {
		t.Fatal(err)
	}
	expect("reloaded", cookiesession.ReloadStatus{LastSuccess: fixedNow.Add(time.Minute), Failures: 2})
	if v := m.Var().String(); !strings.Contains(v, `"failures":2}`) || strings.Contains(v, `"error"`) {
		t.Errorf("Var %s: want the failures and no error", v)
	}

	// WatchFile: torn, fixed with a new ring, torn, back as loaded.
	reports := watchRing(t, ring, path)
	failed := func(err error) bool { return err != nil }
	awaitReport(t, reports, path, []byte(`{"version":1`), failed)
	tornText := m.Metrics().Reload.Error
	if !strings.Contains(tornText, "the text ends before the ring does") || !ring.Has(keyB) || ring.Has(keyC) {
		t.Errorf("watched torn file: status error %q, ring %v", tornText, ring)
	}
	expect("watched torn", cookiesession.ReloadStatus{LastSuccess: fixedNow.Add(time.Minute), Error: tornText})
	clock.Advance(time.Minute)
	next := marshalRing(t, ringOf(t, keyA, keyB, keyC))
	awaitReport(t, reports, path, next, func(err error) bool { return err == nil })
	expect("watched reload", cookiesession.ReloadStatus{LastSuccess: fixedNow.Add(2 * time.Minute)})
	clock.Advance(time.Minute)
	awaitReport(t, reports, path, []byte("{"), failed)
	awaitReport(t, reports, path, next, func(err error) bool { return err == nil })
	expect("watched file back", cookiesession.ReloadStatus{LastSuccess: fixedNow.Add(2 * time.Minute)})
	if !ring.Has(keyC) {
		t.Errorf("ring %v, want key %08x", ring, keyC)
	}
}

// managerOn is a Manager over ring on the clock now, for its Metrics.
func managerOn(t *testing.T, ring *cookiesession.KeyRing, now func() time.Time) *cookiesession.Manager {
	t.Helper()
	m, err := cookiesession.New(ring, cookiesession.Options{Now: now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// watchRing runs ring.WatchFile on path every millisecond until the test
// ends, and returns the channel its reports arrive on.
func watchRing(t *testing.T, ring *cookiesession.KeyRing, path string) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reports := make(chan error)
	stopped := make(chan error, 1)
	go func() {
		stopped <- ring.WatchFile(ctx, path, time.Millisecond, func(err error) {
			select {
			case reports <- err:
			case <-ctx.Done():
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("WatchFile returned %v after cancel, want nil", err)
		}
	})
	return reports
}

// awaitReload waits for the watcher to report a successful reload after
// which primary seals. A failure report fails the test unless the file was
// replaced in a way a reader can catch halfway (tornOK).
func awaitReload(t *testing.T, reports <-chan error, ring *cookiesession.KeyRing, primary uint32, tornOK bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case err := <-reports:
			if err != nil && !tornOK {
				t.Fatalf("WatchFile reported %v", err)
			}
			if err != nil {
				continue // caught the file missing or half written; it retries
			}
			if got := ring.PrimaryAt(fixedNow); got == primary {
				return
			}
		case <-deadline:
			t.Fatalf("WatchFile did not reload within 30s; primary still %08x", ring.PrimaryAt(fixedNow))
		}
	}
}

// sameSizeRings returns the text of two rings of equal length with
// different primaries.
func sameSizeRings(t *testing.T) (first, second []byte) {
	first, second = marshalRing(t, ringOf(t, 0x1a2b3c4d, 0x5e6f7a8b)), marshalRing(t, ringOf(t, 0x5e6f7a8b, 0x1a2b3c4d))
	if len(first) != len(second) {
		t.Fatalf("ring texts of %d and %d bytes", len(first), len(second))
	}
	return first, second
}

// fileReplacements are the ways a ring file gets replaced in production,
// each keeping the size and the modification time, so that only the
// content tells the change. setup writes the first version and returns the
// path a service reads.
var fileReplacements = map[string]struct {
	setup   func(t *testing.T, dir string, data []byte) string
	replace func(t *testing.T, dir string, data []byte)
	torn    bool // a reader may catch the file missing or half written
}{
	"rename over": {plainRingFile, func(t *testing.T, dir string, data []byte) {
		writeFileAtomic(t, filepath.Join(dir, "ring.json"), data, fixedNow)
	}, false},
	"rm, then cp -p": {plainRingFile, func(t *testing.T, dir string, data []byte) {
		path := filepath.Join(dir, "ring.json")
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		writeKeepingTimes(t, path, data)
	}, true},
	"rewrite in place": {plainRingFile, func(t *testing.T, dir string, data []byte) {
		writeKeepingTimes(t, filepath.Join(dir, "ring.json"), data)
	}, true},
	"kubernetes ..data swap": {kubeRingFile, func(t *testing.T, dir string, data []byte) {
		kubeVersion(t, dir, "..v2", data)
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink("..v2", tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(dir, "..v1")); err != nil {
			t.Fatal(err)
		}
	}, false},
}

func plainRingFile(t *testing.T, dir string, data []byte) string {
	path := filepath.Join(dir, "ring.json")
	writeKeepingTimes(t, path, data)
	return path
}

// writeKeepingTimes writes data to path (creating or truncating it) and
// sets its times to fixedNow, as cp -p and rsync -t do.
func writeKeepingTimes(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fixedNow, fixedNow); err != nil {
		t.Fatal(err)
	}
}

// kubeRingFile lays out a mounted Kubernetes secret: ring.json ->
// ..data/ring.json, ..data -> ..v1, the version directory.
func kubeRingFile(t *testing.T, dir string, data []byte) string {
	kubeVersion(t, dir, "..v1", data)
	if err := os.Symlink("..v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ring.json")
	if err := os.Symlink(filepath.Join("..data", "ring.json"), path); err != nil {
		t.Fatal(err)
	}
	return path
}

func kubeVersion(t *testing.T, dir, version string, data []byte) {
	t.Helper()
	if err := os.Mkdir(filepath.Join(dir, version), 0o755); err != nil {
		t.Fatal(err)
	}
	writeKeepingTimes(t, filepath.Join(dir, version, "ring.json"), data)
}

// TestRingFileNotThere: a ring path that names no file, a dangling or
// looping link, or a directory (a Secret's mount path, $CREDENTIALS_DIRECTORY
// itself) was refused with the system's words alone ("no such file or
// directory", "is a directory"), which said neither where such a file
// comes from nor the fix. Each now says both, naming the path.
func TestRingFileNotThere(t *testing.T) {
	dir := t.TempDir()
	link := func(name, dest string) string {
		if err := os.Symlink(dest, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(dir, name)
	}
	link("loop2", "loop1")
	for _, row := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "ring.json"), ": no such file or directory: check the path (a systemd credential is at $CREDENTIALS_DIRECTORY/NAME, a Docker secret at /run/secrets/NAME); a Kubernetes Secret volume drops a key's file when the key or the Secret is deleted"},
		{"dangling link", link("dangling.json", filepath.Join("elsewhere", "ring.json")), ": it is a symbolic link whose target does not exist: restore the file it names, or point the link at the ring's file"},
		// A Secret volume's link, between the kubelet's swap of ..data and
		// its removal of the links of the keys gone.
		{"dangling Secret link", link("secret.json", filepath.Join("..data", "ring.json")), ": it is a symbolic link whose target does not exist: restore the file it names, or point the link at the ring's file; a Kubernetes Secret volume drops a key's file when the key or the Secret is deleted"},
		{"link loop", link("loop1", "loop2"), ": the symbolic links at the path form a loop: point them at the ring's file"},
		{"directory", dir, dir + " is a directory, not the ring's file: name the file inside it"},
	} {
		_, err := cookiesession.LoadKeyRingFile(row.path)
		checkErrRules(t, err)
		if err == nil || !strings.Contains(err.Error(), row.path) || !strings.Contains(err.Error(), row.want) {
			t.Errorf("%s: err = %v, want it to name the path and say %q", row.name, err, row.want)
		}
	}
}

// TestWatchFileSecretDeleted: when a Kubernetes Secret mounted as a
// volume is deleted (or loses the ring's key), the kubelet swaps ..data to
// an empty version and removes ring.json. The watcher keeps the keys in
// force and reports the failure with the cause and the fix.
func TestWatchFileSecretDeleted(t *testing.T) {
	first, _ := sameSizeRings(t)
	dir := t.TempDir()
	path := kubeRingFile(t, dir, first)
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reports := watchRing(t, ring, path)
	if err := os.Mkdir(filepath.Join(dir, "..v2"), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink("..v2", tmp); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{os.Rename(tmp, filepath.Join(dir, "..data")), os.RemoveAll(filepath.Join(dir, "..v1")), os.Remove(path)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-reports:
		checkErrRules(t, err)
		if want := "a Kubernetes Secret volume drops a key's file when the key or the Secret is deleted"; err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) {
			t.Errorf("WatchFile reported %v, want the path and %q", err, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("WatchFile reported nothing within 30s of the Secret's deletion")
	}
	if got := ring.PrimaryAt(fixedNow); got != 0x1a2b3c4d {
		t.Errorf("primary %08x after the Secret's deletion, want the keys in force (1a2b3c4d)", got)
	}
}

// TestWatchFileSeesContent replaces the watched file in each production
// way, keeping its size and times: the watcher must reload every time.
func TestWatchFileSeesContent(t *testing.T) {
	first, second := sameSizeRings(t)
	for name, how := range fileReplacements {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := how.setup(t, dir, first)
			ring, err := cookiesession.LoadKeyRingFile(path)
			if err != nil {
				t.Fatal(err)
			}
			reports := watchRing(t, ring, path)
			how.replace(t, dir, second)
			awaitReload(t, reports, ring, 0x5e6f7a8b, how.torn)
		})
	}
}

// TestWatchFileKubernetesUpdates plays a Secret volume through several
// updates, watched by two instances that share the mount as pods on one
// node do: each update swaps ..data to a new timestamped directory and
// deletes the one before, which every earlier path resolved into. Each
// instance must take every update, not only the first.
func TestWatchFileKubernetesUpdates(t *testing.T) {
	versions := [][]byte{
		marshalRing(t, ringOf(t, 0x1a2b3c4d)),
		marshalRing(t, ringOf(t, 0x1a2b3c4d, 0x5e6f7a8b)),
		marshalRing(t, ringOf(t, 0x5e6f7a8b, 0x1a2b3c4d)),
		marshalRing(t, ringOf(t, 0x5e6f7a8b)),
	}
	primaries := []uint32{0x1a2b3c4d, 0x1a2b3c4d, 0x5e6f7a8b, 0x5e6f7a8b}
	dir := t.TempDir()
	path := kubeRingFile(t, dir, versions[0])
	var rings []*cookiesession.KeyRing
	var reports []<-chan error
	for range 2 {
		ring, err := cookiesession.LoadKeyRingFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rings, reports = append(rings, ring), append(reports, watchRing(t, ring, path))
	}
	for v := 1; v < len(versions); v++ {
		name := fmt.Sprintf("..2026_12_02_10_0%d_00.%d", v, v)
		kubeVersion(t, dir, name, versions[v])
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(name, tmp); err != nil {
			t.Fatal(err)
		}
		old, err := os.Readlink(filepath.Join(dir, "..data"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(dir, old)); err != nil {
			t.Fatal(err)
		}
		for i, ring := range rings {
			awaitReload(t, reports[i], ring, primaries[v], false)
			if got := len(ring.KeysAt(fixedNow)); got != bytes.Count(versions[v], []byte(`"id"`)) {
				t.Errorf("update %d, instance %d: %d keys, want the update's", v, i, got)
			}
		}
	}
}

// TestWatchFileResolvedKubernetesPath: a ring path resolved through a
// Secret volume's links (readlink -f, filepath.EvalSymlinks) names the
// file inside the kubelet's version directory, which the next update
// deletes. The watcher keeps the keys in force, and its report said "check
// the path ...; a Kubernetes Secret volume drops a key's file when the key
// or the Secret is deleted", though the Secret still held the key. It now
// names the version directory and the fix: the path under the mount.
func TestWatchFileResolvedKubernetesPath(t *testing.T) {
	first, second := sameSizeRings(t)
	dir := t.TempDir()
	const v1, v2 = "..2026_12_02_10_00_00.1234567890", "..2026_12_02_11_00_00.2345678901"
	kubeVersion(t, dir, v1, first)
	for link, dest := range map[string]string{"..data": v1, "ring.json": filepath.Join("..data", "ring.json")} {
		if err := os.Symlink(dest, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	resolved, err := filepath.EvalSymlinks(filepath.Join(dir, "ring.json"))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.LoadKeyRingFile(resolved)
	if err != nil {
		t.Fatal(err)
	}
	reports := watchRing(t, ring, resolved)
	kubeVersion(t, dir, v2, second)
	tmp := filepath.Join(dir, "..data_tmp")
	for _, err := range []error{os.Symlink(v2, tmp), os.Rename(tmp, filepath.Join(dir, "..data")), os.RemoveAll(filepath.Join(dir, v1))} {
		if err != nil {
			t.Fatal(err)
		}
	}
	err = reloadReport(t, reports)
	checkErrRules(t, err)
	if want := "the path runs through " + v1 + ", a Kubernetes volume's version directory, which the kubelet deletes at the volume's next update"; err == nil || !strings.Contains(err.Error(), resolved) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "name the file under the volume's mount path") {
		t.Errorf("WatchFile reported %v, want the path and %q with the fix", err, want)
	}
	if got := ring.PrimaryAt(fixedNow); got != 0x1a2b3c4d {
		t.Errorf("primary %08x, want the keys in force (1a2b3c4d)", got)
	}
}

// TestWatchFileStartupWindow changes the file between LoadKeyRingFile and
// WatchFile, as other start-up work would let happen: the watcher's
// baseline is what the ring was loaded from, so it reloads at once.
func TestWatchFileStartupWindow(t *testing.T) {
	first, second := sameSizeRings(t)
	for name, how := range fileReplacements {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := how.setup(t, dir, first)
			ring, err := cookiesession.LoadKeyRingFile(path)
			if err != nil {
				t.Fatal(err)
			}
			how.replace(t, dir, second)
			awaitReload(t, watchRing(t, ring, path), ring, 0x5e6f7a8b, false)
		})
	}
}

// TestWatchFileRefusesInterval checks that a non-positive interval is an
// error returned at once, not a panic from time.NewTicker.
func TestWatchFileRefusesInterval(t *testing.T) {
	// README shows WatchFile started as go ring.WatchFile(...), which drops
	// the error it returns: an interval of 0 (a setting left unset) left the
	// file unwatched with nothing said, and every ring shipped later never
	// reached the instance. The refusal is now also reported, through
	// report or, when it is nil, slog.Default at error level, and shown in
	// the ring's reload status (the metrics' reload.error).
	logs := defaultLogs(t)
	path := filepath.Join(t.TempDir(), "ring.json")
	writeFileAtomic(t, path, marshalRing(t, ringOf(t, 0x1a2b3c4d)), fixedNow)
	// A bare number counts nanoseconds: WatchFile(ctx, path, 10, nil), meant
	// as every 10 s, read the file in a busy loop (77% of a core in a 3 s
	// run), with nothing logged.
	for _, interval := range []time.Duration{0, -time.Second, 10, time.Millisecond - 1} {
		ring, err := cookiesession.LoadKeyRingFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var reported []error
		done := make(chan error, 1)
		go func() {
			done <- ring.WatchFile(context.Background(), path, interval, func(err error) { reported = append(reported, err) })
		}()
		select {
		case err := <-done:
			checkErrRules(t, err)
			want := "is not positive: the file is not watched, and this instance keeps the keys it has whatever the file holds: pass an interval such as 10*time.Second"
			if interval > 0 {
				n := int64(interval)
				want = fmt.Sprintf("interval %v for %s is under a millisecond: a time.Duration counts nanoseconds; for %d seconds write time.Duration(%d) * time.Second, for %d milliseconds time.Duration(%d) * time.Millisecond: the file is not watched, and this instance keeps the keys it has whatever the file holds", interval, path, n, n, n, n)
			}
			if err == nil || !strings.Contains(err.Error(), "interval") || !strings.Contains(err.Error(), want) {
				t.Errorf("WatchFile(interval %v) = %v, want an error about the interval saying %q", interval, err, want)
			}
			if len(reported) != 1 || reported[0] == nil || reported[0].Error() != err.Error() {
				t.Errorf("WatchFile(interval %v) reported %v, want its error once", interval, reported)
			}
			if st := managerOn(t, ring, time.Now).Metrics().Reload; err != nil && st.Error != err.Error() {
				t.Errorf("WatchFile(interval %v): reload status %+v, want its error", interval, st)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("WatchFile(interval %v) did not return", interval)
		}
	}
	ring := ringOf(t, 0x1a2b3c4d)
	if err := ring.WatchFile(context.Background(), path, 0, nil); err == nil {
		t.Fatal("WatchFile(interval 0) succeeded")
	}
	if lines := logs.await(t, "is not positive"); !strings.Contains(lines[0], "level=ERROR") || !strings.Contains(lines[0], path) {
		t.Errorf("with a nil report, logged %q, want an error naming %s", lines[0], path)
	}
}

// TestWatchFileStoppedShows: WatchFile stops when its context ends, and
// stopped with nothing said: a context that ends before the server does
// (a setup function's defer cancel(), a startup timeout's context) left
// the file unwatched, the metrics showing the last reload as healthy, and
// every ring shipped later never reached the instance. Its end is now
// logged at Info with the context's cause (Warn would fire at every
// graceful shutdown), and shown in the reload status.
func TestWatchFileStoppedShows(t *testing.T) {
	logs := defaultLogs(t)
	path := filepath.Join(t.TempDir(), "ring.json")
	writeFileAtomic(t, path, marshalRing(t, ringOf(t, 0x1a2b3c4d)), fixedNow)
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("the server is shutting down")) // the cause is named
	if err := ring.WatchFile(ctx, path, time.Hour, func(err error) { t.Errorf("reported %v", err) }); err != nil {
		t.Fatalf("WatchFile = %v, want nil when its context ends", err)
	}
	const want = "is no longer watched: a reload needs ReloadFile or a restart; if the server still runs, pass WatchFile a context that lasts as long as the server"
	st := managerOn(t, ring, time.Now).Metrics().Reload
	if !strings.Contains(st.Error, "cookiesession: WatchFile of "+path+" stopped: its context ended (the server is shutting down), and the file "+want) {
		t.Errorf("reload status %+v, want an error saying the watcher stopped and %q", st, want)
	}
	if st.Failures != 0 {
		t.Errorf("reload status %+v counts a failure, and no reload failed", st)
	}
	const fix = "a reload needs ReloadFile or a restart; if the server still runs, pass WatchFile a context that lasts as long as the server"
	if lines := logs.await(t, "WatchFile of"); !strings.Contains(lines[0], "level=INFO") || !strings.Contains(lines[0], "the server is shutting down") || !strings.Contains(lines[0], "no longer watched") || !strings.Contains(lines[0], fix) || !strings.Contains(lines[0], path) {
		t.Errorf("logged %q, want an Info naming %s and the cause, saying it is no longer watched, and %q", lines[0], path, fix)
	}
}

// TestKeyRingConcurrentRotation seals and opens from several goroutines
// while another rotates keys round a cycle until they finish, for go test
// -race. A token may only fail because its key was removed meanwhile.
func TestKeyRingConcurrentRotation(t *testing.T) {
	const cycle, workers, iterations = 8, 4, 300
	keys := make([]cookiesession.Key, cycle)
	for i := range keys {
		keys[i] = keyForID(t, uint32(0x20000000+i))
	}
	ring, err := cookiesession.NewKeyRing(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	c := newTestCodec(t, ring, cookiesession.CodecOptions{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			sealOpenLoop(t, c, ring, w, iterations)
		})
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	rotations := 0
	for ; rotations < 1000000; rotations++ {
		select {
		case <-finished:
			t.Logf("%d rotations while %d workers sealed and opened %d tokens each", rotations, workers, iterations)
			return
		default:
		}
		if err := rotateOnce(ring, keys[(rotations+1)%cycle], keys[rotations%cycle].ID()); err != nil {
			t.Error(err) // not Fatal: the workers' checks must end before the test does
			break
		}
	}
	<-finished
}

// rotateOnce adds k, promotes it and removes the key before it.
func rotateOnce(ring *cookiesession.KeyRing, k cookiesession.Key, prev uint32) error {
	if err := ring.Add(k); err != nil {
		return err
	}
	if err := ring.Promote(k.ID()); err != nil {
		return err
	}
	return ring.Remove(prev)
}

func sealOpenLoop(t *testing.T, c *cookiesession.Codec, ring *cookiesession.KeyRing, worker, iterations int) {
	for i := range iterations {
		want := worker*1000000 + i
		var v cookiesession.Values
		_ = v.Set("n", want)
		token, err := c.Seal(&cookiesession.Record{Values: v})
		if err != nil {
			t.Errorf("Seal: %v", err)
			return
		}
		opened, err := c.Open(token)
		if err != nil && !errors.Is(err, cookiesession.ErrUnknownKey) {
			t.Errorf("Open: %v", err)
			return
		}
		if got, _ := opened.Values.Get("n"); err == nil && got != want {
			t.Errorf("opened n=%v, want %d", got, want)
			return
		}
		if primaries := countPrimaries(ring.Keys()); primaries != 1 {
			t.Errorf("a snapshot had %d primaries", primaries)
			return
		}
		if _, err := ring.MarshalJSON(); err != nil {
			t.Errorf("MarshalJSON during rotation: %v", err)
			return
		}
	}
}

func countPrimaries(infos []cookiesession.KeyInfo) int {
	n := 0
	for _, info := range infos {
		if info.Primary {
			n++
		}
	}
	return n
}

// TestReplace checks that Replace swaps in another ring's keys whole, and
// refuses a KeyRing not built by NewKeyRing, which holds no key, keeping
// the keys it has.
func TestReplace(t *testing.T) {
	ring := ringOf(t, 0x1a2b3c4d)
	err := ring.Replace(&cookiesession.KeyRing{})
	checkErrRules(t, err)
	if err == nil || !ring.Has(0x1a2b3c4d) || ring.PrimaryAt(fixedNow) != 0x1a2b3c4d {
		t.Errorf("Replace(zero KeyRing) = %v; ring now %v, want an error and key 1a2b3c4d kept", err, ring)
	}
	other := ringOf(t, 0x5e6f7a8b, 0x00c0ffee)
	if err := ring.Replace(other); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(other.KeysAt(fixedNow), ring.KeysAt(fixedNow), equateTimes); diff != "" {
		t.Errorf("after Replace (-want +got):\n%s", diff)
	}
	if err := ring.Remove(0x00c0ffee); err != nil {
		t.Fatal(err)
	}
	if !other.Has(0x00c0ffee) {
		t.Errorf("changing the ring after Replace changed the source ring")
	}
}

// TestWatchFileNilReportLogs: with no report function, a reload that fails
// still says so (through slog.Default), since the ring stays on its old
// keys and a rotation the operator shipped does not happen.
func TestWatchFileNilReportLogs(t *testing.T) {
	logs := defaultLogs(t)

	path := filepath.Join(t.TempDir(), "keys.json")
	writeFileAtomic(t, path, marshalRing(t, ringOf(t, 0x1a2b3c4d)), fixedNow)
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	watchFile(t, ring, path, time.Millisecond, nil)

	writeFileAtomic(t, path, []byte(`{"version":1,"primary":`), fixedNow) // torn by a non-atomic writer
	failed := logs.await(t, "reload failed")
	if !strings.Contains(failed[0], "level=ERROR") || !strings.Contains(failed[0], path) {
		t.Errorf("failure logged as %q, want an error naming %s", failed[0], path)
	}
	writeFileAtomic(t, path, marshalRing(t, ringOf(t, 0x5e6f7a8b, 0x1a2b3c4d)), fixedNow)
	if reloaded := logs.await(t, "key ring reloaded"); !strings.Contains(reloaded[0], "5e6f7a8b") {
		t.Errorf("reload logged as %q, want the new ring", reloaded[0])
	}
	assertNoSecret(t, "log", logs.String())
}

// TestReloadWarnsWhenSealingKeyChanges: a reload that takes away the key
// that was sealing (the primary before the reload, by its promote_at too)
// signs out every user whose session it sealed, and one that brings in a
// key that seals at once was never added to the fleet first; one that
// takes away a key before its promote_at (a rolled-back file) cancels a
// promotion that instances still holding the key will make. Any other key
// taken away (the runbook's remove step, or an old backup restored that
// holds fewer keys) is logged at Warn once per reload, naming the ids and
// how many, since nothing else would say so before users were signed out.
// All succeed; adding and promoting are not logged.
func TestReloadWarnsWhenSealingKeyChanges(t *testing.T) {
	const a, b, c, d = 0x1a2b3c4d, 0x5e6f7a8b, 0x01020304, 0x0a0b0c0d
	logs := defaultLogs(t)
	scheduled := func(ring *cookiesession.KeyRing, at time.Time) *cookiesession.KeyRing {
		t.Helper()
		if err := ring.AddScheduled(keyForID(t, b), at); err != nil {
			t.Fatal(err)
		}
		return ring
	}
	const removed, unheld = "removed the key that was sealing", "not in the ring before"
	const unscheduled = "removed a key before its scheduled promotion: this instance will not switch to it"
	const dropped = "removed keys: every session sealed under them is refused from now on"
	past, future := fixedNow.Add(-time.Hour), fixedNow.Add(time.Hour)
	for _, step := range []struct {
		name     string
		from, to *cookiesession.KeyRing
		warnings []string // each a message and its key_id, in order
	}{
		{"add", ringOf(t, a), ringOf(t, a, b), nil},
		{"promote an added key", ringOf(t, a, b), ringOf(t, b, a), nil},
		{"remove the old key", ringOf(t, b, a), ringOf(t, b), []string{dropped + ".* key_ids=1a2b3c4d removed=1 kept=1"}},
		{"remove the old key after promote_at", scheduled(ringOf(t, a), past), ringOf(t, b), []string{dropped + ".* key_ids=1a2b3c4d removed=1 kept=1"}},
		{"an old backup restored", ringOf(t, c, a, b, d), ringOf(t, c, a), []string{dropped + ".* key_ids=5e6f7a8b,0a0b0c0d removed=2 kept=2"}},
		{"roll back before a promote_at", scheduled(ringOf(t, a), future), ringOf(t, a),
			[]string{unscheduled + ".* key_id=5e6f7a8b promote_at=" + future.Format(time.RFC3339)}},
		{"drop a key added unscheduled", ringOf(t, a, b), ringOf(t, a), []string{dropped + ".* key_ids=5e6f7a8b removed=1 kept=1"}},
		{"drop the primary", ringOf(t, a, b), ringOf(t, b),
			[]string{removed + ".* key_id=1a2b3c4d"}},
		{"roll back past a promote_at", scheduled(ringOf(t, a), past), ringOf(t, a),
			[]string{removed + ".* key_id=5e6f7a8b"}},
		{"new key already due", ringOf(t, a), scheduled(ringOf(t, a), past),
			[]string{unheld + ".* key_id=5e6f7a8b promote_at=" + past.Format(time.RFC3339)}},
		{"new key as the primary", ringOf(t, a), ringOf(t, b, a),
			[]string{unheld + ".* key_id=5e6f7a8b"}},
		{"replaced outright", ringOf(t, a), ringOf(t, b),
			[]string{removed + ".* key_id=1a2b3c4d", unheld + ".* key_id=5e6f7a8b"}},
	} {
		path := filepath.Join(t.TempDir(), "keys.json")
		writeFileAtomic(t, path, marshalRing(t, step.from), fixedNow)
		ring, err := cookiesession.LoadKeyRingFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ring.SetClock(func() time.Time { return fixedNow })
		writeFileAtomic(t, path, marshalRing(t, step.to), fixedNow)
		before := len(logs.lines("level=WARN"))
		if err := ring.ReloadFile(path); err != nil {
			t.Fatalf("%s: ReloadFile: %v", step.name, err)
		}
		warnings := logs.lines("level=WARN")[before:]
		if len(warnings) != len(step.warnings) {
			t.Errorf("%s: logged %q, want %d warnings", step.name, warnings, len(step.warnings))
			continue
		}
		for i, want := range step.warnings {
			if !regexp.MustCompile(want + ".* file=" + regexp.QuoteMeta(path) + " fix=").MatchString(warnings[i]) {
				t.Errorf("%s: warning %q, want it to match %q naming the file and the fix", step.name, warnings[i], want)
			}
		}
		// README (Keys): Replace logs the same, with no file to name.
		replaced := ringOf(t, a)
		if err := replaced.Replace(step.from); err != nil {
			t.Fatal(err)
		}
		replaced.SetClock(func() time.Time { return fixedNow })
		before = len(logs.lines("level=WARN"))
		if err := replaced.Replace(step.to); err != nil {
			t.Fatalf("%s: Replace: %v", step.name, err)
		}
		warnings = logs.lines("level=WARN")[before:]
		if len(warnings) != len(step.warnings) {
			t.Errorf("%s: Replace logged %q, want %d warnings", step.name, warnings, len(step.warnings))
			continue
		}
		for i, want := range step.warnings {
			if !regexp.MustCompile(want+".* fix=").MatchString(warnings[i]) || strings.Contains(warnings[i], "file=") {
				t.Errorf("%s: Replace's warning %q, want it to match %q, with the fix and no file", step.name, warnings[i], want)
			}
		}
	}
	assertNoSecret(t, "log", logs.String())
}

// TestReloadWarnsScheduledKeyDueOnArrival: an operator schedules a key
// (add -promote-in 5m), and one instance whose clock runs 10 minutes ahead
// loads the file after its promote_at by its own clock: it seals under the
// key at once while the rest of the fleet waits. Its Warn used to tell the
// operator to do what they had done ("schedule it with a promote_at they
// all reach later"); it names this instance's clock reading and both
// causes, a clock ahead (NTP) or a file that arrived late. A key that
// comes in as the primary, with no promote_at, keeps the first fix.
func TestReloadWarnsScheduledKeyDueOnArrival(t *testing.T) {
	const a, b = 0x1a2b3c4d, 0x5e6f7a8b
	logs := defaultLogs(t)
	fleetNow := fixedNow
	ahead := fleetNow.Add(10 * time.Minute)
	scheduled := ringOf(t, a)
	if err := scheduled.AddScheduled(keyForID(t, b), fleetNow.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name  string
		to    *cookiesession.KeyRing
		clock time.Time
		want  []string
		not   []string
	}{
		{"scheduled, clock ahead", scheduled, ahead,
			[]string{"key_id=5e6f7a8b", "promote_at=2026-05-01T12:05:00Z", "this instance's clock (2026-05-01T12:10:00Z)", "clock runs ahead", "NTP", "arrived late"},
			[]string{"schedule it with a promote_at they all reach later"}},
		{"new key as the primary", ringOf(t, b, a), fleetNow,
			[]string{"key_id=5e6f7a8b", "schedule it with a promote_at they all reach later"},
			[]string{"NTP"}},
	} {
		path := filepath.Join(t.TempDir(), "keys.json")
		writeFileAtomic(t, path, marshalRing(t, ringOf(t, a)), fleetNow)
		ring, err := cookiesession.LoadKeyRingFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ring.SetClock(func() time.Time { return step.clock })
		writeFileAtomic(t, path, marshalRing(t, step.to), fleetNow)
		before := len(logs.lines("level=WARN"))
		if err := ring.ReloadFile(path); err != nil {
			t.Fatalf("%s: ReloadFile: %v", step.name, err)
		}
		warnings := logs.lines("level=WARN")[before:]
		if len(warnings) != 1 || !strings.Contains(warnings[0], "not in the ring before") {
			t.Errorf("%s: logged %q, want one warning that a key not held before seals", step.name, warnings)
			continue
		}
		for _, want := range step.want {
			if !strings.Contains(warnings[0], want) {
				t.Errorf("%s: warning %q lacks %q", step.name, warnings[0], want)
			}
		}
		for _, not := range step.not {
			if strings.Contains(warnings[0], not) {
				t.Errorf("%s: warning %q says %q", step.name, warnings[0], not)
			}
		}
	}
}

// TestWatchFileWarnsDroppedPrimary: WatchFile's reload warns too, whatever
// its report: report keeps its meaning (nil, the new keys are in force).
func TestWatchFileWarnsDroppedPrimary(t *testing.T) {
	logs := defaultLogs(t)
	path := filepath.Join(t.TempDir(), "keys.json")
	writeFileAtomic(t, path, marshalRing(t, ringOf(t, 0x1a2b3c4d, 0x5e6f7a8b)), fixedNow)
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reports := make(chan error, 16)
	watchFile(t, ring, path, time.Millisecond, func(err error) { reports <- err })
	awaitReport(t, reports, path, marshalRing(t, ringOf(t, 0x5e6f7a8b)), func(err error) bool { return err == nil })
	warned := logs.lines("level=WARN")
	if len(warned) != 1 || !strings.Contains(warned[0], "key_id=1a2b3c4d") || !strings.Contains(warned[0], "refused") {
		t.Errorf("a watched reload that dropped the primary logged %q, want one warning naming 1a2b3c4d", warned)
	}
}

// TestReloadRefusesChangedSecret: a ring rebuilt so that a key id holds
// another secret (regenerated by position, copied from another
// environment with the same ids) would refuse every session sealed under
// that id. ReloadFile, Replace and WatchFile refuse it, naming the id,
// and keep the keys in force, so the sessions still open.
func TestReloadRefusesChangedSecret(t *testing.T) {
	const a, b, other = 0x1a2b3c4d, 0x5e6f7a8b, 0x00c0ffee
	keyForID(t, other) // records the secret reused below for assertNoSecret
	changed := func(primary, id uint32) *cookiesession.KeyRing {
		t.Helper()
		keys := map[uint32]cookiesession.Key{a: keyForID(t, a), b: keyForID(t, b)}
		k, err := cookiesession.NewKey(id, keySecret(other))
		if err != nil {
			t.Fatal(err)
		}
		keys[id] = k
		ring, err := cookiesession.NewKeyRing(keys[primary], keys[a^b^primary])
		if err != nil {
			t.Fatal(err)
		}
		return ring
	}
	for _, step := range []struct {
		name string
		to   *cookiesession.KeyRing
		id   string
	}{
		{"the primary's secret", changed(a, a), "1a2b3c4d"},
		{"an open-only key's secret", changed(a, b), "5e6f7a8b"},
		{"a promoted key's secret", changed(b, b), "5e6f7a8b"},
	} {
		path := filepath.Join(t.TempDir(), "keys.json")
		writeFileAtomic(t, path, marshalRing(t, ringOf(t, a, b)), fixedNow)
		ring, err := cookiesession.LoadKeyRingFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c := newTestCodec(t, ring, cookiesession.CodecOptions{})
		token := sealAt(t, c, &cookiesession.Record{}, fixedNow) // under a
		writeFileAtomic(t, path, marshalRing(t, step.to), fixedNow)
		for how, reload := range map[string]func() error{
			"ReloadFile": func() error { return ring.ReloadFile(path) },
			"Replace":    func() error { return ring.Replace(step.to) },
		} {
			err := reload()
			checkErrRules(t, err)
			if err == nil || !strings.Contains(err.Error(), "key "+step.id+" has a different secret") {
				t.Errorf("%s: %s = %v, want an error naming key %s", step.name, how, err, step.id)
			}
			if _, err := c.OpenAt(token, fixedNow); err != nil {
				t.Errorf("%s: after %s, a session sealed before: %v", step.name, how, err)
			}
			assertNoSecret(t, "error", fmt.Sprint(err))
		}
		if err := ring.ReloadFile(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: ReloadFile = %v, want an error naming the file", step.name, err)
		}
	}
	path := filepath.Join(t.TempDir(), "keys.json")
	writeFileAtomic(t, path, marshalRing(t, ringOf(t, a, b)), fixedNow)
	ring, err := cookiesession.LoadKeyRingFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reports := make(chan error, 16)
	watchFile(t, ring, path, time.Millisecond, func(err error) {
		select {
		case reports <- err:
		default:
		}
	})
	awaitReport(t, reports, path, marshalRing(t, changed(a, b)), func(err error) bool {
		if err == nil {
			t.Errorf("WatchFile took a ring in which key 5e6f7a8b has another secret")
			return true
		}
		return strings.Contains(err.Error(), "key 5e6f7a8b has a different secret")
	})
}

// TestRingSyntaxPositionInsideValue: a syntax error inside a string or a
// literal (a line break before the closing quote, true misspelt) was
// placed at the value's first byte, where Token stopped, while the message
// named a byte further on. The line and column are now the byte's.
func TestRingSyntaxPositionInsideValue(t *testing.T) {
	// The decoder's words are matched to where they differ under
	// GOEXPERIMENT=jsonv2 ("in string literal" there is "in string"); the
	// place is the same under both.
	for _, tt := range []struct{ name, text, words, at string }{
		{"line break in a string", "{\n  \"version\": 1,\n  \"primary\": \"1a2b\n\",\n  \"keys\": []\n}", `invalid character '\n' in string`, "at line 3, column 19"},
		{"literal misspelt", "{\n  \"version\": 1,\n  \"primary\": tru\n}", `invalid character '\n' in literal true (expecting 'e')`, "at line 3, column 17"},
		{"comma missing before a string", "{\n  \"version\": 1,\n  \"primary\": \"ab\"\n  \"keys\": []\n}", `invalid character '"' after object key:value pair`, "at line 4, column 3"},
		{"comma missing before a bad string", "{\n  \"version\": 1,\n  \"primary\": \"ab\" \"k\n\"\n}", `invalid character '"' after object key:value pair`, "at line 3, column 19"},
	} {
		_, err := cookiesession.ParseKeyRing([]byte(tt.text))
		if err == nil || !strings.Contains(err.Error(), tt.words) || !strings.HasSuffix(err.Error(), ", "+tt.at) {
			t.Errorf("%s: %v, want %q, %s", tt.name, err, tt.words, tt.at)
		}
	}
}

// TestRemoveSoonAfterSealingWarns: a rotation from code (Promote, then
// Remove at once, or a scheduled promotion followed by Remove within the
// Codec's MaxLifetime) signed out every user of the removed key without
// a word. Remove now logs it at Warn, with the time the key last sealed;
// a Remove once MaxLifetime has passed, and the cancellation of a key
// that never sealed, log nothing.
func TestRemoveSoonAfterSealingWarns(t *testing.T) {
	const msg = "KeyRing.Remove removed a key that sealed sessions more recently than the longest MaxLifetime"
	for _, row := range []struct {
		name    string
		rotate  func(ring *cookiesession.KeyRing, clock *fakeClock) // ends with key 1 open-only
		removed uint32
		warns   string // "" for no Warn
	}{
		{"promote, then remove at once", func(ring *cookiesession.KeyRing, clock *fakeClock) {
			mustNil(t, ring.Add(keyForID(t, 2)))
			mustNil(t, ring.Promote(2))
		}, 1, "sealed_until=" + fixedNow.Format(time.RFC3339)},
		{"scheduled promotion an hour ago", func(ring *cookiesession.KeyRing, clock *fakeClock) {
			mustNil(t, ring.AddScheduled(keyForID(t, 2), fixedNow.Add(time.Hour)))
			clock.Advance(2 * time.Hour)
		}, 1, "sealed_until=" + fixedNow.Add(time.Hour).Format(time.RFC3339) + " sealed_ago=1h0m0s max_lifetime=48h0m0s"},
		{"promote, then remove after MaxLifetime", func(ring *cookiesession.KeyRing, clock *fakeClock) {
			mustNil(t, ring.Add(keyForID(t, 2)))
			mustNil(t, ring.Promote(2))
			clock.Advance(48 * time.Hour)
		}, 1, ""},
		{"a key that never sealed", func(ring *cookiesession.KeyRing, clock *fakeClock) {
			mustNil(t, ring.Add(keyForID(t, 2)))
		}, 2, ""},
		{"a reload that demoted it", func(ring *cookiesession.KeyRing, clock *fakeClock) {
			next, err := cookiesession.NewKeyRing(keyForID(t, 2), keyForID(t, 1))
			mustNil(t, err)
			mustNil(t, ring.Replace(next))
		}, 1, "sealed_until=" + fixedNow.Format(time.RFC3339)},
	} {
		t.Run(row.name, func(t *testing.T) {
			clock := newFakeClock(fixedNow)
			ring, err := cookiesession.NewKeyRing(keyForID(t, 1))
			mustNil(t, err)
			ring.SetClock(clock.Now)
			// Two users of the ring: the longest MaxLifetime counts.
			newTestCodec(t, ring, cookiesession.CodecOptions{MaxAge: time.Hour})
			newTestCodec(t, ring, cookiesession.CodecOptions{MaxAge: time.Hour, MaxLifetime: 48 * time.Hour})
			row.rotate(ring, clock)
			logs := defaultLogsAt(t, slog.LevelWarn)
			mustNil(t, ring.Remove(row.removed))
			got := logs.String()
			if row.warns == "" {
				if got != "" {
					t.Errorf("Remove logged %q, want nothing", got)
				}
				return
			}
			if !strings.Contains(got, msg) || !strings.Contains(got, row.warns) || !strings.Contains(got, "key_id="+cookiesession.FormatKeyID(row.removed)) {
				t.Errorf("Remove logged %q, want a Warn %q with %q", got, msg, row.warns)
			}
		})
	}
}

// TestRemoveWarnsByMaxLifetimeInForce: a Manager whose MaxLifetime was
// lowered (SetMaxLifetime, 30 days to an hour) opens no session past the
// hour, nor does a Codec of 30 days dropped and collected, so a Remove
// two hours after the key last sealed signs no one out and says nothing,
// where the 30 days warned; half an hour after, it warns with the hour.
func TestRemoveWarnsByMaxLifetimeInForce(t *testing.T) {
	const msg = "KeyRing.Remove removed a key that sealed sessions more recently than the longest MaxLifetime"
	for _, row := range []struct {
		after   time.Duration
		retired []cookiesession.RetiredCookie
		warns   string // "" for no Warn
	}{
		{2 * time.Hour, nil, ""},
		{30 * time.Minute, nil, "max_lifetime=1h0m0s"},
		// A Manager that reads a retired cookie, to see when its session
		// began, or carries it: neither reading keeps the 30 days.
		{2 * time.Hour, []cookiesession.RetiredCookie{{Name: "old"}}, ""},
		{2 * time.Hour, []cookiesession.RetiredCookie{{Name: "old", Carry: true}}, ""},
	} {
		clock := newFakeClock(fixedNow)
		ring := ringOf(t, 1)
		ring.SetClock(clock.Now)
		m, err := cookiesession.New(ring, cookiesession.Options{MaxAge: time.Hour, MaxLifetime: 30 * 24 * time.Hour, Now: clock.Now, Retired: row.retired})
		mustNil(t, err)
		mustNil(t, m.SetMaxLifetime(time.Hour))
		dropCodec(t, ring) // of 30 days, collected: it opens nothing
		runtime.GC()
		mustNil(t, ring.Add(keyForID(t, 2)))
		mustNil(t, ring.Promote(2))
		clock.Advance(row.after)
		logs := defaultLogsAt(t, slog.LevelWarn)
		mustNil(t, ring.Remove(1))
		runtime.KeepAlive(m)
		got := logs.String()
		if row.warns == "" && got != "" || row.warns != "" && (!strings.Contains(got, msg) || !strings.Contains(got, row.warns)) {
			t.Errorf("Remove %v after key 1 last sealed (Retired %+v) logged %q; want %q", row.after, row.retired, got, row.warns)
		}
	}
}

// TestRemoveWarnsOfCodecsPerRequest: a program that builds its Codec per
// request (MaxLifetime 30 days) and drops it has none in use when Remove
// runs, yet the next one opens the sessions they sealed, so a Remove an
// hour after the key last sealed still warns, with the 30 days; it said
// nothing once the dropped Codecs were collected, as it did in
// TestRemoveSoonAfterSealingWarns after a collection.
func TestRemoveWarnsOfCodecsPerRequest(t *testing.T) {
	clock := newFakeClock(fixedNow)
	ring := ringOf(t, 1)
	ring.SetClock(clock.Now)
	for range 3 {
		dropCodec(t, ring) // a request's
	}
	runtime.GC()
	mustNil(t, ring.Add(keyForID(t, 2)))
	mustNil(t, ring.Promote(2))
	clock.Advance(time.Hour)
	runtime.GC()
	logs := defaultLogsAt(t, slog.LevelWarn)
	mustNil(t, ring.Remove(1))
	if got := logs.String(); !strings.Contains(got, "KeyRing.Remove removed a key that sealed sessions") || !strings.Contains(got, "max_lifetime=720h0m0s") {
		t.Errorf("Remove an hour after key 1 last sealed, its Codecs built per request and collected, logged %q; want a Warn with max_lifetime=720h0m0s", got)
	}
}

// dropCodec builds a Codec of MaxLifetime 30 days on ring and drops it.
func dropCodec(t *testing.T, ring *cookiesession.KeyRing) {
	newTestCodec(t, ring, cookiesession.CodecOptions{MaxAge: time.Hour, MaxLifetime: 30 * 24 * time.Hour})
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestUnknownKeyReasonSaysRemoved: a token under a key the ring lacks
// said only "unknown key id X", whether this ring removed the key (too
// soon, or a reload of a stale file) or never held it (another ring). The
// reason now says when this ring removed it, through Remove and a reload
// alike, and says nothing more once the key is back or was never held.
func TestUnknownKeyReasonSaysRemoved(t *testing.T) {
	clock := newFakeClock(fixedNow)
	ring := ringOf(t, 1, 2, 3)
	ring.SetClock(clock.Now)
	c := newTestCodec(t, ring, cookiesession.CodecOptions{})
	sealUnder := func(id uint32) string {
		other := newTestCodec(t, ringOf(t, id), cookiesession.CodecOptions{})
		return sealAt(t, other, &cookiesession.Record{}, fixedNow)
	}
	under2, under3, under9 := sealUnder(2), sealUnder(3), sealUnder(9)
	clock.Advance(time.Hour)
	mustNil(t, ring.Remove(2))
	clock.Advance(time.Hour)
	mustNil(t, ring.Replace(ringOf(t, 1))) // a reload that drops key 3
	for _, row := range []struct {
		token, want string
	}{
		{under2, "unknown key id 00000002 (removed from this ring at " + fixedNow.Add(time.Hour).Format(time.RFC3339) + ")"},
		{under3, "unknown key id 00000003 (removed from this ring at " + fixedNow.Add(2*time.Hour).Format(time.RFC3339) + ")"},
		{under9, "unknown key id 00000009"},
	} {
		_, err := c.OpenAt(row.token, fixedNow.Add(2*time.Hour))
		if !errors.Is(err, cookiesession.ErrUnknownKey) || err.Error() != "cookiesession: "+row.want {
			t.Errorf("OpenAt: %v; want ErrUnknownKey %q", err, row.want)
		}
	}
	mustNil(t, ring.Add(keyForID(t, 2)))
	if _, err := c.OpenAt(under2, fixedNow.Add(2*time.Hour)); err != nil {
		t.Errorf("key 2 added back: %v", err)
	}
	mustNil(t, ring.Promote(2))
	mustNil(t, ring.Remove(1))
	if _, err := c.OpenAt(under3, fixedNow.Add(2*time.Hour)); err == nil || !strings.Contains(err.Error(), "(removed from this ring at "+fixedNow.Add(2*time.Hour).Format(time.RFC3339)+")") {
		t.Errorf("key 3 after later changes: %v; want its removal kept", err)
	}
}
