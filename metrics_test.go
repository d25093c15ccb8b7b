package cookiesession_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/seed-ff2808ae/cookiesession"
)

// TestMetricsCount drives one of each event through a Manager and checks
// every counter, the ring it reports and the expvar form.
func TestMetricsCount(t *testing.T) {
	f := newFixture(t, cookiesession.Options{MaxAge: time.Hour, MaxCookieSize: 400,
		Validate: func(_ *http.Request, s *cookiesession.Session) error {
			if s.GetString("user") == "revoked" {
				return errors.New("revoked")
			}
			return nil
		}})
	read := observe(t, new(observed), http.StatusOK)
	b := newClientCookies()
	f.serve(b, setString(t, "user", "ada")) // written 1
	f.serve(b, read)                        // opened under A
	cookie := func(v string) *clientCookies { c := newClientCookies(); c.vals["session"] = v; return c }
	tampered := []byte(b.vals["session"])
	tampered[60] = map[bool]byte{true: 'B', false: 'A'}[tampered[60] == 'A']            // another base64url character
	f.serve(cookie(string(tampered)), read)                                             // auth_failed, cleared 1
	f.serve(cookie("!"+strings.Repeat("A", 150)), read)                                 // bad_encoding, cleared 2
	f.serve(cookie(sealWith(t, ringOf(t, 0x0badcafe), "session", f.clock.Now())), read) // unknown_key, not cleared
	ahead := cookie(sealWith(t, f.ring, "session", f.clock.Now().Add(2*time.Minute)))   // by a clock 2 minutes ahead
	f.serve(ahead, read)                                                                // clock_skew, not cleared
	if len(ahead.vals) != 1 {
		t.Error("the cookie from an instance whose clock is ahead was cleared")
	}
	if warns := f.log.lines("created in the future"); len(warns) != 1 || !strings.Contains(warns[0], "level=WARN") || !strings.Contains(warns[0], "NTP") ||
		!strings.Contains(warns[0], "ahead_by=2m0s") || !strings.Contains(warns[0], "this one runs behind") {
		t.Errorf("a token from a clock ahead: want one warning saying how far ahead, both causes and the fix, got %q", warns)
	}
	revoked := newClientCookies()
	f.serve(revoked, setString(t, "user", "revoked"))                 // written 2
	f.serve(revoked, read)                                            // opened under A, then validate, cleared 3
	f.serve(b.clone(), setString(t, "big", strings.Repeat("x", 500))) // opened under A, too large 1
	f.serve(b.clone(), func(w http.ResponseWriter, r *http.Request) { // opened under A, too large 2, once
		s := sessionOf(t, r)
		if err := s.Set("big", strings.Repeat("y", 500)); err != nil {
			t.Fatal(err)
		}
		if err := f.m.Save(w, r, s); !errors.Is(err, cookiesession.ErrTooLarge) {
			t.Errorf("Save of a session that does not fit: %v", err)
		}
	}) // the commit fails again; the session is counted once
	old := b.clone()
	if err := f.ring.Add(keyForID(t, keyB)); err != nil {
		t.Fatal(err)
	}
	if err := f.ring.Promote(keyB); err != nil {
		t.Fatal(err)
	}
	f.serve(old, read) // opened under A, resealed, written 3
	f.serve(old, read) // opened under B
	f.clock.Advance(2 * time.Hour)
	f.serve(old, read) // expired, cleared 4

	want := cookiesession.Metrics{
		Opened:   map[string]uint64{"1a2b3c4d": 4, "2b3c4d5e": 1},
		Refused:  map[string]uint64{"unknown_key": 1, "expired": 1, "bad_encoding": 1, "auth_failed": 1, "validate": 1, "clock_skew": 1},
		Resealed: 1, Written: 3, Cleared: 4, TooLarge: 2,
		Dropped: map[string]uint64{"plain_http": 0, "domain": 0, "cross_site": 0},
		Lost:    map[string]uint64{"after_commit": 0, "after_panic": 0, "unsaved": 0},
		Primary: "2b3c4d5e",
		Keys:    f.ring.KeysAt(f.clock.Now()),
	}
	got := f.m.Metrics()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Metrics (-want +got):\n%s", diff)
	}
	var fromVar cookiesession.Metrics
	if err := json.Unmarshal([]byte(f.m.Var().String()), &fromVar); err != nil {
		t.Fatalf("Var is not JSON: %v", err)
	}
	if diff := cmp.Diff(got, fromVar, equateTimes); diff != "" {
		t.Errorf("Var read back differs from Metrics (-want +got):\n%s\nVar: %s", diff, f.m.Var().String())
	}
	if !strings.Contains(f.m.Var().String(), `"keys":[{"id":"1a2b3c4d","primary":false,"fingerprint":"a29385f00e67"},{"id":"2b3c4d5e","primary":true,"fingerprint":"23d79fe23408"}]`) {
		t.Errorf("Var's keys are not in the hex the CLI prints: %s", f.m.Var().String())
	}
	if strings.Contains(f.m.Var().String(), "secret") {
		t.Errorf("Var mentions a secret: %s", f.m.Var().String())
	}
}

// TestUnknownKeyWarns checks the one refusal reason logged at Warn with
// the default level: once a minute per key id, naming it.
func TestUnknownKeyWarns(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	f.m = f.manager(cookiesession.Options{Logger: newInfoLogger(f.log)})
	unknown := func(id uint32) *clientCookies {
		c := newClientCookies()
		c.vals["session"] = sealWith(t, ringOf(t, id), "session", f.clock.Now())
		return c
	}
	read := observe(t, new(observed), http.StatusOK)
	for range 3 {
		f.serve(unknown(0x0badcafe), read)
	}
	f.serve(unknown(0x0badf00d), read)
	expired := newClientCookies()
	f.serve(expired, setString(t, "user", "ada"))
	f.clock.Advance(25 * time.Hour)
	f.serve(expired, read) // expired: Debug, not shown
	if n := strings.Count(f.log.String(), "key_id=0badcafe"); n != 1 {
		t.Errorf("0badcafe warned %d times in a minute, want once:\n%s", n, f.log)
	}
	if n := strings.Count(f.log.String(), "key_id=0badf00d"); n != 1 {
		t.Errorf("0badf00d warned %d times, want once:\n%s", n, f.log)
	}
	if n := strings.Count(f.log.String(), "level=WARN"); n != 2 {
		t.Errorf("%d Warn lines, want 2 (expired is Debug):\n%s", n, f.log)
	}
	// README (Operators, "An instance on a ring of its own"): the Warn
	// names the key id and this instance's ring.
	for _, line := range f.log.lines("level=WARN") {
		if !strings.Contains(line, "session cookie refused") || !strings.Contains(line, "ring=cookiesession.KeyRing["+cookiesession.FormatKeyID(keyA)+"*:") {
			t.Errorf("the Warn does not name this instance's ring: %s", line)
		}
	}
	f.clock.Advance(time.Minute)
	f.serve(unknown(0x0badcafe), read)
	if n := strings.Count(f.log.String(), "key_id=0badcafe"); n != 2 {
		t.Errorf("0badcafe warned %d times over two minutes, want twice", n)
	}
}

// TestClockSkewWarnsOncePerKeyID checks README's "Clocks apart": an
// authentic token created more than 60 s ahead of this instance's clock
// is logged at Warn once a minute per key id, with ahead_by, at Debug in
// between, and its cookie is kept.
func TestClockSkewWarnsOncePerKeyID(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	if err := f.ring.Add(keyForID(t, keyB)); err != nil {
		t.Fatal(err)
	}
	read := observe(t, new(observed), http.StatusOK)
	ahead := func(id uint32) {
		t.Helper()
		c := newClientCookies()
		c.vals["session"] = sealWith(t, ringOf(t, id), "session", f.clock.Now().Add(2*time.Minute))
		if resp := f.serve(c, read); len(resp.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("the cookie of key %08x from a clock ahead was answered with %q, want it kept", id, resp.Header.Values("Set-Cookie"))
		}
	}
	levels := func() (warn, debug int) {
		for _, line := range f.log.lines("created in the future") {
			switch {
			case strings.Contains(line, "level=WARN") && strings.Contains(line, "ahead_by=2m0s"):
				warn++
			case strings.Contains(line, "level=DEBUG"):
				debug++
			}
		}
		return warn, debug
	}
	for range 3 {
		ahead(keyA)
	}
	ahead(keyB)
	if warn, debug := levels(); warn != 2 || debug != 2 {
		t.Errorf("three cookies from a clock ahead under one key id and one under another: %d Warn, %d Debug; want 2 and 2; log:\n%s", warn, debug, f.log)
	}
	f.clock.Advance(time.Minute)
	ahead(keyA)
	if warn, _ := levels(); warn != 3 {
		t.Errorf("a minute later: %d Warn in all, want 3; log:\n%s", warn, f.log)
	}
	if n := f.m.Metrics().Refused["clock_skew"]; n != 5 {
		t.Errorf("refused clock_skew %d, want 5", n)
	}
}

