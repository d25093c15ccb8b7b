package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/seed-ff2808ae/cookiesession"
)

// liveHost is the name the browser opens the live server under; Chromium
// resolves it to 127.0.0.1 (--host-resolver-rules), Firefox too
// (network.dns.forceResolve), so that a Domain
// attribute of example.com applies to it.
const liveHost = "app.example.com"

// liveServer serves over TLS, on 127.0.0.1, the old configuration's
// Manager, then the new one's, as a fleet does across a deployment.
type liveServer struct {
	srv     *httptest.Server
	ring    *cookiesession.KeyRing
	serving atomic.Pointer[cookiesession.Manager]
}

func newLiveServer(t *testing.T) *liveServer {
	t.Helper()
	ring, err := cookiesession.NewKeyRing(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	ls := &liveServer{ring: ring}
	ls.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ls.serving.Load().Handler(http.HandlerFunc(liveApp)).ServeHTTP(w, r)
	}))
	t.Cleanup(ls.srv.Close)
	return ls
}

// deploy makes a Manager with opts serve every request from now on. Its
// log is dropped: what it warns of is what the test looks at.
func (ls *liveServer) deploy(t *testing.T, opts cookiesession.Options) {
	t.Helper()
	opts.Logger = slog.New(slog.DiscardHandler)
	m, err := cookiesession.New(ls.ring, opts)
	if err != nil {
		t.Fatal(err)
	}
	ls.serving.Store(m)
}

// base is the origin the clients open: liveHost on the server's port.
func (ls *liveServer) base() string {
	_, port, _ := net.SplitHostPort(ls.srv.Listener.Addr().String())
	return "https://" + net.JoinHostPort(liveHost, port)
}

