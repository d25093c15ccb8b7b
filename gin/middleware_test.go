package ginsession_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/seed-ff2808ae/cookiesession"
	ginsession "github.com/seed-ff2808ae/cookiesession/gin"
)

// newApp is a gin app with the middleware and one route per way of
// answering. Every route under /style/ stores its name, then answers.
func newApp(t *testing.T, m *cookiesession.Manager) *gin.Engine {
	file := filepath.Join(t.TempDir(), "hello.txt")
	if err := os.WriteFile(file, []byte("hello from a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	set := func(c *gin.Context, key string, v any) bool {
		if err := ginsession.Session(c).Set(key, v); err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return false
		}
		return true
	}
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.POST("/login", func(c *gin.Context) {
		ginsession.Session(c).Renew()
		if set(c, "user", c.Query("user")) {
			c.String(http.StatusOK, "hello %s", c.Query("user"))
		}
	})
	r.GET("/whoami", func(c *gin.Context) {
		s := ginsession.Session(c)
		c.String(http.StatusOK, "user=%s blob=%d style=%s", s.GetString("user"), len(s.GetString("blob")), s.GetString("style"))
	})
	r.POST("/blob", func(c *gin.Context) {
		n, _ := strconv.Atoi(c.Query("n"))
		if set(c, "blob", strings.Repeat("x", n)) {
			c.String(http.StatusOK, "stored %d", n)
		}
	})
	r.POST("/logout", func(c *gin.Context) {
		ginsession.Session(c).Destroy()
		c.String(http.StatusOK, "bye")
	})
	r.POST("/style/:name", func(c *gin.Context) {
		name := c.Param("name")
		if !set(c, "style", name) {
			return
		}
		switch name {
		case "json":
			c.JSON(http.StatusCreated, gin.H{"style": name})
		case "string":
			c.String(http.StatusOK, "style %s", name)
		case "redirect":
			c.Redirect(http.StatusSeeOther, "/whoami")
		case "abort":
			c.AbortWithStatus(http.StatusAccepted)
		case "stream":
			c.Stream(func(w io.Writer) bool {
				_, _ = io.WriteString(w, "streamed")
				return false
			})
		case "file":
			c.File(file)
		case "status": // nothing written: committed when the chain returns
			c.Status(http.StatusNoContent)
		case "sse":
			c.SSEvent("style", name)
		}
	})
	return r
}

func TestSessionLifecycle(t *testing.T) {
	srv := newServer(t, newApp(t, newManager(t)))
	c := newClient(t, srv)

	if _, body := c.do("GET", "/whoami"); body != "user= blob=0 style=" {
		t.Fatalf("first visit: %q", body)
	}
	if resp, _ := c.do("GET", "/whoami"); resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("a request that stores nothing got Set-Cookie %q", resp.Header["Set-Cookie"])
	}

	resp, body := c.do("POST", "/login?user=ada")
	if body != "hello ada" || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
		t.Fatalf("login: %q, Set-Cookie %v", body, setCookies(resp))
	}
	if _, body := c.do("GET", "/whoami"); body != "user=ada blob=0 style=" {
		t.Fatalf("after login: %q", body)
	}

	resp, _ = c.do("POST", fmt.Sprintf("/blob?n=%d", chunkedBlob))
	if got := setCookies(resp); !slices.Equal(got, []string{"session.1=kept", "session=kept"}) {
		t.Fatalf("chunked session: Set-Cookie %v, want two chunks", got)
	}
	if got := c.jarNames(); !slices.Equal(got, []string{"session", "session.1"}) {
		t.Fatalf("jar holds %v", got)
	}
	want := fmt.Sprintf("user=ada blob=%d style=", chunkedBlob)
	if _, body := c.do("GET", "/whoami"); body != want {
		t.Fatalf("read back from two chunks: %q, want %q", body, want)
	}

	resp, body = c.do("POST", fmt.Sprintf("/blob?n=%d", tooLargeBlob))
	if resp.StatusCode != http.StatusRequestEntityTooLarge || body != "session too large\n" {
		t.Fatalf("too large: %d %q, want the ErrorHandler's 413", resp.StatusCode, body)
	}
	if got := resp.Header["Set-Cookie"]; got != nil {
		t.Fatalf("too large: Set-Cookie %q", got)
	}
	if _, body := c.do("GET", "/whoami"); body != want {
		t.Fatalf("after a too-large session the client's cookie says %q, want %q", body, want)
	}

	resp, _ = c.do("POST", "/logout")
	if got := setCookies(resp); !slices.Equal(got, []string{"session.1=expired", "session=expired"}) {
		t.Fatalf("logout: Set-Cookie %v, want both chunks expired", got)
	}
	if got := c.jarNames(); len(got) != 0 {
		t.Fatalf("after logout the jar holds %v", got)
	}
	if _, body := c.do("GET", "/whoami"); body != "user= blob=0 style=" {
		t.Fatalf("after logout: %q", body)
	}
}

