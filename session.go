package cookiesession

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// flashKey is the value under which AddFlash keeps its messages.
const flashKey = "_flash"

// Session is one request's view of a session: its values and metadata. Get
// it with FromContext inside the middleware, or from Manager.Load. The zero
// Session belongs to no Manager: it holds values, no Manager saves it (Save
// returns an error), and SetLifetime, whose limits are a Manager's Options,
// panics naming the fix. It is safe
// for concurrent use by the goroutines of one request. Changes reach the
// client when the response is committed (or at Manager.Save); two parallel
// requests from one client each write a whole cookie, and the last one wins.
type Session struct {
	mu       sync.Mutex
	mgr      *Manager      // loads and saves this session
	req      *http.Request // the middleware's request, whose cookie is opened at first use
	outer    *Session      // a stacked Manager's session, if any
	lifetime Lifetime
	values   Values
	id       SessionID
	created  int64 // Unix seconds
	expires  int64 // Unix seconds; 0 until the session is saved
	// startSec and startNsec are the request's start: every decision about
	// the session is made as of that instant.
	startSec  int64
	keyID     uint32
	startNsec int32

	// What the client holds:
	chunksSent int8 // how many of our chunk cookies the request carried (at most 64)
	shadowed   bool // the request carried two values for one of our names
	ignored    bool // the request's cookies were too many to read: it may carry any of ours
	retired    bool // the request carried a cookie of Options.Retired that its lines may reach
	unread     unreadCookie
	// What the handler changed, for warnSpeculative (kept in this word,
	// which chunksSent's int8 leaves room in): flash, whether Flashes, Pop
	// or PopString took a value, and whether AddFlash added one that
	// Destroy or Clear would drop; changeUnasked, changes saved without a
	// request to ask whether it was sent ahead of a click (SaveHeader),
	// for the next commit given one.
	flash         flashUse
	changeUnasked sessionChange
	// sharedAsked: the middleware's commit wrote no cookie, and the header
	// is to be asked whether a shared cache may serve it (see
	// responseWriter.sharedStoreSent) once it has gone out.
	sharedAsked bool
	lines       []string  // the Set-Cookie lines written for this response, if any
	out         headerBuf // backs the one-line headers of the session's first save

	pending      bool // the middleware has not opened the cookie yet
	sent         bool // the middleware committed the response: changes can no longer reach the client
	skipRefresh  bool // SkipRefresh called
	isNew        bool
	changed      bool // values changed
	keepLifetime bool // SetLifetime gave a Lifetime, or a token with no values carried one: a session with no values is saved to carry it
	renewed      bool // Renew called: new id and created
	destroyed    bool // Destroy called
	touched      bool // Touch called
	loaded       bool // a valid cookie was loaded or saved: the client holds this session
	refused      bool // the incoming cookie was refused and must be cleared
	outLent      bool // out backs a save's headers: later saves get their own
	savedBeside  bool // Save wrote this Manager's cookie from a session Load made of another request
	// tooLarge: the last save did not fit and was counted. A retry, after
	// a change that still does not fit too, is the same session.
	tooLarge bool
	// counted: the counters this response was counted in, each once
	// however many saves write or ask it (see countOnce); countedDropped:
	// a save given the request checked its lines for browsers that drop
	// them (Metrics.Dropped).
	counted responseCount
	// readLate: this use opened the session after the response went out
	// (warnReadLate), counted in Metrics.ReadLate at unlock unless it
	// turned out to be a change (dropReadLate).
	readLate bool
	// The flags above sit together: the middleware's request state, which
	// holds the Session, stays within one 640-byte allocation class.

	logs    []logLine // lines logged under the lock, written by unlock
	loadErr error     // why the request's cookie was refused, for Load
}

// start returns the instant the request started.
func (s *Session) start() time.Time { return time.Unix(s.startSec, int64(s.startNsec)) }

// unixTime is time.Unix(sec, 0), or the zero Time for 0.
func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// Get returns the value stored under key.
func (s *Session) Get(key string) (any, bool) {
	s.lock()
	defer s.unlock()
	return s.values.Get(key)
}

// Has reports whether key holds a value.
func (s *Session) Has(key string) bool {
	s.lock()
	defer s.unlock()
	_, ok := s.values.lookup(key)
	return ok
}

