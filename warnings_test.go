package cookiesession_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// User-Agent lines of current browsers: WebKit's (Safari, and Chrome on
// iOS) and two others.
const (
	safariUA    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
	chromeIOSUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1"
	chromeUA    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	firefoxUA   = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0"
)

// TestSecureOverPlainHTTPWarns checks that the first Secure cookie sent in
// answer to a plain-HTTP request is logged, once, with the proxy header
// that would have said HTTPS, and that requests with a sign of HTTPS, to
// loopback hosts from browsers other than WebKit's, without a cookie to
// set, or for a Manager without Secure are not.
func TestSecureOverPlainHTTPWarns(t *testing.T) {
	login := func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "ada") }
	read := func(w http.ResponseWriter, r *http.Request) { _ = sessionOf(t, r).GetString("user") }
	tests := []struct {
		name   string
		target string
		header [2]string
		opts   cookiesession.Options
		h      http.HandlerFunc
		warn   bool
	}{
		{"plain HTTP", "http://app.internal/login", [2]string{}, cookiesession.Options{}, login, true},
		{"plain HTTP with a port", "http://10.0.0.7:8080/login", [2]string{}, cookiesession.Options{}, login, true},
		{"TLS", "https://app.example/login", [2]string{}, cookiesession.Options{}, login, false},
		{"X-Forwarded-Proto", "http://app.internal/login", [2]string{"X-Forwarded-Proto", "HTTPS"}, cookiesession.Options{}, login, false},
		{"X-Forwarded-Proto http", "http://app.internal/login", [2]string{"X-Forwarded-Proto", "http"}, cookiesession.Options{}, login, true},
		{"Forwarded", "http://app.internal/login", [2]string{"Forwarded", "for=192.0.2.60;proto=https;by=203.0.113.43"}, cookiesession.Options{}, login, false},
		// What gorilla/handlers' ProxyHeaders also reads, into r.URL.Scheme.
		{"X-Forwarded-Scheme", "http://app.internal/login", [2]string{"X-Forwarded-Scheme", "https"}, cookiesession.Options{}, login, false},
		{"X-Forwarded-Scheme http", "http://app.internal/login", [2]string{"X-Forwarded-Scheme", "http"}, cookiesession.Options{}, login, true},
		// Behind a proxy that ends TLS and sends no X-Forwarded-Proto
		// (nginx and httputil.ReverseProxy by default), the browser's own
		// headers say the page was https, and the cookie sticks.
		{"Origin https", "http://app.internal/login", [2]string{"Origin", "https://app.example"}, cookiesession.Options{}, login, false},
		{"Referer https", "http://app.internal/login", [2]string{"Referer", "HTTPS://app.example/login"}, cookiesession.Options{}, login, false},
		{"Origin http", "http://app.internal/login", [2]string{"Origin", "http://app.internal"}, cookiesession.Options{}, login, true},
		{"Referer http", "http://app.internal/login", [2]string{"Referer", "http://app.internal/"}, cookiesession.Options{}, login, true},
		{"localhost", "http://localhost:8080/login", [2]string{}, cookiesession.Options{}, login, false},
		{"a .localhost name", "http://app.localhost/login", [2]string{}, cookiesession.Options{}, login, false},
		{"127.0.0.1", "http://127.0.0.1:8080/login", [2]string{}, cookiesession.Options{}, login, false},
		{"::1", "http://[::1]:8080/login", [2]string{}, cookiesession.Options{}, login, false},
		{"localhost, Origin localhost", "http://localhost:8080/login", [2]string{"Origin", "http://localhost:8080"}, cookiesession.Options{}, login, false},
		{"localhost, X-Forwarded-Host empty", "http://localhost:8080/login", [2]string{"X-Forwarded-Host", ""}, cookiesession.Options{}, login, false},
		{"localhost, Forwarded host empty", "http://localhost:8080/login", [2]string{"Forwarded", `for=192.0.2.60;host=""`}, cookiesession.Options{}, login, false},
		// A proxy on this machine without TLS forwards to 127.0.0.1 (nginx's
		// Host is then its proxy_pass host) for a browser on another host,
		// which drops the cookie whatever it is.
		{"proxy on this machine, Origin", "http://127.0.0.1:8080/login", [2]string{"Origin", "http://app.example"}, cookiesession.Options{}, login, true},
		{"proxy on this machine, Referer", "http://127.0.0.1:8080/login", [2]string{"Referer", "http://app.example/login?next=/"}, cookiesession.Options{}, login, true},
		{"proxy on this machine, X-Forwarded-Host", "http://localhost:8080/login", [2]string{"X-Forwarded-Host", "app.example"}, cookiesession.Options{}, login, true},
		{"proxy on this machine, Forwarded", "http://[::1]:8080/login", [2]string{"Forwarded", "for=192.0.2.60;host=app.example"}, cookiesession.Options{}, login, true},
		// Safari, unlike Chrome and Firefox, drops a Secure cookie on
		// http://localhost (WebKit bug 281149); so does every browser on
		// iOS, which all run WebKit.
		{"Safari on localhost", "http://localhost:8080/login", [2]string{"User-Agent", safariUA}, cookiesession.Options{}, login, true},
		{"Chrome on iOS on 127.0.0.1", "http://127.0.0.1:8080/login", [2]string{"User-Agent", chromeIOSUA}, cookiesession.Options{}, login, true},
		{"Chrome on localhost", "http://localhost:8080/login", [2]string{"User-Agent", chromeUA}, cookiesession.Options{}, login, false},
		{"Firefox on localhost", "http://localhost:8080/login", [2]string{"User-Agent", firefoxUA}, cookiesession.Options{}, login, false},
		{"Safari on localhost over HTTPS", "https://localhost:8443/login", [2]string{"User-Agent", safariUA}, cookiesession.Options{}, login, false},
		{"Safari on localhost, DisableSecure", "http://localhost:8080/login", [2]string{"User-Agent", safariUA}, cookiesession.Options{DisableSecure: true}, login, false},
		{"DisableSecure", "http://app.internal/login", [2]string{}, cookiesession.Options{DisableSecure: true}, login, false},
		{"no cookie to set", "http://app.internal/", [2]string{}, cookiesession.Options{}, read, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts)
			for range 2 {
				r := httptest.NewRequest("POST", tt.target, nil)
				if tt.header[0] != "" {
					r.Header.Set(tt.header[0], tt.header[1])
				}
				f.m.Handler(tt.h).ServeHTTP(httptest.NewRecorder(), r)
			}
			warns := f.log.lines("plain-HTTP request")
			if want := map[bool]int{true: 1, false: 0}[tt.warn]; len(warns) != want {
				t.Fatalf("%d warnings, want %d; log:\n%s", len(warns), want, f.log)
			}
			// The host named is the one judged: through a proxy on this
			// machine, the browser's, not 127.0.0.1, which Chrome would
			// keep the cookie on.
			host := httptest.NewRequest("GET", tt.target, nil).Host
			if strings.HasPrefix(tt.name, "proxy on this machine") {
				host = "app.example"
			}
			if tt.warn && !strings.Contains(warns[0], "host="+host+" ") {
				t.Errorf("the warning does not name the host %s: %s", host, warns[0])
			}
			// A proxy on the same machine that ends TLS forwards to
			// 127.0.0.1 (nginx's Host is then its proxy_pass host), so
			// Safari's warning on loopback names the proxy's fix too.
			if tt.warn && !strings.Contains(warns[0], "X-Forwarded-Proto: https") {
				t.Errorf("the warning does not name the proxy's fix: %s", warns[0])
			}
			if tt.warn && tt.header[0] == "User-Agent" && !strings.Contains(warns[0], "localhost from Safari") {
				t.Errorf("the warning for WebKit on localhost does not say so: %s", warns[0])
			}
		})
	}
	// An adapter that builds the request from an event, such as
	// aws-lambda-go-api-proxy, gives it an https URL and no TLS.
	f := newFixture(t, cookiesession.Options{})
	adapted, err := http.NewRequest("POST", "https://abc123.execute-api.eu-west-1.amazonaws.com/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.m.Handler(http.HandlerFunc(login)).ServeHTTP(httptest.NewRecorder(), adapted)
	if warns := f.log.lines("plain-HTTP request"); len(warns) != 0 {
		t.Errorf("a request with an https URL was logged: %s", warns[0])
	}
	// Save, outside the middleware, knows the request too.
	f = newFixture(t, cookiesession.Options{})
	r := httptest.NewRequest("POST", "http://app.internal/login", nil)
	s, _ := f.m.Load(r)
	mustSet(t, s, "user", "ada")
	if err := f.m.Save(httptest.NewRecorder(), r, s); err != nil {
		t.Fatal(err)
	}
	if len(f.log.lines("plain-HTTP request")) != 1 {
		t.Errorf("Save over plain HTTP: want one warning; log:\n%s", f.log)
	}
	// So does an adapter's CommitHeader, given the request: one an adapter
	// built with no URL, and one with an https URL.
	for _, tt := range []struct {
		name string
		r    *http.Request
		warn int
	}{
		{"no URL", &http.Request{Host: "app.internal", Header: http.Header{}}, 1},
		{"https URL", httptest.NewRequest("GET", "https://app.internal/", nil), 0},
		{"nil", nil, 0},
	} {
		f = newFixture(t, cookiesession.Options{})
		s, _ := f.m.Load(httptest.NewRequest("GET", "/", nil))
		mustSet(t, s, "user", "ada")
		if err := f.m.CommitHeader(http.Header{}, s, tt.r); err != nil {
			t.Fatal(err)
		}
		if n := len(f.log.lines("plain-HTTP request")); n != tt.warn {
			t.Errorf("CommitHeader, request %s: %d warnings, want %d; log:\n%s", tt.name, n, tt.warn, f.log)
		}
	}
}

