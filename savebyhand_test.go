package cookiesession_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// Load and Save without the middleware, used as gorilla/sessions and scs
// users will, against a real net/http Server and a client with a cookie
// jar: what the client ends up with, what Save returns, what is logged.

// handSaver is a TLS server whose handlers use f.m's Load and Save, and a
// client that keeps its cookies in a jar.
type handSaver struct {
	f   *fixture
	srv *tlsServer
	c   *http.Client
	mux *http.ServeMux
}

func newHandSaver(t *testing.T) *handSaver {
	f := newFixture(t, cookiesession.Options{})
	mux := http.NewServeMux()
	srv := newTLSServer(t, mux)
	h := &handSaver{f: f, srv: srv, c: srv.client(t), mux: mux}
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s, _ := f.m.Load(r)
		mustSet(t, s, "user", "ada")
		if err := f.m.Save(w, r, s); err != nil {
			t.Error(err)
		}
	})
	h.get(t, "/login")
	if h.user(t) != "ada" {
		t.Fatal("login: no session")
	}
	return h
}

func (h *handSaver) get(t *testing.T, path string) *http.Response {
	t.Helper()
	resp, _ := fetch(t, h.c, h.srv.URL+path)
	return resp
}

// user returns the user the client's cookie holds, or "".
func (h *handSaver) user(t *testing.T) string {
	t.Helper()
	token := h.srv.jarValue(t, h.c, "session")
	if token == "" {
		return ""
	}
	user, _ := h.f.userIn(token)
	s, _ := user.(string)
	return s
}

// TestSaveAfterHandlerReturned: a handler starts its slow work in a
// goroutine and returns; the goroutine stores its result and saves with
// the handler's w and r. net/http has sent the response and ended r's
// context: Save returns an error matching ErrHeadersWritten (and
// context.Canceled) and does not touch w, which net/http no longer lends
// (under -race, a Header call there races with the server).
func TestSaveAfterHandlerReturned(t *testing.T) {
	h := newHandSaver(t)
	saved := make(chan error, 1)
	h.mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		s, _ := h.f.m.Load(r)
		go func() {
			<-r.Context().Done()
			mustSet(t, s, "user", "bob")
			saved <- h.f.m.Save(w, r, s)
		}()
	})
	h.get(t, "/slow")
	err := <-saved
	if !errors.Is(err, cookiesession.ErrHeadersWritten) || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "call Save before the handler returns") {
		t.Errorf("Save after the handler returned: %v", err)
	}
	if got := h.user(t); got != "ada" {
		t.Errorf("the client holds user %q", got)
	}
}

// TestChangeAfterHandlerReturnedWarns: a goroutine the handler started
// changes the session after the request ended, and never saves. At the
// request's end nothing was unsaved; the change after it is logged at
// Warn as not saved, naming the session from Load. The request's context
// is ended as net/http's Server ends it when the handler returns, in a
// bubble, so that Load's watch has run before the change.
func TestChangeAfterHandlerReturnedWarns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, cookiesession.Options{})
		ctx, end := context.WithCancel(context.WithValue(context.Background(), http.ServerContextKey, &http.Server{}))
		s, _ := f.m.Load(httptest.NewRequestWithContext(ctx, "GET", "https://example.com/slow", nil))
		_ = s.GetString("user")
		end()
		synctest.Wait() // Load's watch saw the request end with nothing unsaved
		mustSet(t, s, "cart", "3 items")
		warns := f.log.lines("a session from Load changed after")
		if len(warns) != 1 || !strings.Contains(warns[0], "level=WARN") || !strings.Contains(warns[0], "the handler returned") {
			t.Errorf("want one Warn for the change after the request, log:\n%s", f.log)
		}
		if f.log.lines("left unsaved") != nil {
			t.Errorf("the request ended with nothing unsaved, log:\n%s", f.log)
		}
		if lost := f.m.Metrics().Lost; lost["after_commit"] != 1 || lost["unsaved"] != 0 {
			t.Errorf("a change after the request ended: lost %v, want after_commit 1", lost)
		}
		if err := f.m.Save(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, "GET", "https://example.com/slow", nil), s); !errors.Is(err, cookiesession.ErrHeadersWritten) {
			t.Errorf("Save of the late change: %v", err)
		}
	})
}

