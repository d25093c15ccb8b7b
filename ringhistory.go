package cookiesession

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"
	"weak"
)

// What a ring remembers of the keys it stopped sealing with and removed,
// while the process runs: when each last sealed, for Remove's Warn of a
// key removed while its sessions live (warnEarlyRemoval), and which it
// removed and when, for the refusal of a token under one (unknownKey).

type removedKey struct {
	id uint32
	at time.Time
}

// carryRemoved sets st's removed keys: old's that st does not hold again,
// then old's keys that st lacks, removed at now.
func carryRemoved(old, st *ringState, now time.Time) {
	var removed []removedKey
	for _, k := range old.removed {
		if st.lookup(k.id) == nil {
			removed = append(removed, k)
		}
	}
	for _, k := range old.keys {
		if st.lookup(k.id) == nil {
			removed = append(removed, removedKey{k.id, now})
		}
	}
	st.removed = removed[max(0, len(removed)-maxRingKeys):]
}

// unknownKey is the refusal of a token under key id, which st lacks. It
// says when this ring removed the key, if it did, so that an operator
// tells a key removed too soon from a token of another ring.
func (st *ringState) unknownKey(id uint32) *TokenError {
	reason := fmt.Sprintf("unknown key id %08x", id)
	for _, k := range slices.Backward(st.removed) {
		if k.id == id {
			reason += " (removed from this ring at " + k.at.UTC().Format(time.RFC3339) + ")"
			break
		}
	}
	return &TokenError{Reason: reason, KeyID: id, kind: ErrUnknownKey}
}

// noteSealing records in sealedUntil, under mu, when keys stopped sealing:
// each that old's schedule replaced by now (at its successor's
// promote_at) and, when st is not nil, the key sealing in old at now if
// st seals under another.
func (r *KeyRing) noteSealing(old, st *ringState, now time.Time) {
	if r.sealedUntil == nil {
		r.sealedUntil = map[uint32]time.Time{}
	}
	until := func(id uint32, t time.Time) {
		if t.After(r.sealedUntil[id]) {
			r.sealedUntil[id] = t
		}
	}
	sealing := old.primary
	for _, k := range old.scheduled {
		if now.Before(k.promoteAt) {
			break
		}
		until(sealing, k.promoteAt)
		sealing = k.id
	}
	if st != nil {
		if st.primaryAt(now).id != sealing {
			until(sealing, now)
		}
		r.pruneSealing(st, now)
	}
}

// pruneSealing drops, under mu, the times in sealedUntil that no Remove
// would warn of at now: older than the longest MaxLifetime or, while no
// Codec was ever built on the ring, of keys st does not hold. Each change and reload
// prunes, so a ring rotated often for years by reloads alone, with no
// Remove, does not grow.
func (r *KeyRing) pruneSealing(st *ringState, now time.Time) {
	longest := r.longestLifetime()
	maps.DeleteFunc(r.sealedUntil, func(id uint32, t time.Time) bool {
		if longest > 0 {
			return now.Sub(t) >= longest
		}
		return st.lookup(id) == nil
	})
}

// addCodec records c among the Codecs built on the ring, dropping those
// collected since.
func (r *KeyRing) addCodec(c *Codec) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.codecs) >= r.codecsScan {
		r.codecs = slices.DeleteFunc(r.codecs, func(p weak.Pointer[Codec]) bool { return p.Value() == nil })
		r.codecsScan = max(2*len(r.codecs), 16)
	}
	r.codecs = append(r.codecs, weak.Make(c))
	r.lifetime = max(r.lifetime, c.ceiling.Load())
}

// longestLifetime returns, under mu, the longest MaxLifetime now in force
// of the Codecs built on the ring and still in use: the longest a session
// they open lives. A MaxLifetime lowered since (SetMaxLifetime) counts as
// lowered, since sessions past it no longer open. When none is in use
// (each built per request and collected), the next one built opens what
// they sealed, so it returns the longest they were built with (0: none
// was built).
func (r *KeyRing) longestLifetime() time.Duration {
	var longest int64
	for _, p := range r.codecs {
		if c := p.Value(); c != nil {
			longest = max(longest, c.ceiling.Load())
		}
	}
	if longest == 0 {
		longest = r.lifetime
	}
	return time.Duration(longest) * time.Second
}

// warnEarlyRemoval logs a Remove at now of key id, which sealed until
// until (zero: not while this ring held it), when less than longest, the
// longest MaxLifetime of the ring's Codecs and Managers, has passed since: the
// sessions it sealed are still live, and each is refused from now on.
func (r *KeyRing) warnEarlyRemoval(id uint32, until, now time.Time, longest time.Duration) {
	if until.IsZero() || longest == 0 || now.Sub(until) >= longest {
		return
	}
	slog.Default().LogAttrs(context.Background(), slog.LevelWarn,
		"cookiesession: KeyRing.Remove removed a key that sealed sessions more recently than the longest MaxLifetime of the ring's Codecs and Managers: every session it sealed that has not expired is refused from now on (unknown key id) and its user signed out",
		slog.String("key_id", FormatKeyID(id)), slog.String("sealed_until", until.UTC().Format(time.RFC3339)),
		slog.Duration("sealed_ago", now.Sub(until)), slog.Duration("max_lifetime", longest),
		slog.String("fix", "if the key leaked, this is meant; if not, Add the key back and Remove it once max_lifetime has passed since sealed_until"))
}
