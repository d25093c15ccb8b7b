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
// net/http does, naming the handler's call rather than the middleware's
// writer. chi's Compress passes a second WriteHeader on, and the line
// named its compressResponseWriter, in chi's package: the handler's call
// is named.
func TestSuperfluousNamesTheHandlersCall(t *testing.T) {
	sessions, _ := newSessions(t, cookiesession.Options{})
	r := chi.NewRouter()
	r.Use(sessions.Handler, middleware.Compress(5))
	var at int
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.WriteHeader(http.StatusInternalServerError)
		_, _, at, _ = runtime.Caller(0)
		at--
	})
	var logged bytes.Buffer
	srv := httptest.NewUnstartedServer(r)
	srv.Config.ErrorLog = log.New(&logged, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	req, err := http.NewRequest("GET", srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Close() // the log is written before the handler's response ends
	want := fmt.Sprintf("superfluous response.WriteHeader call from github.com/seed-ff2808ae/cookiesession/examples/chi.TestSuperfluousNamesTheHandlersCall.func1 (callsite_test.go:%d)", at)
	if got := logged.String(); !strings.Contains(got, want) {
		t.Errorf("logged %q\nwant %q", got, want)
	}
}
