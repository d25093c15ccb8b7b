package frameworks

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gorilla/sessions"
	"github.com/seed-ff2808ae/cookiesession"
)

var (
	gorillaHash  = []byte("0123456789abcdef0123456789abcdef")
	gorillaBlock = []byte("fedcba9876543210fedcba9876543210")
	quiet        = slog.New(slog.DiscardHandler)
)

// oldName is the old cookie's name and the Manager's, as a port from
// gin-contrib/sessions' or gorilla's keeps it.
const oldName = "mysession"

func newManager(t *testing.T) *cookiesession.Manager {
	t.Helper()
	key, err := cookiesession.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cookiesession.New(ring, cookiesession.Options{Name: oldName, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// oldStore is the old app's CookieStore.
func oldStore() *sessions.CookieStore { return sessions.NewCookieStore(gorillaHash, gorillaBlock) }

// gorillaCookie is the old app's cookie: a signed-in user and a flash the
// old app added and had not shown yet.
func gorillaCookie(t *testing.T, store *sessions.CookieStore) *http.Cookie {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	sess, err := store.New(r, oldName)
	if err != nil {
		t.Fatal(err)
	}
	sess.Values["user"] = "ada"
	sess.AddFlash("welcome")
	w := httptest.NewRecorder()
	if err := sess.Save(r, w); err != nil {
		t.Fatal(err)
	}
	return w.Result().Cookies()[0]
}

// show is what the app's page says of s.
func show(s *cookiesession.Session) string {
	return "user=" + s.GetString("user") + " flashes=" + strings.Join(s.Flashes(), ",")
}

// site is a server over HTTPS and a client with a cookie jar.
type site struct {
	t      *testing.T
	base   *url.URL
	client *http.Client
}

// serveHTTP serves h over HTTPS on a loopback port.
func serveHTTP(t *testing.T, h http.Handler) *site {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return newSite(t, srv.URL, srv.Client())
}

// serveFiber serves app over HTTPS on a loopback port, with the
// certificate httptest's servers use.
func serveFiber(t *testing.T, app *fiber.App) *site {
	t.Helper()
	borrowed := httptest.NewTLSServer(http.NotFoundHandler())
	cert := borrowed.TLS.Certificates[0]
	client := borrowed.Client()
	borrowed.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	transport := client.Transport.(*http.Transport)
	transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return new(net.Dialer).DialContext(ctx, network, ln.Addr().String())
	}
	t.Cleanup(func() {
		transport.CloseIdleConnections()
		_ = app.Shutdown()
	})
	return newSite(t, "https://"+ln.Addr().String(), client)
}

func newSite(t *testing.T, base string, client *http.Client) *site {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	client.Jar, _ = cookiejar.New(nil)
	client.Timeout = 10 * time.Second
	return &site{t: t, base: u, client: client}
}

// plant puts c in the client's jar, as the browser holds it.
func (s *site) plant(c *http.Cookie) {
	s.client.Jar.SetCookies(s.base, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
}

// get fetches path and returns the status, body and Set-Cookie lines.
func (s *site) get(path string) (int, string, []string) {
	s.t.Helper()
	resp, err := s.client.Get(s.base.String() + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, string(body), resp.Header.Values("Set-Cookie")
}

// held reports the names of the cookies the jar sends.
func (s *site) held() []string {
	var names []string
	for _, c := range s.client.Jar.Cookies(s.base) {
		names = append(names, c.Name)
	}
	return names
}

// checkCarry runs, against a fresh site for each, what a migrating user
// does: pages with the old cookie, a panic, a logout as the first
// request. panicSaved says whether a panic's 500 carries the handler's
// half-made flash (the wrong wiring).
func checkCarry(t *testing.T, open func(t *testing.T) *site, panicSaved bool) {
	const carried, kept = "user=ada flashes=welcome", "user=ada flashes="
	t.Run("carried", func(t *testing.T) {
		s := open(t)
		s.plant(gorillaCookie(t, oldStore()))
		if status, body, lines := s.get("/"); status != http.StatusOK || body != carried || len(lines) == 0 {
			t.Fatalf("first request: %d %q, Set-Cookie %q; want %q and the new cookie", status, body, lines, carried)
		}
		if _, body, _ := s.get("/"); body != kept {
			t.Errorf("second request: %q, want %q (the flash shown once, the user kept)", body, kept)
		}
		if held := s.held(); len(held) != 1 || held[0] != oldName {
			t.Errorf("the browser holds %q, want the new %s alone", held, oldName)
		}
	})
	t.Run("panic", func(t *testing.T) {
		s := open(t)
		s.plant(gorillaCookie(t, oldStore()))
		s.get("/")
		status, _, lines := s.get("/panic")
		if status != http.StatusInternalServerError || (len(lines) > 0) != panicSaved {
			t.Errorf("panic: %d, Set-Cookie %q; want 500 with a cookie: %v", status, lines, panicSaved)
		}
		want := kept
		if panicSaved {
			want = kept + "half-made"
		}
		if _, body, _ := s.get("/"); body != want {
			t.Errorf("after the panic: %q, want %q", body, want)
		}
	})
	t.Run("panic first", func(t *testing.T) {
		s := open(t)
		s.plant(gorillaCookie(t, oldStore()))
		// Without a cookie in the 500 the old one stays, and is carried
		// again at the next request.
		status, _, lines := s.get("/panic")
		if status != http.StatusInternalServerError || (len(lines) > 0) != panicSaved {
			t.Errorf("panic: %d, Set-Cookie %q; want 500 with a cookie: %v", status, lines, panicSaved)
		}
		want := carried
		if panicSaved {
			want = carried + ",half-made"
		}
		if _, body, _ := s.get("/"); body != want {
			t.Errorf("after the panic: %q, want %q", body, want)
		}
	})
	t.Run("logout first", func(t *testing.T) {
		s := open(t)
		s.plant(gorillaCookie(t, oldStore()))
		if status, body, _ := s.get("/logout"); status != http.StatusOK || body != "bye" {
			t.Fatalf("logout: %d %q", status, body)
		}
		if held := s.held(); len(held) != 0 {
			t.Errorf("after the logout the browser holds %q, want no cookie", held)
		}
		if _, body, _ := s.get("/"); body != "user= flashes=" {
			t.Errorf("after the logout: %q, want the user signed out", body)
		}
	})
}

// readmeBlock returns README's ```go block that holds marker.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range strings.Split(string(readme), "```go\n")[1:] {
		if code, _, _ := strings.Cut(block, "```"); strings.Contains(code, marker) {
			return code
		}
	}
	t.Fatalf("README.md has no ```go block with %s", marker)
	return ""
}

// vet compiles program, a main package, in this module.
func vet(t *testing.T, what, program string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(path, []byte(program), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "vet", path).CombinedOutput(); err != nil {
		t.Fatalf("README's %s wiring of FromGorilla does not compile: %v\n%s\n%s", what, err, out, program)
	}
}
