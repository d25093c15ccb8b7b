package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestLoginReloadFlash logs in through the form and reloads: the user and
// the visit counter survive in the cookie, and the flash shows only once.
func TestLoginReloadFlash(t *testing.T) {
	ctx := testContext(t)
	b := newBrowser(t, ctx, chromedp.WindowSize(1200, 1500)) // the screenshot shows the whole page
	keys, key := ringFile(t)
	keyID := fmt.Sprintf("%08x", key.ID())
	d := startDemo(t, ctx, "127.0.0.1:0", "-keys", keys)

	p := open(t, b, d.URL)
	if !p.Anonymous || !p.NoSession || p.CookieLost || len(p.Cookies) != 0 {
		t.Fatalf("first visit: %+v, want not signed in, no session, no cookie and no cookie-lost hint", p)
	}
	if c := sessionCookies(t, b); len(c) != 0 {
		t.Fatalf("first visit set cookies %v; nothing is stored, so none may be sent", cookieNames(c))
	}

	p = login(t, b, "alice")
	if p.User != "alice" || p.Visits != 1 || p.CookieLost {
		t.Fatalf("after login: user %q visits %d cookie-lost %v, want alice, 1 and no hint", p.User, p.Visits, p.CookieLost)
	}
	if !slices.Equal(p.Flashes, []string{"Welcome, alice"}) {
		t.Fatalf("after login: flashes %q, want [Welcome, alice]", p.Flashes)
	}
	// The flash travelled in the cookie: the decrypted panel shows it, read
	// before this view took it out.
	want := []shownValue{{"_flash", `["Welcome, alice"]`, "[]string"}, {"user", `"alice"`, "string"}}
	if !slices.Equal(p.Values, want) {
		t.Fatalf("after login the decrypted panel shows %+v, want %+v", p.Values, want)
	}
	screenshot(t, b, "signed-in.png")
	id := p.SessionID

	for visits := 2; visits <= 3; visits++ {
		held := sessionCookies(t, b)
		p = reload(t, b)
		if p.User != "alice" || p.Visits != visits || p.SessionID != id {
			t.Fatalf("reload: user %q visits %d id %s, want alice, %d, %s", p.User, p.Visits, p.SessionID, visits, id)
		}
		if len(p.Flashes) != 0 {
			t.Fatalf("reload: flash %q shown again; a flash shows once", p.Flashes)
		}
		// The panels: the cookie as the browser held it, what the server
		// opened from it (the count before this visit, as an int), and this
		// instance's opens: one per view since the login.
		checkCookiePanel(t, p, held)
		want := []shownValue{{"user", `"alice"`, "string"}, {"visits", fmt.Sprint(visits - 1), "int"}}
		if !slices.Equal(p.Values, want) || p.KeyID != keyID || p.Created == "" || p.Expires == "" {
			t.Errorf("reload: decrypted %+v key %s created %q expires %q; want %+v under %s", p.Values, p.KeyID, p.Created, p.Expires, want, keyID)
		}
		if got, want := opensByKey(p), map[string]string{keyID: fmt.Sprintf("primary, %d", visits)}; !maps.Equal(got, want) {
			t.Errorf("reload: key panel %v, want %v", got, want)
		}
		if !strings.Contains(p.NoStore, "no session store on this server") || !strings.Contains(p.NoStore, "encrypted cookie") {
			t.Errorf("the no-store sentence reads %q", p.NoStore)
		}
	}

	// The JSON view of the same cookie: values keep their Go types.
	res := pageFetch(t, b, "GET", "/api/session", "")
	var got struct {
		ID     string            `json:"id"`
		Values map[string]any    `json:"values"`
		Types  map[string]string `json:"types"`
	}
	if err := json.Unmarshal([]byte(res.Body), &got); res.Status != 200 || err != nil {
		t.Fatalf("GET /api/session: %d %s (%v)", res.Status, res.Body, err)
	}
	if got.ID != id || got.Values["user"] != "alice" || got.Values["visits"] != 3.0 || got.Types["visits"] != "int" {
		t.Fatalf("GET /api/session = %s, want id %s, user alice, visits 3 stored as int", res.Body, id)
	}
}

