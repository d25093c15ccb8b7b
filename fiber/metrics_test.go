package fibersession_test

import (
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

// TestMetricsSaveThenCommit: fibersession's early Save and its final save
// write one token.
func TestMetricsSaveThenCommit(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := fiber.New()
	app.Use(fibersession.New(m))
	app.Post("/set", func(c fiber.Ctx) error {
		if err := fibersession.Get(c, m).Set("v", "1"); err != nil {
			return err
		}
		if err := fibersession.Save(c, m); err != nil {
			return err
		}
		return c.SendString("ok")
	})
	if r := do(t, app, http.MethodPost, "/set", nil); len(r.linesFor("session")) != 1 {
		t.Fatalf("Set-Cookie %q", r.setCookie)
	}
	if got := m.Metrics().Written; got != 1 {
		t.Errorf("written %d, want 1", got)
	}
}
