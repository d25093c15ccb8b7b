package cookiesession

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"
)

// Wire format (see FORMAT.md):
//
//	raw   = version || key_id (uint32 BE) || nonce (24) || XChaCha20-Poly1305(key, nonce, plaintext, ad)
//	ad    = raw[0:5] || cookie name
//	token = base64url(raw), unpadded
//	plaintext v1 = created (uint64 BE) || expires (uint64 BE) || id (16) || values
//	plaintext v2 = created || expires || id || max_age (uint32 BE) || idle (uint32 BE) || flags || values
//
// A token is sealed as v2 only when its session has a Lifetime of its own,
// so readers of v1 alone keep reading every other session.
const (
	version      = 0x01 // sessions with the default lifetime
	version2     = 0x02 // sessions with a Lifetime of their own
	headerSize   = 5
	nonceSize    = chacha20poly1305.NonceSizeX
	tagSize      = chacha20poly1305.Overhead
	plainHeader  = 8 + 8 + idSize // v1
	lifetimeSize = 4 + 4 + 1      // v2 adds max_age, idle and flags
	idSize       = 16
	flagBrowser  = 0x01 // v2 flags: a browser-session cookie
	envelopeSize = headerSize + nonceSize + tagSize

	// minTokenLen is the length of the shortest valid token: one that holds
	// an empty session.
	minTokenLen = ((envelopeSize+plainHeader+1)*8 + 5) / 6

	// clockSkew is how far in the future a token's creation time may lie
	// before the token is refused.
	clockSkew = 60 * time.Second

	// maxTime is the largest created or expires, in Unix seconds, that a
	// token may carry.
	maxTime = 1 << 62
)

var b64 = base64.RawURLEncoding.Strict()

// Sentinel errors, matched with errors.Is: an error wraps them, so compare
// with errors.Is, never ==. Codec.Open refuses a token with a *TokenError
// (get its Reason and KeyID with errors.As) that matches ErrInvalid,
// ErrUnknownKey or ErrExpired, and Manager.Load reports a refused cookie
// with the same errors.
var (
	// ErrInvalid means a token is malformed, too long, forged, sealed for
	// another name, sealed under a key the ring does not hold, or created
	// more than 60 seconds after now (by a clock ahead of this one). From
	// Manager.Load it also means Options.Validate refused the session;
	// the error then wraps Validate's too.
	ErrInvalid = errors.New("cookiesession: invalid token")
	// ErrUnknownKey means a token names a key id the ring does not hold:
	// the key was removed, or this instance has not received it yet. It
	// also matches ErrInvalid. The TokenError's Reason adds "(removed
	// from this ring at ...)" when this ring removed the key (Remove, a
	// reload) while the process ran; absent, the ring has not held it in
	// this process (another instance's ring, or removed before a restart).
	ErrUnknownKey = errors.New("cookiesession: unknown key id")
	// ErrExpired means a token was authentic but its lifetime is over.
	// Codec.Seal returns it too, for a Record already past its deadline.
	ErrExpired = errors.New("cookiesession: session expired")
	// ErrTooLarge means a session does not fit the configured size limit:
	// Codec.Seal, Manager.Save and SaveHeader return it, and the
	// middleware hands it to Options.ErrorHandler. A token too long to
	// open is ErrInvalid.
	ErrTooLarge = errors.New("cookiesession: session too large")
)

// TokenError explains why a token was refused: Codec.Open returns one,
// and so does Manager.Load for a cookie it cannot open (not for one
// Options.Validate refuses); errors.As finds it. Its message is meant for
// an operator's log. An authentication failure carries no detail: a
// wrong key, a forged token and a token sealed for another cookie name
// look the same.
type TokenError struct {
	// Reason is a short description such as "unknown key id 1a2b3c4d".
	Reason string
	// KeyID is the key id read from the token header, or 0 when the header
	// could not be read, or names a format version this release does not
	// read and the token did not authenticate under that key.
	KeyID uint32
	// Expired is the moment the session expired, for ErrExpired.
	Expired time.Time

	kind  error
	ahead time.Duration // authentic, but created this far after now, more than the clock skew allowed
	long  int           // the bytes of a token over the Manager's limit (joinChunks)
	// headless: chunks without the first (joinChunks), which no reader
	// opens and load leaves with the client.
	headless bool
	// longer: expired under the MaxAge that applies here before the
	// token's own deadline, so sealed under a longer MaxAge or
	// MaxLifetime (or this one's was lowered since); created is the
	// session's start, in Unix seconds; byCeiling: the limit was
	// MaxLifetime, below the MaxAge that applies (Codec.ceilingCuts).
	longer, byCeiling bool
	created           int64
}

