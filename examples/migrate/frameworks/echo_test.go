package frameworks

import (
	"net/http"
	"testing"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/seed-ff2808ae/cookiesession"
	echosession "github.com/seed-ff2808ae/cookiesession/echo"
	"github.com/seed-ff2808ae/cookiesession/examples/migrate"
)

// echoApp is a ported echo v4 app: Recover first, then the session, then
// FromGorilla through echo.WrapMiddleware, as README wires it; unless
// wrapped is set, when the engine is served inside
// mgr.Handler(FromGorilla(...)(e)), the net/http wiring, which puts
// Recover inside the Manager.
func echoApp(mgr *cookiesession.Manager, old *sessions.CookieStore, wrapped bool) http.Handler {
	e := echo.New()
	e.Logger.SetOutput(discard{})
	recover := middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true})
	carry := migrate.FromGorilla(mgr, old, oldName, quiet)
	if wrapped {
		e.Use(recover)
	} else {
		e.Use(recover, echosession.Middleware(mgr), echo.WrapMiddleware(carry))
	}
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, show(echosession.Session(c))) })
	e.GET("/panic", func(c echo.Context) error {
		echosession.Session(c).AddFlash("half-made")
		panic("boom")
	})
	e.GET("/logout", func(c echo.Context) error {
		echosession.Session(c).Destroy()
		return c.String(http.StatusOK, "bye")
	})
	if wrapped {
		return mgr.Handler(carry(e))
	}
	return e
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestFromGorillaEcho: FromGorilla run after echosession.Middleware, by
// echo.WrapMiddleware, carries the old cookie and its pending flash, and
// keeps Recover's place before the session: a panic's 500 carries no
// cookie, and the handler's half-made flash is never shown. A logout as
// the first request signs the user out. With the engine inside
// mgr.Handler instead, the 500 carries the half-made flash.
func TestFromGorillaEcho(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wrapped bool
	}{{"after echosession.Middleware", false}, {"engine inside mgr.Handler", true}} {
		t.Run(tc.name, func(t *testing.T) {
			checkCarry(t, func(t *testing.T) *site {
				return serveHTTP(t, echoApp(newManager(t), oldStore(), tc.wrapped))
			}, tc.wrapped)
		})
	}
}
