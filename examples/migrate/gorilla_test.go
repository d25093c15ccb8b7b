package migrate

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/seed-ff2808ae/cookiesession"
)

var (
	gorillaHash  = []byte("0123456789abcdef0123456789abcdef")
	gorillaBlock = []byte("fedcba9876543210fedcba9876543210")
)

// gorillaCookie is the cookie the old app's CookieStore wrote under name:
// values it can carry, a struct registered with gob, a flash, and two it
// cannot (a key that is not a string, a complex number).
func gorillaCookie(t *testing.T, store *sessions.CookieStore, name string) *http.Cookie {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	sess, err := store.New(r, name)
	if err != nil {
		t.Fatal(err)
	}
	sess.Values["user"] = "ada"
	sess.Values["visits"] = 7
	sess.Values["profile"] = profile{Name: "Ada", Admin: true}
	sess.Values[42] = "answer"
	sess.Values["phase"] = complex(1, 2)
	sess.AddFlash("welcome")
	w := httptest.NewRecorder()
	if err := sess.Save(r, w); err != nil {
		t.Fatal(err)
	}
	return w.Result().Cookies()[0]
}

const carried = `user=ada visits=7 profile={Name:Ada Admin:true} flashes=["welcome"]`

// TestFromGorilla: a gorilla cookie of another name is carried into the
// new session, the values the session cannot hold are logged at Warn with
// their key and type, and the old cookie is expired by Options.Retired in
// the same response. The next request opens the new cookie alone, and the
// old cookie beside it is not carried again.
func TestFromGorilla(t *testing.T) {
	logger, logs := newLogger()
	store := sessions.NewCookieStore(gorillaHash, gorillaBlock)
	old := gorillaCookie(t, store, "app-session")
	mgr := newManager(t, cookiesession.Options{Logger: logger,
		Retired: []cookiesession.RetiredCookie{{Name: "app-session"}}})
	h := mgr.Handler(FromGorilla(mgr, store, "app-session", logger)(app))

	a := get(t, h, old)
	if a.body != carried {
		t.Fatalf("carried: %q, want %q", a.body, carried)
	}
	if c := a.cookies["app-session"]; c == nil || c.MaxAge >= 0 {
		t.Errorf("old cookie not expired: %+v", c)
	}
	next := a.cookies["session"]
	if next == nil || next.MaxAge <= 0 {
		t.Fatalf("no new session cookie: %+v", a.cookies)
	}
	warns := logs.lines(t, "cookiesession/migrate: a value of the old session was not carried")
	got := map[string]string{}
	for _, l := range warns {
		if l["level"] != "WARN" {
			t.Errorf("not at Warn: %v", l)
		}
		got[l["key"].(string)] = l["type"].(string)
	}
	if len(got) != 2 || got["42"] != "string" || got["phase"] != "complex128" {
		t.Errorf("values not carried, logged: %v; want 42 (string) and phase (complex128)", got)
	}
	if n := len(logs.lines(t, "cookiesession/migrate: gorilla session carried")); n != 1 {
		t.Errorf("%d carried lines, want 1", n)
	}

	a = get(t, h, next, old)
	if want := strings.Replace(carried, `["welcome"]`, `[]`, 1); a.body != want {
		t.Errorf("next request: %q, want %q", a.body, want)
	}
	if n := len(logs.lines(t, "cookiesession/migrate: gorilla session carried")); n != 1 {
		t.Errorf("the old cookie beside the new session was carried again (%d carried lines)", n)
	}
}

