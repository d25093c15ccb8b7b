package cookiesession_test

// The middleware's ResponseWriter among the writers and handlers of
// net/http: optional interfaces it must pass on, and writers on either
// side of it.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// pushWriter is an HTTP/2 ResponseWriter as far as push goes: it records
// the targets it is asked to push.
type pushWriter struct {
	*httptest.ResponseRecorder
	pushed []string
}

func (w *pushWriter) Push(target string, _ *http.PushOptions) error {
	w.pushed = append(w.pushed, target)
	return nil
}

// TestPushPassesThrough checks that the wrapper does not hide http.Pusher,
// which http.ResponseController cannot reach: a handler's
// w.(http.Pusher) check would fail and the push be skipped without a word.
func TestPushPassesThrough(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	var pushErr error
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := w.(http.Pusher)
		if !ok {
			t.Fatal("the middleware's writer is not an http.Pusher")
		}
		pushErr = p.Push("/style.css", nil)
		mustSet(t, sessionOf(t, r), "user", "pusher")
	}))
	w := &pushWriter{ResponseRecorder: httptest.NewRecorder()}
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if pushErr != nil || len(w.pushed) != 1 || w.pushed[0] != "/style.css" {
		t.Errorf("Push: %v, pushed %q; want /style.css pushed", pushErr, w.pushed)
	}
	if ourCookies(t, w.Result().Header, "session")["session"] == nil {
		t.Error("no session cookie after a push")
	}
	// A writer that cannot push says so, as an HTTP/1 connection does.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if !errors.Is(pushErr, http.ErrNotSupported) {
		t.Errorf("Push over a writer that cannot push: %v, want http.ErrNotSupported", pushErr)
	}
}

// statusRecorder is a logging middleware's writer: no Flush, no Unwrap.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// TestFlushNothingToFlushLogged checks that a Flush the writer under the
// middleware cannot do is logged once: the wrapper is an http.Flusher
// whatever it wraps, so a streaming handler's w.(http.Flusher) check
// passes, and http.Flusher has no error to return.
func TestFlushNothingToFlushLogged(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "user", "stream")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "event")
		w.(http.Flusher).Flush()
	}))
	for range 2 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(&statusRecorder{ResponseWriter: rec}, httptest.NewRequest(http.MethodGet, "/events", nil))
		if ourCookies(t, rec.Result().Header, "session")["session"] == nil {
			t.Error("no session cookie")
		}
	}
	warns := f.log.lines("Flush did nothing")
	if len(warns) != 1 || !strings.Contains(warns[0], "level=WARN") || !strings.Contains(warns[0], "statusRecorder") {
		t.Errorf("want one warning naming the writer, got:\n%s", f.log)
	}
	// A writer that flushes logs nothing.
	g := newFixture(t, cookiesession.Options{})
	g.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if log := g.log.String(); log != "" {
		t.Errorf("a Flush that flushed logged:\n%s", log)
	}
}

// TestFlushThroughWrapperWithoutFlush checks README's "Wrappers": a writer
// wrapper with neither Flush nor Unwrap (statusRecorder) leaves nothing to
// flush on either side of the middleware. ResponseController's Flush
// returns http.ErrNotSupported, nothing is flushed, and the cookie goes out
// with the first write.
func TestFlushThroughWrapperWithoutFlush(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	stream := func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "user", "ada")
		if err := http.NewResponseController(w).Flush(); !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("%T: ResponseController.Flush = %v, want http.ErrNotSupported", w, err)
		}
		_, _ = io.WriteString(w, "event")
	}
	inside := func(w http.ResponseWriter, r *http.Request) { stream(&statusRecorder{ResponseWriter: w}, r) }
	for name, serve := range map[string]func(*httptest.ResponseRecorder, *http.Request){
		"outside": func(rec *httptest.ResponseRecorder, r *http.Request) {
			f.m.Handler(http.HandlerFunc(stream)).ServeHTTP(&statusRecorder{ResponseWriter: rec}, r)
		},
		"inside": func(rec *httptest.ResponseRecorder, r *http.Request) {
			f.m.Handler(http.HandlerFunc(inside)).ServeHTTP(rec, r)
		},
	} {
		rec := httptest.NewRecorder()
		serve(rec, httptest.NewRequest(http.MethodGet, "https://example.com/events", nil))
		// Result holds the header as it stood at the first write.
		if rec.Flushed || rec.Body.String() != "event" || ourCookies(t, rec.Result().Header, "session")["session"] == nil {
			t.Errorf("statusRecorder %s the middleware: flushed %v, body %q, Set-Cookie %q; want no flush, the body and the cookie",
				name, rec.Flushed, rec.Body, rec.Result().Header.Values("Set-Cookie"))
		}
	}
}

