package echosession_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/seed-ff2808ae/cookiesession"
	echosession "github.com/seed-ff2808ae/cookiesession/echo"
)

// Value sizes for a Manager with MaxChunks 2 and 4096-byte cookies: a blob
// of chunkedBlob bytes needs both chunks; one of tooLargeBlob fits in none.
const (
	chunkedBlob  = 5000
	tooLargeBlob = 7000
)

// newManager returns a Manager that may split a session over two cookies
// and answers a session that does not fit with 413 and its own body.
func newManager(t testing.TB) *cookiesession.Manager { return namedManager(t, "session") }

// namedManager is newManager with the cookie name given.
func namedManager(t testing.TB, name string) *cookiesession.Manager {
	t.Helper()
	return managerWith(t, cookiesession.Options{
		Name:      name,
		MaxChunks: 2,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if !errors.Is(err, cookiesession.ErrTooLarge) {
				t.Errorf("ErrorHandler got %v, want ErrTooLarge", err)
			}
			http.Error(w, "session too large", http.StatusRequestEntityTooLarge)
		},
	})
}

// managerWith returns a Manager with opts over a ring of one fresh key.
func managerWith(t testing.TB, opts cookiesession.Options) *cookiesession.Manager {
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
	return m
}

// newServer serves app over TLS on 127.0.0.1 until the test ends.
func newServer(t *testing.T, app http.Handler) *httptest.Server {
	srv := httptest.NewTLSServer(app)
	t.Cleanup(srv.Close)
	return srv
}

// client is a browser stand-in: a cookie jar, and redirects not followed so
// that each response can be checked.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, srv *httptest.Server) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := *srv.Client() // the server's client is shared: copy it for a jar of its own
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{t: t, base: srv.URL, http: &hc}
}

// do sends a request and returns the response with its body read.
func (c *client) do(method, path string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, string(body)
}

// jarNames lists the names of the cookies the jar holds for the server.
func (c *client) jarNames() []string {
	u, err := url.Parse(c.base)
	if err != nil {
		c.t.Fatal(err)
	}
	var names []string
	for _, ck := range c.http.Jar.Cookies(u) {
		names = append(names, ck.Name)
	}
	slices.Sort(names)
	return names
}

// setCookies sums up a response's Set-Cookie lines as name=kept or
// name=expired, sorted.
func setCookies(resp *http.Response) []string {
	var out []string
	for _, ck := range resp.Cookies() {
		state := "kept"
		if ck.MaxAge < 0 {
			state = "expired"
		}
		out = append(out, ck.Name+"="+state)
	}
	slices.Sort(out)
	return out
}

// benchWriter is a reusable ResponseWriter for allocation counts.
type benchWriter struct{ h http.Header }

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(int)             {}

// sessionRequest returns a GET / request that carries a session with
// user=ada, sealed by m.
func sessionRequest(t testing.TB, m *cookiesession.Manager) *http.Request {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "ada")
	})).ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	req := httptest.NewRequest("GET", "https://example.com/", nil)
	for _, ck := range rec.Result().Cookies() {
		req.AddCookie(ck)
	}
	return req
}

var okBody = []byte("ok")

// benchCase is one request for the allocation comparison: the same
// handler work behind net/http's middleware or echo's, or without a session.
type benchCase struct {
	name string
	h    http.Handler
}

// benchCases returns, for net/http, echo and echo.WrapMiddleware, a handler
// without sessions (bare), one that reads the session (read) and one that
// changes it (modify), each answering "ok".
func benchCases(t testing.TB, m *cookiesession.Manager) []benchCase {
	read := func(s *cookiesession.Session) {
		if s.GetString("user") != "ada" {
			t.Fatal("session not loaded")
		}
	}
	modify := func(s *cookiesession.Session) {
		if err := s.Set("role", "admin"); err != nil {
			t.Fatal(err)
		}
	}
	netHTTP := func(work func(*cookiesession.Session)) http.Handler {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if work != nil {
				work(cookiesession.FromContext(r.Context()))
			}
			_, _ = w.Write(okBody)
		})
		if work == nil {
			return h
		}
		return m.Handler(h)
	}
	withEcho := func(mw echo.MiddlewareFunc, work func(*cookiesession.Session)) http.Handler {
		e := echo.New()
		if mw != nil {
			e.Use(mw)
		}
		e.GET("/", func(c echo.Context) error {
			if work != nil {
				work(echosession.Session(c))
			}
			return c.String(http.StatusOK, "ok")
		})
		return e
	}
	native, wrapped := echosession.Middleware(m), echo.WrapMiddleware(m.Handler)
	return []benchCase{
		{"net-http/bare", netHTTP(nil)}, {"net-http/read", netHTTP(read)}, {"net-http/modify", netHTTP(modify)},
		{"echo/bare", withEcho(nil, nil)}, {"echo/read", withEcho(native, read)}, {"echo/modify", withEcho(native, modify)},
		{"echo-wrap/read", withEcho(wrapped, read)}, {"echo-wrap/modify", withEcho(wrapped, modify)},
	}
}

