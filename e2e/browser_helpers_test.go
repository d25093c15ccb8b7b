package e2e

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// cookieName is the demo's default cookie name; chunks are session.1, ...
const cookieName = "session"

// testTimeout bounds each test: the browser, the demo and every action die
// with it, so a hung page fails the test instead of the whole run.
const testTimeout = 60 * time.Second

// testContext returns the bounded context of one test.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// chromiumPath finds Debian's chromium.
func chromiumPath(t *testing.T) string {
	return toolPath(t, "e2e/install-chromium.sh (apt-get install -y chromium)", "chromium")
}

// toolPath finds a program by the first of names that is on PATH (or is a
// path). Outside CI a machine without it skips the test; in CI (CI set)
// that is a failure, because the pipeline is meant to have installed it.
func toolPath(t *testing.T, install string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	missingTool(t, names[0]+" is not on PATH; install it with "+install)
	return ""
}

// missingTool skips the test, or fails it in CI, for want of a program.
func missingTool(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set, so a missing program is a failure: " + msg)
	}
	t.Skip(msg)
}

// freeAddr returns a loopback address whose port is free when it returns.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// runFront runs cmd, a proxy in the foreground that listens on addr, with
// its output in dir/output, until the test ends: then SIGTERM, which its
// parent process passes on to its workers, and on a failure the output and
// the files logs in dir are logged. It returns the front's URL once a
// request for /get through it is answered within wait.
func runFront(t *testing.T, cmd *exec.Cmd, dir, addr string, wait time.Duration, logs ...string) string {
	t.Helper()
	// A file, not a pipe: a worker holds it open as long as it runs.
	out, err := os.Create(filepath.Join(dir, "output"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
		if t.Failed() {
			for _, name := range append([]string{"output"}, logs...) {
				text, _ := os.ReadFile(filepath.Join(dir, name))
				t.Logf("%s %s:\n%s", filepath.Base(cmd.Path), name, text)
			}
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	go func() {
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		}
	}()
	waitHealthy(t, ctx, "http://"+addr+"/get")
	return "http://" + addr
}

// profileDir makes a fresh, empty Chromium profile with network prediction
// off. Left on, Chromium preconnects a spare socket to the demo and never
// uses it; net/http's Shutdown then waits 5 s for that "new" connection
// before it gives up, which made every demo restart take 5 s.
func profileDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	prefs := []byte(`{"net": {"network_prediction_options": 2}}`) // 2: never predict
	if err := os.MkdirAll(filepath.Join(dir, "Default"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Default", "Preferences"), prefs, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBrowser starts headless Chromium with a fresh profile and returns the
// context of its first tab, with extra options after the defaults. The
// browser closes when the test ends.
func newBrowser(t *testing.T, ctx context.Context, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(profileDir(t)),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.NoSandbox, // CI runs as root, and Chromium will not start as root with its sandbox
		chromedp.Flag("disable-gpu", true),
		// The machine's network is closed: without these Chromium keeps
		// trying Google's hosts in the background.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1000, 900),
		// Chromium keeps its profile's lock socket in a directory under
		// TMPDIR and leaves it there when killed, as the end of a test
		// does: one org.chromium.Chromium.* directory per browser, in
		// /tmp. A TMPDIR of the test's own goes when the test ends.
		chromedp.Env("TMPDIR=" + t.TempDir()),
	}
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelTab)
	// The first action starts the browser; doing it here makes a broken
	// browser fail in one obvious place.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return bctx
}

// page is what the demo's page shows, read from the elements its template
// marks with ids and classes.
type page struct {
	User       string        `json:"user"`       // #user, "" when not signed in
	Anonymous  bool          `json:"anonymous"`  // #anonymous: "Not signed in."
	Visits     int           `json:"visits"`     // #visits
	Flashes    []string      `json:"flashes"`    // every .flash
	Error      string        `json:"error"`      // #error
	NoteLength int           `json:"noteLength"` // #note-length: the stored note
	Draft      string        `json:"draft"`      // the note form's text
	NoSession  bool          `json:"noSession"`  // #no-session
	Refusal    bool          `json:"refusal"`    // #refused-cookie: a cookie came but could not be opened
	CookieLost bool          `json:"cookieLost"` // #cookie-lost: stored, yet no cookie came back
	NoStore    string        `json:"noStore"`    // #no-store: the sentence that there is no server store
	SessionID  string        `json:"sessionID"`  // #session-id
	KeyID      string        `json:"keyID"`      // #key-id: the key of the cookie received
	Created    string        `json:"created"`    // #created, RFC 3339
	Expires    string        `json:"expires"`    // #expires, RFC 3339
	CookieSize string        `json:"cookieSize"` // #cookie-size: "N bytes in K cookie(s)"
	Cookies    []shownCookie `json:"cookies"`    // the cookie panel
	Values     []shownValue  `json:"values"`     // the decrypted panel
	Keys       []shownKey    `json:"keys"`       // the key-ring panel
	Refused    int           `json:"refused"`    // #refused: cookies this instance refused
	Cookie     string        `json:"cookie"`     // document.cookie, for HttpOnly
}

// shownCookie is a row of the page's cookie panel: a cookie as the
// browser sent it.
type shownCookie struct {
	Name  string `json:"name"`
	Size  string `json:"size"` // "N of 4096 bytes"
	Value string `json:"value"`
}

// shownValue is a row of the decrypted panel.
type shownValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Type  string `json:"type"`
}

// shownKey is a row of the key-ring panel.
type shownKey struct {
	ID    string `json:"id"`
	Role  string `json:"role"`
	Opens int    `json:"opens"`
}

const readPageJS = `(() => {
	const text = id => { const e = document.getElementById(id); return e ? e.textContent.trim() : ""; };
	const cells = (cls, names) => Array.from(document.querySelectorAll("tr." + cls), tr =>
		Object.fromEntries(Object.entries(names).map(([k, sel]) => [k, tr.querySelector(sel).textContent.trim()])));
	return {
		user: text("user"),
		anonymous: document.getElementById("anonymous") !== null,
		visits: Number(text("visits") || -1),
		flashes: Array.from(document.querySelectorAll(".flash"), e => e.textContent.trim()),
		error: text("error"),
		noteLength: Number(text("note-length") || -1),
		draft: (document.querySelector('form[action="/note"] textarea') || {value: ""}).value,
		noSession: document.getElementById("no-session") !== null,
		refusal: document.getElementById("refused-cookie") !== null,
		cookieLost: document.getElementById("cookie-lost") !== null,
		noStore: text("no-store").replace(/\s+/g, " "),
		sessionID: text("session-id"),
		keyID: text("key-id"),
		created: text("created"),
		expires: text("expires"),
		cookieSize: text("cookie-size"),
		cookies: cells("cookie", {name: ".name", size: ".size", value: ".value"}),
		values: cells("entry", {key: ".key", value: ".shown", type: ".type"}),
		keys: cells("ring-key", {id: ".key-id", role: ".role", opens: ".opens"}).map(k => ({...k, opens: Number(k.opens)})),
		refused: Number(text("refused") || -1),
		cookie: document.cookie,
	};
})()`

// readPage reads the current page.
func readPage(t *testing.T, ctx context.Context) page {
	t.Helper()
	p, err := chromedp.Run(ctx, chromedp.Evaluate[page](readPageJS))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	return p
}

// open navigates to target, checks the document answered 200, and reads it.
func open(t *testing.T, ctx context.Context, target string) page {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(target))
	if err != nil {
		t.Fatalf("opening %s: %v", target, err)
	}
	if resp.Status != 200 {
		t.Fatalf("opening %s: status %d", target, resp.Status)
	}
	return readPage(t, ctx)
}

