package chiexample

import (
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestChiMiddlewareOrder keeps README's Wrappers advice true with chi's own
// Compress and Recoverer, each outside sessions.Handler (used before it)
// and inside it. Either way a stored value reaches the client with a body
// that decodes. Inside, the middleware cannot tell a recovered panic's 500
// from a handler's, and commits the half-made change with it; and the
// compressor has put Content-Encoding: gzip in the header map before the
// commit fails, so the ErrorHandler's 500 for a session that does not fit
// goes out labelled gzip with a plain body. Outside, neither happens.
func TestChiMiddlewareOrder(t *testing.T) {
	for _, outside := range []bool{true, false} {
		srv := httptest.NewServer(orderRouter(t, outside))
		get := func(path string) (status int, setCookie bool, body string, gzipErr error) {
			t.Helper()
			req, err := http.NewRequest("GET", srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept-Encoding", "gzip") // set by hand: the client does not decode it
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var r io.Reader = resp.Body
			if resp.Header.Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					return resp.StatusCode, len(resp.Cookies()) > 0, "", err
				}
				r = zr
			}
			b, err := io.ReadAll(r)
			return resp.StatusCode, len(resp.Cookies()) > 0, string(b), err
		}
		if status, cookie, body, err := get("/set"); status != 200 || !cookie || body != page || err != nil {
			t.Errorf("outside %t: a stored value: %d, cookie %t, body of %d bytes, %v", outside, status, cookie, len(body), err)
		}
		status, cookie, _, _ := get("/panic")
		if status != 500 || cookie == outside {
			t.Errorf("outside %t: a panic after a change: %d with cookie %t, want 500 with cookie %t", outside, status, cookie, !outside)
		}
		status, cookie, body, err := get("/too-large")
		if status != 500 || cookie {
			t.Errorf("outside %t: a session too large: %d with cookie %t, want 500 without", outside, status, cookie)
		}
		if outside && (err != nil || body != "Internal Server Error\n") {
			t.Errorf("compressor outside: the 500 reads %q, %v", body, err)
		}
		if !outside && err == nil {
			t.Errorf("compressor inside: the 500 decoded (%q): update README's Wrappers advice", body)
		}
		srv.Close()
	}
}

// orderRouter is a chi app with Compress and Recoverer used before
// sessions.Handler (outside it) or after it (inside), behind a quiet
// RequestLogger, whose log entry takes Recoverer's stack.
func orderRouter(t *testing.T, outside bool) http.Handler {
	sessions, _ := newSessions(t, cookiesession.Options{DisableSecure: true, Logger: slog.New(slog.DiscardHandler)})
	r := chi.NewRouter()
	r.Use(middleware.RequestLogger(quietLog{}))
	if outside {
		r.Use(middleware.Recoverer, middleware.Compress(5), sessions.Handler)
	} else {
		r.Use(sessions.Handler, middleware.Recoverer, middleware.Compress(5))
	}
	text := func(w http.ResponseWriter) { w.Header().Set("Content-Type", "text/plain; charset=utf-8") }
	r.Get("/set", func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "ada")
		text(w)
		_, _ = io.WriteString(w, page)
	})
	r.Get("/panic", func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "ada")
		panic("handler failed")
	})
	r.Get("/too-large", func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("blob", strings.Repeat("x", 6000))
		text(w)
		_, _ = io.WriteString(w, page)
	})
	return r
}