// TestAnswerStyles checks that every way a gin handler can answer carries
// the cookie, and that the cookie holds what the handler stored.
func TestAnswerStyles(t *testing.T) {
	srv := newServer(t, newApp(t, newManager(t)))
	for _, tc := range []struct {
		style  string
		status int
		body   string
	}{
		{"json", http.StatusCreated, `{"style":"json"}`},
		{"string", http.StatusOK, "style string"},
		{"redirect", http.StatusSeeOther, ""},
		{"abort", http.StatusAccepted, ""},
		{"stream", http.StatusOK, "streamed"},
		{"file", http.StatusOK, "hello from a file"},
		{"status", http.StatusNoContent, ""},
		{"sse", http.StatusOK, "event:style\ndata:sse\n\n"},
	} {
		t.Run(tc.style, func(t *testing.T) {
			c := newClient(t, srv)
			resp, body := c.do("POST", "/style/"+tc.style)
			if resp.StatusCode != tc.status || body != tc.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.body)
			}
			if got := setCookies(resp); !slices.Equal(got, []string{"session=kept"}) {
				t.Fatalf("Set-Cookie %v, want the session cookie", got)
			}
			if tc.style == "redirect" && resp.Header.Get("Location") != "/whoami" {
				t.Errorf("Location %q", resp.Header.Get("Location"))
			}
			if _, body := c.do("GET", "/whoami"); body != "user= blob=0 style="+tc.style {
				t.Errorf("next request reads %q", body)
			}
		})
	}
}

// TestSaveAfterCommit checks that Manager.Save sees through the gin
// writer: once the response has started, it reports that the change
// cannot reach the client.
func TestSaveAfterCommit(t *testing.T) {
	m := newManager(t)
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	var saveErr error
	r.GET("/", func(c *gin.Context) {
		c.String(http.StatusOK, "early")
		s := ginsession.Session(c)
		_ = s.Set("late", true)
		saveErr = m.Save(c.Writer, c.Request, s)
	})
	srv := newServer(t, r)
	resp, body := newClient(t, srv).do("GET", "/")
	if body != "early" || resp.Header["Set-Cookie"] != nil {
		t.Fatalf("got %q with Set-Cookie %q", body, resp.Header["Set-Cookie"])
	}
	if saveErr != cookiesession.ErrHeadersWritten {
		t.Fatalf("Save after the body: %v, want ErrHeadersWritten", saveErr)
	}
}