// TestGorillaCookieOfTheSessionsName: a gorilla cookie named "session"
// reaches a Manager of that name. Without the migration, the Manager
// refuses it as invalid, logs that at Debug, and clears it, as it does an
// scs token of that name. With it, the
// middleware reads the cookie before the response is written, and the
// new session's cookie replaces it. A cookie of that name that neither
// opens is logged at Warn by the middleware and cleared; one of the
// Manager's own under a key it lacks is left to the Manager.
func TestGorillaCookieOfTheSessionsName(t *testing.T) {
	store := sessions.NewCookieStore(gorillaHash, gorillaBlock)
	old := gorillaCookie(t, store, "session")

	t.Run("without the migration", func(t *testing.T) {
		// So for an scs token under scs's default name, session, too.
		sm := scs.New()
		sm.Store = memstore.NewWithCleanupInterval(0)
		for from, c := range map[string]*http.Cookie{"gorilla": old, "scs": scsSession(t, sm, true)} {
			logger, logs := newLogger()
			mgr := newManager(t, cookiesession.Options{Logger: logger})
			a := get(t, mgr.Handler(app), c)
			if c := a.cookies["session"]; c == nil || c.MaxAge >= 0 {
				t.Errorf("%s cookie not cleared: %+v", from, c)
			}
			refused := logs.lines(t, "cookiesession: session cookie refused")
			if len(refused) != 1 || refused[0]["level"] != "DEBUG" {
				t.Errorf("%s: refusal logged as %v, want one line at Debug", from, refused)
			}
		}
	})

	logger, logs := newLogger()
	now := time.Now()
	mgr := newManager(t, cookiesession.Options{Logger: logger, Now: func() time.Time { return now }})
	h := mgr.Handler(FromGorilla(mgr, store, "session", logger)(app))
	a := get(t, h, old)
	if a.body != carried {
		t.Fatalf("carried: %q, want %q", a.body, carried)
	}
	next := a.cookies["session"]
	if next == nil || next.MaxAge <= 0 {
		t.Fatalf("the new session does not replace the gorilla cookie: %+v", next)
	}
	if n := len(logs.lines(t, "cookiesession: session cookie refused")); n != 1 {
		t.Errorf("%d refusals logged, want the gorilla cookie's", n)
	}
	if a = get(t, h, next); !strings.HasPrefix(a.body, "user=ada visits=7") || len(a.cookies) != 0 {
		t.Errorf("the new cookie does not open: %+v", a)
	}
	// An old instance, still serving during a rollout, reads no session
	// from the new cookie: the user is signed out there.
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	r.AddCookie(&http.Cookie{Name: next.Name, Value: next.Value})
	if sess, err := store.Get(r, "session"); err == nil || !sess.IsNew || len(sess.Values) != 0 {
		t.Errorf("an old instance reads the new cookie: %v, %v", err, sess.Values)
	}

	a = get(t, h, &http.Cookie{Name: "session", Value: "forged"})
	if c := a.cookies["session"]; c == nil || c.MaxAge >= 0 {
		t.Errorf("forged cookie not cleared: %+v", c)
	}
	if warns := logs.lines(t, "cookiesession/migrate: gorilla cookie not readable"); len(warns) != 1 || warns[0]["level"] != "WARN" {
		t.Errorf("forged cookie logged as %v, want one Warn", warns)
	}
	for range 5 { // a flood of forged cookies: one Warn a minute, the rest at Debug
		get(t, h, &http.Cookie{Name: "session", Value: "forged"})
	}
	if lines := logs.lines(t, "cookiesession/migrate: gorilla cookie not readable"); len(lines) != 6 || lines[5]["level"] != "DEBUG" {
		t.Errorf("six forged cookies logged as %v, want one Warn, then Debug", lines)
	}

	other := newManager(t, cookiesession.Options{})
	sealed := get(t, other.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "bob")
	}))).cookies["session"]
	if a = get(t, h, sealed); a.cookies["session"] != nil {
		t.Errorf("a cookie under a key this Manager lacks was touched: %+v", a.cookies["session"])
	}
	now = now.Add(25 * time.Hour) // past the default MaxAge
	if a = get(t, h, next); a.cookies["session"] == nil || a.cookies["session"].MaxAge >= 0 {
		t.Errorf("an expired cookie of the Manager's was not cleared: %+v", a.cookies)
	}
	if warns := logs.lines(t, "cookiesession/migrate: gorilla cookie not readable"); len(warns) != 6 {
		t.Errorf("a cookie of the Manager's own format went to gorilla's decoder: %v", warns)
	}
}