func (e *TokenError) Error() string { return "cookiesession: " + e.Reason }

// Unwrap returns the sentinels this error matches.
func (e *TokenError) Unwrap() []error {
	if e.kind == ErrUnknownKey {
		return []error{ErrUnknownKey, ErrInvalid}
	}
	return []error{e.kind}
}

// reasonAuth is the one reason an authentication failure gives.
const reasonAuth = "authentication failed"

func invalid(keyID uint32, format string, args ...any) *TokenError {
	return &TokenError{Reason: fmt.Sprintf(format, args...), KeyID: keyID, kind: ErrInvalid}
}

// CodecOptions configure a Codec. The zero value of a field means its
// documented default. Tokens carry whole seconds, so the durations are
// truncated to whole seconds: a MaxAge of 1.5s acts as 1s.
type CodecOptions struct {
	// Name is the cookie name the token is bound to. Required.
	Name string
	// MaxAge is the absolute lifetime of a session since its creation.
	// Default 24 hours.
	MaxAge time.Duration
	// IdleTimeout, when positive, makes each token expire this long after
	// it was sealed (but never after Created+MaxAge). Default 0: off.
	IdleTimeout time.Duration
	// MaxLifetime bounds every session's MaxAge and IdleTimeout, its own
	// Lifetime's included. Default: MaxAge.
	MaxLifetime time.Duration
	// MaxTokenLen limits a token's length in bytes, when sealing and before
	// decoding when opening. Default 4096. The shortest token, an empty
	// session's, is 104 bytes.
	MaxTokenLen int
}

// Codec seals Records into tokens and opens tokens back into Records, bound
// to one cookie name and one key ring. It is safe for concurrent use, and
// follows rotations of its ring.
type Codec struct {
	ring    *KeyRing
	name    string
	maxAge  time.Duration
	idle    time.Duration
	maxLen  int
	ceiling atomic.Int64 // MaxLifetime in whole seconds
}

// NewCodec returns a Codec for ring and opts. It fails for a nil ring, an
// empty Name, a negative option, a MaxAge or IdleTimeout under one second,
// a MaxTokenLen too short for an empty session's token (104), a
// MaxLifetime (by default MaxAge) over 2^32-1 seconds, and, as New does
// for Options, a MaxLifetime below MaxAge or an IdleTimeout not shorter
// than MaxLifetime (by default MaxAge), which would cut every token.
func NewCodec(ring *KeyRing, opts CodecOptions) (*Codec, error) {
	c, err := newCodec(ring, opts)
	if err != nil {
		return nil, err
	}
	ring.addCodec(c) // its MaxLifetime counts for Remove's Warn
	return c, nil
}

// newCodec is NewCodec for a Codec whose MaxLifetime the ring's Remove
// does not warn by: one that reads a retired cookie only to see when its
// session began (Manager.retiredCodecs), not to keep the session.
func newCodec(ring *KeyRing, opts CodecOptions) (*Codec, error) {
	if ring == nil || ring.load() == nil {
		return nil, errors.New("cookiesession: a nil or zero KeyRing; build one with NewKeyRing, ParseKeyRing or a Load function")
	}
	if opts.Name == "" {
		return nil, errors.New("cookiesession: codec needs a cookie name")
	}
	if err := checkDurations(opts.MaxAge, opts.IdleTimeout, opts.MaxLifetime); err != nil {
		return nil, err
	}
	if opts.MaxTokenLen < 0 {
		return nil, fmt.Errorf("cookiesession: MaxTokenLen %d is negative; leave it 0 for the default", opts.MaxTokenLen)
	}
	c := &Codec{ring: ring, name: opts.Name, maxAge: opts.MaxAge, idle: opts.IdleTimeout, maxLen: opts.MaxTokenLen}
	setDefault(&c.maxAge, 24*time.Hour)
	setDefault(&c.maxLen, 4096)
	for _, f := range [...]struct {
		name string
		d    time.Duration
	}{{"MaxAge", c.maxAge}, {"IdleTimeout", c.idle}} {
		if f.d > 0 && f.d < time.Second {
			return nil, fmt.Errorf("cookiesession: %s %v is under a second, and tokens carry whole seconds: give at least 1s", f.name, f.d)
		}
	}
	// Tokens carry whole seconds, so the lifetimes are whole seconds too.
	c.maxAge, c.idle = c.maxAge.Truncate(time.Second), c.idle.Truncate(time.Second)
	if c.maxLen < minTokenLen {
		return nil, fmt.Errorf("cookiesession: MaxTokenLen %d cannot hold an empty session (%d)", c.maxLen, minTokenLen)
	}
	if err := checkCodecLifetimes(c.maxAge, c.idle, opts.MaxLifetime.Truncate(time.Second)); err != nil {
		return nil, err
	}
	if err := c.setMaxLifetime(cmp.Or(opts.MaxLifetime, c.maxAge)); err != nil {
		return nil, err
	}
	return c, nil
}

