package cookiesession

import (
	"errors"
	"expvar"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics is a snapshot of a Manager's counters and of the key ring it
// runs with, for operators: Opened shows when an old key has stopped being
// used, Keys that an instance has loaded a key before it is promoted, and
// Reload that it has not been left on its old keys by a failed reload.
// The counters count from the Manager's creation, Reload.Failures from
// the ring's: every Manager of one ring shows the same Reload, Primary
// and Keys, so summing them over Managers counts a failure once for each.
type Metrics struct {
	// Opened counts the tokens opened and accepted, by key id (8 hex
	// digits); one that Options.Validate refuses counts under Refused.
	Opened map[string]uint64 `json:"opened"`
	// Refused counts the cookies refused, by reason: "unknown_key",
	// "expired", "bad_encoding", "auth_failed", "validate" and
	// "clock_skew" (an authentic token sealed by an instance whose clock is
	// more than 60 seconds ahead of this one's); a retired cookie that
	// was not carried (RetiredCookie.Carry) counts too.
	Refused map[string]uint64 `json:"refused"`
	// UnknownKeyIDs is how many different unknown key ids were refused in
	// the last minute, at most 32: one or two when a key was removed while
	// its cookies live or this instance lacks a key the fleet seals with,
	// many when the cookies are forged (their key ids are random).
	UnknownKeyIDs int `json:"unknown_key_ids"`
	// Resealed counts tokens re-sealed only to move them to the primary.
	Resealed uint64 `json:"resealed"`
	// Written counts tokens sealed into a response's headers: a Save, a
	// change and the commit in one response seal twice. Cleared counts the
	// responses that expire the client's cookies: the middleware's at its
	// commit, once, and not when a later change or a panic replaced what
	// a Save cleared; a session from Load (which has no commit to wait
	// for) at each save that clears. TooLarge counts the sessions that
	// did not fit, once each: a retry that still does not fit is the same
	// one, while a session that outgrows its cookies again after a save
	// that fit counts again.
	Written  uint64 `json:"written"`
	Cleared  uint64 `json:"cleared"`
	TooLarge uint64 `json:"too_large"`
	// Carried counts the sessions opened from a retired cookie of another
	// Name (RetiredCookie.Carry), each also counted under Opened and, once
	// its response writes it under the Manager's Name, under Written. It
	// grows while users who last came before a rename come back.
	Carried uint64 `json:"carried"`
	// Dropped counts the responses that set a cookie browsers drop, by
	// reason: "plain_http" (Secure, in answer to a request with no sign
	// of HTTPS, to localhost only from a WebKit browser; behind a proxy
	// that ends TLS without saying so, browsers keep it), "domain" (a
	// Domain the request's host is outside of) and "cross_site" (SameSite
	// Lax, Strict or unset, in answer to a fetch or an iframe from another
	// site).
	// The Warn for each is logged once; this keeps counting.
	Dropped map[string]uint64 `json:"dropped"`
	// Lost counts the sessions whose change the client never got, by
	// reason: "after_commit" (changed once the response was committed: by
	// the middleware, by CommitHeader, or, for a session from Load, by
	// net/http as its request ended), "after_panic" (changed by a
	// recoverer outside the middleware once the handler panicked) and
	// "unsaved" (a session from Load whose request net/http ended with a
	// change, a due rolling refresh or a carried session that no Save
	// wrote; not one a Save refused with ErrTooLarge that still does not
	// fit, which TooLarge counts). Each session counts at most once per
	// reason; one from Load
	// left unsaved and changed again after counts under both. The Warn
	// for each is logged once (unsaved) or once a minute; this keeps
	// counting.
	Lost map[string]uint64 `json:"lost"`
	// ReadLate counts the sessions first read once the middleware had
	// committed their response, which went out without Vary: Cookie: a
	// shared cache in front may serve that page to every user. A read
	// after the whole body (an access log's, harmless) counts too: the
	// Manager cannot tell it from the others, nor a recoverer's read after
	// a panic that came once the response had gone out. Not counted: a
	// read once the request's context ended, after a Hijack or in the
	// recovery from a panic before the response was committed, which
	// reaches no page a cache keeps, nor a first use that changes the
	// session, which Lost counts. The Warn is logged once per line of code
	// that reads; this keeps counting.
	ReadLate uint64 `json:"read_late"`
	// SpeculativeChanges counts the responses that carry a change the
	// handler made to its session (a sign-out, a Renew, a flash consumed,
	// values changed) in answer to a GET or HEAD that a browser or a
	// framework sent ahead of a click (a prefetch or prerender, marked by
	// Sec-Purpose or another header README's "Prefetches and prerenders"
	// names): the change is made whether or not the user opens the page.
	// Not counted: a read, a rolling refresh, a re-key or Touch, which the
	// request makes by itself, nor a POST. A session from Load counts at
	// the Save or CommitHeader given the request. Each response counts
	// once, however many saves write it. The Warn is logged once per route
	// and change; this keeps counting. Any client can send these headers.
	SpeculativeChanges uint64 `json:"speculative_changes"`
	// SharedStore counts the responses to a GET or HEAD whose handler used
	// the session and that wrote no cookie, under a Cache-Control or a
	// CDN's own field (CDN-Cache-Control, Surrogate-Control) that lets a
	// shared cache store them and serve them again without asking: only
	// Vary: Cookie keeps one user's page from the next, and Cloudflare,
	// CloudFront and Akamai (Remove Vary Header) ignore it. The header is
	// judged as it goes out, so a response a stacked Manager's cookie makes
	// no-store is not counted. Each response counts once, however many
	// saves ask. The Warn is logged once per call site and route; this
	// keeps counting.
	SharedStore uint64 `json:"shared_store"`
	// Primary is the id of the key that seals now, and Keys every key the
	// ring holds, with its scheduled promotion, both from one version of
	// the ring however it is reloaded meanwhile. Never a secret.
	Primary string    `json:"primary"`
	Keys    []KeyInfo `json:"keys"`
	// Reload is how the ring's reloads from its file went.
	Reload ReloadStatus `json:"reload"`
}

// refusal is why a cookie was refused, as Metrics.Refused names it.
type refusal int

const (
	refusedUnknownKey refusal = iota
	refusedExpired
	refusedEncoding
	refusedAuth
	refusedValidate
	refusedClockSkew
	refusals
)

var refusalNames = [refusals]string{"unknown_key", "expired", "bad_encoding", "auth_failed", "validate", "clock_skew"}

// drop is why browsers drop a cookie the response sets, as
// Metrics.Dropped names it.
type drop int

const (
	droppedPlainHTTP drop = iota
	droppedDomain
	droppedCrossSite
	drops
)

var dropNames = [drops]string{"plain_http", "domain", "cross_site"}

// loss is why a session's change never reached the client, as
// Metrics.Lost names it.
type loss int

const (
	lostAfterCommit loss = iota
	lostAfterPanic
	lostUnsaved
	losses
)

var lossNames = [losses]string{"after_commit", "after_panic", "unsaved"}

func classify(err error) refusal {
	var te *TokenError
	var ve *validateError
	switch {
	case errors.As(err, &ve):
		return refusedValidate
	case errors.Is(err, ErrUnknownKey):
		return refusedUnknownKey
	case errors.Is(err, ErrExpired):
		return refusedExpired
	case errors.As(err, &te) && te.Reason == reasonAuth:
		return refusedAuth
	case errors.As(err, &te) && te.ahead > 0:
		return refusedClockSkew
	}
	return refusedEncoding
}

// stats are the counters. Counting takes no lock and allocates nothing,
// but for a key id seen for the first time and a refusal that may warn:
// opens are counted in a list of key ids, one per key that ever opened a
// token (keys of the ring, so a few), that is copied on the rare write (a
// key id seen for the first time) and read through an atomic pointer.
type stats struct {
	refused                              [refusals]atomic.Uint64
	dropped                              [drops]atomic.Uint64
	lost                                 [losses]atomic.Uint64
	resealed, written, cleared, tooLarge atomic.Uint64
	carried, readLate                    atomic.Uint64
	speculativeChanges, sharedStore      atomic.Uint64

	openedMu sync.Mutex // serializes adding a key id to opened
	opened   atomic.Pointer[[]openCount]

	// unknownKeys and skewed limit the Warn lines for an unknown key id
	// and a clock ahead; unknownKeys also gives Metrics.UnknownKeyIDs.
	// unreadable limits those for a token that authenticated but that
	// this instance cannot read (see unreadableFix).
	unknownKeys, skewed, unreadable warnLimiter
	// longer limits those for a session that a longer MaxAge or
	// MaxLifetime sealed (Manager.sealedLonger).
	longer warnLimiter
	// primarySeen is the primary the last re-key sealed under, and
	// splitLogged when warnSplitPrimary last logged, in Unix nanoseconds
	// by Options.Now, or 0.
	primarySeen atomic.Pointer[primarySeen]
	splitLogged atomic.Int64
	// auth compares authentication failures with opens, per key id.
	auth authWatch
}

// primarySeen is a primary key and when a re-key first sealed under it,
// and the key the last re-key came from and when a re-key first came from
// it since, in Unix seconds by Options.Now.
type primarySeen struct {
	id, from     uint32
	since, first int64
}

// openCount counts the tokens opened under one key.
type openCount struct {
	id uint32
	n  *atomic.Uint64
}

func (st *stats) open(keyID uint32) {
	if st.countOpen(keyID) {
		return
	}
	st.openedMu.Lock()
	defer st.openedMu.Unlock()
	if st.countOpen(keyID) { // added while this waited for the lock
		return
	}
	var next []openCount
	if list := st.opened.Load(); list != nil {
		next = slices.Clone(*list)
	}
	next = append(next, openCount{keyID, new(atomic.Uint64)})
	next[len(next)-1].n.Add(1)
	st.opened.Store(&next)
}

func (st *stats) countOpen(keyID uint32) bool {
	if list := st.opened.Load(); list != nil {
		for _, c := range *list {
			if c.id == keyID {
				c.n.Add(1)
				return true
			}
		}
	}
	return false
}

// openedUnder returns how many tokens opened under key keyID.
func (st *stats) openedUnder(keyID uint32) uint64 {
	if list := st.opened.Load(); list != nil {
		for _, c := range *list {
			if c.id == keyID {
				return c.n.Load()
			}
		}
	}
	return 0
}

// responseCount is a set of the counters a session's response was
// counted in, in one byte of the Session, whose request state has no
// room for a field more (TestRequestStateSize).
type responseCount uint8

const (
	countedDropped     responseCount = 1 << iota // checked for Metrics.Dropped (warnWritten)
	countedSpeculative                           // Metrics.SpeculativeChanges
	countedSharedStore                           // Metrics.SharedStore
	countedLost                                  // Metrics.Lost: the first change after the commit, logged (logLate)
)

// countOnce adds one to n for s's response unless it was counted under
// c: a response that two saves write (a Save, a change, the commit), or
// that two Saves of a session from Load ask of, counts once. s's lock is
// held.
func (s *Session) countOnce(c responseCount, n *atomic.Uint64) {
	if s.counted&c == 0 {
		s.counted |= c
		n.Add(1)
	}
}

// Metrics returns a snapshot of the Manager's counters and its key ring.
func (m *Manager) Metrics() Metrics {
	m.exists("Metrics")
	st := &m.stats
	out := Metrics{
		Opened:             map[string]uint64{},
		Refused:            map[string]uint64{},
		Dropped:            map[string]uint64{},
		Lost:               map[string]uint64{},
		Resealed:           st.resealed.Load(),
		Written:            st.written.Load(),
		Cleared:            st.cleared.Load(),
		TooLarge:           st.tooLarge.Load(),
		Carried:            st.carried.Load(),
		ReadLate:           st.readLate.Load(),
		SpeculativeChanges: st.speculativeChanges.Load(),
		SharedStore:        st.sharedStore.Load(),
	}
	if opened := st.opened.Load(); opened != nil {
		for _, c := range *opened {
			out.Opened[FormatKeyID(c.id)] = c.n.Load()
		}
	}
	for i, name := range refusalNames {
		out.Refused[name] = st.refused[i].Load()
	}
	for i, name := range dropNames {
		out.Dropped[name] = st.dropped[i].Load()
	}
	for i, name := range lossNames {
		out.Lost[name] = st.lost[i].Load()
	}
	now := m.opts.Now()
	out.UnknownKeyIDs = st.unknownKeys.recent(now)
	// One version of the ring: a reload between two reads would name as
	// Primary a key that Keys does not mark primary, or does not hold.
	ring := m.ring.load()
	out.Primary, out.Keys = FormatKeyID(ring.primaryAt(now).id), ring.keysAt(now)
	out.Reload = m.ring.reloadStatus()
	return out
}

// Var returns the Metrics as an expvar.Var, for expvar.Publish: its String
// is the JSON of a fresh snapshot.
func (m *Manager) Var() expvar.Var {
	m.exists("Var")
	return expvar.Func(func() any { return m.Metrics() })
}

// refusedCookie counts a refused cookie, and has s log it (see
// logRefusal) once its lock is released. An unknown key id, a token
// from an instance whose clock is ahead, or an authentic one this instance
// cannot read, is the operator's to fix, and is logged at Warn once a
// minute per key id: during a rotation it is the
// sign that this instance lacks a key the fleet uses. The other reasons
// are the client's, at Debug. A failed authentication is given to the
// watch for split secrets (warnAuthFailures) if watchAuth is set. cookie
// names a retired cookie that was not carried (Manager.carry), or is ""
// for the Manager's own.
func (m *Manager) refusedCookie(s *Session, r *http.Request, cookie string, err error, watchAuth bool) {
	reason := classify(err)
	m.stats.refused[reason].Add(1)
	line := logLine{ctx: r.Context(), level: slog.LevelDebug, refusal: err, reason: reason, cookie: cookie}
	var te *TokenError
	if errors.As(err, &te) {
		line.keyID = te.KeyID
	}
	switch {
	case reason == refusedUnknownKey && m.stats.unknownKeys.allow(line.keyID, m.opts.Now()),
		reason == refusedClockSkew && m.stats.skewed.allow(line.keyID, m.opts.Now()),
		reason == refusedEncoding && line.keyID != 0 && m.stats.unreadable.allow(line.keyID, m.opts.Now()),
		reason == refusedExpired && cookie == "" && m.sealedLonger(err) && m.stats.longer.allow(line.keyID, m.opts.Now()):
		line.level = slog.LevelWarn
	}
	s.logs = append(s.logs, line)
	if watchAuth && reason == refusedAuth && line.keyID != 0 {
		m.warnAuthFailures(s, r, line.keyID)
	}
}

// logRefusal logs a refused cookie's line, if the Logger takes its level.
func (m *Manager) logRefusal(l *logLine) {
	if !m.logger.Enabled(l.ctx, l.level) {
		return
	}
	msg, cookie := "cookiesession: session cookie refused", m.opts.Name
	if l.cookie != "" {
		msg, cookie = "cookiesession: a retired cookie was not carried: the request gets a new session", l.cookie
	}
	attrs := []slog.Attr{slog.String("cookie", cookie), slog.String("reason", l.refusal.Error())}
	if l.keyID != 0 {
		attrs = append(attrs, slog.String("key_id", FormatKeyID(l.keyID)))
	}
	if l.reason == refusedUnknownKey && l.level == slog.LevelWarn {
		attrs = append(attrs, slog.String("ring", m.ring.String()),
			slog.String("fix", "this instance's ring lacks the key: give every instance that serves this cookie name the same ring (cookiesession add, ship, wait, then promote); if the key was removed too early, restore the ring file as it was before the remove (a backup, the secret store's previous version), and the cookies not yet replaced open again; if on purpose, its sessions have ended; many different key ids within a minute (metric unknown_key_ids) are forged cookies, refused safely"))
	}
	if te := (*TokenError)(nil); l.reason == refusedClockSkew && errors.As(l.refusal, &te) {
		attrs = append(attrs, slog.Duration("ahead_by", te.ahead),
			slog.String("fix", "the instance that sealed this cookie runs ahead of this one by ahead_by, or this one runs behind: synchronise the fleet's clocks (NTP); an instance ahead is the one that counts no clock_skew while the others do, one behind the only one that counts it"))
	}
	if l.reason == refusedExpired && l.level == slog.LevelWarn {
		attrs = append(attrs, slog.String("fix", longerFix))
	}
	if l.reason == refusedEncoding && l.keyID != 0 && l.level == slog.LevelWarn {
		attrs = append(attrs, slog.String("fix", unreadableFix))
	}
	m.logger.LogAttrs(l.ctx, l.level, msg, attrs...)
}

// longerFix is the fix for a session this Manager's MaxAge or
// MaxLifetime ended before its token's own deadline, begun since they
// took effect (Manager.sealedLonger).
const longerFix = "the session began after this Manager's MaxAge and MaxLifetime took effect, and its token's own deadline is later: another instance seals with a longer MaxAge or MaxLifetime (a rolling deployment) and still opens it, so the cookie is kept unless the handler stores something, and the user is signed out on this instance only; " +
	"if the longer limit is meant, roll it out to every instance first; if this shorter one is, this stops once the sessions the others sealed before they took it reach their own deadline, at most the longer limit after the rollout"

// unreadableFix is the fix for a token that authenticated under a key of
// the ring, so an instance holding the ring sealed it, but that this
// instance cannot read: not forged input, which fails authentication, but
// a fleet whose instances disagree, and each such session is signed out.
const unreadableFix = "an instance holding this ring sealed the cookie, and this one cannot read it: " +
	"an int or uint stored on a 64-bit instance does not fit where int is 32 bits (GOARCH=386, arm), so store int64 or uint64 there, or run every instance on 64-bit; " +
	"a newer release of cookiesession wrote a type, lifetime or format version this release does not know, so run one release across the fleet (upgrade this instance)"

// warnSplitPrimary logs, at most once a minute per Manager, a session
// moved to the primary (re-keyed, or written with a change, but not
// restarted by Renew or Destroy, whose created is new) that was created
// after that key became the primary here (by the first move to it), and
// after the first move here from its key, and 60 seconds more for clocks
// apart and for a ring file to reach every instance: another instance
// sealed it under another key since, so
// the fleet's rings disagree on the primary (a promotion shipped to some
// instances only), and each moves the other's cookies back to its own
// primary without end. Each instance of the split logs it; the metric
// primary tells which ring is meant. It runs on each such move and takes no
// lock, and allocates only when the primary or the key it re-keys from
// changes, and when it logs.
func (m *Manager) warnSplitPrimary(s *Session, now time.Time) {
	primary, skew := m.ring.primaryAt(now), int64(clockSkew/time.Second)
	seen := m.stats.primarySeen.Load()
	if seen == nil || seen.id != primary {
		m.stats.primarySeen.CompareAndSwap(seen, &primarySeen{id: primary, from: s.keyID, since: now.Unix(), first: now.Unix()})
		return
	}
	if s.created < seen.since+skew {
		return // sealed before this primary took over: a rotation's re-key
	}
	if seen.from != s.keyID {
		// The first token under this key met here: on an instance whose
		// primary is older than the split, the split begins now, and a
		// rollout that ends within the minute is not one.
		m.stats.primarySeen.CompareAndSwap(seen, &primarySeen{id: primary, from: s.keyID, since: seen.since, first: now.Unix()})
		return
	}
	if s.created < seen.first+skew {
		return
	}
	last, at := m.stats.splitLogged.Load(), now.UnixNano()
	if last != 0 && at-last < int64(time.Minute) || !m.stats.splitLogged.CompareAndSwap(last, at) {
		return
	}
	ctx, path := s.origin()
	s.log(ctx, slog.LevelWarn, "cookiesession: a session created after this instance's primary took over came sealed under another key of its ring: another instance seals with that key, so the instances' rings disagree on the primary (a promotion or a rollback shipped to some instances only), and each moves the other's cookies back to its own primary (logged at most once a minute)",
		slog.String("key_id", FormatKeyID(s.keyID)), slog.String("primary", FormatKeyID(primary)), slog.String("path", path),
		slog.String("fix", "normal only for the minute a ring file takes to reach every instance; otherwise compare the metric primary across instances and ship the ring whose primary is meant to every instance"))
}

// warnLimiter allows one warning per key id per minute, and counts the ids
// seen in the last minute. It remembers at most maxWarned ids, so that
// tokens naming random ids cannot grow it: past that, a new id waits until
// one has not been seen for a minute, or until it comes back. An id that
// comes back while the limiter is full (a removed key's, whose cookies
// keep coming) takes the place of one seen only once (forged tokens carry
// a random id each), so that a moderate flood of forgeries does not hide
// the one unknown key id an operator must act on. Between its sightings
// the id holds one of missedSlots slots, which a flood of many hundreds
// of ids in between can overwrite.
type warnLimiter struct {
	mu  sync.Mutex
	ids map[uint32]warnTimes
	// missed holds ids refused a place while ids was full, each in a slot
	// picked by a keyed hash, so that forged ids cannot aim at a real one.
	missed [missedSlots]uint32
	key    uint32
}

// warnTimes are when an id was last warned about and last seen, and
// whether it was seen more than once.
type warnTimes struct {
	warned, seen time.Time
	recurs       bool
}

const (
	maxWarned   = 32
	missedSlots = 256
)

func (l *warnLimiter) allow(id uint32, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.ids[id]; ok {
		allowed := now.Sub(t.warned) >= time.Minute
		if allowed {
			t.warned = now
		}
		t.seen, t.recurs = now, true
		l.ids[id] = t
		return allowed
	}
	if l.ids == nil {
		l.ids, l.key = map[uint32]warnTimes{}, rand.Uint32()
	}
	recurs := false
	if len(l.ids) >= maxWarned {
		for old, t := range l.ids {
			if now.Sub(t.seen) >= time.Minute {
				delete(l.ids, old)
			}
		}
		if len(l.ids) >= maxWarned {
			if recurs = l.cameBack(id); !recurs || !l.evictOnce() {
				return false
			}
		}
	}
	l.ids[id] = warnTimes{warned: now, seen: now, recurs: recurs}
	return true
}

// cameBack reports whether id was refused a place before, since its slot
// last held another id, and remembers it otherwise.
func (l *warnLimiter) cameBack(id uint32) bool {
	slot := (id ^ l.key) * 0x9e3779b1 >> 24 // Fibonacci hashing: the top 8 bits
	// 0 marks an empty slot, and an id 0 is never taken as one back.
	if l.missed[slot] == id && id != 0 {
		l.missed[slot] = 0
		return true
	}
	l.missed[slot] = id
	return false
}

// evictOnce removes the id seen once that was seen longest ago, if any.
func (l *warnLimiter) evictOnce() bool {
	var oldest uint32
	var at time.Time
	found := false
	for id, t := range l.ids {
		if !t.recurs && (!found || t.seen.Before(at)) {
			oldest, at, found = id, t.seen, true
		}
	}
	if found {
		delete(l.ids, oldest)
	}
	return found
}

// recent returns how many ids were seen in the minute before now.
func (l *warnLimiter) recent(now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, t := range l.ids {
		if now.Sub(t.seen) < time.Minute {
			n++
		}
	}
	return n
}
