package migrate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// expressApp runs express/server.js, the old app, signing with secrets,
// and returns its URL and the directory its store writes to. Outside CI a
// machine without node or express's node_modules skips the test; in CI
// (CI set) that is a failure, since .ci/run installs them.
func expressApp(t *testing.T, secrets ...string) (*url.URL, string) {
	t.Helper()
	missing := func(msg string) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set, so a missing program is a failure: " + msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH; install Node.js 20 or later")
	}
	if _, err := os.Stat("express/node_modules/express-session"); err != nil {
		missing("express-session is not installed; run: cd examples/migrate/express && npm ci")
	}
	dir := t.TempDir()
	cmd := exec.Command(node, append([]string{"server.js", dir}, secrets...)...)
	cmd.Dir, cmd.Stderr = "express", os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		addr <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-addr:
		u, err := url.Parse(line)
		if err != nil || u.Hostname() != "127.0.0.1" {
			t.Fatalf("server.js printed %q, want its address on 127.0.0.1", line)
		}
		return u, dir
	case <-time.After(30 * time.Second):
		t.Fatal("server.js printed no address in 30s")
	}
	return nil, ""
}

// fileLookup reads the session server.js's store wrote for sid in dir.
func fileLookup(dir string) func(context.Context, string) ([]byte, error) {
	return func(_ context.Context, sid string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, filepath.Base(sid)+".json"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return b, err
	}
}

// expressRead answers with each value the session holds, its Go type, and
// the session's Lifetime.
var expressRead = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	for _, k := range s.Keys() {
		v, _ := s.Get(k)
		typ := fmt.Sprintf("%T", v)
		if raw, ok := v.(json.RawMessage); ok {
			v = string(raw) // printed as JSON, not as bytes
		}
		fmt.Fprintf(w, "%s=%s %v\n", k, typ, v)
	}
	fmt.Fprintf(w, "big=%d lifetime=%+v", s.GetInt64("big"), s.Lifetime())
})

// expressCarried is what expressRead answers for the session server.js's
// login stores: JavaScript's 2**60, written 1152921504606847000, read
// back exact.
const expressCarried = `admin=bool true
big=float64 1.152921504606847e+18
empty=json.RawMessage []
mixed=json.RawMessage [1,"a"]
profile=json.RawMessage {"name":"Ada","langs":["go","js"]}
ratio=float64 0.25
returnTo=<nil> <nil>
roles=[]string [editor viewer]
user=string ada
visits=int64 7
big=1152921504606846976 lifetime=`

// browser is a user agent: a cookie jar shared by the express app and
// the Go app, both on 127.0.0.1, as a browser shares it between ports.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := srv.Client()
	client.Jar = jar
	return &browser{t, client}
}

// do sends method to u and returns the answer, with the cookies its
// response sets.
func (b *browser) do(method, u string) answer {
	b.t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, body: string(body), cookies: map[string]*http.Cookie{}}
	for _, c := range res.Cookies() {
		a.cookies[c.Name] = c
	}
	return a
}

// sid returns the connect.sid the jar holds for express, or nil.
func (b *browser) sid(express *url.URL) *http.Cookie {
	for _, c := range b.client.Jar.Cookies(express) {
		if c.Name == "connect.sid" {
			return c
		}
	}
	return nil
}

// goApp serves expressRead at / and a logout at /logout over HTTPS on
// 127.0.0.1, under a Manager that carries express sessions with secrets
// and lookup.
func goApp(t *testing.T, opts cookiesession.Options, secrets []string, lookup func(context.Context, string) ([]byte, error)) (*httptest.Server, *logs) {
	h, logs := expressHandler(t, opts, secrets, lookup)
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv, logs
}

