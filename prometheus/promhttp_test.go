package promsession

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/seed-ff2808ae/cookiesession"
)

// lateMsg starts the log line of a change the client can no longer get.
const lateMsg = "cookiesession: session changed after the response was committed"

// TestPromhttpWrappers keeps README's Wrappers claim true of promhttp's
// InstrumentHandler wrappers, whose writer picks the interfaces it passes
// on from the writer it wraps, each used outside and inside
// sessions.Handler over TLS on 127.0.0.1 with a client that keeps a cookie
// jar: a login reaches the jar, a stream's change goes out with its first
// flush and the stream goes on, and a change after the body is reported,
// by Save's ErrHeadersWritten and the Warn. Each wrapper observes every
// request, so it is in the path.
func TestPromhttpWrappers(t *testing.T) {
	labels := []string{"code", "method"} // "code" makes each wrap the writer
	for _, w := range []struct {
		name string
		wrap func(h http.Handler) (http.Handler, prometheus.Collector)
	}{
		{"InstrumentHandlerCounter", func(h http.Handler) (http.Handler, prometheus.Collector) {
			c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests_total"}, labels)
			return promhttp.InstrumentHandlerCounter(c, h), c
		}},
		{"InstrumentHandlerDuration", func(h http.Handler) (http.Handler, prometheus.Collector) {
			o := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "request_seconds"}, labels)
			return promhttp.InstrumentHandlerDuration(o, h), o
		}},
		{"InstrumentHandlerResponseSize", func(h http.Handler) (http.Handler, prometheus.Collector) {
			o := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "response_bytes"}, labels)
			return promhttp.InstrumentHandlerResponseSize(o, h), o
		}},
		{"InstrumentHandlerTimeToWriteHeader", func(h http.Handler) (http.Handler, prometheus.Collector) {
			o := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "header_seconds"}, labels)
			return promhttp.InstrumentHandlerTimeToWriteHeader(o, h), o
		}},
	} {
		for _, outside := range []bool{true, false} {
			name := w.name + map[bool]string{true: " outside", false: " inside"}[outside]
			t.Run(name, func(t *testing.T) {
				var metrics prometheus.Collector
				site := newJarSite(t, func(m *cookiesession.Manager, mux http.Handler) http.Handler {
					if outside {
						h, c := w.wrap(m.Handler(mux))
						metrics = c
						return h
					}
					h, c := w.wrap(mux)
					metrics = c
					return m.Handler(h)
				})
				site.checkJourney()
				// One series, code 200 and GET, for every request.
				if n := testutil.CollectAndCount(metrics); n != 1 {
					t.Errorf("%d series, want 1", n)
				}
				if c, ok := metrics.(*prometheus.CounterVec); ok {
					if n := testutil.ToFloat64(c.WithLabelValues("200", "get")); n != site.requests {
						t.Errorf("counted %v requests with code 200, want %v", n, site.requests)
					}
				}
			})
		}
	}
}

// jarSite is a Manager and its routes, served over TLS on 127.0.0.1, and a
// client that keeps its cookies in a jar, as a browser does. The Manager
// logs at Debug, so that each late change shows, not only the first of the
// minute.
type jarSite struct {
	t        *testing.T
	srv      *httptest.Server
	client   *http.Client
	logs     *lockedBuffer
	proceed  chan struct{} // the client has read /events's first line
	saveErr  chan error    // Save's answer to /events's change after its body
	requests float64       // requests sent
}

