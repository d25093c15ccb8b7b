//go:build !race

// The race detector changes allocation counts.

package fibersession_test

import (
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
	"github.com/valyala/fasthttp"
)

// TestAllocsOverNetHTTP pins the target: the fiber middleware costs at most
// one allocation per request more than the net/http middleware does for
// the same handler work, each counted over its framework's bare request.
func TestAllocsOverNetHTTP(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	cookie := benchCookie(t, m)
	allocs := map[string]map[string]float64{}
	for fw, cases := range map[string]map[string]func(){"nethttp": netHTTPCases(t, m, cookie), "fiber": fiberCases(t, m, cookie)} {
		allocs[fw] = map[string]float64{}
		for name, serve := range cases {
			allocs[fw][name] = testing.AllocsPerRun(200, serve)
		}
	}
	t.Logf("allocations per request: %v", allocs)
	for _, name := range workNames[1:] {
		netCost := allocs["nethttp"][name] - allocs["nethttp"]["bare"]
		fiberCost := allocs["fiber"][name] - allocs["fiber"]["bare"]
		if fiberCost > netCost+1 {
			t.Errorf("%s: the fiber middleware costs %v allocations, the net/http one %v: more than one extra", name, fiberCost, netCost)
		}
	}
}

// TestCORSAnswerAllocs checks that passing the response's CORS answer to
// the core for a fetch from another origin of the site adds no allocation
// once it repeats: a write answered to such a fetch costs what one
// answered to a request without Sec-Fetch-* headers does.
func TestCORSAnswerAllocs(t *testing.T) {
	const page = "https://app.example.com"
	m := newManager(t, cookiesession.Options{})
	cookie := benchCookie(t, m)
	app := fiber.New()
	app.Use(fibersession.New(m))
	n := 0
	app.Post("/write", func(c fiber.Ctx) error {
		c.Set("Access-Control-Allow-Origin", page)
		c.Set("Access-Control-Allow-Credentials", "true")
		n++
		return fibersession.Get(c, m).Set("n", n)
	})
	handler := app.Handler()
	allocs := map[bool]float64{}
	for _, cors := range []bool{false, true} {
		ctx := new(fasthttp.RequestCtx)
		ctx.Request.Header.SetMethod(http.MethodPost)
		ctx.Request.SetRequestURI("/write")
		ctx.Request.Header.SetHost("api.example.com")
		ctx.Request.Header.Set("Cookie", cookie)
		ctx.Request.Header.Set("X-Forwarded-Proto", "https")
		if cors {
			ctx.Request.Header.Set("Sec-Fetch-Site", "same-site")
			ctx.Request.Header.Set("Sec-Fetch-Mode", "cors")
			ctx.Request.Header.Set("Origin", page)
		}
		allocs[cors] = testing.AllocsPerRun(200, func() {
			ctx.Response.Reset()
			ctx.ResetUserValues()
			handler(ctx)
			if code := ctx.Response.StatusCode(); code != http.StatusOK {
				t.Fatalf("status %d: %s", code, ctx.Response.Body())
			}
		})
	}
	if allocs[true] > allocs[false] {
		t.Errorf("a write answered to a fetch from another origin makes %v allocations, one without Sec-Fetch-* headers %v", allocs[true], allocs[false])
	}
}
