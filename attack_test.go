package cookiesession_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// Cookie tossing: a sibling subdomain (evil.example.com, with
// Domain=example.com) or a plain-HTTP network attacker sets a cookie under
// the session's name. A browser sends it beside the session's own cookie,
// first when its Path is longer or it is older (RFC 6265 section 5.4), so
// the victim's requests carry two cookies of that name, or a chunk that
// the session never wrote.

// TestTossedCookieDoesNotEndTheSession: junk under the session's name
// (or its next chunk name) that the browser sends before the genuine
// cookie must neither hide the genuine session nor get it cleared. The
// clear is host-only with the Manager's Path: it removes the genuine
// cookie and leaves the tossed one, whose Domain or Path differ, so every
// request would clear the session again, and a new login with it: the
// victim could not stay signed in.
func TestTossedCookieDoesNotEndTheSession(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxChunks int
		header    func(genuine string) string
	}{
		{"junk first", 1, func(g string) string { return "session=junk; session=" + g }},
		{"expired-looking junk first", 1, func(g string) string { return "session=" + strings.Repeat("A", len(g)) + "; session=" + g }},
		{"junk in its own Cookie line first", 1, func(g string) string { return "session=junk\x00" + g }},
		{"tossed next chunk", 2, func(g string) string { return "session=" + g + "; session.1=junk" }},
		{"tossed far chunk", 4, func(g string) string { return "session.3=junk; session=" + g }},
		{"junk first, tossed chunk", 2, func(g string) string { return "session=junk; session.1=junk; session=" + g }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{MaxChunks: tc.maxChunks})
			genuine := loginToken(t, f, "victim")
			r := tossedRequest(tc.header(genuine))
			if lines := strings.Split(r.Header.Get("Cookie"), "\x00"); len(lines) == 2 {
				r.Header["Cookie"] = []string{lines[0], "session=" + lines[1]}
			}
			rec := httptest.NewRecorder()
			var user string
			f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				user = cookiesession.FromContext(r.Context()).GetString("user")
			})).ServeHTTP(rec, r)
			if user != "victim" {
				t.Errorf("the handler saw user %q; want the genuine session's \"victim\"", user)
			}
			for _, c := range parseSetCookies(t, rec.Header()) {
				if c.Name == "session" && c.MaxAge < 0 {
					t.Errorf("the genuine cookie was cleared: %q", rec.Header().Values("Set-Cookie"))
				}
			}
			if !strings.Contains(f.log.String(), "level=WARN") || !strings.Contains(f.log.String(), "__Host-") {
				t.Errorf("no Warn naming the __Host- fix; log:\n%s", f.log)
			}
		})
	}
}

// TestTossedChunkNames: a session over two cookies, beside a chunk cookie
// another host tossed (Domain=example.com) under one of its chunk names:
// a session.1 before the session's own (a longer Path, or older), or a
// session.2 above its last chunk. Each spoiled the join, and no chunk of
// the session was tried past the first value of each name: the user was
// signed out on every request the tossed cookie reached, for as long as
// it stayed, and the tossed session.2 even got the session cleared.
// Whatever is tossed beside it, the session must open, and not be
// cleared.
func TestTossedChunkNames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header func(s0, s1, other1 string) string
	}{
		{"junk session.1 first", func(s0, s1, _ string) string { return "session.1=junk; session=" + s0 + "; session.1=" + s1 }},
		{"full-length junk session.1 first", func(s0, s1, _ string) string {
			return "session.1=" + strings.Repeat("A", len(s1)) + "; session=" + s0 + "; session.1=" + s1
		}},
		{"another session's session.1 first (spliced)", func(s0, s1, other1 string) string {
			return "session.1=" + other1 + "; session=" + s0 + "; session.1=" + s1
		}},
		{"junk session.2 above", func(s0, s1, _ string) string { return "session=" + s0 + "; session.1=" + s1 + "; session.2=junk" }},
		{"junk session.3 above a gap", func(s0, s1, _ string) string { return "session=" + s0 + "; session.1=" + s1 + "; session.3=junk" }},
		{"junk session and session.1 first", func(s0, s1, _ string) string {
			return "session=junk; session.1=junk; session=" + s0 + "; session.1=" + s1
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{MaxChunks: 4})
			login := func(user string) *clientCookies {
				b := newClientCookies()
				f.serve(b, func(w http.ResponseWriter, r *http.Request) {
					s := cookiesession.FromContext(r.Context())
					if err := s.Set("user", user); err != nil {
						t.Fatal(err)
					}
					if err := s.Set("pad", strings.Repeat("p", 4000)); err != nil {
						t.Fatal(err)
					}
				})
				if b.vals["session.1"] == "" || b.vals["session.2"] != "" {
					t.Fatalf("want a session over two cookies, got %v", b.names())
				}
				return b
			}
			victim, attacker := login("victim"), login("attacker")
			rec := httptest.NewRecorder()
			var user string
			f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				user = cookiesession.FromContext(r.Context()).GetString("user")
			})).ServeHTTP(rec, tossedRequest(tc.header(victim.vals["session"], victim.vals["session.1"], attacker.vals["session.1"])))
			if user != "victim" {
				t.Errorf("the handler saw user %q; want the genuine session's \"victim\"", user)
			}
			if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
				t.Errorf("Set-Cookie %q; want none", got)
			}
			if got := f.log.lines("level=WARN"); !slices.ContainsFunc(got, func(l string) bool { return strings.Contains(l, "cookie tossing") }) {
				t.Errorf("no Warn naming cookie tossing; log:\n%s", f.log)
			}
		})
	}
}

