package cookiesession

import (
	"context"
	"log/slog"
)

// The Session's lock: its first use opens the cookie the middleware left
// pending, and lines about the session logged under it are written once
// it is released.

// errNoSession is the panic of a method called on a nil *Session.
const errNoSession = "cookiesession: no session: FromContext found none in this request's context; " +
	"wrap the handler with Manager.Handler (under gin or echo, that package's Middleware on this route; " +
	"under gin, give FromContext c.Request.Context(), not c: a *gin.Context reaches the request's context only when the engine's ContextWithFallback is true; " +
	"under fiber, fibersession.Get(c, m), which finds the session fibersession.New keeps), or get the session from Manager.Load " +
	"(a test that calls a handler alone puts it in the request's context with cookiesession.NewContext); " +
	"a handler that a middleware in front of Manager.Handler calls in place of yours (http.CrossOriginProtection's deny handler, " +
	"a CSRF library's failure handler, an auth middleware's redirect) has no session: put that middleware inside Manager.Handler"

// errNoManager is the panic of SetLifetime on the zero Session.
const errNoManager = "cookiesession: SetLifetime on a Session that no Manager made (a zero Session, such as &cookiesession.Session{}): " +
	"its limits are a Manager's Options; get the session from FromContext under Manager.Handler, or from Manager.Load " +
	"(a test that calls a handler alone puts that one in the request's context with cookiesession.NewContext)"

// lock takes the session's lock, first opening the cookie if the
// middleware left that to the session's first use. Release it with
// unlock.
func (s *Session) lock() {
	if s == nil {
		panic(errNoSession)
	}
	s.mu.Lock()
	if s.pending {
		opened := false
		defer func() {
			if !opened {
				s.unlock() // Validate panicked: the lock must not outlive it
			}
		}()
		s.open()
		opened = true
	}
}

// open opens the cookie the middleware left pending, under the lock. If
// Validate panics, the session is left new and empty: one that Validate
// did not pass is not served, to a recovery that uses it either.
func (s *Session) open() {
	s.pending = false
	opened := false
	defer func() {
		if !opened {
			s.reset(s.start())
		}
	}()
	s.loadErr = s.mgr.load(s.req, s, s.start())
	opened = true
	if s.sent {
		s.mgr.warnReadLate(s)
	}
}

// logLine is a line about the session logged while its lock was held.
// refusal, if set, is a refused cookie's error, classified as reason, of
// a token under key keyID (or 0): Manager.logRefusal makes its line.
type logLine struct {
	ctx     context.Context
	level   slog.Level
	msg     string
	attrs   []slog.Attr
	refusal error
	reason  refusal
	keyID   uint32
	cookie  string // a retired cookie's name, not carried (Manager.carry); "": the Manager's
}

// log queues a line for unlock to write.
func (s *Session) log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	s.logs = append(s.logs, logLine{ctx: ctx, level: level, msg: msg, attrs: attrs})
}

// unlock releases the lock, then writes the lines logged under it: a
// Logger whose handler calls into the session (to tag its lines with the
// session's id, or to decide in Enabled) would deadlock on the lock.
func (s *Session) unlock() {
	lines := s.logs
	s.logs = nil
	if s.readLate {
		// The use that opened the session late was a read: a change
		// cleared this (dropReadLate).
		s.readLate = false
		s.mgr.stats.readLate.Add(1)
	}
	s.mu.Unlock()
	for _, l := range lines {
		if l.refusal != nil {
			s.mgr.logRefusal(&l)
			continue
		}
		s.mgr.logger.LogAttrs(l.ctx, l.level, l.msg, l.attrs...)
	}
}