// Set stores v under key. The types a session can hold are those of
// [Values]; any other type is refused here, with an error wrapping
// ErrUnsupportedType, rather than when the response is written, and the
// refusal is logged at Warn, once per key and type (past 64 of those,
// once a minute). Use SetJSON for structs. Setting the value a key
// already holds is not a change, so it does not make the response carry
// the cookie.
func (s *Session) Set(key string, v any) error {
	var e entry
	err := e.set(key, v)
	s.lock()
	defer s.unlock()
	if err != nil {
		s.refusedSet(key, v, err)
		return err
	}
	if s.values.put(&e) { // the value it already holds is not a change
		s.markChanged()
	}
	return nil
}

func (s *Session) markChanged() {
	s.changed = true
	s.bump()
}

// bump notes a change the response must carry. Once the middleware has
// committed the response no change reaches the client, and the first one
// is logged.
func (s *Session) bump() {
	if s.sent && s.counted&countedLost == 0 {
		s.counted |= countedLost
		s.logLate()
	}
}

// logLate logs, and counts in Metrics.Lost, the first change that can no
// longer reach the client. A session the middleware marked sent without
// committing its response was ended by a panic: the change came from a
// recoverer outside the middleware (gin's or echo's, whose context still
// holds the request).
func (s *Session) logLate() {
	s.dropReadLate()
	ctx, path := s.origin()
	msg := "cookiesession: session changed after the response was committed; the change was not saved (at warn level once a minute, the others at debug)"
	// The commit may have been an http.TimeoutHandler's 503 inside the
	// middleware, written while the handler ran on: a handler that wrote
	// nothing would not recognise itself in the first half of the fix.
	fix := "change the session, and read Flashes, before the handler writes the status or the body, and not after it returns; a handler inside an http.TimeoutHandler that has answered 503 can no longer change it: stop its work when r.Context() is done"
	if s.req == nil {
		// A session from Load: CommitHeader committed it, or net/http
		// ended its request (see Manager.warnUnsaved).
		msg = "cookiesession: a session from Load changed after the response was committed (by CommitHeader) or its request ended (the handler returned, or the client went away); the change was not saved (at warn level once a minute, the others at debug)"
		fix = "change the session and call Save before the handler returns and before it writes the status or the body; a goroutine that outlives the handler cannot change what the client holds"
	}
	reason := lostAfterCommit
	st, ok := ctx.(*requestState)
	if s.tooLarge || ok && st.writer.err != nil {
		// The save failed: an ErrorHandler that trims a session too large,
		// or adds a flash, was told of a handler that wrote too soon. The
		// writer's err tells a failure of any kind (a clock before 1970);
		// it is set under s's lock, held here.
		msg = "cookiesession: session changed after its save failed; the change was not saved, and the client keeps its previous cookie (at warn level once a minute, the others at debug)"
		fix = "the ErrorHandler (Options.ErrorHandler, or an adapter's) and the handler after it cannot change the session whose save failed: answer with a redirect to a page that makes the change (one that deletes the values that did not fit, and adds a flash)"
	}
	if ok && !st.writer.committed {
		reason = lostAfterPanic
		msg = "cookiesession: session changed after the handler panicked; the change was not saved (at warn level once a minute, the others at debug)"
		fix = "to store in the session while answering a panic, put the recoverer inside the session middleware (in gin or echo, Use it after the session middleware); there, what the handler stored before the panic goes out too"
	}
	s.mgr.stats.lost[reason].Add(1)
	level := s.mgr.changedLate.level(slog.LevelWarn, s.mgr.opts.Now())
	s.log(ctx, level, msg, slog.String("path", path), callerAttr(level), slog.String("fix", fix))
}

// refusedSet logs a value Set refused, once per key and type (see
// causes): code ported from a store whose Set takes anything (gorilla's
// Values map, gin-contrib's Set) drops the error, and the value is lost
// unseen; another key refused, in other code, is another mistake. s's
// lock is held.
func (s *Session) refusedSet(key string, v any, err error) {
	if s.mgr == nil {
		return // the zero Session: no Manager to log through; Set returns err
	}
	s.logRefusedValue(&s.mgr.refusedSets, key, v, err, "cookiesession: Session.Set refused a value, which the session does not hold (logged once per key and type; past 64 of them, at warn level once a minute, the others at debug; Set returns the error)",
		slog.String("fix", "check Set's error; "+setFix(v, key)))
}

// refusedValue is a cause of the lines of a value Set or SetJSON refused:
// the key (cut by logText) and the value's type.
type refusedValue struct {
	key string
	typ reflect.Type
}

