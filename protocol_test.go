package cookiesession_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// protocolApp counts each request in the session, then answers it in one
// of the ways whose protocol edges the tests below check.
func protocolApp(t *testing.T, m *cookiesession.Manager) http.Handler {
	modified := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "n", s.GetInt("n")+1)
		switch r.URL.Path {
		case "/login":
			if err := m.Save(w, r, s); err != nil {
				t.Error(err)
			}
			http.Redirect(w, r, "/", http.StatusSeeOther)
		case "/visit":
			fmt.Fprintf(w, "n=%d big=%d", s.GetInt("n"), len(s.GetString("big")))
		case "/file":
			w.Header().Set("Etag", `"v1"`)
			http.ServeContent(w, r, "a.txt", modified, strings.NewReader("0123456789"))
		case "/upload":
			if err := m.Save(w, r, s); err != nil { // in the header map before the 100 Continue
				t.Error(err)
			}
			n, err := io.Copy(io.Discard, r.Body)
			fmt.Fprintf(w, "read %d %v", n, err)
		case "/limited":
			r.Body = http.MaxBytesReader(w, r.Body, 1024)
			if _, err := io.ReadAll(r.Body); err != nil {
				http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			}
		case "/trailer":
			w.Header().Set("Trailer", "X-Sum")
			_, _ = io.WriteString(w, "body")
			w.Header().Set("X-Sum", "42")
			w.Header().Set(http.TrailerPrefix+"X-Late", "1")
		case "/error":
			http.Error(w, "bad", http.StatusBadRequest)
		case "/big":
			mustSet(t, s, "big", strings.Repeat("x", 9000))
		case "/hints":
			w.Header().Set("Link", "</a.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			_, _ = io.WriteString(w, "final")
		case "/abort":
			panic(http.ErrAbortHandler)
		case "/logout":
			s.Destroy()
			http.Redirect(w, r, "/", http.StatusFound)
		}
	}))
}

