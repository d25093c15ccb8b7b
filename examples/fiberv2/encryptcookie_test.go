package main

import (
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/encryptcookie"
	"github.com/seed-ff2808ae/cookiesession"
)

// TestEncryptCookieInflates is why the README keeps fiber v2's
// encryptcookie off the session's cookies: it encrypts every response
// cookie not in its Except after the Manager has checked the cookie's
// size, so the largest session the Manager writes reaches the browser
// over 4096 bytes, which browsers drop, with nothing said (the net/http
// middleware never sees the cookie encryptcookie sends). With
// Except: m.CookieNames() the cookie goes out as the Manager sized it.
func TestEncryptCookieInflates(t *testing.T) {
	const browserLimit = 4096 // name and value of one cookie
	for _, except := range []bool{false, true} {
		m := newManager(t, cookiesession.Options{})
		config := encryptcookie.Config{Key: encryptcookie.GenerateKey()}
		if except {
			config.Except = m.CookieNames()
		}
		app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadBufferSize: 8 << 10})
		app.Use(encryptcookie.New(config))
		app.Use(adaptor.HTTPHandler(m.Handler(testRoutes())))
		c := serve(t, app)
		c.do("POST", "/login", "username=ada")
		size := len("session=") + c.storeLargest()
		switch {
		case !except && size <= 5000:
			t.Errorf("under encryptcookie the largest session's cookie is %d bytes: want it over 5000, past browsers' %d, the bug this test shows", size, browserLimit)
		case except && size > browserLimit:
			t.Errorf("with the session's cookies in Except the cookie is %d bytes, over %d", size, browserLimit)
		}
		if r := c.do("GET", "/", ""); r.status != http.StatusOK || r.body != "user=ada" {
			t.Errorf("Except %v: the page after it in Go's cookie jar (which keeps any size): %+v", except, r)
		}
	}
}
