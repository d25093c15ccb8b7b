package fibersession_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/cache"
	"github.com/gofiber/fiber/v3/middleware/cors"
	recoverer "github.com/gofiber/fiber/v3/middleware/recover"
	"github.com/gofiber/fiber/v3/middleware/static"
	"github.com/google/go-cmp/cmp"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

func TestLoginThenRead(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := newApp(m)
	j := newJar()

	r := do(t, app, http.MethodPost, "/set?key=user&value=ada", j)
	if r.status != http.StatusOK {
		t.Fatalf("login: status %d, body %q", r.status, r.body)
	}
	if diff := cmp.Diff([]string{"session"}, r.names(t)); diff != "" {
		t.Fatalf("login Set-Cookie names (-want +got):\n%s", diff)
	}
	line := r.setCookie[0]
	for _, attr := range []string{"; Max-Age=86400", "; Path=/", "; HttpOnly", "; Secure", "; SameSite=Lax"} {
		if !strings.Contains(line, attr) {
			t.Errorf("Set-Cookie %q lacks %q", line, attr)
		}
	}
	if got := r.header.Values("Vary"); !slices.Contains(got, "Cookie") {
		t.Errorf("login Vary = %q, want Cookie", got)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("login Cache-Control = %q, want no-store", got)
	}

	r = do(t, app, http.MethodGet, "/get?key=user", j)
	if r.status != http.StatusOK || r.body != "ada" {
		t.Fatalf("read: status %d, body %q; want 200 ada", r.status, r.body)
	}
	if len(r.setCookie) != 0 {
		t.Errorf("a read-only request set cookies: %q", r.setCookie)
	}
	if got := r.header.Values("Vary"); !slices.Contains(got, "Cookie") {
		t.Errorf("read Vary = %q, want Cookie", got)
	}
}

func TestUntouchedRouteSetsNothing(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := newApp(m)
	j := newJar()
	do(t, app, http.MethodPost, "/set?key=user&value=ada", j)
	for name, j := range map[string]*jar{"valid cookie": j, "garbage cookie": {values: map[string]string{"session": "garbage"}}} {
		r := do(t, app, http.MethodGet, "/plain", j)
		if r.status != http.StatusOK || r.body != "no session here" {
			t.Errorf("%s: status %d, body %q", name, r.status, r.body)
		}
		for _, h := range []string{"Set-Cookie", "Vary", "Cache-Control"} {
			if got := r.header.Values(h); len(got) != 0 {
				t.Errorf("%s: untouched route sent %s: %q", name, h, got)
			}
		}
	}
}

func TestChunkedSession(t *testing.T) {
	m := newManager(t, cookiesession.Options{MaxChunks: 3})
	app := newApp(m)
	j := newJar()

	r := do(t, app, http.MethodPost, "/big?n=4000", j)
	if r.status != http.StatusOK {
		t.Fatalf("store: status %d, body %q", r.status, r.body)
	}
	// Over two cookies, the third is expired too: a parallel response
	// with three chunks may have landed first.
	if diff := cmp.Diff([]string{"session", "session.1", "session.2"}, r.names(t)); diff != "" {
		t.Fatalf("a 4000-byte value: Set-Cookie names (-want +got):\n%s", diff)
	}
	if r.expired(t, "session.1") || !r.expired(t, "session.2") {
		t.Errorf("a 4000-byte value: want session.1 set and session.2 expired, got %q", r.setCookie)
	}
	for _, line := range r.setCookie {
		pair, _, _ := strings.Cut(line, ";")
		name, value, _ := strings.Cut(pair, "=")
		if len(name)+len(value) > 4096 {
			t.Errorf("chunk %s: name and value are %d bytes, over 4096", name, len(name)+len(value))
		}
	}

	r = do(t, app, http.MethodGet, "/get?key=big", j)
	if r.body != strings.Repeat("b", 4000) {
		t.Fatalf("read back %d bytes, want the 4000 stored", len(r.body))
	}
	if len(r.setCookie) != 0 {
		t.Errorf("reading a chunked session set cookies: %q", r.names(t))
	}

	r = do(t, app, http.MethodPost, "/big?n=10", j)
	if diff := cmp.Diff([]string{"session", "session.1"}, r.names(t)); diff != "" {
		t.Fatalf("shrunk session: Set-Cookie names (-want +got):\n%s", diff)
	}
	if r.expired(t, "session") || !r.expired(t, "session.1") {
		t.Errorf("shrunk session: want session set and session.1 expired, got %q", r.setCookie)
	}
	if diff := cmp.Diff([]string{"session"}, j.names()); diff != "" {
		t.Errorf("cookies held after shrinking (-want +got):\n%s", diff)
	}
	if r = do(t, app, http.MethodGet, "/get?key=big", j); r.body != "bbbbbbbbbb" {
		t.Errorf("after shrinking read %q", r.body)
	}
}

// The chunks may come in separate Cookie header lines, as some proxies
// send them, and a middleware may have read a cookie first.
func TestChunksAcrossCookieLines(t *testing.T) {
	m := newManager(t, cookiesession.Options{MaxChunks: 3})
	app := fiber.New(fiber.Config{ReadBufferSize: 16 << 10})
	app.Use(func(c fiber.Ctx) error {
		if theme := c.Cookies("theme"); theme != "dark" && c.Method() == http.MethodGet {
			return fmt.Errorf("theme cookie %q", theme)
		}
		return c.Next()
	})
	app.Use(newApp(m))
	j := newJar()
	do(t, app, http.MethodPost, "/big?n=4000", j)
	req := httptest.NewRequest(http.MethodGet, "https://example.test/get?key=big", nil)
	req.Header["Cookie"] = []string{"theme=dark; session.1=" + j.values["session.1"], "session=" + j.values["session"]}
	r := send(t, app, req, nil)
	if r.body != strings.Repeat("b", 4000) || len(r.setCookie) != 0 {
		t.Errorf("two Cookie lines: read %d bytes, Set-Cookie %q; want 4000 and none", len(r.body), r.setCookie)
	}
}

func TestTooLargeKeepsOldCookie(t *testing.T) {
	var logged bytes.Buffer
	setDefaultLogger(t, slog.New(slog.NewTextHandler(&logged, nil)))

	m := newManager(t, cookiesession.Options{MaxChunks: 3})
	app := newApp(m)
	app.Post("/big-redirect", func(c fiber.Ctx) error {
		c.Cookie(&fiber.Cookie{Name: "session.2", Value: "handler"})
		c.Set("CDN-Cache-Control", "max-age=600")
		c.Set("Surrogate-Control", "max-age=600")
		if err := fibersession.Get(c, m).Set("big", strings.Repeat("b", 13000)); err != nil {
			return err
		}
		return c.Redirect().To("/elsewhere")
	})
	j := newJar()
	do(t, app, http.MethodPost, "/set?key=user&value=ada", j)
	before := j.clone()

	for _, target := range []string{"/big?n=13000", "/big-redirect"} {
		r := do(t, app, http.MethodPost, target, j)
		if r.status != http.StatusInternalServerError || r.body != "Internal Server Error" {
			t.Errorf("%s: status %d, body %q; want the default 500", target, r.status, r.body)
		}
		if got := r.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", target, got)
		}
		if got := r.header.Get("Location"); got != "" {
			t.Errorf("%s: the 500 keeps the handler's Location %q", target, got)
		}
		for _, field := range []string{"CDN-Cache-Control", "Surrogate-Control"} {
			if got := r.header.Get(field); got != "" && got != "no-store" {
				t.Errorf("%s: the 500 keeps the handler's %s %q, which lets a CDN keep it", target, field, got)
			}
		}
		if len(r.setCookie) != 0 {
			t.Errorf("%s: too-large response sets cookies %q", target, r.setCookie)
		}
	}
	if diff := cmp.Diff(before.values, j.values); diff != "" {
		t.Errorf("the client's cookies changed (-before +after):\n%s", diff)
	}
	if r := do(t, app, http.MethodGet, "/get?key=user", j); r.body != "ada" {
		t.Errorf("after too-large, read %q; want the old session's ada", r.body)
	}
	if !strings.Contains(logged.String(), "cookiesession: cannot save session") {
		t.Errorf("default ErrorHandler logged %q", logged.String())
	}
}

func TestTooLargeCustomErrorHandler(t *testing.T) {
	var got error
	m := newManager(t, cookiesession.Options{})
	app := newApp(m, fibersession.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
		got = err
		return c.Status(http.StatusRequestEntityTooLarge).SendString("too big")
	}})
	r := do(t, app, http.MethodPost, "/big?n=5000", newJar())
	if r.status != http.StatusRequestEntityTooLarge || r.body != "too big" {
		t.Errorf("status %d, body %q; want the ErrorHandler's 413", r.status, r.body)
	}
	if !errors.Is(got, cookiesession.ErrTooLarge) {
		t.Errorf("ErrorHandler got %v, want ErrTooLarge", got)
	}
	if len(r.setCookie) != 0 {
		t.Errorf("too-large response sets cookies %q", r.setCookie)
	}
}

// TestErrorHandlerChangeLogged: a Config.ErrorHandler that answers a
// session too large by trimming it and adding a flash changes a session
// whose save failed. The change is not saved, the client keeps its previous
// cookie, and the Warn says so, not that the handler wrote too soon.
func TestErrorHandlerChangeLogged(t *testing.T) {
	var log bytes.Buffer
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	app := newApp(m, fibersession.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
		s := fibersession.Get(c, m)
		s.Delete("big")
		s.AddFlash("too big")
		return c.Redirect().Status(http.StatusSeeOther).To("/")
	}})
	r := do(t, app, http.MethodPost, "/big?n=5000", newJar())
	if r.status != http.StatusSeeOther || len(r.setCookie) != 0 {
		t.Errorf("status %d, Set-Cookie %q; want the ErrorHandler's 303 and no cookie", r.status, r.setCookie)
	}
	if line := log.String(); strings.Count(line, "level=WARN") != 1 || !strings.Contains(line, "after its save failed") || !strings.Contains(line, "an adapter's") {
		t.Errorf("log:\n%s\nwant one Warn naming the failed save and the ErrorHandler", line)
	}
}