// TestChunkSearchOfTinyChunksIsBounded: under a MaxCookieSize that leaves
// each chunk a few bytes (valid, if odd), a chain of several full values
// is still shorter than any token. Step 5 skipped such chains without
// spending its budget of 18 opens, and a hostile header of nine full
// values under each of twelve chunk names (108 cookies, 1.3 KB) made it
// join every combination: 63 ms at seven names, nine times more with
// each, hours at twelve, one core per request. It must give a fresh
// session at once.
func TestChunkSearchOfTinyChunksIsBounded(t *testing.T) {
	m, err := cookiesession.New(ringOf(t, keyA), cookiesession.Options{MaxChunks: 64, MaxCookieSize: 12, Now: newFakeClock(fixedNow).Now})
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for i := range 12 {
		name := "session"
		if i > 0 {
			name += "." + strconv.Itoa(i)
		}
		for j := range 9 {
			parts = append(parts, name+"="+strings.Repeat(string(rune('A'+j)), 12-len(name)))
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", strings.Join(parts, "; "))
	w := httptest.NewRecorder()
	done := make(chan bool)
	go func() {
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			done <- cookiesession.FromContext(r.Context()).IsNew()
		})).ServeHTTP(w, r)
	}()
	select {
	case isNew := <-done:
		if !isNew {
			t.Error("want a fresh session")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("step 5 still searching after 10s: a hostile header holds a core per request")
	}
}

// TestShadowedWarnSaysWhich: a chunk alone beside a session that opens
// without it is also what parallel responses leave (a shrink that landed
// after a growth), and the Warn says so; two values of the session's own
// name are not, and the Warn speaks of tossing alone.
func TestShadowedWarnSaysWhich(t *testing.T) {
	for _, tc := range []struct {
		name     string
		header   func(genuine string) string
		parallel bool
	}{
		{"a chunk alone", func(g string) string { return "session=" + g + "; session.1=dGFpbA" }, true},
		{"two values of the name", func(g string) string { return "session=junk; session=" + g }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{MaxChunks: 2})
			genuine := loginToken(t, f, "victim")
			f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = cookiesession.FromContext(r.Context()).GetString("user")
			})).ServeHTTP(httptest.NewRecorder(), tossedRequest(tc.header(genuine)))
			got := f.log.lines("level=WARN")
			if len(got) != 1 || strings.Contains(got[0], "parallel responses") != tc.parallel || !strings.Contains(got[0], "cookie tossing") {
				t.Errorf("want one Warn naming tossing, and parallel responses %v; log:\n%s", tc.parallel, f.log)
			}
		})
	}
}

