package cookiesession_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// What an application's own tests meet, as README's "Testing your
// handlers" says it.

// TestHandlerWithoutMiddleware checks that a handler served with no
// middleware in place finds no session, and that using it panics with a
// message that names the fix, not a bare nil dereference.
func TestHandlerWithoutMiddleware(t *testing.T) {
	m, err := cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "https://example.com/admin", nil)
	if s := cookiesession.FromContext(r.Context()); s != nil {
		t.Fatalf("FromContext without the middleware: %v, want nil", s)
	}
	if s := m.FromContext(r.Context()); s != nil {
		t.Fatalf("Manager.FromContext without the middleware: %v, want nil", s)
	}
	defer func() {
		msg := fmt.Sprint(recover())
		if !strings.HasPrefix(msg, "cookiesession: ") || !strings.Contains(msg, "wrap the handler with Manager.Handler") ||
			!strings.Contains(msg, "with cookiesession.NewContext") {
			t.Errorf("panic %q does not name the fix", msg)
		}
	}()
	_ = cookiesession.FromContext(r.Context()).GetString("role")
	t.Error("a method on the nil session did not panic")
}

// panicOf returns what f panics with, or "" if it returns.
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// TestNilSessionPanicsWithFix checks that every method of the nil session
// FromContext returns outside the middleware, and every call given it,
// panics with the message that names the fix, not a bare nil dereference,
// and not an error that hides it (SetLifetime checked its argument first,
// and returned an error for a bad one).
func TestNilSessionPanicsWithFix(t *testing.T) {
	m, err := cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	s := cookiesession.FromContext(r.Context())
	calls := map[string]func(){
		"SetLifetime(bad)": func() { _ = s.SetLifetime(cookiesession.Lifetime{MaxAge: -time.Second}) },
		"GetAs":            func() { cookiesession.GetAs[int](s, "n") },
		"Save":             func() { _ = m.Save(httptest.NewRecorder(), r, s) },
		"SaveHeader":       func() { _ = m.SaveHeader(http.Header{}, s) },
		"CommitHeader":     func() { _ = m.CommitHeader(http.Header{}, s, r) },
	}
	v := reflect.ValueOf(s)
	for i := range v.NumMethod() {
		method := v.Type().Method(i)
		if method.Name == "Format" { // fmt's: prints the type name, for nil too
			continue
		}
		var args []reflect.Value
		for j := 1; j < method.Type.NumIn(); j++ {
			args = append(args, reflect.Zero(method.Type.In(j)))
		}
		calls[method.Name] = func() { v.Method(i).Call(args) }
	}
	for name, call := range calls {
		msg := panicOf(call)
		if !strings.HasPrefix(msg, "cookiesession: no session") || !strings.Contains(msg, "wrap the handler with Manager.Handler") {
			t.Errorf("%s on the nil session: panic %q, want the one that names the fix", name, msg)
		}
	}
}

// TestNewContextNilSession checks that NewContext given the nil session
// FromContext returns outside the middleware panics there, naming the fix,
// rather than leave a context on which a Manager's FromContext and Load
// dereference nil.
func TestNewContextNilSession(t *testing.T) {
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	msg := panicOf(func() { cookiesession.NewContext(r.Context(), cookiesession.FromContext(r.Context())) })
	if !strings.HasPrefix(msg, "cookiesession: NewContext given a nil *Session") || !strings.Contains(msg, "Manager.Load") {
		t.Errorf("NewContext(ctx, nil): panic %q, want one that names the fix", msg)
	}
}

