package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Manager loads and saves sessions for one cookie configuration. It is safe
// for concurrent use. Build it with New.
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
	// does, and the names whose Set-Cookie lines the Manager writes.
	retiredLines []string
	retiredNames []string
	retiresOwn   bool
	lineNames    []string
	logger       *slog.Logger
	onError      func(http.ResponseWriter, *http.Request, error)
	stats        stats
	// plainHTTPLogged: a Secure cookie answered a plain-HTTP request.
	plainHTTPLogged atomic.Bool
	// noFlushLogged: a Flush found nothing under the middleware to flush.
	noFlushLogged atomic.Bool
	// timeoutLogged: a cookie went to a response that timed out around us.
	timeoutLogged atomic.Bool
	// lateSaveLogged: Save wrote a cookie after its request's context ended.
	lateSaveLogged atomic.Bool
	// foreignLogged: a response set one of our cookies the Manager did not.
	foreignLogged atomic.Bool
	// replacedLogged: the Manager dropped such a line to write its own.
	replacedLogged atomic.Bool
	// domainLogged: a cookie's Domain did not match the request's host.
	domainLogged atomic.Bool
	// outsidePathLogged: a session was read on a path outside the cookie's.
	outsidePathLogged atomic.Bool
	// shadowedLogged: a request carried two values for one of our names.
	shadowedLogged atomic.Bool
	// headerSizeLogged: our cookies passed a default proxy header limit.
	headerSizeLogged atomic.Bool
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
	m := &Manager{ring: ring, opts: opts, logger: opts.Logger, onError: opts.ErrorHandler, chunkPrefix: opts.Name + "."}
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
	total := 0
	for i := range opts.MaxChunks {
		name := chunkName(opts.Name, i)
		m.names = append(m.names, name)
		m.caps = append(m.caps, opts.MaxCookieSize-len(name))
		total += max(m.caps[i], 0)
		expire := m.attrs
		expire.Name, expire.MaxAge = name, -1
		m.deletes = append(m.deletes, expire.String())
	}
	if m.caps[len(m.caps)-1] < 1 || total < minTokenLen {
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
func (m *Manager) CookieNames() []string { return slices.Clone(m.names) }

// SetMaxLifetime changes Options.MaxLifetime, the bound on every session's
// MaxAge and IdleTimeout, while sessions are served. Lowering it cuts
// existing sessions at their next request. It refuses a d that is not a
// whole number of seconds, as New does.
func (m *Manager) SetMaxLifetime(d time.Duration) error {
	if err := wholeSeconds("SetMaxLifetime", d); err != nil {
		return err
	}
	return m.codec.setMaxLifetime(d)
}

// FromContext returns this Manager's session in ctx: the one its
// middleware (or NewContext, for a session from its Load) put there, or
// nil. Use it when several Managers are stacked.
func (m *Manager) FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(managerKey{m}).(*Session)
	return s
}

// Load reads the request's session cookie. It always returns a usable
// session: the one the cookie holds or, if there is none or it was refused,
// a new empty one. A non-nil error says why the cookie was refused (it
// matches ErrInvalid, ErrUnknownKey or ErrExpired); the refused cookie is
// cleared by the next Save, unless its key id is unknown (such a token may
// be newer than this instance's ring) or it was created in the future by
// an instance whose clock is ahead: both open elsewhere, or later (see the
// package documentation). Under this Manager's middleware, Load returns the
// middleware's session, as FromContext does, and why its cookie was refused:
// a second session of one cookie would lose its changes, or overwrite the
// middleware's. So it does with any session of this Manager's in r's
// context: in Options.Validate, the copy Validate is given (a second Load
// there would run Validate again, without end), and one NewContext put
// there.
func (m *Manager) Load(r *http.Request) (*Session, error) {
	if own := m.FromContext(r.Context()); own != nil {
		own.lock()
		defer own.unlock()
		return own, own.loadErr
	}
	s := &Session{mgr: m}
	s.mu.Lock()
	defer s.unlock() // writes what load logged
	s.loadErr = m.load(r, s, m.opts.Now())
	return s, s.loadErr
}