// TestSaveAfterClientLeft: the client gives up while the handler still
// works; the handler then stores and saves. Nothing reaches the client:
// Save says so with ErrHeadersWritten and context.Canceled, which a
// handler that ignores a canceled request's errors already skips.
func TestSaveAfterClientLeft(t *testing.T) {
	h := newHandSaver(t)
	started := make(chan struct{})
	saved := make(chan error, 1)
	h.mux.HandleFunc("/report", func(w http.ResponseWriter, r *http.Request) {
		s, _ := h.f.m.Load(r)
		close(started)
		<-r.Context().Done() // the client went away
		mustSet(t, s, "report", "ready")
		saved <- h.f.m.Save(w, r, s)
	})
	ctx, leave := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", h.srv.URL+"/report", nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() { <-started; leave() }()
	// The client usually sees its own cancellation; but its transport may
	// still read the empty 200 the server writes once it has seen the
	// client go, and the handler returned: that answer carries no cookie.
	if resp, err := h.c.Do(req); err == nil {
		resp.Body.Close()
		if lines := resp.Header["Set-Cookie"]; lines != nil {
			t.Errorf("the answer to a request the client left carries %q", lines)
		}
	}
	if err := <-saved; !errors.Is(err, cookiesession.ErrHeadersWritten) || !errors.Is(err, context.Canceled) {
		t.Errorf("Save after the client left: %v", err)
	}
}

// TestSaveByHandScenarios: the other ways of calling Load and Save in one
// request, each checked for what the client holds afterwards and what is
// logged at Warn. None of them loses a change without a word.
func TestSaveByHandScenarios(t *testing.T) {
	save := func(t *testing.T, m *cookiesession.Manager, w http.ResponseWriter, r *http.Request, s *cookiesession.Session) {
		t.Helper()
		if err := m.Save(w, r, s); err != nil {
			t.Errorf("Save: %v", err)
		}
	}
	for _, tc := range []struct {
		name string
		h    func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request)
		user string // the user the client holds afterwards, "" for none
		warn string // a Warn logged, or "" for none
	}{
		{"Save twice", func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request) {
			s, _ := f.m.Load(r)
			mustSet(t, s, "user", "bob")
			save(t, f.m, w, r, s)
			mustSet(t, s, "user", "cy")
			save(t, f.m, w, r, s)
		}, "cy", ""},
		{"Load twice, both saved", func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request) {
			s, _ := f.m.Load(r)
			s.Destroy()
			save(t, f.m, w, r, s)
			flash, _ := f.m.Load(r)
			flash.AddFlash("bye")
			save(t, f.m, w, r, flash)
		}, "ada", "call Load once per request"},
		{"Destroy, then Save", func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request) {
			s, _ := f.m.Load(r)
			s.Destroy()
			save(t, f.m, w, r, s)
		}, "", ""},
		{"Save, Destroy, Save", func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request) {
			s, _ := f.m.Load(r)
			mustSet(t, s, "user", "bob")
			save(t, f.m, w, r, s)
			s.Destroy()
			save(t, f.m, w, r, s)
		}, "", ""},
		{"Renew between two Saves", func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request) {
			s, _ := f.m.Load(r)
			before := s.ID()
			mustSet(t, s, "step", 1)
			save(t, f.m, w, r, s)
			s.Renew()
			if s.ID() == before {
				t.Error("Renew kept the id")
			}
			save(t, f.m, w, r, s)
			w.Header().Set("X-Session-ID", s.ID())
		}, "ada", ""},
		{"another Manager's session", func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request) {
			other := f.manager(cookiesession.Options{Name: "prefs"})
			s, _ := other.Load(r)
			mustSet(t, s, "user", "mallory")
			if err := f.m.Save(w, r, s); err == nil || !strings.Contains(err.Error(), "save each session with the Manager it came from") {
				t.Errorf("Save of another Manager's session: %v", err)
			}
			save(t, other, w, r, s) // the fix the error names
		}, "ada", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandSaver(t)
			h.mux.HandleFunc("/x", func(w http.ResponseWriter, r *http.Request) { tc.h(t, h.f, w, r) })
			resp := h.get(t, "/x")
			if got := h.user(t); got != tc.user {
				t.Errorf("the client holds user %q, want %q", got, tc.user)
			}
			if id := resp.Header.Get("X-Session-ID"); id != "" {
				rec := h.f.open(h.srv.jarValue(t, h.c, "session"))
				if rec.ID.String() != id {
					t.Errorf("the client holds session %s, the handler renewed it to %s", rec.ID, id)
				}
			}
			warns := h.f.log.lines("level=WARN")
			switch {
			case tc.warn == "" && len(warns) != 0:
				t.Errorf("logged:\n%s", h.f.log)
			case tc.warn != "" && (len(warns) != 1 || !strings.Contains(warns[0], tc.warn)):
				t.Errorf("want one Warn with %q, log:\n%s", tc.warn, h.f.log)
			}
		})
	}
}

