package fibersession_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

// start is the fixed instant every test Manager reads from its clock.
var start = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func newManager(t testing.TB, opts cookiesession.Options) *cookiesession.Manager {
	t.Helper()
	key, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return start }
	}
	m, err := cookiesession.New(ring, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newApp serves the routes the tests share, under New(m, config...). Its
// read buffer holds a request with three full chunks.
func newApp(m *cookiesession.Manager, config ...fibersession.Config) *fiber.App {
	app := fiber.New(fiber.Config{ReadBufferSize: 16 << 10})
	app.Use(fibersession.New(m, config...))
	app.Post("/set", func(c fiber.Ctx) error {
		if err := fibersession.Get(c, m).Set(c.Query("key"), c.Query("value")); err != nil {
			return err
		}
		return c.SendString("ok")
	})
	app.Post("/big", func(c fiber.Ctx) error {
		n := fiber.Query[int](c, "n")
		if err := fibersession.Get(c, m).Set("big", strings.Repeat("b", n)); err != nil {
			return err
		}
		return c.SendString("stored")
	})
	app.Get("/get", func(c fiber.Ctx) error {
		return c.SendString(fibersession.Get(c, m).GetString(c.Query("key")))
	})
	app.Post("/logout", func(c fiber.Ctx) error {
		fibersession.Get(c, m).Destroy()
		return c.Redirect().Status(http.StatusSeeOther).To("/")
	})
	app.Get("/plain", func(c fiber.Ctx) error { return c.SendString("no session here") })
	return app
}

// response is what app.Test returned, with the Set-Cookie lines as they
// came off the wire.
type response struct {
	status    int
	body      string
	header    http.Header
	setCookie []string
}

// do sends one request through app.Test, with cookie's lines as its
// Cookie headers, and applies the response's Set-Cookie lines to jar.
func do(t *testing.T, app *fiber.App, method, target string, jar *jar) response {
	t.Helper()
	req := httptest.NewRequest(method, "https://example.test"+target, nil)
	if jar != nil {
		if line := jar.header(); line != "" {
			req.Header.Set("Cookie", line)
		}
	}
	return send(t, app, req, jar)
}

func send(t *testing.T, app *fiber.App, req *http.Request, jar *jar) response {
	t.Helper()
	res, err := app.Test(req, fiber.TestConfig{Timeout: 5 * time.Second, FailOnTimeout: true})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{status: res.StatusCode, body: string(body), header: res.Header, setCookie: res.Header.Values("Set-Cookie")}
	if jar != nil {
		jar.apply(t, r.setCookie)
	}
	return r
}

// linesFor returns the Set-Cookie lines that set the cookie name.
func (r response) linesFor(name string) []string {
	var lines []string
	for _, line := range r.setCookie {
		if strings.HasPrefix(line, name+"=") {
			lines = append(lines, line)
		}
	}
	return lines
}

// names returns the cookie names the response sets, in wire order.
func (r response) names(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, line := range r.setCookie {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		names = append(names, c.Name)
	}
	return names
}

// expired reports whether the response expires the cookie name.
func (r response) expired(t *testing.T, name string) bool {
	t.Helper()
	for _, line := range r.linesFor(name) {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.MaxAge < 0 {
			return true
		}
	}
	return false
}

// jar keeps cookies as a browser would for one site: the last Set-Cookie
// for a name wins, and an expired one is dropped.
type jar struct{ values map[string]string }

func newJar() *jar { return &jar{values: map[string]string{}} }

func (j *jar) apply(t *testing.T, lines []string) {
	t.Helper()
	for _, line := range lines {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.MaxAge < 0 {
			delete(j.values, c.Name)
			continue
		}
		j.values[c.Name] = c.Value
	}
}

// header returns the Cookie header the jar sends, names sorted.
func (j *jar) header() string {
	names := make([]string, 0, len(j.values))
	for name := range j.values {
		names = append(names, name)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + "=" + j.values[name]
	}
	return strings.Join(parts, "; ")
}

func (j *jar) clone() *jar {
	c := newJar()
	maps.Copy(c.values, j.values)
	return c
}

func (j *jar) names() []string {
	var names []string
	for name := range j.values {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// serveTLS serves app over TLS on a loopback port, and returns a client
// that sends every request there: a request for https://example.com
// carries a Host that is not loopback, over a connection fasthttp sees as
// TLS. The certificate is httptest's, which names example.com.
func serveTLS(t *testing.T, app *fiber.App) *http.Client {
	t.Helper()
	borrowed := httptest.NewTLSServer(http.NotFoundHandler())
	cert := borrowed.TLS.Certificates[0]
	roots := borrowed.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	borrowed.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	transport := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return new(net.Dialer).DialContext(ctx, network, ln.Addr().String())
		},
	}
	t.Cleanup(func() {
		transport.CloseIdleConnections()
		_ = app.Shutdown()
	})
	return &http.Client{Transport: transport, Timeout: 5 * time.Second}
}

// syncBuffer is a log destination that a server goroutine writes while the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the logged lines that contain substr.
func (b *syncBuffer) lines(substr string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var found []string
	for line := range strings.Lines(b.buf.String()) {
		if strings.Contains(line, substr) {
			found = append(found, line)
		}
	}
	return found
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveRaw serves app on a loopback port and returns a function that
// writes raw, a request that need not be well formed, on a new connection
// and returns the response's status line and body. app.Test can send no
// request that fasthttp refuses to read.
func serveRaw(t *testing.T, app *fiber.App) func(raw string) (status, body string) {
	t.Helper()
	exchange := serveRawResponse(t, app)
	return func(raw string) (status, body string) {
		t.Helper()
		res, body := exchange(raw)
		return res.Status, body
	}
}

// serveRawResponse is serveRaw, with the whole response: its headers as
// net/http reads them (names canonical, lines of one name together).
func serveRawResponse(t *testing.T, app *fiber.App) func(raw string) (*http.Response, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return func(raw string) (*http.Response, string) {
		t.Helper()
		return exchange(t, ln.Addr().String(), raw)
	}
}

// recovered returns what f panicked with, or "no panic".
func recovered(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return "no panic"
}

// testedApp is an app as its own tests build it, with handlers they may
// also call alone.
type testedApp struct {
	m *cookiesession.Manager
}

func (a testedApp) login(c fiber.Ctx) error {
	if err := fibersession.Get(c, a.m).Set("user", "ann"); err != nil {
		return err
	}
	return c.Status(http.StatusCreated).SendString("signed in")
}

func (a testedApp) me(c fiber.Ctx) error {
	return c.SendString("user=" + fibersession.Get(c, a.m).GetString("user"))
}

func (a testedApp) logout(c fiber.Ctx) error {
	fibersession.Get(c, a.m).Destroy()
	return c.SendStatus(http.StatusNoContent)
}

func (a testedApp) fiber() *fiber.App {
	app := fiber.New()
	app.Use(fibersession.New(a.m))
	app.Post("/login", a.login)
	app.Get("/me", a.me)
	app.Post("/logout", a.logout)
	return app
}

// appTest sends a request through app.Test, with cookies, as a fiber test
// does, and returns the response and its body.
func appTest(t *testing.T, app *fiber.App, method, target string, cookies []*http.Cookie) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// browser is net/http's cookiejar, restarted as a browser restarts: the
// cookies that came with neither Max-Age nor Expires (browser-session
// cookies) are gone, the others kept.
type browser struct {
	mu   sync.Mutex
	jar  *cookiejar.Jar
	last map[string]setFor // each name's last Set-Cookie
}

// setFor is a Set-Cookie and the URL it answered.
type setFor struct {
	u      *url.URL
	cookie *http.Cookie
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{jar: jar, last: map[string]setFor{}}
}

func (b *browser) SetCookies(u *url.URL, cookies []*http.Cookie) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.jar.SetCookies(u, cookies)
	for _, c := range cookies {
		b.last[c.Name] = setFor{u, c}
	}
}

func (b *browser) Cookies(u *url.URL) []*http.Cookie {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.jar.Cookies(u)
}

// restart starts a new cookiejar holding the persistent cookies alone.
func (b *browser) restart(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, set := range b.last {
		if set.cookie.MaxAge < 0 || set.cookie.MaxAge == 0 && set.cookie.Expires.IsZero() {
			delete(b.last, name)
			continue
		}
		jar.SetCookies(set.u, []*http.Cookie{set.cookie})
	}
	b.jar = jar
}

// exchange sends raw on a new connection to addr and returns the response
// read from it, with its body.
func exchange(t *testing.T, addr, raw string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", raw, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// listen serves app on a loopback port, or on ln if given, and returns
// its address.
func listen(t *testing.T, app *fiber.App, ln ...net.Listener) string {
	t.Helper()
	if ln == nil {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln = []net.Listener{l}
	}
	go func() { _ = app.Listener(ln[0], fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return ln[0].Addr().String()
}

// defaultLog sends slog's default logger, which a Manager with no
// Options.Logger logs through (its middleware's lines too), to the
// returned buffer at level, until the test ends.
func defaultLog(t *testing.T, level slog.Level) *syncBuffer {
	logged := new(syncBuffer)
	setDefaultLogger(t, slog.New(slog.NewTextHandler(logged, &slog.HandlerOptions{Level: level})))
	return logged
}

// setDefaultLogger makes l slog's default logger until the test ends, and
// then restores the log package's output and flags as well as slog's
// default. slog.SetDefault sends the log package's output to l's handler,
// and setting the previous default back does not undo that (that
// logger's handler writes through the log package): every later
// log.Print, and slog's default logger itself, went on into the buffer of
// the first test that had captured the default, for the rest of the run.
func setDefaultLogger(t *testing.T, l *slog.Logger) {
	t.Helper()
	prev, out, flags := slog.Default(), log.Writer(), log.Flags()
	t.Cleanup(func() {
		slog.SetDefault(prev)
		log.SetOutput(out)
		log.SetFlags(flags)
	})
	slog.SetDefault(l)
}

// servedApp returns an app that runs fibersession.New(m), and a channel
// that receives once each request has been served, the middleware's final
// save included.
func servedApp(m *cookiesession.Manager) (*fiber.App, chan struct{}) {
	served := make(chan struct{}, 1)
	app := fiber.New()
	app.Use(func(c fiber.Ctx) error {
		err := c.Next()
		served <- struct{}{}
		return err
	})
	app.Use(fibersession.New(m))
	return app, served
}

// lifetimes sums up a response's Set-Cookie lines, sorted, as a browser
// reads their lifetime: name=session for a browser-session cookie
// (neither Max-Age nor Expires), name=expired, or name=N for a Max-Age of
// N seconds; a line with Expires gets +Expires.
func lifetimes(res *http.Response) []string {
	var out []string
	for _, c := range res.Cookies() {
		var life string
		switch {
		case c.MaxAge < 0:
			life = "expired"
		case c.MaxAge == 0:
			life = "session"
		default:
			life = fmt.Sprint(c.MaxAge)
		}
		if c.RawExpires != "" {
			life += "+Expires"
		}
		out = append(out, c.Name+"="+life)
	}
	slices.Sort(out)
	return out
}
