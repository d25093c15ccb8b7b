package fibersession_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

// TestSessionOutlivesRequest: a goroutine that a handler starts keeps the
// session after the request ends, while the pooled scratch serves other
// requests. Its changes reach no other request's session or response; the
// first is logged at Warn as not saved, and a save reports
// ErrHeadersWritten. -race checks the scratch's reuse.
func TestSessionOutlivesRequest(t *testing.T) {
	const rounds = 20
	log := new(syncBuffer)
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	app := fiber.New()
	app.Use(fibersession.New(m))
	kept := make(chan *cookiesession.Session, 1)
	app.Post("/start", func(c fiber.Ctx) error {
		s := fibersession.Get(c, m)
		if err := s.Set("user", "ada"); err != nil {
			return err
		}
		kept <- s // to a goroutine that outlives the request
		return c.SendString("started")
	})
	inHandler, changed := make(chan struct{}), make(chan struct{})
	app.Post("/other", func(c fiber.Ctx) error {
		s := fibersession.Get(c, m)
		inHandler <- struct{}{}
		<-changed // the other request's goroutine has done its worst
		if err := s.Set("user", c.Query("user")); err != nil {
			return err
		}
		return c.SendString(s.GetString("user") + " " + s.GetString("intruder"))
	})
	for i := range rounds {
		do(t, app, "POST", "/start", newJar())
		old := <-kept
		done := make(chan error, 1)
		go func() {
			<-inHandler
			_ = old.Set("intruder", "mallory")
			old.Destroy()
			err := m.SaveHeader(make(map[string][]string), old)
			close(changed)
			done <- err
		}()
		j := newJar()
		resp := do(t, app, "POST", "/other?user=bob", j)
		if err := <-done; !errors.Is(err, cookiesession.ErrHeadersWritten) {
			t.Fatalf("round %d: SaveHeader after the request: %v, want ErrHeadersWritten", i, err)
		}
		if resp.body != "bob " {
			t.Fatalf("round %d: the next request saw %q, want \"bob \": another request's goroutine reached its session", i, resp.body)
		}
		if got := j.values["session"]; got == "" || len(resp.linesFor("session")) != 1 {
			t.Fatalf("round %d: Set-Cookie %q, want the next request's own session", i, resp.setCookie)
		}
		changed = make(chan struct{})
	}
	// One line per kept session: at Warn once a minute, the rest at Debug.
	lines := log.lines("after the response was committed")
	warns := 0
	for _, l := range lines {
		if strings.Contains(l, "level=WARN") {
			warns++
		}
	}
	if len(lines) != rounds || warns != 1 {
		t.Errorf("%d lines (%d at Warn) of a change after the commit, want one per kept session (%d), one at Warn; log:\n%s", len(lines), warns, rounds, log)
	}
}
