package ginsession_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/seed-ff2808ae/cookiesession"
	ginsession "github.com/seed-ff2808ae/cookiesession/gin"
)

// TestSpeculativeChangeWarns: under gin the request the core reads is
// gin's own, so a GET /logout that Turbo prefetched on hover (X-Sec-Purpose:
// prefetch) is logged at Warn as through the net/http middleware
// (TestSpeculativeChangeWarns in the root), and its Set-Cookie still
// clears the session; the same request without the marker is not logged.
func TestSpeculativeChangeWarns(t *testing.T) {
	var logged strings.Builder
	m, err := cookiesession.New(newRing(t), cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.POST("/login", func(c *gin.Context) { _ = ginsession.Session(c).Set("user", "ada") })
	r.GET("/logout", func(c *gin.Context) {
		ginsession.Session(c).Destroy()
		c.Redirect(http.StatusSeeOther, "/")
	})
	login := httptest.NewRecorder()
	r.ServeHTTP(login, httptest.NewRequest("POST", "https://example.com/login", nil))
	for _, marker := range []string{"", "prefetch"} {
		req := httptest.NewRequest("GET", "https://example.com/logout", nil)
		for _, c := range login.Result().Cookies() {
			req.AddCookie(c)
		}
		if marker != "" {
			req.Header.Set("X-Sec-Purpose", marker)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if cookies := rec.Result().Cookies(); len(cookies) != 1 || cookies[0].MaxAge >= 0 {
			t.Errorf("marker %q: Set-Cookie %q, want the session cleared", marker, rec.Header()["Set-Cookie"])
		}
		got := strings.Count(logged.String(), "a request sent ahead of a click")
		if want := map[bool]int{true: 1}[marker != ""]; got != want {
			t.Fatalf("marker %q: %d lines, want %d; log:\n%s", marker, got, want, logged.String())
		}
	}
	for _, want := range []string{"level=WARN", `marker="X-Sec-Purpose: prefetch"`, "change=sign-out", "path=/logout"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("the line does not say %s: %s", want, logged.String())
		}
	}
}