// TestGoJarOverLoopbackWarns checks that a Secure cookie set in answer to
// Go's HTTP client over plain HTTP to loopback (a test's
// httptest.NewServer) is logged once, with the fix, when this Go's
// cookiejar never sends it back (Go 1.25's), and not when it does, nor for
// a browser, nor over TLS. Then, over a real server and jar, a warning
// comes exactly when the jar keeps the cookie from the next request.
func TestGoJarOverLoopbackWarns(t *testing.T) {
	login := func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "ada") }
	const goUA, browserUA = "Go-http-client/1.1", "Mozilla/5.0"
	tests := []struct {
		name, target, ua string
		jarDrops         bool
		opts             cookiesession.Options
		warn             int
	}{
		{"Go client to 127.0.0.1", "http://127.0.0.1:8080/login", goUA, true, cookiesession.Options{}, 1},
		{"Go client to localhost", "http://localhost:8080/login", goUA, true, cookiesession.Options{}, 1},
		{"HTTP/2 Go client to ::1", "http://[::1]:8080/login", "Go-http-client/2.0", true, cookiesession.Options{}, 1},
		{"a jar that sends it", "http://127.0.0.1:8080/login", goUA, false, cookiesession.Options{}, 0},
		{"browser", "http://127.0.0.1:8080/login", browserUA, true, cookiesession.Options{}, 0},
		{"no User-Agent", "http://127.0.0.1:8080/login", "", true, cookiesession.Options{}, 0},
		{"TLS", "https://127.0.0.1:8080/login", goUA, true, cookiesession.Options{}, 0},
		{"DisableSecure", "http://127.0.0.1:8080/login", goUA, true, cookiesession.Options{DisableSecure: true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer cookiesession.SetGoJarDropsLoopback(tt.jarDrops)()
			f := newFixture(t, tt.opts)
			for range 2 {
				r := httptest.NewRequest("POST", tt.target, nil)
				if tt.ua != "" {
					r.Header.Set("User-Agent", tt.ua)
				}
				f.m.Handler(http.HandlerFunc(login)).ServeHTTP(httptest.NewRecorder(), r)
			}
			warns := f.log.lines("net/http/cookiejar")
			if len(warns) != tt.warn {
				t.Fatalf("%d warnings, want %d; log:\n%s", len(warns), tt.warn, f.log)
			}
			if tt.warn > 0 && !strings.Contains(warns[0], "httptest.NewTLSServer") {
				t.Errorf("the warning does not name the fix: %s", warns[0])
			}
			if n := f.m.Metrics().Dropped["plain_http"]; n != 0 {
				t.Errorf("Dropped[plain_http] %d, want 0: no browser drops it", n)
			}
			f.m.Handler(http.HandlerFunc(login)).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "http://app.internal/login", nil))
			if n := len(f.log.lines("plain-HTTP request")); n != 1 && !tt.opts.DisableSecure {
				t.Errorf("a browser's plain-HTTP request after it: %d warnings, want 1; log:\n%s", n, f.log)
			}
		})
	}

	f := newFixture(t, cookiesession.Options{})
	srv := httptest.NewServer(f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		if r.Method == "POST" {
			mustSet(t, s, "user", "ada")
		}
		fmt.Fprint(w, s.GetString("user"))
	})))
	defer srv.Close()
	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)
	if _, err := client.Post(srv.URL, "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	kept, warned := string(body) == "ada", len(f.log.lines("net/http/cookiejar")) == 1
	if kept == warned {
		t.Fatalf("%s: the jar sent the cookie back: %v; warned: %v; log:\n%s", runtime.Version(), kept, warned, f.log)
	}
}

// TestForeignSetCookieWarns checks that a Set-Cookie line for the
// session's cookie that the Manager did not write, in a response where it
// writes none, is logged once: another writer of that name (a handler, an
// upstream behind a ReverseProxy) replaces the client's session. The line
// stays, as it may be a handler's own logout; where the Manager writes the
// cookie, its line replaces the other.
func TestForeignSetCookieWarns(t *testing.T) {
	foreign := func(w http.ResponseWriter) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "from-upstream", Path: "/"})
	}
	tests := []struct {
		name string
		h    http.HandlerFunc
		warn bool
	}{
		{"read", func(w http.ResponseWriter, r *http.Request) {
			_ = sessionOf(t, r).GetString("user")
			foreign(w)
		}, true},
		{"untouched", func(w http.ResponseWriter, r *http.Request) { foreign(w) }, true},
		{"another cookie", func(w http.ResponseWriter, r *http.Request) {
			_ = sessionOf(t, r).GetString("user")
			http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark"})
		}, false},
		{"written by the Manager too", func(w http.ResponseWriter, r *http.Request) {
			foreign(w)
			mustSet(t, sessionOf(t, r), "user", "bob")
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			b := newClientCookies()
			f.serve(b, setString(t, "user", "ada"))
			for range 2 {
				resp := f.serve(b.clone(), tt.h)
				lines := ourCookies(t, resp.Header, "session")
				if tt.name == "written by the Manager too" {
					if c := lines["session"]; c == nil || c.Value == "from-upstream" {
						t.Errorf("the Manager's line did not replace the handler's: %v", resp.Header["Set-Cookie"])
					}
				} else if tt.warn && lines["session"] == nil {
					t.Errorf("the handler's line was dropped: %v", resp.Header["Set-Cookie"])
				}
			}
			warns := f.log.lines("which the Manager did not write")
			if want := map[bool]int{true: 1, false: 0}[tt.warn]; len(warns) != want || tt.warn && !strings.Contains(warns[0], "cookie=session") {
				t.Errorf("%d warnings, want %d naming the cookie; log:\n%s", len(warns), want, f.log)
			}
		})
	}
}

// TestReplacedSetCookieWarns: a handler that logs out with http.SetCookie
// but also changes the session (a flash) has its line replaced by the
// Manager's, so the user stays signed in; that is logged once at Warn,
// naming Destroy.
func TestReplacedSetCookieWarns(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "alice")
	})
	logout := func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).AddFlash("signed out")
		http.SetCookie(w, &http.Cookie{Name: "session", Path: "/", MaxAge: -1})
	}
	for range 2 {
		resp := f.serve(b.clone(), logout)
		if lines := resp.Header.Values("Set-Cookie"); len(lines) != 1 || strings.Contains(lines[0], "Max-Age=0") {
			t.Fatalf("Set-Cookie %q: want the Manager's line alone", lines)
		}
	}
	if lines := f.log.lines("the Manager replaced that line"); len(lines) != 1 || !strings.Contains(lines[0], "Session.Destroy") {
		t.Errorf("want one Warn naming Session.Destroy, log:\n%s", f.log)
	}
	// A Save and the commit after it are the Manager's own lines: no warning.
	g := newFixture(t, cookiesession.Options{})
	g.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		_ = s.Set("user", "alice")
		if err := g.m.Save(w, r, s); err != nil {
			t.Error(err)
		}
		_ = s.Set("user", "bob")
	})
	if strings.Contains(g.log.String(), "replaced") {
		t.Errorf("the Manager's own lines were reported:\n%s", g.log)
	}
}