// TestUnknownKeyKeepsCookie checks that a token under a key this instance
// lacks is not cleared by a request that only reads, and is replaced by one
// that stores something.
func TestUnknownKeyKeepsCookie(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	b.vals["session"] = sealWith(t, ringOf(t, keyB), "session", f.clock.Now())
	var o observed
	if resp := f.serve(b, observe(t, &o, http.StatusOK)); !o.isNew || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("read: new %v, Set-Cookie %q; want a fresh session and the cookie kept", o.isNew, resp.Header.Values("Set-Cookie"))
	}
	f.serve(b, setString(t, "user", "ada"))
	if user, _ := f.userIn(b.vals["session"]); user != "ada" {
		t.Errorf("after a write the cookie holds %v, want this instance's new session", user)
	}
}

// TestUnknownKeyLogoutClears: a logout written as a Delete or a Clear, on
// an instance whose ring lacks the key of the request's cookie (a rotation
// not yet everywhere), clears the cookie, as a store replaces it: the
// handler means to remove what the session holds, and a kept cookie would
// leave the user signed in on the instances that read it. So does one
// after a value stored in this request (a middleware's last-seen stamp on
// every request), which kept the cookie when the Clear or Delete removed
// it. A read, a Pop
// that finds nothing and a Delete beside a store keep to the old rules:
// kept, kept, replaced. So it goes for a session from Load, saved by hand,
// and for a token from an instance whose clock is ahead.
func TestUnknownKeyLogoutClears(t *testing.T) {
	logout := func(op string) func(*cookiesession.Session) {
		return func(s *cookiesession.Session) {
			switch op {
			case "delete":
				s.Delete("user")
			case "clear":
				s.Clear()
			case "pop":
				s.Pop("user")
			case "delete and store":
				s.Delete("user")
				mustSet(t, s, "theme", "dark")
			case "store and clear":
				mustSet(t, s, "seen", "now") // a middleware's, on every request
				s.Clear()
			case "store and delete":
				mustSet(t, s, "user", "bob")
				s.Delete("user")
			}
		}
	}
	for _, tc := range []struct {
		op   string
		want string // what the response does to the cookie: "kept", "cleared", "replaced"
	}{
		{"read", "kept"},
		{"pop", "kept"},
		{"delete", "cleared"},
		{"clear", "cleared"},
		{"delete and store", "replaced"},
		{"store and clear", "cleared"},
		{"store and delete", "cleared"},
	} {
		for _, from := range []string{"unknown key", "clock ahead"} {
			for _, byHand := range []bool{false, true} {
				name := fmt.Sprintf("%s, %s, by hand %v", tc.op, from, byHand)
				f := newFixture(t, cookiesession.Options{})
				token := sealWith(t, ringOf(t, keyB), "session", f.clock.Now())
				if from == "clock ahead" {
					token = sealWith(t, f.ring, "session", f.clock.Now().Add(2*time.Minute))
				}
				req := httptest.NewRequest(http.MethodPost, "https://example.com/logout", nil)
				req.AddCookie(&http.Cookie{Name: "session", Value: token})
				rec := httptest.NewRecorder()
				if byHand {
					s, err := f.m.Load(req)
					if err == nil {
						t.Fatalf("%s: Load opened the cookie", name)
					}
					logout(tc.op)(s)
					if err := f.m.Save(rec, req, s); err != nil {
						t.Fatalf("%s: Save: %v", name, err)
					}
				} else {
					f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						logout(tc.op)(sessionOf(t, r))
					})).ServeHTTP(rec, req)
				}
				c := ourCookies(t, rec.Result().Header, "session")["session"]
				got := "kept"
				switch {
				case c != nil && c.MaxAge < 0:
					got = "cleared"
				case c != nil:
					got = "replaced"
				}
				if got != tc.want {
					t.Errorf("%s: the cookie is %s (%q), want %s", name, got, rec.Result().Header.Values("Set-Cookie"), tc.want)
				}
			}
		}
	}
}

// TestAboveMaxChunksLogoutClears: a session over more chunks than this
// instance's MaxChunks (a rollout that lowers it) is kept, unread, for the
// instances that read it, as one under a key this instance lacks is; a
// logout written as Delete or Clear left it so, and the next request to
// such an instance was signed in. It is cleared now, as Destroy clears it:
// the chunk left above MaxChunks holds no session without the first.
func TestAboveMaxChunksLogoutClears(t *testing.T) {
	for _, tc := range []struct{ op, want string }{{"read", ""}, {"pop", ""}, {"delete", "-session"}, {"clear", "-session"}, {"destroy", "-session"}} {
		f := newFixture(t, cookiesession.Options{})
		wide := f.manager(cookiesession.Options{MaxChunks: 2})
		b := newClientCookies()
		serveWith(t, wide, b, func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			mustSet(t, s, "user", "alice")
			mustSet(t, s, "blob", strings.Repeat("x", 5000))
		})
		if got := b.names(); !slices.Equal(got, []string{"session", "session.1"}) {
			t.Fatalf("cookies %q, want two chunks", got)
		}
		resp := serveWith(t, f.m, b, func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			switch tc.op {
			case "read":
				_ = s.GetString("user")
			case "pop":
				s.Pop("user")
			case "delete":
				s.Delete("user")
			case "clear":
				s.Clear()
			case "destroy":
				s.Destroy()
			}
		})
		if got := setCookieTrace(t, resp.Header); got != tc.want {
			t.Errorf("%s: Set-Cookie %q, want %q", tc.op, got, tc.want)
		}
		user := ""
		serveWith(t, wide, b, func(w http.ResponseWriter, r *http.Request) { user = sessionOf(t, r).GetString("user") })
		if signedIn := user != ""; signedIn != (tc.want == "") {
			t.Errorf("%s: the next request to an instance of MaxChunks 2 reads user %q", tc.op, user)
		}
	}
}

// TestNoFlipFlopAroundPromoteAt runs two instances whose clocks straddle a
// scheduled promotion by up to the 60-second skew allowance. A client
// alternates between them; the cookie moves to the incoming key once and
// never back, no session is lost, and Set-Cookie is sent only for that
// one re-key and for changes.
func TestNoFlipFlopAroundPromoteAt(t *testing.T) {
	for _, skew := range []time.Duration{time.Second, 30 * time.Second, 60 * time.Second} {
		t.Run(fmt.Sprint(skew), func(t *testing.T) {
			ahead, behind := newFixture(t, cookiesession.Options{}), newFixture(t, cookiesession.Options{})
			promoteAt := ahead.clock.Now().Add(time.Hour)
			for _, f := range []*fixture{ahead, behind} {
				if err := f.ring.AddScheduled(keyForID(t, keyB), promoteAt); err != nil {
					t.Fatal(err)
				}
			}
			b := newClientCookies()
			behind.serve(b, setString(t, "user", "ada")) // sealed under A, before the switch
			ahead.advanceTo(promoteAt, skew/2)
			behind.advanceTo(promoteAt, skew/2-skew)
			var keys []string
			var setCookies int
			for i := range 12 {
				f, h := ahead, observe(t, new(observed), http.StatusOK)
				if i%2 == 1 {
					f = behind
				}
				if i%4 == 3 {
					h = setString(t, "n", fmt.Sprint(i))
				}
				resp := f.serve(b, h)
				if len(ourCookies(t, resp.Header, "session")) > 0 {
					setCookies++
				}
				rec := f.open(b.vals["session"])
				if user, _ := rec.Values.Get("user"); user != "ada" {
					t.Fatalf("request %d lost the session", i)
				}
				keys = append(keys, cookiesession.FormatKeyID(rec.KeyID))
			}
			for i, k := range keys {
				if k != "2b3c4d5e" {
					t.Errorf("after request %d the cookie is under %s, want the incoming key: %q", i, k, keys)
				}
			}
			if setCookies != 4 { // the first re-key and the three writes
				t.Errorf("%d responses set the cookie, want 4", setCookies)
			}
		})
	}
}

// newInfoLogger logs at Info and above, as slog.Default does.
func newInfoLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, nil))
}

// TestUnknownKeyWarnHasFix: two instances with different rings behind one
// cookie name (the demo with ephemeral keys) refuse each other's cookies;
// the Warn names this instance's ring and the fix.
func TestUnknownKeyWarnHasFix(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	other := cookiesession.Options{Now: f.clock.Now}
	otherM, err := cookiesession.New(ringOf(t, keyB), other)
	if err != nil {
		t.Fatal(err)
	}
	b := newClientCookies()
	serveWith(t, otherM, b, func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "alice")
	})
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).GetString("user")
	})
	lines := f.log.lines("unknown key id")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "same ring") ||
		!strings.Contains(lines[0], cookiesession.FormatKeyID(keyA)) {
		t.Errorf("want one Warn with this ring and the fix, log:\n%s", f.log)
	}
}

// counters is the part of Metrics a step changes.
type counters struct{ written, cleared, tooLarge, resealed uint64 }

func countersOf(m cookiesession.Metrics) counters {
	return counters{m.Written, m.Cleared, m.TooLarge, m.Resealed}
}

