package echosession_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/seed-ff2808ae/cookiesession"
	echosession "github.com/seed-ff2808ae/cookiesession/echo"
)

// contribApp is an app ported from echo-contrib/session as README's table
// says, with the session middleware placed by stack. /login keeps the
// port's explicit Save; /fail changes the session, then fails, where the
// gorilla app returned before its Save.
func contribApp(m *cookiesession.Manager, stack func(e *echo.Echo, mw echo.MiddlewareFunc) routes) *echo.Echo {
	e := echo.New()
	g := stack(e, echosession.Middleware(m))
	g.POST("/login", func(c echo.Context) error {
		s := echosession.Session(c)
		if err := s.Set("user", c.QueryParam("user")); err != nil {
			return err
		}
		if err := m.Save(c.Response(), c.Request(), s); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/")
	})
	g.GET("/", func(c echo.Context) error {
		return c.String(http.StatusOK, "user="+echosession.Session(c).GetString("user"))
	})
	g.POST("/fail", func(c echo.Context) error {
		if err := echosession.Session(c).Set("user", "mallory"); err != nil {
			return err
		}
		return echo.NewHTTPError(http.StatusConflict, "audit failed")
	})
	g.POST("/flash", func(c echo.Context) error {
		echosession.Session(c).AddFlash("saved")
		return c.Redirect(http.StatusSeeOther, "/flashes")
	})
	g.GET("/flashes", func(c echo.Context) error {
		return c.String(http.StatusOK, strings.Join(echosession.Session(c).Flashes(), ","))
	})
	g.GET("/late", func(c echo.Context) error {
		err := c.Stream(http.StatusOK, "text/plain", strings.NewReader("streamed"))
		_ = echosession.Session(c).Flashes()
		return err
	})
	g.POST("/logout", func(c echo.Context) error {
		echosession.Session(c).Destroy()
		return c.Redirect(http.StatusSeeOther, "/")
	})
	return e
}

// used puts the middleware on the app with e.Use.
func used(e *echo.Echo, mw echo.MiddlewareFunc) routes { e.Use(mw); return e }

// TestFromEchoContribPlacements runs the ported app with the middleware
// where an echo-contrib/session app had its own, beside echo's middleware
// that wraps the response or the request (the client asks for gzip, and
// its transport undoes it): each time the explicit Save and
// the middleware's commit send one cookie, and logout expires it.
func TestFromEchoContribPlacements(t *testing.T) {
	stacks := map[string]func(e *echo.Echo, mw echo.MiddlewareFunc) routes{
		"Use":   used,
		"Pre":   func(e *echo.Echo, mw echo.MiddlewareFunc) routes { e.Pre(mw); return e },
		"Group": func(e *echo.Echo, mw echo.MiddlewareFunc) routes { return e.Group("", mw) },
		"Use and Group": func(e *echo.Echo, mw echo.MiddlewareFunc) routes {
			e.Use(mw)
			return e.Group("", mw)
		},
		"Gzip outside": func(e *echo.Echo, mw echo.MiddlewareFunc) routes { e.Use(middleware.Gzip(), mw); return e },
		"Gzip inside":  func(e *echo.Echo, mw echo.MiddlewareFunc) routes { e.Use(mw, middleware.Gzip()); return e },
		"ContextTimeout inside": func(e *echo.Echo, mw echo.MiddlewareFunc) routes {
			e.Use(mw, middleware.ContextTimeout(time.Minute))
			return e
		},
		"ContextTimeout outside": func(e *echo.Echo, mw echo.MiddlewareFunc) routes {
			e.Use(middleware.ContextTimeout(time.Minute), mw)
			return e
		},
	}
	m := newManager(t)
	for name, stack := range stacks {
		t.Run(name, func(t *testing.T) {
			cl := newClient(t, newServer(t, contribApp(m, stack)))
			resp, _ := cl.do(http.MethodPost, "/login?user=ada")
			if got := resp.Header.Values("Set-Cookie"); resp.StatusCode != http.StatusSeeOther || len(got) != 1 {
				t.Fatalf("login: %d, Set-Cookie %q; want the redirect with one line", resp.StatusCode, got)
			}
			if _, body := cl.do(http.MethodGet, "/"); body != "user=ada" {
				t.Errorf("after login: %q", body)
			}
			resp, _ = cl.do(http.MethodPost, "/logout")
			if got := setCookies(resp); !slices.Equal(got, []string{"session=expired"}) {
				t.Errorf("logout: Set-Cookie %v", got)
			}
			if _, body := cl.do(http.MethodGet, "/"); body != "user=" {
				t.Errorf("after logout: %q", body)
			}
		})
	}
}