// TestDomainMismatchWarns: a cookie whose Domain the request's host is
// outside of is dropped by browsers; the first is logged at Warn with the
// fix, and a matching host (directly, by X-Forwarded-Host or by Origin) is
// not.
func TestDomainMismatchWarns(t *testing.T) {
	set := func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "alice")
	}
	for _, tc := range []struct {
		host   string
		header [2]string
		fetch  string // Sec-Fetch-Site
		warn   bool
	}{
		{host: "app.example.com"},
		{host: "EXAMPLE.com:443"},
		{host: "backend:8080", header: [2]string{"X-Forwarded-Host", "app.example.com"}},
		{host: "backend:8080", header: [2]string{"Forwarded", `for=192.0.2.60;host="app.example.com:443";proto=https`}},
		{host: "backend:8080", header: [2]string{"Forwarded", "for=192.0.2.60, host=app.example.org"}, warn: true},
		{host: "backend:8080", header: [2]string{"Origin", "https://www.example.com"}},
		{host: "backend:8080", header: [2]string{"Referer", "https://www.example.com/a"}, fetch: "same-origin"},
		// A page on another site or host says nothing of the host answered.
		{host: "api.example.net", header: [2]string{"Origin", "https://app.example.com"}, fetch: "cross-site", warn: true},
		{host: "api.example.net", header: [2]string{"Referer", "https://app.example.com/"}, fetch: "same-site", warn: true},
		{host: "notexample.com", warn: true},
		{host: "app.example.org", warn: true},
		{host: "127.0.0.1:8080", warn: true},
	} {
		f := newFixture(t, cookiesession.Options{Domain: "example.com"})
		req := httptest.NewRequest("GET", "https://"+tc.host+"/", nil)
		req.Host = tc.host
		if tc.header[0] != "" {
			req.Header.Set(tc.header[0], tc.header[1])
		}
		if tc.fetch != "" {
			req.Header.Set("Sec-Fetch-Site", tc.fetch)
		}
		rec := httptest.NewRecorder()
		f.m.Handler(http.HandlerFunc(set)).ServeHTTP(rec, req)
		if len(rec.Result().Cookies()) != 1 {
			t.Fatalf("%s: no cookie", tc.host)
		}
		lines := f.log.lines("Domain does not match")
		if got := len(lines) == 1 && strings.Contains(lines[0], "fix="); got != tc.warn {
			t.Errorf("host %s %v: warned %v, want %v; log:\n%s", tc.host, tc.header, len(lines), tc.warn, f.log)
		}
	}
}

// TestOutsidePathWarns checks that a session used without a cookie on a
// path outside Options.Path, where browsers do not send the cookie, is
// logged once, and that paths inside it, a prefix stripped by
// http.StripPrefix or announced in X-Forwarded-Prefix, and the default
// Path are not.
func TestOutsidePathWarns(t *testing.T) {
	read := func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).GetString("user")
	}
	for _, tc := range []struct {
		path, target, prefix string
		strip                bool
		warn                 bool
	}{
		{path: "/app", target: "/logout", warn: true},
		{path: "/app", target: "/application", warn: true},
		{path: "/app/", target: "/app", warn: true},
		{path: "/app", target: "/app"},
		{path: "/app", target: "/app/settings"},
		{path: "/app/", target: "/app/settings"},
		{path: "/app", target: "/app/logout", strip: true}, // the handler sees /logout
		{path: "/app", target: "/logout", prefix: "/app"},
		{path: "/", target: "/logout"},
		// Browsers match the path as they send it, percent-encoded, which
		// is how New asks for a Path outside ASCII.
		{path: "/%C3%A9", target: "/%C3%A9/page"},
		{path: "/caf%C3%A9", target: "/caf%C3%A9"},
		{path: "/a%20b", target: "/a%20b/c"},
		{path: "/%C3%A9", target: "/%C3%A8", warn: true},
	} {
		for _, origin := range []bool{false, true} { // absolute-form, then as a server reads it
			f := newFixture(t, cookiesession.Options{Path: tc.path})
			h := f.m.Handler(http.HandlerFunc(read))
			if tc.strip {
				h = http.StripPrefix("/app", h)
			}
			for range 2 {
				req := httptest.NewRequest("GET", "https://example.com"+tc.target, nil)
				if origin {
					req.RequestURI = tc.target
				}
				if tc.prefix != "" {
					req.Header.Set("X-Forwarded-Prefix", tc.prefix)
				}
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
			lines := f.log.lines("outside the cookie's Path")
			if want := map[bool]int{true: 1}[tc.warn]; len(lines) != want || want == 1 && !strings.Contains(lines[0], "fix=") {
				t.Errorf("Path %q, request %s (origin-form %v, strip %v, prefix %q): %d warnings, want %d; log:\n%s", tc.path, tc.target, origin, tc.strip, tc.prefix, len(lines), want, f.log)
			}
		}
	}
}

// TestDestroyOutsidePathClears checks that a logout on a path outside the
// cookie's Path, where the browser sends no cookie, still expires every
// chunk the browser may hold: it used to send nothing, and the user stayed
// signed in.
func TestDestroyOutsidePathClears(t *testing.T) {
	f := newFixture(t, cookiesession.Options{Path: "/app", MaxChunks: 3})
	mux := http.NewServeMux()
	mux.HandleFunc("/app/login", setString(t, "user", "ada"))
	mux.HandleFunc("/app/me", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, cookiesession.FromContext(r.Context()).GetString("user"))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Destroy()
	})
	mux.HandleFunc("/app/logout", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Destroy()
	})
	srv := newTLSServer(t, f.m.Handler(mux))
	defer srv.Close()
	c := srv.client(t)
	fetch(t, c, srv.URL+"/app/login")
	if _, body := fetch(t, c, srv.URL+"/app/me"); body != "ada" {
		t.Fatalf("after login: %q", body)
	}
	resp, _ := fetch(t, c, srv.URL+"/logout")
	requireCleared(t, resp.Header, "session", "session.1", "session.2")
	for _, sc := range resp.Cookies() {
		if sc.Path != "/app" {
			t.Errorf("clearing line %s: Path %q, want /app", sc.Name, sc.Path)
		}
	}
	if _, body := fetch(t, c, srv.URL+"/app/me"); body != "" {
		t.Errorf("after a logout outside the cookie's Path: still signed in as %q", body)
	}
	// Inside the Path, no cookie means nothing to expire.
	if resp, _ := fetch(t, c, srv.URL+"/app/logout"); len(resp.Header["Set-Cookie"]) != 0 {
		t.Errorf("a logout without a cookie inside the Path: Set-Cookie %q", resp.Header["Set-Cookie"])
	}
}

// TestDestroyOutsidePathClearsWithoutMiddleware checks that a Destroy on a
// path outside Options.Path clears the cookie when the session came from
// Manager.Load and is written by Save, as fibersession and a Lambda
// handler do, not only inside the middleware.
func TestDestroyOutsidePathClearsWithoutMiddleware(t *testing.T) {
	f := newFixture(t, cookiesession.Options{Path: "/app", MaxChunks: 2})
	r := httptest.NewRequest("POST", "https://example.com/logout", nil)
	s, err := f.m.Load(r)
	if err != nil {
		t.Fatal(err)
	}
	s.Destroy()
	w := httptest.NewRecorder()
	if err := f.m.Save(w, r, s); err != nil {
		t.Fatal(err)
	}
	requireCleared(t, w.Header(), "session", "session.1")
}