func TestLogoutExpiresEveryChunk(t *testing.T) {
	m := newManager(t, cookiesession.Options{MaxChunks: 3})
	app := newApp(m)
	j := newJar()
	do(t, app, http.MethodPost, "/big?n=4000", j)
	if len(j.values) != 2 {
		t.Fatalf("setup: want 2 chunks, hold %q", j.names())
	}
	r := do(t, app, http.MethodPost, "/logout", j)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Errorf("logout: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	if diff := cmp.Diff([]string{"session", "session.1"}, r.names(t)); diff != "" {
		t.Fatalf("logout Set-Cookie names (-want +got):\n%s", diff)
	}
	if !r.expired(t, "session") || !r.expired(t, "session.1") {
		t.Errorf("logout does not expire every chunk: %q", r.setCookie)
	}
	if len(j.values) != 0 {
		t.Errorf("after logout the client holds %q", j.names())
	}
}

// A cookie of our name that the handler set is replaced, never sent
// beside ours; the handler's other cookies stay.
func TestHandlerCookieOfOurNameReplaced(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := newApp(m)
	app.Post("/mixed", func(c fiber.Ctx) error {
		c.Cookie(&fiber.Cookie{Name: "session", Value: "stale"})
		c.Cookie(&fiber.Cookie{Name: "theme", Value: "dark"})
		return fibersession.Get(c, m).Set("user", "ada")
	})
	j := newJar()
	r := do(t, app, http.MethodPost, "/mixed", j)
	names := r.names(t)
	slices.Sort(names)
	if diff := cmp.Diff([]string{"session", "theme"}, names); diff != "" {
		t.Fatalf("Set-Cookie names (-want +got):\n%s", diff)
	}
	if j.values["session"] == "stale" {
		t.Error("the handler's session=stale reached the client")
	}
	if r := do(t, app, http.MethodGet, "/get?key=user", j); r.body != "ada" {
		t.Errorf("read %q, want ada", r.body)
	}
}

func TestVaryAndCacheControlRules(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := newApp(m)
	app.Post("/cc", func(c fiber.Ctx) error {
		c.Vary("Accept-Encoding")
		c.Set("Cache-Control", c.Query("cc"))
		return fibersession.Get(c, m).Set("user", "ada")
	})
	for cc, want := range map[string]string{"private": "private", "public, max-age=60": "no-store", "no-store": "no-store"} {
		r := do(t, app, http.MethodPost, "/cc?cc="+strings.ReplaceAll(cc, " ", "+"), newJar())
		if got := r.header.Values("Cache-Control"); !slices.Equal(got, []string{want}) {
			t.Errorf("handler's Cache-Control %q: sent %q, want %q", cc, got, want)
		}
		vary := strings.Join(r.header.Values("Vary"), ", ")
		if !strings.Contains(vary, "Accept-Encoding") || strings.Count(vary, "Cookie") != 1 {
			t.Errorf("Vary %q: want the handler's Accept-Encoding and Cookie once", vary)
		}
		if len(r.linesFor("session")) != 1 {
			t.Errorf("Set-Cookie %q: want one session line", r.setCookie)
		}
	}
}

// TestTargetedCacheControlNoStore checks that a CDN's own cache field
// becomes no-store beside a cookie, as in the core: the CDN obeys it in
// place of Cache-Control.
func TestTargetedCacheControlNoStore(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := newApp(m)
	app.Post("/cdn", func(c fiber.Ctx) error {
		c.Set(c.Query("key"), "public, max-age=600")
		if c.Query("set") == "" {
			return nil
		}
		return fibersession.Get(c, m).Set("user", "ada")
	})
	for _, key := range []string{"CDN-Cache-Control", "Cloudflare-CDN-Cache-Control", "Surrogate-Control"} {
		r := do(t, app, http.MethodPost, "/cdn?set=1&key="+key, newJar())
		if got := r.header.Values(key); len(r.setCookie) != 1 || !slices.Equal(got, []string{"no-store"}) {
			t.Errorf("%s beside Set-Cookie %q: sent %q, want no-store", key, r.setCookie, got)
		}
		if r := do(t, app, http.MethodPost, "/cdn?key="+key, newJar()); r.header.Get(key) != "public, max-age=600" {
			t.Errorf("%s without a cookie: sent %q, want the handler's", key, r.header.Get(key))
		}
	}
}

// TestCacheMiddlewareVariesOnCookie checks that fiber's cache middleware,
// outside the session's, keys a page that reads the session on the
// session's cookie when the response had a Vary already (cors, for a
// request without Origin): fasthttp and fiber's middleware read the first
// Vary line alone, so Cookie must share it, or one user gets another's page.
func TestCacheMiddlewareVariesOnCookie(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := fiber.New()
	app.Use(cache.New(), cors.New(cors.Config{AllowOrigins: []string{"https://app.example"}}), fibersession.New(m))
	app.Post("/login", func(c fiber.Ctx) error { return fibersession.Get(c, m).Set("user", c.Query("user")) })
	app.Get("/me", func(c fiber.Ctx) error { return c.SendString("user=" + fibersession.Get(c, m).GetString("user")) })
	ada, bob := newJar(), newJar()
	do(t, app, http.MethodPost, "/login?user=ada", ada)
	do(t, app, http.MethodPost, "/login?user=bob", bob)
	first := do(t, app, http.MethodGet, "/me", ada)
	if got := first.header.Values("Vary"); !slices.Equal(got, []string{"Origin, Cookie"}) {
		t.Errorf("Vary %q, want one line \"Origin, Cookie\"", got)
	}
	if r := do(t, app, http.MethodGet, "/me", bob); r.body != "user=bob" {
		t.Errorf("bob's GET /me after ada's: %q (X-Cache %q); want his own page", r.body, r.header.Get("X-Cache"))
	}
}

// TestRouteCacheVariesOnCookie checks fiber's cache middleware on the
// route, below the session's (app.Get(path, cache.New(), h)): it stores
// the page when the handler returns, before the session middleware saves,
// so Get must have put Cookie in Vary by then, or a guest is served the
// page of the user who came first.
func TestRouteCacheVariesOnCookie(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := newApp(m)
	app.Get("/hello", cache.New(), func(c fiber.Ctx) error {
		c.Vary("Accept-Language")
		return c.SendString("hello " + fibersession.Get(c, m).GetString("user"))
	})
	ada := newJar()
	do(t, app, http.MethodPost, "/set?key=user&value=ada", ada)
	first := do(t, app, http.MethodGet, "/hello", ada)
	if got := first.header.Values("Vary"); !slices.Equal(got, []string{"Accept-Language, Cookie"}) {
		t.Errorf("Vary %q, want one line \"Accept-Language, Cookie\"", got)
	}
	if r := do(t, app, http.MethodGet, "/hello", newJar()); r.body != "hello " {
		t.Errorf("a guest's GET /hello after ada's: %q (X-Cache %q); want a page of its own", r.body, r.header.Get("X-Cache"))
	}
	if r := do(t, app, http.MethodGet, "/hello", ada); r.body != "hello ada" || r.header.Get("X-Cache") != "hit" {
		t.Errorf("ada's second GET /hello: %q (X-Cache %q); want her page from the cache", r.body, r.header.Get("X-Cache"))
	}
}

// TestCacheHitVary keeps README's word on fiber's cache: a page served
// from the cache carries the Vary: Cookie the session put in the stored
// response only with cache.Config{StoreResponseHeaders: true}, which a
// CDN in front needs to keep one user's page from another.
func TestCacheHitVary(t *testing.T) {
	for _, store := range []bool{false, true} {
		t.Run(fmt.Sprintf("StoreResponseHeaders=%v", store), func(t *testing.T) {
			m := newManager(t, cookiesession.Options{})
			app := newApp(m)
			app.Get("/hello", cache.New(cache.Config{StoreResponseHeaders: store}), func(c fiber.Ctx) error {
				return c.SendString("hello " + fibersession.Get(c, m).GetString("user"))
			})
			ada := newJar()
			do(t, app, http.MethodPost, "/set?key=user&value=ada", ada)
			do(t, app, http.MethodGet, "/hello", ada)
			hit := do(t, app, http.MethodGet, "/hello", ada)
			if hit.body != "hello ada" || hit.header.Get("X-Cache") != "hit" {
				t.Fatalf("second GET /hello: %q (X-Cache %q), want a hit", hit.body, hit.header.Get("X-Cache"))
			}
			if vary := strings.Contains(hit.header.Get("Vary"), "Cookie"); vary != store {
				t.Errorf("the hit's Vary %q: Cookie in it %v, want %v", hit.header.Values("Vary"), vary, store)
			}
		})
	}
}

