package migrate

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"
	"github.com/seed-ff2808ae/cookiesession"
	ginsession "github.com/seed-ff2808ae/cookiesession/gin"
)

// ginApp is the ported gin app: Recovery before the session, as
// gin.Default() has it, then FromGorilla run after ginsession.Middleware
// as README's gin section wires it, unless wrapped is set, when the
// engine is served inside mgr.Handler(FromGorilla(...)(engine)), the
// net/http wiring.
func ginApp(mgr *cookiesession.Manager, old *sessions.CookieStore, wrapped bool) http.Handler {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(gin.RecoveryWithWriter(io.Discard), ginsession.Middleware(mgr))
	carry := FromGorilla(mgr, old, "mysession", slog.New(slog.DiscardHandler))
	if !wrapped {
		r.Use(func(c *gin.Context) {
			carry(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				c.Request = req
				c.Next()
			})).ServeHTTP(c.Writer, c.Request)
		})
	}
	r.GET("/", gin.WrapH(app))
	r.GET("/auth/page", gin.WrapH(app))
	r.GET("/auth/logout", func(c *gin.Context) {
		ginsession.Session(c).Destroy()
		c.String(http.StatusOK, "bye")
	})
	r.GET("/panic", func(c *gin.Context) {
		ginsession.Session(c).AddFlash("half-made")
		panic("boom")
	})
	if wrapped {
		return mgr.Handler(carry(r))
	}
	return r
}

// TestFromGinContrib: gin-contrib/sessions' cookie.NewStore(secret) is
// gorilla's sessions.NewCookieStore(secret), so FromGorilla carries its
// users into a gin app, over TLS to a client with a cookie jar. Run after
// ginsession.Middleware, it keeps gin.Recovery's place before the
// session: a panic's 500 carries no cookie, and the handler's half-made
// flash is not shown later. With the engine inside mgr.Handler instead,
// Recovery runs inside the Manager, and that 500 carries the flash.
func TestFromGinContrib(t *testing.T) {
	for _, tc := range []struct {
		name       string
		wrapped    bool
		panicSaved bool
	}{{"after ginsession.Middleware", false, false}, {"engine inside mgr.Handler", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			store := sessions.NewCookieStore(gorillaHash, gorillaBlock) // cookie.NewStore(gorillaHash, gorillaBlock)
			old := gorillaCookie(t, store, "mysession")
			mgr := newManager(t, cookiesession.Options{Name: "mysession", Logger: slog.New(slog.DiscardHandler)})
			srv := httptest.NewTLSServer(ginApp(mgr, store, tc.wrapped))
			defer srv.Close()
			client := srv.Client()
			client.Jar, _ = cookiejar.New(nil)
			u, _ := url.Parse(srv.URL)
			client.Jar.SetCookies(u, []*http.Cookie{{Name: old.Name, Value: old.Value, Path: "/"}})

			if status, body, _ := fetch(t, client, srv.URL+"/"); status != http.StatusOK || body != carried {
				t.Fatalf("first request: %d %q, want the old session carried: %q", status, body, carried)
			}
			status, _, lines := fetch(t, client, srv.URL+"/panic")
			if status != http.StatusInternalServerError || (len(lines) > 0) != tc.panicSaved {
				t.Errorf("panic: %d with Set-Cookie %q; want 500 with a cookie: %v", status, lines, tc.panicSaved)
			}
			want := `user=ada visits=7 profile={Name:Ada Admin:true} flashes=[]`
			if tc.panicSaved {
				want = `user=ada visits=7 profile={Name:Ada Admin:true} flashes=["half-made"]`
			}
			if _, body, _ := fetch(t, client, srv.URL+"/"); body != want {
				t.Errorf("after the panic: %q, want %q", body, want)
			}
		})
	}
}

