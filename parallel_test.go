package cookiesession_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// One user, many requests at once: a browser's tabs, fetch calls and
// HTTP/2 streams send the same cookie, and the last Set-Cookie the
// browser gets wins. These tests hold one response back until another
// has landed, as a slow network or a slow handler does.

// parallelSite is a site behind Manager.Handler over HTTP/2 with TLS on
// 127.0.0.1, with one browser's cookie jar. A request with ?hold read its
// session, then waits for release before it answers.
type parallelSite struct {
	t       *testing.T
	clock   *fakeClock
	ring    *cookiesession.KeyRing
	log     *syncBuffer
	srv     *tlsServer
	browser *http.Client
	held    chan struct{}
	release chan struct{}

	mu    sync.Mutex
	ended map[string]bool // the ended-sessions table of ExampleOptions_validateLogout
}

// newParallelSite serves login, logout (which records the ended session
// before or after Destroy, as recordEnded says), a polling read under
// SkipRefresh and an ordinary read.
func newParallelSite(t *testing.T, opts cookiesession.Options, recordEnded string) *parallelSite {
	p := &parallelSite{t: t, clock: newFakeClock(fixedNow), ring: ringOf(t, keyA), log: new(syncBuffer), ended: map[string]bool{}}
	opts.Now = p.clock.Now
	opts.Logger = debugLogger(p.log)
	opts.Validate = func(r *http.Request, s *cookiesession.Session) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.ended[s.ID()] {
			return errors.New("session ended by logout")
		}
		return nil
	}
	m, err := cookiesession.New(p.ring, opts)
	if err != nil {
		t.Fatal(err)
	}
	record := func(s *cookiesession.Session) {
		id := s.ID()
		p.mu.Lock()
		defer p.mu.Unlock()
		p.ended[id] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Renew()
		mustSet(t, s, "user", "alice")
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if s.Has("user") && recordEnded == "before Destroy" {
			record(s)
		}
		s.Destroy()
		if recordEnded == "after Destroy" {
			record(s)
		}
	})
	read := func(w http.ResponseWriter, r *http.Request, s *cookiesession.Session) {
		user := s.GetString("user")
		if r.URL.Query().Has("hold") {
			p.held <- struct{}{}
			<-p.release
		}
		_, _ = io.WriteString(w, "user="+user)
	}
	mux.HandleFunc("GET /poll", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.SkipRefresh()
		read(w, r, s)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		read(w, r, cookiesession.FromContext(r.Context()))
	})
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		mustSet(t, s, "cart", append(s.GetStrings("cart"), r.URL.Query().Get("item")))
		s.AddFlash("added " + r.URL.Query().Get("item"))
	})
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		flashes := s.Flashes()
		read(w, r, s)
		_, _ = io.WriteString(w, fmt.Sprintf(" cart=%q flashes=%q", s.GetStrings("cart"), flashes))
	})
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		token := rand.Text() // rotated on every form: the mistake
		mustSet(t, s, "csrf", token)
		read(w, r, s)
		_, _ = io.WriteString(w, " csrf="+token)
	})
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if r.URL.Query().Get("csrf") != s.GetString("csrf") {
			http.Error(w, "CSRF token mismatch", http.StatusForbidden)
		}
	})
	p.srv = newH2Server(t, m.Handler(mux))
	p.browser = p.srv.client(t)
	return p
}

// jarValue returns the session cookie the browser holds.
func (p *parallelSite) jarValue(t *testing.T) string { return p.srv.jarValue(t, p.browser, "session") }

