// Package fibersession is cookiesession's middleware for fiber v3, native
// over fasthttp: no net/http round trip on the request path.
//
//	app.Use(fibersession.New(m))
//	app.Get("/", func(c fiber.Ctx) error {
//		s := fibersession.Get(c, m)
//		return c.SendString(s.GetString("user"))
//	})
//
// As with the net/http middleware, the cookie is opened at the session's
// first use (the first Get), and only a request that used its session
// gets Set-Cookie, Vary or Cache-Control changes. The session is saved
// once, after the handlers below the middleware return, by
// cookiesession.Manager.CommitHeader: the rules for when a cookie is sent,
// chunking, Vary and Cache-Control are the core's. A handler that sends
// the response itself before it returns (c.End) calls Save first, which
// uses Manager.SaveHeader: a change the middleware's save finds unsent
// once c.End (or c.Drop) has closed the connection, or in a response fasthttp will
// not send (a Hijack after HijackSetNoResponse(true)), is logged at Warn
// with that fix. A body
// stream writer runs on its own goroutine from the moment it is set,
// racing the middleware's save: make every change before setting it.
// Changes made after the middleware's save do not reach the client, and
// the first one is logged at Warn, as in the net/http middleware.
// Under fiber's timeout.New, whose 408 goes out as the response stood at
// the deadline, a save after it cannot reach the client either: that is
// logged at Warn too, with the fix (Save before the slow work). So is a
// save of new cookie lines into a response that fiber's idempotency, or
// its cache on the route for a new session, below the middleware has
// already stored without them; and a request whose session cookie a
// middleware changed or deleted before the session was read (fiber's
// encryptcookie, unless its Except lists m.CookieNames()).
//
// Every line the middleware and Get log goes through the Manager's
// Options.Logger (cookiesession.Manager.Logger), at its handler's level,
// as the core's lines do; not through slog.Default.
//
// The middleware's save also logs at Warn, once per Manager, what the
// net/http middleware logs: a Secure cookie set in answer to a plain-HTTP
// request (over a connection without TLS, with no https:// request line,
// to a host other than loopback, with no X-Forwarded-Proto,
// X-Forwarded-Scheme, Forwarded, Origin or Referer header that says
// https), which browsers drop; and a
// Set-Cookie for one of the session's cookie names that a handler set
// (c.Cookie, c.ClearCookie) in a response for which the Manager writes
// none, even on a request that never used its session, which replaces or
// ends the client's session. That line is sent as the handler set it;
// where the Manager writes the cookie, its line replaces the handler's.
// And a cookie whose Options.Domain the request's host (or
// X-Forwarded-Host) is outside of, which browsers drop. And, once per
// route and change, a session that a handler changed (a Destroy, a
// Flashes) on a GET that a browser or a framework sent ahead of a click
// (Sec-Purpose: prefetch, Turbo's X-Sec-Purpose, ...), as the net/http
// middleware logs it. Under
// fiber.Config.DisableHeaderNormalizing, where fasthttp finds a header only
// by the exact case of its name, those request headers, and the
// response's Vary, Cache-Control and CDN cache fields, are read and
// replaced in any case of their names.
//
// Several Managers can be stacked (an auth cookie and a preferences
// cookie): each New(m) keeps its session under m, and Get(c, m) returns
// that one. Two whose cookie names overlap, or of which one retires
// (Options.Retired) a name the other uses, answer every request through
// the ErrorHandler with an error that names both.
//
// fasthttp reads a request's whole header, cookies included, into
// fiber.Config.ReadBufferSize bytes (default 4096) and answers 431 to a
// larger one, before any handler runs: a browser holding a session cookie
// near 4 KB could never reach the app again to replace it. So a session
// whose cookies would take more than ReadBufferSize less 1024 bytes (room
// for the request line and the other headers) is not saved: the save fails
// with cookiesession.ErrTooLarge, naming ReadBufferSize, and the client
// keeps its previous cookie. Raise ReadBufferSize for larger sessions or
// for MaxChunks > 1.
package fibersession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/idempotency"
	"github.com/seed-ff2808ae/cookiesession"
	"github.com/valyala/fasthttp"
)

