package cookiesession_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// TestUntouchedSessionCostsNothing checks lazy opening: a handler that
// never uses its session gets no Set-Cookie, Vary or Cache-Control change,
// even for a refused cookie or one under an old key, and nothing is opened.
func TestUntouchedSessionCostsNothing(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	good := newClientCookies()
	f.serve(good, setString(t, "user", "ada"))
	if err := f.ring.Add(keyForID(t, keyB)); err != nil {
		t.Fatal(err)
	}
	if err := f.ring.Promote(keyB); err != nil { // good's cookie is now under an old key
		t.Fatal(err)
	}
	bad := newClientCookies()
	bad.vals["session"] = strings.Repeat("A", 200)
	before := f.m.Metrics()
	static := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		io.WriteString(w, "static")
	}
	for name, b := range map[string]*clientCookies{"old key": good, "refused": bad, "none": newClientCookies()} {
		resp := f.serve(b.clone(), static)
		if sc, vary, cc := resp.Header.Values("Set-Cookie"), resp.Header.Values("Vary"), resp.Header.Get("Cache-Control"); len(sc) != 0 ||
			len(vary) != 0 || cc != "public, max-age=600" {
			t.Errorf("%s: Set-Cookie %q, Vary %q, Cache-Control %q; want none, none and the handler's", name, sc, vary, cc)
		}
	}
	if after := f.m.Metrics(); len(after.Opened) != len(before.Opened) || after.Refused["bad_encoding"] != 0 {
		t.Errorf("untouched requests opened or refused tokens: %+v", after)
	}
	// Cookies each of which, opened, would cost an AEAD open or a refusal:
	// a forged token, one cookie tossed before the session's, one over the
	// limit, and a request with too many cookies to read.
	token := loginToken(t, f, "ada")
	forged := token[:60] + map[bool]string{true: "B", false: "A"}[token[60] == 'A'] + token[61:]
	many := strings.Repeat("c=x; ", 3001) + "session=" + token
	before = f.m.Metrics()
	for name, header := range map[string]string{
		"forged":        "session=" + forged,
		"tossed":        "session=" + forged + "; session=" + token,
		"oversized":     "session=" + strings.Repeat("A", 20000),
		"3001 cookies":  many,
		"expired chunk": "session=" + token + "; session.1=x",
	} {
		w := httptest.NewRecorder()
		f.m.Handler(http.HandlerFunc(static)).ServeHTTP(w, tossedRequest(header))
		if h := w.Result().Header; len(h.Values("Set-Cookie")) != 0 || len(h.Values("Vary")) != 0 || h.Get("Cache-Control") != "public, max-age=600" {
			t.Errorf("%s: headers %v; want no Set-Cookie or Vary, and the handler's Cache-Control", name, h)
		}
	}
	after := f.m.Metrics()
	refused := uint64(0)
	for _, n := range after.Refused {
		refused += n
	}
	for _, n := range before.Refused {
		refused -= n
	}
	if refused != 0 || !maps.Equal(after.Opened, before.Opened) {
		t.Errorf("untouched requests opened %v (before %v) and refused %d tokens", after.Opened, before.Opened, refused)
	}
	// The same requests through a handler that reads: re-key and clear.
	resp := f.serve(good.clone(), observe(t, new(observed), http.StatusOK))
	if len(ourCookies(t, resp.Header, "session")) != 1 || resp.Header.Get("Vary") != "Cookie" {
		t.Errorf("reading an old-key session: Set-Cookie %q, Vary %q; want a re-key", resp.Header.Values("Set-Cookie"), resp.Header.Get("Vary"))
	}
	resp = f.serve(bad.clone(), observe(t, new(observed), http.StatusOK))
	requireCleared(t, resp.Header, "session")
}

// TestSkipRefresh checks that a polling request can read a session without
// sliding its idle window, and that an ordinary read does slide it.
func TestSkipRefresh(t *testing.T) {
	f := newFixture(t, cookiesession.Options{IdleTimeout: 30 * time.Minute})
	b := newClientCookies()
	f.serve(b, setString(t, "user", "ada"))
	f.clock.Advance(20 * time.Minute) // refresh due: less than half the window left
	poll := func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.SkipRefresh()
		if s.GetString("user") != "ada" {
			t.Error("poll lost the session")
		}
	}
	if resp := f.serve(b, poll); len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("polling refreshed the cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	f.clock.Advance(15 * time.Minute) // 35 minutes idle: the polls kept nothing alive
	var o observed
	f.serve(b, observe(t, &o, http.StatusOK))
	if !o.isNew {
		t.Error("a session only polled for 35 minutes outlived its 30-minute idle timeout")
	}

	f.serve(b, setString(t, "user", "ada"))
	f.clock.Advance(20 * time.Minute)
	if resp := f.serve(b, observe(t, &o, http.StatusOK)); len(ourCookies(t, resp.Header, "session")) != 1 {
		t.Error("an ordinary read with a refresh due did not refresh")
	}
}

// TestSkipRefreshAfterCommitWarns checks that a SkipRefresh called after
// the response was committed is logged at Warn once a minute (at Debug
// between), as a change after the commit is: the cookie that went out was
// sealed without it, and the poll slid the idle window unseen.
func TestSkipRefreshAfterCommitWarns(t *testing.T) {
	f := newFixture(t, cookiesession.Options{IdleTimeout: 30 * time.Minute})
	b := newClientCookies()
	f.serve(b, setString(t, "user", "ada"))
	late := func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		_, _ = io.WriteString(w, s.GetString("user"))
		s.SkipRefresh()
	}
	f.clock.Advance(20 * time.Minute)              // refresh due
	other := b.clone()                             // a second tab, its refresh due too
	for _, b := range []*clientCookies{b, other} { // the second within the minute
		if resp := f.serve(b, late); len(ourCookies(t, resp.Header, "session")) != 1 {
			t.Fatal("the poll's response did not refresh the cookie; the test needs it to")
		}
	}
	lines := f.log.lines("SkipRefresh")
	if len(lines) != 2 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "fix=") ||
		!strings.Contains(lines[1], "level=DEBUG") {
		t.Errorf("two late SkipRefresh calls logged %q; want a Warn with the fix, then a Debug", lines)
	}
}

// TestSkipRefreshWithChange: a polling request that also stores something
// (a poll count, a popped flash) re-seals the cookie with the deadline it
// had, so polls alone still let the session end; Renew and Touch on such a
// request start a new window, as they say.
func TestSkipRefreshWithChange(t *testing.T) {
	f := newFixture(t, cookiesession.Options{IdleTimeout: 30 * time.Minute})
	b := newClientCookies()
	f.serve(b, setString(t, "user", "ada"))
	deadline := f.open(b.vals["session"]).Expires
	poll := func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.SkipRefresh()
		if s.GetString("user") != "" {
			mustSet(t, s, "polls", s.GetInt("polls")+1)
		}
	}
	f.clock.Advance(20 * time.Minute)
	f.serve(b, poll)
	rec := f.open(b.vals["session"])
	if n, _ := rec.Values.Get("polls"); n != 1 || !rec.Expires.Equal(deadline) {
		t.Errorf("after a poll that stored: polls %v, deadline %v; want 1 and the old deadline %v", n, rec.Expires, deadline)
	}
	f.clock.Advance(20 * time.Minute) // 40 minutes without the user
	var o observed
	f.serve(b, observe(t, &o, http.StatusOK))
	if !o.isNew {
		t.Error("polls that stored a value kept a session alive past its 30-minute idle timeout")
	}

	for _, restart := range []string{"Touch", "Renew"} {
		f.serve(b, setString(t, "user", "ada"))
		f.clock.Advance(20 * time.Minute)
		f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			s.SkipRefresh()
			mustSet(t, s, "n", restart)
			if restart == "Touch" {
				s.Touch()
			} else {
				s.Renew()
			}
		})
		if got, want := f.open(b.vals["session"]).Expires, f.clock.Now().Add(30*time.Minute); !got.Equal(want) {
			t.Errorf("%s after SkipRefresh: deadline %v, want a new window to %v", restart, got, want)
		}
	}
}