// TestTossedExpiredTokenLendsNoLifetime: the genuine session, found after
// an authentic but expired token of the name (the user's own old
// "remember me" cookie left under another Path, or one an attacker
// signed in to), opens with its own lifetime. The expired token's was
// read before its deadline refused it, and the genuine one, sealed as
// version 1, carries none to replace it.
func TestTossedExpiredTokenLendsNoLifetime(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if err := s.SetLifetime(cookiesession.Lifetime{MaxAge: time.Hour, BrowserSession: true}); err != nil {
			t.Fatal(err)
		}
		if err := s.Set("user", "mallory"); err != nil {
			t.Fatal(err)
		}
	})
	if b.vals["session"] == "" {
		t.Fatal("no session cookie issued")
	}
	f.clock.Advance(2 * time.Hour)
	genuine := loginToken(t, f, "victim")
	s, err := f.m.Load(tossedRequest("session=" + b.vals["session"] + "; session=" + genuine))
	if err != nil || s.GetString("user") != "victim" || s.Lifetime() != (cookiesession.Lifetime{}) {
		t.Errorf("Load: user %q, lifetime %+v, err %v; want victim's session with no lifetime of its own", s.GetString("user"), s.Lifetime(), err)
	}
}

// TestRepeatedCookieIsOneCookie: a cookie sent twice with one value is one
// cookie, not a tossed one. A Lambda function URL's event carries every
// cookie both in its cookies array and in headers.cookie, and
// aws-lambda-go-api-proxy adds both to the request, so each chunk comes
// twice on every request. Taken for two cookies of the name, that logged
// the tossing Warn on every instance, and a refused cookie was never
// cleared: the browser sent it, refused, on every request. A repeat has
// nothing of an attacker's choosing, so neither is needed; a second,
// different value still is a tossed cookie.
func TestRepeatedCookieIsOneCookie(t *testing.T) {
	const tossed = "two cookies of the session's name"
	for _, tc := range []struct {
		name    string
		chunked bool                       // a session over session and session.1
		lines   func(a, b string) []string // the Cookie lines for chunks a and b
		warn    bool                       // a tossed cookie: logged, and kept when refused
	}{
		{"one cookie twice", false, func(a, _ string) []string { return []string{"session=" + a + "; session=" + a} }, false},
		{"quoted repeat", false, func(a, _ string) []string { return []string{"session=" + a + `; session="` + a + `"`} }, false},
		{"2999 repeats", false, func(a, _ string) []string { return []string{strings.Repeat("session="+a+"; ", 2998) + "session=" + a} }, false},
		{"two chunks as a function URL's proxy sends them", true, func(a, b string) []string {
			return []string{"session=" + a, "session.1=" + b, "session=" + a + "; session.1=" + b}
		}, false},
		{"a repeat, then junk", false, func(a, _ string) []string { return []string{"session=" + a + "; session=" + a + "; session=junk"} }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chunked := tc.chunked
			opts := cookiesession.Options{MaxAge: time.Hour}
			if chunked {
				opts.MaxChunks = 2
			}
			f := newFixture(t, opts)
			b := newClientCookies()
			f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				s := cookiesession.FromContext(r.Context())
				if err := s.Set("user", "victim"); err != nil {
					t.Fatal(err)
				}
				if chunked {
					if err := s.Set("pad", strings.Repeat("p", 5000)); err != nil {
						t.Fatal(err)
					}
				}
			})
			if chunked != (b.vals["session.1"] != "") {
				t.Fatalf("cookies %v", b.names())
			}
			serve := func() (user string, h http.Header) {
				r := tossedRequest("")
				r.Header["Cookie"] = tc.lines(b.vals["session"], b.vals["session.1"])
				rec := httptest.NewRecorder()
				f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					user = cookiesession.FromContext(r.Context()).GetString("user")
				})).ServeHTTP(rec, r)
				return user, rec.Header()
			}
			if user, h := serve(); user != "victim" || len(h["Set-Cookie"]) != 0 {
				t.Errorf("user %q, Set-Cookie %q; want \"victim\" and none", user, h["Set-Cookie"])
			}
			f.clock.Advance(2 * time.Hour) // past MaxAge: refused as expired
			user, h := serve()
			if user != "" {
				t.Errorf("an expired session gave user %q", user)
			}
			switch {
			case tc.warn && len(h["Set-Cookie"]) != 0:
				t.Errorf("Set-Cookie %q; want none: a tossed cookie's request is not cleared", h["Set-Cookie"])
			case !tc.warn && chunked:
				requireCleared(t, h, "session", "session.1")
			case !tc.warn:
				requireCleared(t, h, "session")
			}
			if got := strings.Contains(f.log.String(), tossed); got != tc.warn {
				t.Errorf("logged %q: %v, want %v; log:\n%s", tossed, got, tc.warn, f.log)
			}
		})
	}
}

