package cookiesession

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
)

// A session in a context: the keys FromContext and Manager.FromContext
// look up, NewContext, and the Warn for a FromContext that chooses among
// stacked Managers.

// contextKey finds the innermost session; managerKey a given Manager's;
// otherKey the innermost of any other Manager's.
type (
	contextKey struct{}
	managerKey struct{ m *Manager }
	otherKey   struct{ m *Manager }
)

// NewContext returns a copy of ctx that carries s, for FromContext and, if
// s came from Manager.Load, for that Manager's FromContext. A nil s panics
// here, naming the fix: carried on, it would fail far from this call, in a
// Manager's FromContext, Load or Handler.
func NewContext(ctx context.Context, s *Session) context.Context {
	if s == nil {
		panic(errNilNewContext)
	}
	return &sessionContext{Context: ctx, s: s}
}

// errNilNewContext is the panic of NewContext given a nil *Session.
const errNilNewContext = "cookiesession: NewContext given a nil *Session, which FromContext returns where no middleware put one; " +
	"pass the session Manager.Load returns for the request (a test that calls a handler alone: s, _ := m.Load(r), then r.WithContext(cookiesession.NewContext(r.Context(), s)))"

// sessionContext is what context.WithValue(ctx, contextKey{}, s) would
// return, answering managerKey too. To contextKey it answers itself, so
// that FromContext asks the context outside it for another Manager's
// session once, and keeps the answer in alone.
type sessionContext struct {
	context.Context
	s     *Session
	alone atomic.Bool
}

func (c *sessionContext) Value(key any) any {
	if _, ok := key.(contextKey); ok {
		return c
	}
	if sessionKey(key, c.s) {
		return c.s
	}
	return c.Context.Value(key)
}

func (c *sessionContext) String() string {
	return fmt.Sprint(c.Context) + ".WithValue(cookiesession.Session)"
}

// sessionKey reports whether a context lookup of key finds s.
func sessionKey(key any, s *Session) bool {
	switch k := key.(type) {
	case contextKey:
		return true
	case managerKey:
		return k.m == s.mgr
	case otherKey:
		return s.mgr != nil && k.m != s.mgr
	}
	return false
}

// FromContext returns the session of the innermost middleware (or
// NewContext) in ctx, or nil if there is none; calling a method on that nil
// session panics with a message that names the fix. With several Managers
// stacked, use Manager.FromContext: a call here that finds more than one
// Manager's session is logged at Warn, once for each line of code that
// calls, since code written for one Manager stores into the innermost's
// cookie unseen.
func FromContext(ctx context.Context) *Session {
	s, c := innermost(ctx)
	if s == nil || s.mgr == nil {
		return s
	}
	// A Handler's session links to the sessions outside it; one NewContext
	// put in (no request of its own) links to none, so the context is
	// asked, once for each NewContext.
	if s.outer != nil {
		warnStacked(ctx, s)
	} else if c != nil && s.req == nil && !c.alone.Load() && !warnStacked(ctx, s) {
		c.alone.Store(true)
	}
	return s
}

func fromContext(ctx context.Context) *Session {
	s, _ := innermost(ctx)
	return s
}

// innermost returns the innermost session in ctx and, if NewContext put
// it there, the context NewContext made.
func innermost(ctx context.Context) (*Session, *sessionContext) {
	switch v := ctx.Value(contextKey{}).(type) {
	case *Session:
		return v, nil
	case *sessionContext:
		return v.s, v
	}
	return nil, nil
}

// warnStacked logs, once per line of code that calls, a FromContext that
// chose among stacked Managers. A session of s's own Manager outside it
// (one that NewContext put around the Manager's Handler) is no other
// Manager's: both FromContexts return s, and each call passes here without
// allocating. The context is asked, not s's chain: a session NewContext put
// in links to none outside it. It reports whether another Manager's session
// was found.
func warnStacked(ctx context.Context, s *Session) bool {
	other, _ := ctx.Value(otherKey{s.mgr}).(*Session)
	if other == nil {
		return false
	}
	caller, level, ok := s.mgr.stackedReads.level(slog.LevelWarn, s.mgr.opts.Now)
	if !ok {
		return true
	}
	var names []string
	found := false
	for o := s; o != nil; o = o.outer {
		if o.mgr != nil {
			names = append(names, o.mgr.opts.Name)
			found = found || o == other
		}
	}
	if !found {
		names = append(names, other.mgr.opts.Name)
	}
	s.mgr.logger.Log(ctx, level, "cookiesession: FromContext found the sessions of stacked Managers and returned the innermost's (logged once per call site; past 64 of them, at warn level once a minute, the others at debug)",
		slog.String("returned", names[0]), slog.Any("stacked", names), slog.String("caller", caller.String()),
		slog.String("fix", "with several Managers, get each session with its own Manager: m.FromContext(r.Context()) (under gin and echo too), so that each value goes to the cookie meant for it"))
	return true
}