// TestLogout logs out and checks that the session is gone from the page
// and its cookie from the browser's store.
func TestLogout(t *testing.T) {
	ctx := testContext(t)
	b := newBrowser(t, ctx)
	keys, _ := ringFile(t)
	d := startDemo(t, ctx, "127.0.0.1:0", "-keys", keys)

	open(t, b, d.URL)
	if p := login(t, b, "bob"); p.User != "bob" {
		t.Fatalf("login: user %q, want bob", p.User)
	}
	if c := sessionCookies(t, b); !slices.Equal(cookieNames(c), []string{cookieName}) {
		t.Fatalf("after login the store holds %v, want [%s]", cookieNames(c), cookieName)
	}

	p := submit(t, b, "/logout", nil)
	if p.User != "" || !p.Anonymous || !p.NoSession || p.Visits != 0 {
		t.Fatalf("after logout: %+v, want not signed in, no session, 0 visits", p)
	}
	if c := sessionCookies(t, b); len(c) != 0 {
		t.Fatalf("after logout the store still holds %v; Destroy must expire the cookie", cookieNames(c))
	}
	if p := reload(t, b); !p.Anonymous || !p.NoSession {
		t.Fatalf("reload after logout: %+v, want still no session", p)
	}
	if res := pageFetch(t, b, "GET", "/api/session", ""); res.Status != 200 || strings.TrimSpace(res.Body) != "{}" {
		t.Fatalf("GET /api/session after logout: %d %s, want 200 {}", res.Status, res.Body)
	}
}

// afterBackJS reads the page once Back has settled: a new document
// (navigation type back_forward) or one the bfcache restored (a persisted
// pageshow, noted by the listener the test adds); "" before then.
const afterBackJS = `(() => {
	const nav = performance.getEntriesByType("navigation")[0];
	const restored = (window.shows || []).includes(true);
	if (document.readyState !== "complete" || !(restored || (nav && nav.type === "back_forward"))) return "";
	return JSON.stringify({url: location.pathname + location.search, restored});
})()`

// TestOneShotMessages: what the page says once (the welcome flash, the
// "no cookie came back" hint, a form's error) is not said again by a
// reload or by Back. The demo redirects a login to /?stored=1, which
// shows the hint when no cookie comes back; that address used to stay in
// the history, so after a logout Back asked the server for /?stored=1
// without a cookie, and the page told the user their browser had refused
// the Secure cookie and to restart the demo with -insecure.
func TestOneShotMessages(t *testing.T) {
	ctx := testContext(t)
	b := newBrowser(t, ctx)
	keys, _ := ringFile(t)
	d := startDemo(t, ctx, "127.0.0.1:0", "-keys", keys)
	open(t, b, d.URL)
	p := submit(t, b, "/login", map[string]string{"username": " "}) // passes the form's required; the demo trims it
	if p.Error == "" {
		t.Fatal("a blank user name shows no error")
	}
	if p = reload(t, b); p.Error != "" {
		t.Errorf("reloading after the blank name shows the error again: %q", p.Error)
	}

	p = login(t, b, "erin")
	if p.User != "erin" || p.CookieLost || !slices.Equal(p.Flashes, []string{"Welcome, erin"}) {
		t.Fatalf("login: user %q hint %v flashes %q; want erin, no hint, the welcome", p.User, p.CookieLost, p.Flashes)
	}
	if p = reload(t, b); p.User != "erin" || len(p.Flashes) != 0 || p.CookieLost {
		t.Fatalf("reload: user %q flashes %q hint %v; want erin, no flash, no hint", p.User, p.Flashes, p.CookieLost)
	}
	if _, err := chromedp.Run(b, chromedp.Evaluate[bool](`window.shows = [], addEventListener("pageshow", e => shows.push(e.persisted)), true`)); err != nil {
		t.Fatal(err)
	}
	submit(t, b, "/logout", nil)
	if _, err := chromedp.Run(b, chromedp.Evaluate[string](goBackJS)); err != nil {
		t.Fatalf("history.back(): %v", err)
	}
	state := settle(t, "the page after Back", func() (string, error) {
		return chromedp.Run(b, chromedp.Evaluate[string](afterBackJS))
	})
	p = readPage(t, b)
	t.Logf("Back after logout: %s", state)
	if p.CookieLost {
		t.Errorf("Back after logout (%s) tells the user their browser refused the cookie", state)
	}
	if p.User != "" || !p.Anonymous {
		t.Errorf("Back after logout (%s) shows %q signed in", state, p.User)
	}
}

