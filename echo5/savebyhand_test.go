package echosession_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/seed-ff2808ae/cookiesession"
)

// byHandApp is an echo app without the session middleware that loads and
// saves its session by hand: /early saves before answering, /late after
// c.JSON, and /hook from a Before hook of echo's Response (the one
// echo.UnwrapResponse returns). Each Save's result goes to saved.
func byHandApp(t *testing.T, m *cookiesession.Manager, saved *error) *echo.Echo {
	e := echo.New()
	e.GET("/:when", func(c *echo.Context) error {
		s, err := m.Load(c.Request())
		if err != nil {
			t.Errorf("Load: %v", err)
		}
		save := func() {
			if err := s.Set("user", "ada"); err != nil {
				t.Error(err)
			}
			*saved = m.Save(c.Response(), c.Request(), s)
		}
		switch c.Param("when") {
		case "early":
			save()
		case "hook":
			resp, err := echo.UnwrapResponse(c.Response())
			if err != nil {
				t.Fatal(err)
			}
			resp.Before(save)
		case "late":
			defer save()
		}
		return c.JSON(http.StatusOK, map[string]string{"user": "ada"})
	})
	return e
}

// TestSaveByHandAfterResponse: without the middleware, a Save of a session
// from Load after c.JSON wrote the response returns an error matching
// ErrHeadersWritten that names echo's Response and the middleware, and
// writes nothing, where it returned nil and the cookie was lost. A Save
// before the answer, or in a Before hook of echo's Response (which runs
// before the header goes), sets the cookie.
func TestSaveByHandAfterResponse(t *testing.T) {
	m := newManager(t)
	var saved error
	e := byHandApp(t, m, &saved)
	for _, when := range []string{"early", "hook", "late"} {
		saved = nil
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://example.com/"+when, nil))
		cookies := len(rec.Result().Cookies())
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d, want 200", when, rec.Code)
		}
		if when != "late" {
			if saved != nil || cookies != 1 {
				t.Errorf("Save %s: %v, %d cookies; want nil and the session's cookie", when, saved, cookies)
			}
			continue
		}
		if !errors.Is(saved, cookiesession.ErrHeadersWritten) || !strings.Contains(saved.Error(), "*echo.Response") ||
			!strings.Contains(saved.Error(), "cookiesession/echo") {
			t.Errorf("Save after c.JSON: %v; want ErrHeadersWritten naming *echo.Response and the echo middleware", saved)
		}
		if cookies != 0 || rec.Header()["Set-Cookie"] != nil {
			t.Errorf("Save after c.JSON: %d cookies sent, %q left in the header map; want none", cookies, rec.Header()["Set-Cookie"])
		}
	}
}

// TestSaveByHandUnderMiddleware: under the middleware, either way it is
// installed, Load in a handler returns the middleware's session, and a
// Save of it after c.JSON returns ErrHeadersWritten, sends no cookie, and
// the change is logged at Warn as not saved.
func TestSaveByHandUnderMiddleware(t *testing.T) {
	for _, way := range wayNames {
		// A Manager each: the change is logged at Warn once a minute per
		// Manager.
		var logged strings.Builder
		m := managerWith(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		var saved error
		e := echo.New()
		e.Use(ways(m)[way])
		e.GET("/", func(c *echo.Context) error {
			s, err := m.Load(c.Request())
			if err != nil || s != cookiesession.FromContext(c.Request().Context()) {
				t.Errorf("%s: Load gave %p (%v), not the middleware's session", way, s, err)
			}
			if err := c.JSON(http.StatusOK, map[string]string{"user": "ada"}); err != nil {
				return err
			}
			if err := s.Set("user", "ada"); err != nil {
				t.Error(err)
			}
			saved = m.Save(c.Response(), c.Request(), s)
			return nil
		})
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://example.com/", nil))
		if !errors.Is(saved, cookiesession.ErrHeadersWritten) {
			t.Errorf("%s: Save after c.JSON: %v, want ErrHeadersWritten", way, saved)
		}
		if n := len(rec.Result().Cookies()); n != 0 || rec.Code != http.StatusOK {
			t.Errorf("%s: status %d with %d cookies, want 200 with none", way, rec.Code, n)
		}
		if !strings.Contains(logged.String(), "level=WARN") {
			t.Errorf("%s: the change after c.JSON was not logged at Warn:\n%s", way, logged.String())
		}
	}
}