// TestByHandAroundNextLosesCookie keeps README's reason for
// ginsession.Middleware true: with Load before c.Next() and Save after it,
// without the middleware, gin has sent the headers by the time Save runs,
// and the cookie is lost. Save says so: it returns an error matching
// ErrHeadersWritten that names the fix (gin's writer reports Written),
// where it returned nil.
func TestByHandAroundNextLosesCookie(t *testing.T) {
	var logged strings.Builder
	m := loggedManager(t, "/", &logged)
	r := gin.New()
	var saveErr error
	r.Use(func(c *gin.Context) {
		s, _ := m.Load(c.Request)
		c.Set("session", s)
		c.Next()
		saveErr = m.Save(c.Writer, c.Request, s)
	})
	r.POST("/login", func(c *gin.Context) {
		if err := c.MustGet("session").(*cookiesession.Session).Set("user", "ada"); err != nil {
			t.Error(err)
		}
		c.String(http.StatusOK, "hello ada")
	})
	resp, body := newClient(t, newServer(t, r)).do(http.MethodPost, "/login")
	if body != "hello ada" || resp.Header["Set-Cookie"] != nil || !errors.Is(saveErr, cookiesession.ErrHeadersWritten) || !strings.Contains(fmt.Sprint(saveErr), "before c.Next() returns") {
		t.Errorf("Load, c.Next(), Save: %q, Set-Cookie %q, Save %v; want the answer, no cookie, and ErrHeadersWritten naming the fix, as README says",
			body, resp.Header["Set-Cookie"], saveErr)
	}
}

// TestReadmeGin compiles the README's gin snippet against this module.
func TestReadmeGin(t *testing.T) { compileReadmeBlock(t, "ginsession.Middleware(") }

// TestGinContextAsContext passes the *gin.Context itself to
// cookiesession.FromContext, as gin code passes c wherever a
// context.Context is asked for. Under gin's default engine that finds no
// session, though the middleware is on the route, so the panic must name
// c.Request.Context() and ContextWithFallback, not only the middleware
// already there; with ContextWithFallback set, c finds the session.
func TestGinContextAsContext(t *testing.T) {
	for _, fallback := range []bool{false, true} {
		r := gin.New()
		r.ContextWithFallback = fallback
		r.Use(ginsession.Middleware(newManager(t)))
		var msg string
		r.POST("/", func(c *gin.Context) {
			defer func() {
				if p := recover(); p != nil {
					msg = fmt.Sprint(p)
					c.AbortWithStatus(http.StatusInternalServerError)
				}
			}()
			if err := cookiesession.FromContext(c).Set("user", "ada"); err != nil {
				t.Error(err)
			}
			c.String(http.StatusOK, "ok")
		})
		r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "user=%s", ginsession.Session(c).GetString("user")) })
		cl := newClient(t, newServer(t, r))
		resp, _ := cl.do(http.MethodPost, "/")
		_, body := cl.do(http.MethodGet, "/")
		switch {
		case !fallback && (!strings.HasPrefix(msg, "cookiesession: ") || !strings.Contains(msg, "c.Request.Context()") || !strings.Contains(msg, "ContextWithFallback")):
			t.Errorf("FromContext(c) under gin's default engine: panic %q does not name c.Request.Context() and ContextWithFallback", msg)
		case fallback && (resp.StatusCode != http.StatusOK || body != "user=ada"):
			t.Errorf("FromContext(c) under ContextWithFallback: POST %d, then %q; want 200 and user=ada (panic %q)", resp.StatusCode, body, msg)
		}
	}
}

// TestStackedManagers puts two Managers' middleware on one route: each
// Manager's session is reached through it, each commits its own cookie,
// and Session returns the innermost one's.
func TestStackedManagers(t *testing.T) {
	auth, prefs := namedManager(t, "auth"), namedManager(t, "prefs")
	r := gin.New()
	r.Use(ginsession.Middleware(auth), ginsession.Middleware(prefs))
	r.POST("/set", func(c *gin.Context) {
		ctx := c.Request.Context()
		if err := errors.Join(auth.FromContext(ctx).Set("user", "ada"), prefs.FromContext(ctx).Set("theme", "dark")); err != nil {
			t.Error(err)
		}
		c.String(http.StatusOK, "ok")
	})
	r.GET("/get", func(c *gin.Context) {
		ctx := c.Request.Context()
		c.String(http.StatusOK, "user=%s theme=%s innermost=%s", auth.FromContext(ctx).GetString("user"),
			prefs.FromContext(ctx).GetString("theme"), ginsession.Session(c).GetString("theme"))
	})
	cl := newClient(t, newServer(t, r))
	cl.do(http.MethodPost, "/set")
	if got := cl.jarNames(); !slices.Equal(got, []string{"auth", "prefs"}) {
		t.Errorf("cookies %q, want auth and prefs", got)
	}
	if _, body := cl.do(http.MethodGet, "/get"); body != "user=ada theme=dark innermost=dark" {
		t.Errorf("GET /get: %q", body)
	}
}