// checkCodecLifetimes refuses, as New does in Options, a MaxLifetime below
// MaxAge, which would cut every token to it, and an IdleTimeout that MaxAge
// (MaxLifetime, when set) would always beat: the option set would never
// act, and the tokens would end sooner than it says.
func checkCodecLifetimes(maxAge, idle, maxLifetime time.Duration) error {
	if maxLifetime > 0 && maxLifetime < maxAge {
		return fmt.Errorf("cookiesession: MaxLifetime %v is below MaxAge %v, and would cut every token to it; set it at least as long as MaxAge, or leave it 0 for MaxAge", maxLifetime, maxAge)
	}
	bound, name, fix := maxAge, "MaxAge", "raise MaxAge above it, or leave IdleTimeout 0 for MaxAge alone"
	if maxLifetime > 0 {
		bound, name, fix = maxLifetime, "MaxLifetime", "raise MaxLifetime above it, or shorten IdleTimeout"
	}
	if idle > 0 && idle >= bound {
		return fmt.Errorf("cookiesession: IdleTimeout %v is not shorter than %s %v, the longest a token lives, which would end it first however recently it was sealed; %s", idle, name, bound, fix)
	}
	return nil
}

// checkDurations refuses a negative MaxAge, IdleTimeout or MaxLifetime, or
// one longer than a token carries, naming the field: a limit that
// MaxLifetime's default takes from MaxAge would otherwise be reported
// under a name the caller never set.
func checkDurations(maxAge, idle, maxLifetime time.Duration) error {
	for _, f := range [...]struct {
		name string
		d    time.Duration
	}{{"MaxAge", maxAge}, {"IdleTimeout", idle}, {"MaxLifetime", maxLifetime}} {
		switch {
		case f.d < 0:
			return fmt.Errorf("cookiesession: %s %v is negative; leave it 0 for the default", f.name, f.d)
		case f.d/time.Second > maxLifetimeSeconds:
			return fmt.Errorf("cookiesession: %s %v is longer than a token carries (%d s, about 136 years)", f.name, f.d, int64(maxLifetimeSeconds))
		}
	}
	return nil
}

// setMaxLifetime changes MaxLifetime, the bound on every session's MaxAge
// and IdleTimeout. It is safe to call while sessions are served: lowering
// it cuts existing sessions at their next request.
func (c *Codec) setMaxLifetime(d time.Duration) error {
	if d < time.Second || d/time.Second > maxLifetimeSeconds {
		return fmt.Errorf("cookiesession: MaxLifetime %v is not between 1s and %d s", d, int64(maxLifetimeSeconds))
	}
	c.ceiling.Store(int64(d / time.Second))
	return nil
}

// ceilingDuration returns the current MaxLifetime.
func (c *Codec) ceilingDuration() time.Duration { return time.Duration(c.ceiling.Load()) * time.Second }

// limits returns the absolute lifetime and the idle timeout (0: none) that
// apply to a session with lifetime l, in whole seconds.
// Every request calls it two or three times, so the defaults are picked
// with plain ifs: cmp.Or, variadic, builds and ranges over an array for
// each field.
func (c *Codec) limits(l *Lifetime) (maxAge, idle int64) {
	ageFor, idleFor := c.maxAge, c.idle
	if l.MaxAge != 0 {
		ageFor = l.MaxAge
	}
	if l.IdleTimeout != 0 {
		idleFor = l.IdleTimeout
	}
	ceiling := c.ceiling.Load()
	maxAge = min(int64(ageFor/time.Second), ceiling)
	if idle = int64(idleFor / time.Second); idle > 0 {
		idle = min(idle, ceiling)
	}
	return maxAge, idle
}

// ceilingCuts reports whether MaxLifetime, rather than the MaxAge that
// applies (the session's own, or the codec's), ends a session of lifetime
// l: only then does a lowered MaxLifetime change when it ends.
func (c *Codec) ceilingCuts(l *Lifetime) bool {
	ageFor := cmp.Or(l.MaxAge, c.maxAge)
	return int64(ageFor/time.Second) > c.ceiling.Load()
}

