package cookiesession

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Saving: what a response says about its session. The middleware commits
// each session once, when the response is committed; Save, SaveHeader and
// CommitHeader do the same for a caller without it, or earlier.

// ErrHeadersWritten is returned by Save, SaveHeader and CommitHeader for a
// session already committed, by the middleware as it sent the response
// headers or by CommitHeader, so a cookie could no longer be set. Match it
// with errors.Is.
var ErrHeadersWritten = errors.New("cookiesession: Save after the response headers were written")

// Save writes the session's cookies into w's headers if anything calls for
// it (see the package documentation). Call it before writing the body. It
// returns an error matching ErrTooLarge, and writes no Set-Cookie line (only
// the Vary: Cookie that any use of the session calls for), if the session
// does not fit; the client keeps its previous cookie. Inside the middleware
// Save is optional: the middleware saves when the response is committed,
// and after that Save returns ErrHeadersWritten, whatever wraps w, for the
// middleware's session (which Load also returns there) and for one Load
// made of a request without the middleware's context alike. Without the
// middleware net/http's own w cannot tell Save that the headers have gone:
// one called after the first Write or WriteHeader returns nil, and the
// cookie is lost. A w that can (gin's, whose Written reports the headers
// WriteHeaderNow sent), or that unwraps to one, makes such a Save return
// ErrHeadersWritten, as does chi's WrapResponseWriter once it reports a
// Status, echo's Response (v4's c.Response(), v5's echo.UnwrapResponse)
// once its Committed field is true, and negroni's or martini's once its
// Size counts a byte of the body (their Written alone reports true from
// WriteHeader on, while the Before hooks, where a Save still reaches the
// client, run). Once net/http's Server has ended r's context (the handler
// returned, or the client went away), Save returns an error matching both
// ErrHeadersWritten and context.Canceled, and touches neither w nor the
// session; a session from Load changed after that is logged at Warn as not
// saved. So it does for an r whose context the handler derived and canceled
// itself (an errgroup's, after Wait): Save cannot tell it from net/http's,
// so pass it the request net/http gave the handler. Under a Server whose
// BaseContext or ConnContext may end r's context early, or for a context
// past its deadline (http.TimeoutHandler), Save cannot tell, writes, and
// such a save that writes a cookie is logged at Warn, once for each line of
// code that calls Save so. Call Save on every request that uses a session
// from Load: one whose request context ends with a change, or a due rolling
// refresh, that no save wrote is counted in Metrics.Lost (unsaved) and
// logged at Warn, once for each line of code that calls Load. s must come
// from this Manager, from its Load or its middleware: another Manager's
// session is refused with an error and nothing is written (with stacked
// Managers, FromContext returns the innermost one's; use
// Manager.FromContext).
func (m *Manager) Save(w http.ResponseWriter, r *http.Request, s *Session) error {
	m.exists("Save")
	if err := m.owns(s); err != nil {
		return err
	}
	if r != nil && s.req == nil {
		if err := requestEnded(r.Context()); err != nil {
			return err // before w: net/http may be reusing it
		}
	}
	if s.req == nil {
		if sent, echo := headersSent(w); sent {
			fix := "in gin, before c.Next() returns, or use the cookiesession/gin middleware"
			if echo {
				fix = "in echo, before c.JSON, c.String, c.Redirect or the like answers, or use the cookiesession/echo (v4) or cookiesession/echo5 middleware"
			}
			return fmt.Errorf("%w: the response writer (%T) reports that it has sent the headers, so a cookie set now never reaches the client; nothing was written: call Save before the handler writes the body (%s)", ErrHeadersWritten, w, fix)
		}
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
	if err == nil && r != nil && s.req == nil {
		m.warnLateSave(r, s)
	}
	if errors.Is(err, ErrTooLarge) && s.req == nil {
		m.warnSavedTooLarge(r, err)
	}
	return err
}

// warnSavedTooLarge logs, at Warn once a minute and at Debug in between,
// a Save of a session from Load that did not fit: without the middleware
// no ErrorHandler answers it, and code ported from gorilla/sessions, whose
// examples drop Save's error, would lose the change without a word. Under
// the middleware its commit fails too, and the ErrorHandler answers.
func (m *Manager) warnSavedTooLarge(r *http.Request, err error) {
	ctx, path := context.Background(), ""
	if r != nil {
		ctx, path = r.Context(), urlPath(r)
	}
	level := m.savedTooLarge.level(slog.LevelWarn, m.opts.Now())
	m.logger.Log(ctx, level, "cookiesession: Save refused a session from Load too large for its cookies: nothing was written, the client keeps its previous cookie, and the change is lost unless the caller acts on Save's error, which matches ErrTooLarge (at warn level once a minute, the others at debug)",
		slog.String("error", err.Error()), slog.String("path", path), callerAttr(level),
		slog.String("fix", m.tooLargeFix()+"; check Save's error"))
}

// warnUnsaved counts in Metrics.Lost, and logs once for each line that
// calls Load (loadedAt, the return address in its caller), a session from
// Load whose request ended with a change, or a rolling refresh, that no
// save wrote: gorilla's Flashes needed a Save too, but code ported from a
// store that saves by itself (or that saves only on a change) shows a flash
// again on every page, or signs an active user out when IdleTimeout ends,
// without a word. ctx is the request's, which ended, and path its URL's
// path. A client that goes away ends it too, while the handler may still
// save: that session is counted and logged as well, though it reaches no
// client either way. A context that ends at its deadline says nothing:
// see requestEnded.
func (m *Manager) warnUnsaved(s *Session, ctx context.Context, path string, loadedAt uintptr) {
	s.lock()
	defer s.unlock()
	if s.sent || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// A deadline (a router's timeout middleware) ends the context
		// while the handler may still save and answer: net/http has not
		// ended the request, and this watch cannot see when it does.
		return
	}
	if requestEnded(ctx) != nil {
		// Nothing the handler's writer holds goes out now: a change after
		// this is logged as late (Session.bump), and a save refused.
		defer func() { s.sent = true }()
	}
	what := m.unsaved(s)
	if what == "" {
		return
	}
	m.stats.lost[lostUnsaved].Add(1)
	caller := sites.of(loadedAt)
	level, ok := m.unsavedLoads.level(caller.key(), slog.LevelWarn, m.opts.Now)
	if !ok {
		return
	}
	s.log(ctx, level, "cookiesession: a session from Load was left unsaved when its request ended (the handler returned, or the client went away before the handler saved it); the client never got what it needed (logged once per call of Load in the code; past 64 of them, at warn level once a minute, the others at debug; metric lost.unsaved counts each)",
		slog.String("unsaved", what), slog.String("path", path), slog.String("caller", caller.String()),
		slog.String("fix", "call Save(w, r, s) on every request that uses the session, after its last change (Flashes is one) and before the handler writes the status or the body, and call Load once per request, passing that session on; or serve with Manager.Handler, which saves by itself"))
}

