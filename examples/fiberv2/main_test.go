package main

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
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/cache"
	"github.com/gofiber/fiber/v2/middleware/etag"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestReadmeSnippet keeps README.md true: its package main block that
// imports fiber v2 is main.go, byte for byte.
func TestReadmeSnippet(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var block string
	for _, b := range strings.Split(string(readme), "```go\n")[1:] {
		code, _, _ := strings.Cut(b, "```")
		if strings.HasPrefix(code, "package main\n") && strings.Contains(code, `"github.com/gofiber/fiber/v2"`) {
			block = code
			break
		}
	}
	if block != string(src) {
		t.Error("README.md: the package main block that imports fiber v2 differs from examples/fiberv2/main.go; paste main.go into it")
	}
}

// TestRecipe runs the README's app over TLS on loopback with a cookie jar:
// a login's cookie reaches the client, an error answer carries the flash
// its handler stored, a panic answered by recover carries no cookie, a
// session too large is refused and the client keeps its cookie, and the
// largest session the Manager writes comes back through fiber's read
// buffer.
func TestRecipe(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	c := serve(t, newApp(m, testRoutes()))

	if r := c.do("GET", "/health", ""); r.body != "ok" || r.setCookie != nil {
		t.Fatalf("fiber route: %+v", r)
	}
	r := c.do("POST", "/login", "username=ada")
	if r.status != http.StatusSeeOther || r.setCookie["session"] <= 0 || r.vary != "Cookie" || r.cacheControl != "no-store" {
		t.Fatalf("login: %+v", r)
	}
	if r := c.do("GET", "/", ""); r.body != "user=ada" {
		t.Fatalf("after login: %+v", r)
	}
	if r := c.do("GET", "/fail", ""); r.status != http.StatusTeapot || r.setCookie["session"] <= 0 {
		t.Fatalf("error answer: %+v", r)
	}
	if r := c.do("GET", "/flashes", ""); r.body != `["sorry"]` {
		t.Fatalf("flash stored with an error answer: %+v", r)
	}
	if r := c.do("GET", "/panic", ""); r.status != http.StatusInternalServerError || r.setCookie != nil {
		t.Fatalf("panic: %+v", r)
	}
	if r := c.do("GET", "/half", ""); r.body != `half=""` {
		t.Fatalf("after a panic: %+v", r)
	}
	if r := c.do("POST", "/big?n=5000", ""); r.status != http.StatusInternalServerError || r.setCookie != nil {
		t.Fatalf("too large: %+v", r)
	}
	if r := c.do("GET", "/", ""); r.body != "user=ada" {
		t.Fatalf("after too large: %+v", r)
	}
	size := c.storeLargest()
	if r := c.do("GET", "/", ""); r.status != http.StatusOK || r.body != "user=ada" {
		t.Fatalf("with a cookie of %d bytes: %+v", size, r)
	}
	t.Logf("a cookie value of %d bytes comes back through ReadBufferSize 8 KB", size)
	if r := c.do("POST", "/logout", ""); r.setCookie["session"] >= 0 {
		t.Fatalf("logout: %+v", r)
	}
	if r := c.do("GET", "/", ""); r.body != "user=" {
		t.Fatalf("after logout: %+v", r)
	}
}

// TestDefaultReadBufferLocksOut is why the recipe raises ReadBufferSize:
// under fiber v2's default 4 KB, the largest session the Manager writes
// makes every later request of the browser a 431, logout included, which
// fasthttp answers before any handler or the Manager sees it.
func TestDefaultReadBufferLocksOut(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(adaptor.HTTPHandler(m.Handler(testRoutes())))
	c := serve(t, app)
	c.do("POST", "/login", "username=ada")
	size := c.storeLargest()
	for _, path := range []string{"/", "/logout"} {
		method := map[string]string{"/": "GET", "/logout": "POST"}[path]
		if r := c.do(method, path, ""); r.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%s %s with a cookie of %d bytes: %+v, want 431", method, path, size, r)
		}
	}
}

