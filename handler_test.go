package cookiesession_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"weak"

	"github.com/google/go-cmp/cmp"

	"github.com/seed-ff2808ae/cookiesession"
)

// ---- handlers the tests share ------------------------------------------

// sessionOf returns the session the middleware put in the request.
func sessionOf(t testing.TB, r *http.Request) *cookiesession.Session {
	t.Helper()
	s := cookiesession.FromContext(r.Context())
	if s == nil {
		t.Fatal("no session in the request context")
	}
	return s
}

// setString is a handler that stores key=val.
func setString(t testing.TB, key, val string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := sessionOf(t, r).Set(key, val); err != nil {
			t.Errorf("Set: %v", err)
		}
	}
}

// observed is what a handler saw of its session.
type observed struct {
	isNew   bool
	user    string
	len     int
	id      string
	created time.Time
}

// observe returns a handler that records the session into o, then replies
// with status.
func observe(t testing.TB, o *observed, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		*o = observed{isNew: s.IsNew(), user: s.GetString("user"), len: s.Len(), id: s.ID(), created: s.CreatedAt()}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "ok")
	}
}

func noopHandler(http.ResponseWriter, *http.Request) {}

// ---- when Set-Cookie is sent -------------------------------------------

func TestEndToEndCookieOnlyOnceStored(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, sessionOf(t, r).GetString("user"))
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		setString(t, "user", r.URL.Query().Get("v"))(w, r)
	})
	srv := newTLSServer(t, f.m.Handler(mux))
	c := srv.client(t)

	steps := []struct {
		path      string
		wantBody  string
		wantSetCk bool
	}{
		{"/read", "", false},
		{"/read", "", false},
		{"/set?v=alice", "", true},
		{"/read", "alice", false},
		{"/read", "alice", false},
		{"/set?v=bob", "", true},
		{"/read", "bob", false},
	}
	for i, st := range steps {
		resp, body := fetch(t, c, srv.URL+st.path)
		setCk := len(resp.Header.Values("Set-Cookie")) > 0
		if resp.StatusCode != http.StatusOK || body != st.wantBody || setCk != st.wantSetCk {
			t.Errorf("step %d %s: status %d body %q Set-Cookie %v; want 200 %q %v",
				i, st.path, resp.StatusCode, body, setCk, st.wantBody, st.wantSetCk)
		}
		if i < 2 && srv.jarValue(t, c, "session") != "" {
			t.Errorf("step %d: the jar holds a session cookie before anything was stored", i)
		}
	}
}

// TestSetCookieOnlyWhenNeeded walks the documented reasons for a Set-Cookie
// (change, Renew, Destroy, Touch, due refresh, old-key re-seal, clearing a
// refused cookie) and the requests that must not send one.
func TestSetCookieOnlyWhenNeeded(t *testing.T) {
	readAll := func(s *cookiesession.Session) {
		s.Get("user")
		s.GetString("user")
		s.GetInt("user")
		s.Has("user")
		s.Keys()
		s.Len()
		s.ID()
		s.IsNew()
		s.CreatedAt()
		s.ExpiresAt()
		s.KeyID()
		s.Flashes()
		s.Pop("missing")
		s.PopString("missing")
		s.Delete("missing")
		_, _ = cookiesession.GetAs[string](s, "user")
		_, _ = s.GetJSON("missing", new(any))
	}
	rotate := func(f *fixture, _ *clientCookies) {
		k2 := keyForID(f.t, keyB)
		if err := f.ring.Add(k2); err != nil {
			f.t.Fatal(err)
		}
		if err := f.ring.Promote(k2.ID()); err != nil {
			f.t.Fatal(err)
		}
	}
	advance := func(d time.Duration) func(*fixture, *clientCookies) {
		return func(f *fixture, _ *clientCookies) { f.clock.Advance(d) }
	}
	tests := []struct {
		name     string
		noCookie bool // the client holds no session cookie
		before   func(*fixture, *clientCookies)
		act      func(*cookiesession.Session)
		want     bool
	}{
		{name: "no cookie, handler does nothing", noCookie: true, act: func(*cookiesession.Session) {}},
		{name: "no cookie, plain read", noCookie: true, act: readAll},
		{name: "no cookie, Touch and Renew", noCookie: true, act: func(s *cookiesession.Session) { s.Touch(); s.Renew() }},
		{name: "no cookie, Set then Delete", noCookie: true, act: func(s *cookiesession.Session) {
			mustSet(t, s, "x", 1)
			s.Delete("x")
		}},
		{name: "no cookie, Destroy", noCookie: true, act: (*cookiesession.Session).Destroy},
		{name: "no cookie, Set", noCookie: true, act: func(s *cookiesession.Session) { mustSet(t, s, "x", 1) }, want: true},
		{name: "handler does nothing", act: func(*cookiesession.Session) {}},
		{name: "plain read", act: readAll},
		{name: "read before refresh is due", before: advance(time.Minute), act: readAll},
		{name: "Set", act: func(s *cookiesession.Session) { mustSet(t, s, "x", 1) }, want: true},
		{name: "Set of the value it holds", act: func(s *cookiesession.Session) { mustSet(t, s, "user", "alice") }},
		{name: "Delete", act: func(s *cookiesession.Session) { s.Delete("user") }, want: true},
		{name: "PopString", act: func(s *cookiesession.Session) { s.PopString("user") }, want: true},
		{name: "AddFlash", act: func(s *cookiesession.Session) { s.AddFlash("hi") }, want: true},
		{name: "Clear", act: (*cookiesession.Session).Clear, want: true},
		{name: "Renew", act: (*cookiesession.Session).Renew, want: true},
		{name: "Destroy", act: (*cookiesession.Session).Destroy, want: true},
		{name: "Touch", act: (*cookiesession.Session).Touch, want: true},
		{name: "due refresh", before: advance(6 * time.Minute), act: readAll, want: true},
		{name: "old-key re-seal", before: rotate, act: readAll, want: true},
		{name: "refused cookie cleared", before: func(_ *fixture, b *clientCookies) { b.vals["session"] = "not-a-token" },
			act: readAll, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{IdleTimeout: 10 * time.Minute})
			b := newClientCookies()
			if !tt.noCookie {
				f.serve(b, setString(t, "user", "alice"))
				if b.vals["session"] == "" {
					t.Fatal("no cookie issued for a stored value")
				}
			}
			if tt.before != nil {
				tt.before(f, b)
			}
			resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) { tt.act(sessionOf(t, r)) })
			got := resp.Header.Values("Set-Cookie")
			if (len(got) > 0) != tt.want {
				t.Errorf("Set-Cookie = %q, want a cookie: %v", got, tt.want)
			}
		})
	}
}

// ---- lifetime ----------------------------------------------------------

func TestMaxAgeEnforcedOnReplay(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxAge: time.Hour})
	t0 := f.clock.Now()
	b := newClientCookies()
	f.serve(b, setString(t, "user", "alice"))
	kept := b.clone() // the client keeps the raw cookie whatever Max-Age says

	var o observed
	f.advanceTo(t0, time.Hour-time.Second)
	resp := f.serve(b, observe(t, &o, http.StatusOK))
	if o.isNew || o.user != "alice" || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("one second before MaxAge: %+v, Set-Cookie %q", o, resp.Header.Values("Set-Cookie"))
	}

	f.advanceTo(t0, time.Hour)
	resp = f.serve(kept, observe(t, &o, http.StatusOK))
	if !o.isNew || o.user != "" || o.len != 0 {
		t.Errorf("replayed after MaxAge: got %+v, want a fresh empty session", o)
	}
	requireCleared(t, resp.Header, "session")
	if !strings.Contains(f.log.String(), "expired") {
		t.Errorf("expiry not logged:\n%s", f.log)
	}
}

// refreshStep is one request of a rolling-refresh scenario: at start+at,
// sent from the given browser.
type refreshStep struct {
	at          time.Duration
	from        *clientCookies
	wantCookie  bool          // a new session cookie is issued
	wantExpires time.Duration // the new token's deadline, from start
	wantFresh   bool          // the cookie was refused
}

func runRefreshSteps(t *testing.T, f *fixture, t0 time.Time, steps []refreshStep) {
	t.Helper()
	for _, st := range steps {
		f.advanceTo(t0, st.at)
		var o observed
		resp := f.serve(st.from, observe(t, &o, http.StatusOK))
		got := ourCookies(t, resp.Header, "session")["session"]
		switch {
		case st.wantFresh:
			if !o.isNew || o.user != "" {
				t.Errorf("+%v: got %+v, want a fresh session", st.at, o)
			}
			requireCleared(t, resp.Header, "session")
		case !st.wantCookie:
			if got != nil || o.user != "alice" {
				t.Errorf("+%v: user %q, Set-Cookie %v; want alice and no cookie", st.at, o.user, got)
			}
		default:
			checkRefreshed(t, f, t0, st, got, o)
		}
	}
}

func checkRefreshed(t *testing.T, f *fixture, t0 time.Time, st refreshStep, got *http.Cookie, o observed) {
	t.Helper()
	if got == nil || got.MaxAge <= 0 || o.user != "alice" {
		t.Errorf("+%v: user %q, Set-Cookie %v; want alice and a refreshed cookie", st.at, o.user, got)
		return
	}
	rec := f.open(got.Value)
	if want := t0.Add(st.wantExpires); !rec.Expires.Equal(want) || !rec.Created.Equal(t0) {
		t.Errorf("+%v: token created %v expires %v; want created %v expires %v", st.at, rec.Created, rec.Expires, t0, want)
	}
	if want := int((st.wantExpires - st.at) / time.Second); got.MaxAge != want {
		t.Errorf("+%v: Max-Age %d, want %d", st.at, got.MaxAge, want)
	}
}

// TestMaxAgeLastSecond: less than a second before the token's deadline, a
// cookie written then (a change under SkipRefresh keeps the deadline) gets
// Max-Age=1, not a Max-Age=0 that would delete it.
func TestMaxAgeLastSecond(t *testing.T) {
	f := newFixture(t, cookiesession.Options{IdleTimeout: 30 * time.Minute})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, cookiesession.FromContext(r.Context()), "user", "ada")
	})
	f.clock.Advance(30*time.Minute - 500*time.Millisecond)
	resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.SkipRefresh()
		mustSet(t, s, "user", "bob")
	})
	if c := ourCookies(t, resp.Header, "session")["session"]; c == nil || c.MaxAge != 1 {
		t.Fatalf("Set-Cookie %q, want the session with Max-Age=1", resp.Header.Values("Set-Cookie"))
	}
}

// TestMaxAgeRoundsDown: a cookie's Max-Age is the whole seconds its token
// has left, rounded down, whether the request starts on a second or
// part-way through one.
func TestMaxAgeRoundsDown(t *testing.T) {
	for _, tt := range []struct {
		into time.Duration // how far into the second the request starts
		want int
	}{
		{0, 3600},
		{time.Nanosecond, 3599},
		{500 * time.Millisecond, 3599},
		{time.Second - time.Nanosecond, 3599},
	} {
		f := newFixture(t, cookiesession.Options{MaxAge: time.Hour})
		f.advanceTo(fixedNow, tt.into)
		resp := f.serve(newClientCookies(), setString(t, "user", "alice"))
		if got := ourCookies(t, resp.Header, "session")["session"]; got == nil || got.MaxAge != tt.want {
			t.Errorf("%v into the second: Set-Cookie %v, want Max-Age %d", tt.into, got, tt.want)
		}
	}
}

func TestIdleTimeoutSlidesWithThrottledRefresh(t *testing.T) {
	f := newFixture(t, cookiesession.Options{IdleTimeout: 10 * time.Minute, RefreshThreshold: 0.5})
	t0 := f.clock.Now()
	b := newClientCookies()
	f.serve(b, setString(t, "user", "alice"))
	first := b.clone()
	if got := f.open(first.vals["session"]).Expires; !got.Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("first token expires %v, want %v", got, t0.Add(10*time.Minute))
	}
	runRefreshSteps(t, f, t0, []refreshStep{
		{at: time.Minute, from: b},
		{at: 5 * time.Minute, from: b}, // exactly half the window left: not yet
		{at: 6 * time.Minute, from: b, wantCookie: true, wantExpires: 16 * time.Minute},
		{at: 7 * time.Minute, from: b},
		// The first token still holds until its own deadline; with a minute
		// left it is due for a refresh too.
		{at: 9 * time.Minute, from: first.clone(), wantCookie: true, wantExpires: 19 * time.Minute},
		{at: 10 * time.Minute, from: first.clone(), wantFresh: true},
		{at: 15 * time.Minute, from: b, wantCookie: true, wantExpires: 25 * time.Minute},
		{at: 25 * time.Minute, from: b, wantFresh: true}, // idle for a whole window
	})
}

func TestRefreshNeverPastMaxAge(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxAge: 15 * time.Minute, IdleTimeout: 10 * time.Minute})
	t0 := f.clock.Now()
	b := newClientCookies()
	f.serve(b, setString(t, "user", "alice"))
	runRefreshSteps(t, f, t0, []refreshStep{
		{at: 6 * time.Minute, from: b, wantCookie: true, wantExpires: 15 * time.Minute},
		{at: 11 * time.Minute, from: b}, // due, but a re-seal could not move the deadline
		{at: 14*time.Minute + 59*time.Second, from: b},
		{at: 15 * time.Minute, from: b, wantFresh: true},
	})
}

// TestRefreshAllowsClockSkew: an instance whose clock is behind the one
// that sealed the cookie sees more than the idle window left. Within the
// minute of skew allowed, that is no cause to re-seal, or every request to
// it would carry Set-Cookie.
func TestRefreshAllowsClockSkew(t *testing.T) {
	opts := cookiesession.Options{IdleTimeout: 10 * time.Minute}
	f := newFixture(t, opts)
	b := newClientCookies()
	f.serve(b, setString(t, "user", "alice"))
	for _, behind := range []time.Duration{time.Second, cookiesession.ClockSkew} {
		opts.Now = func() time.Time { return f.clock.Now().Add(-behind) }
		resp := serveWith(t, f.manager(opts), b.clone(), func(w http.ResponseWriter, r *http.Request) { _ = sessionOf(t, r).GetString("user") })
		if lines := resp.Header.Values("Set-Cookie"); len(lines) != 0 {
			t.Errorf("an instance %v behind re-sealed a fresh cookie: %q", behind, lines)
		}
	}
}

