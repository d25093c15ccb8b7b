package cookiesession

import (
	"encoding/hex"
	"fmt"
	"time"
)

// What a token carries: the session's id, its times, its values and its
// own lifetime.

// SessionID is a session's random 128-bit identifier.
type SessionID [idSize]byte

// String returns the id as 32 lowercase hex digits.
func (id SessionID) String() string { return hex.EncodeToString(id[:]) }

// Record is what a token carries: the session's identity, its lifetime and
// its values. Seal writes into the Record it is given (see SealAt), so a
// Record must not be sealed by two goroutines at once, and sealing one
// Record again continues the same session: give a new session a zero ID.
type Record struct {
	// ID is the session id: kept across re-seals, new on Renew.
	ID SessionID
	// Created is when the session began, in whole seconds.
	Created time.Time
	// Expires is this token's own hard deadline, in whole seconds. Open
	// also ends the session at Created plus the MaxAge that applies, so
	// an Expires after that does not lengthen it: SealAt refuses one in a
	// new Record (KeyID zero), and an opened Record may show one, from a
	// token sealed under a longer MaxAge.
	Expires time.Time
	// Values are the session's contents.
	Values Values
	// Lifetime is the session's own lifetime; zero means the codec's.
	Lifetime Lifetime
	// KeyID is the key a token was opened with. Open sets it; Seal sets it
	// to the key it sealed with.
	KeyID uint32
}

// Lifetime is a session's own lifetime, sealed inside its token, such as
// the longer one a "remember me" login asks for. Zero durations mean the
// defaults (Options.MaxAge and Options.IdleTimeout). MaxLifetime bounds
// both, when the token is sealed and every time it is opened (Codec.SealAt
// refuses a new Record's Lifetime over it). Tokens carry
// whole seconds: Seal truncates the durations in the Record it seals.
type Lifetime struct {
	// MaxAge is the absolute lifetime since the session was created.
	MaxAge time.Duration
	// IdleTimeout ends the session when it has not been refreshed for this
	// long.
	IdleTimeout time.Duration
	// BrowserSession leaves Max-Age out of the cookie, which browsers drop
	// when they close unless they restore their last session: the
	// lifetimes, enforced by the server, are what end the session. False
	// makes the cookie persistent. Unlike the
	// durations, it always overrides Options.BrowserSession, even in a
	// zero Lifetime given to Session.SetLifetime (which, under
	// Options.BrowserSession, then takes Options.MaxAge, within
	// MaxLifetime, as its MaxAge, so that the token carries it).
	BrowserSession bool
}

// maxLifetimeSeconds is the largest duration the wire's uint32 holds.
const maxLifetimeSeconds = 1<<32 - 1

// check refuses a duration the wire cannot carry, naming the field of
// what (SetLifetime, or a Record's Lifetime) that holds it.
func (l Lifetime) check(what string) error {
	for _, f := range [...]struct {
		name string
		d    time.Duration
	}{{"MaxAge", l.MaxAge}, {"IdleTimeout", l.IdleTimeout}} {
		if d := f.d; d < 0 || (d > 0 && d < time.Second) || d/time.Second > maxLifetimeSeconds {
			return fmt.Errorf("cookiesession: %s: %s %v is not between 1s and %d s (about 136 years); 0 means the Options'", what, f.name, d, int64(maxLifetimeSeconds))
		}
	}
	return nil
}