// TestHTTPMiddlewareHidesSession: under adaptor.HTTPMiddleware(m.Handler)
// a fiber handler finds no session where it would look, since the
// adaptor copies only context.WithValue entries into the locals. And the
// middleware has committed before c.Next() runs the fiber handlers: a
// session passed on in such an entry saves nothing, and its change is
// logged as not saved. Under adaptor.HTTPMiddleware(m.Handler) itself, no
// local holds it either.
func TestHTTPMiddlewareHidesSession(t *testing.T) {
	var logged bytes.Buffer
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(adaptor.HTTPMiddleware(func(next http.Handler) http.Handler {
		return m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, m.FromContext(r.Context()))))
		}))
	}))
	app.Get("/", func(c *fiber.Ctx) error {
		_ = c.Locals(sessionKey{}).(*cookiesession.Session).Set("user", "ada")
		return c.SendString(fmt.Sprint(cookiesession.FromContext(c.UserContext()) != nil, m.FromContext(c.Context()) != nil))
	})
	res, err := app.Test(httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(res.Body); string(body) != "false false" {
		t.Errorf("session in c.UserContext(), c.Context(): %s, want false false", body)
	}
	if len(res.Cookies()) != 0 || !strings.Contains(logged.String(), "not saved") {
		t.Errorf("a change in a fiber handler: %d cookies set, log %q; want none, and logged as not saved", len(res.Cookies()), logged.String())
	}
	// Under adaptor.HTTPMiddleware(m.Handler) itself, no local (fasthttp
	// user value) holds the session either.
	plain := fiber.New(fiber.Config{DisableStartupMessage: true})
	plain.Use(adaptor.HTTPMiddleware(m.Handler))
	plain.Get("/", func(c *fiber.Ctx) error {
		found := cookiesession.FromContext(c.UserContext()) != nil || m.FromContext(c.Context()) != nil
		c.Context().VisitUserValuesAll(func(_, v any) {
			_, isSession := v.(*cookiesession.Session)
			found = found || isSession
		})
		return c.SendString(fmt.Sprint(found))
	})
	res, err = plain.Test(httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(res.Body); string(body) != "false" {
		t.Errorf("under adaptor.HTTPMiddleware(m.Handler), a fiber handler found the session in c.UserContext(), c.Context() or c.Locals")
	}
}

// TestByHandLosesFlash: Load, c.Next() and CommitHeader or SaveHeader
// written by hand save before fiber's ErrorHandler answers an error or a
// panic, so a flash stored there never goes out. Only an error after
// CommitHeader is logged.
func TestByHandLosesFlash(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		commit     bool
		cookies    int // what the response sets: the handler's change, without the flash
		logged     bool
	}{
		{"CommitHeader, error", "/fail", true, 1, true},
		{"SaveHeader, error", "/fail", false, 1, false},
		{"CommitHeader, panic", "/panic", true, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged bytes.Buffer
			m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn}))})
			app := byHandApp(m, tc.commit)
			res, err := app.Test(httptest.NewRequest("GET", tc.path, nil))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Cookies()) != tc.cookies {
				t.Fatalf("%d cookies set, want %d", len(res.Cookies()), tc.cookies)
			}
			for _, c := range res.Cookies() {
				req := httptest.NewRequest("GET", "/flashes", nil)
				req.AddCookie(c)
				if res, err := app.Test(req); err != nil {
					t.Fatal(err)
				} else if body, _ := io.ReadAll(res.Body); string(body) != "[]" {
					t.Errorf("the flash went out: %s", body)
				}
			}
			if got := strings.Contains(logged.String(), "not saved"); got != tc.logged {
				t.Errorf("logged %t, want %t: %s", got, tc.logged, logged.String())
			}
		})
	}
}

type sessionKey struct{}

// byHandApp saves the session by hand around c.Next(); its ErrorHandler
// stores the error as a flash.
func byHandApp(m *cookiesession.Manager, commit bool) *fiber.App {
	session := func(c *fiber.Ctx) *cookiesession.Session { return c.Locals(sessionKey{}).(*cookiesession.Session) }
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ErrorHandler: func(c *fiber.Ctx, err error) error {
		session(c).AddFlash(err.Error())
		return c.Status(http.StatusInternalServerError).SendString(err.Error())
	}})
	app.Use(recover.New())
	app.Use(func(c *fiber.Ctx) error {
		r, err := adaptor.ConvertRequest(c, false)
		if err != nil {
			return err
		}
		s, _ := m.Load(r)
		c.Locals(sessionKey{}, s)
		err = c.Next()
		h := http.Header{}
		if commit {
			err = errors.Join(err, m.CommitHeader(h, s, r))
		} else {
			err = errors.Join(err, m.SaveHeader(h, s))
		}
		for key, values := range h {
			for _, v := range values {
				c.Response().Header.Add(key, v)
			}
		}
		return err
	})
	app.Get("/fail", func(c *fiber.Ctx) error {
		_ = session(c).Set("user", "ada")
		return errors.New("failed")
	})
	app.Get("/panic", func(c *fiber.Ctx) error {
		_ = session(c).Set("user", "ada")
		panic("boom")
	})
	app.Get("/flashes", func(c *fiber.Ctx) error { return c.SendString(fmt.Sprintf("%q", session(c).Flashes())) })
	return app
}

