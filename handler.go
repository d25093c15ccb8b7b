package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Manager loads and saves sessions for one cookie configuration. It is safe
// for concurrent use. Build it with New: every method of a nil Manager, or of
// a zero one, panics naming the fix.
type Manager struct {
	codec *Codec
	ring  *KeyRing
	opts  Options
	names []string // names[i] is chunk i's cookie name
	caps  []int    // caps[i] is chunk i's value capacity
	attrs http.Cookie
	// Rendered once by net/http: the attributes after name=value (less
	// Max-Age), and the line that expires each chunk.
	attrText    string
	deletes     []string
	chunkPrefix string // Name + "."
	// Options.Retired: the lines that expire those cookies, the names
	// among them the Manager does not read, whether one has a name it
	// does, the entries by Name (see staleChunk), and the names whose
	// Set-Cookie lines the Manager writes.
	retiredLines []string
	retiredNames []string
	retiresOwn   bool
	retiredBases []retiredBase
	lineNames    []string
	answered     retiredMemo // the retired cookies answered: see visit
	logger       *slog.Logger
	onError      func(http.ResponseWriter, *http.Request, error)
	stats        stats
	// plainHTTPLogged: a Secure cookie answered a plain-HTTP request.
	plainHTTPLogged atomic.Bool
	// goJarLogged: one answered Go's client over plain HTTP to loopback,
	// and this Go's cookiejar never sends it back.
	goJarLogged atomic.Bool
	// noFlushLogged: a Flush found nothing under the middleware to flush.
	noFlushLogged atomic.Bool
	// hijackLogged: a Hijack's commit wrote lines that may go nowhere.
	hijackLogged atomic.Bool
	// timeoutLogged: a cookie went to a response that timed out around us.
	timeoutLogged atomic.Bool
	// foreignLogged: a response set one of our cookies the Manager did not.
	foreignLogged atomic.Bool
	// cacheFieldsLogged: a writer under us changed Cache-Control or Vary
	// after the commit, so a shared cache may keep the response.
	cacheFieldsLogged atomic.Bool
	// replacedLogged: the Manager dropped such a line to write its own.
	replacedLogged atomic.Bool
	// twoSavesLogged: the line dropped was one it wrote for another
	// Session of the same response (Load called twice, each saved).
	twoSavesLogged atomic.Bool
	// domainLogged: a cookie's Domain did not match the request's host.
	domainLogged atomic.Bool
	// outsidePathLogged: a session was read on a path outside the cookie's.
	outsidePathLogged atomic.Bool
	// shadowedLogged: a request carried two values for one of our names.
	shadowedLogged atomic.Bool
	// headerSizeLogged and cookieLineLogged: our cookies passed a default
	// proxy's response header limit, its Cookie line limit.
	headerSizeLogged, cookieLineLogged atomic.Bool
	// retiredBackLogged: a retired cookie came back after its expiry.
	retiredBackLogged atomic.Bool
	// staleChunkLogged: a request carried a chunk of a retired Name above
	// its entry's MaxChunks.
	staleChunkLogged atomic.Bool
	// aboveChunksLogged: a request carried a chunk of the Manager's Name
	// above MaxChunks, and no Options.Retired entry lists that Name.
	aboveChunksLogged atomic.Bool
	// tooLongLogged: a cookie was longer than the chunks hold.
	tooLongLogged atomic.Bool
	// carryTooLongLogged: a retired cookie to carry held a token longer
	// than the Manager's cookies hold.
	carryTooLongLogged atomic.Bool
	// retiredLiveLogged: a retired cookie of another Name held a session
	// begun after started (Unix seconds: when New ran).
	retiredLiveLogged atomic.Bool
	started           int64
	// limitsSince: when the MaxLifetime in force took effect (started,
	// or the last SetMaxLifetime that lowered it), in Unix seconds; a
	// session begun since (since started, when MaxAge rather than
	// MaxLifetime ends it) that was sealed under longer limits comes from
	// another instance (see limitsLine). cutLogged rates warnCut.
	limitsSince atomic.Int64
	cutLogged   everyMinute
	// refusedSets, refusedJSON and refusedLifetimes: the causes logged of
	// Session.Set refusing a value, SetJSON one it could not encode,
	// SetLifetime a lifetime; wrongTypes: of a getter finding a value it
	// cannot return. Each may be a mistake of its own, in other code.
	refusedSets, refusedJSON causes[refusedValue]
	refusedLifetimes         causes[Lifetime]
	wrongTypes               causes[wrongRead]
	// speculativeChanges: the routes and changes logged of a session
	// changed by a request sent ahead of a click (a prefetch).
	speculativeChanges causes[speculativeChange]
	// crossSiteLogged: a cross-site request that browsers send without a
	// cookie of our SameSite used the session.
	crossSiteLogged atomic.Bool
	// crossSiteSetLogged: a cookie of our SameSite answered a cross-site
	// request that browsers store no such cookie from.
	crossSiteSetLogged atomic.Bool
	// crossOriginSetLogged: a cookie answered a fetch from another origin
	// whose CORS answer does not allow credentials.
	crossOriginSetLogged atomic.Bool
	// validateChangedLogged: Options.Validate changed the copy it is given.
	validateChangedLogged atomic.Bool
	// seededLogged: the Handler met a session of its own that NewContext
	// put around it with a change no save wrote (see warnSeeded).
	seededLogged atomic.Bool
	// The call sites logged of a handler's mistake, each of which may be
	// another handler's: lateSaves, Save writing a cookie after its
	// request's context ended; unsavedLoads, Load's session outliving its
	// request with a change or a rolling refresh no save wrote (each is
	// counted in stats.lost), by Load's caller; stackedReads, the
	// package-level FromContext choosing among stacked Managers' sessions,
	// this one's the innermost; lateReads, a session first read after its
	// response went out, without Vary: Cookie.
	// sharedStores, a response whose handler used the session that a
	// shared cache may store (see warnSharedStore), by call site and route.
	// droppedFlashes, a Destroy or Clear dropping a message AddFlash added
	// in its request; endedIDs, an ID asked after Destroy (warnEndedID).
	lateSaves, stackedReads, lateReads, sharedStores callSites
	droppedFlashes, endedIDs                         callSites
	unsavedLoads                                     causes[sourceLine]
	// saveFailed, changedLate, skippedLate and lifetimeCut rate the lines
	// logged by defaultErrorHandler, Session.bump, Session.SkipRefresh and
	// Session.SetLifetime.
	saveFailed, changedLate, skippedLate, lifetimeCut everyMinute
	// savedTooLarge rates the line of a Save of a session from Load that
	// did not fit.
	savedTooLarge everyMinute
}

