package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestReadmeSnippet keeps README.md true: its package main block that
// imports fiber v2 is main.go, byte for byte.
func TestReadmeSnippet(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var block string
	for _, b := range strings.Split(string(readme), "```go\n")[1:] {
		code, _, _ := strings.Cut(b, "```")
		if strings.HasPrefix(code, "package main\n") && strings.Contains(code, `"github.com/gofiber/fiber/v2"`) {
			block = code
			break
		}
	}
	if block != string(src) {
		t.Error("README.md: the package main block that imports fiber v2 differs from examples/fiberv2/main.go; paste main.go into it")
	}
}

// TestRecipe runs the README's app over TLS on loopback with a cookie jar:
// a login's cookie reaches the client, an error answer carries the flash
// its handler stored, a panic answered by recover carries no cookie, a
// session too large is refused and the client keeps its cookie, and the
// largest session the Manager writes comes back through fiber's read
// buffer.
func TestRecipe(t *testing.T) {
	m := newManager(t)
	c := serve(t, newApp(m, testRoutes()))

	if r := c.do("GET", "/health", ""); r.body != "ok" || r.setCookie != nil {
		t.Fatalf("fiber route: %+v", r)
	}
	r := c.do("POST", "/login", "username=ada")
	if r.status != http.StatusSeeOther || r.setCookie["session"] <= 0 || r.vary != "Cookie" || r.cacheControl != "no-store" {
		t.Fatalf("login: %+v", r)
	}
	if r := c.do("GET", "/", ""); r.body != "user=ada" {
		t.Fatalf("after login: %+v", r)
	}
	if r := c.do("GET", "/fail", ""); r.status != http.StatusTeapot || r.setCookie["session"] <= 0 {
		t.Fatalf("error answer: %+v", r)
	}
	if r := c.do("GET", "/flashes", ""); r.body != `["sorry"]` {
		t.Fatalf("flash stored with an error answer: %+v", r)
	}
	if r := c.do("GET", "/panic", ""); r.status != http.StatusInternalServerError || r.setCookie != nil {
		t.Fatalf("panic: %+v", r)
	}
	if r := c.do("GET", "/half", ""); r.body != `half=""` {
		t.Fatalf("after a panic: %+v", r)
	}
	if r := c.do("POST", "/big?n=5000", ""); r.status != http.StatusInternalServerError || r.setCookie != nil {
		t.Fatalf("too large: %+v", r)
	}
	if r := c.do("GET", "/", ""); r.body != "user=ada" {
		t.Fatalf("after too large: %+v", r)
	}
	size := c.storeLargest()
	if r := c.do("GET", "/", ""); r.status != http.StatusOK || r.body != "user=ada" {
		t.Fatalf("with a cookie of %d bytes: %+v", size, r)
	}
	t.Logf("a cookie value of %d bytes comes back through ReadBufferSize 8 KB", size)
	if r := c.do("POST", "/logout", ""); r.setCookie["session"] >= 0 {
		t.Fatalf("logout: %+v", r)
	}
	if r := c.do("GET", "/", ""); r.body != "user=" {
		t.Fatalf("after logout: %+v", r)
	}
}

// TestDefaultReadBufferLocksOut is why the recipe raises ReadBufferSize:
// under fiber v2's default 4 KB, the largest session the Manager writes
// makes every later request of the browser a 431, logout included, which
// fasthttp answers before any handler or the Manager sees it.
func TestDefaultReadBufferLocksOut(t *testing.T) {
	m := newManager(t)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(adaptor.HTTPHandler(m.Handler(testRoutes())))
	c := serve(t, app)
	c.do("POST", "/login", "username=ada")
	size := c.storeLargest()
	for _, path := range []string{"/", "/logout"} {
		method := map[string]string{"/": "GET", "/logout": "POST"}[path]
		if r := c.do(method, path, ""); r.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("%s %s with a cookie of %d bytes: %+v, want 431", method, path, size, r)
		}
	}
}

