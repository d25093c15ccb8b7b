package ginsession_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-contrib/gzip"
	"github.com/gin-gonic/gin"
	"github.com/seed-ff2808ae/cookiesession"
	ginsession "github.com/seed-ff2808ae/cookiesession/gin"
)

// The tests of README's "Moving from gin-contrib/sessions" table: an app
// ported from gin-contrib/sessions the way the table says, and one test
// per trap a port can fall into.

// rememberFor is the app's "remember me" lifetime.
const rememberFor = 30 * 24 * time.Hour

// near reports whether a cookie's Max-Age is d, less the part of a second
// since the session's creation second.
func near(maxAge int, d time.Duration) bool {
	return maxAge == int(d/time.Second) || maxAge == int(d/time.Second)-1
}

// contribApp is a gin-contrib/sessions app ported to two Managers, as
// sessions.SessionsMany([]string{"auth", "prefs"}, store) was: login with
// a CSRF token, "remember me", a flash after a redirect, an admin group
// behind its own middleware, and logout.
func contribApp(auth, prefs *cookiesession.Manager) *gin.Engine {
	authOf := func(c *gin.Context) *cookiesession.Session { return auth.FromContext(c.Request.Context()) }
	must := func(c *gin.Context, err error) bool {
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, err)
		}
		return err == nil
	}
	csrfOK := func(c *gin.Context) bool {
		want := authOf(c).GetString("csrf")
		if want == "" || c.PostForm("csrf") != want {
			c.AbortWithStatus(http.StatusForbidden)
			return false
		}
		return true
	}
	r := gin.New()
	r.Use(ginsession.Middleware(auth), ginsession.Middleware(prefs))
	r.GET("/login", func(c *gin.Context) {
		s := authOf(c)
		if !s.Has("csrf") && !must(c, s.Set("csrf", rand.Text())) {
			return
		}
		c.String(http.StatusOK, s.GetString("csrf")) // the form's hidden field
	})
	r.POST("/login", func(c *gin.Context) {
		s := authOf(c)
		if !csrfOK(c) {
			return
		}
		s.Renew()
		lifetime := cookiesession.Lifetime{BrowserSession: true}
		if c.PostForm("remember") == "on" {
			lifetime = cookiesession.Lifetime{MaxAge: rememberFor}
		}
		if !must(c, errors.Join(s.Set("user", c.PostForm("user")), s.Set("csrf", rand.Text()), s.SetLifetime(lifetime))) {
			return
		}
		s.AddFlash("welcome " + c.PostForm("user"))
		c.Redirect(http.StatusSeeOther, "/")
	})
	r.GET("/", func(c *gin.Context) {
		s := authOf(c)
		c.String(http.StatusOK, "user=%s flashes=%s theme=%s", s.GetString("user"),
			strings.Join(s.Flashes(), ","), prefs.FromContext(c.Request.Context()).GetString("theme"))
	})
	r.GET("/id", func(c *gin.Context) { c.String(http.StatusOK, authOf(c).ID()) })
	r.POST("/theme", func(c *gin.Context) {
		if must(c, prefs.FromContext(c.Request.Context()).Set("theme", c.PostForm("theme"))) {
			c.Status(http.StatusNoContent)
		}
	})
	admin := r.Group("/admin", ginsession.Middleware(auth), func(c *gin.Context) {
		if s := authOf(c); s.GetString("user") != "ada" {
			s.AddFlash("admins only")
			c.Redirect(http.StatusSeeOther, "/login")
			c.Abort()
		}
	})
	admin.GET("/stats", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"users": 1}) })
	r.POST("/logout", func(c *gin.Context) {
		if csrfOK(c) {
			authOf(c).Destroy()
			c.Redirect(http.StatusSeeOther, "/login")
		}
	})
	return r
}

// hex32 reports whether id is 32 hex digits.
func hex32(id string) bool {
	b, err := hex.DecodeString(id)
	return err == nil && len(b) == 16
}