// TestOutsideTheHandlerPanics: mounted outside the Manager's Handler,
// where no session would save what they carry, the middlewares panic
// with the fix rather than drop the values unseen. FromExpress with no
// secret or no Lookup panics when it is built.
func TestOutsideTheHandlerPanics(t *testing.T) {
	store := sessions.NewCookieStore(gorillaHash, gorillaBlock)
	mgr := newManager(t, cookiesession.Options{})
	sm := scs.New()
	sm.Store = memstore.NewWithCleanupInterval(0)
	for name, h := range map[string]http.Handler{
		"FromGorilla": FromGorilla(mgr, store, "session", slog.Default())(http.NotFoundHandler()),
		"FromSCS":     FromSCS(mgr, sm, slog.Default())(http.NotFoundHandler()),
		"FromExpress": FromExpress(mgr, ExpressSession{Secrets: []string{"s"}, Lookup: func(context.Context, string) ([]byte, error) {
			return []byte(`{"cookie":{"expires":null},"user":"ada"}`), nil
		}}, slog.Default())(http.NotFoundHandler()),
	} {
		cookie := gorillaCookie(t, store, "session")
		switch name {
		case "FromSCS":
			cookie = scsSession(t, sm, true)
		case "FromExpress":
			cookie = &http.Cookie{Name: "connect.sid", Value: "s%3Aid.5o9WEbtn2ya0zD13R9UuZUNlRft1IzqN9YMyLmfVoS8"}
		}
		// With the old cookie, and on any request: the first one says so.
		for _, c := range []*http.Cookie{cookie, {Name: "theme", Value: "dark"}} {
			func() {
				defer func() {
					if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "wrap the handler with Manager.Handler") {
						t.Errorf("%s outside the Handler, cookie %s: panic %v", name, c.Name, p)
					}
				}()
				get(t, h, c)
			}()
		}
	}
	for _, old := range []ExpressSession{{Lookup: func(context.Context, string) ([]byte, error) { return nil, nil }}, {Secrets: []string{"s"}}} {
		func() {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "FromExpress needs the old app's Secrets") {
					t.Errorf("FromExpress(%+v): panic %v", old, p)
				}
			}()
			FromExpress(mgr, old, slog.Default())
		}()
	}
}

// undecodableGorillaCookie is a cookie the old CookieStore wrote under
// name with a cart, a type the old app registered with gob and this one
// does not.
func undecodableGorillaCookie(t *testing.T, name string) *http.Cookie {
	t.Helper()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(map[any]any{"user": "ada", "cart": cart{Items: []string{"book"}}}); err != nil {
		t.Fatal(err)
	}
	renamed := bytes.Replace(buf.Bytes(), []byte("oldapp.cart"), []byte("oldapp.cxrt"), 1) // registered by the old app alone
	if bytes.Equal(renamed, buf.Bytes()) {
		t.Fatal("gob stream not renamed")
	}
	raw := securecookie.New(gorillaHash, gorillaBlock).SetSerializer(securecookie.NopEncoder{})
	value, err := raw.Encode(name, renamed)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: name, Value: value}
}

// TestGorillaValuesNotDecodable: a gorilla cookie that opens under the
// old keys but whose values gob cannot decode (a type the old app
// registered and this one does not; a FilesystemStore's cookie, which
// holds an id) signs the user in again, logged at Warn with that fix,
// not as expired or forged with the fix for wrong keys. Under a rotated
// store, DecodeMulti's error text showed only the new key's MAC mismatch.
// The Warn has a pace of its own: forged cookies do not turn it to Debug.
func TestGorillaValuesNotDecodable(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	fs := sessions.NewFilesystemStore(t.TempDir(), gorillaHash, gorillaBlock)
	sess, err := fs.New(r, "app-session")
	if err != nil {
		t.Fatal(err)
	}
	sess.Values["user"] = "ada"
	w := httptest.NewRecorder()
	if err := sess.Save(r, w); err != nil {
		t.Fatal(err)
	}
	rotated := sessions.NewCookieStore([]byte("a new hash key of 32 bytes......"), []byte("a new block key of 32 bytes....."), gorillaHash, gorillaBlock)
	for _, tc := range []struct {
		what, error string
		cookie      *http.Cookie
	}{
		{"unregistered type", `name not registered for interface: "oldapp.cxrt"`, undecodableGorillaCookie(t, "app-session")},
		{"FilesystemStore", "received remote type string", w.Result().Cookies()[0]},
	} {
		logger, logs := newLogger()
		mgr := newManager(t, cookiesession.Options{Logger: logger,
			Retired: []cookiesession.RetiredCookie{{Name: "app-session"}}})
		h := mgr.Handler(FromGorilla(mgr, rotated, "app-session", logger)(app))
		get(t, h, &http.Cookie{Name: "app-session", Value: "forged"})

		a := get(t, h, tc.cookie)
		if a.status != http.StatusOK || !strings.HasPrefix(a.body, "user= visits=0") {
			t.Errorf("%s: %d %q, want 200, signed out", tc.what, a.status, a.body)
		}
		if c := a.cookies["app-session"]; c == nil || c.MaxAge >= 0 {
			t.Errorf("%s: old cookie not expired: %+v", tc.what, c)
		}
		warns := logs.lines(t, "cookiesession/migrate: gorilla cookie opened under the old keys, but its values do not decode")
		if len(warns) != 1 || warns[0]["level"] != "WARN" || !strings.Contains(warns[0]["fix"].(string), "gob.Register") ||
			!strings.Contains(warns[0]["fix"].(string), "FilesystemStore") || !strings.Contains(warns[0]["error"].(string), tc.error) {
			t.Errorf("%s: logged as %v, want one Warn naming gob.Register and FilesystemStore, error %q", tc.what, warns, tc.error)
		}
		if refused := logs.lines(t, "cookiesession/migrate: gorilla cookie not readable"); len(refused) != 1 || refused[0]["cookie"] != "app-session" ||
			!strings.Contains(refused[0]["error"].(string), "base64") {
			t.Errorf("%s: logged as not readable: %v; want the forged cookie alone", tc.what, refused)
		}
	}
}

