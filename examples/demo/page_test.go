package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestCookiePanel: the page shows the session's cookies exactly as the
// browser sent them: names in chunk order, sizes against 4096, values.
func TestCookiePanel(t *testing.T) {
	d := startDemo(t, newRing(t), config{MaxChunks: 4})
	d.postForm("/login", url.Values{"username": {"ada"}})
	for _, noteLen := range []int{0, 8000} {
		if noteLen > 0 {
			d.postForm("/note", url.Values{"note": {strings.Repeat("0123456789", noteLen/10)}})
		}
		held := d.cookies() // what the next request sends
		_, page := d.get("/")
		var want [][]string
		total := 0
		for _, name := range []string{"session", "session.1", "session.2", "session.3"} {
			v, ok := held[name]
			if !ok {
				break
			}
			size := len(name) + len(v)
			total += size
			want = append(want, []string{name, fmt.Sprintf("%d of 4096 bytes", size), v})
		}
		if len(want) != len(held) || (noteLen > 0) != (len(want) > 1) {
			t.Fatalf("note of %d bytes: the jar holds %v", noteLen, keys(held))
		}
		if diff := cmp.Diff(want, rows(page, "cookie")); diff != "" {
			t.Errorf("note of %d bytes: cookie rows (-held +shown):\n%s", noteLen, diff)
		}
		if got, want := element(page, "cookie-size"), fmt.Sprintf("%d bytes in %d cookie(s)", total, len(want)); got != want {
			t.Errorf("cookie-size %q, want %q", got, want)
		}
	}
}

// TestDecryptedPanel: the page lists what the server opened from the
// cookie (values with their Go types, id, times, key id) before this
// view changes it.
func TestDecryptedPanel(t *testing.T) {
	ring := newRing(t)
	d := startDemo(t, ring, config{})
	d.postJSON(`{"n":7,"tags":["a","b"],"o":{"k":1}}`)
	_, page := d.postForm("/login", url.Values{"username": {"ada"}})
	want := [][]string{
		{"_flash", `["Welcome, ada"]`, "[]string"},
		{"n", "7", "int64"},
		{"o", `{"k":1}`, "json.RawMessage"},
		{"tags", `["a" "b"]`, "[]string"},
		{"user", `"ada"`, "string"},
	}
	if diff := cmp.Diff(want, rows(page, "entry")); diff != "" {
		t.Errorf("values after login (-want +shown):\n%s", diff)
	}
	_, page = d.get("/")
	want = append(want[1:], []string{"visits", "1", "int"})
	if diff := cmp.Diff(want, rows(page, "entry")); diff != "" {
		t.Errorf("values on the next view (-want +shown):\n%s", diff)
	}
	s := d.session()
	created, err1 := time.Parse(time.RFC3339, element(page, "created"))
	expires, err2 := time.Parse(time.RFC3339, element(page, "expires"))
	if element(page, "session-id") != s.ID || element(page, "key-id") != cookiesession.FormatKeyID(ring.Primary()) ||
		err1 != nil || err2 != nil || !created.Equal(s.Created) || expires.Sub(created) != 24*time.Hour {
		t.Errorf("metadata id %q key %q created %q expires %q; want %s, the primary, and a 24h lifetime",
			element(page, "session-id"), element(page, "key-id"), element(page, "created"), element(page, "expires"), s.ID)
	}
}