// TestStackedManagersSessionLogged: code written for one Manager that
// calls ginsession.Session(c) under two gets the innermost Manager's
// session. That is logged at Warn, once for each line of code that makes
// the call, naming that line (caller), both Managers and the fix.
func TestStackedManagersSessionLogged(t *testing.T) {
	var logged strings.Builder
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	managers := map[string]*cookiesession.Manager{}
	for _, name := range []string{"auth", "prefs"} {
		m, err := cookiesession.New(newRing(t), cookiesession.Options{Name: name, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		managers[name] = m
	}
	r := gin.New()
	r.Use(ginsession.Middleware(managers["auth"]), ginsession.Middleware(managers["prefs"]))
	var at [2]int
	r.GET("/a", func(c *gin.Context) {
		_, at[0] = ginsession.Session(c).GetString("user"), callerLine()
	})
	r.GET("/b", func(c *gin.Context) {
		_, at[1] = ginsession.Session(c).GetString("user"), callerLine()
	})
	for _, path := range []string{"/a", "/a", "/b"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "https://example.com"+path, nil))
	}
	var lines []string
	for _, line := range strings.Split(logged.String(), "\n") {
		if strings.Contains(line, "stacked Managers") {
			lines = append(lines, line)
		}
	}
	if len(lines) != len(at) {
		t.Fatalf("%d lines, want one for each of the two lines of code:\n%s", len(lines), logged.String())
	}
	for i, line := range lines {
		if call := fmt.Sprintf("middleware_test.go:%d)", at[i]); !strings.Contains(line, "level=WARN") || !strings.Contains(line, call) ||
			!strings.Contains(line, `stacked="[prefs auth]"`) || !strings.Contains(line, "m.FromContext(r.Context())") {
			t.Errorf("%s\nwant a Warn naming the call at %s, both Managers and the fix", line, call)
		}
	}
}

// TestPanicSendsNoCookie checks that a handler that changes the session and
// then panics gets Recovery's 500 without the half-made change, as a
// net/http handler's panic does.
func TestPanicSendsNoCookie(t *testing.T) {
	m := newManager(t)
	r := gin.New()
	r.Use(gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, _ any) { c.AbortWithStatus(http.StatusInternalServerError) }))
	r.Use(ginsession.Middleware(m))
	r.POST("/pay", func(c *gin.Context) {
		if err := ginsession.Session(c).Set("balance", 0); err != nil {
			t.Error(err)
		}
		panic("payment failed")
	})
	resp, _ := newClient(t, newServer(t, r)).do(http.MethodPost, "/pay")
	if resp.StatusCode != http.StatusInternalServerError || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("after a panic: %d, Set-Cookie %q; want Recovery's 500 and no cookie", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
}

// TestOverlappingManagersStopTheRoute checks that when stacked Managers'
// cookie names overlap, the route does not run after the ErrorHandler's
// answer.
func TestOverlappingManagersStopTheRoute(t *testing.T) {
	ring := newRing(t)
	auth, err1 := cookiesession.New(ring, cookiesession.Options{Name: "a", MaxChunks: 2})
	prefs, err2 := cookiesession.New(ring, cookiesession.Options{Name: "a.1"})
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(ginsession.Middleware(auth), ginsession.Middleware(prefs))
	ran := false
	r.GET("/", func(c *gin.Context) { ran = true; c.String(http.StatusOK, "transferred") })
	resp, body := newClient(t, newServer(t, r)).do(http.MethodGet, "/")
	if resp.StatusCode != http.StatusInternalServerError || ran || strings.Contains(body, "transferred") {
		t.Errorf("overlapping Managers: %d %q, route ran %v; want the ErrorHandler's 500 alone", resp.StatusCode, body, ran)
	}
}