// newJarSite serves the routes of routes through the handler that build
// makes of the Manager and them.
func newJarSite(t *testing.T, build func(m *cookiesession.Manager, mux http.Handler) http.Handler) *jarSite {
	t.Helper()
	site := &jarSite{t: t, logs: &lockedBuffer{}, proceed: make(chan struct{}), saveErr: make(chan error, 1)}
	logger := slog.New(slog.NewTextHandler(site.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := cookiesession.New(mustRing(t, key(t, 1)), cookiesession.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	site.srv = httptest.NewTLSServer(build(m, site.routes(m))) // listens on 127.0.0.1
	t.Cleanup(site.srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	site.client = site.srv.Client()
	site.client.Jar = jar
	return site
}

// routes: /login stores a user; /me reads the user and the step; /events
// stores a step, flushes a first line, waits for the client to read it,
// then writes a second, changes the step and saves; /late changes the step
// after its body.
func (s *jarSite) routes(m *cookiesession.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "ada")
		_, _ = io.WriteString(w, "signed in")
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		sess := cookiesession.FromContext(r.Context())
		_, _ = io.WriteString(w, sess.GetString("user")+" "+sess.GetString("step"))
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		sess := cookiesession.FromContext(r.Context())
		_ = sess.Set("step", "streamed")
		_, _ = io.WriteString(w, "first\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			s.t.Errorf("Flush: %v", err)
		}
		<-s.proceed
		_, _ = io.WriteString(w, "second\n")
		_ = sess.Set("step", "too late")
		s.saveErr <- m.Save(w, r, sess)
	})
	mux.HandleFunc("GET /late", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "a page")
		_ = cookiesession.FromContext(r.Context()).Set("step", "after the body")
	})
	return mux
}

// get sends a GET with the jar's cookies.
func (s *jarSite) get(path string) *http.Response {
	s.t.Helper()
	s.requests++
	resp, err := s.client.Get(s.srv.URL + path)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp
}

// read sends a GET and returns the response and its whole body.
func (s *jarSite) read(path string) (*http.Response, string) {
	s.t.Helper()
	resp := s.get(path)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s: %v", path, err)
	}
	return resp, string(b)
}

// lateLines counts the log lines of a change made too late.
func (s *jarSite) lateLines() int {
	return strings.Count(s.logs.String(), lateMsg)
}

// checkJourney runs a login, a stream with a change before its first
// flush and one after its body, and a page with a change after its body,
// and checks what the client holds after each.
func (s *jarSite) checkJourney() {
	t := s.t
	t.Helper()
	resp, body := s.read("/login")
	if resp.StatusCode != http.StatusOK || body != "signed in" || len(resp.Header.Values("Set-Cookie")) != 1 {
		t.Fatalf("/login: %d %q, Set-Cookie %q", resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}
	if _, body := s.read("/me"); body != "ada " {
		t.Fatalf("/me after /login: %q, want the stored user", body)
	}

	resp = s.get("/events")
	lines := bufio.NewReader(resp.Body)
	if first, err := lines.ReadString('\n'); first != "first\n" {
		t.Fatalf("/events: first line %q, %v", first, err)
	}
	if n := len(resp.Header.Values("Set-Cookie")); n != 1 {
		t.Errorf("/events: %d Set-Cookie lines with the flushed headers, want 1", n)
	}
	close(s.proceed)
	if rest, err := io.ReadAll(lines); string(rest) != "second\n" || err != nil {
		t.Errorf("/events: after the first line %q, %v", rest, err)
	}
	resp.Body.Close()
	if err := <-s.saveErr; !errors.Is(err, cookiesession.ErrHeadersWritten) {
		t.Errorf("/events: Save after the body returned %v, want ErrHeadersWritten", err)
	}
	if n := s.lateLines(); n != 1 || !strings.Contains(s.logs.String(), "level=WARN msg=\""+lateMsg) {
		t.Errorf("/events: %d log lines of a late change, want 1 at Warn:\n%s", n, s.logs)
	}
	if _, body := s.read("/me"); body != "ada streamed" {
		t.Errorf("/me after /events: %q, want the change made before the flush", body)
	}

	resp, body = s.read("/late")
	if body != "a page" || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("/late: %q, Set-Cookie %q", body, resp.Header.Values("Set-Cookie"))
	}
	if n := s.lateLines(); n != 2 {
		t.Errorf("/late: %d log lines of a late change in all, want 2:\n%s", n, s.logs)
	}
	if _, body := s.read("/me"); body != "ada streamed" {
		t.Errorf("/me after /late: %q, want the step as the stream left it", body)
	}
}

// lockedBuffer is a bytes.Buffer that the server's goroutines and the
// test may use at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