// TestCacheAndNewSessionPage serves a page that stores a CSRF token in a
// new session to two clients without a cookie, under fiber's cache. Before
// the middleware, the cache sees the save's Cache-Control: no-store and
// keeps the page out: each guest gets a token of its own. On the route,
// below the middleware, the cache stores the page when the handler returns,
// before the save says no-store, under the key of a request without a
// cookie: the second guest gets the first one's token, and no cookie. The
// README says so, and the middleware logs it at Warn, with the fix, at the
// save of the page the cache stored.
func TestCacheAndNewSessionPage(t *testing.T) {
	for _, above := range []bool{true, false} {
		t.Run(fmt.Sprintf("above=%v", above), func(t *testing.T) {
			logged := defaultLog(t, slog.LevelWarn)
			m := newManager(t, cookiesession.Options{})
			app := fiber.New()
			if above {
				app.Use(cache.New())
			}
			app.Use(fibersession.New(m))
			issued := 0
			form := func(c fiber.Ctx) error {
				s := fibersession.Get(c, m)
				token := s.GetString("csrf")
				if token == "" {
					issued++
					token = fmt.Sprintf("token%d", issued)
					if err := s.Set("csrf", token); err != nil {
						return err
					}
				}
				return c.SendString(token)
			}
			if above {
				app.Get("/form", form)
			} else {
				app.Get("/form", cache.New(), form)
			}
			first := do(t, app, http.MethodGet, "/form", newJar())
			second := do(t, app, http.MethodGet, "/form", newJar())
			if first.body != "token1" || len(first.linesFor("session")) != 1 || first.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("first guest: %q, Set-Cookie %q, Cache-Control %q", first.body, first.setCookie, first.header.Get("Cache-Control"))
			}
			got := [2]any{second.body, len(second.linesFor("session"))}
			want := [2]any{"token2", 1}
			if !above {
				want = [2]any{"token1", 0} // the first guest's page, from the cache
			}
			if got != want {
				t.Errorf("second guest: body and Set-Cookie lines %v (X-Cache %q), want %v", got, second.header.Get("X-Cache"), want)
			}
			warned := logged.lines("cache middleware")
			if above && len(warned) > 0 {
				t.Errorf("cache before the middleware logged %q", warned)
			}
			if !above && (len(warned) != 1 || !strings.Contains(warned[0], "put cache.New() before fibersession.New(m)")) {
				t.Errorf("cache on the route: want one Warn with the fix at the first guest's page, got %q", warned)
			}
		})
	}
}

// Hostile input gets a fresh session and the cookie is cleared, never a 5xx.
func TestRefusedCookieIsCleared(t *testing.T) {
	m := newManager(t, cookiesession.Options{MaxChunks: 3})
	app := newApp(m)
	for name, cookie := range map[string]string{
		"garbage":  "session=%%%",
		"tampered": "session=AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"empty":    "session=",
	} {
		req := httptest.NewRequest(http.MethodGet, "https://example.test/get?key=user", nil)
		req.Header.Set("Cookie", cookie)
		r := send(t, app, req, nil)
		if r.status != http.StatusOK || r.body != "" {
			t.Errorf("%s: status %d, body %q; want 200 and an empty session", name, r.status, r.body)
		}
		if !r.expired(t, "session") {
			t.Errorf("%s: refused cookie not cleared: %q", name, r.setCookie)
		}
	}
	// Chunks without the first stay, as in the core: a clear would expire
	// session too, which reaches only a session a parallel response set.
	req := httptest.NewRequest(http.MethodGet, "https://example.test/get?key=user", nil)
	req.Header.Set("Cookie", "session.1=AAAA")
	if r := send(t, app, req, nil); r.status != http.StatusOK || r.body != "" || len(r.linesFor("session")) > 0 || len(r.linesFor("session.1")) > 0 {
		t.Errorf("missing chunk 0: status %d, body %q, Set-Cookie %q; want 200, an empty session and no line", r.status, r.body, r.setCookie)
	}
}

type ctxKey struct{}

// Options.Validate sees the method, path, Cookie header and the fiber
// request's context; its error refuses the session.
func TestValidateSeesTheRequest(t *testing.T) {
	type seen struct{ method, path, traceID string }
	var got []seen
	m := newManager(t, cookiesession.Options{Validate: func(r *http.Request, s *cookiesession.Session) error {
		id, _ := r.Context().Value(ctxKey{}).(string)
		got = append(got, seen{r.Method, r.URL.Path, id})
		if r.Header.Get("Cookie") == "" {
			return errors.New("no Cookie header")
		}
		if s.GetString("user") == "mallory" {
			return errors.New("revoked")
		}
		return nil
	}})
	app := fiber.New()
	app.Use(func(c fiber.Ctx) error {
		c.SetContext(context.WithValue(c.Context(), ctxKey{}, "trace-1"))
		return c.Next()
	})
	app.Use(fibersession.New(m))
	app.All("/*", func(c fiber.Ctx) error {
		s := fibersession.Get(c, m)
		if v := c.Query("user"); v != "" {
			return s.Set("user", v)
		}
		return c.SendString(s.GetString("user"))
	})

	j := newJar()
	do(t, app, http.MethodPost, "/login?user=ada", j)
	if r := do(t, app, http.MethodPut, "/some/path", j); r.body != "ada" {
		t.Errorf("valid session read %q", r.body)
	}
	want := []seen{{http.MethodPut, "/some/path", "trace-1"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(seen{})); diff != "" {
		t.Errorf("Validate saw (-want +got):\n%s", diff)
	}

	do(t, app, http.MethodPost, "/login?user=mallory", j)
	r := do(t, app, http.MethodGet, "/", j)
	if r.body != "" || !r.expired(t, "session") {
		t.Errorf("revoked session: body %q, Set-Cookie %q; want empty and cleared", r.body, r.setCookie)
	}
}

func TestStackedManagers(t *testing.T) {
	auth := newManager(t, cookiesession.Options{Name: "auth"})
	prefs := newManager(t, cookiesession.Options{Name: "prefs"})
	app := fiber.New()
	app.Use(fibersession.New(auth), fibersession.New(prefs), fibersession.New(auth))
	app.Post("/both", func(c fiber.Ctx) error {
		if err := fibersession.Get(c, auth).Set("user", "ada"); err != nil {
			return err
		}
		return fibersession.Get(c, prefs).Set("theme", "dark")
	})
	app.Post("/prefs", func(c fiber.Ctx) error {
		return fibersession.Get(c, prefs).Set("theme", c.Query("theme"))
	})
	app.Get("/", func(c fiber.Ctx) error {
		return c.SendString(fibersession.Get(c, auth).GetString("user") + "/" + fibersession.Get(c, prefs).GetString("theme"))
	})

	j := newJar()
	r := do(t, app, http.MethodPost, "/both", j)
	names := r.names(t)
	slices.Sort(names)
	if diff := cmp.Diff([]string{"auth", "prefs"}, names); diff != "" {
		t.Fatalf("Set-Cookie names (-want +got):\n%s", diff)
	}
	r = do(t, app, http.MethodPost, "/prefs?theme=light", j)
	if diff := cmp.Diff([]string{"prefs"}, r.names(t)); diff != "" {
		t.Errorf("only prefs used: Set-Cookie names (-want +got):\n%s", diff)
	}
	if r := do(t, app, http.MethodGet, "/", j); r.body != "ada/light" {
		t.Errorf("read %q, want ada/light", r.body)
	}
}

// A handler's error still goes with the session's cookie, as a net/http
// handler's error page would.
func TestHandlerErrorStillSaves(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := newApp(m)
	app.Post("/flash-and-fail", func(c fiber.Ctx) error {
		fibersession.Get(c, m).AddFlash("try again")
		return fiber.ErrTeapot
	})
	r := do(t, app, http.MethodPost, "/flash-and-fail", newJar())
	if r.status != http.StatusTeapot || len(r.linesFor("session")) != 1 {
		t.Errorf("status %d, Set-Cookie %q; want 418 with the session", r.status, r.setCookie)
	}
}

// TestFromContextPanicNamesGet reads the session with the core's
// FromContext on a route fibersession.New is on: fiber keeps the session in
// the request's locals, not in its context, so FromContext finds none, and
// the nil session's panic must name Get, not a Middleware fibersession has
// not got.
func TestFromContextPanicNamesGet(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := newApp(m)
	var msg string
	app.Get("/theme", func(c fiber.Ctx) error {
		msg = recovered(func() { cookiesession.FromContext(c.Context()).GetString("theme") })
		return nil
	})
	do(t, app, http.MethodGet, "/theme", newJar())
	if !strings.HasPrefix(msg, "cookiesession: ") || !strings.Contains(msg, "under fiber, fibersession.Get(c, m)") {
		t.Errorf("panic %q does not name fiber's fix", msg)
	}
}

// TestGetWhereNothingSaves checks that Get after the middleware returned,
// and Get of a Manager whose middleware does not run, return a session
// that reads what the request holds, logs its first change as not saved,
// and does not panic.
func TestGetWhereNothingSaves(t *testing.T) {
	var logged syncBuffer
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	m := newManager(t, cookiesession.Options{Logger: logger})
	other := newManager(t, cookiesession.Options{Name: "other", Logger: logger})
	app := fiber.New()
	var late, lateUser, missing string
	var lateSave, missingSave error
	app.Use(func(c fiber.Ctx) error {
		err := c.Next()
		late = recovered(func() {
			s := fibersession.Get(c, m)
			lateUser = s.GetString("user")
			_ = s.Set("user", "grace")
		})
		lateSave = fibersession.Save(c, m)
		return err
	})
	app.Use(fibersession.New(m))
	app.Get("/", func(c fiber.Ctx) error {
		missing = recovered(func() { _ = fibersession.Get(c, other).Set("theme", "dark") })
		missingSave = fibersession.Save(c, other)
		return fibersession.Get(c, m).Set("user", "ada")
	})
	r := do(t, app, http.MethodGet, "/", nil)
	if late != "no panic" || missing != "no panic" {
		t.Fatalf("Get after the middleware: %q; Get without one: %q; want no panic", late, missing)
	}
	if lateUser != "ada" {
		t.Errorf("Get after the middleware read user %q, want the handler's ada", lateUser)
	}
	if len(r.linesFor("session")) != 1 || len(r.linesFor("other")) != 0 {
		t.Errorf("Set-Cookie %q, want the session's alone", r.setCookie)
	}
	if !errors.Is(lateSave, cookiesession.ErrHeadersWritten) {
		t.Errorf("Save after the middleware: %v, want ErrHeadersWritten", lateSave)
	}
	if !strings.Contains(fmt.Sprint(missingSave), "no fibersession.New middleware") {
		t.Errorf("Save without the middleware: %v, want the error that says so", missingSave)
	}
	if n := len(logged.lines("the change was not saved")); n != 2 {
		t.Errorf("%d changes logged as not saved, want 2; log:\n%s", n, &logged)
	}
}

// TestGetAnswersRefusedRequest checks that an ErrorHandler that reads the
// session can answer a request fasthttp refused: fiber answers it there
// after running the app's middleware on it (whose own pass answered 405
// or 404 and returned), or without running them, and a Get that panicked
// there ended the server.
func TestGetAnswersRefusedRequest(t *testing.T) {
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.DiscardHandler)})
	j := newJar()
	do(t, newApp(m), http.MethodPost, "/set?key=user&value=ada", j)
	app := fiber.New(fiber.Config{BodyLimit: 100, ErrorHandler: func(c fiber.Ctx, err error) error {
		status := fiber.StatusInternalServerError
		if e := (*fiber.Error)(nil); errors.As(err, &e) {
			status = e.Code
		}
		return c.Status(status).SendString("sorry " + fibersession.Get(c, m).GetString("user"))
	}})
	app.Use(fibersession.New(m))
	app.Post("/", func(c fiber.Ctx) error { return c.SendString("ok") })
	send := serveRaw(t, app)
	cookie := "Cookie: " + j.header() + "\r\n"
	for _, tc := range []struct{ raw, status, body string }{
		{"POST / HTTP/1.1\r\nHost: a\r\n" + cookie + "Content-Length: 200\r\n\r\n" + strings.Repeat("x", 200),
			"413 Request Entity Too Large", "sorry ada"},
		{"POST / HTTP/1.1\r\nHost: a\r\n" + cookie + "No colon\r\n\r\n", "400 Bad Request", "sorry "},
		{"GET /\x00 HTTP/1.1\r\nHost: a\r\n" + cookie + "\r\n", "400 Bad Request", "sorry ada"},
		{"POST / HTTP/1.1\r\nHost: a\r\n" + cookie + "Content-Length: 2\r\n\r\nok", "200 OK", "ok"},
	} {
		if status, body := send(tc.raw); status != tc.status || body != tc.body {
			t.Errorf("%.40q: %s %q, want %s %q", tc.raw, status, body, tc.status, tc.body)
		}
	}
}

