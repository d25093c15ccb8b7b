package main

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/seed-ff2808ae/cookiesession"
)

func main() {
	ring, err := cookiesession.LoadKeyRingEnv() // reads COOKIESESSION_KEYS
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := cookiesession.New(ring, cookiesession.Options{})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(newApp(sessions, sessionRoutes()).Listen("127.0.0.1:8080"))
}

// sessionRoutes are the routes that use the session: net/http handlers,
// since fiber v2 handlers cannot reach it.
func sessionRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		s.Renew() // new session id at a privilege change
		if err := s.Set("user", r.FormValue("username")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Destroy()
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user=%s", cookiesession.FromContext(r.Context()).GetString("user"))
	})
	return mux
}

func newApp(sessions *cookiesession.Manager, mux http.Handler) *fiber.App {
	app := fiber.New(fiber.Config{
		// fasthttp answers 431 to a request header over this buffer: 8 KB
		// holds a full 4 KB session cookie (MaxChunks x MaxCookieSize)
		// beside the other headers.
		ReadBufferSize: 8 << 10,
		ReadTimeout:    10 * time.Second, // slow clients cannot hold connections (Slowloris)
	})
	app.Use(recover.New())
	app.Get("/health", func(c *fiber.Ctx) error { return c.SendString("ok") }) // fiber handlers: no session
	// The rest goes to mux, behind net/http's CrossOriginProtection (CSRF,
	// login CSRF) and the session middleware.
	app.Use(adaptor.HTTPHandler(http.NewCrossOriginProtection().Handler(sessions.Handler(mux))))
	return app
}