// TestContribApp runs the ported app through a browser's visit.
func TestContribApp(t *testing.T) {
	cl := newClient(t, newServer(t, contribApp(rememberManager(t, "auth"), rememberManager(t, "prefs"))))
	resp, csrf := cl.do(http.MethodGet, "/login")
	if len(csrf) != 26 || !slices.Equal(setCookies(resp), []string{"auth=kept"}) {
		t.Fatalf("GET /login: token %q, Set-Cookie %v", csrf, setCookies(resp))
	}
	if resp, _ := cl.post("/login", url.Values{"user": {"ada"}, "csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login with a wrong CSRF token: %d, want 403", resp.StatusCode)
	}
	resp, _ = cl.do(http.MethodGet, "/admin/stats")
	if resp.StatusCode != http.StatusSeeOther || !slices.Equal(setCookies(resp), []string{"auth=kept"}) {
		t.Fatalf("admin before login: %d, Set-Cookie %v; want the redirect with the flash", resp.StatusCode, setCookies(resp))
	}

	_, idBefore := cl.do(http.MethodGet, "/id")
	resp, _ = cl.post("/login", url.Values{"user": {"ada"}, "csrf": {csrf}, "remember": {"on"}})
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 || !near(cookies[0].MaxAge, rememberFor) {
		t.Fatalf("login: %d, Set-Cookie %q; want the redirect and a cookie for %v", resp.StatusCode, resp.Header["Set-Cookie"], rememberFor)
	}
	if _, id := cl.do(http.MethodGet, "/id"); !hex32(id) || !hex32(idBefore) || id == idBefore {
		t.Fatalf("session id %q before login, %q after: want 32 hex digits, new at login", idBefore, id)
	}
	if _, body := cl.do(http.MethodGet, "/"); body != "user=ada flashes=admins only,welcome ada theme=" {
		t.Fatalf("after the login's redirect: %q", body)
	}
	if _, body := cl.do(http.MethodGet, "/"); body != "user=ada flashes= theme=" {
		t.Fatalf("flashes are shown once: %q", body)
	}
	if resp, _ := cl.post("/theme", url.Values{"theme": {"dark"}}); !slices.Equal(setCookies(resp), []string{"prefs=kept"}) {
		t.Fatalf("POST /theme: Set-Cookie %v, want the prefs cookie alone", setCookies(resp))
	}
	if resp, body := cl.do(http.MethodGet, "/admin/stats"); resp.StatusCode != http.StatusOK || body != `{"users":1}` {
		t.Fatalf("admin after login: %d %q", resp.StatusCode, body)
	}

	_, csrf = cl.do(http.MethodGet, "/login")
	resp, _ = cl.post("/logout", url.Values{"csrf": {csrf}})
	if !slices.Equal(setCookies(resp), []string{"auth=expired"}) {
		t.Fatalf("logout: Set-Cookie %v, want the auth cookie expired and prefs kept", setCookies(resp))
	}
	if _, body := cl.do(http.MethodGet, "/"); body != "user= flashes= theme=dark" {
		t.Fatalf("after logout: %q", body)
	}
}

// TestContribDefaults checks the defaults that differ from cookie.NewStore's:
// Max-Age is a day, not 30 days, and the cookie is HttpOnly and Lax.
func TestContribDefaults(t *testing.T) {
	m, err := cookiesession.New(newRing(t), cookiesession.Options{Name: "mysession"})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := newClient(t, newServer(t, newApp(t, m))).do(http.MethodPost, "/login?user=ada")
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("Set-Cookie %q", resp.Header["Set-Cookie"])
	}
	ck := cookies[0]
	if ck.Name != "mysession" || !near(ck.MaxAge, 24*time.Hour) || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode {
		t.Errorf("default cookie %q: want mysession, Max-Age 86400, HttpOnly, Secure, SameSite=Lax", resp.Header["Set-Cookie"])
	}
}