func TestTouchForcesRefresh(t *testing.T) {
	f := newFixture(t, cookiesession.Options{IdleTimeout: 10 * time.Minute})
	t0 := f.clock.Now()
	b := newClientCookies()
	f.serve(b, setString(t, "user", "alice"))
	before := f.open(b.vals["session"])

	f.advanceTo(t0, time.Minute)
	resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) { sessionOf(t, r).Touch() })
	got := ourCookies(t, resp.Header, "session")["session"]
	if got == nil {
		t.Fatal("Touch sent no cookie")
	}
	rec := f.open(got.Value)
	if !rec.Expires.Equal(t0.Add(11*time.Minute)) || rec.ID != before.ID || !rec.Created.Equal(t0) || got.MaxAge != 600 {
		t.Errorf("after Touch: id %v created %v expires %v Max-Age %d; want id %v created %v expires %v Max-Age 600",
			rec.ID, rec.Created, rec.Expires, got.MaxAge, before.ID, t0, t0.Add(11*time.Minute))
	}
}

func TestShortenedMaxAgeAppliesAtOnce(t *testing.T) {
	f := newFixture(t, cookiesession.Options{}) // 24h
	t0 := f.clock.Now()
	old := newClientCookies()
	f.serve(old, setString(t, "user", "alice"))

	f.advanceTo(t0, 90*time.Minute)
	recent := newClientCookies()
	f.serve(recent, setString(t, "user", "alice"))

	f.advanceTo(t0, 2*time.Hour)
	var o observed
	if f.serve(old.clone(), observe(t, &o, http.StatusOK)); o.user != "alice" {
		t.Fatalf("under the old MaxAge the session must still be valid, got %+v", o)
	}
	short := f.manager(cookiesession.Options{MaxAge: time.Hour})
	resp := serveWith(t, short, old, observe(t, &o, http.StatusOK))
	if !o.isNew || o.user != "" {
		t.Errorf("2h-old session under MaxAge 1h: got %+v, want fresh", o)
	}
	requireCleared(t, resp.Header, "session")
	if _, err := short.Load(recent.request("/")); err != nil {
		t.Errorf("30m-old session under MaxAge 1h refused: %v", err)
	}
	f.advanceTo(t0, 150*time.Minute)
	if _, err := short.Load(recent.request("/")); !errors.Is(err, cookiesession.ErrExpired) {
		t.Errorf("60m-old session under MaxAge 1h: err %v, want ErrExpired", err)
	}
}

// TestSessionEndingDuringRequest: a session whose MaxAge ends while its
// request runs is saved as of the request's start, so neither a change nor
// the re-seal of an old-key token under the new primary turns into a 500.
func TestSessionEndingDuringRequest(t *testing.T) {
	tests := []struct {
		name    string
		left    time.Duration // the session's life left when the request starts
		rotate  bool          // promote a new key before the request
		act     func(*cookiesession.Session) error
		wantN   any
		wantKey uint32
	}{
		{"changed", 500 * time.Millisecond, false, func(s *cookiesession.Session) error { return s.Set("n", 2) }, 2, keyA},
		{"re-keyed", 100 * time.Millisecond, true, func(s *cookiesession.Session) error { s.Get("n"); return nil }, 1, keyB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var handled error
			f := newFixture(t, cookiesession.Options{MaxAge: time.Hour,
				ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
					handled = err
					http.Error(w, "boom", http.StatusInternalServerError)
				}})
			t0 := f.clock.Now()
			b := newClientCookies()
			f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				if err := sessionOf(t, r).Set("n", 1); err != nil {
					t.Fatal(err)
				}
			})
			if tt.rotate {
				if err := f.ring.Add(keyForID(t, keyB)); err != nil {
					t.Fatal(err)
				}
				if err := f.ring.Promote(keyB); err != nil {
					t.Fatal(err)
				}
			}
			start := t0.Add(time.Hour - tt.left)
			f.advanceTo(start, 0)
			resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				f.clock.Advance(time.Second) // the handler outlives the session
				if err := tt.act(s); err != nil {
					t.Error(err)
				}
				_, _ = io.WriteString(w, "done")
			})
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != http.StatusOK || string(body) != "done" || handled != nil {
				t.Fatalf("response %d %q (%v), ErrorHandler got %v; want the handler's 200", resp.StatusCode, body, err, handled)
			}
			got := ourCookies(t, resp.Header, "session")["session"]
			if got == nil || got.MaxAge != 1 {
				t.Fatalf("Set-Cookie %v, want the session re-sealed with Max-Age=1", got)
			}
			rec, err := f.m.Codec().OpenAt(got.Value, start)
			if err != nil {
				t.Fatalf("the re-sealed token does not open at the request's start: %v", err)
			}
			if n, _ := rec.Values.Get("n"); n != tt.wantN || rec.KeyID != tt.wantKey || !rec.Expires.Equal(t0.Add(time.Hour)) {
				t.Errorf("token holds n=%v under key %08x, expires %v; want n=%v under %08x, expires %v",
					n, rec.KeyID, rec.Expires, tt.wantN, tt.wantKey, t0.Add(time.Hour))
			}
		})
	}
}

// ---- Renew, Destroy, key rotation --------------------------------------

func TestRenewKeepsDataChangesIDAndCreated(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	t0 := f.clock.Now()
	b := newClientCookies()
	f.serve(b, setString(t, "user", "alice"))
	before := f.open(b.vals["session"])

	f.advanceTo(t0, 5*time.Minute)
	var idBefore, idAfter string
	var isNew bool
	resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		idBefore = s.ID()
		s.Renew()
		idAfter, isNew = s.ID(), s.IsNew()
	})
	got := ourCookies(t, resp.Header, "session")["session"]
	if got == nil {
		t.Fatal("Renew sent no cookie")
	}
	after := f.open(got.Value)
	if idBefore != before.ID.String() || idAfter == idBefore || after.ID.String() != idAfter || !isNew {
		t.Errorf("ids: cookie %v, before Renew %s, after Renew %s (IsNew %v), new cookie %v",
			before.ID, idBefore, idAfter, isNew, after.ID)
	}
	if !after.Created.Equal(t0.Add(5*time.Minute)) || !after.Expires.Equal(t0.Add(5*time.Minute+24*time.Hour)) {
		t.Errorf("renewed token created %v expires %v, want a lifetime starting at +5m", after.Created, after.Expires)
	}
	if v, _ := after.Values.Get("user"); v != "alice" {
		t.Errorf("Renew lost the data: user = %v", v)
	}
}

func TestOldKeyTokenResealedUnderPrimary(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	t0 := f.clock.Now()
	b := newClientCookies()
	f.serve(b, setString(t, "user", "alice"))
	orig := f.open(b.vals["session"])
	if orig.KeyID != keyA {
		t.Fatalf("issued under %08x, want %08x", orig.KeyID, keyA)
	}

	// Added but not promoted: nothing to do yet.
	k2 := keyForID(t, keyB)
	if err := f.ring.Add(k2); err != nil {
		t.Fatal(err)
	}
	if resp := f.serve(b, noopHandler); len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("re-sealed before the new key was promoted: %q", resp.Header.Values("Set-Cookie"))
	}

	if err := f.ring.Promote(keyB); err != nil {
		t.Fatal(err)
	}
	f.advanceTo(t0, time.Hour)
	var o observed
	resp := f.serve(b, observe(t, &o, http.StatusOK))
	got := ourCookies(t, resp.Header, "session")["session"]
	if o.user != "alice" || o.isNew || got == nil {
		t.Fatalf("old-key cookie: saw %+v, Set-Cookie %v; want it accepted and re-sealed", o, got)
	}
	rec := f.open(got.Value)
	if rec.KeyID != keyB || rec.ID != orig.ID || !rec.Created.Equal(orig.Created) || !rec.Expires.Equal(orig.Expires) {
		t.Errorf("re-sealed token: key %08x id %v created %v expires %v; want key %08x and the original %v %v %v",
			rec.KeyID, rec.ID, rec.Created, rec.Expires, keyB, orig.ID, orig.Created, orig.Expires)
	}
	if got.MaxAge != int((23 * time.Hour).Seconds()) {
		t.Errorf("re-sealed Max-Age %d, want the remaining 23h", got.MaxAge)
	}
	if resp := f.serve(b, noopHandler); len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("re-sealed again: %q", resp.Header.Values("Set-Cookie"))
	}
}

// ---- refused cookies ---------------------------------------------------

func flipMiddle(token string) string {
	i := len(token) / 2
	c := byte('A')
	if token[i] == c {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

// truncateRaw cuts bytes off the end of the sealed bytes, keeping the
// base64 canonical, so that the codec gets as far as authentication.
func truncateRaw(t testing.TB, token string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(raw[:len(raw)-3])
}

// sealWith seals {user: mallory} with a codec for ring and name.
func sealWith(t testing.TB, ring *cookiesession.KeyRing, name string, now time.Time) string {
	t.Helper()
	codec, err := cookiesession.NewCodec(ring, cookiesession.CodecOptions{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	rec := cookiesession.Record{}
	if err := rec.Values.Set("user", "mallory"); err != nil {
		t.Fatal(err)
	}
	token, err := codec.SealAt(&rec, now)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func TestRefusedCookies(t *testing.T) {
	const otherKey = 0x0badc0de
	tests := []struct {
		name       string
		token      func(f *fixture, valid string) string
		advance    time.Duration
		wantErr    error
		wantReason string
	}{
		{name: "tampered", token: func(_ *fixture, v string) string { return flipMiddle(v) },
			wantErr: cookiesession.ErrInvalid, wantReason: "authentication failed"},
		{name: "truncated sealed bytes", token: func(f *fixture, v string) string { return truncateRaw(f.t, v) },
			wantErr: cookiesession.ErrInvalid, wantReason: "authentication failed"},
		{name: "truncated text", token: func(_ *fixture, v string) string { return v[:len(v)/2] },
			wantErr: cookiesession.ErrInvalid},
		{name: "expired", token: func(_ *fixture, v string) string { return v }, advance: 24 * time.Hour,
			wantErr: cookiesession.ErrExpired, wantReason: "session expired at"},
		{name: "unknown key", token: func(f *fixture, _ string) string {
			return sealWith(f.t, ringOf(f.t, otherKey), "session", f.clock.Now())
		}, wantErr: cookiesession.ErrUnknownKey, wantReason: fmt.Sprintf("unknown key id %08x", otherKey)},
		{name: "misnamed", token: func(f *fixture, _ string) string {
			return sealWith(f.t, f.ring, "other", f.clock.Now())
		}, wantErr: cookiesession.ErrInvalid, wantReason: "authentication failed"},
		{name: "empty value", token: func(*fixture, string) string { return "" },
			wantErr: cookiesession.ErrInvalid},
		{name: "garbage", token: func(*fixture, string) string { return "not-a-token!" },
			wantErr: cookiesession.ErrInvalid},
		{name: "garbage of token length", token: func(*fixture, string) string { return strings.Repeat("A", 160) },
			wantErr: cookiesession.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			b := newClientCookies()
			f.serve(b, setString(t, "user", "alice"))
			b.vals["session"] = tt.token(f, b.vals["session"])
			f.clock.Advance(tt.advance)

			_, loadErr := f.m.Load(b.request("/"))
			if !errors.Is(loadErr, tt.wantErr) {
				t.Errorf("Load error %v, want %v", loadErr, tt.wantErr)
			}
			var o observed
			resp := f.serve(b, observe(t, &o, http.StatusAccepted))
			if resp.StatusCode != http.StatusAccepted || !o.isNew || o.len != 0 {
				t.Errorf("status %d, session %+v; want the handler's 202 and a fresh empty session", resp.StatusCode, o)
			}
			if tt.wantErr == cookiesession.ErrUnknownKey {
				// The key may be newer than this instance's ring: the
				// cookie stays for the instances that hold it.
				if sc := resp.Header.Values("Set-Cookie"); len(sc) != 0 {
					t.Errorf("unknown key: Set-Cookie %q, want none", sc)
				}
			} else {
				requireCleared(t, resp.Header, "session")
			}
			checkRefusalLogged(t, f.log.String(), loadErr, tt.wantReason)
			if tt.wantErr == cookiesession.ErrUnknownKey && !strings.Contains(f.log.String(), fmt.Sprintf("key_id=%08x", otherKey)) {
				t.Errorf("log lacks key_id=%08x:\n%s", otherKey, f.log)
			}
		})
	}
}

func checkRefusalLogged(t *testing.T, log string, loadErr error, reason string) {
	t.Helper()
	if loadErr == nil {
		return
	}
	if !strings.Contains(log, "level=DEBUG") || !strings.Contains(log, loadErr.Error()) || !strings.Contains(log, reason) {
		t.Errorf("log lacks a debug line with %q (and %q):\n%s", loadErr.Error(), reason, log)
	}
}

func TestRefusedCookiesOverTLSNever5xx(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	var mu sync.Mutex
	var seen []observed
	srv := newTLSServer(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var o observed
		observe(t, &o, http.StatusTeapot)(w, r)
		mu.Lock()
		seen = append(seen, o)
		mu.Unlock()
	})))
	for _, value := range []string{"x", "not-a-token!", strings.Repeat("A", 200), sealWith(t, f.ring, "other", f.clock.Now())} {
		req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(&http.Cookie{Name: "session", Value: value})
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTeapot {
			t.Errorf("cookie %.20q: status %d, want the handler's 418", value, resp.StatusCode)
		}
		requireCleared(t, resp.Header, "session")
	}
	srv.checkNoSuperfluous(t)
	for _, o := range seen {
		if !o.isNew || o.len != 0 {
			t.Errorf("handler saw %+v, want a fresh session", o)
		}
	}
}

func TestValidateDropsSession(t *testing.T) {
	generation := 1
	var validated []string
	f := newFixture(t, cookiesession.Options{Validate: func(r *http.Request, s *cookiesession.Session) error {
		validated = append(validated, s.GetString("user"))
		if s.GetInt("gen") < generation {
			return errors.New("logged out everywhere")
		}
		return nil
	}})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "user", "alice")
		mustSet(t, s, "gen", generation)
	})
	var o observed
	if f.serve(b, observe(t, &o, http.StatusOK)); o.user != "alice" {
		t.Fatalf("valid session refused: %+v", o)
	}
	generation = 2
	resp := f.serve(b, observe(t, &o, http.StatusOK))
	if !o.isNew || o.user != "" || resp.StatusCode != http.StatusOK {
		t.Errorf("revoked session: %+v status %d, want a fresh session and 200", o, resp.StatusCode)
	}
	requireCleared(t, resp.Header, "session")
	if _, ok := b.vals["session"]; ok {
		t.Error("the browser still holds the revoked cookie")
	}
	if !strings.Contains(f.log.String(), "logged out everywhere") {
		t.Errorf("Validate's reason not logged:\n%s", f.log)
	}
	if diff := cmp.Diff([]string{"alice", "alice"}, validated); diff != "" {
		t.Errorf("Validate saw (-want +got):\n%s", diff)
	}
}

