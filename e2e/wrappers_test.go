package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/NYTimes/gziphandler"
	coder "github.com/coder/websocket"
	"github.com/felixge/httpsnoop"
	"github.com/gorilla/handlers"
	gorilla "github.com/gorilla/websocket"
	"github.com/klauspost/compress/gzhttp"
	"github.com/seed-ff2808ae/cookiesession"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// net/http middleware from the field that wraps the ResponseWriter or
// rewrites the request, outside Manager.Handler (lib(sessions.Handler(app)))
// and inside it (sessions.Handler(lib(app))), over TLS on 127.0.0.1 to a
// client with a cookie jar: what each flow's response carries is what
// reaches a client.

// wrapStack is one way to put a library beside the middleware.
type wrapStack struct {
	name  string
	build func(m *cookiesession.Manager, app http.Handler) http.Handler
	// panicStatus is what answers the app's panic: a recoverer's 500, or
	// 0 where nothing recovers it; panicCookie, whether that answer
	// carries the change the handler made before it panicked: it does
	// when the middleware commits the answer, as with a recoverer inside
	// it (README, "Panics and recoverers"), and not when the panic
	// unwinds through the middleware.
	panicStatus int
	panicCookie bool
	// noDeadline: the library's writer has no Unwrap (nor a
	// SetWriteDeadline of its own), so http.ResponseController's
	// SetWriteDeadline returns http.ErrNotSupported through it, on either
	// side of the middleware: outside it, the Manager's writer unwraps to
	// the library's, which ends the chain.
	noDeadline bool
}

// wrapStacks puts each library outside and inside the middleware, and
// gorilla's RecoveryHandler outside with its CompressHandler inside.
func wrapStacks() []wrapStack {
	quiet := handlers.RecoveryLogger(quietRecovery{})
	libs := []struct {
		name        string
		wrap        func(http.Handler) http.Handler
		panicStatus int
		noDeadline  bool
	}{
		{"otelhttp", func(h http.Handler) http.Handler { return otelhttp.NewHandler(h, "app") }, 0, false},
		{"gorilla-compress", handlers.CompressHandler, 0, false},
		{"gzhttp-compress", gzhttpAll, 0, false},
		{"gziphandler-compress", gziphandlerAll, 0, true},
		{"gorilla-combinedlog", func(h http.Handler) http.Handler { return handlers.CombinedLoggingHandler(io.Discard, h) }, 0, false},
		{"gorilla-recovery", handlers.RecoveryHandler(quiet), http.StatusInternalServerError, false},
		{"gorilla-proxyheaders", handlers.ProxyHeaders, 0, false},
		{"httpsnoop", snoopMetrics, 0, false},
	}
	var stacks []wrapStack
	for _, lib := range libs {
		stacks = append(stacks,
			wrapStack{lib.name + "/outside", func(m *cookiesession.Manager, app http.Handler) http.Handler {
				return lib.wrap(m.Handler(app))
			}, lib.panicStatus, false, lib.noDeadline},
			wrapStack{lib.name + "/inside", func(m *cookiesession.Manager, app http.Handler) http.Handler {
				return m.Handler(lib.wrap(app))
			}, lib.panicStatus, true, lib.noDeadline})
	}
	// CompressHandler's deferred Close writes its gzip stream through the
	// middleware as the panic unwinds through it, before RecoveryHandler
	// recovers: the client gets a 200 with an empty body and the
	// handler's change, and RecoveryHandler's 500 is superfluous (net/http
	// logs it). README says to keep compressors outside the recoverer.
	return append(stacks, wrapStack{"gorilla-recovery-outside+compress-inside", func(m *cookiesession.Manager, app http.Handler) http.Handler {
		return handlers.RecoveryHandler(quiet)(m.Handler(handlers.CompressHandler(app)))
	}, http.StatusOK, true, false})
}

// gzhttpAll is klauspost's gzhttp compressing every body, however short,
// as gorilla's CompressHandler does (its default skips bodies under 1 KB).
func gzhttpAll(h http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(0))
	if err != nil {
		panic(err)
	}
	return wrap(h)
}

