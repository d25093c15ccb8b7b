package cookiesession_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

const day = 24 * time.Hour

// rememberMeServer serves a login form's two answers over TLS: unchecked,
// the Manager's short lifetime in a tlsClient-session cookie; checked, a
// 30-day persistent one.
func rememberMeServer(t *testing.T, f *fixture) *tlsServer {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Renew()
		mustSet(t, s, "user", r.FormValue("user"))
		l := cookiesession.Lifetime{BrowserSession: true}
		if r.FormValue("remember") == "on" {
			l = cookiesession.Lifetime{MaxAge: 30 * day, IdleTimeout: 7 * day}
		}
		if err := s.SetLifetime(l); err != nil {
			t.Error(err)
		}
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, cookiesession.FromContext(r.Context()).GetString("user"))
	})
	srv := newTLSServer(t, f.m.Handler(mux))
	t.Cleanup(srv.Close)
	return srv
}

// tlsClient is one browser of a tlsServer: a client with its own jar.
type tlsClient struct {
	t   *testing.T
	srv *tlsServer
	c   *http.Client
}

func newTLSClient(t *testing.T, srv *tlsServer) *tlsClient {
	return &tlsClient{t: t, srv: srv, c: srv.client(t)}
}

func (b *tlsClient) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(body)
}

func (b *tlsClient) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *tlsClient) post(path string, form url.Values) *http.Response {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := b.do(req)
	return resp
}

// sessionCookie returns the Set-Cookie of the session cookie in resp.
func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			return c
		}
	}
	t.Fatalf("no session cookie in %q", resp.Header.Values("Set-Cookie"))
	return nil
}

// TestRememberMeOverTLS logs in over TLS with a cookie jar: unchecked, a
// cookie without Max-Age that the jar keeps, as a browser that restores
// its last session does, and that the server's IdleTimeout or MaxAge still
// ends; checked, a 7-day Max-Age that slides up to the Lifetime's 30 days.
// Lowering MaxLifetime on the live Manager then cuts a remembered session.
func TestRememberMeOverTLS(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxAge: 2 * time.Hour, IdleTimeout: 30 * time.Minute, MaxLifetime: 30 * day})
	srv := rememberMeServer(t, f)
	start := f.clock.Now()

	short := newTLSClient(t, srv)
	c := sessionCookie(t, short.post("/login", url.Values{"user": {"ada"}}))
	if c.MaxAge != 0 || strings.Contains(c.Raw, "Max-Age") {
		t.Errorf("unchecked: cookie %q, want a tlsClient-session cookie without Max-Age", c.Raw)
	}
	idle := newTLSClient(t, srv)
	idle.post("/login", url.Values{"user": {"eve"}})
	long := newTLSClient(t, srv)
	c = sessionCookie(t, long.post("/login", url.Values{"user": {"bob"}, "remember": {"on"}}))
	if c.MaxAge != int((7 * day).Seconds()) {
		t.Errorf("checked: Max-Age %d, want the 7-day idle window %d", c.MaxAge, int((7 * day).Seconds()))
	}
	// Within a second, as on a real clock, the whole seconds left before
	// the token's whole-second deadline are one fewer (README says so).
	f.clock.Advance(500 * time.Millisecond)
	c = sessionCookie(t, newTLSClient(t, srv).post("/login", url.Values{"user": {"cy"}, "remember": {"on"}}))
	if want := int((7 * day).Seconds()) - 1; c.MaxAge != want {
		t.Errorf("checked at half a second: Max-Age %d, want %d", c.MaxAge, want)
	}

	f.advanceTo(start, 20*time.Minute)
	if _, got := short.get("/me"); got != "ada" {
		t.Errorf("unchecked after 20 minutes: %q, want ada", got)
	}
	// A jar keeps a cookie without Max-Age as long as it lives, as a
	// browser that restores its last session on restart (Chrome's and
	// Edge's "Continue where you left off", Firefox's "Open previous
	// windows and tabs") keeps it: the server's lifetimes end the session.
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	holds := func(b *tlsClient) bool {
		for _, c := range b.c.Jar.Cookies(u) {
			if c.Name == "session" {
				return true
			}
		}
		return false
	}
	f.advanceTo(start, 31*time.Minute) // past the 30-minute IdleTimeout since eve's login
	if !holds(idle) {
		t.Fatal("unchecked: the jar no longer holds the browser-session cookie")
	}
	if _, got := idle.get("/me"); got != "" {
		t.Errorf("unchecked, idle for 31 minutes: %q, want the session ended by the 30-minute IdleTimeout", got)
	}
	f.advanceTo(start, 3*time.Hour) // past the Manager's 2-hour MaxAge
	if !holds(short) {
		t.Fatal("unchecked: the jar no longer holds the browser-session cookie")
	}
	if _, got := short.get("/me"); got != "" {
		t.Errorf("unchecked after 3 hours: %q, want the session ended by the 2-hour MaxAge", got)
	}
	// The remembered session slides its 7-day idle window up to its own
	// 30-day MaxAge, far past the Manager's defaults.
	for d := 3 * day; d < 30*day; d += 3 * day {
		f.advanceTo(start, d)
		if _, got := long.get("/me"); got != "bob" {
			t.Fatalf("checked, day %v: %q, want bob", d/day, got)
		}
	}
	f.advanceTo(start, 30*day)
	if _, got := long.get("/me"); got != "" {
		t.Errorf("checked after 30 days: %q, want the session gone", got)
	}

	// Lowering the ceiling on the live Manager cuts existing sessions.
	again := newTLSClient(t, srv)
	again.post("/login", url.Values{"user": {"cy"}, "remember": {"on"}})
	login := f.clock.Now()
	f.advanceTo(login, 2*day)
	if _, got := again.get("/me"); got != "cy" {
		t.Fatalf("remembered after 2 days: %q, want cy", got)
	}
	if err := f.m.SetMaxLifetime(day); err != nil {
		t.Fatal(err)
	}
	if _, got := again.get("/me"); got != "" {
		t.Errorf("after MaxLifetime fell to 1 day: %q, want the 2-day-old session gone", got)
	}
	if err := f.m.SetMaxLifetime(0); err == nil {
		t.Error("SetMaxLifetime(0) succeeded")
	}
}