// TestCacheServesOthersPages is why the README keeps fiber v2's cache
// middleware off the routes that use the session: it ignores the response's
// Vary: Cookie and Cache-Control: no-store, so in front of them it serves
// the first user's page to every client after, and with
// StoreResponseHeaders their Set-Cookie, the session itself, with nothing
// said. Skipped for those routes (its Next), it does no harm.
func TestCacheServesOthersPages(t *testing.T) {
	visits := testRoutes()
	visits.HandleFunc("GET /visit", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if err := s.Set("visits", s.GetInt("visits")+1); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "visits=%d", s.GetInt("visits"))
	})
	for _, tc := range []struct {
		name   string
		config cache.Config
		leaks  bool
	}{
		{"in front", cache.Config{}, true},
		{"in front, with headers", cache.Config{StoreResponseHeaders: true}, true},
		{"skipping the session's routes", cache.Config{Next: func(c *fiber.Ctx) bool { return c.Path() != "/health" }}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadBufferSize: 8 << 10})
			app.Use(cache.New(tc.config))
			app.Get("/health", func(c *fiber.Ctx) error { return c.SendString("ok") })
			app.Use(adaptor.HTTPHandler(newManager(t, cookiesession.Options{}).Handler(visits)))
			ada := serve(t, app)
			bob := ada.another()
			ada.do("POST", "/login", "username=ada")
			ada.do("GET", "/", "")
			if r := bob.do("GET", "/", ""); (r.body == "user=ada") != tc.leaks {
				t.Errorf("bob's GET /: %q; ada's page served to bob: %v, want %v", r.body, r.body == "user=ada", tc.leaks)
			}
			ada.do("GET", "/visit", "")
			if ada.cookieValue() == "" {
				t.Fatal("ada holds no session")
			}
			r := bob.do("GET", "/visit", "")
			if got := bob.cookieValue() == ada.cookieValue(); got != tc.config.StoreResponseHeaders {
				t.Errorf("bob's GET /visit: %+v; bob holds ada's session: %v, want %v", r, got, tc.config.StoreResponseHeaders)
			}
			if !tc.leaks && r.body != "visits=1" {
				t.Errorf("bob's GET /visit without the cache: %+v", r)
			}
		})
	}
}