// New validates opts, fills in defaults and returns a Manager that seals with
// ring. Misconfiguration is reported here, not at the first request.
func New(ring *KeyRing, opts Options) (*Manager, error) {
	if ring == nil {
		return nil, errors.New("cookiesession: New needs a key ring")
	}
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	m := &Manager{ring: ring, opts: opts, logger: opts.Logger, onError: opts.ErrorHandler, chunkPrefix: opts.Name + ".", started: opts.Now().Unix()}
	m.limitsSince.Store(m.started)
	if m.onError == nil {
		m.onError = m.defaultErrorHandler
	}
	m.attrs = http.Cookie{
		Path: opts.Path, Domain: opts.Domain, Secure: !opts.DisableSecure,
		HttpOnly: !opts.DisableHttpOnly, SameSite: opts.SameSite, Partitioned: opts.Partitioned,
	}
	probe := m.attrs
	probe.Name, probe.Value = "x", "y"
	m.attrText = strings.TrimPrefix(probe.String(), "x=y")
	for i := range opts.MaxChunks {
		name := chunkName(opts.Name, i)
		m.names = append(m.names, name)
		expire := m.attrs
		expire.Name, expire.MaxAge = name, -1
		m.deletes = append(m.deletes, expire.String())
	}
	caps, err := chunkCaps(&opts, m.names, m.attrText)
	if err != nil {
		return nil, err
	}
	m.caps = caps
	total := 0
	for _, c := range caps {
		total += c
	}
	if total < minTokenLen {
		return nil, fmt.Errorf("cookiesession: MaxCookieSize %d x MaxChunks %d cannot hold an empty session (%d bytes of token)",
			opts.MaxCookieSize, opts.MaxChunks, minTokenLen)
	}
	if err := m.retire(&opts); err != nil {
		return nil, err
	}
	codec, err := NewCodec(ring, CodecOptions{Name: opts.Name, MaxAge: opts.MaxAge, IdleTimeout: opts.IdleTimeout,
		MaxLifetime: opts.MaxLifetime, MaxTokenLen: total})
	if err != nil {
		return nil, err
	}
	m.codec = codec
	return m, nil
}