// TestTwoOldSessionsIntoOne: two gorilla sessions of one request ("auth"
// and "prefs" from one store) carried into one Manager's session: a key
// both hold with other values keeps the first one carried, and the other
// is logged at Warn as not carried, with the fix. Before, the later
// session's "user" replaced the signed-in user's without a word. A key
// both hold with one value (a struct carried as JSON included) is no loss
// and logs nothing; flashes of both are kept.
func TestTwoOldSessionsIntoOne(t *testing.T) {
	logger, logs := newLogger()
	store := sessions.NewCookieStore(gorillaHash, gorillaBlock)
	auth := gorillaCookie(t, store, "auth")
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	prefs, err := store.New(r, "prefs")
	if err != nil {
		t.Fatal(err)
	}
	prefs.Values["user"] = "bob"
	prefs.Values["visits"] = 7
	prefs.Values["profile"] = profile{Name: "Ada", Admin: true}
	prefs.Values["theme"] = "dark"
	prefs.AddFlash("saved")
	w := httptest.NewRecorder()
	if err := prefs.Save(r, w); err != nil {
		t.Fatal(err)
	}
	mgr := newManager(t, cookiesession.Options{Logger: logger,
		Retired: []cookiesession.RetiredCookie{{Name: "auth"}, {Name: "prefs"}}})
	h := mgr.Handler(FromGorilla(mgr, store, "auth", logger)(FromGorilla(mgr, store, "prefs", logger)(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			app.ServeHTTP(w, r)
			fmt.Fprintf(w, " theme=%s", cookiesession.FromContext(r.Context()).GetString("theme"))
		}))))

	a := get(t, h, auth, w.Result().Cookies()[0])
	if want := `user=ada visits=7 profile={Name:Ada Admin:true} flashes=["welcome" "saved"] theme=dark`; a.body != want {
		t.Errorf("carried %q, want %q", a.body, want)
	}
	var collided []map[string]any
	for _, l := range logs.lines(t, "cookiesession/migrate: a value of the old session was not carried") {
		if strings.Contains(l["error"].(string), "holds this key already") {
			collided = append(collided, l)
		}
	}
	if len(collided) != 1 || collided[0]["key"] != "user" || collided[0]["level"] != "WARN" ||
		!strings.Contains(collided[0]["error"].(string), "a Manager of its own") {
		t.Errorf("collisions logged as %v, want one Warn for user with the fix", collided)
	}
}

