package cookiesession_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// Carrying a session across a rename (RetiredCookie.Carry): the new
// configuration opens the session the retired cookie holds, and writes it
// under its own Name.

// carryApp answers by the last element of the path: login (user, and pad
// bytes of filler) and whoami, as liveApp does, whoami with "user id
// created expires pad-length"; idle never touches the session.
func carryApp(w http.ResponseWriter, r *http.Request) {
	if path.Base(r.URL.Path) == "idle" {
		_, _ = w.Write([]byte("idle"))
		return
	}
	s := cookiesession.FromContext(r.Context())
	if err := liveChange(s, r); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = fmt.Fprintf(w, "%s %s %d %d %d", s.GetString("user"), s.ID(), s.CreatedAt().Unix(), s.ExpiresAt().Unix(), len(s.GetString("pad")))
}

// carryRename is the rename of TestCarryOverRename: from session to
// __Host-session, two chunks each.
func carryRename(carry bool) cookiesession.Options {
	return cookiesession.Options{Name: "__Host-session", MaxChunks: 2, IdleTimeout: time.Hour,
		Retired: []cookiesession.RetiredCookie{{Name: "session", MaxChunks: 2, Carry: carry}}}
}

// TestCarryOverRename signs alice in under session, over two cookies,
// then renames the cookie to __Host-session: with Carry she is still
// signed in, with her values, id, creation time and deadline, her next
// request (one that only reads) writes the session under the new name and
// expires the old cookies, and her jar holds only the new ones after;
// a request that never touches the session opens and writes nothing.
// Without Carry she is signed out, as before.
func TestCarryOverRename(t *testing.T) {
	for _, carry := range []bool{true, false} {
		t.Run(fmt.Sprintf("carry=%v", carry), func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{MaxChunks: 2, IdleTimeout: time.Hour})
			var serving atomic.Pointer[cookiesession.Manager]
			serving.Store(f.m)
			lf := &liveFleet{f: f}
			lf.srv = newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				serving.Load().Handler(http.HandlerFunc(carryApp)).ServeHTTP(w, r)
			}))
			c, base := lf.browser(t, "app.example.com")
			get(t, c, base+"/login?user=alice&pad=5000")
			before := get(t, c, base+"/whoami") // with the deadline the cookie holds
			if got := jarNames(t, c, base+"/"); !slices.Equal(got, []string{"session", "session.1"}) {
				t.Fatalf("after the login the jar holds %q, want session in two chunks", got)
			}
			f.clock.Advance(10 * time.Minute) // less than half the idle window: no refresh due
			newM := f.manager(carryRename(carry))
			serving.Store(newM)

			resp, body := fetch(t, c, base+"/idle")
			if got := setCookieTrace(t, resp.Header); got != "" || body != "idle" {
				t.Errorf("a request that never touches its session: Set-Cookie %q, body %q; want none", got, body)
			}
			if m := newM.Metrics(); m.Carried != 0 || len(m.Opened) != 0 {
				t.Errorf("a request that never touches its session opened %v, carried %d; want nothing", m.Opened, m.Carried)
			}

			resp, body = fetch(t, c, base+"/whoami")
			wantTrace, wantBody, wantCarried := "-session,-session.1,__Host-session,__Host-session.1", before, uint64(1)
			if !carry {
				wantTrace, wantBody, wantCarried = "-session,-session.1", "", 0
			}
			got := setCookieTrace(t, resp.Header)
			if got != wantTrace || !carry && !strings.HasPrefix(body, " ") || carry && body != wantBody {
				t.Errorf("whoami after the rename: %q, Set-Cookie %q; want %q, %q (before: %q)", body, got, wantBody, wantTrace, before)
			}
			if m := newM.Metrics(); m.Carried != wantCarried || m.Written != wantCarried {
				t.Errorf("Metrics: carried %d, written %d; want %d", m.Carried, m.Written, wantCarried)
			}
			wantJar := []string{"__Host-session", "__Host-session.1"}
			if !carry {
				wantJar = nil
			}
			if got := jarNames(t, c, base+"/"); !slices.Equal(got, wantJar) {
				t.Errorf("the jar holds %q, want %q", got, wantJar)
			}
			// The next request reads the new cookie: nothing more to write.
			resp, body = fetch(t, c, base+"/whoami")
			if got := setCookieTrace(t, resp.Header); got != "" || carry && body != before {
				t.Errorf("the request after: %q, Set-Cookie %q; want %q, none", body, got, before)
			}
			if m := newM.Metrics(); m.Carried != wantCarried {
				t.Errorf("carried %d after a request with the new cookie, want %d", m.Carried, wantCarried)
			}
		})
	}
}

