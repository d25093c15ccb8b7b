package migrate

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/seed-ff2808ae/cookiesession"
)

// FromSCS returns middleware, to run inside mgr's Handler, that carries
// the scs session the request's old cookie names into a request whose
// cookie mgr did not open, and ends it in the old store. List the old
// cookie in Options.Retired, unless it has mgr's own Name, Path and Domain:
// the response that saves the new session expires it (a carry whose
// response does not is logged at Warn with the entry to add). The old
// session ends carryGrace after its first carry, not at once, so that a
// request the browser sent beside it, with the same old cookie, carries it
// too, rather than find nothing and, under mgr's Name, answer with a line
// that clears the cookie the first response sets. When the old store
// fails, the request is answered 503 before the session is used, so that
// no cookie is touched and the next request tries again. A request whose
// new cookie mgr opens looks nothing up, so a failing store answers no
// 503 to users the new app signed in.
func FromSCS(mgr *cookiesession.Manager, old *scs.SessionManager, logger *slog.Logger) func(http.Handler) http.Handler {
	unreadable, kept := new(everyMinute), new(everyMinute)
	where := oldCookie{old.Cookie.Name, old.Cookie.Path, old.Cookie.Domain,
		"a logout within carryGrace (a minute) of the carry does not hold, and after it each request looks the token up in the old store"}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := mustSession(mgr, r)
			// An scs token has 43 characters, a cookiesession token more.
			if c, err := r.Cookie(old.Cookie.Name); err == nil && len(c.Value) == 43 {
				// Beside a cookie of mgr's that opens, the old token is
				// not looked up: a failing store would answer 503 to
				// users the new app signed in; using s has the response
				// expire it if it is in Options.Retired.
				if c.Name != mgr.CookieNames()[0] && hasCookie(r, mgr.CookieNames()[0]) && !s.IsNew() {
					next.ServeHTTP(w, r)
					return
				}
				sm := *old // its Codec wrapped, to tell a store that fails from a value that does not decode
				sm.Codec = codec{old.Codec}
				ctx, err := sm.Load(r.Context(), c.Value)
				var bad undecodable
				switch {
				case errors.As(err, &bad):
					logger.Log(r.Context(), unreadable.level(), "cookiesession/migrate: scs session not readable; the user signs in again (at warn level once a minute, the others at debug)",
						slog.String("error", err.Error()),
						slog.String("fix", "gob.Register the types the old app stored, as it did"))
				case err != nil:
					logger.ErrorContext(r.Context(), "cookiesession/migrate: scs store failed; answered 503", slog.String("error", err.Error()))
					http.Error(w, "session store unavailable, try again", http.StatusServiceUnavailable)
					return
				case sm.Token(ctx) != "": // found in the store
					fromSCS(w, r, mgr, &sm, ctx, logger)
					warnIfKept(r, logger, mgr, w.Header(), where, kept)
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// codec is scs's Codec whose decoding errors are undecodable.
type codec struct{ scs.Codec }

func (c codec) Decode(b []byte) (time.Time, map[string]any, error) {
	deadline, values, err := c.Codec.Decode(b)
	if err != nil {
		err = undecodable{err}
	}
	return deadline, values, err
}

// undecodable is a session the store returned that scs cannot decode: a
// type the old app registered with gob that this one does not.
type undecodable struct{ error }

func (u undecodable) Unwrap() error { return u.error }

func fromSCS(w http.ResponseWriter, r *http.Request, mgr *cookiesession.Manager, old *scs.SessionManager, ctx context.Context, logger *slog.Logger) {
	if s := mgr.FromContext(r.Context()); s.IsNew() {
		values := map[string]any{}
		for _, k := range old.Keys(ctx) {
			values[k] = old.Get(ctx, k)
		}
		// scs's RememberMe, unless it is all a logout left: its Lifetime
		// alone would be saved (TestSCSRememberMeAloneNotCarried).
		if remember, ok := values["__rememberMe"].(bool); ok && len(values) > 1 {
			if err := s.SetLifetime(cookiesession.Lifetime{BrowserSession: !remember}); err != nil {
				notCarried(r.Context(), logger, "__rememberMe", remember, err)
			}
		}
		delete(values, "__rememberMe")
		keys, left := affordable(mgr, values)
		for i, k := range left {
			tooLarge(r, logger, k, values[k], size(values[k]), i)
		}
		for _, k := range keys {
			carry(r.Context(), logger, s, k, values[k])
		}
		logger.InfoContext(r.Context(), "cookiesession/migrate: scs session carried", slog.Int("values", len(values)))
		fit(w, r, mgr, s, logger, left)
	}
	if err := endSoon(old, ctx); err != nil {
		logger.WarnContext(r.Context(), "cookiesession/migrate: scs session not ended; its token opens it until its deadline",
			slog.String("error", err.Error()))
	}
}

// carryGrace is how long an old session stays in its store after its
// first carry: long enough for the requests of one page, sent together.
const carryGrace = time.Minute

// endSoon saves the old session with a deadline carryGrace from now, or
// its own if sooner; the store drops it then.
func endSoon(old *scs.SessionManager, ctx context.Context) error {
	if end := time.Now().Add(carryGrace); end.Before(old.Deadline(ctx)) {
		old.SetDeadline(ctx, end)
	}
	_, _, err := old.Commit(ctx)
	return err
}