// TestSuperfluousWriteHeaderNamesHandler checks that a handler's second
// status, a 1xx after the final one included, is reported as net/http
// reports it, naming the handler's call, not the middleware's wrapper:
// the mistake is the handler's.
func TestSuperfluousWriteHeaderNamesHandler(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("/twice", func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "user", "twice")
		w.WriteHeader(http.StatusCreated)
		w.WriteHeader(http.StatusAccepted) // superfluous: the mistake to report
	})
	mux.HandleFunc("/hint-after", func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "user", "hint")
		w.WriteHeader(http.StatusOK)
		w.WriteHeader(http.StatusEarlyHints) // a 1xx after the final status
	})
	mux.HandleFunc("/write-then-error", func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "user", "error")
		_, _ = io.WriteString(w, "partial")
		http.Error(w, "failed", http.StatusInternalServerError) // through net/http
	})
	var srv *tlsServer
	mux.HandleFunc("/goroutine", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		go w.WriteHeader(http.StatusTeapot) // a stack of the writer's method alone
		srv.errLog.await(t, "superfluous")
	})
	srv = newTLSServer(t, f.m.Handler(mux))
	for _, target := range []string{"/twice", "/write-then-error", "/hint-after"} {
		resp, _ := fetch(t, srv.Client(), srv.URL+target)
		if ourCookies(t, resp.Header, "session")["session"] == nil {
			t.Errorf("%s: no session cookie", target)
		}
	}
	srv.Close()
	lines := srv.errLog.lines("superfluous")
	if len(lines) != 3 {
		t.Fatalf("want three superfluous WriteHeader reports, got:\n%s", srv.errLog)
	}
	for _, line := range lines {
		if !strings.Contains(line, "TestSuperfluousWriteHeaderNamesHandler.func") || !strings.Contains(line, "writer_test.go:") {
			t.Errorf("report does not name the handler: %s", line)
		}
	}
	// With no caller to name, the report says so, rather than "from  (.:0)".
	srv = newTLSServer(t, f.m.Handler(mux))
	fetch(t, srv.Client(), srv.URL+"/goroutine")
	srv.Close()
	if lines := srv.errLog.lines("superfluous"); len(lines) != 1 || !strings.Contains(lines[0], "from no function the stack shows") {
		t.Errorf("a second status from a goroutine of the writer's method: %q", lines)
	}
}

// TestLoadAndSaveUnderMiddlewareNotForeign: a handler written for Load and
// Save, under the same Manager's middleware (installed for the whole
// router, say), sets the cookie through the Manager: that is not another
// writer of the cookie, and is not logged as one.
func TestLoadAndSaveUnderMiddlewareNotForeign(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := f.m.Load(r)
		mustSet(t, s, "user", "ada")
		if err := f.m.Save(w, r, s); err != nil {
			t.Error(err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "https://example.com/login", nil))
	if ourCookies(t, rec.Result().Header, "session")["session"] == nil {
		t.Fatalf("no session cookie: %q", rec.Result().Header["Set-Cookie"])
	}
	if warns := f.log.lines("which the Manager did not write"); len(warns) != 0 {
		t.Errorf("the Manager's own Save was logged as another writer's: %s", warns[0])
	}
}

// TestTimeoutHandlerInside checks the README's recipe: with
// http.TimeoutHandler inside the middleware, the timeout's 503 carries the
// change made before it, and a change the handler makes after it is
// logged, and its Save fails, instead of being lost without a word.
//
// The timeout is the end of the request's context, which the test brings
// about once the handler has stored its value: a real 1 ms timer could
// fire before the handler's first line ran, and the 503 carry no cookie.
// http.TimeoutHandler answers an ended context as it answers its own
// deadline.
func TestTimeoutHandlerInside(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	stored, answered, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "user", "ada")
		close(stored)
		<-r.Context().Done() // the timeout
		<-answered           // and its 503 has gone out
		mustSet(t, s, "user", "late")
		done <- f.m.Save(w, r, s)
	})
	ctx, timeout := context.WithCancel(context.Background())
	go func() { <-stored; timeout() }()
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(ctx, "GET", "https://example.com/", nil)
	f.m.Handler(http.TimeoutHandler(slow, time.Hour, "too slow")).ServeHTTP(rec, req)
	close(answered)
	if err := <-done; !errors.Is(err, cookiesession.ErrHeadersWritten) {
		t.Errorf("Save after the timeout: %v, want ErrHeadersWritten", err)
	}
	c := ourCookies(t, rec.Result().Header, "session")["session"]
	if rec.Code != http.StatusServiceUnavailable || c == nil {
		t.Fatalf("status %d, Set-Cookie %q; want the 503 with the cookie", rec.Code, rec.Result().Header["Set-Cookie"])
	}
	if user, _ := f.userIn(c.Value); user != "ada" {
		t.Errorf("the 503's cookie holds user %v, want ada", user)
	}
	// The handler wrote nothing: the fix must name the TimeoutHandler,
	// which answered for it, not only the handler's own writes.
	if warns := f.log.lines("after the response was committed"); len(warns) != 1 || !strings.Contains(warns[0], "http.TimeoutHandler") {
		t.Errorf("the change after the timeout was not logged with its fix:\n%s", f.log)
	}
}