// TestChangeAfterPanicLogged checks that a change Recovery's handler makes
// to the session, which c.Request still carries after the panic, is logged
// as not saved, with the fix for a panic, rather than lost without a word,
// and that the 500 carries no cookie.
func TestChangeAfterPanicLogged(t *testing.T) {
	var logged strings.Builder
	m, err := cookiesession.New(newRing(t), cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, _ any) {
		ginsession.Session(c).AddFlash("something went wrong")
		c.AbortWithStatus(http.StatusInternalServerError)
	}))
	r.Use(ginsession.Middleware(m))
	r.GET("/", func(c *gin.Context) {
		_ = ginsession.Session(c).GetString("user")
		panic("payment failed")
	})
	resp, _ := newClient(t, newServer(t, r)).do(http.MethodGet, "/")
	if resp.StatusCode != http.StatusInternalServerError || resp.Header["Set-Cookie"] != nil {
		t.Errorf("after a panic: %d, Set-Cookie %q; want Recovery's 500 and no cookie", resp.StatusCode, resp.Header["Set-Cookie"])
	}
	// The line names the panic and the recoverer's place, not "before the
	// handler writes", which Recovery's handler did.
	if log := logged.String(); !strings.Contains(log, "session changed after the handler panicked; the change was not saved") ||
		!strings.Contains(log, "put the recoverer inside the session middleware") {
		t.Errorf("Recovery's flash after the panic was not logged with the fix; log:\n%s", log)
	}
}

// TestNilManagerRefused checks that Middleware(nil), a Manager whose New
// error was dropped, panics where the middleware is made, naming the fix,
// rather than with a nil dereference on every request.
func TestNilManagerRefused(t *testing.T) {
	defer func() {
		if msg, _ := recover().(string); !strings.HasPrefix(msg, "cookiesession: ginsession.Middleware needs a Manager") {
			t.Errorf("Middleware(nil) panicked with %q, want the fix", msg)
		}
	}()
	ginsession.Middleware(nil)
}

// TestNotModifiedAndHead checks that a 304 from gin's file serving, which
// writes no body, and an answer to HEAD carry the cookie of a change made
// before them.
func TestNotModifiedAndHead(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hello.txt")
	if err := os.WriteFile(file, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(ginsession.Middleware(newManager(t)), func(c *gin.Context) {
		if err := ginsession.Session(c).Set("seen", c.Request.Method); err != nil {
			t.Error(err)
		}
	})
	r.StaticFile("/file", file) // GET and HEAD
	srv := newServer(t, r)
	later := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		method, since string
		status        int
	}{
		{"GET", later, http.StatusNotModified}, {"HEAD", "", http.StatusOK}, {"HEAD", later, http.StatusNotModified},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+"/file", nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.since != "" {
			req.Header.Set("If-Modified-Since", tc.since)
		}
		resp, _ := newClient(t, srv).send(req)
		if resp.StatusCode != tc.status || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
			t.Errorf("%s since %q: %d with Set-Cookie %v, want %d and the session cookie", tc.method, tc.since, resp.StatusCode, setCookies(resp), tc.status)
		}
	}
}

// TestReverseProxyUpgradeNotLogged proxies a WebSocket-style upgrade with
// httputil.ReverseProxy on gin's c.Writer, which passes the Hijack through
// gin's and the adapter's writers: the proxy writes the header map, so the
// login reaches the client on the 101, and the Manager does not log the
// cookie as lost at the Hijack.
func TestReverseProxyUpgradeNotLogged(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "echo")
		w.WriteHeader(http.StatusSwitchingProtocols)
	}))
	t.Cleanup(upstream.Close)
	target, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var logged strings.Builder
	m := loggedManager(t, "/", &logged)
	r := gin.New()
	r.GET("/ws", ginsession.Middleware(m), func(c *gin.Context) {
		if err := ginsession.Session(c).Set("user", "ada"); err != nil {
			t.Error(err)
		}
		proxy.ServeHTTP(c.Writer, c.Request)
	})
	srv := newServer(t, r)
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols || len(setCookies(resp)) == 0 {
		t.Errorf("%s with Set-Cookie %q, want a 101 with the login", resp.Status, setCookies(resp))
	}
	if strings.Contains(logged.String(), "at a Hijack") {
		t.Errorf("the proxy's Hijack was logged as losing the cookie:\n%s", logged.String())
	}
}

