package fibersession_test

import (
	"context"
	"errors"
	"fmt"
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
			var logged syncBuffer // the middleware's lines and the core's
			m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
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
			if late := strings.Contains(logged.String(), "after the response was committed"); late != tc.late {
				t.Errorf("the core logged a late change: %t, want %t; log:\n%s", late, tc.late, &logged)
			}
		})
	}
}

// errBackendSlow is an error an app lists in timeout.Config.Errors, for
// timeout.New to answer as a timeout.
var errBackendSlow = errors.New("backend slow")

// TestTimeoutOverChain runs fiber's timeout.New around c.Next, before
// fibersession.New, so that the deadline covers the whole chain. A handler
// that stores and outruns the deadline, or stores only after it, gets the
// 408 without the change, logged at Warn with the fix, as on a route
// (TestTimeoutMiddleware); a Save before the slow work is in the 408. A
// handler that returns context.DeadlineExceeded (a downstream call's own
// deadline) before the timeout fires gets timeout.New's 408 with its
// cookie, as it does without the session: the middleware passes that
// error up instead of answering it with the app's ErrorHandler's 500. An
// error listed in timeout.Config.Errors, which the middleware cannot know,
// is answered inside it like any other error, with a 500 and the cookie,
// not the 408: wrapped with context.DeadlineExceeded, it gets the 408.
func TestTimeoutOverChain(t *testing.T) {
	for _, tc := range []struct {
		name       string
		store      bool  // a change before the slow work
		saveFirst  bool  // fibersession.Save before the slow work
		late       bool  // runs past the deadline, then changes the session
		returns    error // returns this at once, without slow work
		status     int
		withCookie bool // the answer carries the change
		warned     bool // the change lost to the 408 is logged at Warn
	}{
		{name: "runs on past the deadline", store: true, late: true, status: http.StatusRequestTimeout, warned: true},
		{name: "saves before the slow work", store: true, saveFirst: true, status: http.StatusRequestTimeout, withCookie: true},
		{name: "changes only after the deadline", late: true, status: http.StatusRequestTimeout, warned: true},
		{name: "returns DeadlineExceeded", store: true, returns: fmt.Errorf("backend: %w", context.DeadlineExceeded), status: http.StatusRequestTimeout, withCookie: true},
		{name: "returns an error of Config.Errors", store: true, returns: errBackendSlow, status: http.StatusInternalServerError, withCookie: true},
		{name: "returns it wrapped with DeadlineExceeded", store: true, returns: fmt.Errorf("%w: %w", errBackendSlow, context.DeadlineExceeded), status: http.StatusRequestTimeout, withCookie: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged syncBuffer
			setDefaultLogger(t, slog.New(slog.NewTextHandler(&logged, nil)))
			m := newManager(t, cookiesession.Options{})
			// As in TestTimeoutMiddleware, the deadline is the end of the
			// request's context, once the handler has reached its slow work.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			slow, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
			app := fiber.New()
			app.Use(func(c fiber.Ctx) error { c.SetContext(ctx); return c.Next() })
			app.Use(timeout.New(func(c fiber.Ctx) error { return c.Next() },
				timeout.Config{Timeout: time.Hour, Errors: []error{errBackendSlow}}))
			// done closes once the session middleware has saved and logged,
			// which, on timeout.New's goroutine, comes after the 408.
			app.Use(func(c fiber.Ctx) error { defer close(done); return c.Next() })
			app.Use(fibersession.New(m))
			app.Post("/slow", func(c fiber.Ctx) error {
				s := fibersession.Get(c, m)
				if tc.store {
					if err := s.Set("step", "before"); err != nil {
						return err
					}
				}
				if tc.saveFirst {
					if err := fibersession.Save(c, m); err != nil {
						return err
					}
				}
				if tc.returns != nil {
					return tc.returns
				}
				close(slow)
				<-release
				if tc.late {
					return s.Set("step", "after")
				}
				return nil
			})
			go func() {
				select {
				case <-slow:
					cancel()
				case <-done:
				}
			}()
			r := do(t, app, http.MethodPost, "/slow", newJar())
			close(release)
			<-done
			if r.status != tc.status {
				t.Errorf("status %d, want %d (body %q)", r.status, tc.status, r.body)
			}
			if got := len(r.linesFor("session")) == 1; got != tc.withCookie {
				t.Errorf("the answer carries the change: %t, want %t (Set-Cookie %q)", got, tc.withCookie, r.setCookie)
			}
			lines := logged.lines(lostToTimeoutLine)
			if warned := len(lines) == 1 && strings.Contains(lines[0], "level=WARN") && strings.Contains(lines[0], "fibersession.Save(c, m) before the slow work"); warned != tc.warned {
				t.Errorf("a Warn with the fix for the change lost to the 408: %t, want %t; log:\n%s", warned, tc.warned, &logged)
			}
		})
	}
}