func TestShow(t *testing.T) {
	long := strings.Repeat("é", 60) // 2 bytes a rune: a cut must not split one
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"a\"b", `"a\"b"`},
		{42, "42"},
		{int64(-7), "-7"},
		{1.5, "1.5"},
		{true, "true"},
		{nil, "<nil>"},
		{[]string{"x", "y"}, `["x" "y"]`},
		{[]byte("hi"), "[104 105]"},
		{long, `"` + strings.Repeat("é", 39) + "…"},
	} {
		if got := show(tc.v); got != tc.want {
			t.Errorf("show(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// TestNoStoreSentence: every view says that the server keeps nothing.
func TestNoStoreSentence(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	_, first := d.get("/")
	_, signedIn := d.postForm("/login", url.Values{"username": {"ada"}})
	for _, page := range []string{first, signedIn} {
		if got := element(page, "no-store"); !strings.Contains(got, "no session store on this server") ||
			!strings.Contains(got, "encrypted cookie") {
			t.Errorf("no-store sentence = %q", got)
		}
	}
}

// TestCookieLostHint: the "no cookie came back" help shows only right
// after something was stored and the browser did not send the cookie.
func TestCookieLostHint(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	if _, page := d.get("/"); strings.Contains(page, `id="cookie-lost"`) {
		t.Error("the first visit shows the cookie-lost hint")
	}
	if _, page := d.postForm("/login", url.Values{"username": {"ada"}}); strings.Contains(page, `id="cookie-lost"`) {
		t.Error("a working login shows the cookie-lost hint")
	}
	if _, page := d.postForm("/note", url.Values{"note": {""}}); strings.Contains(page, `id="cookie-lost"`) {
		t.Error("an empty note on a live session shows the hint")
	}
	// The hint holds for this view only: the page drops ?stored from the
	// address, or Back after a logout would show it (TestOneShotMessages
	// in e2e/ runs that in Chromium).
	if _, page := d.get("/?stored=1"); !strings.Contains(page, `history.replaceState(history.state, "", location.pathname + location.hash)`) {
		t.Error("the page does not drop ?stored from the address")
	}

	noJar := *d.client
	noJar.Jar = nil
	blocking := &demo{t: t, srv: d.srv, client: &noJar}
	if _, page := blocking.postForm("/login", url.Values{"username": {"ada"}}); !strings.Contains(page, `id="cookie-lost"`) ||
		!strings.Contains(page, "block cookies") || strings.Contains(page, "-insecure") {
		t.Errorf("a browser that drops cookies over TLS: want the hint about blocked cookies:\n%s", page)
	}
	if _, page := blocking.postForm("/note", url.Values{"note": {""}}); strings.Contains(page, `id="cookie-lost"`) {
		t.Error("an empty note stored nothing, yet the hint shows")
	}

	// Over plain HTTP to a host that is not loopback, Go's jar (like every
	// browser) keeps the Secure cookie to itself: the hint names -insecure;
	// with -insecure the login works.
	for _, insecure := range []bool{false, true} {
		h, err := newApp(newRing(t), config{Insecure: insecure, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		defer srv.Close()
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		jar, _ := cookiejar.New(nil)
		toServer := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return new(net.Dialer).DialContext(ctx, network, srv.Listener.Addr().String())
		}}
		defer toServer.CloseIdleConnections()
		client := &http.Client{Jar: jar, Transport: toServer}
		resp, err := client.PostForm("http://demo.test:"+port+"/login", url.Values{"username": {"ada"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(body)
		if hint := strings.Contains(page, "-insecure</code>"); hint == insecure || (element(page, "user") == "ada") != insecure {
			t.Errorf("plain HTTP, insecure %v: hint %v, user %q", insecure, hint, element(page, "user"))
		}
	}
}

// TestKeyRingPanel: the page lists the instance's keys with the tokens
// each opened, so a rotation's progress shows.
func TestKeyRingPanel(t *testing.T) {
	oldKey, newKey, later := mustKey(t), mustKey(t), mustKey(t)
	ring, err := cookiesession.NewKeyRing(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	id := func(k cookiesession.Key) string { return cookiesession.FormatKeyID(k.ID()) }
	d := startDemo(t, ring, config{})
	d.postForm("/login", url.Values{"username": {"ada"}}) // the redirect's view opens the cookie
	check := func(step string, want map[string][2]string) {
		t.Helper()
		_, page := d.get("/")
		got := map[string][2]string{}
		for _, r := range rows(page, "ring-key") {
			got[r[0]] = [2]string{r[1], r[2]}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: key rows (-want +got):\n%s", step, diff)
		}
	}
	check("one key", map[string][2]string{id(oldKey): {"primary", "2"}})

	promoteAt := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	if err := ring.Add(newKey); err != nil {
		t.Fatal(err)
	}
	if err := ring.AddScheduled(later, promoteAt); err != nil {
		t.Fatal(err)
	}
	if err := ring.Promote(newKey.ID()); err != nil {
		t.Fatal(err)
	}
	check("promoted", map[string][2]string{
		id(oldKey): {"open-only", "3"}, id(newKey): {"primary", "0"},
		id(later): {"primary from " + promoteAt.Format(time.RFC3339), "0"},
	})
	if err := ring.Remove(oldKey.ID()); err != nil {
		t.Fatal(err)
	}
	check("old key removed", map[string][2]string{
		id(oldKey): {"removed", "3"}, id(newKey): {"primary", "1"},
		id(later): {"primary from " + promoteAt.Format(time.RFC3339), "0"},
	})
}

// TestResealedFigure: the panel's re-sealed count is the library's
// resealed, tokens re-sealed only to move them to the primary. A view of
// the page changes the session (it counts the visit), so the token it
// moves to the primary is not in it: the sentence must say so, or a user
// watching a rotation reads "0 re-sealed" while their cookie moved.
func TestResealedFigure(t *testing.T) {
	oldKey, newKey := mustKey(t), mustKey(t)
	ring, err := cookiesession.NewKeyRing(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	d := startDemo(t, ring, config{})
	api := d.otherBrowser()
	d.postForm("/login", url.Values{"username": {"ada"}})
	api.postForm("/login", url.Values{"username": {"bob"}})
	if err := ring.Add(newKey); err != nil {
		t.Fatal(err)
	}
	if err := ring.Promote(newKey.ID()); err != nil {
		t.Fatal(err)
	}
	newID := cookiesession.FormatKeyID(newKey.ID())
	d.get("/") // opened under the old key, sealed under the new with the visit
	_, page := d.get("/")
	if got := element(page, "key-id"); got != newID {
		t.Fatalf("after a view the cookie is sealed with %s, want the new primary %s", got, newID)
	}
	if got := element(page, "resealed"); got != "0" {
		t.Fatalf("re-sealed shows %s after page views only, want 0", got)
	}
	const says = "each view of this page changes the session, which moves its token too, uncounted"
	if !strings.Contains(strings.Join(strings.Fields(page), " "), says) {
		t.Errorf("the key panel does not say that page views are not counted as re-sealed (%q)", says)
	}
	api.get("/api/session") // read-only: re-sealed only to move it
	if _, page = d.get("/"); element(page, "resealed") != "1" {
		t.Errorf("re-sealed shows %s after a read-only GET /api/session under the old key, want 1", element(page, "resealed"))
	}
}

func mustKey(t *testing.T) cookiesession.Key {
	t.Helper()
	k, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRememberMe: unchecked, the login's cookie has no Max-Age and the
// session the default lifetime; checked, a persistent cookie and 30 days,
// even with a shorter MaxAge (MaxLifetime allows it).
func TestRememberMe(t *testing.T) {
	const month = 30 * 24 * time.Hour
	for _, tc := range []struct {
		cfg      config
		remember bool
		life     time.Duration
	}{
		{config{}, false, 24 * time.Hour},
		{config{}, true, month},
		{config{MaxAge: time.Hour}, false, time.Hour},
		{config{MaxAge: time.Hour}, true, month},
		{config{RememberFor: 48 * time.Hour}, true, 48 * time.Hour},
	} {
		d := startDemo(t, newRing(t), tc.cfg)
		form := url.Values{"username": {"ada"}}
		if tc.remember {
			form.Set("remember", "1")
		}
		resp := d.firstResponse("/login", form)
		var c *http.Cookie
		for _, line := range resp.Header.Values("Set-Cookie") {
			if parsed, err := http.ParseSetCookie(line); err == nil && parsed.Name == "session" {
				c = parsed
			}
		}
		if c == nil {
			t.Fatalf("%+v remember %v: no session cookie in %q", tc.cfg, tc.remember, resp.Header.Values("Set-Cookie"))
		}
		maxAge := time.Duration(c.MaxAge) * time.Second
		persistent := c.MaxAge > 0 || !c.Expires.IsZero()
		if persistent != tc.remember || (tc.remember && (maxAge > tc.life || maxAge < tc.life-2*time.Second)) {
			t.Errorf("%+v remember %v: cookie Max-Age %v Expires %v; want persistent %v for %v",
				tc.cfg, tc.remember, maxAge, c.Expires, tc.remember, tc.life)
		}
		s := d.session()
		if got := s.Expires.Sub(s.Created); got != tc.life || s.Values["user"] != "ada" {
			t.Errorf("%+v remember %v: the session lives %v (user %v), want %v", tc.cfg, tc.remember, got, s.Values["user"], tc.life)
		}
	}
}

// TestVisitsSurviveJSONPost: a counter posted as a JSON number, integer
// literal or not, keeps counting on the page.
func TestVisitsSurviveJSONPost(t *testing.T) {
	for _, body := range []string{`{"visits":41}`, `{"visits":4.1e1}`, `{"visits":41.0}`} {
		d := startDemo(t, newRing(t), config{})
		if resp, got := d.postJSON(body); resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s = %d %s", body, resp.StatusCode, got)
		}
		if _, page := d.get("/"); element(page, "visits") != "42" {
			t.Errorf("after POST %s the page says %q visits, want 42", body, element(page, "visits"))
		}
		if s := d.session(); s.Values["visits"] != 42.0 || s.Types["visits"] != "int" {
			t.Errorf("after POST %s and a view: visits %v (%s), want 42 stored as int", body, s.Values["visits"], s.Types["visits"])
		}
	}
}

func TestRememberLabel(t *testing.T) {
	for cfg, want := range map[time.Duration]string{0: "30 days", 24 * time.Hour: "1 day", 36 * time.Hour: "36h0m0s"} {
		d := startDemo(t, newRing(t), config{RememberFor: cfg})
		if _, page := d.get("/"); !strings.Contains(page, "Remember me for "+want+"</label>") {
			t.Errorf("-remember %v: the checkbox does not say %q", cfg, want)
		}
	}
}

// TestForgetLabel: the unchecked box's note names the server's lifetimes,
// not the browser's closing, which a browser that restores its last
// session does not end it at.
func TestForgetLabel(t *testing.T) {
	for _, tc := range []struct {
		cfg  config
		want string
	}{
		{config{}, "the server ends the session after 1 day)"},
		{config{MaxAge: 2 * time.Hour}, "the server ends the session after 2h0m0s)"},
		{config{MaxAge: 48 * time.Hour, IdleTimeout: 30 * time.Minute}, "the server ends the session after 2 days, or 30m0s idle)"},
	} {
		d := startDemo(t, newRing(t), tc.cfg)
		if _, page := d.get("/"); !strings.Contains(page, tc.want) || strings.Contains(page, "ends when the browser closes") {
			t.Errorf("-max-age %v -idle-timeout %v: the unchecked box's note does not say %q", tc.cfg.MaxAge, tc.cfg.IdleTimeout, tc.want)
		}
	}
}

func TestRememberFlag(t *testing.T) {
	f, err := parseFlags(nil, new(strings.Builder))
	if err != nil || f.cfg.RememberFor != 30*24*time.Hour {
		t.Errorf("default -remember = %v (%v), want 720h", f.cfg.RememberFor, err)
	}
	f, err = parseFlags([]string{"-remember", "48h"}, new(strings.Builder))
	if err != nil || f.cfg.RememberFor != 48*time.Hour {
		t.Errorf("-remember 48h = %v (%v)", f.cfg.RememberFor, err)
	}
}

// TestRefusedCookieExplained: a cookie the server cannot open (another
// instance's key, as after a restart with an ephemeral ring) is not shown
// as "no cookie": the page says it was refused, and the cookie-lost hint,
// which blames the browser, stays away even right after a store.
func TestRefusedCookieExplained(t *testing.T) {
	first := startDemo(t, newRing(t), config{})
	first.postForm("/login", url.Values{"username": {"ada"}})
	// The same browser (its jar keys cookies by host, not port) meets an
	// instance with another ring.
	restarted := &demo{t: t, srv: startDemo(t, newRing(t), config{}).srv, client: first.client}
	for _, path := range []string{"/", "/?stored=1"} {
		_, page := restarted.get(path)
		if !strings.Contains(page, `id="refused-cookie"`) || strings.Contains(page, `id="cookie-lost"`) || strings.Contains(page, `id="no-session"`) {
			t.Errorf("GET %s with a cookie sealed under another ring: want the refused note alone:\n%s", path, page)
		}
	}
	tampered := first.otherBrowser()
	u, _ := url.Parse(first.srv.URL)
	tampered.client.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: strings.Repeat("A", 200)}})
	if _, page := tampered.get("/"); !strings.Contains(page, `id="refused-cookie"`) {
		t.Errorf("a forged cookie: want the refused note:\n%s", page)
	}
	if _, page := first.otherBrowser().get("/"); strings.Contains(page, `id="refused-cookie"`) || !strings.Contains(page, `id="no-session"`) {
		t.Errorf("no cookie at all: want no refused note:\n%s", page)
	}
}

// TestRememberTooShortRefused: a -remember under a second is refused when
// the demo starts, not by a 500 at every "remember me" login.
func TestRememberTooShortRefused(t *testing.T) {
	for _, d := range []time.Duration{-time.Hour, 500 * time.Millisecond} {
		if _, err := newApp(newRing(t), config{RememberFor: d, Logger: quiet}); err == nil || !strings.Contains(err.Error(), "-remember") {
			t.Errorf("-remember %v: err %v, want one naming -remember", d, err)
		}
	}
	// -max-age 0 is the default 24h, which a short -remember must not
	// undercut as the ceiling.
	if _, err := newApp(newRing(t), config{RememberFor: time.Hour, Logger: quiet}); err != nil {
		t.Errorf("-max-age 0 -remember 1h: %v", err)
	}
	d := startDemo(t, newRing(t), config{RememberFor: time.Second, MaxAge: time.Second})
	if resp, _ := d.postForm("/login", url.Values{"username": {"ada"}, "remember": {"1"}}); resp.StatusCode != http.StatusOK {
		t.Errorf("-remember 1s, remembered login: %d, want 200", resp.StatusCode)
	}
}
