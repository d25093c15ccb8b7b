// Package echosession runs cookiesession's middleware inside an echo v5
// server. For echo v4, use github.com/seed-ff2808ae/cookiesession/echo.
//
// Middleware runs the rest of the chain inside the Manager's own net/http
// middleware, with c.Response() set to an echo Response of the
// middleware's own over the Manager's committing writer, so the cookie is
// committed exactly as with net/http: before the first byte of the
// response, or when the chain returns. echo.UnwrapResponse(c.Response())
// returns that Response, so code ported from echo v4 that writes or
// flushes it (v4's c.Response().Flush()) or registers a Before hook on it
// goes through the commit too. The Manager's writer unwraps to the
// Response the middleware was given, which records the status of whatever
// is sent, Options.ErrorHandler's answer included. Its Before hooks,
// registered by middleware before this one, run after the commit: one that
// replaces Cache-Control or Vary there is logged at Warn by the Manager,
// since a shared cache may then keep the session's cookie.
//
// An error the chain returns is answered by e.HTTPErrorHandler inside the
// Manager's middleware (echo v5's Context has no Error method; this is the
// call v5's RequestLogger makes with HandleError), so that what the error
// handler stores in the session, a flash message say, reaches the client
// with its answer. The error is still returned up the chain, for a logger
// or metrics there, and echo calls its error handler again after the
// chain, as it does behind RequestLogger with HandleError: a custom
// HTTPErrorHandler must skip a response that is already committed, as
// echo's default one does, or it writes its answer twice. The middleware
// adds no call for an error that comes back with the response already
// written, nor for the request's deadline passing (a ContextTimeout
// before the middleware): that one goes up to the middleware that set it,
// which answers 503.
//
// echo v5's Recover does not answer a panic: it returns it as an error,
// which echo's error handler answers after the chain. Put Recover before
// Middleware, so that the panic unwinds through it: the answer then goes
// out without the session's half-made change, and a change the error
// handler makes to the session is logged as not saved. After Middleware,
// Recover's error is answered inside it like any other, and the handler's
// change before the panic goes out with it.
//
//	e := echo.New()
//	e.Use(middleware.Recover(), echosession.Middleware(sessions))
//	e.GET("/", func(c *echo.Context) error {
//		s := echosession.Session(c)
//		...
//	})
//
// echo.WrapMiddleware(sessions.Handler) works too (the tests run both), but
// echo's error handler then runs after the cookie is committed, so a change
// it makes to the session is lost (and logged), and it costs more
// allocations per request: compare BenchmarkMiddleware/echo-wrap
// with BenchmarkMiddleware/echo.
package echosession

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/labstack/echo/v5"
	"github.com/seed-ff2808ae/cookiesession"
)

// Middleware returns echo middleware that loads each request's session from
// m and commits its cookies before the response is sent, whichever way the
// handler answers (c.JSON, c.String, c.Redirect, c.NoContent, c.Stream,
// c.File, a returned error, ...). A session that does not fit is answered
// by m's Options.ErrorHandler, and the client keeps its previous cookie.
// A nil m panics.
func Middleware(m *cookiesession.Manager) echo.MiddlewareFunc {
	if m == nil {
		panic("cookiesession: echosession.Middleware needs a Manager: a nil one is what cookiesession.New returns with an error, which must be checked")
	}
	h := m.Handler(http.HandlerFunc(serve))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			st := states.Get().(*state)
			own := c.Response()
			st.ResponseWriter, st.c, st.next = own, c, next
			// The response the chain was given comes back even when it
			// panics, so that the answer to the panic is written without
			// the session's half-made change, as with net/http.
			defer c.SetResponse(own)
			h.ServeHTTP(st, c.Request())
			err := st.err
			*st = state{}
			states.Put(st)
			return err
		}
	}
}