// gziphandlerAll is NYTimes' gziphandler compressing every body, however
// short, as gzhttpAll does (its default skips bodies under 1400 bytes).
func gziphandlerAll(h http.Handler) http.Handler {
	wrap, err := gziphandler.GzipHandlerWithOpts(gziphandler.MinSize(0))
	if err != nil {
		panic(err)
	}
	return wrap(h)
}

// quietRecovery keeps RecoveryHandler's log of the panic out of the test's
// output.
type quietRecovery struct{}

func (quietRecovery) Println(...any) {}

// snoopMetrics wraps the writer with httpsnoop's hooks the way metrics
// libraries do: it records the first status and counts the bytes, and
// passes every call on.
func snoopMetrics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, written := 0, int64(0)
		w = httpsnoop.Wrap(w, httpsnoop.Hooks{
			WriteHeader: func(next httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
				return func(code int) {
					if status == 0 {
						status = code
					}
					next(code)
				}
			},
			Write: func(next httpsnoop.WriteFunc) httpsnoop.WriteFunc {
				return func(p []byte) (int, error) {
					n, err := next(p)
					written += int64(n)
					return n, err
				}
			},
			ReadFrom: func(next httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc {
				return func(src io.Reader) (int64, error) {
					n, err := next(src)
					written += n
					return n, err
				}
			},
		})
		h.ServeHTTP(w, r)
	})
}

// wrapApp is the app behind a stack: every flow stores its own user, so
// /whoami tells which change reached the client.
type wrapApp struct {
	sessions *cookiesession.Manager
	log      syncLog
	file     string    // served by /file
	proceed  chan bool // the client read the first event
}

// fileTime is the served file's modification time.
var fileTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newWrapApp(t *testing.T, opts cookiesession.Options) *wrapApp {
	t.Helper()
	ring, err := cookiesession.NewKeyRing(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	a := &wrapApp{proceed: make(chan bool, 1), file: filepath.Join(t.TempDir(), "report.txt")}
	opts.Logger = slog.New(slog.NewTextHandler(&a.log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if a.sessions, err = cookiesession.New(ring, opts); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.file, []byte(strings.Repeat("report line\n", 2000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(a.file, fileTime, fileTime); err != nil {
		t.Fatal(err)
	}
	return a
}

func (a *wrapApp) mux() http.Handler {
	mux := http.NewServeMux()
	set := func(r *http.Request, user string) *cookiesession.Session {
		s := cookiesession.FromContext(r.Context())
		_ = s.Set("user", user)
		return s
	}
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		set(r, "alice")
		fmt.Fprint(w, "welcome")
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, cookiesession.FromContext(r.Context()).GetString("user"))
	})
	mux.HandleFunc("POST /late", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "body first;")
		s := set(r, "mallory")
		fmt.Fprintf(w, " save=%v", a.sessions.Save(w, r, s))
	})
	mux.HandleFunc("POST /events", a.events)
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		set(r, "file-"+r.Method)
		f, err := os.Open(a.file)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		http.ServeContent(w, r, "report.txt", fileTime, f) // *os.File: the ReadFrom path
	})
	mux.HandleFunc("POST /panic", func(w http.ResponseWriter, r *http.Request) {
		set(r, "mallory")
		panic("payment failed")
	})
	mux.HandleFunc("GET /ws/{lib}", a.socket)
	return mux
}

// events sends two server-sent events: it stores carol, then flushes the
// first through http.ResponseController and waits until the client has
// read it; the second says what Flush and SetWriteDeadline returned.
func (a *wrapApp) events(w http.ResponseWriter, r *http.Request) {
	set := cookiesession.FromContext(r.Context()).Set("user", "carol")
	w.Header().Set("Content-Type", "text/event-stream")
	rc := http.NewResponseController(w)
	deadline := rc.SetWriteDeadline(time.Now().Add(time.Minute))
	fmt.Fprint(w, "data: one\n\n")
	flush := rc.Flush()
	reached := "reached"
	select {
	case <-a.proceed:
	case <-time.After(10 * time.Second):
		reached = "not reached"
	}
	fmt.Fprintf(w, "data: set=%v flush=%v deadline=%v %s\n\n", set, flush, deadline, reached)
}

