package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
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

	"github.com/gofiber/fiber/v2"
	"github.com/seed-ff2808ae/cookiesession"
)

// newManager is a Manager with opts over a ring of one fresh key, logging
// to opts.Logger (default: nowhere).
func newManager(t *testing.T, opts cookiesession.Options) *cookiesession.Manager {
	t.Helper()
	key, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := cookiesession.New(ring, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testRoutes are sessionRoutes plus routes for the failure cases.
func testRoutes() *http.ServeMux {
	mux := sessionRoutes()
	session := func(r *http.Request) *cookiesession.Session { return cookiesession.FromContext(r.Context()) }
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		session(r).AddFlash("sorry")
		http.Error(w, "teapot", http.StatusTeapot)
	})
	mux.HandleFunc("GET /flashes", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%q", session(r).Flashes())
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		_ = session(r).Set("half", "made")
		panic("boom")
	})
	mux.HandleFunc("GET /half", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "half=%q", session(r).GetString("half"))
	})
	mux.HandleFunc("POST /big", func(w http.ResponseWriter, r *http.Request) {
		var n int
		if _, err := fmt.Sscan(r.URL.Query().Get("n"), &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := session(r).Set("big", strings.Repeat("b", n)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "stored")
	})
	return mux
}

// client is a cookie-jar client of an app served over TLS on loopback.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

// serve runs app on a TLS listener on 127.0.0.1 until the test ends.
func serve(t *testing.T, app *fiber.App) *client {
	t.Helper()
	// httptest's certificate, and a client that trusts it.
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.StartTLS()
	config, hc := ts.TLS, ts.Client()
	ts.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(tls.NewListener(ln, config)) }()
	t.Cleanup(func() {
		if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Error(err)
		}
		if err := <-served; err != nil {
			t.Error(err)
		}
	})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc.Jar = jar
	hc.Timeout = 5 * time.Second
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{t: t, base: "https://" + ln.Addr().String(), http: hc}
}

// browserHeaders make a request's header about as large as a browser's.
var browserHeaders = map[string]string{
	"User-Agent":      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Accept":          "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8",
	"Accept-Language": "en-GB,en;q=0.9",
	"Sec-Fetch-Site":  "same-origin",
}

// result is one response: the session cookies it set, by name, with
// their Max-Age (negative: expired), and as lifetimes sums them up.
type result struct {
	status             int
	body               string
	setCookie          map[string]int
	lifetimes          []string
	vary, cacheControl string
	etag               string
}

func (c *client) do(method, path, form string) result {
	c.t.Helper()
	var header map[string]string
	if form != "" {
		header = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	}
	return c.send(method, path, strings.NewReader(form), header)
}

// doWith sends a request without a body, with header besides a
// browser's.
func (c *client) doWith(method, path string, header map[string]string) result {
	c.t.Helper()
	return c.send(method, path, nil, header)
}

func (c *client) send(method, path string, body io.Reader, header map[string]string) result {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for key, value := range browserHeaders {
		req.Header.Set(key, value)
	}
	for key, value := range header {
		req.Header.Set(key, value)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := result{status: res.StatusCode, body: string(text), vary: res.Header.Get("Vary"), cacheControl: res.Header.Get("Cache-Control"), etag: res.Header.Get("Etag")}
	for _, ck := range res.Cookies() {
		if r.setCookie == nil {
			r.setCookie = map[string]int{}
		}
		r.setCookie[ck.Name] = ck.MaxAge
	}
	r.lifetimes = lifetimes(res.Cookies())
	return r
}

// lifetimes sums up Set-Cookie lines, sorted, as a browser reads their
// lifetime: name=session for a browser-session cookie (neither Max-Age
// nor Expires), name=expired, or name=N for a Max-Age of N seconds; a
// line with Expires gets +Expires.
func lifetimes(cookies []*http.Cookie) []string {
	var out []string
	for _, c := range cookies {
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

// storeLargest stores the largest value the Manager's one 4 KB cookie
// holds (the first of 3000, 2990, ... bytes it does not refuse) and
// returns the length of the cookie's value the client got.
func (c *client) storeLargest() int {
	c.t.Helper()
	for n := 3000; n > 2800; n -= 10 {
		before := c.cookieSize()
		if r := c.do("POST", fmt.Sprintf("/big?n=%d", n), ""); r.status == http.StatusOK {
			return c.cookieSize()
		} else if r.status != http.StatusInternalServerError || c.cookieSize() != before {
			c.t.Fatalf("storing %d bytes: %+v", n, r)
		}
	}
	c.t.Fatal("the Manager refused every session from 3000 down to 2810 bytes")
	return 0
}

// cookieSize is the length of the session cookie's value in the jar.
func (c *client) cookieSize() int { return len(c.cookieValue()) }

// cookieValue is the session cookie's value in the jar, or "".
func (c *client) cookieValue() string {
	req, err := http.NewRequest("GET", c.base, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ck := range c.http.Jar.Cookies(req.URL) {
		if ck.Name == "session" {
			return ck.Value
		}
	}
	return ""
}

// another is a second browser of the same server: a jar of its own.
func (c *client) another() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	hc := *c.http
	hc.Jar = jar
	return &client{t: c.t, base: c.base, http: &hc}
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

// lockedBuffer is a log destination that the server's goroutines write
// while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
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
