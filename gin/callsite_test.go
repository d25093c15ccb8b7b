package ginsession_test

import (
	"fmt"
	"html/template"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/seed-ff2808ae/cookiesession"
	ginsession "github.com/seed-ff2808ae/cookiesession/gin"
)

// TestCallerNamesTheHandlersCall: a handler's mistake is logged with the
// line of the application's call (caller). A template that c.HTML renders
// reads the session in gin's render package, whose line the Warn of a read
// after the response named; it names the handler's c.HTML, as the line of
// a read the handler makes itself names that read.
func TestCallerNamesTheHandlersCall(t *testing.T) {
	var logged strings.Builder
	m, err := cookiesession.New(newRing(t), cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.SetHTMLTemplate(template.Must(template.New("page").Parse(`<p>signed in as {{.GetString "user"}}</p>`)))
	r.Use(ginsession.Middleware(m))
	var at [2]int
	r.GET("/html", func(c *gin.Context) {
		c.HTML(200, "page", ginsession.Session(c))
		at[0] = callerLine() - 1
	})
	r.GET("/read", func(c *gin.Context) {
		c.String(200, "page")
		_, at[1] = ginsession.Session(c).GetString("user"), callerLine()
	})
	for _, path := range []string{"/html", "/read"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	warnsAt(t, logged.String(), "session first read once its response had gone out", at[:])
}

// warnsAt checks that log holds one Warn line with msg per line of at,
// in order, each naming callsite_test.go at that line.
func warnsAt(t *testing.T, log, msg string, at []int) {
	t.Helper()
	var lines []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, msg) {
			lines = append(lines, line)
		}
	}
	if len(lines) != len(at) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(at), log)
	}
	for i, line := range lines {
		if want := fmt.Sprintf("callsite_test.go:%d)", at[i]); !strings.Contains(line, "level=WARN") || !strings.Contains(line, want) {
			t.Errorf("%s\nwant a Warn naming the handler's call at %s", line, want)
		}
	}
}

// callerLine returns the line it is called from.
func callerLine() int {
	_, _, line, _ := runtime.Caller(1)
	return line
}

// TestSharedStoreNamesTheHandlersCall: a page that reads the session and
// that Cache-Control lets a shared cache store goes out as the handler set
// it, with Vary: Cookie, and is logged at Warn once per handler, naming
// the handler's c.String, which committed it through gin's render.
func TestSharedStoreNamesTheHandlersCall(t *testing.T) {
	var logged strings.Builder
	m, err := cookiesession.New(newRing(t), cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	var at [2]int
	r.GET("/a", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=60")
		c.String(200, "Hi %s", ginsession.Session(c).GetString("user"))
		at[0] = callerLine() - 1
	})
	r.GET("/b", func(c *gin.Context) {
		c.Header("Cache-Control", "s-maxage=300")
		c.String(200, "Hi %s", ginsession.Session(c).GetString("user"))
		at[1] = callerLine() - 1
	})
	for _, path := range []string{"/a", "/b", "/a"} {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if cc := rec.Header().Get("Cache-Control"); rec.Header().Get("Vary") != "Cookie" || cc != "public, max-age=60" && cc != "s-maxage=300" {
			t.Errorf("GET %s: Vary %q, Cache-Control %q; want Cookie and the handler's", path, rec.Header().Get("Vary"), cc)
		}
	}
	warnsAt(t, logged.String(), "may be stored by a shared cache, with only Vary: Cookie", at[:])
}