// TestLifetimeKeptAcrossReseals checks that a Lifetime survives a change,
// a Clear followed by a Set, a re-key and Renew, and that Destroy drops
// it; a session sealed with one is a version 2 token, without one version 1.
func TestLifetimeKeptAcrossReseals(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxLifetime: 90 * day})
	b := newClientCookies()
	want := cookiesession.Lifetime{MaxAge: 60 * day, BrowserSession: true}
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		mustSet(t, s, "user", "ada")
		if err := s.SetLifetime(want); err != nil {
			t.Fatal(err)
		}
	})
	check := func(step string) {
		t.Helper()
		if got := f.open(b.vals["session"]).Lifetime; got != want {
			t.Errorf("%s: lifetime %+v, want %+v", step, got, want)
		}
		var got cookiesession.Lifetime
		f.serve(b, func(w http.ResponseWriter, r *http.Request) { got = cookiesession.FromContext(r.Context()).Lifetime() })
		if got != want {
			t.Errorf("%s: the next request's Session.Lifetime() = %+v, want %+v", step, got, want)
		}
	}
	check("set")
	if raw := decodeToken(t, b.vals["session"]); raw[0] != 2 {
		t.Errorf("a session with a Lifetime sealed as version %d, want 2", raw[0])
	}
	f.serve(b, setString(t, "n", "1"))
	check("changed")
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Clear()
		mustSet(t, s, "user", "ada")
	})
	check("cleared and stored again")
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { cookiesession.FromContext(r.Context()).Renew() })
	check("renewed")
	f.clock.Advance(30 * day) // past the Manager's 24-hour MaxAge, within the session's own
	var o observed
	f.serve(b, observe(t, &o, http.StatusOK))
	if o.isNew {
		t.Error("a 60-day session expired after 30 days")
	}
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Destroy()
		mustSet(t, s, "user", "again")
		if got := s.Lifetime(); got != (cookiesession.Lifetime{}) {
			t.Errorf("Session.Lifetime() after Destroy = %+v, want zero", got)
		}
	})
	if got := f.open(b.vals["session"]).Lifetime; got != (cookiesession.Lifetime{}) {
		t.Errorf("after Destroy: lifetime %+v, want none", got)
	}
	if raw := decodeToken(t, b.vals["session"]); raw[0] != 1 {
		t.Errorf("a session without a Lifetime sealed as version %d, want 1", raw[0])
	}
}

func TestSetLifetimeRefusesBadDurations(t *testing.T) {
	s := newSession(t, newFixture(t, cookiesession.Options{}))
	codec := newTestCodec(t, ringOf(t, 1), cookiesession.CodecOptions{Name: "s"})
	for _, c := range []struct {
		l    cookiesession.Lifetime
		says string // the error names the field
	}{
		{cookiesession.Lifetime{MaxAge: -time.Second}, "SetLifetime: MaxAge -1s is not between"},
		{cookiesession.Lifetime{IdleTimeout: -time.Hour}, "SetLifetime: IdleTimeout -1h0m0s is not between"},
		{cookiesession.Lifetime{IdleTimeout: time.Millisecond}, "SetLifetime: IdleTimeout"},
		{cookiesession.Lifetime{MaxAge: time.Nanosecond}, "SetLifetime: MaxAge 1ns"},
		{cookiesession.Lifetime{MaxAge: 1 << 33 * time.Second}, "SetLifetime: MaxAge 2386092h56m32s is not between"},
	} {
		if err := s.SetLifetime(c.l); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("SetLifetime(%+v): %v, want an error saying %q", c.l, err, c.says)
		}
		// Seal names the Record's field, as the CHANGELOG says.
		says := strings.Replace(c.says, "SetLifetime:", "Record.Lifetime:", 1)
		if _, err := codec.SealAt(&cookiesession.Record{Lifetime: c.l}, fixedNow); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("Seal of a Record with Lifetime %+v: %v, want an error saying %q", c.l, err, says)
		}
	}
	if s.Len() != 0 || s.IsNew() != true {
		t.Error("a refused SetLifetime changed the session")
	}
}

// TestSetLifetimeRefusesIdleBeyondMaxAge checks that a Lifetime whose
// IdleTimeout outlasts the MaxAge that applies to it is refused, as New
// refuses it in Options: "signed in for a week of inactivity" under the
// Manager's 2-hour MaxAge ended every session after 2 hours. An equal one
// is taken: it is how a session turns Options.IdleTimeout off for itself
// (examples/demo's "remember me").
func TestSetLifetimeRefusesIdleBeyondMaxAge(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxAge: 2 * time.Hour, MaxLifetime: 30 * day})
	s := newSession(t, f)
	for _, l := range []cookiesession.Lifetime{
		{IdleTimeout: 7 * day},                          // the Manager's 2h MaxAge applies
		{MaxAge: time.Hour, IdleTimeout: 2 * time.Hour}, // its own MaxAge is shorter
	} {
		err := s.SetLifetime(l)
		if err == nil || !strings.Contains(err.Error(), "Lifetime.MaxAge") {
			t.Errorf("SetLifetime(%+v): %v; want an error naming Lifetime.MaxAge", l, err)
		}
	}
	if s.Len() != 0 || s.IsNew() != true {
		t.Error("a refused SetLifetime changed the session")
	}
	for _, l := range []cookiesession.Lifetime{
		{MaxAge: 30 * day, IdleTimeout: 7 * day}, {IdleTimeout: 2 * time.Hour}, {MaxAge: 30 * day, IdleTimeout: 30 * day}, {MaxAge: time.Hour},
	} {
		if err := s.SetLifetime(l); err != nil {
			t.Errorf("SetLifetime(%+v): %v", l, err)
		}
	}
}