// TestStackedManagers checks two Managers on one request, each with its own
// cookie, reached through Manager.FromContext.
func TestStackedManagers(t *testing.T) {
	f := newFixture(t, cookiesession.Options{Name: "auth"})
	prefs := f.manager(cookiesession.Options{Name: "prefs", MaxAge: 365 * 24 * time.Hour})
	b := newClientCookies()
	h := func(write bool, got *[2]string) http.Handler {
		return f.m.Handler(prefs.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth, p := f.m.FromContext(r.Context()), prefs.FromContext(r.Context())
			if auth == nil || p == nil || auth == p {
				t.Fatalf("FromContext: auth %p, prefs %p", auth, p)
			}
			if cookiesession.FromContext(r.Context()) != p {
				t.Error("the package-level FromContext is not the innermost Manager's")
			}
			if write {
				mustSet(t, auth, "user", "ada")
				mustSet(t, p, "theme", "dark")
			}
			*got = [2]string{auth.GetString("user"), p.GetString("theme")}
		})))
	}
	var got [2]string
	rec := httptest.NewRecorder()
	h(true, &got).ServeHTTP(rec, b.request("/"))
	b.apply(t, rec.Result().Header)
	if b.vals["auth"] == "" || b.vals["prefs"] == "" {
		t.Fatalf("cookies %v, want auth and prefs", b.vals)
	}
	rec = httptest.NewRecorder()
	h(false, &got).ServeHTTP(rec, b.request("/"))
	if got != [2]string{"ada", "dark"} || len(rec.Result().Header.Values("Set-Cookie")) != 0 {
		t.Errorf("second request read %q with Set-Cookie %q", got, rec.Result().Header.Values("Set-Cookie"))
	}
	// Code written for one Manager, handed a second, stores into the
	// innermost's cookie: the package-level FromContext says so, once.
	lines := f.log.lines("stacked Managers")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "returned=prefs") ||
		!strings.Contains(lines[0], "stacked=\"[prefs auth]\"") || !strings.Contains(lines[0], "m.FromContext(r.Context())") {
		t.Errorf("FromContext under stacked Managers logged %q; want one Warn naming both and the fix", lines)
	}
}

// TestSameNameOtherPathReadsTheSitesCookie: two Managers, not stacked,
// of one Name on one key ring, the site's with Path "/" and an admin
// area's with Path "/admin", over TLS to a client with a cookie jar. The
// token binds the Name, not the Path, and on /admin the browser sends the
// site's cookie too: the admin Manager, holding no cookie of its own,
// opens the site's as its own, and nothing is logged. Once the admin
// area has written its own cookie, the request carries two of the name,
// which is logged once at Warn with the fix: a cookie name for each app.
func TestSameNameOtherPathReadsTheSitesCookie(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	admin := f.manager(cookiesession.Options{Path: "/admin"})
	show := func(login string, key string, v any) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			if r.URL.Path == login {
				mustSet(t, s, key, v)
			}
			fmt.Fprintf(w, "user=%s admin=%v", s.GetString("user"), s.GetBool("admin"))
		})
	}
	mux := http.NewServeMux()
	mux.Handle("/", f.m.Handler(show("/login", "user", "ada")))
	mux.Handle("/admin/", admin.Handler(show("/admin/login", "admin", true)))
	srv := newTLSServer(t, mux)
	c := srv.client(t)
	const tossed = "two cookies of the session's name"

	fetch(t, c, srv.URL+"/login")
	if _, body := fetch(t, c, srv.URL+"/admin/"); body != "user=ada admin=false" {
		t.Errorf("/admin/ with the site's cookie alone: %q, want the site's session (user=ada)", body)
	}
	if got := f.log.lines(tossed); len(got) != 0 {
		t.Errorf("/admin/ with the site's cookie alone logged %q, want nothing", got)
	}
	fetch(t, c, srv.URL+"/admin/login")
	if _, body := fetch(t, c, srv.URL+"/admin/"); body != "user=ada admin=true" {
		t.Errorf("/admin/ with both cookies: %q, want the admin cookie's session", body)
	}
	if got := f.log.lines(tossed); len(got) != 1 || !strings.Contains(got[0], "level=WARN") || !strings.Contains(got[0], "its own cookie name") {
		t.Errorf("/admin/ with both cookies logged %q, want one Warn that names the fix", got)
	}
	if _, body := fetch(t, c, srv.URL+"/"); body != "user=ada admin=false" {
		t.Errorf("/ after the admin login: %q, want the site's session alone", body)
	}
}

// TestOneManagerFromContextQuiet checks that FromContext under one Manager
// (its Handler mounted twice, or around a session of its own that
// NewContext put in the request), and Manager.FromContext under two, log
// nothing.
func TestOneManagerFromContextQuiet(t *testing.T) {
	f := newFixture(t, cookiesession.Options{Name: "auth"})
	prefs := f.manager(cookiesession.Options{Name: "prefs"})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, cookiesession.FromContext(r.Context()), "user", "ada")
	})
	f.m.Handler(prefs.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, f.m.FromContext(r.Context()), "user", "bob")
		mustSet(t, prefs.FromContext(r.Context()), "theme", "dark")
	}))).ServeHTTP(httptest.NewRecorder(), b.request("/"))
	var at [2]int // inner's calls' lines
	inner := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s *cookiesession.Session
		if s, at[0] = cookiesession.FromContext(r.Context()), callerLine(); s != f.m.FromContext(r.Context()) {
			t.Error("FromContext and Manager.FromContext differ under one Manager")
		}
		var fromContext func()
		fromContext, at[1] = func() { cookiesession.FromContext(r.Context()) }, callerLine()
		if n := testing.AllocsPerRun(10, fromContext); n != 0 {
			t.Errorf("FromContext allocates %v times", n)
		}
	}))
	f.m.Handler(inner).ServeHTTP(httptest.NewRecorder(), b.request("/"))
	loaded, _ := f.m.Load(b.request("/"))
	inner.ServeHTTP(httptest.NewRecorder(), b.request("/").WithContext(cookiesession.NewContext(context.Background(), loaded)))
	if lines := f.log.lines("stacked Managers"); len(lines) != 0 {
		t.Errorf("logged %q", lines)
	}
	// Those calls did not use up a Warn: under stacked Managers, inner's
	// two calls are two lines of code, each logged once, with its line.
	for range 2 {
		prefs.Handler(inner).ServeHTTP(httptest.NewRecorder(), b.request("/"))
	}
	lines := f.log.lines("stacked Managers")
	if len(lines) != 2 {
		t.Fatalf("auth inside prefs logged %q; want a Warn for each of inner's two calls", lines)
	}
	for i, line := range at {
		if call := fmt.Sprintf("middleware_test.go:%d)", line); !strings.Contains(lines[i], `stacked="[auth prefs]"`) || !strings.Contains(lines[i], call) {
			t.Errorf("line %d: %s; want the stacked Managers and the call at %s", i, lines[i], call)
		}
	}
}

// TestStackedManagersPastNewContext stacks three Managers' sessions of which
// two are one Manager's: the package-level FromContext returns one of them,
// and code written for the other Manager, outside, would store into its
// cookie. That is logged however the three are stacked, a session that
// NewContext put between them too.
func TestStackedManagersPastNewContext(t *testing.T) {
	f := newFixture(t, cookiesession.Options{Name: "auth"})
	prefs := f.manager(cookiesession.Options{Name: "prefs"})
	b := newClientCookies()
	var got *cookiesession.Session
	inner := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = cookiesession.FromContext(r.Context())
	}))
	loaded, _ := f.m.Load(b.request("/"))
	prefs.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r.WithContext(cookiesession.NewContext(r.Context(), loaded)))
	})).ServeHTTP(httptest.NewRecorder(), b.request("/"))
	if got == nil || got == loaded {
		t.Fatalf("FromContext returned %p (loaded %p); want auth's Handler's session", got, loaded)
	}
	lines := f.log.lines("stacked Managers")
	if len(lines) != 1 || !strings.Contains(lines[0], "returned=auth") || !strings.Contains(lines[0], `stacked="[auth auth prefs]"`) {
		t.Errorf("auth's Handler inside NewContext inside prefs logged %q; want one Warn naming prefs", lines)
	}
	f.m.Handler(prefs.Handler(inner)).ServeHTTP(httptest.NewRecorder(), b.request("/"))
	if lines := f.log.lines("stacked Managers"); len(lines) != 2 || !strings.Contains(lines[1], "returned=prefs") || !strings.Contains(lines[1], `stacked="[prefs auth]"`) {
		t.Errorf("auth inside prefs inside auth logged %q; want a Warn from prefs", lines)
	}
}