// Config configures the middleware. The zero value is the default.
type Config struct {
	// ErrorHandler answers a request whose session could not be saved,
	// in place of the handler's response. The error matches
	// cookiesession.ErrTooLarge when the session does not fit; none of
	// the session's Set-Cookie lines are in the response, so the client
	// keeps its previous cookie. A change it makes to the session is not
	// saved, and is logged at Warn: redirect to a page that makes it.
	// Its result is the middleware's result.
	// Default: log through the Manager's Options.Logger
	// (cookiesession.Manager.Logger), at Error once a minute per
	// middleware, the others at Debug, with at most 200 bytes of the
	// path, and reply 500 with Cache-Control: no-store and no Location;
	// a CDN-Cache-Control,
	// Cloudflare-CDN-Cache-Control or Surrogate-Control the handler set
	// becomes no-store too.
	ErrorHandler func(c fiber.Ctx, err error) error
}

// localsKey keys a Manager's session in the request's locals (fasthttp's
// user values, what c.Locals reads), so stacked Managers keep their own.
// The middleware sets them through fasthttp: fiber's variadic Locals
// allocates on each call.
type localsKey struct{ m *cookiesession.Manager }

// phase is what the locals hold for a Manager before its session is
// opened, and after its middleware returns or a panic unwinds it with the
// session unopened. Once the middleware is done, the locals hold the
// session itself, sealed: nothing will save it.
type phase uint8

const (
	installed phase = iota + 1 // the middleware runs; the session is not opened yet
	finished                   // the middleware is done and the session was never opened
)

// New returns middleware that saves m's session after the handlers below
// it return, if one of them used it through Get. An error they return is
// answered by the app's ErrorHandler inside the middleware, before the
// save, as fiber's logger middleware answers it: a flash the ErrorHandler
// stores goes out with its answer, and the middleware returns nil. The
// one exception is an error that matches context.DeadlineExceeded while
// c.Context() has a deadline (fiber's timeout.New around c.Next, before
// this middleware): it is returned after the save, for the timeout to
// answer with its 408 or OnTimeout, as without the session. An
// outer New(m) on the same route already covers the request, so an inner
// one only passes it on. A nil m, or more than one Config, panics.
func New(m *cookiesession.Manager, config ...Config) fiber.Handler {
	if m == nil {
		panic("cookiesession: fibersession.New needs a Manager: a nil one is what cookiesession.New returns with an error, which must be checked")
	}
	if len(config) > 1 {
		// The others' ErrorHandler would be ignored without a word.
		panic(fmt.Sprintf("cookiesession: fibersession.New takes one Config, not %d: put every field in one", len(config)))
	}
	names := m.CookieNames()
	logger := m.Logger() // Options.Logger: the operator's handler and level
	onError := defaultErrorHandler(logger, new(atomic.Int64))
	timedOut := new(atomic.Int64)  // when lostToTimeout last logged at Warn
	unsent := new(atomic.Int64)    // when lostUnsent last logged at Warn
	rewritten := new(atomic.Int64) // when warnRewritten last logged at Warn
	stored := new(atomic.Int64)    // when warnStoredWithout last logged at Warn
	if len(config) > 0 && config[0].ErrorHandler != nil {
		onError = config[0].ErrorHandler
	}
	pairs := cookiePairs(names)
	key := localsKey{m}
	return func(c fiber.Ctx) error {
		locals := c.RequestCtx()
		switch locals.UserValue(key).(type) {
		case *scratch, phase, *cookiesession.Session:
			return c.Next() // another New(m) serves, or served, this request
		}
		if err := overlaps(locals, m); err != nil {
			return onError(c, err)
		}
		locals.SetUserValue(key, installed)
		returned := false
		defer func() {
			if !returned {
				sealAfterPanic(locals, key, m, names)
			}
		}()
		err := c.Next()
		returned = true
		if err != nil && !timeoutAbove(c, err) {
			// The app's ErrorHandler answers here, before the save, as fiber's
			// logger middleware has it answer: a flash it stores goes out with
			// its answer, not logged as made after the save.
			answerError(c, err)
			err = nil
		}
		st, used := locals.UserValue(key).(*scratch)
		if !used {
			locals.SetUserValue(key, finished)
			foreignUnused(c, m, names)
			return err
		}
		if name := rewrittenCookie(&c.Request().Header, names, pairs); name != "" {
			warnRewritten(c, logger, rewritten, name)
		}
		// A later Get (in fiber's ErrorHandler for an error fasthttp met,
		// called after this middleware ran in fiber's own pass over the
		// middleware) finds the session, sealed by the save below.
		locals.SetUserValue(key, st.session)
		defer st.release()
		if saveErr := st.save(c, m, names, true); saveErr != nil {
			return onError(c, saveErr)
		}
		if len(st.header[fiber.HeaderSetCookie]) > 0 { // lines the client has not had
			warnUnsent(c, locals, logger, timedOut, unsent)
			warnStoredWithout(c, st.session, logger, stored)
		}
		return err
	}
}