// TestHeaderSizeWarns checks that the first response whose session cookies
// pass a header limit of nginx in its default configuration is logged,
// once for each limit, with the limit it passes, and that nothing under those limits is:
// Set-Cookie lines over 4096 bytes in all (proxy_buffer_size 4k: 502), and
// a next Cookie line, the session's cookies beside the request's others,
// over 8190 bytes (large_client_header_buffers 8k: 400), unless the
// request's own Cookie line was already that long.
func TestHeaderSizeWarns(t *testing.T) {
	const (
		warning   = "pass a header limit of a proxy"
		cookieMax = 8190 // nginx: the longest Cookie line, less its CRLF
	)
	store := func(n int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mustSet(t, sessionOf(t, r), "note", strings.Repeat("x", n))
		}
	}
	// headerBytes is the least a response header holding h takes as
	// net/http writes it: "HTTP/1.1 200 OK", h's lines, a Date line and
	// the blank line (the recorder adds no Date).
	headerBytes := func(h http.Header) int {
		n := len("HTTP/1.1 200 OK\r\n") + len("Date: Tue, 01 Dec 2026 20:05:08 GMT\r\n") + len("\r\n")
		for key, values := range h {
			for _, v := range values {
				n += len(key) + len(": ") + len(v) + len("\r\n")
			}
		}
		return n
	}
	// The response: a sweep of session sizes across a 4096-byte header,
	// over one chunk and then two.
	seen := map[bool]bool{}
	for n := 2760; n <= 3010; n += 5 {
		f := newFixture(t, cookiesession.Options{MaxChunks: 2})
		resp := f.serve(newClientCookies(), store(n))
		size := headerBytes(resp.Header)
		lines := f.log.lines(warning)
		want := size > 4096
		seen[want] = true
		if len(lines) != map[bool]int{true: 1, false: 0}[want] {
			t.Fatalf("%d bytes of values, a header of %d bytes: %d warnings, want warned %v; log:\n%s", n, size, len(lines), want, f.log)
		}
		if want && !(strings.Contains(lines[0], "level=WARN") && strings.Contains(lines[0], fmt.Sprintf("at least %d bytes", size)) && strings.Contains(lines[0], "502") && strings.Contains(lines[0], "fix=")) {
			t.Errorf("the warning is not at Warn with the size, the status and the fix: %s", lines[0])
		}
	}
	if !seen[true] || !seen[false] {
		t.Fatalf("the sweep did not cross the limit: %v", seen)
	}

	// The request: a 1,000-byte session beside another cookie of the
	// site, whose size is swept across 8190 bytes of the Cookie line the
	// browser sends next.
	cookieLine := func(b *clientCookies) int { return len("Cookie: ") + len(b.request("/").Header.Get("Cookie")) }
	probe := newClientCookies()
	newFixture(t, cookiesession.Options{}).serve(probe, store(1000))
	edge := cookieMax - cookieLine(probe) - len("; analytics=")
	for k := edge - 3; k <= edge+3; k++ {
		f := newFixture(t, cookiesession.Options{})
		b := newClientCookies()
		b.vals["analytics"] = strings.Repeat("a", k)
		resp := f.serve(b, store(1000))
		if size := headerBytes(resp.Header); size > 4096 {
			t.Fatalf("a header of %d bytes: the response rule applies", size)
		}
		next := cookieLine(b)
		lines := f.log.lines(warning)
		if want := next > cookieMax; len(lines) != map[bool]int{true: 1, false: 0}[want] {
			t.Fatalf("next Cookie line of %d bytes: %d warnings, want warned %v; log:\n%s", next, len(lines), want, f.log)
		}
		if len(lines) == 1 && !(strings.Contains(lines[0], "level=WARN") && strings.Contains(lines[0], fmt.Sprintf("about %d bytes", next)) && strings.Contains(lines[0], "400")) {
			t.Errorf("the warning is not at Warn with the size and the status: %s", lines[0])
		}
	}
	// A request whose Cookie line was already longer came through
	// whatever is in front: nothing there has the 8 KB limit.
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	b.vals["analytics"] = strings.Repeat("a", cookieMax)
	f.serve(b, store(1000))
	if lines := f.log.lines(warning); len(lines) != 0 {
		t.Errorf("a request that carried a longer Cookie line was logged: %s", lines[0])
	}

	// A session whose Set-Cookie lines take under 1 KB is not looked at:
	// one that passes the limit with the jar's help goes unlogged.
	f = newFixture(t, cookiesession.Options{})
	b = newClientCookies()
	b.vals["analytics"] = strings.Repeat("a", cookieMax-len("Cookie: analytics=")-100)
	f.serve(b, store(10))
	if next := cookieLine(b); next <= cookieMax {
		t.Fatalf("the next Cookie line takes %d bytes, want over %d", next, cookieMax)
	}
	if lines := f.log.lines(warning); len(lines) != 0 {
		t.Errorf("a session under 1 KB was logged: %s", lines[0])
	}

	// Once per Manager for each limit, with or without the middleware:
	// each of these responses passes both.
	f = newFixture(t, cookiesession.Options{MaxChunks: 4})
	for range 3 {
		f.serve(newClientCookies(), store(8000))
	}
	s, _ := f.m.Load(httptest.NewRequest("GET", "/", nil))
	mustSet(t, s, "note", strings.Repeat("x", 8000))
	if err := f.m.SaveHeader(http.Header{}, s); err != nil {
		t.Fatal(err)
	}
	if lines := f.log.lines(warning); len(lines) != 2 {
		t.Errorf("%d warnings from one Manager, want 2, one for each limit; log:\n%s", len(lines), f.log)
	}
	f = newFixture(t, cookiesession.Options{MaxChunks: 4})
	s, _ = f.m.Load(httptest.NewRequest("GET", "/", nil))
	mustSet(t, s, "note", strings.Repeat("x", 8000))
	if err := f.m.SaveHeader(http.Header{}, s); err != nil {
		t.Fatal(err)
	}
	if lines := f.log.lines(warning); len(lines) != 1 {
		t.Errorf("SaveHeader without a request: %d warnings, want 1; log:\n%s", len(lines), f.log)
	}
}

// TestHeaderSizeWarnsEachLimit: a session that grows from two cookies to
// three passes the response limit first, and the Cookie line limit only
// later. That second one, the limit an API Gateway HTTP API also has
// (10,240 bytes of request head), went unlogged, since the first warning
// used up the Manager's only one: each limit is now logged once.
func TestHeaderSizeWarnsEachLimit(t *testing.T) {
	const warning = "pass a header limit of a proxy"
	f := newFixture(t, cookiesession.Options{MaxChunks: 3})
	b := newClientCookies()
	for _, n := range []int{5000, 5000, 9000, 9000} {
		f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			mustSet(t, sessionOf(t, r), "note", strings.Repeat("x", n))
			mustSet(t, sessionOf(t, r), "n", n+len(b.vals)) // a change on each request
		})
	}
	lines := f.log.lines(warning)
	if len(lines) != 2 || !strings.Contains(lines[0], "502") || !strings.Contains(lines[1], "400") {
		t.Fatalf("%d warnings, want the response's (502) then the Cookie line's (400); log:\n%s", len(lines), f.log)
	}
}