// TestStackedManagersInsideNewContext: a session that NewContext put in
// innermost, inside another Manager's Handler, is what the package-level
// FromContext returns, and code written for that other Manager would
// store into it. It links to no session outside it, and went unlogged;
// alone, or beside its own Manager's Handler, it is still quiet.
func TestStackedManagersInsideNewContext(t *testing.T) {
	for _, row := range []struct {
		name, stacked string
		wrap          func(auth, prefs *cookiesession.Manager, h http.Handler) http.Handler
	}{
		{"prefs, then NewContext", "[auth prefs]", func(auth, prefs *cookiesession.Manager, h http.Handler) http.Handler {
			return prefs.Handler(h)
		}},
		{"prefs, auth, then NewContext", "[auth prefs]", func(auth, prefs *cookiesession.Manager, h http.Handler) http.Handler {
			return prefs.Handler(auth.Handler(h))
		}},
		{"auth, then NewContext", "", func(auth, prefs *cookiesession.Manager, h http.Handler) http.Handler {
			return auth.Handler(h)
		}},
		{"NewContext alone", "", func(auth, prefs *cookiesession.Manager, h http.Handler) http.Handler { return h }},
	} {
		f := newFixture(t, cookiesession.Options{Name: "auth"})
		prefs := f.manager(cookiesession.Options{Name: "prefs"})
		b := newClientCookies()
		loaded, _ := f.m.Load(b.request("/"))
		var got *cookiesession.Session
		row.wrap(f.m, prefs, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := cookiesession.NewContext(r.Context(), loaded)
			got = cookiesession.FromContext(ctx)
			if row.stacked == "" {
				if n := testing.AllocsPerRun(10, func() { cookiesession.FromContext(ctx) }); n != 0 {
					t.Errorf("%s: FromContext allocates %v times", row.name, n)
				}
			}
		})).ServeHTTP(httptest.NewRecorder(), b.request("/"))
		if got != loaded {
			t.Fatalf("%s: FromContext returned %p, want the session NewContext put in (%p)", row.name, got, loaded)
		}
		lines := f.log.lines("stacked Managers")
		if row.stacked == "" && len(lines) != 0 {
			t.Errorf("%s: logged %q", row.name, lines)
		}
		if row.stacked != "" && (len(lines) != 1 || !strings.Contains(lines[0], "returned=auth") || !strings.Contains(lines[0], `stacked="`+row.stacked+`"`)) {
			t.Errorf("%s: logged %q; want one Warn naming prefs", row.name, lines)
		}
	}
}

// TestFromContextAsksOnce: the session of a Load and NewContext, with no
// Handler (an adapter's pattern), is checked against the context outside
// it on the first FromContext only, not on every call; a second NewContext
// of its Manager is no other Manager's, and is not logged.
func TestFromContextAsksOnce(t *testing.T) {
	f := newFixture(t, cookiesession.Options{Name: "auth"})
	loaded, _ := f.m.Load(newClientCookies().request("/"))
	parent := &askedContext{Context: context.Background()}
	ctx := cookiesession.NewContext(cookiesession.NewContext(parent, loaded), loaded)
	for range 3 {
		if got := cookiesession.FromContext(ctx); got != loaded {
			t.Fatalf("FromContext returned %p, want %p", got, loaded)
		}
	}
	if parent.asked != 1 {
		t.Errorf("3 FromContext calls asked the context outside %d times, want 1", parent.asked)
	}
	if lines := f.log.lines("stacked Managers"); len(lines) != 0 {
		t.Errorf("logged %q", lines)
	}
}

// TestFromContextAloneReused: a NewContext context found alone once, then
// used as the base of requests (a server's BaseContext), still has the
// Managers stacked inside it logged; and many FromContexts on it at once
// return its session and log nothing, or, inside another Manager's Handler,
// log once (run with -race).
func TestFromContextAloneReused(t *testing.T) {
	f := newFixture(t, cookiesession.Options{Name: "auth"})
	prefs := f.manager(cookiesession.Options{Name: "prefs"})
	b := newClientCookies()
	loaded, _ := f.m.Load(b.request("/"))
	base := cookiesession.NewContext(context.Background(), loaded)
	fromMany := func(ctx context.Context) {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 50 {
					if got := cookiesession.FromContext(ctx); got != loaded {
						t.Errorf("FromContext returned %p, want %p", got, loaded)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	fromMany(base)
	if lines := f.log.lines("stacked Managers"); len(lines) != 0 {
		t.Fatalf("alone, logged %q", lines)
	}
	prefs.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fromMany(cookiesession.NewContext(r.Context(), loaded))
	})).ServeHTTP(httptest.NewRecorder(), b.request("/").WithContext(base))
	lines := f.log.lines("stacked Managers")
	if len(lines) != 1 || !strings.Contains(lines[0], `stacked="[auth prefs]"`) {
		t.Errorf("NewContext inside prefs inside the reused context logged %q; want one Warn", lines)
	}
	f2 := newFixture(t, cookiesession.Options{Name: "auth"})
	prefs2 := f2.manager(cookiesession.Options{Name: "prefs"})
	loaded2, _ := f2.m.Load(b.request("/"))
	base2 := cookiesession.NewContext(context.Background(), loaded2)
	cookiesession.FromContext(base2)
	var got *cookiesession.Session
	f2.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = cookiesession.FromContext(r.Context())
	})).ServeHTTP(httptest.NewRecorder(), b.request("/").WithContext(base2))
	prefs2.Handler(f2.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = cookiesession.FromContext(r.Context())
	}))).ServeHTTP(httptest.NewRecorder(), b.request("/").WithContext(base2))
	if got == nil || got == loaded2 {
		t.Fatalf("FromContext returned %p (loaded %p); want auth's Handler's session", got, loaded2)
	}
	if lines := f2.log.lines("stacked Managers"); len(lines) != 1 || !strings.Contains(lines[0], `stacked="[auth prefs auth]"`) {
		t.Errorf("auth inside prefs inside the reused context logged %q; want one Warn", lines)
	}
}

// TestStackedManagersCollide checks that Managers whose cookie names
// overlap ("a" with chunk a.1, and "a.1") are reported on the first request.
func TestStackedManagersCollide(t *testing.T) {
	f := newFixture(t, cookiesession.Options{Name: "a", MaxChunks: 2})
	inner := f.manager(cookiesession.Options{Name: "a.1"})
	called := false
	rec := httptest.NewRecorder()
	f.m.Handler(inner.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))).
		ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if called || rec.Code != http.StatusInternalServerError {
		t.Errorf("overlapping Managers: handler called %v, status %d; want 500 before the handler", called, rec.Code)
	}
	if log := f.log.String(); !strings.Contains(log, `\"a\" and \"a.1\" both use the cookie \"a.1\"`) {
		t.Errorf("log does not name the overlap:\n%s", log)
	}
}

func TestNoMiddlewareNamesTheFix(t *testing.T) {
	s := cookiesession.FromContext(context.Background())
	if s != nil {
		t.Fatalf("FromContext without middleware = %p, want nil", s)
	}
	for name, use := range map[string]func(){
		"GetString":   func() { s.GetString("user") },
		"SetLifetime": func() { _ = s.SetLifetime(cookiesession.Lifetime{MaxAge: time.Hour}) },
	} {
		func() {
			defer func() {
				if msg, _ := recover().(string); !strings.Contains(msg, "Manager.Handler") {
					t.Errorf("%s: panic %q does not name the fix", name, msg)
				}
			}()
			use()
		}()
	}
}

// TestNilManager checks that every method of a nil Manager (New's error
// dropped, a package-level variable never set) panics naming the method
// and the fix, rather than with a nil dereference: Handler and Var where
// the app is wired, the rest at the first request. FromContext returned
// nil, which then panicked as if the middleware were missing.
func TestNilManager(t *testing.T) {
	var m *cookiesession.Manager
	for name, use := range managerMethods(t, m) {
		assertPanics(t, use, name+" of a nil Manager: a nil one is what New returns with an error")
	}
}

// TestZeroManager checks that every method of a Manager that New did not
// make (&cookiesession.Manager{}, a struct field left zero) panics naming
// the method and the fix, as a nil one does, rather than with a nil
// dereference, in Handler's case at every request.
func TestZeroManager(t *testing.T) {
	for name, use := range managerMethods(t, &cookiesession.Manager{}) {
		assertPanics(t, use, name+" of a Manager that New did not make (a zero Manager): build it with New")
	}
}

