package fibersession_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

// TestCallerNamesTheHandlersCall: a getter's wrong-type read is logged
// with the line of the application's call (caller). In a template that
// fiber's c.Render executes, the line named fiber's Render; it names the
// handler's c.Render.
func TestCallerNamesTheHandlersCall(t *testing.T) {
	page := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(page, []byte(`<p>user {{.s.GetInt "user"}}</p>`), 0o600); err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	app := fiber.New()
	app.Use(fibersession.New(m))
	var at int
	app.Get("/", func(c fiber.Ctx) error {
		s := fibersession.Get(c, m)
		if err := s.Set("user", "ada"); err != nil {
			return err
		}
		err := c.Render(page, fiber.Map{"s": s})
		_, _, at, _ = runtime.Caller(0)
		at--
		return err
	})
	if r := do(t, app, "GET", "/", nil); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	want := fmt.Sprintf("callsite_test.go:%d)", at)
	if got := logged.String(); !strings.Contains(got, "Session.GetInt found under the key") || !strings.Contains(got, want) {
		t.Errorf("logged %s\nwant the wrong-type Warn naming the handler's c.Render at %s", got, want)
	}
}
