package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/seed-ff2808ae/cookiesession"
)

// backCase is one way of serving the account page and the logout, and
// what going Back after the logout shows in one browser.
type backCase struct {
	name          string
	cacheControl  string // the account page's Cache-Control, "" for none
	clearSiteData string // the logout response's Clear-Site-Data, "" for none
	noVary        bool   // a wrapper around the Manager drops its Vary: Cookie
	flash         bool   // the logout adds a flash after Destroy: a new session's cookie
	reload        bool   // the account page reloads itself on a persisted pageshow
}

// backCases are the pages README's "Login and logout" item speaks of.
var backCases = []backCase{
	{name: "Plain"},
	{name: "NoStore", cacheControl: "no-store"},
	{name: "NoCache", cacheControl: "private, no-cache"},
	{name: "CSD", clearSiteData: `"cache"`},
	{name: "CSDCookies", clearSiteData: `"cache", "cookies"`},
	{name: "NoStoreCSD", cacheControl: "no-store", clearSiteData: `"cache"`},
	{name: "NoVary", noVary: true},
	{name: "NoStoreFlash", cacheControl: "no-store", flash: true},
	{name: "Reload", reload: true},
}

// backServer is an app behind the Manager, over TLS on 127.0.0.1: GET
// /login?user=alice signs in and sends the browser to /account, a page
// that reads the session and shows who is signed in; its form posts to
// /logout, which calls Destroy and answers 303 to /.
type backServer struct {
	srv         *httptest.Server
	c           backCase
	accountHits atomic.Int32
	mu          sync.Mutex
	sentCache   []string // the Cache-Control each /account answer went out with
}

// The account page notes every pageshow event's persisted flag, true
// when the page came back from the back/forward cache.
const accountPage = `<!doctype html><title>account</title>
<p id="who">%s</p>
<form method="post" action="/logout"><button>Sign out</button></form>
<script>window.shows = []; addEventListener("pageshow", e => shows.push(e.persisted));</script>`

// reloadScript is README's: a page restored from the back/forward cache
// asks the server again. reloading keeps backStateJS from reading the
// restored page on its way out.
const reloadScript = `<script>addEventListener("pageshow", e => { if (e.persisted) { window.reloading = true; location.reload(); } });</script>`

// signedOutPage is the page the logout's 303 leads to.
const signedOutPage = `<!doctype html><title>home</title><p id="who">Signed out</p>`

func newBackServer(t *testing.T, c backCase) *backServer {
	t.Helper()
	ring, err := cookiesession.NewKeyRing(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	// A clock that stands still: the idle window never slides, so the
	// account page sets no cookie and the Manager leaves its
	// Cache-Control as the handler set it.
	now := time.Now()
	m, err := cookiesession.New(ring, cookiesession.Options{
		IdleTimeout: time.Hour,
		Now:         func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	bs := &backServer{c: c}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Renew()
		if err := s.Set("user", r.FormValue("user")); err != nil {
			t.Error(err)
		}
		// A cookie of the app's own beside the session's, which
		// "cookies" in Clear-Site-Data deletes too. (Set by the page's
		// script instead, it would keep a no-store page out of
		// Chromium's bfcache: CacheControlNoStoreCookieModified.)
		http.SetCookie(w, &http.Cookie{Name: "prefs", Value: "dark", Path: "/", Secure: true})
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /account", func(w http.ResponseWriter, r *http.Request) {
		bs.accountHits.Add(1)
		who := "Not signed in"
		if user := cookiesession.FromContext(r.Context()).GetString("user"); user != "" {
			who = "Hi " + user
		}
		if c.cacheControl != "" {
			w.Header().Set("Cache-Control", c.cacheControl)
		}
		fmt.Fprintf(w, accountPage, html.EscapeString(who))
		if c.reload {
			fmt.Fprint(w, reloadScript)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Destroy()
		if c.flash {
			s.AddFlash("Signed out")
		}
		if c.clearSiteData != "" {
			w.Header().Set("Clear-Site-Data", c.clearSiteData)
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, signedOutPage)
	})
	app := m.Handler(mux)
	if c.noVary {
		app = dropVary(app)
	}
	bs.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app.ServeHTTP(w, r)
		if r.URL.Path == "/account" {
			bs.mu.Lock()
			bs.sentCache = append(bs.sentCache, w.Header().Get("Cache-Control"))
			bs.mu.Unlock()
		}
	}))
	t.Cleanup(bs.srv.Close)
	return bs
}