// TestContribSetTypes checks what gin-contrib's gob took and this session
// refuses: Set reports it, and a Set whose error is dropped stores
// nothing; SetJSON stores a struct. Every integer and floating-point type
// is stored, and GetInt reads any of them that holds an int's value;
// complex numbers and uintptr are refused.
func TestContribSetTypes(t *testing.T) {
	type profile struct{ Name string }
	r := gin.New()
	r.Use(ginsession.Middleware(newManager(t)))
	r.POST("/", func(c *gin.Context) {
		s := ginsession.Session(c)
		for _, v := range []any{[]string{"admin"}, map[string]string{"lang": "en"}} {
			if err := s.Set("ok", v); err != nil {
				t.Errorf("Set(%T): %v", v, err)
			}
		}
		for _, v := range []any{int(7), int8(7), int16(7), int32(7), int64(7), uint(7), uint8(7), uint16(7), uint32(7), uint64(7), float32(7), float64(7)} {
			if err := s.Set("number", v); err != nil {
				t.Errorf("Set(%T): %v", v, err)
			}
			if got, _ := s.Get("number"); got != v || s.GetInt("number") != 7 {
				t.Errorf("Set(%T(7)): Get %T(%v), GetInt %d; want the type stored and 7", v, got, got, s.GetInt("number"))
			}
		}
		for _, v := range []any{profile{"ada"}, &profile{"ada"}, []int{1}, map[string]any{"a": 1}, []any{"a"}, complex(7, 0), complex64(7), uintptr(7)} {
			if err := s.Set("refused", v); !errors.Is(err, cookiesession.ErrUnsupportedType) {
				t.Errorf("Set(%T): %v, want ErrUnsupportedType", v, err)
			}
		}
		if err := errors.Join(s.SetJSON("profile", profile{"ada"}), s.Set("n", int64(7))); err != nil {
			t.Error(err)
		}
		c.Status(http.StatusNoContent)
	})
	r.GET("/", func(c *gin.Context) {
		var p profile
		found, err := ginsession.Session(c).GetJSON("profile", &p)
		n, _ := ginsession.Session(c).Get("n")
		c.String(http.StatusOK, "refused=%v profile=%v %v %v n=%d %T", ginsession.Session(c).Has("refused"), p.Name, found, err,
			ginsession.Session(c).GetInt("n"), n)
	})
	cl := newClient(t, newServer(t, r))
	cl.do(http.MethodPost, "/")
	if _, body := cl.do(http.MethodGet, "/"); body != "refused=false profile=ada true <nil> n=7 int64" {
		t.Errorf("GET /: %q", body)
	}
}

// TestContribSave checks the habit of session.Save(): before the body it
// saves, and a change after it still goes out; after the body the change
// is logged as not saved and Save returns ErrHeadersWritten, where
// gin-contrib's returned nil and lost the change.
func TestContribSave(t *testing.T) {
	var logged strings.Builder
	m := loggedManager(t, "/", &logged)
	r := gin.New()
	r.Use(ginsession.Middleware(m))
	var saveErrs []error
	r.POST("/", func(c *gin.Context) {
		s := ginsession.Session(c)
		_ = s.Set("a", "1")
		saveErrs = append(saveErrs, m.Save(c.Writer, c.Request, s))
		_ = s.Set("b", "2")
		c.String(http.StatusOK, "saved")
		_ = s.Set("c", "3")
		saveErrs = append(saveErrs, m.Save(c.Writer, c.Request, s))
	})
	r.GET("/", func(c *gin.Context) {
		s := ginsession.Session(c)
		c.String(http.StatusOK, "%s%s%s", s.GetString("a"), s.GetString("b"), s.GetString("c"))
	})
	cl := newClient(t, newServer(t, r))
	resp, _ := cl.do(http.MethodPost, "/")
	if len(resp.Header.Values("Set-Cookie")) != 1 {
		t.Errorf("Set-Cookie %q, want one line", resp.Header.Values("Set-Cookie"))
	}
	if len(saveErrs) != 2 || saveErrs[0] != nil || !errors.Is(saveErrs[1], cookiesession.ErrHeadersWritten) {
		t.Errorf("Save before and after the body: %v, want nil and ErrHeadersWritten", saveErrs)
	}
	if _, body := cl.do(http.MethodGet, "/"); body != "12" {
		t.Errorf("GET /: %q, want a and b, and not c", body)
	}
	if !warned(logged.String(), "the change was not saved") {
		t.Errorf("the change after the body was not logged at Warn; log:\n%s", logged.String())
	}
}

