package chiexample

import (
	"bytes"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestSuperfluousNamesTheHandlersCall: a second WriteHeader is logged, as
// net/http does, naming the handler's call rather than a writer that
// passed it on. chi's Compress passes a second WriteHeader on, and the
// line named its compressResponseWriter, in chi's package: the handler's
// call is named. chi's Recoverer, whose 500 after a handler's status is
// its own second WriteHeader, is named itself.
func TestSuperfluousNamesTheHandlersCall(t *testing.T) {
	sessions, _ := newSessions(t, cookiesession.Options{})
	r := chi.NewRouter()
	r.Use(middleware.RequestLogger(quietLog{}), sessions.Handler, middleware.Recoverer, middleware.Compress(5))
	var at int
	r.Get("/twice", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.WriteHeader(http.StatusInternalServerError)
		_, _, at, _ = runtime.Caller(0)
		at--
	})
	r.Get("/panic", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		panic("after the status")
	})
	var logged bytes.Buffer
	srv := httptest.NewUnstartedServer(r)
	srv.Config.ErrorLog = log.New(&logged, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	for _, path := range []string{"/twice", "/panic"} {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	srv.Close() // every handler has returned, and logged
	got := strings.Split(strings.TrimSpace(logged.String()), "\n")
	want := []string{
		fmt.Sprintf("http: superfluous response.WriteHeader call from github.com/seed-ff2808ae/cookiesession/examples/chi.TestSuperfluousNamesTheHandlersCall.func1 (callsite_test.go:%d)", at),
		"http: superfluous response.WriteHeader call from github.com/go-chi/chi/v5/middleware.Recoverer.func1.1 (recoverer.go:",
	}
	if len(got) != len(want) {
		t.Fatalf("logged %q\nwant lines that start %q", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("logged %q\nwant %q", got[i], want[i])
		}
	}
}