// dropVary deletes Vary from every answer of h as it goes out, as a
// wrapper around the Manager might.
func dropVary(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(varyDropper{w}, r)
	})
}

// varyDropper is a ResponseWriter that drops Vary when the header is
// written.
type varyDropper struct{ http.ResponseWriter }

func (v varyDropper) WriteHeader(code int) {
	v.Header().Del("Vary")
	v.ResponseWriter.WriteHeader(code)
}

func (v varyDropper) Write(b []byte) (int, error) {
	v.Header().Del("Vary")
	return v.ResponseWriter.Write(b)
}

// origin is the server's https origin under liveHost.
func (bs *backServer) origin() string {
	_, port, _ := net.SplitHostPort(bs.srv.Listener.Addr().String())
	return "https://" + net.JoinHostPort(liveHost, port)
}

// checkSent fails the test unless every /account answer went out with
// the case's Cache-Control, as the handler set it.
func (bs *backServer) checkSent(t *testing.T) {
	t.Helper()
	bs.mu.Lock()
	defer bs.mu.Unlock()
	for _, got := range bs.sentCache {
		if got != bs.c.cacheControl {
			t.Fatalf("/account went out with Cache-Control %q, want the handler's %q", got, bs.c.cacheControl)
		}
	}
}

// backVisit is what the tab shows after Back, and where it came from.
type backVisit struct {
	Who      string `json:"who"`     // the page's #who
	NavType  string `json:"navType"` // the document's navigation entry type
	Restored bool   `json:"restored"`
	Asked    bool   `json:"-"` // the server saw a request for /account
	Reasons  string `json:"-"` // Chromium: why the bfcache was not used
}

// from names where the page came from: the back/forward cache, the HTTP
// cache (a new document no request fetched) or the server.
func (v backVisit) from() string {
	switch {
	case v.Restored && !v.Asked:
		return "bfcache"
	case !v.Asked && v.NavType == "back_forward":
		return "HTTP cache"
	case v.Asked && !v.Restored:
		return "server"
	}
	return fmt.Sprintf("unclear (restored %v, asked %v, type %q)", v.Restored, v.Asked, v.NavType)
}

// backStateJS reads the page once it has settled after Back: a new
// document (navigation type back_forward) or a restored one (a
// persisted pageshow); "" before then.
const backStateJS = `(() => {
	const nav = performance.getEntriesByType("navigation")[0];
	const restored = (window.shows || []).includes(true);
	if (location.pathname !== "/account" || document.readyState !== "complete" || window.reloading ||
		!(restored || (nav && (nav.type === "back_forward" || nav.type === "reload")))) return "";
	return JSON.stringify({who: document.getElementById("who").textContent, navType: nav.type, restored});
})()`

// goBackJS goes Back once the evaluation has answered: a navigation
// that starts before it answers fails it in Chromium ("Inspected target
// navigated or closed").
const goBackJS = `(setTimeout(() => history.back()), "")`

// signedOutJS is "ok" once the signed-out page says so.
const signedOutJS = `location.pathname === "/" && document.getElementById("who").textContent === "Signed out" ? "ok" : ""`

// TestBackAfterLogout signs in, opens an account page that reads the
// session, signs out (Destroy, 303 to /), and goes Back, in Chromium
// with its back/forward cache and without it, and in Firefox ESR. It
// asserts where the page came from in each case, as README's "Login and
// logout" item says; -v prints the table and the browsers' versions.
func TestBackAfterLogout(t *testing.T) {
	t.Run("Chromium", func(t *testing.T) { backInChromium(t, true) })
	t.Run("NoBFCache", func(t *testing.T) { backInChromium(t, false) })
	t.Run("Firefox", backInFirefox)
}