// TestContribChangeBeforeError checks the row for a handler ported from
// gin-contrib that changes the session and then fails, where
// gin-contrib saved nothing because session.Save() was never reached: the
// change goes out with the error's answer, whether the handler answers it
// (c.AbortWithError) or an error middleware after Middleware does (c.Error).
func TestContribChangeBeforeError(t *testing.T) {
	r := gin.New()
	r.Use(ginsession.Middleware(newManager(t)), func(c *gin.Context) {
		c.Next()
		if len(c.Errors) > 0 && !c.Writer.Written() {
			c.String(http.StatusServiceUnavailable, "try again")
		}
	})
	r.POST("/abort", func(c *gin.Context) {
		_ = ginsession.Session(c).Set("cart", "abort")
		_ = c.AbortWithError(http.StatusConflict, errors.New("out of stock"))
	})
	r.POST("/error", func(c *gin.Context) {
		_ = ginsession.Session(c).Set("cart", "error")
		_ = c.Error(errors.New("database down"))
	})
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "cart=%s", ginsession.Session(c).GetString("cart")) })
	cl := newClient(t, newServer(t, r))
	for path, status := range map[string]int{"/abort": http.StatusConflict, "/error": http.StatusServiceUnavailable} {
		resp, _ := cl.do(http.MethodPost, path)
		if resp.StatusCode != status || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
			t.Errorf("POST %s: %d, Set-Cookie %v; want %d with the change", path, resp.StatusCode, setCookies(resp), status)
		}
		if _, body := cl.do(http.MethodGet, "/"); body != "cart="+path[1:] {
			t.Errorf("after POST %s: %q, want the change saved", path, body)
		}
	}
}

// TestContribClear checks that Clear, which gin-contrib followed with an
// empty cookie, expires the cookie.
func TestContribClear(t *testing.T) {
	r := gin.New()
	r.Use(ginsession.Middleware(newManager(t)))
	r.POST("/set", func(c *gin.Context) { _ = ginsession.Session(c).Set("user", "ada") })
	r.POST("/clear", func(c *gin.Context) { ginsession.Session(c).Clear() })
	cl := newClient(t, newServer(t, r))
	cl.do(http.MethodPost, "/set")
	if resp, _ := cl.do(http.MethodPost, "/clear"); !slices.Equal(setCookies(resp), []string{"session=expired"}) {
		t.Errorf("Clear: Set-Cookie %v, want the cookie expired", setCookies(resp))
	}
}

// TestContribCopyInGoroutine checks a session used from c.Copy() in a
// goroutine: it reads the request's session, and a change it makes after
// the handler returned is logged as not saved.
func TestContribCopyInGoroutine(t *testing.T) {
	var logged strings.Builder
	r := gin.New()
	mw := ginsession.Middleware(loggedManager(t, "/", &logged))
	sessionRoutes(r, mw)
	release, done := make(chan struct{}), make(chan string, 1)
	r.GET("/report", mw, func(c *gin.Context) {
		cp := c.Copy()
		go func() {
			<-release
			s := ginsession.Session(cp)
			user := s.GetString("user")
			_ = s.Set("reported", true)
			done <- user
		}()
		c.String(http.StatusAccepted, "queued")
	})
	cl := newClient(t, newServer(t, r))
	cl.do(http.MethodPost, "/login?user=ada")
	resp, _ := cl.do(http.MethodGet, "/report")
	close(release)
	if user := <-done; user != "ada" || resp.Header["Set-Cookie"] != nil {
		t.Errorf("goroutine read user %q; response Set-Cookie %q", user, resp.Header["Set-Cookie"])
	}
	if !warned(logged.String(), "the change was not saved") {
		t.Errorf("the goroutine's late change was not logged at Warn; log:\n%s", logged.String())
	}
}

// TestContribRecoveryOrder checks where gin.Recovery goes: before the
// middleware (gin.Default's order) a panic's 500 carries no cookie; after
// it, the change the handler made before its panic is saved with the 500.
func TestContribRecoveryOrder(t *testing.T) {
	for _, before := range []bool{true, false} {
		m := newManager(t)
		recovery := gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, _ any) { c.AbortWithStatus(http.StatusInternalServerError) })
		r := gin.New()
		if before {
			r.Use(recovery, ginsession.Middleware(m))
		} else {
			r.Use(ginsession.Middleware(m), recovery)
		}
		r.POST("/pay", func(c *gin.Context) {
			_ = ginsession.Session(c).Set("balance", 0)
			panic("payment failed")
		})
		resp, _ := newClient(t, newServer(t, r)).do(http.MethodPost, "/pay")
		if saved := resp.Header["Set-Cookie"] != nil; resp.StatusCode != http.StatusInternalServerError || saved == before {
			t.Errorf("Recovery before the middleware %v: %d, cookie sent %v", before, resp.StatusCode, saved)
		}
	}
}