// TestSetLifetimeRefusesOutlivedMaxAge checks that a Lifetime whose
// MaxAge the session has already outlived is refused as it is set: it
// was taken, the response cleared the cookie, and the user was signed
// out, the handler's change lost, with no error and no log line.
func TestSetLifetimeRefusesOutlivedMaxAge(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, cookiesession.FromContext(r.Context()), "user", "ada")
	})
	f.clock.Advance(3 * time.Hour)
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		err := s.SetLifetime(cookiesession.Lifetime{MaxAge: 2 * time.Hour})
		if err == nil || !strings.Contains(err.Error(), "Renew") {
			t.Errorf("SetLifetime of a 2h MaxAge on a 3h-old session: %v, want an error naming Renew", err)
		}
		mustSet(t, s, "theme", "dark")
		s.Renew()
		if err := s.SetLifetime(cookiesession.Lifetime{MaxAge: 2 * time.Hour}); err != nil {
			t.Errorf("after Renew: %v", err)
		}
	})
	rec := f.open(b.vals["session"])
	if user, _ := rec.Values.Get("user"); user != "ada" || rec.Lifetime.MaxAge != 2*time.Hour {
		t.Errorf("cookie holds user %v, lifetime %+v; want ada, renewed for 2h", user, rec.Lifetime)
	}
}

// TestSetLifetimeOverCeilingWarns checks that a Lifetime longer than
// MaxLifetime is reported as it is set, with the fix, and still bounded.
func TestSetLifetimeOverCeilingWarns(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxLifetime: 48 * time.Hour})
	s := newSession(t, f)
	if err := s.SetLifetime(cookiesession.Lifetime{MaxAge: 48 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(f.log.String(), "MaxLifetime") {
		t.Fatalf("a Lifetime within MaxLifetime was reported:\n%s", f.log)
	}
	if err := s.SetLifetime(cookiesession.Lifetime{MaxAge: 30 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	mustSet(t, s, "user", "alice")
	h := http.Header{}
	if err := f.m.SaveHeader(h, s); err != nil {
		t.Fatal(err)
	}
	warn := f.log.lines("SetLifetime")
	if len(warn) != 1 || !strings.Contains(warn[0], "level=WARN") || !strings.Contains(warn[0], "max_lifetime=48h0m0s") ||
		!strings.Contains(warn[0], "Options.MaxLifetime") {
		t.Errorf("want one warning naming MaxLifetime and the fix, got:\n%s", f.log)
	}
	if got := s.ExpiresAt().Sub(s.CreatedAt()); got != 48*time.Hour {
		t.Errorf("the session lives %v, want MaxLifetime's 48h", got)
	}
}

// TestVersion1TokensUseDefaults checks that a token without a Lifetime is
// sealed as version 1 and opens under the Manager's current MaxAge.
func TestVersion1TokensUseDefaults(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxAge: time.Hour})
	b := newClientCookies()
	f.serve(b, setString(t, "user", "ada"))
	if raw := decodeToken(t, b.vals["session"]); raw[0] != 1 {
		t.Fatalf("version %d, want 1", raw[0])
	}
	short := f.manager(cookiesession.Options{MaxAge: 30 * time.Minute})
	f.clock.Advance(40 * time.Minute)
	if _, err := short.Load(b.request("/")); !errors.Is(err, cookiesession.ErrExpired) {
		t.Errorf("a 40-minute-old session under a 30-minute MaxAge: %v, want ErrExpired", err)
	}
}

func decodeToken(t *testing.T, token string) []byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestRememberMeUnderBrowserSession checks scs's Cookie.Persist = false
// with RememberMe(true), ported as Options.BrowserSession and a Lifetime
// whose BrowserSession is false: the cookie is persistent, on the login's
// response and on the re-seals after it. The zero Lifetime this is used to
// mean "follow the Options", and the cookie stayed a browser-session one.
func TestRememberMeUnderBrowserSession(t *testing.T) {
	f := newFixture(t, cookiesession.Options{BrowserSession: true, IdleTimeout: time.Hour})
	for _, remember := range []bool{true, false} {
		b := newClientCookies()
		resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			mustSet(t, s, "user", "ada")
			if err := s.SetLifetime(cookiesession.Lifetime{BrowserSession: !remember}); err != nil {
				t.Fatal(err)
			}
		})
		if got := ourCookies(t, resp.Header, "session")["session"]; got == nil || (got.MaxAge > 0) != remember {
			t.Errorf("remember %v: cookie %v", remember, got)
		}
		f.clock.Advance(45 * time.Minute) // a refresh is due
		resp = f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			cookiesession.FromContext(r.Context()).GetString("user")
		})
		got := ourCookies(t, resp.Header, "session")["session"]
		if got == nil || (got.MaxAge > 0) != remember {
			t.Errorf("remember %v, refreshed: cookie %v", remember, got)
		}
	}
	// The Lifetime kept for a remembered session is the Manager's MaxAge.
	s := newSession(t, f)
	if err := s.SetLifetime(cookiesession.Lifetime{}); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Lifetime(), (cookiesession.Lifetime{MaxAge: 24 * time.Hour}); got != want {
		t.Errorf("Lifetime() = %+v, want %+v", got, want)
	}
	// Or MaxLifetime, once SetMaxLifetime lowered it below MaxAge.
	if err := f.m.SetMaxLifetime(2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	s = newSession(t, f)
	if err := s.SetLifetime(cookiesession.Lifetime{}); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Lifetime(), (cookiesession.Lifetime{MaxAge: 2 * time.Hour}); got != want {
		t.Errorf("under a MaxLifetime lowered to 2h, Lifetime() = %+v, want %+v", got, want)
	}
}