// TestValidateChangeLogged checks that a Validate that changes the copy it
// is given, and passes the session, is told at Warn, once per Manager: the
// change is dropped, though Set returned nil (a "last_seen" stored there,
// a SkipRefresh for a polling path). One that reads only logs nothing.
func TestValidateChangeLogged(t *testing.T) {
	changes := map[string]func(*cookiesession.Session){
		"Set":         func(s *cookiesession.Session) { mustSet(t, s, "seen", 1) },
		"SkipRefresh": (*cookiesession.Session).SkipRefresh,
		"Destroy":     (*cookiesession.Session).Destroy,
		"SetLifetime": func(s *cookiesession.Session) {
			if err := s.SetLifetime(cookiesession.Lifetime{BrowserSession: true}); err != nil {
				t.Error(err)
			}
		},
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			var act func(*cookiesession.Session)
			f := newFixture(t, cookiesession.Options{Validate: func(r *http.Request, s *cookiesession.Session) error {
				if act != nil {
					act(s)
				}
				return nil
			}})
			b := newClientCookies()
			f.serve(b, setString(t, "user", "alice"))
			var o observed
			f.serve(b, observe(t, &o, http.StatusOK))
			if lines := f.log.lines("Validate changed"); o.user != "alice" || len(lines) != 0 {
				t.Fatalf("a Validate that reads: %+v, logged %q; want alice and nothing", o, lines)
			}
			act = change
			for range 2 {
				f.serve(b, observe(t, &o, http.StatusOK))
			}
			lines := f.log.lines("Validate changed")
			if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "fix=") {
				t.Errorf("a Validate that calls %s logged %q; want one Warn with the fix", name, lines)
			}
			if o.user != "alice" {
				t.Errorf("the handler saw %+v; want alice's session, which Validate passed", o)
			}
		})
	}
}

// TestValidateRefusalChangeLogged checks that a Validate that stores
// something in the copy it is given and then refuses the session (a
// notice for the fresh session) is told at Warn: the request gets a new
// empty session, and the value is dropped. One that only ends the copy
// (Destroy, Clear) before it refuses asks for what the refusal does, and
// logs nothing.
func TestValidateRefusalChangeLogged(t *testing.T) {
	errRevoked := errors.New("revoked")
	for name, tc := range map[string]struct {
		change func(*cookiesession.Session)
		warn   bool
	}{
		"Set":                {func(s *cookiesession.Session) { mustSet(t, s, "notice", "signed out elsewhere") }, true},
		"Set of a new value": {func(s *cookiesession.Session) { mustSet(t, s, "user", "mallory") }, true},
		"SetLifetime": {func(s *cookiesession.Session) {
			if err := s.SetLifetime(cookiesession.Lifetime{MaxAge: 2 * time.Hour}); err != nil {
				t.Error(err)
			}
		}, true},
		"Destroy": {(*cookiesession.Session).Destroy, false},
		"Clear":   {(*cookiesession.Session).Clear, false},
		// What the session held, less a value: a refusal drops it all the same.
		"Delete": {func(s *cookiesession.Session) { s.Delete("user") }, false},
	} {
		t.Run(name, func(t *testing.T) {
			refuse := false
			f := newFixture(t, cookiesession.Options{Validate: func(r *http.Request, s *cookiesession.Session) error {
				if !refuse {
					return nil
				}
				tc.change(s)
				return errRevoked
			}})
			b := newClientCookies()
			f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				s := sessionOf(t, r)
				mustSet(t, s, "user", "alice")
				mustSet(t, s, "theme", "dark")
				if err := s.SetLifetime(cookiesession.Lifetime{MaxAge: time.Hour}); err != nil {
					t.Error(err)
				}
			})
			refuse = true
			var o observed
			f.serve(b, observe(t, &o, http.StatusOK))
			if o.user != "" {
				t.Fatalf("the handler saw %+v; want the fresh session of a refused one", o)
			}
			lines := f.log.lines("Validate changed")
			if tc.warn && (len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "fix=")) ||
				!tc.warn && len(lines) != 0 {
				t.Errorf("a Validate that calls %s and refuses logged %q; want a Warn %v", name, lines, tc.warn)
			}
		})
	}
}

// TestValidateReadsRequestContext checks that Validate can reach the
// session through its request's context, as a currentUser(r) helper
// would, and finds the copy it is given, not the session whose lock is held.
func TestValidateReadsRequestContext(t *testing.T) {
	var seen []string
	f := newFixture(t, cookiesession.Options{Validate: func(r *http.Request, s *cookiesession.Session) error {
		seen = append(seen, cookiesession.FromContext(r.Context()).GetString("user"))
		if cookiesession.FromContext(r.Context()) != s {
			return errors.New("FromContext returned another session")
		}
		return nil
	}})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "alice") })
	done := make(chan observed)
	go func() {
		var o observed
		f.serve(b, observe(t, &o, http.StatusOK))
		done <- o
	}()
	select {
	case o := <-done:
		if o.user != "alice" || !slices.Equal(seen, []string{"alice"}) {
			t.Errorf("the session read as %+v, Validate saw %q; want alice both times", o, seen)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request hangs: Validate waits for the lock of the session it validates")
	}
}

// TestLoadInsideValidate checks that a currentUser(r) helper written for
// Load, called from Validate, gets the copy Validate is given: a second
// session would be opened, and validated, again, and the recursion would
// end the process with a stack overflow. It holds for a Load without the
// middleware too, whose opening runs Validate as well.
func TestLoadInsideValidate(t *testing.T) {
	var m *cookiesession.Manager
	depth := 0
	f := newFixture(t, cookiesession.Options{Validate: func(r *http.Request, s *cookiesession.Session) error {
		if depth++; depth > 1 {
			return errors.New("Validate ran inside itself")
		}
		defer func() { depth-- }()
		if got, err := m.Load(r); got != s || err != nil {
			return fmt.Errorf("Load in Validate: %p, %v; want the copy Validate got, %p", got, err, s)
		}
		if got := cookiesession.FromContext(r.Context()); got != s {
			return fmt.Errorf("FromContext in Validate: %p; want the copy Validate got, %p", got, s)
		}
		return nil
	}})
	m = f.m
	b := newClientCookies()
	f.serve(b, setString(t, "user", "ada"))
	var user string
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { user = sessionOf(t, r).GetString("user") })
	s, err := f.m.Load(b.request("/"))
	if user != "ada" || err != nil || s.GetString("user") != "ada" {
		t.Errorf("under the middleware: user %q; without it: user %q, %v; want ada and no error", user, s.GetString("user"), err)
	}
}

// TestSameManagerTwice checks that a Manager's Handler inside its own (a
// global middleware and a sub-router's) serves one session: a logout in
// the inner handler is not undone by the outer one re-sealing its copy.
func TestSameManagerTwice(t *testing.T) {
	f := newFixture(t, cookiesession.Options{IdleTimeout: 30 * time.Minute})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "ada") })
	f.clock.Advance(20 * time.Minute) // a refresh is due
	var outer, inner *cookiesession.Session
	auth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			outer = f.m.FromContext(r.Context())
			if outer.GetString("user") != "ada" {
				t.Error("the outer middleware's session lost its user")
			}
			next.ServeHTTP(w, r)
		})
	}
	logout := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner = sessionOf(t, r)
		inner.Destroy()
	})
	rec := httptest.NewRecorder()
	f.m.Handler(auth(f.m.Handler(logout))).ServeHTTP(rec, b.request("/"))
	if outer != inner {
		t.Error("the inner Handler made a second session of the same cookie")
	}
	requireCleared(t, rec.Header(), "session")
	if lines := rec.Header().Values("Set-Cookie"); len(lines) != 1 {
		t.Errorf("Set-Cookie %q, want the one line that clears the cookie", lines)
	}
}

// TestEmptiedSessionClearsCookie checks that a session whose last value is
// removed expires its cookie, as Destroy does, and that values stored again
// in the same request keep its id.
func TestEmptiedSessionClearsCookie(t *testing.T) {
	for name, empty := range map[string]func(*cookiesession.Session){
		"Delete":  func(s *cookiesession.Session) { s.Delete("user") },
		"Clear":   func(s *cookiesession.Session) { s.Clear() },
		"Pop":     func(s *cookiesession.Session) { s.Pop("user") },
		"Flashes": func(s *cookiesession.Session) { s.Delete("user"); s.AddFlash("bye"); _ = s.Flashes() },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			b := newClientCookies()
			f.serve(b, func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "ada") })
			resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) { empty(sessionOf(t, r)) })
			requireCleared(t, resp.Header, "session")
		})
	}
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	var id string
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "user", "ada")
		id = s.ID()
	})
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		s.Clear()
		mustSet(t, s, "user", "bob")
	})
	var o observed
	if f.serve(b, observe(t, &o, http.StatusOK)); o.user != "bob" || o.id != id {
		t.Errorf("after Clear and Set: %+v, want bob under id %s", o, id)
	}
}

// ---- size limit --------------------------------------------------------

func TestSaveTooLarge(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s, err := f.m.Load(httptest.NewRequest(http.MethodGet, "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("big", strings.Repeat("x", 5000)); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	err = f.m.Save(rec, httptest.NewRequest(http.MethodGet, "/", nil), s)
	if !errors.Is(err, cookiesession.ErrTooLarge) {
		t.Errorf("Save: %v, want ErrTooLarge", err)
	}
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Save of a too-large session wrote %q", got)
	}
	// Save's doc: no Set-Cookie line, only the Vary: Cookie any use calls for.
	if h := rec.Header(); len(h) != 1 || len(h["Vary"]) != 1 || h.Get("Vary") != "Cookie" {
		t.Errorf("Save of a too-large session left the header %v, want Vary: Cookie alone", h)
	}
}

// tooLargeRoutes serve /set (small), /read and one /big-* route per way a
// handler can commit a too-large session.
func tooLargeRoutes(t *testing.T, mux *http.ServeMux) {
	mux.HandleFunc("/set", setString(t, "user", "alice"))
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, sessionOf(t, r).GetString("user"))
	})
	commits := map[string]func(http.ResponseWriter){
		"writeheader": func(w http.ResponseWriter) { w.WriteHeader(http.StatusCreated) },
		"write":       func(w http.ResponseWriter) { _, _ = io.WriteString(w, "HANDLER-BODY") },
		"flush":       func(w http.ResponseWriter) { _ = http.NewResponseController(w).Flush() },
		"nothing":     func(http.ResponseWriter) {},
	}
	for name, commit := range commits {
		mux.HandleFunc("/big-"+name, func(w http.ResponseWriter, r *http.Request) {
			mustSet(t, sessionOf(t, r), "user", strings.Repeat("x", 5000))
			w.Header().Set("X-Handler", "1")
			commit(w)
			_, _ = io.WriteString(w, "HANDLER-BODY")
		})
	}
}

func TestTooLargeMiddleware(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	mux := http.NewServeMux()
	tooLargeRoutes(t, mux)
	srv := newTLSServer(t, f.m.Handler(mux))
	c := srv.client(t)
	fetch(t, c, srv.URL+"/set")
	old := srv.jarValue(t, c, "session")
	if old == "" {
		t.Fatal("no cookie for the small session")
	}
	for _, route := range []string{"writeheader", "write", "flush", "nothing"} {
		resp, body := fetch(t, c, srv.URL+"/big-"+route)
		if resp.StatusCode != http.StatusInternalServerError || strings.Contains(body, "HANDLER-BODY") {
			t.Errorf("%s: status %d body %q; want 500 and none of the handler's body", route, resp.StatusCode, body)
		}
		if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
			t.Errorf("%s: Set-Cookie %q on a failed save", route, got)
		}
		if got := srv.jarValue(t, c, "session"); got != old {
			t.Errorf("%s: the client's cookie changed", route)
		}
		if _, body := fetch(t, c, srv.URL+"/read"); body != "alice" {
			t.Errorf("%s: next request sees user %q, want the old alice", route, body)
		}
	}
	srv.checkNoSuperfluous(t)
	log := f.log.String()
	// The first at error level, the others within the minute at debug
	// (TestFloodLogsBounded).
	if strings.Count(log, "level=ERROR") != 1 || strings.Count(log, "too large") != 4 {
		t.Errorf("want four lines about a too-large session, one at error level:\n%s", log)
	}
}

