package echosession_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/seed-ff2808ae/cookiesession"
	echosession "github.com/seed-ff2808ae/cookiesession/echo"
)

// login is a handler as an app's test calls it alone.
func login(c echo.Context) error {
	if err := echosession.Session(c).Set("user", "ann"); err != nil {
		return err
	}
	return c.String(http.StatusCreated, "signed in")
}

// TestHandlerCalledDirectly checks the two ways echo's docs call a handler
// alone on e.NewContext. The handler alone, with a session from Load put
// in the request's context by cookiesession.NewContext, changes that
// session, and no cookie is written. The middleware called on the handler
// (Middleware(m)(h)(c)) writes the cookie into the recorder, and a request
// that carries it reads the user back.
func TestHandlerCalledDirectly(t *testing.T) {
	m := newManager(t)
	e := echo.New()

	req := httptest.NewRequest(http.MethodPost, "https://example.com/login", nil)
	if s := echosession.Session(e.NewContext(req, httptest.NewRecorder())); s != nil {
		t.Fatalf("Session without the middleware: %v, want nil", s)
	}
	if s := echosession.Session(e.NewContext(nil, httptest.NewRecorder())); s != nil {
		t.Fatalf("Session of a context without a request: %v, want nil", s)
	}
	s, err := m.Load(req)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := login(e.NewContext(req.WithContext(cookiesession.NewContext(req.Context(), s)), rec)); err != nil {
		t.Fatal(err)
	}
	if got := s.GetString("user"); got != "ann" || rec.Code != http.StatusCreated {
		t.Errorf("handler alone: user %q, status %d; want ann, 201", got, rec.Code)
	}
	if lines := rec.Result().Header.Values("Set-Cookie"); len(lines) != 0 {
		t.Errorf("Set-Cookie without the middleware: %q", lines)
	}

	rec = httptest.NewRecorder()
	if err := echosession.Middleware(m)(login)(e.NewContext(req, rec)); err != nil {
		t.Fatal(err)
	}
	next := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	for _, c := range rec.Result().Cookies() {
		next.AddCookie(c)
	}
	s, err = m.Load(next)
	if err != nil || s.GetString("user") != "ann" {
		t.Errorf("middleware called on the handler: Set-Cookie %q gives user %q (%v), want ann", rec.Result().Header.Values("Set-Cookie"), s.GetString("user"), err)
	}
}
