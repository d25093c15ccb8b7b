package cookiesession_test

import (
	"context"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// Changing cookie settings on a live fleet: one origin served by the old
// configuration's Manager, then the new one's (or each in turn, as in a
// rolling deployment), to a browser with a net/http cookie jar that keeps
// the old cookies until they expire.

// liveFleet is a TLS server whose requests go to the Manager in serving,
// switched by the test, on one fake clock. It keeps the length of the last
// Cookie header it got.
type liveFleet struct {
	f         *fixture
	srv       *tlsServer
	serving   atomic.Pointer[cookiesession.Manager]
	cookieLen atomic.Int64
}

func newLiveFleet(t *testing.T, first cookiesession.Options) *liveFleet {
	t.Helper()
	lf := &liveFleet{f: newFixture(t, first)}
	lf.serving.Store(lf.f.m)
	lf.srv = newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lf.cookieLen.Store(int64(len(r.Header.Get("Cookie"))))
		lf.serving.Load().Handler(http.HandlerFunc(liveApp)).ServeHTTP(w, r)
	}))
	return lf
}

// deploy makes a Manager with opts serve every request from now on.
func (lf *liveFleet) deploy(opts cookiesession.Options) *cookiesession.Manager {
	m := lf.f.manager(opts)
	lf.serving.Store(m)
	return m
}

// browser returns a client with its own cookie jar that reaches the server
// under host (a name the test certificate holds, such as
// app.example.com), so that Domain cookies can be tried.
func (lf *liveFleet) browser(t *testing.T, host string) (*http.Client, string) {
	t.Helper()
	c := lf.srv.client(t)
	tr := c.Transport.(*http.Transport).Clone()
	addr := lf.srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	c.Transport = tr
	_, port, _ := net.SplitHostPort(addr)
	return c, "https://" + host + ":" + port
}

// liveApp answers by the last element of the path, whatever the prefix:
// login (user, pad bytes of filler, remember), whoami, add (item), cart,
// logout.
func liveApp(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	if err := liveChange(s, r); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	switch path.Base(r.URL.Path) {
	case "login", "add", "logout":
	case "cart":
		_, _ = w.Write([]byte(s.GetString("cart")))
	default:
		_, _ = w.Write([]byte(s.GetString("user")))
	}
}

// liveChange makes the change of liveApp's and rollingApp's paths: login
// (user, pad bytes of filler, and remember, a Lifetime's MaxAge), add
// (item), logout.
func liveChange(s *cookiesession.Session, r *http.Request) error {
	q := r.URL.Query()
	switch path.Base(r.URL.Path) {
	case "login":
		s.Renew()
		err := s.Set("user", q.Get("user"))
		if n, _ := strconv.Atoi(q.Get("pad")); n > 0 && err == nil {
			err = s.Set("pad", strings.Repeat("p", n))
		}
		if d, _ := time.ParseDuration(q.Get("remember")); d > 0 && err == nil {
			err = s.SetLifetime(cookiesession.Lifetime{MaxAge: d})
		}
		return err
	case "add":
		return s.Set("cart", s.GetString("cart")+q.Get("item"))
	case "logout":
		s.Destroy()
	}
	return nil
}

// jarNames returns the names of the cookies c's jar would send to target.
func jarNames(t *testing.T, c *http.Client, target string) []string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ck := range c.Jar.Cookies(u) {
		names = append(names, ck.Name)
	}
	return names
}

func get(t *testing.T, c *http.Client, target string) string {
	t.Helper()
	resp, body := fetch(t, c, target)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %q", target, resp.Status, body)
	}
	return body
}

func TestLiveNameChange(t *testing.T) {
	for _, retire := range []bool{false, true} {
		t.Run("retired="+strconv.FormatBool(retire), func(t *testing.T) {
			lf := newLiveFleet(t, cookiesession.Options{MaxChunks: 4})
			c, base := lf.browser(t, "example.com")
			get(t, c, base+"/login?user=alice&pad=11000") // four cookies of the old name
			if got := jarNames(t, c, base+"/"); len(got) != 4 {
				t.Fatalf("old session in %d cookies %q, want 4", len(got), got)
			}
			opts := cookiesession.Options{Name: "__Host-session", MaxChunks: 4}
			if retire {
				opts.Retired = []cookiesession.RetiredCookie{{Name: "session", MaxChunks: 4}}
			}
			lf.deploy(opts)
			if got := get(t, c, base+"/whoami"); got != "" {
				t.Fatalf("whoami under the new name = %q, want signed out", got)
			}
			get(t, c, base+"/login?user=alice&pad=11000")
			get(t, c, base+"/whoami")
			t.Logf("Cookie header after signing in again: %d bytes, cookies %q", lf.cookieLen.Load(), jarNames(t, c, base+"/"))
			old := 0
			for _, name := range jarNames(t, c, base+"/") {
				if isChunkOf(name, "session") {
					old++
				}
			}
			if retire && (old != 0 || lf.cookieLen.Load() > 4*4096+3*2) {
				t.Errorf("with Retired, %d old cookies ride along in a Cookie header of %d bytes", old, lf.cookieLen.Load())
			}
			if !retire && old != 4 {
				t.Errorf("without Retired, %d old cookies left, want all 4", old)
			}
		})
	}
}