// TestAnswerStyles: behind etag.New(), with a ReadBufferSize of 16 KB, the
// session routes' change goes out with a stream the handler flushes, a 304
// from http.ServeContent or from fiber's etag, an answer to HEAD, and over
// three chunks; a change after the body is logged as not saved.
func TestAnswerStyles(t *testing.T) {
	var logged bytes.Buffer
	m := newManager(t, cookiesession.Options{MaxChunks: 3, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	mux := testRoutes()
	store := func(r *http.Request) bool {
		return cookiesession.FromContext(r.Context()).Set("v", r.URL.Query().Get("v")) == nil
	}
	mux.HandleFunc("GET /sse", func(w http.ResponseWriter, r *http.Request) {
		store(r)
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 2 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("flush: %v", err)
			}
		}
	})
	mux.HandleFunc("GET /file", func(w http.ResponseWriter, r *http.Request) {
		store(r)
		http.ServeContent(w, r, "a.txt", time.Unix(1e9, 0), strings.NewReader("file body"))
	})
	mux.HandleFunc("GET /same", func(w http.ResponseWriter, r *http.Request) {
		store(r)
		fmt.Fprint(w, "same body")
	})
	mux.HandleFunc("GET /late", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "written")
		store(r)
	})
	mux.HandleFunc("GET /v", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, cookiesession.FromContext(r.Context()).GetString("v"))
	})
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadBufferSize: 16 << 10})
	app.Use(etag.New())
	app.Use(adaptor.HTTPHandler(m.Handler(mux)))
	c := serve(t, app)
	etagOf := c.do("GET", "/same?v=0", "").etag
	later := time.Unix(2e9, 0).UTC().Format(http.TimeFormat)
	for i, tc := range []struct {
		method, path string
		header       map[string]string
		status       int
	}{
		{"GET", "/sse", nil, http.StatusOK},
		{"GET", "/file", map[string]string{"If-Modified-Since": later}, http.StatusNotModified},
		{"GET", "/same", map[string]string{"If-None-Match": etagOf}, http.StatusNotModified},
		{"HEAD", "/same", nil, http.StatusOK},
	} {
		v := fmt.Sprint(i + 1)
		r := c.doWith(tc.method, tc.path+"?v="+v, tc.header)
		if r.status != tc.status || r.setCookie["session"] <= 0 {
			t.Errorf("%s %s: %+v, want %d with the cookie", tc.method, tc.path, r, tc.status)
		}
		if got := c.do("GET", "/v", "").body; got != v {
			t.Errorf("after %s %s the session holds v=%q, want %q", tc.method, tc.path, got, v)
		}
	}
	if r := c.do("POST", "/big?n=9000", ""); len(r.setCookie) != 3 {
		t.Errorf("a session of 9000 bytes: %+v, want three chunks", r)
	}
	if got := c.do("GET", "/v", "").body; got != "4" {
		t.Errorf("read from three chunks: v=%q", got)
	}
	logged.Reset()
	if r := c.do("GET", "/late?v=late", ""); r.setCookie != nil || !strings.Contains(logged.String(), "the change was not saved") {
		t.Errorf("a change after the body: %+v; log %q, want no cookie and the change logged", r, logged.String())
	}
}