// managerMethods calls each method of m, with a live Manager's session
// and a request, and Overlaps of a live Manager with m.
func managerMethods(t *testing.T, m *cookiesession.Manager) map[string]func() {
	live := newFixture(t, cookiesession.Options{}).m
	s, _ := live.Load(httptest.NewRequest("GET", "/", nil))
	r := httptest.NewRequest("GET", "/", nil)
	return map[string]func(){
		"Handler":                      func() { m.Handler(http.NotFoundHandler()) },
		"Var":                          func() { m.Var() },
		"Metrics":                      func() { m.Metrics() },
		"CookieNames":                  func() { m.CookieNames() },
		"Logger":                       func() { m.Logger() },
		"SetMaxLifetime":               func() { _ = m.SetMaxLifetime(time.Hour) },
		"FromContext":                  func() { m.FromContext(r.Context()) },
		"Load":                         func() { _, _ = m.Load(r) },
		"Save":                         func() { _ = m.Save(httptest.NewRecorder(), r, s) },
		"SaveHeader":                   func() { _ = m.SaveHeader(http.Header{}, s) },
		"CommitHeader":                 func() { _ = m.CommitHeader(http.Header{}, s, r) },
		"Overlaps":                     func() { _ = m.Overlaps(live) },
		"Overlaps (its outer Manager)": func() { _ = live.Overlaps(m) },
	}
}

// assertPanics checks that use panics with a string that contains want.
func assertPanics(t *testing.T, use func(), want string) {
	t.Helper()
	defer func() {
		t.Helper()
		if msg, _ := recover().(string); !strings.Contains(msg, want) {
			t.Errorf("panicked with %q, want %q", msg, want)
		}
	}()
	use()
}

// TestHandlerOfNil checks that Handler(nil) panics at once, naming the
// fix, rather than with a nil dereference at every request it serves.
func TestHandlerOfNil(t *testing.T) {
	m := newFixture(t, cookiesession.Options{}).m
	var mux *http.ServeMux // a variable never assigned
	for _, next := range []http.Handler{nil, mux, http.HandlerFunc(nil)} {
		assertPanics(t, func() { m.Handler(next) }, "cookiesession: Handler(nil)")
	}
}

// TestSaveAfterCommitThroughWrapper checks that Save reports a change that
// can no longer reach the client even when the writer it is given wraps
// the middleware's without Unwrap.
func TestSaveAfterCommitThroughWrapper(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	var saveErr error
	f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
		wrapped := struct{ http.ResponseWriter }{w} // like a gzip writer or a status recorder
		io.WriteString(wrapped, "body first")
		s := cookiesession.FromContext(r.Context())
		mustSet(t, s, "user", "ada")
		saveErr = f.m.Save(wrapped, r, s)
	})
	if !errors.Is(saveErr, cookiesession.ErrHeadersWritten) {
		t.Errorf("Save after the body: %v, want ErrHeadersWritten", saveErr)
	}
}

// TestValidateReadsItsSession checks that Validate, run at the session's
// first use, can read the session it is given.
func TestValidateReadsItsSession(t *testing.T) {
	generation := 2
	f := newFixture(t, cookiesession.Options{Validate: func(_ *http.Request, s *cookiesession.Session) error {
		if s.GetInt("gen") != generation {
			return errors.New("logged out everywhere")
		}
		return nil
	}})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, cookiesession.FromContext(r.Context()), "gen", 2)
	})
	var o observed
	f.serve(b, observe(t, &o, http.StatusOK))
	if o.isNew {
		t.Fatal("a session of the current generation was refused")
	}
	generation = 3
	resp := f.serve(b, observe(t, &o, http.StatusOK))
	if !o.isNew || f.m.Metrics().Refused["validate"] != 1 {
		t.Errorf("an old generation: new %v, refused %v; want refused by Validate", o.isNew, f.m.Metrics().Refused)
	}
	// README: a cookie Validate refuses gets a fresh session and is
	// cleared, so that it is not refused again at every request.
	requireCleared(t, resp.Header, "session")
}

func TestCacheControlPrivateMustBeBare(t *testing.T) {
	for _, tt := range []struct{ cc, want string }{
		{`public, max-age=600, private="Set-Cookie"`, "no-store"},
		{"private, max-age=60", "private, max-age=60"},
		{"No-Store", "No-Store"},
		{"public", "no-store"},
		{"PRIVATE", "PRIVATE"},
		// A directive inside a quoted string is no directive.
		{`public, max-age=600, no-cache="Foo, private, Bar"`, "no-store"},
		{`public, max-age=600, x="a,no-store,b"`, "no-store"},
		{`public, x="a\",private", max-age=600`, "no-store"},
		{`public, no-cache="Foo, private`, "no-store"}, // unterminated: fail closed
		{`no-cache="Set-Cookie", private`, `no-cache="Set-Cookie", private`},
	} {
		f := newFixture(t, cookiesession.Options{})
		resp := f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", tt.cc)
			mustSet(t, cookiesession.FromContext(r.Context()), "user", "ada")
		})
		if got := resp.Header.Get("Cache-Control"); got != tt.want {
			t.Errorf("handler's %q with a Set-Cookie: %q, want %q", tt.cc, got, tt.want)
		}
	}
}

// TestCacheControlAnyKeyCase checks that a Cache-Control added under a
// non-canonical header key, which net/http writes as is, is judged and
// replaced like the canonical one: it does not reach the wire beside our
// no-store as a second, shared-cacheable line.
func TestCacheControlAnyKeyCase(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    http.Header
		want []string
	}{
		{"lower case alone", http.Header{"cache-control": {"public, max-age=600"}}, []string{"no-store"}},
		{"beside the canonical key", http.Header{"Cache-Control": {"max-age=60"}, "CACHE-CONTROL": {"public"}}, []string{"no-store"}},
		{"a bare private in another case", http.Header{"cache-control": {"private"}}, []string{"private"}},
	} {
		f := newFixture(t, cookiesession.Options{})
		srv := httptest.NewServer(f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			maps.Copy(w.Header(), tt.h)
			mustSet(t, cookiesession.FromContext(r.Context()), "user", "ada")
		})))
		resp, err := http.Get(srv.URL)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Values("Cache-Control"); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Cache-Control lines on the wire %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestSetCookieAnyKeyCase checks that a line for our cookie added under a
// non-canonical header key is replaced, not sent beside ours.
func TestSetCookieAnyKeyCase(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	srv := httptest.NewServer(f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["set-cookie"] = []string{"session=stale", "theme=dark"}
		mustSet(t, cookiesession.FromContext(r.Context()), "user", "ada")
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var ours, theirs int
	for _, c := range resp.Cookies() {
		switch c.Name {
		case "session":
			ours++
			if c.Value == "stale" {
				t.Error("the handler's stale session cookie reached the wire")
			}
		case "theme":
			theirs++
		}
	}
	if ours != 1 || theirs != 1 {
		t.Errorf("Set-Cookie %q: want one session and one theme cookie", resp.Header.Values("Set-Cookie"))
	}
}

// TestDefaultErrorHandlerHeaders checks the default 500 for a session that
// does not fit: none of the handler's Location, none of our Set-Cookie
// lines, and no-store.
func TestDefaultErrorHandlerHeaders(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	resp := f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Header().Add("Set-Cookie", "session=handlers")
		w.Header().Add("Set-Cookie", "theme=dark")
		mustSet(t, cookiesession.FromContext(r.Context()), "big", strings.Repeat("x", 5000))
		http.Redirect(w, r, "/next", http.StatusSeeOther)
	})
	if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Location") != "" ||
		resp.Header.Get("Cache-Control") != "no-store" || len(ourCookies(t, resp.Header, "session")) != 0 {
		t.Errorf("status %d, headers %v; want 500, no Location, no-store and no session cookie", resp.StatusCode, resp.Header)
	}

	// The same headers under keys net/http writes as they are, and a CDN's
	// own field, which it obeys in place of Cache-Control: none of them
	// may send the client on or let a shared cache keep the 500.
	f = newFixture(t, cookiesession.Options{})
	srv := httptest.NewServer(f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["location"] = []string{"/next"}
		h["cache-control"] = []string{"public, max-age=600"}
		h["set-cookie"] = []string{"session=handlers"}
		h.Set("CDN-Cache-Control", "max-age=600")
		mustSet(t, cookiesession.FromContext(r.Context()), "big", strings.Repeat("x", 5000))
		w.WriteHeader(http.StatusSeeOther)
	})))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	wire, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	wire.Body.Close()
	if wire.StatusCode != http.StatusInternalServerError || wire.Header.Get("Location") != "" ||
		!slices.Equal(wire.Header.Values("Cache-Control"), []string{"no-store"}) ||
		wire.Header.Get("CDN-Cache-Control") != "no-store" || len(ourCookies(t, wire.Header, "session")) != 0 {
		t.Errorf("non-canonical keys: status %d, headers %v; want 500, no Location, only no-store and no session cookie", wire.StatusCode, wire.Header)
	}
}

