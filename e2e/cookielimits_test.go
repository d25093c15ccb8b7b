package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/seed-ff2808ae/cookiesession"
)

// limitBrowser is a browser the limit tests run in, on a page of the
// live server's origin.
type limitBrowser interface {
	liveClient
	// names lists the names of the cookies held, sorted.
	names(t *testing.T) []string
	// script runs a JavaScript expression in the page and returns its
	// result, which must be a string.
	script(t *testing.T, js string) string
}

// eachBrowser runs f once in Chromium and once in Firefox, each a
// subtest with a live server of its own and the browser on a page of it.
func eachBrowser(t *testing.T, f func(t *testing.T, ls *liveServer, b limitBrowser)) {
	for _, name := range []string{"Chromium", "Firefox"} {
		t.Run(name, func(t *testing.T) {
			ls := newLiveServer(t)
			ls.deploy(t, cookiesession.Options{})
			var b limitBrowser
			if name == "Chromium" {
				b = liveBrowser(t, ls)
			} else {
				b = liveFirefox(t, ls)
			}
			f(t, ls, b)
		})
	}
}

// liveBrowser starts Chromium for ls's origin (liveHost resolved to
// 127.0.0.1, the test certificate taken by its key) on a page of it.
func liveBrowser(t *testing.T, ls *liveServer) chromiumClient {
	t.Helper()
	spki := sha256.Sum256(ls.srv.Certificate().RawSubjectPublicKeyInfo)
	tab := newBrowser(t, testContext(t),
		chromedp.Flag("host-resolver-rules", "MAP "+liveHost+" 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])))
	if _, err := chromedp.Run(tab, chromedp.NavigateResponse(ls.base()+"/")); err != nil {
		t.Fatalf("opening %s: %v", ls.base(), err)
	}
	return chromiumClient{tab}
}

// largestLogin returns the most filler bytes liveApp's login can store
// beside user alice under opts (one more and the Manager refuses to write
// the session), and the names of the cookies it then writes.
func largestLogin(t *testing.T, ring *cookiesession.KeyRing, opts cookiesession.Options) (int, []string) {
	t.Helper()
	m, err := cookiesession.New(ring, opts)
	if err != nil {
		t.Fatal(err)
	}
	save := func(n int) (http.Header, error) {
		s, _ := m.Load(httptest.NewRequest("GET", "/", nil))
		s.Renew()
		if err := s.Set("user", "alice"); err != nil {
			t.Fatal(err)
		}
		if err := s.Set("pad", strings.Repeat("p", n)); err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		return h, m.SaveHeader(h, s)
	}
	lo, hi := 0, 64*4096 // lo fits, hi does not
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; func() bool { _, err := save(mid); return err == nil }() {
			lo = mid
		} else {
			hi = mid
		}
	}
	h, err := save(lo)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.MaxAge >= 0 {
			names = append(names, c.Name)
		}
	}
	return lo, names
}

// TestBrowserCookieLimits writes the largest session each configuration
// allows, in Chromium and in Firefox over TLS, and checks that the browser
// keeps every cookie written and sends them all back: the next request is
// alice's, with every chunk. It covers MaxChunks 1 to 4 under the default
// name, a 200-byte name, a __Host- name, a Domain, a Path of 1024 bytes
// (the longest attribute browsers honour) and Partitioned, whose cookies
// Chromium keeps to 10240 bytes a site in all (it evicted the first of
// three full chunks), and MaxChunks 62, whose response header of 258 KB
// passes under the 256 KiB Chromium reads (New refuses 63). Firefox ESR
// 153 keeps all of it too.
func TestBrowserCookieLimits(t *testing.T) {
	longPath := "/" + strings.Repeat("p", 1023)
	configs := []struct {
		name string
		opts cookiesession.Options
	}{
		{"defaults", cookiesession.Options{}},
		{"200-byte name", cookiesession.Options{Name: strings.Repeat("n", 200)}},
		{"__Host- name", cookiesession.Options{Name: "__Host-session"}},
		{"Domain", cookiesession.Options{Domain: "example.com"}},
		{"1024-byte Path", cookiesession.Options{Path: longPath}},
		{"Partitioned", cookiesession.Options{Partitioned: true}},
	}
	eachBrowser(t, func(t *testing.T, ls *liveServer, b limitBrowser) {
		for _, cf := range configs {
			for chunks := 1; chunks <= 4; chunks++ {
				opts := cf.opts
				opts.MaxChunks = chunks
				checkLargest(t, ls, b, fmt.Sprintf("%s, MaxChunks %d", cf.name, chunks), opts)
			}
		}
		checkLargest(t, ls, b, "MaxChunks 62", cookiesession.Options{MaxChunks: 62})
	})
}

