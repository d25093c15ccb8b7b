package chiexample

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
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/seed-ff2808ae/cookiesession"
)

// lateMsg starts the log line of a change the client can no longer get.
const lateMsg = "session changed after the response was committed"

// jarSite is a chi app behind a Manager, served over TLS on 127.0.0.1,
// and a client that keeps its cookies in a jar, as a browser does. The
// Manager logs at Debug, so that each late change shows in the log, not
// only the first of the minute.
type jarSite struct {
	t       *testing.T
	srv     *httptest.Server
	client  *http.Client
	logs    *lockedBuffer
	proceed chan struct{} // the client has read /events's first line
	saveErr chan error    // Save's answer to /events's change after its body
}

// newJarSite serves the routes of sessionRoutes on a chi router that
// use sets up with the Manager's middleware and the wrapper under test.
func newJarSite(t *testing.T, use func(r chi.Router, sessions *cookiesession.Manager)) *jarSite {
	t.Helper()
	site := &jarSite{t: t, logs: &lockedBuffer{}, proceed: make(chan struct{}), saveErr: make(chan error, 1)}
	logger := slog.New(slog.NewTextHandler(site.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sessions, _ := newSessions(t, cookiesession.Options{Logger: logger})
	r := chi.NewRouter()
	use(r, sessions)
	site.routes(r, sessions)
	site.srv = httptest.NewTLSServer(r) // listens on 127.0.0.1
	t.Cleanup(site.srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	site.client = site.srv.Client()
	site.client.Jar = jar
	return site
}

// routes: /login stores a user (ada, or the one its query names); /me reads the user and the step; /events
// stores a step, flushes a first line, waits for the client to read it,
// then writes a second, changes the step and saves; /late changes the step
// after its body.
func (s *jarSite) routes(r chi.Router, sessions *cookiesession.Manager) {
	r.Get("/login", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		if user == "" {
			user = "ada"
		}
		_ = cookiesession.FromContext(r.Context()).Set("user", user)
		_, _ = io.WriteString(w, "signed in")
	})
	r.Get("/me", func(w http.ResponseWriter, r *http.Request) {
		sess := cookiesession.FromContext(r.Context())
		_, _ = io.WriteString(w, sess.GetString("user")+" "+sess.GetString("step"))
	})
	r.Get("/events", func(w http.ResponseWriter, r *http.Request) {
		sess := cookiesession.FromContext(r.Context())
		_ = sess.Set("step", "streamed")
		_, _ = io.WriteString(w, "first\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			s.t.Errorf("Flush: %v", err)
		}
		<-s.proceed
		_, _ = io.WriteString(w, "second\n")
		_ = sess.Set("step", "too late")
		s.saveErr <- sessions.Save(w, r, sess)
	})
	r.Get("/late", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "a page")
		_ = cookiesession.FromContext(r.Context()).Set("step", "after the body")
	})
}

// do sends a request with the jar's cookies and the given header.
func (s *jarSite) do(method, path string, header http.Header) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp
}

// read sends a GET and returns the response and its whole body.
func (s *jarSite) read(path string) (*http.Response, string) {
	s.t.Helper()
	return s.readWith(path, nil)
}

// readWith is read with the given header.
func (s *jarSite) readWith(path string, header http.Header) (*http.Response, string) {
	s.t.Helper()
	resp := s.do("GET", path, header)
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
// and checks what the client holds after each. during, if not nil, runs
// while the stream waits between its two lines.
func (s *jarSite) checkJourney(during func()) {
	t := s.t
	t.Helper()
	resp, body := s.read("/login")
	if resp.StatusCode != http.StatusOK || body != "signed in" || len(resp.Header.Values("Set-Cookie")) != 1 {
		t.Fatalf("/login: %d %q, Set-Cookie %q", resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}
	if _, body := s.read("/me"); body != "ada " {
		t.Fatalf("/me after /login: %q, want the stored user", body)
	}

	resp = s.do("GET", "/events", nil)
	lines := bufio.NewReader(resp.Body)
	if first, err := lines.ReadString('\n'); first != "first\n" {
		t.Fatalf("/events: first line %q, %v", first, err)
	}
	if n := len(resp.Header.Values("Set-Cookie")); n != 1 {
		t.Errorf("/events: %d Set-Cookie lines with the flushed headers, want 1", n)
	}
	if during != nil {
		during()
	}
	close(s.proceed)
	if rest, err := io.ReadAll(lines); string(rest) != "second\n" || err != nil {
		t.Errorf("/events: after the first line %q, %v", rest, err)
	}
	resp.Body.Close()
	if err := <-s.saveErr; !errors.Is(err, cookiesession.ErrHeadersWritten) {
		t.Errorf("/events: Save after the body returned %v, want ErrHeadersWritten", err)
	}
	if n := s.lateLines(); n != 1 || !strings.Contains(s.logs.String(), "level=WARN msg=\"cookiesession: "+lateMsg) {
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

// newSessions is a Manager with opts over a ring of one fresh key, and
// that ring.
func newSessions(t *testing.T, opts cookiesession.Options) (*cookiesession.Manager, *cookiesession.KeyRing) {
	t.Helper()
	key, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cookiesession.New(ring, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, ring
}

// page is long enough for chi's Compress to compress.
var page = strings.Repeat("a page of text ", 100)

// quietLog is a chi LogFormatter that logs nothing.
type quietLog struct{}

func (quietLog) NewLogEntry(*http.Request) middleware.LogEntry   { return quietLog{} }
func (quietLog) Write(int, int, http.Header, time.Duration, any) {}
func (quietLog) Panic(any, []byte)                               {}
