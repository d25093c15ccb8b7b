package cookiesession

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the length of a key's secret in bytes.
const KeySize = chacha20poly1305.KeySize

// EnvKeys is the environment variable LoadKeyRingEnv reads.
const EnvKeys = "COOKIESESSION_KEYS"

// Key is a 32-byte XChaCha20-Poly1305 key with a random 32-bit id. The id is
// written into every token sealed with the key, so opening a token tries
// exactly one key. The secret is held behind a pointer and is never printed:
// String, GoString and every fmt verb show only the id.
type Key struct {
	id  uint32
	mat *keyMaterial
}

type keyMaterial struct {
	secret [KeySize]byte
	aead   cipher.AEAD // built once per key, not per request
}

// GenerateKey returns a new key with a secret and an id from crypto/rand.
func GenerateKey() (Key, error) {
	var secret [KeySize]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return Key{}, fmt.Errorf("cookiesession: generating key: %w", err)
	}
	var id uint32
	for id == 0 {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return Key{}, fmt.Errorf("cookiesession: generating key id: %w", err)
		}
		id = binary.BigEndian.Uint32(b[:])
	}
	return NewKey(id, secret[:])
}

// NewKey returns a key with the given id and a copy of secret, which must be
// KeySize bytes from a cryptographically secure source. Id 0 is reserved.
// Most callers want GenerateKey; NewKey exists for importing keys and for
// test vectors.
func NewKey(id uint32, secret []byte) (Key, error) {
	if id == 0 {
		return Key{}, errors.New("cookiesession: key id 0 is reserved")
	}
	if len(secret) != KeySize {
		return Key{}, fmt.Errorf("cookiesession: key secret is %d bytes, want %d", len(secret), KeySize)
	}
	mat := new(keyMaterial)
	copy(mat.secret[:], secret)
	aead, err := chacha20poly1305.NewX(mat.secret[:])
	if err != nil {
		return Key{}, fmt.Errorf("cookiesession: %w", err)
	}
	mat.aead = aead
	return Key{id: id, mat: mat}, nil
}

// ID returns the key's id.
func (k Key) ID() uint32 { return k.id }

// IsZero reports whether k is the zero Key, which holds no secret.
func (k Key) IsZero() bool { return k.mat == nil }

// String returns "cookiesession.Key(1a2b3c4d)": the id, never the secret.
func (k Key) String() string { return "cookiesession.Key(" + FormatKeyID(k.id) + ")" }

// GoString is String, so that %#v does not print the secret either.
func (k Key) GoString() string { return k.String() }

// Format prints String for every verb.
func (k Key) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(k.String())) }

// LogValue makes log/slog show String.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// FormatKeyID returns the form of a key id used in the JSON form, in logs
// and in error messages: 8 lowercase hex digits.
func FormatKeyID(id uint32) string { return fmt.Sprintf("%08x", id) }

// ParseKeyID parses the 8-hex-digit form of a key id. A malformed id is
// not echoed in the error: in a mangled ring file it may be a secret.
func ParseKeyID(s string) (uint32, error) {
	id, err := strconv.ParseUint(s, 16, 32)
	if len(s) != 8 || err != nil {
		return 0, fmt.Errorf("cookiesession: key id of %d characters is not 8 hex digits", len(s))
	}
	if id == 0 {
		return 0, fmt.Errorf("cookiesession: key id %s is reserved", s)
	}
	return uint32(id), nil
}

// KeyRing holds the keys a Manager or Codec seals and opens with: one
// primary key that seals and opens, and open-only keys. Rotation is staged:
// Add a new key (open-only) everywhere, Promote it (or let a scheduled
// promote_at time pass), then Remove the old key once MaxAge has passed.
//
// Reads take an immutable snapshot through an atomic pointer and never lock,
// so a KeyRing is safe to rotate or reload while other goroutines seal and
// open. Writers are serialized by a mutex. The zero KeyRing is not usable;
// build one with NewKeyRing, ParseKeyRing or a Load function.
type KeyRing struct {
	mu    sync.Mutex // serializes writers
	state atomic.Pointer[ringState]
}