// Session returns the request's session, or nil if Middleware did not run
// or the context has no request.
// With several Managers' middleware on one route it returns the innermost
// one's, and such a call is logged at Warn once for each line of code
// that makes it (as cookiesession.FromContext's); m.FromContext(c.Request().Context()) returns a given
// Manager's.
func Session(c *echo.Context) *cookiesession.Session {
	r := c.Request()
	if r == nil {
		return nil // a context a test built without a request
	}
	return cookiesession.FromContext(r.Context())
}

// states recycles the per-request state, so that this middleware adds no
// allocation to the net/http middleware's own.
var states = sync.Pool{New: func() any { return new(state) }}

// state joins one request's echo context to the Manager's middleware. It
// is also the writer the Manager's writer writes to: the response the
// middleware was given, which unwraps to echo's Response.
type state struct {
	http.ResponseWriter
	c     *echo.Context
	next  echo.HandlerFunc
	err   error         // what the chain returned
	inner echo.Response // c.Response() in the chain, over the Manager's writer
}

// WriteHeader keeps the status of the chain's Response that of what is
// sent, for a logger inside the middleware: Options.ErrorHandler's answer
// to a session that does not fit replaces the handler's.
func (st *state) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		st.inner.Status = code
	}
	st.ResponseWriter.WriteHeader(code)
}

// Unwrap lets echo.UnwrapResponse and http.ResponseController reach
// echo's Response.
func (st *state) Unwrap() http.ResponseWriter { return st.ResponseWriter }

// serve runs the rest of the echo chain inside the Manager's middleware: w
// is the Manager's committing writer, r carries the session.
func serve(w http.ResponseWriter, r *http.Request) {
	st := stateOf(w)
	st.c.SetRequest(r)
	// The chain gets an echo Response of its own over the Manager's
	// writer: what echo.UnwrapResponse(c.Response()) returns is then above
	// the commit, so that writing or flushing it, or a Before hook
	// registered on it, commits the cookie first.
	st.inner = *echo.NewResponse(w, st.c.Logger())
	st.inner.Status = http.StatusOK // as echo's own starts
	st.c.SetResponse(&st.inner)
	st.err = st.next(st.c)
	if st.err != nil && !st.committed() && !endedOutside(r, st.err) {
		// echo's HTTPErrorHandler answers here, inside the Manager's
		// middleware: a change it makes to the session (a flash message)
		// goes out with its response. The error still goes up the chain,
		// and echo's default handler does not answer a committed response
		// again. A response already committed (the handler wrote, then
		// failed; an inner RequestLogger answered) gets no extra call
		// from here. A Context made by echo.NewContext without an Echo
		// (a unit test's) has no error handler: the error just goes up.
		// Nor does the request's deadline passing (endedOutside).
		if e := st.c.Echo(); e != nil {
			e.HTTPErrorHandler(st.c, st.err)
		}
	}
}

// endedOutside reports whether err is the request's own deadline passing,
// as a ContextTimeout before this middleware sets it: that middleware turns
// the error into its answer (503), which an answer here would pre-empt
// with echo's 500. The session's cookie is committed when the chain
// returns, and goes out with that answer. A canceled context (the client
// went away) is answered here, as any error: nothing above turns it into
// an answer of its own.
func endedOutside(r *http.Request, err error) bool {
	ended := r.Context().Err()
	return errors.Is(ended, context.DeadlineExceeded) && errors.Is(err, ended)
}

// committed reports whether echo's Response under the chain's own writer
// has been written, as echo's default HTTPErrorHandler checks.
func (st *state) committed() bool {
	r, err := echo.UnwrapResponse(st.ResponseWriter)
	return err == nil && r.Committed
}

// stateOf finds the state the Manager's writer wraps.
func stateOf(w http.ResponseWriter) *state {
	for {
		switch x := w.(type) {
		case *state:
			return x
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			panic("cookiesession/echo5: the Manager's writer does not unwrap to echo's")
		}
	}
}