func expressHandler(t *testing.T, opts cookiesession.Options, secrets []string, lookup func(context.Context, string) ([]byte, error)) (http.Handler, *logs) {
	logger, logs := newLogger()
	opts.Logger = logger
	mgr := newManager(t, opts)
	mux := http.NewServeMux()
	mux.Handle("/", expressRead)
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Destroy()
	})
	carry := FromExpress(mgr, ExpressSession{Secrets: secrets, Lookup: lookup}, logger)
	return mgr.Handler(carry(mux)), logs
}

// storedSession is the file server.js's store wrote for c, a connect.sid
// it signed with "old secret".
func storedSession(t *testing.T, dir string, c *http.Cookie) string {
	t.Helper()
	value, _ := url.PathUnescape(c.Value)
	sid, ok := unsign(strings.TrimPrefix(value, "s:"), []string{"old secret"})
	if !ok {
		t.Fatalf("connect.sid %q not signed with the old secret", c.Value)
	}
	return filepath.Join(dir, sid+".json")
}

// retired lists express's cookie in Options.Retired.
var retired = cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "connect.sid"}}}

// TestFromExpress signs users in to a real express-session app, then
// sends their browser to the Go app: a remember-me login and a
// browser-session one are carried, each value with the type FromExpress's
// doc gives, under a persistent and a browser-session cookie; connect.sid
// is expired in the same response, so that a logout holds; under a
// rotated secret list too. A forged signature, an unsigned cookie, a
// session past its cookie.expires and one missing from the store are
// refused: the user is signed out and it is logged.
func TestFromExpress(t *testing.T) {
	express, dir := expressApp(t, "old secret")
	lookup := fileLookup(dir)
	login := func(b *browser, remember bool) {
		t.Helper()
		q := ""
		if remember {
			q = "?remember=1"
		}
		if a := b.do(http.MethodPost, express.String()+"/login"+q); a.body != "signed in" || b.sid(express) == nil {
			t.Fatalf("express login: %d %q, connect.sid %v", a.status, a.body, b.sid(express))
		}
	}

	for _, secrets := range [][]string{{"old secret"}, {"new secret", "old secret"}} {
		for _, remember := range []bool{true, false} {
			srv, logs := goApp(t, retired, secrets, lookup)
			b := newBrowser(t, srv)
			login(b, remember)
			a := b.do(http.MethodGet, srv.URL)
			want := expressCarried + fmt.Sprintf("%+v", cookiesession.Lifetime{BrowserSession: !remember})
			if a.body != want {
				t.Errorf("secrets %q, remember %v: carried\n%s\nwant\n%s", secrets, remember, a.body, want)
			}
			if c := a.cookies["session"]; c == nil || (c.MaxAge > 0) != remember || c.MaxAge < 0 {
				t.Errorf("remember %v: new cookie %+v", remember, c)
			}
			if c := a.cookies["connect.sid"]; c == nil || c.MaxAge >= 0 || b.sid(express) != nil {
				t.Errorf("connect.sid not expired: %+v", c)
			}
			if l := logs.lines(t, "cookiesession/migrate: a value of the old session was not carried"); len(l) != 0 {
				t.Errorf("not carried: %v", l)
			}
			b.do(http.MethodGet, srv.URL+"/logout")
			if a = b.do(http.MethodGet, srv.URL); !strings.HasPrefix(a.body, "big=0 ") {
				t.Errorf("after the logout: %q, want signed out", a.body)
			}
			if n := len(logs.lines(t, "cookiesession/migrate: express session carried")); n != 1 {
				t.Errorf("%d carries, want 1", n)
			}
		}
	}

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			what  string
			spoil func(c *http.Cookie) // c: the jar's connect.sid
			log   string
		}{
			{"forged signature", func(c *http.Cookie) {
				i := strings.LastIndexByte(c.Value, '.') + 1
				c.Value = c.Value[:i] + strings.Map(func(r rune) rune { return r ^ 1 }, c.Value[i:i+1]) + c.Value[i+1:]
			}, "cookiesession/migrate: express cookie unsigned or wrongly signed"},
			{"unsigned", func(c *http.Cookie) {
				c.Value = strings.TrimPrefix(c.Value, "s%3A")
			}, "cookiesession/migrate: express cookie unsigned or wrongly signed"},
			{"expired", func(c *http.Cookie) {
				path := storedSession(t, dir, c)
				s, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				past := regexp.MustCompile(`"expires":"[^"]+"`).ReplaceAll(s, []byte(`"expires":"2000-01-01T00:00:00.000Z"`))
				if err := os.WriteFile(path, past, 0o600); err != nil || slices.Equal(s, past) {
					t.Fatalf("expires not rewritten: %v", err)
				}
			}, "cookiesession/migrate: express session expired"},
			{"missing from the store", func(c *http.Cookie) {
				if err := os.Remove(storedSession(t, dir, c)); err != nil {
					t.Fatal(err)
				}
			}, "cookiesession/migrate: express session not in the old store"},
		} {
			srv, logs := goApp(t, retired, []string{"new secret", "old secret"}, lookup)
			b := newBrowser(t, srv)
			login(b, true)
			c := b.sid(express)
			tc.spoil(c)
			b.client.Jar.SetCookies(express, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
			a := b.do(http.MethodGet, srv.URL)
			if !strings.HasPrefix(a.body, "big=0 ") || a.cookies["session"] != nil {
				t.Errorf("%s: carried %q, cookies %v", tc.what, a.body, a.cookies)
			}
			if c := a.cookies["connect.sid"]; c == nil || c.MaxAge >= 0 {
				t.Errorf("%s: connect.sid not expired: %+v", tc.what, c)
			}
			if l := logs.lines(t, tc.log); len(l) != 1 {
				t.Errorf("%s: logged %v, want one line %q", tc.what, l, tc.log)
			}
			if n := len(logs.lines(t, "cookiesession/migrate: express session carried")); n != 0 {
				t.Errorf("%s: %d carried", tc.what, n)
			}
		}
	})

	t.Run("wrong secrets", func(t *testing.T) {
		srv, logs := goApp(t, retired, []string{"another secret"}, lookup)
		b := newBrowser(t, srv)
		login(b, true)
		if a := b.do(http.MethodGet, srv.URL); !strings.HasPrefix(a.body, "big=0 ") {
			t.Errorf("carried under the wrong secret: %q", a.body)
		}
		l := logs.lines(t, "cookiesession/migrate: express cookie unsigned or wrongly signed")
		if len(l) != 1 || l[0]["level"] != "WARN" || !strings.Contains(l[0]["fix"].(string), "give FromExpress every secret") {
			t.Errorf("logged %v, want one Warn with the fix", l)
		}
	})

	// Under the Manager's own Name, express's cookie is refused by the
	// Manager, carried, and replaced by the new session's: a logout holds.
	t.Run("the Manager's Name", func(t *testing.T) {
		srv, logs := goApp(t, cookiesession.Options{Name: "connect.sid"}, []string{"old secret"}, lookup)
		b := newBrowser(t, srv)
		login(b, true)
		a := b.do(http.MethodGet, srv.URL)
		if c := a.cookies["connect.sid"]; !strings.HasPrefix(a.body, "admin=bool true") || c == nil || c.MaxAge <= 0 {
			t.Fatalf("not carried into connect.sid: %q, %+v", a.body, c)
		}
		if a = b.do(http.MethodGet, srv.URL); !strings.HasPrefix(a.body, "admin=bool true") || len(a.cookies) != 0 {
			t.Errorf("the new cookie does not open: %q, %v", a.body, a.cookies)
		}
		b.do(http.MethodGet, srv.URL+"/logout")
		if a = b.do(http.MethodGet, srv.URL); !strings.HasPrefix(a.body, "big=0 ") {
			t.Errorf("after the logout: %q, want signed out", a.body)
		}
		if l := logs.lines(t, "cookiesession/migrate: express cookie unsigned"); len(l) != 0 {
			t.Errorf("the Manager's own cookie taken for express's: %v", l)
		}
		if l := logs.lines(t, "cookiesession/migrate: the response that carries the old session does not expire"); len(l) != 0 {
			t.Errorf("replaced, yet logged as kept: %v", l)
		}
	})

	// Without the Retired entry, the browser keeps connect.sid: the carry
	// says so at Warn with the entry to add, and a logout does not hold.
	t.Run("not retired", func(t *testing.T) {
		srv, logs := goApp(t, cookiesession.Options{}, []string{"old secret"}, lookup)
		b := newBrowser(t, srv)
		login(b, true)
		b.do(http.MethodGet, srv.URL)
		if a := b.do(http.MethodGet, srv.URL); !strings.HasPrefix(a.body, "admin=bool true") ||
			len(logs.lines(t, "cookiesession/migrate: express session carried")) != 1 {
			t.Errorf("the next request, with the new cookie beside connect.sid: %q, or carried again", a.body)
		}
		warns := logs.lines(t, "cookiesession/migrate: the response that carries the old session does not expire the old cookie")
		if len(warns) != 1 || !strings.Contains(warns[0]["fix"].(string), `cookiesession.RetiredCookie{Name: "connect.sid", Path: "/", Domain: ""}`) {
			t.Errorf("logged %v, want one Warn with the entry", warns)
		}
		b.do(http.MethodGet, srv.URL+"/logout")
		if a := b.do(http.MethodGet, srv.URL); !strings.HasPrefix(a.body, "admin=bool true") {
			t.Errorf("after a logout, the kept connect.sid was not carried again: %q", a.body)
		}
	})
}