// TestLowerCeilingCutsDefaultSessions checks that lowering MaxLifetime on
// a live Manager also cuts the sessions that follow its Options, which
// carry no Lifetime of their own (version 1 tokens, those sealed before
// per-session lifetimes among them), and bounds the idle window and the
// Max-Age of the cookies sealed after it.
func TestLowerCeilingCutsDefaultSessions(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxAge: 24 * time.Hour, IdleTimeout: 2 * time.Hour})
	b := newClientCookies()
	f.serve(b, setString(t, "user", "ada"))
	f.clock.Advance(40 * time.Minute)
	var o observed
	f.serve(b, observe(t, &o, http.StatusOK))
	if o.isNew {
		t.Fatal("a 40-minute-old session was refused before the ceiling fell")
	}
	if err := f.m.SetMaxLifetime(30 * time.Minute); err != nil {
		t.Fatal(err)
	}
	resp := f.serve(b, observe(t, &o, http.StatusOK))
	if !o.isNew {
		t.Error("after MaxLifetime fell to 30 minutes, a 40-minute-old session on the defaults still opened")
	}
	requireCleared(t, resp.Header, "session")
	resp = f.serve(b, setString(t, "user", "bob"))
	if c := sessionCookie(t, resp); c.MaxAge != int((30 * time.Minute).Seconds()) {
		t.Errorf("a session sealed under the 30-minute ceiling: Max-Age %d, want 1800", c.MaxAge)
	}
}

// TestLifetimesInWholeSeconds: a bare number given as a time.Duration
// counts nanoseconds, so express-session's cookie.maxAge in milliseconds
// (86400000 for a day, 30*24*3600*1000 for 30 days) or a count of seconds
// (86400) is a fraction of a second or a few seconds. New, SetLifetime and
// SetMaxLifetime refuse any lifetime that is not whole seconds, which
// tokens carry, with an error that gives the value with its unit: 2.592s
// was taken and cut to 2s, a remember-me session that died at once.
func TestLifetimesInWholeSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{86400000, "86.4ms is under a second: a time.Duration counts nanoseconds; for 86400000 seconds write time.Duration(86400000) * time.Second (24000h0m0s), for 86400000 milliseconds (express-session's cookie.maxAge) * time.Millisecond (24h0m0s)"},
		{86400, "86.4µs is under a second: a time.Duration counts nanoseconds; for 86400 seconds write time.Duration(86400) * time.Second (24h0m0s)"},
		{30 * 24 * 3600 * 1000, "2.592s is not a whole number of seconds: a time.Duration counts nanoseconds; for 2592000000 milliseconds (express-session's cookie.maxAge) write time.Duration(2592000000) * time.Millisecond (720h0m0s)"},
		{time.Hour + time.Second/2, "1h0m0.5s is not a whole number of seconds, which tokens carry: round it, 1h0m1s"},
	} {
		_, err := cookiesession.New(ringOf(t, keyA), cookiesession.Options{MaxAge: tc.d, MaxLifetime: 60 * day})
		if err == nil || !strings.Contains(err.Error(), "MaxAge "+tc.want) {
			t.Errorf("New(MaxAge %d): %v, want %q", int64(tc.d), err, tc.want)
		}
		_, err = cookiesession.New(ringOf(t, keyA), cookiesession.Options{MaxAge: 60 * day, IdleTimeout: tc.d})
		if err == nil || !strings.Contains(err.Error(), "IdleTimeout "+tc.want) {
			t.Errorf("New(IdleTimeout %d): %v, want %q", int64(tc.d), err, tc.want)
		}
		f := newFixture(t, cookiesession.Options{MaxLifetime: 60 * day})
		s := newSession(t, f)
		if err := s.SetLifetime(cookiesession.Lifetime{MaxAge: tc.d}); err == nil || !strings.Contains(err.Error(), "SetLifetime: MaxAge "+tc.want) {
			t.Errorf("SetLifetime(MaxAge %d): %v, want %q", int64(tc.d), err, tc.want)
		}
		if s.Lifetime() != (cookiesession.Lifetime{}) {
			t.Errorf("a refused SetLifetime left %+v", s.Lifetime())
		}
		if err := f.m.SetMaxLifetime(tc.d); err == nil || !strings.Contains(err.Error(), "SetMaxLifetime "+tc.want) {
			t.Errorf("SetMaxLifetime(%d): %v, want %q", int64(tc.d), err, tc.want)
		}
		_, err = cookiesession.New(ringOf(t, keyA), cookiesession.Options{MaxLifetime: 61*day + tc.d})
		if err == nil || !strings.Contains(err.Error(), "MaxLifetime ") || !strings.Contains(err.Error(), "is not a whole number of seconds") {
			t.Errorf("New(MaxLifetime %v): %v", 61*day+tc.d, err)
		}
	}
	// Whole seconds, written with a unit, are taken.
	if _, err := cookiesession.New(ringOf(t, keyA), cookiesession.Options{MaxAge: 86400000 * time.Millisecond, IdleTimeout: 90 * time.Minute}); err != nil {
		t.Error(err)
	}
}

// browserCap is the longest Max-Age browsers keep (RFC 6265bis; Chrome
// since M104): a longer one is cut to it without a word.
const browserCap = 400 * day

