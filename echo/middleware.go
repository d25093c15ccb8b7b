// Package echosession runs cookiesession's middleware inside an echo v4
// server. For echo v5, use github.com/seed-ff2808ae/cookiesession/echo5.
//
// Middleware runs the rest of the chain inside the Manager's own net/http
// middleware, with the echo response writing through the Manager's
// committing writer, so the cookie is committed exactly as with net/http:
// before the first byte of the response, or when the chain returns. An
// error the chain returns is answered by echo's HTTPErrorHandler inside the
// Manager's middleware (c.Error, as echo's Logger middleware calls it), so
// that what the error handler stores in the session, a flash message say,
// reaches the client with its answer. The error is still returned up the
// chain, for a logger or metrics there, so echo calls its HTTPErrorHandler
// a second time after the chain, as it does behind echo's RequestLogger
// with HandleError: a custom HTTPErrorHandler must skip a response that is
// already committed, as echo's default one does, or it writes its answer
// twice. The middleware adds no call for an error that comes back with
// the response already written, nor for the request's deadline passing
// (a ContextTimeout before the middleware): that one goes up to the
// middleware that set it, which answers 503.
//
//	e := echo.New()
//	e.Use(echosession.Middleware(sessions))
//	e.GET("/", func(c echo.Context) error {
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

	"github.com/labstack/echo/v4"
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
		return func(c echo.Context) error {
			st := states.Get().(*state)
			resp := c.Response()
			st.c, st.next, st.resp = c, next, resp
			own := resp.Writer
			st.down = target{ResponseWriter: own, st: st}
			// echo's own writer comes back even when the chain panics, so
			// that Recover's 500 is written without the session's half-made
			// change, as with net/http.
			defer func() { resp.Writer = own }()
			h.ServeHTTP(&st.down, c.Request())
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
func Session(c echo.Context) *cookiesession.Session {
	r := c.Request()
	if r == nil {
		return nil // a context a test built without a request
	}
	return cookiesession.FromContext(r.Context())
}

// states recycles the per-request state. echo already allocates each
// middleware's closure on every request; the pool keeps this middleware at
// that one allocation over the net/http middleware's own.
var states = sync.Pool{New: func() any { return new(state) }}

// state joins one request's echo context to the Manager's middleware.
type state struct {
	c    echo.Context
	next echo.HandlerFunc
	resp *echo.Response
	down target // what the Manager's writer writes to
	err  error  // what the chain returned
}

// serve runs the rest of the echo chain inside the Manager's middleware: w
// is the Manager's committing writer, r carries the session.
func serve(w http.ResponseWriter, r *http.Request) {
	st := stateOf(w)
	st.c.SetRequest(r)
	st.resp.Writer = w
	st.err = st.next(st.c)
	if st.err != nil && !st.resp.Committed && !endedOutside(r, st.err) {
		// echo's HTTPErrorHandler answers here, inside the Manager's
		// middleware, as echo's own Logger middleware has it answer: a
		// change it makes to the session (a flash message) goes out with
		// its response. The error still goes up the chain, and echo's
		// default handler does not answer a committed response again. A
		// response already committed (the handler wrote, then failed; an
		// inner RequestLogger answered) gets no extra call from here.
		// Nor does the request's deadline passing (endedOutside).
		st.c.Error(st.err)
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

// stateOf finds the target the Manager's writer wraps.
func stateOf(w http.ResponseWriter) *state {
	for {
		switch x := w.(type) {
		case *target:
			return x.st
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			panic("cookiesession/echo: the Manager's writer does not unwrap to echo's")
		}
	}
}

// target is the writer echo's response held. It also keeps the response's
// Status and Committed true when the Manager's ErrorHandler answers in
// place of the handler, so that echo's logger and error handler see what
// was sent.
type target struct {
	http.ResponseWriter
	st *state
}

func (t *target) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		t.st.resp.Status, t.st.resp.Committed = code, true
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *target) Write(p []byte) (int, error) {
	if !t.st.resp.Committed {
		t.st.resp.Status, t.st.resp.Committed = http.StatusOK, true
	}
	return t.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (t *target) Unwrap() http.ResponseWriter { return t.ResponseWriter }
