//go:build !race

// The race detector changes allocation counts.

package echosession_test

import (
	"net/http"
	"testing"
)

// TestAllocsOverNetHTTP pins the target: the echo middleware costs at
// most one allocation per request more than the net/http middleware does
// for the same handler work. Each middleware's cost is its request's
// allocations less those of the same framework's bare request. The
// net/http middleware under echo.WrapMiddleware costs more than this one.
func TestAllocsOverNetHTTP(t *testing.T) {
	m := newManager(t)
	req := sessionRequest(t, m)
	w := &benchWriter{h: http.Header{}}
	allocs := map[string]float64{}
	for _, bc := range benchCases(t, m) {
		allocs[bc.name] = testing.AllocsPerRun(200, func() {
			clear(w.h)
			bc.h.ServeHTTP(w, req)
		})
	}
	t.Logf("allocations per request: %v", allocs)
	for _, kind := range []string{"read", "modify"} {
		netCost := allocs["net-http/"+kind] - allocs["net-http/bare"]
		echoCost := allocs["echo/"+kind] - allocs["echo/bare"]
		if echoCost > netCost+1 {
			t.Errorf("%s: the echo middleware costs %v allocations, the net/http one %v: more than one extra", kind, echoCost, netCost)
		}
		// README: echo.WrapMiddleware(m.Handler) works, with more
		// allocations per request than this package's middleware.
		if wrapCost := allocs["echo-wrap/"+kind] - allocs["echo/bare"]; wrapCost <= echoCost {
			t.Errorf("%s: echo.WrapMiddleware costs %v allocations, the echo middleware %v: README says more", kind, wrapCost, echoCost)
		}
	}
}