// TestFromGinContribPathless: gin-contrib/sessions' store.Options (and
// session.Options, its remember me) replaces gorilla's whole Options, so
// sessions.Options{MaxAge: n} without Path leaves gorilla's Path empty:
// the Set-Cookie has no Path, and the browser scopes the cookie to the
// directory of the URL that set it, /auth for a login at /auth/login.
// The Manager's cookie, at Path /, does not replace it. Without a Retired
// entry of that Path, a logout expires the new cookie alone, and the next
// page under /auth carries the old session again: the user is signed back
// in. With RetiredCookie{Name: "mysession", Path: "/auth"}, the response
// that carries the session expires the old cookie, and the logout holds.
func TestFromGinContribPathless(t *testing.T) {
	store := sessions.NewCookieStore(gorillaHash, gorillaBlock)
	// What store.Options(sessions.Options{MaxAge: 30 * 86400}) sets:
	// gin-contrib's ToGorillaOptions copies each field, Path "" included.
	store.Options = &sessions.Options{MaxAge: 30 * 86400}
	oldApp := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, _ := store.Get(r, "mysession")
		sess.Values["user"] = "ada"
		if err := sess.Save(r, w); err != nil {
			t.Error(err)
		}
	}))
	defer oldApp.Close()
	for _, tc := range []struct {
		name      string
		retired   []cookiesession.RetiredCookie
		signedOut bool
	}{
		{"no Retired entry", nil, false},
		{"Retired with the old Path", []cookiesession.RetiredCookie{{Name: "mysession", Path: "/auth"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jar, _ := cookiejar.New(nil) // one browser: cookies are a host's, whatever its port
			client := oldApp.Client()
			client.Jar = jar
			if status, _, lines := fetch(t, client, oldApp.URL+"/auth/login"); status != http.StatusOK || len(lines) != 1 || strings.Contains(lines[0], "Path=") {
				t.Fatalf("old login: %d %q, want one Set-Cookie without a Path", status, lines)
			}
			mgr := newManager(t, cookiesession.Options{Name: "mysession", Retired: tc.retired, Logger: slog.New(slog.DiscardHandler)})
			srv := httptest.NewTLSServer(ginApp(mgr, store, false))
			defer srv.Close()
			client = srv.Client()
			client.Jar = jar
			if _, body, _ := fetch(t, client, srv.URL+"/"); body != "user= visits=0 profile={Name: Admin:false} flashes=[]" {
				t.Errorf("at /, which the old cookie's Path /auth does not cover: %q", body)
			}
			if _, body, _ := fetch(t, client, srv.URL+"/auth/page"); !strings.HasPrefix(body, "user=ada ") {
				t.Fatalf("the old session was not carried under /auth: %q", body)
			}
			if _, body, _ := fetch(t, client, srv.URL+"/auth/logout"); body != "bye" {
				t.Fatalf("logout: %q", body)
			}
			_, body, _ := fetch(t, client, srv.URL+"/auth/page")
			if signedOut := strings.HasPrefix(body, "user= "); signedOut != tc.signedOut {
				t.Errorf("after the logout: %q; signed out: %v, want %v", body, signedOut, tc.signedOut)
			}
		})
	}
}

func fetch(t *testing.T, c *http.Client, target string) (int, string, []string) {
	t.Helper()
	resp, err := c.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body), resp.Header["Set-Cookie"]
}

// TestReadmeGinSnippet compiles README's gin wiring of FromGorilla, the
// code ginApp runs, inside a function that gives it its names.
func TestReadmeGinSnippet(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var code string
	for _, block := range strings.Split(string(readme), "```go\n")[1:] {
		if c, _, _ := strings.Cut(block, "```"); strings.Contains(c, "carry := migrate.FromGorilla(") && strings.Contains(c, "*gin.Context") {
			code = c
		}
	}
	if code == "" {
		t.Fatal("README.md has no ```go block with carry := migrate.FromGorilla( and *gin.Context")
	}
	program := `package main

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	gsessions "github.com/gorilla/sessions"
	"github.com/seed-ff2808ae/cookiesession"
	"github.com/seed-ff2808ae/cookiesession/examples/migrate"
	ginsession "github.com/seed-ff2808ae/cookiesession/gin"
)

func wire(r *gin.Engine, sessions *cookiesession.Manager, secret []byte) {
` + code + `}

func main() { wire(gin.New(), nil, nil) }
`
	path := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(path, []byte(program), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "vet", path).CombinedOutput(); err != nil {
		t.Fatalf("README's gin wiring of FromGorilla does not compile: %v\n%s", err, out)
	}
}
