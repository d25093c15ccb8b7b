package fibersession_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

// TestPollAndBrowserRestart runs a login with and without "remember me",
// beside a preferences Manager, over TLS on 127.0.0.1 with net/http's
// cookiejar as the browser, on the Managers' injected clock. Without it
// the cookie is a browser-session one, and stays one when a page slides
// its 30-minute idle window; a polling route that calls SkipRefresh
// never slides it (the session ends 30 minutes after the last page,
// however often it is polled, and the poll then answers 401 and clears
// the cookie); a browser restart ends it. Remembered, the cookie is
// persistent for the 7-day idle window, and outlives browser restarts six
// days apart, as the page after each slides the window; a route that
// never calls Get sends no Set-Cookie, Vary or Cache-Control although a
// refresh is due; and a MaxLifetime lowered on the live Manager ends the
// 12-day-old session at its next request. The preferences cookie keeps
// its 90 days throughout, and nothing is logged at Warn.
func TestPollAndBrowserRestart(t *testing.T) {
	const (
		idle         = 30 * time.Minute
		rememberFor  = 30 * 24 * time.Hour
		rememberIdle = 7 * 24 * time.Hour
		prefsFor     = 90 * 24 * time.Hour
	)
	var now atomic.Int64 // Unix seconds
	now.Store(start.Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	advance := func(d time.Duration) { now.Add(int64(d / time.Second)) }
	var logged syncBuffer
	logger := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn}))
	auth := newManager(t, cookiesession.Options{Name: "auth", MaxAge: 2 * time.Hour, IdleTimeout: idle,
		MaxLifetime: rememberFor, Now: clock, Logger: logger})
	prefs := newManager(t, cookiesession.Options{Name: "prefs", MaxAge: prefsFor, Now: clock, Logger: logger})

	app := fiber.New()
	app.Use(fibersession.New(auth), fibersession.New(prefs))
	app.Post("/login", func(c fiber.Ctx) error {
		s := fibersession.Get(c, auth)
		s.Renew()
		lifetime := cookiesession.Lifetime{BrowserSession: true}
		if c.FormValue("remember") == "on" {
			lifetime = cookiesession.Lifetime{MaxAge: rememberFor, IdleTimeout: rememberIdle}
		}
		if err := errors.Join(s.SetLifetime(lifetime), s.Set("user", c.FormValue("user"))); err != nil {
			return err
		}
		return c.Redirect().Status(http.StatusSeeOther).To("/")
	})
	app.Post("/theme", func(c fiber.Ctx) error {
		if err := fibersession.Get(c, prefs).Set("theme", c.FormValue("theme")); err != nil {
			return err
		}
		return c.Redirect().Status(http.StatusSeeOther).To("/")
	})
	app.Get("/", func(c fiber.Ctx) error {
		return c.SendString("user=" + fibersession.Get(c, auth).GetString("user") +
			" theme=" + fibersession.Get(c, prefs).GetString("theme"))
	})
	app.Get("/poll", func(c fiber.Ctx) error {
		s := fibersession.Get(c, auth)
		s.SkipRefresh()
		if s.GetString("user") == "" {
			return fiber.ErrUnauthorized
		}
		return c.JSON(fiber.Map{"user": s.GetString("user")})
	})
	app.Get("/health", func(c fiber.Ctx) error { return c.SendString("ok") })

	client := serveTLS(t, app)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	send := func(method, path string, form url.Values) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, "https://example.com"+path, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(body)
	}
	seconds := func(d time.Duration) string { return fmt.Sprint(int(d / time.Second)) }
	// poll checks that a poll finds the user, sets no cookie, and varies
	// on the cookie it read.
	poll := func(when string) {
		t.Helper()
		res, body := send(http.MethodGet, "/poll", nil)
		if res.StatusCode != http.StatusOK || body != `{"user":"ada"}` || len(lifetimes(res)) != 0 || res.Header.Get("Vary") != "Cookie" {
			t.Fatalf("poll %s: %d %q, Set-Cookie %q, Vary %q; want the user, no cookie, Vary: Cookie",
				when, res.StatusCode, body, res.Header.Values("Set-Cookie"), res.Header.Values("Vary"))
		}
	}
	login := func(remember string, want []string) {
		t.Helper()
		res, _ := send(http.MethodPost, "/login", url.Values{"user": {"ada"}, "remember": {remember}})
		if res.StatusCode != http.StatusSeeOther || !slices.Equal(lifetimes(res), want) {
			t.Fatalf("login, remember=%q: %d, Set-Cookie %q; want the redirect with %v", remember, res.StatusCode, res.Header.Values("Set-Cookie"), want)
		}
	}
	page := func(when, wantBody string, wantCookies []string) {
		t.Helper()
		res, body := send(http.MethodGet, "/", nil)
		if body != wantBody || !slices.Equal(lifetimes(res), wantCookies) {
			t.Fatalf("page %s: %q, Set-Cookie %q; want %q with %v", when, body, res.Header.Values("Set-Cookie"), wantBody, wantCookies)
		}
	}

	for _, remember := range []string{"", "on"} {
		b := newBrowser(t)
		client.Jar = b
		if remember == "" {
			login(remember, []string{"auth=session"})
		} else {
			login(remember, []string{"auth=" + seconds(rememberIdle)})
		}
		if res, _ := send(http.MethodPost, "/theme", url.Values{"theme": {"dark"}}); res.StatusCode != http.StatusSeeOther || !slices.Equal(lifetimes(res), []string{"prefs=" + seconds(prefsFor)}) {
			t.Fatalf("remember=%q: POST /theme: %d, Set-Cookie %q; want the redirect with the prefs cookie alone", remember, res.StatusCode, res.Header.Values("Set-Cookie"))
		}
		// At 28 minutes less than half the idle window is left: a refresh
		// is due, and SkipRefresh holds it back.
		advance(14 * time.Minute)
		poll("14 minutes after the login")
		advance(14 * time.Minute)
		poll("28 minutes after the login")
		if remember == "" {
			advance(time.Minute)
			page("29 minutes after the login", "user=ada theme=dark", []string{"auth=session"})
			advance(14 * time.Minute)
			poll("14 minutes after the page")
			advance(14 * time.Minute)
			poll("28 minutes after the page")
			advance(2 * time.Minute) // 30 minutes since the page: polls did not keep it
			// The poll leaves the ended session's cookie for a request
			// without SkipRefresh to clear: its clear could land after a
			// login in another tab (TestPollRacingLogin in the root).
			if res, _ := send(http.MethodGet, "/poll", nil); res.StatusCode != http.StatusUnauthorized || len(lifetimes(res)) != 0 {
				t.Fatalf("poll 30 minutes after the last page: %d, Set-Cookie %q; want 401, the session ended, and no cookie", res.StatusCode, res.Header.Values("Set-Cookie"))
			}
			login(remember, []string{"auth=session"})
			b.restart(t)
			page("after a browser restart", "user= theme=dark", nil)
			continue
		}
		// Remembered: the cookie outlives two browser restarts six days
		// apart, since the page after each slid the 7-day window.
		for i := range 2 {
			b.restart(t)
			advance(6 * 24 * time.Hour)
			res, body := send(http.MethodGet, "/health", nil)
			for _, h := range []string{"Set-Cookie", "Vary", "Cache-Control"} {
				if got := res.Header.Values(h); body != "ok" || len(got) != 0 {
					t.Fatalf("restart %d: a route that never calls Get, with a refresh due: %q, %s %q; want none", i+1, body, h, got)
				}
			}
			page(fmt.Sprintf("after restart %d", i+1), "user=ada theme=dark", []string{"auth=" + seconds(rememberIdle)})
		}
		if warns := logged.String(); warns != "" {
			t.Fatalf("logged at Warn:\n%s", warns)
		}
		// The operator lowers the ceiling on the running server: the
		// 12-day-old session ends at its next request.
		if err := auth.SetMaxLifetime(7 * 24 * time.Hour); err != nil {
			t.Fatal(err)
		}
		page("after SetMaxLifetime(7 days)", "user= theme=dark", []string{"auth=expired"})
	}
}