// TestMetricsEdgeCases drives one response per row and checks what it
// adds to the counters.
func TestMetricsEdgeCases(t *testing.T) {
	set := func(k, v string) func(*cookiesession.Session) {
		return func(s *cookiesession.Session) { _ = s.Set(k, v) }
	}
	for _, tc := range []struct {
		name  string
		opts  cookiesession.Options
		prior func(*cookiesession.Session) // stores the client's cookie first, if set
		h     func(t *testing.T, m *cookiesession.Manager, w http.ResponseWriter, r *http.Request)
		want  counters
	}{
		{"Save then commit", cookiesession.Options{}, nil, func(t *testing.T, m *cookiesession.Manager, w http.ResponseWriter, r *http.Request) {
			s := m.FromContext(r.Context())
			_ = s.Set("a", "1")
			if err := m.Save(w, r, s); err != nil {
				t.Fatal(err)
			}
		}, counters{written: 1}},
		{"failed Save then commit", cookiesession.Options{MaxCookieSize: 400}, nil, func(t *testing.T, m *cookiesession.Manager, w http.ResponseWriter, r *http.Request) {
			s := m.FromContext(r.Context())
			_ = s.Set("big", strings.Repeat("x", 500))
			if err := m.Save(w, r, s); !errors.Is(err, cookiesession.ErrTooLarge) {
				t.Fatalf("Save: %v", err)
			}
			s.Delete("big")
			_ = s.Set("a", "1")
		}, counters{written: 1, tooLarge: 1}},
		{"failed Save, a change, failed commit", cookiesession.Options{MaxCookieSize: 400}, nil, func(t *testing.T, m *cookiesession.Manager, w http.ResponseWriter, r *http.Request) {
			s := m.FromContext(r.Context())
			_ = s.Set("big", strings.Repeat("x", 500))
			if err := m.Save(w, r, s); !errors.Is(err, cookiesession.ErrTooLarge) {
				t.Fatalf("Save: %v", err)
			}
			_ = s.Set("big", strings.Repeat("y", 450)) // trimmed, still too large
		}, counters{tooLarge: 1}},
		{"CommitHeader(nil) after a change", cookiesession.Options{}, nil, func(t *testing.T, m *cookiesession.Manager, w http.ResponseWriter, r *http.Request) {
			// A session of its own: Load of r would return the middleware's,
			// whose commit would then fail.
			s, _ := m.Load(r.WithContext(context.Background()))
			_ = s.Set("a", "1")
			if err := m.CommitHeader(nil, s, r); err != nil {
				t.Fatal(err)
			}
			if err := m.Save(w, r, s); !errors.Is(err, cookiesession.ErrHeadersWritten) {
				t.Errorf("Save after CommitHeader(nil): %v", err)
			}
		}, counters{}},
		{"grow to three chunks", cookiesession.Options{MaxCookieSize: 400, MaxChunks: 4}, set("a", "1"), func(t *testing.T, m *cookiesession.Manager, w http.ResponseWriter, r *http.Request) {
			_ = m.FromContext(r.Context()).Set("big", strings.Repeat("x", 800))
		}, counters{written: 1}},
		{"shrink from three chunks", cookiesession.Options{MaxCookieSize: 400, MaxChunks: 4}, set("big", strings.Repeat("x", 800)), func(t *testing.T, m *cookiesession.Manager, w http.ResponseWriter, r *http.Request) {
			m.FromContext(r.Context()).Delete("big")
			_ = m.FromContext(r.Context()).Set("a", "1")
		}, counters{written: 1}},
		{"Destroy", cookiesession.Options{}, set("a", "1"), func(t *testing.T, m *cookiesession.Manager, w http.ResponseWriter, r *http.Request) {
			m.FromContext(r.Context()).Destroy()
		}, counters{cleared: 1}},
		{"Destroy of chunks", cookiesession.Options{MaxCookieSize: 400, MaxChunks: 4}, set("big", strings.Repeat("x", 800)), func(t *testing.T, m *cookiesession.Manager, w http.ResponseWriter, r *http.Request) {
			m.FromContext(r.Context()).Destroy()
		}, counters{cleared: 1}},
		{"panic after a change", cookiesession.Options{}, nil, func(t *testing.T, m *cookiesession.Manager, w http.ResponseWriter, r *http.Request) {
			_ = m.FromContext(r.Context()).Set("a", "1")
			panic(http.ErrAbortHandler)
		}, counters{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts)
			b := newClientCookies()
			if tc.prior != nil {
				f.serve(b, func(w http.ResponseWriter, r *http.Request) { tc.prior(f.m.FromContext(r.Context())) })
			}
			before := countersOf(f.m.Metrics())
			func() {
				defer func() {
					if p := recover(); (p == http.ErrAbortHandler) != strings.HasPrefix(tc.name, "panic") {
						t.Errorf("the handler's panic reached the caller as %v", p)
					}
				}()
				f.serve(b, func(w http.ResponseWriter, r *http.Request) { tc.h(t, f.m, w, r) })
			}()
			after := countersOf(f.m.Metrics())
			got := counters{after.written - before.written, after.cleared - before.cleared,
				after.tooLarge - before.tooLarge, after.resealed - before.resealed}
			if got != tc.want {
				t.Errorf("counters moved by %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestMetricsRefusedWithAndWithoutStore: each refusal reason counts once,
// clears the cookie only when it must, and a handler's store is one write
// and no clear.
func TestMetricsRefusedWithAndWithoutStore(t *testing.T) {
	for _, store := range []bool{false, true} {
		f := newFixture(t, cookiesession.Options{MaxAge: time.Hour, Validate: func(_ *http.Request, s *cookiesession.Session) error {
			if s.GetString("user") == "revoked" {
				return errors.New("revoked")
			}
			return nil
		}})
		h := func(w http.ResponseWriter, r *http.Request) {
			s := f.m.FromContext(r.Context())
			if store {
				_ = s.Set("n", "1")
			} else {
				_, _ = s.Get("n")
			}
		}
		good := newClientCookies()
		f.serve(good, setString(t, "user", "ada"))
		revoked := newClientCookies()
		f.serve(revoked, setString(t, "user", "revoked"))
		base := f.m.Metrics()
		cookie := func(v string) *clientCookies { c := newClientCookies(); c.vals["session"] = v; return c }
		tampered := []byte(good.vals["session"])
		tampered[60] = map[bool]byte{true: 'B', false: 'A'}[tampered[60] == 'A']         // another base64url character
		f.serve(cookie(string(tampered)), h)                                             // auth_failed
		f.serve(cookie("!"+strings.Repeat("A", 150)), h)                                 // bad_encoding
		f.serve(cookie(sealWith(t, ringOf(t, 0x0badcafe), "session", f.clock.Now())), h) // unknown_key
		f.serve(cookie(sealWith(t, f.ring, "session", f.clock.Now().Add(2*time.Minute))), h)
		f.serve(revoked, h) // validate
		f.clock.Advance(2 * time.Hour)
		f.serve(good, h) // expired
		got := f.m.Metrics()
		for _, reason := range []string{"auth_failed", "bad_encoding", "unknown_key", "clock_skew", "validate", "expired"} {
			if n := got.Refused[reason] - base.Refused[reason]; n != 1 {
				t.Errorf("store %v: refused %s counted %d, want 1", store, reason, n)
			}
		}
		wantWritten, wantCleared := uint64(0), uint64(4) // auth, encoding, validate, expired
		if store {
			wantWritten, wantCleared = 6, 0
		}
		if w, c := got.Written-base.Written, got.Cleared-base.Cleared; w != wantWritten || c != wantCleared {
			t.Errorf("store %v: written %d cleared %d, want %d and %d", store, w, c, wantWritten, wantCleared)
		}
	}
}

// TestMetricsStackedManagers: each Manager counts its own cookie, and a
// Manager's Handler inside its own counts a request once.
func TestMetricsStackedManagers(t *testing.T) {
	f := newFixture(t, cookiesession.Options{Name: "auth"})
	prefs := f.manager(cookiesession.Options{Name: "prefs"})
	b := newClientCookies()
	h := f.m.Handler(prefs.Handler(f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = f.m.FromContext(r.Context()).Set("user", "ada")
	}))))
	for range 2 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, b.request("/"))
		b.apply(t, rec.Result().Header)
	}
	if got := f.m.Metrics(); got.Written != 1 || got.Opened[cookiesession.FormatKeyID(keyA)] != 1 {
		t.Errorf("auth: written %d, opened %v; want 1 and 1", got.Written, got.Opened)
	}
	if got := prefs.Metrics(); got.Written != 0 || len(got.Opened) != 0 {
		t.Errorf("prefs, never used: written %d, opened %v", got.Written, got.Opened)
	}
}