// CookieNames returns the names of the cookies a session may span: Name,
// then Name.1 up to Name.(MaxChunks-1).
func (m *Manager) CookieNames() []string {
	m.exists("CookieNames")
	return slices.Clone(m.names)
}

// Logger returns the logger m logs through: Options.Logger, or, where
// none was set, one whose lines go to slog.Default() as it is at each line
// (a slog.SetDefault after New applies), as do those of a logger derived
// from it with With or WithGroup. It is for adapters and middleware
// that log beside the Manager (fibersession's warnings), so that their
// lines reach the operator's handler, at its level, with m's own.
func (m *Manager) Logger() *slog.Logger {
	m.exists("Logger")
	return m.logger
}

// exists panics if m is nil, or zero (not made by New), naming method and
// the fix, rather than leave a nil dereference to the caller: a nil Manager
// is what New returns with an error, one a package-level variable holds
// when that error was dropped.
func (m *Manager) exists(method string) {
	if m == nil {
		panic("cookiesession: " + method + " of a nil Manager: a nil one is what New returns with an error, which must be checked")
	}
	if m.codec == nil {
		panic("cookiesession: " + method + " of a Manager that New did not make (a zero Manager): build it with New, and keep the *Manager it returns")
	}
}

// SetMaxLifetime changes Options.MaxLifetime, the bound on every session's
// MaxAge and IdleTimeout, while sessions are served. Lowering it cuts
// existing sessions at their next request. It refuses a d that is not a
// whole number of seconds, as New does.
func (m *Manager) SetMaxLifetime(d time.Duration) error {
	m.exists("SetMaxLifetime")
	if err := wholeSeconds("SetMaxLifetime", d); err != nil {
		return err
	}
	was := m.codec.ceilingDuration()
	if err := m.codec.setMaxLifetime(d); err != nil {
		return err
	}
	if d < was { // only a lowered one is meant to end the sessions begun before
		m.limitsSince.Store(m.opts.Now().Unix())
	}
	for _, b := range m.retiredBases {
		if b.carry != nil {
			_ = b.carry.setMaxLifetime(d) // the same check passed above
		}
	}
	return nil
}

// FromContext returns this Manager's session in ctx: the one its
// middleware (or NewContext, for a session from its Load) put there, or
// nil. Use it when several Managers are stacked.
func (m *Manager) FromContext(ctx context.Context) *Session {
	m.exists("FromContext")
	s, _ := ctx.Value(managerKey{m}).(*Session)
	return s
}