// TestPollAndBrowserRestart runs a login with and without "remember me"
// through the recipe (net/http routes behind adaptor.HTTPHandler), beside
// a preferences Manager, with the cookie jar as the browser and the
// Managers' injected clock. Without it the cookie is a browser-session
// one, and stays one when a page slides its 30-minute idle window; a
// polling route that calls SkipRefresh never slides it (the session ends
// 30 minutes after the last page, however often it is polled, and the
// poll then answers 401 and clears the cookie); a browser restart ends
// it. Remembered, the cookie is persistent for the 7-day idle window and
// outlives browser restarts six days apart, as the page after each
// slides the window; a route that never reads its session sends no
// Set-Cookie, Vary or Cache-Control although a refresh is due; and a
// MaxLifetime lowered on the live Manager ends the 12-day-old session at
// its next request. The preferences cookie keeps its 90 days throughout,
// and nothing is logged at Warn.
func TestPollAndBrowserRestart(t *testing.T) {
	const (
		rememberFor  = 30 * 24 * time.Hour
		rememberIdle = 7 * 24 * time.Hour
		prefsFor     = 90 * 24 * time.Hour
	)
	var now atomic.Int64 // Unix seconds
	now.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	advance := func(d time.Duration) { now.Add(int64(d / time.Second)) }
	var logged lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn}))
	auth := newManager(t, cookiesession.Options{Name: "auth", MaxAge: 2 * time.Hour, IdleTimeout: 30 * time.Minute,
		MaxLifetime: rememberFor, Now: clock, Logger: logger})
	prefs := newManager(t, cookiesession.Options{Name: "prefs", MaxAge: prefsFor, Now: clock, Logger: logger})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := auth.FromContext(r.Context())
		s.Renew()
		lifetime := cookiesession.Lifetime{BrowserSession: true}
		if r.FormValue("remember") == "on" {
			lifetime = cookiesession.Lifetime{MaxAge: rememberFor, IdleTimeout: rememberIdle}
		}
		if err := errors.Join(s.SetLifetime(lifetime), s.Set("user", r.FormValue("user"))); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /theme", func(w http.ResponseWriter, r *http.Request) {
		if err := prefs.FromContext(r.Context()).Set("theme", r.FormValue("theme")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user=%s theme=%s", auth.FromContext(r.Context()).GetString("user"), prefs.FromContext(r.Context()).GetString("theme"))
	})
	mux.HandleFunc("GET /poll", func(w http.ResponseWriter, r *http.Request) {
		s := auth.FromContext(r.Context())
		s.SkipRefresh()
		if s.GetString("user") == "" {
			http.Error(w, "signed out", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "user=%s", s.GetString("user"))
	})
	mux.HandleFunc("GET /about", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "about") })
	c := serve(t, newApp(auth, prefs.Handler(mux)))
	seconds := func(d time.Duration) string { return fmt.Sprint(int(d / time.Second)) }
	poll := func(when string) {
		t.Helper()
		if r := c.do("GET", "/poll", ""); r.body != "user=ada" || r.setCookie != nil || r.vary != "Cookie" {
			t.Fatalf("poll %s: %+v; want the user, no cookie, Vary: Cookie", when, r)
		}
	}
	login := func(remember string, want string) {
		t.Helper()
		if r := c.do("POST", "/login", "user=ada&remember="+remember); r.status != http.StatusSeeOther || !slices.Equal(r.lifetimes, []string{want}) {
			t.Fatalf("login, remember=%q: %+v; want the redirect with %s", remember, r, want)
		}
	}
	page := func(when, body string, cookies ...string) {
		t.Helper()
		if r := c.do("GET", "/", ""); r.body != body || !slices.Equal(r.lifetimes, cookies) {
			t.Fatalf("page %s: %+v; want %q with %q", when, r, body, cookies)
		}
	}

	for _, remember := range []string{"", "on"} {
		b := newBrowser(t)
		c.http.Jar = b
		if remember == "" {
			login(remember, "auth=session")
		} else {
			login(remember, "auth="+seconds(rememberIdle))
		}
		if r := c.do("POST", "/theme", "theme=dark"); r.status != http.StatusSeeOther || !slices.Equal(r.lifetimes, []string{"prefs=" + seconds(prefsFor)}) {
			t.Fatalf("remember=%q: POST /theme: %+v; want the redirect with the prefs cookie alone", remember, r)
		}
		// At 28 minutes less than half the idle window is left: a refresh
		// is due, and SkipRefresh holds it back.
		advance(14 * time.Minute)
		poll("14 minutes after the login")
		advance(14 * time.Minute)
		poll("28 minutes after the login")
		if remember == "" {
			advance(time.Minute)
			page("29 minutes after the login", "user=ada theme=dark", "auth=session")
			advance(14 * time.Minute)
			poll("14 minutes after the page")
			advance(14 * time.Minute)
			poll("28 minutes after the page")
			advance(2 * time.Minute) // 30 minutes since the page: polls did not keep it
			// The poll leaves the ended session's cookie for a request
			// without SkipRefresh to clear: its clear could land after a
			// login in another tab (TestPollRacingLogin in the root).
			if r := c.do("GET", "/poll", ""); r.status != http.StatusUnauthorized || len(r.lifetimes) != 0 {
				t.Fatalf("poll 30 minutes after the last page: %+v; want 401, the session ended, and no cookie", r)
			}
			login(remember, "auth=session")
			b.restart(t)
			page("after a browser restart", "user= theme=dark")
			continue
		}
		// Remembered: the cookie outlives two browser restarts six days
		// apart, since the page after each slid the 7-day window.
		for i := range 2 {
			b.restart(t)
			advance(6 * 24 * time.Hour)
			if r := c.do("GET", "/about", ""); r.body != "about" || r.setCookie != nil || r.vary != "" || r.cacheControl != "" {
				t.Fatalf("restart %d: a route that never reads its session, with a refresh due: %+v; want no Set-Cookie, Vary or Cache-Control", i+1, r)
			}
			page(fmt.Sprintf("after restart %d", i+1), "user=ada theme=dark", "auth="+seconds(rememberIdle))
		}
		if warns := logged.String(); warns != "" {
			t.Fatalf("logged at Warn:\n%s", warns)
		}
		// The operator lowers the ceiling on the running server: the
		// 12-day-old session ends at its next request.
		if err := auth.SetMaxLifetime(rememberIdle); err != nil {
			t.Fatal(err)
		}
		page("after SetMaxLifetime(7 days)", "user= theme=dark", "auth=expired")
	}
}