// TestGorillaFlashKinds: gorilla's AddFlash(v, "error") keeps a list
// under the key "error". It is carried as a []string, which README's
// recipe for a kind of flash reads with GetStrings, and not as JSON,
// which GetStrings cannot return: the message was lost, with a Warn
// whose fix did not apply. A list that holds anything but strings still
// goes through SetJSON.
func TestGorillaFlashKinds(t *testing.T) {
	logger, logs := newLogger()
	store := sessions.NewCookieStore(gorillaHash, gorillaBlock)
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	sess, err := store.New(r, "app-session")
	if err != nil {
		t.Fatal(err)
	}
	sess.AddFlash("Wrong password", "error")
	sess.AddFlash("Try again", "error")
	sess.Values["mixed"] = []any{"a", 1}
	w := httptest.NewRecorder()
	if err := sess.Save(r, w); err != nil {
		t.Fatal(err)
	}
	mgr := newManager(t, cookiesession.Options{Logger: logger,
		Retired: []cookiesession.RetiredCookie{{Name: "app-session"}}})
	h := mgr.Handler(FromGorilla(mgr, store, "app-session", logger)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		var mixed []any
		_, err := s.GetJSON("mixed", &mixed)
		fmt.Fprintf(w, "error=%q mixed=%v %v", s.GetStrings("error"), mixed, err)
	})))
	want := `error=["Wrong password" "Try again"] mixed=[a 1] <nil>`
	if a := get(t, h, w.Result().Cookies()[0]); a.body != want {
		t.Errorf("carried: %q, want %q", a.body, want)
	}
	if l := logs.lines(t, "cookiesession: Session.GetStrings"); len(l) != 0 {
		t.Errorf("GetStrings of the carried list logged: %v", l)
	}
}

// TestOldCookieKeptWarns: a carry whose response does not expire the old
// cookie (no Options.Retired entry, or one of another Path) leaves it in
// the browser: a gorilla cookie is carried again after a logout, which
// signs the user back in, and an scs token is looked up in the old store
// at every request. So the carry logs that at Warn with the entry to add,
// its Path the directory of the URL for a cookie gorilla set without one. An entry that reaches the old cookie, or a new cookie that
// replaces it under the Manager's Name, logs nothing.
func TestOldCookieKeptWarns(t *testing.T) {
	store := sessions.NewCookieStore(gorillaHash, gorillaBlock)
	pathless := sessions.NewCookieStore(gorillaHash, gorillaBlock)
	pathless.Options.Path = "" // gin-contrib's, unless set
	sm := scs.New()
	sm.Store, sm.Cookie.Name = memstore.NewWithCleanupInterval(0), "scs_session"
	const entry = `cookiesession.RetiredCookie{Name: %q, Path: %q, Domain: ""}`
	for _, tc := range []struct {
		name, url, cookie string
		retired           []cookiesession.RetiredCookie
		store             *sessions.CookieStore // nil: scs
		fix               string                // the Warn's; "" for none
	}{
		{"gorilla, no entry", "/", "app-session", nil, store, fmt.Sprintf(entry, "app-session", "/")},
		{"gorilla, entry of another Path", "/", "app-session", []cookiesession.RetiredCookie{{Name: "app-session", Path: "/app"}}, store, fmt.Sprintf(entry, "app-session", "/")},
		{"gorilla, entry", "/", "app-session", []cookiesession.RetiredCookie{{Name: "app-session"}}, store, ""},
		{"gorilla, the Manager's Name", "/", "session", nil, store, ""},
		{"gorilla without a Path, no entry", "/auth/page", "app-session", nil, pathless, fmt.Sprintf(entry, "app-session", "/auth")},
		{"gorilla without a Path, entry", "/auth/page", "app-session", []cookiesession.RetiredCookie{{Name: "app-session", Path: "/auth"}}, pathless, ""},
		{"gorilla without a Path, entry, deeper URL", "/auth/sub/page", "app-session", []cookiesession.RetiredCookie{{Name: "app-session", Path: "/auth"}}, pathless, ""},
		{"gorilla without a Path, entry of another", "/auth/page", "app-session", []cookiesession.RetiredCookie{{Name: "app-session", Path: "/au"}}, pathless, fmt.Sprintf(entry, "app-session", "/auth")},
		{"scs, no entry", "/", "scs_session", nil, nil, fmt.Sprintf(entry, "scs_session", "/")},
		{"scs, entry", "/", "scs_session", []cookiesession.RetiredCookie{{Name: "scs_session"}}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logger, logs := newLogger()
			mgr := newManager(t, cookiesession.Options{Logger: logger, Retired: tc.retired})
			var carry func(http.Handler) http.Handler
			var old *http.Cookie
			if tc.store != nil {
				carry, old = FromGorilla(mgr, tc.store, tc.cookie, logger), gorillaCookie(t, tc.store, tc.cookie)
			} else {
				carry, old = FromSCS(mgr, sm, logger), scsSession(t, sm, true)
			}
			mux := http.NewServeMux()
			mux.Handle("/", app)
			mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
				cookiesession.FromContext(r.Context()).Destroy()
			})
			h := mgr.Handler(carry(mux))
			at := func(path string, cookies ...*http.Cookie) answer {
				r := httptest.NewRequest(http.MethodGet, "https://example.com"+path, nil)
				for _, c := range cookies {
					r.AddCookie(c)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				body := w.Body.String()
				a := answer{status: w.Code, body: body, cookies: map[string]*http.Cookie{}}
				for _, c := range w.Result().Cookies() {
					a.cookies[c.Name] = c
				}
				return a
			}
			a := at(tc.url, old)
			if !strings.HasPrefix(a.body, "user=ada ") {
				t.Fatalf("not carried: %q", a.body)
			}
			warns := logs.lines(t, "cookiesession/migrate: the response that carries the old session does not expire the old cookie")
			if tc.fix == "" {
				if len(warns) != 0 {
					t.Errorf("logged %v, want nothing", warns)
				}
				return
			}
			if len(warns) != 1 || warns[0]["level"] != "WARN" || !strings.Contains(warns[0]["fix"].(string), tc.fix) {
				t.Errorf("logged %v, want one Warn with the fix %s", warns, tc.fix)
			}
			// What the Warn is for: the browser keeps the old cookie, and a
			// logout does not hold (a gorilla cookie; FromSCS ends the scs
			// session in its store).
			if tc.store != nil {
				at("/logout", a.cookies["session"], old)
				if a = at(tc.url, old); !strings.HasPrefix(a.body, "user=ada ") {
					t.Errorf("after a logout, the kept old cookie was not carried again: %q", a.body)
				}
			}
		})
	}
}