// TestNewRefusesMaxAgeBrowsersCut: a persistent cookie whose Max-Age can
// pass 400 days is cut by the browser, so MaxAge 2*365 days without an
// IdleTimeout signed out a user active every day, but whose session never
// changed, at day 400. New refuses it and names the fix; an IdleTimeout of
// at most 400 days serves the same MaxAge, and MaxLifetime, a ceiling, is
// not bound.
func TestNewRefusesMaxAgeBrowsersCut(t *testing.T) {
	const years2 = 2 * 365 * day
	for _, tc := range []struct {
		opts cookiesession.Options
		want string
	}{
		{cookiesession.Options{MaxAge: years2}, "MaxAge 17520h0m0s (730 days) with no IdleTimeout writes a cookie whose Max-Age passes 400 days"},
		{cookiesession.Options{MaxAge: 401 * day, MaxLifetime: years2}, "set an IdleTimeout of at most 400 days beside this MaxAge"},
		{cookiesession.Options{MaxAge: browserCap + time.Second}, "MaxAge 9600h0m1s (more than 400 days) with no IdleTimeout"},
		{cookiesession.Options{MaxAge: years2, IdleTimeout: 401 * day}, "IdleTimeout 9624h0m0s (401 days) is longer than browsers keep a cookie"},
		{cookiesession.Options{MaxAge: 30 * day, IdleTimeout: 500 * day, MaxLifetime: years2}, "set an IdleTimeout of at most 400 days"},
		// Before the rule that IdleTimeout be shorter than MaxAge, whose
		// fix (raise MaxAge) would lead here.
		{cookiesession.Options{IdleTimeout: 500 * day}, "IdleTimeout 12000h0m0s (500 days) is longer than browsers keep"},
	} {
		_, err := cookiesession.New(ringOf(t, keyA), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "RFC 6265bis") {
			t.Errorf("New(MaxAge %v, IdleTimeout %v, MaxLifetime %v) = %v, want an error containing %q",
				tc.opts.MaxAge, tc.opts.IdleTimeout, tc.opts.MaxLifetime, err, tc.want)
		}
	}
	for _, opts := range []cookiesession.Options{
		{MaxAge: browserCap},
		{MaxAge: years2, IdleTimeout: browserCap},
		{MaxAge: years2, IdleTimeout: 30 * day},
		{MaxAge: years2, BrowserSession: true},
		{MaxAge: years2, IdleTimeout: 500 * day, BrowserSession: true},
		{MaxAge: 30 * day, MaxLifetime: years2},
	} {
		if _, err := cookiesession.New(ringOf(t, keyA), opts); err != nil {
			t.Errorf("New(MaxAge %v, IdleTimeout %v, BrowserSession %v, MaxLifetime %v): %v",
				opts.MaxAge, opts.IdleTimeout, opts.BrowserSession, opts.MaxLifetime, err)
		}
	}
}

// TestTwoYearsUnderTheBrowsersCap: the fix New names keeps a user who
// visits every 150 days signed in for the whole two-year MaxAge, each
// cookie written within the browsers' 400 days, and the cookie a browser
// holds (its Max-Age cut to 400 days) unexpired at every visit.
func TestTwoYearsUnderTheBrowsersCap(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxAge: 2 * 365 * day, IdleTimeout: browserCap})
	b := newClientCookies()
	start := f.clock.Now()
	var held time.Time // when the browser drops the cookie it holds
	keep := func(resp *http.Response) {
		if c := ourCookies(t, resp.Header, "session")["session"]; c != nil {
			if age := time.Duration(c.MaxAge) * time.Second; age > browserCap {
				t.Errorf("day %v: Max-Age %d passes 400 days", f.clock.Now().Sub(start)/day, c.MaxAge)
			}
			held = f.clock.Now().Add(min(time.Duration(c.MaxAge)*time.Second, browserCap))
		}
	}
	keep(f.serve(b, setString(t, "user", "ada")))
	for d := 150 * day; d < 2*365*day; d += 150 * day {
		f.advanceTo(start, d)
		if !f.clock.Now().Before(held) {
			t.Fatalf("day %v: the browser dropped the cookie on %v", d/day, held)
		}
		var user string
		keep(f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			user = cookiesession.FromContext(r.Context()).GetString("user")
		}))
		if user != "ada" {
			t.Fatalf("day %v: user %q, want ada", d/day, user)
		}
	}
}

// TestLifetimePastBrowsersCutKept: a token an earlier release sealed
// with a Lifetime that SetLifetime now refuses (2 years, no idle window)
// still opens, and keeps that Lifetime through a change, until it ends.
func TestLifetimePastBrowsersCutKept(t *testing.T) {
	const years2 = 2 * 365 * day
	f := newFixture(t, cookiesession.Options{MaxLifetime: years2})
	long := cookiesession.Lifetime{MaxAge: years2}
	rec := cookiesession.Record{Lifetime: long}
	if err := rec.Values.Set("user", "ada"); err != nil {
		t.Fatal(err)
	}
	token, err := f.m.Codec().SealAt(&rec, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	start := f.clock.Now()
	b := newClientCookies()
	b.vals["session"] = token
	f.advanceTo(start, day)
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if s.GetString("user") != "ada" || s.Lifetime() != long {
			t.Errorf("day 1: user %q, Lifetime %+v; want ada, %+v", s.GetString("user"), s.Lifetime(), long)
		}
		mustSet(t, s, "theme", "dark")
	})
	if got := f.open(b.vals["session"]); got.Lifetime != long || got.Values.Len() != 2 {
		t.Errorf("after a change: Lifetime %+v, %d values; want %+v and 2", got.Lifetime, got.Values.Len(), long)
	}
	var user string
	read := func(w http.ResponseWriter, r *http.Request) {
		user = cookiesession.FromContext(r.Context()).GetString("user")
	}
	f.advanceTo(start, years2-day)
	if f.serve(b, read); user != "ada" {
		t.Errorf("day 729: user %q, want ada", user)
	}
	f.advanceTo(start, years2)
	if f.serve(b, read); user != "" {
		t.Errorf("day 730: user %q, want the session ended", user)
	}
}

