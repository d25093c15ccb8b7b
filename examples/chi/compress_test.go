package chiexample

import (
	"bufio"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestChiCompressVaryAndStream keeps README's Wrappers claims true of chi's
// Compress and of chi's Logger, whose WrapResponseWriter picks the
// interfaces it passes on from the writer it wraps, each used before and
// after sessions.Handler on a server on 127.0.0.1: a stored value reaches
// the client with a gzip body that decodes, Vary keeps both Cookie and
// Accept-Encoding, and a stream's first event reaches the client, with
// the cookie, before the handler writes the second.
func TestChiCompressVaryAndStream(t *testing.T) {
	for _, tc := range []struct {
		name string
		use  func(r chi.Router, sessions *cookiesession.Manager)
	}{
		{"Compress before", func(r chi.Router, m *cookiesession.Manager) { r.Use(middleware.Compress(5), m.Handler) }},
		{"Compress after", func(r chi.Router, m *cookiesession.Manager) { r.Use(m.Handler, middleware.Compress(5)) }},
		{"Logger before", func(r chi.Router, m *cookiesession.Manager) { r.Use(middleware.RequestLogger(quietLog{}), m.Handler) }},
		{"Logger after", func(r chi.Router, m *cookiesession.Manager) { r.Use(m.Handler, middleware.RequestLogger(quietLog{})) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sessions, _ := newSessions(t, cookiesession.Options{DisableSecure: true, Logger: slog.New(slog.DiscardHandler)})
			proceed := make(chan struct{})
			r := chi.NewRouter()
			tc.use(r, sessions)
			r.Get("/set", func(w http.ResponseWriter, r *http.Request) {
				_ = cookiesession.FromContext(r.Context()).Set("user", "ada")
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				_, _ = io.WriteString(w, page)
			})
			r.Get("/events", func(w http.ResponseWriter, r *http.Request) {
				_ = cookiesession.FromContext(r.Context()).Set("user", "ada")
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				_, _ = io.WriteString(w, "first\n")
				if err := http.NewResponseController(w).Flush(); err != nil {
					t.Errorf("Flush: %v", err)
				}
				<-proceed // the client has read the first event
				_, _ = io.WriteString(w, "second\n")
			})
			srv := httptest.NewServer(r) // listens on 127.0.0.1
			defer srv.Close()
			get := func(path string) *http.Response {
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
				return resp
			}
			body := func(resp *http.Response) io.Reader {
				if resp.Header.Get("Content-Encoding") != "gzip" {
					return resp.Body
				}
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				return zr
			}
			compress := strings.HasPrefix(tc.name, "Compress")

			resp := get("/set")
			b, err := io.ReadAll(body(resp))
			resp.Body.Close()
			if err != nil || string(b) != page || len(resp.Cookies()) != 1 {
				t.Errorf("/set: %d bytes, %v, cookies %v", len(b), err, resp.Cookies())
			}
			if gz := resp.Header.Get("Content-Encoding") == "gzip"; gz != compress {
				t.Errorf("/set: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
			}
			vary := strings.Split(strings.Join(resp.Header.Values("Vary"), ","), ",")
			for i := range vary {
				vary[i] = strings.TrimSpace(vary[i])
			}
			if !slices.Contains(vary, "Cookie") || compress && !slices.Contains(vary, "Accept-Encoding") {
				t.Errorf("/set: Vary %q", resp.Header.Values("Vary"))
			}

			resp = get("/events")
			defer resp.Body.Close()
			if len(resp.Cookies()) != 1 {
				t.Errorf("/events: cookies %v", resp.Cookies())
			}
			lines := bufio.NewReader(body(resp))
			if first, err := lines.ReadString('\n'); first != "first\n" {
				t.Fatalf("/events: first event %q, %v", first, err)
			}
			close(proceed)
			if second, err := lines.ReadString('\n'); second != "second\n" {
				t.Errorf("/events: second event %q, %v", second, err)
			}
		})
	}
}