func (r refusedValue) detach() refusedValue {
	r.key = strings.Clone(r.key)
	return r
}

// detach makes Lifetime a cause of SetLifetime's refusal line.
func (l Lifetime) detach() Lifetime { return l }

// logRefusedValue logs, once per key and type in logged, a value that Set
// or SetJSON refused with err, with msg and attrs after the key, type and
// error. err quotes the key in full, so a key built from request data is
// cut there as in the key's attribute: each such key may get its line.
func (s *Session) logRefusedValue(logged *causes[refusedValue], key string, v any, err error, msg string, attrs ...slog.Attr) {
	shown := logText(key)
	level, ok := logged.level(refusedValue{shown, reflect.TypeOf(v)}, slog.LevelWarn, s.mgr.opts.Now)
	if !ok {
		return
	}
	text := err.Error()
	if shown != key {
		text = strings.Replace(text, strconv.Quote(key), strconv.Quote(shown), 1)
	}
	s.logRefused(level, msg, append([]slog.Attr{slog.String("key", shown), slog.String("type", fmt.Sprintf("%T", v)), slog.String("error", text)}, attrs...)...)
}

// logRefused logs a refused call at level, with the path of s's request
// and the line of code that made it.
func (s *Session) logRefused(level slog.Level, msg string, attrs ...slog.Attr) {
	ctx, path := s.origin()
	s.log(ctx, level, msg, append(attrs, slog.String("path", path), callerAttr(level))...)
}

// origin returns the context and path of the request the middleware
// serves with s, or Background and "" for a session from Load.
func (s *Session) origin() (context.Context, string) {
	if s.req == nil {
		return context.Background(), ""
	}
	return s.req.Context(), urlPath(s.req)
}

// Delete removes key. A session whose cookie this instance could not read
// but kept (a key id the ring lacks, a clock ahead, more chunks than
// MaxChunks: see Clear) has its cookie expired, unless values are stored
// in this request.
func (s *Session) Delete(key string) {
	s.lock()
	defer s.unlock()
	if s.values.Delete(key) {
		s.emptied()
		s.markChanged()
	}
	s.dropUnread() // a value stored in this request and deleted leaves nothing to keep the cookie for
}

// emptied is called after a value is removed: a session left with no
// values has its cookie expired, Lifetime or not, as a logout that
// deletes the user id in a request whose middleware sets the Lifetime
// expects (TestLifetimeEveryRequestLogoutByDelete). A SetLifetime after
// it keeps the Lifetime again. s's lock is held.
func (s *Session) emptied() {
	if s.values.Len() == 0 {
		s.keepLifetime = false
	}
}

// Clear removes every value. A session left with no values has its cookie
// expired, as after Destroy, unless values are stored again in this
// request: they keep the session's id and Lifetime. So does one whose
// cookie this instance could not read but kept, as it may open elsewhere
// (a key id the ring lacks, during a rotation, a token from a clock
// ahead, or one over more chunks than MaxChunks, lowered during a
// rollout): a logout written as Clear or Delete would otherwise leave the
// user signed in on the instances that can read it.
func (s *Session) Clear() {
	s.lock()
	defer s.unlock()
	s.warnFlashDropped("Clear")
	if s.values.Len() > 0 {
		s.values = Values{}
		s.markChanged()
	}
	if s.keepLifetime { // a Lifetime alone no longer keeps the cookie
		s.keepLifetime = false
		s.markChanged()
	}
	s.dropUnread() // so do values a middleware stored in this request
}

// unreadCookie says whether the request's cookie was refused but kept.
type unreadCookie uint8

const (
	cookieNotKept unreadCookie = iota
	// cookieKept: refused but kept, as it may open elsewhere (a key id
	// the ring lacks): a Delete or Clear clears it.
	cookieKept
	// cookieDropped: kept, then a Delete or Clear asked to clear it
	// (dropUnread), which a polling read does too (see action).
	cookieDropped
)

// dropUnread makes the response clear a refused cookie that was kept
// unread, for a Delete or Clear, which mean to remove what it holds.
func (s *Session) dropUnread() {
	if s.unread == cookieKept {
		s.unread, s.refused = cookieDropped, true
		s.bump()
	}
}

// Keys returns the keys in ascending order.
func (s *Session) Keys() []string {
	s.lock()
	defer s.unlock()
	return s.values.Keys()
}