// TestCrossSiteSetWarns checks that a cookie of SameSite Lax, Strict or
// unset set in answer to a cross-site request that is not a top-level
// navigation (a fetch from a frontend on another site, an iframe), which
// browsers refuse to store, is logged once at Warn, as is a SameSite None
// one there that is not Partitioned, which Safari blocks as a
// third-party cookie; and that what they store is not: a top-level
// navigation's, a same-site request's, a SameSite None and Partitioned
// one's. Partitioned alone does not lift Lax or Strict.
func TestCrossSiteSetWarns(t *testing.T) {
	login := func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "ada") }
	for _, tc := range []struct {
		sameSite         http.SameSite
		partitioned      bool
		site, mode, dest string
		warn             string
	}{
		{http.SameSiteLaxMode, false, "cross-site", "cors", "empty", "browsers store no cookie of its SameSite"},
		{http.SameSiteDefaultMode, false, "cross-site", "cors", "empty", "browsers store no cookie of its SameSite"},
		{http.SameSiteStrictMode, false, "cross-site", "cors", "empty", "browsers store no cookie of its SameSite"},
		{http.SameSiteLaxMode, false, "cross-site", "navigate", "iframe", "browsers store no cookie of its SameSite"},
		// Partitioned does not lift Lax or Strict; the fix names both.
		{http.SameSiteLaxMode, true, "cross-site", "navigate", "iframe", "browsers store no cookie of its SameSite"},
		{http.SameSiteDefaultMode, true, "cross-site", "cors", "empty", "SameSite None and Partitioned"},
		{http.SameSiteStrictMode, false, "cross-site", "no-cors", "image", "SameSite None and Partitioned"},
		{http.SameSiteLaxMode, false, "cross-site", "websocket", "websocket", "browsers store no cookie of its SameSite"},
		{http.SameSiteLaxMode, false, "cross-site", "navigate", "document", ""},
		{http.SameSiteStrictMode, false, "cross-site", "navigate", "document", ""},
		{http.SameSiteLaxMode, false, "same-site", "cors", "empty", ""},
		{http.SameSiteLaxMode, false, "same-origin", "cors", "empty", ""},
		{http.SameSiteLaxMode, false, "", "", "", ""},
		{http.SameSiteLaxMode, false, "cross-site", "", "", ""},           // not a browser's
		{http.SameSiteLaxMode, false, "cross-site", "navigate", "", ""},   // a Chrome before 80
		{http.SameSiteLaxMode, false, "none", "navigate", "document", ""}, // typed in the address bar
		// A SameSite None cookie there is a third-party cookie, which
		// Safari and Chrome's private windows block unless Partitioned.
		{http.SameSiteNoneMode, false, "cross-site", "cors", "empty", "set Options.Partitioned"},
		{http.SameSiteNoneMode, false, "cross-site", "navigate", "iframe", "set Options.Partitioned"},
		{http.SameSiteNoneMode, true, "cross-site", "navigate", "iframe", ""},
		{http.SameSiteNoneMode, true, "cross-site", "cors", "empty", ""},
		{http.SameSiteNoneMode, false, "cross-site", "navigate", "document", ""},
	} {
		f := newFixture(t, cookiesession.Options{SameSite: tc.sameSite, Partitioned: tc.partitioned})
		for range 2 {
			req := httptest.NewRequest("POST", "https://api.example.com/login", nil)
			for key, v := range map[string]string{"Sec-Fetch-Site": tc.site, "Sec-Fetch-Mode": tc.mode, "Sec-Fetch-Dest": tc.dest} {
				if v != "" {
					req.Header.Set(key, v)
				}
			}
			rec := httptest.NewRecorder()
			f.m.Handler(http.HandlerFunc(login)).ServeHTTP(rec, req)
			if len(rec.Result().Cookies()) == 0 {
				t.Fatalf("SameSite %d, %s %s/%s: no cookie set", tc.sameSite, tc.site, tc.mode, tc.dest)
			}
		}
		warns := f.log.lines("a cross-site request that is not a top-level navigation")
		if len(warns) != map[bool]int{true: 1}[tc.warn != ""] {
			t.Errorf("SameSite %d (partitioned %v), %s %s/%s: %d Warn lines, want %q; log:\n%s", tc.sameSite, tc.partitioned, tc.site, tc.mode, tc.dest, len(warns), tc.warn, f.log)
		}
		if tc.warn != "" && len(warns) == 1 && !strings.Contains(warns[0], tc.warn) {
			t.Errorf("SameSite %d, %s %s/%s: the warning does not say %q: %s", tc.sameSite, tc.site, tc.mode, tc.dest, tc.warn, warns[0])
		}
	}
}

// TestCrossOriginSetWarns checks that a cookie set in answer to a fetch
// from another origin of the site (Sec-Fetch-Site same-site, Mode cors),
// or from another site under SameSite None, whose CORS answer does not
// allow credentials for the page's Origin is logged once at Warn: without
// credentials browsers store no cookie from it, with them they refuse the
// answer (TestCrossOriginFetch in e2e/). A same-origin page, a navigation
// (a link, a form post, an iframe), an image, a WebSocket, a client that
// sends no Sec-Fetch-* headers, and a fetch whose answer allows
// credentials are not logged; a cross-site one under Lax is
// warnCrossSiteSet's.
func TestCrossOriginSetWarns(t *testing.T) {
	const page = "https://app.example.com"
	const both = "if the fetch sent none"
	const credentialed = "browsers keep the cookie but refuse the answer"
	for _, tc := range []struct {
		name          string
		sameSite      http.SameSite
		site, mode    string
		request, cors map[string]string // more request headers; the response's CORS headers
		warn          string
	}{
		{"no CORS", 0, "same-site", "cors", nil, nil, both},
		{"origin alone", 0, "same-site", "cors", nil, map[string]string{"Access-Control-Allow-Origin": page}, both},
		{"wildcard", 0, "same-site", "cors", nil, map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"}, both},
		{"other origin", 0, "same-site", "cors", nil, map[string]string{"Access-Control-Allow-Origin": "https://www.example.com", "Access-Control-Allow-Credentials": "true"}, both},
		{"origin with a slash", 0, "same-site", "cors", nil, map[string]string{"Access-Control-Allow-Origin": page + "/", "Access-Control-Allow-Credentials": "true"}, both},
		{"True", 0, "same-site", "cors", nil, map[string]string{"Access-Control-Allow-Origin": page, "Access-Control-Allow-Credentials": "True"}, both},
		{"credentials alone", 0, "same-site", "cors", nil, map[string]string{"Access-Control-Allow-Credentials": "true"}, both},
		{"with a cookie", 0, "same-site", "cors", map[string]string{"Cookie": "theme=dark"}, map[string]string{"Access-Control-Allow-Origin": page}, credentialed},
		{"other site, None", http.SameSiteNoneMode, "cross-site", "cors", nil, map[string]string{"Access-Control-Allow-Origin": page}, both},
		{"allowed", 0, "same-site", "cors", nil, map[string]string{"Access-Control-Allow-Origin": page, "Access-Control-Allow-Credentials": "true"}, ""},
		{"allowed, spaced", 0, "same-site", "cors", nil, map[string]string{"Access-Control-Allow-Origin": " " + page + "\t", "Access-Control-Allow-Credentials": " true"}, ""},
		{"allowed, keys in lower case", 0, "same-site", "cors", nil, map[string]string{"access-control-allow-origin": page, "access-control-allow-credentials": "true"}, ""},
		{"allowed, with a cookie", 0, "same-site", "cors", map[string]string{"Cookie": "session=x"}, map[string]string{"Access-Control-Allow-Origin": page, "Access-Control-Allow-Credentials": "true"}, ""},
		{"other site, None, allowed", http.SameSiteNoneMode, "cross-site", "cors", nil, map[string]string{"Access-Control-Allow-Origin": page, "Access-Control-Allow-Credentials": "true"}, ""},
		{"same origin", 0, "same-origin", "cors", nil, nil, ""},
		{"form post", 0, "same-site", "navigate", nil, nil, ""},
		{"image", 0, "same-site", "no-cors", nil, nil, ""},
		{"websocket", 0, "same-site", "websocket", nil, nil, ""},
		{"not a browser", 0, "", "", nil, nil, ""},
		{"no Origin", 0, "same-site", "cors", map[string]string{"Origin": ""}, nil, ""},
		{"other site, Lax", http.SameSiteLaxMode, "cross-site", "cors", nil, nil, ""}, // warnCrossSiteSet's
		{"typed in the address bar", 0, "none", "navigate", nil, nil, ""},
	} {
		f := newFixture(t, cookiesession.Options{SameSite: tc.sameSite, Partitioned: tc.sameSite == http.SameSiteNoneMode})
		login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for key, v := range tc.cors {
				w.Header()[key] = []string{v}
			}
			mustSet(t, sessionOf(t, r), "user", "ada")
		})
		for range 2 {
			req := httptest.NewRequest("POST", "https://api.example.com/login", nil)
			headers := map[string]string{"Sec-Fetch-Site": tc.site, "Sec-Fetch-Mode": tc.mode, "Sec-Fetch-Dest": "empty", "Origin": page}
			if tc.site == "" {
				headers = map[string]string{}
			}
			maps.Copy(headers, tc.request)
			for key, v := range headers {
				if v != "" {
					req.Header.Set(key, v)
				}
			}
			rec := httptest.NewRecorder()
			f.m.Handler(login).ServeHTTP(rec, req)
			if len(rec.Result().Cookies()) == 0 {
				t.Fatalf("%s: no cookie set", tc.name)
			}
		}
		warns := f.log.lines("a page of another origin")
		if len(warns) != map[bool]int{true: 1}[tc.warn != ""] {
			t.Errorf("%s: %d Warn lines, want %q; log:\n%s", tc.name, len(warns), tc.warn, f.log)
			continue
		}
		if tc.warn != "" && (!strings.Contains(warns[0], tc.warn) || !strings.Contains(warns[0], `origin=https://app.example.com`) ||
			!strings.Contains(warns[0], `credentials: \"include\"`) || !strings.Contains(warns[0], "Access-Control-Allow-Credentials: true")) {
			t.Errorf("%s: the warning does not say %q, the page's origin and the fix: %s", tc.name, tc.warn, warns[0])
		}
	}
}