// TestPollAndBrowserRestart runs a login with and without "remember me"
// beside a preferences Manager, on the Managers' injected clock: a polling
// route that calls SkipRefresh never slides the auth session's idle window
// (the session ends 30 minutes after the last page, however often it is
// polled), a page does, the preferences cookie is written with the
// redirect after its POST, and only the remembered login outlives a
// browser restart.
func TestPollAndBrowserRestart(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	auth, err := cookiesession.New(newRing(t), cookiesession.Options{Name: "auth", MaxAge: 2 * time.Hour,
		IdleTimeout: 30 * time.Minute, MaxLifetime: rememberFor, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	prefs, err := cookiesession.New(newRing(t), cookiesession.Options{Name: "prefs", MaxAge: 90 * 24 * time.Hour, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Use(ginsession.Middleware(auth), ginsession.Middleware(prefs))
	r.POST("/login", func(c *gin.Context) {
		s := auth.FromContext(c.Request.Context())
		s.Renew()
		lifetime := cookiesession.Lifetime{BrowserSession: true}
		if c.PostForm("remember") == "on" {
			lifetime = cookiesession.Lifetime{MaxAge: rememberFor, IdleTimeout: 7 * 24 * time.Hour}
		}
		if err := errors.Join(s.SetLifetime(lifetime), s.Set("user", c.PostForm("user"))); err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/")
	})
	r.POST("/theme", func(c *gin.Context) {
		if err := prefs.FromContext(c.Request.Context()).Set("theme", c.PostForm("theme")); err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/")
	})
	r.GET("/", func(c *gin.Context) {
		c.String(http.StatusOK, "user=%s theme=%s", auth.FromContext(c.Request.Context()).GetString("user"),
			prefs.FromContext(c.Request.Context()).GetString("theme"))
	})
	r.GET("/poll", func(c *gin.Context) {
		s := auth.FromContext(c.Request.Context())
		s.SkipRefresh()
		c.JSON(http.StatusOK, gin.H{"user": s.GetString("user")})
	})
	srv := newServer(t, r)
	for _, remember := range []string{"", "on"} {
		jar := newBrowserJar()
		cl := newClient(t, srv)
		cl.http.Jar = jar
		cl.post("/login", url.Values{"user": {"ada"}, "remember": {remember}})
		if resp, _ := cl.post("/theme", url.Values{"theme": {"dark"}}); resp.StatusCode != http.StatusSeeOther || !slices.Equal(setCookies(resp), []string{"prefs=kept"}) {
			t.Fatalf("remember=%q: POST /theme: %d, Set-Cookie %v; want the redirect with the prefs cookie", remember, resp.StatusCode, setCookies(resp))
		}
		for range 2 {
			now = now.Add(14 * time.Minute)
			if resp, body := cl.do(http.MethodGet, "/poll"); body != `{"user":"ada"}` || len(resp.Cookies()) != 0 {
				t.Fatalf("remember=%q: poll: %q, Set-Cookie %q; want the user and no cookie", remember, body, resp.Header["Set-Cookie"])
			}
		}
		if remember == "" {
			now = now.Add(2 * time.Minute) // 30 minutes since the login: polls did not keep it
			if _, body := cl.do(http.MethodGet, "/poll"); body != `{"user":""}` {
				t.Fatalf("poll 30 minutes after the last page: %q, want the session ended", body)
			}
			continue
		}
		// Remembered: the cookie outlives two browser restarts six days
		// apart, since the page between them slid the 7-day window.
		for range 2 {
			jar.restart()
			now = now.Add(6 * 24 * time.Hour)
			if resp, body := cl.do(http.MethodGet, "/"); body != "user=ada theme=dark" || !slices.Equal(setCookies(resp), []string{"auth=kept"}) {
				t.Fatalf("remembered login after a browser restart: %q, Set-Cookie %v; want the user, the window slid", body, setCookies(resp))
			}
		}
	}
}