// unsaved says what s, a session from Load, holds that no save wrote, or
// returns "" if nothing. A session a Save refused as too large, and that
// still does not fit, says nothing here: that Save returned ErrTooLarge,
// Metrics.TooLarge counted it, and no Save could have written it.
func (m *Manager) unsaved(s *Session) string {
	if s.tooLarge && m.tooLarge(s) {
		return ""
	}
	switch {
	case s.changed || s.renewed || s.destroyed || s.touched:
		if m.action(s, nil, s.start()) == actionNone {
			// Nothing for the client to hold (a Destroy of a session it
			// never had, a value set then deleted): a Save writes no line
			// and leaves these flags set. Not given r: a client that went
			// away ends the context while the handler may still write
			// r.Header, which outsidePath reads.
			return ""
		}
		return "a change"
	case m.refreshDue(s, s.start()):
		return "a due rolling refresh (Options.IdleTimeout): unless another Session of this request saved it, the client keeps its idle deadline, and the user is signed out then however active"
	case s.carriedUnwritten():
		return "a session carried from a retired cookie (RetiredCookie.Carry): unless another Session of this request saved it, the client never gets it under the Manager's Name, and the user is signed out once the Retired entry is removed"
	}
	return ""
}

// tooLarge reports whether s's values and lifetime make a token over
// the codec's limit, as a save would find it (Codec.sealBuffer).
func (m *Manager) tooLarge(s *Session) bool {
	rec := Record{Values: s.values, Lifetime: s.lifetime}
	return m.codec.tokenLen(&rec) > m.codec.maxLen
}