// TestSetLifetimeRefusesMaxAgeBrowsersCut: a "remember me for 2 years"
// Lifetime without an idle window wrote Max-Age 63072000, which browsers
// cut to 400 days without a word. SetLifetime refuses a persistent
// Lifetime whose Max-Age can pass 400 days: its MaxAge with no idle
// window, or its idle window, each its own or else the Options'. It
// judges what the Lifetime asks, not its cut to MaxLifetime, which
// SetMaxLifetime may raise while the token carries the Lifetime.
func TestSetLifetimeRefusesMaxAgeBrowsersCut(t *testing.T) {
	const years2 = 2 * 365 * day
	for _, tc := range []struct {
		opts cookiesession.Options
		l    cookiesession.Lifetime
		want string // "" if taken
	}{
		{cookiesession.Options{MaxLifetime: years2}, cookiesession.Lifetime{MaxAge: years2}, "SetLifetime: the session's MaxAge 17520h0m0s (730 days) with no IdleTimeout"},
		{cookiesession.Options{MaxLifetime: years2}, cookiesession.Lifetime{MaxAge: years2, IdleTimeout: years2}, "SetLifetime: the session's IdleTimeout 17520h0m0s (730 days)"},
		{cookiesession.Options{MaxLifetime: years2}, cookiesession.Lifetime{MaxAge: years2, IdleTimeout: 401 * day}, "IdleTimeout 9624h0m0s (401 days)"},
		{cookiesession.Options{MaxLifetime: 300 * day}, cookiesession.Lifetime{MaxAge: years2}, "(730 days) with no IdleTimeout"},
		{cookiesession.Options{MaxAge: years2, BrowserSession: true}, cookiesession.Lifetime{}, "SetLifetime: the session's MaxAge 17520h0m0s"},
		{cookiesession.Options{MaxAge: 30 * day, IdleTimeout: 500 * day, MaxLifetime: years2, BrowserSession: true}, cookiesession.Lifetime{MaxAge: years2}, "IdleTimeout 12000h0m0s (500 days)"},
		{cookiesession.Options{MaxLifetime: years2}, cookiesession.Lifetime{MaxAge: years2, IdleTimeout: browserCap}, ""},
		{cookiesession.Options{MaxLifetime: years2}, cookiesession.Lifetime{MaxAge: years2, IdleTimeout: 30 * day}, ""}, // README's "remember me for 2 years"
		{cookiesession.Options{MaxLifetime: years2}, cookiesession.Lifetime{MaxAge: browserCap}, ""},
		{cookiesession.Options{MaxLifetime: years2}, cookiesession.Lifetime{MaxAge: years2, BrowserSession: true}, ""},
		{cookiesession.Options{IdleTimeout: time.Hour, MaxLifetime: years2}, cookiesession.Lifetime{MaxAge: years2}, ""},
		{cookiesession.Options{MaxAge: years2, BrowserSession: true}, cookiesession.Lifetime{BrowserSession: true}, ""},
	} {
		s := newSession(t, newFixture(t, tc.opts))
		err := s.SetLifetime(tc.l)
		o := fmt.Sprintf("Options MaxAge %v, IdleTimeout %v, MaxLifetime %v, BrowserSession %v", tc.opts.MaxAge, tc.opts.IdleTimeout, tc.opts.MaxLifetime, tc.opts.BrowserSession)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: SetLifetime(%+v): %v", o, tc.l, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "400 days")):
			t.Errorf("%s: SetLifetime(%+v) = %v, want an error containing %q", o, tc.l, err, tc.want)
		case tc.want != "" && s.Lifetime() != (cookiesession.Lifetime{}):
			t.Errorf("a refused SetLifetime left %+v", s.Lifetime())
		}
	}
}

// TestSCSSetDeadline checks the README's port of scs's SetDeadline(ctx, t):
// SetLifetime(Lifetime{MaxAge: t.Sub(s.CreatedAt()).Truncate(time.Second)})
// is accepted for a deadline with a fraction of a second, as time.Now() and
// anything added to it has, and the session ends at t at the latest. The
// form without Truncate, which the README gave, is refused for such a t:
// CreatedAt is in whole seconds.
func TestSCSSetDeadline(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxAge: time.Hour, MaxLifetime: 48 * time.Hour})
	f.clock.Advance(300 * time.Millisecond)
	deadline := f.clock.Now().Add(24*time.Hour + 250*time.Millisecond)
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		mustSet(t, s, "user", "ada")
		if err := s.SetLifetime(cookiesession.Lifetime{MaxAge: deadline.Sub(s.CreatedAt())}); err == nil {
			t.Error("SetLifetime took a MaxAge with a fraction of a second")
		}
		if err := s.SetLifetime(cookiesession.Lifetime{MaxAge: deadline.Sub(s.CreatedAt()).Truncate(time.Second)}); err != nil {
			t.Fatalf("SetLifetime with the README's SetDeadline port: %v", err)
		}
	})
	rec := f.open(b.vals["session"])
	if rec.Expires.After(deadline) || deadline.Sub(rec.Expires) > time.Second {
		t.Errorf("token expires %v, want at most a second before the deadline %v", rec.Expires, deadline)
	}
	f.advanceTo(deadline, 0)
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		if s := cookiesession.FromContext(r.Context()); s.Has("user") {
			t.Error("the session outlived its deadline")
		}
	})
}

// TestSCSDeadline checks the README's port of scs's Deadline(ctx): the
// session's CreatedAt plus the MaxAge that applies (its Lifetime's, else
// Options.MaxAge), at most MaxLifetime. Sessions asking for 7 days, for
// 90 (over the 30-day MaxLifetime, which cuts it), and for nothing (the
// 1-hour MaxAge) are signed in a second before that deadline and signed
// out at it. CreatedAt plus the Lifetime's MaxAge alone, which the README
// gave, names a day 60 days after the 90-day session has ended.
func TestSCSDeadline(t *testing.T) {
	const maxLifetime = 30 * day
	for _, asked := range []time.Duration{7 * day, 90 * day, 0} {
		t.Run(asked.String(), func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{MaxAge: time.Hour, MaxLifetime: maxLifetime})
			b := newClientCookies()
			var deadline, naive time.Time
			f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				s := cookiesession.FromContext(r.Context())
				mustSet(t, s, "user", "ada")
				if asked > 0 {
					if err := s.SetLifetime(cookiesession.Lifetime{MaxAge: asked}); err != nil {
						t.Fatal(err)
					}
				}
				maxAge := s.Lifetime().MaxAge
				if maxAge == 0 {
					maxAge = time.Hour // Options.MaxAge
				}
				naive = s.CreatedAt().Add(maxAge)
				deadline = s.CreatedAt().Add(min(maxAge, maxLifetime))
			})
			if asked > maxLifetime && !naive.After(deadline) {
				t.Errorf("CreatedAt plus the Lifetime's MaxAge (%v) is not after the cut deadline %v", naive, deadline)
			}
			for _, step := range []struct {
				at   time.Duration
				want bool
			}{{-time.Second, true}, {0, false}} {
				f.advanceTo(deadline, step.at)
				f.serve(b, func(w http.ResponseWriter, r *http.Request) {
					if got := cookiesession.FromContext(r.Context()).Has("user"); got != step.want {
						t.Errorf("at the recipe's deadline %+v: signed in %v, want %v", step.at, got, step.want)
					}
				})
			}
		})
	}
}

