package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	gorillacsrf "github.com/gorilla/csrf"
	"github.com/justinas/nosurf"
	"github.com/seed-ff2808ae/cookiesession"
)

// csrfLib is a CSRF library that keeps its token in a cookie of its own,
// with a failure handler that uses the session: a flash, then a redirect.
type csrfLib struct {
	name, cookie, field string
	protect             func(fail http.Handler) func(http.Handler) http.Handler
	token               func(*http.Request) string
}

func csrfLibs() []csrfLib {
	key := []byte("32-byte-long-auth-key-for-tests!")
	return []csrfLib{
		{
			name: "gorilla", cookie: "_gorilla_csrf", field: "gorilla.csrf.Token",
			protect: func(fail http.Handler) func(http.Handler) http.Handler {
				return gorillacsrf.Protect(key, gorillacsrf.ErrorHandler(fail))
			},
			token: gorillacsrf.Token,
		},
		{
			name: "nosurf", cookie: "csrf_token", field: "csrf_token",
			protect: func(fail http.Handler) func(http.Handler) http.Handler {
				return func(h http.Handler) http.Handler {
					n := nosurf.New(h)
					n.SetFailureHandler(fail)
					return n
				}
			},
			token: nosurf.Token,
		},
	}
}

var formToken = regexp.MustCompile(`token=(\S+)`)

// TestCSRFLibrariesBesideTheSession puts gorilla/csrf and nosurf outside
// and inside the middleware, over TLS to a client with a cookie jar: a
// login (Renew) and a logout (Destroy) with the library's token each send
// the session's cookie once, with Vary: Cookie once though both add it,
// and leave the library's cookie in the jar. A POST without the token
// reaches the library's failure handler, which uses the session: inside
// the middleware its flash reaches the next page and the user stays
// signed in; in front of it, the handler finds no session, and its panic
// names the fix.
func TestCSRFLibrariesBesideTheSession(t *testing.T) {
	for _, lib := range csrfLibs() {
		for _, inside := range []bool{false, true} {
			name := lib.name + "/outside"
			if inside {
				name = lib.name + "/inside"
			}
			t.Run(name, func(t *testing.T) { csrfFlows(t, lib, inside) })
		}
	}
}

func csrfFlows(t *testing.T, lib csrfLib, inside bool) {
	a := newWrapApp(t, cookiesession.Options{})
	fail := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).AddFlash("form expired")
		http.Redirect(w, r, "/form", http.StatusSeeOther)
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		fmt.Fprintf(w, "user=%s flashes=%q token=%s", s.GetString("user"), s.Flashes(), lib.token(r))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Renew()
		_ = s.Set("user", "alice")
		http.Redirect(w, r, "/form", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Destroy()
		http.Redirect(w, r, "/form", http.StatusSeeOther)
	})
	h := lib.protect(fail)(a.sessions.Handler(mux))
	if inside {
		h = a.sessions.Handler(lib.protect(fail)(mux))
	}
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	c := newWrapClient(t, srv)
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Referer", srv.URL+"/form") // gorilla/csrf refuses a POST over TLS without one
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		resp.Body.Close()
		return resp
	}
	page := func() (string, string) {
		t.Helper()
		_, body := c.do(t, http.MethodGet, "/form", nil)
		m := formToken.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("GET /form: no token in %q", body)
		}
		return strings.TrimSuffix(body, " token="+m[1]), m[1]
	}
	jar := func(name string) string {
		u, _ := url.Parse(srv.URL)
		for _, ck := range c.http.Jar.Cookies(u) {
			if ck.Name == name {
				return ck.Value
			}
		}
		return ""
	}
	checkCommitted := func(what string, resp *http.Response) {
		t.Helper()
		varyCookie := 0
		for _, v := range resp.Header.Values("Vary") {
			for item := range strings.SplitSeq(v, ",") {
				if strings.EqualFold(strings.TrimSpace(item), "Cookie") {
					varyCookie++
				}
			}
		}
		if resp.StatusCode != http.StatusSeeOther || sessionLines(resp) != 1 || varyCookie != 1 || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: status %d, %d session cookies, Vary %q, Cache-Control %q; want 303, 1, Cookie once, no-store",
				what, resp.StatusCode, sessionLines(resp), resp.Header.Values("Vary"), resp.Header.Values("Cache-Control"))
		}
		if jar(lib.cookie) == "" {
			t.Errorf("%s: the jar lost %s's cookie %s", what, lib.name, lib.cookie)
		}
	}

	_, token := page()
	checkCommitted("login", post("/login", url.Values{lib.field: {token}}))
	if got, _ := page(); got != `user=alice flashes=[]` {
		t.Errorf("after the login: %q", got)
	}

	if inside {
		checkCommitted("a POST without the token", post("/logout", url.Values{}))
		if got, _ := page(); got != `user=alice flashes=["form expired"]` {
			t.Errorf("after the refused logout: %q, want the failure handler's flash and alice still signed in", got)
		}
	} else {
		refused := httptest.NewRequest(http.MethodPost, srv.URL+"/logout", nil)
		refused.Header.Set("Referer", srv.URL+"/form")
		msg := panicOf(func() { h.ServeHTTP(httptest.NewRecorder(), refused) })
		if !strings.HasPrefix(msg, "cookiesession: no session") || !strings.Contains(msg, "a CSRF library's failure handler") ||
			!strings.Contains(msg, "put that middleware inside Manager.Handler") {
			t.Errorf("failure handler in front of the middleware: panic %q, want the one that names the fix", msg)
		}
	}

	_, token = page()
	checkCommitted("logout", post("/logout", url.Values{lib.field: {token}}))
	if jar(cookieName) != "" {
		t.Errorf("after the logout the jar holds the session cookie")
	}
	checkLog(t, a, "")
}

// panicOf returns what f panics with, or "" if it returns.
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}
