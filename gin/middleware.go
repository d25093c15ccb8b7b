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
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/seed-ff2808ae/cookiesession"
)

// Middleware returns gin middleware that loads each request's session from
// m and commits its cookies before gin sends the headers, whichever way the
// handler answers (c.JSON, c.String, c.Redirect, c.AbortWithStatus,
// c.Stream, c.File, ...). A session that does not fit is answered by m's
// Options.ErrorHandler, and the client keeps its previous cookie.
func Middleware(m *cookiesession.Manager) gin.HandlerFunc {
	h := m.Handler(http.HandlerFunc(serve))
	return func(c *gin.Context) {
		st := &state{c: c}
		st.down = target{ResponseWriter: c.Writer, st: st}
		// gin's own writer comes back even when the chain panics, so that
		// Recovery's 500 is written without the session's half-made
		// change, as with net/http.
		defer func() { c.Writer = st.down.ResponseWriter }()
		h.ServeHTTP(&st.down, c.Request)
		if st.up.core == nil {
			// The Manager answered without running the chain (its
			// ErrorHandler, for overlapping Managers): the route must not run.
			c.Abort()
		}
	}
}

// Session returns the request's session, or nil if Middleware did not run.
// With several Managers' middleware on one route it returns the innermost
// one's; m.FromContext(c.Request.Context()) returns a given Manager's.
func Session(c *gin.Context) *cookiesession.Session {
	return cookiesession.FromContext(c.Request.Context())
}

// state joins one request's gin context to the Manager's middleware, in
// one allocation.
type state struct {
	c    *gin.Context
	down target // what the Manager's writer writes to: gin's own writer
	up   writer // what the chain writes to: the Manager's writer
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