// TestIDOfUnsavedSession: a session that never stores a value sets no
// cookie, so its id is drawn afresh on every request, as ID's
// documentation says; once a value is stored and saved, the id is the
// same on every request until Renew.
func TestIDOfUnsavedSession(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	mux := http.NewServeMux()
	srv := newTLSServer(t, mux)
	c := srv.client(t)
	mux.HandleFunc("/id", func(w http.ResponseWriter, r *http.Request) {
		s, _ := f.m.Load(r)
		w.Header().Set("X-Session-ID", s.ID())
		if err := f.m.Save(w, r, s); err != nil {
			t.Error(err)
		}
	})
	mux.HandleFunc("/store", func(w http.ResponseWriter, r *http.Request) {
		s, _ := f.m.Load(r)
		mustSet(t, s, "user", "ada")
		w.Header().Set("X-Session-ID", s.ID())
		if err := f.m.Save(w, r, s); err != nil {
			t.Error(err)
		}
	})
	id := func(path string) string {
		resp, _ := fetch(t, c, srv.URL+path)
		return resp.Header.Get("X-Session-ID")
	}
	if a, b := id("/id"), id("/id"); a == b || len(a) != 32 {
		t.Errorf("a session never stored kept its id %q, %q across requests", a, b)
	}
	if srv.jarValue(t, c, "session") != "" {
		t.Error("a session never stored set a cookie")
	}
	if stored, next := id("/store"), id("/id"); stored != next {
		t.Errorf("a stored session's id changed from %s to %s", stored, next)
	}
}

// TestSaveWithCanceledDerivedContext: a handler saves with a request whose
// context it derived and canceled itself. Save cannot tell that context
// from one net/http ended, refuses, and says so; with the request
// net/http gave the handler the same session is saved.
func TestSaveWithCanceledDerivedContext(t *testing.T) {
	h := newHandSaver(t)
	h.mux.HandleFunc("/derived", func(w http.ResponseWriter, r *http.Request) {
		s, _ := h.f.m.Load(r)
		mustSet(t, s, "user", "bob")
		ctx, cancel := context.WithCancel(r.Context())
		cancel()
		err := h.f.m.Save(w, r.WithContext(ctx), s)
		if !errors.Is(err, cookiesession.ErrHeadersWritten) || !strings.Contains(err.Error(), "a context the handler derived and canceled itself") {
			t.Errorf("Save with a canceled derived context: %v", err)
		}
		if err := h.f.m.Save(w, r, s); err != nil {
			t.Errorf("Save with the handler's request: %v", err)
		}
	})
	h.get(t, "/derived")
	if got := h.user(t); got != "bob" {
		t.Errorf("the client holds user %q, want bob", got)
	}
}