// TestExpressLookup: while Lookup fails, the request is answered 503
// with no Set-Cookie, so connect.sid stays for the next try, and the
// failure is logged at Error. A session Lookup returns that is not
// express's JSON is logged at Warn with the fix, and the user signs in
// again; one too large for the cookie is carried without its largest
// values. Hostile cookies are refused without a lookup, and answered
// signed out.
func TestExpressLookup(t *testing.T) {
	var looked int
	var stored []byte
	h, logs := expressHandler(t, retired, []string{"s"}, func(context.Context, string) ([]byte, error) {
		looked++
		if stored == nil {
			return nil, errors.New("connection refused")
		}
		return stored, nil
	})
	const signed = "s:id.5o9WEbtn2ya0zD13R9UuZUNlRft1IzqN9YMyLmfVoS8" // cookie-signature's sign("id", "s")
	a := get(t, h, &http.Cookie{Name: "connect.sid", Value: url.QueryEscape(signed)})
	if a.status != http.StatusServiceUnavailable || len(a.cookies) != 0 {
		t.Errorf("store down: %d, cookies %v; want 503 and none", a.status, a.cookies)
	}
	if errs := logs.lines(t, "cookiesession/migrate: express store failed"); len(errs) != 1 || errs[0]["level"] != "ERROR" {
		t.Errorf("store failure logged as %v, want one Error", errs)
	}
	for i, v := range []string{`{"user":"ada"}`, `{"cookie":null,"user":"ada"}`, `{"cookie":{"expires":"tomorrow"},"user":"ada"}`, `"ada"`, `{"cookie":{}`} {
		stored = []byte(v)
		if a := get(t, h, &http.Cookie{Name: "connect.sid", Value: signed}); a.status != http.StatusOK || !strings.HasPrefix(a.body, "big=0 ") {
			t.Errorf("stored %s: %d %q, want signed out", v, a.status, a.body)
		}
		l := logs.lines(t, "cookiesession/migrate: express session not readable")
		if len(l) != i+1 || !strings.Contains(l[i]["fix"].(string), "make Lookup return the JSON") {
			t.Errorf("stored %s: logged %v", v, l)
		}
	}
	// A session larger than the cookie (the store held it) is carried
	// without its largest values, as an scs session is.
	stored = []byte(`{"cookie":{"expires":null},"user":"ada","blob":"` + strings.Repeat("x", 5000) + `"}`)
	a = get(t, h, &http.Cookie{Name: "connect.sid", Value: signed})
	if a.status != http.StatusOK || !strings.Contains(a.body, "user=string ada") || strings.Contains(a.body, "blob=") {
		t.Errorf("too large: %d %q, want the user carried without blob", a.status, a.body)
	}
	if l := logs.lines(t, "cookiesession/migrate: the old session is too large"); len(l) != 1 || l[0]["level"] != "WARN" {
		t.Errorf("too large: logged %v", l)
	}
	looked = 0
	for _, v := range []string{"", "s%3A", "s:", "s:.", "s:id", "s:id.", "%zz", signed + "=", signed[:len(signed)-1] + "9", signed[:len(signed)-1], strings.Repeat("s:.", 1000)} {
		if a := get(t, h, &http.Cookie{Name: "connect.sid", Value: v}); a.status != http.StatusOK || !strings.HasPrefix(a.body, "big=0 ") {
			t.Errorf("cookie %q: %d %q", v, a.status, a.body)
		}
	}
	if looked != 0 {
		t.Errorf("%d lookups for cookies not signed", looked)
	}
}