// TestLivePathOrDomainChange changes Path or Domain between deployments:
// the browser then holds two cookies named session, and the old one opens.
// Without Retired, a logout on the new configuration leaves the old one to
// sign the user back in, a new login is hidden by the old session on the
// old cookie's paths, and a change made there is lost; with it, none.
func TestLivePathOrDomainChange(t *testing.T) {
	type change struct{ oldPath, newPath, oldDomain, newDomain string }
	for _, tc := range []change{
		{oldPath: "/app", newPath: "/"},
		{oldPath: "/", newPath: "/app"},
		{oldDomain: "", newDomain: "example.com"},
		{oldDomain: "example.com", newDomain: ""},
	} {
		for _, retire := range []bool{false, true} {
			name := tc.oldPath + ">" + tc.newPath + " domain " + tc.oldDomain + ">" + tc.newDomain + " retired=" + strconv.FormatBool(retire)
			t.Run(name, func(t *testing.T) {
				newOpts := cookiesession.Options{Path: tc.newPath, Domain: tc.newDomain}
				if retire {
					newOpts.Retired = []cookiesession.RetiredCookie{{Path: tc.oldPath, Domain: tc.oldDomain}}
				}
				// start signs alice in on the old configuration, then
				// deploys the new one.
				start := func() (*http.Client, string) {
					lf := newLiveFleet(t, cookiesession.Options{Path: tc.oldPath, Domain: tc.oldDomain})
					c, base := lf.browser(t, "app.example.com")
					get(t, c, base+"/app/login?user=alice")
					lf.deploy(newOpts)
					if got := get(t, c, base+"/app/whoami"); got != "alice" {
						t.Fatalf("after the deployment, whoami = %q, want alice still signed in", got)
					}
					return c, base
				}
				got := map[string]string{}
				for _, logout := range []string{"/app/logout", "/logout"} {
					c, base := start()
					get(t, c, base+logout)
					got["after "+logout] = get(t, c, base+"/app/whoami")
				}
				c, base := start()
				get(t, c, base+"/login?user=bob")
				got["after bob's login"] = get(t, c, base+"/app/whoami")
				c, base = start()
				get(t, c, base+"/app/add?item=book")
				got["cart"] = get(t, c, base+"/app/cart")
				t.Logf("%q", got)
				want := map[string]string{"after /app/logout": "", "after /logout": "", "after bob's login": "bob", "cart": "book"}
				if retire {
					for k, v := range want {
						if got[k] != v {
							t.Errorf("with Retired, %s: %q, want %q", k, got[k], v)
						}
					}
				} else if got["after /app/logout"] != "alice" && got["after /logout"] != "alice" {
					t.Errorf("without Retired, no logout left the old cookie to sign alice back in: %q", got)
				}
			})
		}
	}
}

// TestLiveMaxChunksLowered lowers MaxChunks from 4 to 2: a session over
// three cookies is refused (and cleared with Retired; without it, kept
// as a newer configuration's, with a Warn), and without Retired its third
// cookie stays in the browser; a session over two still opens.
func TestLiveMaxChunksLowered(t *testing.T) {
	for _, retire := range []bool{false, true} {
		t.Run("retired="+strconv.FormatBool(retire), func(t *testing.T) {
			newOpts := cookiesession.Options{MaxChunks: 2}
			if retire {
				newOpts.Retired = []cookiesession.RetiredCookie{{MaxChunks: 4}}
			}
			lf := newLiveFleet(t, cookiesession.Options{MaxChunks: 4})
			c, base := lf.browser(t, "example.com")
			get(t, c, base+"/login?user=alice&pad=9000")
			if got := jarNames(t, c, base+"/"); len(got) != 3 {
				t.Fatalf("old session in cookies %q, want 3", got)
			}
			lf.deploy(newOpts)
			if got := get(t, c, base+"/whoami"); got != "" {
				t.Errorf("a session over 3 cookies under MaxChunks 2: whoami = %q, want refused", got)
			}
			get(t, c, base+"/login?user=alice")
			left := jarNames(t, c, base+"/")
			slices.Sort(left)
			want := []string{"session"}
			if !retire {
				want = []string{"session", "session.2"}
			}
			if strings.Join(left, " ") != strings.Join(want, " ") {
				t.Errorf("after signing in again, the jar holds %q, want %q", left, want)
			}

			lf = newLiveFleet(t, cookiesession.Options{MaxChunks: 4})
			c, base = lf.browser(t, "example.com")
			get(t, c, base+"/login?user=bob&pad=4000")
			lf.deploy(newOpts)
			if got := get(t, c, base+"/whoami"); got != "bob" {
				t.Errorf("a session over 2 cookies under MaxChunks 2: whoami = %q, want bob", got)
			}
		})
	}
}

// TestLiveRollingDeployment alternates the old and the new configuration
// (with Retired) request by request on one browser, as a rolling
// deployment does: the user stays signed in on both, and the change each
// request makes is read back by the next, except where noted.
func TestLiveRollingDeployment(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new cookiesession.Options
		lossy    bool // a change an old instance made can be lost at the next new one
	}{
		{name: "path /app to /", old: cookiesession.Options{Path: "/app"},
			new: cookiesession.Options{Path: "/", Retired: []cookiesession.RetiredCookie{{Path: "/app"}}}},
		{name: "path / to /app", old: cookiesession.Options{Path: "/"},
			new: cookiesession.Options{Path: "/app", Retired: []cookiesession.RetiredCookie{{Path: "/"}}}, lossy: true},
		{name: "domain added", old: cookiesession.Options{},
			new: cookiesession.Options{Domain: "example.com", Retired: []cookiesession.RetiredCookie{{}}}, lossy: true},
		{name: "MaxChunks 4 to 2", old: cookiesession.Options{MaxChunks: 4},
			new: cookiesession.Options{MaxChunks: 2, Retired: []cookiesession.RetiredCookie{{MaxChunks: 4}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lf := newLiveFleet(t, tc.old)
			oldM, newM := lf.f.m, lf.f.manager(tc.new)
			c, base := lf.browser(t, "app.example.com")
			get(t, c, base+"/app/login?user=alice")
			cart, lost := "", 0
			for i := range 8 {
				lf.serving.Store([]*cookiesession.Manager{newM, oldM}[i%2])
				if got := get(t, c, base+"/app/whoami"); got != "alice" {
					t.Fatalf("request %d: signed out (whoami %q)", i, got)
				}
				item := strconv.Itoa(i)
				get(t, c, base+"/app/add?item="+item)
				cart += item
				lf.serving.Store([]*cookiesession.Manager{oldM, newM}[i%2])
				if got := get(t, c, base+"/app/cart"); got != cart {
					lost++
					cart = got
				}
			}
			t.Logf("%d of 8 changes lost", lost)
			if !tc.lossy && lost > 0 {
				t.Errorf("%d of 8 changes lost", lost)
			}
		})
	}
}