// do sends one request from the browser and returns its body and its
// Set-Cookie lines.
func (p *parallelSite) do(method, path string) (string, []string) {
	p.t.Helper()
	req, err := http.NewRequest(method, p.srv.URL+path, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	resp, err := p.browser.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	if resp.ProtoMajor != 2 {
		p.t.Fatalf("%s %s went over %s, want HTTP/2", method, path, resp.Proto)
	}
	return string(body), resp.Header.Values("Set-Cookie")
}

// raceAfter sends GET path?hold, and once its handler has read the
// session, runs then; the held response lands after. It returns the held
// response's body and Set-Cookie lines.
func (p *parallelSite) raceAfter(path string, then func()) (string, []string) {
	p.t.Helper()
	p.held, p.release = make(chan struct{}), make(chan struct{})
	type answer struct {
		body  string
		lines []string
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := p.browser.Get(p.srv.URL + path + "?hold")
		if err != nil {
			answered <- answer{body: err.Error()}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		answered <- answer{string(body), resp.Header.Values("Set-Cookie")}
	}()
	select {
	case <-p.held:
	case <-time.After(10 * time.Second):
		p.t.Fatal("the held request never reached its handler")
	}
	func() {
		defer close(p.release) // on a failure in then too, so that the server closes
		then()
	}()
	select {
	case a := <-answered:
		return a.body, a.lines
	case <-time.After(10 * time.Second):
		p.t.Fatal("the held request never answered")
	}
	return "", nil
}

// TestPollRacingLogout: a polling read under SkipRefresh (README's
// recipe) that began before a logout and answers after it sets no cookie,
// so the logout holds: not when the idle window was due to slide, and not
// when the token was sealed under a key promoted since, which an ordinary
// read re-seals (and so signs the user in again; TestRequestRacingLogout).
// Over HTTP/2, the poll and the logout share one connection.
func TestPollRacingLogout(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(p *parallelSite)
	}{
		{"refresh due", func(p *parallelSite) { p.clock.Advance(20 * time.Minute) }},
		{"after a key promotion", func(p *parallelSite) {
			if err := p.ring.Add(keyForID(t, keyB)); err != nil {
				t.Fatal(err)
			}
			if err := p.ring.Promote(keyB); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newParallelSite(t, cookiesession.Options{IdleTimeout: 30 * time.Minute}, "")
			p.do(http.MethodPost, "/login")
			tc.before(p)
			poll, lines := p.raceAfter("/poll", func() {
				if _, out := p.do(http.MethodPost, "/logout"); len(out) == 0 {
					t.Error("the logout set no cookie")
				}
			})
			if poll != "user=alice" || len(lines) != 0 {
				t.Errorf("the poll answered %q with Set-Cookie %q; want user=alice and none", poll, lines)
			}
			if page, _ := p.do(http.MethodGet, "/me"); page != "user=" {
				t.Errorf("after the logout and the poll: %q, want signed out", page)
			}
		})
	}
}

// TestPollRacingLogoutCarried: after a rename (Options.Retired with
// Carry), a poll under SkipRefresh whose session is carried from the old
// cookie sets no cookie, so a logout answered beside it holds, as after a
// key promotion (TestPollRacingLogout). The old cookie stays for the
// next request without SkipRefresh, which carries it.
func TestPollRacingLogoutCarried(t *testing.T) {
	opts := cookiesession.Options{Name: "app", IdleTimeout: 30 * time.Minute,
		Retired: []cookiesession.RetiredCookie{{Name: "session", Carry: true}}}
	for _, race := range []bool{true, false} {
		p := newParallelSite(t, opts, "")
		u, err := url.Parse(p.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		old := sealWith(t, p.ring, "session", p.clock.Now()) // user=mallory, under the old Name
		p.browser.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: old, Path: "/", Secure: true, HttpOnly: true}})
		if !race {
			if poll, lines := p.do(http.MethodGet, "/poll"); poll != "user=mallory" || len(lines) != 0 {
				t.Errorf("a poll carried from the old cookie answered %q with Set-Cookie %q; want user=mallory and none", poll, lines)
			}
			if page, lines := p.do(http.MethodGet, "/me"); page != "user=mallory" || len(lines) != 2 || p.srv.jarValue(t, p.browser, "app") == "" {
				t.Errorf("the read after the poll answered %q with Set-Cookie %q; want the session carried under app", page, lines)
			}
			continue
		}
		poll, lines := p.raceAfter("/poll", func() { p.do(http.MethodPost, "/logout") })
		if poll != "user=mallory" || len(lines) != 0 {
			t.Errorf("the poll answered %q with Set-Cookie %q; want user=mallory and none", poll, lines)
		}
		if page, _ := p.do(http.MethodGet, "/me"); page != "user=" {
			t.Errorf("after the logout and the poll: %q, want signed out", page)
		}
	}
}