// Requests in parallel each keep their own session through the pooled
// per-request state (run under -race in CI).
func TestParallelRequestsKeepTheirSessions(t *testing.T) {
	m := newManager(t, cookiesession.Options{MaxChunks: 3})
	app := newApp(m)
	var wg sync.WaitGroup
	errs := make(chan string, 8*5)
	for i := range 8 {
		wg.Go(func() {
			j := newJar()
			for round := range 5 {
				want := fmt.Sprintf("client%d-round%d", i, round)
				req := httptest.NewRequest(http.MethodPost, "https://example.test/set?key=user&value="+want, nil)
				if line := j.header(); line != "" {
					req.Header.Set("Cookie", line)
				}
				res, err := app.Test(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				res.Body.Close()
				for _, c := range res.Cookies() {
					j.values[c.Name] = c.Value
				}
				req = httptest.NewRequest(http.MethodGet, "https://example.test/get?key=user", nil)
				req.Header.Set("Cookie", j.header())
				if res, err = app.Test(req); err != nil {
					errs <- err.Error()
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if string(body) != want {
					errs <- fmt.Sprintf("client %d round %d read %q", i, round, body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestReadBufferBounds checks that a session whose cookie the browser
// could not send back through fasthttp's read buffer is refused as too
// large, so the client keeps its previous cookie instead of being locked
// out with 431 before any handler runs, and that a larger buffer lifts it.
func TestReadBufferBounds(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	for _, tc := range []struct {
		buffer, n int
		fits      bool
	}{{0, 2000, true}, {0, 2900, false}, {16 << 10, 2900, true}} {
		t.Run(fmt.Sprintf("buffer %d, %d bytes", tc.buffer, tc.n), func(t *testing.T) {
			var saveErr error
			app := fiber.New(fiber.Config{ReadBufferSize: tc.buffer})
			app.Use(fibersession.New(m, fibersession.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
				saveErr = err
				return c.Status(http.StatusRequestEntityTooLarge).SendString("too large")
			}}))
			app.Post("/set", func(c fiber.Ctx) error {
				return fibersession.Get(c, m).Set("v", strings.Repeat("v", fiber.Query[int](c, "n")))
			})
			app.Get("/get", func(c fiber.Ctx) error { return c.SendString(fibersession.Get(c, m).GetString("v")) })
			j := newJar()
			do(t, app, http.MethodPost, "/set?n=10", j)
			r := do(t, app, http.MethodPost, fmt.Sprintf("/set?n=%d", tc.n), j)
			want := strings.Repeat("v", 10)
			if tc.fits {
				want = strings.Repeat("v", tc.n)
				if r.status != http.StatusOK || len(r.linesFor("session")) != 1 {
					t.Fatalf("store: %d, Set-Cookie %q", r.status, r.setCookie)
				}
			} else if r.status != http.StatusRequestEntityTooLarge || len(r.linesFor("session")) != 0 ||
				!errors.Is(saveErr, cookiesession.ErrTooLarge) || !strings.Contains(saveErr.Error(), "ReadBufferSize 4096") {
				t.Fatalf("store: %d, Set-Cookie %q, error %v; want ErrTooLarge naming ReadBufferSize and no cookie", r.status, r.setCookie, saveErr)
			}
			if r := do(t, app, http.MethodGet, "/get", j); r.status != http.StatusOK || r.body != want {
				t.Errorf("next request: %d with %d bytes, want 200 with %d", r.status, len(r.body), len(want))
			}
		})
	}
	// The bound is the buffer less 1 KB: the largest session stored under
	// the default 4 KB buffer sends back cookies of at most 3072 bytes, and
	// the one a byte larger is refused for cookies of more.
	t.Run("at the bound", func(t *testing.T) {
		var saveErr error
		app := fiber.New()
		app.Use(fibersession.New(m, fibersession.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
			saveErr = err
			return c.SendStatus(http.StatusRequestEntityTooLarge)
		}}))
		app.Post("/set", func(c fiber.Ctx) error {
			return fibersession.Get(c, m).Set("v", strings.Repeat("v", fiber.Query[int](c, "n")))
		})
		store := func(n int) response { return do(t, app, http.MethodPost, fmt.Sprintf("/set?n=%d", n), nil) }
		lo, hi := 2000, 2900 // stored, refused (the rows above)
		for hi-lo > 1 {
			if mid := (lo + hi) / 2; store(mid).status == http.StatusOK {
				lo = mid
			} else {
				hi = mid
			}
		}
		lines := store(lo).linesFor("session")
		if len(lines) != 1 {
			t.Fatalf("n=%d: Set-Cookie %q", lo, lines)
		}
		pair, _, _ := strings.Cut(lines[0], ";")
		stored := len(pair) + len("; ")
		saveErr = nil
		store(hi)
		var refused int
		_, size, _ := strings.Cut(fmt.Sprint(saveErr), "its cookies take ")
		if _, err := fmt.Sscanf(size, "%d", &refused); err != nil {
			t.Fatalf("n=%d: error %v names no size", hi, saveErr)
		}
		if stored > 3072 || stored < 3072-8 || refused <= 3072 || refused > 3072+8 {
			t.Errorf("largest stored session: cookies of %d bytes; the next refused at %d; want the bound at 4096-1024 = 3072", stored, refused)
		}
	})
}

// TestOverlappingManagers checks that two stacked Managers whose cookie
// names meet are reported on every request, naming both.
func TestOverlappingManagers(t *testing.T) {
	for _, tc := range []struct {
		outer, inner cookiesession.Options
		want         string
	}{
		{cookiesession.Options{Name: "a", MaxChunks: 2}, cookiesession.Options{Name: "a.1"}, `"a" and "a.1" both use the cookie "a.1"`},
		// The outer one's retired line would expire prefs's cookie in every
		// response that sets its own, as the core's middleware refuses.
		{cookiesession.Options{Name: "auth", Retired: []cookiesession.RetiredCookie{{Name: "prefs"}}}, cookiesession.Options{Name: "prefs"},
			`"auth" retires the cookie "prefs" of Manager "prefs"`},
		{cookiesession.Options{Name: "prefs"}, cookiesession.Options{Name: "auth", Retired: []cookiesession.RetiredCookie{{Name: "prefs"}}},
			`"auth" retires the cookie "prefs" of Manager "prefs"`},
	} {
		auth, prefs := newManager(t, tc.outer), newManager(t, tc.inner)
		var got error
		report := fibersession.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
			got = err
			return c.Status(http.StatusInternalServerError).SendString("misconfigured")
		}}
		app := fiber.New()
		app.Use(fibersession.New(auth, report), fibersession.New(prefs, report))
		ran := false
		app.Get("/", func(c fiber.Ctx) error { ran = true; return nil })
		r := do(t, app, http.MethodGet, "/", nil)
		if r.status != http.StatusInternalServerError || ran || got == nil || !strings.Contains(got.Error(), tc.want) {
			t.Errorf("overlapping Managers %q and %q: %d, handler ran %v, error %v", tc.outer.Name, tc.inner.Name, r.status, ran, got)
		}
	}
}

// TestRetiredLinesOnce checks Options.Retired through the middleware: the
// lines that expire the retired cookies come before the session's own, and
// each goes out once when an early Save wrote them already.
func TestRetiredLinesOnce(t *testing.T) {
	m := newManager(t, cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "sid"}, {Path: "/app"}}})
	app := fiber.New()
	app.Use(fibersession.New(m))
	app.Post("/login", func(c fiber.Ctx) error {
		if err := fibersession.Get(c, m).Set("user", "ada"); err != nil {
			return err
		}
		if fiber.Query[bool](c, "save") {
			if err := fibersession.Save(c, m); err != nil {
				return err
			}
		}
		return c.SendString("welcome")
	})
	for _, save := range []bool{false, true} {
		r := do(t, app, http.MethodPost, fmt.Sprintf("/login?save=%v", save), newJar())
		if got := r.names(t); !slices.Equal(got, []string{"sid", "session", "session"}) || !r.expired(t, "sid") ||
			!strings.Contains(r.setCookie[1], "Path=/app") || !strings.Contains(r.setCookie[1], "Max-Age=0") {
			t.Errorf("Save %v: Set-Cookie %q; want sid expired, then session on /app expired, then the session", save, r.setCookie)
		}
	}
}