// TestHTTPMiddlewareHidesSession: under adaptor.HTTPMiddleware(m.Handler)
// a fiber handler finds no session where it would look, since the
// adaptor copies only context.WithValue entries into the locals. And the
// middleware has committed before c.Next() runs the fiber handlers: a
// session passed on in such an entry saves nothing, and its change is
// logged as not saved.
func TestHTTPMiddlewareHidesSession(t *testing.T) {
	var logged bytes.Buffer
	m := newManager(t, slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn})))
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(adaptor.HTTPMiddleware(func(next http.Handler) http.Handler {
		return m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, m.FromContext(r.Context()))))
		}))
	}))
	app.Get("/", func(c *fiber.Ctx) error {
		_ = c.Locals(sessionKey{}).(*cookiesession.Session).Set("user", "ada")
		return c.SendString(fmt.Sprint(cookiesession.FromContext(c.UserContext()) != nil, m.FromContext(c.Context()) != nil))
	})
	res, err := app.Test(httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(res.Body); string(body) != "false false" {
		t.Errorf("session in c.UserContext(), c.Context(): %s, want false false", body)
	}
	if len(res.Cookies()) != 0 || !strings.Contains(logged.String(), "not saved") {
		t.Errorf("a change in a fiber handler: %d cookies set, log %q; want none, and logged as not saved", len(res.Cookies()), logged.String())
	}
}

// TestByHandLosesFlash: Load, c.Next() and CommitHeader or SaveHeader
// written by hand save before fiber's ErrorHandler answers an error or a
// panic, so a flash stored there never goes out. Only an error after
// CommitHeader is logged.
func TestByHandLosesFlash(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		commit     bool
		cookies    int // what the response sets: the handler's change, without the flash
		logged     bool
	}{
		{"CommitHeader, error", "/fail", true, 1, true},
		{"SaveHeader, error", "/fail", false, 1, false},
		{"CommitHeader, panic", "/panic", true, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged bytes.Buffer
			m := newManager(t, slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn})))
			app := byHandApp(m, tc.commit)
			res, err := app.Test(httptest.NewRequest("GET", tc.path, nil))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Cookies()) != tc.cookies {
				t.Fatalf("%d cookies set, want %d", len(res.Cookies()), tc.cookies)
			}
			for _, c := range res.Cookies() {
				req := httptest.NewRequest("GET", "/flashes", nil)
				req.AddCookie(c)
				if res, err := app.Test(req); err != nil {
					t.Fatal(err)
				} else if body, _ := io.ReadAll(res.Body); string(body) != "[]" {
					t.Errorf("the flash went out: %s", body)
				}
			}
			if got := strings.Contains(logged.String(), "not saved"); got != tc.logged {
				t.Errorf("logged %t, want %t: %s", got, tc.logged, logged.String())
			}
		})
	}
}

type sessionKey struct{}

// byHandApp saves the session by hand around c.Next(); its ErrorHandler
// stores the error as a flash.
func byHandApp(m *cookiesession.Manager, commit bool) *fiber.App {
	session := func(c *fiber.Ctx) *cookiesession.Session { return c.Locals(sessionKey{}).(*cookiesession.Session) }
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ErrorHandler: func(c *fiber.Ctx, err error) error {
		session(c).AddFlash(err.Error())
		return c.Status(http.StatusInternalServerError).SendString(err.Error())
	}})
	app.Use(recover.New())
	app.Use(func(c *fiber.Ctx) error {
		r, err := adaptor.ConvertRequest(c, false)
		if err != nil {
			return err
		}
		s, _ := m.Load(r)
		c.Locals(sessionKey{}, s)
		err = c.Next()
		h := http.Header{}
		if commit {
			err = errors.Join(err, m.CommitHeader(h, s, r))
		} else {
			err = errors.Join(err, m.SaveHeader(h, s))
		}
		for key, values := range h {
			for _, v := range values {
				c.Response().Header.Add(key, v)
			}
		}
		return err
	})
	app.Get("/fail", func(c *fiber.Ctx) error {
		_ = session(c).Set("user", "ada")
		return errors.New("failed")
	})
	app.Get("/panic", func(c *fiber.Ctx) error {
		_ = session(c).Set("user", "ada")
		panic("boom")
	})
	app.Get("/flashes", func(c *fiber.Ctx) error { return c.SendString(fmt.Sprintf("%q", session(c).Flashes())) })
	return app
}
