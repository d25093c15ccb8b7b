package fibersession_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/encryptcookie"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

// TestEncryptCookieWarns checks fiber's encryptcookie beside the session,
// over TLS with net/http's cookie jar as the browser. It encrypts every
// cookie not in its Except. After fibersession.New, it deletes the
// session's cookie from each request, which it cannot decrypt, and the
// user signed in is signed out at the next page; before it, it encrypts
// the saved cookie again, about a third larger, past the middleware's
// check against ReadBufferSize, and every later request of that browser
// gets fasthttp's 431. Either way the first request that brings the cookie
// back is logged at Warn, naming the cookie and the fix; with the fix,
// Except: m.CookieNames(), both orders keep the user and log nothing.
func TestEncryptCookieWarns(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, fixed bool
		user          string // what the page after the login shows
	}{
		{name: "after New", user: ""},
		{name: "before New", before: true, user: "alice"},
		{name: "after New with Except", fixed: true, user: "alice"},
		{name: "before New with Except", before: true, fixed: true, user: "alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logged := defaultLog(t, slog.LevelWarn)
			m := newManager(t, cookiesession.Options{})
			config := encryptcookie.Config{Key: encryptcookie.GenerateKey(32)}
			if tc.fixed {
				config.Except = m.CookieNames()
			}
			app := fiber.New() // ReadBufferSize: 4096
			if tc.before {
				app.Use(encryptcookie.New(config), fibersession.New(m))
			} else {
				app.Use(fibersession.New(m), encryptcookie.New(config))
			}
			app.Post("/login", func(c fiber.Ctx) error {
				s := fibersession.Get(c, m)
				s.Renew()
				if err := s.Set("user", c.Query("user")); err != nil {
					return err
				}
				return s.Set("prefs", strings.Repeat("p", fiber.Query[int](c, "prefs")))
			})
			app.Get("/", func(c fiber.Ctx) error {
				return c.SendString(fibersession.Get(c, m).GetString("user"))
			})
			client := serveTLS(t, app)
			client.Jar, _ = cookiejar.New(nil)
			get := func(target string, method string) (int, string) {
				t.Helper()
				req, _ := http.NewRequest(method, "https://example.com"+target, nil)
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(body)
			}
			get("/login?user=alice", http.MethodPost)
			if status, user := get("/", http.MethodGet); status != http.StatusOK || user != tc.user {
				t.Errorf("the page after the login: %d %q, want 200 %q", status, user, tc.user)
			}
			warned := logged.lines("encryptcookie")
			if tc.fixed {
				if len(warned) > 0 {
					t.Errorf("logged with the session's cookies in Except: %q", warned)
				}
				return
			}
			if len(warned) != 1 || !strings.Contains(warned[0], "cookie=session") || !strings.Contains(warned[0], "Except: m.CookieNames()") {
				t.Errorf("want one Warn naming the cookie and the fix, got %q", warned)
			}
			if !tc.before {
				return
			}
			// A session that fits the read buffer as the Manager sealed it,
			// and not as encryptcookie sent it on.
			if status, _ := get("/login?user=alice&prefs=2150", http.MethodPost); status != http.StatusOK {
				t.Fatalf("the login with a larger session: %d, want 200; log %s", status, logged)
			}
			if status, _ := get("/", http.MethodGet); status != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("the page after it: %d, want 431 (the browser is locked out)", status)
			}
		})
	}
}