func TestTooLargeCustomErrorHandler(t *testing.T) {
	var got error
	f := newFixture(t, cookiesession.Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		http.Error(w, "session too big", http.StatusRequestEntityTooLarge)
	}})
	resp := f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "big", strings.Repeat("x", 5000))
		_, _ = io.WriteString(w, "HANDLER-BODY")
	})
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(got, cookiesession.ErrTooLarge) || resp.StatusCode != http.StatusRequestEntityTooLarge ||
		strings.Contains(string(body), "HANDLER-BODY") {
		t.Errorf("ErrorHandler got %v; response %d %q", got, resp.StatusCode, body)
	}
	// README (Operators, "Sessions too large"): one of your own is called
	// in the default one's place, and nothing else is logged.
	if f.log.String() != "" || f.m.Metrics().TooLarge != 1 {
		t.Errorf("with an ErrorHandler of its own: too_large %d, log:\n%s; want 1 and nothing logged", f.m.Metrics().TooLarge, f.log)
	}
}

// TestCustomErrorHandlerGetsHandlersHeaders checks the README's scs table:
// a custom ErrorHandler gets the header map as the handler left it (its
// Location, Cache-Control and other cookies), less a Set-Cookie line of
// the session's name, since the client keeps its previous cookie, and
// with Vary: Cookie; the default ErrorHandler cleans the rest.
func TestCustomErrorHandlerGetsHandlersHeaders(t *testing.T) {
	var seen http.Header
	f := newFixture(t, cookiesession.Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		seen = w.Header().Clone()
		http.Error(w, "session too big", http.StatusInternalServerError)
	}})
	f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark"})
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "handlers"})
		mustSet(t, sessionOf(t, r), "big", strings.Repeat("x", 5000))
		http.Redirect(w, r, "/next", http.StatusSeeOther)
	})
	want := http.Header{
		"Cache-Control": {"public, max-age=600"},
		"Set-Cookie":    {"theme=dark"},
		"Location":      {"/next"},
		"Content-Type":  {"text/html; charset=utf-8"}, // http.Redirect's, for a GET
		"Vary":          {"Cookie"},
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("the ErrorHandler's header map (-want +got):\n%s", diff)
	}
}

// TestTooLargeAfterSave: Save succeeds, then the session grows too large
// before the response is committed. The ErrorHandler's 500 must not carry
// the line the first Save wrote: the client keeps its previous cookie.
func TestTooLargeAfterSave(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	f.serve(b, setString(t, "user", "alice"))
	before := b.vals["session"]
	var saveErr error
	resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		if err := s.Set("note", "small"); err != nil {
			t.Fatal(err)
		}
		saveErr = f.m.Save(w, r, s)
		if err := s.Set("big", strings.Repeat("x", 5000)); err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, "HANDLER-BODY")
	})
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if saveErr != nil {
		t.Fatalf("the first Save: %v", saveErr)
	}
	if resp.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), "HANDLER-BODY") {
		t.Errorf("status %d body %q; want 500 and none of the handler's body", resp.StatusCode, body)
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("the 500 carries Set-Cookie %q", got)
	}
	var o observed
	if f.serve(b, observe(t, &o, http.StatusOK)); b.vals["session"] != before || o.user != "alice" || o.len != 1 {
		t.Errorf("next request sees %+v (cookie changed: %v); want the previous session, user alice only",
			o, b.vals["session"] != before)
	}
}

// ---- committing the response -------------------------------------------

// commitModes are the ways a handler can commit the response after
// storing a value.
var commitModes = map[string]func(w http.ResponseWriter){
	"WriteHeader": func(w http.ResponseWriter) { w.WriteHeader(http.StatusCreated) },
	"Write":       func(w http.ResponseWriter) { _, _ = io.WriteString(w, "body") },
	"Flush":       func(w http.ResponseWriter) { w.(http.Flusher).Flush() },
	"ResponseController.Flush": func(w http.ResponseWriter) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			panic(err)
		}
	},
	"ReadFrom": func(w http.ResponseWriter) {
		if _, err := w.(io.ReaderFrom).ReadFrom(strings.NewReader("body")); err != nil {
			panic(err)
		}
	},
	"nothing": func(http.ResponseWriter) {},
}

func TestCommitSemantics(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	mux := http.NewServeMux()
	for name, commit := range commitModes {
		mux.HandleFunc("/commit/"+name, func(w http.ResponseWriter, r *http.Request) {
			mustSet(t, sessionOf(t, r), "user", name)
			commit(w)
			_, _ = io.WriteString(w, "after")
		})
	}
	mux.HandleFunc("/hints", earlyHintsHandler(t))
	mux.HandleFunc("/hijack", hijackHandler(t))
	tooLargeRoutes(t, mux)
	srv := newTLSServer(t, f.m.Handler(mux))

	for name := range commitModes {
		t.Run(name, func(t *testing.T) {
			resp, body := fetch(t, srv.client(t), srv.URL+"/commit/"+name)
			got := ourCookies(t, resp.Header, "session")["session"]
			if got == nil {
				t.Fatalf("no session cookie; headers %v", resp.Header)
			}
			if v, _ := f.userIn(got.Value); v != name || !strings.HasSuffix(body, "after") {
				t.Errorf("cookie holds %v, body %q", v, body)
			}
		})
	}
	t.Run("EarlyHints", func(t *testing.T) { checkEarlyHints(t, srv) })
	t.Run("Hijack", func(t *testing.T) { checkHijack(t, f, srv) })
	t.Run("TooLarge", func(t *testing.T) {
		c := srv.client(t)
		fetch(t, c, srv.URL+"/set")
		for _, route := range []string{"writeheader", "write", "flush", "nothing"} {
			if resp, _ := fetch(t, c, srv.URL+"/big-"+route); resp.StatusCode != http.StatusInternalServerError {
				t.Errorf("%s: status %d, want 500", route, resp.StatusCode)
			}
		}
	})
	srv.checkNoSuperfluous(t)
}

func earlyHintsHandler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "user", "hints")
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "final")
	}
}

func checkEarlyHints(t *testing.T, srv *tlsServer) {
	hints, resp := fetch1xx(t, srv.Client(), srv.URL+"/hints")
	if len(hints) != 1 || hints[0].Get("Link") == "" {
		t.Fatalf("got %d 103 responses (%v), want one with the Link header", len(hints), hints)
	}
	if sc := hints[0].Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("103 Early Hints carries Set-Cookie %q", sc)
	}
	if resp.StatusCode != http.StatusOK || ourCookies(t, resp.Header, "session")["session"] == nil {
		t.Errorf("final response %d lacks the session cookie: %v", resp.StatusCode, resp.Header)
	}
}

// hijackHandler stores a value, hijacks, and writes a raw response that
// carries whatever Set-Cookie lines the header map holds by then.
func hijackHandler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "user", "hijacker")
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprint(brw, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n")
		for _, line := range w.Header().Values("Set-Cookie") {
			fmt.Fprintf(brw, "Set-Cookie: %s\r\n", line)
		}
		fmt.Fprint(brw, "\r\nhijacked")
		if err := brw.Flush(); err != nil {
			t.Errorf("hijacked write: %v", err)
		}
	}
}

func checkHijack(t *testing.T, f *fixture, srv *tlsServer) {
	resp, body := fetch(t, srv.client(t), srv.URL+"/hijack")
	if resp.StatusCode != http.StatusOK || body != "hijacked" {
		t.Fatalf("hijacked response %d %q", resp.StatusCode, body)
	}
	got := ourCookies(t, resp.Header, "session")["session"]
	if got == nil {
		t.Fatal("the session was not committed into the header map before Hijack")
	}
	if v, _ := f.userIn(got.Value); v != "hijacker" {
		t.Errorf("hijacked response's cookie holds %v", v)
	}
}

func TestSaveAfterBodyInsideMiddleware(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	var saveErr error
	resp := f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "body first")
		s := sessionOf(t, r)
		mustSet(t, s, "user", "late")
		saveErr = f.m.Save(w, r, s)
	})
	if !errors.Is(saveErr, cookiesession.ErrHeadersWritten) {
		t.Errorf("Save after the body: %v, want ErrHeadersWritten", saveErr)
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Set-Cookie %q after the headers were sent", got)
	}
}

// TestLoadSaveAfterBodyInsideMiddleware checks that a handler written for
// Load and Save, under the same Manager's middleware, learns that a Save
// after the body cannot set the cookie: it returned nil, and the change
// was lost without a word.
func TestLoadSaveAfterBodyInsideMiddleware(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	var saveErr error
	resp := f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "body first")
		s, _ := f.m.Load(r)
		mustSet(t, s, "user", "late")
		saveErr = f.m.Save(w, r, s)
	})
	if !errors.Is(saveErr, cookiesession.ErrHeadersWritten) {
		t.Errorf("Save of Load's session after the body: %v, want ErrHeadersWritten", saveErr)
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Set-Cookie %q after the headers were sent", got)
	}
}

func TestChangeAfterCommitWarns(t *testing.T) {
	tests := []struct {
		name string
		h    http.HandlerFunc
		warn bool
	}{
		{"Set after Write", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "x")
			mustSet(t, cookiesession.FromContext(r.Context()), "user", "late")
		}, true},
		{"Renew after WriteHeader", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
			cookiesession.FromContext(r.Context()).Renew()
		}, true},
		{"read after Write", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "x")
			s := cookiesession.FromContext(r.Context())
			_, _, _ = s.GetString("user"), s.ID(), s.Keys()
		}, false},
		{"Set before Write", func(w http.ResponseWriter, r *http.Request) {
			mustSet(t, cookiesession.FromContext(r.Context()), "user", "early")
			_, _ = io.WriteString(w, "x")
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{})
			f.serve(newClientCookies(), tt.h)
			log := f.log.String()
			warned := strings.Contains(log, "level=WARN") && strings.Contains(log, "after the response was committed")
			if warned != tt.warn {
				t.Errorf("warned %v, want %v; log:\n%s", warned, tt.warn, log)
			}
			if tt.warn && !strings.Contains(log, "fix=") {
				t.Errorf("the warning names no fix; log:\n%s", log)
			}
		})
	}
	// After the middleware returned (in a goroutine the handler started,
	// or in a framework's error handler that runs later), once per session.
	f := newFixture(t, cookiesession.Options{})
	var kept *cookiesession.Session
	f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) { kept = sessionOf(t, r) })
	mustSet(t, kept, "user", "late")
	kept.Touch()
	if warns := f.log.lines("after the response was committed"); len(warns) != 1 || !strings.Contains(warns[0], "path=/") {
		t.Errorf("changes after the middleware returned: want one warning with the path, got:\n%s", f.log)
	}
	if lost := f.m.Metrics().Lost; lost["after_commit"] != 1 || lost["after_panic"] != 0 || lost["unsaved"] != 0 {
		t.Errorf("two changes of one session after the middleware returned: lost %v, want after_commit 1", lost)
	}
}

// TestChangeAfterCommitCounted: Metrics.Lost counts each session changed
// after its response was committed, once, past the Warn a minute: the
// second lost change within the minute is logged at Debug and counted.
func TestChangeAfterCommitCounted(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	late := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		s := sessionOf(t, r)
		mustSet(t, s, "user", "late")
		mustSet(t, s, "role", "late")
	}
	f.serve(newClientCookies(), late)
	f.serve(newClientCookies(), late)
	f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "early") })
	if warns := f.log.lines("level=WARN"); len(warns) != 1 {
		t.Errorf("want one Warn in the minute, got:\n%s", f.log)
	}
	if lost := f.m.Metrics().Lost; lost["after_commit"] != 2 || lost["after_panic"] != 0 || lost["unsaved"] != 0 {
		t.Errorf("two sessions changed after the commit: lost %v, want after_commit 2", lost)
	}
}

// TestChangeAfterPanicWarns checks a handler's panic: nothing is
// committed, and a change made afterwards by code that still holds the
// session (a framework's recovery: gin and echo pass it the request) is
// logged as lost rather than dropped without a word.
func TestChangeAfterPanicWarns(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	var kept *cookiesession.Session
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept = sessionOf(t, r)
		mustSet(t, kept, "user", "ada")
		panic("handler failed")
	}))
	rec := httptest.NewRecorder()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not reach the recovery")
			}
			mustSet(t, kept, "flash", "something went wrong") // as a recovery would
			rec.WriteHeader(http.StatusInternalServerError)
		}()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	}()
	if got := rec.Result().Header["Set-Cookie"]; got != nil {
		t.Errorf("the 500 after a panic carries Set-Cookie %q", got)
	}
	if lines := f.log.lines("after the handler panicked"); len(lines) != 1 || !strings.Contains(lines[0], "put the recoverer inside the session middleware") {
		t.Errorf("the change after the panic was not logged with the fix:\n%s", f.log)
	}
	if lost := f.m.Metrics().Lost; lost["after_panic"] != 1 || lost["after_commit"] != 0 {
		t.Errorf("a change after the panic: lost %v, want after_panic 1", lost)
	}
	// CommitHeader with no header map does the same for an adapter.
	s, _ := f.m.Load(httptest.NewRequest("GET", "/", nil))
	mustSet(t, s, "user", "ada")
	written := f.m.Metrics().Written
	if err := f.m.CommitHeader(nil, s, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.m.SaveHeader(http.Header{}, s); !errors.Is(err, cookiesession.ErrHeadersWritten) {
		t.Errorf("SaveHeader after CommitHeader(nil): %v, want ErrHeadersWritten", err)
	}
	if got := f.m.Metrics().Written; got != written {
		t.Errorf("CommitHeader(nil) counted %d tokens written", got-written)
	}
}