// TestSaveBeforeEnd checks that Save puts the cookie in a response the
// handler sends itself with c.End, which the middleware's own save would
// come too late for.
func TestSaveBeforeEnd(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := fiber.New()
	app.Use(fibersession.New(m))
	app.Post("/login", func(c fiber.Ctx) error {
		s := fibersession.Get(c, m)
		s.Renew()
		if err := s.Set("user", "ada"); err != nil {
			return err
		}
		if err := fibersession.Save(c, m); err != nil {
			return err
		}
		if err := c.SendString("welcome"); err != nil {
			return err
		}
		return c.End()
	})
	app.Get("/", func(c fiber.Ctx) error { return c.SendString(fibersession.Get(c, m).GetString("user")) })
	app.Get("/unused", func(c fiber.Ctx) error { return fibersession.Save(c, m) })
	j := newJar()
	if r := do(t, app, http.MethodPost, "/login", j); r.body != "welcome" || len(r.linesFor("session")) != 1 {
		t.Fatalf("login ending with c.End: %q, Set-Cookie %q", r.body, r.setCookie)
	}
	if r := do(t, app, http.MethodGet, "/", j); r.body != "ada" {
		t.Errorf("after login: %q", r.body)
	}
	if r := do(t, app, http.MethodGet, "/unused", j); r.status != http.StatusOK || len(r.setCookie) != 0 {
		t.Errorf("Save of an unused session: %d, Set-Cookie %q", r.status, r.setCookie)
	}
	bare := fiber.New()
	bare.Get("/", func(c fiber.Ctx) error { return fibersession.Save(c, m) })
	if r := do(t, bare, http.MethodGet, "/", nil); r.status != http.StatusInternalServerError || !strings.Contains(r.body, "no fibersession.New") {
		t.Errorf("Save without the middleware: %d %q", r.status, r.body)
	}
}

// TestChangeAfterSaveWarns checks that a change the middleware can no
// longer save, made from a goroutine the handler left running, is logged,
// that a Get in a middleware above returns the session saved, and that
// Save then reports it cannot write the cookie.
func TestChangeAfterSaveWarns(t *testing.T) {
	var logged bytes.Buffer
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	var kept, above *cookiesession.Session
	var saveAfter error
	app := fiber.New()
	app.Use(func(c fiber.Ctx) error {
		err := c.Next()
		above = fibersession.Get(c, m)
		saveAfter = fibersession.Save(c, m) // the middleware below has returned
		return err
	})
	app.Use(fibersession.New(m))
	app.Post("/login", func(c fiber.Ctx) error {
		kept = fibersession.Get(c, m)
		return kept.Set("user", "ada")
	})
	if r := do(t, app, http.MethodPost, "/login", newJar()); len(r.linesFor("session")) != 1 {
		t.Fatalf("login: Set-Cookie %q", r.setCookie)
	}
	if above != kept {
		t.Errorf("Get in a middleware above the save returned %p (user %q), want the saved session %p", above, above.GetString("user"), kept)
	}
	if strings.Contains(logged.String(), "after the response was committed") {
		t.Fatalf("warned before any late change:\n%s", &logged)
	}
	if err := kept.Set("user", "late"); err != nil {
		t.Fatal(err)
	}
	kept.Touch()
	if n := strings.Count(logged.String(), "after the response was committed"); n != 1 {
		t.Errorf("changes after the middleware saved: want one warning, got:\n%s", &logged)
	}
	if !errors.Is(saveAfter, cookiesession.ErrHeadersWritten) {
		t.Errorf("Save after the middleware returned: %v, want ErrHeadersWritten", saveAfter)
	}
}

// plainHTTPWarning is in the line the core logs for a Secure cookie set in
// answer to a plain-HTTP request.
const plainHTTPWarning = "plain-HTTP request"

// TestSecureOverPlainHTTPWarns checks that the first Secure cookie set in
// answer to a plain-HTTP request to a host other than loopback is logged,
// once, naming the host; and that a request with a proxy's or a browser's
// sign of HTTPS, to a loopback host, or that sets no cookie is not. A
// plain-HTTP login after each row's requests shows the check was live.
func TestSecureOverPlainHTTPWarns(t *testing.T) {
	const login = "/set?key=user&value=ada"
	tests := []struct {
		name   string
		target string
		header [2]string
		warn   bool
	}{
		{"plain HTTP", "http://app.example" + login, [2]string{}, true},
		{"plain HTTP with a port", "http://10.0.0.7:8080" + login, [2]string{}, true},
		{"X-Forwarded-Proto https", "http://app.example" + login, [2]string{"X-Forwarded-Proto", "https"}, false},
		{"X-Forwarded-Proto http", "http://app.example" + login, [2]string{"X-Forwarded-Proto", "http"}, true},
		{"X-Forwarded-Scheme https", "http://app.example" + login, [2]string{"X-Forwarded-Scheme", "https"}, false},
		{"Forwarded", "http://app.example" + login, [2]string{"Forwarded", "for=192.0.2.60;proto=https"}, false},
		{"Origin https", "http://app.example" + login, [2]string{"Origin", "https://app.example"}, false},
		{"Referer https", "http://app.example" + login, [2]string{"Referer", "HTTPS://app.example/a/b?c=d#e"}, false},
		{"Referer http", "http://app.example" + login, [2]string{"Referer", "http://app.example/https://x"}, true},
		{"Referer of a scheme alone", "http://app.example" + login, [2]string{"Referer", "https:"}, true},
		{"localhost", "http://localhost:3000" + login, [2]string{}, false},
		{"127.0.0.1", "http://127.0.0.1:3000" + login, [2]string{}, false},
		{"::1", "http://[::1]:3000" + login, [2]string{}, false},
		{"no cookie to set", "http://app.example/get?key=user", [2]string{}, false},
		// app.Test writes httptest.NewRequest's https:// target as an
		// absolute request line, which net/http's server reads as
		// URL.Scheme https, and the core then does not log.
		{"https request line", "https://app.example" + login, [2]string{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logged syncBuffer
			m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			app := newApp(m)
			method := map[bool]string{true: http.MethodPost, false: http.MethodGet}[strings.Contains(tt.target, "/set")]
			for range 2 {
				req := httptest.NewRequest(method, tt.target, nil)
				if tt.header[0] != "" {
					req.Header.Set(tt.header[0], tt.header[1])
				}
				if r := send(t, app, req, nil); r.status != http.StatusOK {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
			}
			warns := logged.lines(plainHTTPWarning)
			if want := map[bool]int{true: 1, false: 0}[tt.warn]; len(warns) != want {
				t.Fatalf("%d warnings, want %d; log:\n%s", len(warns), want, &logged)
			}
			if tt.warn && (!strings.Contains(warns[0], "level=WARN") || !strings.Contains(warns[0], "host="+httptest.NewRequest(method, tt.target, nil).Host)) {
				t.Errorf("the warning is not a Warn naming the host: %s", warns[0])
			}
			if dropped := m.Metrics().Dropped["plain_http"]; (dropped > 0) != tt.warn {
				t.Errorf("Dropped[plain_http] = %d after a row with warn %v", dropped, tt.warn)
			}
			send(t, app, httptest.NewRequest(http.MethodPost, "http://app.example"+login, nil), nil)
			if warns := logged.lines(plainHTTPWarning); len(warns) != 1 {
				t.Errorf("after a plain-HTTP login: %d warnings, want 1; log:\n%s", len(warns), &logged)
			}
		})
	}
}

// TestSecureOverTLSDoesNotWarn checks that a request over a TLS connection
// to a host other than loopback, with no other sign of HTTPS, is not
// logged as plain HTTP, and that the same request over plain HTTP is.
func TestSecureOverTLSDoesNotWarn(t *testing.T) {
	var logged syncBuffer
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	app := newApp(m)
	client := serveTLS(t, app)
	for range 2 {
		res, err := client.Post("https://example.com/set?key=user&value=ada", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if c := res.Cookies(); res.StatusCode != http.StatusOK || len(c) != 1 || !c[0].Secure {
			t.Fatalf("status %d, Set-Cookie %q: want 200 and one Secure cookie", res.StatusCode, res.Header.Values("Set-Cookie"))
		}
	}
	if warns := logged.lines(plainHTTPWarning); len(warns) != 0 {
		t.Fatalf("a request over TLS was logged as plain HTTP:\n%s", &logged)
	}
	send(t, app, httptest.NewRequest(http.MethodPost, "http://example.com/set?key=user&value=ada", nil), nil)
	if warns := logged.lines(plainHTTPWarning); len(warns) != 1 {
		t.Errorf("over plain HTTP: %d warnings, want 1; log:\n%s", len(warns), &logged)
	}
}

// foreignWarning is in the line the core logs for a response that sets
// the session's cookie without the Manager writing it.
const foreignWarning = "which the Manager did not write"

// TestForeignSetCookieWarns checks that a handler's own Set-Cookie for one
// of the session's cookie names is logged, once, in a response for which
// the Manager writes none, and then goes out exactly once, as the handler
// set it; where the Manager writes the cookie, its line replaces the
// handler's and nothing is logged. The handler's other cookies stay. A
// read-only request whose handler sets session, after each row's requests,
// shows the check was live.
func TestForeignSetCookieWarns(t *testing.T) {
	tests := []struct {
		name        string
		set         []string // the cookies the handler sets, with the value theirs (or "theirs")
		theirs      string
		store, save bool // the handler stores a value; it saves before setting its cookies
		warn        bool
	}{
		{"read only, handler sets session", []string{"session"}, "", false, false, true},
		{"read only, handler sets a chunk", []string{"session.1"}, "", false, false, true},
		{"read only, handler sets both", []string{"session", "session.1"}, "", false, false, true},
		// Only the Manager's cookies are held to fiber's read buffer.
		{"read only, handler sets a large session", []string{"session"}, strings.Repeat("x", 15<<10), false, false, true},
		{"stores a value, handler sets session", []string{"session"}, "", true, false, false},
		{"saved early, handler sets session after", []string{"session"}, "", true, true, false},
		{"saved early, unchanged", nil, "", true, true, false},
		{"read only, no line of ours", nil, "", false, false, false},
		{"read only, names not ours", []string{"Session", "session.2", "sessionx"}, "", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logged syncBuffer
			m := newManager(t, cookiesession.Options{MaxChunks: 2, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			theirs := tt.theirs
			if theirs == "" {
				theirs = "theirs"
			}
			app := newApp(m)
			app.Get("/control", func(c fiber.Ctx) error {
				_ = fibersession.Get(c, m).GetString("user")
				c.Cookie(&fiber.Cookie{Name: "session", Value: "theirs"})
				return nil
			})
			app.Get("/theirs", func(c fiber.Ctx) error {
				s := fibersession.Get(c, m)
				_ = s.GetString("user")
				if tt.store {
					if err := s.Set("user", "ada"); err != nil {
						return err
					}
				}
				if tt.save {
					if err := fibersession.Save(c, m); err != nil {
						return err
					}
				}
				c.Cookie(&fiber.Cookie{Name: "theme", Value: "dark"})
				for _, name := range tt.set {
					c.Cookie(&fiber.Cookie{Name: name, Value: theirs, Secure: true})
				}
				return c.SendString("ok")
			})
			for range 2 {
				r := do(t, app, http.MethodGet, "/theirs", nil)
				want := map[string]string{"theme": "dark"}
				for _, name := range tt.set {
					want[name] = theirs
				}
				got := cookieValues(t, r)
				if tt.store {
					want["session"] = "the Manager's"
					if v := got["session"]; v != theirs && len(v) > 100 {
						got["session"] = "the Manager's" // a sealed token
					}
				}
				if !cmp.Equal(want, got) {
					t.Fatalf("Set-Cookie %q: (-want +got):\n%s", r.setCookie, cmp.Diff(want, got))
				}
			}
			if n, want := len(logged.lines(foreignWarning)), map[bool]int{true: 1, false: 0}[tt.warn]; n != want {
				t.Fatalf("%d warnings, want %d; log:\n%s", n, want, &logged)
			}
			do(t, app, http.MethodGet, "/control", nil)
			if warns := logged.lines(foreignWarning); len(warns) != 1 || !strings.Contains(warns[0], "level=WARN") || !strings.Contains(warns[0], "cookie=session") {
				t.Errorf("after a read-only request that sets session: %d warnings, want 1 Warn naming it; log:\n%s", len(warns), &logged)
			}
		})
	}
}

// cookieValues returns the value of each cookie the response sets. A name
// set twice fails the test.
func cookieValues(t *testing.T, r response) map[string]string {
	t.Helper()
	values := map[string]string{}
	for _, line := range r.setCookie {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if _, twice := values[c.Name]; twice {
			t.Fatalf("Set-Cookie %q: %s set twice", r.setCookie, c.Name)
		}
		values[c.Name] = c.Value
	}
	return values
}

// TestErrorHandlerAfterPanicLogged checks that a flash the app's
// ErrorHandler stores for a panic that recover (outside the middleware)
// turned into an error is logged as not saved rather than lost without a
// word, whether or not the handler had used the session before it
// panicked, and that the answer carries no cookie.
func TestErrorHandlerAfterPanicLogged(t *testing.T) {
	for _, used := range []bool{true, false} {
		var logged syncBuffer
		m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		app := fiber.New(fiber.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
			fibersession.Get(c, m).AddFlash("something went wrong")
			return c.Status(http.StatusInternalServerError).SendString("sorry")
		}})
		app.Use(recoverer.New(), fibersession.New(m))
		app.Get("/", func(c fiber.Ctx) error {
			if used {
				_ = fibersession.Get(c, m).GetString("user")
			}
			panic("payment failed")
		})
		req := httptest.NewRequest(http.MethodGet, "https://example.test/", nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		if r := send(t, app, req, nil); r.status != http.StatusInternalServerError || r.setCookie != nil {
			t.Errorf("used %v: after a panic: %d, Set-Cookie %q; want the ErrorHandler's 500 and no cookie", used, r.status, r.setCookie)
		}
		if lines := logged.lines("the change was not saved"); len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") {
			t.Errorf("used %v: the ErrorHandler's flash after the panic was not logged at Warn; log:\n%s", used, logged.String())
		}
	}
}

// TestPanicAfterSaveSendsNoCookie checks that a handler that panics after
// an early Save sends no cookie with recover's answer, as under the
// net/http middleware: the line Save put in the response holds the
// handler's half-made change.
func TestPanicAfterSaveSendsNoCookie(t *testing.T) {
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.DiscardHandler)})
	app := fiber.New()
	app.Use(recoverer.New(), fibersession.New(m))
	app.Post("/pay", func(c fiber.Ctx) error {
		if err := fibersession.Get(c, m).Set("paid", true); err != nil {
			return err
		}
		if err := fibersession.Save(c, m); err != nil {
			return err
		}
		panic("ledger write failed")
	})
	if r := do(t, app, http.MethodPost, "/pay", nil); r.status != http.StatusInternalServerError || r.setCookie != nil {
		t.Errorf("panic after Save: %d, Set-Cookie %q; want recover's 500 and no cookie", r.status, r.setCookie)
	}
}