// TestTimeoutHandlerOutsideLogged checks that a session written after an
// http.TimeoutHandler outside the middleware has answered is logged: the
// cookie goes into the header map of a response that was replaced by the
// 503, and the handler's Write, which returns http.ErrHandlerTimeout, is
// the one sign of it that the middleware sees.
func TestTimeoutHandlerOutsideLogged(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	var saveErr, writeErr error
	rec := &answerRecorder{ResponseRecorder: httptest.NewRecorder(), answered: make(chan struct{})}
	slow := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-rec.answered // the timeout's 503
		s := sessionOf(t, r)
		mustSet(t, s, "user", "ada")
		saveErr = f.m.Save(w, r, s)
		_, writeErr = io.WriteString(w, "done")
	}))
	done := make(chan struct{})
	http.TimeoutHandler(afterwards(slow, done), time.Millisecond, "too slow").ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	<-done // the handler runs on after the 503
	if rec.Code != http.StatusServiceUnavailable || len(rec.Result().Cookies()) != 0 {
		t.Fatalf("status %d, cookies %v; want the 503 alone", rec.Code, rec.Result().Cookies())
	}
	if saveErr != nil || !errors.Is(writeErr, http.ErrHandlerTimeout) {
		t.Fatalf("Save: %v, Write: %v; want nil and http.ErrHandlerTimeout", saveErr, writeErr)
	}
	warns := f.log.lines("TimeoutHandler")
	if len(warns) != 1 || !strings.Contains(warns[0], "level=WARN") || !strings.Contains(warns[0], "inside the middleware") {
		t.Errorf("want one warning with the fix, got:\n%s", f.log)
	}
	// A session that writes no cookie loses nothing, and logs nothing.
	g := newFixture(t, cookiesession.Options{})
	rec = &answerRecorder{ResponseRecorder: httptest.NewRecorder(), answered: make(chan struct{})}
	quiet := g.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-rec.answered
		_ = sessionOf(t, r).GetString("user")
		_, _ = io.WriteString(w, "done")
	}))
	done = make(chan struct{})
	http.TimeoutHandler(afterwards(quiet, done), time.Millisecond, "too slow").ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	<-done
	if log := g.log.String(); log != "" {
		t.Errorf("a timeout that lost no cookie logged:\n%s", log)
	}
}

// answerRecorder closes answered when a status is written: by
// http.TimeoutHandler, the timeout's 503, while the handler runs on.
type answerRecorder struct {
	*httptest.ResponseRecorder
	answered chan struct{}
}

func (w *answerRecorder) WriteHeader(code int) {
	w.ResponseRecorder.WriteHeader(code)
	close(w.answered)
}

// afterwards closes done when h returns.
func afterwards(h http.Handler, done chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		h.ServeHTTP(w, r)
	})
}

// TestTimeoutHandlerOutsideLoggedAtReturn checks the handlers that write
// no body after an http.TimeoutHandler outside the middleware has sent its
// 503: a POST's redirect, a handler that writes nothing, and one behind a
// wrapper with Unwrap. No Write of theirs fails, so the middleware asks
// the TimeoutHandler's writer when the handler returns; the lost cookie
// is logged once with the fix. A deadline that passed under another
// writer (a timeout middleware that answers 504 itself) is not asked:
// its 504 carries the cookie.
func TestTimeoutHandlerOutsideLoggedAtReturn(t *testing.T) {
	redirect := func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/", http.StatusSeeOther) }
	nothing := func(http.ResponseWriter, *http.Request) {}
	for name, c := range map[string]struct {
		answer  http.HandlerFunc
		wrapped bool
	}{"redirect": {redirect, false}, "nothing": {nothing, false}, "through an Unwrap": {redirect, true}} {
		f := newFixture(t, cookiesession.Options{})
		rec := &answerRecorder{ResponseRecorder: httptest.NewRecorder(), answered: make(chan struct{})}
		var h http.Handler = f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-rec.answered // the timeout's 503
			mustSet(t, sessionOf(t, r), "user", "ada")
			c.answer(w, r)
		}))
		if c.wrapped {
			h = unwrapping(h)
		}
		done := make(chan struct{})
		http.TimeoutHandler(afterwards(h, done), time.Millisecond, "too slow").ServeHTTP(rec, httptest.NewRequest("POST", "https://example.com/", nil))
		<-done
		if rec.Code != http.StatusServiceUnavailable || len(rec.Result().Cookies()) != 0 {
			t.Fatalf("%s: status %d, cookies %v; want the 503 alone", name, rec.Code, rec.Result().Cookies())
		}
		if warns := f.log.lines("TimeoutHandler"); len(warns) != 1 || !strings.Contains(warns[0], "inside the middleware") {
			t.Errorf("%s: want one warning with the fix, got:\n%s", name, f.log)
		}
	}
	// A deadline past under a writer that still answers: no probe, no log.
	f := newFixture(t, cookiesession.Options{})
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		mustSet(t, sessionOf(t, r), "user", "ada")
	}))
	rec := httptest.NewRecorder()
	answers504(h).ServeHTTP(rec, httptest.NewRequest("POST", "https://example.com/", nil))
	if rec.Code != http.StatusGatewayTimeout || len(rec.Result().Cookies()) != 1 || f.log.String() != "" {
		t.Errorf("a 504 after the deadline: status %d, cookies %v, log:\n%s", rec.Code, rec.Result().Cookies(), f.log)
	}
}