// load opens the request's cookie into s, which is new or pending, as of
// now, the request's start. It runs under s's lock, and logs through s.
func (m *Manager) load(r *http.Request, s *Session, now time.Time) error {
	s.startSec, s.startNsec, s.created, s.isNew = now.Unix(), int32(now.Nanosecond()), now.Unix(), true
	token, err := m.readToken(r, s)
	if m.retiredLines != nil && !s.ignored {
		s.retired = m.carriesRetired(r, s.shadowed)
	}
	if s.chunksSent == 0 {
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
		s.expires = min(s.expires, s.created+maxAge)
		err = m.validate(r, s)
	}
	if err != nil {
		s.reset(now)
		// A key this instance does not hold may be newer than its ring, and
		// a token "created in the future" comes from an instance whose
		// clock is ahead: both open elsewhere, or later, so the cookie
		// stays, unless the handler stores something. So does a cookie
		// sent beside another value of its name.
		// Of two values for one of our names, the clear would reach only
		// the one set with our Domain and Path, which may be the session's
		// own; the other, tossed by another host, would stay.
		s.refused = !keepsCookie(err) && !s.shadowed
		m.refusedCookie(s, r, err)
		return err
	}
	m.stats.open(rec.KeyID)
	return nil
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

func (m *Manager) validate(r *http.Request, s *Session) error {
	if m.opts.Validate == nil {
		return nil
	}
	// r's context holds s, whose lock is held here: through it, as through
	// its argument, Validate sees a copy.
	snap := s.snapshot()
	if err := m.opts.Validate(r.WithContext(NewContext(r.Context(), snap)), snap); err != nil {
		return &validateError{err}
	}
	return nil
}

// validateError is a session refused by Options.Validate.
type validateError struct{ err error }

func (e *validateError) Error() string {
	return ErrInvalid.Error() + ": refused by Validate: " + e.err.Error()
}
func (e *validateError) Unwrap() []error { return []error{ErrInvalid, e.err} }

func (m *Manager) defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	attrs := []any{slog.String("error", err.Error()), slog.String("path", r.URL.Path)}
	if errors.Is(err, ErrTooLarge) {
		fix := "keep large data in your database and its id in the session"
		if len(m.names) < maxChunks {
			fix += fmt.Sprintf(", or raise Options.MaxChunks (now %d, of cookies up to %d bytes)", len(m.names), m.opts.MaxCookieSize)
		}
		attrs = append(attrs, slog.String("fix", fix+"; Options.ErrorHandler answers this request"))
	}
	m.logger.ErrorContext(r.Context(), "cookiesession: cannot save session", attrs...)
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

// ErrHeadersWritten is returned by Save when the middleware has already
// sent the response headers, so a cookie could no longer be set.
var ErrHeadersWritten = errors.New("cookiesession: Save after the response headers were written")

// Save writes the session's cookies into w's headers if anything calls for
// it (see the package documentation). Call it before writing the body. It
// returns an error matching ErrTooLarge, and writes nothing, if the session
// does not fit; the client keeps its previous cookie. Inside the middleware
// Save is optional: the middleware saves when the response is committed,
// and after that Save returns ErrHeadersWritten, whatever wraps w, for the
// middleware's session (which Load also returns there) and for one Load
// made of a request without the middleware's context alike. Without
// the middleware nothing tells Save that the headers have gone: one called
// after the first Write or WriteHeader returns nil, and the cookie is lost.
// One that writes a cookie after r's context has ended (the handler
// returned, the client went away) is logged at Warn, once per Manager:
// the middleware's own session needs no such guess. s must come from this
// Manager, from its Load or its middleware: another Manager's session is
// refused with an error and nothing is written (with stacked Managers,
// FromContext returns the innermost one's; use Manager.FromContext).
func (m *Manager) Save(w http.ResponseWriter, r *http.Request, s *Session) error {
	if err := m.owns(s); err != nil {
		return err
	}
	if r != nil {
		if own := m.FromContext(r.Context()); own != nil && own != s {
			// A session Load made of a request without this context (a
			// clone on a fresh context), saved under this Manager's
			// middleware: the lines it writes are the Manager's, not another writer's,
			// and they cannot go out once the middleware has committed.
			own.mu.Lock()
			own.savedBeside = true
			sent := own.sent
			own.mu.Unlock()
			if sent {
				return ErrHeadersWritten
			}
		}
	}
	err := m.commit(w.Header(), s, r, false)
	if err == nil && r != nil && s.req == nil && !m.lateSaveLogged.Load() {
		m.warnLateSave(r, s)
	}
	return err
}

// SaveHeader is Save for a framework whose response is not a net/http
// ResponseWriter (fiber, a Lambda event): it writes the session's
// Set-Cookie lines, and the Vary and Cache-Control they call for, into h,
// for the caller to copy to its response before the headers are sent.
func (m *Manager) SaveHeader(h http.Header, s *Session) error {
	return m.commit(h, s, nil, false)
}

// CommitHeader is SaveHeader for the last time, for a framework adapter
// whose response is about to be sent: after it, Save and SaveHeader return
// ErrHeadersWritten, and a change to the session is logged at Warn as not
// saved, as after the middleware's own commit. A nil h writes nothing: for
// a response that carries no cookie (one answering a handler's panic).
//
// r is the request the response answers, or nil. With it, CommitHeader
// logs what the middleware logs at its commit: a Secure cookie set in
// answer to plain HTTP, for which it reads r's Host, TLS, URL scheme and
// X-Forwarded-Proto, Forwarded, Origin and Referer headers. A Set-Cookie
// line in h for one of the session's names that the Manager did not write
// is logged too, with or without r. Of r the log lines also take its
// context and URL path. CommitHeader does not keep r.
//
// The middleware's own session is refused, with nothing written: the
// middleware commits it, and a commit before would fail the middleware's
// with a 500. Save it early with Save or SaveHeader.
func (m *Manager) CommitHeader(h http.Header, s *Session, r *http.Request) error {
	if s != nil && s.req != nil {
		return fmt.Errorf("cookiesession: CommitHeader of the session Manager %q's middleware serves: the middleware commits it with the response; to save it early, call Save or SaveHeader", s.mgr.opts.Name)
	}
	return m.commit(h, s, r, true)
}

// commit decides what the response must say about the session and writes
// it into h, in answer to r if the caller knows it. The middleware's final
// commit marks the session sent; one that was never used says nothing at
// all.
func (m *Manager) commit(h http.Header, s *Session, r *http.Request, final bool) error {
	if err := m.owns(s); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.unlock()
	switch {
	case s.sent:
		return ErrHeadersWritten
	case final:
		s.sent = true
		if h == nil {
			return nil
		}
		if s.pending {
			if !s.savedBeside {
				m.warnForeign(s, h, r)
			}
			return nil
		}
	case s.pending:
		s.open()
	}
	// The session's own buffer backs the first save's one-line headers. A
	// later save gets a buffer of its own, so that it cannot change what an
	// earlier one handed out, to another header map or another goroutine.
	buf := &s.out
	if s.outLent {
		buf = new(headerBuf)
	}
	s.outLent = true
	addVary(h, buf)
	// The decision and what is written use one instant, the request's
	// start, so a session cannot expire between the two.
	now := s.start()
	switch act := m.action(s, r, now); act {
	case actionWrite, actionRekey:
		err := m.write(h, s, now, act == actionRekey, buf)
		if errors.Is(err, ErrExpired) {
			m.clear(h, s, buf) // the session ended: end the cookie, not the response
			err = nil
		}
		if err != nil {
			// A Save that failed and the commit after it count one
			// session, whatever the handler changed in between.
			if errors.Is(err, ErrTooLarge) && !s.tooLarge {
				s.tooLarge = true
				m.stats.tooLarge.Add(1)
			}
			removeOurs(h, m.lineNames) // the client keeps its previous cookie
			return err
		}
	case actionClear:
		m.clear(h, s, buf)
	case actionNone:
		if s.lines != nil {
			// Saved earlier in this response: drop any line for our names
			// that the handler added since.
			if foreign := setCookies(h, m.lineNames, s.lines, s.lines, buf); foreign != "" {
				m.warnReplaced(s, foreign)
			}
		} else {
			if final && !s.savedBeside && len(h) > 1 {
				// A map that holds only the Vary added above sets no cookie.
				m.warnForeign(s, h, r)
			}
			if s.chunksSent == 0 {
				m.warnOutsidePath(s, r)
			}
			if s.retired {
				m.expireRetired(h, s, buf)
			}
		}
	}
	if r != nil && s.lines != nil {
		m.warnPlainHTTP(s, r)
		m.warnDomain(s, r)
	}
	if s.lines != nil {
		m.warnHeaderSize(s, h, r)
	}
	return nil
}

// owns returns an error unless m loaded s: sealed under m's cookie name,
// another Manager's session would replace m's own, and m's cookie count,
// refusal and key id would say nothing of it. With stacked Managers,
// FromContext returns the innermost one's session.
func (m *Manager) owns(s *Session) error {
	switch {
	case s == nil:
		panic(errNoSession)
	case s.mgr == m:
		return nil
	case s.mgr == nil:
		return fmt.Errorf("cookiesession: Manager %q cannot save a Session that neither its Load nor its middleware made", m.opts.Name)
	}
	return fmt.Errorf("cookiesession: Manager %q cannot save the session of Manager %q; save each session with the Manager it came from (with stacked Managers, get it with Manager.FromContext)",
		m.opts.Name, s.mgr.opts.Name)
}

type action int

const (
	actionNone  action = iota
	actionWrite        // seal the session with a new deadline
	actionRekey        // re-seal under the primary key, keeping the deadline
	actionClear        // expire the client's cookies
)

// action applies the rules for when Set-Cookie is sent: only on a change,
// Renew, Destroy, Touch, a due refresh, a token under an old key, or to
// clear a refused or emptied cookie. A session that never held a value
// sends nothing. r is the request answered, if known (see outsidePath).
func (m *Manager) action(s *Session, r *http.Request, now time.Time) action {
	empty := s.values.Len() == 0
	switch {
	case empty && s.destroyed, empty && s.changed && s.loaded:
		// Destroyed, or its last value removed: the client keeps nothing.
		if s.chunksSent == 0 && s.lines == nil && !s.ignored && m.retiredLines == nil && !m.outsidePath(r) {
			return actionNone // the client holds nothing to expire
		}
		return actionClear
	case empty && !s.loaded:
		if s.refused {
			return actionClear
		}
		return actionNone
	case s.changed || s.renewed || s.touched || s.destroyed || s.refused || m.refreshDue(s, now),
		s.retired && s.shadowed && s.loaded && s.lines == nil:
		// The last: a session beside a retired cookie of its own name,
		// which this response expires, moves to the current attributes.
		return actionWrite
	case s.loaded && s.keyID != m.ring.primaryAt(now) && !m.incoming(s.keyID, now):
		return actionRekey
	}
	return actionNone
}

// incoming reports whether key id is about to become the primary (see
// ringState.incoming): a token under it is not re-keyed, and a session
// opened under it is sealed under it again (see write).
func (m *Manager) incoming(id uint32, now time.Time) bool {
	return m.ring.load().incoming(id, now) != nil
}

// refreshDue reports whether less than RefreshThreshold of the idle window
// remains and a re-seal would move the deadline, or the token's deadline
// lies further than the idle window (and the clock skew between instances)
// allows.
func (m *Manager) refreshDue(s *Session, now time.Time) bool {
	_, idle := m.codec.limits(&s.lifetime)
	if idle <= 0 || !s.loaded || s.skipRefresh {
		return false
	}
	expires := time.Unix(s.expires, 0)
	left := expires.Sub(now)
	if left > time.Duration(idle)*time.Second+clockSkew {
		// Sealed under a longer idle window, or none (IdleTimeout set or
		// shortened since): the re-seal starts the current one.
		return true
	}
	threshold := time.Duration(float64(idle) * float64(time.Second) * m.opts.RefreshThreshold)
	return left < threshold && m.codec.expiry(time.Unix(s.created, 0), now, &s.lifetime).After(expires)
}

// write seals the session and sets its cookies. A re-key keeps the
// token's deadline, and so does a change made by a request that called
// SkipRefresh (but never past what the session's lifetime now allows);
// anything else recomputes it. A session that came under an incoming key
// is sealed under that key again.
func (m *Manager) write(h http.Header, s *Session, now time.Time, rekey bool, buf *headerBuf) error {
	rec := Record{ID: s.ensureID(), Created: time.Unix(s.created, 0), Values: s.values, Lifetime: s.lifetime}
	switch {
	case rekey:
		rec.Expires = unixTime(s.expires)
	case s.skipRefresh && !s.touched && s.expires != 0:
		// A polling request that stores something is still not the user's
		// activity: it must not slide the idle window. Renew and Destroy
		// zero s.expires, so a restarted session gets a deadline of its own.
		rec.Expires = time.Unix(min(s.expires, m.codec.expiry(rec.Created, now, &rec.Lifetime).Unix()), 0)
	}
	if s.loaded {
		rec.KeyID = s.keyID // sealed under it again while it is incoming
	}
	sealed, token, err := m.codec.sealBuffer(&rec, now, nil, rec.KeyID)
	if err != nil {
		return err
	}
	defer putBuffer(sealed)
	// The whole seconds left, as Expires.Sub(now) / time.Second counts
	// them (fill made sure Expires lies after now), without Sub's
	// monotonic-clock and overflow checks.
	maxAge := int(rec.Expires.Unix() - now.Unix())
	if now.Nanosecond() > 0 {
		maxAge--
	}
	browser := m.opts.BrowserSession
	if s.lifetime != (Lifetime{}) {
		browser = s.lifetime.BrowserSession
	}
	// The chunks above the token's are expired: those the request carried
	// and, for a token over several cookies, every one. Of two parallel
	// responses, the one with fewer chunks may land last, and the other's
	// higher chunks would spoil the token it leaves; a token of one cookie
	// is read alone beside them (FORMAT.md section 5, step 5).
	chunks, stale := m.chunksFor(len(token)), int(s.chunksSent)
	if chunks > 1 {
		stale = len(m.deletes)
	}
	// The retired lines go first: a client that does not tell a retired
	// cookie from the session's (a browser without CHIPS, for one that
	// differs in Partitioned) applies them in order, and the session's
	// own line must be the last word.
	lines := append(buf.setCookieLines(max(chunks, stale)+len(m.retiredLines)), m.retiredLines...)
	for i := range chunks {
		n := min(len(token), m.caps[i])
		lines = append(lines, m.cookieLine(i, token[:n], maxAge, browser))
		token = token[n:]
	}
	lines = append(lines, m.deletes[chunks:max(chunks, stale)]...)
	if foreign := setCookies(h, m.lineNames, s.lines, lines, buf); foreign != "" {
		m.warnReplaced(s, foreign)
	}
	if rekey {
		m.stats.resealed.Add(1)
	}
	m.stats.written.Add(1)
	s.saved(&rec, lines)
	return nil
}

// clear expires every chunk cookie the client sent.
func (m *Manager) clear(h http.Header, s *Session, buf *headerBuf) {
	n := max(int(s.chunksSent), 1)
	if s.chunksSent == 0 && s.lines == nil {
		// Destroyed on a path outside the cookie's (see outsidePath), or
		// on a request whose cookies were too many to read: the client may
		// hold any of the chunks, unseen.
		n = len(m.deletes)
	}
	// A retired cookie of the session's name would open after a logout,
	// wherever the browser still sends it: every one is expired.
	lines := append(buf.setCookieLines(n+len(m.retiredLines)), m.deletes[:n]...)
	lines = append(lines, m.retiredLines...)
	if foreign := setCookies(h, m.lineNames, s.lines, lines, buf); foreign != "" {
		m.warnReplaced(s, foreign)
	}
	m.stats.cleared.Add(1)
	s.cleared(lines)
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
// on: the outer one serves it.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(w, r, next) })
}

// serve is one request through Handler.
func (m *Manager) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	outer := FromContext(r.Context())
	if outer != nil {
		if own := m.FromContext(r.Context()); own != nil && own.req != nil {
			// This Manager's middleware runs outside this one (a global r.Use
			// and a sub-router's): a second session would overwrite the first.
			next.ServeHTTP(w, r)
			return
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
	st.writer.askTimeout()
	st.writer.lateForeign()
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
