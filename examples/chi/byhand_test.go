package chiexample

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestSaveByHandUnderLogger: Load and Save without the Manager's
// middleware, under chi's Logger, whose writer reports the status it sent.
// A Save before the body sets the cookie; one after the body returns
// ErrHeadersWritten, where it returned nil and the change was lost.
func TestSaveByHandUnderLogger(t *testing.T) {
	sessions, _ := newSessions(t, cookiesession.Options{})
	saved := make(chan error, 2)
	r := chi.NewRouter()
	r.Use(middleware.RequestLogger(quietLog{}))
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessions.Load(r)
		if err := s.Set("user", "ada"); err != nil {
			t.Error(err)
		}
		saved <- sessions.Save(w, r, s)
		_, _ = w.Write([]byte("hello"))
		if err := s.Set("user", "bob"); err != nil {
			t.Error(err)
		}
		saved <- sessions.Save(w, r, s)
	})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	if before, after := <-saved, <-saved; before != nil || !errors.Is(after, cookiesession.ErrHeadersWritten) {
		t.Errorf("Save before the body: %v, after it: %v; want nil, then ErrHeadersWritten", before, after)
	}
	if n := len(rec.Result().Cookies()); n != 1 {
		t.Errorf("%d cookies, want the first Save's", n)
	}
}
