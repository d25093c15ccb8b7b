package frameworks

import (
	"net/http"
	"testing"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
	"github.com/seed-ff2808ae/cookiesession"
	echosession "github.com/seed-ff2808ae/cookiesession/echo5"
	"github.com/seed-ff2808ae/cookiesession/examples/migrate"
)

// echo5App is echoApp for echo v5.
func echo5App(mgr *cookiesession.Manager, old *sessions.CookieStore, wrapped bool) http.Handler {
	e := echo.New()
	e.Logger = quiet
	recover := middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true})
	carry := migrate.FromGorilla(mgr, old, oldName, quiet)
	if wrapped {
		e.Use(recover)
	} else {
		e.Use(recover, echosession.Middleware(mgr), echo.WrapMiddleware(carry))
	}
	e.GET("/", func(c *echo.Context) error { return c.String(http.StatusOK, show(echosession.Session(c))) })
	e.GET("/panic", func(c *echo.Context) error {
		echosession.Session(c).AddFlash("half-made")
		panic("boom")
	})
	e.GET("/logout", func(c *echo.Context) error {
		echosession.Session(c).Destroy()
		return c.String(http.StatusOK, "bye")
	})
	if wrapped {
		return mgr.Handler(carry(e))
	}
	return e
}

// TestFromGorillaEcho5 is TestFromGorillaEcho for echo v5.
func TestFromGorillaEcho5(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wrapped bool
	}{{"after echosession.Middleware", false}, {"engine inside mgr.Handler", true}} {
		t.Run(tc.name, func(t *testing.T) {
			checkCarry(t, func(t *testing.T) *site {
				return serveHTTP(t, echo5App(newManager(t), oldStore(), tc.wrapped))
			}, tc.wrapped)
		})
	}
}