// TestIDAfterDestroyWarns: a logout that records the session it ends for
// Validate (ExampleOptions_validateLogout) must ask its ID before Destroy.
// Asked after, ID is a new id that no cookie carries: the read that
// answers after the logout, with its idle window due to slide, signs the
// user in again, and Validate lets it through. That call is logged at
// Warn, once per line, with the fix; the call before Destroy holds the
// logout and logs nothing.
func TestIDAfterDestroyWarns(t *testing.T) {
	const msg = "Session.ID called after Destroy"
	for _, tc := range []struct {
		recordEnded string
		signedOut   bool
	}{
		{"before Destroy", true},
		{"after Destroy", false},
	} {
		t.Run(tc.recordEnded, func(t *testing.T) {
			p := newParallelSite(t, cookiesession.Options{IdleTimeout: 30 * time.Minute}, tc.recordEnded)
			for range 2 {
				p.do(http.MethodPost, "/login")
				p.clock.Advance(20 * time.Minute)
				if page, lines := p.raceAfter("/me", func() { p.do(http.MethodPost, "/logout") }); page != "user=alice" || len(lines) == 0 {
					t.Fatalf("the read answered %q with Set-Cookie %q; want user=alice and its refresh", page, lines)
				}
				if page, _ := p.do(http.MethodGet, "/me"); (page == "user=") != tc.signedOut {
					t.Errorf("after the logout and the read that answered after it: %q; signed out %v, want %v", page, page == "user=", tc.signedOut)
				}
			}
			got := p.log.lines(msg)
			switch {
			case tc.signedOut && len(got) != 0:
				t.Errorf("ID before Destroy logged %q", got)
			case !tc.signedOut && (len(got) != 1 || !strings.Contains(got[0], "level=WARN") || !strings.Contains(got[0], "parallel_test.go") ||
				!strings.Contains(got[0], "call ID before Destroy")):
				t.Errorf("ID after Destroy, twice: logged %q; want one Warn naming the line and the fix", got)
			}
		})
	}
	// Not logged: ID after Destroy once a value starts the new session (a
	// "Signed out" flash), whose id it is.
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	f.serve(b, setString(t, "user", "ada"))
	var id string
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Destroy()
		s.AddFlash("Signed out")
		id = s.ID()
	})
	if got := f.open(b.vals["session"]).ID.String(); got != id || len(f.log.lines(msg)) != 0 {
		t.Errorf("ID after Destroy and a flash: %s, cookie's %s; logged %q", id, got, f.log.lines(msg))
	}
}

// TestIDAfterDestroyTaggedLogSilent: a log/slog Handler that tags each
// line with the session's id (sessionLogHandler, as Options.Logger allows),
// whether the Manager's or the application's, asks ID after Destroy at the
// logout's next line; that records nothing as ended and logs no Warn. The
// logout's own ID after Destroy is still logged.
func TestIDAfterDestroyTaggedLogSilent(t *testing.T) {
	const msg = "Session.ID called after Destroy"
	for _, recordAfter := range []bool{false, true} {
		logs := new(syncBuffer)
		tagged := slog.New(sessionLogHandler{slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})})
		f := newFixture(t, cookiesession.Options{Logger: tagged})
		b := newClientCookies()
		f.serve(b, setString(t, "user", "ada"))
		resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			s.Destroy()
			tagged.InfoContext(r.Context(), "signed out")
			if recordAfter {
				_ = s.ID()
			}
		})
		requireCleared(t, resp.Header, "session")
		if tags := logs.lines("signed out"); len(tags) != 1 || !strings.Contains(tags[0], "session=") {
			t.Errorf("the tagged line: %q, want one with the session's id", tags)
		}
		if got := logs.lines(msg); len(got) != map[bool]int{false: 0, true: 1}[recordAfter] || recordAfter && !strings.Contains(got[0], "parallel_test.go") {
			t.Errorf("ID after Destroy by the logout %v, and by the Handler tagging a line: logged %q", recordAfter, got)
		}
	}
}