// noteText returns n random letters: text that does not compress, so the
// token is as large as the note says.
func noteText(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}

// TestChunkedNote stores an 8 KB note with -max-chunks 4: the browser must
// keep every chunk and send them all back, and a shrunk note must make it
// drop the chunks that are no longer used.
func TestChunkedNote(t *testing.T) {
	ctx := testContext(t)
	b := newBrowser(t, ctx)
	keys, _ := ringFile(t)
	d := startDemo(t, ctx, "127.0.0.1:0", "-keys", keys, "-max-chunks", "4")

	open(t, b, d.URL)
	login(t, b, "carol")
	const big = 8 << 10
	p := submit(t, b, "/note", map[string]string{"note": noteText(big)})
	stored := sessionCookies(t, b)
	names := cookieNames(stored)
	if len(names) < 3 || !slices.Equal(names, chunkNames(len(names))) {
		t.Fatalf("after an 8 KB note the store holds %v, want %s, %s.1, %s.2, ...", names, cookieName, cookieName, cookieName)
	}
	for _, c := range stored {
		if size := len(c.Name) + len(c.Value); size > 4096 {
			t.Errorf("chunk %s is %d bytes, over 4096", c.Name, size)
		}
	}
	// The page was rendered from the cookies the browser sent back, so it
	// can show the note only if every chunk arrived.
	wantSize := fmt.Sprintf("in %d cookie(s)", len(names))
	if p.User != "carol" || p.NoteLength != big || !strings.Contains(p.CookieSize, wantSize) {
		t.Fatalf("after the note: user %q note %d bytes, cookie %q; want carol, %d, %q", p.User, p.NoteLength, p.CookieSize, big, wantSize)
	}
	held := sessionCookies(t, b)
	if p = reload(t, b); p.NoteLength != big || p.User != "carol" {
		t.Fatalf("reload: user %q note %d bytes, want carol and %d", p.User, p.NoteLength, big)
	}
	checkCookiePanel(t, p, held)

	p = submit(t, b, "/note", map[string]string{"note": "a short note"})
	if names := cookieNames(sessionCookies(t, b)); !slices.Equal(names, []string{cookieName}) {
		t.Fatalf("after shrinking the note the store holds %v, want only [%s]: stale chunks must be expired", names, cookieName)
	}
	if p.NoteLength != len("a short note") || !strings.Contains(p.CookieSize, "in 1 cookie(s)") || p.User != "carol" {
		t.Fatalf("after shrinking: user %q note %d bytes, cookie %q", p.User, p.NoteLength, p.CookieSize)
	}
}