// TestCrossOriginSetWarnsFromSave checks that Save, without the
// middleware, logs a cookie for a fetch from another origin as the
// middleware does, reading the CORS answer already in w's header, and
// does not log one whose answer allows credentials.
func TestCrossOriginSetWarnsFromSave(t *testing.T) {
	for _, allowed := range []bool{false, true} {
		f := newFixture(t, cookiesession.Options{})
		req := httptest.NewRequest("POST", "https://api.example.com/login", nil)
		req.Header.Set("Sec-Fetch-Site", "same-site")
		req.Header.Set("Sec-Fetch-Mode", "cors")
		req.Header.Set("Origin", "https://app.example.com")
		rec := httptest.NewRecorder()
		rec.Header().Set("Access-Control-Allow-Origin", "https://app.example.com")
		if allowed {
			rec.Header().Set("Access-Control-Allow-Credentials", "true")
		}
		s, _ := f.m.Load(req)
		mustSet(t, s, "user", "ada")
		if err := f.m.Save(rec, req, s); err != nil {
			t.Fatal(err)
		}
		if n, want := len(f.log.lines("a page of another origin")), map[bool]int{false: 1}[allowed]; n != want {
			t.Errorf("credentials allowed %v: %d Warn lines, want %d; log:\n%s", allowed, n, want, f.log)
		}
	}
}

// TestCrossSiteWarnsOnNavigationsOnly: browsers withhold a Lax or Strict
// cookie from a cross-site subresource (an image, a script, a fetch, an
// iframe) by design, and a page of another site that embeds one of the
// app's URLs behind a handler that reads the session is ordinary. Only a
// top-level navigation the cookie's SameSite withholds it from (a
// form_post callback) is logged.
func TestCrossSiteWarnsOnNavigationsOnly(t *testing.T) {
	read := func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).GetString("user")
	}
	for _, tc := range []struct {
		sameSite   http.SameSite
		method     string
		mode, dest string
		warn       bool
	}{
		{http.SameSiteLaxMode, "GET", "no-cors", "image", false},
		{http.SameSiteLaxMode, "GET", "cors", "empty", false},
		{http.SameSiteLaxMode, "POST", "cors", "empty", false},
		{http.SameSiteDefaultMode, "GET", "no-cors", "script", false},
		{http.SameSiteLaxMode, "GET", "navigate", "iframe", false},
		{http.SameSiteStrictMode, "GET", "no-cors", "image", false},
		{http.SameSiteLaxMode, "GET", "navigate", "document", false},
		{http.SameSiteLaxMode, "POST", "navigate", "document", true},
		{http.SameSiteDefaultMode, "POST", "navigate", "document", true},
		{http.SameSiteStrictMode, "GET", "navigate", "document", true},
	} {
		f := newFixture(t, cookiesession.Options{SameSite: tc.sameSite})
		req := httptest.NewRequest(tc.method, "https://example.com/", nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Sec-Fetch-Mode", tc.mode)
		req.Header.Set("Sec-Fetch-Dest", tc.dest)
		f.m.Handler(http.HandlerFunc(read)).ServeHTTP(httptest.NewRecorder(), req)
		if got := len(f.log.lines("a cross-site request read the session")); got != map[bool]int{true: 1}[tc.warn] {
			t.Errorf("SameSite %d, %s %s/%s: %d Warn lines, want warn %v; log:\n%s", tc.sameSite, tc.method, tc.mode, tc.dest, got, tc.warn, f.log)
		}
	}
}

// TestReadAfterCommitWarns checks that a session first read after its
// response went out is logged, once, with the fix: that response carries
// no Vary: Cookie, and a shared cache keyed on the URL serves it to every
// user (TestSharedCaches in e2e/ shows nginx do it). A read after the
// whole body, an access log's, is logged too: the Manager cannot tell it
// from the others. A read before the response, a handler that never reads,
// a read after a read, and a panic's recovery are not logged.
func TestReadAfterCommitWarns(t *testing.T) {
	const msg = "session first read once its response had gone out"
	user := func(r *http.Request) string { return cookiesession.FromContext(r.Context()).GetString("user") }
	for _, tc := range []struct {
		what string
		h    http.HandlerFunc
		warn bool
	}{
		{"read after WriteHeader", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK); io.WriteString(w, user(r)) }, true},
		{"read after Write", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "user: "); io.WriteString(w, user(r)) }, true},
		{"read before writing", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, user(r)) }, false},
		{"read before and after", func(w http.ResponseWriter, r *http.Request) { user(r); w.WriteHeader(http.StatusOK); user(r) }, false},
		{"never read", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "static") }, false},
		{"read after the body (an access log)", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "static"); user(r) }, true},
	} {
		f := newFixture(t, cookiesession.Options{})
		token := loginToken(t, f, "alice")
		for range 2 {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/", nil)
			req.AddCookie(&http.Cookie{Name: "session", Value: token})
			f.m.Handler(tc.h).ServeHTTP(rec, req)
			if body := rec.Body.String(); tc.warn && (body != "alice" && body != "user: alice" && body != "static" || rec.Header().Get("Vary") != "") {
				t.Errorf("%s: body %q, Vary %q; want the page without Vary", tc.what, rec.Body, rec.Header().Get("Vary"))
			}
		}
		lines := f.log.lines(msg)
		if want := map[bool]int{true: 1}[tc.warn]; len(lines) != want || want == 1 && !(strings.Contains(lines[0], "level=WARN") && strings.Contains(lines[0], "fix=")) {
			t.Errorf("%s: %d warnings, want %d; log:\n%s", tc.what, len(lines), want, f.log)
		}
		// An access log that moved its read before the handler would add
		// Vary: Cookie to every page, static ones too: the fix says to
		// leave it.
		if len(lines) == 1 && !strings.Contains(lines[0], "(an access log's) shows nothing to the client and is harmless") {
			t.Errorf("%s: the fix does not say an access log's read is harmless: %s", tc.what, lines[0])
		}
	}

	// A change after the body, not a read, is logged as a change only,
	// and the Manager's one read-late line is left for a read.
	f := newFixture(t, cookiesession.Options{})
	for i, h := range []http.HandlerFunc{
		func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "page")
			mustSet(t, cookiesession.FromContext(r.Context()), "seen", true)
		},
		func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "user: "); io.WriteString(w, user(r)) },
	} {
		f.m.Handler(h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		changed, read := f.log.lines("session changed after the response was committed"), f.log.lines(msg)
		if len(changed) != 1 || len(read) != i {
			t.Errorf("request %d: %d change lines, %d read-late lines; want 1, %d; log:\n%s", i, len(changed), len(read), i, f.log)
		}
	}

	// A panic: the recovery outside the middleware reads the session
	// before its 500 goes out.
	f = newFixture(t, cookiesession.Options{})
	var s *cookiesession.Session
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s = cookiesession.FromContext(r.Context())
		panic("boom")
	}))
	func() {
		defer func() { recover(); s.GetString("user") }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	if lines := f.log.lines(msg); len(lines) != 0 {
		t.Errorf("a read in a panic's recovery was logged: %q", lines)
	}
}

// TestReadAfterRequestEndedNotLogged checks that a session first read once
// its request is over, by a goroutine the handler started or by a handler
// that an http.TimeoutHandler inside the middleware has answered for with
// its 503, is not logged as read late: nothing it reads reaches a client,
// or a cache. It runs under a server, which ends the request's context
// when the handler returns; TestReadAfterCommitWarns has the reads that
// are logged.
func TestReadAfterRequestEndedNotLogged(t *testing.T) {
	for _, tc := range []struct {
		what   string
		status int
		inner  func(h http.Handler) http.Handler
	}{
		{"goroutine", http.StatusOK, func(h http.Handler) http.Handler { return h }},
		{"TimeoutHandler", http.StatusServiceUnavailable, func(h http.Handler) http.Handler { return http.TimeoutHandler(h, time.Millisecond, "slow") }},
	} {
		f := newFixture(t, cookiesession.Options{})
		token := loginToken(t, f, "alice")
		ended := make(chan context.Context, 1) // the request's context, outside the TimeoutHandler
		read := make(chan string, 1)
		mw := f.m.Handler(tc.inner(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			ctx := <-ended
			go func() { <-ctx.Done(); read <- s.GetString("user") }()
			if tc.status == http.StatusServiceUnavailable {
				<-ctx.Done() // long after the timeout
				return
			}
			io.WriteString(w, "page")
		})))
		srv := newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ended <- r.Context()
			mw.ServeHTTP(w, r)
		}))
		req, err := http.NewRequest("GET", srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(&http.Cookie{Name: "session", Value: token})
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var user string
		finishes(t, tc.what, func() { user = <-read })
		if resp.StatusCode != tc.status || user != "alice" {
			t.Errorf("%s: status %d, user %q read after it; want %d, alice", tc.what, resp.StatusCode, user, tc.status)
		}
		if lines := f.log.lines("session first read once its response had gone out"); len(lines) != 0 {
			t.Errorf("%s: a read once the request was over was logged: %q", tc.what, lines)
		}
	}
}

