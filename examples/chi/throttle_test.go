package chiexample

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestChiThrottle keeps README's Wrappers claim true of chi's Throttle,
// which writes nothing of its own around the handler, used before and
// after sessions.Handler with room for one request: a login reaches the
// client's jar, a flushed stream carries its change and keeps streaming,
// and a change after the body is reported. While the stream holds the one
// place, Throttle answers the next request itself (429, or the status
// ThrottleOpts names): the handler never ran, so that answer carries no
// cookie and no Vary: Cookie.
func TestChiThrottle(t *testing.T) {
	busy503 := middleware.ThrottleOpts{Limit: 1, StatusCode: http.StatusServiceUnavailable}
	for _, tc := range []struct {
		name   string
		use    func(r chi.Router, m *cookiesession.Manager)
		status int
	}{
		{"Throttle before", func(r chi.Router, m *cookiesession.Manager) { r.Use(middleware.Throttle(1), m.Handler) }, http.StatusTooManyRequests},
		{"Throttle after", func(r chi.Router, m *cookiesession.Manager) { r.Use(m.Handler, middleware.Throttle(1)) }, http.StatusTooManyRequests},
		{"ThrottleWithOpts 503 before", func(r chi.Router, m *cookiesession.Manager) { r.Use(middleware.ThrottleWithOpts(busy503), m.Handler) }, http.StatusServiceUnavailable},
		{"ThrottleWithOpts 503 after", func(r chi.Router, m *cookiesession.Manager) { r.Use(m.Handler, middleware.ThrottleWithOpts(busy503)) }, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := newJarSite(t, tc.use)
			site.checkJourney(func() {
				resp, body := site.read("/me")
				if resp.StatusCode != tc.status {
					t.Errorf("/me while /events holds the place: %d %q, want %d", resp.StatusCode, body, tc.status)
				}
				if sc := resp.Header.Values("Set-Cookie"); len(sc) != 0 {
					t.Errorf("Throttle's %d carries Set-Cookie %q", resp.StatusCode, sc)
				}
				if hasVary(resp, "Cookie") {
					t.Errorf("Throttle's %d carries Vary: Cookie", resp.StatusCode)
				}
			})
		})
	}
}