// warnUnsent logs a final save whose new Set-Cookie lines fasthttp will
// not send: fiber's timeout middleware answered already, a hijack asked
// for no response, or c.End sent the response and closed the connection
// (c.Drop closes it too, with no response).
func warnUnsent(c fiber.Ctx, locals *fasthttp.RequestCtx, logger *slog.Logger, timedOut, unsent *atomic.Int64) {
	switch {
	case c.IsAbandoned():
		lostToTimeout(c, logger, timedOut)
	case hijackedWithoutResponse(locals):
		lostUnsent(c, logger, unsent, "cookiesession: the handler hijacked the connection with HijackSetNoResponse(true), so fasthttp sends no response: the session's Set-Cookie lines the middleware saved into it (a change, or a due refresh or clear) do not reach the client, which keeps its previous cookie (at warn level once a minute, the others at debug)",
			"call fibersession.Save(c, m) after the session's last change and before the hijack, and write the Set-Cookie lines it put in c.Response() on the connection with the hijacker's own response; or leave HijackSetNoResponse false, so that fasthttp sends the response, cookie included, before the hijack handler runs")
	case connClosed(locals.Conn()):
		lostUnsent(c, logger, unsent, "cookiesession: the connection was closed before the middleware's save (c.End sent the response and closed its connection, or c.Drop closed it with no response): the session's Set-Cookie lines (a change, or a due refresh or clear) were not sent, and the client keeps its previous cookie (at warn level once a minute, the others at debug)",
			"call fibersession.Save(c, m) after the session's last change and before c.End(); a change after c.End, or before c.Drop, cannot reach the client")
	}
}

// warnRewritten logs a request whose cookie name a middleware changed, or
// deleted, before the session was read from it: fiber's encryptcookie
// does so to every cookie not in its Except. After fibersession.New, it
// deletes the session's cookie, which it cannot decrypt, and every request
// starts a fresh session; before it, it encrypts the saved cookie again,
// after the size checks (MaxCookieSize, and ReadBufferSize's), into one
// about a third larger, which browsers drop past 4096 bytes and on which
// fasthttp answers every later request with 431.
func warnRewritten(c fiber.Ctx, logger *slog.Logger, last *atomic.Int64, name string) {
	logger.Log(c.Context(), rated(last, time.Now(), slog.LevelWarn), "cookiesession: a middleware changed or deleted the session's cookie in the request before the session was read (fiber's encryptcookie does, for every cookie not in its Except): after fibersession.New it deletes the cookie, and every request starts a fresh session; before it, the cookie the client holds is encrypted again, past the size checks, so a large session is dropped by browsers or answered with 431 (at warn level once a minute, the others at debug)",
		slog.String("cookie", name), slog.String("path", logText(c.Path())),
		slog.String("fix", "leave the session's cookies to the Manager, which encrypts and authenticates them already: encryptcookie.Config{Except: m.CookieNames()}"))
}

