package e2e

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// lateRead is what the Manager logs when a session is first read after
// its response went out.
const lateRead = "session first read once its response had gone out"

// cacheApp is a site behind a shared cache: one Manager with its
// defaults, and a page of each kind. Every page ends with the count of
// requests the backend served, so that a client can tell a page the
// cache kept from one the backend wrote.
type cacheApp struct {
	hits atomic.Int64
	log  syncLog
	h    http.Handler
}

func newCacheApp(t *testing.T) *cacheApp {
	a := new(cacheApp)
	ring, err := cookiesession.NewKeyRing(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := cookiesession.New(ring, cookiesession.Options{DisableSecure: true, Logger: slog.New(slog.NewTextHandler(&a.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/get", func(http.ResponseWriter, *http.Request) {}) // the fronts' probe
	// Never touches the session: a static file.
	mux.HandleFunc("/static", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		fmt.Fprintf(w, "static #%d", a.hits.Add(1))
	})
	// A guest's form: stores a CSRF token. The site marks its pages
	// cacheable; the Manager must keep this one out of the cache.
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		token := rand.Text()
		if err := cookiesession.FromContext(r.Context()).Set("csrf", token); err != nil {
			t.Error(err)
		}
		fmt.Fprintf(w, "form %s #%d", token, a.hits.Add(1))
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		if err := cookiesession.FromContext(r.Context()).Set("user", r.FormValue("user")); err != nil {
			t.Error(err)
		}
		fmt.Fprintf(w, "signed in #%d", a.hits.Add(1))
	})
	// Reads the session, sets nothing, and leaves Cache-Control alone.
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		user := cookiesession.FromContext(r.Context()).GetString("user")
		fmt.Fprintf(w, "user %q #%d", user, a.hits.Add(1))
	})
	// Reads the session only once the response has gone out.
	mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		user := cookiesession.FromContext(r.Context()).GetString("user")
		fmt.Fprintf(w, "user %q #%d", user, a.hits.Add(1))
	})
	a.h = m.Handler(mux)
	return a
}

func (a *cacheApp) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.h.ServeHTTP(w, r) }

// cachedPage is one answer a client got through the cache.
type cachedPage struct {
	body        string
	setCookie   string // the session's Set-Cookie line, if any
	vary, cc    string
	fromBackend bool // the backend's count moved: not the cache's copy
}

// cacheClient is one browser: a cookie jar of its own.
type cacheClient struct {
	app    *cacheApp
	client *http.Client
}

func newCacheClient(t *testing.T, app *cacheApp) *cacheClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &cacheClient{app, &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

func (c *cacheClient) get(t *testing.T, url string) cachedPage {
	t.Helper()
	before := c.app.hits.Load()
	resp, err := c.client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %q (%v)", url, resp.StatusCode, body, err)
	}
	p := cachedPage{body: string(body), vary: resp.Header.Get("Vary"), cc: resp.Header.Get("Cache-Control"), fromBackend: c.app.hits.Load() != before}
	for _, line := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, "session=") {
			p.setCookie = line
		}
	}
	return p
}

// cacheSeen is what two clients, A and B, saw through a cache.
type cacheSeen struct {
	staticShared   bool // B's copy of an untouched page was A's, both without a cookie
	signedInShared bool // the same, both signed in
	formShared     bool // B got A's guest session (A's CSRF token, or A's cookie)
	signedOut      bool // A, signed in as alice, read the read-only page as nobody
	whoamiLeak     bool // B, signed in as bob, read alice's read-only page
	whoamiKept     bool // alice's read-only page came from the cache the second time
	lateLeak       bool // B read alice's page that read the session after writing
}

// visit drives two clients through front: both open an untouched page
// and a guest form; A signs in as alice and B as bob; each reads a
// read-only page, then one that reads the session after it has written,
// then the untouched page again. It returns what they saw, and the
// read-only page as A got it.
func visit(t *testing.T, app *cacheApp, front string) (cacheSeen, cachedPage) {
	t.Helper()
	a, b := newCacheClient(t, app), newCacheClient(t, app)
	var seen cacheSeen
	sa, sb := a.get(t, front+"/static"), b.get(t, front+"/static")
	seen.staticShared = sa.body == sb.body
	fa, fb := a.get(t, front+"/form"), b.get(t, front+"/form")
	seen.formShared = fa.body == fb.body || fa.setCookie != "" && fa.setCookie == fb.setCookie
	a.get(t, front+"/login?user=alice")
	b.get(t, front+"/login?user=bob")
	wa := a.get(t, front+"/whoami")
	seen.whoamiKept = !a.get(t, front+"/whoami").fromBackend
	seen.signedOut = !strings.HasPrefix(wa.body, `user "alice"`)
	seen.whoamiLeak = strings.Contains(b.get(t, front+"/whoami").body, "alice")
	a.get(t, front+"/late")
	seen.lateLeak = strings.Contains(b.get(t, front+"/late").body, "alice")
	sa, sb = a.get(t, front+"/static"), b.get(t, front+"/static")
	seen.signedInShared = sa.body == sb.body
	return seen, wa
}