// TestTossedCookiesOnADeepPage: a sibling host can toss one cookie of the
// session's name for each parent path of a deep page (/a, /a/, /a/b, ...)
// and one for each parent domain. The browser sends the longer paths
// first, then the Path=/ ones, oldest first, so the session's own cookie
// comes after many of junk, and may be followed by one more (tossed after
// the login). It must still be found, and not cleared. README states the
// bound: the first five and the last four cookies of the name are tried,
// so one in the middle of a hand-made flood is not, and is not cleared.
func TestTossedCookiesOnADeepPage(t *testing.T) {
	for _, tc := range []struct {
		name           string
		before, behind int // tossed cookies before and after the genuine one
		missed         bool
	}{
		{"5 longer paths", 5, 0, false},
		{"12 longer paths", 12, 0, false},
		{"12 longer paths, a parent domain's after it", 12, 1, false},
		{"12 longer paths, three parent domains' after it", 12, 3, false},
		{"fifth of the name, eight after it", 4, 8, false},
		{"sixth of the name, five after it", 5, 5, true},
		{"fifth from the last, twelve before it", 12, 4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			genuine := loginToken(t, f, "victim")
			forged := genuine[:60] + string(genuine[60]^1) + genuine[61:] // under a key the ring holds
			header := strings.Repeat("session="+forged+"; ", tc.before) + "session=" + genuine + strings.Repeat("; session="+forged, tc.behind)
			rec := httptest.NewRecorder()
			var user string
			f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				user = cookiesession.FromContext(r.Context()).GetString("user")
			})).ServeHTTP(rec, tossedRequest(header))
			if want := map[bool]string{false: "victim"}[tc.missed]; user != want {
				t.Errorf("the handler saw user %q; want %q", user, want)
			}
			if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
				t.Errorf("Set-Cookie %q; want none", got)
			}
		})
	}
}

// TestTossedCookieKeepsUnknownKey: when no cookie of the request opens,
// the one under a key this instance lacks (a newer ring's) is kept, as it
// is when it comes alone: the tossed junk before it must not get it
// cleared.
func TestTossedCookieKeepsUnknownKey(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	other := newFixture(t, cookiesession.Options{})
	other.ring = ringOf(t, keyB)
	other.m = other.manager(cookiesession.Options{})
	newer := loginToken(t, other, "victim")
	rec := httptest.NewRecorder()
	f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).GetString("user")
	})).ServeHTTP(rec, tossedRequest("session=junk; session="+newer))
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Set-Cookie %q; want none: the cookie under the unknown key stays", got)
	}
}

// TestTossedValidSessionIsLoginCSRF shows what no reader can tell apart:
// an attacker's own genuine session, tossed before the victim's, is a
// session the server sealed. The first that opens is taken, so the victim
// acts as the attacker (login CSRF) on the requests the tossed cookie
// reaches. Only a __Host- name, which no other host can set, prevents it
// (README, "Cookie tossing"); the Warn tells the operator it happens.
func TestTossedValidSessionIsLoginCSRF(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	victim, attacker := loginToken(t, f, "victim"), loginToken(t, f, "attacker")
	var user string
	f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user = cookiesession.FromContext(r.Context()).GetString("user")
	})).ServeHTTP(httptest.NewRecorder(), tossedRequest("session="+attacker+"; session="+victim))
	if user != "attacker" {
		t.Fatalf("user %q; the first genuine session is taken", user)
	}
	if !strings.Contains(f.log.String(), "__Host-") {
		t.Errorf("the duplicate cookie was not logged with the __Host- fix; log:\n%s", f.log)
	}
	if _, err := cookiesession.New(f.ring, cookiesession.Options{Name: "__Host-session"}); err != nil {
		t.Fatalf("the README's fix does not build: %v", err)
	}
}

