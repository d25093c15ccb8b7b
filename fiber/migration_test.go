package fibersession_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/compress"
	"github.com/gofiber/fiber/v3/middleware/recover"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

// The tests in this file check the rows of README's "Moving from fiber's
// session middleware" table on an app ported from fiber's own session
// middleware: login with Regenerate, a flash, remember me, logout, an
// admin group, fiber's ErrorHandler, SendFile, SendStreamWriter, compress
// and recover.

// ported is the app, with the clock its Manager reads.
type ported struct {
	app  *fiber.App
	m    *cookiesession.Manager
	now  atomic.Int64 // Unix seconds
	kept chan *cookiesession.Session
}

// portedOptions are the Options README's table gives for fiber's
// session.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 24 *
// time.Hour, Extractor: extractors.FromCookie("session_id"),
// CookieSecure: true, CookieHTTPOnly: true, CookieSameSite: "Lax"}: the
// last three are the defaults, so Config checks them as such.
func portedOptions() cookiesession.Options {
	return cookiesession.Options{Name: "session_id", IdleTimeout: 30 * time.Minute, MaxAge: 24 * time.Hour,
		MaxLifetime: 30 * 24 * time.Hour}
}

func newPorted(t *testing.T, opts cookiesession.Options) *ported {
	p := &ported{kept: make(chan *cookiesession.Session, 1)}
	p.now.Store(start.Unix())
	opts.Now = func() time.Time { return time.Unix(p.now.Load(), 0) }
	p.m = newManager(t, opts)
	m := p.m
	report := filepath.Join(t.TempDir(), "report.txt")
	if err := os.WriteFile(report, []byte(strings.Repeat("report ", 300)), 0o600); err != nil {
		t.Fatal(err)
	}
	p.app = fiber.New(fiber.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
		fibersession.Get(c, m).AddFlash("error: " + err.Error())
		return c.Redirect().Status(http.StatusSeeOther).To("/")
	}})
	p.app.Use(recover.New(), compress.New(), fibersession.New(m))
	p.app.Post("/login", func(c fiber.Ctx) error {
		s := fibersession.Get(c, m) // session.FromContext(c)
		s.Renew()                   // sess.Regenerate()
		if err := s.Set("user", c.Query("user")); err != nil {
			return err
		}
		if c.Query("remember") == "1" { // sess.SetIdleTimeout(30 * 24 * time.Hour)
			month := 30 * 24 * time.Hour
			if err := s.SetLifetime(cookiesession.Lifetime{MaxAge: month, IdleTimeout: month}); err != nil {
				return err
			}
		}
		s.AddFlash("welcome")
		return c.Redirect().Status(http.StatusSeeOther).To("/")
	})
	p.app.Get("/", func(c fiber.Ctx) error {
		s := fibersession.Get(c, m)
		return c.SendString(s.GetString("user") + "|" + strings.Join(s.Flashes(), ","))
	})
	p.app.Get("/whoami", func(c fiber.Ctx) error {
		s := fibersession.Get(c, m)
		return c.SendString(strings.Join([]string{s.ID(), s.GetString("user"), strings.Join(s.Keys(), ","), strconv.FormatBool(s.IsNew())}, " "))
	})
	p.app.Post("/prefs", func(c fiber.Ctx) error {
		// fiber's sess.Set takes any value; this Set refuses a struct.
		return fibersession.Get(c, m).Set("prefs", struct{ Theme string }{"dark"})
	})
	p.app.Get("/panic", func(c fiber.Ctx) error {
		if err := fibersession.Get(c, m).Set("half", "made"); err != nil {
			return err
		}
		panic("boom")
	})
	p.app.Post("/theme", func(c fiber.Ctx) error {
		s := fibersession.Get(c, m)
		if c.Query("theme") == "" {
			s.Delete("theme") // sess.Delete("theme")
		} else if err := s.Set("theme", c.Query("theme")); err != nil {
			return err
		}
		p.kept <- s // kept past the handler, as a goroutine would
		return c.SendStatus(http.StatusNoContent)
	})
	p.app.Post("/reset", func(c fiber.Ctx) error {
		fibersession.Get(c, m).Destroy() // sess.Reset()
		return c.SendStatus(http.StatusNoContent)
	})
	p.app.Post("/logout", func(c fiber.Ctx) error {
		fibersession.Get(c, m).Destroy() // sess.Destroy()
		return c.Redirect().Status(http.StatusSeeOther).To("/")
	})
	admin := p.app.Group("/admin", func(c fiber.Ctx) error {
		user := fibersession.Get(c, m).GetString("user")
		if user != "root" {
			return fiber.ErrForbidden
		}
		c.Locals("user", user)
		return c.Next()
	})
	admin.Get("/report", func(c fiber.Ctx) error {
		if err := fibersession.Get(c, m).Set("seen", "report"); err != nil {
			return err
		}
		return c.SendFile(report)
	})
	admin.Get("/stream", func(c fiber.Ctx) error {
		s := fibersession.Get(c, m) // in the handler: the writer runs after it returns
		return c.SendStreamWriter(func(w *bufio.Writer) {
			_, _ = w.WriteString("hello " + s.GetString("user"))
		})
	})
	return p
}

