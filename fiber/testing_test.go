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
	"github.com/valyala/fasthttp"
)

// TestAppTest checks a login, a follow-up and a logout through app.Test,
// with an https:// target and the cookies copied from res.Cookies(): the
// follow-up reads the user, nothing is logged as set over plain HTTP, and
// the logout's cookie, with MaxAge below zero, leaves a request without it
// no user. The same login to an http:// target is logged.
func TestAppTest(t *testing.T) {
	var logged syncBuffer
	a := testedApp{newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})}
	app := a.fiber()

	res, _ := appTest(t, app, http.MethodPost, "https://example.com/login", nil)
	cookies := res.Cookies()
	if res.StatusCode != http.StatusCreated || len(cookies) != 1 || !cookies[0].Secure {
		t.Fatalf("login: status %d, Set-Cookie %q; want 201 and one Secure cookie", res.StatusCode, res.Header.Values("Set-Cookie"))
	}
	if _, body := appTest(t, app, http.MethodGet, "https://example.com/me", cookies); body != "user=ann" {
		t.Errorf("follow-up: %q, want user=ann", body)
	}
	res, _ = appTest(t, app, http.MethodPost, "https://example.com/logout", cookies)
	if out := res.Cookies(); len(out) != 1 || out[0].MaxAge >= 0 {
		t.Fatalf("logout: Set-Cookie %q, want one cookie with MaxAge below zero", res.Header.Values("Set-Cookie"))
	}
	if _, body := appTest(t, app, http.MethodGet, "https://example.com/me", nil); body != "user=" {
		t.Errorf("after logout: %q, want user=", body)
	}
	if warns := logged.lines(plainHTTPWarning); len(warns) != 0 {
		t.Fatalf("an https:// target was logged as plain HTTP:\n%s", &logged)
	}
	appTest(t, app, http.MethodPost, "http://example.com/login", nil)
	if warns := logged.lines(plainHTTPWarning); len(warns) != 1 {
		t.Errorf("an http:// target: %d warnings, want 1; log:\n%s", len(warns), &logged)
	}
}

// TestHandlerCalledDirectly checks a handler called alone on
// app.AcquireCtx, without the middleware: Get reads the session its
// request's cookie holds, and a change made there stays in the session
// Get returns but is logged at Warn as not saved, and no cookie is set.
func TestHandlerCalledDirectly(t *testing.T) {
	var logged syncBuffer
	a := testedApp{newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})}
	app := fiber.New()

	signedIn, err := a.m.Load(httptest.NewRequest(http.MethodGet, "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := signedIn.Set("user", "bob"); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if err := a.m.SaveHeader(h, signedIn); err != nil {
		t.Fatal(err)
	}
	cookie, err := http.ParseSetCookie(h.Get("Set-Cookie"))
	if err != nil {
		t.Fatal(err)
	}
	c := app.AcquireCtx(&fasthttp.RequestCtx{})
	defer app.ReleaseCtx(c)
	c.Request().Header.SetCookie(cookie.Name, cookie.Value)
	if err := a.me(c); err != nil || string(c.Response().Body()) != "user=bob" {
		t.Errorf("me alone: %q (%v), want user=bob", c.Response().Body(), err)
	}
	if err := a.login(c); err != nil {
		t.Fatal(err)
	}
	if got := fibersession.Get(c, a.m).GetString("user"); got != "ann" {
		t.Errorf("after login alone, Get reads user %q, want ann", got)
	}
	if lines := logged.lines("the change was not saved"); len(lines) != 1 {
		t.Errorf("the change without the middleware: %d lines, want 1; log:\n%s", len(lines), &logged)
	}
	if line := c.Response().Header.PeekCookie(cookie.Name); line != nil {
		t.Errorf("Set-Cookie without the middleware: %q", line)
	}
}

// TestGetWithoutRouteKeepsWarning checks that a Get with no route (a
// handler a test calls alone on app.AcquireCtx), where no middleware is
// expected, does not use up the once-per-Manager Warn: a route of the app
// that lacks app.Use(fibersession.New(m)) is still logged after it.
func TestGetWithoutRouteKeepsWarning(t *testing.T) {
	var logged syncBuffer
	a := testedApp{newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})}
	app := fiber.New()
	c := app.AcquireCtx(&fasthttp.RequestCtx{})
	if err := a.me(c); err != nil {
		t.Fatal(err)
	}
	app.ReleaseCtx(c)
	const missing = "no fibersession.New middleware for this Manager"
	if lines := logged.lines(missing); len(lines) != 0 {
		t.Errorf("a handler called alone was logged at Warn:\n%s", &logged)
	}
	app.Get("/me", a.me) // no app.Use(fibersession.New(a.m))
	appTest(t, app, http.MethodGet, "https://example.com/me", nil)
	if lines := logged.lines(missing); len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") {
		t.Errorf("a route without the middleware: want one Warn; log:\n%s", &logged)
	}
}