// unwrapping wraps the writer in one that has Unwrap, as logging and
// metrics middleware do.
func unwrapping(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(unwrapWriter{w}, r)
	})
}

type unwrapWriter struct{ http.ResponseWriter }

func (w unwrapWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// answers504 is a timeout middleware of chi's kind: it gives the request a
// deadline, and answers 504 itself once the handler returns past it.
func answers504(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Millisecond)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
		if ctx.Err() == context.DeadlineExceeded {
			w.WriteHeader(http.StatusGatewayTimeout)
		}
	})
}

// TestEarlyHintsCarryNoSessionCookie checks that a 103 Early Hints
// response, which net/http writes from the header map as it stands, does
// not carry the session's Set-Cookie lines that a Save put there, over
// HTTP/1.1 and HTTP/2. A client may take a cookie from a 1xx (RFC 6265):
// the line could be stale by the final response, or dropped from it (a
// session that no longer fits, a panic). The handler's other cookies go
// in the 103 as it set them, and the final response carries them all.
func TestEarlyHintsCarryNoSessionCookie(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		f := newFixture(t, cookiesession.Options{})
		h := func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			mustSet(t, s, "user", "saved")
			if err := f.m.Save(w, r, s); err != nil {
				t.Error(err)
			}
			if r.URL.Query().Has("change") {
				mustSet(t, s, "user", "changed")
			}
			http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark"})
			w.Header().Set("Link", "</style.css>; rel=preload; as=style")
			w.WriteHeader(http.StatusEarlyHints)
			_, _ = io.WriteString(w, "final")
		}
		start := newTLSServer
		if proto == "HTTP/2.0" {
			start = newH2Server
		}
		srv := start(t, f.m.Handler(http.HandlerFunc(h)))
		for query, want := range map[string]string{"": "saved", "?change": "changed"} {
			hints, resp := fetch1xx(t, srv.Client(), srv.URL+"/"+query)
			if resp.Proto != proto {
				t.Fatalf("response over %s, want %s", resp.Proto, proto)
			}
			if len(hints) != 1 || hints[0].Get("Link") == "" {
				t.Fatalf("%s %s: got 1xx headers %v, want one 103 with Link", proto, query, hints)
			}
			if got := hints[0].Values("Set-Cookie"); len(got) != 1 || !strings.HasPrefix(got[0], "theme=") {
				t.Errorf("%s %s: the 103 carries Set-Cookie %q, want the theme line alone", proto, query, got)
			}
			c := ourCookies(t, resp.Header, "session")["session"]
			if c == nil || resp.Header.Get("Set-Cookie") == "" {
				t.Fatalf("%s %s: final response lacks the session cookie: %v", proto, query, resp.Header)
			}
			if user, _ := f.userIn(c.Value); user != want || len(resp.Cookies()) != 2 {
				t.Errorf("%s %s: final response carries user %v in %q, want %s beside theme", proto, query, user, resp.Header.Values("Set-Cookie"), want)
			}
		}
	}
}

// TestEarlyHintsByProtoVersion checks which requests a handler's 103
// reaches: none that says HTTP/1.0 (RFC 9110, section 15.2), and every
// other, one built by hand with no version (ProtoMajor 0) included, as an
// adapter may build it: the writer under the middleware decides then.
func TestEarlyHintsByProtoVersion(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "user", "ada")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusOK)
	}))
	for _, tt := range []struct {
		major, minor int
		want         []int
	}{
		{1, 0, []int{200}},
		{1, 1, []int{103, 200}},
		{2, 0, []int{103, 200}},
		{3, 0, []int{103, 200}},
		{0, 0, []int{103, 200}},
	} {
		u, _ := url.Parse("https://example.com/")
		r := &http.Request{Method: "GET", URL: u, Host: u.Host, Header: http.Header{}, ProtoMajor: tt.major, ProtoMinor: tt.minor}
		w := &statusWriter{discardWriter: discardWriter{h: http.Header{}}}
		h.ServeHTTP(w, r)
		if !slices.Equal(w.codes, tt.want) || len(w.h["Set-Cookie"]) != 1 {
			t.Errorf("HTTP %d.%d: statuses %v, Set-Cookie %q; want %v and the session's cookie", tt.major, tt.minor, w.codes, w.h["Set-Cookie"], tt.want)
		}
	}
}