// TestPollRacingLogin: a browser-session cookie stays in the browser after
// its session ended (here past the idle timeout), and the page's poll
// keeps sending it. A login answered while a poll is in flight sets the
// new session; the poll, answered after it, clears no refused cookie,
// which would sign the user out as they signed in. The next request
// without SkipRefresh clears it.
func TestPollRacingLogin(t *testing.T) {
	opts := cookiesession.Options{IdleTimeout: 30 * time.Minute, BrowserSession: true}
	p := newParallelSite(t, opts, "")
	p.do(http.MethodPost, "/login")
	p.clock.Advance(31 * time.Minute)
	poll, lines := p.raceAfter("/poll", func() {
		if _, out := p.do(http.MethodPost, "/login"); len(out) != 1 {
			t.Errorf("the login set %q, want its cookie", out)
		}
	})
	if poll != "user=" || len(lines) != 0 {
		t.Errorf("the poll answered %q with Set-Cookie %q; want user= and none", poll, lines)
	}
	if page, _ := p.do(http.MethodGet, "/me"); page != "user=alice" {
		t.Errorf("after the login and the poll: %q, want signed in", page)
	}

	p = newParallelSite(t, opts, "")
	p.do(http.MethodPost, "/login")
	p.clock.Advance(31 * time.Minute)
	if _, lines := p.do(http.MethodGet, "/poll"); len(lines) != 0 {
		t.Errorf("a poll with the ended session's cookie set %q, want nothing", lines)
	}
	_, lines = p.do(http.MethodGet, "/me")
	requireCleared(t, http.Header{"Set-Cookie": lines}, "session")
	if p.jarValue(t) != "" {
		t.Error("the read left the ended session's cookie in the jar")
	}

	// A poll that ends the session still clears: a Destroy of the ended
	// session's cookie, and a Clear of one under a key id this instance
	// lacks, which it keeps unread otherwise (TestUnknownKeyLogoutClears).
	f := newFixture(t, opts)
	for _, tc := range []struct {
		name  string
		token func(b *clientCookies)
		end   func(*cookiesession.Session)
	}{
		{"Destroy, session ended", func(b *clientCookies) {
			f.serve(b, setString(t, "user", "ada"))
			f.clock.Advance(31 * time.Minute)
		}, (*cookiesession.Session).Destroy},
		{"Clear, unknown key id", func(b *clientCookies) {
			b.vals["session"] = sealWith(t, ringOf(t, keyB), "session", f.clock.Now())
		}, (*cookiesession.Session).Clear},
	} {
		b := newClientCookies()
		tc.token(b)
		resp := f.serve(b, func(w http.ResponseWriter, r *http.Request) {
			s := cookiesession.FromContext(r.Context())
			s.SkipRefresh()
			tc.end(s)
		})
		if len(ourCookies(t, resp.Header, "session")) != 1 || b.vals["session"] != "" {
			t.Errorf("%s under SkipRefresh: Set-Cookie %q; want the cookie cleared", tc.name, resp.Header.Values("Set-Cookie"))
		}
	}
}

