package cookiesession

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the length of a key's secret in bytes.
const KeySize = chacha20poly1305.KeySize

// EnvKeys is the environment variable LoadKeyRingEnv reads.
const EnvKeys = "COOKIESESSION_KEYS"

// Key is a 32-byte XChaCha20-Poly1305 key with a random 32-bit id. The id is
// written into every token sealed with the key, so opening a token tries
// exactly one key.
//
// The secret sits two pointers below the Key, so that no fmt verb reaches
// it at any depth. A Key inside another value (an unexported field, where
// fmt cannot call String) prints as its id and addresses.
type Key struct {
	id  uint32
	mat *keyMaterial
}

// The interfaces Key and KeyRing promise.
var (
	_ fmt.Stringer   = Key{}
	_ slog.LogValuer = Key{}
	_ fmt.Stringer   = (*KeyRing)(nil)
	_ slog.LogValuer = (*KeyRing)(nil)
	_ json.Marshaler = (*KeyRing)(nil)
)

// keyMaterial is what a Key points to. fmt follows a pointer once when the
// verb does not suit it (%s of a struct field prints %!s(*T=&{…})), so the
// secret is one more pointer away; the AEAD is a pointer behind its
// interface.
type keyMaterial struct {
	secret *[KeySize]byte
	aead   cipher.AEAD // built once per key, not per request
}

// GenerateKey returns a new key with a secret and an id from crypto/rand.
// The error is always nil: crypto/rand.Read cannot fail since Go 1.24 (it
// crashes the program instead); the result keeps its error for callers
// written against NewKey.
func GenerateKey() (Key, error) {
	var secret [KeySize]byte
	rand.Read(secret[:])
	var id uint32
	for id == 0 { // 0 is reserved
		var b [4]byte
		rand.Read(b[:])
		id = binary.BigEndian.Uint32(b[:])
	}
	return NewKey(id, secret[:])
}

// NewKey returns a key with the given id and a copy of secret, which must be
// KeySize bytes from a cryptographically secure source; a secret that is
// all zero bytes is refused, since anyone could seal under it. Id 0 is
// reserved.
// Most callers want GenerateKey; NewKey exists for importing keys and for
// test vectors. An id names one secret for good: tokens name their key by
// id, so a new secret under an id already used fails every token sealed
// under the old one, as forged tokens fail.
func NewKey(id uint32, secret []byte) (Key, error) {
	if id == 0 {
		return Key{}, errors.New("cookiesession: key id 0 is reserved")
	}
	if len(secret) != KeySize {
		return Key{}, fmt.Errorf("cookiesession: key secret is %d bytes, want %d", len(secret), KeySize)
	}
	if allZero(secret) {
		return Key{}, errors.New("cookiesession: key secret is all zero bytes (a buffer never filled), and anyone could seal tokens under it: fill it from crypto/rand, or use GenerateKey or cookiesession keygen")
	}
	mat := &keyMaterial{secret: new([KeySize]byte)}
	copy(mat.secret[:], secret)
	aead, err := chacha20poly1305.NewX(mat.secret[:])
	if err != nil {
		return Key{}, fmt.Errorf("cookiesession: %w", err)
	}
	mat.aead = aead
	return Key{id: id, mat: mat}, nil
}

// allZero reports whether secret is all zero bytes: a buffer never filled,
// or a placeholder of A's in base64. Every token sealed under it could be
// forged, so no key holds it.
func allZero(secret []byte) bool {
	var or byte
	for _, b := range secret {
		or |= b
	}
	return or == 0
}

// ID returns the key's id.
func (k Key) ID() uint32 { return k.id }

// IsZero reports whether k is the zero Key, which holds no secret.
func (k Key) IsZero() bool { return k.mat == nil }

// String returns "cookiesession.Key(1a2b3c4d)": the id, never the secret.
func (k Key) String() string { return "cookiesession.Key(" + FormatKeyID(k.id) + ")" }