// TestEarlyHintsAnyKeyCase: a line for the session's cookie that the
// handler added under a non-canonical key (h["set-cookie"], which net/http
// writes as is, over HTTP/2 too) stays out of a 103 as a canonical one
// does, and the final response replaces it, which is logged.
func TestEarlyHintsAnyKeyCase(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		for _, key := range []string{"set-cookie", "Set-cookie"} {
			f := newFixture(t, cookiesession.Options{})
			h := func(w http.ResponseWriter, r *http.Request) {
				mustSet(t, sessionOf(t, r), "user", "ada")
				w.Header()[key] = []string{"session=handlers", "theme=dark"}
				w.Header().Set("Link", "</style.css>; rel=preload; as=style")
				w.WriteHeader(http.StatusEarlyHints)
				_, _ = io.WriteString(w, "final")
			}
			start := newTLSServer
			if proto == "HTTP/2.0" {
				start = newH2Server
			}
			srv := start(t, f.m.Handler(http.HandlerFunc(h)))
			hints, resp := fetch1xx(t, srv.Client(), srv.URL+"/")
			if resp.Proto != proto || len(hints) != 1 {
				t.Fatalf("%s %s: %d 1xx responses over %s, want one over %s", proto, key, len(hints), resp.Proto, proto)
			}
			if got := hints[0].Values("Set-Cookie"); !slices.Equal(got, []string{"theme=dark"}) {
				t.Errorf("%s %s: the 103 carries Set-Cookie %q, want the theme line alone", proto, key, got)
			}
			c := ourCookies(t, resp.Header, "session")["session"]
			if c == nil || len(resp.Cookies()) != 2 {
				t.Fatalf("%s %s: final Set-Cookie %q, want the session's line beside theme", proto, key, resp.Header.Values("Set-Cookie"))
			}
			if user, _ := f.userIn(c.Value); user != "ada" {
				t.Errorf("%s %s: final session cookie holds user %v, want ada", proto, key, user)
			}
			if got := f.log.lines("replaced that line"); len(got) != 1 {
				t.Errorf("%s %s: log lines about the replaced line: %q, want one", proto, key, got)
			}
		}
	}
}

// TestReverseProxyEarlyHints: httputil.ReverseProxy forwards an
// upstream's 1xx (103 Early Hints) by writing it from the header map as it
// stands and then clearing the map, so lines a Save put there before the
// proxy ran are gone by the final response. Under the middleware the 103
// carries none of the session's lines, saved or not, and the final
// response carries the session's cookie, with Vary: Cookie and no-store,
// beside the upstream's own cookie. (Without the middleware such a Save's
// cookie is lost: TestSaveByHandBeforeReverseProxy.)
func TestReverseProxyEarlyHints(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark"})
		w.Header().Set("Cache-Control", "public, max-age=600")
		_, _ = io.WriteString(w, "upstream")
	}))
	t.Cleanup(upstream.Close)
	target, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	for _, save := range []bool{false, true} {
		f := newFixture(t, cookiesession.Options{})
		srv := newTLSServer(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			mustSet(t, s, "user", "ada")
			if save {
				if err := f.m.Save(w, r, s); err != nil {
					t.Error(err)
				}
			}
			proxy.ServeHTTP(w, r)
		})))
		hints, resp := fetch1xx(t, srv.Client(), srv.URL+"/")
		if len(hints) != 1 || hints[0].Get("Link") == "" {
			t.Fatalf("save %v: got 1xx headers %v, want one 103 with Link", save, hints)
		}
		if got := hints[0].Values("Set-Cookie"); len(got) != 0 {
			t.Errorf("save %v: the 103 carries Set-Cookie %q, want none", save, got)
		}
		c := ourCookies(t, resp.Header, "session")["session"]
		if c == nil || len(resp.Cookies()) != 2 {
			t.Fatalf("save %v: final Set-Cookie %q, want the session's line beside theme", save, resp.Header.Values("Set-Cookie"))
		}
		if user, _ := f.userIn(c.Value); user != "ada" {
			t.Errorf("save %v: final session cookie holds user %v, want ada", save, user)
		}
		if cc, vary := resp.Header.Values("Cache-Control"), resp.Header.Values("Vary"); !slices.Equal(cc, []string{"no-store"}) || !slices.Contains(vary, "Cookie") {
			t.Errorf("save %v: final Cache-Control %q, Vary %q; want no-store and Cookie", save, cc, vary)
		}
		srv.checkNoSuperfluous(t)
	}
}