// Load reads the request's session cookie. It always returns a usable
// session: the one the cookie holds or, if there is none or it was refused,
// a new empty one. A non-nil error says why the cookie was refused (it
// matches ErrInvalid, ErrUnknownKey or ErrExpired); the refused cookie is
// cleared by the next Save, unless its key id is unknown (such a token may
// be newer than this instance's ring), it was created in the future by an
// instance whose clock is ahead, or its session, begun since this
// Manager's MaxAge and MaxLifetime took effect, passed them before its
// token's own deadline (an instance with a longer one sealed it): these
// open elsewhere, or later (see the package documentation). Under this
// Manager's middleware, Load returns the middleware's session, as
// FromContext does, and why its cookie was
// refused: a second session of one cookie would lose its changes, or
// overwrite the middleware's. So it does with any session of this Manager's
// in r's context: in Options.Validate, the copy Validate is given (a second
// Load there would run Validate again, without end), and one NewContext put
// there. Elsewhere each call returns a new session read from r's cookie:
// call it once per request and pass the session on, since of two saved into
// one response the later replaces the earlier's cookie (logged at Warn).
// Save it before the handler writes: a session whose request context ends
// with a change or a due rolling refresh unsaved is counted in Metrics.Lost
// and, once for each line that calls Load, logged at Warn (see Save). Under
// net/http's Server, each session Load returns is held for that check until
// the request's context ends: a long request (Server-Sent Events) that
// calls Load per event holds every one until the client goes.
func (m *Manager) Load(r *http.Request) (*Session, error) {
	m.exists("Load")
	if own := m.FromContext(r.Context()); own != nil {
		own.lock()
		defer own.unlock()
		return own, own.loadErr
	}
	s := &Session{mgr: m}
	s.mu.Lock()
	defer s.unlock() // writes what load logged
	s.loadErr = m.load(r, s, m.opts.Now())
	if ctx := r.Context(); ctx.Value(http.ServerContextKey) != nil && ctx.Done() != nil {
		// net/http's Server ends the context when the handler returns: a
		// change still unsaved then never reaches the client. Another
		// server's context (fasthttpadaptor's RequestCtx) may end only at
		// shutdown, and would hold a goroutine per request until then.
		// The path is taken now: a client that went away ends the
		// context while the handler may still change r.
		// So is Load's caller, for the line.
		path := urlPath(r)
		var pcs [1]uintptr
		runtime.Callers(2, pcs[:])
		caller := pcs[0]
		context.AfterFunc(ctx, func() { m.warnUnsaved(s, ctx, path, caller) })
	}
	return s, s.loadErr
}

// load opens the request's cookie into s, which is new or pending, as of
// now, the request's start. It runs under s's lock, and logs through s.
func (m *Manager) load(r *http.Request, s *Session, now time.Time) error {
	s.startSec, s.startNsec, s.created, s.isNew = now.Unix(), int32(now.Nanosecond()), now.Unix(), true
	token, above, err := m.readToken(r, s)
	if above > 0 {
		m.warnAboveMaxChunks(s, r, above)
	}
	if m.retiredLines != nil && !s.ignored && m.carriesRetired(r, s) {
		s.retired = !m.cameBack(s, r, m.visit(r, s.shadowed))
		if s.retired {
			m.warnRetiredLive(s, r, now)
		}
	}
	if s.chunksSent == 0 {
		// No cookie of ours: a retired one may hold the session (only
		// then, so a request without one costs nothing more).
		if s.retired {
			m.carry(r, s, now)
		}
		return nil
	}
	var rec Record
	if err == nil {
		err = m.codec.open(token, now, &rec)
	}
	if s.shadowed {
		m.warnShadowed(s, r)
	}
	if err != nil && (s.shadowed || s.chunksSent > 1) {
		err = m.openShadowed(s, r, now, &rec, token, err)
	}
	if err == nil {
		s.adopt(&rec)
		// A shortened MaxAge also shortens the deadline the cookie is given.
		maxAge, _ := m.codec.limits(&rec.Lifetime)
		if limit := s.created + maxAge; s.expires > limit {
			m.warnCut(s, r, limit, m.codec.ceilingCuts(&rec.Lifetime))
			s.expires = limit
		}
		err = m.validate(r, s)
	}
	if err != nil {
		m.refuse(r, s, now, above, err)
		return err
	}
	m.stats.open(rec.KeyID)
	return nil
}