// TestZeroSession checks the zero Session, which a test may build for a
// helper: it holds values, a value it cannot hold is refused with Set's
// and SetJSON's error (not a nil dereference in the refusal's log line),
// SetLifetime, which needs a Manager's limits, panics naming the fix and
// leaves the session usable, and no Manager saves it.
func TestZeroSession(t *testing.T) {
	s := &cookiesession.Session{}
	if err := s.Set("user", "ada"); err != nil || s.GetString("user") != "ada" {
		t.Fatalf("Set on the zero Session: %v, then %q", err, s.GetString("user"))
	}
	if msg := panicOf(func() { _ = s.Set("p", struct{}{}) }); msg != "" {
		t.Errorf("Set of a struct panicked: %s", msg)
	} else if err := s.Set("p", struct{}{}); !errors.Is(err, cookiesession.ErrUnsupportedType) {
		t.Errorf("Set of a struct: %v, want ErrUnsupportedType", err)
	}
	if msg := panicOf(func() { _ = s.SetJSON("f", func() {}) }); msg != "" {
		t.Errorf("SetJSON of a func panicked: %s", msg)
	} else if err := s.SetJSON("f", func() {}); err == nil {
		t.Error("SetJSON of a func: nil error")
	}
	for _, l := range []cookiesession.Lifetime{{MaxAge: time.Hour}, {MaxAge: -time.Second}} {
		msg := panicOf(func() { _ = s.SetLifetime(l) })
		if !strings.HasPrefix(msg, "cookiesession: SetLifetime on a Session that no Manager made") || !strings.Contains(msg, "Manager.Load") {
			t.Errorf("SetLifetime(%+v) on the zero Session: panic %q, want one that names the fix", l, msg)
		}
	}
	finishes(t, "Set after the SetLifetime panics", func() { _ = s.Set("after", true) })
	m, err := cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := m.Save(rec, httptest.NewRequest("GET", "https://example.com/", nil), s); err == nil || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("Save of the zero Session: %v, Set-Cookie %q; want an error and no line", err, rec.Header().Get("Set-Cookie"))
	}
}

// TestSynctestClock checks that a Manager with the default clock follows
// testing/synctest's fake one, so a test can sleep through an idle
// timeout in no time: a session used within the window stays, one idle
// past it is refused and cleared. The bubble's clock starts at 2000-01-01,
// so a cookie sealed outside it was created in the future there: it is
// refused and logged at Warn.
func TestSynctestClock(t *testing.T) {
	log := new(syncBuffer)
	m, err := cookiesession.New(newRing(), cookiesession.Options{
		MaxAge: 2 * time.Hour, IdleTimeout: 30 * time.Minute, Logger: debugLogger(log),
	})
	if err != nil {
		t.Fatal(err)
	}
	app := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if r.Method == http.MethodPost {
			mustSet(t, s, "user", "ada")
		}
		fmt.Fprint(w, s.GetString("user"))
	}))
	outside := newClientCookies()
	outside.do(app, "POST", "/login")

	synctest.Test(t, func(t *testing.T) {
		if got := outside.do(app, "GET", "/").Body.String(); got != "" {
			t.Errorf("a cookie sealed outside the bubble opened inside it: user %q", got)
		}
		if len(log.lines("created in the future")) != 1 {
			t.Errorf("the refused cookie was not logged as created in the future; log:\n%s", log)
		}

		b := newClientCookies()
		b.do(app, "POST", "/login")
		time.Sleep(20 * time.Minute)
		if got := b.do(app, "GET", "/").Body.String(); got != "ada" {
			t.Fatalf("after 20 idle minutes: user %q, want ada", got)
		}
		time.Sleep(31 * time.Minute)
		w := b.do(app, "GET", "/")
		if got := w.Body.String(); got != "" {
			t.Fatalf("after 31 idle minutes: user %q, want none", got)
		}
		if c := w.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
			t.Errorf("the expired cookie was not cleared: %v", c)
		}
	})
}

// TestRecorderAfterLateSave checks what a recorder shows of a Save made
// without the middleware after the body: Save cannot tell and returns
// nil, and the lines reach rec.Header(), the live map, but not
// rec.Result(), the headers as sent. A test that reads rec.Header() passes
// while the client gets no cookie; under the middleware, Save says so.
func TestRecorderAfterLateSave(t *testing.T) {
	m, err := cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var saveErr error
	late := func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r)
		mustSet(t, s, "user", "ada")
		fmt.Fprint(w, "hello")
		saveErr = m.Save(w, r, s)
	}
	rec := httptest.NewRecorder()
	late(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	if saveErr != nil || len(rec.Header()["Set-Cookie"]) != 1 || len(rec.Result().Header["Set-Cookie"]) != 0 {
		t.Fatalf("without the middleware: Save %v, Header() %q, Result() %q; want nil, one line, none",
			saveErr, rec.Header()["Set-Cookie"], rec.Result().Header["Set-Cookie"])
	}
	rec = httptest.NewRecorder()
	m.Handler(http.HandlerFunc(late)).ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	if !errors.Is(saveErr, cookiesession.ErrHeadersWritten) {
		t.Errorf("under the middleware: Save after the body returned %v, want ErrHeadersWritten", saveErr)
	}
}