// TestSaveThenServeContentError keeps README's net/http advice true: a
// Save by hand, then an http.ServeContent or http.ServeFile that answers
// an error (416, 404), loses the Cache-Control: no-store Save set, as
// net/http deletes it since Go 1.23, and keeps the Set-Cookie. Under the
// middleware the commit sets no-store again
// (TestServeContentAnswersCarryTheCookie).
func TestSaveThenServeContentError(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	modified := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		status int
		serve  func(w http.ResponseWriter, r *http.Request)
	}{
		{"ServeContent, a range past the end", http.StatusRequestedRangeNotSatisfiable, func(w http.ResponseWriter, r *http.Request) {
			r.Header.Set("Range", "bytes=100-200")
			http.ServeContent(w, r, "a.txt", modified, strings.NewReader("0123456789"))
		}},
		{"ServeFile, a missing file", http.StatusNotFound, func(w http.ResponseWriter, r *http.Request) {
			http.ServeFile(w, r, filepath.Join(t.TempDir(), "missing.txt"))
		}},
	} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "https://example.com/a.txt", nil)
		s, _ := f.m.Load(r)
		mustSet(t, s, "user", "ada")
		if err := f.m.Save(rec, r, s); err != nil {
			t.Fatal(err)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Fatalf("%s: Save set Cache-Control %q, want no-store", tc.name, got)
		}
		tc.serve(rec, r)
		resp := rec.Result()
		if resp.StatusCode != tc.status || len(resp.Header.Values("Set-Cookie")) != 1 || resp.Header.Values("Cache-Control") != nil {
			t.Errorf("%s: %d, Set-Cookie %q, Cache-Control %q; want %d with the cookie and no Cache-Control, as README says",
				tc.name, resp.StatusCode, resp.Header.Values("Set-Cookie"), resp.Header.Values("Cache-Control"), tc.status)
		}
	}
}

// writtenWriter reports, like gin's writer, whether it has sent the
// headers, which WriteHeaderNow sends.
type writtenWriter struct {
	http.ResponseWriter
	written bool
}

func (w *writtenWriter) WriteHeader(code int) { w.written = true; w.ResponseWriter.WriteHeader(code) }
func (w *writtenWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.ResponseWriter.Write(b)
}
func (w *writtenWriter) Written() bool { return w.written }
func (w *writtenWriter) WriteHeaderNow() {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
}

// unwrapOnly is a wrapper with Unwrap and nothing else.
type unwrapOnly struct{ http.ResponseWriter }

func (w unwrapOnly) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestSaveAfterWriterSentHeaders: a session from Load saved after the
// handler wrote the body, through a writer that says it has sent the
// headers (gin's, after c.Next()), directly or under a wrapper
// with Unwrap: Save returns an error matching ErrHeadersWritten that names
// the writer and the fix, and writes nothing, where it returned nil for a
// cookie that never reached the client. Before the body, Save writes.
func TestSaveAfterWriterSentHeaders(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	for _, wrap := range []struct {
		name string
		w    func(http.ResponseWriter) http.ResponseWriter
	}{
		{"Written", func(w http.ResponseWriter) http.ResponseWriter { return w }},
		{"Unwrap to Written", func(w http.ResponseWriter) http.ResponseWriter { return unwrapOnly{w} }},
	} {
		t.Run(wrap.name, func(t *testing.T) {
			for _, late := range []bool{false, true} {
				rec := httptest.NewRecorder()
				inner := &writtenWriter{ResponseWriter: rec}
				w := wrap.w(inner)
				r := httptest.NewRequest("GET", "https://example.com/", nil)
				s, _ := f.m.Load(r)
				mustSet(t, s, "user", "ada")
				if late {
					_, _ = w.Write([]byte("hello"))
				}
				err := f.m.Save(w, r, s)
				switch {
				case !late && (err != nil || len(rec.Result().Cookies()) != 1):
					t.Errorf("Save before the body: %v, cookies %v", err, rec.Result().Cookies())
				case late && (!errors.Is(err, cookiesession.ErrHeadersWritten) || !strings.Contains(err.Error(), "*cookiesession_test.writtenWriter") && !strings.Contains(err.Error(), "unwrapOnly") ||
					!strings.Contains(err.Error(), "before c.Next() returns")):
					t.Errorf("Save after the body: %v, want ErrHeadersWritten naming the writer and the fix", err)
				case late && inner.Header()["Set-Cookie"] != nil:
					t.Errorf("Save after the body wrote %q", inner.Header()["Set-Cookie"])
				}
			}
		})
	}
}

// beforeWriter works as negroni's and martini's writers do: WriteHeader
// notes the status, which Written reports, then runs the Before hooks,
// which may still set headers, and only then sends the header.
type beforeWriter struct {
	http.ResponseWriter
	status, size int
	before       []func()
}

