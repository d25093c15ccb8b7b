package fibersession_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
	"github.com/valyala/fasthttp"
)

// BenchmarkMiddleware compares a request through the fiber middleware with
// the same handler work through the net/http middleware (m.Handler, with
// httptest), each beside its bare framework: "bare" writes the response
// the read handler writes, with no middleware and no session. The
// middleware's own cost is a row's allocs/op less its framework's bare
// row. Handler work: untouched (the session is never used), read (open
// the cookie, read a value), write (store a new value: seal, Set-Cookie).
func BenchmarkMiddleware(b *testing.B) {
	m := newManager(b, cookiesession.Options{})
	cookie := benchCookie(b, m)

	b.Run("nethttp", func(b *testing.B) {
		n := 0
		work := map[string]http.HandlerFunc{
			"untouched": func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ada") },
			"read": func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, cookiesession.FromContext(r.Context()).GetString("user"))
			},
			"write": func(w http.ResponseWriter, r *http.Request) {
				n++
				if err := cookiesession.FromContext(r.Context()).Set("n", n); err != nil {
					b.Fatal(err)
				}
				_, _ = io.WriteString(w, "ada")
			},
		}
		for _, name := range []string{"bare", "untouched", "read", "write"} {
			var h http.Handler = work["untouched"]
			if name != "bare" {
				h = m.Handler(work[name])
			}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Cookie", cookie)
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				}
			})
		}
	})

	b.Run("fiber", func(b *testing.B) {
		n := 0
		bare := fiber.New()
		bare.Get("/bare", func(c fiber.Ctx) error { return c.SendString("ada") })
		app := fiber.New()
		app.Use(fibersession.New(m))
		app.Get("/untouched", func(c fiber.Ctx) error { return c.SendString("ada") })
		app.Get("/read", func(c fiber.Ctx) error { return c.SendString(fibersession.Get(c, m).GetString("user")) })
		app.Get("/write", func(c fiber.Ctx) error {
			n++
			if err := fibersession.Get(c, m).Set("n", n); err != nil {
				return err
			}
			return c.SendString("ada")
		})
		for _, name := range []string{"bare", "untouched", "read", "write"} {
			handler := app.Handler()
			if name == "bare" {
				handler = bare.Handler()
			}
			var ctx fasthttp.RequestCtx
			ctx.Request.Header.SetMethod(http.MethodGet)
			ctx.Request.SetRequestURI("/" + name)
			ctx.Request.Header.Set("Cookie", cookie)
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					// What the fasthttp server does between requests on a
					// connection, less parsing the same request again.
					ctx.Response.Reset()
					ctx.ResetUserValues()
					handler(&ctx)
					if code := ctx.Response.StatusCode(); code != http.StatusOK {
						b.Fatalf("status %d: %s", code, ctx.Response.Body())
					}
				}
			})
		}
	})
}

// benchCookie returns a Cookie header holding a session with the small
// fixture: user, role and a 32-character csrf token.
func benchCookie(b *testing.B, m *cookiesession.Manager) string {
	s, _ := m.Load(httptest.NewRequest(http.MethodGet, "/", nil))
	for k, v := range map[string]string{"user": "u_8f3a2c", "role": "admin", "csrf": "0123456789abcdef0123456789abcdef"} {
		if err := s.Set(k, v); err != nil {
			b.Fatal(err)
		}
	}
	h := http.Header{}
	if err := m.SaveHeader(h, s); err != nil {
		b.Fatal(err)
	}
	c, err := http.ParseSetCookie(h.Get("Set-Cookie"))
	if err != nil {
		b.Fatal(err)
	}
	return c.Name + "=" + c.Value
}