// expiry returns the hard deadline of a token sealed at sealedAt for a
// session created at created: min(created+MaxAge, sealedAt+IdleTimeout),
// under the limits that apply to lifetime l.
func (c *Codec) expiry(created, sealedAt time.Time, l *Lifetime) time.Time {
	maxAge, idle := c.limits(l)
	return time.Unix(deadline(wholeSecond(created).Unix()+maxAge, sealedAt.Unix(), idle), 0)
}

// deadline is a token's expiry in Unix seconds: the session's age limit,
// or sealedAt plus the idle timeout when that is set and comes first.
func deadline(ageLimit, sealedAt, idle int64) int64 {
	if idle > 0 {
		return min(ageLimit, sealedAt+idle)
	}
	return ageLimit
}

// tokenLen returns the length of the token that sealing rec would produce.
func (c *Codec) tokenLen(rec *Record) int {
	return b64.EncodedLen(envelopeSize + plainLen(rec))
}

func plainLen(rec *Record) int {
	n := plainHeader + rec.Values.encodedLen()
	if rec.Lifetime != (Lifetime{}) {
		n += lifetimeSize
	}
	return n
}

// Seal is SealAt with the current time.
func (c *Codec) Seal(rec *Record) (string, error) { return c.SealAt(rec, time.Now()) }

// SealAt seals rec under the ring's primary key at now, or, for a record
// opened under a key whose promotion is due within 60 seconds after now
// (rec.KeyID, as Open sets it), under that key again: instances' clocks
// differ by up to that much, and re-sealing such a token under the
// outgoing key would flip the cookie between the two (FORMAT.md section
// 6). A new record (KeyID zero) gets the primary. Zero fields of rec
// are filled in first: a random ID, Created = now, Expires from the
// lifetime options. A set Expires is kept, so re-sealing an opened Record
// under a new key leaves its deadline unchanged. These fields stay filled
// in even if sealing then fails; Created, Expires and the Lifetime's
// durations are cut to whole seconds in rec, and KeyID is set to the key
// that sealed. The nonce always comes from crypto/rand. It fails with
// ErrTooLarge if the token would exceed MaxTokenLen, with ErrExpired if
// rec has already expired (at its Expires, or at Created plus the MaxAge
// that applies, as Open would decide at the same now), and with a plain
// error for times OpenAt refuses at the same now: Created before 1970 or
// more than 60 seconds after now, or Created or Expires above 2^62 seconds.
// A new record asks for what the codec cannot give when its Lifetime is
// longer than MaxLifetime, or its Expires is after Created plus the MaxAge
// that applies: Open would end it sooner, so SealAt fails and names the
// option to raise. An opened record (KeyID set) is sealed as Open read it,
// cut to the codec's limits, as the Manager does.
func (c *Codec) SealAt(rec *Record, now time.Time) (string, error) {
	if rec.KeyID == 0 {
		expiresGiven := !rec.Expires.IsZero()
		if err := c.fill(rec, now); err != nil {
			return "", err
		}
		if err := c.checkAsked(rec, expiresGiven); err != nil {
			return "", err
		}
	}
	return c.seal(rec, now, nil)
}

// checkAsked refuses a new record, filled in, whose Lifetime or given
// Expires asks for more than the codec's MaxLifetime and MaxAge allow:
// sealed, the token would be refused sooner than its caller was told.
func (c *Codec) checkAsked(rec *Record, expiresGiven bool) error {
	l, ceiling := &rec.Lifetime, c.ceilingDuration()
	for _, f := range [...]struct {
		name string
		d    time.Duration
	}{{"MaxAge", l.MaxAge}, {"IdleTimeout", l.IdleTimeout}} {
		if f.d > ceiling {
			return fmt.Errorf("cookiesession: Record.Lifetime.%s %v is longer than the codec's MaxLifetime %v, which would end the session first; raise CodecOptions.MaxLifetime (by default MaxAge) to at least %v",
				f.name, f.d, ceiling, f.d)
		}
	}
	if !expiresGiven {
		return nil
	}
	maxAge, _ := c.limits(l)
	ageLimit := rec.Created.Add(time.Duration(maxAge) * time.Second)
	if !rec.Expires.After(ageLimit) {
		return nil
	}
	// Both are whole seconds (fill), so need is too.
	need := rec.Expires.Sub(rec.Created)
	fix := fmt.Sprintf("raise Record.Lifetime.MaxAge to at least %v", need)
	if l.MaxAge == 0 {
		fix = fmt.Sprintf("set Record.Lifetime.MaxAge (or CodecOptions.MaxAge) to at least %v", need)
	}
	if need > ceiling {
		fix += fmt.Sprintf(" and CodecOptions.MaxLifetime (now %v) with it", ceiling)
	}
	return fmt.Errorf("cookiesession: Record.Expires %s is after Created plus the session's MaxAge of %v (%s), when Open ends the token; %s, or leave Expires zero for that end",
		rec.Expires.UTC().Format(time.RFC3339), time.Duration(maxAge)*time.Second, ageLimit.UTC().Format(time.RFC3339), fix)
}