func (w *beforeWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	for _, f := range w.before {
		f()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *beforeWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	n, err := w.ResponseWriter.Write(b)
	w.size += n
	return n, err
}

func (w *beforeWriter) Written() bool { return w.status != 0 }

// Size is negroni's count of the body's bytes written.
func (w *beforeWriter) Size() int { return w.size }

// TestSaveInBeforeHook: a Save in a Before hook of negroni's writer (the
// hook it offers for headers that must precede the body) runs while
// Written already reports true and the header is not yet sent: it writes
// the cookie, which reaches the client, and returns nil. A Save once the
// writer's Size counts the body returns ErrHeadersWritten.
func TestSaveInBeforeHook(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	rec := httptest.NewRecorder()
	w := &beforeWriter{ResponseWriter: rec}
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	s, _ := f.m.Load(r)
	mustSet(t, s, "user", "ada")
	var err error
	w.before = append(w.before, func() { err = f.m.Save(w, r, s) })
	_, _ = w.Write([]byte("hello"))
	if err != nil || len(rec.Result().Cookies()) != 1 {
		t.Errorf("Save in a Before hook: %v, cookies %v; want nil and the session's cookie", err, rec.Result().Cookies())
	}
	// After the body, the header has gone: a Save then is refused, and
	// writes nothing.
	mustSet(t, s, "user", "bob")
	if err := f.m.Save(w, r, s); !errors.Is(err, cookiesession.ErrHeadersWritten) {
		t.Errorf("Save after negroni's writer wrote the body: %v, want ErrHeadersWritten", err)
	}
	if n := len(w.Header()["Set-Cookie"]); n != 1 {
		t.Errorf("Save after the body left %d Set-Cookie lines in the map, want the hook's one", n)
	}
	// After a WriteHeader with no body, Size is still 0 and Written is
	// true from the hooks' start: Save cannot tell, and returns nil
	// (README says so), while the header has gone without the cookie.
	rec = httptest.NewRecorder()
	w = &beforeWriter{ResponseWriter: rec}
	s, _ = f.m.Load(r)
	mustSet(t, s, "user", "cy")
	w.WriteHeader(http.StatusNoContent)
	if err := f.m.Save(w, r, s); err != nil {
		t.Errorf("Save after negroni's WriteHeader with no body: %v, want nil (Size cannot tell it from a Before hook)", err)
	}
	if got := rec.Result().Cookies(); len(got) != 0 {
		t.Errorf("Save after the header went out: the client got %v, want no cookie", got)
	}
}

// chiWriter is shaped like chi's middleware.WrapResponseWriter: Status is
// 0 until the header is sent.
type chiWriter struct {
	http.ResponseWriter
	code, bytes int
}

func (w *chiWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *chiWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *chiWriter) Status() int                 { return w.code }
func (w *chiWriter) BytesWritten() int           { return w.bytes }
func (w *chiWriter) Tee(io.Writer)               {}
func (w *chiWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestSaveThroughChiWriter: under chi's WrapResponseWriter (its Logger's),
// a Save of a session from Load before the body writes the cookie, and
// one after WriteHeader returns ErrHeadersWritten and writes nothing.
func TestSaveThroughChiWriter(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	rec := httptest.NewRecorder()
	w := &chiWriter{ResponseWriter: rec}
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	s, _ := f.m.Load(r)
	mustSet(t, s, "user", "ada")
	if err := f.m.Save(w, r, s); err != nil {
		t.Fatalf("Save before the header: %v", err)
	}
	w.WriteHeader(http.StatusNoContent)
	mustSet(t, s, "user", "bob")
	if err := f.m.Save(w, r, s); !errors.Is(err, cookiesession.ErrHeadersWritten) || !strings.Contains(err.Error(), "chiWriter") {
		t.Errorf("Save after WriteHeader: %v, want ErrHeadersWritten naming the writer", err)
	}
	if n := len(rec.Result().Cookies()); n != 1 {
		t.Errorf("%d cookies went out, want the first Save's", n)
	}
}

// echoResponse is shaped like echo's Response (v4's and v5's): Before
// hooks run in WriteHeader, and only then is Committed set, the one place
// it says the header has gone.
type echoResponse struct {
	Writer    http.ResponseWriter
	before    []func()
	Committed bool
}

func (r *echoResponse) Header() http.Header { return r.Writer.Header() }
func (r *echoResponse) Before(f func())     { r.before = append(r.before, f) }
func (r *echoResponse) After(func())        {}
func (r *echoResponse) WriteHeader(code int) {
	if r.Committed {
		return
	}
	for _, f := range r.before {
		f()
	}
	r.Writer.WriteHeader(code)
	r.Committed = true
}
func (r *echoResponse) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.Writer.Write(b)
}
func (r *echoResponse) Unwrap() http.ResponseWriter { return r.Writer }

