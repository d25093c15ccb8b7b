package cookiesession

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
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
	"strings"
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
	mat := &keyMaterial{secret: new([KeySize]byte)}
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

// LogValue makes log/slog show String.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// FormatKeyID returns the form of a key id used in the JSON form, in logs
// and in error messages: 8 lower-case hex digits.
func FormatKeyID(id uint32) string { return fmt.Sprintf("%08x", id) }

// ParseKeyID parses the form FormatKeyID writes: exactly 8 lower-case hex
// digits, so that each id has one spelling. A malformed id is not echoed in
// the error: in a mangled ring file it may be a secret.
func ParseKeyID(s string) (uint32, error) {
	if len(s) != 8 || strings.Trim(s, "0123456789abcdef") != "" {
		return 0, fmt.Errorf("cookiesession: key id of %d characters is not 8 lower-case hex digits", len(s))
	}
	id, _ := strconv.ParseUint(s, 16, 32) // cannot fail: checked above
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
	clock atomic.Pointer[func() time.Time] // nil: time.Now
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
			if y := k.promoteAt.UTC().Year(); y < 1970 || y > 9999 {
				return nil, fmt.Errorf("cookiesession: key %s: promotion time %s is outside years 1970 to 9999 UTC",
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

// SetClock sets the clock the ring reads when no time is given: Primary,
// Keys, String, and the writers (Add, AddScheduled, Schedule, Promote,
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
func (r *KeyRing) keysAt(t time.Time) []KeyInfo {
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
	now := r.now()
	old := r.load()
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
// The ring also takes other's record of the file it was loaded from, so a
// WatchFile running on r reloads its file at the next tick unless other
// came from that same content.
func (r *KeyRing) Replace(other *KeyRing) error {
	if other == nil || other.load() == nil {
		return errors.New("cookiesession: Replace with a nil or zero KeyRing")
	}
	r.swap(other.load())
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
	ID        string `json:"id"`
	Secret    string `json:"secret"`
	PromoteAt string `json:"promote_at,omitempty"` // RFC 3339
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

// ParseKeyRing reads the text form written by MarshalJSON, applying exactly
// the rules of FORMAT.md section 6: the members version (the number 1),
// primary and keys, each key's id, secret and optional promote_at, with
// names matched exactly and none repeated or unknown; lower-case hex ids;
// secrets in canonical padded standard base64; and a primary that is in
// the ring and has no promote_at. Errors never echo a secret.
func ParseKeyRing(data []byte) (*KeyRing, error) {
	st, err := parseRingState(data)
	if err != nil {
		return nil, err
	}
	r := new(KeyRing)
	r.state.Store(st)
	return r, nil
}

func parseRingState(data []byte) (*ringState, error) {
	doc, err := decodeRing(data)
	if err != nil {
		return nil, err
	}
	primary, err := ParseKeyID(doc.Primary)
	if err != nil {
		return nil, fmt.Errorf("%w (primary)", err)
	}
	keys := make([]ringKey, len(doc.Keys))
	for i, kj := range doc.Keys {
		if keys[i], err = kj.parse(); err != nil {
			return nil, err
		}
	}
	return newRingState(keys, primary)
}

// ringDecoder reads the text form token by token. encoding/json's Unmarshal
// is laxer than the format: it matches member names in any case, keeps the
// last of duplicate members and reads 1.0 as the version 1.
type ringDecoder struct{ dec *json.Decoder }

// decodeRing checks the JSON structure of the text form; parseRingState
// checks the values.
func decodeRing(data []byte) (ringJSON, error) {
	d := ringDecoder{json.NewDecoder(bytes.NewReader(data))}
	d.dec.UseNumber() // keep the version's literal text
	var doc ringJSON
	err := d.object("the key ring", []string{"version", "primary", "keys"}, nil, func(name string) (err error) {
		switch name {
		case "version":
			return d.version()
		case "primary":
			doc.Primary, err = d.str("primary")
		default:
			doc.Keys, err = d.keys()
		}
		return err
	})
	if err != nil {
		return ringJSON{}, err
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return ringJSON{}, errors.New("cookiesession: parsing key ring: data after the JSON object")
	}
	return doc, nil
}

// object reads a JSON object whose members are the required names and
// possibly the optional ones, each once, in any order, calling member to
// read each value.
func (d ringDecoder) object(what string, required, optional []string, member func(name string) error) error {
	names := slices.Concat(required, optional)
	if err := d.delim('{', what, "an object"); err != nil {
		return err
	}
	seen := make(map[string]bool, len(names))
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return syntaxError(err)
		}
		name, _ := tok.(string) // inside an object, a token here is a member name
		switch {
		case !slices.Contains(names, name):
			return unknownMember(what, name, names)
		case seen[name]:
			return fmt.Errorf("cookiesession: parsing key ring: %s has the member %q twice", what, name)
		}
		seen[name] = true
		if err := member(name); err != nil {
			return err
		}
	}
	if err := d.delim('}', what, "an object"); err != nil {
		return err
	}
	for _, name := range required {
		if !seen[name] {
			return fmt.Errorf("cookiesession: parsing key ring: %s has no member %q", what, name)
		}
	}
	return nil
}

// unknownMember names a member that differs from a known one only in case;
// any other name is not echoed, since it may be a secret pasted as a name.
func unknownMember(what, name string, names []string) error {
	for _, known := range names {
		if strings.EqualFold(name, known) {
			return fmt.Errorf("cookiesession: parsing key ring: %s has a member %q; the name is %q", what, name, known)
		}
	}
	return fmt.Errorf("cookiesession: parsing key ring: %s has an unknown member (of %d bytes)", what, len(name))
}

func (d ringDecoder) delim(want json.Delim, what, kind string) error {
	tok, err := d.dec.Token()
	if err != nil {
		return syntaxError(err)
	}
	if tok != want {
		return fmt.Errorf("cookiesession: parsing key ring: %s is not %s", what, kind)
	}
	return nil
}

func syntaxError(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("cookiesession: parsing key ring: %w", err)
}

// version accepts the number 1 written as such: 1.0 and 1e0 are refused,
// so that the next version can rely on the spelling too.
func (d ringDecoder) version() error {
	tok, err := d.dec.Token()
	if err != nil {
		return syntaxError(err)
	}
	if n, ok := tok.(json.Number); !ok || n != "1" {
		return errors.New("cookiesession: key ring version is not 1, the only version supported")
	}
	return nil
}

func (d ringDecoder) str(what string) (string, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return "", syntaxError(err)
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("cookiesession: parsing key ring: %s is not a string", what)
	}
	return s, nil
}

func (d ringDecoder) keys() ([]keyJSON, error) {
	if err := d.delim('[', "keys", "an array"); err != nil {
		return nil, err
	}
	var keys []keyJSON
	for d.dec.More() {
		if len(keys) == maxRingKeys {
			return nil, fmt.Errorf("cookiesession: key ring has more than %d keys", maxRingKeys)
		}
		kj, err := d.key(fmt.Sprintf("keys[%d]", len(keys)))
		if err != nil {
			return nil, err
		}
		keys = append(keys, kj)
	}
	return keys, d.delim(']', "keys", "an array")
}

func (d ringDecoder) key(what string) (kj keyJSON, err error) {
	err = d.object(what, []string{"id", "secret"}, []string{"promote_at"}, func(name string) (err error) {
		switch name {
		case "id":
			kj.ID, err = d.str(what + ".id")
		case "secret":
			kj.Secret, err = d.str(what + ".secret")
		default:
			kj.PromoteAt, err = d.str(what + ".promote_at")
			if err == nil && kj.PromoteAt == "" {
				err = fmt.Errorf("cookiesession: parsing key ring: %s.promote_at is empty; leave it out instead", what)
			}
		}
		return err
	})
	return kj, err
}

// parse checks one key's values. Messages name the key by its id only once
// the id is known to be well formed.
func (kj keyJSON) parse() (ringKey, error) {
	id, err := ParseKeyID(kj.ID)
	if err != nil {
		return ringKey{}, err
	}
	secret, ok := parseSecret(kj.Secret)
	if !ok {
		return ringKey{}, fmt.Errorf("cookiesession: key %s: secret is not %d bytes in padded standard base64 (44 characters, nothing else)", kj.ID, KeySize)
	}
	k, _ := NewKey(id, secret) // cannot fail: id and length checked
	clear(secret)
	rk := ringKey{Key: k}
	if kj.PromoteAt != "" {
		if rk.promoteAt, ok = parsePromoteAt(kj.PromoteAt); !ok {
			return ringKey{}, fmt.Errorf("cookiesession: key %s: promote_at is not an RFC 3339 time such as 2026-12-01T00:00:00Z", kj.ID)
		}
	}
	return rk, nil
}

// parseSecret accepts only the canonical encoding of 32 bytes: the
// decoder alone would skip CR and LF inside the text.
func parseSecret(s string) ([]byte, bool) {
	secret, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(secret) != KeySize || base64.StdEncoding.EncodeToString(secret) != s {
		clear(secret)
		return nil, false
	}
	return secret, true
}

// parsePromoteAt reads YYYY-MM-DDTHH:MM:SS, an optional fraction of 1 to 9
// digits, then Z or ±HH:MM. time.Parse alone also takes a comma before the
// fraction, more than 9 digits and offsets such as +24:00.
func parsePromoteAt(s string) (time.Time, bool) {
	const head = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(head) || !hasShape(s[:len(head)], head) {
		return time.Time{}, false
	}
	zone := s[len(head):]
	if fraction, ok := strings.CutPrefix(zone, "."); ok {
		zone = strings.TrimLeft(fraction, "0123456789")
		if digits := len(fraction) - len(zone); digits < 1 || digits > 9 {
			return time.Time{}, false
		}
	}
	if zone != "Z" && !validOffset(zone) {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if y := t.UTC().Year(); err != nil || y < 1970 || y > 9999 {
		return time.Time{}, false // MarshalJSON writes UTC, in 4 digits
	}
	return t, true
}

// validOffset reports whether zone is ±HH:MM with HH <= 23 and MM <= 59.
func validOffset(zone string) bool {
	if len(zone) != 6 || zone[0] != '+' && zone[0] != '-' || !hasShape(zone[1:], "dd:dd") {
		return false
	}
	return zone[1:3] <= "23" && zone[4:6] <= "59"
}

// hasShape reports whether s matches pattern, where 'd' is an ASCII digit
// and any other byte stands for itself.
func hasShape(s, pattern string) bool {
	if len(s) != len(pattern) {
		return false
	}
	for i := range len(s) {
		if pattern[i] == 'd' && (s[i] < '0' || s[i] > '9') || pattern[i] != 'd' && s[i] != pattern[i] {
			return false
		}
	}
	return true
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

// LoadKeyRingFile parses the ring from a file. The ring remembers a digest
// of the text it parsed: WatchFile reloads when the file differs from it.
func LoadKeyRingFile(path string) (*KeyRing, error) {
	st, err := loadRingState(path)
	if err != nil {
		return nil, err
	}
	r := new(KeyRing)
	r.state.Store(st)
	return r, nil
}

func loadRingState(path string) (*ringState, error) {
	data, err := readRingFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(data)
	return parseRingText(data, path)
}

// parseRingText parses data read from path and records its digest.
func parseRingText(data []byte, path string) (*ringState, error) {
	st, err := parseRingState(data)
	if err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, path)
	}
	st.source = sha256.Sum256(data)
	return st, nil
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
	st, err := loadRingState(path)
	if err != nil {
		return err
	}
	r.swap(st)
	return nil
}

func (r *KeyRing) swap(st *ringState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state.Store(st)
}

// WatchFile reloads the ring from path whenever the file's content differs
// from the content the ring was last loaded from (by LoadKeyRingFile,
// ReloadFile or WatchFile itself), checking every interval until ctx is
// done. The content is compared by digest, so every way of replacing a file
// counts: a rename, rm and a copy that keeps the times (cp -p), a swapped
// symbolic link such as Kubernetes' ..data. A change that lands before
// WatchFile starts is seen at the first tick.
//
// A failed read or parse keeps the current keys and is retried at every
// tick until it succeeds, so a file fixed in place (chmod, chown) is picked
// up. report, if not nil, is called with nil after each reload and when the
// file returns to the content in force after a failure, and with each
// failure once, again only when the error changes. Write the file
// atomically (temp file + rename, as the CLI does): a reader that catches a
// half-written file reports a parse error and retries.
//
// WatchFile returns nil when ctx is done, and an error at once if interval
// is not positive.
func (r *KeyRing) WatchFile(ctx context.Context, path string, interval time.Duration, report func(error)) error {
	if interval <= 0 {
		return fmt.Errorf("cookiesession: WatchFile interval %v is not positive", interval)
	}
	w := &watcher{ring: r, path: path, report: report}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			w.check()
		}
	}
}

// watcher is WatchFile's state between ticks.
type watcher struct {
	ring    *KeyRing
	path    string
	report  func(error)
	failure string // the error last reported, "" when in step with the file
}

// check reloads the ring if the file's content is not the one in force.
func (w *watcher) check() {
	data, err := readRingFile(w.path)
	defer clear(data)
	if err == nil && sha256.Sum256(data) == w.ring.load().source {
		if w.failure != "" {
			w.result(nil) // back to the content in force
		}
		return
	}
	if err == nil {
		var st *ringState
		if st, err = parseRingText(data, w.path); err == nil {
			w.ring.swap(st)
		}
	}
	w.result(err)
}

func (w *watcher) result(err error) {
	switch {
	case err == nil:
		w.failure = ""
	case err.Error() == w.failure:
		return // reported already
	default:
		w.failure = err.Error()
	}
	if w.report != nil {
		w.report(err)
	}
}