// TestUnknownKeyIDsTellForgeryApart: a key removed while its cookies live
// and forged cookies both count as unknown_key; UnknownKeyIDs tells them
// apart, one id against many, for the minute after the last of them.
func TestUnknownKeyIDsTellForgeryApart(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	f.m = f.manager(cookiesession.Options{Logger: newInfoLogger(f.log)})
	read := observe(t, new(observed), http.StatusOK)
	if err := f.ring.Add(keyForID(t, 0x0badcafe)); err != nil {
		t.Fatal(err)
	}
	underOld := sealWith(t, ringOf(t, 0x0badcafe), "session", f.clock.Now())
	for i := range 6 {
		if i == 1 {
			if err := f.ring.Remove(0x0badcafe); err != nil {
				t.Fatal(err)
			}
		}
		c := newClientCookies()
		c.vals["session"] = underOld
		f.serve(c, read)
	}
	m := f.m.Metrics()
	if m.Refused["unknown_key"] != 5 || m.UnknownKeyIDs != 1 || m.Opened["0badcafe"] != 1 || slices.ContainsFunc(m.Keys, func(k cookiesession.KeyInfo) bool { return k.ID == 0x0badcafe }) {
		t.Errorf("a removed key's cookies: unknown_key %d, unknown_key_ids %d, opened %v, keys %v; want 5, 1, the key opened once and gone from keys",
			m.Refused["unknown_key"], m.UnknownKeyIDs, m.Opened, m.Keys)
	}
	if lines := f.log.lines("unknown key id 0badcafe"); len(lines) != 1 || !strings.Contains(lines[0], "restore the ring file as it was before the remove") {
		t.Errorf("want one Warn that names putting the key back, log:\n%s", f.log)
	}
	// Refused again 50 s after its Warn, the id still counts 15 s after
	// that minute, when no Warn is due.
	f.clock.Advance(50 * time.Second)
	c := newClientCookies()
	c.vals["session"] = underOld
	f.serve(c, read)
	f.clock.Advance(15 * time.Second)
	if n := f.m.Metrics().UnknownKeyIDs; n != 1 {
		t.Errorf("65 s after the Warn, 15 s after the last refusal: unknown_key_ids %d, want 1", n)
	}
	f.clock.Advance(time.Minute)
	for id := range uint32(40) { // forged: a random key id each
		c := newClientCookies()
		c.vals["session"] = sealWith(t, ringOf(t, 0x10000000+id), "session", f.clock.Now())
		f.serve(c, read)
	}
	if m := f.m.Metrics(); m.Refused["unknown_key"] != 46 || m.UnknownKeyIDs != 32 {
		t.Errorf("forged cookies: unknown_key %d, unknown_key_ids %d; want 46 and 32 (the most it counts)", m.Refused["unknown_key"], m.UnknownKeyIDs)
	}
	f.clock.Advance(time.Minute)
	if n := f.m.Metrics().UnknownKeyIDs; n != 0 {
		t.Errorf("a minute after the last unknown key id: unknown_key_ids %d, want 0", n)
	}
	// The fix README gives: put the removed key back, and a cookie it
	// sealed that was not replaced opens again.
	if err := f.ring.Add(keyForID(t, 0x0badcafe)); err != nil {
		t.Fatal(err)
	}
	var o observed
	c = newClientCookies()
	c.vals["session"] = underOld
	f.serve(c, observe(t, &o, http.StatusOK))
	if o.isNew || o.user != "mallory" {
		t.Errorf("after the key was put back: new %v, user %q; want the session it sealed", o.isNew, o.user)
	}
}

// TestUnknownKeyWarnOutlastsForgery: forged tokens, each under a key id of
// its own, fill the 32 ids the Warn limiter holds before a removed key's
// cookies come, and keep coming. The removed key's id recurs, and is
// still warned about within seconds, once; forged ids past the first 32
// are not. (It is missed only if each of nine gaps of 40 forged ids
// overwrote its place in the limiter: less than one chance in 10^7.)
func TestUnknownKeyWarnOutlastsForgery(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	f.m = f.manager(cookiesession.Options{Logger: newInfoLogger(f.log)})
	read := observe(t, new(observed), http.StatusOK)
	serve := func(id uint32) {
		c := newClientCookies()
		c.vals["session"] = sealWith(t, ringOf(t, id), "session", f.clock.Now())
		f.serve(c, read)
	}
	forged := uint32(0x10000000)
	for range 32 {
		serve(forged)
		forged++
	}
	for range 10 {
		for range 40 {
			serve(forged)
			forged++
		}
		serve(0x0badcafe)
		f.clock.Advance(time.Second)
	}
	if n := len(f.log.lines("key_id=0badcafe")); n != 1 {
		t.Errorf("the removed key 0badcafe warned %d times in 10 s of forged tokens, want once", n)
	}
	if n := len(f.log.lines("level=WARN")); n != 33 {
		t.Errorf("%d Warn lines, want 33: the first 32 forged ids and the removed key", n)
	}
	if m := f.m.Metrics(); m.UnknownKeyIDs != 32 {
		t.Errorf("unknown_key_ids %d, want 32", m.UnknownKeyIDs)
	}
}

// TestDroppedCounted: the Warn for a Secure cookie over plain HTTP, a
// Domain outside the host, or a Lax cookie set in answer to a fetch from
// another site, is logged once, and Dropped counts every response that
// sets such a cookie, for as long as it lasts. A None cookie there is
// logged, not counted: only some browsers block it.
func TestDroppedCounted(t *testing.T) {
	login := func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "ada") }
	read := func(w http.ResponseWriter, r *http.Request) { _ = sessionOf(t, r).GetString("user") }
	fetch := func(mode, dest string) map[string]string {
		return map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": mode, "Sec-Fetch-Dest": dest}
	}
	for _, tt := range []struct {
		name   string
		opts   cookiesession.Options
		target string
		header map[string]string
		h      http.HandlerFunc
		want   map[string]uint64
		warns  int
	}{
		{"plain HTTP", cookiesession.Options{}, "http://app.example.com/login", nil, login, map[string]uint64{"plain_http": 3}, 1},
		{"TLS ends at a proxy that says so", cookiesession.Options{}, "http://app.example.com/login", map[string]string{"X-Forwarded-Proto": "https"}, login, nil, 0},
		{"Safari on localhost", cookiesession.Options{}, "http://localhost:8080/login", map[string]string{"User-Agent": safariUA}, login, map[string]uint64{"plain_http": 3}, 1},
		{"Chrome on localhost", cookiesession.Options{}, "http://localhost:8080/login", map[string]string{"User-Agent": chromeUA}, login, nil, 0},
		{"Chrome on localhost, from another site", cookiesession.Options{}, "http://localhost:8080/login", map[string]string{"User-Agent": chromeUA, "Origin": "http://idp.test", "Sec-Fetch-Site": "cross-site"}, login, nil, 0},
		{"Chrome through a proxy on this machine", cookiesession.Options{}, "http://127.0.0.1:8080/login", map[string]string{"User-Agent": chromeUA, "Origin": "http://app.example.com"}, login, map[string]uint64{"plain_http": 3}, 1},
		// Docker Compose: Chrome on http://localhost:3000, whose dev server
		// proxies to the container api. It keeps the cookie on localhost.
		{"Chrome on localhost through Vite's proxy (changeOrigin) to a container", cookiesession.Options{}, "http://api:8080/login", map[string]string{"User-Agent": chromeUA, "Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-origin"}, login, nil, 0},
		{"Chrome on localhost through a Next.js rewrite to a container", cookiesession.Options{}, "http://api:8080/login", map[string]string{"User-Agent": chromeUA, "X-Forwarded-Host": "localhost:3000", "X-Forwarded-Proto": "http", "X-Forwarded-For": "172.18.0.1"}, login, nil, 0},
		{"Chrome on a LAN address through a proxy to a container", cookiesession.Options{}, "http://api:8080/login", map[string]string{"User-Agent": chromeUA, "X-Forwarded-Host": "192.168.1.20:3000", "Origin": "http://192.168.1.20:3000"}, login, map[string]uint64{"plain_http": 3}, 1},
		// ngrok --host-header=rewrite: TLS at ngrok, plain HTTP to localhost;
		// ngrok sets X-Forwarded-Host and appends to X-Forwarded-Proto.
		{"Chrome through an https ngrok tunnel", cookiesession.Options{}, "http://localhost:8080/login", map[string]string{"User-Agent": chromeUA, "X-Forwarded-Host": "abc.ngrok.app", "X-Forwarded-Proto": "https"}, login, nil, 0},
		{"Chrome through an http ngrok tunnel", cookiesession.Options{}, "http://localhost:8080/login", map[string]string{"User-Agent": chromeUA, "X-Forwarded-Host": "abc.ngrok.app", "X-Forwarded-Proto": "http"}, login, map[string]uint64{"plain_http": 3}, 1},
		{"no cookie set", cookiesession.Options{}, "http://app.example.com/", nil, read, nil, 0},
		{"Domain outside the host", cookiesession.Options{Domain: "old.example.com"}, "https://app.example.net/login", nil, login, map[string]uint64{"domain": 3}, 1},
		{"Domain a parent of the host", cookiesession.Options{Domain: "example.net"}, "https://app.example.net/login", nil, login, nil, 0},
		{"Lax, a fetch from another site", cookiesession.Options{}, "https://api.example.com/login", fetch("cors", "empty"), login, map[string]uint64{"cross_site": 3}, 1},
		{"Lax, Partitioned, an iframe on another site", cookiesession.Options{Partitioned: true}, "https://api.example.com/login", fetch("navigate", "iframe"), login, map[string]uint64{"cross_site": 3}, 1},
		{"Lax, a link from another site", cookiesession.Options{}, "https://api.example.com/login", fetch("navigate", "document"), login, nil, 0},
		{"None, a fetch from another site", cookiesession.Options{SameSite: http.SameSiteNoneMode}, "https://api.example.com/login", fetch("cors", "empty"), login, nil, 1},
		{"None and Partitioned, a fetch from another site", cookiesession.Options{SameSite: http.SameSiteNoneMode, Partitioned: true}, "https://api.example.com/login", fetch("cors", "empty"), login, nil, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts)
			opts := tt.opts
			opts.Logger = newInfoLogger(f.log)
			f.m = f.manager(opts)
			for range 3 {
				r := httptest.NewRequest("GET", tt.target, nil)
				for k, v := range tt.header {
					r.Header.Set(k, v)
				}
				f.m.Handler(tt.h).ServeHTTP(httptest.NewRecorder(), r)
			}
			want := map[string]uint64{"plain_http": 0, "domain": 0, "cross_site": 0}
			maps.Copy(want, tt.want)
			if diff := cmp.Diff(want, f.m.Metrics().Dropped); diff != "" {
				t.Errorf("Dropped (-want +got):\n%s", diff)
			}
			if warns := f.log.lines("level=WARN"); len(warns) != tt.warns {
				t.Errorf("%d Warn lines, want %d:\n%s", len(warns), tt.warns, f.log)
			}
		})
	}
}