// TestTargetedCacheControlNoStore checks that a response setting a cookie
// is kept out of a CDN whose own field (RFC 9213's CDN-Cache-Control, a
// vendor's Cloudflare-CDN-Cache-Control, Fastly's Surrogate-Control) it
// obeys in place of Cache-Control: no-store there alone would let the CDN
// store one user's cookie for everyone.
func TestTargetedCacheControlNoStore(t *testing.T) {
	for _, tt := range []struct{ key, value, want string }{
		{"CDN-Cache-Control", "public, max-age=600", "no-store"},
		{"Cloudflare-CDN-Cache-Control", "max-age=86400", "no-store"},
		{"Surrogate-Control", "max-age=3600", "no-store"},
		{"CDN-Cache-Control", "private", "private"},
		{"CDN-Cache-Control", "no-store", "no-store"},
		{"X-Cdn-Cache-Controls", "max-age=60", "max-age=60"}, // not a targeted field
	} {
		f := newFixture(t, cookiesession.Options{})
		resp := f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(tt.key, tt.value)
			mustSet(t, cookiesession.FromContext(r.Context()), "user", "ada")
		})
		if got := resp.Header.Values(tt.key); len(got) != 1 || got[0] != tt.want {
			t.Errorf("handler's %s: %q with a Set-Cookie: %q, want %q", tt.key, tt.value, got, tt.want)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", tt.key, got)
		}
	}
	// A response that sets no cookie keeps the CDN's instructions.
	f := newFixture(t, cookiesession.Options{})
	resp := f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("CDN-Cache-Control", "max-age=600")
		_ = cookiesession.FromContext(r.Context()).GetString("user")
	})
	if got := resp.Header.Get("CDN-Cache-Control"); got != "max-age=600" {
		t.Errorf("a response without Set-Cookie: CDN-Cache-Control %q, want max-age=600", got)
	}
}

// TestSaveRefusesAnotherManagersSession checks that a Manager does not
// save a session another Manager made: with auth outside prefs,
// auth.Save of FromContext's session (prefs') sealed the preferences
// under the auth cookie's name, so the user was signed out without an
// error, and the preferences never reached their own cookie.
func TestSaveRefusesAnotherManagersSession(t *testing.T) {
	f := newFixture(t, cookiesession.Options{Name: "auth"})
	prefs := f.manager(cookiesession.Options{Name: "prefs"})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, f.m.FromContext(r.Context()), "user", "ada")
	})
	signedIn := b.vals["auth"]
	var saveErr, headerErr error
	h := f.m.Handler(prefs.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context()) // the innermost: prefs'
		mustSet(t, s, "theme", "dark")
		saveErr = f.m.Save(w, r, s)
		headerErr = f.m.SaveHeader(http.Header{}, new(cookiesession.Session))
	})))
	rec := b.do(h, http.MethodGet, "/")
	if saveErr == nil || !strings.Contains(saveErr.Error(), `"prefs"`) {
		t.Errorf("auth.Save of prefs' session: %v, want an error naming prefs", saveErr)
	}
	if headerErr == nil {
		t.Error("SaveHeader of a zero Session: nil error, want one")
	}
	if b.vals["auth"] != signedIn {
		t.Errorf("the auth cookie changed: Set-Cookie %q", rec.Header()["Set-Cookie"])
	}
	if user, _ := f.userIn(b.vals["auth"]); user != "ada" {
		t.Errorf("auth cookie holds user %v, want ada", user)
	}
	if got, _ := prefs.Codec().OpenAt(b.vals["prefs"], f.clock.Now()); got.Values.Len() != 1 {
		t.Errorf("prefs cookie %q holds %d values, want the theme", b.vals["prefs"], got.Values.Len())
	}
}

// TestChunkedSessionOverHTTP2 checks a session over two cookies through
// Go's HTTP/2 client and server, with a cookie jar: the client sends each
// cookie as a header field of its own (RFC 9113's crumbs), which the
// server joins, and a Destroy expires both chunks.
func TestChunkedSessionOverHTTP2(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxChunks: 4})
	big := strings.Repeat("x", 6000)
	srv := newH2Server(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		switch r.URL.Path {
		case "/set":
			mustSet(t, s, "big", big)
		case "/read":
			_, _ = io.WriteString(w, s.GetString("big"))
		case "/destroy":
			s.Destroy()
		}
	})))
	c := srv.client(t)
	resp, _ := fetch(t, c, srv.URL+"/set")
	if resp.ProtoMajor != 2 || srv.jarValue(t, c, "session.1") == "" || srv.jarValue(t, c, "session.2") != "" {
		t.Fatalf("over %s the jar holds %v, want two chunks", resp.Proto, c.Jar.Cookies(resp.Request.URL))
	}
	if _, body := fetch(t, c, srv.URL+"/read"); body != big {
		t.Errorf("read back %d bytes, want %d", len(body), len(big))
	}
	fetch(t, c, srv.URL+"/destroy")
	if left := c.Jar.Cookies(resp.Request.URL); len(left) != 0 {
		t.Errorf("after Destroy the jar holds %v", left)
	}
	srv.checkNoSuperfluous(t)
}

// TestServeMuxEitherSide checks that the handler sees the route's
// r.PathValue and r.Pattern with a ServeMux inside the middleware and
// with the middleware wrapping one route of it: the request the
// middleware passes on is a copy of the mux's, not one built anew.
func TestServeMuxEitherSide(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	var seen []string
	route := func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "user", r.PathValue("id"))
		seen = append(seen, r.Pattern+" "+r.PathValue("id"))
	}
	inner := http.NewServeMux()
	inner.HandleFunc("GET /users/{id}", route)
	outer := http.NewServeMux()
	outer.Handle("GET /one/{id}", f.m.Handler(http.HandlerFunc(route)))
	for _, h := range []http.Handler{f.m.Handler(inner), outer} {
		for _, target := range []string{"/users/7", "/one/8"} {
			b := newClientCookies()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, b.request(target))
			if rec.Code == http.StatusOK {
				b.apply(t, rec.Result().Header)
				if user, _ := f.userIn(b.vals["session"]); user != path.Base(target) {
					t.Errorf("%s: the session holds user %v", target, user)
				}
			}
		}
	}
	if want := []string{"GET /users/{id} 7", "GET /one/{id} 8"}; !slices.Equal(seen, want) {
		t.Errorf("the handler saw %q, want %q", seen, want)
	}
}

// TestMaxBytesHandlerOutside checks http.MaxBytesHandler around the
// middleware: the handler's read of a body over the limit fails, and its
// http.Error carries the session's change, saved or not.
func TestMaxBytesHandlerOutside(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	h := http.MaxBytesHandler(f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "user", "ada")
		if r.URL.Query().Has("save") {
			if err := f.m.Save(w, r, s); err != nil {
				t.Error(err)
			}
		}
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		}
	})), 10)
	for _, target := range []string{"/", "/?save"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "https://example.com"+target, strings.NewReader(strings.Repeat("x", 100))))
		c := ourCookies(t, rec.Header(), "session")["session"]
		if rec.Code != http.StatusRequestEntityTooLarge || c == nil || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: status %d, headers %v; want 413 with the session's cookie and no-store", target, rec.Code, rec.Header())
		}
	}
}