// TestSaveThroughEchoResponse: a session from Load saved through echo's
// Response, or a wrapper that unwraps to it, in a Before hook writes the
// cookie; once Committed, Save returns ErrHeadersWritten naming the writer
// and echo's fix, and writes nothing. The echo adapters' tests run it
// with echo itself.
func TestSaveThroughEchoResponse(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	for _, wrap := range []func(http.ResponseWriter) http.ResponseWriter{
		func(w http.ResponseWriter) http.ResponseWriter { return w },
		func(w http.ResponseWriter) http.ResponseWriter { return unwrapOnly{w} },
	} {
		rec := httptest.NewRecorder()
		resp := &echoResponse{Writer: rec}
		w := wrap(resp)
		r := httptest.NewRequest("GET", "https://example.com/", nil)
		s, _ := f.m.Load(r)
		mustSet(t, s, "user", "ada")
		var hooked error
		resp.Before(func() { hooked = f.m.Save(w, r, s) })
		_, _ = w.Write([]byte("hello"))
		if hooked != nil || len(rec.Result().Cookies()) != 1 {
			t.Errorf("%T: Save in a Before hook: %v, cookies %v; want nil and the cookie", w, hooked, rec.Result().Cookies())
		}
		mustSet(t, s, "user", "bob")
		err := f.m.Save(w, r, s)
		if !errors.Is(err, cookiesession.ErrHeadersWritten) || !strings.Contains(err.Error(), fmt.Sprintf("%T", w)) || !strings.Contains(err.Error(), "cookiesession/echo") {
			t.Errorf("%T: Save after the body: %v, want ErrHeadersWritten naming the writer and the echo middleware", w, err)
		}
		if n := len(rec.Header()["Set-Cookie"]); n != 1 {
			t.Errorf("%T: %d Set-Cookie lines in the map, want the hook's one", w, n)
		}
	}
}

// hooksOnly, hooksIntCommitted and hooksPromoted have echo's Before and
// After hooks and Unwrap, but no Committed field Save can read.
type (
	hooksOnly         struct{ unwrapOnly }
	hooksIntCommitted struct {
		unwrapOnly
		Committed int
	}
	hooksPromoted struct {
		unwrapOnly
		*echoResponse // nil: its promoted Committed cannot be read
	}
)

func (hooksOnly) Before(func())          {}
func (hooksOnly) After(func())           {}
func (*hooksIntCommitted) Before(func()) {}
func (*hooksIntCommitted) After(func())  {}
func (*hooksPromoted) Before(func())     {}
func (*hooksPromoted) After(func())      {}
func (w *hooksPromoted) Unwrap() http.ResponseWriter {
	return w.unwrapOnly.Unwrap()
}
func (w *hooksPromoted) Header() http.Header { return w.unwrapOnly.Header() }
func (w *hooksPromoted) Write(b []byte) (int, error) {
	return w.unwrapOnly.Write(b)
}
func (w *hooksPromoted) WriteHeader(code int) { w.unwrapOnly.WriteHeader(code) }

// TestSaveThroughEchoLikeWriter: a writer with echo's hooks and Unwrap but
// no bool Committed to read is not taken for echo's Response, and does not
// panic Save; nor does echo's Response that is not committed end the
// search. Unwrap is followed, to gin's writer here, which the handler
// wrote to directly and which says the header has gone.
func TestSaveThroughEchoLikeWriter(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	for _, wrap := range []func(http.ResponseWriter) http.ResponseWriter{
		func(w http.ResponseWriter) http.ResponseWriter { return hooksOnly{unwrapOnly{w}} },
		func(w http.ResponseWriter) http.ResponseWriter { return &hooksIntCommitted{unwrapOnly: unwrapOnly{w}} },
		func(w http.ResponseWriter) http.ResponseWriter { return &hooksPromoted{unwrapOnly: unwrapOnly{w}} },
		func(w http.ResponseWriter) http.ResponseWriter { return &echoResponse{Writer: w} },
	} {
		inner := &writtenWriter{ResponseWriter: httptest.NewRecorder()}
		w := wrap(inner)
		r := httptest.NewRequest("GET", "https://example.com/", nil)
		s, _ := f.m.Load(r)
		mustSet(t, s, "user", "ada")
		_, _ = inner.Write([]byte("hello"))
		if err := f.m.Save(w, r, s); !errors.Is(err, cookiesession.ErrHeadersWritten) || !strings.Contains(err.Error(), fmt.Sprintf("%T", w)) {
			t.Errorf("%T: Save after the body: %v, want ErrHeadersWritten found through Unwrap, naming the writer", w, err)
		}
		if inner.Header()["Set-Cookie"] != nil {
			t.Errorf("%T: Save after the body wrote %q", w, inner.Header()["Set-Cookie"])
		}
	}
}