// TestPanicAfterSaveSendsNoCookie checks that a handler that saved by
// hand and then panicked gets no cookie in the recovery's 500, as one
// that did not save gets none: the half-made change went out with it.
func TestPanicAfterSaveSendsNoCookie(t *testing.T) {
	for _, fromLoad := range []bool{false, true} {
		f := newFixture(t, cookiesession.Options{})
		h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			if fromLoad {
				s, _ = f.m.Load(r)
			}
			mustSet(t, s, "user", "ada")
			if err := f.m.Save(w, r, s); err != nil {
				t.Fatal(err)
			}
			panic("handler failed")
		}))
		rec := httptest.NewRecorder()
		func() {
			defer func() {
				if recover() != nil {
					rec.WriteHeader(http.StatusInternalServerError)
				}
			}()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
		}()
		if got := rec.Result().Header["Set-Cookie"]; rec.Code != http.StatusInternalServerError || got != nil {
			t.Errorf("Load %v: the %d after a panic carries Set-Cookie %q", fromLoad, rec.Code, got)
		}
	}
}

// TestCommitHeader checks the adapters' last save: it writes what
// SaveHeader would, and after it a save fails with ErrHeadersWritten and a
// change is logged as lost, as after the middleware's commit.
func TestCommitHeader(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s, _ := f.m.Load(httptest.NewRequest("GET", "/", nil))
	mustSet(t, s, "user", "ada")
	h := http.Header{}
	if err := f.m.CommitHeader(h, s, nil); err != nil || !strings.HasPrefix(h.Get("Set-Cookie"), "session=") {
		t.Fatalf("CommitHeader: %v, Set-Cookie %q", err, h.Get("Set-Cookie"))
	}
	if got := f.open(ourCookies(t, h, "session")["session"].Value).Values; got.Len() != 1 {
		t.Errorf("the committed cookie holds %d values", got.Len())
	}
	if len(f.log.lines("after the response was committed")) != 0 {
		t.Fatalf("warned before any late change:\n%s", f.log)
	}
	mustSet(t, s, "user", "late")
	if warns := f.log.lines("after the response was committed"); len(warns) != 1 {
		t.Errorf("a change after CommitHeader: want one warning, got:\n%s", f.log)
	}
	for name, save := range map[string]func(http.Header, *cookiesession.Session) error{
		"SaveHeader": f.m.SaveHeader,
		"CommitHeader": func(h http.Header, s *cookiesession.Session) error {
			return f.m.CommitHeader(h, s, httptest.NewRequest("GET", "https://app.example/", nil))
		},
	} {
		later := http.Header{}
		if err := save(later, s); !errors.Is(err, cookiesession.ErrHeadersWritten) || len(later) != 0 {
			t.Errorf("%s after CommitHeader: %v, headers %v; want ErrHeadersWritten and none", name, err, later)
		}
	}
}

// TestCommitHeaderOfTheMiddlewaresSession: CommitHeader is the last save
// of an adapter that commits by itself. Of the middleware's session it
// returns an error and writes nothing, where it used to commit it, so that
// the middleware's own commit failed and the ErrorHandler replaced the
// handler's answer with a 500.
func TestCommitHeaderOfTheMiddlewaresSession(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "user", "ada")
		if err := f.m.CommitHeader(w.Header(), s, r); err == nil || !strings.Contains(err.Error(), "call Save or SaveHeader") {
			t.Errorf("CommitHeader of the middleware's session: %v, want an error naming Save", err)
		}
		if got := w.Header()["Set-Cookie"]; got != nil {
			t.Errorf("the refused CommitHeader wrote %q", got)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	if rec := f.open(b.vals["session"]); resp.StatusCode != http.StatusNoContent || rec.Values.Len() != 1 {
		t.Errorf("status %d, cookie %q; want 204 and the session's cookie from the middleware", resp.StatusCode, b.vals["session"])
	}
}

// ---- options -----------------------------------------------------------

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts cookiesession.Options
		says string // the option the error names, where it is not obvious
	}{
		{"__Host- without Secure", cookiesession.Options{Name: "__Host-s", DisableSecure: true}, "DisableSecure true"},
		{"__Host- with Domain", cookiesession.Options{Name: "__Host-s", Domain: "example.com"}, `Domain "example.com"`},
		{"__Host- with Path /app", cookiesession.Options{Name: "__Host-s", Path: "/app"}, `Path "/app"`},
		{"__Secure- without Secure", cookiesession.Options{Name: "__Secure-s", DisableSecure: true}, "remove DisableSecure"},
		// Browsers match the prefixes in any case, and drop these cookies.
		{"__host- without Secure", cookiesession.Options{Name: "__host-s", DisableSecure: true}, ""},
		{"__HOST- with Path /app", cookiesession.Options{Name: "__HOST-s", Path: "/app"}, ""},
		{"__secure- without Secure", cookiesession.Options{Name: "__secure-s", DisableSecure: true}, ""},
		// Chrome and Firefox drop an __Http- or __Host-Http- cookie
		// without HttpOnly or Secure (RFC 6265bis).
		{"__Http- without HttpOnly", cookiesession.Options{Name: "__Http-s", DisableHttpOnly: true}, "DisableHttpOnly true"},
		{"__Http- without Secure", cookiesession.Options{Name: "__Http-s", DisableSecure: true}, "DisableSecure true"},
		{"__http- without HttpOnly", cookiesession.Options{Name: "__http-s", DisableHttpOnly: true}, ""},
		{"__Host-Http- without HttpOnly", cookiesession.Options{Name: "__Host-Http-s", DisableHttpOnly: true}, "DisableHttpOnly true"},
		{"__HOST-HTTP- without HttpOnly", cookiesession.Options{Name: "__HOST-HTTP-s", DisableHttpOnly: true}, ""},
		{"__Host-Http- with Path /app", cookiesession.Options{Name: "__Host-Http-s", Path: "/app"}, `Path "/app"`},
		{"SameSite out of range", cookiesession.Options{SameSite: http.SameSite(9)}, ""},
		{"SameSite None without Secure", cookiesession.Options{SameSite: http.SameSiteNoneMode, DisableSecure: true}, "remove DisableSecure"},
		{"Partitioned without Secure", cookiesession.Options{Partitioned: true, DisableSecure: true}, "remove DisableSecure"},
		{"negative MaxAge", cookiesession.Options{MaxAge: -time.Second}, "MaxAge -1s is negative"},
		{"negative IdleTimeout", cookiesession.Options{IdleTimeout: -time.Second}, "IdleTimeout -1s is negative"},
		{"negative MaxLifetime", cookiesession.Options{MaxLifetime: -time.Hour}, "MaxLifetime -1h0m0s is negative"},
		// MaxLifetime's default is MaxAge: the error names the field set.
		{"MaxAge past a token's 2^32-1 s", cookiesession.Options{MaxAge: 200 * 365 * 24 * time.Hour, BrowserSession: true}, "MaxAge 1752000h0m0s is longer than a token carries"},
		{"MaxLifetime past a token's 2^32-1 s", cookiesession.Options{MaxLifetime: 1 << 32 * time.Second}, "MaxLifetime 1193046h28m16s is longer"},
		// The ceiling would silently cut every session to a day.
		{"MaxLifetime below MaxAge", cookiesession.Options{MaxAge: 7 * 24 * time.Hour, MaxLifetime: 24 * time.Hour}, ""},
		{"MaxLifetime below the default MaxAge", cookiesession.Options{MaxLifetime: time.Hour}, ""},
		{"RefreshThreshold above 1", cookiesession.Options{IdleTimeout: time.Minute, RefreshThreshold: 1.5}, "RefreshThreshold 1.5 is not in (0, 1]"},
		{"negative RefreshThreshold", cookiesession.Options{IdleTimeout: time.Minute, RefreshThreshold: -0.5}, ""},
		{"RefreshThreshold NaN", cookiesession.Options{IdleTimeout: time.Minute, RefreshThreshold: math.NaN()}, ""},
		{"MaxCookieSize too small for an empty session", cookiesession.Options{MaxCookieSize: 100}, ""},
		{"MaxCookieSize too small even over two chunks", cookiesession.Options{MaxCookieSize: 50, MaxChunks: 2}, ""},
		{"last chunk name longer than MaxCookieSize", cookiesession.Options{MaxCookieSize: 10, MaxChunks: 20}, ""},
		{"negative MaxCookieSize", cookiesession.Options{MaxCookieSize: -1}, "MaxCookieSize -1 is negative; leave it 0 for the default"},
		{"MaxCookieSize over what browsers keep", cookiesession.Options{MaxCookieSize: 4097}, ""},
		{"MaxChunks above 64", cookiesession.Options{MaxChunks: 65}, "MaxChunks 65 is not between 1 and 64; leave it 0 for the default"},
		{"negative MaxChunks", cookiesession.Options{MaxChunks: -1}, "MaxChunks -1 is not between 1 and 64"},
		{"name with a space", cookiesession.Options{Name: "my session"}, ""},
		{"name with a semicolon", cookiesession.Options{Name: "a;b"}, ""},
		{"name with a newline", cookiesession.Options{Name: "a\nb"}, ""},
		{"path with a semicolon", cookiesession.Options{Path: "/a;b"}, "percent-encode it"},
		// net/http drops the byte from the line: the cookie lands on /.
		{"path with a non-ASCII byte", cookiesession.Options{Path: "/é"}, "percent-encode it"},
		{"path with a control character", cookiesession.Options{Path: "/a\x7f"}, "percent-encode it"},
		// Browsers send these percent-encoded, and match the Path against
		// the path as sent: the cookie would never come back.
		{"path with a space", cookiesession.Options{Path: "/a b"}, `"/a%20b"`},
		{"path with a double quote", cookiesession.Options{Path: `/a"b`}, `"/a%22b"`},
		{"path with a less-than sign", cookiesession.Options{Path: "/a<b"}, `"/a%3Cb"`},
		{"path with a greater-than sign", cookiesession.Options{Path: "/a>b"}, `"/a%3Eb"`},
		// No request path holds these: they start the query, the fragment,
		// and a backslash is sent as a slash.
		{"path with a query", cookiesession.Options{Path: "/app?tab=1"}, "no request path holds"},
		{"path with a fragment", cookiesession.Options{Path: "/#/admin"}, "no request path holds"},
		{"path with a backslash", cookiesession.Options{Path: `/a\b`}, "no request path holds"},
		// New's fix escapes only what browsers escape: they send ( ) ! * ' [ ]
		// as they are, and an escape as it was written.
		{"path with a space and parentheses", cookiesession.Options{Path: "/my app (beta)"}, `"/my%20app%20(beta)"`},
		{"path with a space and an escape", cookiesession.Options{Path: "/caf%C3%A9 bar"}, `"/caf%C3%A9%20bar"`},
		// Every browser sends these percent-encoded too (WHATWG path
		// percent-encode set): a ServeMux pattern given as the Path.
		{"path with braces", cookiesession.Options{Path: "/users/{id}"}, `"/users/%7Bid%7D"`},
		{"path with a backquote", cookiesession.Options{Path: "/a`b"}, `"/a%60b"`},
		{"path with a caret", cookiesession.Options{Path: "/a^b"}, `"/a%5Eb"`},
		// Chrome sends | as %7C, Firefox and Safari as |: no Path matches both.
		{"path with a vertical bar", cookiesession.Options{Path: "/a|b"}, "leave it out"},
		// Chrome sends an escaped letter, digit, - . _ or ~ unescaped.
		{"path with an escaped tilde", cookiesession.Options{Path: "/%7Eada"}, `"/~ada"`},
		{"path with an escaped letter", cookiesession.Options{Path: "/%61pp"}, `"/app"`},
		// Browsers resolve these segments before they send the path.
		{"path with a .. segment", cookiesession.Options{Path: "/app/../admin"}, ". or .. segment"},
		{"path ending in an escaped dot", cookiesession.Options{Path: "/app/%2E"}, ". or .. segment"},
		{"relative path", cookiesession.Options{Path: "app"}, ""},
		// Browsers ignore the attribute, and the cookie goes to every path.
		{"path over 1024 bytes", cookiesession.Options{Path: "/" + strings.Repeat("a", 1024)}, "longer than 1024 bytes"},
		// example.com. is another host: Chrome and Firefox drop the cookie.
		{"Domain with a trailing dot", cookiesession.Options{Domain: "example.com."}, "ends in a dot"},
		{"Domain with both dots", cookiesession.Options{Domain: ".Example.COM."}, "ends in a dot"},
	}
	ring := ringOf(t, keyA)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := cookiesession.New(ring, tt.opts)
			if err == nil || m != nil {
				t.Fatalf("New accepted %+v", tt.opts)
			}
			if !strings.HasPrefix(err.Error(), "cookiesession: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not name %s", err, tt.says)
			}
			// A Path the error asks for is one New takes.
			if fix, ok := strings.CutPrefix(tt.says, `"/`); ok && tt.opts.Path != "" {
				opts := tt.opts
				opts.Path = "/" + strings.TrimSuffix(fix, `"`)
				if _, err := cookiesession.New(ring, opts); err != nil {
					t.Errorf("New refuses the Path %q its error asked for: %v", opts.Path, err)
				}
			}
		})
	}
	t.Run("nil ring", func(t *testing.T) {
		if m, err := cookiesession.New(nil, cookiesession.Options{}); err == nil || m != nil {
			t.Error("New accepted a nil ring")
		}
	})
	t.Run("zero ring", func(t *testing.T) {
		// A KeyRing not built by NewKeyRing holds no key to seal with.
		if m, err := cookiesession.New(&cookiesession.KeyRing{}, cookiesession.Options{}); err == nil || m != nil {
			t.Error("New accepted a zero KeyRing")
		}
	})
}