// TestTooLarge uses -max-chunks 1: a note that does not fit is refused
// (413 from the API, an error on the page) and the browser keeps the old
// session untouched.
func TestTooLarge(t *testing.T) {
	ctx := testContext(t)
	b := newBrowser(t, ctx)
	keys, _ := ringFile(t)
	d := startDemo(t, ctx, "127.0.0.1:0", "-keys", keys, "-max-chunks", "1")

	open(t, b, d.URL)
	login(t, b, "dave")
	submit(t, b, "/note", map[string]string{"note": "keep me"})
	before := sessionCookies(t, b)

	res := pageFetch(t, b, "POST", "/api/session", `JSON.stringify({note: "x".repeat(8192)})`)
	var body struct{ Error string }
	if err := json.Unmarshal([]byte(res.Body), &body); res.Status != 413 || err != nil || body.Error == "" {
		t.Fatalf("POST /api/session with 8 KB: %d %s, want 413 with a JSON error", res.Status, res.Body)
	}
	after := sessionCookies(t, b)
	if !sameCookies(before, after) {
		t.Fatalf("the refused save changed the cookie store: %v -> %v", cookieNames(before), cookieNames(after))
	}

	// The form answers 413 with the typed note still in it, and the
	// stored session (and the browser's cookie) as they were.
	typed := noteText(8 << 10)
	p := submitStatus(t, b, "/note", map[string]string{"note": typed}, 413)
	if p.Error == "" || p.User != "dave" || p.NoteLength != len("keep me") {
		t.Fatalf("form with 8 KB: error %q user %q note %d bytes; want an error, dave and the old note", p.Error, p.User, p.NoteLength)
	}
	if p.Draft != typed {
		t.Fatalf("the 413 page's form holds %d bytes, want the %d typed", len(p.Draft), len(typed))
	}
	screenshot(t, b, "too-large.png")
	if !slices.Contains(p.Values, shownValue{"note", `"keep me"`, "string"}) {
		t.Errorf("the 413 page's decrypted panel shows %+v, want the stored note", p.Values)
	}
	if !sameCookies(before, sessionCookies(t, b)) {
		t.Fatal("the refused note changed the cookie store")
	}
	if p = open(t, b, d.URL); p.User != "dave" || p.NoteLength != len("keep me") || p.Draft != "keep me" {
		t.Fatalf("next view: user %q note %d bytes form %q, want dave and the old note", p.User, p.NoteLength, p.Draft)
	}
}

// sameCookies says whether two reads of the store hold the same session
// cookies with the same values.
func sameCookies(a, b map[string]*network.Cookie) bool {
	if len(a) != len(b) {
		return false
	}
	for name, c := range a {
		if other, ok := b[name]; !ok || other.Value != c.Value {
			return false
		}
	}
	return true
}

// TestCookieAttributes reads the cookie the browser stored and checks the
// attributes the middleware sets by default.
func TestCookieAttributes(t *testing.T) {
	ctx := testContext(t)
	b := newBrowser(t, ctx)
	keys, _ := ringFile(t)
	const maxAge = 2 * time.Hour
	d := startDemo(t, ctx, "127.0.0.1:0", "-keys", keys, "-max-age", maxAge.String())

	open(t, b, d.URL)
	// A note has the default lifetime (a login has its own: see
	// TestRememberMe).
	p := submit(t, b, "/note", map[string]string{"note": "hello"})
	c := sessionCookies(t, b)[cookieName]
	if c == nil {
		t.Fatal("no session cookie in the store after saving a note")
	}
	if !c.Secure || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
		t.Errorf("attributes: secure %v httpOnly %v sameSite %q path %q; want true, true, Lax, /", c.Secure, c.HTTPOnly, c.SameSite, c.Path)
	}
	if c.Domain != demoHost {
		t.Errorf("domain %q, want the host-only %q", c.Domain, demoHost)
	}
	if c.Session {
		t.Error("the cookie is a browser-session cookie; the default is persistent with Max-Age")
	}
	// The browser turns Max-Age into an expiry when it stores the cookie,
	// so it must be about now + MaxAge (the session was created just now).
	expires := time.Unix(int64(c.Expires), 0)
	if want := time.Now().Add(maxAge); expires.Before(want.Add(-time.Minute)) || expires.After(want.Add(time.Minute)) {
		t.Errorf("expires %v, want about %v (now + %v)", expires, want, maxAge)
	}
	if strings.Contains(p.Cookie, cookieName+"=") {
		t.Errorf("document.cookie shows the session cookie (%q) although it is HttpOnly", p.Cookie)
	}
}