// TestLiveLifetimeChange changes the lifetimes between deployments: a
// session sealed before follows the new ones from its next request.
func TestLiveLifetimeChange(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new cookiesession.Options
		deployAt time.Duration // after the login, when the next request comes too
		checkAt  time.Duration // after the login
		signedIn bool
		remember string // the session's own MaxAge, if any
	}{
		{name: "MaxAge lowered", old: cookiesession.Options{MaxAge: 24 * time.Hour},
			new: cookiesession.Options{MaxAge: time.Hour}, deployAt: 30 * time.Minute, checkAt: 61 * time.Minute},
		{name: "MaxAge raised", old: cookiesession.Options{MaxAge: time.Hour},
			new: cookiesession.Options{MaxAge: 24 * time.Hour}, deployAt: 30 * time.Minute, checkAt: 2 * time.Hour, signedIn: true},
		{name: "IdleTimeout set", old: cookiesession.Options{MaxAge: 24 * time.Hour},
			new: cookiesession.Options{MaxAge: 24 * time.Hour, IdleTimeout: 30 * time.Minute}, deployAt: time.Hour, checkAt: 3 * time.Hour},
		{name: "IdleTimeout lowered", old: cookiesession.Options{MaxAge: 24 * time.Hour, IdleTimeout: 8 * time.Hour},
			new: cookiesession.Options{MaxAge: 24 * time.Hour, IdleTimeout: 30 * time.Minute}, deployAt: time.Hour, checkAt: 3 * time.Hour},
		{name: "IdleTimeout raised", old: cookiesession.Options{MaxAge: 24 * time.Hour, IdleTimeout: 30 * time.Minute},
			new: cookiesession.Options{MaxAge: 24 * time.Hour, IdleTimeout: 8 * time.Hour}, deployAt: 20 * time.Minute, checkAt: 3 * time.Hour, signedIn: true},
		// A session that asked for 10 hours was cut to the 2-hour ceiling.
		{name: "MaxLifetime raised", old: cookiesession.Options{MaxAge: time.Hour, MaxLifetime: 2 * time.Hour},
			new: cookiesession.Options{MaxAge: time.Hour, MaxLifetime: 24 * time.Hour}, deployAt: 30 * time.Minute, checkAt: 3 * time.Hour, signedIn: true, remember: "10h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lf := newLiveFleet(t, tc.old)
			c, base := lf.browser(t, "example.com")
			get(t, c, base+"/login?user=alice&remember="+tc.remember)
			lf.f.clock.Advance(tc.deployAt)
			lf.deploy(tc.new)
			if got := get(t, c, base+"/whoami"); got != "alice" {
				t.Fatalf("at the deployment, whoami = %q, want alice", got)
			}
			lf.f.clock.Advance(tc.checkAt - tc.deployAt)
			if got := get(t, c, base+"/whoami"); (got == "alice") != tc.signedIn {
				t.Errorf("%v after the login, with no request since the deployment: whoami = %q, want signed in %t", tc.checkAt, got, tc.signedIn)
			}
		})
	}
}

// TestLiveAttributeChange changes SameSite and BrowserSession: a cookie
// the browser holds keeps the attributes it was set with until the
// Manager writes it again, which a read-only request does not do; a new
// primary key shipped with the change makes the next request that uses
// the session write it again, with the new attributes.
func TestLiveAttributeChange(t *testing.T) {
	for _, promote := range []bool{false, true} {
		t.Run("promote="+strconv.FormatBool(promote), func(t *testing.T) {
			lf := newLiveFleet(t, cookiesession.Options{})
			c, base := lf.browser(t, "example.com")
			get(t, c, base+"/login?user=alice")
			opts := cookiesession.Options{SameSite: http.SameSiteStrictMode, BrowserSession: true, Now: lf.f.clock.Now, Logger: debugLogger(lf.f.log)}
			ring := lf.f.ring
			if promote {
				ring = ringOf(t, keyB, keyA)
			}
			m, err := cookiesession.New(ring, opts)
			if err != nil {
				t.Fatal(err)
			}
			lf.serving.Store(m)
			resp, body := fetch(t, c, base+"/whoami")
			if body != "alice" {
				t.Fatalf("whoami = %q, want alice", body)
			}
			lines := resp.Header.Values("Set-Cookie")
			if !promote {
				if len(lines) != 0 {
					t.Errorf("a read-only request wrote %q", lines)
				}
				return
			}
			if len(lines) != 1 || !strings.Contains(lines[0], "SameSite=Strict") || strings.Contains(lines[0], "Max-Age") {
				t.Errorf("after the promotion, Set-Cookie %q, want the cookie again with SameSite=Strict and no Max-Age", lines)
			}
		})
	}
}