// TestSCSIdleTimeout checks the README's scs table on IdleTimeout: under a
// 20-minute window, a request at minute 9 does not re-issue the cookie,
// so 11 minutes without requests then end the session; RefreshThreshold 1
// re-issues it at minute 9, and at each request after it, as scs re-saves.
func TestSCSIdleTimeout(t *testing.T) {
	f := newFixture(t, cookiesession.Options{IdleTimeout: 20 * time.Minute})
	t0 := f.clock.Now()
	b := newClientCookies()
	f.serve(b, setString(t, "user", "alice"))
	runRefreshSteps(t, f, t0, []refreshStep{
		{at: 9 * time.Minute, from: b},
		{at: 20 * time.Minute, from: b, wantFresh: true},
	})

	f = newFixture(t, cookiesession.Options{IdleTimeout: 20 * time.Minute, RefreshThreshold: 1})
	t0 = f.clock.Now()
	b = newClientCookies()
	f.serve(b, setString(t, "user", "alice"))
	runRefreshSteps(t, f, t0, []refreshStep{
		{at: 9 * time.Minute, from: b, wantCookie: true, wantExpires: 29 * time.Minute},
		{at: 20 * time.Minute, from: b, wantCookie: true, wantExpires: 40 * time.Minute},
		{at: 20*time.Minute + time.Second, from: b, wantCookie: true, wantExpires: 40*time.Minute + time.Second},
	})
}

// TestRememberMeAcrossAYearOfRotations runs README's "remember me" recipe
// and its rotation runbook together for a year on a fake clock, over TLS
// with a cookie jar: a key added each month with a promote_at an hour
// later, and the key that stopped sealing removed once MaxLifetime (90
// days) has passed since. A user who comes back every three weeks stays
// signed in until the session's own 90 days end, then signs in again; one
// who comes back once after 80 days is still signed in. Removed two days
// after its successor took over, as a MaxAge of 24h would allow, the key
// signs the 80-day user out, and the Manager says so at that request: a
// Warn naming the key and refused.unknown_key (and so is any user who
// does not come back within those two days).
func TestRememberMeAcrossAYearOfRotations(t *testing.T) {
	for _, tc := range []struct {
		removeAfter time.Duration // since the successor's promote_at
		onceIn      bool          // the 80-day user is still signed in
	}{{90 * day, true}, {2 * day, false}} {
		f := newFixture(t, cookiesession.Options{MaxAge: 2 * time.Hour, IdleTimeout: 30 * time.Minute, MaxLifetime: 90 * day})
		f.ring.SetClock(f.clock.Now)
		srv := yearServer(t, f, cookiesession.Lifetime{MaxAge: 90 * day, IdleTimeout: 90 * day}) // no idle window of its own
		start := f.clock.Now()
		login := func(user string) *tlsClient {
			c := newTLSClient(t, srv)
			c.post("/login", url.Values{"user": {user}, "remember": {"on"}})
			return c
		}
		regular, regularSince := login("regular"), start
		var once *tlsClient
		promoted := map[uint32]time.Time{} // key id -> when it stopped sealing
		primary := uint32(keyA)
		for hour := time.Duration(0); hour <= 365*24; hour++ {
			now := start.Add(hour * time.Hour)
			f.advanceTo(start, hour*time.Hour)
			switch {
			case hour%(30*24) == 30*24-1: // a month's key, due in an hour
				next := uint32(0x70000000 + hour)
				if err := f.ring.AddScheduled(keyForID(t, next), now.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				promoted[primary], primary = now.Add(time.Hour), next
			case hour == 100*24:
				once = login("once")
			case hour == 180*24 && once != nil:
				if _, got := once.get("/me"); (got == "once") != tc.onceIn {
					t.Errorf("remove %v after: the 80-day user got %q, want signed in %v", tc.removeAfter, got, tc.onceIn)
				}
			case hour%(21*24) == 0 && hour > 0:
				_, got := regular.get("/me")
				if want := now.Sub(regularSince) < 90*day; tc.onceIn && (got == "regular") != want {
					t.Errorf("remove %v after: day %d, the 3-weekly user got %q, want signed in %v", tc.removeAfter, hour/24, got, want)
				}
				if got != "regular" {
					regular, regularSince = login("regular"), now
				}
			}
			for id, at := range promoted {
				if now.Sub(at) >= tc.removeAfter {
					if err := f.ring.Remove(id); err != nil {
						t.Fatal(err)
					}
					delete(promoted, id)
				}
			}
		}
		warned := len(f.log.lines("unknown key id")) > 0
		refused := f.m.Metrics().Refused["unknown_key"]
		if tc.onceIn && (warned || refused != 0) || !tc.onceIn && (!warned || refused == 0) {
			t.Errorf("remove %v after: unknown key Warn %v, refused.unknown_key %d; log:\n%s", tc.removeAfter, warned, refused, f.log)
		}
	}
}

// yearServer serves README's "remember me" login with remember as the
// ticked box's Lifetime, and /me the signed-in user.
func yearServer(t *testing.T, f *fixture, remember cookiesession.Lifetime) *tlsServer {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Renew()
		l := cookiesession.Lifetime{BrowserSession: true}
		if r.FormValue("remember") == "on" {
			l = remember
		}
		if err := s.SetLifetime(l); err != nil {
			t.Error(err)
		}
		mustSet(t, s, "user", r.FormValue("user"))
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, cookiesession.FromContext(r.Context()).GetString("user"))
	})
	srv := newTLSServer(t, f.m.Handler(mux))
	t.Cleanup(srv.Close)
	return srv
}