// TestRememberMe logs in without and with "remember me": unchecked, the
// browser holds a session cookie (no Max-Age; gone when it closes) and the
// server ends the session after -max-age; checked, a persistent cookie
// that lasts, like the session, 30 days.
func TestRememberMe(t *testing.T) {
	ctx := testContext(t)
	b := newBrowser(t, ctx)
	keys, _ := ringFile(t)
	d := startDemo(t, ctx, "127.0.0.1:0", "-keys", keys, "-max-age", "2h")
	lifetime := func(p page) time.Duration {
		created, err1 := time.Parse(time.RFC3339, p.Created)
		expires, err2 := time.Parse(time.RFC3339, p.Expires)
		if err1 != nil || err2 != nil {
			t.Fatalf("created %q expires %q: %v %v", p.Created, p.Expires, err1, err2)
		}
		return expires.Sub(created)
	}

	open(t, b, d.URL)
	login(t, b, "ivan")
	p := reload(t, b) // the decrypted panel shows the cookie the login set
	c := sessionCookies(t, b)[cookieName]
	if c == nil || !c.Session || p.User != "ivan" {
		t.Fatalf("unchecked: cookie %+v, user %q; want a browser-session cookie", c, p.User)
	}
	if got := lifetime(p); got != 2*time.Hour {
		t.Errorf("unchecked: the session lives %v, want the -max-age 2h", got)
	}

	submit(t, b, "/logout", nil)
	loginRemembered(t, b, "ivan")
	p = reload(t, b)
	c = sessionCookies(t, b)[cookieName]
	if c == nil || c.Session || p.User != "ivan" {
		t.Fatalf("checked: cookie %+v, user %q; want a persistent cookie", c, p.User)
	}
	const month = 30 * 24 * time.Hour
	expires := time.Unix(int64(c.Expires), 0)
	if want := time.Now().Add(month); expires.Before(want.Add(-time.Minute)) || expires.After(want.Add(time.Minute)) {
		t.Errorf("checked: the cookie expires %v, want about %v (now + 30 days)", expires, want)
	}
	if got := lifetime(p); got != month {
		t.Errorf("checked: the session lives %v, want 30 days", got)
	}
}

// TestSecureCookieOverHTTP pins down what Debian's Chromium does with the
// demo's Secure cookie over plain http. It treats 127.0.0.1 and localhost
// as secure contexts, so it keeps the cookie and sends it back: the demo
// works there without -insecure. Any other host name over http (here
// demo.test, resolved to 127.0.0.1 by the browser) is not one, so the
// cookie is refused until the demo runs with -insecure.
func TestSecureCookieOverHTTP(t *testing.T) {
	ctx := testContext(t)
	b := newBrowser(t, ctx, chromedp.Flag("host-resolver-rules", "MAP demo.test 127.0.0.1"))
	keys, _ := ringFile(t)
	secure := startDemo(t, ctx, "127.0.0.1:0", "-keys", keys)
	insecure := startDemo(t, ctx, "127.0.0.1:0", "-keys", keys, "-insecure")
	blocked := watchBlockedCookies(t, b)

	for _, tc := range []struct {
		demo   *demo
		host   string
		stored bool // the browser keeps the cookie
		secure bool // with the Secure attribute
	}{
		{secure, "127.0.0.1", true, true},
		{secure, "localhost", true, true},
		{secure, "demo.test", false, false},
		{insecure, "demo.test", true, false},
	} {
		_, port, _ := net.SplitHostPort(tc.demo.Addr)
		origin := "http://" + net.JoinHostPort(tc.host, port)
		if p := open(t, b, origin+"/"); p.CookieLost {
			t.Errorf("%s: the first visit shows the cookie-lost hint", origin)
		}
		user := "user@" + tc.host
		p := login(t, b, user)
		if p.CookieLost != !tc.stored {
			t.Errorf("%s: cookie-lost hint shown %v after login, want %v", origin, p.CookieLost, !tc.stored)
		}
		var c *network.Cookie
		for _, sc := range sessionCookies(t, b) {
			if sc.Domain == tc.host && sc.Name == cookieName {
				c = sc
			}
		}
		switch {
		case !tc.stored && (c != nil || p.User != ""):
			t.Errorf("%s: the browser kept a Secure cookie over plain http (%+v, signed in as %q)", origin, c, p.User)
		case !tc.stored && !slices.Contains(blocked.reasons(cookieName), network.SetCookieBlockedReasonSecureOnly):
			t.Errorf("%s: cookie refused for %v, want %s", origin, blocked.reasons(cookieName), network.SetCookieBlockedReasonSecureOnly)
		case !tc.stored:
			t.Logf("%s: Secure cookie refused over plain http: %v", origin, blocked.reasons(cookieName))
		case c == nil || p.User != user:
			t.Errorf("%s: signed in as %q with cookie %+v; want %q: the cookie did not come back", origin, p.User, c, user)
		case c.Secure != tc.secure:
			t.Errorf("%s: cookie Secure=%v, want %v", origin, c.Secure, tc.secure)
		}
	}
}