func TestRetiredOptions(t *testing.T) {
	ring := ringOf(t, keyA)
	for _, tc := range []struct {
		opts cookiesession.Options
		err  string // "" for none
	}{
		{opts: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{}}}, err: "is the Manager's own cookie"},
		{opts: cookiesession.Options{MaxChunks: 4, Retired: []cookiesession.RetiredCookie{{MaxChunks: 4}}}, err: "is the Manager's own cookie"},
		{opts: cookiesession.Options{MaxChunks: 2, Retired: []cookiesession.RetiredCookie{{MaxChunks: 4}}}},
		{opts: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "__Host-old", Path: "/app"}}}, err: "Options.Retired[0]: cookiesession: browsers drop"},
		{opts: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{MaxChunks: 65}}}, err: "MaxChunks 65 is not between 1 and 64"},
		{opts: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "a;b"}}}, err: "Options.Retired[0]"},
		{opts: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Domain: "example.com."}}}, err: "ends in a dot"},
		{opts: cookiesession.Options{DisableSecure: true, Retired: []cookiesession.RetiredCookie{{Name: "__Secure-s"}}}, err: "unless it is Secure"},
		// Browsers read a Domain without its leading dot, in any case.
		{opts: cookiesession.Options{Domain: "example.com", Retired: []cookiesession.RetiredCookie{{Domain: ".Example.com"}}}, err: "is the Manager's own cookie"},
		{opts: cookiesession.Options{Path: "/app", Retired: []cookiesession.RetiredCookie{{}}}},
		// One line expires a cookie: a repeated entry would add it twice
		// to every response that sets the session's cookies.
		{opts: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Path: "/a"}, {Path: "/a"}}}, err: "Options.Retired[1] lists only cookies an earlier entry lists"},
		{opts: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Path: "/a", MaxChunks: 3}, {Path: "/a", Domain: "", MaxChunks: 2}}}, err: "remove it"},
		{opts: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Path: "/a"}, {Path: "/a", MaxChunks: 2}}}},
		{opts: cookiesession.Options{Partitioned: true, Retired: []cookiesession.RetiredCookie{{}}}},
		// Paths an earlier configuration may have written: the line must
		// carry the Path as it was, and one with | or %7E came back in
		// some browsers.
		{opts: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Path: "/a|b"}, {Path: "/%7Eada"}, {Path: "/users/{id}"}, {Path: "/a b"}}}},
		// Without a Name, the default name's cookie or the Manager's own
		// moved? New does not guess.
		{opts: cookiesession.Options{Name: "sid", Retired: []cookiesession.RetiredCookie{{Path: "/app"}}}, err: `Options.Retired[0] has no Name, and this Manager's is "sid": say Name: "sid"`},
		{opts: cookiesession.Options{Name: "sid", Retired: []cookiesession.RetiredCookie{{Name: "sid", Path: "/app"}, {Name: "session"}}}},
		// Carry is for a rename: a cookie of the Manager's own Name opens
		// as its own already.
		{opts: cookiesession.Options{Path: "/app", Retired: []cookiesession.RetiredCookie{{Carry: true}}}, err: `Options.Retired[0] sets Carry on a cookie of the Manager's own Name "session"`},
		{opts: cookiesession.Options{Name: "sid", MaxChunks: 2, Retired: []cookiesession.RetiredCookie{{Name: "sid", MaxChunks: 3, Carry: true}}}, err: "Carry is for a cookie of another Name"},
		{opts: cookiesession.Options{Name: "__Host-session", Retired: []cookiesession.RetiredCookie{{Name: "session", MaxChunks: 2, Carry: true}}}},
	} {
		_, err := cookiesession.New(ring, tc.opts)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("New(%+v): %v", tc.opts.Retired, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("New(%+v) = %v, want an error containing %q", tc.opts.Retired, err, tc.err)
		}
		if err != nil {
			checkErrRules(t, err)
		}
	}
}

// TestRetiredLines checks what each answer carries: a Partitioned cookie
// is another cookie than an unpartitioned one of its name, so switching
// Partitioned on retires the unpartitioned one, with the Manager's
// Secure, HttpOnly and SameSite; a read-only request with no retired
// cookie sets nothing.
func TestRetiredLines(t *testing.T) {
	f := newFixture(t, cookiesession.Options{Partitioned: true, SameSite: http.SameSiteNoneMode,
		Retired: []cookiesession.RetiredCookie{{Name: "old"}, {}}})
	b := newClientCookies()
	resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "alice")
	})
	want := []string{"old=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=None", "session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=None"}
	lines := resp.Header.Values("Set-Cookie")
	if len(lines) != 3 || !strings.Contains(lines[2], "; Partitioned") || strings.Join(lines[:2], "|") != strings.Join(want, "|") {
		t.Errorf("a login sets %q, want %q, then the session's cookie", lines, want)
	}
	resp = f.serve(b, func(w http.ResponseWriter, r *http.Request) { cookiesession.FromContext(r.Context()).GetString("user") })
	if lines := resp.Header.Values("Set-Cookie"); len(lines) != 0 {
		t.Errorf("a read-only request sets %q", lines)
	}
	b.vals["old"] = "x"
	resp = f.serve(b, func(w http.ResponseWriter, r *http.Request) { cookiesession.FromContext(r.Context()).GetString("user") })
	if lines := resp.Header.Values("Set-Cookie"); strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("a read-only request carrying old sets %q, want %q", lines, want)
	}
}

// TestLiveRollingNameChange alternates the old name and the new one (with
// the old retired): each side reads only its own cookie, so a user signed
// in on one side is signed out on the other until the rollout ends.
func TestLiveRollingNameChange(t *testing.T) {
	lf := newLiveFleet(t, cookiesession.Options{})
	oldM := lf.f.m
	newM := lf.f.manager(cookiesession.Options{Name: "__Host-session", Retired: []cookiesession.RetiredCookie{{Name: "session"}}})
	c, base := lf.browser(t, "example.com")
	get(t, c, base+"/login?user=alice")
	lf.serving.Store(newM)
	if got := get(t, c, base+"/whoami"); got != "" {
		t.Errorf("new side, signed in on the old: whoami = %q, want signed out", got)
	}
	get(t, c, base+"/login?user=alice")
	lf.serving.Store(oldM)
	if got := get(t, c, base+"/whoami"); got != "" {
		t.Errorf("old side, signed in on the new: whoami = %q, want signed out", got)
	}
	lf.serving.Store(newM)
	if got := get(t, c, base+"/whoami"); got != "alice" {
		t.Errorf("new side again: whoami = %q, want alice", got)
	}
}