// TestPlantedValuesSurviveRenew shows what the README's "Logout, privilege
// drops and replays" warns of: a session planted in the victim's browser
// before the login (tossed, without a __Host- name, or left on a shared
// computer) keeps its values through Renew, which keeps the data by
// design. The planter chose them: a CSRF token kept in the session is one
// the attacker knows after the victim signs in, unless the login replaces
// it or clears the session before Renew.
func TestPlantedValuesSurviveRenew(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	attacker := newClientCookies()
	f.serve(attacker, func(w http.ResponseWriter, r *http.Request) {
		if err := cookiesession.FromContext(r.Context()).Set("csrf", "known-to-the-attacker"); err != nil {
			t.Fatal(err)
		}
	})
	for _, tc := range []struct {
		name  string
		login func(s *cookiesession.Session)
		want  string
	}{
		{"Renew keeps the planted token", func(s *cookiesession.Session) { s.Renew() }, "known-to-the-attacker"},
		{"Clear, then Renew", func(s *cookiesession.Session) { s.Clear(); s.Renew() }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			victim := attacker.clone() // the planted cookie
			f.serve(victim, func(w http.ResponseWriter, r *http.Request) {
				s := cookiesession.FromContext(r.Context())
				tc.login(s)
				if err := s.Set("user", "victim"); err != nil {
					t.Fatal(err)
				}
			})
			var user, csrf string
			f.serve(victim, func(w http.ResponseWriter, r *http.Request) {
				s := cookiesession.FromContext(r.Context())
				user, csrf = s.GetString("user"), s.GetString("csrf")
			})
			if user != "victim" || csrf != tc.want {
				t.Errorf("after the login: user %q, csrf %q; want \"victim\" and %q", user, csrf, tc.want)
			}
		})
	}
}

// TestReplayAfterLogoutAndPrivilegeDrop shows what the README's "Logout,
// privilege drops and replays" states: with no store, Destroy expires the
// cookie in the browser that sent the request, and a role deleted from
// the values is gone from the new cookie, but a copy of an older cookie
// still opens, with its values, until its deadline. Only Validate, with a
// record of ended session ids or a per-user counter, refuses it
// (ExampleOptions_validateLogout, ExampleOptions_validate).
func TestReplayAfterLogoutAndPrivilegeDrop(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if err := s.Set("user", "ada"); err != nil {
			t.Fatal(err)
		}
		if err := s.Set("role", "admin"); err != nil {
			t.Fatal(err)
		}
	})
	admin := b.clone()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { cookiesession.FromContext(r.Context()).Delete("role") })
	demoted := b.clone()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { cookiesession.FromContext(r.Context()).Destroy() })
	if len(b.vals) != 0 {
		t.Fatalf("Destroy left cookies %v", b.vals)
	}
	var role, user, adminID, demotedID string
	f.serve(admin, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		role, adminID = s.GetString("role"), s.ID()
	})
	f.serve(demoted, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		user, demotedID = s.GetString("user"), s.ID()
	})
	if role != "admin" || user != "ada" {
		t.Errorf("replayed after logout: role %q, user %q; the limit the README states has changed", role, user)
	}
	if adminID != demotedID {
		t.Errorf("one session's cookies carry ids %s and %s; a revocation list keyed by Session.ID needs one", adminID, demotedID)
	}
}

// TestSharedRingAcrossApps: the associated data binds a token to its
// cookie name and key, not to an app. Two apps that share a ring and a
// name (admin.example.com and www.example.com, both "session") open each
// other's cookies, so a value one of them lets a user store (the demo's
// login stores any user name) is believed by the other. Distinct names,
// or a ring per app, keep them apart (README, "Security model").
func TestSharedRingAcrossApps(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	token := loginToken(t, f, "anyone")
	same := f.manager(cookiesession.Options{})
	if _, err := same.Codec().OpenAt(token, f.clock.Now()); err != nil {
		t.Errorf("another app with the same ring and name: %v; want it opened", err)
	}
	other := f.manager(cookiesession.Options{Name: "admin_session"})
	if _, err := other.Codec().OpenAt(token, f.clock.Now()); !errors.Is(err, cookiesession.ErrInvalid) {
		t.Errorf("another app with the same ring and another name: %v; want ErrInvalid", err)
	}
}