// warnStoredWithout logs a save whose Set-Cookie lines a middleware below
// this one did not store with the response it keeps: fiber's idempotency
// (for the request's X-Idempotency-Key) and fiber's cache on the route both
// store it when the handlers return, before the save. A retry with that key,
// sent because this response was lost, gets the stored answer without the
// cookie, and the session's change is lost behind a success; a cache hit
// gives other clients, without the cookie, the page made for this session
// (a guest's CSRF token). The cache says it stored the response in its
// X-Cache header (fiber's default name); a page for a session the request
// brought a cookie for is keyed on that cookie, and is not logged.
func warnStoredWithout(c fiber.Ctx, s *cookiesession.Session, logger *slog.Logger, last *atomic.Int64) {
	var msg, fix string
	switch {
	case idempotency.WasPutToCache(c):
		msg = "cookiesession: fiber's idempotency middleware after fibersession.New stored this response before the session's cookie was added to it: a retry with the same X-Idempotency-Key gets the stored answer without the cookie, and the session's change is lost (at warn level once a minute, the others at debug)"
		fix = "put idempotency.New() before fibersession.New(m) in app.Use, so that the response it stores carries the session's cookie"
	case s.IsNew() && string(c.Response().Header.Peek("X-Cache")) == "miss":
		msg = "cookiesession: fiber's cache middleware after fibersession.New (on the route) stored this response before the session's cookie and Cache-Control: no-store were added to it: it serves this page, made for one session, to other clients, without the cookie (at warn level once a minute, the others at debug)"
		fix = "put cache.New() before fibersession.New(m) in app.Use, where the save's no-store keeps such a page out, or skip the cache (cache.Config.Next) on pages that store in the session"
	default:
		return
	}
	logger.Log(c.Context(), rated(last, time.Now(), slog.LevelWarn), msg,
		slog.String("path", logText(c.Path())), slog.String("fix", fix))
}

// lostUnsent logs a save into a response fasthttp does not send: c.End
// wrote the response on the connection and closed it, or a hijack asked
// for no response. fasthttp's own failed write of it is logged by nobody.
func lostUnsent(c fiber.Ctx, logger *slog.Logger, last *atomic.Int64, msg, fix string) {
	logger.Log(c.Context(), rated(last, time.Now(), slog.LevelWarn), msg,
		slog.String("path", logText(c.Path())), slog.String("fix", fix))
}

// hijackedWithoutResponse reports whether the handler hijacked the
// connection (fasthttp's Hijack) after HijackSetNoResponse(true): fasthttp
// then sends no response, and the hijack handler writes its own. fasthttp
// reports the hijack (Hijacked), but has no getter for the other, so its
// field is read; a fasthttp without a field of that name reads false
// (TestHijackWithoutResponseWarns fails then).
func hijackedWithoutResponse(ctx *fasthttp.RequestCtx) bool {
	if !ctx.Hijacked() {
		return false
	}
	noResponse := reflect.ValueOf(ctx).Elem().FieldByName("hijackNoResponse")
	return noResponse.Kind() == reflect.Bool && noResponse.Bool()
}

// connClosed reports whether conn, the request's connection, has been
// closed while the handler ran, as fiber's c.End closes it once it has
// written the response there; fasthttp's write of the response after the
// handler then fails without a word. A TCP or Unix connection, or the one
// under a TLS one (whose Close closes it too), is asked through its
// descriptor, which a closed connection refuses: no system call, and
// nothing sent. Any other is asked with a write of no bytes. A RequestCtx
// made by its Init (a test's) holds a connection whose every method
// panics by design: nothing was sent on it either.
func connClosed(conn net.Conn) (closed bool) {
	if conn == nil {
		return false
	}
	defer func() {
		if recover() != nil {
			closed = false
		}
	}()
	if tlsConn, ok := conn.(interface{ NetConn() net.Conn }); ok {
		conn = tlsConn.NetConn()
	}
	if fd, ok := conn.(syscall.Conn); ok {
		raw, err := fd.SyscallConn()
		if err == nil {
			err = raw.Control(func(uintptr) {})
		}
		return errors.Is(err, net.ErrClosed)
	}
	_, err := conn.Write(nil)
	return errors.Is(err, net.ErrClosed)
}