// TestDroppedCountedOncePerResponse: a handler that saves early, twice,
// under the middleware or without it, sends one response, and one drop is
// counted for it.
func TestDroppedCountedOncePerResponse(t *testing.T) {
	cross := map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}
	for _, tt := range []struct {
		reason, target string
		opts           cookiesession.Options
		header         map[string]string
	}{
		{"plain_http", "http://app.example.com/login", cookiesession.Options{}, nil},
		{"domain", "https://app.example.net/login", cookiesession.Options{Domain: "old.example.com"}, nil},
		{"cross_site", "https://api.example.com/login", cookiesession.Options{}, cross},
	} {
		for _, middleware := range []bool{true, false} {
			f := newFixture(t, tt.opts)
			var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, _ := f.m.Load(r)
				for _, role := range []string{"user", "admin"} {
					mustSet(t, s, "role", role)
					if err := f.m.Save(w, r, s); err != nil {
						t.Fatal(err)
					}
				}
			})
			if middleware {
				h = f.m.Handler(h)
			}
			for range 2 {
				r := httptest.NewRequest("POST", tt.target, nil)
				for k, v := range tt.header {
					r.Header.Set(k, v)
				}
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
			if n := f.m.Metrics().Dropped[tt.reason]; n != 2 {
				t.Errorf("Dropped[%s] %d after 2 responses (middleware %v), want 2", tt.reason, n, middleware)
			}
		}
	}
	// An adapter's session of Load's, saved early and then committed with
	// CommitHeader: one response, one drop, whichever save had the request.
	for _, tt := range []struct {
		name string
		save func(m *cookiesession.Manager, h http.Header, r *http.Request, s *cookiesession.Session) error
	}{
		{"Save", func(m *cookiesession.Manager, h http.Header, r *http.Request, s *cookiesession.Session) error {
			return m.Save(&discardWriter{h}, r, s)
		}},
		{"SaveHeader", func(m *cookiesession.Manager, h http.Header, _ *http.Request, s *cookiesession.Session) error {
			return m.SaveHeader(h, s)
		}},
		{"none", func(*cookiesession.Manager, http.Header, *http.Request, *cookiesession.Session) error { return nil }},
	} {
		f := newFixture(t, cookiesession.Options{})
		for range 2 {
			r := httptest.NewRequest("POST", "http://app.example.com/login", nil)
			s, _ := f.m.Load(r)
			mustSet(t, s, "user", "ada")
			h := http.Header{}
			if err := tt.save(f.m, h, r, s); err != nil {
				t.Fatal(err)
			}
			if err := f.m.CommitHeader(h, s, r); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.m.Metrics().Dropped["plain_http"]; n != 2 {
			t.Errorf("%s, then CommitHeader: Dropped[plain_http] %d after 2 responses, want 2", tt.name, n)
		}
	}
	// A Save's lines that the response then leaves out (the session grew
	// too large, the handler panicked) reach no browser: nothing is counted.
	for _, panics := range []bool{false, true} {
		f := newFixture(t, cookiesession.Options{})
		h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			mustSet(t, s, "user", "ada")
			if err := f.m.Save(w, r, s); err != nil {
				t.Fatal(err)
			}
			if panics {
				panic(http.ErrAbortHandler)
			}
			mustSet(t, s, "big", strings.Repeat("x", 5000))
		}))
		rec := httptest.NewRecorder()
		func() {
			defer func() { _ = recover() }()
			h.ServeHTTP(rec, httptest.NewRequest("POST", "http://app.example.com/login", nil))
		}()
		if lines, n := rec.Header().Values("Set-Cookie"), f.m.Metrics().Dropped["plain_http"]; len(lines) != 0 || n != 0 {
			t.Errorf("panic %v: Set-Cookie %q, Dropped[plain_http] %d; want none and 0", panics, lines, n)
		}
	}
}

// TestSplitPrimaryShowsInMetrics: a promotion that reached one instance
// of two shows as two primaries, and as re-seals on both that do not stop,
// as README's runbook says.
func TestSplitPrimaryShowsInMetrics(t *testing.T) {
	promoted, lagging := newFixture(t, cookiesession.Options{}), newFixture(t, cookiesession.Options{})
	for _, f := range []*fixture{promoted, lagging} {
		if err := f.ring.Add(keyForID(t, keyB)); err != nil {
			t.Fatal(err)
		}
	}
	if err := promoted.ring.Promote(keyB); err != nil {
		t.Fatal(err)
	}
	b := newClientCookies()
	promoted.serve(b, setString(t, "user", "ada"))
	read := observe(t, new(observed), http.StatusOK)
	for range 4 {
		lagging.serve(b, read)
		promoted.serve(b, read)
	}
	p, l := promoted.m.Metrics(), lagging.m.Metrics()
	if p.Primary == l.Primary || p.Resealed != 4 || l.Resealed != 4 {
		t.Errorf("primaries %s and %s, resealed %d and %d; want two primaries and 4 re-seals each", p.Primary, l.Primary, p.Resealed, l.Resealed)
	}
}

