package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// quiet discards the app's logs; tests that read logs use their own buffer.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newRing(t *testing.T) *cookiesession.KeyRing {
	t.Helper()
	key, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// demo is the app behind a TLS test server, with a browser-like client:
// a cookie jar and redirects followed.
type demo struct {
	t      *testing.T
	srv    *httptest.Server
	client *http.Client
}

func startDemo(t *testing.T, ring *cookiesession.KeyRing, cfg config) *demo {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	h, err := newApp(ring, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := srv.Client()
	client.Jar = jar
	return &demo{t: t, srv: srv, client: client}
}

// otherBrowser returns a client with its own cookie jar on the same server.
func (d *demo) otherBrowser() *demo {
	jar, err := cookiejar.New(nil)
	if err != nil {
		d.t.Fatal(err)
	}
	client := *d.client
	client.Jar = jar
	return &demo{t: d.t, srv: d.srv, client: &client}
}

// do sends a request and returns the final response with its body read.
func (d *demo) do(method, path, contentType, body string) (*http.Response, string) {
	d.t.Helper()
	req, err := http.NewRequest(method, d.srv.URL+path, strings.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatal(err)
	}
	return resp, string(b)
}

func (d *demo) get(path string) (*http.Response, string) { return d.do("GET", path, "", "") }

func (d *demo) postForm(path string, form url.Values) (*http.Response, string) {
	return d.do("POST", path, "application/x-www-form-urlencoded", form.Encode())
}

func (d *demo) postJSON(body string) (*http.Response, string) {
	return d.do("POST", "/api/session", "application/json", body)
}

// cookies returns the jar's cookies for the server, by name.
func (d *demo) cookies() map[string]string {
	u, _ := url.Parse(d.srv.URL)
	out := map[string]string{}
	for _, c := range d.client.Jar.Cookies(u) {
		out[c.Name] = c.Value
	}
	return out
}

func (d *demo) session() sessionBody {
	d.t.Helper()
	resp, body := d.get("/api/session")
	if resp.StatusCode != http.StatusOK {
		d.t.Fatalf("GET /api/session: %d %s", resp.StatusCode, body)
	}
	var s sessionBody
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		d.t.Fatalf("GET /api/session: %v in %s", err, body)
	}
	return s
}