// TestKeyRotation restarts the demo with a rotated ring: a user who comes
// back while the old key is still open-only stays signed in (and the
// cookie moves to the new key); once the old key is removed, a cookie still
// sealed with it gives a fresh session.
func TestKeyRotation(t *testing.T) {
	ctx := testContext(t)
	returning := newBrowser(t, ctx) // visits during the rotation
	away := newBrowser(t, ctx)      // comes back only after it
	keys, oldKey := ringFile(t)
	d := startDemo(t, ctx, "127.0.0.1:0", "-keys", keys)
	addr := d.Addr

	open(t, returning, d.URL)
	p := login(t, returning, "frank")
	open(t, away, d.URL)
	login(t, away, "grace")
	oldID := fmt.Sprintf("%08x", oldKey.ID())
	if p.KeyID != oldID {
		t.Fatalf("sealed with key %s, want %s", p.KeyID, oldID)
	}
	sessionID := p.SessionID
	oldValue := sessionCookies(t, returning)[cookieName].Value

	// Stages 1+2 of a rotation in one restart: new key primary, old key
	// kept open-only.
	newKey := newKey(t)
	newID := fmt.Sprintf("%08x", newKey.ID())
	d.stop(t)
	writeRing(t, keys, newKey, oldKey)
	d = startDemo(t, ctx, addr, "-keys", keys)

	p = reload(t, returning)
	if p.User != "frank" || p.SessionID != sessionID || p.KeyID != oldID {
		t.Fatalf("after rotation: user %q id %s key %s; want frank, %s, the old key %s", p.User, p.SessionID, p.KeyID, sessionID, oldID)
	}
	// The key panel shows the rotation's progress: the old key still opens.
	if got, want := opensByKey(p), map[string]string{newID: "primary, 0", oldID: "open-only, 1"}; !maps.Equal(got, want) {
		t.Errorf("after rotation the key panel shows %v, want %v", got, want)
	}
	if v := sessionCookies(t, returning)[cookieName].Value; v == oldValue {
		t.Fatal("the cookie opened under the old key was not re-sealed")
	}
	if p = reload(t, returning); p.User != "frank" || p.KeyID != newID {
		t.Fatalf("second visit: user %q key %s, want frank under the new key %s", p.User, p.KeyID, newID)
	}
	if got, want := opensByKey(p), map[string]string{newID: "primary, 1", oldID: "open-only, 1"}; !maps.Equal(got, want) {
		t.Errorf("second visit: the key panel shows %v, want %v", got, want)
	}

	// Stage 3: the old key is removed.
	d.stop(t)
	writeRing(t, keys, newKey)
	d = startDemo(t, ctx, addr, "-keys", keys)

	if p = reload(t, returning); p.User != "frank" || p.SessionID != sessionID {
		t.Fatalf("old key removed: user %q id %s; want frank and %s, re-sealed during the rotation", p.User, p.SessionID, sessionID)
	}
	held := sessionCookies(t, away)
	p = reload(t, away)
	if p.User != "" || !p.Anonymous || !p.Refusal || p.NoSession || p.Refused != 1 {
		t.Fatalf("old key removed, cookie still under it: %+v, want a fresh session, the page saying the cookie was refused, and 1 refused", p)
	}
	checkCookiePanel(t, p, held) // the browser sent it; the server could not open it
	if got, want := opensByKey(p), map[string]string{newID: "primary, 1"}; !maps.Equal(got, want) {
		t.Errorf("old key removed: the key panel shows %v, want %v", got, want)
	}
	// An unknown key id may be newer than this instance's ring, so the
	// cookie stays until something is stored; the refusal is a warning.
	if c := sessionCookies(t, away); !sameCookies(c, held) {
		t.Errorf("the cookie under the unknown key changed (%v) although nothing was stored", cookieNames(c))
	}
	if want := "level=WARN msg=\"cookiesession: session cookie refused\" cookie=session reason=\"cookiesession: unknown key id " + oldID; !strings.Contains(d.out.String(), want) {
		t.Errorf("the demo's log does not say %q", want)
	}
	if p = login(t, away, "grace"); p.User != "grace" || p.KeyID != newID || sameCookies(sessionCookies(t, away), held) {
		t.Errorf("signing in again: user %q key %s; want grace under %s, in a new cookie", p.User, p.KeyID, newID)
	}
}