// LogValue makes log/slog show String.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// FormatKeyID returns the form of a key id used in the JSON form, in logs
// and in error messages: 8 lower-case hex digits.
func FormatKeyID(id uint32) string { return fmt.Sprintf("%08x", id) }

// ParseKeyID parses the form FormatKeyID writes: exactly 8 lower-case hex
// digits, so that each id has one spelling. A malformed id is not echoed in
// the error: in a mangled ring file it may be a secret.
func ParseKeyID(s string) (uint32, error) {
	if !isKeyIDText(s) {
		return 0, fmt.Errorf("cookiesession: key id of %d characters is not 8 lower-case hex digits%s", len(s), keyIDHint(s))
	}
	id, _ := strconv.ParseUint(s, 16, 32) // cannot fail: checked above
	if id == 0 {
		return 0, fmt.Errorf("cookiesession: key id %s is reserved", s)
	}
	return uint32(id), nil
}

func isKeyIDText(s string) bool {
	return len(s) == 8 && strings.Trim(s, "0123456789abcdef") == ""
}

// keyIDHint says how s, which is not 8 lower-case hex digits, holds an id
// (with what came with it when it was pasted, or a fingerprint for it), or
// returns "". Nothing of s is echoed.
func keyIDHint(s string) string {
	switch {
	case len(s) == 8 && strings.Trim(s, "0123456789abcdefABCDEF") == "":
		return ": it has upper-case letters; write them in lower case"
	case isKeyIDText(strings.Trim(s, " \t\r\n")):
		return ": it has a space or a line end around it (a CR, from a Windows line end): remove it"
	case len(s) == 10 && (s[0] == '"' || s[0] == '\'') && s[9] == s[0] && isKeyIDText(s[1:9]):
		return ": it is inside quotes that are part of it: remove them"
	case len(s) == 10 && strings.EqualFold(s[:2], "0x") && isKeyIDText(strings.ToLower(s[2:])):
		return ": it starts with 0x: write the 8 hex digits alone"
	case len(s) == 12 && strings.Trim(s, "0123456789abcdef") == "":
		return ": it has 12 hex digits, as a key's fingerprint does: the id is the 8 digits of list's ID column"
	}
	return ""
}

// KeyRing holds the keys a Manager or Codec seals and opens with: one
// primary key that seals and opens, and open-only keys. Rotation is staged:
// Add a new key (open-only) everywhere, Promote it (or let a scheduled
// promote_at time pass), then Remove the old key once MaxAge (MaxLifetime,
// when sessions set their own Lifetime) has passed.
//
// Reads take an immutable snapshot through an atomic pointer and never lock,
// so a KeyRing is safe to rotate or reload while other goroutines seal and
// open. Writers are serialized by a mutex. The zero KeyRing is not usable;
// build one with NewKeyRing, ParseKeyRing or a Load function.
type KeyRing struct {
	mu    sync.Mutex // serializes writers
	state atomic.Pointer[ringState]
	clock atomic.Pointer[func() time.Time] // nil: time.Now

	reloadMu sync.Mutex // guards reload
	reload   ReloadStatus

	// sealedUntil holds when each key this ring saw seal stopped being
	// the primary, by the ring's clock; codecs, the Codecs (a Manager's
	// among them) built on the ring, held weakly: one dropped opens
	// nothing. Both are guarded by mu; Remove reads them to say when it
	// signs users out.
	sealedUntil map[uint32]time.Time
	codecs      []weak.Pointer[Codec]
	// codecsScan: the length of codecs at which addCodec next drops the
	// collected ones, twice the number left by the last drop, so that a
	// Codec or Manager built per request costs no scan of the others.
	// lifetime: the longest MaxLifetime, in seconds, of the Codecs built
	// on the ring, for a Remove when none is left in use (built per
	// request and collected), as the next one opens what they sealed.
	// Both are guarded by mu.
	codecsScan int
	lifetime   int64
}