// TestUpgradeThroughProxyForeignCookieLogged checks that an upstream's
// Set-Cookie for the session's cookie in the 101 of a protocol switch
// through httputil.ReverseProxy is logged. The proxy hijacks, which
// commits the session, and only then copies the upstream's header into
// the header map it writes on the connection: the commit never saw that
// line, which goes out after the Manager's, so the client keeps the
// upstream's cookie in place of its session. An upstream cookie of
// another name is no concern.
func TestUpgradeThroughProxyForeignCookieLogged(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: r.URL.Query().Get("cookie"), Value: "upstream", Path: "/"})
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "echo")
		w.WriteHeader(http.StatusSwitchingProtocols)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		line, _ := brw.ReadString('\n')
		_, _ = brw.WriteString(line)
		_ = brw.Flush()
	}))
	t.Cleanup(upstream.Close)
	target, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	tests := []struct {
		cookie  string // the upstream's
		change  bool
		session string // the client's session cookie after the switch
		warn    int
		wrapped bool // a writer wrapper (an access log's) between the middleware and the proxy
	}{
		{"session", false, "upstream", 1, false},
		{"session", true, "upstream", 1, false},
		{"theme", true, "ours", 0, false},
		{"theme", true, "ours", 0, true},
	}
	for _, tt := range tests {
		f := newFixture(t, cookiesession.Options{})
		mw := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tt.change {
				mustSet(t, sessionOf(t, r), "user", "ada")
			}
			if tt.wrapped {
				w = hijackWrapper{w}
			}
			proxy.ServeHTTP(w, r)
		}))
		returned := make(chan struct{}) // a hijacked request is not waited for by Close
		srv := newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer close(returned)
			mw.ServeHTTP(w, r)
		}))
		c := srv.client(t)
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/ws?cookie="+tt.cookie, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "echo")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		conn := resp.Body.(io.ReadWriteCloser)
		_, _ = io.WriteString(conn, "hello\n")
		echo, _ := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if resp.StatusCode != http.StatusSwitchingProtocols || echo != "hello\n" {
			t.Fatalf("%+v: status %d, echo %q: the switch failed", tt, resp.StatusCode, echo)
		}
		got := srv.jarValue(t, c, "session")
		if got != "upstream" && got != "" {
			got = "ours"
		}
		if got != tt.session {
			t.Fatalf("%+v: the client holds the session cookie %q, want %q; Set-Cookie %q", tt, got, tt.session, resp.Header.Values("Set-Cookie"))
		}
		finishes(t, "the proxy's return", func() { <-returned })
		if n := len(f.log.lines("which the Manager did not write")); n != tt.warn {
			t.Errorf("%+v: %d warnings of the upstream's cookie, want %d; log:\n%s", tt, n, tt.warn, f.log)
		}
		if lines := f.log.lines("at a Hijack"); len(lines) != 0 {
			t.Errorf("%+v: the proxy writes the header map after its Hijack, yet: %q", tt, lines)
		}
	}
}

// TestHijackWithoutTheCookieWarns hijacks as gorilla/websocket's Upgrade
// does, then writes a 101 from its own header, not the header map: a login
// the middleware commits at the Hijack goes nowhere, and that is logged
// once at Warn, naming the code that hijacked. Lines a Save wrote before,
// which the handler passes on as README's WebSockets line says, and a
// session with nothing to write, are not logged.
func TestHijackWithoutTheCookieWarns(t *testing.T) {
	tests := []struct {
		name         string
		change, save bool
		cookie       bool // the client gets the session's cookie
		warn         int
		wrapped      bool // through a writer wrapper's Hijack, which is not the hijacker
	}{
		{"login", true, false, false, 1, false},
		{"login through a wrapper", true, false, false, 1, true},
		{"login saved and passed on", true, true, true, 0, false},
		{"nothing to write", false, false, false, 0, false},
	}
	for _, tt := range tests {
		f := newFixture(t, cookiesession.Options{})
		srv := newTLSServer(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			if tt.change {
				mustSet(t, s, "user", "ada")
			}
			var lines []string
			if tt.save {
				if err := f.m.Save(w, r, s); err != nil {
					t.Error(err)
				}
				lines = w.Header()["Set-Cookie"]
			}
			if tt.wrapped {
				w = hijackWrapper{w}
			}
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n")
			for _, line := range lines {
				_, _ = brw.WriteString("Set-Cookie: " + line + "\r\n")
			}
			_, _ = brw.WriteString("\r\n")
			_ = brw.Flush()
		})))
		for range 2 { // logged once per Manager
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "echo")
			resp, err := srv.client(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := len(resp.Cookies()) > 0; resp.StatusCode != http.StatusSwitchingProtocols || got != tt.cookie {
				t.Errorf("%s: %s with Set-Cookie %q, want a cookie: %v", tt.name, resp.Status, resp.Header.Values("Set-Cookie"), tt.cookie)
			}
		}
		lines := f.log.lines("at a Hijack")
		if len(lines) != tt.warn {
			t.Errorf("%s: %d warnings of the Hijack, want %d; log:\n%s", tt.name, len(lines), tt.warn, f.log)
		}
		for _, line := range lines {
			if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "hijacker=github.com/seed-ff2808ae/cookiesession_test.TestHijackWithoutTheCookieWarns") {
				t.Errorf("%s: the warning names no hijacker at Warn: %s", tt.name, line)
			}
			if !strings.Contains(line, "path=/ws") || !strings.Contains(line, "fix=") {
				t.Errorf("%s: the warning names no path or no fix: %s", tt.name, line)
			}
		}
	}
}