// wantBack is where each case's page comes from after Back, as seen in
// Chromium 156 and Firefox ESR 153: "server" means the server was asked
// and answered that nobody is signed in; "bfcache" and "HTTP cache" show
// alice's page again.
var wantBack = map[string]map[string]string{
	"Chromium": {
		"Plain": "bfcache", "NoStore": "bfcache", "NoCache": "bfcache",
		"CSD": "bfcache", "CSDCookies": "bfcache", "NoStoreCSD": "bfcache",
		"NoVary": "bfcache", "NoStoreFlash": "server", "Reload": "server",
	},
	"NoBFCache": {
		"Plain": "server", "NoStore": "server", "NoCache": "server",
		"CSD": "server", "CSDCookies": "server", "NoStoreCSD": "server",
		"NoVary": "HTTP cache", "NoStoreFlash": "server", "Reload": "server",
	},
	"Firefox": {
		"Plain": "bfcache", "NoStore": "server", "NoCache": "bfcache",
		"CSD": "bfcache", "CSDCookies": "bfcache", "NoStoreCSD": "server",
		"NoVary": "bfcache", "NoStoreFlash": "server", "Reload": "server",
	},
}

// checkBack logs what Back showed and fails unless it came from where
// wantBack says, and shows what that source should.
func checkBack(t *testing.T, browser string, c backCase, v backVisit) {
	t.Helper()
	t.Logf("%-12s Cache-Control %-19q Clear-Site-Data %-20q -> %-10s shows %q %s", c.name, c.cacheControl, c.clearSiteData, v.from(), v.Who, v.Reasons)
	if want := wantBack[browser][c.name]; v.from() != want {
		t.Errorf("%s: Back after logout came from %s (shows %q), want %s: if the browser changed, update README's \"Login and logout\" item with wantBack",
			c.name, v.from(), v.Who, want)
	}
	if browser == "Chromium" && c.flash && !strings.Contains(v.Reasons, "CacheControlNoStoreHTTPOnlyCookieModified") {
		t.Errorf("%s: Chromium gives %q as why it did not restore the page, want CacheControlNoStoreHTTPOnlyCookieModified", c.name, v.Reasons)
	}
	if v.Asked && v.Who != "Not signed in" {
		t.Errorf("%s: the server answered Back with %q, want Not signed in", c.name, v.Who)
	}
	if !v.Asked && v.Who != "Hi alice" {
		t.Errorf("%s: a page kept by the browser shows %q, want alice's", c.name, v.Who)
	}
}

func backInChromium(t *testing.T, bfcache bool) {
	name := "Chromium"
	var extra []chromedp.ExecAllocatorOption
	if !bfcache {
		name = "NoBFCache"
		extra = append(extra, chromedp.Flag("disable-features", "BackForwardCache"))
	}
	logged := false
	for _, c := range backCases {
		t.Run(c.name, func(t *testing.T) {
			bs := newBackServer(t, c)
			spki := sha256.Sum256(bs.srv.Certificate().RawSubjectPublicKeyInfo)
			tab := newBrowser(t, testContext(t), append([]chromedp.ExecAllocatorOption{
				chromedp.Flag("host-resolver-rules", "MAP "+liveHost+" 127.0.0.1"),
				chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:]))}, extra...)...)
			if !logged {
				t.Log(chromiumVersion(t, tab))
				logged = true
			}
			var notUsed atomic.Value // why the bfcache was not used, if Chromium says
			if err := chromedp.Listen(tab, func(ev any) {
				if e, ok := ev.(*cdppage.EventBackForwardCacheNotUsed); ok {
					var why []string
					for _, x := range e.NotRestoredExplanations {
						why = append(why, string(x.Reason))
					}
					notUsed.Store(strings.Join(why, ","))
				}
			}); err != nil {
				t.Fatal(err)
			}
			open(t, tab, bs.origin()+"/login?user=alice")
			if who := chromiumWho(t, tab); who != "Hi alice" {
				t.Fatalf("after login /account shows %q, want Hi alice", who)
			}
			aliceID := sessionCookies(t, tab)[cookieName].Value
			submit(t, tab, "/logout", nil)
			if held := sessionCookies(t, tab)[cookieName]; held != nil && (!c.flash || held.Value == aliceID) {
				t.Fatalf("after logout the browser holds session cookie %.12s..., want none, or a new one after a flash", held.Value)
			}
			cleared := strings.Contains(c.clearSiteData, `"cookies"`)
			if kept := slices.Contains(chromiumClient{tab}.names(t), "prefs"); kept == cleared {
				t.Errorf("after logout with Clear-Site-Data %q the prefs cookie is kept: %v, want %v", c.clearSiteData, kept, !cleared)
			}
			hits := bs.accountHits.Load()
			if _, err := chromedp.Run(tab, chromedp.Evaluate[string](goBackJS)); err != nil {
				t.Fatalf("history.back(): %v", err)
			}
			v := chromiumBackVisit(t, tab)
			v.Asked = bs.accountHits.Load() > hits
			if why, ok := notUsed.Load().(string); ok {
				v.Reasons = "(bfcache not used: " + why + ")"
			}
			bs.checkSent(t)
			checkBack(t, name, c, v)
		})
	}
}