// checkLargest signs alice in with the largest session opts allows and
// checks that the browser holds and sends back every cookie written.
func checkLargest(t *testing.T, ls *liveServer, b limitBrowser, what string, opts cookiesession.Options) {
	t.Helper()
	pad, wrote := largestLogin(t, ls.ring, opts)
	ls.deploy(t, opts)
	b.reset(t)
	prefix := strings.TrimSuffix(opts.Path, "/")
	b.get(t, fmt.Sprintf("%s/login?user=alice&pad=%d", prefix, pad))
	held := b.names(t)
	got := b.get(t, prefix+"/whoami")
	want := "alice | " + strings.Join(wrote, " ")
	if got != want || !slices.Equal(held, slices.Sorted(slices.Values(wrote))) {
		t.Errorf("%s, %d bytes of filler: the browser held %v of the %v written, and the server got %.200q, want %.200q",
			what, pad, held, wrote, got, want)
	}
}

// TestBrowserChunkRewrite shrinks a session of three chunks to one, and
// grows it back, in Chromium and in Firefox: after each change the
// browser holds exactly the chunks of the new session, and the server
// gets them all.
func TestBrowserChunkRewrite(t *testing.T) {
	eachBrowser(t, func(t *testing.T, ls *liveServer, b limitBrowser) {
		ls.deploy(t, cookiesession.Options{MaxChunks: 3})
		b.get(t, "/login?user=alice&pad=9000")
		for _, step := range []struct {
			pad  int
			want []string
		}{
			{9000, []string{"session", "session.1", "session.2"}},
			{0, []string{"session"}},
			{5000, []string{"session", "session.1"}},
			{9000, []string{"session", "session.1", "session.2"}},
			{10, []string{"session"}},
		} {
			b.get(t, fmt.Sprintf("/pad?n=%d", step.pad))
			held := b.names(t)
			got := b.get(t, "/whoami")
			if want := "alice | " + strings.Join(step.want, " "); got != want || !slices.Equal(held, step.want) {
				t.Errorf("%d bytes of filler: the browser holds %v and the server got %q, want %q", step.pad, held, got, want)
			}
		}
	})
}

// TestBrowserCrowdedJar signs alice in (two chunks), then lets the page
// set many cookies of its own (analytics, consent), and checks what
// reaches the server, in Chromium and in Firefox. Chromium keeps 180
// cookies a domain and, past that, evicts the site's non-Secure cookies
// first, then the least recently used: 200 small cookies leave the
// session in place, 200 Secure ones evict it (the oldest), and the server
// gets a request with no session cookie at all, as from a new visitor.
// Chromium sends a Cookie line of 600 KB (150 cookies of 4000 bytes) as
// it is. Firefox ESR 153 does all the same (both hold 171 cookies after
// the 200, as -v prints).
func TestBrowserCrowdedJar(t *testing.T) {
	eachBrowser(t, func(t *testing.T, ls *liveServer, b limitBrowser) {
		for _, tc := range []struct {
			what  string
			count int
			size  int
			attrs string
			kept  bool // the session survives
		}{
			{"200 small cookies", 200, 10, "", true},
			{"200 small Secure cookies", 200, 10, "; Secure", false},
			{"150 cookies of 4000 bytes", 150, 4000, "", true},
		} {
			ls.deploy(t, cookiesession.Options{MaxChunks: 2})
			b.reset(t)
			b.get(t, "/login?user=alice&pad=5000")
			js := fmt.Sprintf(`for (let i = 0; i < %d; i++) document.cookie = "a" + i + "=" + "v".repeat(%d) + %q; String(document.cookie.length)`, tc.count, tc.size, tc.attrs)
			n := b.script(t, js)
			held := b.names(t)
			got := b.get(t, "/whoami")
			user, sent, _ := strings.Cut(got, " | ")
			names := strings.Fields(sent)
			t.Logf("%s: document.cookie %s bytes, %d cookies held, %d sent; user %q", tc.what, n, len(held), len(names), user)
			if len(held) > 180 {
				t.Errorf("%s: the browser holds %d cookies, more than the 180 a domain it keeps", tc.what, len(held))
			}
			ours := slices.Contains(names, "session") || slices.Contains(names, "session.1")
			if kept := user == "alice" && slices.Contains(names, "session") && slices.Contains(names, "session.1"); kept != tc.kept || !kept && ours {
				t.Errorf("%s: the server got user %q with %d cookies (session's among them: %t); want the session kept: %t, or none of its chunks",
					tc.what, user, len(names), ours, tc.kept)
			}
		}
	})
}