// TestServeContentAnswersCarryTheCookie checks http.FileServer and
// http.ServeContent under the middleware, with a session that changes on
// every request: their 304 (If-Modified-Since, If-None-Match), 206, 412
// and HEAD answers carry the cookie, which a net/http cookie jar takes
// from a 304 too, with Vary and no-store. Their 404 and 416 answers
// delete Cache-Control (net/http does since Go 1.23), after a Save too:
// the middleware's commit, at that answer's WriteHeader, sets no-store
// again.
func TestServeContentAnswersCarryTheCookie(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	dir := t.TempDir()
	modified := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	file := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(file, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(file, modified, modified); err != nil {
		t.Fatal(err)
	}
	files := http.FileServer(http.Dir(dir))
	srv := newTLSServer(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "n", s.GetInt("n")+1)
		if r.URL.Query().Has("save") {
			if err := f.m.Save(w, r, s); err != nil {
				t.Error(err)
			}
		}
		if r.URL.Query().Has("etag") {
			w.Header().Set("Etag", `"v1"`)
			http.ServeContent(w, r, "a.txt", modified, strings.NewReader("0123456789"))
			return
		}
		files.ServeHTTP(w, r)
	})))
	c := srv.client(t)
	tests := []struct {
		method, target, header, value string
		status                        int
	}{
		{"GET", "/a.txt", "", "", http.StatusOK},
		{"GET", "/a.txt", "If-Modified-Since", modified.Format(http.TimeFormat), http.StatusNotModified},
		{"GET", "/a.txt?etag", "If-None-Match", `"v1"`, http.StatusNotModified},
		{"GET", "/a.txt?etag", "If-Match", `"v2"`, http.StatusPreconditionFailed},
		{"GET", "/a.txt", "Range", "bytes=2-5", http.StatusPartialContent},
		{"HEAD", "/a.txt", "", "", http.StatusOK},
		{"GET", "/a.txt?etag&save", "Range", "bytes=100-200", http.StatusRequestedRangeNotSatisfiable},
		{"GET", "/missing.txt?save", "", "", http.StatusNotFound},
	}
	for i, tt := range tests {
		req, err := http.NewRequest(tt.method, srv.URL+tt.target, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.header != "" {
			req.Header.Set(tt.header, tt.value)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		what := fmt.Sprintf("%s %s %s: %s", tt.method, tt.target, tt.header, tt.value)
		if resp.StatusCode != tt.status {
			t.Fatalf("%s: status %d, want %d", what, resp.StatusCode, tt.status)
		}
		if len(resp.Header.Values("Set-Cookie")) != 1 || resp.Header.Get("Vary") != "Cookie" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Set-Cookie %q, Vary %q, Cache-Control %q; want one cookie, Cookie, no-store", what,
				resp.Header.Values("Set-Cookie"), resp.Header.Values("Vary"), resp.Header.Values("Cache-Control"))
		}
		rec := f.open(srv.jarValue(t, c, "session"))
		if got, _ := rec.Values.Get("n"); got != i+1 {
			t.Errorf("%s: the jar's session counts %v requests, want %d", what, got, i+1)
		}
	}
}

// TestReverseProxyUnderMiddleware checks httputil.ReverseProxy as the
// handler under the middleware, with a session the handler changes (and,
// on /hints, saves) before it proxies. The upstream's Vary and
// Cache-Control merge with the session's; with FlushInterval -1 the
// cookie comes with the first event of a stream; the proxy forwards an
// upstream's 103 and then clears the header map, Save's lines with it,
// and the commit puts them back for the final response; the 502 of an
// upstream that is down carries the cookie as any answer does.
func TestReverseProxyUnderMiddleware(t *testing.T) {
	release := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cached":
			w.Header().Set("Vary", "Accept-Encoding")
			w.Header().Set("Cache-Control", "public, max-age=60")
		case "/events":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: 1\n\n")
			w.(http.Flusher).Flush()
			<-release
		case "/hints":
			w.Header().Set("Link", "</style.css>; rel=preload; as=style")
			w.WriteHeader(http.StatusEarlyHints)
		}
		_, _ = io.WriteString(w, "upstream")
	}))
	t.Cleanup(upstream.Close)
	t.Cleanup(func() { close(release) }) // before Close, which waits for the stream
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	f := newFixture(t, cookiesession.Options{})
	mux := http.NewServeMux()
	for _, u := range []string{upstream.URL, down.URL} {
		target, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		proxy := httputil.NewSingleHostReverseProxy(target)
		proxy.FlushInterval = -1
		proxy.ErrorLog = log.New(io.Discard, "", 0)
		pattern := "/"
		if u == down.URL {
			pattern = "/down"
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			mustSet(t, s, "user", "ada")
			if r.URL.Path == "/hints" {
				if err := f.m.Save(w, r, s); err != nil {
					t.Error(err)
				}
			}
			proxy.ServeHTTP(w, r)
		})
	}
	srv := newTLSServer(t, f.m.Handler(mux))
	cookieIn := func(what string, h http.Header) {
		t.Helper()
		if c := ourCookies(t, h, "session")["session"]; c == nil || len(h.Values("Set-Cookie")) != 1 || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Set-Cookie %q, Cache-Control %q; want the session's cookie alone, no-store", what, h.Values("Set-Cookie"), h.Values("Cache-Control"))
		}
	}

	resp, _ := fetch(t, srv.client(t), srv.URL+"/cached")
	cookieIn("/cached", resp.Header)
	if got := resp.Header.Values("Vary"); !slices.Equal(got, []string{"Accept-Encoding", "Cookie"}) {
		t.Errorf("/cached: Vary %q, want the upstream's and Cookie", got)
	}

	resp, err := srv.client(t).Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	event, err := bufio.NewReader(resp.Body).ReadString('\n') // the upstream has not ended its stream
	resp.Body.Close()
	if event != "data: 1\n" || err != nil {
		t.Fatalf("/events: first line %q, %v", event, err)
	}
	cookieIn("/events", resp.Header)

	hints, resp := fetch1xx(t, srv.Client(), srv.URL+"/hints")
	if len(hints) != 1 || hints[0].Get("Link") == "" || len(hints[0].Values("Set-Cookie")) != 0 {
		t.Errorf("/hints: 1xx headers %v, want one 103 with Link and no Set-Cookie", hints)
	}
	cookieIn("/hints", resp.Header)
	if resp.Header.Get("Vary") != "Cookie" {
		t.Errorf("/hints: Vary %q after the proxy cleared the header map, want Cookie", resp.Header.Values("Vary"))
	}

	resp, _ = fetch(t, srv.client(t), srv.URL+"/down")
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("/down: status %d, want 502", resp.StatusCode)
	}
	cookieIn("/down", resp.Header)
}

