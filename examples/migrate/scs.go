package migrate

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/alexedwards/scs/v2"
	"github.com/seed-ff2808ae/cookiesession"
)

// FromSCS returns middleware, to run inside mgr's Handler, that carries
// the scs session the request's old cookie names into a request whose
// cookie mgr did not open, and deletes it from the old store. List the old
// cookie in Options.Retired, unless it has mgr's own Name, Path and Domain:
// the response that saves the new session expires it. When the old store
// fails, the request is answered 503 before the session is used, so that
// no cookie is touched and the next request tries again.
func FromSCS(mgr *cookiesession.Manager, old *scs.SessionManager, logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mustSession(mgr, r)
			// An scs token has 43 characters, a cookiesession token more.
			if c, err := r.Cookie(old.Cookie.Name); err == nil && len(c.Value) == 43 {
				ctx, err := old.Load(r.Context(), c.Value)
				if err != nil {
					logger.ErrorContext(r.Context(), "cookiesession/migrate: scs store failed; answered 503", slog.String("error", err.Error()))
					http.Error(w, "session store unavailable, try again", http.StatusServiceUnavailable)
					return
				}
				if old.Token(ctx) != "" { // found in the store
					fromSCS(w, r, mgr, old, ctx, logger)
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func fromSCS(w http.ResponseWriter, r *http.Request, mgr *cookiesession.Manager, old *scs.SessionManager, ctx context.Context, logger *slog.Logger) {
	if s := mgr.FromContext(r.Context()); s.IsNew() {
		keys := old.Keys(ctx)
		for _, k := range keys {
			v := old.Get(ctx, k)
			if remember, ok := v.(bool); ok && k == "__rememberMe" { // scs's RememberMe
				if err := s.SetLifetime(cookiesession.Lifetime{BrowserSession: !remember}); err != nil {
					notCarried(r.Context(), logger, k, v, err)
				}
				continue
			}
			carry(r.Context(), logger, s, k, v)
		}
		logger.InfoContext(r.Context(), "cookiesession/migrate: scs session carried", slog.Int("values", len(keys)))
		fit(w, r, mgr, s, logger)
	}
	if err := old.Destroy(ctx); err != nil {
		logger.WarnContext(r.Context(), "cookiesession/migrate: scs session not deleted; its token opens it until its deadline",
			slog.String("error", err.Error()))
	}
}