// TestContribGzipOrder checks where gin-contrib/gzip goes: after the
// middleware, a 404 page that reads the session keeps Vary: Cookie; before
// it, gzip deletes the whole Vary header of a 4xx response, Cookie
// included, after the commit, which is logged at Warn.
func TestContribGzipOrder(t *testing.T) {
	for _, after := range []bool{true, false} {
		var logged strings.Builder
		m := loggedManager(t, "", &logged)
		r := gin.New()
		if after {
			r.Use(ginsession.Middleware(m), gzip.Gzip(gzip.DefaultCompression))
		} else {
			r.Use(gzip.Gzip(gzip.DefaultCompression), ginsession.Middleware(m))
		}
		sessionRoutes(r, func(c *gin.Context) {})
		r.NoRoute(func(c *gin.Context) {
			c.String(http.StatusNotFound, "not found, %s", ginsession.Session(c).GetString("user"))
		})
		srv := newServer(t, r)
		cl := newClient(t, srv)
		cl.do(http.MethodPost, "/login?user=ada")
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/nowhere", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := cl.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != "not found, ada" {
			t.Fatalf("gzip after the middleware %v: %q %v", after, body, err)
		}
		if vary := resp.Header.Values("Vary"); slices.Contains(vary, "Cookie") != after || !after && len(vary) != 0 {
			t.Errorf("gzip after the middleware %v: Vary %q; want Cookie after it, and no Vary at all before it", after, vary)
		}
		if lost := strings.Contains(logged.String(), `lost="Vary: Cookie"`); lost == after {
			t.Errorf("gzip after the middleware %v: Vary: Cookie lost logged %v; log:\n%s", after, lost, logged.String())
		}
	}
}

// TestContribHandleContext checks gin's router redirect: the chain that
// r.HandleContext runs again writes through the session's writer, so the
// changes made before and after it go out, with stacked Managers too.
func TestContribHandleContext(t *testing.T) {
	auth, prefs := namedManager(t, "auth"), namedManager(t, "prefs")
	r := gin.New()
	r.Use(ginsession.Middleware(auth), ginsession.Middleware(prefs))
	r.POST("/login", func(c *gin.Context) {
		_ = auth.FromContext(c.Request.Context()).Set("user", "ada")
		c.Request.Method, c.Request.URL.Path = http.MethodGet, "/home"
		r.HandleContext(c)
	})
	r.GET("/home", func(c *gin.Context) {
		_ = prefs.FromContext(c.Request.Context()).Set("theme", "dark")
		c.String(http.StatusOK, "home")
	})
	r.GET("/whoami", func(c *gin.Context) {
		ctx := c.Request.Context()
		c.String(http.StatusOK, "user=%s theme=%s", auth.FromContext(ctx).GetString("user"), prefs.FromContext(ctx).GetString("theme"))
	})
	cl := newClient(t, newServer(t, r))
	resp, body := cl.do(http.MethodPost, "/login")
	if body != "home" || !slices.Equal(setCookies(resp), []string{"auth=kept", "prefs=kept"}) {
		t.Fatalf("POST /login through HandleContext: %q, Set-Cookie %v", body, setCookies(resp))
	}
	if _, body := cl.do(http.MethodGet, "/whoami"); body != "user=ada theme=dark" {
		t.Errorf("GET /whoami: %q", body)
	}
}

// TestContribNoRouteNoMethod checks that the engine's middleware reaches
// gin's 404 and 405 answers, the default ones and NoRoute's, with their
// status and the session's cookie.
func TestContribNoRouteNoMethod(t *testing.T) {
	for _, custom := range []bool{false, true} {
		r := gin.New()
		r.HandleMethodNotAllowed = true
		r.Use(ginsession.Middleware(newManager(t)), func(c *gin.Context) { ginsession.Session(c).AddFlash("seen " + c.Request.URL.Path) })
		if custom {
			r.NoRoute(func(c *gin.Context) { c.String(http.StatusNotFound, "custom") })
		}
		r.POST("/only-post", func(c *gin.Context) {})
		cl := newClient(t, newServer(t, r))
		for path, status := range map[string]int{"/nowhere": http.StatusNotFound, "/only-post": http.StatusMethodNotAllowed} {
			resp, _ := cl.do(http.MethodGet, path)
			if resp.StatusCode != status || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
				t.Errorf("NoRoute handler %v, GET %s: %d, Set-Cookie %v; want %d and the cookie", custom, path, resp.StatusCode, setCookies(resp), status)
			}
		}
	}
}

