package cookiesession

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// quietManager returns a Manager with default options and a discarding
// logger, over a one-key ring.
func quietManager(t testing.TB) *Manager {
	t.Helper()
	ring, _ := NewKeyRing(rkey(t, 7))
	m, err := New(ring, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestHeaderBufNotShared checks the header slices a Session lends to the
// response: a handler that adds to Vary, Cache-Control or Set-Cookie after
// a Save, and a second commit after a further change, must leave every
// header exactly as if each slice had been allocated on its own.
func TestHeaderBufNotShared(t *testing.T) {
	m := quietManager(t)
	var afterSave http.Header
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		_ = s.Set("user", "alice")
		if err := m.Save(w, r, s); err != nil {
			t.Fatal(err)
		}
		afterSave = w.Header().Clone()
		w.Header().Add("Vary", "Accept-Encoding")
		w.Header().Add("Cache-Control", "private")
		w.Header().Add("Set-Cookie", "theme=dark")
		_ = s.Set("user", "bob") // a second commit follows, when the handler returns
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	h := rec.Result().Header
	if got := h["Vary"]; !slices.Equal(got, []string{"Cookie", "Accept-Encoding"}) {
		t.Errorf("Vary %q", got)
	}
	if got := h["Cache-Control"]; !slices.Equal(got, []string{"no-store", "private"}) {
		t.Errorf("Cache-Control %q", got)
	}
	lines := h["Set-Cookie"]
	if len(lines) != 2 || lines[0] != "theme=dark" || !strings.HasPrefix(lines[1], "session=") {
		t.Fatalf("Set-Cookie %q, want theme then one session line", lines)
	}
	if lines[1] == afterSave["Set-Cookie"][0] {
		t.Error("the second commit did not replace the first session line")
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", cookieHeader(lines))
	s, err := m.Load(req)
	if err != nil || s.GetString("user") != "bob" {
		t.Errorf("the final cookie holds %q (%v), want bob", s.GetString("user"), err)
	}
}

// TestTooManyCookies checks the count against net/http's rule at the
// boundary, with the cookies in one line and spread over several, and
// that short headers are not miscounted by the shortcut.
func TestTooManyCookies(t *testing.T) {
	cookies := func(n int) string { return strings.TrimSuffix(strings.Repeat("a=1;", n), ";") }
	for _, c := range []struct {
		name  string
		lines []string
		n     int
		over  bool
	}{
		{"none", nil, 0, false},
		{"one", []string{"session=abc"}, 0, false},
		{"3000 in one line", []string{cookies(3000)}, 3000, false},
		{"3001 in one line", []string{cookies(3001)}, 3001, true},
		{"3001 over three lines", []string{cookies(1000), cookies(1000), cookies(1001)}, 3001, true},
		{"3000 empty cookies", []string{strings.Repeat(";", 2999)}, 3000, false},
		{"3001 empty cookies", []string{strings.Repeat(";", 3000)}, 3001, true},
	} {
		n, over := tooManyCookies(c.lines)
		if over != c.over || (over && n != c.n) {
			t.Errorf("%s: tooManyCookies = %d, %v; want %d, %v", c.name, n, over, c.n, c.over)
		}
	}
}