// Len returns the number of values.
func (s *Session) Len() int {
	s.lock()
	defer s.unlock()
	return s.values.Len()
}

// Pop returns the value under key and deletes it: a read that happens once.
func (s *Session) Pop(key string) (any, bool) {
	s.lock()
	defer s.unlock()
	v, ok := s.values.Get(key)
	if ok {
		s.values.Delete(key)
		s.emptied()
		s.flash |= flashTaken
		s.markChanged()
	}
	return v, ok
}

// PopString is Pop for a string value; it returns "" (and deletes nothing)
// if key is missing or holds another type, which is logged as the typed
// getters log it.
func (s *Session) PopString(key string) string {
	s.lock()
	defer s.unlock()
	e, ok := s.values.lookup(key)
	if !ok || e.kind != kindString {
		if ok {
			s.wrongType("PopString", key, &e)
		}
		return ""
	}
	str := e.str
	s.values.Delete(key)
	s.emptied()
	s.flash |= flashTaken
	s.markChanged()
	return str
}

// AddFlash appends a message to be shown once, on a later request, under
// the key "_flash", which it replaces if it holds anything other than a
// list of messages, and logs that at Warn, once per stored type: leave
// that key to AddFlash and Flashes.
func (s *Session) AddFlash(msg string) {
	s.lock()
	defer s.unlock()
	var list []string
	if e, ok := s.values.lookup(flashKey); ok && e.kind == kindStrings {
		list = e.val.([]string)
	} else if ok {
		s.flashReplaced(&e)
	}
	list = append(slices.Clip(list), msg)
	s.values.put(&entry{key: flashKey, kind: kindStrings, val: list})
	s.flash |= flashAdded
	s.markChanged()
}

// flashReplaced logs that AddFlash replaced e, under "_flash", which held
// no list of messages: a value stored there by other code (or at the edge,
// or by an older release) is lost. It is logged once per stored type, as
// wrongType logs a read; the value is not logged. s's lock is held.
func (s *Session) flashReplaced(e *entry) {
	if s.mgr == nil {
		return
	}
	level, ok := s.mgr.wrongTypes.level(wrongRead{"AddFlash", flashKey, len(flashKey), e.kind}, slog.LevelWarn, s.mgr.opts.Now)
	if !ok {
		return
	}
	s.logRefused(level, "cookiesession: Session.AddFlash replaced the value under the key, which was not its list of messages, and that value is lost (logged once per stored type; past 64 causes, at warn level once a minute, the others at debug)",
		slog.String("key", flashKey), slog.String("holds", fmt.Sprintf("%T", e.value())),
		slog.String("fix", `leave the key "_flash" to AddFlash and Flashes, and store other values under other keys`))
}

// Flashes returns the flash messages and removes them, so each is seen once.
// A "_flash" that holds anything other than AddFlash's list holds no
// messages: Flashes returns nil and leaves it, and logs that as the typed
// getters log a value of another type.
func (s *Session) Flashes() []string {
	s.lock()
	defer s.unlock()
	e, ok := s.values.lookup(flashKey)
	if !ok || e.kind != kindStrings {
		if ok {
			s.wrongType("Flashes", flashKey, &e)
		}
		return nil
	}
	list := e.val.([]string)
	s.values.Delete(flashKey)
	s.emptied()
	s.flash = s.flash&^flashAdded | flashTaken
	s.markChanged()
	return list
}

// flashUse is what the handler did with the flash messages this request.
type flashUse uint8

const (
	flashTaken flashUse = 1 << iota // Flashes, Pop or PopString took a value (warnSpeculative)
	flashAdded                      // AddFlash added a message that Flashes has not taken since
)

// warnFlashDropped logs, once per line of code, a Destroy or Clear (op)
// that drops a message AddFlash added in this request: a logout written
// as AddFlash("Signed out") then Destroy shows no message, and nothing
// else says why. A message the request's cookie brought is not logged: no
// line of this handler can move it. s's lock is held.
func (s *Session) warnFlashDropped(op string) {
	if s.flash&flashAdded == 0 || s.mgr == nil {
		return
	}
	s.flash &^= flashAdded
	if e, ok := s.values.lookup(flashKey); !ok || e.kind != kindStrings || len(e.val.([]string)) == 0 {
		return // Delete or Pop took them
	}
	caller, level, ok := s.mgr.droppedFlashes.level(slog.LevelWarn, s.mgr.opts.Now)
	if !ok {
		return
	}
	ctx, path := s.origin()
	s.log(ctx, level, "cookiesession: Session."+op+" dropped the flash messages AddFlash added in this request, which no page will show (logged once per call site; past 64 of them, at warn level once a minute, the others at debug)",
		slog.String("path", path), slog.String("caller", caller.String()),
		slog.String("fix", "call AddFlash after "+op+": a message added after it is carried to the next page"))
}