// sealKey returns the key to seal with at now a session opened under key
// id (0 for a new one): id again while it is incoming, else the primary.
func (c *Codec) sealKey(now time.Time, id uint32) *ringKey {
	st := c.ring.load()
	if k := st.incoming(id, now); k != nil {
		return k
	}
	return st.primaryAt(now)
}

// incoming returns key id if it is about to become the primary: its
// promote_at lies after now by at most clockSkew. Instances' clocks differ
// by up to that much, so a token one of them sealed under the incoming key
// is neither re-keyed back nor re-sealed under the outgoing key by another:
// the cookie never flips between the two.
func (st *ringState) incoming(id uint32, now time.Time) *ringKey {
	for _, k := range st.scheduled { // only a scheduled key can be incoming
		if k.id == id && now.Before(k.promoteAt) && !now.Add(clockSkew).Before(k.promoteAt) {
			return k
		}
	}
	return nil
}

// seal does the work of SealAt. A nil nonce means a fresh one from
// crypto/rand; only the known-answer vector tests pass a fixed nonce.
func (c *Codec) seal(rec *Record, now time.Time, nonce []byte) (string, error) {
	buf, token, err := c.sealBuffer(rec, now, nonce, rec.KeyID)
	if err != nil {
		return "", err
	}
	s := string(token)
	putBuffer(buf)
	return s, nil
}

// sealBuffer seals rec into a pooled buffer and returns the token, which
// lives in that buffer: the caller copies it where it is needed (the
// middleware, straight into the Set-Cookie line) and then releases the
// buffer with putBuffer. keyID is the key the session was opened under,
// or 0: see sealKey.
func (c *Codec) sealBuffer(rec *Record, now time.Time, nonce []byte, keyID uint32) (*buffer, []byte, error) {
	if err := c.fill(rec, now); err != nil {
		return nil, nil, err
	}
	rawLen := envelopeSize + plainLen(rec)
	tokenLen := b64.EncodedLen(rawLen)
	if tokenLen > c.maxLen {
		return nil, nil, fmt.Errorf("%w: token of %d bytes exceeds the limit of %d", ErrTooLarge, tokenLen, c.maxLen)
	}
	key := c.sealKey(now, keyID)
	buf := getBuffer(headerSize + len(c.name) + rawLen + tokenLen)

	raw := buf.b[:0]
	if rec.Lifetime == (Lifetime{}) {
		raw = append(raw, version)
	} else {
		raw = append(raw, version2)
	}
	raw = binary.BigEndian.AppendUint32(raw, key.id)
	ad := append(buf.b[rawLen:rawLen], raw...)
	ad = append(ad, c.name...)
	raw = raw[:headerSize+nonceSize]
	if nonce != nil {
		copy(raw[headerSize:], nonce)
	} else {
		// A fresh read of the kernel's generator per seal, though it is
		// the dearest step after the AEAD: nonces drawn ahead in a batch,
		// or from a generator seeded once, would be replayed by every copy
		// of a VM snapshot restored more than once, reusing nonces under
		// one key; the kernel reseeds when the hypervisor reports a restore.
		rand.Read(raw[headerSize:]) // never fails (Go 1.24+)
	}
	plain := raw[len(raw):]
	plain = binary.BigEndian.AppendUint64(plain, uint64(rec.Created.Unix()))
	plain = binary.BigEndian.AppendUint64(plain, uint64(rec.Expires.Unix()))
	plain = append(plain, rec.ID[:]...)
	if l := &rec.Lifetime; *l != (Lifetime{}) {
		plain = binary.BigEndian.AppendUint32(plain, uint32(l.MaxAge/time.Second))
		plain = binary.BigEndian.AppendUint32(plain, uint32(l.IdleTimeout/time.Second))
		flags := byte(0)
		if l.BrowserSession {
			flags |= flagBrowser
		}
		plain = append(plain, flags)
	}
	plain = rec.Values.appendTo(plain)
	sealed := key.mat.aead.Seal(raw, raw[headerSize:headerSize+nonceSize], plain, ad)
	rec.KeyID = key.id
	token := buf.b[len(buf.b)-tokenLen:]
	b64.Encode(token, sealed)
	return buf, token, nil
}