// socket stores heidi and upgrades: "gorilla" with README's recipe (Save,
// then pass the lines to Upgrade), "coder" with coder/websocket's Accept.
func (a *wrapApp) socket(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	_ = s.Set("user", "heidi")
	if r.PathValue("lib") == "coder" {
		conn, err := coder.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		_ = conn.Write(r.Context(), coder.MessageText, []byte("hello"))
		_, _, _ = conn.Read(r.Context())
		return
	}
	if err := a.sessions.Save(w, r, s); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	conn, err := (&gorilla.Upgrader{}).Upgrade(w, r, http.Header{"Set-Cookie": w.Header()["Set-Cookie"]})
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.WriteMessage(gorilla.TextMessage, []byte("hello"))
	_, _, _ = conn.ReadMessage()
}

// wrapClient is a browser-like client of one server: a cookie jar, and
// gzip asked for and decoded by the transport.
type wrapClient struct {
	srv  *httptest.Server
	http *http.Client
}

func newWrapClient(t *testing.T, srv *httptest.Server) *wrapClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *srv.Client()
	c.Jar = jar
	c.Timeout = 30 * time.Second
	return &wrapClient{srv, &c}
}

// do sends a request and returns the response with its body read.
func (c *wrapClient) do(t *testing.T, method, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, c.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp, string(body)
}

// whoami returns the user the server reads from the jar's cookie.
func (c *wrapClient) whoami(t *testing.T) string {
	t.Helper()
	_, body := c.do(t, http.MethodGet, "/whoami", nil)
	return body
}

// sessionLines counts the Set-Cookie lines for the session's cookie.
func sessionLines(resp *http.Response) int {
	n := 0
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			n++
		}
	}
	return n
}

// checkResponse asserts resp's status and how many session cookies it
// sets (one, or none), and what the server then reads from the jar.
func checkResponse(t *testing.T, c *wrapClient, resp *http.Response, status, lines int, user string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s %s: status %d, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status)
	}
	if n := sessionLines(resp); n != lines {
		t.Errorf("%s %s: %d session cookies (Set-Cookie %q), want %d", resp.Request.Method, resp.Request.URL.Path, n, resp.Header.Values("Set-Cookie"), lines)
	}
	if got := c.whoami(t); got != user {
		t.Errorf("after %s %s the server reads user %q, want %q", resp.Request.Method, resp.Request.URL.Path, got, user)
	}
}

// checkLog asserts that the log at Warn holds want, or is empty.
func checkLog(t *testing.T, a *wrapApp, want string) {
	t.Helper()
	log := a.log.reset()
	if want == "" && log != "" || want != "" && !strings.Contains(log, want) {
		t.Errorf("log, want %q (nothing if empty):\n%s", want, log)
	}
}