// TestBrowserNotModified checks in Chromium, over HTTP/2, a Set-Cookie on
// a 304: a page cached without a change to the session (Cache-Control:
// no-cache and an ETag) is revalidated by a request that changes the
// session, and http.ServeContent answers 304 with the Manager's cookie.
// The page comes from the cache, and the browser keeps the new cookie.
func TestBrowserNotModified(t *testing.T) {
	ring, err := cookiesession.NewKeyRing(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := cookiesession.New(ring, cookiesession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var change atomic.Bool
	conditions := make(chan string, 4)
	srv := httptest.NewUnstartedServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		var err error
		switch r.URL.Path {
		case "/login":
			err = s.Set("n", 1)
		case "/page":
			conditions <- r.Header.Get("If-None-Match")
			if change.Load() {
				err = s.Set("n", s.GetInt("n")+1)
			}
			w.Header().Set("Etag", `"v1"`)
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeContent(w, r, "", time.Time{}, strings.NewReader("page"))
		default:
			fmt.Fprint(w, s.GetInt("n"))
		}
		if err != nil {
			t.Error(err)
		}
	})))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	spki := sha256.Sum256(srv.Certificate().RawSubjectPublicKeyInfo)
	tab := newBrowser(t, testContext(t),
		chromedp.Flag("host-resolver-rules", "MAP "+liveHost+" 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])))
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	if _, err := chromedp.Run(tab, chromedp.NavigateResponse("https://"+net.JoinHostPort(liveHost, port)+"/")); err != nil {
		t.Fatal(err)
	}
	// The handler sends If-None-Match before it answers, so it is there
	// once the fetch resolves; a page the browser took from its cache
	// fails here at once, where a waiting receive would hang the run.
	asked := func() string {
		select {
		case cond := <-conditions:
			return cond
		default:
			return "(no request reached the server)"
		}
	}
	pageFetch(t, tab, "GET", "/login", "")
	if res := pageFetch(t, tab, "GET", "/page", ""); res.Status != http.StatusOK || res.Body != "page" {
		t.Fatalf("first /page: %d %q", res.Status, res.Body)
	}
	if cond := asked(); cond != "" {
		t.Fatalf("first /page: If-None-Match %q, want none", cond)
	}
	change.Store(true)
	res := pageFetch(t, tab, "GET", "/page", "")
	if cond := asked(); cond != `"v1"` {
		t.Fatalf("Chromium revalidated with If-None-Match %q, want \"v1\": no 304", cond)
	}
	if res.Status != http.StatusOK || res.Body != "page" {
		t.Errorf("after the 304: %d %q, want the cached 200 \"page\"", res.Status, res.Body)
	}
	if n := pageFetch(t, tab, "GET", "/n", "").Body; n != "2" {
		t.Errorf("after the 304 the browser's session counts %s, want 2: the 304's cookie was not kept", n)
	}
}
