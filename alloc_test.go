//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation
// counts hold only in a normal build.

package cookiesession_test

import (
	"net/http"
	"testing"
)

// TestCodecAllocations bounds the codec's allocations for the small
// fixture: Seal makes the token string, Open the record's values.
func TestCodecAllocations(t *testing.T) {
	c := benchCodec(t)
	rec, token := sealedRecord(t, c, benchFixtures(t)[0].values)
	seal := testing.AllocsPerRun(200, func() {
		if _, err := c.Seal(&rec); err != nil {
			t.Fatal(err)
		}
	})
	open := testing.AllocsPerRun(200, func() {
		if _, err := c.Open(token); err != nil {
			t.Fatal(err)
		}
	})
	if seal > 1 || open > 2 {
		t.Errorf("Seal makes %v allocations, Open %v; want at most 1 and 2", seal, open)
	}
}

// TestMiddlewareAllocations bounds the allocations of a request through
// the middleware, small fixture: a handler that never uses its session
// costs the request's state, which holds the request's copy; reading it
// adds the values; changing it adds the edited values and the Set-Cookie
// line.
func TestMiddlewareAllocations(t *testing.T) {
	cases, req := middlewareCases(t, benchFixtures(t)[0].values)
	w := &discardWriter{h: http.Header{}}
	want := map[string]float64{"bare": 0, "untouched": 1, "read": 2, "modify": 4}
	for _, c := range cases {
		got := testing.AllocsPerRun(200, func() { w.serve(c.handler, req) })
		if got > want[c.name] {
			t.Errorf("%s request: %v allocations, want at most %v", c.name, got, want[c.name])
		}
	}
}
