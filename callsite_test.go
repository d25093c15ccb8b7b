package cookiesession_test

import (
	"context"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// TestInside checks which functions a search for the application's call
// passes over: the package's and its adapters', and the standard library's
// on the application's behalf, not the application's, an example's, a
// test's, or a library's (a WebSocket upgrader's).
func TestInside(t *testing.T) {
	const mod = "github.com/seed-ff2808ae/cookiesession"
	for function, want := range map[string]bool{
		mod + ".(*Manager).Save":                true,
		mod + ".(*Manager).Load.func1":          true,
		mod + ".GetAs[go.shape.int]":            true,
		mod + "/gin.Session":                    true,
		mod + "/fiber.New.func1":                true,
		"net/http.Error":                        true,
		"net/http.(*ResponseController).Hijack": true,
		"text/template.(*state).evalCall":       true,
		"reflect.Value.call":                    true,
		"runtime.goexit":                        true,
		"github.com/go-chi/chi/v5/middleware.(*httpFancyWriter).Hijack": true,
		// A framework's work for the application: a template c.HTML or
		// c.Render executes; a writer wrapper passing a second
		// WriteHeader on.
		"github.com/gin-gonic/gin/render.HTML.Render":                               true,
		"github.com/gin-gonic/gin.(*Context).HTML":                                  true,
		"github.com/labstack/echo/v5.(*TemplateRenderer).Render":                    true,
		"github.com/gofiber/fiber/v3.(*DefaultRes).Render":                          true,
		"github.com/gofiber/template/html/v2.(*Engine).Render":                      true,
		"github.com/go-chi/chi/v5/middleware.(*compressResponseWriter).WriteHeader": true,

		"main.profile":                                     false,
		"main.get[" + mod + ".Values]":                     false, // a path in type arguments
		mod + "_test.TestX":                                false,
		mod + "/gin_test.TestX.func1":                      false,
		mod + "/examples/migrate.load":                     false,
		mod + "/e2e.TestSharedCaches.func1":                false, // a test in package e2e
		mod + "/benchmarks.BenchmarkRead.func1":            false,
		mod + "x.F":                                        false, // another module
		"net/http/httputil.(*ReverseProxy).ServeHTTP":      false,
		"github.com/gorilla/websocket.(*Upgrader).Upgrade": false,
		"github.com/gofiber/contrib/websocket.New.func2":   false, // the upgrade a hijacker line names
		"github.com/gin-gonic/ginx.F":                      false, // no framework's
		// chi's middleware that writes a second status of its own.
		"github.com/go-chi/chi/v5/middleware.Recoverer.func1.1": false,
		"github.com/go-chi/chi/v5/middleware.Timeout.func1.1":   false,
		"example.com/app/handlers.(*Site).Profile":              false,
	} {
		if got := cookiesession.Inside(function); got != want {
			t.Errorf("Inside(%q) = %v, want %v", function, got, want)
		}
	}
}

// TestHandlerMistakesLoggedPerCallSite: a mistake one handler makes (a
// Save after its request ended, a session from Load left unsaved, a session
// first read after its response went out) was logged once per Manager, so
// the first handler's, logged at deploy time, hid every other handler's
// for good. Each is now logged once per line of code that makes it, and
// the line names that call: a second call site gets a line of its own; a
// repeat of one does not. Each request below makes its mistake at the
// call site its number names: 0 twice, then 1 (and 2).
func TestHandlerMistakesLoggedPerCallSite(t *testing.T) {
	sites := []int{0, 0, 1}
	t.Run("save after the request ended", func(t *testing.T) {
		f := newFixture(t, cookiesession.Options{})
		ended, end := context.WithCancel(context.Background())
		end()
		var at [2]int
		for _, site := range sites {
			r := httptest.NewRequest("GET", "/", nil).WithContext(ended)
			s, _ := f.m.Load(r)
			mustSet(t, s, "user", "ada")
			var err error
			if site == 0 {
				err, at[0] = f.m.Save(httptest.NewRecorder(), r, s), callerLine()
			} else {
				err, at[1] = f.m.Save(httptest.NewRecorder(), r, s), callerLine()
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		checkCallSites(t, f.log.lines("after its request's context ended"), at[:]...)
	})

	t.Run("session from Load left unsaved", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			session := func(s *cookiesession.Session, _ error) *cookiesession.Session { return s }
			var at [2]int
			for _, site := range sites {
				ctx, end := context.WithCancel(context.WithValue(context.Background(), http.ServerContextKey, &http.Server{}))
				r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
				var s *cookiesession.Session
				if site == 0 {
					s, at[0] = session(f.m.Load(r)), callerLine()
				} else {
					s, at[1] = session(f.m.Load(r)), callerLine()
				}
				mustSet(t, s, "cart", "1 item")
				end()
				synctest.Wait()
			}
			checkCallSites(t, f.log.lines("left unsaved when its request ended"), at[:]...)
			if lost := f.m.Metrics().Lost["unsaved"]; lost != 3 {
				t.Errorf("lost.unsaved %d, want 3", lost)
			}
		})
	})

	t.Run("session first read after the response", func(t *testing.T) {
		f := newFixture(t, cookiesession.Options{})
		page := template.Must(template.New("page").Parse(`signed in as {{.GetString "user"}}`))
		var at [3]int
		read := []http.HandlerFunc{
			func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "page")
				_, at[0] = cookiesession.FromContext(r.Context()).GetString("user"), callerLine()
			},
			func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "page")
				_, at[1] = cookiesession.FromContext(r.Context()).GetString("user"), callerLine()
			},
			// A template that reads the session as it writes the page:
			// its Execute is the call to fix, not reflect's.
			func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "<p>")
				_, at[2] = page.Execute(w, cookiesession.FromContext(r.Context())), callerLine()
			},
		}
		for _, site := range append(sites, 2) {
			f.m.Handler(read[site]).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		}
		checkCallSites(t, f.log.lines("session first read once its response had gone out"), at[:]...)
	})

	t.Run("a change and a SkipRefresh after the response", func(t *testing.T) {
		// Rated once a minute, as before; the lines now say where the
		// call was made.
		f := newFixture(t, cookiesession.Options{IdleTimeout: time.Hour})
		b := newClientCookies()
		f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			mustSet(t, cookiesession.FromContext(r.Context()), "user", "ada")
		})
		f.clock.Advance(31 * time.Minute) // due a rolling refresh
		var at [2]int
		f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			_ = s.GetString("user")
			io.WriteString(w, "page")
			skip := func() int { s.SkipRefresh(); return callerLine() }
			at[0] = skip()
			var err error
			if err, at[1] = s.Set("seen", true), callerLine(); err != nil {
				t.Error(err)
			}
		})
		checkCallSites(t, f.log.lines("SkipRefresh called after"), at[0])
		checkCallSites(t, f.log.lines("changed after the response was committed"), at[1])
	})

	t.Run("a getter's wrong type", func(t *testing.T) {
		// Logged once per getter, key and type, as before; the line now
		// says where the getter was called.
		f := newFixture(t, cookiesession.Options{})
		var at int
		f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			mustSet(t, s, "user_id", "42")
			_, at = s.GetInt("user_id"), callerLine()
		})
		checkCallSites(t, f.log.lines("Session.GetInt found under the key"), at)
	})
}