// lostToTimeout logs a save that cannot reach the client: fiber's timeout
// middleware, on its deadline, abandons the request and hands fasthttp a
// copy of the response as it stands, its 408, then returns while the
// handler runs on. The save above wrote into a response nobody sends.
func lostToTimeout(c fiber.Ctx, logger *slog.Logger, last *atomic.Int64) {
	logger.Log(c.Context(), rated(last, time.Now(), slog.LevelWarn), "cookiesession: fiber's timeout middleware answered before the handler returned, with no cookie: the session's change was not saved, and the client keeps its previous cookie (at warn level once a minute, the others at debug)",
		slog.String("path", logText(c.Path())),
		slog.String("fix", "make the session's changes, then call fibersession.Save(c, m) before the slow work, so that the timeout's answer carries them; a handler that returns when c.Context() is done still races timeout.New's own answer"))
}

// timeoutAbove reports whether err is a deadline passing under a context
// with a deadline, as fiber's timeout.New over c.Next sets: that
// middleware turns the error into its 408 (or its OnTimeout's answer),
// which an answer here would pre-empt with the app's ErrorHandler's 500,
// with nothing said. Such an error goes up, after the save, so the
// timeout's answer carries the cookie.
func timeoutAbove(c fiber.Ctx, err error) bool {
	if !errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	_, ok := c.Context().Deadline()
	return ok
}

// answerError has the app's ErrorHandler answer err, and replies 500 if
// that fails too, as fiber does when no middleware has answered.
func answerError(c fiber.Ctx, err error) {
	if c.App().ErrorHandler(c, err) != nil {
		_ = c.SendStatus(http.StatusInternalServerError)
	}
}

// sealAfterPanic ends the session when a panic unwound the handlers
// before the middleware could save it. No cookie goes out with recover's
// answer, as under the net/http middleware: not even one an early Save
// put in the response, which holds the handler's half-made change. The
// locals keep the session for recover's error, answered by the app's
// ErrorHandler: sealed, a change made there (a flash) is logged at Warn
// as not saved, rather than lost without a word.
func sealAfterPanic(locals *fasthttp.RequestCtx, key localsKey, m *cookiesession.Manager, names []string) {
	switch v := locals.UserValue(key).(type) {
	case *scratch:
		if v.header[fiber.HeaderSetCookie] != nil { // an early Save wrote the session's lines
			for _, name := range names {
				locals.Response.Header.DelCookie(name)
			}
		}
		_ = m.CommitHeader(nil, v.session, nil)
		locals.SetUserValue(key, v.session)
		v.release()
	case phase:
		locals.SetUserValue(key, finished)
	}
}