// TestRetiredLinesBeforeTheSession changes only what some clients do not
// tell apart: Partitioned (a browser without CHIPS, a net/http cookie
// jar) or a Domain that names the host itself (RFC 6265 section 5.3 keys
// a cookie by name, domain and path, not by its host-only flag). To such a
// client the retired cookie is the session's own, and a line that
// expires it after the one that sets the session would end the session
// it sets.
func TestRetiredLinesBeforeTheSession(t *testing.T) {
	for _, tc := range []struct{ old, new cookiesession.Options }{
		{old: cookiesession.Options{}, new: cookiesession.Options{Partitioned: true, Retired: []cookiesession.RetiredCookie{{}}}},
		{old: cookiesession.Options{Partitioned: true}, new: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Partitioned: true}}}},
		{old: cookiesession.Options{}, new: cookiesession.Options{Domain: "app.example.com", Retired: []cookiesession.RetiredCookie{{}}}},
		{old: cookiesession.Options{Domain: "app.example.com"}, new: cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Domain: "app.example.com"}}}},
	} {
		t.Run(strconv.Quote(tc.new.Domain)+strconv.FormatBool(tc.new.Partitioned), func(t *testing.T) {
			lf := newLiveFleet(t, tc.old)
			c, base := lf.browser(t, "app.example.com")
			get(t, c, base+"/login?user=alice")
			lf.deploy(tc.new)
			if got := get(t, c, base+"/whoami"); got != "alice" {
				t.Fatalf("after the deployment, whoami = %q, want alice", got)
			}
			get(t, c, base+"/login?user=bob")
			if got := get(t, c, base+"/whoami"); got != "bob" {
				t.Errorf("after a login on the new configuration, whoami = %q, want bob", got)
			}
			get(t, c, base+"/logout")
			if got := get(t, c, base+"/whoami"); got != "" {
				t.Errorf("after a logout, whoami = %q, want signed out", got)
			}
		})
	}
}

// TestRetiredNameOfAStackedManager stacks a Manager that retires the
// default name "session" (renamed to "auth") over one that uses it: each
// response of the outer one would expire the inner one's cookie, and
// drop the lines the inner one writes. It is reported as overlapping
// names are, before the handler runs.
func TestRetiredNameOfAStackedManager(t *testing.T) {
	f := newFixture(t, cookiesession.Options{Name: "auth", Retired: []cookiesession.RetiredCookie{{Name: "session"}}})
	prefs := f.manager(cookiesession.Options{})
	for _, order := range [][2]*cookiesession.Manager{{f.m, prefs}, {prefs, f.m}} {
		called := false
		rec := httptest.NewRecorder()
		order[0].Handler(order[1].Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))).
			ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if called || rec.Code != http.StatusInternalServerError {
			t.Errorf("a Manager stacked with one that retires its cookie: handler called %v, status %d; want 500 before the handler", called, rec.Code)
		}
	}
	if log := f.log.String(); !strings.Contains(log, `\"auth\" retires the cookie \"session\" of Manager \"session\"`) {
		t.Errorf("log does not name the overlap:\n%s", log)
	}
}

// TestRetiredCookieThatComesBack: the lines that expire Options.Retired
// cannot reach a cookie set for a scope no entry names, or tossed by
// another host of the site. Such a cookie comes back with every request:
// the Manager answers it once (and, beside a value of the session's own
// name, re-seals the session once), then stops, and logs once at Warn.
func TestRetiredCookieThatComesBack(t *testing.T) {
	t.Run("own name", func(t *testing.T) {
		// The operator lists the wrong scope: the old cookie was set for
		// Domain example.com, not Path /app.
		lf := newLiveFleet(t, cookiesession.Options{Domain: "example.com"})
		c, base := lf.browser(t, "app.example.com")
		get(t, c, base+"/login?user=alice")
		lf.deploy(cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Path: "/app"}}})
		get(t, c, base+"/login?user=bob") // the host-only cookie beside the old one
		var writes []int
		for i := range 5 {
			resp, body := fetch(t, c, base+"/whoami")
			if body != "alice" && body != "bob" {
				t.Fatalf("whoami = %q, want a signed-in user", body)
			}
			if len(resp.Header["Set-Cookie"]) > 0 {
				writes = append(writes, i)
			}
		}
		if len(writes) > 1 {
			t.Errorf("responses %v of 5 read-only requests set cookies, want at most the first", writes)
		}
		if got := lf.f.log.lines("came back"); len(got) != 1 || !strings.Contains(got[0], "level=WARN") {
			t.Errorf("log lines about the cookie that came back: %q, want one Warn", got)
		}
	})
	t.Run("other name", func(t *testing.T) {
		// A cookie of a retired name, tossed for Domain example.com.
		// Coming back with nothing else changed proves nothing (the
		// answer may have been lost, or the request sent before it
		// arrived): it is answered again, however late. Coming back
		// beside a session cookie that changed since proves the browser
		// took a later answer: it is not answered again.
		f := newFixture(t, cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "old"}}})
		b := newClientCookies()
		b.vals["session"] = loginToken(t, f, "alice")
		b.vals["old"] = "tossed"
		read := func(w http.ResponseWriter, r *http.Request) {
			_ = cookiesession.FromContext(r.Context()).GetString("user")
		}
		for step, want := range []struct {
			after time.Duration
			login bool // the session cookie changes before the request
			lines int
		}{{0, false, 1}, {time.Second, false, 1}, {time.Hour, false, 1}, {time.Second, true, 0}, {time.Hour, false, 0}} {
			f.clock.Advance(want.after)
			if want.login {
				b.vals["session"] = loginToken(t, f, "bob")
			}
			rec := httptest.NewRecorder()
			f.m.Handler(http.HandlerFunc(read)).ServeHTTP(rec, b.request("/"))
			if got := rec.Result().Header["Set-Cookie"]; len(got) != want.lines {
				t.Errorf("step %d: Set-Cookie %q, want %d line(s)", step, got, want.lines)
			}
			if got := f.log.lines("came back"); len(got) != min(step/3, 1) {
				t.Errorf("step %d: log lines about the cookie that came back: %q", step, got)
			}
		}
		// The Warn says what still reaches the cookie, and it does.
		if got := f.log.lines("came back"); len(got) != 1 || !strings.Contains(got[0], "only a response that sets the session's cookies still expires it") {
			t.Errorf("log lines about the cookie that came back: %q, want one that says a response setting the session still expires it", got)
		}
		rec := httptest.NewRecorder()
		f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = cookiesession.FromContext(r.Context()).Set("note", "x")
		})).ServeHTTP(rec, b.request("/"))
		if got := rec.Result().Header["Set-Cookie"]; len(got) != 2 || !strings.HasPrefix(got[0], "old=;") {
			t.Errorf("Set-Cookie %q of a change after the Warn, want the line that expires old, then the session's", got)
		}
	})
}