// TestSharedCaches puts Varnish, nginx and Apache httpd, each caching,
// in front of one Manager, and drives two clients through them (see
// visit). With each cache's default behaviour no client gets another's
// cookie or another's page from the cache, and an untouched page is kept
// and served to both; a page that reads the session after its response
// went out is the exception, which the Manager cannot mark, and logs.
// Then the configurations sites deploy to cache despite cookies: what
// leaks is pinned. Each figure is asserted; the test prints them.
func TestSharedCaches(t *testing.T) {
	varnish, nginx, apache := varnishPath(t), nginxPath(t), apachePath(t)
	for _, tc := range []struct {
		name  string
		start func(t *testing.T, backend string) string
		want  cacheSeen
	}{
		{
			name:  "Varnish, builtin VCL",
			start: func(t *testing.T, backend string) string { return startVarnish(t, varnish, backend, "") },
			want:  cacheSeen{staticShared: true},
		},
		{
			// The Varnish tutorial's snippet: cookies only for /admin/ (here /login).
			name: "Varnish, cookies dropped outside /login",
			start: func(t *testing.T, backend string) string {
				return startVarnish(t, varnish, backend, `sub vcl_recv { if (req.url !~ "^/login") { unset req.http.Cookie; } }`)
			},
			want: cacheSeen{staticShared: true, signedInShared: true, signedOut: true, whoamiKept: true},
		},
		{
			// Cache GETs whatever their cookies.
			name: "Varnish, GETs looked up with their cookies",
			start: func(t *testing.T, backend string) string {
				return startVarnish(t, varnish, backend, `sub vcl_recv { if (req.method == "GET") { return (hash); } }`)
			},
			want: cacheSeen{staticShared: true, signedInShared: true, whoamiKept: true, lateLeak: true},
		},
		{
			name: "nginx, proxy_cache_valid 200 10m",
			start: func(t *testing.T, backend string) string {
				return startNginx(t, nginx, backend, "proxy_cache cache; proxy_cache_valid 200 10m;")
			},
			want: cacheSeen{staticShared: true, signedInShared: true, whoamiKept: true, lateLeak: true},
		},
		{
			name: "nginx, proxy_ignore_headers Cache-Control Expires Set-Cookie",
			start: func(t *testing.T, backend string) string {
				return startNginx(t, nginx, backend, "proxy_cache cache; proxy_cache_valid 200 10m; proxy_ignore_headers Cache-Control Expires Set-Cookie;")
			},
			want: cacheSeen{staticShared: true, signedInShared: true, formShared: true, whoamiKept: true, lateLeak: true},
		},
		{
			name: "Apache, mod_cache_disk",
			start: func(t *testing.T, backend string) string {
				return startApache(t, apache, backend, apacheCache(t, ""))
			},
			want: cacheSeen{staticShared: true, signedInShared: true},
		},
		{
			// Cache pages without Last-Modified for an hour.
			name: "Apache, CacheIgnoreNoLastMod On",
			start: func(t *testing.T, backend string) string {
				return startApache(t, apache, backend, apacheCache(t, "CacheIgnoreNoLastMod On"))
			},
			want: cacheSeen{staticShared: true, signedInShared: true, whoamiKept: true, lateLeak: true},
		},
		{
			name: "Apache, CacheIgnoreNoLastMod On, CacheStoreNoStore On",
			start: func(t *testing.T, backend string) string {
				return startApache(t, apache, backend, apacheCache(t, "CacheIgnoreNoLastMod On\nCacheStoreNoStore On"))
			},
			want: cacheSeen{staticShared: true, signedInShared: true, formShared: true, whoamiKept: true, lateLeak: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newCacheApp(t)
			backend := httptest.NewServer(app)
			defer backend.Close()
			front := tc.start(t, backend.Listener.Addr().String())
			seen, whoami := visit(t, app, front)
			t.Logf("%+v; the read-only page: Vary %q, Cache-Control %q", seen, whoami.vary, whoami.cc)
			if whoami.vary != "Cookie" || whoami.cc != "" {
				t.Errorf("the read-only page reached A with Vary %q and Cache-Control %q, want Cookie and none", whoami.vary, whoami.cc)
			}
			if seen != tc.want {
				t.Errorf("saw %+v\nwant %+v", seen, tc.want)
			}
			if logged := strings.Contains(app.log.reset(), lateRead); !logged {
				t.Errorf("the Manager did not log the session read after /late's response went out")
			}
		})
	}
}

// apacheCache is the mod_cache configuration: mod_cache_disk for every
// path, in a directory startApache's workers can write, with the
// directives in extra.
func apacheCache(t *testing.T, extra string) string {
	dir := workerDir(t, "cookiesession-apache-cache-")
	if os.Geteuid() == 0 { // startApache's workers run as www-data
		u, err := user.Lookup("www-data")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return fmt.Sprintf(`LoadModule cache_module %[1]s/mod_cache.so
LoadModule cache_disk_module %[1]s/mod_cache_disk.so
CacheRoot %[2]s
CacheEnable disk /
%[3]s`, apacheModules, dir, extra)
}

// varnishPath finds Debian's varnishd.
func varnishPath(t *testing.T) string {
	return toolPath(t, "apt-get install -y varnish", "varnishd", "/usr/sbin/varnishd")
}

// startVarnish runs varnishd in the foreground in front of backend on a
// free loopback port, with vcl added to the backend's definition (the
// builtin VCL runs after it), no jail and no management port. It returns
// the front's URL once a request for /get through it is answered.
func startVarnish(t *testing.T, varnish, backend, vcl string) string {
	t.Helper()
	addr := freeAddr(t)
	host, port, _ := net.SplitHostPort(backend)
	dir := t.TempDir()
	path := filepath.Join(dir, "default.vcl")
	conf := fmt.Sprintf("vcl 4.1;\nbackend default { .host = %q; .port = %q; }\n%s\n", host, port, vcl)
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(varnish, "-F", "-j", "none", "-n", filepath.Join(dir, "work"), "-a", addr, "-f", path, "-T", "none", "-s", "malloc,16m")
	return runFront(t, cmd, dir, addr, 20*time.Second, "default.vcl")
}
