package cookiesession

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// A key's fingerprint tells whether two instances hold one secret under a
// key id, without either showing it. Tokens name their key by id alone,
// so instances that hold different secrets under one id refuse each
// other's cookies as forged ones, and sign out every user the balancer
// moves between them.

// fingerprintLabel comes before the secret in the hash, so that the
// fingerprint is a digest of the secret under this package's own label:
// it is no hash of the secret that anything else computes, and no key
// material (the package derives none: the secret is the AEAD's key).
const fingerprintLabel = "cookiesession key fingerprint v1\x00"

// fingerprintSize is how many bytes of the digest a fingerprint keeps: 48
// bits tell two secrets apart with certainty in practice, and are not
// mistaken for a key id, which has 8 hex digits.
const fingerprintSize = 6

// fingerprint returns the first fingerprintSize bytes of
// SHA-256(fingerprintLabel || secret) in lower-case hex (FORMAT.md section
// 6). It is one-way: what it tells of a secret a token under the key tells
// too.
func (m *keyMaterial) fingerprint() string {
	var buf [len(fingerprintLabel) + KeySize]byte
	copy(buf[copy(buf[:], fingerprintLabel):], m.secret[:])
	sum := sha256.Sum256(buf[:])
	clear(buf[:])
	return hex.EncodeToString(sum[:fingerprintSize])
}

// authWatch compares, per key id of the ring, the cookies that fail
// authentication under it with those that open under it, to tell when
// another instance seals under the id with another secret. It is fed by
// refused cookies only; opens are read from the counters Metrics shows,
// so a cookie that opens costs nothing more.
type authWatch struct {
	mu      sync.Mutex
	windows map[uint32]authWindow // ids of the ring, whose tokens alone fail authentication
	warned  time.Time             // when warnAuthFailures last logged, by Options.Now
}

// authWindow counts the authentication failures under one key id since
// start, and holds the number of opens under it at start.
type authWindow struct {
	start          time.Time
	failed, opened uint64
}

const (
	// authWindowLen is the shortest span judged: a window ends at the
	// first failure at least this long after it began.
	authWindowLen = time.Minute
	// minAuthFailures is how many failures a window needs to warn: one
	// forged or truncated cookie, or a few a minute (chunks of two tokens
	// mixed by two responses at once), do not.
	minAuthFailures = 20
	// authFailureShare: a window warns when its failures are at least one
	// per authFailureShare opens. Failures under a held id are forgeries
	// or another secret, hardly ever a normal client. In a fleet of two
	// whose secrets differ, each instance fails about every other token;
	// in a fleet of ten with one instance apart, that one fails about nine
	// in ten, and the other nine about one in ten, near this bound.
	authFailureShare = 10
)

// failed counts an authentication failure under key id at now, when
// opened tokens have opened under it so far. A failure at least
// authWindowLen after the first of its window ends that window and begins
// the next; failed returns the window ended if it should be warned about,
// at most once per authWindowLen. Judging a window only once it has
// lasted a minute keeps a burst at its start from being compared with the
// few opens counted by then.
func (w *authWatch) failed(id uint32, opened uint64, now time.Time) (win authWindow, warn bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cur, ok := w.windows[id]
	if !ok {
		if w.windows == nil {
			w.windows = map[uint32]authWindow{}
		}
		for old, o := range w.windows { // ids removed from the ring meanwhile
			if now.Sub(o.start) >= 2*authWindowLen {
				delete(w.windows, old)
			}
		}
		w.windows[id] = authWindow{start: now, failed: 1, opened: opened}
		return authWindow{}, false
	}
	if now.Sub(cur.start) < authWindowLen {
		cur.failed++
		w.windows[id] = cur
		return authWindow{}, false
	}
	// This failure ends the window and begins the next.
	w.windows[id] = authWindow{start: now, failed: 1, opened: opened}
	win = authWindow{start: cur.start, failed: cur.failed, opened: opened - cur.opened}
	if win.failed < minAuthFailures || win.failed*authFailureShare < win.opened ||
		!w.warned.IsZero() && now.Sub(w.warned) < authWindowLen {
		return authWindow{}, false
	}
	w.warned = now
	return win, true
}

// warnAuthFailures counts a cookie under key id that failed
// authentication, and logs at Warn, through s once its lock is released,
// a window of many such cookies compared to those that opened under the
// id (see authWatch.failed): the instances serving this cookie name may
// hold different secrets under the id, or forged cookies name it.
func (m *Manager) warnAuthFailures(s *Session, r *http.Request, id uint32) {
	now := m.opts.Now()
	win, warn := m.stats.auth.failed(id, m.stats.openedUnder(id), now)
	if !warn {
		return
	}
	fingerprint := "" // the key was removed since the cookie failed
	if k := m.ring.load().lookup(id); k != nil {
		fingerprint = k.mat.fingerprint()
	}
	s.log(r.Context(), slog.LevelWarn, "cookiesession: many session cookies under a key id this instance holds fail authentication, compared to those that open under it: the instances serving this cookie name may hold different secrets under that id (a ring generated per instance, a secret pasted wrong, another environment's ring), so that each signs out the users another signed in; or forged cookies name it (logged at most once a minute)",
		slog.String("cookie", m.opts.Name), slog.String("key_id", FormatKeyID(id)), slog.String("fingerprint", fingerprint),
		slog.Uint64("auth_failed", win.failed), slog.Uint64("opened", win.opened), slog.Duration("within", now.Sub(win.start)),
		slog.String("ring", m.ring.String()),
		slog.String("fix", "compare this key's fingerprint across every instance that serves this cookie name: cookiesession list -ring FILE prints it (column FINGERPRINT; the ring that instance loads), and so do the metric keys (/debug/vars) and cookiesession_key_info{fingerprint}; an instance that shows another fingerprint for key_id holds another secret: give every instance the same ring file (a new secret takes a new id: cookiesession add); if every instance shows this fingerprint, the cookies are forged and refused safely"))
}