// Destroy ends the session: its values and Lifetime are dropped and every
// cookie chunk is expired in the response. Values set after Destroy start a
// new session with a new id.
func (s *Session) Destroy() {
	s.lock()
	defer s.unlock()
	s.warnFlashDropped("Destroy")
	s.values, s.lifetime, s.keepLifetime = Values{}, Lifetime{}, false
	s.destroyed = true
	s.restart()
	s.bump()
}

// Renew gives the session a new id and a new creation time and keeps its
// values and its Lifetime: call it when the user's privileges change, such as at login, to
// defeat session fixation. express-session's regenerate also drops the
// values and the Lifetime, as Destroy then storing does. The values kept
// are those of the cookie the browser brought, which someone
// else may have planted: replace any that guard the user (a CSRF token),
// or call Clear first.
func (s *Session) Renew() {
	s.lock()
	defer s.unlock()
	s.renewed = true
	s.restart()
	s.bump()
}

// restart begins a new session lifetime; the id is drawn when first needed.
func (s *Session) restart() {
	s.id = SessionID{}
	s.created = s.startSec
	s.expires = 0
	s.isNew = true
}

// SetLifetime gives the session a lifetime of its own, such as a longer one
// for "remember me", or a browser-session cookie. It is sealed inside the
// token, survives re-seals and Renew, and is enforced like the Manager's
// defaults; Options.MaxLifetime bounds it, and a Lifetime beyond that is
// logged at warn level as it is set. A session with a Lifetime is
// sealed as a version 2 token (FORMAT.md), which releases before this one
// cannot open. It fails for a negative duration or one that is not a whole
// number of seconds (30*24*3600*1000, express-session's milliseconds, is
// 2.592s as a time.Duration), for an IdleTimeout longer than the MaxAge
// that applies (the Lifetime's, or else Options.MaxAge), which would end
// the session first however active it is, as New refuses in Options (an
// equal one turns Options.IdleTimeout off for this session), for a
// persistent cookie that would outlast what browsers keep (an IdleTimeout
// over 400 days, or a MaxAge over 400 days with no IdleTimeout, each the
// Lifetime's or else the Options'), as New refuses in Options, and for a
// MaxAge the session has already outlived (Renew first restarts it). Under
// Options.BrowserSession, a Lifetime with no duration and BrowserSession
// false (scs's RememberMe(true)) still makes the cookie persistent: it is
// kept with Options.MaxAge as its MaxAge (MaxLifetime, if SetMaxLifetime
// lowered that below), since a zero Lifetime would follow the Options'
// browser-session cookie. A refusal is also logged at Warn, once per
// Lifetime refused (past 64 of those, once a minute). A session that holds
// no values yet is still saved, to carry the Lifetime (a "remember me" box
// ticked a request before the user id is stored), until Clear or Destroy
// empties it; a session whose last value is deleted (Delete, Pop, Flashes)
// has its cookie expired, Lifetime or not, unless SetLifetime is called
// after (TestLifetimeBeforeValuesKept, TestLifetimeEveryRequestLogoutByDelete).
func (s *Session) SetLifetime(l Lifetime) error {
	switch {
	case s == nil: // before the checks of l, as every method's lock
		panic(errNoSession)
	case s.mgr == nil:
		panic(errNoManager)
	}
	err := s.setLifetime(l)
	if err != nil {
		// Ported code drops the error (fiber's SetIdleTimeout, scs's
		// RememberMe return nothing), and "remember me" is lost unseen.
		s.lock()
		defer s.unlock()
		if level, ok := s.mgr.refusedLifetimes.level(l, slog.LevelWarn, s.mgr.opts.Now); ok {
			s.logRefused(level, "cookiesession: Session.SetLifetime refused a lifetime, and the session keeps the one it had (logged once per Lifetime; past 64 of them, at warn level once a minute, the others at debug; SetLifetime returns the error)",
				slog.Duration("max_age", l.MaxAge), slog.Duration("idle_timeout", l.IdleTimeout), slog.Bool("browser_session", l.BrowserSession),
				slog.String("error", err.Error()), slog.String("fix", "check SetLifetime's error, which says what to change"))
		}
	}
	return err
}