// TestProtocolEdges serves protocolApp over HTTP/1.1 and HTTP/2 with TLS,
// and over h2c, to a client with a cookie jar that follows no redirect.
// Each answer carries the cookie, Vary: Cookie and no-store, and the jar
// counts every request: a 303 after Save, HEAD, a 304 and a 206 from
// http.ServeContent, an upload with Expect: 100-continue (the 100 came),
// the 413 of a body past http.MaxBytesReader, a response with trailers
// (none of them ours), http.Error, a session over three cookies (many
// Set-Cookie lines through HPACK) read back, and a 302 after Destroy that
// empties the jar.
func TestProtocolEdges(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxChunks: 4})
	app := protocolApp(t, f.m)
	type server struct {
		proto string
		url   string
		c     *http.Client
	}
	var servers []server
	for _, h2 := range []bool{false, true} {
		srv := startTLS(t, app, h2)
		c := srv.client(t)
		c.Transport.(*http.Transport).ExpectContinueTimeout = time.Minute // wait for the 100
		servers = append(servers, server{map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[h2], srv.URL, c})
	}
	// h2c is plain HTTP to 127.0.0.1, where Go 1.25's cookiejar never sends
	// a Secure cookie back: a Manager on the same ring without Secure, as
	// README's "Testing your handlers" says.
	srv, c := newH2CServer(t, protocolApp(t, f.manager(cookiesession.Options{MaxChunks: 4, DisableSecure: true})))
	c.Transport.(*http.Transport).ExpectContinueTimeout = time.Minute
	servers = append(servers, server{"HTTP/2.0", srv.URL, c})
	tests := []struct {
		method, path, header, value string
		status                      int
		body                        string
		trailer                     http.Header
	}{
		{"GET", "/login", "", "", http.StatusSeeOther, "<a href=\"/\">See Other</a>.\n\n", nil},
		{"HEAD", "/visit", "", "", http.StatusOK, "", nil},
		{"GET", "/file", "If-None-Match", `"v1"`, http.StatusNotModified, "", nil},
		{"GET", "/file", "Range", "bytes=2-5", http.StatusPartialContent, "2345", nil},
		{"POST", "/upload", "Expect", "100-continue", http.StatusOK, "read 65536 <nil>", nil},
		{"POST", "/limited", "", "", http.StatusRequestEntityTooLarge, "http: request body too large\n", nil},
		{"GET", "/trailer", "", "", http.StatusOK, "body", http.Header{"X-Sum": {"42"}, "X-Late": {"1"}}},
		{"GET", "/error", "", "", http.StatusBadRequest, "bad\n", nil},
		{"GET", "/big", "", "", http.StatusOK, "", nil},
		{"GET", "/visit", "", "", http.StatusOK, "n=10 big=9000", nil},
		{"POST", "/logout", "", "", http.StatusFound, "", nil},
	}
	for _, s := range servers {
		s.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		for i, tt := range tests {
			what := fmt.Sprintf("%s %s %s %s: %s", s.url[:strings.Index(s.url, ":")], s.proto, tt.method, tt.path, tt.value)
			resp, body, continued := protocolDo(t, s.c, tt.method, s.url+tt.path, tt.header, tt.value)
			if resp.Proto != s.proto || resp.StatusCode != tt.status || body != tt.body {
				t.Fatalf("%s: %s %d %q, want %s %d %q", what, resp.Proto, resp.StatusCode, body, s.proto, tt.status, tt.body)
			}
			if tt.header == "Expect" && !continued {
				t.Errorf("%s: no 100 Continue came", what)
			}
			if !maps.EqualFunc(resp.Trailer, tt.trailer, func(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }) {
				t.Errorf("%s: trailers %v, want %v", what, resp.Trailer, tt.trailer)
			}
			if len(resp.Header.Values("Set-Cookie")) == 0 || resp.Header.Get("Vary") != "Cookie" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Set-Cookie %q, Vary %q, Cache-Control %q; want the cookie, Cookie, no-store", what,
					resp.Header.Values("Set-Cookie"), resp.Header.Values("Vary"), resp.Header.Values("Cache-Control"))
			}
			u, _ := url.Parse(s.url)
			token := ""
			for _, name := range f.m.CookieNames() {
				for _, ck := range s.c.Jar.Cookies(u) {
					if ck.Name == name {
						token += ck.Value
					}
				}
			}
			if tt.path == "/logout" {
				if token != "" {
					t.Errorf("%s: after Destroy the jar holds %v", what, s.c.Jar.Cookies(u))
				}
				continue
			}
			rec := f.open(token)
			if n, _ := rec.Values.Get("n"); n != i+1 {
				t.Errorf("%s: the jar's session counts %v requests, want %d", what, n, i+1)
			}
		}
	}
}

// protocolDo sends one request of protocolApp's, with a 64 KiB body for a
// POST, and returns the response, its body read and closed, and whether a
// 100 Continue came before it.
func protocolDo(t *testing.T, c *http.Client, method, target, header, value string) (*http.Response, string, bool) {
	t.Helper()
	continued := false
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{Got100Continue: func() { continued = true }})
	var body io.Reader
	if method == http.MethodPost {
		body = bytes.NewReader(make([]byte, 1<<16))
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		req.Header.Set(header, value)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body) // the trailers come at its end
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(got), continued
}