func (c *Codec) fill(rec *Record, now time.Time) error {
	if l := &rec.Lifetime; *l != (Lifetime{}) {
		if err := l.check("Record.Lifetime"); err != nil {
			return err
		}
		// The wire carries whole seconds.
		l.MaxAge, l.IdleTimeout = l.MaxAge.Truncate(time.Second), l.IdleTimeout.Truncate(time.Second)
	}
	if rec.ID == (SessionID{}) {
		rec.ID = newSessionID()
	}
	if rec.Created.IsZero() {
		rec.Created = now
	}
	rec.Created = wholeSecond(rec.Created)
	created := rec.Created.Unix()
	if created < 0 {
		return errors.New("cookiesession: session created before 1970")
	}
	// Open ends the session at Created+MaxAge whatever Expires says, so
	// that deadline is checked even for a record whose Expires is set.
	maxAge, idle := c.limits(&rec.Lifetime)
	ageLimit, nowSec := created+maxAge, now.Unix()
	// An Expires filled in here is past only when the age limit is: say
	// so, not that the caller's Expires has passed.
	filled := rec.Expires.IsZero()
	if filled {
		rec.Expires = time.Unix(deadline(ageLimit, nowSec, idle), 0)
	}
	rec.Expires = wholeSecond(rec.Expires)
	// Open refuses these times at this now (checkTimes): refuse them here,
	// where the caller can fix them, not in a token that fails to open.
	expires := rec.Expires.Unix()
	switch {
	case created > maxTime || expires > maxTime || created > nowSec+int64(clockSkew/time.Second):
		return unopenable(created, expires, now)
	case expires <= nowSec && !filled: // whole seconds: same as !Expires.After(now)
		return expired(0, rec.Expires, "the record's Expires")
	case ageLimit <= nowSec:
		return expired(0, time.Unix(ageLimit, 0), "MaxAge "+(time.Duration(maxAge)*time.Second).String()+" since creation")
	}
	return nil
}

// unopenable says why a record with these times would make a token that
// no opener accepts at now. It is apart from fill to keep that lean.
func unopenable(created, expires int64, now time.Time) error {
	if created > maxTime || expires > maxTime {
		return fmt.Errorf("cookiesession: times above 2^62 cannot be sealed: Created %d, Expires %d (Unix seconds)", created, expires)
	}
	return fmt.Errorf("cookiesession: session created in the future at %s, more than %d s after now (%s)",
		time.Unix(created, 0).UTC().Format(time.RFC3339), int64(clockSkew/time.Second), now.UTC().Format(time.RFC3339))
}

// wholeSecond drops t's fraction of a second, as the wire format does; it
// is Truncate(time.Second) without Truncate's cost for the usual case.
func wholeSecond(t time.Time) time.Time {
	if t.Nanosecond() == 0 {
		return t
	}
	return t.Truncate(time.Second)
}

func expired(keyID uint32, at time.Time, which string) *TokenError {
	return &TokenError{Reason: "session expired at " + at.UTC().Format(time.RFC3339) + " (" + which + ")",
		KeyID: keyID, Expired: at, kind: ErrExpired}
}

func newSessionID() SessionID {
	var id SessionID
	rand.Read(id[:]) // never fails (Go 1.24+)
	return id
}

// Open is OpenAt with the current time.
func (c *Codec) Open(token string) (Record, error) { return c.OpenAt(token, time.Now()) }