func (s *Session) setLifetime(l Lifetime) error {
	if err := errors.Join(wholeSeconds("SetLifetime: MaxAge", l.MaxAge), wholeSeconds("SetLifetime: IdleTimeout", l.IdleTimeout)); err != nil {
		return err
	}
	if err := l.check("SetLifetime"); err != nil {
		return err
	}
	s.lock()
	defer s.unlock()
	if l == (Lifetime{}) && s.mgr.opts.BrowserSession {
		// The zero Lifetime is the token's "follow the Options", which here
		// means a browser-session cookie: the persistent one asked for
		// needs a Lifetime the token carries (FORMAT.md section 3).
		l.MaxAge = min(s.mgr.codec.maxAge, s.mgr.codec.ceilingDuration())
	}
	if maxAge := cmp.Or(l.MaxAge, s.mgr.codec.maxAge); l.IdleTimeout > maxAge {
		return fmt.Errorf("cookiesession: SetLifetime: IdleTimeout %v is longer than the session's MaxAge %v (the Lifetime's, or else Options.MaxAge), which would end it first however active it is; set Lifetime.MaxAge at least as long",
			l.IdleTimeout, maxAge)
	}
	if !l.BrowserSession {
		// Asked of the Lifetime, not cut to MaxLifetime: SetMaxLifetime may
		// raise the ceiling while the token carries the Lifetime.
		opts := &s.mgr.opts
		if err := checkBrowserMaxAge("SetLifetime: the session's ", cmp.Or(l.MaxAge, opts.MaxAge), cmp.Or(l.IdleTimeout, opts.IdleTimeout)); err != nil {
			return err
		}
	}
	if maxAge, _ := s.mgr.codec.limits(&l); s.created+maxAge <= s.startSec {
		// Sealed, it would expire at once, and the response clear the
		// cookie: the handler's intent would end the session unsaid.
		return fmt.Errorf("cookiesession: SetLifetime: the session began %v ago, so a MaxAge of %v would end it at once; call Renew first to start it anew",
			time.Duration(s.startSec-s.created)*time.Second, time.Duration(maxAge)*time.Second)
	}
	if ceiling := s.mgr.codec.ceilingDuration(); l.MaxAge > ceiling || l.IdleTimeout > ceiling {
		ctx, _ := s.origin()
		s.log(ctx, s.mgr.lifetimeCut.level(slog.LevelWarn, s.mgr.opts.Now()), "cookiesession: SetLifetime asks for more than MaxLifetime allows; the session is cut to MaxLifetime (at warn level once a minute, the others at debug)",
			slog.Duration("max_age", l.MaxAge), slog.Duration("idle_timeout", l.IdleTimeout), slog.Duration("max_lifetime", ceiling),
			slog.String("fix", "raise Options.MaxLifetime, or call Manager.SetMaxLifetime"))
	}
	// A session with no values sends no cookie, but one given a Lifetime
	// does: a "remember me" set a request before the user id is stored
	// would otherwise be lost unsaid (TestLifetimeBeforeValuesKept).
	s.keepLifetime = l != Lifetime{}
	if s.lifetime != l {
		s.lifetime = l
		s.markChanged()
	}
	return nil
}

// Lifetime returns the session's own lifetime, as SetLifetime gave it or
// the incoming cookie carried it; zero for a session that follows the
// Manager's Options (express-session's req.session.cookie.maxAge). After
// SetLifetime(Lifetime{}) under Options.BrowserSession it holds
// Options.MaxAge, or a MaxLifetime lowered below it (see SetLifetime).
func (s *Session) Lifetime() Lifetime {
	s.lock()
	defer s.unlock()
	return s.lifetime
}