// ringState is one immutable version of the ring.
type ringState struct {
	keys    []ringKey
	primary uint32
	// scheduled holds the keys with a promotion time, by ascending time.
	scheduled []*ringKey
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
}

// NewKeyRing returns a ring whose primary is primary and in which others
// are open-only.
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
		return nil, errors.New("cookiesession: key ring has no keys")
	}
	for i, k := range keys {
		if k.IsZero() {
			return nil, errors.New("cookiesession: key ring holds a zero Key")
		}
		if slices.ContainsFunc(keys[:i], func(o ringKey) bool { return o.id == k.id }) {
			return nil, fmt.Errorf("cookiesession: duplicate key id %s", FormatKeyID(k.id))
		}
		if k.id == primary && !k.promoteAt.IsZero() {
			return nil, fmt.Errorf("cookiesession: primary key %s cannot have a promotion time", FormatKeyID(k.id))
		}
		if !k.promoteAt.IsZero() {
			if y := k.promoteAt.UTC().Year(); y < 1 || y > 9999 {
				return nil, fmt.Errorf("cookiesession: key %s: promotion time %s is outside years 1 to 9999 UTC",
					FormatKeyID(k.id), k.promoteAt.Format(time.RFC3339))
			}
			st.scheduled = append(st.scheduled, &st.keys[i])
		}
	}
	if st.lookup(primary) == nil {
		return nil, fmt.Errorf("cookiesession: primary key %s is not in the ring", FormatKeyID(primary))
	}
	slices.SortStableFunc(st.scheduled, func(a, b *ringKey) int { return a.promoteAt.Compare(b.promoteAt) })
	return st, nil
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

// Primary returns the id of the key that seals new tokens now.
func (r *KeyRing) Primary() uint32 { return r.PrimaryAt(time.Now()) }

// PrimaryAt returns the id of the key that seals new tokens at t, taking
// scheduled promotions into account.
func (r *KeyRing) PrimaryAt(t time.Time) uint32 { return r.load().primaryAt(t).id }

// Keys describes the ring's keys as of now, in the ring's order.
func (r *KeyRing) Keys() []KeyInfo { return r.KeysAt(time.Now()) }

// KeysAt describes the ring's keys as of t.
func (r *KeyRing) KeysAt(t time.Time) []KeyInfo {
	st := r.load()
	primary := st.primaryAt(t).id
	infos := make([]KeyInfo, len(st.keys))
	for i, k := range st.keys {
		infos[i] = KeyInfo{ID: k.id, Primary: k.id == primary, PromoteAt: k.promoteAt}
	}
	return infos
}

// Has reports whether the ring holds a key with this id.
func (r *KeyRing) Has(id uint32) bool { return r.load().lookup(id) != nil }

// String lists the key ids, marking the primary. It never shows secrets.
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
	now := time.Now()
	keys, primary := r.load().settled(now)
	keys, primary, err := change(keys, primary, now)
	if err != nil {
		return err
	}
	st, err := newRingState(keys, primary)
	if err != nil {
		return err
	}
	r.state.Store(st)
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
		return append(keys, ringKey{Key: k, promoteAt: promoteAt}), primary, nil
	})
}