// OpenAt authenticates and decrypts token as of now. Checks run in this
// order, and the first failure is returned as a *TokenError: the length
// limit, the alphabet and canonical base64url, the version, the key id
// (only the key it names is tried), authentication, then the times:
// creation more than 60 seconds in the future, the token's own deadline, and
// Created+MaxAge under the codec's current MaxAge.
func (c *Codec) OpenAt(token string, now time.Time) (rec Record, err error) {
	if err = c.open(token, now, &rec); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// open does the work of OpenAt, filling in rec in place: a Record is large
// enough that building it once in the caller's frame saves measurable copies.
// On failure rec holds partial results the caller must discard.
func (c *Codec) open(token string, now time.Time, rec *Record) error {
	if n := len(token); n > c.maxLen || n < minTokenLen {
		return c.lenError(n)
	}
	return openText(c, token, now, rec)
}

// openJoined opens, as open does, the token that pieces make joined. It
// joins them in *scratch, grown as needed and kept for the next call, not
// in a new string: FORMAT.md section 5 step 5 tries several joined tokens,
// each up to the length limit, in one request.
func (c *Codec) openJoined(pieces []string, scratch *[]byte, now time.Time, rec *Record) error {
	text := (*scratch)[:0]
	for _, p := range pieces {
		text = append(text, p...)
	}
	*scratch = text
	if n := len(text); n > c.maxLen || n < minTokenLen {
		return c.lenError(n)
	}
	return openText(c, text, now, rec)
}

// lenError is the refusal of a token of n bytes, too long or too short.
// The test stays in its callers: a call on every request's path costs more
// than the test.
func (c *Codec) lenError(n int) error {
	if n > c.maxLen {
		return invalid(0, "token of %d bytes exceeds the limit of %d", n, c.maxLen)
	}
	return invalid(0, "token of %d bytes is too short to be valid", n)
}

// openText opens the token text, whose length its caller accepted. It is
// generic so that open's string is decoded where it is, without a copy.
func openText[T string | []byte](c *Codec, text T, now time.Time, rec *Record) error {
	// The token is decoded and decrypted in a pooled buffer, with room
	// after it for the additional data; only the values are copied out.
	decodedLen := b64.DecodedLen(len(text))
	buf := getBuffer(decodedLen + headerSize + len(c.name))
	defer putBuffer(buf)
	n, err := b64.Decode(buf.b, []byte(text))
	if err != nil {
		return encodingError(text, err)
	}
	// The strict decoder refuses every byte outside the alphabet except CR
	// and LF, which it skips. Skipped bytes leave the output shorter than a
	// token of this length decodes to, or the length one no token has.
	raw := buf.b[:n]
	if n != decodedLen || len(text)%4 == 1 {
		if i := strings.IndexAny(string(text), "\r\n"); i >= 0 {
			return invalid(0, "bad encoding: byte 0x%02x at offset %d is not base64url: a line break, as a file, an environment variable or a wrapped line leaves; trim it", text[i], i)
		}
		return invalid(0, "bad encoding: %d characters is not a base64url length", len(text))
	}
	return c.openRaw(raw, buf.b[len(raw):len(raw)], now.Unix(), rec)
}

// encodingError says where and how text is not a token's base64url, with
// the likely cause: a token carried in a header, a URL or a file is often
// padded, re-encoded, escaped, quoted or kept with a prefix, and the
// decoder's "illegal base64 data at input byte 6" names none of these.
func encodingError[T string | []byte](text T, err error) error {
	at, ok := err.(base64.CorruptInputError)
	if !ok || int(at) >= len(text) {
		return invalid(0, "bad encoding: %v", err)
	}
	cause := "byte %q is not base64url: pass only the token, without quotes, spaces or a prefix such as \"Bearer \""
	switch b := text[at]; {
	case b == '=':
		cause = "byte %q is padding, which a token never has (unpadded base64url): remove it"
	case b == '+' || b == '/':
		cause = "byte %q is standard base64, which a token is not (it has '-' and '_'): pass the token as Seal returned it"
	case b == '%':
		cause = "byte %q begins a percent-escape, which a token never needs: unescape it once (url.QueryUnescape)"
	case strings.IndexByte(b64Alphabet, b) >= 0:
		cause = "byte %q cannot end a token: it was cut short or its last character altered"
	case b >= utf8.RuneSelf: // its value is the text's encoding's, not the token's
		return invalid(0, "bad encoding: %v: a byte outside ASCII is not base64url: pass only the token", err)
	}
	return invalid(0, "bad encoding: %v: "+cause, err, text[at])
}

// b64Alphabet is base64url's alphabet.
const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// openRaw opens the decoded token raw as of nowSec, in Unix seconds.
func (c *Codec) openRaw(raw, adBuf []byte, nowSec int64, rec *Record) error {
	if raw[0] != version && raw[0] != version2 {
		return c.unknownVersion(raw, adBuf)
	}
	keyID := binary.BigEndian.Uint32(raw[1:headerSize])
	st := c.ring.load()
	key := st.lookup(keyID)
	if key == nil {
		return st.unknownKey(keyID)
	}
	ad := append(append(adBuf, raw[:headerSize]...), c.name...)
	nonce, sealed := raw[headerSize:headerSize+nonceSize], raw[headerSize+nonceSize:]
	plain, err := key.mat.aead.Open(sealed[:0], nonce, sealed, ad)
	if err != nil {
		return invalid(keyID, reasonAuth)
	}
	n := plainHeader
	if raw[0] == version2 {
		if n += lifetimeSize; len(plain) < n+1 {
			return invalid(keyID, "plaintext of %d bytes is too short for version 2", len(plain))
		}
		if err := readLifetime(plain[plainHeader:n], &rec.Lifetime); err != nil {
			return invalid(keyID, "%v", err)
		}
	}
	if err := c.checkTimes(plain, keyID, nowSec, rec); err != nil {
		return err
	}
	// One copy of the values: the decoded strings are substrings of it.
	if err := rec.Values.decode(string(plain[n:])); err != nil {
		return invalid(keyID, "%v", err)
	}
	return nil
}

// unknownVersion refuses raw, of a format version this release does not
// read. One that authenticates under a key of the ring, in the envelope
// versions 1 and 2 share, was sealed by a newer release in the fleet, not
// forged: the error then carries its key id, and the Manager logs it at
// Warn with the fix (unreadableFix) rather than at Debug.
func (c *Codec) unknownVersion(raw, adBuf []byte) *TokenError {
	err := invalid(0, "unknown format version 0x%02x", raw[0])
	keyID := binary.BigEndian.Uint32(raw[1:headerSize])
	if key := c.ring.load().lookup(keyID); key != nil {
		ad := append(append(adBuf, raw[:headerSize]...), c.name...)
		nonce, sealed := raw[headerSize:headerSize+nonceSize], raw[headerSize+nonceSize:]
		if _, authErr := key.mat.aead.Open(sealed[:0], nonce, sealed, ad); authErr == nil {
			err.KeyID = keyID
		}
	}
	return err
}

// readLifetime reads v2's max_age, idle and flags.
func readLifetime(b []byte, l *Lifetime) error {
	l.MaxAge = time.Duration(binary.BigEndian.Uint32(b[0:4])) * time.Second
	l.IdleTimeout = time.Duration(binary.BigEndian.Uint32(b[4:8])) * time.Second
	if flags := b[8]; flags&^flagBrowser != 0 {
		return fmt.Errorf("unknown lifetime flags 0x%02x", flags)
	}
	l.BrowserSession = b[8]&flagBrowser != 0
	if *l == (Lifetime{}) {
		return errors.New("a version 2 token without a lifetime")
	}
	return nil
}

func (c *Codec) checkTimes(plain []byte, keyID uint32, nowSec int64, rec *Record) error {
	created := binary.BigEndian.Uint64(plain[0:8])
	expires := binary.BigEndian.Uint64(plain[8:16])
	if created > maxTime || expires > maxTime {
		return invalid(keyID, "timestamps out of range")
	}
	// Whole seconds compare exactly with the fractional now: t > now holds
	// for a whole t exactly when t > floor(now).
	maxAge, _ := c.limits(&rec.Lifetime)
	switch {
	case int64(created) > nowSec+int64(clockSkew/time.Second):
		err := invalid(keyID, "session created in the future at %s", unixUTC(created))
		err.ahead = time.Duration(int64(created)-nowSec) * time.Second
		return err
	case int64(expires) <= nowSec:
		return expired(keyID, time.Unix(int64(expires), 0), "the token's own deadline")
	case int64(created)+maxAge <= nowSec:
		err := expired(keyID, time.Unix(int64(created)+maxAge, 0), "MaxAge "+(time.Duration(maxAge)*time.Second).String()+" since creation")
		err.longer, err.byCeiling, err.created = true, c.ceilingCuts(&rec.Lifetime), int64(created)
		return err
	}
	rec.Created, rec.Expires, rec.KeyID = time.Unix(int64(created), 0), time.Unix(int64(expires), 0), keyID
	copy(rec.ID[:], plain[16:plainHeader])
	return nil
}

func unixUTC(sec uint64) string { return time.Unix(int64(sec), 0).UTC().Format(time.RFC3339) }

// buffer is a pooled scratch slice, so that sealing and opening allocate
// only what they return.
type buffer struct{ b []byte }

var bufferPool = sync.Pool{New: func() any { return new(buffer) }}

// maxPooled keeps one huge token from pinning a large buffer in the pool.
const maxPooled = 64 << 10

func getBuffer(n int) *buffer {
	buf := bufferPool.Get().(*buffer)
	if cap(buf.b) < n {
		buf.b = make([]byte, n)
	}
	buf.b = buf.b[:n]
	return buf
}

func putBuffer(buf *buffer) {
	if cap(buf.b) <= maxPooled {
		bufferPool.Put(buf)
	}
}
