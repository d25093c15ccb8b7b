//go:build !race

// The race detector changes allocation counts.

package fibersession_test

import (
	"testing"

	"github.com/seed-ff2808ae/cookiesession"
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