// Get returns m's session for this request, opening the cookie at the
// first call, which also puts Cookie in the response's Vary, so that a
// cache below the middleware keys the page on the cookie (a page that
// stores in the session takes the cache above the middleware: see the
// README). Call it from the handler's goroutine; the Session it returns
// may be used from other goroutines of the request, and after it: hand
// them the Session, not c. fiber recycles c for another request once the
// handler returns, so a Get through a kept c (in a goroutine, or in a
// SendStreamWriter callback) could return another user's session; where
// fiber has already emptied c, Get panics naming this fix.
//
// Where nothing will save the session, Get still returns it, and its
// first change is logged at Warn as not saved: after the middleware has
// returned (in a middleware above it) or a panic unwound it, the session
// as the handlers left it, or the one the request's cookies hold if none
// used it; on a request no New(m) runs on, the one the cookies hold. fiber's
// ErrorHandler gets such requests from the network: one that fasthttp
// could not read (a malformed header, a body over BodyLimit) is answered
// there after fiber has run the app's middleware on it, or none, and a
// panic there would end the server, which fasthttp does not recover.
func Get(c fiber.Ctx, m *cookiesession.Manager) *cookiesession.Session {
	key := localsKey{m}
	locals := requestCtx(c, "Get")
	switch v := locals.UserValue(key).(type) {
	case *scratch:
		return v.session
	case *cookiesession.Session:
		return v
	case unsaved:
		return v.session
	case phase:
		if v == installed {
			st := scratchPool.Get().(*scratch)
			st.load(c, m)
			locals.SetUserValue(key, st)
			// Cookie goes in Vary now, not only at the save: a middleware
			// below this one (fiber's cache on a route) reads the response
			// when the handler returns, before the save, and would serve a
			// page that shows this session to every client.
			if resp := &c.Response().Header; len(resp.Peek(fiber.HeaderVary)) == 0 {
				resp.Set(fiber.HeaderVary, fiber.HeaderCookie)
			} else {
				c.Vary(fiber.HeaderCookie)
			}
			return st.session
		}
		s := sealed(c, m)
		locals.SetUserValue(key, s)
		return s
	}
	// With no route, fiber matched nothing of the app's, not even an
	// app.Use middleware (a handler a test calls alone on app.AcquireCtx):
	// that goes to Debug, and leaves the one Warn for a route that lacks
	// the middleware. fiber runs app.Use middleware before its
	// ErrorHandler on a request fasthttp could not read, so the fix holds
	// there too.
	level := slog.LevelDebug
	if len(c.Route().Handlers) > 0 {
		if _, logged := missingLogged.LoadOrStore(m, true); !logged {
			level = slog.LevelWarn
		}
	}
	m.Logger().Log(c.Context(), level, "cookiesession: fibersession.Get on a request no fibersession.New middleware for this Manager ran on, or before it ran (in a middleware before it, or in the app's ErrorHandler answering an error that a middleware before it returned: csrf's 403, an auth middleware's fiber.ErrUnauthorized): the session is read from the cookie, and nothing will save a change to it, a flash included (at warn level once per Manager, on a route; the others at debug)",
		slog.String("path", logText(c.Path())), slog.Any("cookies", m.CookieNames()),
		slog.String("fix", "add app.Use(fibersession.New(m)) before the routes that use the session (fiber runs it before its ErrorHandler too, on a request fasthttp could not read); where it is there, move it up, after recover and compress but before the middleware that uses the session or returns the error: an error below it is answered by the app's ErrorHandler inside it, and what that stores is saved"))
	s := sealed(c, m)
	locals.SetUserValue(key, unsaved{s})
	return s
}

// requestCtx returns c's fasthttp request, and panics naming the fix for
// a c whose handler has returned: fiber recycles its Ctx then, and a
// goroutine or a stream writer that kept c would read the next request's
// session through it, or, between requests, fail on a nil pointer with no
// word of the cause.
func requestCtx(c fiber.Ctx, caller string) *fasthttp.RequestCtx {
	if locals := c.RequestCtx(); locals != nil {
		return locals
	}
	panic("cookiesession: fibersession." + caller + " with a fiber.Ctx whose handler has returned, which fiber recycles for other requests; call Get in the handler and hand the *cookiesession.Session it returns to the goroutine or stream writer, never c")
}

// missingLogged holds the Managers whose Get without a middleware, on a
// route, has been logged at Warn.
var missingLogged sync.Map

// unsaved holds, in the locals, the session Get opened on a request no
// New(m) runs on.
type unsaved struct{ session *cookiesession.Session }

// sealed opens m's session for a request whose middleware has returned,
// or never ran, and seals it: nothing will save it, and the core logs its
// first change as not saved.
func sealed(c fiber.Ctx, m *cookiesession.Manager) *cookiesession.Session {
	st := scratchPool.Get().(*scratch)
	st.load(c, m)
	s := st.session
	st.release()
	_ = m.CommitHeader(nil, s, nil)
	return s
}