// TestSaveByHandBeforeReverseProxy: without the middleware, a Save before
// httputil.ReverseProxy forwards an upstream's 103 Early Hints is lost.
// The proxy writes the 103 from the header map as it stands, the Save's
// line in it, and then clears the map: the final response carries neither
// the cookie nor Vary and no-store, though Save returned nil. Written into
// the upstream's response header by CommitHeader in the proxy's
// ModifyResponse, the lines reach the final response, the 103 carries
// none, and no later Save can report success. (Under the middleware:
// TestReverseProxyEarlyHints.)
func TestSaveByHandBeforeReverseProxy(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = io.WriteString(w, "upstream")
	}))
	t.Cleanup(upstream.Close)
	target, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	shared := httputil.NewSingleHostReverseProxy(target)
	f := newFixture(t, cookiesession.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("/save-first", func(w http.ResponseWriter, r *http.Request) {
		s, _ := f.m.Load(r)
		mustSet(t, s, "user", "ada")
		if err := f.m.Save(w, r, s); err != nil {
			t.Errorf("Save before the proxy: %v", err)
		}
		shared.ServeHTTP(w, r)
	})
	mux.HandleFunc("/commit-in-modify", func(w http.ResponseWriter, r *http.Request) {
		s, _ := f.m.Load(r)
		mustSet(t, s, "user", "ada")
		proxy := *shared
		proxy.ModifyResponse = func(resp *http.Response) error {
			return f.m.CommitHeader(resp.Header, s, r)
		}
		proxy.ServeHTTP(w, r)
		if err := f.m.Save(w, r, s); !errors.Is(err, cookiesession.ErrHeadersWritten) {
			t.Errorf("Save after CommitHeader: %v, want ErrHeadersWritten", err)
		}
	})
	srv := newTLSServer(t, mux)

	hints, resp := fetch1xx(t, srv.Client(), srv.URL+"/save-first")
	if len(hints) != 1 || len(hints[0].Values("Set-Cookie")) != 1 {
		t.Errorf("Save before the proxy: 1xx headers %v, want one 103 with the session's line", hints)
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 0 || resp.Header.Get("Vary") != "" || resp.Header.Get("Cache-Control") != "" {
		t.Errorf("Save before the proxy: final response %v, want the proxy to have cleared the Save's lines (README: Frameworks, net/http)", resp.Header)
	}
	if warns := f.log.lines("level=WARN"); len(warns) != 0 {
		t.Errorf("Save before the proxy: logged %q, want nothing (README: the loss is silent)", warns)
	}

	hints, resp = fetch1xx(t, srv.Client(), srv.URL+"/commit-in-modify")
	if len(hints) != 1 || len(hints[0].Values("Set-Cookie")) != 0 {
		t.Errorf("CommitHeader in ModifyResponse: 1xx headers %v, want one 103 without Set-Cookie", hints)
	}
	c := ourCookies(t, resp.Header, "session")["session"]
	if c == nil {
		t.Fatalf("CommitHeader in ModifyResponse: final response %v lacks the session's cookie", resp.Header)
	}
	if user, _ := f.userIn(c.Value); user != "ada" || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Vary") != "Cookie" {
		t.Errorf("CommitHeader in ModifyResponse: user %v, Cache-Control %q, Vary %q; want ada, no-store, Cookie", user, resp.Header.Get("Cache-Control"), resp.Header.Get("Vary"))
	}
	srv.checkNoSuperfluous(t)
}