// TestLogoutOnAnOldInstance: during a rollout, a carried user whom an
// old instance signs in again, then out, ends only the gorilla cookie
// there: the new session's cookie still opens on the new code.
func TestLogoutOnAnOldInstance(t *testing.T) {
	store := sessions.NewCookieStore(gorillaHash, gorillaBlock)
	mgr := newManager(t, cookiesession.Options{Logger: slog.New(slog.DiscardHandler),
		Retired: []cookiesession.RetiredCookie{{Name: "app-session"}}})
	h := mgr.Handler(FromGorilla(mgr, store, "app-session", slog.New(slog.DiscardHandler))(app))
	next := get(t, h, gorillaCookie(t, store, "app-session")).cookies["session"]

	again := gorillaCookie(t, store, "app-session") // signed in again on an old instance
	r := httptest.NewRequest(http.MethodGet, "https://example.com/logout", nil)
	r.AddCookie(again)
	sess, err := store.Get(r, "app-session")
	if err != nil {
		t.Fatal(err)
	}
	sess.Options.MaxAge = -1 // the old code's logout
	w := httptest.NewRecorder()
	if err := sess.Save(r, w); err != nil || len(w.Result().Cookies()) != 1 || w.Result().Cookies()[0].MaxAge >= 0 {
		t.Fatalf("the old logout does not expire its cookie: %v %v", err, w.Result().Cookies())
	}
	if a := get(t, h, next); !strings.HasPrefix(a.body, "user=ada ") {
		t.Errorf("after a logout on an old instance, the new cookie reads %q, want the user still signed in", a.body)
	}
}

// TestGorillaOlderThanOldStoreMaxAge: the old app called store.MaxAge
// for a "remember me" longer than NewCookieStore's 30 days, and the port
// builds the old store without it. Users the old app still read are then
// refused as expired: that is logged at Warn, apart from forged cookies,
// with the fix, not as a cookie nothing can be done for.
func TestGorillaOlderThanOldStoreMaxAge(t *testing.T) {
	oldApp := sessions.NewCookieStore(gorillaHash, gorillaBlock)
	oldApp.MaxAge(90 * 86400)
	cookie := gorillaCookie(t, oldApp, "app-session")
	port := sessions.NewCookieStore(gorillaHash, gorillaBlock)
	// securecookie refuses as expired a timestamp t with t < now-MaxAge:
	// under -1, every one, as a 40-day-old cookie under the default 30
	// days, with no clock to turn.
	port.MaxAge(-1)
	logger, logs := newLogger()
	mgr := newManager(t, cookiesession.Options{Logger: logger,
		Retired: []cookiesession.RetiredCookie{{Name: "app-session"}}})
	h := mgr.Handler(FromGorilla(mgr, port, "app-session", logger)(app))
	if a := get(t, h, cookie); !strings.HasPrefix(a.body, "user= ") {
		t.Fatalf("carried past the old store's MaxAge: %q", a.body)
	}
	warns := logs.lines(t, "cookiesession/migrate: gorilla cookie opened under the old keys, but is older than the old store's MaxAge")
	if len(warns) != 1 || warns[0]["level"] != "WARN" || !strings.Contains(warns[0]["fix"].(string), "call oldStore.MaxAge(n)") {
		t.Errorf("logged %v, want one Warn with the fix", warns)
	}
	if l := logs.lines(t, "cookiesession/migrate: gorilla cookie not readable"); len(l) != 0 {
		t.Errorf("logged as not readable: %v", l)
	}
	h = mgr.Handler(FromGorilla(mgr, oldApp, "app-session", logger)(app))
	if a := get(t, h, cookie); a.body != carried {
		t.Errorf("under the old app's MaxAge: %q, want %q", a.body, carried)
	}
}

