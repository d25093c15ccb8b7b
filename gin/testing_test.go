package ginsession_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/seed-ff2808ae/cookiesession"
	ginsession "github.com/seed-ff2808ae/cookiesession/gin"
)

// login is a handler as an app's test calls it alone.
func login(c *gin.Context) {
	if err := ginsession.Session(c).Set("user", "ann"); err != nil {
		_ = c.AbortWithError(http.StatusInternalServerError, err)
		return
	}
	c.String(http.StatusCreated, "signed in")
}

// TestHandlerCalledDirectly checks a handler called alone on a
// gin.CreateTestContext, without the middleware: with no request set,
// Session returns nil, as with one whose context holds no session, and
// does not fail on gin's nil c.Request; with a session from Load put in
// the request's context by cookiesession.NewContext, the handler reads and
// changes that session, and no cookie is written.
func TestHandlerCalledDirectly(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	if s := ginsession.Session(c); s != nil {
		t.Fatalf("Session with no request: %v, want nil", s)
	}

	m := newManager(t)
	rec := httptest.NewRecorder()
	c, _ = gin.CreateTestContext(rec)
	req := httptest.NewRequest(http.MethodPost, "https://example.com/login", nil)
	s, err := m.Load(req)
	if err != nil {
		t.Fatal(err)
	}
	c.Request = req.WithContext(cookiesession.NewContext(req.Context(), s))
	login(c)
	if got := s.GetString("user"); got != "ann" || rec.Code != http.StatusCreated {
		t.Errorf("user %q, status %d: want ann, 201", got, rec.Code)
	}
	if lines := rec.Result().Header.Values("Set-Cookie"); len(lines) != 0 {
		t.Errorf("Set-Cookie without the middleware: %q", lines)
	}
}

// TestMiddlewareWithoutRequestNamesFix checks that the middleware called
// on a gin.CreateTestContext whose c.Request is still nil panics naming
// the fix, not on a nil dereference that says nothing of the cause.
func TestMiddlewareWithoutRequestNamesFix(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	defer func() {
		if msg, _ := recover().(string); !strings.HasPrefix(msg, "cookiesession: ") || !strings.Contains(msg, "set c.Request") {
			t.Errorf("panic %q does not name the fix", msg)
		}
	}()
	ginsession.Middleware(newManager(t))(c)
	t.Error("the middleware ran with no request")
}