// SkipRefresh keeps this request from sliding the idle window: a polling
// endpoint that reads the session should not keep it alive for ever. A
// change still re-seals the cookie, with the deadline it had (the earlier
// one a since-shortened MaxAge or IdleTimeout sets, if earlier); Renew and
// Touch re-seal it with a new one. In a request that changes nothing, a
// token under a key promoted since is not re-keyed, a session carried from
// an Options.Retired cookie is not written under the Manager's Name (the
// retired cookie is kept), and a refused cookie (an ended browser-session
// one) is not cleared, until a request without SkipRefresh. Its response may land after one that a
// parallel request answered, a logout or a login, and would undo it. Call it
// before Save and before the response is committed (the first Write or
// Flush of a stream): the cookie saved or sent before was sealed without
// it, and a later call, when that cookie slid the idle window of a session
// the client held, is logged at Warn, once a minute, as a change after the
// commit is.
func (s *Session) SkipRefresh() {
	s.lock()
	defer s.unlock()
	if !s.skipRefresh && s.slid() {
		when := "the response was committed; the cookie that went out"
		if !s.sent {
			when = "Save wrote the session's cookie; that cookie"
		}
		ctx, path := s.origin()
		level := s.mgr.skippedLate.level(slog.LevelWarn, s.mgr.opts.Now())
		s.log(ctx, level, "cookiesession: SkipRefresh called after "+when+" was sealed without it, and may have slid the idle window (at warn level once a minute, the others at debug)",
			slog.String("path", path), callerAttr(level),
			slog.String("fix", "call SkipRefresh first, before Save and before the handler writes the status or the body"))
	}
	s.skipRefresh = true
}

// Touch forces the cookie to be re-sealed, and its idle deadline extended,
// in this response, if the session has values.
func (s *Session) Touch() {
	s.lock()
	defer s.unlock()
	s.touched = true
	s.bump()
}

// Format prints "cookiesession.Session" for every verb, so that a Session
// given to fmt or log/slog shows neither its values nor the token of its
// cookie, a bearer credential that its Set-Cookie lines hold.
func (s *Session) Format(f fmt.State, verb rune) { io.WriteString(f, "cookiesession.Session") }

// ID returns the session id as 32 hex digits. A new session draws its id on
// first use, and keeps it only once a cookie carries it: a session that
// stores no value (nor a Lifetime: see SetLifetime) sets no cookie, so each
// request's ID differs until one does. From then on it is the same on
// every request, until Renew or Destroy draws another, or a request leaves
// the session with no values, which expires its cookie: the next value
// stored starts a session with another id (express-session keeps an
// emptied session's id). To record the session a logout ends (for
// Validate), call ID before Destroy: after it, ID returns the id of the
// session that a value stored next would start, and such a call, before
// any value is stored, is logged at Warn once per line of code, unless a
// log/slog Handler makes it to tag a line (a slog.LogValuer that calls it
// is still logged).
func (s *Session) ID() string {
	s.lock()
	defer s.unlock()
	s.warnEndedID()
	return s.ensureID().String()
}

// warnEndedID logs, once per line of code, an ID asked after Destroy and
// before anything is stored: that id belongs to no session, and is not
// the one Destroy ended. A logout that records it in Validate's list of
// ended sessions records nothing, and a request that answers after the
// logout signs the user in again (TestIDAfterDestroyWarns). s's lock is
// held.
func (s *Session) warnEndedID() {
	if !s.destroyed || s.values.Len() > 0 || s.sent || s.mgr == nil || taggingLogLine() {
		return
	}
	caller, level, ok := s.mgr.endedIDs.level(slog.LevelWarn, s.mgr.opts.Now)
	if !ok {
		return
	}
	ctx, path := s.origin()
	s.log(ctx, level, "cookiesession: Session.ID called after Destroy returns a new id, not the one of the session Destroy ended: recorded as ended (Options.Validate), it ends nothing, and a request answered after the logout signs the user in again (logged once per call site; past 64 of them, at warn level once a minute, the others at debug)",
		slog.String("path", path), slog.String("caller", caller.String()),
		slog.String("fix", "call ID before Destroy to record the session the logout ends"))
}

// taggingLogLine reports whether a log/slog Logger is on the calling
// goroutine's stack: ID asked by a Handler that tags each line with the
// session's id (as Options.Logger allows, or the application's own), which
// records nothing as ended, and would otherwise be warned about at the
// first line logged after a Destroy (TestIDAfterDestroyTaggedLogSilent).
// Not when ID's caller is a LogValue method: a slog.LogValuer on a line's
// attributes records the session the line is about, the logout's own
// record of the session it ends (TestIDAfterDestroyLogValuerWarns).
func taggingLogLine() bool {
	var pcs [64]uintptr
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs[:])])
	caller := true // the first frame outside this package is ID's caller
	for {
		f, more := frames.Next()
		if caller && !strings.HasPrefix(f.Function, "github.com/seed-ff2808ae/cookiesession.") {
			if strings.HasSuffix(f.Function, ".LogValue") {
				return false
			}
			caller = false
		}
		if strings.HasPrefix(f.Function, "log/slog.") {
			return true
		}
		if !more {
			return false
		}
	}
}