// TestWrappersFromTheField runs each flow through each stack.
func TestWrappersFromTheField(t *testing.T) {
	for _, stack := range wrapStacks() {
		t.Run(stack.name, func(t *testing.T) {
			a := newWrapApp(t, cookiesession.Options{})
			srv := httptest.NewUnstartedServer(stack.build(a.sessions, a.mux()))
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // RecoveryHandler's superfluous 500 after CompressHandler's 200
			srv.StartTLS()
			defer srv.Close()
			login := func(t *testing.T) *wrapClient {
				t.Helper()
				c := newWrapClient(t, srv)
				resp, body := c.do(t, http.MethodPost, "/login", nil)
				if compressed := strings.Contains(stack.name, "compress"); body != "welcome" || resp.Uncompressed != compressed {
					t.Errorf("login body %q, gzip decoded %t, want %t", body, resp.Uncompressed, compressed)
				}
				checkResponse(t, c, resp, http.StatusOK, 1, "alice")
				return c
			}
			t.Run("login", func(t *testing.T) {
				login(t)
				checkLog(t, a, "")
			})
			t.Run("change after the body", func(t *testing.T) {
				c := login(t)
				resp, body := c.do(t, http.MethodPost, "/late", nil)
				if want := "body first; save=" + cookiesession.ErrHeadersWritten.Error(); body != want {
					t.Errorf("body %q, want %q", body, want)
				}
				checkResponse(t, c, resp, http.StatusOK, 0, "alice")
				checkLog(t, a, lateWarn)
			})
			t.Run("flush", func(t *testing.T) {
				c := newWrapClient(t, srv)
				wrapEvents(t, a, c, stack.noDeadline)
				checkLog(t, a, "")
			})
			t.Run("file", func(t *testing.T) {
				c := newWrapClient(t, srv)
				resp, body := c.do(t, http.MethodGet, "/file", nil)
				if len(body) != 2000*len("report line\n") {
					t.Errorf("GET /file: %d bytes of body", len(body))
				}
				checkResponse(t, c, resp, http.StatusOK, 1, "file-GET")
				resp, body = c.do(t, http.MethodHead, "/file", nil)
				if body != "" {
					t.Errorf("HEAD /file: %d bytes of body", len(body))
				}
				checkResponse(t, c, resp, http.StatusOK, 1, "file-HEAD")
				resp, _ = c.do(t, http.MethodGet, "/file", http.Header{"If-Modified-Since": {fileTime.Format(http.TimeFormat)}})
				checkResponse(t, c, resp, http.StatusNotModified, 1, "file-GET")
				checkLog(t, a, "")
			})
			t.Run("websocket", func(t *testing.T) {
				for _, lib := range []string{"gorilla", "coder"} {
					resp := wrapDial(t, srv, lib)
					if resp.StatusCode != http.StatusSwitchingProtocols || sessionLines(resp) != 1 {
						t.Errorf("%s: %s with Set-Cookie %q, want 101 with the session's", lib, resp.Status, resp.Header.Values("Set-Cookie"))
					}
				}
				checkLog(t, a, "")
			})
			if stack.panicStatus == 0 {
				return
			}
			t.Run("panic", func(t *testing.T) {
				c := login(t)
				resp, _ := c.do(t, http.MethodPost, "/panic", nil)
				if stack.panicCookie {
					checkResponse(t, c, resp, stack.panicStatus, 1, "mallory")
				} else {
					checkResponse(t, c, resp, stack.panicStatus, 0, "alice")
				}
				checkLog(t, a, "")
			})
		})
	}
}

// wrapEvents reads /events: the session's cookie comes with the headers
// at the first flush, which reaches the client while the handler waits.
// SetWriteDeadline succeeds, or returns http.ErrNotSupported where
// noDeadline says the stack's writer cannot reach the connection.
func wrapEvents(t *testing.T, a *wrapApp, c *wrapClient, noDeadline bool) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, c.srv.URL+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := bufio.NewReader(resp.Body)
	if got := readEvent(t, events); got != "data: one" {
		t.Errorf("first event %q", got)
	}
	a.proceed <- true
	deadline := error(nil)
	if noDeadline {
		deadline = http.ErrNotSupported
	}
	if got, want := readEvent(t, events), fmt.Sprintf("data: set=<nil> flush=<nil> deadline=%v reached", deadline); got != want {
		t.Errorf("second event %q, want %q", got, want)
	}
	checkResponse(t, c, resp, http.StatusOK, 1, "carol")
}

