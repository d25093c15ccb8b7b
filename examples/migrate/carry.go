package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// carry stores an old session's value in s: as it is if the session holds
// its type, a list of strings (gorilla's AddFlash(v, "error")) as a
// []string, one of a type of its own over a kind the session holds (type
// Role string) as that kind, which GetAs[Role] reads back, else as JSON
// (read it back with GetJSON). A value neither
// takes is logged at Warn with its key and type, and not carried; so is
// one whose key s holds already with another value, as when two old
// sessions (gorilla's "auth" and "prefs") are carried into one.
func carry(ctx context.Context, logger *slog.Logger, s *cookiesession.Session, key string, v any) {
	v = underlying(key, stringList(v))
	if held, ok := s.Get(key); ok {
		if !same(held, v) {
			notCarried(ctx, logger, key, v, errors.New("the session holds this key already, from another old session carried into it, whose value is kept: carry each old cookie into a Manager of its own, stacked, or rename the key in one of them"))
		}
		return
	}
	var probe cookiesession.Values // Set here refuses a type without logging
	err := probe.Set(key, v)
	if err == nil {
		err = s.Set(key, v)
	} else {
		err = s.SetJSON(key, v)
	}
	if err != nil {
		notCarried(ctx, logger, fmt.Sprint(key), v, err)
	}
}

// stringList returns v, a []any that holds only strings, as a []string,
// which GetStrings reads; JSON would hide the list from it. Any other v
// is returned as it is.
func stringList(v any) any {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return v
	}
	out := make([]string, len(list))
	for i, item := range list {
		if out[i], ok = item.(string); !ok {
			return v
		}
	}
	return out
}

// underlying returns v, of a type of its own over a kind the session holds
// (type Role string, type UserID int64, type Tags []string, which gob
// needed registered), as that kind: what Set's error for such a type tells
// the new app to store, and GetAs[Role] reads back. Stored as JSON, it
// would read back from GetAs as missing, and from GetString as a zero.
// Any other v is returned as it is.
func underlying(key string, v any) any {
	var probe cookiesession.Values // Set here refuses a type without logging
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || probe.Set(key, v) == nil {
		return v
	}
	for _, t := range kinds {
		if t.Kind() == rv.Kind() && rv.Type().ConvertibleTo(t) {
			return rv.Convert(t).Interface()
		}
	}
	return v
}

// kinds are the types of the values a session holds that a type of its
// own can have as its underlying type.
var kinds = []reflect.Type{
	reflect.TypeFor[bool](), reflect.TypeFor[string](), reflect.TypeFor[[]byte](),
	reflect.TypeFor[[]string](), reflect.TypeFor[map[string]string](),
	reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[int16](), reflect.TypeFor[int32](), reflect.TypeFor[int64](),
	reflect.TypeFor[uint](), reflect.TypeFor[uint8](), reflect.TypeFor[uint16](), reflect.TypeFor[uint32](), reflect.TypeFor[uint64](),
	reflect.TypeFor[float32](), reflect.TypeFor[float64](),
}

// same reports whether held, a session's value, is v as carry stores it.
func same(held, v any) bool {
	if raw, ok := held.(json.RawMessage); ok {
		if _, isRaw := v.(json.RawMessage); !isRaw {
			b, err := json.Marshal(v)
			return err == nil && bytes.Equal(raw, b)
		}
	}
	return reflect.DeepEqual(held, v)
}

func notCarried(ctx context.Context, logger *slog.Logger, key string, v any, err error, attrs ...any) {
	notCarriedAt(ctx, logger, slog.LevelWarn, key, v, err, attrs...)
}

func notCarriedAt(ctx context.Context, logger *slog.Logger, level slog.Level, key string, v any, err error, attrs ...any) {
	attrs = append([]any{slog.String("key", key), slog.String("type", fmt.Sprintf("%T", v)), slog.String("error", err.Error())}, attrs...)
	logger.Log(ctx, level, "cookiesession/migrate: a value of the old session was not carried", attrs...)
}

// everyMinute passes a line a flood of requests may log at Warn once a
// minute, and at Debug in between.
type everyMinute struct{ last atomic.Int64 } // Unix nanoseconds

func (e *everyMinute) level() slog.Level {
	now, last := time.Now().UnixNano(), e.last.Load()
	if (last == 0 || now-last >= int64(time.Minute)) && e.last.CompareAndSwap(last, now) {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

// mustSession returns the session of mgr's Handler, and panics outside
// it, where nothing would save what the middleware carries: at the first
// request, not only at a migrating user's.
func mustSession(mgr *cookiesession.Manager, r *http.Request) *cookiesession.Session {
	s := mgr.FromContext(r.Context())
	if s == nil {
		panic("cookiesession/migrate: the middleware runs outside mgr's Handler, where nothing would save what it carries: wrap the handler with Manager.Handler, as mgr.Handler(migrate.FromGorilla(...)(mux))")
	}
	return s
}

// oldCookie is where the old app's cookie lives: its name, and the Path
// and Domain it was set with ("" for a Path is the directory of the URL
// that set it, as a browser scopes a cookie set without one); and what
// goes wrong while the browser keeps it.
type oldCookie struct{ name, path, domain, kept string }

// warnIfKept logs at Warn, once a minute, a carry whose response, h after
// fit's Save, neither expires nor replaces the old cookie: no
// Options.Retired entry names it, or names another Path or Domain, and
// the browser keeps it (a gorilla cookie: after a logout in the new app,
// the next request carries it again and signs the user back in). A carry
// whose session was not saved into h (nothing carried, or too large) is
// not judged.
func warnIfKept(r *http.Request, logger *slog.Logger, mgr *cookiesession.Manager, h http.Header, old oldCookie, pace *everyMinute) {
	reaches := func(linePath string) bool { return linePath == old.path }
	path := old.path
	if path == "" { // set at some URL the request's path is under: any Path that covers it
		path = defaultPath(r.URL.Path)
		reaches = func(linePath string) bool { return pathMatch(r.URL.Path, linePath) }
	}
	saved := false
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			continue
		}
		saved = saved || c.Name == mgr.CookieNames()[0] && c.MaxAge >= 0
		if c.Name == old.name && reaches(c.Path) && sameDomain(c.Domain, old.domain) {
			return // expired by a Retired line, or replaced by the new cookie
		}
	}
	if !saved {
		return
	}
	logger.Log(r.Context(), pace.level(), "cookiesession/migrate: the response that carries the old session does not expire the old cookie, so "+old.kept+" (at warn level once a minute, the others at debug)",
		slog.String("cookie", old.name),
		slog.String("fix", fmt.Sprintf("list cookiesession.RetiredCookie{Name: %q, Path: %q, Domain: %q} in Options.Retired", old.name, path, old.domain)))
}

// defaultPath is the Path a browser gives a cookie set without one in
// answer to urlPath (RFC 6265, section 5.1.4).
func defaultPath(urlPath string) string {
	i := strings.LastIndexByte(urlPath, '/')
	if i <= 0 {
		return "/"
	}
	return urlPath[:i]
}

// pathMatch reports whether a cookie of Path cookiePath is sent with a
// request for urlPath (RFC 6265, section 5.1.4).
func pathMatch(urlPath, cookiePath string) bool {
	rest, ok := strings.CutPrefix(urlPath, cookiePath)
	return ok && (rest == "" || strings.HasSuffix(cookiePath, "/") || rest[0] == '/')
}

func sameDomain(a, b string) bool {
	return strings.EqualFold(strings.TrimPrefix(a, "."), strings.TrimPrefix(b, "."))
}