func TestNewAcceptsGoodOptions(t *testing.T) {
	ring := ringOf(t, keyA)
	for _, opts := range []cookiesession.Options{
		{},
		{Name: "__Host-s"},
		{Path: "/" + strings.Repeat("a", 1023)},
		{Path: "/caf%C3%A9/a%20b"},
		// Browsers send these as they are, and a bare % or an escaped
		// slash as written.
		{Path: "/a(1)!*'[x]$&+,=:@~-._"},
		{Path: "/100%/a%2Fb/%zz"},
		{Name: "__Secure-s", Domain: "example.com", Path: "/app"},
		{Name: "__Http-s", Domain: "example.com", Path: "/app"},
		{Name: "__Host-Http-s"},
		{Name: "__Httpx", DisableHttpOnly: true}, // no prefix: a name like any other
		{SameSite: http.SameSiteNoneMode, Partitioned: true},
		{MaxChunks: 64, MaxCookieSize: 200},
		{IdleTimeout: time.Minute, RefreshThreshold: 1},
		{DisableSecure: true, DisableHttpOnly: true, BrowserSession: true},
	} {
		if _, err := cookiesession.New(ring, opts); err != nil {
			t.Errorf("New(%+v): %v", opts, err)
		}
	}
}

// ---- without the middleware --------------------------------------------

func TestLoadSaveWithoutMiddleware(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	s, err := f.m.Load(b.request("/"))
	if err != nil || s == nil || !s.IsNew() || s.Len() != 0 {
		t.Fatalf("Load without cookie: %v, %v", s, err)
	}
	if cookiesession.FromContext(context.Background()) != nil {
		t.Error("FromContext found a session in an empty context")
	}
	rec := httptest.NewRecorder()
	if err := f.m.Save(rec, b.request("/"), s); err != nil || len(rec.Header().Values("Set-Cookie")) != 0 {
		t.Fatalf("Save of an empty session: %v, Set-Cookie %q", err, rec.Header().Values("Set-Cookie"))
	}

	mustSet(t, s, "user", "alice")
	rec = httptest.NewRecorder()
	if err := f.m.Save(rec, b.request("/"), s); err != nil {
		t.Fatal(err)
	}
	b.apply(t, rec.Header())
	s2, err := f.m.Load(b.request("/"))
	if err != nil || s2.IsNew() || s2.GetString("user") != "alice" || s2.ID() != s.ID() {
		t.Fatalf("reload: err %v, new %v, user %q", err, s2.IsNew(), s2.GetString("user"))
	}

	b.vals["session"] = flipMiddle(b.vals["session"])
	s3, err := f.m.Load(b.request("/"))
	if !errors.Is(err, cookiesession.ErrInvalid) || s3 == nil || !s3.IsNew() || s3.Len() != 0 {
		t.Fatalf("Load of a tampered cookie: %v, %v", s3, err)
	}
	rec = httptest.NewRecorder()
	if err := f.m.Save(rec, b.request("/"), s3); err != nil {
		t.Fatal(err)
	}
	requireCleared(t, rec.Header(), "session")
}

// TestSaveHeaderNilMap checks that SaveHeader into a nil map is refused
// with the fix, not a panic on the map write, and leaves the session to
// save.
func TestSaveHeaderNilMap(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s, _ := f.m.Load(httptest.NewRequest("GET", "/", nil))
	mustSet(t, s, "user", "alice")
	if err := f.m.SaveHeader(nil, s); err == nil || !strings.Contains(err.Error(), "http.Header{}") {
		t.Errorf("SaveHeader(nil): %v, want the fix", err)
	}
	h := http.Header{}
	if err := f.m.SaveHeader(h, s); err != nil || !strings.HasPrefix(h.Get("Set-Cookie"), "session=") {
		t.Errorf("SaveHeader after the refusal: %v, Set-Cookie %q", err, h.Get("Set-Cookie"))
	}
}

// TestSavesKeepEarlierHeaders checks that saving a session again leaves
// the headers an earlier save wrote alone: in another header map, in a
// header map saved inside the middleware before its commit, and in maps
// that goroutines of one request save into and read at once (which the
// race detector checks).
func TestSavesKeepEarlierHeaders(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s, _ := f.m.Load(httptest.NewRequest("GET", "/", nil))
	mustSet(t, s, "user", "alice")
	first := http.Header{}
	if err := f.m.SaveHeader(first, s); err != nil {
		t.Fatal(err)
	}
	want := first.Clone()
	s.Destroy()
	second := http.Header{}
	if err := f.m.SaveHeader(second, s); err != nil {
		t.Fatal(err)
	}
	requireCleared(t, second, "session")
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("a second save changed the first one's headers (-before +after):\n%s", diff)
	}

	var early, earlyWant http.Header
	final := httptest.NewRecorder()
	f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		mustSet(t, s, "user", "alice")
		early = http.Header{}
		if err := f.m.SaveHeader(early, s); err != nil {
			t.Error(err)
		}
		earlyWant = early.Clone()
		mustSet(t, s, "user", "bob")
	})).ServeHTTP(final, httptest.NewRequest("GET", "/", nil))
	if diff := cmp.Diff(earlyWant, early); diff != "" {
		t.Errorf("the middleware's commit changed the headers of a save before it (-before +after):\n%s", diff)
	}
	b := newClientCookies()
	b.apply(t, final.Header())
	if got, err := f.m.Load(b.request("/")); err != nil || got.GetString("user") != "bob" {
		t.Errorf("the commit sent user %q (%v), want bob", got.GetString("user"), err)
	}

	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for i := range 20 {
				if err := s.Set("n", g*100+i); err != nil {
					t.Error(err)
					return
				}
				h := http.Header{}
				if err := f.m.SaveHeader(h, s); err != nil || !strings.HasPrefix(h.Get("Set-Cookie"), "session=") {
					t.Errorf("save %d: %v, Set-Cookie %q", i, err, h.Get("Set-Cookie"))
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNewContextRoundTrip(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s, err := f.m.Load(httptest.NewRequest(http.MethodGet, "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := cookiesession.FromContext(cookiesession.NewContext(context.Background(), s)); got != s {
		t.Errorf("FromContext(NewContext(s)) = %p, want %p", got, s)
	}
}

// TestSessionContextIsAContext checks that the context the middleware and
// NewContext build behaves as context.WithValue's would: other values and
// cancellation pass through from the parent and to derived contexts, and
// the session survives derivation.
func TestSessionContextIsAContext(t *testing.T) {
	type otherKey struct{}
	f := newFixture(t, cookiesession.Options{})
	parent, cancel := context.WithCancelCause(context.WithValue(context.Background(), otherKey{}, "other"))
	var seen *cookiesession.Session
	var ctx context.Context
	f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, ctx = cookiesession.FromContext(r.Context()), r.Context()
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil).WithContext(parent))
	if seen == nil {
		t.Fatal("no session in the handler's context")
	}
	child, stop := context.WithTimeout(ctx, time.Hour)
	defer stop()
	if got := cookiesession.FromContext(child); got != seen {
		t.Errorf("FromContext of a derived context = %p, want %p", got, seen)
	}
	if got := child.Value(otherKey{}); got != "other" {
		t.Errorf("a parent's value through the session context = %v", got)
	}
	if !strings.Contains(fmt.Sprint(ctx), "cookiesession.Session") {
		t.Errorf("String() = %q names no session", fmt.Sprint(ctx))
	}
	boom := errors.New("client went away")
	cancel(boom)
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the parent did not reach a context derived from the session context")
	}
	if !errors.Is(context.Cause(child), boom) || ctx.Err() != context.Canceled {
		t.Errorf("cause %v, err %v", context.Cause(child), ctx.Err())
	}
	if cookiesession.FromContext(context.Background()) != nil {
		t.Error("FromContext of a context without a session is not nil")
	}
}

// ---- concurrency -------------------------------------------------------

// TestConcurrentRequests runs 200 requests, 20 clients at a time, each
// handler touching its session from four goroutines; -race checks the
// locking and each client checks its own counter.
func TestConcurrentRequests(t *testing.T) {
	const clients, perClient, workers = 20, 10, 4
	f := newFixture(t, cookiesession.Options{IdleTimeout: time.Hour})
	srv := newTLSServer(t, f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() {
				key := "n" + strconv.Itoa(i)
				mustSet(t, s, key, s.GetInt(key)+1)
				s.AddFlash(key)
				_, _, _ = s.Keys(), s.ID(), s.ExpiresAt()
			})
		}
		wg.Wait()
		if flashes := s.Flashes(); len(flashes) != workers {
			t.Errorf("flashes %q, want %d", flashes, workers)
		}
		fmt.Fprint(w, s.GetInt("n0")+s.GetInt("n1")+s.GetInt("n2")+s.GetInt("n3"))
	})))
	// Keep a connection per client, so that the run measures sessions, not
	// TLS handshakes.
	transport := srv.Client().Transport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = clients
	t.Cleanup(transport.CloseIdleConnections)
	var wg sync.WaitGroup
	for range clients {
		c := srv.client(t)
		c.Transport = transport
		wg.Go(func() {
			for i := 1; i <= perClient; i++ {
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Error(err)
					return
				}
				if want := strconv.Itoa(workers * i); string(body) != want {
					t.Errorf("request %d: counter %s, want %s", i, body, want)
				}
			}
		})
	}
	wg.Wait()
	srv.checkNoSuperfluous(t)
}

// TestNewRefusesIdleTimeoutOverMaxAge: an idle window as long as the
// absolute lifetime or longer never ends a session (MaxAge does first,
// however active the user), so New says so instead of logging users out at
// MaxAge. Equal is express-session's rolling:true with cookie.maxAge 24h
// ported as IdleTimeout, MaxAge left at its default of 24h.
func TestNewRefusesIdleTimeoutOverMaxAge(t *testing.T) {
	for _, tc := range []struct {
		opts cookiesession.Options
		want string
	}{
		{cookiesession.Options{IdleTimeout: 48 * time.Hour}, "IdleTimeout 48h0m0s is not shorter than MaxAge 24h0m0s"},
		{cookiesession.Options{IdleTimeout: 24 * time.Hour}, "IdleTimeout 24h0m0s is not shorter than MaxAge 24h0m0s"},
		{cookiesession.Options{MaxAge: time.Hour, IdleTimeout: 2 * time.Hour}, "raise MaxAge"},
		{cookiesession.Options{MaxAge: time.Hour, IdleTimeout: time.Hour}, "raise MaxAge"},
		{cookiesession.Options{MaxAge: time.Hour, IdleTimeout: 72 * time.Hour, MaxLifetime: 48 * time.Hour}, "not shorter than MaxLifetime 48h0m0s"},
		{cookiesession.Options{MaxAge: time.Hour, IdleTimeout: 48 * time.Hour, MaxLifetime: 48 * time.Hour}, "not shorter than MaxLifetime 48h0m0s"},
	} {
		_, err := cookiesession.New(ringOf(t, keyA), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", tc.opts, err, tc.want)
		}
	}
	// A longer idle window under a MaxLifetime serves sessions with a MaxAge
	// of their own ("remember me").
	for _, opts := range []cookiesession.Options{
		{MaxAge: 2 * time.Hour, IdleTimeout: 7 * 24 * time.Hour, MaxLifetime: 30 * 24 * time.Hour},
		{MaxAge: time.Hour, IdleTimeout: time.Hour - time.Second},
	} {
		if _, err := cookiesession.New(ringOf(t, keyA), opts); err != nil {
			t.Errorf("New(%+v): %v", opts, err)
		}
	}
}

// TestNewNamesABadName: a Name net/http will not write, as express-session's
// cookie module takes (app:sid), is refused by an error that quotes it and
// lists the characters a name may hold; "connect.sid" is taken.
func TestNewNamesABadName(t *testing.T) {
	for _, name := range []string{"app:sid", "sess[id]", "sid@app", "s/id", "my session", "séssion"} {
		_, err := cookiesession.New(ringOf(t, keyA), cookiesession.Options{Name: name})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("Name %q is not a cookie name", name)) || !strings.Contains(err.Error(), "use letters, digits and !#$%&'*+-.^_`|~ only") {
			t.Errorf("Name %q: %v", name, err)
		}
	}
	if _, err := cookiesession.New(ringOf(t, keyA), cookiesession.Options{Name: "connect.sid"}); err != nil {
		t.Error(err)
	}
}

// TestNewNamesABadDomain: a Domain with a scheme or a port is refused by
// an error that names it and says what a Domain looks like.
func TestNewNamesABadDomain(t *testing.T) {
	for _, d := range []string{"https://example.com", "example.com:8443", "example.com/app"} {
		_, err := cookiesession.New(ringOf(t, keyA), cookiesession.Options{Domain: d})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", d)) || !strings.Contains(err.Error(), "bare host name") {
			t.Errorf("Domain %q: %v", d, err)
		}
	}
}

// TestTooLargeLogHasFix: the default ErrorHandler's log line for a session
// that does not fit says what to do about it.
func TestTooLargeLogHasFix(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	rec := httptest.NewRecorder()
	f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("note", strings.Repeat("x", 5000))
	})).ServeHTTP(rec, newClientCookies().request("/account/notes"))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	// README (Operators): logged with its size, its path and the fix.
	lines := f.log.lines("cannot save session")
	if len(lines) != 1 || !strings.Contains(lines[0], "Options.MaxChunks (now 1, of cookies up to 4096 bytes)") ||
		!regexp.MustCompile(`token of \d+ bytes exceeds the limit of \d+`).MatchString(lines[0]) || !strings.Contains(lines[0], "path=/account/notes") {
		t.Errorf("want one line with the size, the path and the fix; log:\n%s", f.log)
	}
}