// TestLoadInsideMiddlewareIsTheSession checks that Load, called under its
// Manager's middleware as code moved from gorilla's store.Get does, returns
// the middleware's session with the reason its cookie was refused, as
// gorilla's registry returns one session per name and request. A second
// copy lost what it changed: a flash read through it came back on every
// page, and a Save of it was replaced by the middleware's own write (here
// a re-seal under a new primary key).
func TestLoadInsideMiddlewareIsTheSession(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	load := func(r *http.Request) (*cookiesession.Session, error) {
		t.Helper()
		s, err := f.m.Load(r)
		if own := f.m.FromContext(r.Context()); s != own {
			t.Errorf("Load under the middleware returned %p, FromContext %p", s, own)
		}
		return s, err
	}
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "n", 1)
		sessionOf(t, r).AddFlash("welcome")
	})
	for i, want := range [][]string{{"welcome"}, nil} {
		var got []string
		f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			s, _ := load(r)
			got = s.Flashes()
		})
		if !slices.Equal(got, want) {
			t.Errorf("page %d through Load shows flashes %q, want %q", i+1, got, want)
		}
	}

	if err := f.ring.Add(keyForID(t, keyB)); err != nil {
		t.Fatal(err)
	}
	if err := f.ring.Promote(keyB); err != nil { // the middleware's session re-seals
		t.Fatal(err)
	}
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		_ = sessionOf(t, r).Has("user") // a middleware's check
		s, _ := load(r)
		mustSet(t, s, "n", s.GetInt("n")+1)
		if err := f.m.Save(w, r, s); err != nil {
			t.Error(err)
		}
	})
	rec := f.open(b.vals["session"])
	if n, _ := rec.Values.Get("n"); n != 2 {
		t.Errorf("after a Save of Load's session the cookie holds n = %v, want 2", n)
	}

	// A refused cookie: each Load says why, and the response clears it,
	// even one that answers 500 on the error, as gorilla code often does.
	b.vals["session"] = strings.Repeat("A", 200)
	resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		if _, err := load(r); !errors.Is(err, cookiesession.ErrInvalid) {
			t.Errorf("Load of a refused cookie under the middleware: %v, want ErrInvalid", err)
		}
		if _, err := load(r); !errors.Is(err, cookiesession.ErrInvalid) {
			t.Errorf("second Load in the request: %v, want ErrInvalid again", err)
		}
		http.Error(w, "bad session", http.StatusInternalServerError)
	})
	requireCleared(t, resp.Header, "session")
}

// TestSaveBesideTheMiddlewaresSession checks Save of a session Load made
// from a request whose context lacks the middleware's (r.Clone with a
// fresh context, another request), saved under the middleware: its lines
// are the Manager's, so the commit does not log them as another writer's;
// after the body Save says they cannot go out; and a panic after it takes
// them out of the recovery's answer, as for the middleware's own session.
func TestSaveBesideTheMiddlewaresSession(t *testing.T) {
	loaded := func(t *testing.T, f *fixture, r *http.Request) *cookiesession.Session {
		t.Helper()
		s, _ := f.m.Load(r.WithContext(context.Background()))
		if s == f.m.FromContext(r.Context()) {
			t.Fatal("Load of a request without the middleware's context returned the middleware's session")
		}
		mustSet(t, s, "user", "ada")
		return s
	}
	f := newFixture(t, cookiesession.Options{})
	resp := f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
		if err := f.m.Save(w, r, loaded(t, f, r)); err != nil {
			t.Error(err)
		}
		_, _ = io.WriteString(w, "saved")
	})
	if len(ourCookies(t, resp.Header, "session")) != 1 || f.log.String() != "" {
		t.Errorf("Set-Cookie %q, log:\n%s; want the saved line and nothing logged", resp.Header.Values("Set-Cookie"), f.log)
	}

	f = newFixture(t, cookiesession.Options{})
	var saveErr error
	f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "body first")
		saveErr = f.m.Save(w, r, loaded(t, f, r))
	})
	if !errors.Is(saveErr, cookiesession.ErrHeadersWritten) {
		t.Errorf("Save after the body: %v, want ErrHeadersWritten", saveErr)
	}

	f = newFixture(t, cookiesession.Options{})
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f.m.Save(w, r, loaded(t, f, r)); err != nil {
			t.Error(err)
		}
		panic("handler failed")
	}))
	rec := httptest.NewRecorder()
	func() {
		defer func() {
			if p := recover(); p != "handler failed" {
				t.Errorf("the recovery got %v, want the handler's panic", p)
			}
		}()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	}()
	if got := rec.Result().Header["Set-Cookie"]; got != nil {
		t.Errorf("the answer to a panic after a Save carries Set-Cookie %q", got)
	}
}