// TestSplitPrimaryWarns: a promotion that reached one instance only. Each
// instance re-seals the other's cookies back under its own primary. A
// session created before the split (ada's) looks like any rotation's
// re-key, and is not logged; one created on either side after the split
// (bob's) is, at Warn, by both instances, at most once a minute each. A
// rotation whose scheduled key took over from another scheduled key logs
// nothing.
func TestSplitPrimaryWarns(t *testing.T) {
	promoted, lagging := newFixture(t, cookiesession.Options{}), newFixture(t, cookiesession.Options{})
	both := []*fixture{promoted, lagging}
	for _, f := range both {
		f.m = f.manager(cookiesession.Options{Logger: newInfoLogger(f.log)})
		if err := f.ring.Add(keyForID(t, keyB)); err != nil {
			t.Fatal(err)
		}
	}
	if err := promoted.ring.Promote(keyB); err != nil {
		t.Fatal(err)
	}
	read := observe(t, new(observed), http.StatusOK)
	pingPong := func(c *clientCookies, times int) {
		for range times {
			lagging.serve(c, read)
			promoted.serve(c, read)
		}
	}
	advance := func(d time.Duration) {
		for _, f := range both {
			f.clock.Advance(d)
		}
	}
	const msg = "rings disagree on the primary"
	warned := func(when string, want int) {
		t.Helper()
		for name, f := range map[string]*fixture{"promoted": promoted, "lagging": lagging} {
			if lines := f.log.lines(msg); len(lines) != want || want > 0 && !strings.Contains(lines[0], "level=WARN") {
				t.Errorf("%s, %s instance: logged %q, want %d Warn lines", when, name, lines, want)
			}
		}
	}
	ada, bob := newClientCookies(), newClientCookies()
	promoted.serve(ada, setString(t, "user", "ada"))
	pingPong(ada, 4)
	warned("a session older than the split", 0)
	advance(2 * time.Minute)
	promoted.serve(bob, setString(t, "user", "bob"))
	pingPong(bob, 4)
	warned("a session created after the split", 1)
	if lines := lagging.log.lines(msg); len(lines) > 0 && !strings.Contains(lines[0], "key_id=2b3c4d5e primary=1a2b3c4d") {
		t.Errorf("lagging instance logged %q, want the key it met and its primary", lines[0])
	}
	advance(time.Minute)
	pingPong(bob, 2)
	warned("a minute later", 2)
	if p, l := promoted.m.Metrics(), lagging.m.Metrics(); p.Resealed != 10 || l.Resealed != 10 {
		t.Errorf("resealed %d and %d, want 10 each", p.Resealed, l.Resealed)
	}

	// An app that writes the session on every request re-keys none: the
	// split shows in its changes.
	promoted, lagging = newFixture(t, cookiesession.Options{}), newFixture(t, cookiesession.Options{})
	both = []*fixture{promoted, lagging}
	for _, f := range both {
		f.m = f.manager(cookiesession.Options{Logger: newInfoLogger(f.log)})
		if err := f.ring.Add(keyForID(t, keyB)); err != nil {
			t.Fatal(err)
		}
	}
	if err := promoted.ring.Promote(keyB); err != nil {
		t.Fatal(err)
	}
	visit := 0
	count := func(w http.ResponseWriter, r *http.Request) {
		visit++
		if err := sessionOf(t, r).Set("visits", visit); err != nil {
			t.Error(err)
		}
	}
	pingPongCount := func(c *clientCookies, times int) {
		for range times {
			lagging.serve(c, count)
			promoted.serve(c, count)
		}
	}
	carol, dave := newClientCookies(), newClientCookies()
	promoted.serve(carol, count)
	pingPongCount(carol, 2)
	warned("changes to a session older than the split", 0)
	advance(2 * time.Minute)
	promoted.serve(dave, count)
	pingPongCount(dave, 4)
	warned("sessions changed on every request", 1)
	if p, l := promoted.m.Metrics(), lagging.m.Metrics(); p.Resealed != 0 || l.Resealed != 0 {
		t.Errorf("resealed %d and %d, want 0: every write was a change", p.Resealed, l.Resealed)
	}

	// A login (Renew) whose old cookie came under the previous primary is
	// a new session, not one created after the promotion elsewhere.
	f := newFixture(t, cookiesession.Options{})
	f.m = f.manager(cookiesession.Options{Logger: newInfoLogger(f.log)})
	x, y, z := newClientCookies(), newClientCookies(), newClientCookies()
	f.serve(x, setString(t, "user", "x"))
	f.serve(y, setString(t, "user", "y"))
	f.serve(z, setString(t, "user", "z"))
	if err := f.ring.Add(keyForID(t, keyB)); err != nil {
		t.Fatal(err)
	}
	if err := f.ring.Promote(keyB); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Minute)
	f.serve(x, read) // the rotation's re-key
	f.clock.Advance(2 * time.Minute)
	f.serve(y, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		s.Renew()
		mustSet(t, s, "user", "y2")
	})
	if lines := f.log.lines(msg); len(lines) != 0 {
		t.Errorf("a login under the previous primary: logged %q, want nothing", lines)
	}
	// Nor is a logout (Destroy) that leaves a value in the session it
	// starts, a flash message.
	f.serve(z, func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		s.Destroy()
		mustSet(t, s, "flash", "signed out")
	})
	if lines := f.log.lines(msg); len(lines) != 0 {
		t.Errorf("a logout under the previous primary: logged %q, want nothing", lines)
	}

	// Two scheduled rotations: c added after b but due before it.
	const keyC = 0x00c0ffee
	f = newFixture(t, cookiesession.Options{})
	f.m = f.manager(cookiesession.Options{Logger: newInfoLogger(f.log)})
	f.ring.SetClock(f.clock.Now)
	if err := f.ring.AddScheduled(keyForID(t, keyB), fixedNow.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := f.ring.AddScheduled(keyForID(t, keyC), fixedNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(90 * time.Minute)
	c := newClientCookies()
	f.serve(c, setString(t, "user", "ada")) // sealed under c
	f.clock.Advance(time.Hour)
	f.serve(c, read) // re-sealed under b
	if lines := f.log.lines("level=WARN"); len(lines) != 0 || f.m.Metrics().Resealed != 1 {
		t.Errorf("superseded scheduled key: logged %q, resealed %d; want nothing logged and 1 re-seal", lines, f.m.Metrics().Resealed)
	}
}

// TestSplitPrimaryShortRolloutQuiet: runbook step 3 ships the promotion,
// and instances load it seconds apart. An instance that re-keyed sessions
// under its primary long before (the last rotation's) meets, in those
// seconds, sessions the promoted instances created: that split is the
// rollout itself, and is not logged. One that lasts past the minute is.
func TestSplitPrimaryShortRolloutQuiet(t *testing.T) {
	const keyC = 0x00c0ffee // the last rotation's key
	promoted, lagging := newFixture(t, cookiesession.Options{}), newFixture(t, cookiesession.Options{})
	for _, f := range []*fixture{promoted, lagging} {
		f.m = f.manager(cookiesession.Options{Logger: newInfoLogger(f.log)})
		for _, id := range []uint32{keyB, keyC} {
			if err := f.ring.Add(keyForID(t, id)); err != nil {
				t.Fatal(err)
			}
		}
	}
	read := observe(t, new(observed), http.StatusOK)
	old := newClientCookies()
	old.vals["session"] = sealWith(t, ringOf(t, keyC), "session", lagging.clock.Now())
	lagging.serve(old, read) // the last rotation's re-key
	for _, f := range []*fixture{promoted, lagging} {
		f.clock.Advance(time.Hour)
	}
	if err := promoted.ring.Promote(keyB); err != nil {
		t.Fatal(err)
	}
	const msg = "rings disagree on the primary"
	for i := range 3 {
		c := newClientCookies()
		promoted.serve(c, setString(t, "user", "ada"))
		lagging.serve(c, read)
		lagging.clock.Advance(2 * time.Second)
		if lines := lagging.log.lines(msg); len(lines) != 0 {
			t.Fatalf("session %d, %v into the rollout: logged %q", i, 2*time.Second*time.Duration(i), lines)
		}
	}
	// The promotion never reaches it: a session created past the minute is logged.
	for _, f := range []*fixture{promoted, lagging} {
		f.clock.Advance(2 * time.Minute)
	}
	c := newClientCookies()
	promoted.serve(c, setString(t, "user", "bob"))
	lagging.serve(c, read)
	if lines := lagging.log.lines(msg); len(lines) != 1 {
		t.Errorf("a split past the minute: logged %q, want one Warn", lines)
	}
}

// TestMetricsEachEventMovesOnlyItsCounters serves one request of each kind
// and checks the whole counter vector it moves: its own counters by one,
// nothing else. A count under the wrong reason, or a second count, would
// mislead an operator deciding from opened and resealed whether an old
// key can go.
func TestMetricsEachEventMovesOnlyItsCounters(t *testing.T) {
	const a, b = "opened.1a2b3c4d", "opened.2b3c4d5e"
	read := func(w http.ResponseWriter, r *http.Request) { _ = sessionOf(t, r).Len() }
	do := func(act func(*cookiesession.Session)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { act(sessionOf(t, r)) }
	}
	var mgr *cookiesession.Manager // the subtest's, for the rows that Save
	for _, tc := range []struct {
		name    string
		rotated bool                                                  // keyB promoted after the login
		cookies func(f *fixture, login *clientCookies) *clientCookies // what the request carries
		h       http.HandlerFunc
		want    map[string]uint64
	}{
		{"read", false, nil, read, map[string]uint64{a: 1}},
		{"change", false, nil, setString(t, "n", "1"), map[string]uint64{a: 1, "written": 1}},
		{"destroy", false, nil, do((*cookiesession.Session).Destroy), map[string]uint64{a: 1, "cleared": 1}},
		{"destroy, Save", false, nil, func(w http.ResponseWriter, r *http.Request) {
			s := sessionOf(t, r)
			s.Destroy()
			if err := mgr.Save(w, r, s); err != nil {
				t.Fatal(err)
			}
		}, map[string]uint64{a: 1, "cleared": 1}},
		{"destroy, Save, then a change", false, nil, func(w http.ResponseWriter, r *http.Request) {
			// The commit's token replaces the Save's clear: the client
			// gets a cookie, and none of its cookies is expired.
			s := sessionOf(t, r)
			s.Destroy()
			if err := mgr.Save(w, r, s); err != nil {
				t.Fatal(err)
			}
			mustSet(t, s, "user", "bob")
		}, map[string]uint64{a: 1, "written": 1}},
		{"too large", false, nil, setString(t, "big", strings.Repeat("x", 5000)), map[string]uint64{a: 1, "too_large": 1}},
		{"change after Write", false, nil, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "x")
			s := sessionOf(t, r)
			mustSet(t, s, "n", "1")
			s.Touch() // a second late change: the session counts once
		}, map[string]uint64{a: 1, "lost.after_commit": 1}},
		{"read after Write", false, nil, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "x")
			_ = sessionOf(t, r).GetString("user")
		}, map[string]uint64{a: 1, "read_late": 1}},
		{"read, a page a shared cache may store", false, nil, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=600")
			read(w, r)
		}, map[string]uint64{a: 1, "shared_store": 1}},
		{"old key, read", true, nil, read, map[string]uint64{a: 1, "resealed": 1, "written": 1}},
		{"old key, polling read", true, nil, do(func(s *cookiesession.Session) { s.SkipRefresh() }), map[string]uint64{a: 1}},
		{"old key, change", true, nil, setString(t, "n", "1"), map[string]uint64{a: 1, "written": 1}},
		{"old key, Renew", true, nil, do((*cookiesession.Session).Renew), map[string]uint64{a: 1, "written": 1}},
		{"old key, destroy", true, nil, do((*cookiesession.Session).Destroy), map[string]uint64{a: 1, "cleared": 1}},
		{"new key, read", true, func(f *fixture, login *clientCookies) *clientCookies {
			f.serve(login, read) // re-keyed
			return login
		}, read, map[string]uint64{b: 1}},
		{"expired", false, func(f *fixture, login *clientCookies) *clientCookies {
			f.clock.Advance(25 * time.Hour)
			return login
		}, read, map[string]uint64{"refused.expired": 1, "cleared": 1}},
		{"tampered", false, func(f *fixture, login *clientCookies) *clientCookies {
			v := []byte(login.vals["session"])
			v[60] = map[bool]byte{true: 'B', false: 'A'}[v[60] == 'A']
			login.vals["session"] = string(v)
			return login
		}, read, map[string]uint64{"refused.auth_failed": 1, "cleared": 1}},
		{"garbage", false, func(*fixture, *clientCookies) *clientCookies {
			return &clientCookies{vals: map[string]string{"session": "!" + strings.Repeat("A", 150)}}
		}, read, map[string]uint64{"refused.bad_encoding": 1, "cleared": 1}},
		{"unknown key", false, func(f *fixture, _ *clientCookies) *clientCookies {
			return &clientCookies{vals: map[string]string{"session": sealWith(t, ringOf(t, 0x0badcafe), "session", f.clock.Now())}}
		}, read, map[string]uint64{"refused.unknown_key": 1}},
		{"clock ahead", false, func(f *fixture, _ *clientCookies) *clientCookies {
			return &clientCookies{vals: map[string]string{"session": sealWith(t, f.ring, "session", f.clock.Now().Add(2*time.Minute))}}
		}, read, map[string]uint64{"refused.clock_skew": 1}},
		{"revoked", false, func(f *fixture, login *clientCookies) *clientCookies {
			f.serve(login, setString(t, "user", "revoked"))
			return login
		}, read, map[string]uint64{"refused.validate": 1, "cleared": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{Validate: func(_ *http.Request, s *cookiesession.Session) error {
				if s.GetString("user") == "revoked" {
					return errors.New("revoked")
				}
				return nil
			}})
			mgr = f.m
			login := newClientCookies()
			f.serve(login, setString(t, "user", "ada"))
			if tc.rotated {
				if err := f.ring.Add(keyForID(t, keyB)); err != nil {
					t.Fatal(err)
				}
				if err := f.ring.Promote(keyB); err != nil {
					t.Fatal(err)
				}
			}
			c := login
			if tc.cookies != nil {
				c = tc.cookies(f, login)
			}
			before := flatCounters(f.m.Metrics())
			f.serve(c, tc.h)
			moved := map[string]uint64{}
			for name, n := range flatCounters(f.m.Metrics()) {
				if n != before[name] {
					moved[name] = n - before[name]
				}
			}
			if diff := cmp.Diff(tc.want, moved); diff != "" {
				t.Errorf("counters moved (-want +got):\n%s", diff)
			}
		})
	}
}