// TestCarryRefused: a retired token that an ordinary open would refuse,
// or one the request carries beside a cookie of the Manager's own name,
// is not carried: the request gets a new session (or its own), never an
// error, and the retired cookie is expired.
func TestCarryRefused(t *testing.T) {
	refuseMallory := func(r *http.Request, s *cookiesession.Session) error {
		if s.GetString("user") == "mallory" {
			return errors.New("mallory is banned")
		}
		return nil
	}
	newOpts := cookiesession.Options{Name: "__Host-session", IdleTimeout: time.Hour, MaxLifetime: 48 * time.Hour, Validate: refuseMallory,
		Retired: []cookiesession.RetiredCookie{{Name: "session", MaxChunks: 2, Carry: true}}}
	// login has m sign user in, with lifetime, into a new client's cookies.
	login := func(m *cookiesession.Manager, user string, lifetime cookiesession.Lifetime) *clientCookies {
		b := newClientCookies()
		serveWith(t, m, b, func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			if err := errors.Join(s.Set("user", user), s.SetLifetime(lifetime)); err != nil {
				t.Fatal(err)
			}
		})
		return b
	}
	var none cookiesession.Lifetime
	for _, tc := range []struct {
		name  string
		setup func(f *fixture) *clientCookies // f.m: the old Manager
		after func(newM *cookiesession.Manager)
		want  string // the user the handler sees
		mine  bool   // the request carries a cookie of the new Manager's name
		trace string // the response's Set-Cookie lines
		warn  string // a Warn line the new Manager logs, if any
	}{
		{name: "valid", want: "alice", trace: "-session,-session.1,__Host-session", setup: func(f *fixture) *clientCookies {
			return login(f.m, "alice", none)
		}},
		{name: "idle deadline passed", trace: "-session,-session.1", setup: func(f *fixture) *clientCookies {
			b := login(f.m, "alice", none)
			f.clock.Advance(time.Hour)
			return b
		}},
		// The old MaxAge was longer: the token's own deadline is still ahead.
		{name: "MaxAge passed", trace: "-session,-session.1", setup: func(f *fixture) *clientCookies {
			b := login(f.manager(cookiesession.Options{MaxAge: 48 * time.Hour}), "alice", none)
			f.clock.Advance(24 * time.Hour)
			return b
		}},
		{name: "its own Lifetime passed", trace: "-session,-session.1", setup: func(f *fixture) *clientCookies {
			b := login(f.m, "alice", cookiesession.Lifetime{IdleTimeout: 10 * time.Minute})
			f.clock.Advance(10 * time.Minute)
			return b
		}},
		{name: "MaxLifetime lowered", trace: "-session,-session.1", setup: func(f *fixture) *clientCookies {
			b := login(f.manager(cookiesession.Options{IdleTimeout: time.Hour, MaxLifetime: 48 * time.Hour}), "alice", cookiesession.Lifetime{MaxAge: 40 * time.Hour})
			f.clock.Advance(30 * time.Minute)
			return b
		}, after: func(newM *cookiesession.Manager) {
			if err := newM.SetMaxLifetime(20 * time.Minute); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "refused by Validate", trace: "-session,-session.1", setup: func(f *fixture) *clientCookies {
			return login(f.m, "mallory", none)
		}},
		{name: "forged", trace: "-session,-session.1", setup: func(f *fixture) *clientCookies {
			b := login(f.m, "alice", none)
			v := []byte(b.vals["session"])
			if i := len(v) / 2; v[i] == 'A' { // base64url still: the ciphertext is what changes
				v[i] = 'B'
			} else {
				v[i] = 'A'
			}
			b.vals["session"] = string(v)
			return b
		}},
		{name: "sealed for another name", trace: "-session,-session.1", setup: func(f *fixture) *clientCookies {
			b := login(f.manager(cookiesession.Options{Name: "other"}), "alice", none)
			b.vals["session"] = b.vals["other"]
			delete(b.vals, "other")
			return b
		}},
		{name: "a chunk missing", trace: "-session,-session.1", setup: func(f *fixture) *clientCookies {
			b := login(f.m, "alice", none)
			b.vals["session.1"] = b.vals["session"]
			delete(b.vals, "session")
			return b
		}},
		// No request tells which is the browser's own: one may be tossed.
		{name: "two values of the name", trace: "-session,-session.1", setup: func(f *fixture) *clientCookies {
			b := login(f.m, "alice", none)
			b.vals["session"] += "; session=" + login(f.m, "eve", none).vals["session"]
			return b
		}},
		// Its own cookie wins, opened or refused.
		{name: "beside the Manager's own", want: "bob", mine: true, trace: "-session,-session.1", setup: func(f *fixture) *clientCookies {
			b := login(f.manager(newOpts), "bob", none)
			b.vals["session"] = login(f.m, "alice", none).vals["session"]
			return b
		}},
		{name: "beside the Manager's own, refused", mine: true, trace: "-__Host-session,-session,-session.1", setup: func(f *fixture) *clientCookies {
			b := login(f.m, "alice", none)
			b.vals["__Host-session"] = strings.Repeat("A", 200)
			return b
		}},
		// Both open elsewhere, or later, as the Manager's own would: the
		// cookie stays, and the operator is told at Warn.
		{name: "under a key this instance lacks", warn: "unknown key id 2b3c4d5e", setup: func(f *fixture) *clientCookies {
			m, err := cookiesession.New(ringOf(t, keyB), cookiesession.Options{Now: f.clock.Now, Logger: debugLogger(f.log)})
			if err != nil {
				t.Fatal(err)
			}
			return login(m, "alice", none)
		}},
		{name: "created ahead", warn: "ahead_by", setup: func(f *fixture) *clientCookies {
			return login(f.manager(cookiesession.Options{Now: func() time.Time { return f.clock.Now().Add(5 * time.Minute) }}), "alice", none)
		}},
		{name: "longer than the new cookies hold", trace: "-session,-session.1", warn: "longer than the Manager's cookies hold", setup: func(f *fixture) *clientCookies {
			b := login(f.manager(cookiesession.Options{MaxChunks: 2}), "alice", none)
			serveWith(t, f.manager(cookiesession.Options{MaxChunks: 2}), b, func(w http.ResponseWriter, r *http.Request) {
				_ = cookiesession.FromContext(r.Context()).Set("pad", strings.Repeat("p", 4500))
			})
			if b.vals["session.1"] == "" {
				t.Fatal("the old session fits one cookie")
			}
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, cookiesession.Options{IdleTimeout: time.Hour})
			b := tc.setup(f)
			// After every login: warnRetiredLive's session begun after
			// the Manager started is another test's.
			f.clock.Advance(time.Second)
			var log syncBuffer
			opts := newOpts
			opts.Logger = debugLogger(&log)
			newM := f.manager(opts)
			if tc.after != nil {
				tc.after(newM)
			}
			var user string
			var isNew bool
			resp := serveWith(t, newM, b, func(w http.ResponseWriter, r *http.Request) {
				s := cookiesession.FromContext(r.Context())
				user, isNew = s.GetString("user"), s.IsNew()
			})
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d, want 200", resp.StatusCode)
			}
			if user != tc.want || isNew != (tc.want == "") {
				t.Errorf("the handler sees user %q (new: %v), want %q", user, isNew, tc.want)
			}
			if got := setCookieTrace(t, resp.Header); got != tc.trace {
				t.Errorf("Set-Cookie %q, want %q", got, tc.trace)
			}
			wantCarried := uint64(0)
			if tc.want != "" && !tc.mine {
				wantCarried = 1
			}
			metrics := newM.Metrics()
			if metrics.Carried != wantCarried {
				t.Errorf("carried %d, want %d", metrics.Carried, wantCarried)
			}
			// A token not carried counts under Refused, as the Manager's own.
			refused, wantRefused := uint64(0), uint64(0)
			for _, n := range metrics.Refused {
				refused += n
			}
			if tc.want == "" {
				wantRefused = 1
			}
			if refused != wantRefused {
				t.Errorf("refused %v, want %d in all", metrics.Refused, wantRefused)
			}
			warned := warns(&log)
			if tc.warn == "" && len(warned) != 0 || tc.warn != "" && (len(warned) != 1 || !strings.Contains(warned[0], tc.warn)) {
				t.Errorf("logged at Warn %q, want %q", warned, tc.warn)
			}
			wantDebug := 1 - int(wantCarried)
			if tc.mine {
				wantDebug = 0 // never tried
			}
			if got := len(log.lines("was not carried")); got != wantDebug {
				t.Errorf("%d Debug lines of a token not carried, want %d; log:\n%s", got, wantDebug, log.String())
			}
		})
	}
}

