package fibersession_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/idempotency"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

// TestIdempotencyOrder checks fiber's idempotency middleware beside the
// session. It keeps the response to a request with an X-Idempotency-Key,
// and answers a retry with that key from it, without the handler: the
// retry a client sends when the first response was lost. Before
// fibersession.New, it keeps the response with the session's cookie, and
// the retry gets it. After it, it keeps the response as the handlers
// left it, before the save: the retry is told "added" without the
// cookie, and the cart's change is lost. That order is logged at Warn at
// the first request, with the fix.
func TestIdempotencyOrder(t *testing.T) {
	for _, before := range []bool{true, false} {
		logged := defaultLog(t, slog.LevelWarn)
		m := newManager(t, cookiesession.Options{})
		app := fiber.New()
		if before {
			app.Use(idempotency.New(), fibersession.New(m))
		} else {
			app.Use(fibersession.New(m), idempotency.New())
		}
		app.Post("/cart", func(c fiber.Ctx) error {
			s := fibersession.Get(c, m)
			if err := s.Set("cart", append(s.GetStrings("cart"), c.Query("item"))); err != nil {
				return err
			}
			return c.SendString("added")
		})
		add := func() response {
			req := httptest.NewRequest(http.MethodPost, "https://example.test/cart?item=book", nil)
			req.Header.Set("X-Idempotency-Key", "7c9e6679-7425-40de-944b-e07cc4f1d2a1")
			return send(t, app, req, nil) // no jar: the first response never arrived
		}
		if first := add(); len(first.linesFor("session")) != 1 {
			t.Fatalf("before=%v: the first answer set %q, want the session's cookie", before, first.setCookie)
		}
		retry := add()
		warned := logged.lines("idempotency")
		if before {
			if retry.body != "added" || len(retry.linesFor("session")) != 1 {
				t.Errorf("idempotency before New: the retry got %d %q with %q, want the stored answer with the session's cookie", retry.status, retry.body, retry.setCookie)
			}
			if len(warned) > 0 {
				t.Errorf("idempotency before New logged %q", warned)
			}
			continue
		}
		if retry.body != "added" || len(retry.setCookie) != 0 {
			t.Errorf("idempotency after New: the retry got %q with %q; this test shows it gets no cookie", retry.body, retry.setCookie)
		}
		if len(warned) != 1 || !strings.Contains(warned[0], "level=WARN") || !strings.Contains(warned[0], "before fibersession.New(m)") {
			t.Errorf("idempotency after New: want one Warn with the fix, got %q", warned)
		}
	}
}