// reload reloads the current page and reads it.
func reload(t *testing.T, ctx context.Context) page {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatalf("reloading: %v", err)
	}
	return readPage(t, ctx)
}

// submit fills the form that posts to action (field name -> value), clicks
// its button, follows the demo's 303 back to the page, and reads it.
func submit(t *testing.T, ctx context.Context, action string, fields map[string]string) page {
	t.Helper()
	return submitStatus(t, ctx, action, fields, 200)
}

// submitStatus is submit for an answer with this status: 200 is the page
// after the demo's 303; any other status is the answer to the POST itself.
func submitStatus(t *testing.T, ctx context.Context, action string, fields map[string]string, status int64) page {
	t.Helper()
	form := fmt.Sprintf(`form[action=%q]`, action)
	var steps []chromedp.Action[chromedp.Void]
	for name, value := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(fmt.Sprintf("%s [name=%q]", form, name)), value))
	}
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("filling %s: %v", form, err)
	}
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(form+" button")))
	if err != nil {
		t.Fatalf("submitting %s: %v", form, err)
	}
	wantPath := "/"
	if status != 200 {
		wantPath = action
	}
	if u, err := url.Parse(resp.URL); err != nil || resp.Status != status || u.Path != wantPath {
		t.Fatalf("submitting %s: landed on %s with status %d, want %s with %d", form, resp.URL, resp.Status, wantPath, status)
	}
	return readPage(t, ctx)
}

// login signs in through the page's form, "remember me" unchecked.
func login(t *testing.T, ctx context.Context, user string) page {
	t.Helper()
	return submit(t, ctx, "/login", map[string]string{"username": user})
}

// loginRemembered signs in with "remember me" checked.
func loginRemembered(t *testing.T, ctx context.Context, user string) page {
	t.Helper()
	box := chromedp.CSS(`form[action="/login"] [name="remember"]`)
	if err := chromedp.Do(ctx, chromedp.Click(box)); err != nil {
		t.Fatalf("checking remember me: %v", err)
	}
	return login(t, ctx, user)
}

