package fibersession_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

// TestSpeculativeChangeWarns: fiber builds the request the core reads
// from fasthttp's, so the headers that mark a request sent ahead of a
// click must be passed on for the core to log a session changed by one,
// as the net/http middleware does (TestSpeculativeChangeWarns in the
// root). A GET /logout that Turbo prefetched on hover is logged, with an
// early Save as at the middleware's own save, and under
// DisableHeaderNormalizing in the case the client sent; the Set-Cookie
// goes out as without the marker. A read, a request without a marker and
// a POST are not logged.
func TestSpeculativeChangeWarns(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, header string
		fold                       bool
		logged                     bool
	}{
		{"Turbo hover", "GET", "/logout", "X-Sec-Purpose", false, true},
		{"speculation rules, early Save", "GET", "/logout-saved", "Sec-Purpose", false, true},
		{"lower case, unnormalized", "GET", "/logout", "x-sec-purpose", true, true},
		{"htmx preload", "GET", "/logout", "HX-Preloaded", false, true},
		{"a read", "GET", "/read", "Sec-Purpose", false, false},
		{"no marker", "GET", "/logout", "", false, false},
		{"a POST", "POST", "/logout", "Sec-Purpose", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged strings.Builder
			m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			app := fiber.New(fiber.Config{DisableHeaderNormalizing: tc.fold})
			app.Use(fibersession.New(m))
			app.Post("/login", func(c fiber.Ctx) error { return fibersession.Get(c, m).Set("user", "ada") })
			logout := func(c fiber.Ctx) error {
				fibersession.Get(c, m).Destroy()
				if c.Path() == "/logout-saved" {
					return fibersession.Save(c, m)
				}
				return nil
			}
			app.Get("/logout", logout)
			app.Post("/logout", logout)
			app.Get("/logout-saved", logout)
			app.Get("/read", func(c fiber.Ctx) error { return c.SendString(fibersession.Get(c, m).GetString("user")) })
			j := newJar()
			do(t, app, "POST", "/login", j)
			req := httptest.NewRequest(tc.method, "https://example.test"+tc.path, nil)
			req.Header.Set("Cookie", j.header())
			value := "prefetch"
			if tc.header == "HX-Preloaded" {
				value = "true"
			}
			if tc.header != "" {
				req.Header[tc.header] = []string{value}
			}
			r := send(t, app, req, nil)
			if cleared := r.linesFor("session"); tc.path != "/read" && (len(cleared) != 1 || !strings.Contains(cleared[0], "Max-Age=0")) {
				t.Errorf("Set-Cookie %q, want the session cleared as without the marker", r.setCookie)
			}
			got := strings.Count(logged.String(), "a request sent ahead of a click")
			if want := map[bool]int{true: 1}[tc.logged]; got != want {
				t.Fatalf("%d lines, want %d; log:\n%s", got, want, logged.String())
			}
			if tc.logged {
				for _, want := range []string{"level=WARN", "change=sign-out", "path=" + tc.path, "marker=\"" + http.CanonicalHeaderKey(tc.header) + ": " + value + "\""} {
					if !strings.Contains(logged.String(), want) {
						t.Errorf("the line does not say %s: %s", want, logged.String())
					}
				}
			}
		})
	}
}