// Save writes m's session's cookies into the response now, for a handler
// that sends the response itself before it returns (c.End): the
// middleware's own save comes too late for it. (A body stream writer runs
// on its own goroutine, racing the middleware's save: make every change
// before setting it.) It
// does nothing for a session the handler never used. The middleware saves
// again when the handlers return, which writes the same cookies unless the
// session changed in between. An error matching cookiesession.ErrTooLarge
// leaves none of the session's Set-Cookie lines in the response. After
// the middleware has returned, Save returns
// cookiesession.ErrHeadersWritten.
func Save(c fiber.Ctx, m *cookiesession.Manager) error {
	switch v := requestCtx(c, "Save").UserValue(localsKey{m}).(type) {
	case *scratch:
		return v.save(c, m, m.CookieNames(), false)
	case *cookiesession.Session:
		return cookiesession.ErrHeadersWritten
	case phase:
		if v == finished {
			return cookiesession.ErrHeadersWritten
		}
		return nil
	}
	return errors.New("cookiesession: fibersession.Save: no fibersession.New middleware for this Manager runs on this route")
}

// overlaps reports an error if m cannot be stacked inside a Manager
// already installed on this request (see cookiesession.Manager.Overlaps):
// the two would overwrite each other's cookies, or one expire the other's.
func overlaps(locals *fasthttp.RequestCtx, m *cookiesession.Manager) (err error) {
	locals.VisitUserValuesAll(func(key, _ any) {
		if other, ok := key.(localsKey); ok && err == nil {
			err = m.Overlaps(other.m)
		}
	})
	return err
}

// defaultErrorHandler returns the default ErrorHandler of one middleware,
// which logs through logger (the Manager's), an Error line a minute rated
// by last (see rated).
func defaultErrorHandler(logger *slog.Logger, last *atomic.Int64) func(fiber.Ctx, error) error {
	return func(c fiber.Ctx, err error) error { return answerSaveFailed(c, err, logger, last) }
}

func answerSaveFailed(c fiber.Ctx, err error, logger *slog.Logger, last *atomic.Int64) error {
	logger.Log(c.Context(), rated(last, time.Now(), slog.LevelError), "cookiesession: cannot save session (at error level once a minute, the others at debug)",
		slog.String("error", err.Error()), slog.String("path", logText(c.Path())))
	resp := &c.Response().Header
	fold := c.App().Config().DisableHeaderNormalizing // names in any case: see foldAll
	delLines(resp, fiber.HeaderLocation, fold)
	delLines(resp, fiber.HeaderCacheControl, fold)
	c.Set(fiber.HeaderCacheControl, "no-store")
	// A CDN obeys its own field in place of Cache-Control: one the
	// handler set would let it keep the 500 for every user.
	for _, field := range coreReads[2:] {
		if len(responseLines(resp, field, fold)) > 0 {
			delLines(resp, field, fold)
			c.Set(field, "no-store")
		}
	}
	c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	return c.Status(http.StatusInternalServerError).SendString(http.StatusText(http.StatusInternalServerError))
}

// rated is level once a minute per middleware, and Debug in between: a
// flood to a route whose session does not fit would log an Error line per
// request, as the core's handler does not. logged is when the middleware
// last logged at level, in Unix nanoseconds; one per middleware and kind
// of line, as the core keeps one per Manager, so that another app's flood
// does not turn this one's first failure into Debug.
func rated(logged *atomic.Int64, now time.Time, level slog.Level) slog.Level {
	last, at := logged.Load(), now.UnixNano()
	if (last == 0 || at-last >= int64(time.Minute)) && logged.CompareAndSwap(last, at) {
		return level
	}
	return slog.LevelDebug
}

// logText cuts a request's string to 200 bytes for a log line, as the
// core does: a path of a megabyte would fill every line.
func logText(s string) string {
	const limit = 200
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "... (" + strconv.Itoa(len(s)) + " bytes)"
}