// compileReadmeBlock writes the README's ```go block that contains marker
// into a directory of this module and runs go vet on it.
func compileReadmeBlock(t *testing.T, marker string) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var code string
	for _, block := range strings.Split(string(readme), "```go\n")[1:] {
		if c, _, _ := strings.Cut(block, "```"); strings.Contains(c, marker) {
			code = c
			break
		}
	}
	if code == "" {
		t.Fatalf("README.md has no ```go block with %q", marker)
	}
	// Not in the source tree, which may be read-only (go test all runs
	// this in the module cache): go vet of a file builds it in this
	// directory's module.
	path := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(path, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "vet", path).CombinedOutput()
	if err != nil {
		t.Fatalf("README block with %q does not compile: %v\n%s", marker, err, out)
	}
}

// wayNames are the keys of ways, in a fixed order.
var wayNames = []string{"Middleware", "WrapMiddleware"}

// loggedManager returns a Manager of cookies with Path, over two chunks,
// that logs to logged.
func loggedManager(t *testing.T, path string, logged *strings.Builder) *cookiesession.Manager {
	return managerWith(t, cookiesession.Options{Path: path, MaxChunks: 2,
		Logger: slog.New(slog.NewTextHandler(logged, nil))})
}

// routes is what *echo.Echo and *echo.Group have in common here.
type routes interface {
	GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
	POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
}

// sessionRoutes adds login, whoami and logout to g, each behind mw.
func sessionRoutes(g routes, mw echo.MiddlewareFunc) {
	g.POST("/login", func(c echo.Context) error {
		if err := echosession.Session(c).Set("user", c.QueryParam("user")); err != nil {
			return err
		}
		return c.String(http.StatusOK, "hello")
	}, mw)
	g.GET("/whoami", func(c echo.Context) error {
		return c.String(http.StatusOK, "user="+echosession.Session(c).GetString("user"))
	}, mw)
	g.POST("/logout", func(c echo.Context) error {
		echosession.Session(c).Destroy()
		return c.String(http.StatusOK, "bye")
	}, mw)
}

// stripPrefix serves backend behind a reverse proxy that strips prefix
// from the path and says so in X-Forwarded-Prefix.
func stripPrefix(t *testing.T, prefix string, backend http.Handler) http.Handler {
	origin := httptest.NewServer(backend)
	t.Cleanup(origin.Close)
	target, err := url.Parse(origin.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.SetXForwarded()
		pr.Out.URL.Path = strings.TrimPrefix(pr.In.URL.Path, prefix)
		pr.Out.Header.Set("X-Forwarded-Prefix", prefix)
	}}
}

// tossedRequest returns a GET /whoami to srv whose Cookie header carries a
// junk session cookie, then the one login set, as a cookie tossed for a
// parent domain comes first.
func tossedRequest(t *testing.T, srv *httptest.Server) *http.Request {
	t.Helper()
	login, _ := newClient(t, srv).do(http.MethodPost, "/login?user=ada")
	var real string
	for _, ck := range login.Cookies() {
		if ck.Name == "session" {
			real = ck.Value
		}
	}
	if real == "" {
		t.Fatal("login set no session cookie")
	}
	req := httptest.NewRequest(http.MethodGet, srv.URL+"/whoami", nil)
	req.RequestURI = ""
	req.Header.Set("Cookie", "session="+strings.Repeat("A", 80)+"; session="+real)
	return req
}

// sessionTagger is a slog handler that tags each line with the user of
// the session in its context, and reads it again in Enabled.
type sessionTagger struct{ slog.Handler }

func (h sessionTagger) Enabled(ctx context.Context, level slog.Level) bool {
	if s := cookiesession.FromContext(ctx); s != nil {
		_ = s.GetString("user")
	}
	return h.Handler.Enabled(ctx, level)
}

func (h sessionTagger) Handle(ctx context.Context, rec slog.Record) error {
	if s := cookiesession.FromContext(ctx); s != nil {
		rec.AddAttrs(slog.String("user", s.GetString("user")))
	}
	return h.Handler.Handle(ctx, rec)
}

// flashErrorHandler is an app's HTTPErrorHandler that stores the error as
// a flash and redirects to /flash, unless the response has gone.
func flashErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	echosession.Session(c).AddFlash("denied: " + err.Error())
	_ = c.Redirect(http.StatusSeeOther, "/flash")
}

// browserJar is a cookie jar for one host that a test can restart as a
// browser does: a restart drops the cookies that had no Max-Age. Expiry is
// left to the server, which refuses an expired token.
type browserJar struct {
	mu         sync.Mutex
	cookies    map[string]string
	persistent map[string]bool
}

func newBrowserJar() *browserJar {
	return &browserJar{cookies: map[string]string{}, persistent: map[string]bool{}}
}

func (j *browserJar) SetCookies(_ *url.URL, cookies []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, ck := range cookies {
		if ck.MaxAge < 0 {
			delete(j.cookies, ck.Name)
			continue
		}
		j.cookies[ck.Name], j.persistent[ck.Name] = ck.Value, ck.MaxAge > 0
	}
}

func (j *browserJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for name, value := range j.cookies {
		out = append(out, &http.Cookie{Name: name, Value: value})
	}
	return out
}

// restart drops the browser-session cookies.
func (j *browserJar) restart() {
	j.mu.Lock()
	defer j.mu.Unlock()
	for name := range j.cookies {
		if !j.persistent[name] {
			delete(j.cookies, name)
		}
	}
}

// callerLine returns the line it is called from.
func callerLine() int {
	_, _, line, _ := runtime.Caller(1)
	return line
}

// warned reports whether logged holds a line at Warn that contains substr.
func warned(logged, substr string) bool {
	for line := range strings.Lines(logged) {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, substr) {
			return true
		}
	}
	return false
}