// TestKeyIDNamesOneSecret pins README's gorilla row for key rotation.
// gorilla's NewCookieStore(newHash, newBlock, oldHash, oldBlock) goes by
// position; a ring built the same way, NewKey's ids given by position,
// hands the old id to the new secret. Every cookie sealed under that id
// then fails authentication: each user is signed out, counted as
// auth_failed and logged at Debug only, since a forged token looks the
// same. A new id for the new secret keeps everyone signed in.
func TestKeyIDNamesOneSecret(t *testing.T) {
	const first, second = 1, 2
	oldSecret, newSecret := keySecret(keyA), keySecret(keyB)
	for _, tc := range []struct {
		name     string
		ring     [2]uint32 // the ids of the new secret (primary) and the old one
		signedIn bool
	}{
		{"ids by position", [2]uint32{first, second}, false},
		{"a new id for the new secret", [2]uint32{second, first}, true},
	} {
		f := newFixture(t, cookiesession.Options{})
		manager := func(primary cookiesession.Key, others ...cookiesession.Key) *cookiesession.Manager {
			ring, err := cookiesession.NewKeyRing(primary, others...)
			if err != nil {
				t.Fatal(err)
			}
			m, err := cookiesession.New(ring, cookiesession.Options{Now: f.clock.Now, Logger: debugLogger(f.log)})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		key := func(id uint32, secret []byte) cookiesession.Key {
			k, err := cookiesession.NewKey(id, secret)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		b := newClientCookies()
		serveWith(t, manager(key(first, oldSecret)), b, setString(t, "user", "ada"))
		rotated := manager(key(tc.ring[0], newSecret), key(tc.ring[1], oldSecret))
		var user string
		serveWith(t, rotated, b, func(w http.ResponseWriter, r *http.Request) { user = sessionOf(t, r).GetString("user") })
		if got := user == "ada"; got != tc.signedIn {
			t.Errorf("%s: signed in after the rotation: %v, want %v", tc.name, got, tc.signedIn)
		}
		if got, want := rotated.Metrics().Refused["auth_failed"], map[bool]uint64{false: 1}[tc.signedIn]; got != want {
			t.Errorf("%s: auth_failed = %d, want %d", tc.name, got, want)
		}
		if got := len(f.log.lines("authentication failed")); got != map[bool]int{false: 1}[tc.signedIn] {
			t.Errorf("%s: %d lines name the refusal; log:\n%s", tc.name, got, f.log)
		}
		for _, line := range f.log.lines("level=") {
			if !strings.Contains(line, "level=DEBUG") {
				t.Errorf("%s: logged above Debug: %s", tc.name, line)
			}
		}
	}
}

// TestExpressIdioms pins README's "express-session → cookiesession" rows
// where an express-session habit does something else here.
func TestExpressIdioms(t *testing.T) {
	// keys returns the keys sealed in the response's session cookie, and
	// its id, failing unless there is exactly one session line.
	keys := func(t *testing.T, f *fixture, resp *http.Response) ([]string, string) {
		t.Helper()
		lines := resp.Header.Values("Set-Cookie")
		if len(lines) != 1 {
			t.Fatalf("Set-Cookie %q: want one line", lines)
		}
		rec := f.open(ourCookies(t, resp.Header, "session")["session"].Value)
		return rec.Values.Keys(), rec.ID.String()
	}
	cart := func(t *testing.T) (*fixture, *clientCookies, string) {
		f := newFixture(t, cookiesession.Options{})
		b := newClientCookies()
		_, id := keys(t, f, f.serve(b, setString(t, "cart", "apple")))
		return f, b, id
	}
	t.Run("regenerate", func(t *testing.T) {
		// Renew keeps the values; express's regenerate starts empty, as
		// Clear then Renew does.
		for _, tc := range []struct {
			clear bool
			want  []string
		}{{false, []string{"cart", "userId"}}, {true, []string{"userId"}}} {
			f, b, id := cart(t)
			f.clock.Advance(time.Minute)
			got, newID := keys(t, f, f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				if tc.clear {
					s.Clear()
				}
				s.Renew()
				mustSet(t, s, "userId", "u1")
			}))
			if created := f.open(b.vals["session"]).Created; !slices.Equal(got, tc.want) || newID == id || !created.Equal(f.clock.Now().Truncate(time.Second)) {
				t.Errorf("Clear %v: keys %q, id %s (was %s), created %v; want %q, a new id and created now", tc.clear, got, newID, id, created, tc.want)
			}
		}
	})
	t.Run("regenerate drops the Lifetime", func(t *testing.T) {
		// express's regenerate gives the next login the default cookie;
		// Destroy does, where Clear then Renew keeps an earlier login's
		// "remember me" for a login that sets a Lifetime only when ticked.
		remember := cookiesession.Lifetime{MaxAge: 30 * 24 * time.Hour}
		for _, destroy := range []bool{true, false} {
			f := newFixture(t, cookiesession.Options{MaxLifetime: remember.MaxAge})
			b := newClientCookies()
			f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				mustSet(t, s, "user", "ada")
				if err := s.SetLifetime(remember); err != nil {
					t.Fatal(err)
				}
			})
			f.serve(b, func(w http.ResponseWriter, r *http.Request) { // bob, box not ticked
				s := sessionOf(t, r)
				if destroy {
					s.Destroy()
				} else {
					s.Clear()
					s.Renew()
				}
				mustSet(t, s, "user", "bob")
			})
			rec := f.open(b.vals["session"])
			if user, _ := rec.Values.Get("user"); user != "bob" || (rec.Lifetime == remember) == destroy {
				t.Errorf("Destroy %v: user %v, Lifetime %+v; want bob, and ada's Lifetime only without Destroy", destroy, user, rec.Lifetime)
			}
		}
	})
	t.Run("save before redirect", func(t *testing.T) {
		// The redirect carries the cookie; a Save before it sends it once.
		for _, save := range []bool{false, true} {
			f, b, _ := cart(t)
			resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				mustSet(t, s, "userId", "u1")
				if save {
					if err := f.m.Save(w, r, s); err != nil {
						t.Error(err)
					}
				}
				http.Redirect(w, r, "/", http.StatusSeeOther)
			})
			if got, _ := keys(t, f, resp); resp.StatusCode != http.StatusSeeOther || !slices.Equal(got, []string{"cart", "userId"}) {
				t.Errorf("Save %v: %d with keys %q", save, resp.StatusCode, got)
			}
		}
	})
	t.Run("destroy then set", func(t *testing.T) {
		// A value stored after Destroy starts a new session: a new id,
		// none of the old values.
		f, b, id := cart(t)
		f.clock.Advance(time.Minute)
		got, newID := keys(t, f, f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			s.Destroy()
			mustSet(t, s, "flash", "signed out")
		}))
		if created := f.open(b.vals["session"]).Created; !slices.Equal(got, []string{"flash"}) || newID == id || !created.Equal(f.clock.Now().Truncate(time.Second)) {
			t.Errorf("keys %q, id %s (was %s), created %v; want [flash], a new id and created now", got, newID, id, created)
		}
	})
	// user reports who a request finds signed in (no one, if use is false
	// and its handler never uses the session) and whether its response set
	// the session's cookie.
	user := func(t *testing.T, f *fixture, b *clientCookies, use bool) (string, bool) {
		var got string
		resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			if use {
				got = sessionOf(t, r).GetString("user")
			}
		})
		return got, len(ourCookies(t, resp.Header, "session")) > 0
	}
	t.Run("rolling", func(t *testing.T) {
		// rolling: true, maxAge 30 min sets the cookie again on every
		// response, so 30 minutes without requests end the session. Here
		// a request at minute 10 re-issues nothing by default, and 25
		// minutes without requests then end it; RefreshThreshold 1
		// re-issues at each request that uses the session. A request
		// whose handler never uses it slides nothing, where express's
		// middleware loads the session for every request and rolls it.
		for _, tc := range []struct {
			threshold float64
			use       bool // the request at minute 10 uses its session
			slid, in  bool // it set a cookie; signed in at minute 35
		}{
			{0, true, false, false},
			{1, true, true, true},
			{1, false, false, false},
		} {
			f := newFixture(t, cookiesession.Options{IdleTimeout: 30 * time.Minute, RefreshThreshold: tc.threshold})
			b := newClientCookies()
			f.serve(b, setString(t, "user", "ada"))
			f.clock.Advance(10 * time.Minute)
			if _, slid := user(t, f, b, tc.use); slid != tc.slid {
				t.Errorf("threshold %v, uses the session %v: a cookie at minute 10: %v, want %v", tc.threshold, tc.use, slid, tc.slid)
			}
			f.clock.Advance(25 * time.Minute)
			if got, _ := user(t, f, b, true); (got == "ada") != tc.in {
				t.Errorf("threshold %v, uses the session %v: minute 35 finds %q; want signed in %v", tc.threshold, tc.use, got, tc.in)
			}
		}
	})
	t.Run("maxAge counts from login", func(t *testing.T) {
		// express-session counts cookie.maxAge again from each response
		// that sets the cookie (a change under rolling: false too, after
		// touch() resets it); MaxAge counts from the session's start,
		// however often it changes, and Touch without an IdleTimeout
		// extends nothing.
		for name, active := range map[string]http.HandlerFunc{
			"change": setString(t, "theme", "dark"),
			"Touch":  func(w http.ResponseWriter, r *http.Request) { sessionOf(t, r).Touch() },
		} {
			f := newFixture(t, cookiesession.Options{MaxAge: time.Hour})
			b := newClientCookies()
			f.serve(b, setString(t, "user", "ada"))
			f.clock.Advance(40 * time.Minute)
			resp := f.serve(b, active)
			if c := ourCookies(t, resp.Header, "session")["session"]; c == nil || c.MaxAge != 20*60 {
				t.Fatalf("%s at minute 40 set %v; want Max-Age 1200, what is left of the hour", name, c)
			}
			f.clock.Advance(30 * time.Minute)
			if got, _ := user(t, f, b, true); got != "" {
				t.Errorf("%s at minute 40: minute 70 finds %q signed in; want no one", name, got)
			}
		}
	})
	t.Run("emptied session gets a new id", func(t *testing.T) {
		// express keeps an emptied session, and its id; here a request
		// that leaves no value expires the cookie, and the next value
		// stored starts a session with another id.
		f, b, id := cart(t)
		requireCleared(t, f.serve(b, func(w http.ResponseWriter, r *http.Request) { sessionOf(t, r).Delete("cart") }).Header, "session")
		if _, newID := keys(t, f, f.serve(b, setString(t, "cart", "pear"))); newID == id {
			t.Errorf("id %s kept across the emptied session; want a new one", id)
		}
	})
	t.Run("express cookie of the name", func(t *testing.T) {
		// express-session's connect.sid (s: and a signed id, URL-encoded)
		// reaches a Manager of that name: refused at Debug and cleared,
		// so while express serves part of the site, it signs the user
		// out there.
		f := newFixture(t, cookiesession.Options{Name: "connect.sid"})
		w := httptest.NewRecorder()
		sid := "s%3A" + strings.Repeat("x", 32) + "." + strings.Repeat("A", 43)
		f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s := sessionOf(t, r); !s.IsNew() || s.Len() != 0 {
				t.Errorf("express's cookie gave a session of %d values, new %v", s.Len(), s.IsNew())
			}
		})).ServeHTTP(w, tossedRequest("connect.sid="+sid))
		if c := ourCookies(t, w.Result().Header, "connect.sid")["connect.sid"]; c == nil || c.MaxAge >= 0 {
			t.Errorf("express's cookie not cleared: %v", c)
		}
		if got := f.log.lines("session cookie refused"); len(got) != 1 || !strings.Contains(got[0], "level=DEBUG") {
			t.Errorf("refusal logged as %q, want one line at Debug", got)
		}
	})
	t.Run("reload", func(t *testing.T) {
		// Under the middleware, Load returns the middleware's session:
		// nothing is read again, and the change made before it stays.
		f, b, _ := cart(t)
		resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			mustSet(t, sessionOf(t, r), "cart", "pear")
			again, err := f.m.Load(r)
			if err != nil || again != sessionOf(t, r) || again.GetString("cart") != "pear" {
				t.Errorf("Load: cart %q, %v; want the middleware's session, with pear", again.GetString("cart"), err)
			}
		})
		keys(t, f, resp)
		rec := f.open(b.vals["session"])
		if v, _ := rec.Values.Get("cart"); v != "pear" {
			t.Errorf("cart %v written; want pear", v)
		}
	})
}