// Types of their own over kinds a session holds, which the old app
// registered with gob.
type (
	role   string
	userID int64
	tags   []string
)

func init() {
	gob.Register(role(""))
	gob.Register(userID(0))
	gob.Register(tags(nil))
	gob.Register(time.Duration(0)) // a type the session holds: carried as it is
}

// TestNamedTypesCarried: Set refuses a type of its own, such as role,
// and says to store string(v) and read it back with GetAs[role], which is
// how the new app stores it. A carried value of that type is stored so
// too, from gorilla and from scs: GetAs reads it as it reads a session the
// new app wrote, where JSON made it report false, and log nothing, for
// every carried user.
func TestNamedTypesCarried(t *testing.T) {
	var probe cookiesession.Values
	if err := probe.Set("role", role("admin")); err == nil || !strings.Contains(err.Error(), "store string(v) and read it back with GetAs[") {
		t.Fatalf("Set's advice for a type of its own changed: %v", err)
	}
	read := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		rl, _ := cookiesession.GetAs[role](s, "role")
		id, _ := cookiesession.GetAs[userID](s, "uid")
		tg, _ := cookiesession.GetAs[tags](s, "tags")
		d, _ := cookiesession.GetAs[time.Duration](s, "ttl")
		fmt.Fprintf(w, "role=%s uid=%d tags=%q ttl=%v", rl, id, tg, d)
	})
	const want = `role=admin uid=42 tags=["a" "b"] ttl=1m30s`

	store := sessions.NewCookieStore(gorillaHash, gorillaBlock)
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	sess, err := store.New(r, "app-session")
	if err != nil {
		t.Fatal(err)
	}
	sm := scs.New()
	sm.Store, sm.Cookie.Name = memstore.NewWithCleanupInterval(0), "scs_session"
	ctx, err := sm.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"role": role("admin"), "uid": userID(42), "tags": tags{"a", "b"}, "ttl": 90 * time.Second} {
		sess.Values[k] = v
		sm.Put(ctx, k, v)
	}
	w := httptest.NewRecorder()
	if err := sess.Save(r, w); err != nil {
		t.Fatal(err)
	}
	token, _, err := sm.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from  string
		old   *http.Cookie
		carry func(*cookiesession.Manager, *slog.Logger) func(http.Handler) http.Handler
	}{
		{"gorilla", w.Result().Cookies()[0], func(m *cookiesession.Manager, l *slog.Logger) func(http.Handler) http.Handler {
			return FromGorilla(m, store, "app-session", l)
		}},
		{"scs", &http.Cookie{Name: "scs_session", Value: token}, func(m *cookiesession.Manager, l *slog.Logger) func(http.Handler) http.Handler {
			return FromSCS(m, sm, l)
		}},
	} {
		logger, logs := newLogger()
		mgr := newManager(t, cookiesession.Options{Logger: logger,
			Retired: []cookiesession.RetiredCookie{{Name: tc.old.Name}}})
		if a := get(t, mgr.Handler(tc.carry(mgr, logger)(read)), tc.old); a.body != want {
			t.Errorf("%s: carried %q, want %q", tc.from, a.body, want)
		}
		if l := logs.lines(t, "cookiesession/migrate: a value of the old session was not carried"); len(l) != 0 {
			t.Errorf("%s: %v", tc.from, l)
		}
	}
}
