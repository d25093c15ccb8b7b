package fibersession_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/timeout"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
)

// lostToTimeoutLine is in the line logged for a change that fiber's
// timeout middleware's 408 went out without.
const lostToTimeoutLine = "fiber's timeout middleware answered before the handler returned"

// TestTimeoutMiddleware runs fiber's timeout.New on a route under
// fibersession.New, the order fiber's docs give (timeout.New wraps a
// handler). On its deadline timeout.New hands fasthttp a copy of the
// response as it stands, its 408, and returns while the handler runs on:
// the middleware's save comes after that copy. A handler that stored and
// then outran the deadline had its change dropped with nothing said; it is
// now logged at Warn with the fix, which the second row follows: a Save
// before the slow work is in the copy, and the 408 carries it. A change
// after the timeout is logged by the core, as ever.
func TestTimeoutMiddleware(t *testing.T) {
	for _, tc := range []struct {
		name      string
		saveFirst bool // fibersession.Save before the slow work
		late      bool // a change after the deadline
	}{
		{"runs on past the deadline", false, true},
		{"saves before the slow work", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged syncBuffer
			defer slog.SetDefault(slog.Default())
			slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
			var core syncBuffer
			m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&core, nil))})
			// The deadline is the end of the request's context, once the
			// handler has stored: timeout.New's hour-long timer runs on it,
			// and a real short one could fire before the handler stored.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stored, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
			app := fiber.New()
			app.Use(func(c fiber.Ctx) error { c.SetContext(ctx); return c.Next() })
			app.Use(fibersession.New(m))
			app.Post("/slow", timeout.New(func(c fiber.Ctx) error {
				defer close(done)
				s := fibersession.Get(c, m)
				if err := s.Set("step", "before"); err != nil {
					return err
				}
				if tc.saveFirst {
					if err := fibersession.Save(c, m); err != nil {
						return err
					}
				}
				close(stored)
				<-release
				if tc.late {
					return s.Set("step", "after")
				}
				return nil
			}, timeout.Config{Timeout: time.Hour}))
			go func() { <-stored; cancel() }()
			r := do(t, app, http.MethodPost, "/slow", newJar())
			close(release)
			<-done
			if r.status != http.StatusRequestTimeout {
				t.Fatalf("status %d, want 408", r.status)
			}
			if got := len(r.linesFor("session")) == 1; got != tc.saveFirst {
				t.Errorf("the 408 carries the change: %t, want %t (Set-Cookie %q)", got, tc.saveFirst, r.setCookie)
			}
			lines := logged.lines(lostToTimeoutLine)
			if warned := len(lines) == 1 && strings.Contains(lines[0], "level=WARN") && strings.Contains(lines[0], "fibersession.Save(c, m) before the slow work"); warned == tc.saveFirst {
				t.Errorf("a Warn with the fix for the change lost to the 408: %t, want %t; log:\n%s", warned, !tc.saveFirst, &logged)
			}
			if late := strings.Contains(core.String(), "after the response was committed"); late != tc.late {
				t.Errorf("the core logged a late change: %t, want %t; log:\n%s", late, tc.late, &core)
			}
		})
	}
}
