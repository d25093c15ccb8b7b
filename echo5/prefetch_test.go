package echosession_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/seed-ff2808ae/cookiesession"
	echosession "github.com/seed-ff2808ae/cookiesession/echo5"
)

// TestSpeculativeChangeWarns: under echo the request the core reads is
// echo's own, so a GET /logout that a browser prefetched from speculation
// rules (Sec-Purpose: prefetch) is logged at Warn as through the net/http
// middleware (TestSpeculativeChangeWarns in the root), and its Set-Cookie
// still clears the session; the same request without the marker is not
// logged.
func TestSpeculativeChangeWarns(t *testing.T) {
	var logged strings.Builder
	m := managerWith(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	e := echo.New()
	e.Use(echosession.Middleware(m))
	e.POST("/login", func(c *echo.Context) error { return echosession.Session(c).Set("user", "ada") })
	e.GET("/logout", func(c *echo.Context) error {
		echosession.Session(c).Destroy()
		return c.Redirect(http.StatusSeeOther, "/")
	})
	login := httptest.NewRecorder()
	e.ServeHTTP(login, httptest.NewRequest("POST", "https://example.com/login", nil))
	for _, marker := range []string{"", "prefetch;prerender"} {
		req := httptest.NewRequest("GET", "https://example.com/logout", nil)
		for _, c := range login.Result().Cookies() {
			req.AddCookie(c)
		}
		if marker != "" {
			req.Header.Set("Sec-Purpose", marker)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if cookies := rec.Result().Cookies(); len(cookies) != 1 || cookies[0].MaxAge >= 0 {
			t.Errorf("marker %q: Set-Cookie %q, want the session cleared", marker, rec.Header()["Set-Cookie"])
		}
		got := strings.Count(logged.String(), "a request sent ahead of a click")
		if want := map[bool]int{true: 1}[marker != ""]; got != want {
			t.Fatalf("marker %q: %d lines, want %d; log:\n%s", marker, got, want, logged.String())
		}
	}
	for _, want := range []string{"level=WARN", `marker="Sec-Purpose: prefetch;prerender"`, "change=sign-out", "path=/logout"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("the line does not say %s: %s", want, logged.String())
		}
	}
}
