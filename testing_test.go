package cookiesession_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
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
