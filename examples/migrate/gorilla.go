package migrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/seed-ff2808ae/cookiesession"
)

// FromGorilla returns middleware, to run inside mgr's Handler, that
// carries the gorilla/sessions CookieStore cookie name into a request
// whose cookie mgr did not open. List that cookie in Options.Retired,
// unless it has mgr's own Name, Path and Domain: the response that saves
// the new session expires it. A carry whose response does not is logged
// at Warn with the entry to add, since a logout would not hold.
func FromGorilla(mgr *cookiesession.Manager, old *sessions.CookieStore, name string, logger *slog.Logger) func(http.Handler) http.Handler {
	refused := new(refusals)
	where := oldCookie{name, old.Options.Path, old.Options.Domain,
		"after a logout the next request carries it again and signs the user back in"}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := mustSession(mgr, r)
			if c, err := r.Cookie(name); err == nil {
				if s.IsNew() && (name != mgr.CookieNames()[0] || notOurs(mgr, r)) {
					fromGorilla(r, s, old, c, logger, refused)
					fit(w, r, mgr, s, logger, nil) // a 500 at every request if too large
					warnIfKept(r, logger, mgr, w.Header(), where, &refused.kept)
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// notOurs reports whether mgr refused its own cookie as invalid, as it
// does a gorilla token, rather than as expired or under an unknown key.
func notOurs(mgr *cookiesession.Manager, r *http.Request) bool {
	_, err := mgr.Load(r) // under mgr's Handler: why its session is new
	var te *cookiesession.TokenError
	return errors.As(err, &te) && errors.Is(te, cookiesession.ErrInvalid) && !errors.Is(te, cookiesession.ErrUnknownKey)
}

func fromGorilla(r *http.Request, s *cookiesession.Session, old *sessions.CookieStore, c *http.Cookie, logger *slog.Logger, refused *refusals) {
	ctx := r.Context()
	values := map[any]any{}
	if err := securecookie.DecodeMulti(c.Name, c.Value, &values, old.Codecs...); err != nil {
		refuse(ctx, logger, c, err, refused)
		return
	}
	for k, v := range values {
		key, ok := k.(string)
		flashes, isList := v.([]any)
		switch {
		case !ok:
			notCarried(ctx, logger, fmt.Sprint(k), v, fmt.Errorf("the key is a %T, not a string", k))
		case key == "_flash" && isList: // gorilla's AddFlash
			for _, f := range flashes {
				if msg, ok := f.(string); ok {
					s.AddFlash(msg)
				} else {
					notCarried(ctx, logger, key, f, errors.New("a flash that is not a string"))
				}
			}
		default:
			carry(ctx, logger, s, key, v)
		}
	}
	logger.InfoContext(ctx, "cookiesession/migrate: gorilla session carried", slog.Int("values", len(values)))
}

// refusals paces the Warns of the three kinds of cookie gorilla cannot
// read, each once a minute, so that a flood of forged cookies does not
// hide another kind's fix, and that of an old cookie a carry keeps.
type refusals struct{ unreadable, undecodable, outlived, kept everyMinute }

func refuse(ctx context.Context, logger *slog.Logger, c *http.Cookie, err error, refused *refusals) {
	if cause := valuesError(err); cause != nil {
		logger.Log(ctx, refused.undecodable.level(), "cookiesession/migrate: gorilla cookie opened under the old keys, but its values do not decode; the user signs in again (at warn level once a minute, the others at debug)",
			slog.String("cookie", c.Name), slog.String("error", cause.Error()),
			slog.String("fix", "gob.Register the types the old app stored, as it did; a FilesystemStore's cookie holds an id, not the values, and FromGorilla reads a CookieStore's"))
		return
	}
	if outlived(err) {
		logger.Log(ctx, refused.outlived.level(), "cookiesession/migrate: gorilla cookie opened under the old keys, but is older than the old store's MaxAge; the user signs in again (at warn level once a minute, the others at debug)",
			slog.String("cookie", c.Name), slog.String("error", err.Error()),
			slog.String("fix", "none if the old app refused it too; if it called store.MaxAge(n), call oldStore.MaxAge(n) on the store given to FromGorilla (NewCookieStore's is 30 days)"))
		return
	}
	// Forged, or every one: the old store's keys are wrong.
	logger.Log(ctx, refused.unreadable.level(), "cookiesession/migrate: gorilla cookie not readable; the user signs in again (at warn level once a minute, the others at debug)",
		slog.String("cookie", c.Name), slog.String("error", err.Error()),
		slog.String("fix", "none for a forged cookie; if every old cookie is refused, give the old store the keys the old deployment used"))
}

// outlived reports whether a codec authenticated the cookie and then
// refused its timestamp as older than its MaxAge: securecookie checks the
// MAC first, and its expired-timestamp error is unexported, so its text
// tells it.
func outlived(err error) bool {
	var codecs securecookie.MultiError
	if errors.As(err, &codecs) {
		for _, err := range codecs {
			if err.Error() == "securecookie: expired timestamp" {
				return true
			}
		}
	}
	return false
}

// valuesError returns the error of a codec that authenticated and
// decrypted the cookie but could not decode its values, or nil: the one
// securecookie error whose cause is the serializer's, itself a
// securecookie.Error. DecodeMulti's error text shows only its first
// codec's error, a MAC mismatch under a key rotated out.
func valuesError(err error) error {
	var codecs securecookie.MultiError
	if !errors.As(err, &codecs) {
		return nil
	}
	for _, err := range codecs {
		var e securecookie.Error
		if errors.As(err, &e) {
			if _, ok := e.Cause().(securecookie.Error); ok {
				return err
			}
		}
	}
	return nil
}