// TestLastWriterWins asserts what README's "Last writer wins" says the
// package cannot prevent, over HTTP/2 with a cookie jar: a request that
// only reads is a writer too once its idle window is due to slide, and its
// answer, landing after another's, drops what that one stored (a cart item
// and its flash, a login); two pages loaded from one cookie both show its
// flash; a CSRF token rotated on every form no longer matches the page
// whose answer landed first. A poll under SkipRefresh writes nothing, and
// drops nothing.
func TestLastWriterWins(t *testing.T) {
	newSite := func() *parallelSite {
		p := newParallelSite(t, cookiesession.Options{IdleTimeout: 30 * time.Minute}, "")
		p.do(http.MethodPost, "/login")
		return p
	}
	for _, tc := range []struct {
		read string
		lost bool
	}{{"/me", true}, {"/poll", false}} {
		p := newSite()
		p.clock.Advance(20 * time.Minute)
		p.raceAfter(tc.read, func() { p.do(http.MethodPost, "/cart?item=book") })
		page, _ := p.do(http.MethodGet, "/page")
		if lost := page != `user=alice cart=["book"] flashes=["added book"]`; lost != tc.lost {
			t.Errorf("an add to the cart answered while %s, refresh due, was in flight: %q; lost %v, want %v", tc.read, page, lost, tc.lost)
		}
	}

	p := newParallelSite(t, cookiesession.Options{IdleTimeout: 30 * time.Minute}, "")
	p.do(http.MethodPost, "/cart?item=book") // a guest's cart
	p.clock.Advance(20 * time.Minute)
	p.raceAfter("/me", func() { p.do(http.MethodPost, "/login") })
	if page, _ := p.do(http.MethodGet, "/me"); page != "user=" {
		t.Errorf("a login answered while a read, refresh due, was in flight: %q, want it undone", page)
	}

	p = newSite()
	p.do(http.MethodPost, "/cart?item=book")
	var first string
	second, _ := p.raceAfter("/page", func() { first, _ = p.do(http.MethodGet, "/page") })
	for _, page := range []string{first, second} {
		if !strings.HasSuffix(page, `flashes=["added book"]`) {
			t.Errorf("two pages loaded at once: %q and %q; want the flash on both", first, second)
			break
		}
	}

	p = newSite()
	var page string
	p.raceAfter("/form", func() { page, _ = p.do(http.MethodGet, "/form") })
	_, token, _ := strings.Cut(page, "csrf=")
	req, err := http.NewRequest(http.MethodPost, p.srv.URL+"/form?csrf="+token, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("the form of the page answered first, its CSRF token rotated since by one answered after: %d, want 403", resp.StatusCode)
	}
}

// endedSession is a slog.LogValuer a logout hands to its own log line, to
// record the session it ends lazily: asked after Destroy, it is the new id.
type endedSession struct{ s *cookiesession.Session }

func (e endedSession) LogValue() slog.Value { return slog.StringValue(e.s.ID()) }

// TestIDAfterDestroyLogValuerWarns: a logout that records the session it
// ends through a slog.LogValuer on its own line, resolved by log/slog
// after Destroy, records a new id; that is the mistake
// TestIDAfterDestroyWarns logs, and log/slog on the stack does not hide it.
func TestIDAfterDestroyLogValuerWarns(t *testing.T) {
	logs := new(syncBuffer)
	logger := slog.New(slog.NewTextHandler(logs, nil))
	f := newFixture(t, cookiesession.Options{Logger: logger})
	b := newClientCookies()
	f.serve(b, setString(t, "user", "ada"))
	f.serve(b, func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Destroy()
		logger.InfoContext(r.Context(), "signed out", "ended", endedSession{s})
	})
	if got := logs.lines("Session.ID called after Destroy"); len(got) != 1 || !strings.Contains(got[0], "level=WARN") || !strings.Contains(got[0], "parallel_test.go") {
		t.Errorf("ID after Destroy, asked by the logout's own LogValuer: logged %q; want one Warn naming its line", got)
	}
}