// liveApp answers by the last element of the path, whatever the prefix:
// login (user, and pad bytes of filler), logout, and anything else with
// the user signed in and the names of the cookies the request carried, in
// the order sent: "alice | session session.1"; values adds the length of
// the filler the session holds: "alice | session session.1 | pad 4000".
func liveApp(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	switch path.Base(r.URL.Path) {
	case "login":
		s.Renew()
		err := s.Set("user", r.URL.Query().Get("user"))
		if n, _ := strconv.Atoi(r.URL.Query().Get("pad")); n > 0 && err == nil {
			err = s.Set("pad", strings.Repeat("p", n))
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	case "logout":
		s.Destroy()
	case "pad": // a change without Renew: the session shrinks or grows
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if err := s.Set("pad", strings.Repeat("p", n)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	default:
		var sent []string
		for _, c := range r.Cookies() {
			sent = append(sent, c.Name)
		}
		fmt.Fprintf(w, "%s | %s", s.GetString("user"), strings.Join(sent, " "))
		if path.Base(r.URL.Path) == "values" {
			fmt.Fprintf(w, " | pad %d", len(s.GetString("pad")))
		}
	}
}

// liveClient is a browser of the live server: Chromium, Firefox, or a
// net/http client with Go's cookie jar.
type liveClient interface {
	// get requests target (a path) and returns the body of its 200.
	get(t *testing.T, target string) string
	// reset forgets every cookie.
	reset(t *testing.T)
	// store lists the cookies held, with what keys them; false if the
	// client cannot tell.
	store(t *testing.T) (string, bool)
}

// chromiumClient sends its requests with fetch() from a page of the
// origin, so the browser's cookies go with them and their Set-Cookie
// lines land in its store.
type chromiumClient struct{ tab context.Context }

func (c chromiumClient) get(t *testing.T, target string) string {
	t.Helper()
	res := pageFetch(t, c.tab, "GET", target, "")
	if res.Status != http.StatusOK {
		t.Fatalf("Chromium: GET %s: %d %q", target, res.Status, res.Body)
	}
	return res.Body
}

func (c chromiumClient) reset(t *testing.T) {
	t.Helper()
	if _, err := chromedp.Call(c.tab, storage.ClearCookies, storage.ClearCookiesParams{}); err != nil {
		t.Fatal(err)
	}
}

func (c chromiumClient) store(t *testing.T) (string, bool) {
	t.Helper()
	res, err := chromedp.Call(c.tab, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	var held []string
	for _, ck := range res.Cookies {
		desc := fmt.Sprintf("%s (%s%s", ck.Name, ck.Domain, ck.Path)
		if ck.PartitionKey != nil {
			desc += ", partitioned"
		}
		held = append(held, desc+")")
	}
	slices.Sort(held)
	return strings.Join(held, " "), true
}

func (c chromiumClient) names(t *testing.T) []string {
	t.Helper()
	res, err := chromedp.Call(c.tab, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ck := range res.Cookies {
		names = append(names, ck.Name)
	}
	slices.Sort(names)
	return names
}

func (c chromiumClient) script(t *testing.T, js string) string {
	t.Helper()
	res, err := chromedp.Run(c.tab, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// jarClient is net/http's client with Go's cookie jar (no public suffix
// list), as the root package's TestLive tests use it.
type jarClient struct {
	base   string
	client *http.Client
}

func newJarClient(t *testing.T, ls *liveServer) *jarClient {
	t.Helper()
	tr := ls.srv.Client().Transport.(*http.Transport).Clone()
	addr := ls.srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig.ServerName = "example.com" // a name httptest's certificate holds
	c := &jarClient{base: ls.base(), client: &http.Client{Transport: tr}}
	c.reset(t)
	t.Cleanup(tr.CloseIdleConnections)
	return c
}

func (c *jarClient) get(t *testing.T, target string) string {
	t.Helper()
	resp, err := c.client.Get(c.base + target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("Go's jar: GET %s: %s %q (%v)", target, resp.Status, body, err)
	}
	return string(body)
}

func (c *jarClient) reset(t *testing.T) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.client.Jar = jar
}

func (c *jarClient) store(*testing.T) (string, bool) { return "", false }

// liveChange is one change of the cookie's settings between deployments.
// The store's contents are as chromiumClient.store lists them.
type liveChange struct {
	name     string
	old, new cookiesession.Options // new without Retired
	retired  []cookiesession.RetiredCookie
	oldPad   int    // filler bytes of alice's login on the old configuration
	newPad   int    // and of bob's on the new one
	signsOut bool   // the new configuration cannot read alice's session
	oldHeld  string // the store after alice's first request on the new configuration, with Retired
	newHeld  string // the store after bob's login, with Retired
}

var liveChanges = []liveChange{
	{name: "Path /app to /", old: cookiesession.Options{Path: "/app"}, new: cookiesession.Options{},
		retired: []cookiesession.RetiredCookie{{Path: "/app"}},
		oldHeld: "session (app.example.com/app)", newHeld: "session (app.example.com/)"},
	{name: "Domain added", old: cookiesession.Options{}, new: cookiesession.Options{Domain: "example.com"},
		retired: []cookiesession.RetiredCookie{{}},
		oldHeld: "session (app.example.com/)", newHeld: "session (.example.com/)"},
	{name: "Domain set to the host", old: cookiesession.Options{}, new: cookiesession.Options{Domain: liveHost},
		retired: []cookiesession.RetiredCookie{{}},
		oldHeld: "session (app.example.com/)", newHeld: "session (.app.example.com/)"},
	{name: "Name to __Host-session", old: cookiesession.Options{MaxChunks: 2},
		new:     cookiesession.Options{Name: "__Host-session", MaxChunks: 2},
		retired: []cookiesession.RetiredCookie{{Name: "session", MaxChunks: 2}}, oldPad: 4000, newPad: 4000, signsOut: true,
		oldHeld: "", newHeld: "__Host-session (app.example.com/) __Host-session.1 (app.example.com/)"},
	{name: "Name to __Host-session, carried", old: cookiesession.Options{MaxChunks: 2},
		new:     cookiesession.Options{Name: "__Host-session", MaxChunks: 2},
		retired: []cookiesession.RetiredCookie{{Name: "session", MaxChunks: 2, Carry: true}}, oldPad: 4000, newPad: 4000,
		oldHeld: "__Host-session (app.example.com/) __Host-session.1 (app.example.com/)",
		newHeld: "__Host-session (app.example.com/) __Host-session.1 (app.example.com/)"},
	{name: "MaxChunks 4 to 2", old: cookiesession.Options{MaxChunks: 4}, new: cookiesession.Options{MaxChunks: 2},
		retired: []cookiesession.RetiredCookie{{MaxChunks: 4}}, oldPad: 9000, signsOut: true,
		oldHeld: "", newHeld: "session (app.example.com/)"},
	{name: "Partitioned on", old: cookiesession.Options{}, new: cookiesession.Options{Partitioned: true},
		retired: []cookiesession.RetiredCookie{{}},
		oldHeld: "session (app.example.com/)", newHeld: "session (app.example.com/, partitioned)"},
	{name: "Partitioned off", old: cookiesession.Options{Partitioned: true}, new: cookiesession.Options{},
		retired: []cookiesession.RetiredCookie{{Partitioned: true}},
		oldHeld: "session (app.example.com/, partitioned)", newHeld: "session (app.example.com/)"},
}

// liveRun is what a client saw through one change: by step, the answers
// ("user | cookies sent") and the store.
type liveRun struct {
	steps []string
	saw   map[string]string
}

func (lr *liveRun) see(step, got string) {
	lr.steps = append(lr.steps, step)
	lr.saw[step] = got
}

// The last steps of each start.
var liveEnds = []string{"logout on /app", "logout on /", "bob's login"}

// runChange signs alice in on the old configuration, deploys the new one
// and makes its first request that uses the session, then, from that
// start each time, logs out on /app, logs out on /, or signs bob in on /.
// It reads where each leaves the user on /app and on /.
func runChange(t *testing.T, ls *liveServer, c liveClient, ch liveChange, retire bool) *liveRun {
	t.Helper()
	newOpts := ch.new
	if retire {
		newOpts.Retired = ch.retired
	}
	lr := &liveRun{saw: map[string]string{}}
	held := func(step string) {
		if got, ok := c.store(t); ok {
			lr.see(step+": held", got)
		}
	}
	for _, end := range liveEnds {
		c.reset(t)
		ls.deploy(t, ch.old)
		c.get(t, fmt.Sprintf("/app/login?user=alice&pad=%d", ch.oldPad))
		ls.deploy(t, newOpts)
		lr.see(end+", first use: /app", c.get(t, "/app/values"))
		held(end + ", first use")
		switch end {
		case "logout on /app":
			c.get(t, "/app/logout")
		case "logout on /":
			c.get(t, "/logout")
		default:
			c.get(t, fmt.Sprintf("/login?user=bob&pad=%d", ch.newPad))
		}
		lr.see(end+": /app", c.get(t, "/app/whoami"))
		lr.see(end+": /", c.get(t, "/whoami"))
		held(end)
	}
	return lr
}

// TestLiveBrowser changes the cookie's settings between deployments, with
// and without Options.Retired, in Chromium and in Firefox over TLS
// (app.example.com, resolved to 127.0.0.1): alice signs in on the old configuration, the
// new one serves her next request, then she logs out on /app or on /, or
// bob signs in. With Retired, every old cookie is gone once a response
// sets the session's cookies (for a Name or MaxChunks change, from the
// first request that uses the session), a logout signs out on every path,
// and bob's login is what every path sees; with Carry on the Name
// change's entry, alice keeps her session, values included, under the
// new Name from that first request. Without Retired, some of that fails
// (the row that only adds Carry runs with Retired alone: without it, it
// is the row before). It runs the same steps with Go's cookie jar, which
// the root package's TestLive tests use, and logs where the browser saw
// otherwise.
// Firefox's store does not mark a partitioned cookie: its held steps are
// compared without the mark.
func TestLiveBrowser(t *testing.T) {
	eachBrowser(t, func(t *testing.T, ls *liveServer, browser limitBrowser) {
		jar := newJarClient(t, ls)
		for _, ch := range liveChanges {
			for _, retire := range []bool{false, true} {
				if !retire && carries(ch) {
					continue
				}
				want := ch
				if _, ok := browser.(firefoxClient); ok {
					want.oldHeld = strings.ReplaceAll(ch.oldHeld, ", partitioned", "")
					want.newHeld = strings.ReplaceAll(ch.newHeld, ", partitioned", "")
				}
				t.Run(ch.name+" retired="+strconv.FormatBool(retire), func(t *testing.T) {
					got := runChange(t, ls, browser, ch, retire)
					inJar := runChange(t, ls, jar, ch, retire)
					for _, step := range got.steps {
						note := ""
						if j, ok := inJar.saw[step]; ok && j != got.saw[step] {
							note = fmt.Sprintf(" (Go's jar: %q)", j)
						}
						t.Logf("%-36s %q%s", step, got.saw[step], note)
					}
					if retire {
						checkRetired(t, want, got.saw)
					} else if !breaksWithout(want, got.saw) {
						t.Errorf("without Retired, every logout signed out and bob's login was seen on every path, with no old cookie left: Retired is not needed for %s", ch.name)
					}
				})
			}
		}
	})
}

// checkRetired checks, with Retired, what the browser saw through ch.
func checkRetired(t *testing.T, ch liveChange, saw map[string]string) {
	t.Helper()
	for _, end := range liveEnds {
		user, pad := "alice", ch.oldPad
		if ch.signsOut {
			user, pad = "", 0
		}
		got := saw[end+", first use: /app"]
		if !strings.HasPrefix(got, user+" | ") || !strings.HasSuffix(got, fmt.Sprintf(" | pad %d", pad)) {
			t.Errorf("%s, first request on the new configuration: %q, want %q", end, got, fmt.Sprintf("%s | ... | pad %d", user, pad))
		}
		// A cookie of a name the new configuration does not read is gone
		// after the first request that uses the session. One of its names
		// carries the session: no request tells it from the new one, and
		// it stays until a response sets the session's cookies.
		if got := saw[end+", first use: held"]; got != ch.oldHeld {
			t.Errorf("%s: after the first request that uses the session, the store holds %q, want %q", end, got, ch.oldHeld)
		}
	}
	for _, end := range liveEnds[:2] {
		for _, step := range []string{end + ": /app", end + ": /"} {
			if got := saw[step]; got != " | " {
				t.Errorf("%s: %q, want signed out and no cookie sent", step, got)
			}
		}
		if got := saw[end+": held"]; got != "" {
			t.Errorf("%s: the store holds %q, want nothing", end, got)
		}
	}
	for _, step := range []string{"bob's login: /app", "bob's login: /"} {
		if got := saw[step]; !strings.HasPrefix(got, "bob | ") {
			t.Errorf("%s: %q, want bob", step, got)
		}
	}
	if got := saw["bob's login: held"]; got != ch.newHeld {
		t.Errorf("after bob's login the store holds %q, want %q", got, ch.newHeld)
	}
}

// carries reports whether an entry of ch's Retired sets Carry.
func carries(ch liveChange) bool {
	return slices.ContainsFunc(ch.retired, func(rc cookiesession.RetiredCookie) bool { return rc.Carry })
}

// breaksWithout reports whether, without Retired, the browser showed one of
// the faults Retired is for: a logout that leaves alice signed in on a
// path, bob's login hidden on a path, or an old cookie kept beside bob's.
func breaksWithout(ch liveChange, saw map[string]string) bool {
	for _, step := range []string{"logout on /app: /app", "logout on /app: /", "logout on /: /app", "logout on /: /"} {
		if strings.HasPrefix(saw[step], "alice") {
			return true
		}
	}
	for _, step := range []string{"bob's login: /app", "bob's login: /"} {
		if !strings.HasPrefix(saw[step], "bob") {
			return true
		}
	}
	return saw["bob's login: held"] != ch.newHeld
}