// hookWriter runs hook on the header map as the status is written, under
// the Manager's writer, as echo's Response runs the Before hooks that a
// middleware before echo's session middleware registered.
type hookWriter struct {
	http.ResponseWriter
	hook  func(http.Header)
	wrote bool
}

func (w *hookWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.hook(w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *hookWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// TestLateCacheFieldsWarn checks that a Cache-Control or Vary replaced
// once the session was committed, by a hook under the middleware that
// runs as the status is written, is logged at Warn, once, with what was
// lost and the fix: such a response may be kept by a shared cache, with
// the user's cookie or page. A hook that adds to Vary, keeps the cookie's
// response private, or runs on a response whose session was not used is
// not logged, nor is a handler's change after writing, which net/http
// does not send.
func TestLateCacheFieldsWarn(t *testing.T) {
	const warning = "Cache-Control or Vary was replaced after the session was committed"
	public := func(h http.Header) { h.Set("Cache-Control", "public, max-age=60") }
	store := func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "user", "ada")
		io.WriteString(w, "ok")
	}
	read := func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+sessionOf(t, r).GetString("user"))
	}
	for _, tc := range []struct {
		name    string
		hook    func(http.Header)
		handler http.HandlerFunc
		lost    string
	}{
		{"public over a new cookie", public, store, "Cache-Control: no-store"},
		{"Vary replaced on a read", func(h http.Header) { public(h); h.Set("Vary", "Accept-Encoding") }, read, "Vary: Cookie"},
		{"set after the body", nil, func(w http.ResponseWriter, r *http.Request) {
			store(w, r)
			public(w.Header())
		}, ""},
		{"Vary added to", func(h http.Header) { h.Add("Vary", "Accept-Encoding") }, read, ""},
		{"private kept", func(h http.Header) { h.Set("Cache-Control", "private, max-age=60") }, store, ""},
		{"session not used", public, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }, ""},
	} {
		f := newFixture(t, cookiesession.Options{})
		app := f.m.Handler(tc.handler)
		serve := func() {
			var h http.Handler = app
			if tc.hook != nil {
				h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					app.ServeHTTP(&hookWriter{ResponseWriter: w, hook: tc.hook}, r)
				})
			}
			h.ServeHTTP(httptest.NewRecorder(), newClientCookies().request("/"))
		}
		serve()
		serve()
		lines := f.log.lines(warning)
		if tc.lost == "" {
			if len(lines) != 0 {
				t.Errorf("%s: logged %q", tc.name, lines)
			}
			continue
		}
		if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "lost=\""+tc.lost+"\"") || !strings.Contains(lines[0], "fix=") {
			t.Errorf("%s: want one Warn of %s lost, with the fix; log:\n%s", tc.name, tc.lost, f.log)
		}
	}
}

// TestSharedStoreWarns checks what goes out for a response whose handler
// read the session and wrote no cookie, under a field that lets a shared
// cache store it, and that the first such response of a call site and
// route is logged at Warn with the field, its value, the route, the CDNs
// that ignore Vary: Cookie and the fix. The fields go out as the handler
// set them, with Vary: Cookie: a cache that honours Vary keeps one copy
// per Cookie line. A field barred by a bare private or no-store in any of
// its lines, under any case of its key, is not logged; nor is a response
// that never used the session, or one that sets the cookie, whose fields
// become no-store.
func TestSharedStoreWarns(t *testing.T) {
	const warning = "may be stored by a shared cache, with only Vary: Cookie"
	type field struct{ key, value string }
	for _, tc := range []struct {
		name   string
		fields []field
		field  string // the field logged, or "" for no line
	}{
		{"public", []field{{"Cache-Control", "public, max-age=600"}}, "Cache-Control"},
		{"s-maxage", []field{{"Cache-Control", "s-maxage=60"}}, "Cache-Control"},
		{"max-age alone", []field{{"Cache-Control", "max-age=60"}}, "Cache-Control"},
		{"quoted max-age", []field{{"Cache-Control", `max-age="60"`}}, "Cache-Control"},
		{"public on a line of its own", []field{{"Cache-Control", "must-revalidate"}, {"Cache-Control", "public"}}, "Cache-Control"},
		{"under another key case", []field{{"cache-control", "public, max-age=600"}}, "cache-control"},
		{"qualified private", []field{{"Cache-Control", `public, max-age=60, private="Set-Cookie"`}}, "Cache-Control"},
		{"private inside a quoted string", []field{{"Cache-Control", `no-cache="Foo, private", max-age=60`}}, "Cache-Control"},
		{"CDN-Cache-Control over private", []field{{"Cache-Control", "private"}, {"CDN-Cache-Control", "max-age=600"}}, "CDN-Cache-Control"},
		{"Cloudflare-CDN-Cache-Control", []field{{"Cloudflare-CDN-Cache-Control", "max-age=86400"}}, "Cloudflare-CDN-Cache-Control"},
		{"Surrogate-Control", []field{{"Surrogate-Control", "max-age=3600"}}, "Surrogate-Control"},
		{"Cache-Control beside a no-store CDN field", []field{{"Cache-Control", "public, max-age=60"}, {"CDN-Cache-Control", "no-store"}}, "Cache-Control"},
		{"private", []field{{"Cache-Control", "private, max-age=60"}}, ""},
		{"no-store", []field{{"Cache-Control", "no-store"}}, ""},
		{"private on another line", []field{{"Cache-Control", "public, max-age=60"}, {"Cache-Control", "private"}}, ""},
		{"private under another key case", []field{{"Cache-Control", "public, max-age=60"}, {"cache-control", "PRIVATE"}}, ""},
		{"max-age=0", []field{{"Cache-Control", "max-age=0, s-maxage=0"}}, ""},
		{"max-age not a number", []field{{"Cache-Control", "max-age=soon"}}, ""},
		{"public, max-age=0 (Netlify's and Vercel's default)", []field{{"Cache-Control", "public, max-age=0, must-revalidate"}}, ""},
		{"no-cache beside max-age", []field{{"Cache-Control", "public, max-age=600, no-cache"}}, ""},
		{"no-cache on another line", []field{{"Cache-Control", "public"}, {"cache-control", "No-Cache"}}, ""},
		{"s-maxage=0 over max-age", []field{{"Cache-Control", "public, max-age=600, s-maxage=0"}}, ""},
		{"s-maxage over max-age=0", []field{{"Cache-Control", "max-age=0, s-maxage=60"}}, "Cache-Control"},
		{"must-revalidate while fresh", []field{{"Cache-Control", "public, max-age=600, must-revalidate"}}, "Cache-Control"},
		{"qualified no-cache", []field{{"Cache-Control", `max-age=60, no-cache="Set-Cookie"`}}, "Cache-Control"},
		{"CDN-Cache-Control no-cache", []field{{"CDN-Cache-Control", "max-age=600, no-cache"}}, ""},
		{"no field", nil, ""},
		{"a field no cache reads", []field{{"X-Cdn-Cache-Controls", "max-age=60"}}, ""},
	} {
		f := newFixture(t, cookiesession.Options{})
		token := loginToken(t, f, "alice")
		h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, fd := range tc.fields {
				w.Header()[fd.key] = append(w.Header()[fd.key], fd.value)
			}
			io.WriteString(w, "Hi "+cookiesession.FromContext(r.Context()).GetString("user"))
		}))
		for range 2 {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/", nil)
			req.AddCookie(&http.Cookie{Name: "session", Value: token})
			h.ServeHTTP(rec, req)
			for _, fd := range tc.fields {
				if got := rec.Header()[fd.key]; !slices.Contains(got, fd.value) {
					t.Errorf("%s: %s %q went out as %q", tc.name, fd.key, fd.value, got)
				}
			}
			if rec.Body.String() != "Hi alice" || rec.Header().Get("Vary") != "Cookie" || rec.Header()["Set-Cookie"] != nil {
				t.Errorf("%s: body %q, Vary %q, Set-Cookie %q; want alice's page, Vary: Cookie, no cookie", tc.name, rec.Body, rec.Header().Get("Vary"), rec.Header()["Set-Cookie"])
			}
		}
		lines := f.log.lines(warning)
		if tc.field == "" {
			if len(lines) != 0 {
				t.Errorf("%s: logged %q", tc.name, lines)
			}
			continue
		}
		if len(lines) != 1 {
			t.Errorf("%s: %d lines, want 1; log:\n%s", tc.name, len(lines), f.log)
			continue
		}
		for _, want := range []string{"level=WARN", "field=" + tc.field, "Cloudflare", "CloudFront", "Akamai", "caller=\"github.com/seed-ff2808ae/cookiesession_test.TestSharedStoreWarns", "fix=", "Cache-Control: private", `cookie \"session\"`} {
			if !strings.Contains(lines[0], want) {
				t.Errorf("%s: the line lacks %q: %s", tc.name, want, lines[0])
			}
		}
	}
}