// TestReverseProxyForwardsTheToken checks what README says of an
// upstream behind httputil.ReverseProxy: the proxy forwards the request's
// Cookie header, the session's token with it, and the Rewrite README
// gives drops the session's cookies (each chunk) and keeps the others.
func TestReverseProxyForwardsTheToken(t *testing.T) {
	var seen []string // the Cookie lines the upstream got
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header["Cookie"]
	}))
	t.Cleanup(upstream.Close)
	target, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, cookiesession.Options{MaxChunks: 2})
	sessions := f.m
	names := sessions.CookieNames()
	dropping := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Header.Del("Cookie")
		for _, c := range pr.In.Cookies() {
			if !slices.Contains(names, c.Name) {
				pr.Out.AddCookie(c)
			}
		}
	}}
	b := newClientCookies()
	b.vals = map[string]string{"session": "AAAA", "session.1": "BBBB", "theme": "dark"}
	for proxy, want := range map[http.Handler]string{
		httputil.NewSingleHostReverseProxy(target): "session=AAAA; session.1=BBBB; theme=dark",
		dropping: "theme=dark",
	} {
		seen = nil
		f.m.Handler(proxy).ServeHTTP(httptest.NewRecorder(), b.request("/"))
		if !slices.Equal(seen, []string{want}) {
			t.Errorf("the upstream got Cookie %q, want %q", seen, want)
		}
	}
}

// TestResponseControllerReachesTheConnection checks http.ResponseController
// through the middleware's writer over HTTP/1.1 and HTTP/2: the deadlines
// and EnableFullDuplex reach the connection through Unwrap and commit
// nothing, and Flush commits the cookie before it flushes.
func TestResponseControllerReachesTheConnection(t *testing.T) {
	for _, start := range []func(*testing.T, http.Handler) *tlsServer{newTLSServer, newH2Server} {
		f := newFixture(t, cookiesession.Options{})
		done := make(chan struct{})
		srv := start(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer close(done)
			mustSet(t, sessionOf(t, r), "user", "ada")
			rc := http.NewResponseController(w)
			deadline := time.Now().Add(time.Minute)
			for name, err := range map[string]error{"SetWriteDeadline": rc.SetWriteDeadline(deadline),
				"SetReadDeadline": rc.SetReadDeadline(deadline), "EnableFullDuplex": rc.EnableFullDuplex()} {
				if err != nil {
					t.Errorf("%s %s: %v", r.Proto, name, err)
				}
			}
			if got := w.Header().Values("Set-Cookie"); len(got) != 0 {
				t.Errorf("%s: committed before the Flush: %q", r.Proto, got)
			}
			if body, err := io.ReadAll(r.Body); string(body) != "ping" || err != nil {
				t.Errorf("%s: read %q, %v", r.Proto, body, err)
			}
			if err := rc.Flush(); err != nil || len(w.Header().Values("Set-Cookie")) != 1 {
				t.Errorf("%s: Flush: %v, Set-Cookie %q", r.Proto, err, w.Header().Values("Set-Cookie"))
			}
		})))
		resp, err := srv.Client().Post(srv.URL, "text/plain", strings.NewReader("ping"))
		if err != nil {
			t.Fatal(err)
		}
		// The body to its end, and the handler to its return: over HTTP/2
		// a body closed early resets the stream while the handler still
		// runs, and its checks would run after the test had ended.
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		<-done
		if ourCookies(t, resp.Header, "session")["session"] == nil {
			t.Errorf("%s: no session cookie: %v", resp.Proto, resp.Header)
		}
	}
}

// TestReadAfterHijackNotLogged checks that a WebSocket handler that first
// reads its session once it has hijacked the connection, as one that reads
// the user inside its socket loop does, is not logged as reading late: the
// 101 it answered is no page that a cache keeps.
func TestReadAfterHijackNotLogged(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	token := loginToken(t, f, "alice")
	read := make(chan string, 1)
	srv := newTLSServer(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		read <- sessionOf(t, r).GetString("user")
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_ = brw.Flush()
	})))
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	req.AddCookie(&http.Cookie{Name: "session", Value: token})
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if user := <-read; resp.StatusCode != http.StatusSwitchingProtocols || user != "alice" {
		t.Errorf("%s, user %q read after the Hijack; want 101, alice", resp.Status, user)
	}
	if lines := f.log.lines("session first read once its response had gone out"); len(lines) != 0 {
		t.Errorf("a read after the Hijack was logged: %q", lines)
	}
}
