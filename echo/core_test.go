package echosession_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/seed-ff2808ae/cookiesession"
	echosession "github.com/seed-ff2808ae/cookiesession/echo"
)

// The core's behaviours reach echo users as they reach net/http users: a
// Destroy outside Options.Path, CDN cache fields beside a cookie, a tossed
// cookie, a Logger that reads the session, and a flash stored by the
// HTTPErrorHandler.

// TestDestroyOutsidePath checks a Path "/app" session: a logout route
// outside the echo group, where the browser sends no cookie, expires every
// chunk, and a session read there is logged once with the fix; behind a
// proxy that strips /app and sends X-Forwarded-Prefix, the cookie the
// browser sends is cleared and nothing is taken for outside the Path.
func TestDestroyOutsidePath(t *testing.T) {
	tests := []struct {
		name       string
		app        func(mw echo.MiddlewareFunc) http.Handler
		logout     string
		wantLogout []string
		outside    bool // GET /whoami is outside the Path
	}{
		{"group", func(mw echo.MiddlewareFunc) http.Handler {
			e := echo.New()
			sessionRoutes(e.Group("/app"), mw)
			sessionRoutes(e, mw) // outside the cookie's Path
			return e
		}, "/logout", []string{"session.1=expired", "session=expired"}, true},
		{"proxy", func(mw echo.MiddlewareFunc) http.Handler {
			e := echo.New()
			sessionRoutes(e, mw)
			return stripPrefix(t, "/app", e)
		}, "/app/logout", []string{"session=expired"}, false},
	}
	for _, tt := range tests {
		for _, way := range wayNames {
			t.Run(tt.name+"/"+way, func(t *testing.T) {
				var logged strings.Builder
				m := loggedManager(t, "/app", &logged)
				cl := newClient(t, newServer(t, tt.app(ways(m)[way])))
				cl.do(http.MethodPost, "/app/login?user=ada")
				if _, body := cl.do(http.MethodGet, "/app/whoami"); body != "user=ada" {
					t.Fatalf("after login: %q", body)
				}
				resp, _ := cl.do(http.MethodPost, tt.logout)
				if got := setCookies(resp); !slices.Equal(got, tt.wantLogout) {
					t.Errorf("POST %s: Set-Cookie %v, want %v", tt.logout, got, tt.wantLogout)
				}
				if _, body := cl.do(http.MethodGet, "/app/whoami"); body != "user=" {
					t.Errorf("after logout: %q, want no user", body)
				}
				if tt.outside {
					cl.do(http.MethodGet, "/whoami")
				}
				if warned := strings.Contains(logged.String(), "outside the cookie's Path"); warned != tt.outside {
					t.Errorf("outside-Path warning logged: %v, want %v; log:\n%s", warned, tt.outside, logged.String())
				}
			})
		}
	}
}

// TestCDNCacheFieldsBesideCookie checks that a handler's CDN-targeted
// cache fields become no-store when its response sets the cookie, and are
// left alone when it does not.
func TestCDNCacheFieldsBesideCookie(t *testing.T) {
	for _, way := range wayNames {
		t.Run(way, func(t *testing.T) {
			e := echo.New()
			e.Use(ways(newManager(t))[way])
			e.Any("/page", func(c echo.Context) error {
				h := c.Response().Header()
				h.Set("CDN-Cache-Control", "public, max-age=600")
				h.Set("Surrogate-Control", "max-age=600")
				if c.Request().Method == http.MethodPost {
					if err := echosession.Session(c).Set("seen", true); err != nil {
						return err
					}
				}
				return c.String(http.StatusOK, "page")
			})
			cl := newClient(t, newServer(t, e))
			resp, _ := cl.do(http.MethodPost, "/page")
			if !slices.Equal(setCookies(resp), []string{"session=kept"}) {
				t.Fatalf("POST: Set-Cookie %v", setCookies(resp))
			}
			for _, key := range []string{"Cache-Control", "CDN-Cache-Control", "Surrogate-Control"} {
				if got := resp.Header.Get(key); got != "no-store" {
					t.Errorf("beside the cookie %s is %q, want no-store", key, got)
				}
			}
			resp, _ = cl.do(http.MethodGet, "/page")
			if resp.Header["Set-Cookie"] != nil || resp.Header.Get("CDN-Cache-Control") != "public, max-age=600" {
				t.Errorf("without a cookie: Set-Cookie %q, CDN-Cache-Control %q; want none and the handler's",
					resp.Header["Set-Cookie"], resp.Header.Get("CDN-Cache-Control"))
			}
		})
	}
}

// TestTossedCookie checks that a request whose junk cookie of the
// session's name comes before the real one opens the session, and that
// neither cookie is cleared.
func TestTossedCookie(t *testing.T) {
	for _, way := range wayNames {
		t.Run(way, func(t *testing.T) {
			var logged strings.Builder
			e := echo.New()
			sessionRoutes(e, ways(loggedManager(t, "/", &logged))[way])
			srv := newServer(t, e)
			resp, err := srv.Client().Do(tossedRequest(t, srv))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != "user=ada" || resp.Header["Set-Cookie"] != nil {
				t.Errorf("two cookies of the name: %q, Set-Cookie %q; want the session and no clear", body, resp.Header["Set-Cookie"])
			}
			if !strings.Contains(logged.String(), "two cookies of the session's name") {
				t.Errorf("the tossed cookie was not logged; log:\n%s", logged.String())
			}
		})
	}
}