// TestClearedCountsOnlyWhatGoesOut: a Save's clear in the middleware
// counts under Metrics.Cleared once the commit sends it, not when a panic
// removes it from the response (the client keeps its cookie) and not
// twice for two Saves of one Destroy.
func TestClearedCountsOnlyWhatGoesOut(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	login := newClientCookies()
	f.serve(login, setString(t, "user", "ada"))
	destroySave := func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		s.Destroy()
		if err := f.m.Save(w, r, s); err != nil {
			t.Fatal(err)
		}
	}
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		destroySave(w, r)
		panic("handler failed")
	}))
	rec := httptest.NewRecorder()
	func() {
		defer func() { _ = recover() }()
		h.ServeHTTP(rec, login.request("/"))
	}()
	if got := rec.Result().Header["Set-Cookie"]; got != nil {
		t.Fatalf("the panic's response carries %q", got)
	}
	if got := f.m.Metrics().Cleared; got != 0 {
		t.Errorf("a clear the panic removed counts %d, want 0", got)
	}
	f.serve(login.clone(), func(w http.ResponseWriter, r *http.Request) {
		destroySave(w, r)
		destroySave(w, r)
	})
	if got := f.m.Metrics().Cleared; got != 1 {
		t.Errorf("one response that clears, after two Saves: cleared %d, want 1", got)
	}
}

// flatCounters lists every counter of m by the name /debug/vars gives it.
func flatCounters(m cookiesession.Metrics) map[string]uint64 {
	out := map[string]uint64{"resealed": m.Resealed, "written": m.Written, "cleared": m.Cleared, "too_large": m.TooLarge, "carried": m.Carried, "read_late": m.ReadLate,
		"speculative_changes": m.SpeculativeChanges, "shared_store": m.SharedStore}
	for prefix, counts := range map[string]map[string]uint64{"opened.": m.Opened, "refused.": m.Refused, "dropped.": m.Dropped, "lost.": m.Lost} {
		for name, n := range counts {
			out[prefix+name] = n
		}
	}
	return out
}

// TestReadLateCounted checks Metrics.ReadLate (README, "A handler that uses
// the session too late"): its Warn names each line of code that first
// reads a session once the response went out without Vary: Cookie, once,
// and looks the line up for about one in 64 such reads past the first
// 1024, so the log cannot say whether the mistake still happens after a
// deploy; the count rises with every one, from either of two lines, past
// that threshold. A read before the response, once the request's context
// ended, after a Hijack or in a panic's recovery is not logged and not
// counted, nor a first use after the response that changes the session,
// which counts under Lost alone, whether its line was looked up or not,
// and whether a refused cookie's line was queued before it or not.
func TestReadLateCounted(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	cookie := loginToken(t, f, "alice")
	serve := func(w http.ResponseWriter, ctx context.Context, h http.HandlerFunc) {
		req := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
		req.AddCookie(&http.Cookie{Name: "session", Value: cookie})
		f.m.Handler(h).ServeHTTP(w, req)
	}
	get := func(h http.HandlerFunc) { serve(httptest.NewRecorder(), context.Background(), h) }
	user := func(r *http.Request) string { return cookiesession.FromContext(r.Context()).GetString("user") }
	// Two lines of code that read late; user's is a third.
	accessLog := func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "page")
		cookiesession.FromContext(r.Context()).GetString("user")
	}
	profile := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, cookiesession.FromContext(r.Context()).GetString("user"))
	}
	readLate := func(want uint64, what string) {
		t.Helper()
		if got := f.m.Metrics().ReadLate; got != want {
			t.Fatalf("%s: read_late %d, want %d", what, got, want)
		}
	}

	for range 3 {
		get(profile)
	}
	readLate(3, "three reads after WriteHeader")
	const many = 1100 // past the 1024 whose line is looked up
	for range many {
		get(accessLog)
	}
	for range 100 {
		get(profile)
	}
	readLate(3+many+100, "reads after the body and after WriteHeader, past the sampling")
	if lines := f.log.lines("session first read once its response had gone out"); len(lines) != 2 {
		t.Errorf("%d Warn lines, want one for each of the two lines that read:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	counted := f.m.Metrics().ReadLate

	get(func(w http.ResponseWriter, r *http.Request) { user(r); io.WriteString(w, "page"); user(r) })
	get(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "static") })
	readLate(counted, "a read before the response, and no read")

	ctx, end := context.WithCancel(context.Background())
	serve(httptest.NewRecorder(), ctx, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page"); end(); user(r) })
	serve(hijackRecorder{httptest.NewRecorder()}, context.Background(), func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if user(r) != "alice" {
			t.Error("the session read after the Hijack is not alice's")
		}
	})
	var s *cookiesession.Session
	func() {
		defer func() { recover(); s.GetString("user") }()
		get(func(w http.ResponseWriter, r *http.Request) {
			s = cookiesession.FromContext(r.Context())
			panic("boom")
		})
	}()
	readLate(counted, "a read once the context ended, after a Hijack, in a panic's recovery")

	// Past the sampling, most of these first uses are not looked up:
	// each is still no read.
	const changes = 100
	for range changes {
		get(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "page")
			mustSet(t, cookiesession.FromContext(r.Context()), "seen", true)
		})
	}
	if lost := f.m.Metrics().Lost["after_commit"]; lost != changes {
		t.Errorf("lost.after_commit %d, want %d", lost, changes)
	}
	readLate(counted, "a first use after the response that changes the session")
	get(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "page")
		user(r)
		mustSet(t, cookiesession.FromContext(r.Context()), "seen", true)
	})
	readLate(counted+1, "a read, then a change")

	// A refused cookie's line is queued before the late read's: the read
	// counts, the change does not, and the refusal is logged each time.
	cookie = "!" + strings.Repeat("A", 150)
	get(accessLog)
	get(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "page")
		mustSet(t, cookiesession.FromContext(r.Context()), "seen", true)
	})
	readLate(counted+2, "a read and a change with a refused cookie")
	if refused := f.log.lines("session cookie refused"); len(refused) != 2 {
		t.Errorf("%d lines of a refused cookie, want 2:\n%s", len(refused), strings.Join(refused, "\n"))
	}
	counted += 2

	var fromVar cookiesession.Metrics
	if err := json.Unmarshal([]byte(f.m.Var().String()), &fromVar); err != nil {
		t.Fatal(err)
	}
	if fromVar.ReadLate != counted || !strings.Contains(f.m.Var().String(), fmt.Sprintf(`"read_late":%d`, counted)) {
		t.Errorf("/debug/vars does not show read_late %d: %s", counted, f.m.Var())
	}
}

