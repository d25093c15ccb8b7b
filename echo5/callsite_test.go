package echosession_test

import (
	"fmt"
	"html/template"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"
	echosession "github.com/seed-ff2808ae/cookiesession/echo5"
)

// TestCallerNamesTheHandlersCall: a getter's wrong-type read is logged
// with the line of the application's call (caller). In a template that
// echo's TemplateRenderer executes for c.Render, the line named the
// renderer's, in echo's package; it names the handler's c.Render.
func TestCallerNamesTheHandlersCall(t *testing.T) {
	var logged strings.Builder
	e := echo.New()
	e.Renderer = &echo.TemplateRenderer{Template: template.Must(template.New("page").Parse(`<p>user {{.GetInt "user"}}</p>`))}
	e.Use(echosession.Middleware(loggedManager(t, "/", &logged)))
	var at int
	e.GET("/", func(c *echo.Context) error {
		s := echosession.Session(c)
		if err := s.Set("user", "ada"); err != nil {
			return err
		}
		err := c.Render(200, "page", s)
		_, _, at, _ = runtime.Caller(0)
		at--
		return err
	})
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	want := fmt.Sprintf("callsite_test.go:%d)", at)
	if got := logged.String(); !strings.Contains(got, "Session.GetInt found under the key") || !strings.Contains(got, want) {
		t.Errorf("logged %s\nwant the wrong-type Warn naming the handler's c.Render at %s", got, want)
	}
}