// TestExpressSignedInSkipsLookup: a request whose cookie the Manager
// opened does not look its connect.sid up, so a store that fails does not
// answer 503 to a user the new app signed in (the old app, still serving
// beside the new one in a rollout, sets connect.sid again).
func TestExpressSignedInSkipsLookup(t *testing.T) {
	var looked int
	down := false
	h, _ := expressHandler(t, cookiesession.Options{}, []string{"s"}, func(context.Context, string) ([]byte, error) {
		looked++
		if down {
			return nil, errors.New("connection refused")
		}
		return []byte(`{"cookie":{"expires":null},"user":"ada"}`), nil
	})
	old := &http.Cookie{Name: "connect.sid", Value: url.QueryEscape("s:id.5o9WEbtn2ya0zD13R9UuZUNlRft1IzqN9YMyLmfVoS8")}
	a := get(t, h, old)
	ours := a.cookies["session"]
	if a.status != http.StatusOK || !strings.Contains(a.body, "user=string ada") || ours == nil {
		t.Fatalf("carry: %d %q, cookies %v", a.status, a.body, a.cookies)
	}
	looked, down = 0, true
	a = get(t, h, ours, old)
	if a.status != http.StatusOK || !strings.Contains(a.body, "user=string ada") {
		t.Errorf("signed in, with the old store down: %d %q, want 200 and the user", a.status, a.body)
	}
	if looked != 0 {
		t.Errorf("%d lookups for a request the Manager's cookie signed in", looked)
	}
}

// TestExpressEmptySessionNotCarried: an express session with no values
// (saveUninitialized: true, express's default, stores one for every
// visitor) is not carried: the Lifetime its cookie.expires gives would be
// saved alone, a cookie for each anonymous visitor.
func TestExpressEmptySessionNotCarried(t *testing.T) {
	for _, stored := range []string{`{"cookie":{"expires":null}}`, `{"cookie":{"expires":"2999-01-01T00:00:00.000Z"}}`} {
		h, _ := expressHandler(t, retired, []string{"s"}, func(context.Context, string) ([]byte, error) { return []byte(stored), nil })
		a := get(t, h, &http.Cookie{Name: "connect.sid", Value: url.QueryEscape("s:id.5o9WEbtn2ya0zD13R9UuZUNlRft1IzqN9YMyLmfVoS8")})
		if a.status != http.StatusOK || a.cookies["session"] != nil {
			t.Errorf("stored %s: %d, cookies %v; want 200 and no session cookie", stored, a.status, a.cookies)
		}
		if c := a.cookies["connect.sid"]; c == nil || c.MaxAge >= 0 {
			t.Errorf("stored %s: connect.sid not expired: %v", stored, a.cookies)
		}
	}
}