// sessionCookies returns the session's cookies (the base cookie and its
// chunks) from the browser's whole cookie store, by name.
func sessionCookies(t *testing.T, ctx context.Context) map[string]*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		t.Fatalf("reading the cookie store: %v", err)
	}
	found := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		if c.Name == cookieName || strings.HasPrefix(c.Name, cookieName+".") {
			found[c.Name] = c
		}
	}
	return found
}

// checkCookiePanel checks that the page's cookie panel shows exactly the
// session cookies held (what the browser sent): in chunk order, with
// their sizes against 4096 bytes and their values.
func checkCookiePanel(t *testing.T, p page, held map[string]*network.Cookie) {
	t.Helper()
	var want []shownCookie
	total := 0
	for _, name := range chunkNames(len(held)) {
		c := held[name]
		if c == nil {
			t.Fatalf("the store holds %v, not the chunks in order", cookieNames(held))
		}
		size := len(c.Name) + len(c.Value)
		total += size
		want = append(want, shownCookie{Name: c.Name, Size: fmt.Sprintf("%d of 4096 bytes", size), Value: c.Value})
	}
	if !slices.Equal(p.Cookies, want) {
		brief := func(cs []shownCookie) (out []string) {
			for _, c := range cs {
				out = append(out, fmt.Sprintf("%s (%s, value %.12s...)", c.Name, c.Size, c.Value))
			}
			return out
		}
		t.Errorf("the cookie panel shows %q, want what the browser held: %q", brief(p.Cookies), brief(want))
	}
	if wantSize := fmt.Sprintf("%d bytes in %d cookie(s)", total, len(want)); p.CookieSize != wantSize {
		t.Errorf("the cookie panel says %q, want %q", p.CookieSize, wantSize)
	}
}

// opensByKey maps the key-ring panel's key ids to "role, opens".
func opensByKey(p page) map[string]string {
	out := map[string]string{}
	for _, k := range p.Keys {
		out[k.ID] = fmt.Sprintf("%s, %d", k.Role, k.Opens)
	}
	return out
}

// cookieNames lists the names in a cookie map, sorted.
func cookieNames(cookies map[string]*network.Cookie) []string {
	names := make([]string, 0, len(cookies))
	for n := range cookies {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// chunkNames is what a session split over n cookies is stored as.
func chunkNames(n int) []string {
	names := []string{cookieName}
	for i := 1; i < n; i++ {
		names = append(names, fmt.Sprintf("%s.%d", cookieName, i))
	}
	return names
}

// fetchResult is the answer to a fetch() made by the page.
type fetchResult struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// pageFetch calls the demo's API from inside the page with fetch(), so the
// request carries the browser's cookies and its answer's Set-Cookie (if
// any) lands in the browser's store. body is sent as JSON when not "".
func pageFetch(t *testing.T, ctx context.Context, method, path, body string) fetchResult {
	t.Helper()
	init := fmt.Sprintf(`{method: %q}`, method)
	if body != "" {
		init = fmt.Sprintf(`{method: %q, headers: {"Content-Type": "application/json"}, body: %s}`, method, body)
	}
	js := fmt.Sprintf(`fetch(%q, %s).then(async r => ({status: r.status, body: await r.text()}))`, path, init)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[fetchResult](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s %s from the page: %v", method, path, err)
	}
	return res
}

// screenshot saves a PNG of the viewport into the test's temporary dir,
// and also into $E2E_SCREENSHOT_DIR when set, so a CI run or a person can
// keep it after the temporary dir is gone.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("E2E_SCREENSHOT_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot of %s: %s (%d bytes)", name, path, len(png))
	return path
}

// blockedCookies collects why the browser refused Set-Cookie lines.
type blockedCookies struct {
	mu  sync.Mutex
	why map[string][]network.SetCookieBlockedReason // by cookie name
}

// watchBlockedCookies records, for the rest of the test, every cookie the
// tab refuses to store and the browser's reasons.
func watchBlockedCookies(t *testing.T, ctx context.Context) *blockedCookies {
	t.Helper()
	bc := &blockedCookies{why: map[string][]network.SetCookieBlockedReason{}}
	err := chromedp.Listen(ctx, func(ev any) {
		info, ok := ev.(*network.EventResponseReceivedExtraInfo)
		if !ok {
			return
		}
		bc.mu.Lock()
		defer bc.mu.Unlock()
		for _, b := range info.BlockedCookies {
			name, _, _ := strings.Cut(b.CookieLine, "=")
			bc.why[name] = append(bc.why[name], b.BlockedReasons...)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return bc
}

// reasons returns the reasons recorded so far for the cookie name.
func (bc *blockedCookies) reasons(name string) []network.SetCookieBlockedReason {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	return slices.Clone(bc.why[name])
}

// settle asks read every 20 ms, for at most 10 s, until it returns text:
// a page that is still loading answers "" or an error (its context gone
// with the navigation). It returns that text; it fails the test with the
// last error when the page never settles.
func settle(t *testing.T, what string, read func() (string, error)) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := read()
		if err == nil && got != "" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting 10 s for %s: last %q, %v", what, got, err)
		}
		<-tick.C
	}
}
