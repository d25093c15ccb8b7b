package fibersession_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"
	"github.com/gofiber/fiber/v3/middleware/session"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

// README's block under "Carrying users from fiber's session middleware"
// is the function below, byte for byte (TestCarryFromFiberSession).

// carryFiberSessions carries a user signed in under fiber's session
// middleware, whose store old reads, into sessions at her first request.
// Use it after fibersession.New(sessions), whose Options.Name is not the
// old cookie's (session_id).
func carryFiberSessions(sessions *cookiesession.Manager, old *session.Store) fiber.Handler {
	return func(c fiber.Ctx) error {
		if c.Cookies("session_id") == "" {
			return c.Next() // no old session: the request costs nothing more
		}
		prev, err := old.Get(c)
		if err != nil {
			return err
		}
		defer prev.Release()
		if s := fibersession.Get(c, sessions); s.IsNew() && !prev.Fresh() {
			for _, k := range prev.Keys() {
				if err := s.Set(fmt.Sprint(k), prev.Get(k)); err != nil {
					return err // a struct fiber's store held: carry it with SetJSON
				}
			}
		}
		// Ends the old session in its store and expires its cookie.
		if err := prev.Destroy(); err != nil {
			return err
		}
		return c.Next()
	}
}

// TestCarryFromFiberSession checks README's word on moving a live app
// from fiber's session middleware: under the old cookie's name,
// session_id, the Manager refuses the old id and clears it, and every
// signed-in user is signed out; under another name, with
// carryFiberSessions after fibersession.New reading the old store, the
// user's values are carried at the first request, the old session is
// ended in the store and its cookie expired, and later requests read the
// new cookie alone.
func TestCarryFromFiberSession(t *testing.T) {
	oldApp := func() (*fiber.App, *session.Store) {
		handler, store := session.NewWithStore() // the old app's Storage (Redis, ...) in production
		app := fiber.New()
		app.Use(handler)
		app.Post("/login", func(c fiber.Ctx) error {
			sess := session.FromContext(c)
			sess.Set("user", "ada")
			sess.Set("visits", 7)
			return c.SendStatus(http.StatusNoContent)
		})
		return app, store
	}
	newApp := func(m *cookiesession.Manager, old *session.Store) *fiber.App {
		app := fiber.New()
		app.Use(recover.New(), fibersession.New(m), carryFiberSessions(m, old))
		app.Get("/", func(c fiber.Ctx) error {
			s := fibersession.Get(c, m)
			return c.SendString(fmt.Sprint(s.GetString("user"), " ", s.GetInt("visits")))
		})
		return app
	}

	t.Run("same name signs out", func(t *testing.T) {
		app, _ := oldApp()
		j := newJar()
		do(t, app, http.MethodPost, "/login", j)
		logged := defaultLog(t, slog.LevelDebug)
		m := newManager(t, cookiesession.Options{Name: "session_id"})
		r := do(t, newAppNoCarry(m), http.MethodGet, "/", j)
		if r.body != " 0" || !r.expired(t, "session_id") {
			t.Errorf("under the old name: %q, Set-Cookie %q; want the user signed out and the old cookie cleared", r.body, r.setCookie)
		}
		if lines := logged.lines("too short"); len(lines) != 1 || !strings.Contains(lines[0], "level=DEBUG") {
			t.Errorf("want the refusal at Debug; log:\n%s", logged)
		}
	})

	t.Run("carried", func(t *testing.T) {
		app, store := oldApp()
		j := newJar()
		do(t, app, http.MethodPost, "/login", j)
		id := j.values["session_id"]
		m := newManager(t, cookiesession.Options{})
		carried := newApp(m, store)
		r := do(t, carried, http.MethodGet, "/", j)
		if r.body != "ada 7" || !r.expired(t, "session_id") || len(r.linesFor("session")) != 1 {
			t.Fatalf("first request: %q, Set-Cookie %q; want ada's values, the old cookie expired, the new one set", r.body, r.setCookie)
		}
		if data, err := store.Storage.GetWithContext(context.Background(), id); err != nil || data != nil {
			t.Errorf("the old session is still in its store: %q, %v", data, err)
		}
		r = do(t, carried, http.MethodGet, "/", j)
		if r.body != "ada 7" || len(r.setCookie) != 0 {
			t.Errorf("next request: %q, Set-Cookie %q; want ada's values from the new cookie alone", r.body, r.setCookie)
		}
		if r := do(t, carried, http.MethodGet, "/", newJar()); r.body != " 0" || len(r.setCookie) != 0 {
			t.Errorf("a stranger: %q, Set-Cookie %q; want nothing", r.body, r.setCookie)
		}
	})

	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("carry_test.go")
	if err != nil {
		t.Fatal(err)
	}
	block := readmeBlockAfter(t, string(readme), "#### Carrying users from fiber's session middleware")
	if !strings.Contains(string(src), block) {
		t.Errorf("README's carry block is not carryFiberSessions's body:\n%s", block)
	}
}

func newAppNoCarry(m *cookiesession.Manager) *fiber.App {
	app := fiber.New()
	app.Use(recover.New(), fibersession.New(m))
	app.Get("/", func(c fiber.Ctx) error {
		s := fibersession.Get(c, m)
		return c.SendString(fmt.Sprint(s.GetString("user"), " ", s.GetInt("visits")))
	})
	return app
}

// readmeBlockAfter returns the first Go block after heading in readme,
// without its fences.
func readmeBlockAfter(t *testing.T, readme, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, heading)
	if !ok {
		t.Fatalf("README has no %q", heading)
	}
	_, rest, ok = strings.Cut(rest, "```go\n")
	block, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatalf("README has no Go block after %q", heading)
	}
	return block
}