// TestLogoutCookieSentBack checks what a test that copies every cookie of
// a response into the next request meets after a logout: the expiring
// line parses as a cookie with an empty value, which no browser or
// cookiejar sends back. Sent back, it is refused and cleared again on each
// response; dropped, as a jar drops a cookie whose MaxAge is negative, the
// next response sets nothing.
func TestLogoutCookieSentBack(t *testing.T) {
	m, err := cookiesession.New(newRing(), cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	app := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		switch r.URL.Path {
		case "/login":
			mustSet(t, s, "user", "ada")
		case "/logout":
			s.Destroy()
		}
		fmt.Fprint(w, s.GetString("user"))
	}))
	serve := func(path string, cookies []*http.Cookie) *http.Response {
		r := httptest.NewRequest("POST", "https://example.com"+path, nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, r)
		return rec.Result()
	}
	logout := serve("/logout", serve("/login", nil).Cookies()).Cookies()
	if len(logout) != 1 || logout[0].MaxAge >= 0 || logout[0].Value != "" {
		t.Fatalf("logout set %v, want one expired cookie", logout)
	}
	if again := serve("/", logout).Cookies(); len(again) != 1 || again[0].MaxAge >= 0 {
		t.Errorf("the expired cookie sent back: response set %v, want it expired again", again)
	}
	var kept []*http.Cookie
	for _, c := range logout {
		if c.MaxAge >= 0 {
			kept = append(kept, c)
		}
	}
	if set := serve("/", kept).Cookies(); len(set) != 0 {
		t.Errorf("the expired cookie dropped, as a jar does: response set %v, want nothing", set)
	}
}

// TestSeededContextUnderHandlerWarns: a test that seeds a request with
// NewContext, as for a handler called alone, and then serves it through
// the Manager's Handler gets the session the request's cookie holds, not
// the seeded one: its values reach neither the handler nor a cookie. That
// is logged at Warn, once, with the fix (SaveHeader and AddCookie); a
// seeded session without a change (its cookie's, or one SaveHeader wrote)
// is what the Handler reads anyway, and is not logged.
func TestSeededContextUnderHandlerWarns(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	var user string
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user = cookiesession.FromContext(r.Context()).GetString("user")
	}))
	seed := func(r *http.Request, s *cookiesession.Session) *http.Request {
		return r.WithContext(cookiesession.NewContext(r.Context(), s))
	}

	b := newClientCookies()
	unchanged, _ := f.m.Load(b.request("/"))
	h.ServeHTTP(httptest.NewRecorder(), seed(b.request("/"), unchanged))
	saved, _ := f.m.Load(b.request("/"))
	mustSet(t, saved, "user", "ada")
	hdr := http.Header{}
	if err := f.m.SaveHeader(hdr, saved); err != nil {
		t.Fatal(err)
	}
	seeded := b.clone()
	seeded.apply(t, hdr)
	h.ServeHTTP(httptest.NewRecorder(), seed(seeded.request("/"), saved))
	if user != "ada" {
		t.Fatalf("seeded through its cookie: user %q, want ada", user)
	}
	if lines := f.log.lines("NewContext"); len(lines) != 0 {
		t.Fatalf("a seeded session without a change logged %q", lines)
	}

	for range 2 {
		changed, _ := f.m.Load(b.request("/"))
		mustSet(t, changed, "user", "bob")
		h.ServeHTTP(httptest.NewRecorder(), seed(b.request("/"), changed))
		if user != "" {
			t.Fatalf("user %q; the Handler serves the request's cookie's session", user)
		}
	}
	lines := f.log.lines("NewContext")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], `msg="cookiesession:`) ||
		!strings.Contains(lines[0], "SaveHeader") || !strings.Contains(lines[0], "AddCookie") {
		t.Errorf("a seeded session's change the Handler does not use logged %q; want one Warn naming SaveHeader and AddCookie", lines)
	}
}