// wrapDial opens /ws/lib and returns the 101 response.
func wrapDial(t *testing.T, srv *httptest.Server, lib string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	target := "wss" + strings.TrimPrefix(srv.URL, "https") + "/ws/" + lib
	dialer := gorilla.Dialer{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig}
	conn, resp, err := dialer.DialContext(ctx, target, nil)
	if err != nil {
		t.Fatalf("dialing %s: %v", target, err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != "hello" {
		t.Errorf("%s: message %q, %v", lib, msg, err)
	}
	_ = conn.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return resp
}

// The Manager's warnings of a cookie browsers drop.
const (
	plainWarn  = "a Secure cookie answers a plain-HTTP request"
	domainWarn = "the cookie's Domain does not match the request's host"
)

// TestProxyHeadersBehindTLS puts a TLS front (httputil.ReverseProxy) on
// https://app.example.com before a plain-HTTP backend on 127.0.0.1 whose
// Manager sets Domain=example.com, with gorilla's ProxyHeaders outside the
// middleware, inside it, or not at all. ProxyHeaders rewrites r.Host,
// r.URL.Scheme and r.RemoteAddr from what the front sends; the Manager's
// plain-HTTP and Domain warnings must say the same in every order: nothing
// where the front says how the browser reached it, and both where it says
// nothing, though the cookie reaches the client either way.
func TestProxyHeadersBehindTLS(t *testing.T) {
	fronts := []struct {
		name    string
		forward func(*httputil.ProxyRequest)
		warn    []string // for every order
	}{
		{"X-Forwarded-For, -Host, -Proto", (*httputil.ProxyRequest).SetXForwarded, nil},
		{"Forwarded", func(pr *httputil.ProxyRequest) {
			pr.Out.Header.Set("Forwarded", `for=127.0.0.1;host=app.example.com;proto=https`)
		}, nil},
		{"X-Forwarded-Host, -Scheme", func(pr *httputil.ProxyRequest) {
			pr.Out.Header.Set("X-Forwarded-Host", pr.In.Host)
			pr.Out.Header.Set("X-Forwarded-Scheme", "https")
		}, nil},
		// The browser's host, and not that it came over TLS.
		{"X-Forwarded-Host", func(pr *httputil.ProxyRequest) { pr.Out.Header.Set("X-Forwarded-Host", pr.In.Host) }, []string{plainWarn}},
		// Not even the host: on loopback, the plain-HTTP warning is left
		// to WebKit's User-Agent.
		{"nothing", func(*httputil.ProxyRequest) {}, []string{domainWarn}},
	}
	orders := map[string]func(m *cookiesession.Manager, app http.Handler) http.Handler{
		"without": func(m *cookiesession.Manager, app http.Handler) http.Handler { return m.Handler(app) },
		"outside": func(m *cookiesession.Manager, app http.Handler) http.Handler {
			return handlers.ProxyHeaders(m.Handler(app))
		},
		"inside": func(m *cookiesession.Manager, app http.Handler) http.Handler {
			return m.Handler(handlers.ProxyHeaders(app))
		},
	}
	for _, front := range fronts {
		for order, build := range orders {
			t.Run(front.name+"/ProxyHeaders "+order, func(t *testing.T) {
				a := newWrapApp(t, cookiesession.Options{Domain: "example.com"})
				backend := httptest.NewServer(build(a.sessions, a.mux()))
				defer backend.Close()
				target, err := url.Parse(backend.URL)
				if err != nil {
					t.Fatal(err)
				}
				proxy := httptest.NewTLSServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
					pr.SetURL(target)
					front.forward(pr)
				}})
				defer proxy.Close()
				c := newWrapClient(t, proxy)
				// The browser's host is app.example.com, which the test
				// certificate names; it dials the front on 127.0.0.1.
				tr := c.http.Transport.(*http.Transport).Clone()
				tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, proxy.Listener.Addr().String())
				}
				c.http.Transport = tr
				_, port, _ := net.SplitHostPort(proxy.Listener.Addr().String())
				c.srv = &httptest.Server{URL: "https://app.example.com:" + port}
				resp, _ := c.do(t, http.MethodPost, "/login", nil)
				checkResponse(t, c, resp, http.StatusOK, 1, "alice")
				log := a.log.reset()
				for _, warn := range []string{plainWarn, domainWarn} {
					if want := slices.Contains(front.warn, warn); strings.Contains(log, warn) != want {
						t.Errorf("logged %q: %t, want %t; log:\n%s", warn, !want, want, log)
					}
				}
			})
		}
	}
}