// TestDomainBehindProxyDoesNotWarn checks that a proxy's X-Forwarded-Host
// naming a host inside the cookie's Domain keeps the Domain warning quiet,
// as under the net/http middleware, when the proxy rewrote Host; and that
// a request whose every host is outside the Domain is still logged.
func TestDomainBehindProxyDoesNotWarn(t *testing.T) {
	const warning = "Domain does not match"
	for _, tc := range []struct {
		forwarded string
		origin    string // sent cross-site
		warn      bool
	}{
		{forwarded: "app.example.com"},
		{forwarded: "app.example.com:443, backend"},
		{forwarded: "", warn: true},
		{forwarded: "app.example.org", warn: true},
		{origin: "https://www.example.com", warn: true},
	} {
		var logged syncBuffer
		m := newManager(t, cookiesession.Options{Domain: "example.com", Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		req := httptest.NewRequest(http.MethodPost, "http://backend:8080/set?key=user&value=ada", nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		if tc.forwarded != "" {
			req.Header.Set("X-Forwarded-Host", tc.forwarded)
		}
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
		}
		if r := send(t, newApp(m), req, nil); r.status != http.StatusOK || len(r.setCookie) != 1 {
			t.Fatalf("X-Forwarded-Host %q: status %d, Set-Cookie %q", tc.forwarded, r.status, r.setCookie)
		}
		if got := len(logged.lines(warning)) == 1; got != tc.warn {
			t.Errorf("X-Forwarded-Host %q: warned %v, want %v; log:\n%s", tc.forwarded, got, tc.warn, &logged)
		}
	}
}

// TestCrossSiteSetWarnsThroughFiber checks that the core's warnings for a
// cookie browsers do not store reach fiber's requests: a cross-site
// fetch's, which needs Sec-Fetch-Mode and -Dest, and Safari's on
// localhost, which needs User-Agent; and that a cross-site top-level
// navigation, whose answer browsers store, is not logged.
func TestCrossSiteSetWarnsThroughFiber(t *testing.T) {
	const (
		safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
		chrome = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	)
	for _, tc := range []struct {
		target  string
		headers map[string]string
		warning string
	}{
		{"https://api.example.com/set?key=user&value=ada", map[string]string{"X-Forwarded-Proto": "https", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}, "a cross-site request that is not a top-level navigation"},
		{"https://api.example.com/set?key=user&value=ada", map[string]string{"X-Forwarded-Proto": "https", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, ""},
		{"http://localhost:3000/set?key=user&value=ada", map[string]string{"User-Agent": safari}, "localhost from Safari"},
		{"http://App.Localhost:3000/set?key=user&value=ada", map[string]string{"User-Agent": safari}, "localhost from Safari"},
		{"http://127.0.0.1:3000/set?key=user&value=ada", map[string]string{"User-Agent": safari}, "localhost from Safari"},
		{"http://[::1]:3000/set?key=user&value=ada", map[string]string{"User-Agent": safari}, "localhost from Safari"},
		{"http://localhost:3000/set?key=user&value=ada", map[string]string{"User-Agent": chrome}, ""},
	} {
		var logged syncBuffer
		m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		req := httptest.NewRequest(http.MethodPost, tc.target, nil)
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		if r := send(t, newApp(m), req, nil); r.status != http.StatusOK || len(r.setCookie) != 1 {
			t.Fatalf("%s %v: status %d, Set-Cookie %q", tc.target, tc.headers, r.status, r.setCookie)
		}
		warns := logged.lines("level=WARN")
		if tc.warning == "" && len(warns) != 0 || tc.warning != "" && (len(warns) != 1 || !strings.Contains(warns[0], tc.warning)) {
			t.Errorf("%s %v: Warn lines %q, want %q", tc.target, tc.headers, warns, tc.warning)
		}
	}
}

// TestCrossOriginSetWarnsThroughFiber checks that the core's check of a
// fetch from another origin of the site sees the CORS answer a fiber
// handler (or fiber's CORS middleware) sets on the fasthttp response: one
// that allows credentials is not logged, one that does not is.
func TestCrossOriginSetWarnsThroughFiber(t *testing.T) {
	const page = "https://app.example.com"
	for _, tc := range []struct {
		cors    map[string]string
		warning string
	}{
		{map[string]string{"Access-Control-Allow-Origin": page, "Access-Control-Allow-Credentials": "true"}, ""},
		{map[string]string{"Access-Control-Allow-Origin": page}, "a page of another origin"},
		{nil, "a page of another origin"},
	} {
		var logged syncBuffer
		m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		app := fiber.New()
		app.Use(fibersession.New(m))
		app.Post("/login", func(c fiber.Ctx) error {
			for k, v := range tc.cors {
				c.Set(k, v)
			}
			return fibersession.Get(c, m).Set("user", "ada")
		})
		req := httptest.NewRequest(http.MethodPost, "https://api.example.com/login", nil)
		for k, v := range map[string]string{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty", "Origin": page} {
			req.Header.Set(k, v)
		}
		r := send(t, app, req, nil)
		if r.status != http.StatusOK || len(r.setCookie) != 1 {
			t.Fatalf("%v: status %d, Set-Cookie %q", tc.cors, r.status, r.setCookie)
		}
		warns := logged.lines("level=WARN")
		if tc.warning == "" && len(warns) != 0 || tc.warning != "" && (len(warns) != 1 || !strings.Contains(warns[0], tc.warning)) {
			t.Errorf("%v: Warn lines %q, want %q", tc.cors, warns, tc.warning)
		}
		for k, v := range tc.cors {
			if got := r.header.Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("%v: the response's %s is %q, want %q as the handler set it", tc.cors, k, got, v)
			}
		}
	}
}

// TestAppErrorHandlerStoresFlash checks that an error a handler returns is
// answered by the app's ErrorHandler inside the middleware, once, so that
// the flash it stores goes out with its redirect; its Get used to find the
// middleware returned and panic, which ended the server.
func TestAppErrorHandlerStoresFlash(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	calls := 0
	app := fiber.New(fiber.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
		calls++
		fibersession.Get(c, m).AddFlash("failed: " + err.Error())
		return c.Redirect().Status(http.StatusSeeOther).To("/")
	}})
	app.Use(fibersession.New(m))
	app.Post("/pay", func(c fiber.Ctx) error {
		fibersession.Get(c, m).Set("tried", true)
		return errors.New("card declined")
	})
	app.Get("/", func(c fiber.Ctx) error {
		return c.SendString(strings.Join(fibersession.Get(c, m).Flashes(), ","))
	})
	j := newJar()
	if r := do(t, app, http.MethodPost, "/pay", j); r.status != http.StatusSeeOther || len(r.setCookie) != 1 || calls != 1 {
		t.Fatalf("POST /pay: status %d, Set-Cookie %q, ErrorHandler ran %d times; want 303, the cookie, once", r.status, r.setCookie, calls)
	}
	if r := do(t, app, http.MethodGet, "/", j); r.body != "failed: card declined" {
		t.Errorf("GET / after the error: flashes %q, want the ErrorHandler's", r.body)
	}
}

