package chiexample

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestChiTimeouts keeps README's Wrappers advice true of the two timeouts
// a chi service uses: chi's Timeout, used before or after
// sessions.Handler, and http.TimeoutHandler inside it. Each timeout's
// answer (504, 503) carries what the handler stored before the deadline,
// as any answer does. A change after http.TimeoutHandler's 503 cannot
// reach the client, and is logged with a fix that names it: the handler
// wrote nothing, so "before the handler writes" alone does not fit.
func TestChiTimeouts(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		order      func(r chi.Router, sessions *cookiesession.Manager)
		status     int
	}{
		{"chi Timeout before", "/wait", func(r chi.Router, m *cookiesession.Manager) { r.Use(middleware.Timeout(time.Millisecond), m.Handler) }, http.StatusGatewayTimeout},
		{"chi Timeout after", "/wait", func(r chi.Router, m *cookiesession.Manager) { r.Use(m.Handler, middleware.Timeout(time.Millisecond)) }, http.StatusGatewayTimeout},
		{"TimeoutHandler inside", "/slow", func(r chi.Router, m *cookiesession.Manager) { r.Use(m.Handler) }, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			sessions, codec := timeoutManager(t, &logs)
			stored, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
			r := chi.NewRouter()
			tc.order(r, sessions)
			r.Get("/wait", func(w http.ResponseWriter, r *http.Request) {
				_ = cookiesession.FromContext(r.Context()).Set("step", "before")
				<-r.Context().Done() // chi's Timeout: give up, write nothing
			})
			slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				s := cookiesession.FromContext(r.Context())
				_ = s.Set("step", "before")
				close(stored)
				<-release // long work, past the deadline and its 503
				_ = s.Set("step", "after")
			})
			r.Get("/slow", http.TimeoutHandler(slow, time.Hour, "too slow").ServeHTTP)

			// The TimeoutHandler's deadline is the end of the request's
			// context, once the handler has stored: a real short timer
			// could fire first. It answers both alike.
			ctx, timeout := context.WithCancel(context.Background())
			defer timeout()
			go func() {
				select {
				case <-stored:
					timeout()
				case <-ctx.Done(): // /wait stores nothing for it
				}
			}()
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "https://example.com"+tc.path, nil))
			if tc.path == "/slow" {
				close(release)
				<-done
			}
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if step := stepIn(t, codec, rec.Result()); step != "before" {
				t.Errorf("the %d's cookie holds step %q, want the change made before the deadline", rec.Code, step)
			}
			late := strings.Contains(logs.String(), "after the response was committed")
			if tc.path == "/slow" && (!late || !strings.Contains(logs.String(), "http.TimeoutHandler")) {
				t.Errorf("the change after the 503 was not logged with a fix naming http.TimeoutHandler:\n%s", logs.String())
			}
			if tc.path == "/wait" && late {
				t.Errorf("nothing changed late, but:\n%s", logs.String())
			}
		})
	}
}

// timeoutManager returns a Manager that logs to logs, and a Codec that
// opens its cookies.
func timeoutManager(t *testing.T, logs *bytes.Buffer) (*cookiesession.Manager, *cookiesession.Codec) {
	m, ring := newSessions(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	codec, err := cookiesession.NewCodec(ring, cookiesession.CodecOptions{Name: "session"})
	if err != nil {
		t.Fatal(err)
	}
	return m, codec
}

// stepIn returns the "step" stored in the response's session cookie.
func stepIn(t *testing.T, codec *cookiesession.Codec, resp *http.Response) string {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name != "session" {
			continue
		}
		rec, err := codec.Open(c.Value)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := rec.Values.Get("step")
		s, _ := v.(string)
		return s
	}
	t.Fatalf("no session cookie in %q", resp.Header.Values("Set-Cookie"))
	return ""
}