// requestEnded returns an error matching ErrHeadersWritten and ctx's
// error if ctx is a request context that net/http's Server has ended: it
// does so as the handler returns, and when the client goes away, and no
// header set after either reaches the client. A context that ended
// otherwise says nothing of the response: one past its deadline
// (http.TimeoutHandler, a router's timeout middleware that still lets the
// handler write), or under a Server whose BaseContext or ConnContext may
// end it early (at shutdown, while handlers still answer).
func requestEnded(ctx context.Context) error {
	err := ctx.Err()
	if !errors.Is(err, context.Canceled) {
		return nil
	}
	if srv, ok := ctx.Value(http.ServerContextKey).(*http.Server); !ok || srv.BaseContext != nil || srv.ConnContext != nil {
		return nil
	}
	return fmt.Errorf("%w: r's context ended (%w): the handler had returned, or the client had gone away, and net/http sends no header set after that (or r carries a context the handler derived and canceled itself); nothing was written: call Save before the handler returns and before it writes the body (a goroutine that outlives the handler cannot set a cookie), with the request net/http gave the handler", ErrHeadersWritten, err)
}

// wrote reports whether line, a Set-Cookie line for one of the Manager's
// names that a save is about to replace, is one the Manager writes: a line
// that expires a cookie, or a token sealed under a key of its ring (the
// token's version byte and key id, read without opening it).
func (m *Manager) wrote(line string) bool {
	if slices.Contains(m.deletes, line) || slices.Contains(m.retiredLines, line) {
		return true
	}
	_, value, _ := strings.Cut(line, "=")
	var head [6]byte // base64url's 8 characters hold the version and key id
	if len(value) < 8 {
		return false
	}
	if _, err := base64.RawURLEncoding.Decode(head[:], []byte(value[:8])); err != nil {
		return false
	}
	return (head[0] == version || head[0] == version2) && m.ring.Has(binary.BigEndian.Uint32(head[1:headerSize]))
}