// TestDestroyOutsidePathClears checks that a logout on a path outside
// Options.Path, where the browser sends no cookie, expires every chunk,
// as the core's middleware does: the user stayed signed in. Each line
// carries the cookie's Path, Domain and Secure, which a browser needs to
// match the cookie it holds (README: Destroy rather than c.ClearCookie).
func TestDestroyOutsidePathClears(t *testing.T) {
	m := newManager(t, cookiesession.Options{Path: "/app", Domain: "example.test", MaxChunks: 2})
	app := fiber.New()
	app.Use(fibersession.New(m))
	app.Post("/logout", func(c fiber.Ctx) error {
		fibersession.Get(c, m).Destroy()
		return nil
	})
	r := do(t, app, http.MethodPost, "/logout", newJar()) // the browser sends no cookie here
	if !r.expired(t, "session") || !r.expired(t, "session.1") {
		t.Errorf("logout outside the cookie's Path: Set-Cookie %q, want both chunks expired", r.setCookie)
	}
	for _, line := range r.setCookie {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.Path != "/app" || c.Domain != "example.test" || !c.Secure {
			t.Errorf("Set-Cookie %q: want Path=/app, Domain=example.test and Secure", line)
		}
	}
}

// TestOutsidePathWarns checks the core's warning for a session used
// without a cookie outside Options.Path, through the request fibersession
// builds: a proxy that strips the prefix and says so in
// X-Forwarded-Prefix makes the path the browser used unknown.
func TestOutsidePathWarns(t *testing.T) {
	const warning = "outside the cookie's Path"
	for _, tc := range []struct {
		target, prefix string
		warn           bool
	}{
		{target: "/logout", warn: true},
		{target: "/app/logout"},
		{target: "/logout", prefix: "/app"},
	} {
		var logged syncBuffer
		m := newManager(t, cookiesession.Options{Path: "/app", Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		app := fiber.New()
		app.Use(fibersession.New(m))
		app.Get("/*", func(c fiber.Ctx) error { return c.SendString(fibersession.Get(c, m).GetString("user")) })
		req := httptest.NewRequest(http.MethodGet, "https://example.com"+tc.target, nil)
		if tc.prefix != "" {
			req.Header.Set("X-Forwarded-Prefix", tc.prefix)
		}
		send(t, app, req, nil)
		if got := len(logged.lines(warning)) == 1; got != tc.warn {
			t.Errorf("%s, X-Forwarded-Prefix %q: warned %v, want %v; log:\n%s", tc.target, tc.prefix, got, tc.warn, &logged)
		}
	}
}

// TestGetWithoutMiddlewareLogsOnce checks that a Get on a route no New(m)
// runs on, a forgotten app.Use, says so with the fix, once per Manager:
// the change it then drops would otherwise be logged only as made after
// the response was committed.
func TestGetWithoutMiddlewareLogsOnce(t *testing.T) {
	var logged syncBuffer
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	app := fiber.New()
	app.Get("/", func(c fiber.Ctx) error {
		return fibersession.Get(c, m).Set("user", "ada")
	})
	for range 2 {
		if r := do(t, app, http.MethodGet, "/", nil); len(r.setCookie) != 0 {
			t.Fatalf("Set-Cookie %q without the middleware", r.setCookie)
		}
	}
	lines := logged.lines("no fibersession.New middleware for this Manager")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "app.Use(fibersession.New(m))") {
		t.Errorf("want one Warn naming the fix; log:\n%s", &logged)
	}
}

// TestLinesGoToOptionsLogger checks that the middleware's own lines (the
// Get without the middleware, the default ErrorHandler's "cannot save
// session", a cookie a middleware deleted before the session was read) go
// through Options.Logger, as the core's do, and none to slog.Default: they
// went there, to a handler at another level or to a stderr nobody reads,
// past the operator's log pipeline.
func TestLinesGoToOptionsLogger(t *testing.T) {
	var leaked syncBuffer
	setDefaultLogger(t, slog.New(leakHandler{&leaked}))
	var logged syncBuffer
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})

	bare := fiber.New() // no app.Use(fibersession.New(m))
	bare.Get("/", func(c fiber.Ctx) error { return c.SendString(fibersession.Get(c, m).GetString("user")) })
	do(t, bare, http.MethodGet, "/", nil)

	if r := do(t, newApp(m), http.MethodPost, "/big?n=13000", newJar()); r.status != http.StatusInternalServerError {
		t.Fatalf("a session too large: status %d, want the default ErrorHandler's 500", r.status)
	}

	j := newJar()
	do(t, newApp(m), http.MethodPost, "/set?key=user&value=ada", j)
	rewriting := fiber.New()
	rewriting.Use(fibersession.New(m), func(c fiber.Ctx) error {
		c.Request().Header.DelCookie("session") // as encryptcookie does after New
		return c.Next()
	})
	rewriting.Post("/", func(c fiber.Ctx) error { return fibersession.Get(c, m).Set("user", "bob") })
	do(t, rewriting, http.MethodPost, "/", j)

	for _, want := range []string{
		`level=WARN msg="cookiesession: fibersession.Get on a request no fibersession.New middleware`,
		`level=ERROR msg="cookiesession: cannot save session`,
		`level=WARN msg="cookiesession: a middleware changed or deleted the session's cookie`,
	} {
		if len(logged.lines(want)) != 1 {
			t.Errorf("Options.Logger has no line %q; log:\n%s", want, &logged)
		}
	}
	if leaked.String() != "" {
		t.Errorf("lines that went to slog.Default, past Options.Logger:\n%s", &leaked)
	}
}

// leakHandler, as slog's default handler, keeps every cookiesession line
// it is handed, at any level, in its buffer.
type leakHandler struct{ lines *syncBuffer }

func (leakHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h leakHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "cookiesession:") {
		fmt.Fprintf(h.lines, "%s %s\n", r.Level, r.Message)
	}
	return nil
}

func (h leakHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h leakHandler) WithGroup(string) slog.Handler      { return h }

// TestGetInErrorHandlerFollowsTheFix checks fiber's ErrorHandler for a
// request fasthttp could not read (a body over BodyLimit): fiber runs the
// app.Use middleware on it first, so with another middleware in app.Use
// (a logger, recover) a Get there is on that one's route and logged at
// Warn, and its fix must not call it expected: the app.Use(New(m)) it
// names does run there, and the ErrorHandler then reads the session with
// nothing logged.
func TestGetInErrorHandlerFollowsTheFix(t *testing.T) {
	var logged syncBuffer
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	j := newJar()
	do(t, newApp(m), http.MethodPost, "/set?key=user&value=ada", j)
	raw := "POST / HTTP/1.1\r\nHost: a\r\nCookie: " + j.header() + "\r\nContent-Length: 200\r\n\r\n" + strings.Repeat("x", 200)
	const missing = "no fibersession.New middleware for this Manager"
	for _, withFix := range []bool{false, true} {
		app := fiber.New(fiber.Config{BodyLimit: 100, ErrorHandler: func(c fiber.Ctx, err error) error {
			return c.Status(http.StatusRequestEntityTooLarge).SendString("sorry " + fibersession.Get(c, m).GetString("user"))
		}})
		app.Use(func(c fiber.Ctx) error { return c.Next() })
		if withFix {
			app.Use(fibersession.New(m))
		}
		app.Post("/", func(c fiber.Ctx) error { return c.SendString("ok") })
		if status, body := serveRaw(t, app)(raw); status != "413 Request Entity Too Large" || body != "sorry ada" {
			t.Fatalf("with the fix %v: %s %q, want 413 and sorry ada", withFix, status, body)
		}
		lines := logged.lines(missing)
		if !withFix && (len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || strings.Contains(lines[0], "expected")) {
			t.Errorf("without app.Use(New(m)): want one Warn whose fix is not to ignore it; log:\n%s", &logged)
		}
		if withFix && len(lines) != 1 {
			t.Errorf("with app.Use(New(m)), as the fix says: the ErrorHandler's Get was logged; log:\n%s", &logged)
		}
	}
}