// element returns the text of the element with this id, or "".
func element(page, id string) string {
	m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

// textarea returns the note form's text, unescaped.
func textarea(page string) string {
	m := regexp.MustCompile(`(?s)<textarea name="note"[^>]*>(.*?)</textarea>`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// rows returns the cells of each table row of this class, as text.
func rows(page, class string) [][]string {
	var out [][]string
	tags := regexp.MustCompile(`<[^>]*>`)
	for _, tr := range regexp.MustCompile(`(?s)<tr class="`+class+`">(.*?)</tr>`).FindAllStringSubmatch(page, -1) {
		var cells []string
		for _, td := range regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(tr[1], -1) {
			cells = append(cells, html.UnescapeString(tags.ReplaceAllString(td[1], "")))
		}
		out = append(out, cells)
	}
	return out
}

// firstResponse sends a form without following the redirect, to read the
// Set-Cookie lines of the response that set them.
func (d *demo) firstResponse(path string, form url.Values) *http.Response {
	d.t.Helper()
	client := *d.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.PostForm(d.srv.URL+path, form)
	if err != nil {
		d.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestHealthz(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	resp, body := d.get("/healthz")
	if resp.StatusCode != http.StatusOK || body != "ok\n" {
		t.Fatalf("GET /healthz = %d %q, want 200 ok", resp.StatusCode, body)
	}
}

// TestDebugVars checks the counters an operator reads: the key that opened
// the session, the writes, and the ring without its secrets.
func TestDebugVars(t *testing.T) {
	ring := newRing(t)
	d := startDemo(t, ring, config{})
	d.postForm("/login", url.Values{"username": {"ada"}})
	d.get("/")
	resp, body := d.get("/debug/vars")
	var vars struct{ Cookiesession cookiesession.Metrics }
	if err := json.Unmarshal([]byte(body), &vars); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("GET /debug/vars = %d %q: %v", resp.StatusCode, body, err)
	}
	m, primary := vars.Cookiesession, cookiesession.FormatKeyID(ring.Primary())
	if m.Opened[primary] == 0 || m.Written == 0 || m.Primary != primary || len(m.Keys) != 1 {
		t.Errorf("counters %+v; want opens and writes under %s", m, primary)
	}
	text, _ := json.Marshal(ring)
	var form struct{ Keys []struct{ Secret string } }
	if err := json.Unmarshal(text, &form); err != nil || len(form.Keys) != 1 {
		t.Fatalf("ring text %v", err)
	}
	if strings.Contains(body, form.Keys[0].Secret) {
		t.Error("/debug/vars shows a secret")
	}
}

// TestDebugVarsEphemeralRing: a demo on an ephemeral ring says so in
// /debug/vars for as long as it runs, not only in its first log line.
func TestDebugVarsEphemeralRing(t *testing.T) {
	for _, ephemeral := range []bool{false, true} {
		d := startDemo(t, newRing(t), config{EphemeralRing: ephemeral})
		_, body := d.get("/debug/vars")
		var vars struct {
			EphemeralRing *bool `json:"ephemeral_ring"`
		}
		if err := json.Unmarshal([]byte(body), &vars); err != nil || vars.EphemeralRing == nil || *vars.EphemeralRing != ephemeral {
			t.Errorf("ephemeral %v: /debug/vars %s", ephemeral, body)
		}
	}
}

// TestDebugVarsLoopbackOnly: the counters name the key file and the
// ring, so a client on another host gets 404, whatever -addr listens on.
func TestDebugVarsLoopbackOnly(t *testing.T) {
	h, err := newApp(newRing(t), config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]int{
		"192.0.2.1:1234": http.StatusNotFound, "[2001:db8::1]:1234": http.StatusNotFound, "garbage": http.StatusNotFound,
		"127.0.0.1:1234": http.StatusOK, "[::1]:1234": http.StatusOK,
	} {
		req := httptest.NewRequest("GET", "https://demo.test/debug/vars", nil)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want || (want == http.StatusNotFound) == strings.Contains(rec.Body.String(), "cookiesession") {
			t.Errorf("GET /debug/vars from %s = %d %q, want %d", addr, rec.Code, rec.Body, want)
		}
	}
}

// TestDebugVarsReload: a reload that fails (here on SIGHUP) shows in
// /debug/vars, with its reason and a count, until one succeeds: the sign
// that an instance still runs its old keys.
func TestDebugVarsReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	writeRing(t, path, newRing(t))
	ring, err := loadRing(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	d := startDemo(t, ring, config{})
	reload := func() cookiesession.ReloadStatus {
		t.Helper()
		resp, body := d.get("/debug/vars")
		var vars struct{ Cookiesession cookiesession.Metrics }
		if err := json.Unmarshal([]byte(body), &vars); resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("GET /debug/vars = %d %q: %v", resp.StatusCode, body, err)
		}
		return vars.Cookiesession.Reload
	}
	loaded := reload()
	if loaded.LastSuccess.IsZero() || loaded.Error != "" || loaded.Failures != 0 {
		t.Errorf("after loading -keys: reload %+v, want its time and no failure", loaded)
	}
	os.WriteFile(path, []byte("{broken"), 0o600)
	for range 2 {
		if reloadKeys(ring, path, quiet) == nil {
			t.Fatal("a broken file reloaded")
		}
	}
	if st := reload(); !strings.Contains(st.Error, path) || st.Failures != 2 || !st.LastSuccess.Equal(loaded.LastSuccess) {
		t.Errorf("after two failed reloads: %+v; want the error naming %s, 2 failures, the load's time", st, path)
	}
	writeRing(t, path, newRing(t))
	if err := reloadKeys(ring, path, quiet); err != nil {
		t.Fatal(err)
	}
	if st := reload(); st.Error != "" || st.Failures != 2 || st.LastSuccess.Before(loaded.LastSuccess) {
		t.Errorf("after a good reload: %+v; want no error, 2 failures, a later time", st)
	}
}

func TestFirstVisitSetsNoCookie(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	resp, body := d.get("/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	if sc := resp.Header.Values("Set-Cookie"); len(sc) > 0 {
		t.Errorf("GET / without a cookie sent Set-Cookie %q", sc)
	}
	if !strings.Contains(body, `id="no-session"`) || !strings.Contains(body, `action="/login"`) {
		t.Errorf("page lacks the no-session note or the login form:\n%s", body)
	}
}

func TestLoginFlashOnceAndVisits(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	resp, page := d.postForm("/login", url.Values{"username": {"<ada>"}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("login ended at %s with %d", resp.Request.URL, resp.StatusCode)
	}
	if got := element(page, "user"); got != "&lt;ada&gt;" {
		t.Errorf("user = %q, want the escaped name", got)
	}
	if got := element(page, "flash"); got != "Welcome, &lt;ada&gt;" {
		t.Errorf("flash = %q after login", got)
	}
	if got := element(page, "visits"); got != "1" {
		t.Errorf("visits = %q on the page after login, want 1", got)
	}
	_, page = d.get("/")
	if got := element(page, "flash"); got != "" {
		t.Errorf("flash shown twice: %q", got)
	}
	if got := element(page, "visits"); got != "2" {
		t.Errorf("visits = %q on the second view, want 2", got)
	}
	if element(page, "user") != "&lt;ada&gt;" || len(element(page, "session-id")) != 32 {
		t.Errorf("second view lost the user or the session id:\n%s", page)
	}
}

func TestLoginRenewsID(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	d.postJSON(`{"cart":"3 apples"}`)
	before := d.session().ID
	d.postForm("/login", url.Values{"username": {"bob"}})
	after := d.session()
	if after.ID == before || after.Values["cart"] != "3 apples" {
		t.Errorf("login: id %s -> %s, values %v; want a new id and the cart kept", before, after.ID, after.Values)
	}
}

func TestLoginRefusesEmptyName(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	_, page := d.postForm("/login", url.Values{"username": {"   "}})
	if element(page, "error") == "" || len(d.cookies()) != 0 {
		t.Errorf("empty name: error %q, cookies %v", element(page, "error"), d.cookies())
	}
}

func TestLogoutRemovesCookie(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	d.postForm("/login", url.Values{"username": {"ada"}})
	if _, ok := d.cookies()["session"]; !ok {
		t.Fatalf("no session cookie after login: %v", d.cookies())
	}
	_, page := d.postForm("/logout", nil)
	if c := d.cookies(); len(c) != 0 {
		t.Errorf("cookies after logout: %v", c)
	}
	if element(page, "user") != "" || !strings.Contains(page, `id="no-session"`) {
		t.Errorf("page after logout still shows a session:\n%s", page)
	}
}

func TestCrossSitePostRefused(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	req, _ := http.NewRequest("POST", d.srv.URL+"/login", strings.NewReader("username=mallory"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := d.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(resp.Header.Values("Set-Cookie")) > 0 {
		t.Errorf("cross-site POST = %d with Set-Cookie %q, want 403 and none",
			resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
}

func TestAPIEmptySession(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	resp, body := d.get("/api/session")
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != "{}" {
		t.Errorf("GET /api/session = %d %q, want 200 {}", resp.StatusCode, body)
	}
	if sc := resp.Header.Values("Set-Cookie"); len(sc) > 0 {
		t.Errorf("empty session sent Set-Cookie %q", sc)
	}
}

func TestAPIMergeKeepsTypes(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	resp, body := d.postJSON(`{"s":"x","i":42,"f":1.5,"e":1e3,"b":true,"n":null,
		"l":["a","b"],"mixed":[1,"a"],"o":{"k":[1,2]}}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST = %d %s", resp.StatusCode, body)
	}
	wantTypes := map[string]string{
		"s": "string", "i": "int64", "f": "float64", "e": "float64", "b": "bool", "n": "<nil>",
		"l": "[]string", "mixed": "json.RawMessage", "o": "json.RawMessage",
	}
	var posted sessionBody
	if err := json.Unmarshal([]byte(body), &posted); err != nil {
		t.Fatal(err)
	}
	if got := d.session(); got.ID != posted.ID || !got.Created.Equal(posted.Created) || !got.Expires.Equal(posted.Expires) {
		t.Errorf("POST said id %s created %v expires %v; the cookie holds %s %v %v",
			posted.ID, posted.Created, posted.Expires, got.ID, got.Created, got.Expires)
	}
	d.postJSON(`{"i2":-7}`) // a second merge keeps the first one's keys
	wantTypes["i2"] = "int64"
	got := d.session()
	for k, want := range wantTypes {
		if got.Types[k] != want {
			t.Errorf("type of %q = %q, want %q", k, got.Types[k], want)
		}
	}
	raw, _ := json.Marshal(got.Values)
	const wantValues = `{"b":true,"e":1000,"f":1.5,"i":42,"i2":-7,"l":["a","b"],"mixed":[1,"a"],"n":null,"o":{"k":[1,2]},"s":"x"}`
	if string(raw) != wantValues {
		t.Errorf("values = %s\nwant     %s", raw, wantValues)
	}
	if len(got.ID) != 32 || got.Created.IsZero() || !got.Expires.After(got.Created) {
		t.Errorf("metadata id=%q created=%v expires=%v", got.ID, got.Created, got.Expires)
	}
}

func TestAPIRejectsBadBodies(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	for _, body := range []string{
		``, `{`, `[1]`, `null`, `"x"`, `42`, `{"a":1}{"b":2}`, `{"a":1} x`, `{"big":1e999}`, `{"a":tru}`, `{"a":1,}`,
	} {
		resp, got := d.postJSON(body)
		var e errorBody
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal([]byte(got), &e) != nil || e.Error == "" {
			t.Errorf("POST %q = %d %q, want 400 with a JSON error", body, resp.StatusCode, got)
		}
		if sc := resp.Header.Values("Set-Cookie"); len(sc) > 0 {
			t.Errorf("POST %q sent Set-Cookie", body)
		}
	}
	// Garbage after the object is a syntax error, not a second value.
	if _, got := d.postJSON(`{"a":1} x`); !strings.Contains(got, "invalid JSON after the object") {
		t.Errorf(`POST {"a":1} x = %s, want it called invalid JSON`, got)
	}
	if _, got := d.postJSON(`{"a":1} {"b":2}`); !strings.Contains(got, "more than one JSON value") {
		t.Errorf(`POST two objects = %s, want "more than one JSON value"`, got)
	}
}

// TestAPICannotSignIn checks that the JSON API cannot set the user:
// that would sign in with no check of the name and no new session id
// (session fixation).
func TestAPICannotSignIn(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	d.postJSON(`{"theme":"dark"}`)
	before := d.session().ID
	resp, got := d.postJSON(`{"user":"` + strings.Repeat("m", 2*maxUsername) + `","theme":"light"}`)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(got, "logging in") {
		t.Errorf("POST with a user = %d %s, want 400", resp.StatusCode, got)
	}
	if s := d.session(); s.ID != before || s.Values["user"] != nil || s.Values["theme"] != "dark" {
		t.Errorf("after the refused POST: id %s (was %s), values %v", s.ID, before, s.Values)
	}
	if _, page := d.get("/"); element(page, "user") != "" {
		t.Errorf("the page says signed in as %q", element(page, "user"))
	}
}

func TestAPIBodyLimit(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	resp, _ := d.postJSON(`{"a":"` + strings.Repeat("x", maxBody) + `"}`)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("body over the limit = %d, want 413", resp.StatusCode)
	}
}

func TestAPITooLargeKeepsOldSession(t *testing.T) {
	d := startDemo(t, newRing(t), config{MaxChunks: 1})
	if resp, body := d.postJSON(`{"a":"small"}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("first POST = %d %s", resp.StatusCode, body)
	}
	before := d.cookies()
	resp, body := d.postJSON(`{"big":"` + strings.Repeat("x", 5000) + `"}`)
	var e errorBody
	if resp.StatusCode != http.StatusRequestEntityTooLarge || json.Unmarshal([]byte(body), &e) != nil ||
		!strings.Contains(e.Error, "too large") {
		t.Fatalf("oversized POST = %d %q, want 413 with a JSON error", resp.StatusCode, body)
	}
	if sc := resp.Header.Values("Set-Cookie"); len(sc) > 0 {
		t.Errorf("413 carried Set-Cookie %q", sc)
	}
	if after := d.cookies(); after["session"] != before["session"] {
		t.Errorf("the cookie changed after a 413")
	}
	got := d.session()
	if got.Values["a"] != "small" || got.Values["big"] != nil {
		t.Errorf("after 413 values = %v, want the old ones", got.Values)
	}
}

// TestNoteTooLargeKeepsTypedNote: a note the cookie cannot hold is
// answered 413 with the typed text back in the form, the stored note
// unchanged and the browser's cookie untouched.
func TestNoteTooLargeKeepsTypedNote(t *testing.T) {
	d := startDemo(t, newRing(t), config{MaxChunks: 1})
	d.postForm("/note", url.Values{"note": {"short"}})
	before := d.cookies()
	typed := strings.Repeat("n<&>", 1500)
	resp, page := d.postForm("/note", url.Values{"note": {typed}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(element(page, "error"), "does not fit") ||
		!strings.Contains(element(page, "error"), "still in the form") {
		t.Fatalf("oversized note = %d, error %q; want 413 and the error", resp.StatusCode, element(page, "error"))
	}
	if got := textarea(page); got != typed {
		t.Errorf("the form holds %d bytes (%.20q...), want the %d typed", len(got), got, len(typed))
	}
	if got := element(page, "note-length"); got != "5" {
		t.Errorf("note length after the refused note = %s, want 5 (the old note)", got)
	}
	if sc := resp.Header.Values("Set-Cookie"); len(sc) > 0 || resp.Header.Get("Location") != "" {
		t.Errorf("413 carried Set-Cookie %q or Location %q", sc, resp.Header.Get("Location"))
	}
	if after := d.cookies(); after["session"] != before["session"] {
		t.Error("the cookie changed after a 413")
	}
	if _, page := d.get("/"); textarea(page) != "short" {
		t.Errorf("the next view's form holds %q, want the stored note", textarea(page))
	}
}

// TestFullSessionPageStillServed checks that a session holding the largest
// note that fits still gets its page, whose visit count no longer fits,
// so that the forms that shrink it stay in reach.
func TestFullSessionPageStillServed(t *testing.T) {
	d := startDemo(t, newRing(t), config{MaxChunks: 1})
	n := 3200
	for ; n > 2000; n -= 8 {
		if resp, _ := d.postJSON(fmt.Sprintf(`{"note": %q}`, strings.Repeat("x", n))); resp.StatusCode == http.StatusOK {
			break
		}
	}
	for range 2 {
		resp, page := d.get("/")
		if resp.StatusCode != http.StatusOK || !strings.Contains(element(page, "error"), "not counted") || len(textarea(page)) != n {
			t.Fatalf("GET / with a %d-byte note: %d, error %q, form holding %d bytes", n, resp.StatusCode, element(page, "error"), len(textarea(page)))
		}
	}
}

// TestRememberMeOutlivesIdleTimeout checks that a remembered login keeps
// its persistent cookie's lifetime when the demo runs with an idle timeout.
func TestRememberMeOutlivesIdleTimeout(t *testing.T) {
	d := startDemo(t, newRing(t), config{IdleTimeout: 30 * time.Minute})
	resp, _ := d.do("POST", "/login", "application/x-www-form-urlencoded", url.Values{"username": {"ada"}, "remember": {"on"}}.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	s := d.session()
	if got := s.Expires.Sub(s.Created); got != defaultRemember {
		t.Errorf("a remembered login lasts %v with a 30m idle timeout, want %v", got, defaultRemember)
	}
}

func TestLargeNoteSpansChunks(t *testing.T) {
	d := startDemo(t, newRing(t), config{MaxChunks: 4})
	var note strings.Builder
	for i := 0; note.Len() < 8000; i++ {
		note.WriteString(strings.Repeat(string(rune('a'+i%26)), 1+i%7))
	}
	resp, page := d.postForm("/note", url.Values{"note": {note.String()}})
	if resp.StatusCode != http.StatusOK || element(page, "error") != "" {
		t.Fatalf("note POST = %d, error %q", resp.StatusCode, element(page, "error"))
	}
	c := d.cookies()
	if _, ok := c["session.2"]; !ok || len(c) > 4 {
		t.Errorf("cookies for an 8 KB note: %d (%v), want 3 or 4", len(c), keys(c))
	}
	if got := d.session().Values["note"]; got != note.String() {
		t.Errorf("note did not round-trip: %d bytes back", len(got.(string)))
	}
	d.postForm("/note", url.Values{"note": {"tiny"}})
	if c := d.cookies(); len(c) != 1 {
		t.Errorf("after shrinking, cookies = %v, want just session", keys(c))
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestAPIDelete(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	d.postJSON(`{"a":"b"}`)
	resp, _ := d.do("DELETE", "/api/session", "", "")
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE = %d, want 204", resp.StatusCode)
	}
	if c := d.cookies(); len(c) != 0 {
		t.Errorf("cookies after DELETE: %v", c)
	}
	if _, body := d.get("/api/session"); strings.TrimSpace(body) != "{}" {
		t.Errorf("GET after DELETE = %s", body)
	}
}

// writeRing writes ring's JSON form to path.
func writeRing(t *testing.T, path string, ring *cookiesession.KeyRing) {
	t.Helper()
	b, err := ring.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRingSources(t *testing.T) {
	dir := t.TempDir()
	fileRing, envRing := newRing(t), newRing(t)
	path := filepath.Join(dir, "keys.json")
	writeRing(t, path, fileRing)
	envJSON, _ := envRing.MarshalJSON()
	t.Setenv(cookiesession.EnvKeys, string(envJSON))

	got, err := loadRing(path, quiet)
	if err != nil || got.Primary() != fileRing.Primary() {
		t.Errorf("-keys file: %v, %v; want the file's ring (it beats the env var)", got, err)
	}
	got, err = loadRing("", quiet)
	if err != nil || got.Primary() != envRing.Primary() {
		t.Errorf("env: %v, %v; want the env ring", got, err)
	}

	t.Setenv(cookiesession.EnvKeys, "")
	var logs bytes.Buffer
	got, err = loadRing("", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil || got == nil || !strings.Contains(logs.String(), "WARNING") ||
		!strings.Contains(logs.String(), "will not survive a restart") || !strings.Contains(logs.String(), "no other instance can open them") {
		t.Errorf("no keys: ring %v, err %v, log %q; want an ephemeral ring and a warning", got, err, logs.String())
	}
}

func TestLoadRingCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	os.WriteFile(path, []byte(`{"version":1,"primary":"zz"`), 0o600)
	_, err := loadRing(path, quiet)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "key ring") {
		t.Errorf("corrupt file: err = %v; want an error naming the file and the key ring", err)
	}
	if _, err := loadRing(filepath.Join(t.TempDir(), "missing.json"), quiet); err == nil {
		t.Error("missing file: no error")
	}
	t.Setenv(cookiesession.EnvKeys, "not json")
	if _, err := loadRing("", quiet); err == nil || !strings.Contains(err.Error(), cookiesession.EnvKeys) {
		t.Errorf("corrupt env: err = %v; want an error naming %s", err, cookiesession.EnvKeys)
	}
}

// TestReloadRotation drives a key rotation through the reload path: a ring
// with the old key open-only keeps the user signed in, a ring without it
// starts a fresh session, and a corrupt file changes nothing.
func TestReloadRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	oldKey, _ := cookiesession.GenerateKey()
	newKey, _ := cookiesession.GenerateKey()
	first, _ := cookiesession.NewKeyRing(oldKey)
	writeRing(t, path, first)
	ring, err := loadRing(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	d := startDemo(t, ring, config{})
	d.postForm("/login", url.Values{"username": {"ada"}})
	idle := d.otherBrowser() // signs in now, then sleeps through the rotation
	idle.postForm("/login", url.Values{"username": {"bob"}})

	rotated, _ := cookiesession.NewKeyRing(newKey, oldKey)
	writeRing(t, path, rotated)
	if err := reloadKeys(ring, path, quiet); err != nil || ring.Primary() != newKey.ID() {
		t.Fatalf("reload: %v, primary %08x", err, ring.Primary())
	}
	if got := d.session().Values["user"]; got != "ada" {
		t.Errorf("with the old key open-only, user = %v, want ada", got)
	}

	var logs bytes.Buffer
	os.WriteFile(path, []byte("{broken"), 0o600)
	if err := reloadKeys(ring, path, slog.New(slog.NewTextHandler(&logs, nil))); err == nil ||
		!ring.Has(oldKey.ID()) || !strings.Contains(logs.String(), "keeping the old keys") {
		t.Errorf("corrupt reload: err %v, old key kept %v, log %q", err, ring.Has(oldKey.ID()), logs.String())
	}

	only, _ := cookiesession.NewKeyRing(newKey)
	writeRing(t, path, only)
	if err := reloadKeys(ring, path, quiet); err != nil {
		t.Fatal(err)
	}
	if got := d.session().Values["user"]; got != "ada" {
		t.Errorf("re-sealed under the new key, the session should survive the old key's removal; user = %v", got)
	}
	if ring.Has(oldKey.ID()) {
		t.Error("old key still in the ring after reload")
	}
	// An unknown key id may be newer than this instance's ring: the request
	// gets a fresh session, and the cookie stays until something is stored.
	// The reply says the cookie was refused, not the {} of a client that
	// sent none.
	if resp, body := idle.get("/api/session"); !strings.Contains(body, `"refused"`) || strings.Contains(body, `"id"`) ||
		len(resp.Header.Values("Set-Cookie")) != 0 || len(idle.cookies()) != 1 {
		t.Errorf("a cookie under the removed key: %s, Set-Cookie %q; want a fresh session, said to be refused, and the cookie kept",
			body, resp.Header.Values("Set-Cookie"))
	}
}

// TestRun starts the real program on a free port, reads the URL from its
// log, and shuts it down as a signal would.
func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	writeRing(t, path, newRing(t))
	ctx, cancel := context.WithCancel(context.Background())
	logR, logW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-keys", path}, logW)
		logW.Close()
	}()
	listening := regexp.MustCompile(`demo listening on (http://127\.0\.0\.1:\d+)`)
	lines := bufio.NewScanner(logR)
	var base string
	for base == "" && lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			base = m[1]
		}
	}
	go io.Copy(io.Discard, logR) // keep the logger from blocking
	if base == "" {
		t.Fatal("run never logged its URL")
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz = %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel: %v", err)
	}
}

func TestRunBadFlags(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{{"-max-age", "soon"}, {"extra"}, {"-keys", "/nonexistent/keys.json"}} {
		if err := run(context.Background(), args, &out); err == nil {
			t.Errorf("run %q: no error", args)
		}
	}
}

// TestRunPortInUse: a taken -addr (8080 often is) is an error that names
// the flag and the fix, not only the system's "address already in use".
func TestRunPortInUse(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	addr := held.Addr().String()
	err = run(context.Background(), []string{"-addr", addr}, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "-addr "+addr+": ") || !strings.Contains(err.Error(), "-addr 127.0.0.1:0 for a free port") {
		t.Errorf("run -addr %s with the port taken: %v; want the flag named and -addr 127.0.0.1:0 offered", addr, err)
	}
}

// TestRunAddrNotHeld: an -addr that cannot be listened on for another
// reason than a port in use (here an address this host does not have) is
// named with the flag and the other address to try, and is not said to be
// held by another process.
func TestRunAddrNotHeld(t *testing.T) {
	const addr = "192.0.2.1:0" // TEST-NET-1, on no interface of this host
	err := run(context.Background(), []string{"-addr", addr}, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "-addr "+addr+": ") || !strings.Contains(err.Error(), "-addr 127.0.0.1:0") || strings.Contains(err.Error(), "stop what holds it") {
		t.Errorf("run -addr %s: %v; want the flag named, -addr 127.0.0.1:0 offered, and no process said to hold it", addr, err)
	}
}

// TestFlagValuesRefused: a flag value that the library would take for its
// default (a zero -max-age is 24h, -max-chunks 0 is 1, -remember 0 is 30
// days) is refused naming the flag, not
// silently ignored; so is a -remember that SetLifetime refuses, which
// failed every "remember me" login.
func TestFlagValuesRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-max-age", "0"}, "-max-age 0s"},
		{[]string{"-max-age", "-1h"}, "-max-age -1h0m0s"},
		{[]string{"-max-chunks", "0"}, "-max-chunks 0: a session spans 1 to 62 cookies"},
		{[]string{"-max-chunks", "63"}, "-max-chunks 63"},
		{[]string{"-remember", "0"}, "-remember 0s"},
		{[]string{"-remember", "90.5s"}, "-remember 1m30.5s: sessions last whole seconds"},
		{[]string{"-remember", "9601h"}, "-remember 9601h0m0s: browsers keep a cookie at most 400 days"},
		{[]string{"-idle-timeout", "-1s"}, "-idle-timeout -1s"},
	} {
		var out strings.Builder
		_, err := parseFlags(tc.args, &out)
		if !errors.As(err, new(usageError)) || !strings.Contains(out.String(), tc.want) {
			t.Errorf("demo %q: err %v, printed %q; want a usage error printing %q", tc.args, err, out.String(), tc.want)
		}
	}
	for _, args := range [][]string{nil, {"-max-age", "1h", "-idle-timeout", "2h"}, {"-max-chunks", "62", "-remember", "1s"}, {"-remember", "9600h"}} {
		if _, err := parseFlags(args, new(strings.Builder)); err != nil {
			t.Errorf("demo %q: %v", args, err)
		}
	}
}

// TestVisitsStopAtMaxInt: a count posted through the JSON API at the
// largest int is shown as it is on the next pages, not wrapped negative.
func TestVisitsStopAtMaxInt(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	top := strconv.Itoa(math.MaxInt)
	if resp, body := d.postJSON(`{"visits":` + top + `}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST visits = %d %s", resp.StatusCode, body)
	}
	for range 2 {
		if _, page := d.get("/"); element(page, "visits") != top {
			t.Fatalf("visits = %q after posting %s, want it kept", element(page, "visits"), top)
		}
	}
}

// TestAPISaysCookieRefused: GET /api/session with a cookie the server
// cannot open says so instead of answering the {} of a client that sent
// none, and a POST that starts a new session over it says why.
func TestAPISaysCookieRefused(t *testing.T) {
	d := startDemo(t, newRing(t), config{})
	u, _ := url.Parse(d.srv.URL)
	d.client.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: strings.Repeat("A", 200)}})
	_, body := d.get("/api/session")
	var got refusedBody
	if err := json.Unmarshal([]byte(body), &got); err != nil || !strings.Contains(got.Refused, "could not open") {
		t.Errorf("GET with a forged cookie = %s, want a refused note", body)
	}
	d.client.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: strings.Repeat("A", 200)}})
	resp, body := d.postJSON(`{"visits":41}`)
	var posted sessionBody
	if err := json.Unmarshal([]byte(body), &posted); err != nil || resp.StatusCode != http.StatusOK ||
		posted.Values["visits"] != 41.0 || !strings.Contains(posted.Refused, "new session") {
		t.Errorf("POST over a forged cookie = %d %s, want the new session and a refused note", resp.StatusCode, body)
	}
	// The new session's own cookie opens: no note.
	if _, body := d.get("/api/session"); strings.Contains(body, "refused") {
		t.Errorf("GET with the new session's cookie = %s, want no refused note", body)
	}
	if _, body := d.otherBrowser().get("/api/session"); strings.TrimSpace(body) != "{}" {
		t.Errorf("GET with no cookie = %s, want {}", body)
	}
}