// Schedule sets (or, with a zero time, clears) the promotion time of key id.
func (r *KeyRing) Schedule(id uint32, promoteAt time.Time) error {
	return r.update(func(keys []ringKey, primary uint32, _ time.Time) ([]ringKey, uint32, error) {
		i := slices.IndexFunc(keys, func(k ringKey) bool { return k.id == id })
		if i < 0 {
			return nil, 0, fmt.Errorf("cookiesession: no key %s in the ring", FormatKeyID(id))
		}
		keys[i].promoteAt = promoteAt
		return keys, primary, nil
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
// with ErrUnknownKey), so remove a key only once MaxAge has passed since it
// was last primary. The primary cannot be removed.
func (r *KeyRing) Remove(id uint32) error {
	return r.update(func(keys []ringKey, primary uint32, _ time.Time) ([]ringKey, uint32, error) {
		if id == primary {
			return nil, 0, fmt.Errorf("cookiesession: key %s is the primary; promote another key first", FormatKeyID(id))
		}
		i := slices.IndexFunc(keys, func(k ringKey) bool { return k.id == id })
		if i < 0 {
			return nil, 0, fmt.Errorf("cookiesession: no key %s in the ring", FormatKeyID(id))
		}
		return slices.Delete(keys, i, i+1), primary, nil
	})
}

// Replace swaps in the keys of other, as a reload does. Readers see either
// the old ring or the new one, never a mix. A nil or zero other is refused.
func (r *KeyRing) Replace(other *KeyRing) error {
	if other == nil || other.load() == nil {
		return errors.New("cookiesession: Replace with a nil or zero KeyRing")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state.Store(other.load())
	return nil
}

// ringJSON is the text form. It carries secrets: keep it in a secret store
// or a file with mode 0600.
type ringJSON struct {
	Version int       `json:"version"`
	Primary string    `json:"primary"`
	Keys    []keyJSON `json:"keys"`
}

type keyJSON struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
	// PromoteAt is RFC 3339. It is parsed by hand so that a mangled value,
	// which may be a secret pasted in the wrong field, is never echoed.
	PromoteAt string `json:"promote_at,omitempty"`
}

// MarshalJSON writes the ring's text form, secrets included:
//
//	{"version":1,"primary":"1a2b3c4d","keys":[{"id":"1a2b3c4d","secret":"<base64>"},
//	 {"id":"5e6f7a8b","secret":"<base64>","promote_at":"2026-12-01T00:00:00Z"}]}
//
// Secrets are standard base64 (RFC 4648 section 4, padded), so a key made
// with `openssl rand -base64 32` can be pasted in.
func (r *KeyRing) MarshalJSON() ([]byte, error) {
	st := r.load()
	out := ringJSON{Version: 1, Primary: FormatKeyID(st.primary), Keys: make([]keyJSON, len(st.keys))}
	for i, k := range st.keys {
		out.Keys[i] = keyJSON{ID: FormatKeyID(k.id), Secret: base64.StdEncoding.EncodeToString(k.mat.secret[:])}
		if !k.promoteAt.IsZero() {
			out.Keys[i].PromoteAt = k.promoteAt.UTC().Format(time.RFC3339Nano)
		}
	}
	return json.Marshal(out)
}

// maxRingKeys bounds a parsed ring; a real one holds two or three keys.
const maxRingKeys = 256

// ParseKeyRing reads the text form written by MarshalJSON. It is strict:
// unknown fields, a version other than 1, duplicate ids, a secret that is
// not 32 bytes of standard base64, or a primary not in the ring are errors.
func ParseKeyRing(data []byte) (*KeyRing, error) {
	var in ringJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("cookiesession: parsing key ring: %w", err)
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return nil, errors.New("cookiesession: parsing key ring: data after the JSON object")
	}
	if in.Version != 1 {
		return nil, fmt.Errorf("cookiesession: key ring version %d is not supported (want 1)", in.Version)
	}
	if len(in.Keys) > maxRingKeys {
		return nil, fmt.Errorf("cookiesession: key ring has %d keys, more than %d", len(in.Keys), maxRingKeys)
	}
	primary, err := ParseKeyID(in.Primary)
	if err != nil {
		return nil, fmt.Errorf("%w (primary)", err)
	}
	keys := make([]ringKey, len(in.Keys))
	for i, kj := range in.Keys {
		if keys[i], err = kj.parse(); err != nil {
			return nil, err
		}
	}
	st, err := newRingState(keys, primary)
	if err != nil {
		return nil, err
	}
	r := new(KeyRing)
	r.state.Store(st)
	return r, nil
}

func (kj keyJSON) parse() (ringKey, error) {
	id, err := ParseKeyID(kj.ID)
	if err != nil {
		return ringKey{}, err
	}
	secret, err := base64.StdEncoding.Strict().DecodeString(kj.Secret)
	if err != nil {
		return ringKey{}, fmt.Errorf("cookiesession: key %s: secret is not standard base64", kj.ID)
	}
	k, err := NewKey(id, secret)
	clear(secret)
	if err != nil {
		return ringKey{}, fmt.Errorf("cookiesession: key %s: %w", kj.ID, err)
	}
	rk := ringKey{Key: k}
	if kj.PromoteAt != "" {
		if rk.promoteAt, err = time.Parse(time.RFC3339Nano, kj.PromoteAt); err != nil {
			return ringKey{}, fmt.Errorf("cookiesession: key %s: promote_at is not an RFC 3339 time", kj.ID)
		}
	}
	return rk, nil
}

// LoadKeyRingEnv parses the ring from the COOKIESESSION_KEYS environment
// variable.
func LoadKeyRingEnv() (*KeyRing, error) {
	data, ok := os.LookupEnv(EnvKeys)
	if !ok || data == "" {
		return nil, fmt.Errorf("cookiesession: %s is not set", EnvKeys)
	}
	r, err := ParseKeyRing([]byte(data))
	if err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, EnvKeys)
	}
	return r, nil
}