// refuse leaves s new and empty after the request's cookie was refused
// with err, and decides whether the response clears it. above counts the
// request's chunks past MaxChunks.
func (m *Manager) refuse(r *http.Request, s *Session, now time.Time, above int, err error) {
	s.reset(now)
	// A key this instance does not hold may be newer than its ring, and
	// a token "created in the future" comes from an instance whose
	// clock is ahead: both open elsewhere, or later, so the cookie
	// stays, unless the handler stores something. So does a cookie
	// sent beside another value of its name.
	// Of two values for one of our names, the clear would reach only
	// the one set with our Domain and Path, which may be the session's
	// own; the other, tossed by another host, would stay.
	// So does a token that did not open beside a chunk above MaxChunks
	// that no Retired entry expires: an instance with a higher
	// MaxChunks may read it (see warnAboveMaxChunks).
	// And so do chunks without the first, which a logout that landed
	// after a parallel response that grew the session leaves: a clear
	// would expire the first too, and reach only a session that
	// another response set meanwhile (a login's), which it would sign
	// out. The next session written expires them.
	// Of these, a cookie that may open elsewhere, not one that is no
	// session without its first chunk, is cleared at a Delete or Clear,
	// a logout (dropUnread).
	// And so does a session that this Manager's MaxAge ended before
	// its token's own deadline, begun since that MaxAge took effect:
	// an instance with a longer one sealed it, and opens it.
	wide := above > 0 && !m.retiresOwnName() && unopened(err)
	longer := m.sealedLonger(err)
	kept := wide || headless(err) || longer
	s.refused = !keepsCookie(err) && !s.shadowed && !kept
	s.unread = cookieNotKept
	if (keepsCookie(err) || wide || longer) && !s.shadowed && !headless(err) {
		s.unread = cookieKept
	}
	if s.refused {
		m.warnTooLong(s, r, err)
	}
	// A token cut short at MaxChunks fails authentication under a key
	// the ring holds at every request while its cookies stay: that is
	// warnAboveMaxChunks's line, not two secrets under one key id.
	m.refusedCookie(s, r, "", err, above == 0)
}

// keepsCookie reports whether a cookie refused with err stays with the
// client: one under a key this instance does not hold, or "created in the
// future" by an instance whose clock is ahead, opens elsewhere, or later.
func keepsCookie(err error) bool {
	if te, ok := err.(*TokenError); ok {
		// What the codec returns, checked without the allocations of
		// Unwrap's slice: step 5 asks for each token it tries.
		return te.kind == ErrUnknownKey || te.ahead > 0
	}
	var te *TokenError
	return errors.Is(err, ErrUnknownKey) || errors.As(err, &te) && te.ahead > 0
}

// sealedLonger reports whether err expired, under this Manager's MaxAge
// (or MaxLifetime) and before its token's own deadline, a session begun
// since those took effect: another instance, with a longer one (a rolling
// deployment), sealed it, and still opens it.
func (m *Manager) sealedLonger(err error) bool {
	te, ok := err.(*TokenError)
	return ok && te.longer && te.created >= m.limitsLine(te.byCeiling)
}

// limitsLine returns when the limit that ends a session took effect, in
// Unix seconds: the last lowered MaxLifetime's when byCeiling (it ends
// the session), else New's, as MaxAge does not change. A MaxLifetime
// lowered from 30 days to 7, with MaxAge an hour, is not meant to end
// the 24-hour sessions of an instance with a longer MaxAge.
func (m *Manager) limitsLine(byCeiling bool) int64 {
	if byCeiling {
		return m.limitsSince.Load()
	}
	return m.started
}