// TestGorillaRememberMeOneBranch checks the README's gorilla/sessions row
// on session.Options.MaxAge: gorilla's session.Options is the store's
// again at each Get, so a port that calls SetLifetime only when "remember
// me" is ticked keeps an earlier login's 30 days through Renew at an
// unticked login on the same session, where SetLifetime(Lifetime{}) on
// that branch gives the Options' 24 hours back.
func TestGorillaRememberMeOneBranch(t *testing.T) {
	for _, unticked := range []bool{false, true} {
		t.Run(fmt.Sprint("Lifetime{} when unticked ", unticked), func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{MaxLifetime: 30 * day})
			b := newClientCookies()
			f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				s := cookiesession.FromContext(r.Context())
				s.Renew()
				mustSet(t, s, "user", "ada")
				if err := s.SetLifetime(cookiesession.Lifetime{MaxAge: 30 * day}); err != nil {
					t.Fatal(err)
				}
			})
			f.clock.Advance(time.Hour)
			resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
				s := cookiesession.FromContext(r.Context())
				s.Renew()
				mustSet(t, s, "user", "bob")
				if unticked {
					if err := s.SetLifetime(cookiesession.Lifetime{}); err != nil {
						t.Fatal(err)
					}
				}
			})
			c := ourCookies(t, resp.Header, "session")["session"]
			want := 30 * day
			if unticked {
				want = 24 * time.Hour
			}
			if c == nil || time.Duration(c.MaxAge)*time.Second != want {
				t.Errorf("bob's cookie %v, want Max-Age %v", c, want)
			}
			if got := f.open(b.vals["session"]).Lifetime; unticked != (got == cookiesession.Lifetime{}) {
				t.Errorf("bob's Lifetime %+v", got)
			}
		})
	}
}

// TestLifetimeBeforeValuesKept: a Lifetime set on a session that holds no
// values yet (a login page's "remember me" box, ticked a request before
// the user id is stored) is sent in a cookie of its own, and the values a
// later request stores keep it. It was dropped without a word: a session
// with no values sent no cookie. A Lifetime that Destroy dropped, or a
// session whose last value is deleted, still sends none, or clears it.
func TestLifetimeBeforeValuesKept(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxAge: 2 * time.Hour, MaxLifetime: 30 * day})
	remember := cookiesession.Lifetime{MaxAge: 30 * day, IdleTimeout: 7 * day}
	b := newClientCookies()
	resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		if err := cookiesession.FromContext(r.Context()).SetLifetime(remember); err != nil {
			t.Error(err)
		}
	})
	set := ourCookies(t, resp.Header, "session")
	if len(set) != 1 || set["session"].MaxAge <= 0 {
		t.Fatalf("SetLifetime on a session with no values set %v, want one persistent cookie carrying the Lifetime", resp.Header["Set-Cookie"])
	}
	if got := f.open(set["session"].Value).Lifetime; got != remember {
		t.Fatalf("its token carries Lifetime %+v, want %+v", got, remember)
	}
	cleared := f.serve(b.clone(), func(w http.ResponseWriter, r *http.Request) { cookiesession.FromContext(r.Context()).Clear() })
	requireCleared(t, cleared.Header, "session")
	f.clock.Advance(time.Minute)
	resp = f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if got := s.Lifetime(); got != remember {
			t.Errorf("the next request's session has Lifetime %+v, want %+v", got, remember)
		}
		s.Renew()
		mustSet(t, s, "user", "ada")
	})
	set = ourCookies(t, resp.Header, "session")
	if rec := f.open(set["session"].Value); rec.Lifetime != remember || set["session"].MaxAge < int((7*day).Seconds())-1 {
		t.Fatalf("the login's cookie carries Lifetime %+v and Max-Age %d, want %+v and 7 days", rec.Lifetime, set["session"].MaxAge, remember)
	}

	for _, tc := range []struct {
		name string
		h    func(s *cookiesession.Session)
	}{
		{"Destroy after SetLifetime", func(s *cookiesession.Session) { _ = s.SetLifetime(remember); s.Destroy() }},
		{"SetLifetime to the Options'", func(s *cookiesession.Session) { _ = s.SetLifetime(cookiesession.Lifetime{}) }},
	} {
		resp := f.serve(newClientCookies(), func(w http.ResponseWriter, r *http.Request) { tc.h(cookiesession.FromContext(r.Context())) })
		if got := resp.Header["Set-Cookie"]; len(got) != 0 {
			t.Errorf("%s on a new session set %q, want no cookie", tc.name, got)
		}
	}
	resp = f.serve(b, func(w http.ResponseWriter, r *http.Request) { cookiesession.FromContext(r.Context()).Delete("user") })
	requireCleared(t, resp.Header, "session")
}

// TestLifetimeEveryRequestLogoutByDelete: an app whose middleware sets the
// Lifetime at every request, and that signs out by removing the last value
// (Delete, Pop, or Flashes taking the only value), has the cookie expired:
// the Lifetime alone kept it, a 30-day cookie with the session's id.
func TestLifetimeEveryRequestLogoutByDelete(t *testing.T) {
	remember := cookiesession.Lifetime{MaxAge: 30 * day}
	for _, tc := range []struct {
		name   string
		store  func(s *cookiesession.Session)
		remove func(s *cookiesession.Session)
	}{
		{"Delete", func(s *cookiesession.Session) { mustSet(t, s, "user", "ada") }, func(s *cookiesession.Session) { s.Delete("user") }},
		{"Pop", func(s *cookiesession.Session) { mustSet(t, s, "user", "ada") }, func(s *cookiesession.Session) { s.Pop("user") }},
		{"Flashes", func(s *cookiesession.Session) { s.AddFlash("bye") }, func(s *cookiesession.Session) { s.Flashes() }},
	} {
		f := newFixture(t, cookiesession.Options{MaxAge: 2 * time.Hour, MaxLifetime: 30 * day})
		b := newClientCookies()
		f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			_ = s.SetLifetime(remember)
			tc.store(s)
		})
		resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			_ = s.SetLifetime(remember)
			tc.remove(s)
		})
		t.Run(tc.name, func(t *testing.T) { requireCleared(t, resp.Header, "session") })
	}
}