// SaveHeader is Save for a framework whose response is not a net/http
// ResponseWriter (fiber, a Lambda event): it writes the session's
// Set-Cookie lines, and the Vary and Cache-Control they call for, into h,
// for the caller to copy to its response before the headers are sent.
// A nil h is refused: it has no room for the lines.
func (m *Manager) SaveHeader(h http.Header, s *Session) error {
	m.exists("SaveHeader")
	if h == nil {
		return errors.New("cookiesession: SaveHeader needs a header map to write into: give it http.Header{} and copy its lines to the response (CommitHeader takes nil for a response that carries no cookie)")
	}
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
// X-Forwarded-Proto, X-Forwarded-Scheme, X-Forwarded-Host, Forwarded,
// Origin, Referer,
// Sec-Fetch-Site and User-Agent headers,
// a cookie set in answer to a fetch or an iframe from another site,
// for which it reads Sec-Fetch-Site, -Mode and -Dest, and one set in
// answer to a fetch from another origin whose CORS answer does not allow
// credentials, for which it reads Sec-Fetch-Site, -Mode, Origin and
// Cookie, and h's Access-Control-Allow-Origin and
// Access-Control-Allow-Credentials (so h must hold them when they are
// set), and a session the handler changed on a GET sent ahead of a click
// (a prefetch), for which it reads r's method and its Sec-Purpose,
// Purpose, X-Purpose, X-Moz, X-Sec-Purpose, Next-Router-Prefetch and
// HX-Preloaded headers: a change a SaveHeader wrote before is asked of
// the r CommitHeader gets. A Set-Cookie line in h for one of the session's names that the Manager
// did not write is logged too, with or without r. Of r the log lines also
// take its context and URL path. CommitHeader does not keep r.
//
// The middleware's own session is refused, with nothing written: the
// middleware commits it, and a commit before would fail the middleware's
// with a 500. Save it early with Save or SaveHeader.
func (m *Manager) CommitHeader(h http.Header, s *Session, r *http.Request) error {
	m.exists("CommitHeader")
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
	ended := false // the lines end the session: see answer
	change := s.handlerChange()
	switch act := m.action(s, r, now); act {
	case actionWrite, actionRekey, actionCarry:
		err := m.write(h, s, now, act, buf)
		if errors.Is(err, ErrExpired) {
			m.clear(h, s, r, final, buf) // the session ended: end the cookie, not the response
			err, ended = nil, true
		}
		if err != nil {
			// A Save that failed and the commit after it count one
			// session, whatever the handler changed in between, unless
			// a save that fit came between them.
			if errors.Is(err, ErrTooLarge) && !s.tooLarge {
				s.tooLarge = true
				m.stats.tooLarge.Add(1)
			}
			removeOurs(h, m.lineNames) // the client keeps its previous cookie
			return err
		}
		// It fits now: a change that outgrows the cookies again, and is
		// left unsaved, is lost unsaved (see unsaved).
		s.tooLarge = false
	case actionClear:
		m.clear(h, s, r, final, buf)
		ended = true
		s.tooLarge = false // what did not fit is gone with the session (logLate)
	case actionNone:
		m.unchanged(h, s, r, final, buf)
	}
	if change|s.changeUnasked != 0 {
		m.askSpeculative(s, r, change)
	}
	m.warnWritten(h, s, r, final, ended)
	return nil
}

// unchanged answers for a session the response need not write: lines an
// earlier Save wrote stay the only ones for our names, and a response
// that writes none is checked for what the handler set around it.
func (m *Manager) unchanged(h http.Header, s *Session, r *http.Request, final bool, buf *headerBuf) {
	if s.lines != nil {
		// Saved earlier in this response: drop any line for our names
		// that the handler added since.
		if foreign := setCookies(h, m.lineNames, s.lines, s.lines, buf); foreign != "" {
			m.warnReplaced(s, foreign)
		}
		if final && s.req != nil && slices.Contains(s.lines, m.deletes[0]) {
			m.stats.cleared.Add(1) // a Save's clear, which goes out now (see clear)
		}
		return
	}
	if final && !s.savedBeside && len(h) > 1 {
		// A map that holds only the Vary commit added sets no cookie.
		m.warnForeign(s, h, r)
	}
	if s.chunksSent == 0 {
		m.warnOutsidePath(s, r)
		m.warnCrossSite(s, r)
	}
	switch {
	case s.retired && !s.carriedUnwritten():
		m.expireRetired(h, s, buf) // its lines make every cache field no-store
	case len(h) > 1 && s.req != nil:
		// The middleware's: a Manager stacked outside commits after this
		// one, and its cookie makes the response no-store. The header is
		// asked as it goes out (see responseWriter.sharedStoreSent).
		s.sharedAsked = true
	case len(h) > 1 && (final || r != nil):
		// A map that holds only the Vary commit added lets no cache store
		// it; nor does SaveHeader's, yet: the caller copies it on.
		m.warnSharedStore(h, s, r)
	}
}

// warnWritten logs what keeps the lines written for the response, in
// answer to r, from reaching the client or holding, and notes the retired
// cookies they expire. ended: the lines end the session.
func (m *Manager) warnWritten(h http.Header, s *Session, r *http.Request, final, ended bool) {
	// A response is counted once: the middleware's session at its final
	// commit, as an earlier Save's lines go out with it; a session of
	// Load's at the first save given the request that wrote lines (Save,
	// or CommitHeader after SaveHeader), not again at a CommitHeader after
	// a Save.
	if r != nil && s.lines != nil && (s.req != nil && final || s.req == nil && s.counted&countedDropped == 0) {
		s.counted |= countedDropped
		m.warnPlainHTTP(s, r)
		m.warnDomain(s, r)
		// A request from a page of the server's own origin, or from none
		// (typed, bookmarked) is what neither speaks of: one lookup finds
		// it, on most requests that set a cookie.
		switch site := r.Header["Sec-Fetch-Site"]; {
		case len(site) != 1:
		case site[0] == "cross-site":
			m.warnCrossSiteSet(s, r)
			m.warnCrossOriginSet(s, h, r, site[0])
		case site[0] == "same-site":
			m.warnCrossOriginSet(s, h, r, site[0])
		}
	}
	if s.lines != nil {
		m.warnHeaderSize(s, h, r)
		if s.retired && r != nil {
			m.answer(m.visit(r, s.shadowed), ended) // every line written holds the retired ones
		}
	}
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
	actionCarry        // write a session carried from a retired cookie, keeping the deadline
	actionClear        // expire the client's cookies
)

// action applies the rules for when Set-Cookie is sent: only on a change,
// Renew, Destroy, Touch, a due refresh, a token under an old key or a
// session carried from a retired cookie (unless the request called
// SkipRefresh), or to clear a refused or emptied
// cookie. A session that never held a value
// sends nothing, unless it keeps a Lifetime (see keepLifetime). r is the
// request answered, if known (see outsidePath).
func (m *Manager) action(s *Session, r *http.Request, now time.Time) action {
	empty := s.values.Len() == 0 && !s.keepLifetime
	switch {
	case empty && s.destroyed, empty && s.changed && s.loaded:
		// Destroyed, or its last value removed: the client keeps nothing.
		if s.chunksSent == 0 && s.lines == nil && !s.ignored && m.retiredLines == nil && !m.outsidePath(r) {
			return actionNone // the client holds nothing to expire
		}
		return actionClear
	case empty && !s.loaded:
		if s.refused && (!s.skipRefresh || s.unread == cookieDropped) {
			// Not for a polling read: its clear, landing after a
			// parallel login's cookie, would sign the user out. The
			// next request without SkipRefresh clears it.
			return actionClear
		}
		return actionNone
	case s.changed || s.renewed || s.touched || s.destroyed || s.refused || m.refreshDue(s, now),
		s.retired && s.shadowed && s.loaded && s.lines == nil:
		// The last: a session beside a retired cookie of its own name,
		// which this response expires, moves to the current attributes
		// (unless that cookie came back after such an answer: see visit).
		return actionWrite
	case s.carriedUnwritten() && !s.skipRefresh:
		// Opened from a retired cookie of another Name, which this
		// response expires: the client gets it under the Manager's. Not
		// for a polling read, as for a re-key below: the retired cookie
		// is kept (see unchanged) for the next request to carry.
		return actionCarry
	case s.loaded && !s.skipRefresh && s.keyID != m.ring.primaryAt(now) && !m.incoming(s.keyID, now):
		// Not for a polling read (SkipRefresh): its response, landing
		// after a parallel logout's, would set the session again. The
		// next request of the user's own re-keys it.
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
// allows. With no idle window, it reports whether the token's deadline
// lies before what MaxAge now allows: sealed under a shorter MaxAge (or
// MaxLifetime), raised since or on another instance, whose deadline, and
// its cookie's Max-Age, would end the session early.
func (m *Manager) refreshDue(s *Session, now time.Time) bool {
	maxAge, idle := m.codec.limits(&s.lifetime)
	if !s.loaded || s.skipRefresh {
		return false
	}
	if idle <= 0 {
		return s.created+maxAge > s.expires // codec.expiry, without an idle window
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

// write seals the session and sets its cookies, for act: a write, a
// re-key or a carry. A re-key keeps the token's deadline, as a carry
// does, and so does a change made by a request that called
// SkipRefresh (but never past what the session's lifetime now allows);
// anything else recomputes it. A session that came under an incoming key
// is sealed under that key again.
func (m *Manager) write(h http.Header, s *Session, now time.Time, act action, buf *headerBuf) error {
	rec := Record{ID: s.ensureID(), Created: time.Unix(s.created, 0), Values: s.values, Lifetime: s.lifetime}
	switch {
	case act != actionWrite:
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
	// monotonic-clock and overflow checks. An int64: a deadline kept from
	// the token may lie more than 2^31 seconds (68 years) ahead, which a
	// 32-bit int would wrap into Max-Age=1.
	maxAge := rec.Expires.Unix() - now.Unix()
	if now.Nanosecond() > 0 {
		maxAge--
	}
	browser := m.opts.BrowserSession
	if s.lifetime != (Lifetime{}) {
		browser = s.lifetime.BrowserSession
	}
	lines := m.tokenLines(buf, token, maxAge, browser, int(s.chunksSent))
	if foreign := setCookies(h, m.lineNames, s.lines, lines, buf); foreign != "" {
		m.warnReplaced(s, foreign)
	}
	if act == actionRekey {
		m.stats.resealed.Add(1)
	}
	if s.loaded && !s.isNew && rec.KeyID != s.keyID {
		// Moved to this instance's primary, by a re-key or with a change:
		// an app that writes the session on every request re-keys none.
		// A session Renew or Destroy restarted is created now, not by
		// the instance that sealed the cookie it replaces.
		m.warnSplitPrimary(s, now)
	}
	m.stats.written.Add(1)
	s.saved(&rec, lines)
	return nil
}

// tokenLines returns, in buf's room, the Set-Cookie lines that give the
// client token: the retired names' expiries, the token's chunks, and the
// expiries of the chunks above those that may be stale. sent counts the
// chunks the request carried.
func (m *Manager) tokenLines(buf *headerBuf, token []byte, maxAge int64, browser bool, sent int) []string {
	// The chunks above the token's are expired: those the request carried
	// and, for a token over several cookies, every one. Of two parallel
	// responses, the one with fewer chunks may land last, and the other's
	// higher chunks would spoil the token it leaves; a token of one cookie
	// is read alone beside them (FORMAT.md section 5, step 5).
	chunks, stale := m.chunksFor(len(token)), sent
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
	return append(lines, m.deletes[chunks:max(chunks, stale)]...)
}

// clear expires every chunk cookie the client sent, up to the highest,
// in answer to r. Chunks sent without the first stay, as load leaves them
// (see headless): a line for the first, or for one of them, could reach
// only a session that a parallel response set meanwhile; lines a Save
// wrote earlier in this response are dropped all the same. A clear that
// expires the first chunk is counted (Metrics.Cleared) when it is
// written, or for the middleware's session at its final commit: a Save's
// clear that a later change replaces, or that a panic removes, never
// reaches the client. A session from Load has no final commit to wait
// for.
func (m *Manager) clear(h http.Header, s *Session, r *http.Request, final bool, buf *headerBuf) {
	n := max(int(s.chunksSent), 1)
	switch {
	case s.chunksSent == 0 && s.lines == nil:
		// Destroyed on a path outside the cookie's (see outsidePath), or
		// on a request whose cookies were too many to read: the client may
		// hold any of the chunks, unseen.
		n = len(m.deletes)
	case m.sentHeadless(r, s):
		n = 0
	}
	// A retired cookie of the session's name would open after a logout,
	// wherever the browser still sends it: every one is expired.
	lines := append(buf.setCookieLines(n+len(m.retiredLines)), m.deletes[:n]...)
	lines = append(lines, m.retiredLines...)
	if foreign := setCookies(h, m.lineNames, s.lines, lines, buf); foreign != "" {
		m.warnReplaced(s, foreign)
	}
	if n > 0 && (final || s.req == nil) {
		m.stats.cleared.Add(1)
	}
	s.cleared(lines)
}

// sentHeadless reports whether r carried chunk cookies of the session's
// name but not the first. Without r (SaveHeader), or with an r whose
// Cookie lines are not those s was read from (an adapter's copy without
// them), it cannot tell, and reports false.
func (m *Manager) sentHeadless(r *http.Request, s *Session) bool {
	if r == nil || s.chunksSent < 2 { // 1: the first alone
		return false
	}
	var sent uint64
	for name := range requestCookies(r.Header["Cookie"]) {
		if i := m.chunkIndex(name); i >= 0 {
			sent |= 1 << i
		}
	}
	return sent&1 == 0 && bits.Len64(sent) == int(s.chunksSent)
}