// TestCallSitesSampled: finding a call costs about a microsecond, and an
// access log that reads the session after the body would pay it on every
// request; past the first 1024 late reads, about one in 64 is looked up.
// A line of code first reached after that is still logged, once, and a
// line already logged is not again, whichever of each two requests
// reaches it: always the first, or always the second (one occurrence in
// two, which every 64th would never look at).
func TestCallSitesSampled(t *testing.T) {
	for _, first := range []bool{true, false} {
		f := newFixture(t, cookiesession.Options{})
		var at [2]int
		h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "page")
			s := cookiesession.FromContext(r.Context())
			if r.URL.Path == "/new" {
				_, at[1] = s.GetString("user"), callerLine()
				return
			}
			_, at[0] = s.GetString("user"), callerLine() // an access log's
		}))
		get := func(path string) { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil)) }
		for range 1501 {
			get("/")
		}
		for range 128 {
			if first {
				get("/new")
			}
			get("/")
			if !first {
				get("/new")
			}
		}
		checkCallSites(t, f.log.lines("session first read once its response had gone out"), at[:]...)
	}
}

// TestCallerPastNestedTemplates: a template's read is some 15 frames below
// its Execute, and 3 more for each {{with}}, {{if}} or {{template}} around
// it, so that a partial in a layout read the session past the 32 frames
// the search looked at, and its line said caller=unknown. It names the
// Execute, however deep.
func TestCallerPastNestedTemplates(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	page := template.Must(template.New("layout").Parse(`<main>{{template "page" .}}</main>` +
		`{{define "page"}}{{with .}}{{if true}}{{template "partial" .}}{{end}}{{end}}{{end}}` +
		`{{define "partial"}}{{with .}}{{if true}}{{template "user" .}}{{end}}{{end}}{{end}}` +
		`{{define "user"}}{{with .}}{{if true}}{{.GetString "user"}}{{end}}{{end}}{{end}}`))
	var at int
	f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!doctype html>")
		_, at = page.Execute(w, cookiesession.FromContext(r.Context())), callerLine()
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	checkCallSites(t, f.log.lines("session first read once its response had gone out"), at)
}

// TestCallSitesLookedUpWhenSpaced: past the first 1024 late reads, one
// that comes 100 µs or more after the last one looked up is looked up too,
// so a rare route's first late read is logged at once, not after some 64
// of its own, while mistakes that crowd (a saturated access log) are
// sampled. The fixture's clock moves only when told.
func TestCallSitesLookedUpWhenSpaced(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	var at [2]int
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "page")
		s := cookiesession.FromContext(r.Context())
		if r.URL.Path == "/rare" {
			_, at[1] = s.GetString("user"), callerLine()
			return
		}
		_, at[0] = s.GetString("user"), callerLine() // an access log's
	}))
	get := func(path string) { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil)) }
	for range 2000 {
		get("/")
	}
	// Crowded: the rare route's read at the same instant is sampled, and
	// this count (2001 after the hash) is not among the hash's picks.
	get("/rare")
	const msg = "session first read once its response had gone out"
	if lines := f.log.lines(msg); len(lines) != 1 {
		t.Fatalf("the rare read among crowded ones was looked up: %d lines; the test's count no longer misses the hash", len(lines))
	}
	f.clock.Advance(100 * time.Microsecond)
	get("/rare")
	checkCallSites(t, f.log.lines(msg), at[:]...)
}