// TestRetiredCookieBackWithoutTheSession: a session cookie the browser
// dropped by itself (its MaxAge passed, or it was a browser-session cookie
// and the browser was closed) proves no later response of ours was taken.
// A retired cookie that comes back beside no session cookie, after an
// answer that was lost, is answered again, and nothing is logged.
func TestRetiredCookieBackWithoutTheSession(t *testing.T) {
	f := newFixture(t, cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "old"}}})
	b := newClientCookies()
	b.vals["session"] = loginToken(t, f, "alice")
	b.vals["old"] = "tossed"
	read := func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).GetString("user")
	}
	for step, dropSession := range []bool{false, true, false} {
		if dropSession {
			delete(b.vals, "session") // the answer before was lost
		}
		rec := httptest.NewRecorder()
		f.m.Handler(http.HandlerFunc(read)).ServeHTTP(rec, b.request("/"))
		if got := rec.Result().Header["Set-Cookie"]; len(got) != 1 || !strings.HasPrefix(got[0], "old=;") {
			t.Errorf("step %d: Set-Cookie %q, want the line that expires old", step, got)
		}
	}
	if got := f.log.lines("came back"); len(got) != 0 {
		t.Errorf("log lines about a cookie that came back: %q", got)
	}
}

// TestRetiredChunksAboveMaxChunks: an entry of Options.Retired whose
// MaxChunks (default 1) is below the earlier configuration's leaves that
// configuration's higher chunks in the browser, which no line expires.
// The Manager says so once at Warn, with the entry and the fix, without
// the cookie's value, and changes no line; an entry that covers the
// chunks, a cookie of the Manager's own chunk names, and names that are
// no chunk name chunkName writes, are not logged.
func TestRetiredChunksAboveMaxChunks(t *testing.T) {
	const warn = "above that entry's MaxChunks"
	read := func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).GetString("user")
	}
	serve := func(f *fixture, b *clientCookies) []string {
		t.Helper()
		rec := httptest.NewRecorder()
		f.m.Handler(http.HandlerFunc(read)).ServeHTTP(rec, b.request("/"))
		return rec.Result().Header["Set-Cookie"]
	}
	t.Run("logged once", func(t *testing.T) {
		f := newFixture(t, cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "other"}, {Name: "old"}}})
		b := newClientCookies()
		b.vals["session"] = loginToken(t, f, "alice")
		b.vals["old"], b.vals["old.1"], b.vals["old.2"] = "secret0", "secret1", "secret2"
		for step := range 2 {
			if got := serve(f, b); len(got) != 2 || !strings.HasPrefix(got[0], "other=;") || !strings.HasPrefix(got[1], "old=;") {
				t.Errorf("step %d: Set-Cookie %q, want the lines that expire other and old, as before", step, got)
			}
		}
		got := f.log.lines(warn)
		if len(got) != 1 {
			t.Fatalf("log lines about chunks above MaxChunks: %q, want one", got)
		}
		for _, want := range []string{"level=WARN", "cookie=old.1", "Options.Retired[1]", "set MaxChunks in Options.Retired[1]"} {
			if !strings.Contains(got[0], want) {
				t.Errorf("log line %q does not say %q", got[0], want)
			}
		}
		if strings.Contains(got[0], "secret") {
			t.Errorf("log line %q holds a cookie's value", got[0])
		}
	})
	t.Run("first chunk gone", func(t *testing.T) {
		// The retired line took old; old.1 and old.2 stay, and the request
		// carries no retired cookie the Manager would answer.
		f := newFixture(t, cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "old"}}})
		b := newClientCookies()
		b.vals["old.1"], b.vals["old.2"] = "x", "y"
		if got := serve(f, b); len(got) != 0 {
			t.Errorf("Set-Cookie %q, want none", got)
		}
		if got := f.log.lines(warn); len(got) != 1 || !strings.Contains(got[0], "cookie=old.1") {
			t.Errorf("log lines about chunks above MaxChunks: %q, want one naming old.1", got)
		}
	})
	for _, c := range []struct {
		name    string
		opts    cookiesession.Options
		cookies []string
	}{
		{"covered", cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "old", MaxChunks: 3}}},
			[]string{"old", "old.1", "old.2"}},
		{"covered by another entry", cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "old", MaxChunks: 3}, {Name: "old", Path: "/app"}}},
			[]string{"old", "old.1", "old.2"}},
		{"own chunks", cookiesession.Options{MaxChunks: 3, Retired: []cookiesession.RetiredCookie{{Path: "/app"}}},
			[]string{"session.1", "session.2"}},
		{"no chunk names", cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "old"}}},
			[]string{"old.01", "old.+1", "old.64", "old.100", "old.", "old.1x", "older.1", "ol.1", ".1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.opts)
			b := newClientCookies()
			for _, name := range c.cookies {
				b.vals[name] = "x"
			}
			serve(f, b)
			if got := f.log.lines(warn); len(got) != 0 {
				t.Errorf("log lines about chunks above MaxChunks: %q, want none", got)
			}
		})
	}
}

