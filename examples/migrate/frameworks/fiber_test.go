package frameworks

import (
	"encoding/gob"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/adaptor"
	"github.com/gofiber/fiber/v3/middleware/recover"
	"github.com/gorilla/sessions"
	"github.com/seed-ff2808ae/cookiesession"
	"github.com/seed-ff2808ae/cookiesession/examples/migrate"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

// fiberApp is a ported fiber app: recover first, then the session, then
// FromGorilla on a net/http request that carries fibersession's session,
// as README wires it. readBuffer is fiber's ReadBufferSize.
func fiberApp(mgr *cookiesession.Manager, old *sessions.CookieStore, readBuffer int) *fiber.App {
	app := fiber.New(fiber.Config{ReadBufferSize: readBuffer})
	sessions := mgr
	app.Use(recover.New())
	// README's block, from here:
	carry := migrate.FromGorilla(sessions, old, "mysession", quiet)
	app.Use(fibersession.New(sessions), func(c fiber.Ctx) error {
		if c.Cookies("mysession") == "" {
			return c.Next() // no old cookie: no net/http request to build
		}
		r, err := adaptor.ConvertRequest(c, true)
		if err != nil {
			return err
		}
		r = r.WithContext(cookiesession.NewContext(r.Context(), fibersession.Get(c, sessions)))
		// fibersession saves the session: what FromGorilla saves into the
		// recorder only checks that it fits.
		carry(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), r)
		return c.Next()
	})
	// to here.
	app.Get("/", func(c fiber.Ctx) error { return c.SendString(show(fibersession.Get(c, mgr))) })
	app.Get("/panic", func(c fiber.Ctx) error {
		fibersession.Get(c, mgr).AddFlash("half-made")
		panic("boom")
	})
	app.Get("/logout", func(c fiber.Ctx) error {
		fibersession.Get(c, mgr).Destroy()
		return c.SendString("bye")
	})
	return app
}

// TestFromGorillaFiber: FromGorilla run after fibersession.New carries
// the old cookie and its pending flash; recover before the session keeps
// a panic's half-made flash from being shown, and a logout as the first
// request signs the user out.
func TestFromGorillaFiber(t *testing.T) {
	checkCarry(t, func(t *testing.T) *site {
		return serveFiber(t, fiberApp(newManager(t), oldStore(), 5<<10))
	}, false)
}

// note is a struct the old app registered with gob, carried as JSON.
type note struct{ Text string }

func init() { gob.Register(note{}) }

// TestFromGorillaFiberReadBuffer: FromGorilla fits the carried session to
// the Manager's cookie limits, and fibersession also refuses cookies that
// take more than fiber's ReadBufferSize less 1024 bytes. A small gorilla
// cookie (1148 bytes) whose struct grows as JSON (each < is \u003c) to a
// 3.5 KB session passes the first and not the second under fiber's
// default 4096: every request is answered 500 while the old cookie lives.
// With ReadBufferSize at MaxChunks x MaxCookieSize + 1024 (5 KB), it is
// carried.
func TestFromGorillaFiberReadBuffer(t *testing.T) {
	store := oldStore()
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	sess, err := store.New(r, oldName)
	if err != nil {
		t.Fatal(err)
	}
	sess.Values["user"] = "ada"
	sess.Values["note"] = note{Text: strings.Repeat("<", 420)}
	w := httptest.NewRecorder()
	if err := sess.Save(r, w); err != nil {
		t.Fatal(err)
	}
	old := w.Result().Cookies()[0]
	defer slog.SetDefault(slog.Default()) // fibersession logs the 500 there
	slog.SetDefault(quiet)
	for _, tc := range []struct {
		readBuffer int
		status     int
		body       string
	}{
		{0, http.StatusInternalServerError, "Internal Server Error"}, // fiber's default, 4096
		{5 << 10, http.StatusOK, "user=ada flashes="},
	} {
		s := serveFiber(t, fiberApp(newManager(t), store, tc.readBuffer))
		s.plant(old)
		for range 2 {
			if status, body, _ := s.get("/"); status != tc.status || body != tc.body {
				t.Errorf("ReadBufferSize %d: %d %q, want %d %q", tc.readBuffer, status, body, tc.status, tc.body)
			}
		}
	}
}
