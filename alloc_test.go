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
// costs the request copy WithContext makes and the request's state;
// reading it adds the values and their entries; changing it adds the
// edited entries, the token and the Set-Cookie line.
func TestMiddlewareAllocations(t *testing.T) {
	cases, req := middlewareCases(t, benchFixtures(t)[0].values)
	w := &discardWriter{h: http.Header{}}
	want := map[string]float64{"bare": 0, "untouched": 2, "read": 4, "modify": 6}
	for _, c := range cases {
		got := testing.AllocsPerRun(200, func() { w.serve(c.handler, req) })
		if got > want[c.name] {
			t.Errorf("%s request: %v allocations, want at most %v", c.name, got, want[c.name])
		}
	}
}
