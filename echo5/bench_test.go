package echosession_test

import (
	"net/http"
	"testing"
)

// BenchmarkMiddleware times one request through each of benchCases: compare
// echo/read with net-http/read (and modify) less each framework's bare
// request to see what the echo middleware adds.
func BenchmarkMiddleware(b *testing.B) {
	m := newManager(b)
	req := sessionRequest(b, m)
	for _, bc := range benchCases(b, m) {
		b.Run(bc.name, func(b *testing.B) {
			w := &benchWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				bc.h.ServeHTTP(w, req)
			}
		})
	}
}
