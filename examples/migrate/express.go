package migrate

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// ExpressSession is what FromExpress needs of the old app's
// express-session: its options, and a way to read its store.
type ExpressSession struct {
	Name    string   // its name; "" is express's default, connect.sid
	Secrets []string // its secret, every one: each verifies a cookie's signature, as in express
	Path    string   // its cookie.path; "" is express's default, "/"
	Domain  string   // its cookie.domain; "" for none (host-only)
	// Lookup returns the JSON the old store holds for the session id sid
	// (connect-redis's value under "sess:"+sid, connect-pg-simple's sess
	// column), or nil and a nil error when it holds none: a session
	// ended by a logout or expired from the store. An error means the
	// store could not answer.
	Lookup func(ctx context.Context, sid string) ([]byte, error)
}

// FromExpress returns middleware, to run inside mgr's Handler, that
// carries the express-session session the request's old cookie names into
// a request whose cookie mgr did not open. The cookie's signature is
// verified with old.Secrets, and an unsigned or wrongly signed one refused,
// as express refuses it. List the old cookie in Options.Retired, unless it
// has mgr's own Name, Path and Domain: the response that saves the new
// session expires it (a carry whose response does not is logged at Warn
// with the entry to add). The old session is left in its store. A session
// whose cookie.expires is past is not carried, nor one with no values.
// When Lookup fails, the request is answered 503 before the session is
// used, so that no cookie is touched and the next request tries again; a
// request whose cookie mgr opens does not look the old one up
// (TestExpressSignedInSkipsLookup).
//
// Values keep their JSON type: a string as a string, true and false as a
// bool, null as nil, a number as an int64 if it is an integer of at most
// 2**53 - 1 either way (JavaScript's safe integers), else as the float64
// JavaScript held (each read by the numeric getters), a list of
// strings as a []string (GetStrings), and any other list or object as the
// store's JSON (GetJSON). An express cookie with an expires date (a
// cookie.maxAge) is carried as a persistent cookie, one without as a
// browser-session cookie, each under the Manager's MaxAge.
func FromExpress(mgr *cookiesession.Manager, old ExpressSession, logger *slog.Logger) func(http.Handler) http.Handler {
	if len(old.Secrets) == 0 || old.Lookup == nil {
		panic("cookiesession/migrate: FromExpress needs the old app's Secrets, each secret it verified cookies with, and a Lookup that reads its store")
	}
	old.Name = cmp.Or(old.Name, "connect.sid")
	where := oldCookie{old.Name, cmp.Or(old.Path, "/"), old.Domain,
		"after a logout the next request carries it again and, while the old store holds its session, signs the user back in"}
	refused := new(expressRefusals)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := mustSession(mgr, r)
			if c, err := r.Cookie(old.Name); err == nil {
				value, _ := url.PathUnescape(c.Value) // express's cookie module decodes it so
				signed, isSigned := strings.CutPrefix(value, "s:")
				// Under mgr's Name, an unsigned cookie is one of mgr's own.
				// Beside a cookie of mgr's that opens, the old one is not
				// looked up: a failing store would answer 503 to users
				// the new app signed in (the old app, serving beside it
				// in a rollout, sets it again); using s has the response
				// expire it if it is in Options.Retired.
				if isSigned || old.Name != mgr.CookieNames()[0] {
					if old.Name != mgr.CookieNames()[0] && hasCookie(r, mgr.CookieNames()[0]) && !s.IsNew() {
						next.ServeHTTP(w, r)
						return
					}
					if !fromExpress(w, r, mgr, s, old, signed, isSigned, logger, refused) {
						return // answered 503
					}
					warnIfKept(r, logger, mgr, w.Header(), where, &refused.kept)
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// hasCookie reports whether r carries a cookie named name.
func hasCookie(r *http.Request, name string) bool {
	_, err := r.Cookie(name)
	return err == nil
}

// expressRefusals paces the Warns of the express cookies FromExpress
// cannot carry, each kind once a minute, as refusals does gorilla's.
type expressRefusals struct{ unsigned, missing, unreadable, kept everyMinute }

// fromExpress carries the session of the cookie value signed (without its
// "s:") into s, if s is new, and reports false if it answered 503. It
// asks s only once the store has answered: a session used, even by
// IsNew, has the response expire the Options.Retired cookies, and a 503
// must leave the old cookie for the next try.
func fromExpress(w http.ResponseWriter, r *http.Request, mgr *cookiesession.Manager, s *cookiesession.Session, old ExpressSession, signed string, isSigned bool, logger *slog.Logger, refused *expressRefusals) bool {
	ctx := r.Context()
	sid, ok := unsign(signed, old.Secrets)
	if !isSigned || !ok {
		logger.Log(ctx, refused.unsigned.level(), "cookiesession/migrate: express cookie unsigned or wrongly signed; the user signs in again (at warn level once a minute, the others at debug)",
			slog.String("cookie", old.Name), slog.Bool("signed", isSigned),
			slog.String("fix", "none for a forged cookie; if every old cookie is refused, give FromExpress every secret the old app's secret option listed"))
		return true
	}
	b, err := old.Lookup(ctx, sid)
	switch {
	case err != nil:
		logger.ErrorContext(ctx, "cookiesession/migrate: express store failed; answered 503", slog.String("error", err.Error()))
		http.Error(w, "session store unavailable, try again", http.StatusServiceUnavailable)
		return false
	case b == nil:
		logger.Log(ctx, refused.missing.level(), "cookiesession/migrate: express session not in the old store; the user signs in again (at warn level once a minute, the others at debug)",
			slog.String("fix", "none for a session that ended (a logout, or the store's TTL); if every old session is missing, make Lookup read the key the old store wrote (connect-redis: its prefix, \"sess:\" by default, and the id)"))
		return true
	}
	values, expires, err := expressValues(b)
	switch {
	case err != nil:
		logger.Log(ctx, refused.unreadable.level(), "cookiesession/migrate: express session not readable; the user signs in again (at warn level once a minute, the others at debug)",
			slog.String("error", err.Error()),
			slog.String("fix", "make Lookup return the JSON the old store holds for the id, as JSON.stringify wrote the session (connect-redis's default serializer)"))
		return true
	case expires != nil && !expires.After(time.Now()):
		logger.DebugContext(ctx, "cookiesession/migrate: express session expired, as express would refuse it; the user signs in again", slog.Time("expires", *expires))
		return true
	case !s.IsNew(): // mgr opened its own
		return true
	case len(values) == 0:
		// saveUninitialized (express's default) stores a session for
		// every visitor: its Lifetime alone would be saved, a cookie for
		// each (TestExpressEmptySessionNotCarried).
		return true
	}
	if err := s.SetLifetime(cookiesession.Lifetime{BrowserSession: expires == nil}); err != nil {
		notCarried(ctx, logger, "cookie.expires", expires, err)
	}
	keys, left := affordable(mgr, values)
	for i, k := range left {
		tooLarge(r, logger, k, values[k], size(values[k]), i)
	}
	for _, k := range keys {
		carry(ctx, logger, s, k, values[k])
	}
	logger.InfoContext(ctx, "cookiesession/migrate: express session carried", slog.Int("values", len(values)))
	fit(w, r, mgr, s, logger, left)
	return true
}

// unsign returns the session id of signed, an express-session cookie's
// value after its "s:": the id, a dot, and the base64 (unpadded) of the
// HMAC-SHA256 of the id under one of secrets (cookie-signature's sign).
func unsign(signed string, secrets []string) (string, bool) {
	i := strings.LastIndexByte(signed, '.')
	if i < 0 {
		return "", false
	}
	sid, sig := signed[:i], []byte(signed[i+1:])
	for _, secret := range secrets {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(sid))
		if hmac.Equal(sig, []byte(base64.RawStdEncoding.EncodeToString(mac.Sum(nil)))) {
			return sid, true
		}
	}
	return "", false
}

// expressValues returns the values of b, an express session's JSON, as
// FromExpress's doc says they are carried, and its cookie's expires date,
// nil for a browser-session cookie.
func expressValues(b []byte) (map[string]any, *time.Time, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return nil, nil, err
	}
	var cookie struct {
		Expires *time.Time `json:"expires"` // JSON.stringify writes a Date in RFC 3339
	}
	if c := members["cookie"]; len(c) == 0 || c[0] != '{' || json.Unmarshal(c, &cookie) != nil {
		return nil, nil, errors.New("no cookie member, an object whose expires is a date or null")
	}
	delete(members, "cookie")
	values := make(map[string]any, len(members))
	for k, raw := range members {
		values[k] = expressValue(raw)
	}
	return values, cookie.Expires, nil
}

// expressValue is raw, valid JSON, as FromExpress carries it.
func expressValue(raw json.RawMessage) any {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	switch v := v.(type) {
	case float64:
		// JS writes the shortest text that reads back as its float64:
		// 2**60 as 1152921504606847000, 24 over the value it holds.
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil && -maxSafeInteger <= n && n <= maxSafeInteger {
			return n
		}
	case []any:
		if list, ok := stringList(v).([]string); ok {
			return list
		}
		return raw
	case map[string]any:
		return raw
	}
	return v
}

// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER, 2**53 - 1: past
// it, not every integer is a float64.
const maxSafeInteger = 1<<53 - 1
