// Package ginsession runs cookiesession's middleware inside a gin engine.
//
// gin keeps its own response writer and sends the headers itself, so the
// obvious middleware (Load, c.Next, Save) saves too late: the headers are
// gone and the cookie is silently lost. Middleware instead runs the rest of
// the chain inside the Manager's own net/http middleware, with gin's writer
// replaced by one that writes through the Manager's committing writer. The
// cookie is therefore committed exactly as with net/http: before the first
// byte of the response, or when the chain returns.
//
//	r := gin.New()
//	r.Use(ginsession.Middleware(sessions))
//	r.GET("/", func(c *gin.Context) {
//		s := ginsession.Session(c)
//		...
//	})
package ginsession

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/seed-ff2808ae/cookiesession"
)

// Middleware returns gin middleware that loads each request's session from
// m and commits its cookies before gin sends the headers, whichever way the
// handler answers (c.JSON, c.String, c.Redirect, c.AbortWithStatus,
// c.Stream, c.File, ...). A session that does not fit is answered by m's
// Options.ErrorHandler, and the client keeps its previous cookie. m's
// Middleware again on the same request (a route group's beside a global
// r.Use, or the chain that r.HandleContext runs again) serves it through
// the first: one session, one commit. A nil m panics, and so does the
// middleware on a c with no request (gin.CreateTestContext leaves
// c.Request nil), naming the fix.
func Middleware(m *cookiesession.Manager) gin.HandlerFunc {
	if m == nil {
		panic("cookiesession: ginsession.Middleware needs a Manager: a nil one is what cookiesession.New returns with an error, which must be checked")
	}
	return (&middleware{m: m, h: m.Handler(http.HandlerFunc(serve))}).serve
}

// middleware is one Manager's gin middleware. Its serve is a method, not a
// closure that inlining would copy into the caller's package, where
// WithContext's copy of the request escapes to the heap.
type middleware struct {
	m *cookiesession.Manager
	h http.Handler
}

func (mw *middleware) serve(c *gin.Context) {
	if c.Request == nil {
		panic("cookiesession: ginsession.Middleware on a gin.Context with no request, as gin.CreateTestContext leaves it: set c.Request (httptest.NewRequest) before calling it")
	}
	if outer := servedBy(c, mw.m); outer != nil {
		// m's middleware already serves this request: a route group's
		// copy of a global r.Use, or the chain run again by
		// r.HandleContext, whose reset gave the chain gin's own writer
		// again, which the middlewares before m's may have wrapped anew.
		// Unless the chain's writer writes through the outer one, that
		// goes back in, or the response would go out without the cookie.
		if !outer.up.reaches(c.Writer) {
			c.Writer = &outer.up
		}
		c.Next()
		return
	}
	st := &state{Context: c.Request.Context(), c: c, m: mw.m}
	st.down = target{ResponseWriter: c.Writer, st: st}
	// WithContext is inlined, so its copy stays on the stack and the state
	// is the one allocation.
	st.req = *c.Request.WithContext(st)
	// gin's own writer comes back even when the chain panics, so that
	// Recovery's 500 is written without the session's half-made change,
	// as with net/http.
	defer func() { c.Writer = st.down.ResponseWriter }()
	mw.h.ServeHTTP(&st.down, &st.req)
	if st.up.core == nil {
		// The Manager answered without running the chain (its
		// ErrorHandler, for overlapping Managers): the route must not run.
		c.Abort()
	}
}

// Session returns the request's session, or nil if Middleware did not run
// (or c has no request, as gin.CreateTestContext leaves it): a method on
// that nil session panics naming the fix. With several Managers'
// middleware on one route it returns the innermost one's, and such a call
// is logged at Warn once for each line of code that makes it (as
// cookiesession.FromContext's);
// m.FromContext(c.Request.Context()) returns a given Manager's.
func Session(c *gin.Context) *cookiesession.Session {
	if c.Request == nil {
		return nil
	}
	return cookiesession.FromContext(c.Request.Context())
}

// state joins one request's gin context to the Manager's middleware, in
// one allocation. It is also the context of the request the Manager
// serves, so that a second pass through Middleware finds it.
type state struct {
	context.Context
	c    *gin.Context
	m    *cookiesession.Manager
	req  http.Request // c.Request with this context
	down target       // what the Manager's writer writes to: gin's own writer
	up   writer       // what the chain writes to: the Manager's writer
}

// stateKey is the context key under which a state finds itself.
type stateKey struct{}

func (st *state) Value(key any) any {
	if key == (stateKey{}) {
		return st
	}
	return st.Context.Value(key)
}

func (st *state) String() string { return fmt.Sprint(st.Context) + ".WithValue(ginsession)" }

// servedBy returns the state of m's Middleware serving c's request, if the
// request is in its chain.
func servedBy(c *gin.Context, m *cookiesession.Manager) *state {
	for st, _ := c.Request.Context().Value(stateKey{}).(*state); st != nil; st, _ = st.Context.Value(stateKey{}).(*state) {
		if st.m == m && st.c == c {
			return st
		}
	}
	return nil
}

// target is gin's own writer, marked so that serve can find its request.
type target struct {
	gin.ResponseWriter
	st *state
}

// serve runs the rest of the gin chain inside the Manager's middleware: w is
// the Manager's committing writer, r carries the session.
func serve(w http.ResponseWriter, r *http.Request) {
	st := stateOf(w)
	st.up = writer{core: w, gin: st.down.ResponseWriter}
	st.c.Request = r
	st.c.Writer = &st.up
	st.c.Next()
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
			panic("cookiesession/gin: the Manager's writer does not unwrap to gin's")
		}
	}
}