// TestSharedStoreOncePerRoute checks that the shared-cache line is logged
// once per call site and route: one handler's line serving two routes of
// a ServeMux is logged for each, with its pattern, and not again; a
// response that never used the session, or that sets its cookie (whose
// Cache-Control becomes no-store), is not logged.
func TestSharedStoreOncePerRoute(t *testing.T) {
	const warning = "may be stored by a shared cache, with only Vary: Cookie"
	f := newFixture(t, cookiesession.Options{})
	token := loginToken(t, f, "alice")
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, s-maxage=300")
		s := cookiesession.FromContext(r.Context())
		switch r.URL.Query().Get("do") {
		case "read":
			_ = s.GetString("user")
		case "set":
			mustSet(t, s, "seen", true)
		}
		io.WriteString(w, "page")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /a", page)
	mux.HandleFunc("GET /b/{id}", page)
	h := f.m.Handler(mux)
	get := func(target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", target, nil)
		req.AddCookie(&http.Cookie{Name: "session", Value: token})
		h.ServeHTTP(rec, req)
		return rec
	}
	get("/a?do=none")
	if rec := get("/a?do=set"); rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("a response that sets the cookie: Cache-Control %q, want no-store", rec.Header().Get("Cache-Control"))
	}
	if lines := f.log.lines(warning); len(lines) != 0 {
		t.Fatalf("logged without a read that wrote no cookie: %q", lines)
	}
	for _, target := range []string{"/a?do=read", "/b/1?do=read", "/a?do=read", "/b/2?do=read"} {
		get(target)
	}
	lines := f.log.lines(warning)
	if len(lines) != 2 || !strings.Contains(lines[0], `route="GET /a"`) || !strings.Contains(lines[1], `route="GET /b/{id}"`) {
		t.Errorf("want one line for each route; log:\n%s", f.log)
	}
}

// TestSharedStoreStackedManagers checks the shared-cache line under
// stacked Managers: a response that the outer Manager's cookie makes
// no-store is not logged by the inner one, which commits first and wrote
// none, whether the handler writes the status, the body or flushes; a
// response neither writes a cookie for is logged by the Manager whose
// session was read.
func TestSharedStoreStackedManagers(t *testing.T) {
	const warning = "may be stored by a shared cache, with only Vary: Cookie"
	for _, tc := range []struct {
		name       string
		write      func(w http.ResponseWriter)
		outerSets  bool
		wantLogged bool
	}{
		{"the outer sets, the body", func(w http.ResponseWriter) { io.WriteString(w, "page") }, true, false},
		{"the outer sets, the status", func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }, true, false},
		{"the outer sets, a flush", func(w http.ResponseWriter) { http.NewResponseController(w).Flush() }, true, false},
		{"both read", func(w http.ResponseWriter) { io.WriteString(w, "page") }, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			token := loginToken(t, f, "alice")
			prefs := f.manager(cookiesession.Options{Name: "prefs"})
			inner := prefs.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "public, max-age=600")
				_ = prefs.FromContext(r.Context()).GetString("theme")
				if s := f.m.FromContext(r.Context()); tc.outerSets {
					mustSet(t, s, "seen", true)
				} else {
					_ = s.GetString("user")
				}
				tc.write(w)
			}))
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/", nil)
			req.AddCookie(&http.Cookie{Name: "session", Value: token})
			f.m.Handler(inner).ServeHTTP(rec, req)
			if got := rec.Header().Get("Cache-Control"); tc.outerSets != (got == "no-store") {
				t.Fatalf("Cache-Control %q", got)
			}
			lines := f.log.lines(warning)
			if !tc.wantLogged {
				if len(lines) != 0 {
					t.Errorf("logged a response that went out no-store: %q", lines)
				}
				return
			}
			joined := strings.Join(lines, "\n")
			if len(lines) != 2 || !strings.Contains(joined, `cookie \"prefs\"`) || !strings.Contains(joined, `cookie \"session\"`) {
				t.Errorf("want one line for each Manager; log:\n%s", f.log)
			}
		})
	}
}

// TestSharedStoreCachedMethodsOnly checks that the shared-cache line is
// logged for a GET or a HEAD, the methods shared caches store, and not
// for a POST, PUT, PATCH or DELETE under the same Cache-Control (a global
// middleware's), whose responses no CDN serves again.
func TestSharedStoreCachedMethodsOnly(t *testing.T) {
	const warning = "may be stored by a shared cache, with only Vary: Cookie"
	for _, method := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
		f := newFixture(t, cookiesession.Options{})
		token := loginToken(t, f, "alice")
		h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=600")
			io.WriteString(w, "Hi "+cookiesession.FromContext(r.Context()).GetString("user"))
		}))
		req := httptest.NewRequest(method, "/", nil)
		req.AddCookie(&http.Cookie{Name: "session", Value: token})
		h.ServeHTTP(httptest.NewRecorder(), req)
		want := map[bool]int{true: 1}[method == "GET" || method == "HEAD"]
		if lines := f.log.lines(warning); len(lines) != want {
			t.Errorf("%s: %d lines, want %d; log:\n%s", method, len(lines), want, f.log)
		}
	}
}

// TestDefaultLoggerFollowsSetDefault checks that a Manager built without
// a Logger before the program's slog.SetDefault (a Manager in a
// package-level variable, a logger set up later in main) logs through the
// handler set there, at each line's own level. The slog.Default() taken at
// New handed its lines to that handler through package log, all at Info,
// and a handler set to Warn dropped every warning without a word.
func TestDefaultLoggerFollowsSetDefault(t *testing.T) {
	m, err := cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := defaultLogsAt(t, slog.LevelWarn)

	s, _ := m.Load(httptest.NewRequest(http.MethodGet, "https://example.com/", nil))
	mustSet(t, s, "user", "ada")
	_ = s.GetInt("user") // a string read as a number: logged at Warn
	if want := `level=WARN msg="cookiesession: Session.GetInt found`; !strings.Contains(logs.String(), want) {
		t.Errorf("a Warn after slog.SetDefault: logged %q, want a line with %q", logs.String(), want)
	}
}

// TestManagerLogger checks that Manager.Logger, which adapters log
// through, is Options.Logger, and with none set follows a slog.SetDefault
// made after New, at the new default's level, as the Manager's own lines do.
func TestManagerLogger(t *testing.T) {
	own := slog.New(slog.DiscardHandler)
	m, err := cookiesession.New(newRing(), cookiesession.Options{Logger: own})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Logger(); got != own {
		t.Errorf("Logger() = %p, want Options.Logger %p", got, own)
	}

	m, err = cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := defaultLogsAt(t, slog.LevelWarn)
	m.Logger().Info("cookiesession: below the level")
	m.Logger().Warn("cookiesession: at the level")
	if got, want := logs.String(), `level=WARN msg="cookiesession: at the level"`; !strings.Contains(got, want) || strings.Contains(got, "below the level") {
		t.Errorf("Logger() after slog.SetDefault logged %q, want only a line with %q", got, want)
	}
}

// TestManagerLoggerWithFollowsDefault: a logger derived from
// Manager.Logger with With or WithGroup before a slog.SetDefault (an
// adapter's, made at init) follows the default set later, as Logger's
// own lines do, keeping its attributes and groups.
func TestManagerLoggerWithFollowsDefault(t *testing.T) {
	m, err := cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	derived := m.Logger().With("adapter", "x").WithGroup("g").With("k", 1)
	logs := defaultLogsAt(t, slog.LevelWarn)
	derived.Info("cookiesession: below the level")
	derived.Warn("cookiesession: at the level", "n", 2)
	if got, want := logs.String(), `level=WARN msg="cookiesession: at the level" adapter=x g.k=1 g.n=2`; !strings.Contains(got, want) || strings.Contains(got, "below the level") {
		t.Errorf("Logger().With after slog.SetDefault logged %q, want only a line with %q", got, want)
	}
}