// TestCarryUnknownKeyStored: a retired token under a key id this
// instance lacks is kept by a request that only reads (TestCarryRefused),
// but not by one that stores something: the session written under the
// Manager's Name expires it, as it would the Manager's own cookie.
func TestCarryUnknownKeyStored(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	oldM, err := cookiesession.New(ringOf(t, keyB), cookiesession.Options{Now: f.clock.Now, Logger: debugLogger(f.log)})
	if err != nil {
		t.Fatal(err)
	}
	b := newClientCookies()
	serveWith(t, oldM, b, func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "alice")
	})
	newM := f.manager(cookiesession.Options{Name: "__Host-session", Retired: []cookiesession.RetiredCookie{{Name: "session", Carry: true}}})
	resp := serveWith(t, newM, b, func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("cart", "tea")
	})
	if got := setCookieTrace(t, resp.Header); got != "-session,__Host-session" {
		t.Errorf("Set-Cookie %q, want the old cookie expired and the new session written", got)
	}
}

// TestCarryUnknownKeyLogoutClears: a retired token under a key id this
// instance lacks, kept by a request that only reads it (it may open
// elsewhere), was kept by a logout written as Delete or Clear too, which
// found nothing to remove: the next request to an instance holding the key
// carried it, signed in. Destroy expired it. Delete and Clear now expire
// it, as they do the Manager's own cookie under such a key
// (TestUnknownKeyLogoutClears); a read still keeps it.
func TestCarryUnknownKeyLogoutClears(t *testing.T) {
	// The retired cookie's line is asserted whole: "-session" is also in the
	// line that expires the Manager's own "-__Host-session".
	for _, tc := range []struct{ op, want string }{{"read", ""}, {"delete", "-__Host-session,-session"}, {"clear", "-__Host-session,-session"}, {"destroy", "-__Host-session,-session"}} {
		f := newFixture(t, cookiesession.Options{})
		oldM, err := cookiesession.New(ringOf(t, keyB), cookiesession.Options{Now: f.clock.Now, Logger: debugLogger(f.log)})
		if err != nil {
			t.Fatal(err)
		}
		b := newClientCookies()
		serveWith(t, oldM, b, func(w http.ResponseWriter, r *http.Request) {
			_ = cookiesession.FromContext(r.Context()).Set("user", "alice")
		})
		newM := f.manager(cookiesession.Options{Name: "__Host-session", Retired: []cookiesession.RetiredCookie{{Name: "session", Carry: true}}})
		resp := serveWith(t, newM, b, func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			switch tc.op {
			case "read":
				_ = s.GetString("user")
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
	}
}

// TestCarryWithLoad: a session from Load is carried too, and Save writes
// it under the Manager's Name though the handler only read it; one left
// unsaved is logged at Warn, since its client never gets the new cookie.
func TestCarryWithLoad(t *testing.T) {
	for _, save := range []bool{true, false} {
		t.Run(fmt.Sprintf("save=%v", save), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, cookiesession.Options{})
				b := newClientCookies()
				b.vals["session"] = loginToken(t, f, "alice")
				newM := f.manager(cookiesession.Options{Name: "__Host-session", Retired: []cookiesession.RetiredCookie{{Name: "session", Carry: true}}})
				// A net/http Server's request context, which it ends when
				// the handler returns.
				ctx, cancel := context.WithCancel(context.WithValue(context.Background(), http.ServerContextKey, &http.Server{}))
				rec := httptest.NewRecorder()
				r := b.request("/inbox").WithContext(ctx)
				s, err := newM.Load(r)
				if err != nil || s.GetString("user") != "alice" || s.IsNew() {
					t.Errorf("Load: user %q, new %v, %v; want alice carried", s.GetString("user"), s.IsNew(), err)
				}
				if save {
					if err := newM.Save(rec, r, s); err != nil {
						t.Fatal(err)
					}
				}
				cancel()
				synctest.Wait()
				want, wantWarns := "-session,__Host-session", 0
				if !save {
					want, wantWarns = "", 1
				}
				if got := setCookieTrace(t, rec.Result().Header); got != want {
					t.Errorf("Set-Cookie %q, want %q", got, want)
				}
				got := f.log.lines("left unsaved when its request ended")
				if len(got) != wantWarns || wantWarns > 0 && !strings.Contains(got[0], "a session carried from a retired cookie") {
					t.Errorf("%d Warn lines of an unsaved session, want %d with the carry; log:\n%s", len(got), wantWarns, f.log)
				}
			})
		})
	}
}