// warnCut logs, at most once a minute, a session whose token's deadline
// is past limit, the end this Manager's MaxAge or MaxLifetime gives it,
// and that began since those took effect: another instance, with a
// longer MaxAge or MaxLifetime (a "remember me" Lifetime under it), sealed
// it, and each cookie written here cuts it to limit, so a user whose
// cookie was last written here is signed out then.
func (m *Manager) warnCut(s *Session, r *http.Request, limit int64, byCeiling bool) {
	if s.created < m.limitsLine(byCeiling) {
		return
	}
	if m.cutLogged.level(slog.LevelWarn, m.opts.Now()) != slog.LevelWarn {
		return
	}
	s.log(r.Context(), slog.LevelWarn, "cookiesession: a session's token runs past the end this Manager's MaxAge or MaxLifetime gives it, and it began after those took effect: another instance, with a longer MaxAge or MaxLifetime, sealed it (a rolling deployment), and each cookie written here cuts it to that end, so a user whose cookie was last written here is signed out then (logged at most once a minute)",
		slog.Time("token_expires", time.Unix(s.expires, 0).UTC()), slog.Time("cut_to", time.Unix(limit, 0).UTC()),
		slog.Duration("max_lifetime", m.codec.ceilingDuration()), slog.String("path", urlPath(r)),
		slog.String("fix", "give every instance the same MaxAge and MaxLifetime: roll out a raised one to every instance before the code that sets a longer Lifetime; with a lowered one, this stops once the sessions the others sealed before they took it reach their own deadline, at most the longer limit after the rollout (README, \"Changing cookie settings on a live fleet\")"))
}

// headless reports whether err refuses chunks sent without the first.
func headless(err error) bool {
	te, ok := err.(*TokenError)
	return ok && te.headless
}

// unopened reports whether err refuses a token that did not open (a
// TokenError of class invalid), not one that opened and was refused
// after (expired, created in the future, or refused by Validate).
func unopened(err error) bool {
	te, ok := err.(*TokenError)
	return ok && te.kind == ErrInvalid && te.ahead == 0
}

func (m *Manager) validate(r *http.Request, s *Session) error {
	if m.opts.Validate == nil {
		return nil
	}
	// r's context holds s, whose lock is held here: through it, as through
	// its argument, Validate sees a copy.
	snap := s.snapshot()
	err := m.opts.Validate(r.WithContext(NewContext(r.Context(), snap)), snap)
	m.warnValidateChanged(s, r, snap, err != nil)
	if err != nil {
		return &validateError{err}
	}
	return nil
}

// warnValidateChanged logs, once per Manager, a Validate that changed the
// copy it was given (Set, Destroy, SetLifetime, SkipRefresh, ...): the
// change is dropped, though Set returned nil. Of a Validate that refused
// the session, it logs only a value or a Lifetime the copy was given and
// s did not hold, which the fresh session does not get: one that only
// took from the copy (Destroy, Clear, Delete) asked for what the refusal
// does. s's lock is held.
func (m *Manager) warnValidateChanged(s *Session, r *http.Request, snap *Session, refused bool) {
	snap.mu.Lock()
	changed := snap.changed || snap.renewed || snap.destroyed || snap.touched || snap.skipRefresh
	if refused {
		changed = snap.changed && (snap.values.adds(&s.values) || snap.lifetime != s.lifetime && snap.lifetime != Lifetime{})
	}
	snap.mu.Unlock()
	if !changed || m.validateChangedLogged.Load() || m.validateChangedLogged.Swap(true) {
		return
	}
	s.log(r.Context(), slog.LevelWarn, "cookiesession: Options.Validate changed the copy of the session it is given; the change was dropped (logged once)",
		slog.String("path", urlPath(r)), slog.Bool("refused", refused),
		slog.String("fix", "let Validate only read the session and return an error to refuse it; change the session in the handler (or a middleware inside the Manager's)"))
}

// validateError is a session refused by Options.Validate.
type validateError struct{ err error }

func (e *validateError) Error() string {
	return ErrInvalid.Error() + ": refused by Validate: " + e.err.Error()
}
func (e *validateError) Unwrap() []error { return []error{ErrInvalid, e.err} }

// tooLargeFix says how to make a session fit that did not.
func (m *Manager) tooLargeFix() string {
	fix := "keep large data in your database and its id in the session"
	if m.partitionFull() {
		fix += "; more chunks hold no more: browsers keep 10240 bytes of a site's Partitioned cookies in all (Options.Partitioned)"
	} else if len(m.names) < maxChunks {
		fix += fmt.Sprintf(", or raise Options.MaxChunks (now %d, of cookies up to %d bytes)", len(m.names), m.opts.MaxCookieSize)
	}
	return fix
}