// maxRingFile bounds a key-ring file read.
const maxRingFile = 1 << 20

// LoadKeyRingFile parses the ring from a file.
func LoadKeyRingFile(path string) (*KeyRing, error) {
	data, err := readRingFile(path)
	if err != nil {
		return nil, err
	}
	r, err := ParseKeyRing(data)
	if err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, path)
	}
	return r, nil
}

func readRingFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cookiesession: reading key ring: %w", err)
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(f, maxRingFile+1)); err != nil {
		return nil, fmt.Errorf("cookiesession: reading key ring: %w", err)
	}
	if b.Len() > maxRingFile {
		return nil, fmt.Errorf("cookiesession: key ring file %s is larger than %d bytes", path, maxRingFile)
	}
	return b.Bytes(), nil
}

// ReloadFile re-reads path and swaps in its keys. If the file cannot be
// read or parsed the ring keeps its current keys and the error is returned.
func (r *KeyRing) ReloadFile(path string) error {
	next, err := LoadKeyRingFile(path)
	if err != nil {
		return err
	}
	return r.Replace(next)
}

// WatchFile polls path every interval until ctx is done and reloads the ring
// whenever the file changes: a new size or modification time, or another
// file in its place (an atomic rename counts even when size and time are
// kept, as `cp -p` and rsync do). After each reload it calls report, if not
// nil, with the result: nil, or the error that made it keep the current
// keys. A file that cannot be stat'ed is reported once, not on every tick.
// Write the file atomically (temp file + rename, as the CLI does): a reader
// that catches a half-written file reports a parse error and retries at the
// next change.
func (r *KeyRing) WatchFile(ctx context.Context, path string, interval time.Duration, report func(error)) {
	if report == nil {
		report = func(error) {}
	}
	last, _ := os.Stat(path)
	failing := false
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		fi, err := os.Stat(path)
		switch {
		case err != nil:
			if !failing {
				report(fmt.Errorf("cookiesession: watching key ring: %w", err))
			}
			failing = true
		case failing || changed(last, fi):
			last, failing = fi, false
			report(r.ReloadFile(path))
		}
	}
}

// changed reports whether the file behind path differs from last.
func changed(last, now os.FileInfo) bool {
	return last == nil || !os.SameFile(last, now) || last.Size() != now.Size() || !last.ModTime().Equal(now.ModTime())
}