// TestLoggerReadsSession checks that a Logger whose handler reads the
// session does not deadlock on lines logged about it: a tossed cookie,
// seen while the cookie is opened, and a change after the commit.
func TestLoggerReadsSession(t *testing.T) {
	var logged strings.Builder
	m := managerWith(t, cookiesession.Options{Logger: slog.New(sessionTagger{slog.NewTextHandler(&logged, nil)})})
	e := echo.New()
	e.Use(echosession.Middleware(m))
	e.POST("/login", func(c echo.Context) error {
		return errors.Join(echosession.Session(c).Set("user", c.QueryParam("user")), c.String(http.StatusOK, "hello"))
	})
	e.GET("/whoami", func(c echo.Context) error {
		s := echosession.Session(c)
		err := c.String(http.StatusOK, "user="+s.GetString("user"))
		_ = s.Set("late", true) // after the commit: logged as not saved
		return err
	})
	req := tossedRequest(t, newServer(t, e))
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		done <- rec
	}()
	select {
	case rec := <-done:
		if rec.Body.String() != "user=ada" {
			t.Errorf("GET /whoami: %q", rec.Body.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a Logger that reads the session deadlocked the request")
	}
	for _, want := range []string{"two cookies of the session's name", "the change was not saved", "user=ada"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q; log:\n%s", want, logged.String())
		}
	}
}

// TestErrorHandlerFlashEachWay checks where the HTTPErrorHandler's flash
// for a returned error goes: with Middleware it reaches the client with
// the redirect; with echo.WrapMiddleware the handler runs after the
// cookie was committed, and the flash is logged as not saved, never lost
// without a word.
func TestErrorHandlerFlashEachWay(t *testing.T) {
	tests := []struct {
		way        string
		wantCookie []string
		wantFlash  string
	}{
		{"Middleware", []string{"session=kept"}, "denied: code=403, message=no entry"},
		{"WrapMiddleware", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.way, func(t *testing.T) {
			var logged strings.Builder
			e := echo.New()
			e.HTTPErrorHandler = flashErrorHandler
			e.Use(ways(loggedManager(t, "/", &logged))[tt.way])
			e.GET("/admin", func(c echo.Context) error { return echo.NewHTTPError(http.StatusForbidden, "no entry") })
			e.GET("/flash", func(c echo.Context) error {
				return c.String(http.StatusOK, strings.Join(echosession.Session(c).Flashes(), ","))
			})
			cl := newClient(t, newServer(t, e))
			resp, _ := cl.do(http.MethodGet, "/admin")
			if resp.StatusCode != http.StatusSeeOther || !slices.Equal(setCookies(resp), tt.wantCookie) {
				t.Fatalf("GET /admin: %d, Set-Cookie %v; want the redirect with %v", resp.StatusCode, setCookies(resp), tt.wantCookie)
			}
			if _, body := cl.do(http.MethodGet, "/flash"); body != tt.wantFlash {
				t.Errorf("GET /flash: %q, want %q", body, tt.wantFlash)
			}
			if lost := strings.Contains(logged.String(), "the change was not saved"); lost != (tt.wantFlash == "") {
				t.Errorf("not-saved warning logged: %v; log:\n%s", lost, logged.String())
			}
		})
	}
}

// TestBeforeHookCacheFields checks a Before hook on echo's Response that
// sets Cache-Control, registered before the session's middleware or after
// it: echo v4's Response runs its hooks before it writes to the Manager's
// writer, so either way the commit comes after the hook, and keeps the
// no-store beside the session's cookie, and nothing is logged. (In echo
// v5 a hook registered before the middleware runs after the commit:
// TestBeforeHookCacheFields in echo5.)
func TestBeforeHookCacheFields(t *testing.T) {
	const warning = "Cache-Control or Vary was replaced after the session was committed"
	cacheFor := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response()
			res.Before(func() { res.Header().Set("Cache-Control", "public, max-age=60") })
			return next(c)
		}
	}
	for _, before := range []bool{true, false} {
		var logged strings.Builder
		m := loggedManager(t, "", &logged)
		e := echo.New()
		if before {
			e.Use(cacheFor, echosession.Middleware(m))
		} else {
			e.Use(echosession.Middleware(m), cacheFor)
		}
		e.GET("/", func(c echo.Context) error {
			if err := echosession.Session(c).Set("user", "ada"); err != nil {
				return err
			}
			return c.String(http.StatusOK, "hi")
		})
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://example.com/", nil))
		if rec.Header().Get("Set-Cookie") == "" || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("hook before the middleware %v: Set-Cookie %q, Cache-Control %q", before, rec.Header().Get("Set-Cookie"), rec.Header().Get("Cache-Control"))
		}
		if strings.Contains(logged.String(), warning) {
			t.Errorf("hook before the middleware %v: logged\n%s", before, logged.String())
		}
	}
}