// TestCarryUnreachableAfterLogout: an entry that names the old cookie
// other than it was set (here without its Domain) writes lines that do
// not reach it, so after a logout under the new name the browser still
// sends it. The logout's request carried it beside the new cookie, which
// proved that (the Warn that it came back): the instance does not carry
// it again, and the logout sticks, as it does with the entry named as the
// cookie was set (README, the Name change). A logout that is the first
// request after the rename ends the carried session at once: the old
// cookie it answered is not carried again either, though no request ever
// carries it beside the new one.
func TestCarryUnreachableAfterLogout(t *testing.T) {
	for _, domain := range []string{"", "example.com"} {
		for _, first := range []bool{false, true} {
			t.Run(fmt.Sprintf("entry Domain %s, logout first %v", domain, first), func(t *testing.T) {
				lf := newLiveFleet(t, cookiesession.Options{Domain: "example.com"})
				c, base := lf.browser(t, "app.example.com")
				get(t, c, base+"/login?user=alice")
				lf.f.clock.Advance(time.Second) // warnRetiredLive's session begun after the Manager started is another test's
				lf.deploy(cookiesession.Options{Name: "__Host-session",
					Retired: []cookiesession.RetiredCookie{{Name: "session", Domain: domain, Carry: true}}})
				if !first {
					if got := get(t, c, base+"/whoami"); got != "alice" {
						t.Fatalf("after the rename, whoami = %q, want alice carried", got)
					}
				}
				get(t, c, base+"/logout")
				wantBack := 0
				if domain == "" {
					// The old cookie is still in the jar, and not carried again.
					if names := jarNames(t, c, base+"/"); !slices.Contains(names, "session") {
						t.Errorf("after the logout the jar holds %q: the test needs the old cookie there", names)
					}
					if !first {
						wantBack = 1
					}
				}
				for range 2 {
					if got := get(t, c, base+"/whoami"); got != "" {
						t.Errorf("after the logout, whoami = %q, want no one; the jar holds %q", got, jarNames(t, c, base+"/"))
					}
				}
				// The logout's request carried it beside the new cookie: that
				// is the Warn that names the fix.
				back := lf.f.log.lines("came back after the response that expires Options.Retired")
				if len(back) != wantBack || wantBack > 0 && !strings.Contains(back[0], "list the cookie's own Path and Domain") {
					t.Errorf("logged %q, want one Warn with the fix only when the lines cannot reach the cookie", back)
				}
			})
		}
	}
}