// chromiumVersion is the browser's product and version, for the log.
func chromiumVersion(t *testing.T, tab context.Context) string {
	t.Helper()
	v, err := chromedp.CallBrowser(tab, browser.GetVersion, cdp.Empty{})
	if err != nil {
		t.Fatalf("Browser.getVersion: %v", err)
	}
	return v.Product
}

// chromiumWho reads the page's #who.
func chromiumWho(t *testing.T, tab context.Context) string {
	t.Helper()
	who, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById("who").textContent`))
	if err != nil {
		t.Fatalf("reading #who: %v", err)
	}
	return who
}

// chromiumBackVisit waits for the page Back leads to and reads it.
func chromiumBackVisit(t *testing.T, tab context.Context) backVisit {
	t.Helper()
	return decodeBackVisit(t, settle(t, "the page Back leads to", func() (string, error) {
		return chromedp.Run(tab, chromedp.Evaluate[string](backStateJS))
	}))
}

// decodeBackVisit decodes backStateJS's answer.
func decodeBackVisit(t *testing.T, state string) backVisit {
	t.Helper()
	var v backVisit
	if err := json.Unmarshal([]byte(state), &v); err != nil {
		t.Fatalf("the page after Back: %v in %s", err, state)
	}
	return v
}

// backInFirefox runs the cases in one Firefox ESR, over BiDi, each on a
// server (an origin) of its own and from an empty cookie store: it signs
// in by opening /login, signs out with the page's form, and goes Back
// with history.back().
func backInFirefox(t *testing.T) {
	ff := newFirefox(t, testContext(t), `user_pref("network.dns.forceResolve", "127.0.0.1");`)
	t.Log(ff.eval(t, `navigator.userAgent`))
	for _, c := range backCases {
		t.Run(c.name, func(t *testing.T) {
			bs := newBackServer(t, c)
			ff.call(t, "storage.deleteCookies", map[string]any{}, nil)
			ff.navigate(t, bs.origin()+"/login?user=alice")
			if who := ff.eval(t, `document.getElementById("who").textContent`); who != "Hi alice" {
				t.Fatalf("after login /account shows %q, want Hi alice", who)
			}
			aliceID := ff.cookies(t)[cookieName].Value.Value
			ff.eval(t, `(setTimeout(() => document.querySelector("form button").click()), "")`)
			settle(t, "the page after logout", func() (string, error) { return ff.tryEval(signedOutJS) })
			if held, ok := ff.cookies(t)[cookieName]; ok && (!c.flash || held.Value.Value == aliceID) {
				t.Fatalf("after logout Firefox holds session cookie %.12s..., want none, or a new one after a flash", held.Value.Value)
			}
			if _, kept := ff.cookies(t)["prefs"]; kept == strings.Contains(c.clearSiteData, `"cookies"`) {
				t.Errorf("after logout with Clear-Site-Data %q Firefox keeps the prefs cookie: %v", c.clearSiteData, kept)
			}
			hits := bs.accountHits.Load()
			ff.eval(t, goBackJS)
			v := decodeBackVisit(t, settle(t, "the page Back leads to", func() (string, error) { return ff.tryEval(backStateJS) }))
			v.Asked = bs.accountHits.Load() > hits
			bs.checkSent(t)
			checkBack(t, "Firefox", c, v)
		})
	}
}