func (s *Session) ensureID() SessionID {
	if s.id == (SessionID{}) {
		s.id = newSessionID()
	}
	return s.id
}

// IsNew reports whether the session did not come from a valid cookie, or
// was restarted by Renew or Destroy in this request.
func (s *Session) IsNew() bool {
	s.lock()
	defer s.unlock()
	return s.isNew
}

// CreatedAt returns when the session began (for a new session, when this
// request loaded it), in whole seconds, as tokens carry it: compare a
// revocation time with a login time stored in the session instead.
func (s *Session) CreatedAt() time.Time {
	s.lock()
	defer s.unlock()
	return time.Unix(s.created, 0)
}

// ExpiresAt returns the current token's deadline, or the earlier end that
// a MaxAge or MaxLifetime lowered since it was sealed sets; zero for a
// session that has not been saved yet.
func (s *Session) ExpiresAt() time.Time {
	s.lock()
	defer s.unlock()
	return unixTime(s.expires)
}

// KeyID returns the id of the key the incoming cookie was sealed with, or
// of the key the session was last saved with; 0 for a session that came
// from no cookie and was not saved (Renew and Destroy keep the id).
func (s *Session) KeyID() uint32 {
	s.lock()
	defer s.unlock()
	return s.keyID
}

// savedLines returns the Set-Cookie lines a save put into a header map.
func (s *Session) savedLines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lines
}

// slid reports whether the lines written for this response slid the idle
// window of a session the client held, as SkipRefresh would have kept it
// from doing: they carry the deadline a re-seal now gives, and the window
// could move. A new or renewed session, a clear and a re-key slide none.
func (s *Session) slid() bool {
	if s.lines == nil || !s.loaded || s.isNew {
		return false
	}
	_, idle := s.mgr.codec.limits(&s.lifetime)
	return idle > 0 && s.expires == s.mgr.codec.expiry(time.Unix(s.created, 0), s.start(), &s.lifetime).Unix()
}

// wroteCookie reports whether a save put the session's cookie lines, or
// the lines clearing it, into a header map.
func (s *Session) wroteCookie() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lines != nil
}

// adopt fills a fresh session from an opened record.
func (s *Session) adopt(rec *Record) {
	s.values, s.id, s.created, s.expires, s.keyID = rec.Values, rec.ID, rec.Created.Unix(), rec.Expires.Unix(), rec.KeyID
	s.lifetime, s.isNew, s.loaded = rec.Lifetime, false, true
	s.keepLifetime = rec.Values.Len() == 0 && rec.Lifetime != Lifetime{}
}

// reset makes s a new empty session, keeping what it knows of the request.
func (s *Session) reset(now time.Time) {
	s.values, s.id, s.created, s.expires, s.keyID = Values{}, SessionID{}, now.Unix(), 0, 0
	s.lifetime, s.isNew, s.loaded, s.keepLifetime = Lifetime{}, true, false, false
}

// snapshot returns an unlocked copy of s for Validate to read, so that
// Validate can call s's methods while the opening holds s's lock.
func (s *Session) snapshot() *Session {
	return &Session{mgr: s.mgr, lifetime: s.lifetime, values: s.values, id: s.id, created: s.created,
		expires: s.expires, startSec: s.startSec, startNsec: s.startNsec, keyID: s.keyID, loaded: true}
}

// saved records that the response now carries rec in lines. chunksSent
// keeps the request's count: only the last lines written reach the client,
// so every write must still expire the chunks the request carried.
func (s *Session) saved(rec *Record, lines []string) {
	s.id, s.created, s.expires, s.keyID = rec.ID, rec.Created.Unix(), rec.Expires.Unix(), rec.KeyID
	s.lines, s.loaded, s.unread = lines, true, cookieNotKept
	s.changed, s.renewed, s.touched, s.destroyed, s.refused = false, false, false, false, false
	s.flash &^= flashTaken
}

// cleared records that the response now expires the client's cookies.
func (s *Session) cleared(lines []string) {
	s.lines, s.loaded, s.unread = lines, false, cookieNotKept
	s.changed, s.renewed, s.touched, s.destroyed, s.refused, s.keepLifetime = false, false, false, false, false, false
	s.flash &^= flashTaken
}
