package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/seed-ff2808ae/cookiesession"
)

// lineWriter gives a logBuffer to slog, a line per record.
type lineWriter struct{ b *logBuffer }

func (w lineWriter) Write(p []byte) (int, error) {
	w.b.add(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// TestPrefetchedLogoutWarns: a page whose speculation rules prefetch its
// GET /logout link makes headless Chromium fetch it, with Sec-Purpose:
// prefetch, before any click; the handler's Destroy then goes out in that
// response, and the Manager logs it at Warn, naming the header, the
// sign-out and the route (TestSpeculativeChangeWarns in the root asserts
// the line for each marker). Chromium keeps the prefetch's Set-Cookie at
// once: the user is signed out though nothing was clicked. The browser
// gets a profile of its own: newBrowser's turns network prediction off,
// and with it Chromium's "preload pages", which speculation rules obey.
func TestPrefetchedLogoutWarns(t *testing.T) {
	logs := new(logBuffer)
	ring, err := cookiesession.NewKeyRing(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := cookiesession.New(ring, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(lineWriter{logs}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	prefetched := make(chan string, 4)
	app := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		switch r.URL.Path {
		case "/login":
			if err := s.Set("user", "ada"); err != nil {
				t.Error(err)
			}
			fmt.Fprint(w, "signed in")
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><p>Hello <a href="/logout">Sign out</a></p>`+
				`<script type="speculationrules">{"prefetch": [{"source": "list", "urls": ["/logout"], "eagerness": "immediate"}]}</script>`)
		case "/logout":
			s.Destroy()
			fmt.Fprint(w, "signed out")
		case "/whoami":
			fmt.Fprint(w, s.GetString("user"))
		}
	}))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app.ServeHTTP(w, r)
		if r.URL.Path == "/logout" { // the middleware has committed, and logged
			prefetched <- r.Header.Get("Sec-Purpose")
		}
	}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	spki := sha256.Sum256(srv.Certificate().RawSubjectPublicKeyInfo)
	ctx := testContext(t)
	tab := newBrowser(t, ctx, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("host-resolver-rules", "MAP "+liveHost+" 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])))
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	origin := "https://" + net.JoinHostPort(liveHost, port)
	if _, err := chromedp.Run(tab, chromedp.Navigate(origin+"/login")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tab, chromedp.Navigate(origin+"/")); err != nil {
		t.Fatal(err)
	}
	select {
	case purpose := <-prefetched:
		if purpose != "prefetch" {
			t.Errorf("GET /logout with Sec-Purpose %q, want prefetch", purpose)
		}
	case <-ctx.Done():
		t.Fatalf("Chromium did not prefetch /logout; log:\n%s", logs)
	}
	var warn string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "a request sent ahead of a click") {
			warn = line
		}
	}
	for _, want := range []string{"level=WARN", `marker="Sec-Purpose: prefetch"`, "change=sign-out", "path=/logout", "fix="} {
		if !strings.Contains(warn, want) {
			t.Errorf("the Warn does not say %s; log:\n%s", want, logs)
		}
	}
	// Chromium 156 stores a same-origin prefetch's cookies as they come:
	// the hover, or here the page load, signed the user out.
	if user := pageFetch(t, tab, "GET", "/whoami", "").Body; user != "" {
		t.Errorf("after the prefetch the browser is still signed in as %q: Chromium no longer keeps a prefetch's cookies at once", user)
	}
}