// TestContribStream checks c.SSEvent and c.Stream: a change before the
// first event goes out with the headers, one after it is logged as not
// saved.
func TestContribStream(t *testing.T) {
	var logged strings.Builder
	r := gin.New()
	r.Use(ginsession.Middleware(loggedManager(t, "/", &logged)))
	r.GET("/events", func(c *gin.Context) {
		s := ginsession.Session(c)
		s.AddFlash("streamed")
		sent := 0
		c.Stream(func(io.Writer) bool {
			c.SSEvent("tick", sent)
			if sent++; sent == 2 {
				s.AddFlash("too late")
			}
			return sent < 3
		})
	})
	r.GET("/flashes", func(c *gin.Context) { c.String(http.StatusOK, strings.Join(ginsession.Session(c).Flashes(), ",")) })
	cl := newClient(t, newServer(t, r))
	resp, body := cl.do(http.MethodGet, "/events")
	if strings.Count(body, "event:tick") != 3 || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
		t.Fatalf("GET /events: %q, Set-Cookie %v", body, setCookies(resp))
	}
	if _, body := cl.do(http.MethodGet, "/flashes"); body != "streamed" {
		t.Errorf("flashes: %q, want the one made before the first event", body)
	}
	if !warned(logged.String(), "the change was not saved") {
		t.Errorf("the flash after the first event was not logged at Warn; log:\n%s", logged.String())
	}
}

// countingWriter is what a logging or metrics middleware puts in front of
// gin's writer: it wraps c.Writer and counts the bytes.
type countingWriter struct {
	gin.ResponseWriter
	n *int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	*w.n += len(p)
	return w.ResponseWriter.Write(p)
}

// TestContribHandleContextBehindWrapper: r.HandleContext behind a
// middleware that wraps gin's writer before the session's (a logger, a
// metrics counter). The chain run again wraps gin's writer anew, and the
// response must still go out through the session's writer, with its cookie.
func TestContribHandleContextBehindWrapper(t *testing.T) {
	m := newManager(t)
	r := gin.New()
	var written int
	r.Use(func(c *gin.Context) {
		c.Writer = &countingWriter{ResponseWriter: c.Writer, n: &written}
		c.Next()
	}, ginsession.Middleware(m))
	r.POST("/login", func(c *gin.Context) {
		_ = ginsession.Session(c).Set("user", "ada")
		c.Request.Method, c.Request.URL.Path = http.MethodGet, "/home"
		r.HandleContext(c)
	})
	r.GET("/home", func(c *gin.Context) { c.String(http.StatusOK, "home") })
	r.GET("/whoami", func(c *gin.Context) { c.String(http.StatusOK, "user=%s", ginsession.Session(c).GetString("user")) })
	cl := newClient(t, newServer(t, r))
	if resp, body := cl.do(http.MethodPost, "/login"); body != "home" || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
		t.Fatalf("POST /login through HandleContext: %q, Set-Cookie %v", body, setCookies(resp))
	}
	if _, body := cl.do(http.MethodGet, "/whoami"); body != "user=ada" {
		t.Errorf("GET /whoami: %q", body)
	}
}

// TestContribCookieRefused checks README's last word on the port: a cookie
// gin-contrib's cookie store wrote (gorilla's securecookie format) under the
// session's name is refused and expired, and the request gets a fresh
// session, so users sign in once after the switch.
func TestContribCookieRefused(t *testing.T) {
	m, err := cookiesession.New(newRing(t), cookiesession.Options{Name: "mysession"})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	sessionRoutes(r, ginsession.Middleware(m))
	srv := newServer(t, r)
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/whoami", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", "mysession=MTcxNjIzOTAyMnxEdi1CQkFFQ180SUFBUkFCRUFBQUlfLUNBQUVHYzNSeWFXNW5EQVlBQkhWelpYSUdjM1J5YVc1bkRBVUFBMkZrWVE9PXw=")
	resp, body := newClient(t, srv).send(req)
	if body != "user=" || !slices.Equal(setCookies(resp), []string{"mysession=expired"}) {
		t.Errorf("a gin-contrib cookie: %q, Set-Cookie %v; want a fresh session and the cookie expired", body, setCookies(resp))
	}
}