// TestReadLateInRecoveryAfterBody: a recoverer outside the middleware
// that reads the session after a panic is not counted in ReadLate, nor
// logged, when the panic came before the response was committed; after
// the body, its read is one after the response, as an access log's is:
// logged and counted, as the Metrics doc says.
func TestReadLateInRecoveryAfterBody(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	cookie := loginToken(t, f, "alice")
	for _, wrote := range []bool{false, true} {
		var s *cookiesession.Session
		func() {
			defer func() { recover(); s.GetString("user") }()
			req := httptest.NewRequest("GET", "/", nil)
			req.AddCookie(&http.Cookie{Name: "session", Value: cookie})
			f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s = cookiesession.FromContext(r.Context())
				if wrote {
					io.WriteString(w, "page")
				}
				panic("boom")
			})).ServeHTTP(httptest.NewRecorder(), req)
		}()
		want := 0
		if wrote {
			want = 1
		}
		if got := f.m.Metrics().ReadLate; got != uint64(want) {
			t.Errorf("a read in the recovery from a panic (after the body: %v): read_late %d, want %d", wrote, got, want)
		}
		if lines := f.log.lines("session first read once its response had gone out"); len(lines) != want {
			t.Errorf("a read in the recovery from a panic (after the body: %v): %d Warn lines, want %d:\n%s", wrote, len(lines), want, strings.Join(lines, "\n"))
		}
	}
}

// hijackRecorder is a recorder whose connection can be hijacked: one end
// of a pipe whose other end is closed.
type hijackRecorder struct{ *httptest.ResponseRecorder }

func (w hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, peer := net.Pipe()
	peer.Close()
	return conn, bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn)), nil
}

// TestSpeculativeChangesCounted checks Metrics.SpeculativeChanges (README,
// "Prefetches and prerenders"): every response that carries a handler's
// change on a GET or a HEAD sent ahead of a click counts, one on a route
// and change logged before included, while the Warn is logged once per
// route and change; a response that two saves write (a Save, a change and
// the commit; a session from Load saved twice) counts once. A read with a
// rolling refresh due, a Touch, a request without a marker and a POST with
// one are not counted.
func TestSpeculativeChangesCounted(t *testing.T) {
	f := newFixture(t, cookiesession.Options{IdleTimeout: time.Hour})
	b := signedIn(t, f)
	f.clock.Advance(40 * time.Minute) // a rolling refresh is due
	mux := http.NewServeMux()
	mux.HandleFunc("/item/{id}", func(w http.ResponseWriter, r *http.Request) {
		mustSet(t, sessionOf(t, r), "last_seen", r.PathValue("id"))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) { sessionOf(t, r).Destroy() })
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) { _ = sessionOf(t, r).GetString("user") })
	mux.HandleFunc("/touch", func(w http.ResponseWriter, r *http.Request) { sessionOf(t, r).Touch() })
	mux.HandleFunc("/saved", func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(t, r)
		mustSet(t, s, "a", 1)
		if err := f.m.Save(w, r, s); err != nil {
			t.Fatal(err)
		}
		mustSet(t, s, "b", 2) // the commit writes it again
	})
	h := f.m.Handler(mux)
	send := func(method, target string, marked bool) *http.Request {
		req := b.requestMethod(method, target)
		if marked {
			req.Header.Set("Sec-Purpose", "prefetch")
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		return req
	}
	counted := func(want uint64, lines int, what string) {
		t.Helper()
		if got := f.m.Metrics().SpeculativeChanges; got != want {
			t.Fatalf("%s: speculative_changes %d, want %d", what, got, want)
		}
		if got := f.log.lines(speculativeLine); len(got) != lines {
			t.Fatalf("%s: %d Warn lines, want %d:\n%s", what, len(got), lines, strings.Join(got, "\n"))
		}
	}

	for i := range 3 {
		send("GET", "/item/"+strconv.Itoa(i), true)
	}
	counted(3, 1, "three prefetches of one route")
	send("GET", "/logout", true)
	send("HEAD", "/logout", true)
	counted(5, 2, "a GET and a HEAD of another route")
	send("GET", "/saved", true)
	counted(6, 3, "a response that a Save and the commit write")

	send("GET", "/item/9", false)
	send("POST", "/item/9", true)
	send("GET", "/read", true)
	send("GET", "/touch", true)
	send("GET", "/item/9", false)
	counted(6, 3, "no marker, a POST, a read with a refresh due, a Touch")

	req := b.request("/item/10")
	req.Header.Set("Sec-Purpose", "prefetch")
	req.Pattern = "/item/{id}" // as the ServeMux sets it
	s, err := f.m.Load(req)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	for _, v := range []int{1, 2} {
		mustSet(t, s, "last_seen", v)
		if err := f.m.Save(rec, req, s); err != nil {
			t.Fatal(err)
		}
	}
	counted(7, 3, "a session from Load saved twice, on a route and change logged before")

	if got := f.m.Var().String(); !strings.Contains(got, `"speculative_changes":7`) {
		t.Errorf("/debug/vars does not show speculative_changes 7: %s", got)
	}
}

// TestSharedStoreCounted checks Metrics.SharedStore (README, "Caches"):
// every response to a GET or a HEAD whose handler used the session, that
// wrote no cookie, and that a field lets a shared cache store counts, past
// the sampling that finds the line of code to log (its first 1024
// occurrences), while the Warn is logged once per call site and route; a
// session from Load saved twice counts once. A response that never used
// the session, that sets the cookie (no-store), that is private, that
// answers a POST, or that a stacked Manager's cookie makes no-store is not
// counted.
func TestSharedStoreCounted(t *testing.T) {
	const warning = "may be stored by a shared cache, with only Vary: Cookie"
	f := newFixture(t, cookiesession.Options{})
	token := loginToken(t, f, "alice")
	page := func(w http.ResponseWriter, r *http.Request) {
		cacheControl := "public, s-maxage=300"
		if cc := r.URL.Query().Get("cc"); cc != "" {
			cacheControl = cc
		}
		w.Header().Set("Cache-Control", cacheControl)
		s := cookiesession.FromContext(r.Context())
		switch r.URL.Query().Get("do") {
		case "read":
			_ = s.GetString("user")
		case "set":
			mustSet(t, s, "seen", true)
		}
		io.WriteString(w, "page")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/a", page)
	mux.HandleFunc("/b/{id}", page)
	h := f.m.Handler(mux)
	send := func(method, target string) {
		req := httptest.NewRequest(method, target, nil)
		req.AddCookie(&http.Cookie{Name: "session", Value: token})
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	counted := func(m *cookiesession.Manager, want uint64, lines int, what string) {
		t.Helper()
		if got := m.Metrics().SharedStore; got != want {
			t.Fatalf("%s: shared_store %d, want %d", what, got, want)
		}
		if got := f.log.lines(warning); len(got) != lines {
			t.Fatalf("%s: %d Warn lines, want %d:\n%s", what, len(got), lines, strings.Join(got, "\n"))
		}
	}

	const many = 1100 // past the 1024 whose line is looked up
	for range many {
		send("GET", "/a?do=read")
	}
	counted(f.m, many, 1, "reads of one route")
	f.clock.Advance(time.Millisecond) // the next is looked up: the last walk was 100µs ago or more
	send("GET", "/b/1?do=read")
	send("HEAD", "/b/2?do=read")
	counted(f.m, many+2, 2, "a GET and a HEAD of another route")

	send("GET", "/a?do=none")
	send("GET", "/a?do=set")
	send("GET", "/a?do=read&cc=private,+max-age=600")
	send("POST", "/a?do=read")
	counted(f.m, many+2, 2, "no use, a cookie set, private, a POST")

	prefs := f.manager(cookiesession.Options{Name: "prefs"})
	stacked := f.m.Handler(prefs.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		_ = prefs.FromContext(r.Context()).GetString("theme")
		mustSet(t, f.m.FromContext(r.Context()), "seen", true)
		io.WriteString(w, "page")
	})))
	stacked.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	counted(prefs, 0, 2, "a response the outer Manager's cookie makes no-store")

	req := httptest.NewRequest("GET", "/c", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: token})
	s, err := f.m.Load(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.GetString("user")
	rec := httptest.NewRecorder()
	rec.Header().Set("Cache-Control", "public, max-age=600")
	f.clock.Advance(time.Millisecond)
	for range 2 {
		if err := f.m.Save(rec, req, s); err != nil {
			t.Fatal(err)
		}
	}
	counted(f.m, many+3, 3, "a session from Load saved twice")

	if got := f.m.Var().String(); !strings.Contains(got, fmt.Sprintf(`"shared_store":%d`, many+3)) {
		t.Errorf("/debug/vars does not show shared_store %d: %s", many+3, got)
	}
}