// TestSaveAfterRequestEndedWarns: a Save without the middleware from a
// goroutine that outlived its handler, on a Server whose BaseContext may
// end requests' contexts early (at shutdown, while handlers still
// answer): Save cannot tell that end from the handler's return, so it
// writes and returns nil, and the save is logged at Warn, once. On a
// Server without one, Save returns ErrHeadersWritten instead
// (TestSaveAfterHandlerReturned).
func TestSaveAfterRequestEndedWarns(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	saved := make(chan error, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := f.m.Load(r)
		if r.URL.Path == "/in-time" {
			mustSet(t, s, "user", "ada")
			saved <- f.m.Save(w, r, s)
			return
		}
		go func() {
			<-r.Context().Done() // the handler has returned
			mustSet(t, s, "user", "ada")
			// A stand-in for w, which net/http no longer sends: touching
			// w itself now would race with net/http (the detector says so).
			saved <- f.m.Save(httptest.NewRecorder(), r, s)
		}()
	}))
	srv.Config.BaseContext = func(net.Listener) context.Context { return context.Background() }
	srv.Start()
	defer srv.Close()
	for _, path := range []string{"/in-time", "/late", "/late"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if err := <-saved; err != nil {
			t.Fatalf("%s: Save: %v", path, err)
		}
		if late := path == "/late"; late == (len(resp.Cookies()) != 0) {
			t.Errorf("%s: cookies %v", path, resp.Cookies())
		}
		if path == "/in-time" && len(f.log.lines("after its request's context ended")) != 0 {
			t.Errorf("a Save in time was logged as late:\n%s", f.log)
		}
	}
	warns := f.log.lines("after its request's context ended")
	if len(warns) != 1 || !strings.Contains(warns[0], "level=WARN") || !strings.Contains(warns[0], "/late") {
		t.Errorf("want one warning naming the path, got:\n%s", f.log)
	}
}

// TestTwoLoadsSavedWarns: code ported from gorilla/sessions, whose
// store.Get returns one session to every caller in a request, calls Load
// in a helper (a flash) and again in the handler, and saves each. The
// later save replaces the earlier one's line: a logout's Destroy is lost
// and the user stays signed in. That is logged once at Warn, naming the
// two Loads, not as a handler's own http.SetCookie; one session saved
// twice is not logged.
func TestTwoLoadsSavedWarns(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	serve := func(h http.HandlerFunc) {
		rec := httptest.NewRecorder()
		h(rec, b.request("/"))
		b.apply(t, rec.Result().Header)
	}
	save := func(w http.ResponseWriter, r *http.Request, s *cookiesession.Session) {
		if err := f.m.Save(w, r, s); err != nil {
			t.Fatal(err)
		}
	}
	serve(func(w http.ResponseWriter, r *http.Request) { // login, saved twice
		s, _ := f.m.Load(r)
		mustSet(t, s, "user", "ada")
		save(w, r, s)
		s.AddFlash("welcome")
		save(w, r, s)
	})
	if f.log.String() != "" || b.vals["session"] == "" {
		t.Fatalf("login: cookies %v, log:\n%s", b.vals, f.log)
	}
	logout := func(w http.ResponseWriter, r *http.Request) {
		s, _ := f.m.Load(r)
		s.Destroy()
		save(w, r, s)
		flash, _ := f.m.Load(r) // a helper's own store.Get
		flash.AddFlash("signed out")
		save(w, r, flash)
	}
	for range 2 {
		serve(logout)
	}
	if user, _ := f.userIn(b.vals["session"]); user != "ada" {
		t.Fatalf("the last save wins, and keeps the user: got %v", user)
	}
	warns := f.log.lines("for another Session")
	if len(warns) != 1 || !strings.Contains(warns[0], "level=WARN") || !strings.Contains(warns[0], "call Load once per request") {
		t.Errorf("want one Warn naming the two Loads, log:\n%s", f.log)
	}
	if f.log.lines("set the session's cookie itself") != nil {
		t.Errorf("logged as the handler's own Set-Cookie:\n%s", f.log)
	}
}

// TestUnsavedLoadWarns: without the middleware, a session from Load whose
// request ends with a change no Save wrote (gorilla's Flashes without a
// Save: the flash shows on every page), or with a rolling refresh no Save
// wrote (a port that saves only on a change: the active user is signed
// out at the idle deadline), is logged once at Warn when net/http ends the
// request's context. A session saved after its last change, one only
// read, and a refresh SkipRefresh declined are not logged.
func TestUnsavedLoadWarns(t *testing.T) {
	idle := cookiesession.Options{IdleTimeout: 30 * time.Minute}
	read := func(s *cookiesession.Session) { _ = s.GetString("user") }
	flashes := func(s *cookiesession.Session) { _ = s.Flashes() }
	for _, tc := range []struct {
		name   string
		opts   cookiesession.Options
		use    func(s *cookiesession.Session)
		save   bool
		unsave string // the unsaved attribute logged, or ""
	}{
		{"Flashes, no Save", cookiesession.Options{}, flashes, false, "unsaved=\"a change\""},
		{"Flashes, then Save", cookiesession.Options{}, flashes, true, ""},
		{"Destroy, no Save", cookiesession.Options{}, func(s *cookiesession.Session) { s.Destroy() }, false, "unsaved=\"a change\""},
		{"read only", cookiesession.Options{}, read, false, ""},
		{"refresh due, no Save", idle, read, false, "a due rolling refresh"},
		{"refresh due, Save", idle, read, true, ""},
		{"SkipRefresh, no Save", idle, func(s *cookiesession.Session) { s.SkipRefresh(); read(s) }, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, tc.opts)
				b := newClientCookies()
				serve := func(h func(w http.ResponseWriter, r *http.Request)) {
					// A net/http Server's request context, which it ends
					// when the handler returns.
					ctx, cancel := context.WithCancel(context.WithValue(context.Background(), http.ServerContextKey, &http.Server{}))
					rec := httptest.NewRecorder()
					h(rec, b.request("/inbox").WithContext(ctx))
					cancel()
					synctest.Wait()
					b.apply(t, rec.Result().Header)
				}
				login := func(w http.ResponseWriter, r *http.Request) {
					s, _ := f.m.Load(r)
					mustSet(t, s, "user", "ada")
					s.AddFlash("welcome")
					if err := f.m.Save(w, r, s); err != nil {
						t.Fatal(err)
					}
				}
				page := func(w http.ResponseWriter, r *http.Request) {
					s, _ := f.m.Load(r)
					tc.use(s)
					if tc.save {
						if err := f.m.Save(w, r, s); err != nil {
							t.Fatal(err)
						}
					}
				}
				serve(login)
				for range 2 {
					f.clock.Advance(20 * time.Minute) // less than half the idle window left
					serve(page)
				}
				got := f.log.lines("left unsaved when its request ended")
				switch {
				case tc.unsave == "" && len(got) != 0:
					t.Errorf("logged:\n%s", f.log)
				case tc.unsave != "" && (len(got) != 1 || !strings.Contains(got[0], "level=WARN") || !strings.Contains(got[0], tc.unsave) ||
					!strings.Contains(got[0], "path=/inbox") || !strings.Contains(got[0], "call Save(w, r, s)")):
					t.Errorf("want one Warn with %s, the path and the fix; log:\n%s", tc.unsave, f.log)
				}
			})
		})
	}
}

// TestUnsavedLoadCountedEachTime: the Warn for a session from Load left
// unsaved is logged once per Manager, but Load goes on watching every
// request: Metrics.Lost counts each such session under unsaved, and a
// change after its request ended, past the first Warn, is still logged and
// counted as after_commit. A session saved, or only read, counts nothing.
func TestUnsavedLoadCountedEachTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, cookiesession.Options{})
		var kept *cookiesession.Session
		serve := func(use func(w http.ResponseWriter, r *http.Request, s *cookiesession.Session)) {
			ctx, end := context.WithCancel(context.WithValue(context.Background(), http.ServerContextKey, &http.Server{}))
			r := newClientCookies().request("/cart").WithContext(ctx)
			s, _ := f.m.Load(r)
			use(httptest.NewRecorder(), r, s)
			kept = s
			end()
			synctest.Wait()
		}
		unsaved := func(_ http.ResponseWriter, _ *http.Request, s *cookiesession.Session) {
			mustSet(t, s, "cart", "1 item")
		}
		for range 3 {
			serve(unsaved)
		}
		serve(func(w http.ResponseWriter, r *http.Request, s *cookiesession.Session) {
			unsaved(w, r, s)
			if err := f.m.Save(w, r, s); err != nil {
				t.Fatal(err)
			}
		})
		serve(func(_ http.ResponseWriter, _ *http.Request, s *cookiesession.Session) { _ = s.GetString("cart") })
		mustSet(t, kept, "cart", "2 items") // a goroutine that outlived the handler
		if warns := f.log.lines("left unsaved when its request ended"); len(warns) != 1 {
			t.Errorf("want one Warn for the unsaved sessions, log:\n%s", f.log)
		}
		if late := f.log.lines("a session from Load changed after"); len(late) != 1 {
			t.Errorf("the change after the fifth request ended was not logged, log:\n%s", f.log)
		}
		if lost := f.m.Metrics().Lost; lost["unsaved"] != 3 || lost["after_commit"] != 1 || lost["after_panic"] != 0 {
			t.Errorf("lost %v, want unsaved 3 and after_commit 1", lost)
		}
	})
}

// TestUnsavedTooLargeCountedOnce: a session from Load whose Save returned
// ErrTooLarge counts under too_large alone, as the middleware's does: the
// handler got the error, and no Save could write the session, so the
// request's end adds neither lost.unsaved nor the Warn that says to call
// Save. One that was made to fit after the refusal, and then left
// unsaved, is counted and logged as any other.
func TestUnsavedTooLargeCountedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, cookiesession.Options{})
		serve := func(use func(w http.ResponseWriter, r *http.Request, s *cookiesession.Session)) {
			ctx, end := context.WithCancel(context.WithValue(context.Background(), http.ServerContextKey, &http.Server{}))
			r := newClientCookies().request("/notes").WithContext(ctx)
			s, _ := f.m.Load(r)
			use(httptest.NewRecorder(), r, s)
			end()
			synctest.Wait()
		}
		refused := func(w http.ResponseWriter, r *http.Request, s *cookiesession.Session) {
			mustSet(t, s, "notes", strings.Repeat("x", 5000))
			if err := f.m.Save(w, r, s); !errors.Is(err, cookiesession.ErrTooLarge) {
				t.Fatalf("Save of 5000 bytes: %v", err)
			}
		}
		serve(refused)
		if m := f.m.Metrics(); m.TooLarge != 1 || m.Lost["unsaved"] != 0 {
			t.Errorf("a Save refused as too large: too_large %d, lost %v; want 1 and unsaved 0", m.TooLarge, m.Lost)
		}
		if warns := f.log.lines("left unsaved"); warns != nil {
			t.Errorf("a session Save refused with ErrTooLarge was logged as never saved:\n%s", f.log)
		}
		serve(func(w http.ResponseWriter, r *http.Request, s *cookiesession.Session) {
			refused(w, r, s)
			mustSet(t, s, "notes", "short") // fits now, and is not saved
		})
		if m := f.m.Metrics(); m.TooLarge != 2 || m.Lost["unsaved"] != 1 {
			t.Errorf("a session made to fit after the refusal, unsaved: too_large %d, lost %v; want 2 and unsaved 1", m.TooLarge, m.Lost)
		}
		if warns := f.log.lines("left unsaved"); len(warns) != 1 {
			t.Errorf("want one Warn for the session left unsaved once it fit, log:\n%s", f.log)
		}
		// Refused, made to fit and saved, then grown past the cookies
		// again and left unsaved: that last change is lost unsaved, where
		// the first refusal kept it from being counted anywhere.
		serve(func(w http.ResponseWriter, r *http.Request, s *cookiesession.Session) {
			refused(w, r, s)
			mustSet(t, s, "notes", "short")
			if err := f.m.Save(w, r, s); err != nil {
				t.Fatal(err)
			}
			mustSet(t, s, "notes", strings.Repeat("y", 5000))
		})
		if m := f.m.Metrics(); m.TooLarge != 3 || m.Lost["unsaved"] != 2 {
			t.Errorf("a session grown too large again after a Save that fit, unsaved: too_large %d, lost %v; want 3 and unsaved 2", m.TooLarge, m.Lost)
		}
		// A retry that still does not fit is the same refusal; one after
		// a Save that fit is another, counted again (Metrics.TooLarge).
		serve(func(w http.ResponseWriter, r *http.Request, s *cookiesession.Session) {
			refused(w, r, s)
			refused(w, r, s)
			mustSet(t, s, "notes", "short")
			if err := f.m.Save(w, r, s); err != nil {
				t.Fatal(err)
			}
			refused(w, r, s)
		})
		if m := f.m.Metrics(); m.TooLarge != 5 || m.Lost["unsaved"] != 2 {
			t.Errorf("a session refused, retried, saved, refused again: too_large %d, lost %v; want 5 and unsaved 2", m.TooLarge, m.Lost)
		}
	})
}

// TestSaveByHandTooLargeLogged: a Save of a session from Load that does
// not fit returns ErrTooLarge, and no ErrorHandler answers it: code that
// drops Save's error, as gorilla/sessions' examples do, lost the change
// with nothing said. It is logged at Warn, with its call and the fix, once
// a minute and at Debug in between. Under the middleware the ErrorHandler
// logs it, and Save adds no line.
func TestSaveByHandTooLargeLogged(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	const msg = "Save refused a session from Load too large"
	var at int
	for range 2 {
		r := httptest.NewRequest("GET", "/notes", nil)
		s, _ := f.m.Load(r)
		mustSet(t, s, "notes", strings.Repeat("x", 5000))
		var err error
		if err, at = f.m.Save(httptest.NewRecorder(), r, s), callerLine(); !errors.Is(err, cookiesession.ErrTooLarge) {
			t.Fatalf("Save of 5000 bytes: %v", err)
		}
	}
	lines := f.log.lines(msg)
	if len(lines) != 2 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[1], "level=DEBUG") ||
		!strings.Contains(lines[0], fmt.Sprintf("handler_test.go:%d)", at)) || !strings.Contains(lines[0], "raise Options.MaxChunks") ||
		!strings.Contains(lines[0], "path=/notes") || strings.Contains(lines[1], "caller=") {
		t.Errorf("want a Warn naming the call, the path and the fix, then a Debug without the call (its walk would cost each repeat a microsecond); log:\n%s", f.log)
	}
	f.clock.Advance(time.Minute)
	r := httptest.NewRequest("GET", "/notes", nil)
	s, _ := f.m.Load(r)
	mustSet(t, s, "notes", strings.Repeat("x", 5000))
	f.m.Save(httptest.NewRecorder(), r, s)
	if lines := f.log.lines(msg); len(lines) != 3 || !strings.Contains(lines[2], "level=WARN") {
		t.Errorf("a minute later, want a Warn again; log:\n%s", f.log)
	}

	g := newFixture(t, cookiesession.Options{})
	g.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		mustSet(t, s, "notes", strings.Repeat("x", 5000))
		if err := g.m.Save(w, r, s); !errors.Is(err, cookiesession.ErrTooLarge) {
			t.Errorf("Save under the middleware: %v", err)
		}
	})
	if lines := g.log.lines(msg); lines != nil || g.log.lines("cannot save session") == nil {
		t.Errorf("under the middleware, want the ErrorHandler's line alone; log:\n%s", g.log)
	}
}