// TestLoweredMaxChunks: a Manager whose MaxChunks was lowered, with no
// Options.Retired entry for its Name, cannot read a session an earlier
// configuration sealed over more chunks, nor expire the chunks above its
// own: it says so once at Warn, with the entry that would.
func TestLoweredMaxChunks(t *testing.T) {
	const warn = "chunk cookie of the Manager's Name above MaxChunks"
	blob := strings.Repeat("x", 7000) // three chunks of 4096-byte cookies
	store := func(w http.ResponseWriter, r *http.Request) {
		if err := cookiesession.FromContext(r.Context()).Set("blob", blob); err != nil {
			t.Error(err)
		}
	}
	read := func(got *bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			*got = cookiesession.FromContext(r.Context()).GetString("blob") == blob
		}
	}
	// sealed returns a fixture and a client holding a session that a
	// Manager of opts, but with MaxChunks 4, sealed over three cookies.
	sealed := func(t *testing.T, opts cookiesession.Options) (*fixture, *clientCookies) {
		wide := opts
		wide.MaxChunks, wide.Retired = 4, nil
		f := newFixture(t, wide)
		b := newClientCookies()
		f.serve(b, store)
		if got := b.names(); !slices.Equal(got, []string{"session", "session.1", "session.2"}) {
			t.Fatalf("cookies %q, want three chunks", got)
		}
		f.m = f.manager(opts)
		return f, b
	}
	t.Run("lowered", func(t *testing.T) {
		// The cookies stay, for an instance that reads them (a rollout
		// that raises MaxChunks), unless the handler stores something.
		f, b := sealed(t, cookiesession.Options{MaxChunks: 2})
		var opened bool
		for step := range 2 {
			resp := f.serve(b, read(&opened))
			if opened {
				t.Fatalf("step %d: a Manager of MaxChunks 2 read a session of three chunks", step)
			}
			if got := resp.Header["Set-Cookie"]; len(got) != 0 {
				t.Errorf("step %d: Set-Cookie %q, want none", step, got)
			}
		}
		f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			mustSet(t, cookiesession.FromContext(r.Context()), "user", "alice")
		})
		if got := b.names(); !slices.Equal(got, []string{"session", "session.2"}) {
			t.Errorf("after a login, cookies %q, want the new session and the old third chunk", got)
		} else if user, _ := f.userIn(b.vals["session"]); user != "alice" {
			t.Errorf("after a login, the session holds user %v", user)
		}
		got := f.log.lines(warn)
		if len(got) != 1 {
			t.Fatalf("log lines about a chunk above MaxChunks: %q, want one", got)
		}
		for _, want := range []string{"level=WARN", "cookie=session.2", "max_chunks=2", "set it back to 3 or more",
			`RetiredCookie{Name: \"session\", MaxChunks: 3}`} {
			if !strings.Contains(got[0], want) {
				t.Errorf("log line %q does not say %q", got[0], want)
			}
		}
		if strings.Contains(got[0], b.vals["session.2"][:40]) {
			t.Errorf("log line %q holds a cookie's value", got[0])
		}
	})
	t.Run("no split-secret alarm", func(t *testing.T) {
		// The token cut short at MaxChunks fails authentication under the
		// key the ring holds, at every request while its cookies stay:
		// that is the line above, not two secrets under one key id.
		f, b := sealed(t, cookiesession.Options{MaxChunks: 2})
		var opened bool
		for range 70 { // 140 s: two windows of the authentication watch
			f.serve(b, read(&opened))
			f.clock.Advance(2 * time.Second)
		}
		if got := f.m.Metrics().Refused["auth_failed"]; opened || got != 70 {
			t.Fatalf("session read: %v; auth_failed %d, want not read and 70", opened, got)
		}
		if got := f.log.lines(splitSecretMsg); len(got) != 0 {
			t.Errorf("a session over more chunks than MaxChunks logged %q", got)
		}
		if got := f.log.lines(warn); len(got) != 1 {
			t.Errorf("log lines about a chunk above MaxChunks: %q, want one", got)
		}
	})
	t.Run("raised back", func(t *testing.T) {
		f, b := sealed(t, cookiesession.Options{MaxChunks: 3})
		var opened bool
		f.serve(b, read(&opened))
		if got := f.log.lines(warn); !opened || len(got) != 0 {
			t.Errorf("session read: %v; log lines about a chunk above MaxChunks: %q, want it read and none", opened, got)
		}
	})
	t.Run("retired entry", func(t *testing.T) {
		// The fix the line names: the chunk above goes, without a word.
		f, b := sealed(t, cookiesession.Options{MaxChunks: 2, Retired: []cookiesession.RetiredCookie{{Name: "session", MaxChunks: 3}}})
		var opened bool
		resp := f.serve(b, read(&opened))
		requireCleared(t, resp.Header, "session", "session.1", "session.2")
		if got := f.log.lines(warn); opened || len(got) != 0 || len(b.vals) != 0 {
			t.Errorf("session read: %v; cookies left %q; log lines about a chunk above MaxChunks: %q, want none of them", opened, b.names(), got)
		}
	})
	t.Run("names the attributes", func(t *testing.T) {
		f := newFixture(t, cookiesession.Options{Name: "__Secure-app", Path: "/app", Domain: "example.com", Partitioned: true, SameSite: http.SameSiteNoneMode})
		b := newClientCookies()
		for i := range 10 { // an earlier configuration's chunks run without a gap
			b.vals["__Secure-app."+strconv.Itoa(i+1)] = "x"
		}
		rec := httptest.NewRecorder()
		f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cookiesession.FromContext(r.Context()).Has("user")
		})).ServeHTTP(rec, b.request("/app/"))
		want := `RetiredCookie{Name: \"__Secure-app\", Path: \"/app\", Domain: \"example.com\", Partitioned: true, MaxChunks: 11}`
		if got := f.log.lines(warn); len(got) != 1 || !strings.Contains(got[0], "cookie=__Secure-app.10") || !strings.Contains(got[0], want) {
			t.Errorf("log lines about a chunk above MaxChunks: %q, want one naming __Secure-app.10 and %s", got, want)
		}
	})
	t.Run("untouched", func(t *testing.T) {
		// Lazy opening: a request whose handler never uses the session
		// reads no cookie.
		f := newFixture(t, cookiesession.Options{})
		b := newClientCookies()
		b.vals["session.1"] = "x"
		f.serve(b, func(http.ResponseWriter, *http.Request) {})
		if got := f.log.lines(warn); len(got) != 0 {
			t.Errorf("log lines about a chunk above MaxChunks: %q, want none", got)
		}
	})
	t.Run("no chunk names", func(t *testing.T) {
		f := newFixture(t, cookiesession.Options{MaxChunks: 2})
		b := newClientCookies()
		for _, name := range []string{"session.01", "session.+2", "session.64", "session.100", "session.", "session.2x", "sessions.2", "session.0", ".2"} {
			b.vals[name] = "x"
		}
		var opened bool
		f.serve(b, read(&opened))
		if got := f.log.lines(warn); len(got) != 0 {
			t.Errorf("log lines about a chunk above MaxChunks: %q, want none", got)
		}
	})
}

