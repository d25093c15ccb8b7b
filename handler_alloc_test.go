//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation
// counts hold only in a normal build.

package cookiesession

import (
	"net/http"
	"testing"
)

// TestMiddlewareAllocations pins the allocations of a request through the
// middleware: reading a session costs the request copy WithContext makes,
// the request's state and the session's values; changing it adds the
// edited values and the Set-Cookie line.
func TestMiddlewareAllocations(t *testing.T) {
	m := quietManager(t)
	req := requestWithSession(t, m)
	read := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if FromContext(r.Context()).GetString("user") != "alice" {
			t.Fatal("session not loaded")
		}
	}))
	modify := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = FromContext(r.Context()).Set("role", "admin")
	}))
	h := http.Header{}
	w := &headerOnlyWriter{h: h}
	for _, c := range []struct {
		name    string
		handler http.Handler
		want    float64
	}{{"read", read, 4}, {"modify", modify, 6}} {
		allocs := testing.AllocsPerRun(200, func() {
			clear(h)
			c.handler.ServeHTTP(w, req)
		})
		if allocs > c.want {
			t.Errorf("%s request: %v allocations, want at most %v", c.name, allocs, c.want)
		}
	}
}

type headerOnlyWriter struct{ h http.Header }

func (w *headerOnlyWriter) Header() http.Header         { return w.h }
func (w *headerOnlyWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *headerOnlyWriter) WriteHeader(int)             {}