func (m *Manager) defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	attrs := []any{slog.String("error", err.Error()), slog.String("path", urlPath(r))}
	if errors.Is(err, ErrTooLarge) {
		attrs = append(attrs, slog.String("fix", m.tooLargeFix()+"; Options.ErrorHandler answers this request"))
	}
	m.logger.Log(r.Context(), m.saveFailed.level(slog.LevelError, m.opts.Now()), "cookiesession: cannot save session (at error level once a minute, the others at debug)", attrs...)
	h := w.Header()
	for key := range h {
		if strings.EqualFold(key, "Location") { // h["location"] goes out as is
			delete(h, key)
		}
	}
	removeOurs(h, m.lineNames) // and moves every Cache-Control to the canonical key
	h.Set("Cache-Control", "no-store")
	noStoreTargeted(h) // a CDN obeys its own field in place of Cache-Control
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// Handler returns middleware that puts a session in each request's context
// (see FromContext and Manager.FromContext) and writes its cookies when the
// response is committed: at the first final WriteHeader, the first Write, a
// Flush, before a Hijack, or when next returns without writing. The cookie
// is opened at the session's first use: a request whose handler never
// touches its session costs no crypto and gets no Set-Cookie, Vary or
// Cache-Control change. Stacked Managers each keep their own session and
// cookies; two whose cookie names overlap, or of which one retires
// (Options.Retired) a name the other uses, answer every request through
// the ErrorHandler with an error that names both. A Manager's Handler
// inside its own (a global one and a sub-router's) passes the request
// on: the outer one serves it. A nil next, or a nil pointer or func in it
// (a *http.ServeMux never assigned), panics here, naming the fix.
func (m *Manager) Handler(next http.Handler) http.Handler {
	m.exists("Handler")
	if isNil(next) {
		panic("cookiesession: Handler(nil) has no handler to pass requests to: give it your mux (http.DefaultServeMux for routes registered with http.HandleFunc)")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(w, r, next) })
}

// isNil reports whether next is nil, or a nil pointer or func in an
// interface (a *http.ServeMux never assigned, http.HandlerFunc(nil)),
// which would panic at every request rather than here.
func isNil(next http.Handler) bool {
	if next == nil {
		return true
	}
	v := reflect.ValueOf(next)
	return (v.Kind() == reflect.Pointer || v.Kind() == reflect.Func) && v.IsNil()
}

// serve is one request through Handler.
func (m *Manager) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	outer := fromContext(r.Context())
	if outer != nil {
		own := m.FromContext(r.Context())
		if own != nil && own.req != nil {
			// This Manager's middleware runs outside this one (a global r.Use
			// and a sub-router's): a second session would overwrite the first.
			next.ServeHTTP(w, r)
			return
		}
		if own != nil {
			m.warnSeeded(r, own)
		}
		if err := m.overlaps(outer); err != nil {
			m.onError(w, r, err)
			return
		}
	}
	st := &requestState{Context: r.Context()}
	s := &st.session
	s.mgr, s.pending, s.outer = m, true, outer
	// Decisions are made as of the request's start, even when the session
	// is first used later.
	now := m.opts.Now()
	s.startSec, s.startNsec = now.Unix(), int32(now.Nanosecond())
	// The handler's request is kept in the state: WithContext is inlined,
	// so its copy stays on the stack and the state is the one allocation.
	st.req = *r.WithContext(st)
	s.req = &st.req
	st.writer = responseWriter{ResponseWriter: w, st: st}
	returned := false
	defer func() {
		if !returned {
			// A panic: no cookie goes out with what answers it, not even
			// one a Save put in the header map. A framework whose recovery
			// still holds this request (gin, echo) may change the session
			// there; marked sent, that change is logged as lost.
			s.mu.Lock()
			s.sent = true
			if !st.writer.committed && (s.lines != nil || s.savedBeside) {
				removeOurs(w.Header(), m.lineNames)
			}
			s.mu.Unlock()
		}
	}()
	next.ServeHTTP(&st.writer, &st.req)
	returned = true
	_ = st.writer.commit() // if the handler wrote nothing; later changes are logged by Session.bump
	if !st.writer.wroteHeader && !st.writer.hijacked && st.writer.err == nil {
		s.mu.Lock()
		st.writer.sharedStoreSent()
		s.unlock()
	}
	st.writer.askTimeout()
	st.writer.lateForeign()
}