// TestSkipRefreshAfterSave: SkipRefresh after a Save that slid the idle
// window of the client's session is logged at Warn, since the slide cannot
// be taken back; after a Save that slid nothing it is not.
func TestSkipRefreshAfterSave(t *testing.T) {
	idle := cookiesession.Options{IdleTimeout: 30 * time.Minute}
	for _, tt := range []struct {
		name     string
		opts     cookiesession.Options
		loggedIn bool
		before   func(s *cookiesession.Session)
		warns    int
	}{
		{"the Save's refresh", idle, true, func(s *cookiesession.Session) {}, 1},
		{"the Save's change", idle, true, func(s *cookiesession.Session) { mustSet(t, s, "theme", "dark") }, 1},
		{"a new session", idle, false, func(s *cookiesession.Session) { mustSet(t, s, "user", "ada") }, 0},
		{"Renew", idle, true, func(s *cookiesession.Session) { s.Renew() }, 0},
		{"Destroy", idle, true, func(s *cookiesession.Session) { s.Destroy() }, 0},
		{"no IdleTimeout", cookiesession.Options{}, true, func(s *cookiesession.Session) { mustSet(t, s, "theme", "dark") }, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts)
			b := newClientCookies()
			if tt.loggedIn {
				f.serve(b, setString(t, "user", "ada"))
			}
			f.clock.Advance(20 * time.Minute) // less than half the idle window left
			resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				s := cookiesession.FromContext(r.Context())
				tt.before(s)
				if err := f.m.Save(w, r, s); err != nil {
					t.Fatal(err)
				}
				s.SkipRefresh()
			})
			if len(ourCookies(t, resp.Header, "session")) != 1 {
				t.Fatalf("Set-Cookie %q: the Save wrote no line; the test needs one", resp.Header.Values("Set-Cookie"))
			}
			got := f.log.lines("SkipRefresh called after Save")
			if len(got) != tt.warns || tt.warns > 0 && !strings.Contains(got[0], "level=WARN") {
				t.Errorf("log lines for the SkipRefresh: %q, want %d at Warn", got, tt.warns)
			}
		})
	}
	// Nor after a commit that wrote no cookie: none went out.
	f := newFixture(t, idle)
	b := newClientCookies()
	f.serve(b, setString(t, "user", "ada"))
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		_, _ = io.WriteString(w, s.GetString("user"))
		s.SkipRefresh()
	})
	if got := f.log.lines("SkipRefresh called after"); len(got) != 0 {
		t.Errorf("SkipRefresh after a commit that wrote no cookie logged %q", got)
	}
	// A change after the commit, in the same minute as a logged late
	// SkipRefresh, is another intent lost: it is logged at Warn too.
	for _, save := range []bool{true, false} {
		f := newFixture(t, idle)
		f.serve(b, setString(t, "user", "ada"))
		f.clock.Advance(20 * time.Minute)
		f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			if save {
				if err := f.m.Save(w, r, s); err != nil {
					t.Fatal(err)
				}
			}
			_, _ = io.WriteString(w, s.GetString("user"))
			s.SkipRefresh()
			mustSet(t, s, "theme", "dark")
		})
		skipped, changed := f.log.lines("SkipRefresh called after"), f.log.lines("session changed after the response was committed")
		if len(skipped) != 1 || len(changed) != 1 || !strings.Contains(changed[0], "level=WARN") {
			t.Errorf("SkipRefresh after Save (%v) or the commit, then a change after the commit: logged %q and %q; want one line each, the change's at Warn", save, skipped, changed)
		}
	}
}

// TestStdlibWrappersEitherWay keeps README's Wrappers claim true of
// http.StripPrefix and http.MaxBytesHandler, each outside and inside the
// middleware, over TLS with a cookie jar: a login reaches the jar, a
// stream's change goes out with its first flush and the stream goes on,
// and a change after the body is reported (Save's ErrHeadersWritten, the
// Warn). An upload past MaxBytesHandler's limit gets the handler's 413,
// with the change it made. StripPrefix runs as README advises, with
// Options.Path the prefix, and no request is logged as outside the Path.
func TestStdlibWrappersEitherWay(t *testing.T) {
	const limit = 64
	for _, tc := range []struct {
		name   string
		prefix string // the app's prefix, and the cookie's Path
		wrap   func(m *cookiesession.Manager, app http.Handler) http.Handler
	}{
		{"StripPrefix outside", "/app", func(m *cookiesession.Manager, app http.Handler) http.Handler {
			return http.StripPrefix("/app", m.Handler(app))
		}},
		{"StripPrefix inside", "/app", func(m *cookiesession.Manager, app http.Handler) http.Handler {
			return m.Handler(http.StripPrefix("/app", app))
		}},
		{"MaxBytesHandler outside", "", func(m *cookiesession.Manager, app http.Handler) http.Handler {
			return http.MaxBytesHandler(m.Handler(app), limit)
		}},
		{"MaxBytesHandler inside", "", func(m *cookiesession.Manager, app http.Handler) http.Handler {
			return m.Handler(http.MaxBytesHandler(app, limit))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{Path: tc.prefix})
			proceed, saveErr := make(chan struct{}), make(chan error, 1)
			app := http.NewServeMux()
			app.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
				mustSet(t, sessionOf(t, r), "user", "ada")
				io.WriteString(w, "signed in")
			})
			app.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				io.WriteString(w, s.GetString("user")+" "+s.GetString("step"))
			})
			app.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
				mustSet(t, sessionOf(t, r), "step", "uploaded")
				if _, err := io.ReadAll(r.Body); err != nil {
					http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
				}
			})
			app.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				mustSet(t, s, "step", "streamed")
				io.WriteString(w, "first\n")
				if err := http.NewResponseController(w).Flush(); err != nil {
					t.Errorf("Flush: %v", err)
				}
				<-proceed
				io.WriteString(w, "second\n")
				mustSet(t, s, "step", "too late")
				saveErr <- f.m.Save(w, r, s)
			})
			app.HandleFunc("GET /late", func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "a page")
				mustSet(t, sessionOf(t, r), "step", "after the body")
			})
			srv := newTLSServer(t, tc.wrap(f.m, app))
			c := srv.client(t)
			base := srv.URL + tc.prefix
			late := func() int { return strings.Count(f.log.String(), "session changed after the response was committed") }

			if resp, body := fetch(t, c, base+"/login"); body != "signed in" || len(resp.Header.Values("Set-Cookie")) != 1 {
				t.Fatalf("/login: %q, Set-Cookie %q", body, resp.Header.Values("Set-Cookie"))
			}
			if _, body := fetch(t, c, base+"/me"); body != "ada " {
				t.Fatalf("/me after /login: %q", body)
			}

			resp, err := c.Post(base+"/upload", "text/plain", strings.NewReader(strings.Repeat("x", 2*limit)))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := http.StatusOK
			if strings.HasPrefix(tc.name, "MaxBytesHandler") {
				want = http.StatusRequestEntityTooLarge
			}
			if resp.StatusCode != want || len(resp.Header.Values("Set-Cookie")) != 1 {
				t.Errorf("/upload: %d, Set-Cookie %q; want %d with the change", resp.StatusCode, resp.Header.Values("Set-Cookie"), want)
			}
			if _, body := fetch(t, c, base+"/me"); body != "ada uploaded" {
				t.Errorf("/me after /upload: %q", body)
			}

			resp, err = c.Get(base + "/events")
			if err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewReader(resp.Body)
			if first, err := lines.ReadString('\n'); first != "first\n" {
				t.Fatalf("/events: first line %q, %v", first, err)
			}
			if n := len(resp.Header.Values("Set-Cookie")); n != 1 {
				t.Errorf("/events: %d Set-Cookie lines with the flushed headers, want 1", n)
			}
			close(proceed)
			if rest, err := io.ReadAll(lines); string(rest) != "second\n" || err != nil {
				t.Errorf("/events: after the first line %q, %v", rest, err)
			}
			resp.Body.Close()
			if err := <-saveErr; !errors.Is(err, cookiesession.ErrHeadersWritten) {
				t.Errorf("/events: Save after the body returned %v, want ErrHeadersWritten", err)
			}
			if n := late(); n != 1 || !strings.Contains(f.log.String(), "level=WARN msg=\"cookiesession: session changed after") {
				t.Errorf("/events: %d log lines of a late change, want 1 at Warn:\n%s", n, f.log)
			}
			if _, body := fetch(t, c, base+"/me"); body != "ada streamed" {
				t.Errorf("/me after /events: %q", body)
			}

			if resp, body := fetch(t, c, base+"/late"); body != "a page" || len(resp.Header.Values("Set-Cookie")) != 0 {
				t.Errorf("/late: %q, Set-Cookie %q", body, resp.Header.Values("Set-Cookie"))
			}
			if n := late(); n != 2 {
				t.Errorf("/late: %d log lines of a late change in all, want 2:\n%s", n, f.log)
			}
			if _, body := fetch(t, c, base+"/me"); body != "ada streamed" {
				t.Errorf("/me after /late: %q", body)
			}
			if strings.Contains(f.log.String(), "outside the cookie's Path") {
				t.Errorf("logged as outside the Path:\n%s", f.log)
			}
		})
	}
}