// TestDefaultErrorHandlerLogBounded: a flood of requests whose session
// does not fit logs one Error line a minute per middleware, the rest at
// Debug, each with at most 200 bytes of the request's path, as the core's
// handler does per Manager: a second app's flood, the same minute, still
// logs its one Error.
func TestDefaultErrorHandlerLogBounded(t *testing.T) {
	var logged syncBuffer
	setDefaultLogger(t, slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug})))
	const n = 20
	for range 2 {
		m := newManager(t, cookiesession.Options{})
		app := newApp(m)
		app.Post("/big/*", func(c fiber.Ctx) error {
			return fibersession.Get(c, m).Set("big", strings.Repeat("b", 13000))
		})
		for range n {
			if r := do(t, app, http.MethodPost, "/big/"+strings.Repeat("p", 1000), newJar()); r.status != http.StatusInternalServerError {
				t.Fatalf("status %d, want the default 500", r.status)
			}
		}
	}
	lines := logged.lines("cannot save session")
	errs := 0
	for _, l := range lines {
		if strings.Contains(l, "level=ERROR") {
			errs++
		}
		if strings.Contains(l, strings.Repeat("p", 201)) {
			t.Errorf("a line carries more than 200 bytes of the path: %.300s", l)
		}
	}
	if len(lines) != 2*n || errs != 2 {
		t.Errorf("%d lines, %d at Error; want %d, one at Error for each app", len(lines), errs, 2*n)
	}
}

// TestNewRefusesMisuse checks that New panics where the middleware is
// made, naming the fix, for a nil Manager (New's error dropped) and for a
// second Config, whose ErrorHandler would otherwise be ignored.
func TestNewRefusesMisuse(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	answer := func(fiber.Ctx, error) error { return nil }
	for _, tc := range []struct {
		name string
		new  func()
		want string
	}{
		{"nil Manager", func() { fibersession.New(nil) }, "cookiesession: fibersession.New needs a Manager"},
		{"two Configs", func() { fibersession.New(m, fibersession.Config{}, fibersession.Config{ErrorHandler: answer}) },
			"cookiesession: fibersession.New takes one Config, not 2"},
	} {
		if got := recovered(tc.new); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: panic %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestNotModifiedAndHead checks that the answers fiber sends without a
// body of the handler's, or resets, carry the cookie of a change made
// before them: a 304 from SendFile or the static middleware (fasthttp
// resets the response for it), a HEAD, a bare status, and a stream.
func TestNotModifiedAndHead(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hello.txt")
	if err := os.WriteFile(file, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, cookiesession.Options{})
	app := fiber.New()
	app.Use(fibersession.New(m), func(c fiber.Ctx) error {
		if err := fibersession.Get(c, m).Set("seen", c.Method()); err != nil {
			return err
		}
		return c.Next()
	})
	app.Get("/file", func(c fiber.Ctx) error { return c.SendFile(file) })
	app.Get("/static*", static.New(dir))
	app.Get("/status", func(c fiber.Ctx) error { c.Status(http.StatusNoContent); return nil })
	app.Get("/stream", func(c fiber.Ctx) error { return c.SendStream(strings.NewReader("streamed")) })
	later := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		method, path, since string
		status              int
	}{
		{"GET", "/file", later, http.StatusNotModified}, {"HEAD", "/file", "", http.StatusOK},
		{"GET", "/static/hello.txt", later, http.StatusNotModified}, {"HEAD", "/static/hello.txt", later, http.StatusNotModified},
		{"GET", "/status", "", http.StatusNoContent}, {"HEAD", "/stream", "", http.StatusOK}, {"GET", "/stream", "", http.StatusOK},
	} {
		req := httptest.NewRequest(tc.method, "https://example.test"+tc.path, nil)
		if tc.since != "" {
			req.Header.Set("If-Modified-Since", tc.since)
		}
		if r := send(t, app, req, nil); r.status != tc.status || len(r.linesFor("session")) != 1 {
			t.Errorf("%s %s since %q: %d with Set-Cookie %q, want %d and the session cookie", tc.method, tc.path, tc.since, r.status, r.setCookie, tc.status)
		}
	}
}

// TestHeaderNamesInAnyCase checks the middleware under fiber's
// DisableHeaderNormalizing, where fasthttp finds a header only by the exact
// case of its name and keeps the names a proxy sends in lower case (as one
// that speaks HTTP/2 to the browser does) and those a handler sets so. The
// request's signs of HTTPS and of a cross-site fetch are read in any case,
// and the response leaves with one Cache-Control, one Vary, and, for a
// session that does not fit, no Location and no cache field but no-store:
// not the handler's lower-case lines beside the middleware's.
func TestHeaderNamesInAnyCase(t *testing.T) {
	const proxied = "GET %s HTTP/1.1\r\nhost: example.com\r\nx-forwarded-proto: https\r\n%s\r\n"
	for _, tc := range []struct {
		name, path, headers string
		status              int
		warning             string // "": no Warn line
	}{
		{"stored", "/store", "", http.StatusOK, ""},
		{"cross-site fetch", "/store", "sec-fetch-site: cross-site\r\nsec-fetch-mode: cors\r\nsec-fetch-dest: empty\r\norigin: https://other.example\r\n", http.StatusOK, "a cross-site request that is not a top-level navigation"},
		{"too large", "/big", "", http.StatusInternalServerError, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged syncBuffer
			m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			app := fiber.New(fiber.Config{DisableHeaderNormalizing: true})
			app.Use(fibersession.New(m))
			handler := func(value string) fiber.Handler {
				return func(c fiber.Ctx) error {
					c.Set("cache-control", "public, max-age=600")
					c.Set("surrogate-control", "max-age=600")
					c.Set("vary", "Accept-Language")
					c.Set("location", "/next")
					if err := fibersession.Get(c, m).Set("user", value); err != nil {
						return err
					}
					return c.SendString("stored")
				}
			}
			app.Get("/store", handler("ada"))
			app.Get("/big", handler(strings.Repeat("b", 5000)))
			res, _ := serveRawResponse(t, app)(fmt.Sprintf(proxied, tc.path, tc.headers))
			header := res.Header
			want := http.Header{"Cache-Control": {"no-store"}, "Surrogate-Control": {"no-store"}, "Vary": {"Accept-Language, Cookie"}, "Location": {"/next"}}
			if tc.status == http.StatusInternalServerError {
				want = http.Header{"Cache-Control": {"no-store"}, "Surrogate-Control": {"no-store"}}
			}
			got := http.Header{}
			for key := range want {
				if v := header.Values(key); v != nil {
					got[key] = v
				}
			}
			if res.StatusCode != tc.status || (tc.status == http.StatusOK) != (len(header.Values("Set-Cookie")) == 1) || header.Get("Location") != want.Get("Location") {
				t.Errorf("status %d, Set-Cookie %q, Location %q; want %d", res.StatusCode, header.Values("Set-Cookie"), header.Values("Location"), tc.status)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("response headers (-want +got):\n%s", diff)
			}
			warns := logged.lines("level=WARN")
			if tc.warning == "" && len(warns) != 0 || tc.warning != "" && (len(warns) != 1 || !strings.Contains(warns[0], tc.warning)) {
				t.Errorf("Warn lines %q, want %q", warns, tc.warning)
			}
		})
	}
}

// TestSharedStoreWarnsThroughFiber checks that a page that reads the
// session and that a field lets a shared cache store goes out as the
// handler set it, with Vary: Cookie, and is logged at Warn once per route,
// naming the route and the field, as under the net/http middleware; a
// private page is not logged.
func TestSharedStoreWarnsThroughFiber(t *testing.T) {
	const warning = "may be stored by a shared cache, with only Vary: Cookie"
	var logged syncBuffer
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	app := newApp(m)
	app.Post("/login", func(c fiber.Ctx) error { return fibersession.Get(c, m).Set("user", "ada") })
	page := func(c fiber.Ctx) error {
		c.Set(c.Query("key", "Cache-Control"), c.Query("cc"))
		return c.SendString("Hi " + fibersession.Get(c, m).GetString("user"))
	}
	app.Get("/a", page)
	app.Get("/b/:id", page)
	ada := newJar()
	do(t, app, http.MethodPost, "/login", ada)
	for _, target := range []string{"/a?cc=private,+max-age=60", "/a?cc=public,+max-age=60", "/b/1?key=CDN-Cache-Control&cc=max-age=600", "/a?cc=public,+max-age=60", "/b/2?key=CDN-Cache-Control&cc=max-age=600"} {
		r := do(t, app, http.MethodGet, target, ada)
		if r.body != "Hi ada" || r.header.Get("Vary") != "Cookie" || len(r.setCookie) != 0 {
			t.Errorf("GET %s: body %q, Vary %q, Set-Cookie %q; want ada's page, Vary: Cookie, no cookie", target, r.body, r.header.Get("Vary"), r.setCookie)
		}
	}
	lines := logged.lines(warning)
	if len(lines) != 2 || !strings.Contains(lines[0], `field=Cache-Control value="public, max-age=60"`) || !strings.Contains(lines[0], "route=/a") ||
		!strings.Contains(lines[1], "field=CDN-Cache-Control") || !strings.Contains(lines[1], "route=/b/:id") || strings.Contains(lines[0], "fasthttp") {
		t.Errorf("want one line for /a's Cache-Control and one for /b/:id's CDN-Cache-Control; log:\n%s", &logged)
	}
}
