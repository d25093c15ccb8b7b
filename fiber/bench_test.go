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

// workNames are the handler work each framework is measured with: bare
// (no middleware, no session), untouched (the session is never used), read
// (open the cookie, read a value) and write (store a new value: seal,
// Set-Cookie). A middleware's own cost is a row less its framework's bare
// row.
var workNames = []string{"bare", "untouched", "read", "write"}

// referers are the pages a browser comes from, one after the other, on the
// site whose Host the requests carry: the middleware's check for HTTPS
// reads them.
var referers = [...]string{"https://example.com/account", "https://example.com/orders?page=2"}

// userAgents are the browsers of the users whose requests follow one
// another on a server: every browser request carries one.
var userAgents = [...]string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
}

// netHTTPCases serves one request per call through the net/http middleware
// (m.Handler, with httptest), by work name.
func netHTTPCases(tb testing.TB, m *cookiesession.Manager, cookie string) map[string]func() {
	n := 0
	work := map[string]http.HandlerFunc{
		"untouched": func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ada") },
		"read": func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, cookiesession.FromContext(r.Context()).GetString("user"))
		},
		"write": func(w http.ResponseWriter, r *http.Request) {
			n++
			if err := cookiesession.FromContext(r.Context()).Set("n", n); err != nil {
				tb.Fatal(err)
			}
			_, _ = io.WriteString(w, "ada")
		},
	}
	cases := map[string]func(){}
	for _, name := range workNames {
		var h http.Handler = work["untouched"]
		if name != "bare" {
			h = m.Handler(work[name])
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Cookie", cookie)
		req.Header.Set("Referer", referers[0])
		req.Header.Set("User-Agent", userAgents[0])
		cases[name] = func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				tb.Fatalf("status %d", w.Code)
			}
		}
	}
	return cases
}

// fiberCases serves one request per call through the fiber middleware, by
// work name.
func fiberCases(tb testing.TB, m *cookiesession.Manager, cookie string) map[string]func() {
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
	cases := map[string]func(){}
	for _, name := range workNames {
		handler := app.Handler()
		if name == "bare" {
			handler = bare.Handler()
		}
		ctx := new(fasthttp.RequestCtx)
		ctx.Request.Header.SetMethod(http.MethodGet)
		ctx.Request.SetRequestURI("/" + name)
		ctx.Request.Header.SetHost("example.com")
		ctx.Request.Header.Set("Cookie", cookie)
		page := 0
		cases[name] = func() {
			// What the fasthttp server does between requests on a
			// connection, less parsing the same request again.
			ctx.Response.Reset()
			ctx.ResetUserValues()
			page++
			ctx.Request.Header.Set("Referer", referers[page%len(referers)])
			ctx.Request.Header.Set("User-Agent", userAgents[page%len(userAgents)])
			handler(ctx)
			if code := ctx.Response.StatusCode(); code != http.StatusOK {
				tb.Fatalf("status %d: %s", code, ctx.Response.Body())
			}
		}
	}
	return cases
}

// BenchmarkMiddleware compares a request through the fiber middleware with
// the same handler work through the net/http middleware, each beside its
// bare framework (see workNames).
func BenchmarkMiddleware(b *testing.B) {
	m := newManager(b, cookiesession.Options{})
	cookie := benchCookie(b, m)
	for _, fw := range []struct {
		name  string
		cases map[string]func()
	}{{"nethttp", netHTTPCases(b, m, cookie)}, {"fiber", fiberCases(b, m, cookie)}} {
		b.Run(fw.name, func(b *testing.B) {
			for _, name := range workNames {
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						fw.cases[name]()
					}
				})
			}
		})
	}
}

// benchCookie returns a Cookie header holding a session with the small
// fixture: user, role and a 32-character csrf token.
func benchCookie(tb testing.TB, m *cookiesession.Manager) string {
	s, _ := m.Load(httptest.NewRequest(http.MethodGet, "/", nil))
	for k, v := range map[string]string{"user": "u_8f3a2c", "role": "admin", "csrf": "0123456789abcdef0123456789abcdef"} {
		if err := s.Set(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	h := http.Header{}
	if err := m.SaveHeader(h, s); err != nil {
		tb.Fatal(err)
	}
	c, err := http.ParseSetCookie(h.Get("Set-Cookie"))
	if err != nil {
		tb.Fatal(err)
	}
	return c.Name + "=" + c.Value
}