// TestFromEchoContribDifferences checks the rows of README's table where
// the ported app behaves otherwise than the gorilla one.
func TestFromEchoContribDifferences(t *testing.T) {
	t.Run("a change before an error is saved", func(t *testing.T) {
		cl := newClient(t, newServer(t, contribApp(newManager(t), used)))
		resp, _ := cl.do(http.MethodPost, "/fail")
		if resp.StatusCode != http.StatusConflict || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
			t.Fatalf("POST /fail: %d, Set-Cookie %v", resp.StatusCode, setCookies(resp))
		}
		if _, body := cl.do(http.MethodGet, "/"); body != "user=mallory" {
			t.Errorf("after the error: %q", body)
		}
	})
	t.Run("flashes read after the response started come back", func(t *testing.T) {
		var logged strings.Builder
		cl := newClient(t, newServer(t, contribApp(loggedManager(t, "/", &logged), used)))
		cl.do(http.MethodPost, "/flash")
		if _, body := cl.do(http.MethodGet, "/late"); body != "streamed" || !warned(logged.String(), "the change was not saved") {
			t.Errorf("GET /late: %q; log:\n%s", body, logged.String())
		}
		for _, want := range []string{"saved", ""} {
			if _, body := cl.do(http.MethodGet, "/flashes"); body != want {
				t.Errorf("GET /flashes: %q, want %q", body, want)
			}
		}
	})
	t.Run("a gorilla cookie of the same name is expired", func(t *testing.T) {
		srv := newServer(t, contribApp(newManager(t), used))
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Cookie", "session=MTcxNjIzOTAyMnxEdi1CQkFFQ180SUFBUkFCRUFBQUlfLUNBQUVHYzNSeWFXNW5EQVlBQkhWelpYSUdjM1J5YVc1bkRBVUFBMkZrWVE9PXw=")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := setCookies(resp); !slices.Equal(got, []string{"session=expired"}) {
			t.Errorf("Set-Cookie %v, want the gorilla cookie expired", got)
		}
	})
	t.Run("a CSRF cookie named like the session is logged", func(t *testing.T) {
		var logged strings.Builder
		m := loggedManager(t, "/", &logged)
		csrf := middleware.CSRFWithConfig(middleware.CSRFConfig{CookieName: "session"})
		cl := newClient(t, newServer(t, contribApp(m, func(e *echo.Echo, mw echo.MiddlewareFunc) routes { e.Use(mw, csrf); return e })))
		cl.do(http.MethodGet, "/")
		if !warned(logged.String(), "which the Manager did not write") {
			t.Errorf("no Warn; log:\n%s", logged.String())
		}
	})
	t.Run("MaxAge is an option of the Manager", func(t *testing.T) {
		week := 7 * 24 * time.Hour
		m := managerWith(t, cookiesession.Options{MaxAge: week})
		resp, _ := newClient(t, newServer(t, contribApp(m, used))).do(http.MethodPost, "/login?user=ada")
		cks := resp.Cookies()
		if len(cks) != 1 || cks[0].MaxAge < int(week.Seconds())-60 || cks[0].MaxAge > int(week.Seconds()) {
			t.Errorf("login cookies %v, want one with a Max-Age of a week", cks)
		}
	})
}

// TestGzipOrderTooLarge stores a session too large to save with echo's
// Gzip before and after the middleware. Before it, the ErrorHandler's
// answer is compressed as labelled. After it, Gzip has put
// Content-Encoding: gzip in the header map the middleware shares by the
// time the commit fails, and the ErrorHandler's plain body goes out under
// that label, which the client cannot read: README's table says to put
// Gzip before the middleware.
func TestGzipOrderTooLarge(t *testing.T) {
	for _, before := range []bool{true, false} {
		t.Run(fmt.Sprintf("before=%v", before), func(t *testing.T) {
			m := newManager(t)
			e := echo.New()
			if before {
				e.Use(middleware.Gzip(), echosession.Middleware(m))
			} else {
				e.Use(echosession.Middleware(m), middleware.Gzip())
			}
			e.GET("/big", func(c echo.Context) error {
				if err := echosession.Session(c).Set("blob", strings.Repeat("x", tooLargeBlob)); err != nil {
					return err
				}
				return c.String(http.StatusOK, "stored")
			})
			srv := newServer(t, e)
			resp, err := srv.Client().Get(srv.URL + "/big") // the transport asks for gzip and undoes it
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			readable := err == nil && string(body) == "session too large\n"
			if resp.StatusCode != http.StatusRequestEntityTooLarge || readable != before {
				t.Errorf("%d, Content-Encoding %q, body %q (%v); want 413, readable %v", resp.StatusCode, resp.Header.Get("Content-Encoding"), body, err, before)
			}
		})
	}
}
