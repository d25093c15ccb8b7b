package ginsession_test

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

	"github.com/gin-gonic/gin"
	"github.com/seed-ff2808ae/cookiesession"
	ginsession "github.com/seed-ff2808ae/cookiesession/gin"
)

// The core's behaviours reach gin users as they reach net/http users: a
// Destroy outside Options.Path, CDN cache fields beside a cookie, a tossed
// cookie, a Logger that reads the session, and a flash stored after an
// error.

// TestDestroyOutsidePath checks a Path "/app" session: a logout route
// outside the gin group, where the browser sends no cookie, expires every
// chunk, and a session read there is logged once with the fix; behind a
// proxy that strips /app and sends X-Forwarded-Prefix, the cookie the
// browser sends is cleared and nothing is taken for outside the Path.
func TestDestroyOutsidePath(t *testing.T) {
	tests := []struct {
		name       string
		app        func(mw gin.HandlerFunc) http.Handler
		logout     string
		wantLogout []string
		outside    bool // GET /whoami is outside the Path
	}{
		{"group", func(mw gin.HandlerFunc) http.Handler {
			r := gin.New()
			sessionRoutes(r.Group("/app"), mw)
			sessionRoutes(r, mw) // outside the cookie's Path
			return r
		}, "/logout", []string{"session.1=expired", "session=expired"}, true},
		{"proxy", func(mw gin.HandlerFunc) http.Handler {
			r := gin.New()
			sessionRoutes(r, mw)
			return stripPrefix(t, "/app", r)
		}, "/app/logout", []string{"session=expired"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logged strings.Builder
			m := loggedManager(t, "/app", &logged)
			cl := newClient(t, newServer(t, tt.app(ginsession.Middleware(m))))
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
			if !tt.outside {
				cl.do(http.MethodGet, "/app/whoami")
			} else {
				cl.do(http.MethodGet, "/whoami")
			}
			if warned := strings.Contains(logged.String(), "outside the cookie's Path"); warned != tt.outside {
				t.Errorf("outside-Path warning logged: %v, want %v; log:\n%s", warned, tt.outside, logged.String())
			}
		})
	}
}

// TestCDNCacheFieldsBesideCookie checks that a handler's CDN-targeted
// cache fields become no-store when its response sets the cookie, and are
// left alone when it does not.
func TestCDNCacheFieldsBesideCookie(t *testing.T) {
	r := gin.New()
	r.Use(ginsession.Middleware(newManager(t)))
	r.Any("/page", func(c *gin.Context) {
		c.Header("CDN-Cache-Control", "public, max-age=600")
		c.Header("Surrogate-Control", "max-age=600")
		if c.Request.Method == http.MethodPost {
			if err := ginsession.Session(c).Set("seen", true); err != nil {
				t.Error(err)
			}
		}
		c.String(http.StatusOK, "page")
	})
	cl := newClient(t, newServer(t, r))
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
}

// TestTossedCookie checks that a request whose junk cookie of the
// session's name comes before the real one opens the session, and that
// neither cookie is cleared.
func TestTossedCookie(t *testing.T) {
	var logged strings.Builder
	r := gin.New()
	sessionRoutes(r, ginsession.Middleware(loggedManager(t, "/", &logged)))
	srv := newServer(t, r)
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
}

// TestLoggerReadsSession checks that a Logger whose handler reads the
// session does not deadlock on lines logged about it: a tossed cookie,
// seen while the cookie is opened, and a change after the commit.
func TestLoggerReadsSession(t *testing.T) {
	var logged strings.Builder
	m, err := cookiesession.New(newRing(t), cookiesession.Options{
		Logger: slog.New(sessionTagger{slog.NewTextHandler(&logged, nil)})})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.POST("/login", func(c *gin.Context) {
		_ = ginsession.Session(c).Set("user", c.Query("user"))
		c.String(http.StatusOK, "hello")
	})
	r.GET("/whoami", func(c *gin.Context) {
		s := ginsession.Session(c)
		c.String(http.StatusOK, "user=%s", s.GetString("user"))
		_ = s.Set("late", true) // after the commit: logged as not saved
	})
	srv := newServer(t, r)
	req := tossedRequest(t, srv)
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
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
	for _, want := range []string{"two cookies of the session's name", "the change was not saved"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q; log:\n%s", want, logged.String())
		}
	}
	if !strings.Contains(logged.String(), "user=ada") {
		t.Errorf("the Logger's lines do not carry the session's user; log:\n%s", logged.String())
	}
}

// TestErrorMiddlewareFlash checks that a flash stored by error-handling
// middleware after c.Next reaches the client when that middleware runs
// inside ginsession.Middleware, and is logged as not saved, never lost
// without a word, when it runs outside, after the cookie was committed.
func TestErrorMiddlewareFlash(t *testing.T) {
	tests := []struct {
		name       string
		inside     bool
		wantCookie []string
	}{
		{"inside", true, []string{"session=kept"}},
		{"outside", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logged strings.Builder
			m := loggedManager(t, "/", &logged)
			r := gin.New()
			if tt.inside {
				r.Use(ginsession.Middleware(m), flashErrors)
			} else {
				r.Use(flashErrors, ginsession.Middleware(m))
			}
			r.GET("/admin", func(c *gin.Context) {
				_ = c.Error(errors.New("no entry"))
				c.Abort()
			})
			r.GET("/flash", func(c *gin.Context) {
				c.String(http.StatusOK, strings.Join(ginsession.Session(c).Flashes(), ","))
			})
			cl := newClient(t, newServer(t, r))
			resp, _ := cl.do(http.MethodGet, "/admin")
			if resp.StatusCode != http.StatusSeeOther || !slices.Equal(setCookies(resp), tt.wantCookie) {
				t.Fatalf("GET /admin: %d, Set-Cookie %v; want the redirect with %v", resp.StatusCode, setCookies(resp), tt.wantCookie)
			}
			_, body := cl.do(http.MethodGet, "/flash")
			if tt.inside && body != "denied: no entry" {
				t.Errorf("GET /flash: %q", body)
			}
			if lost := strings.Contains(logged.String(), "the change was not saved"); lost == tt.inside {
				t.Errorf("not-saved warning logged: %v, want %v; log:\n%s", lost, !tt.inside, logged.String())
			}
		})
	}
}