// ringState is one immutable version of the ring.
type ringState struct {
	keys    []ringKey
	primary uint32
	// scheduled holds the keys with a promotion time, by ascending time.
	scheduled []*ringKey
	// source is the SHA-256 of the file text the keys were loaded from
	// (zero if none): WatchFile's baseline. It travels with the keys, so a
	// reload swaps both at once.
	source [sha256.Size]byte
	// removed lists the keys this ring removed while the process ran,
	// oldest first, with the time, at most maxRingKeys: a token under one
	// is refused saying so.
	removed []removedKey
}

type ringKey struct {
	Key
	promoteAt time.Time
}

// KeyInfo describes one key of a ring, without its secret.
type KeyInfo struct {
	ID uint32
	// Primary reports whether the key seals new tokens at the time asked.
	Primary bool
	// PromoteAt is the scheduled promotion time, or zero.
	PromoteAt time.Time
	// Fingerprint is a one-way digest of the key's secret, 12 hex digits
	// (FORMAT.md section 6): two instances that show one ID with two
	// fingerprints hold two secrets under it, and refuse each other's
	// cookies. It does not reveal the secret.
	Fingerprint string
}

// MarshalJSON writes the key as Metrics shows it: {"id": "1a2b3c4d",
// "primary": true, "promote_at": "...", "fingerprint": "..."}, the id in
// the hex the CLI prints, and promote_at and fingerprint left out when
// there is none. The CLI's list -json writes a "state" in place of
// "primary", which tells open-only from scheduled keys.
func (k KeyInfo) MarshalJSON() ([]byte, error) {
	out := struct {
		ID          string     `json:"id"`
		Primary     bool       `json:"primary"`
		PromoteAt   *time.Time `json:"promote_at,omitempty"`
		Fingerprint string     `json:"fingerprint,omitempty"`
	}{ID: FormatKeyID(k.ID), Primary: k.Primary, Fingerprint: k.Fingerprint}
	if !k.PromoteAt.IsZero() {
		at := k.PromoteAt.UTC()
		out.PromoteAt = &at
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes, so that Metrics read back
// from JSON (expvar's /debug/vars, say) hold their keys.
func (k *KeyInfo) UnmarshalJSON(data []byte) error {
	var in struct {
		ID          string    `json:"id"`
		Primary     bool      `json:"primary"`
		PromoteAt   time.Time `json:"promote_at"`
		Fingerprint string    `json:"fingerprint"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	id, err := ParseKeyID(in.ID)
	if err != nil {
		return err
	}
	*k = KeyInfo{ID: id, Primary: in.Primary, PromoteAt: in.PromoteAt, Fingerprint: in.Fingerprint}
	return nil
}

// NewKeyRing returns a ring whose primary is primary and in which others
// are open-only. It fails for a zero Key, two keys with one id (named by
// place: keys[0] is primary, keys[1] the first of others), or more than
// 256 keys.
func NewKeyRing(primary Key, others ...Key) (*KeyRing, error) {
	keys := make([]ringKey, 0, 1+len(others))
	for _, k := range append([]Key{primary}, others...) {
		keys = append(keys, ringKey{Key: k})
	}
	st, err := newRingState(keys, primary.id)
	if err != nil {
		return nil, err
	}
	r := new(KeyRing)
	r.state.Store(st)
	return r, nil
}

func newRingState(keys []ringKey, primary uint32) (*ringState, error) {
	st := &ringState{keys: keys, primary: primary}
	if len(keys) == 0 {
		return nil, errors.New("cookiesession: key ring has no keys: a ring holds at least its primary; cookiesession keygen writes one")
	}
	if len(keys) > maxRingKeys { // more than its text form may hold
		return nil, errTooManyKeys
	}
	for i, k := range keys {
		if k.IsZero() {
			return nil, errors.New("cookiesession: key ring holds a zero Key")
		}
		if j := slices.IndexFunc(keys[:i], func(o ringKey) bool { return o.id == k.id }); j >= 0 {
			return nil, duplicateKeyID(keys[j], k, fmt.Sprintf("keys[%d]", j), fmt.Sprintf("keys[%d]", i), "remove one of them",
				"keep the one whose promotion the rotation means (none: the key stays open-only until promoted, as the primary has none) and remove the other")
		}
		if k.id == primary && !k.promoteAt.IsZero() {
			return nil, fmt.Errorf("cookiesession: primary key %s cannot have a promotion time: remove it, as it is for a key that takes over later", FormatKeyID(k.id))
		}
		if !k.promoteAt.IsZero() {
			// The wall-clock instant alone, as the text form holds it: a
			// monotonic reading (time.Now().Add(d)) would be compared
			// instead, and move the promotion away from the fleet's when
			// the wall clock is stepped or the machine sleeps.
			keys[i].promoteAt = k.promoteAt.Round(0)
			if y := k.promoteAt.UTC().Year(); y < 1970 || y > 9999 {
				return nil, fmt.Errorf("cookiesession: key %s: promotion time %s is outside years 1970 to 9999 UTC",
					FormatKeyID(k.id), k.promoteAt.Format(time.RFC3339))
			}
			st.scheduled = append(st.scheduled, &st.keys[i])
		}
	}
	if st.lookup(primary) == nil {
		return nil, fmt.Errorf("cookiesession: primary key %s is not in the ring, which holds %s: make the primary the key that seals now, and keep every key whose sessions have not expired", FormatKeyID(primary), keyIDList(keys))
	}
	slices.SortStableFunc(st.scheduled, func(a, b *ringKey) int { return a.promoteAt.Compare(b.promoteAt) })
	return st, nil
}

// errTooManyKeys refuses a ring of more than maxRingKeys keys.
var errTooManyKeys = fmt.Errorf("cookiesession: key ring has more than %d keys: remove the keys whose sessions have expired (cookiesession remove)", maxRingKeys)

// keyIDList names the ids of keys for an error, the first eight of them.
func keyIDList(keys []ringKey) string {
	var ids []string
	for _, k := range keys[:min(len(keys), 8)] {
		ids = append(ids, FormatKeyID(k.id))
	}
	if len(keys) > 8 {
		ids = append(ids, fmt.Sprintf("and %d more", len(keys)-8))
	}
	return strings.Join(ids, ", ")
}

// duplicateKeyID describes a and b, two keys of one id named aName and
// bName, with the fix: a token names its key by id alone, so one id names
// one key. Two copies of one key (two rings merged) get sameFix, or
// differFix if their promote_at differs: removing either one would drop a
// promotion, or keep one, with nothing said. Two secrets need one of them
// moved to an id of its own, and the fingerprints say which one the
// instances hold.
func duplicateKeyID(a, b ringKey, aName, bName, sameFix, differFix string) error {
	id, where := FormatKeyID(a.id), aName+" and "+bName
	if subtle.ConstantTimeCompare(a.mat.secret[:], b.mat.secret[:]) == 1 {
		if a.promoteAt.Equal(b.promoteAt) {
			return fmt.Errorf("cookiesession: duplicate key id %s: %s are the same key twice (two rings merged, or one key added twice): %s", id, where, sameFix)
		}
		differ := aName + " with a promote_at and " + bName + " without"
		switch {
		case a.promoteAt.IsZero():
			differ = aName + " without a promote_at and " + bName + " with one"
		case !b.promoteAt.IsZero():
			differ = "at two different promote_at times"
		}
		return fmt.Errorf("cookiesession: duplicate key id %s: %s are the same key twice (two rings merged, or one key added twice), %s: %s", id, where, differ, differFix)
	}
	return fmt.Errorf("cookiesession: duplicate key id %s: %s are two different keys under one id (fingerprints %s and %s), and a token names its key by id alone: one id per key; keep the key whose fingerprint the instances show for %s (cookiesession list, /debug/vars) and replace the other with a key of a fresh id (cookiesession add makes one in a ring file, cookiesession keygen a new ring, GenerateKey in Go)",
		id, where, a.mat.fingerprint(), b.mat.fingerprint(), id)
}

func (r *KeyRing) load() *ringState { return r.state.Load() }

func (st *ringState) lookup(id uint32) *ringKey {
	for i := range st.keys {
		if st.keys[i].id == id {
			return &st.keys[i]
		}
	}
	return nil
}

// primaryAt returns the key that seals at t: the latest scheduled key whose
// time has come, else the stored primary.
func (st *ringState) primaryAt(t time.Time) *ringKey {
	key := st.lookup(st.primary)
	for _, k := range st.scheduled {
		if t.Before(k.promoteAt) {
			break
		}
		key = k
	}
	return key
}

// SetClock sets the clock the ring reads when no time is given: Primary,
// Keys, String, and the writers (Add, AddScheduled, Promote,
// Remove), which first make the promotions due by then permanent. Nil
// restores time.Now. Give it the clock the Manager's Options.Now uses.
func (r *KeyRing) SetClock(now func() time.Time) {
	if now == nil {
		r.clock.Store(nil)
		return
	}
	r.clock.Store(&now)
}

func (r *KeyRing) now() time.Time {
	if now := r.clock.Load(); now != nil {
		return (*now)()
	}
	return time.Now()
}

// Primary returns the id of the key that seals new tokens now.
func (r *KeyRing) Primary() uint32 { return r.primaryAt(r.now()) }

// primaryAt returns the id of the key that seals new tokens at t, taking
// scheduled promotions into account.
func (r *KeyRing) primaryAt(t time.Time) uint32 { return r.load().primaryAt(t).id }

// Keys describes the ring's keys as of now (see SetClock), in the ring's
// order.
func (r *KeyRing) Keys() []KeyInfo { return r.keysAt(r.now()) }

// keysAt describes the ring's keys as of t.
func (r *KeyRing) keysAt(t time.Time) []KeyInfo { return r.load().keysAt(t) }

// keysAt describes this version's keys as of t.
func (st *ringState) keysAt(t time.Time) []KeyInfo {
	primary := st.primaryAt(t).id
	infos := make([]KeyInfo, len(st.keys))
	for i, k := range st.keys {
		infos[i] = KeyInfo{ID: k.id, Primary: k.id == primary, PromoteAt: k.promoteAt, Fingerprint: k.mat.fingerprint()}
	}
	return infos
}

// Has reports whether the ring holds a key with this id.
func (r *KeyRing) Has(id uint32) bool { return r.load().lookup(id) != nil }

// String lists the key ids, marking the primary, each with its
// fingerprint (see KeyInfo): "cookiesession.KeyRing[1a2b3c4d*:a29385f00e67
// 5e6f7a8b:1ff0c8e94afc]". It never shows secrets.
func (r *KeyRing) String() string {
	var b bytes.Buffer
	b.WriteString("cookiesession.KeyRing[")
	for i, k := range r.Keys() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(FormatKeyID(k.ID))
		if k.Primary {
			b.WriteString("*")
		}
		b.WriteString(":" + k.Fingerprint)
	}
	b.WriteString("]")
	return b.String()
}

// LogValue makes log/slog show String, never the secrets that MarshalJSON
// writes (slog's JSON handler would otherwise call MarshalJSON).
func (r *KeyRing) LogValue() slog.Value { return slog.StringValue(r.String()) }

// update applies change to a copy of the current state and publishes it if
// the result is valid. Due scheduled promotions are made permanent first,
// so that the stored primary is the one in force.
func (r *KeyRing) update(change func(keys []ringKey, primary uint32, now time.Time) ([]ringKey, uint32, error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	old := r.load()
	r.noteSealing(old, nil, now)
	keys, primary := old.settled(now)
	keys, primary, err := change(keys, primary, now)
	if err != nil {
		return err
	}
	st, err := newRingState(keys, primary)
	if err != nil {
		return err
	}
	st.source = old.source // a change in memory is not a new file
	carryRemoved(old, st, now)
	r.state.Store(st)
	r.noteSealing(old, st, now)
	return nil
}

// settled returns a copy of the keys with every promotion due at now applied.
func (st *ringState) settled(now time.Time) ([]ringKey, uint32) {
	keys := slices.Clone(st.keys)
	primary := st.primaryAt(now).id
	for i := range keys {
		if !keys[i].promoteAt.IsZero() && !now.Before(keys[i].promoteAt) {
			keys[i].promoteAt = time.Time{}
		}
	}
	return keys, primary
}

// Add adds k as an open-only key: tokens sealed under it open, but it seals
// nothing until it is promoted. Add it to every instance before promoting it
// anywhere.
func (r *KeyRing) Add(k Key) error { return r.AddScheduled(k, time.Time{}) }

// AddScheduled adds k as open-only and schedules its promotion at promoteAt
// (zero means none). Each instance promotes the key when its own clock
// reaches promoteAt, so a fleet switches together without coordination.
func (r *KeyRing) AddScheduled(k Key, promoteAt time.Time) error {
	return r.update(func(keys []ringKey, primary uint32, _ time.Time) ([]ringKey, uint32, error) {
		if j := slices.IndexFunc(keys, func(o ringKey) bool { return o.id == k.id }); j >= 0 && !k.IsZero() {
			return nil, 0, duplicateKeyID(keys[j], ringKey{Key: k, promoteAt: promoteAt}, fmt.Sprintf("the ring's keys[%d]", j), "the key added", "the ring holds it already, so there is nothing to add",
				"the ring holds it already, and Add or AddScheduled does not change a held key's promotion: Promote it when it is due, or, while it is not the primary, Remove it and add it again with the promotion meant")
		}
		return append(keys, ringKey{Key: k, promoteAt: promoteAt}), primary, nil
	})
}

// Promote makes key id the primary now. The former primary stays in the
// ring as an open-only key, so tokens it sealed keep working.
func (r *KeyRing) Promote(id uint32) error {
	return r.update(func(keys []ringKey, _ uint32, _ time.Time) ([]ringKey, uint32, error) {
		i := slices.IndexFunc(keys, func(k ringKey) bool { return k.id == id })
		if i < 0 {
			return nil, 0, fmt.Errorf("cookiesession: no key %s in the ring", FormatKeyID(id))
		}
		keys[i].promoteAt = time.Time{}
		return keys, id, nil
	})
}

// Remove removes key id. Tokens sealed under it stop opening (they fail
// with ErrUnknownKey), so remove a key only once the longest a session
// lives has passed since it was last primary: Options.MaxLifetime when
// sessions set their own Lifetime ("remember me"), else Options.MaxAge.
// The primary cannot be removed. A Remove sooner than that, by the ring's
// clock, after the key last sealed while this ring held it is logged at
// Warn (through slog.Default) with the time it last sealed: it signs out
// every user of the key whose session has not expired.
func (r *KeyRing) Remove(id uint32) error {
	var until, now time.Time
	var longest time.Duration
	err := r.update(func(keys []ringKey, primary uint32, at time.Time) ([]ringKey, uint32, error) {
		until, now, longest = r.sealedUntil[id], at, r.longestLifetime()
		if id == primary {
			return nil, 0, fmt.Errorf("cookiesession: key %s is the primary; promote another key first", FormatKeyID(id))
		}
		i := slices.IndexFunc(keys, func(k ringKey) bool { return k.id == id })
		if i < 0 {
			return nil, 0, fmt.Errorf("cookiesession: no key %s in the ring", FormatKeyID(id))
		}
		return slices.Delete(keys, i, i+1), primary, nil
	})
	if err == nil {
		r.warnEarlyRemoval(id, until, now, longest)
	}
	return err
}

// Replace swaps in the keys of other, as a reload does. Readers see either
// the old ring or the new one, never a mix. A nil or zero other is refused.
// The ring also takes other's record of the file it was loaded from, so a
// WatchFile running on r reloads its file at the next tick unless other
// came from that same content. A swap that signs users out is logged at
// Warn, and one in which a key id of r has another secret is refused, as
// ReloadFile says.
func (r *KeyRing) Replace(other *KeyRing) error {
	if other == nil || other.load() == nil {
		return errors.New("cookiesession: Replace with a nil or zero KeyRing")
	}
	return r.swap(other.load(), "")
}
