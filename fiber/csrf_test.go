package fibersession_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/extractors"
	"github.com/gofiber/fiber/v3/middleware/csrf"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

// TestFiberCSRFTokensPerInstance checks what fiber/README.md says of
// fiber's csrf middleware beside the session: it keeps its tokens on the
// server (process memory by default), so another instance that opens the
// same session refuses the form with 403, where a token kept in the
// session is good on every instance.
func TestFiberCSRFTokensPerInstance(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	instance := func(fiberCSRF bool) *fiber.App {
		app := fiber.New()
		app.Use(fibersession.New(m))
		if fiberCSRF {
			app.Use(csrf.New(csrf.Config{Extractor: extractors.FromForm("fiber_csrf")}))
		}
		app.Get("/form", func(c fiber.Ctx) error {
			if err := fibersession.Get(c, m).Set("csrf", "token-in-the-session"); err != nil {
				return err
			}
			return c.SendString(csrf.TokenFromContext(c))
		})
		app.Post("/email", func(c fiber.Ctx) error {
			if c.FormValue("session_csrf") != fibersession.Get(c, m).GetString("csrf") {
				return fiber.ErrForbidden
			}
			return c.SendString("changed")
		})
		return app
	}
	post := func(app *fiber.App, jar *jar, fiberToken string) int {
		form := url.Values{"fiber_csrf": {fiberToken}, "session_csrf": {"token-in-the-session"}}
		req := httptest.NewRequest(http.MethodPost, "https://example.test/email", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", jar.header())
		return send(t, app, req, jar).status
	}
	a, b := instance(true), instance(true)
	jar := newJar()
	token := do(t, a, http.MethodGet, "/form", jar).body
	if got := post(a, jar, token); got != http.StatusOK {
		t.Fatalf("the form posted to the instance that issued its token: %d, want 200", got)
	}
	token = do(t, a, http.MethodGet, "/form", jar).body
	if got := post(b, jar, token); got != http.StatusForbidden {
		t.Errorf("the form posted to another instance under fiber's csrf: %d, want 403 (its tokens are in a's memory)", got)
	}
	if got := post(instance(false), jar, ""); got != http.StatusOK {
		t.Errorf("the form posted to another instance with the session's token alone: %d, want 200", got)
	}
}

// TestErrorFromMiddlewareBeforeSession checks an app whose ErrorHandler
// stores a flash, for a refusal by fiber's csrf: with csrf before
// fibersession.New in app.Use, the refusal reaches the ErrorHandler before
// the middleware ran, the flash is lost, and the Warn must name the fix
// for that order (move New up), not only tell the developer to add the
// app.Use they already have. With New(m) first the flash is saved.
func TestErrorFromMiddlewareBeforeSession(t *testing.T) {
	for _, sessionFirst := range []bool{false, true} {
		logged := defaultLog(t, slog.LevelWarn)
		m := newManager(t, cookiesession.Options{})
		app := fiber.New(fiber.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
			fibersession.Get(c, m).AddFlash("refused: " + err.Error())
			return c.Redirect().To("/")
		}})
		if sessionFirst {
			app.Use(fibersession.New(m), csrf.New())
		} else {
			app.Use(csrf.New(), fibersession.New(m))
		}
		app.Get("/", func(c fiber.Ctx) error {
			return c.SendString(strings.Join(fibersession.Get(c, m).Flashes(), ","))
		})
		app.Post("/email", func(c fiber.Ctx) error { return c.SendString("changed") })
		jar := newJar()
		do(t, app, http.MethodPost, "/email", jar) // no token: csrf's 403
		flash := do(t, app, http.MethodGet, "/", jar).body
		lines := logged.lines("no fibersession.New middleware for this Manager")
		switch {
		case sessionFirst && (flash != "refused: Forbidden" || len(lines) != 0):
			t.Errorf("New(m) before csrf: flash %q, log:\n%s\nwant the flash and nothing logged", flash, logged)
		case !sessionFirst && (flash != "" || len(lines) != 1 || !strings.Contains(lines[0], "move it up")):
			t.Errorf("csrf before New(m): flash %q, log:\n%s\nwant no flash and one Warn whose fix is to move New(m) up", flash, logged)
		}
	}
}