// TestRawHTTP1Edges sends protocolApp requests over raw TCP, where the
// bytes on the wire show what a client library hides: HTTP/1.0 with and
// without a Host, HEAD, Connection: close, a 103 Early Hints, which an
// HTTP/1.0 client must not get (RFC 9110, section 15.2; net/http sends
// it, and nginx, which proxies with HTTP/1.0 by default, takes it for the
// final answer), and a panic with http.ErrAbortHandler after a change,
// which sends nothing at all.
func TestRawHTTP1Edges(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	srv := httptest.NewServer(protocolApp(t, f.m))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	tests := []struct {
		request, status string
		has             []string // lines the head holds
		body            string
	}{
		{"GET /visit HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK", []string{"Content-Length: 9"}, "n=1 big=0"},
		{"HEAD /visit HTTP/1.0\r\nHost: localhost\r\n\r\n", "HTTP/1.0 200 OK", []string{"Content-Length: 9"}, ""},
		{"GET /visit HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", "HTTP/1.1 200 OK", []string{"Connection: close"}, "n=1 big=0"},
		{"GET /hints HTTP/1.0\r\nHost: localhost\r\n\r\n", "HTTP/1.0 200 OK", []string{"Link: </a.css>; rel=preload"}, "final"},
		{"GET /hints HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", "HTTP/1.1 103 Early Hints", []string{"Link: </a.css>; rel=preload", "HTTP/1.1 200 OK"}, "final"},
	}
	for _, tt := range tests {
		got := rawHTTP(t, addr, tt.request)
		head, body, _ := strings.Cut(got, "\r\n\r\n")
		if tt.status == "HTTP/1.1 103 Early Hints" {
			var final string
			final, body, _ = strings.Cut(body, "\r\n\r\n")
			head += "\r\n" + final
		}
		lines := strings.Split(head, "\r\n")
		if lines[0] != tt.status || body != tt.body || strings.Count(head, "Set-Cookie: session=") != 1 {
			t.Errorf("%q: got\n%s\nwant %s, one session cookie and body %q", tt.request, got, tt.status, tt.body)
		}
		for _, line := range tt.has {
			if !strings.Contains(head, "\r\n"+line+"\r\n") && !strings.HasSuffix(head, "\r\n"+line) {
				t.Errorf("%q: no %q in\n%s", tt.request, line, head)
			}
		}
	}
	if got := rawHTTP(t, addr, "GET /abort HTTP/1.1\r\nHost: localhost\r\n\r\n"); got != "" {
		t.Errorf("ErrAbortHandler: the client got %q", got)
	}
}

// TestContinueCarriesNoCookie checks, over raw TCP, that the 100 Continue
// net/http sends when the handler reads a body after a Save carries
// nothing of the session's, and the final answer its cookie.
func TestContinueCarriesNoCookie(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	srv := httptest.NewServer(protocolApp(t, f.m))
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err = io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 65536\r\nConnection: close\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	interim := make([]byte, len("HTTP/1.1 100 Continue\r\n\r\n"))
	if _, err := io.ReadFull(br, interim); err != nil || string(interim) != "HTTP/1.1 100 Continue\r\n\r\n" {
		t.Fatalf("interim response %q (%v), want a bare 100 Continue", interim, err)
	}
	if _, err := conn.Write(make([]byte, 1<<16)); err != nil {
		t.Fatal(err)
	}
	final, err := io.ReadAll(br)
	if err != nil || !strings.HasPrefix(string(final), "HTTP/1.1 200 OK\r\n") || strings.Count(string(final), "Set-Cookie: session=") != 1 ||
		!strings.HasSuffix(string(final), "read 65536 <nil>") {
		t.Errorf("final response (%v):\n%s", err, final)
	}
}

// TestClientGoneMidResponse checks a client that closes the connection
// while the handler streams its answer: the cookie went with the head,
// and a change the handler makes once its Write has failed is logged as
// not saved.
func TestClientGoneMidResponse(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	done := make(chan error, 1)
	srv := httptest.NewServer(f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "user", "ada")
		chunk := make([]byte, 16<<10)
		for range 4096 { // 64 MiB at most
			if _, err := w.Write(chunk); err != nil {
				done <- s.Set("after", err.Error())
				return
			}
		}
		done <- fmt.Errorf("64 MiB written to a closed connection")
	})))
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	head, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || head != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("first line %q (%v)", head, err)
	}
	conn.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler's writes did not fail after the client left")
	}
	if len(f.log.lines("changed after the response was committed")) != 1 {
		t.Errorf("the change after the client left was not logged:\n%s", f.log)
	}
}