// TestUnsavedWatchHoldsSessionUntilRequestEnds bounds what README says
// the watch on a Load keeps: the session, until net/http ends the
// request's context, though the handler has saved it and let it go (a
// handler that streams on, Server-Sent Events or a WebSocket), and
// nothing once the context has ended.
func TestUnsavedWatchHoldsSessionUntilRequestEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, cookiesession.Options{})
		ctx, end := context.WithCancel(context.WithValue(context.Background(), http.ServerContextKey, &http.Server{}))
		defer end()
		held := func() weak.Pointer[cookiesession.Session] {
			r := newClientCookies().request("/events").WithContext(ctx)
			s, _ := f.m.Load(r)
			mustSet(t, s, "user", "ada")
			if err := f.m.Save(httptest.NewRecorder(), r, s); err != nil {
				t.Fatal(err)
			}
			return weak.Make(s)
		}()
		runtime.GC()
		if held.Value() == nil {
			t.Fatal("the session was collected while its request's context lived: README says the watch holds it")
		}
		end()
		synctest.Wait() // the watch's goroutine has run
		runtime.GC()
		if held.Value() != nil {
			t.Error("the session is still held after its request's context ended")
		}
	})
}

// TestUnsavedClientGone: a client that goes away ends the request's
// context while the handler still runs, and may still change its request
// (here its URL's path) and save. The line for the session unsaved then
// names the path as Load saw it and says the client may have gone away;
// under -race, reading the request from the watch would race with the
// handler. The Save after it returns ErrHeadersWritten and writes nothing.
func TestUnsavedClientGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, cookiesession.Options{})
		ctx, clientGone := context.WithCancel(context.WithValue(context.Background(), http.ServerContextKey, &http.Server{}))
		r := newClientCookies().request("/poll").WithContext(ctx)
		w := httptest.NewRecorder()
		s, _ := f.m.Load(r)
		mustSet(t, s, "seen", "1")
		clientGone()
		r.URL.Path = "/rewritten" // the handler goes on
		synctest.Wait()
		if err := f.m.Save(w, r, s); !errors.Is(err, cookiesession.ErrHeadersWritten) || !errors.Is(err, context.Canceled) {
			t.Errorf("Save after the client went away: %v", err)
		}
		if got := w.Result().Header["Set-Cookie"]; got != nil {
			t.Errorf("Save after the client went away wrote %q", got)
		}
		got := f.log.lines("left unsaved when its request ended")
		if len(got) != 1 || !strings.Contains(got[0], "path=/poll") || !strings.Contains(got[0], "the client went away") {
			t.Errorf("want one Warn naming /poll and a client gone; log:\n%s", f.log)
		}
	})
}

// shutdownContext is a request context that ends only when its server
// shuts down, as fasthttpadaptor's *fasthttp.RequestCtx does.
type shutdownContext struct {
	context.Context
	done chan struct{}
}

func (c shutdownContext) Done() <-chan struct{} { return c.done }

// TestUnsavedWatchDeadline: a router's timeout middleware (chi's
// Timeout, a context.WithTimeout around the handler) ends the request's
// context at its deadline while the handler runs on, and may still save
// and write its answer. A slow handler that saved after the deadline, and
// whose cookie reached the client, was counted in lost.unsaved and logged
// at Warn as never saved, with the fix to call Save. A handler that
// returns without saving, under such a middleware, is still counted: the
// middleware ends the context as it returns.
func TestUnsavedWatchDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, cookiesession.Options{})
		serve := func(slow, save bool) *http.Response {
			reqCtx, end := context.WithCancel(context.WithValue(context.Background(), http.ServerContextKey, &http.Server{}))
			defer end()
			ctx, stop := context.WithTimeout(reqCtx, time.Second)
			r := newClientCookies().request("/report").WithContext(ctx)
			rec := httptest.NewRecorder()
			s, _ := f.m.Load(r)
			mustSet(t, s, "user", "ada")
			if slow {
				time.Sleep(2 * time.Second)
				synctest.Wait() // the deadline has passed, and its watch has run
			}
			if save {
				if err := f.m.Save(rec, r, s); err != nil {
					t.Fatal(err)
				}
			}
			rec.WriteHeader(http.StatusOK)
			stop() // the middleware returns, as the handler has
			end()  // net/http ends the request
			synctest.Wait()
			return rec.Result()
		}
		if resp := serve(true, true); len(resp.Cookies()) != 1 {
			t.Fatalf("a Save after the deadline sent cookies %v, want the session's", resp.Cookies())
		}
		if lost := f.m.Metrics().Lost["unsaved"]; lost != 0 {
			t.Errorf("a session saved after its context's deadline, whose cookie went out, counts %d in lost.unsaved, want 0", lost)
		}
		if warns := f.log.lines("left unsaved"); warns != nil {
			t.Errorf("a session saved after its context's deadline was logged as never saved:\n%s", f.log)
		}
		serve(false, false)
		if lost := f.m.Metrics().Lost["unsaved"]; lost != 1 {
			t.Errorf("a handler under a timeout middleware that returned without Save counts %d in lost.unsaved, want 1", lost)
		}
		if warns := f.log.lines("left unsaved"); len(warns) != 1 {
			t.Errorf("want one Warn for the session left unsaved, log:\n%s", f.log)
		}
	})
}

// TestUnsavedWatchNeedsServerContext: Load watches only a net/http
// Server's request context, which ends with the handler. Watching one
// that ends at shutdown would hold a goroutine per request until then.
func TestUnsavedWatchNeedsServerContext(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	ctx := shutdownContext{Context: context.Background(), done: make(chan struct{})}
	defer close(ctx.done)
	r := newClientCookies().request("/").WithContext(ctx)
	before := runtime.NumGoroutine()
	for range 200 {
		s, _ := f.m.Load(r)
		mustSet(t, s, "user", "ada")
	}
	if grown := runtime.NumGoroutine() - before; grown > 100 {
		t.Errorf("%d goroutines more after 200 Loads on a context that ends at shutdown", grown)
	}
}

// TestUnsavedLoadNothingToWrite: a change that leaves nothing for the
// client to hold (a Destroy, Touch or Renew of a session the request
// carried no cookie for, a value set then deleted), saved, is not logged
// as unsaved: Save wrote no line, since none was called for, and left the
// change's flags set. The user who hits /logout twice is not a missed
// Save. Without a Save, such a change is not logged either (the client
// loses nothing); a value left set is.
func TestUnsavedLoadNothingToWrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		use  func(s *cookiesession.Session)
		save bool
		warn bool
	}{
		{"Destroy, Save", func(s *cookiesession.Session) { s.Destroy() }, true, false},
		{"Touch, Save", func(s *cookiesession.Session) { s.Touch() }, true, false},
		{"Renew, Save", func(s *cookiesession.Session) { s.Renew() }, true, false},
		{"Set then Delete, Save", func(s *cookiesession.Session) { mustSet(t, s, "a", 1); s.Delete("a") }, true, false},
		{"Destroy, no Save", func(s *cookiesession.Session) { s.Destroy() }, false, false},
		{"Set, no Save", func(s *cookiesession.Session) { mustSet(t, s, "a", 1) }, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, cookiesession.Options{})
				ctx, cancel := context.WithCancel(context.WithValue(context.Background(), http.ServerContextKey, &http.Server{}))
				r := newClientCookies().request("/logout").WithContext(ctx)
				rec := httptest.NewRecorder()
				s, _ := f.m.Load(r)
				tc.use(s)
				if tc.save {
					if err := f.m.Save(rec, r, s); err != nil {
						t.Fatal(err)
					}
				}
				cancel()
				synctest.Wait()
				if got := rec.Result().Header["Set-Cookie"]; got != nil {
					t.Errorf("Set-Cookie %q for a session the client does not hold", got)
				}
				if got := f.log.lines("left unsaved when its request ended"); (len(got) == 1) != tc.warn || len(got) > 1 {
					t.Errorf("want a Warn: %v; log:\n%s", tc.warn, f.log)
				}
			})
		})
	}
}

// TestErrorHandlerChangeLoggedForAnySaveFailure: a save that fails for
// another reason than its size (here a clock before 1970, which no token
// can carry) is a failed save too, and a change the ErrorHandler makes is
// logged as such, not as a handler that wrote too soon. Telling it by
// ErrTooLarge alone lost this when logLate stopped reading the writer's
// err (cdb0a69).
func TestErrorHandlerChangeLoggedForAnySaveFailure(t *testing.T) {
	var got error
	f := newFixture(t, cookiesession.Options{
		Now: func() time.Time { return time.Unix(-3600, 0) },
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			cookiesession.FromContext(r.Context()).AddFlash("Please try again")
			http.Error(w, "try again", http.StatusServiceUnavailable)
		},
	})
	resp := f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "user", "ada")
	})
	if resp.StatusCode != http.StatusServiceUnavailable || got == nil || errors.Is(got, cookiesession.ErrTooLarge) {
		t.Fatalf("status %d, ErrorHandler told %v; want 503 after a save failed for another reason than its size", resp.StatusCode, got)
	}
	lines := f.log.lines("level=WARN")
	if len(lines) != 1 || !strings.Contains(lines[0], "after its save failed") || !strings.Contains(lines[0], "Options.ErrorHandler") {
		t.Errorf("lines: %q, want one Warn naming the failed save and the ErrorHandler", lines)
	}
}

// TestChangeAfterDestroyOfATooLargeSession: a Save that failed as too
// large, then Destroy, ends the session, and the response clears the
// cookie. A change after that response is lost, but not after a failed
// save: the Warn must not say that the client keeps its previous cookie.
func TestChangeAfterDestroyOfATooLargeSession(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "ada") })
	resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "big", strings.Repeat("x", 5000))
		if err := f.m.Save(w, r, s); !errors.Is(err, cookiesession.ErrTooLarge) {
			t.Errorf("Save: %v, want ErrTooLarge", err)
		}
		s.Destroy()
		w.WriteHeader(http.StatusOK)
		s.AddFlash("too late")
	})
	if got := resp.Header.Values("Set-Cookie"); len(got) != 1 || !strings.Contains(got[0], "Max-Age=0") {
		t.Fatalf("Set-Cookie %q, want the cookie cleared", got)
	}
	lines := f.log.lines("level=WARN")
	if len(lines) != 1 || !strings.Contains(lines[0], "after the response was committed") || strings.Contains(lines[0], "keeps its previous cookie") {
		t.Errorf("lines: %q, want one Warn of a change after the commit, not after a failed save", lines)
	}
}

// TestSetSameValueSendsNoCookie checks Set's promise, which the README's
// scs table repeats: storing the value a key already holds is no change,
// and the response carries no cookie, for every kind (a list and a map
// compared by value, not by identity); a value that differs is sent.
func TestSetSameValueSendsNoCookie(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	store := func(s *cookiesession.Session, user string) {
		mustSet(t, s, "user", user)
		mustSet(t, s, "n", 7)
		mustSet(t, s, "cart", []string{"a", "b"})
		mustSet(t, s, "prefs", map[string]string{"theme": "dark"})
	}
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { store(cookiesession.FromContext(r.Context()), "ada") })
	resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) { store(cookiesession.FromContext(r.Context()), "ada") })
	if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("storing the values the session holds sent %q", got)
	}
	resp = f.serve(b, func(w http.ResponseWriter, r *http.Request) { store(cookiesession.FromContext(r.Context()), "bob") })
	if v, _ := f.userIn(b.vals["session"]); v != "bob" || len(resp.Header.Values("Set-Cookie")) != 1 {
		t.Errorf("a changed value: user %v, Set-Cookie %q", v, resp.Header.Values("Set-Cookie"))
	}
}

// TestErrorHandlerChangeLogged: an ErrorHandler that answers a session too
// large by trimming it and adding a flash changes a session that can no
// longer be saved; the client keeps its previous cookie. The Warn says so
// and names the ErrorHandler, not a handler that wrote its body first.
func TestErrorHandlerChangeLogged(t *testing.T) {
	f := newFixture(t, cookiesession.Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		s := cookiesession.FromContext(r.Context())
		s.Delete("answers")
		s.AddFlash("Your answers were too long")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}})
	resp := f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "answers", strings.Repeat("x", 5000))
		http.Redirect(w, r, "/next", http.StatusSeeOther)
	})
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 0 {
		t.Fatalf("ErrorHandler's answer: %d with %d cookies, want 303 and none", resp.StatusCode, len(resp.Cookies()))
	}
	got := f.log.lines("level=WARN")
	if len(got) != 1 || !strings.Contains(got[0], "after its save failed") || !strings.Contains(got[0], "Options.ErrorHandler") || strings.Contains(got[0], "before the handler writes") {
		t.Errorf("lines: %q, want one Warn naming the ErrorHandler", got)
	}
	if lost := f.m.Metrics().Lost; lost["after_commit"] != 1 {
		t.Errorf("lost: %+v, want one after the commit", lost)
	}
}