// do sends a request with Accept-Encoding: gzip, as browsers do, so that
// compress works on the answer.
func (p *ported) do(t *testing.T, method, target string, j *jar) response {
	t.Helper()
	req := httptest.NewRequest(method, "https://example.test"+target, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	if line := j.header(); line != "" {
		req.Header.Set("Cookie", line)
	}
	return send(t, p.app, req, j)
}

func cookieLine(t *testing.T, r response, name string) *http.Cookie {
	t.Helper()
	lines := r.linesFor(name)
	if len(lines) != 1 {
		t.Fatalf("Set-Cookie %q, want one line for %s", r.setCookie, name)
	}
	c, err := http.ParseSetCookie(lines[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMovingFromFiberSession(t *testing.T) {
	t.Run("Config", func(t *testing.T) {
		p := newPorted(t, portedOptions())
		j := newJar()
		c := cookieLine(t, p.do(t, "POST", "/login?user=ada", j), "session_id")
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 1800 {
			t.Errorf("cookie %+v: want Secure, HttpOnly, SameSite=Lax, Max-Age 1800 (IdleTimeout)", c)
		}
		p.now.Add(29 * 60)
		if r := p.do(t, "GET", "/", j); r.body != "ada|welcome" {
			t.Fatalf("29 minutes on: %q, want ada and the flash", r.body)
		}
		p.now.Add(31 * 60)
		if r := p.do(t, "GET", "/", j); r.body != "|" {
			t.Errorf("31 idle minutes on: %q, want the session ended by IdleTimeout", r.body)
		}
	})
	t.Run("CookieSessionOnly", func(t *testing.T) {
		opts := portedOptions()
		opts.BrowserSession = true
		p := newPorted(t, opts)
		if c := cookieLine(t, p.do(t, "POST", "/login?user=ada", newJar()), "session_id"); c.MaxAge != 0 || !c.Expires.IsZero() {
			t.Errorf("cookie %+v: want no Max-Age or Expires", c)
		}
	})
	t.Run("Regenerate", func(t *testing.T) {
		p := newPorted(t, portedOptions())
		j := newJar()
		p.do(t, "POST", "/theme?theme=dark", j) // a session before login
		<-p.kept
		before := strings.Split(p.do(t, "GET", "/whoami", j).body, " ")[0]
		p.do(t, "POST", "/login?user=ada", j)
		after := strings.Split(p.do(t, "GET", "/whoami", j).body, " ")
		if after[0] == before || after[1] != "ada" || after[2] != "_flash,theme,user" || after[3] != "false" {
			t.Errorf("id %s then %q: want a new id, keys _flash,theme,user, not new", before, after)
		}
		if fresh := strings.Split(p.do(t, "GET", "/whoami", newJar()).body, " "); fresh[3] != "true" {
			t.Errorf("without a cookie: %q, want IsNew true", fresh)
		}
	})
	t.Run("DeleteAndKeptSession", func(t *testing.T) {
		p := newPorted(t, portedOptions())
		j := newJar()
		p.do(t, "POST", "/theme?theme=dark", j)
		old := <-p.kept
		p.do(t, "POST", "/theme", j) // the next request reuses fasthttp's buffers
		deleted := <-p.kept
		if got := old.GetString("theme"); got != "dark" {
			t.Errorf("a session kept past its handler reads theme %q, want its own \"dark\"", got)
		}
		if body := p.do(t, "GET", "/whoami", j).body; deleted.Has("theme") || strings.Contains(body, "theme") {
			t.Errorf("after Delete: %q, want no theme", body)
		}
	})
	t.Run("StoreWithoutMiddleware", func(t *testing.T) {
		m := newManager(t, portedOptions())
		app := fiber.New()
		var saveErr error
		app.Get("/", func(c fiber.Ctx) error { // store.Get(c), sess.Set, sess.Save(), with no app.Use
			if err := fibersession.Get(c, m).Set("user", "ada"); err != nil {
				return err
			}
			saveErr = fibersession.Save(c, m)
			return nil
		})
		if r := do(t, app, "GET", "/", nil); len(r.setCookie) != 0 || saveErr == nil || !strings.Contains(saveErr.Error(), "no fibersession.New middleware") {
			t.Errorf("Set-Cookie %q, Save: %v; want no cookie and an error naming the middleware", r.setCookie, saveErr)
		}
	})
	t.Run("SetRefusesStruct", func(t *testing.T) {
		p := newPorted(t, portedOptions())
		j := newJar()
		if r := p.do(t, "POST", "/prefs", j); r.status != http.StatusSeeOther {
			t.Fatalf("Set of a struct: %d, want the error answered by the ErrorHandler", r.status)
		}
		if r := p.do(t, "GET", "/", j); !strings.Contains(r.body, "unsupported") {
			t.Errorf("flash %q, want Set's error", r.body)
		}
	})
	t.Run("ResetAndDestroy", func(t *testing.T) {
		p := newPorted(t, portedOptions())
		j := newJar()
		p.do(t, "POST", "/login?user=ada&remember=1", j)
		if r := p.do(t, "POST", "/reset", j); cookieLine(t, r, "session_id").MaxAge >= 0 {
			t.Errorf("Reset: Set-Cookie %q, want the cookie expired", r.setCookie)
		}
		if r := p.do(t, "GET", "/", j); r.body != "|" {
			t.Errorf("after Reset: %q, want no values", r.body)
		}
		p.do(t, "POST", "/login?user=ada", j)
		if r := p.do(t, "POST", "/logout", j); cookieLine(t, r, "session_id").MaxAge >= 0 || len(j.values) != 0 {
			t.Errorf("logout: Set-Cookie %q, want the cookie expired", r.setCookie)
		}
	})
	t.Run("SetIdleTimeout", func(t *testing.T) {
		p := newPorted(t, portedOptions())
		j := newJar()
		if c := cookieLine(t, p.do(t, "POST", "/login?user=ada&remember=1", j), "session_id"); c.MaxAge != 30*24*3600 {
			t.Errorf("remember me: Max-Age %d, want 30 days", c.MaxAge)
		}
		p.now.Add(7 * 24 * 3600) // a week without a visit
		if r := p.do(t, "GET", "/", j); r.body != "ada|welcome" {
			t.Errorf("a week on: %q, want the remembered session", r.body)
		}
		// An IdleTimeout alone, past Options.MaxAge, is refused.
		var setErr error
		app := fiber.New()
		app.Use(fibersession.New(p.m))
		app.Get("/", func(c fiber.Ctx) error {
			setErr = fibersession.Get(c, p.m).SetLifetime(cookiesession.Lifetime{IdleTimeout: 30 * 24 * time.Hour})
			return nil
		})
		do(t, app, "GET", "/", nil)
		if setErr == nil {
			t.Error("SetLifetime with only an IdleTimeout past Options.MaxAge: no error, want one")
		}
	})
	t.Run("ErrorHandlerSendFileStreamCompress", func(t *testing.T) {
		p := newPorted(t, portedOptions())
		j := newJar()
		if r := p.do(t, "GET", "/admin/report", j); r.status != http.StatusSeeOther {
			t.Fatalf("admin before login: %d, want 303 from the ErrorHandler", r.status)
		}
		if r := p.do(t, "GET", "/", j); r.body != "|error: Forbidden" {
			t.Errorf("after the refusal: %q, want the ErrorHandler's flash", r.body)
		}
		p.do(t, "POST", "/login?user=root", j)
		r := p.do(t, "GET", "/admin/report", j)
		if r.status != http.StatusOK || len(r.linesFor("session_id")) != 1 || !slices.Equal(r.header.Values("Vary"), []string{"Cookie, Accept-Encoding"}) {
			t.Errorf("SendFile: %d, Vary %q, Set-Cookie %q; want 200, one Vary line with compress's field and the session's, the cookie",
				r.status, r.header.Values("Vary"), r.setCookie)
		}
		if r := p.do(t, "GET", "/admin/stream", j); r.body != "hello root" {
			t.Errorf("stream: %q, want hello root", r.body)
		}
		if r := p.do(t, "GET", "/panic", j); len(r.setCookie) != 0 {
			t.Errorf("panic under recover: Set-Cookie %q, want none", r.setCookie)
		}
		if body := p.do(t, "GET", "/whoami", j).body; strings.Contains(body, "half") {
			t.Errorf("after the panic: %q, want the half-made change lost", body)
		}
	})
}

// TestGetAfterHandlerPanicsWithFix: a goroutine that kept c (not the
// session) calls Get once fiber has recycled c. It used to fail on a nil
// pointer with no word of the cause (and, had another request taken c,
// return that request's session).
func TestGetAfterHandlerPanicsWithFix(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := fiber.New()
	app.Use(fibersession.New(m))
	kept := make(chan fiber.Ctx, 1)
	app.Get("/", func(c fiber.Ctx) error {
		kept <- c
		return c.SendString("ok")
	})
	do(t, app, "GET", "/", nil)
	c := <-kept
	for name, call := range map[string]func(){
		"Get":  func() { fibersession.Get(c, m) },
		"Save": func() { _ = fibersession.Save(c, m) },
	} {
		if msg := recovered(call); !strings.Contains(msg, "fibersession."+name+" with a fiber.Ctx whose handler has returned") {
			t.Errorf("%s after the handler: panic %q, want one that names the fix", name, msg)
		}
	}
}