// TestAppCookieNamedLikeAChunk: a cookie of the application's own that
// happens to be named like a chunk above MaxChunks, or like a chunk of a
// retired Name, is told from one of ours where the request shows it: a
// chunk's value is base64url text, and the chunks above MaxChunks that an
// earlier configuration left run without a gap from MaxChunks up. Such a
// cookie logs no Warn, and a refused cookie beside it is cleared as if it
// were not there. One that could be ours is still taken for one (README,
// MaxChunks and Retired).
func TestAppCookieNamedLikeAChunk(t *testing.T) {
	const above, stale = "chunk cookie of the Manager's Name above MaxChunks", "above that entry's MaxChunks"
	read := func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).GetString("user")
	}
	for _, c := range []struct {
		name   string
		opts   cookiesession.Options
		app    map[string]string
		warn   string // the Warn logged, or ""
		cleans bool   // the refused session cookie is cleared
	}{
		{"JSON", cookiesession.Options{MaxChunks: 2}, map[string]string{"session.5": `{"theme":"dark"}`}, "", true},
		{"padded base64", cookiesession.Options{MaxChunks: 2}, map[string]string{"session.2": "ZGFyaw=="}, "", true},
		{"a JWT", cookiesession.Options{MaxChunks: 2}, map[string]string{"session.2": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"}, "", true},
		{"percent-encoded", cookiesession.Options{MaxChunks: 2}, map[string]string{"session.3": "dark%20mode"}, "", true},
		{"empty", cookiesession.Options{MaxChunks: 2}, map[string]string{"session.2": ""}, "", true},
		{"above a gap", cookiesession.Options{MaxChunks: 2}, map[string]string{"session.5": "dark"}, "", true},
		{"above a chunk of another kind", cookiesession.Options{MaxChunks: 2}, map[string]string{"session.2": "a b", "session.3": "dark"}, "", true},
		// What the request cannot tell from an earlier configuration's chunks.
		{"base64url, no gap", cookiesession.Options{MaxChunks: 2}, map[string]string{"session.2": "dark"}, above, false},
		{"quoted base64url, no gap", cookiesession.Options{MaxChunks: 2}, map[string]string{"session.2": `"x"`, "session.3": "dark"}, above, false},
		{"retired, JSON", cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "sid"}}}, map[string]string{"sid.1": `{"cart":3}`}, "", true},
		{"retired, base64url", cookiesession.Options{Retired: []cookiesession.RetiredCookie{{Name: "sid"}}}, map[string]string{"sid.1": "cart3"}, stale, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.opts)
			b := newClientCookies()
			token := loginToken(t, f, "alice")
			b.vals["session"] = token[:len(token)-4] + "AAAA" // refused: authentication fails
			maps.Copy(b.vals, c.app)
			resp := f.serve(b, read)
			cleared := false
			for _, line := range resp.Header["Set-Cookie"] {
				cleared = cleared || strings.HasPrefix(line, "session=;")
			}
			if cleared != c.cleans {
				t.Errorf("Set-Cookie %q: refused session cookie cleared %v, want %v", resp.Header["Set-Cookie"], cleared, c.cleans)
			}
			for _, warn := range []string{above, stale} {
				want := 0
				if warn == c.warn {
					want = 1
				}
				if got := len(f.log.lines(warn)); got != want {
					t.Errorf("%d log lines %q, want %d:\n%s", got, warn, want, f.log)
				}
			}
			for name, value := range c.app {
				if b.vals[name] != value {
					t.Errorf("the application's cookie %s=%q became %q", name, value, b.vals[name])
				}
			}
		})
	}
}