// warnSeeded logs, once per Manager, a session from m's Load that
// NewContext put around m's Handler holding a change no save wrote: the
// Handler serves the session the request's cookie holds, so the change
// reaches neither the handler nor the client. A test seeding a request as
// for a handler called alone would otherwise find an empty session and no
// word of why. One without a change is what the cookie holds: not logged.
func (m *Manager) warnSeeded(r *http.Request, own *Session) {
	if m.seededLogged.Load() {
		return
	}
	own.mu.Lock()
	changed := (own.changed || own.renewed || own.destroyed || own.touched) && m.action(own, nil, own.start()) != actionNone
	own.mu.Unlock()
	if !changed || m.seededLogged.Swap(true) {
		return
	}
	m.logger.LogAttrs(r.Context(), slog.LevelWarn, "cookiesession: Handler found in the request's context a session of its Manager that NewContext put there, with a change no Save wrote; the handler gets the session the request's cookie holds, and that change reaches neither it nor the client (logged once)",
		slog.String("path", urlPath(r)),
		slog.String("fix", "to serve a request that already has a session through Handler, write the session's cookie with Manager.SaveHeader and add each line to the request (http.ParseSetCookie, then AddCookie); NewContext is for a handler called without Handler"))
}

// overlaps reports an error if m cannot be stacked inside one of the
// Managers whose sessions are outer's chain (see Overlaps).
func (m *Manager) overlaps(outer *Session) error {
	for o := outer; o != nil; o = o.outer {
		if o.mgr == nil {
			continue
		}
		if err := m.Overlaps(o.mgr); err != nil {
			return err
		}
	}
	return nil
}

// Overlaps reports an error, naming both, if m cannot serve a request
// inside outer: their cookie names overlap, and the two would read and
// overwrite each other's cookies; or one retires (Options.Retired) a name
// the other uses, and would expire that cookie. A Manager does not
// overlap itself. Handler checks it against each Manager stacked outside;
// a framework adapter that stacks Managers itself calls it.
func (m *Manager) Overlaps(outer *Manager) error {
	m.exists("Overlaps")
	outer.exists("Overlaps (its outer Manager)")
	if outer == m {
		return nil
	}
	for _, name := range m.names {
		if slices.Contains(outer.names, name) {
			return fmt.Errorf("cookiesession: stacked Managers %q and %q both use the cookie %q; give them names whose chunks (name.1, name.2, ...) cannot meet",
				outer.opts.Name, m.opts.Name, name)
		}
	}
	for _, pair := range [2][2]*Manager{{m, outer}, {outer, m}} {
		for _, name := range pair[0].retiredNames {
			if slices.Contains(pair[1].names, name) {
				return fmt.Errorf("cookiesession: stacked Manager %q retires the cookie %q of Manager %q; remove it from Options.Retired, or give that Manager another name",
					pair[0].opts.Name, name, pair[1].opts.Name)
			}
		}
	}
	return nil
}

// requestState is everything the middleware needs per request, in one
// allocation. It is also the request's context: its parent's, plus the
// session for FromContext.
type requestState struct {
	context.Context
	req     http.Request // r.WithContext(st)
	session Session
	writer  responseWriter
}

func (st *requestState) Value(key any) any {
	if sessionKey(key, &st.session) {
		return &st.session
	}
	return st.Context.Value(key)
}

func (st *requestState) String() string {
	return fmt.Sprint(st.Context) + ".WithValue(cookiesession.Session)"
}
