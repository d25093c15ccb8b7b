package main

import (
	"log"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/adaptor"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

func main() {
	ring, err := cookiesession.LoadKeyRingEnv() // reads COOKIESESSION_KEYS
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := cookiesession.New(ring, cookiesession.Options{MaxChunks: 2})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(newApp(sessions).Listen("127.0.0.1:8080"))
}

func newApp(sessions *cookiesession.Manager) *fiber.App {
	// Two 4 KB cookies need more than fiber's default 4 KB request buffer.
	app := fiber.New(fiber.Config{
		ReadBufferSize: 16 << 10,
		ReadTimeout:    10 * time.Second, // slow clients cannot hold connections (Slowloris)
	})
	// net/http's CrossOriginProtection refuses cross-origin POSTs (CSRF,
	// login CSRF) before the session is opened.
	app.Use(adaptor.HTTPMiddleware(http.NewCrossOriginProtection().Handler))
	app.Use(fibersession.New(sessions))
	app.Post("/login", func(c fiber.Ctx) error {
		s := fibersession.Get(c, sessions)
		s.Renew() // new session id at a privilege change
		if err := s.Set("user", c.FormValue("username")); err != nil {
			return err
		}
		return c.Redirect().To("/")
	})
	app.Post("/logout", func(c fiber.Ctx) error {
		fibersession.Get(c, sessions).Destroy()
		return c.Redirect().To("/")
	})
	app.Get("/", func(c fiber.Ctx) error {
		return c.SendString("user=" + fibersession.Get(c, sessions).GetString("user"))
	})
	return app
}
