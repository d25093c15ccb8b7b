package cookiesession

// The helpers of the package's internal tests.

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// quietManager returns a Manager with default options and a discarding
// logger, over a ring of the vectors' key.
func quietManager(t testing.TB) *Manager {
	t.Helper()
	key, err := NewKey(vecKey1.id, vecKey1.secret)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(ring, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// requestWithSession returns a GET request carrying the cookie of a
// session that holds user=alice.
func requestWithSession(t testing.TB, m *Manager) *http.Request {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := FromContext(r.Context()).Set("user", "alice"); err != nil {
			t.Fatal(err)
		}
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("Set-Cookie %q, want one session cookie", rec.Result().Header.Values("Set-Cookie"))
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(cookies[0])
	return req
}
