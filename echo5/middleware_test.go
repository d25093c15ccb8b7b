package echosession_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
	"github.com/seed-ff2808ae/cookiesession"
	echosession "github.com/seed-ff2808ae/cookiesession/echo5"
)

// ways are the two ways to put the Manager in front of an echo app: this
// package's middleware and echo's own wrapper around the net/http one.
func ways(m *cookiesession.Manager) map[string]echo.MiddlewareFunc {
	return map[string]echo.MiddlewareFunc{
		"Middleware":     echosession.Middleware(m),
		"WrapMiddleware": echo.WrapMiddleware(m.Handler),
	}
}

// newApp is an echo app behind mw with one route per way of answering.
// Every route under /style/ stores its name, then answers.
func newApp(t *testing.T, mw echo.MiddlewareFunc) *echo.Echo {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Filesystem = os.DirFS(dir) // c.File reads from it
	e.Use(mw)
	e.POST("/login", func(c *echo.Context) error {
		s := echosession.Session(c)
		s.Renew()
		if err := s.Set("user", c.QueryParam("user")); err != nil {
			return err
		}
		return c.String(http.StatusOK, "hello "+c.QueryParam("user"))
	})
	e.GET("/whoami", func(c *echo.Context) error {
		s := echosession.Session(c)
		return c.String(http.StatusOK, fmt.Sprintf("user=%s blob=%d style=%s", s.GetString("user"), len(s.GetString("blob")), s.GetString("style")))
	})
	e.POST("/blob", func(c *echo.Context) error {
		n, _ := strconv.Atoi(c.QueryParam("n"))
		if err := echosession.Session(c).Set("blob", strings.Repeat("x", n)); err != nil {
			return err
		}
		return c.String(http.StatusOK, fmt.Sprintf("stored %d", n))
	})
	e.POST("/logout", func(c *echo.Context) error {
		echosession.Session(c).Destroy()
		return c.String(http.StatusOK, "bye")
	})
	e.POST("/style/:name", func(c *echo.Context) error {
		name := c.Param("name")
		if err := echosession.Session(c).Set("style", name); err != nil {
			return err
		}
		switch name {
		case "json":
			return c.JSON(http.StatusCreated, map[string]string{"style": name})
		case "string":
			return c.String(http.StatusOK, "style "+name)
		case "redirect":
			return c.Redirect(http.StatusSeeOther, "/whoami")
		case "nocontent":
			return c.NoContent(http.StatusAccepted)
		case "stream":
			return c.Stream(http.StatusOK, "text/plain", strings.NewReader("streamed"))
		case "file":
			return c.File("hello.txt")
		case "error": // answered by echo's HTTPErrorHandler
			return echo.NewHTTPError(http.StatusForbidden, "no entry")
		case "flush": // committed by the handler, then written
			c.Response().WriteHeader(http.StatusOK)
			if err := http.NewResponseController(c.Response()).Flush(); err != nil {
				return err
			}
			_, err := c.Response().Write([]byte("flushed"))
			return err
		case "written-error": // an error after the answer: not answered again
			return errors.Join(c.String(http.StatusOK, "written"), errors.New("late failure"))
		}
		return nil // nothing written: committed when the chain returns
	})
	return e
}

func TestSessionLifecycle(t *testing.T) {
	m := newManager(t)
	for way, mw := range ways(m) {
		t.Run(way, func(t *testing.T) {
			c := newClient(t, newServer(t, newApp(t, mw)))

			if resp, body := c.do("GET", "/whoami"); body != "user= blob=0 style=" || resp.Header["Set-Cookie"] != nil {
				t.Fatalf("first visit: %q, Set-Cookie %q", body, resp.Header["Set-Cookie"])
			}

			resp, body := c.do("POST", "/login?user=ada")
			if body != "hello ada" || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
				t.Fatalf("login: %q, Set-Cookie %v", body, setCookies(resp))
			}
			if _, body := c.do("GET", "/whoami"); body != "user=ada blob=0 style=" {
				t.Fatalf("after login: %q", body)
			}

			resp, _ = c.do("POST", fmt.Sprintf("/blob?n=%d", chunkedBlob))
			if got := setCookies(resp); !slices.Equal(got, []string{"session.1=kept", "session=kept"}) {
				t.Fatalf("chunked session: Set-Cookie %v, want two chunks", got)
			}
			if got := c.jarNames(); !slices.Equal(got, []string{"session", "session.1"}) {
				t.Fatalf("jar holds %v", got)
			}
			want := fmt.Sprintf("user=ada blob=%d style=", chunkedBlob)
			if _, body := c.do("GET", "/whoami"); body != want {
				t.Fatalf("read back from two chunks: %q, want %q", body, want)
			}

			resp, body = c.do("POST", fmt.Sprintf("/blob?n=%d", tooLargeBlob))
			if resp.StatusCode != http.StatusRequestEntityTooLarge || body != "session too large\n" {
				t.Fatalf("too large: %d %q, want the ErrorHandler's 413", resp.StatusCode, body)
			}
			if got := resp.Header["Set-Cookie"]; got != nil {
				t.Fatalf("too large: Set-Cookie %q", got)
			}
			if _, body := c.do("GET", "/whoami"); body != want {
				t.Fatalf("after a too-large session the client's cookie says %q, want %q", body, want)
			}

			resp, _ = c.do("POST", "/logout")
			if got := setCookies(resp); !slices.Equal(got, []string{"session.1=expired", "session=expired"}) {
				t.Fatalf("logout: Set-Cookie %v, want both chunks expired", got)
			}
			if got := c.jarNames(); len(got) != 0 {
				t.Fatalf("after logout the jar holds %v", got)
			}
			if _, body := c.do("GET", "/whoami"); body != "user= blob=0 style=" {
				t.Fatalf("after logout: %q", body)
			}
		})
	}
}

// TestAnswerStyles checks that every way an echo handler can answer carries
// the cookie, and that the cookie holds what the handler stored.
func TestAnswerStyles(t *testing.T) {
	m := newManager(t)
	for way, mw := range ways(m) {
		srv := newServer(t, newApp(t, mw))
		for _, tc := range []struct {
			style  string
			status int
			body   string
		}{
			{"json", http.StatusCreated, "{\"style\":\"json\"}\n"},
			{"string", http.StatusOK, "style string"},
			{"redirect", http.StatusSeeOther, ""},
			{"nocontent", http.StatusAccepted, ""},
			{"stream", http.StatusOK, "streamed"},
			{"file", http.StatusOK, "hello from a file"},
			{"error", http.StatusForbidden, "{\"message\":\"no entry\"}\n"},
			{"flush", http.StatusOK, "flushed"},
			{"written-error", http.StatusOK, "written"},
			{"nothing", http.StatusOK, ""},
		} {
			t.Run(way+"/"+tc.style, func(t *testing.T) {
				c := newClient(t, srv)
				resp, body := c.do("POST", "/style/"+tc.style)
				if resp.StatusCode != tc.status || body != tc.body {
					t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.body)
				}
				if got := setCookies(resp); !slices.Equal(got, []string{"session=kept"}) {
					t.Fatalf("Set-Cookie %v, want the session cookie", got)
				}
				if tc.style == "redirect" && resp.Header.Get("Location") != "/whoami" {
					t.Errorf("Location %q", resp.Header.Get("Location"))
				}
				if _, body := c.do("GET", "/whoami"); body != "user= blob=0 style="+tc.style {
					t.Errorf("next request reads %q", body)
				}
			})
		}
	}
}

// TestTooLargeStatusSeen checks that echo's own view of the response (what
// its logger reads) is the ErrorHandler's status, not the handler's.
func TestTooLargeStatusSeen(t *testing.T) {
	m := newManager(t)
	var seen, inside int
	watch := func(status *int) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c *echo.Context) error {
				err := next(c)
				if r, err := echo.UnwrapResponse(c.Response()); err == nil {
					*status = r.Status
				}
				return err
			}
		}
	}
	e := echo.New()
	e.Use(watch(&seen), echosession.Middleware(m), watch(&inside))
	e.GET("/", func(c *echo.Context) error {
		if err := echosession.Session(c).Set("blob", strings.Repeat("x", tooLargeBlob)); err != nil {
			return err
		}
		return c.String(http.StatusOK, "stored")
	})
	resp, body := newClient(t, newServer(t, e)).do("GET", "/")
	if resp.StatusCode != http.StatusRequestEntityTooLarge || body != "session too large\n" || seen != resp.StatusCode || inside != resp.StatusCode {
		t.Fatalf("client got %d %q; echo saw status %d outside the middleware, %d inside it", resp.StatusCode, body, seen, inside)
	}
}

// TestErrorHandlerChangesSession checks that what echo's HTTPErrorHandler
// stores in the session (a flash before a redirect) reaches the client with
// the error's answer, and that the error still reaches outer middleware.
func TestErrorHandlerChangesSession(t *testing.T) {
	m := newManager(t)
	var outerErr error
	e := echo.New()
	e.HTTPErrorHandler = flashErrorHandler
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			outerErr = next(c)
			return outerErr
		}
	})
	e.Use(echosession.Middleware(m))
	e.GET("/admin", func(c *echo.Context) error { return echo.NewHTTPError(http.StatusForbidden, "no entry") })
	e.GET("/flash", func(c *echo.Context) error {
		return c.String(http.StatusOK, strings.Join(echosession.Session(c).Flashes(), ","))
	})
	cl := newClient(t, newServer(t, e))
	resp, _ := cl.do(http.MethodGet, "/admin")
	if resp.StatusCode != http.StatusSeeOther || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
		t.Fatalf("GET /admin: %d, Set-Cookie %v; want the error handler's redirect with the cookie", resp.StatusCode, setCookies(resp))
	}
	if he, ok := outerErr.(*echo.HTTPError); !ok || he.Code != http.StatusForbidden {
		t.Errorf("outer middleware saw %v, want the handler's 403", outerErr)
	}
	if _, body := cl.do(http.MethodGet, "/flash"); body != "denied: code=403, message=no entry" {
		t.Errorf("GET /flash: %q", body)
	}
}

// TestContextTimeoutEitherSide times a request out with echo's
// ContextTimeout before and after the middleware, under an error handler
// that stores a flash. Either way the client gets ContextTimeout's 503 with
// what the handler stored. After the middleware, the error handler answers
// inside it and its flash goes out too. Before it, the handler's context
// error is not answered inside the middleware, where echo's error handler
// would answer 500 before ContextTimeout could turn it into 503; it
// answers after the commit, and its flash is logged as not saved.
func TestContextTimeoutEitherSide(t *testing.T) {
	for _, before := range []bool{true, false} {
		t.Run(fmt.Sprintf("before=%v", before), func(t *testing.T) {
			var logged strings.Builder
			m := managerWith(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			e := echo.New()
			e.HTTPErrorHandler = func(c *echo.Context, err error) {
				if committed(c) {
					return
				}
				echosession.Session(c).AddFlash("timed out")
				echo.DefaultHTTPErrorHandler(false)(c, err)
			}
			timeout := middleware.ContextTimeout(20 * time.Millisecond)
			if before {
				e.Use(timeout, echosession.Middleware(m))
			} else {
				e.Use(echosession.Middleware(m), timeout)
			}
			e.GET("/slow", func(c *echo.Context) error {
				if err := echosession.Session(c).Set("user", "ada"); err != nil {
					return err
				}
				<-c.Request().Context().Done()
				return c.Request().Context().Err()
			})
			e.GET("/whoami", func(c *echo.Context) error {
				s := echosession.Session(c)
				return c.String(http.StatusOK, fmt.Sprintf("user=%s flashes=%q", s.GetString("user"), s.Flashes()))
			})
			cl := newClient(t, newServer(t, e))
			resp, _ := cl.do(http.MethodGet, "/slow")
			if resp.StatusCode != http.StatusServiceUnavailable || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
				t.Fatalf("GET /slow: %d, Set-Cookie %v; want 503 with the cookie", resp.StatusCode, setCookies(resp))
			}
			want := `user=ada flashes=["timed out"]`
			if before {
				want = "user=ada flashes=[]"
				if !strings.Contains(logged.String(), "the change was not saved") {
					t.Errorf("the error handler's flash was not logged as not saved; log:\n%s", logged.String())
				}
			}
			if _, body := cl.do(http.MethodGet, "/whoami"); body != want {
				t.Errorf("after the timeout: %q, want %q", body, want)
			}
		})
	}
}

// TestCanceledContextAnsweredInside serves a request whose context was
// canceled, as net/http cancels it when the client goes away or half-closes
// its connection, with a handler error that wraps context.Canceled. No
// middleware above turns that error into an answer of its own (ContextTimeout
// turns only DeadlineExceeded into 503), so echo's error handler answers it
// inside the middleware, as any error: its flash goes out with its answer,
// and no change is logged as lost. So is a DeadlineExceeded of a call the
// handler made under its own timeout, the request's context still alive.
func TestCanceledContextAnsweredInside(t *testing.T) {
	var logged strings.Builder
	m := managerWith(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	e := echo.New()
	e.HTTPErrorHandler = flashErrorHandler
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if c.Request().URL.Path == "/report" {
				ctx, cancel := context.WithCancel(c.Request().Context())
				cancel()
				c.SetRequest(c.Request().WithContext(ctx))
			}
			return next(c)
		}
	}, echosession.Middleware(m))
	e.GET("/report", func(c *echo.Context) error {
		return fmt.Errorf("report query: %w", c.Request().Context().Err())
	})
	e.GET("/search", func(c *echo.Context) error {
		return fmt.Errorf("search backend: %w", context.DeadlineExceeded)
	})
	e.GET("/flash", func(c *echo.Context) error {
		return c.String(http.StatusOK, strings.Join(echosession.Session(c).Flashes(), ","))
	})
	cl := newClient(t, newServer(t, e))
	for path, flash := range map[string]string{"/report": "report query: context canceled", "/search": "search backend: context deadline exceeded"} {
		resp, _ := cl.do(http.MethodGet, path)
		if resp.StatusCode != http.StatusSeeOther || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
			t.Fatalf("GET %s: %d, Set-Cookie %v; want the error handler's redirect with the cookie", path, resp.StatusCode, setCookies(resp))
		}
		if _, body := cl.do(http.MethodGet, "/flash"); body != "denied: "+flash {
			t.Errorf("GET /flash after %s: %q", path, body)
		}
	}
	if strings.Contains(logged.String(), "not saved") {
		t.Errorf("the error handler's flash was logged as lost:\n%s", logged.String())
	}
}

// TestReadmeEcho5 compiles the README's echo v5 snippet against this
// module.
func TestReadmeEcho5(t *testing.T) { compileReadmeBlock(t, `"github.com/labstack/echo/v5"`) }

// TestStackedManagers puts two Managers' middleware on one route: each
// Manager's session is reached through it, each commits its own cookie,
// and Session returns the innermost one's.
func TestStackedManagers(t *testing.T) {
	auth, prefs := namedManager(t, "auth"), namedManager(t, "prefs")
	e := echo.New()
	e.Use(echosession.Middleware(auth), echosession.Middleware(prefs))
	e.POST("/set", func(c *echo.Context) error {
		ctx := c.Request().Context()
		if err := errors.Join(auth.FromContext(ctx).Set("user", "ada"), prefs.FromContext(ctx).Set("theme", "dark")); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	})
	e.GET("/get", func(c *echo.Context) error {
		ctx := c.Request().Context()
		return c.String(http.StatusOK, fmt.Sprintf("user=%s theme=%s innermost=%s", auth.FromContext(ctx).GetString("user"),
			prefs.FromContext(ctx).GetString("theme"), echosession.Session(c).GetString("theme")))
	})
	cl := newClient(t, newServer(t, e))
	cl.do(http.MethodPost, "/set")
	if got := cl.jarNames(); !slices.Equal(got, []string{"auth", "prefs"}) {
		t.Errorf("cookies %q, want auth and prefs", got)
	}
	if _, body := cl.do(http.MethodGet, "/get"); body != "user=ada theme=dark innermost=dark" {
		t.Errorf("GET /get: %q", body)
	}
}

// TestStackedManagersSessionLogged: code written for one Manager that
// calls echosession.Session(c) under two gets the innermost Manager's
// session. That is logged at Warn, once for each line of code that makes
// the call, naming that line (caller), both Managers and the fix.
func TestStackedManagersSessionLogged(t *testing.T) {
	var logged strings.Builder
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	managers := map[string]*cookiesession.Manager{}
	for _, name := range []string{"auth", "prefs"} {
		managers[name] = managerWith(t, cookiesession.Options{Name: name, Logger: logger})
	}
	e := echo.New()
	e.Use(echosession.Middleware(managers["auth"]), echosession.Middleware(managers["prefs"]))
	var at [2]int
	e.GET("/a", func(c *echo.Context) error {
		_, at[0] = echosession.Session(c).GetString("user"), callerLine()
		return nil
	})
	e.GET("/b", func(c *echo.Context) error {
		_, at[1] = echosession.Session(c).GetString("user"), callerLine()
		return nil
	})
	for _, path := range []string{"/a", "/a", "/b"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "https://example.com"+path, nil))
	}
	var lines []string
	for _, line := range strings.Split(logged.String(), "\n") {
		if strings.Contains(line, "stacked Managers") {
			lines = append(lines, line)
		}
	}
	if len(lines) != len(at) {
		t.Fatalf("%d lines, want one for each of the two lines of code:\n%s", len(lines), logged.String())
	}
	for i, line := range lines {
		if call := fmt.Sprintf("middleware_test.go:%d)", at[i]); !strings.Contains(line, "level=WARN") || !strings.Contains(line, call) ||
			!strings.Contains(line, `stacked="[prefs auth]"`) || !strings.Contains(line, "m.FromContext(r.Context())") {
			t.Errorf("%s\nwant a Warn naming the call at %s, both Managers and the fix", line, call)
		}
	}
}

// TestPanicSendsNoCookie checks that a handler that changes the session and
// then panics gets, with echo's Recover before the middleware, echo's 500
// without the half-made change, as a net/http handler's panic does. After
// the middleware, Recover's error is answered inside it, and the change
// goes out with the 500, as the package doc says.
func TestPanicSendsNoCookie(t *testing.T) {
	m := newManager(t)
	for _, tc := range []struct {
		order      string
		chain      []echo.MiddlewareFunc
		wantCookie []string
	}{
		{"Recover before", []echo.MiddlewareFunc{middleware.Recover(), echosession.Middleware(m)}, nil},
		{"Recover after", []echo.MiddlewareFunc{echosession.Middleware(m), middleware.Recover()}, []string{"session=kept"}},
	} {
		t.Run(tc.order, func(t *testing.T) {
			e := echo.New()
			e.Use(tc.chain...)
			e.POST("/pay", func(c *echo.Context) error {
				if err := echosession.Session(c).Set("balance", 0); err != nil {
					return err
				}
				panic("payment failed")
			})
			resp, _ := newClient(t, newServer(t, e)).do(http.MethodPost, "/pay")
			if resp.StatusCode != http.StatusInternalServerError || !slices.Equal(setCookies(resp), tc.wantCookie) {
				t.Errorf("after a panic: %d, Set-Cookie %v; want echo's 500 and %v", resp.StatusCode, setCookies(resp), tc.wantCookie)
			}
		})
	}
}

// TestErrorHandlerAfterPanicLogged checks that a flash the HTTPErrorHandler
// stores for a panic that Recover (before the middleware) turned into an
// error is logged as not saved rather than lost without a word: the
// session's commit never ran, and c.Request() still carries the session.
func TestErrorHandlerAfterPanicLogged(t *testing.T) {
	var logged strings.Builder
	m := managerWith(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	e := echo.New()
	e.HTTPErrorHandler = flashErrorHandler
	e.Use(middleware.Recover(), echosession.Middleware(m))
	e.GET("/", func(c *echo.Context) error {
		_ = echosession.Session(c).GetString("user")
		panic("payment failed")
	})
	resp, _ := newClient(t, newServer(t, e)).do(http.MethodGet, "/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header["Set-Cookie"] != nil {
		t.Errorf("after a panic: %d, Set-Cookie %q; want the error handler's redirect and no cookie", resp.StatusCode, resp.Header["Set-Cookie"])
	}
	if !strings.Contains(logged.String(), "the change was not saved") {
		t.Errorf("the error handler's flash after the panic was not logged; log:\n%s", logged.String())
	}
}

// TestContextWithoutEcho checks a handler's unit test that calls the
// middleware on a Context from echo.NewContext with no Echo, so with no
// HTTPErrorHandler: the handler's error comes back, and the cookie is
// committed when the chain returns.
func TestContextWithoutEcho(t *testing.T) {
	m := newManager(t)
	failed := errors.New("failed")
	rec := httptest.NewRecorder()
	c := echo.NewContext(httptest.NewRequest(http.MethodPost, "https://example.com/", nil), rec)
	err := echosession.Middleware(m)(func(c *echo.Context) error {
		if err := echosession.Session(c).Set("user", "ada"); err != nil {
			return err
		}
		return failed
	})(c)
	if err != failed || !slices.Equal(setCookies(rec.Result()), []string{"session=kept"}) {
		t.Errorf("got %v, Set-Cookie %v; want the handler's error and the cookie", err, setCookies(rec.Result()))
	}
}

// TestErrorHandlerCalls counts the HTTPErrorHandler's calls for a returned
// error, and how many of them found the response still to be written. The
// middleware answers an error that nothing answered and passes it on, so
// echo calls the handler again after the chain (which must skip the
// committed response); it adds no call for a response already committed,
// by the handler or by an inner RequestLogger. An outer RequestLogger
// still logs the error. A handler that does not first return on a
// committed response answers twice, and the client gets both answers.
func TestErrorHandlerCalls(t *testing.T) {
	inner := middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{HandleError: true, LogStatus: true,
		LogValuesFunc: func(*echo.Context, middleware.RequestLoggerValues) error { return nil }})
	tests := []struct {
		name, path        string
		inner             bool
		unchecked         bool // the handler answers without first returning on a committed response
		calls, answerable int
		body              string
	}{
		{"nothing written", "/fail", false, false, 2, 1, "failed 403"},
		{"written, then failed", "/written", false, false, 1, 0, "written"},
		{"answered by an inner RequestLogger", "/fail", true, false, 2, 1, "failed 403"},
		{"a handler that does not check Committed answers twice", "/fail", false, true, 2, 2, "failed 403failed 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls, answerable int
			var logged error
			e := echo.New()
			e.HTTPErrorHandler = func(c *echo.Context, err error) {
				calls++
				if committed(c) && !tt.unchecked {
					return
				}
				answerable++
				code := err.(*echo.HTTPError).Code
				_ = c.String(code, fmt.Sprintf("failed %d", code))
			}
			e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
				LogValuesFunc: func(_ *echo.Context, v middleware.RequestLoggerValues) error { logged = v.Error; return nil }}))
			e.Use(echosession.Middleware(newManager(t)))
			if tt.inner {
				e.Use(inner)
			}
			e.GET("/fail", func(c *echo.Context) error { return echo.NewHTTPError(http.StatusForbidden, "") })
			e.GET("/written", func(c *echo.Context) error {
				if err := c.String(http.StatusOK, "written"); err != nil {
					return err
				}
				return echo.NewHTTPError(http.StatusBadGateway, "")
			})
			_, body := newClient(t, newServer(t, e)).do(http.MethodGet, tt.path)
			if calls != tt.calls || answerable != tt.answerable || body != tt.body {
				t.Errorf("error handler called %d times, %d answerable, body %q; want %d, %d, %q", calls, answerable, body, tt.calls, tt.answerable, tt.body)
			}
			if logged == nil {
				t.Error("the outer RequestLogger saw no error")
			}
		})
	}
}

// TestNilManagerRefused checks that Middleware(nil), a Manager whose New
// error was dropped, panics where the middleware is made, naming the fix,
// rather than with a nil dereference on every request.
func TestNilManagerRefused(t *testing.T) {
	defer func() {
		if msg, _ := recover().(string); !strings.HasPrefix(msg, "cookiesession: echosession.Middleware needs a Manager") {
			t.Errorf("Middleware(nil) panicked with %q, want the fix", msg)
		}
	}()
	echosession.Middleware(nil)
}

// TestNotModifiedAndHead checks that a 304 from echo's static middleware,
// which writes no body, and an answer to HEAD carry the cookie of a change
// made before them.
func TestNotModifiedAndHead(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Use(echosession.Middleware(newManager(t)), func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if err := echosession.Session(c).Set("seen", c.Request().Method); err != nil {
				return err
			}
			return next(c)
		}
	}, middleware.StaticWithConfig(middleware.StaticConfig{Root: ".", Filesystem: os.DirFS(dir)}))
	srv := newServer(t, e)
	later := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		method, since string
		status        int
	}{
		{"GET", later, http.StatusNotModified}, {"HEAD", "", http.StatusOK}, {"HEAD", later, http.StatusNotModified},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+"/hello.txt", nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.since != "" {
			req.Header.Set("If-Modified-Since", tc.since)
		}
		resp, err := newClient(t, srv).http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
			t.Errorf("%s since %q: %d with Set-Cookie %v, want %d and the session cookie", tc.method, tc.since, resp.StatusCode, setCookies(resp), tc.status)
		}
	}
}

// TestWrittenThroughUnwrapResponse: code ported from echo v4 reaches
// echo's Response with echo.UnwrapResponse(c.Response()), to write and
// flush a stream (v4's c.Response().Flush()) or to register a Before hook.
// That Response is the middleware's own, over the Manager's writer, so the
// cookie is committed before the header goes out, with a change the hook
// makes, as through c.Response().
func TestWrittenThroughUnwrapResponse(t *testing.T) {
	var logged strings.Builder
	e := echo.New()
	e.Use(echosession.Middleware(managerWith(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})))
	stream := func(c *echo.Context, w http.ResponseWriter, flush func() error) error {
		if err := echosession.Session(c).Set("user", "ada"); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 2 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			if err := flush(); err != nil {
				return err
			}
		}
		return nil
	}
	unwrap := func(c *echo.Context) *echo.Response {
		resp, err := echo.UnwrapResponse(c.Response())
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	e.GET("/through", func(c *echo.Context) error {
		return stream(c, c.Response(), http.NewResponseController(c.Response()).Flush)
	})
	e.GET("/unwrapped", func(c *echo.Context) error {
		resp := unwrap(c)
		return stream(c, resp, func() error { resp.Flush(); return nil })
	})
	e.GET("/flushed-first", func(c *echo.Context) error {
		if err := echosession.Session(c).Set("user", "ada"); err != nil {
			return err
		}
		unwrap(c).Flush() // the header goes out before anything is written
		return stream(c, c.Response(), http.NewResponseController(c.Response()).Flush)
	})
	e.GET("/before-hook", func(c *echo.Context) error {
		unwrap(c).Before(func() { _ = echosession.Session(c).Set("hook", "ran") })
		return stream(c, c.Response(), http.NewResponseController(c.Response()).Flush)
	})
	e.GET("/whoami", func(c *echo.Context) error {
		s := echosession.Session(c)
		return c.String(http.StatusOK, s.GetString("user")+","+s.GetString("hook"))
	})
	srv := newServer(t, e)
	for _, path := range []string{"/through", "/unwrapped", "/flushed-first", "/before-hook"} {
		want := map[bool]string{false: "ada,", true: "ada,ran"}[path == "/before-hook"]
		cl := newClient(t, srv)
		resp, body := cl.do(http.MethodGet, path)
		if body != "data: 0\n\ndata: 1\n\n" || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
			t.Errorf("GET %s: %q, Set-Cookie %v; want the stream and the cookie", path, body, setCookies(resp))
		}
		if _, body := cl.do(http.MethodGet, "/whoami"); body != want {
			t.Errorf("after GET %s the session holds %q, want %q", path, body, want)
		}
	}
	if strings.Contains(logged.String(), "not saved") {
		t.Errorf("a change was logged as lost:\n%s", logged.String())
	}
}

// TestAbortingMiddleware: a middleware after the session's that changes
// the session and answers without calling next (a redirect to login, an
// error, a plain answer) sends the change with its answer.
func TestAbortingMiddleware(t *testing.T) {
	e := echo.New()
	e.HTTPErrorHandler = flashErrorHandler
	e.Use(echosession.Middleware(newManager(t)), func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if c.Request().URL.Path == "/flash" {
				return next(c)
			}
			if err := echosession.Session(c).Set("back", c.Request().URL.Path); err != nil {
				return err
			}
			switch c.Request().URL.Path {
			case "/redirect":
				return c.Redirect(http.StatusFound, "/login")
			case "/error":
				return echo.ErrUnauthorized
			}
			return c.String(http.StatusUnauthorized, "sign in")
		}
	})
	e.GET("/flash", func(c *echo.Context) error {
		return c.String(http.StatusOK, echosession.Session(c).GetString("back"))
	})
	srv := newServer(t, e)
	for path, status := range map[string]int{"/redirect": http.StatusFound, "/error": http.StatusSeeOther, "/plain": http.StatusUnauthorized} {
		cl := newClient(t, srv)
		resp, _ := cl.do(http.MethodGet, path)
		if resp.StatusCode != status || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
			t.Errorf("GET %s: %d, Set-Cookie %v; want %d with the cookie", path, resp.StatusCode, setCookies(resp), status)
		}
		if _, body := cl.do(http.MethodGet, "/flash"); body != path {
			t.Errorf("after GET %s the session holds back=%q", path, body)
		}
	}
}

// TestThreeChunksAndLateChange: a session over three chunks goes out and
// comes back, and shrinks to one with the other two expired; a change
// after the handler flushed a stream is logged as not saved.
func TestThreeChunksAndLateChange(t *testing.T) {
	var logged strings.Builder
	e := echo.New()
	e.Use(echosession.Middleware(managerWith(t, cookiesession.Options{MaxChunks: 3, Logger: slog.New(slog.NewTextHandler(&logged, nil))})))
	e.POST("/blob", func(c *echo.Context) error {
		n, _ := strconv.Atoi(c.QueryParam("n"))
		if err := echosession.Session(c).Set("blob", strings.Repeat("x", n)); err != nil {
			return err
		}
		return c.String(http.StatusOK, "stored")
	})
	e.GET("/blob", func(c *echo.Context) error {
		return c.String(http.StatusOK, strconv.Itoa(len(echosession.Session(c).GetString("blob"))))
	})
	e.GET("/late", func(c *echo.Context) error {
		if err := c.String(http.StatusOK, "written"); err != nil {
			return err
		}
		http.NewResponseController(c.Response()).Flush()
		return echosession.Session(c).Set("blob", "late")
	})
	cl := newClient(t, newServer(t, e))
	resp, _ := cl.do(http.MethodPost, "/blob?n=9000")
	if got := setCookies(resp); !slices.Equal(got, []string{"session.1=kept", "session.2=kept", "session=kept"}) {
		t.Fatalf("Set-Cookie %v, want three chunks", got)
	}
	if _, body := cl.do(http.MethodGet, "/blob"); body != "9000" {
		t.Fatalf("read back %s bytes", body)
	}
	resp, _ = cl.do(http.MethodPost, "/blob?n=10")
	if got := setCookies(resp); !slices.Equal(got, []string{"session.1=expired", "session.2=expired", "session=kept"}) {
		t.Fatalf("Set-Cookie %v, want one chunk and two expired", got)
	}
	logged.Reset()
	if resp, _ := cl.do(http.MethodGet, "/late"); resp.Header["Set-Cookie"] != nil {
		t.Errorf("a change after the flush set %q", resp.Header["Set-Cookie"])
	}
	if !strings.Contains(logged.String(), "level=WARN") || !strings.Contains(logged.String(), "the change was not saved") {
		t.Errorf("the change after the flush was not logged; log:\n%s", logged.String())
	}
}

// TestPollAndBrowserRestart runs a login with and without "remember me"
// beside a preferences Manager, on the Managers' injected clock: a polling
// route that calls SkipRefresh never slides the auth session's idle window
// (the session ends 30 minutes after the last page, however often it is
// polled, and the poll then returns its 401), a page does, the preferences
// cookie goes out with the redirect after its POST and with the 422 a bad
// one returns, and only the remembered login outlives a browser restart.
func TestPollAndBrowserRestart(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	auth := managerWith(t, cookiesession.Options{Name: "auth", MaxAge: 2 * time.Hour, IdleTimeout: 30 * time.Minute,
		MaxLifetime: 30 * 24 * time.Hour, Now: clock})
	prefs := managerWith(t, cookiesession.Options{Name: "prefs", MaxAge: 90 * 24 * time.Hour, Now: clock})
	e := echo.New()
	e.Use(echosession.Middleware(auth), echosession.Middleware(prefs))
	e.POST("/login", func(c *echo.Context) error {
		s := auth.FromContext(c.Request().Context())
		s.Renew()
		lifetime := cookiesession.Lifetime{BrowserSession: true}
		if c.FormValue("remember") == "on" {
			lifetime = cookiesession.Lifetime{MaxAge: 30 * 24 * time.Hour, IdleTimeout: 7 * 24 * time.Hour}
		}
		if err := errors.Join(s.SetLifetime(lifetime), s.Set("user", c.FormValue("user"))); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/")
	})
	e.POST("/theme", func(c *echo.Context) error {
		s := prefs.FromContext(c.Request().Context())
		if theme := c.FormValue("theme"); theme != "dark" {
			s.AddFlash("no theme " + theme)
			return echo.NewHTTPError(http.StatusUnprocessableEntity, "no such theme")
		}
		if err := s.Set("theme", "dark"); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/")
	})
	e.GET("/", func(c *echo.Context) error {
		return c.String(http.StatusOK, "user="+auth.FromContext(c.Request().Context()).GetString("user")+
			" theme="+prefs.FromContext(c.Request().Context()).GetString("theme"))
	})
	e.GET("/poll", func(c *echo.Context) error {
		s := auth.FromContext(c.Request().Context())
		s.SkipRefresh()
		if s.GetString("user") == "" {
			return echo.ErrUnauthorized
		}
		return c.JSON(http.StatusOK, map[string]string{"user": s.GetString("user")})
	})
	srv := newServer(t, e)
	for _, remember := range []string{"", "on"} {
		jar := newBrowserJar()
		cl := newClient(t, srv)
		cl.http.Jar = jar
		cl.do(http.MethodPost, "/login?user=ada&remember="+remember)
		if resp, _ := cl.do(http.MethodPost, "/theme?theme=neon"); resp.StatusCode != http.StatusUnprocessableEntity || !slices.Equal(setCookies(resp), []string{"prefs=kept"}) {
			t.Fatalf("remember=%q: POST /theme, a bad one: %d, Set-Cookie %v; want 422 with the prefs cookie", remember, resp.StatusCode, setCookies(resp))
		}
		if resp, _ := cl.do(http.MethodPost, "/theme?theme=dark"); resp.StatusCode != http.StatusSeeOther || !slices.Equal(setCookies(resp), []string{"prefs=kept"}) {
			t.Fatalf("remember=%q: POST /theme: %d, Set-Cookie %v; want the redirect with the prefs cookie", remember, resp.StatusCode, setCookies(resp))
		}
		for range 2 {
			now = now.Add(14 * time.Minute)
			if resp, body := cl.do(http.MethodGet, "/poll"); body != "{\"user\":\"ada\"}\n" || len(resp.Cookies()) != 0 {
				t.Fatalf("remember=%q: poll: %q, Set-Cookie %q; want the user and no cookie", remember, body, resp.Header["Set-Cookie"])
			}
		}
		if remember == "" {
			now = now.Add(2 * time.Minute) // 30 minutes since the login: polls did not keep it
			if resp, _ := cl.do(http.MethodGet, "/poll"); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("poll 30 minutes after the last page: %d, want 401, the session ended", resp.StatusCode)
			}
			continue
		}
		// Remembered: the cookie outlives two browser restarts six days
		// apart, since the page between them slid the 7-day window.
		for range 2 {
			jar.restart()
			now = now.Add(6 * 24 * time.Hour)
			if resp, body := cl.do(http.MethodGet, "/"); body != "user=ada theme=dark" || !slices.Equal(setCookies(resp), []string{"auth=kept"}) {
				t.Fatalf("remembered login after a browser restart: %q, Set-Cookie %v; want the user, the window slid", body, setCookies(resp))
			}
		}
	}
}

// TestSharedStoreWarns checks that a page that reads the session and that
// Cache-Control lets a shared cache store goes out as the handler set it,
// with Vary: Cookie, and is logged at Warn once, through echo's writer as
// through net/http's; a private page is not logged.
func TestSharedStoreWarns(t *testing.T) {
	var logged strings.Builder
	e := echo.New()
	e.Use(echosession.Middleware(loggedManager(t, "/", &logged)))
	page := func(c *echo.Context) error {
		c.Response().Header().Set("Cache-Control", c.QueryParam("cc"))
		return c.String(http.StatusOK, "Hi "+echosession.Session(c).GetString("user"))
	}
	e.GET("/a", page)
	for _, cc := range []string{"private, max-age=60", "public, max-age=60", "public, max-age=60"} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("GET", "/a?cc="+strings.ReplaceAll(cc, " ", "+"), nil))
		if rec.Header().Get("Vary") != "Cookie" || rec.Header().Get("Cache-Control") != cc {
			t.Errorf("Cache-Control %q: sent Vary %q, Cache-Control %q; want Cookie and the handler's", cc, rec.Header().Get("Vary"), rec.Header().Get("Cache-Control"))
		}
	}
	if n := strings.Count(logged.String(), "may be stored by a shared cache, with only Vary: Cookie"); n != 1 || !strings.Contains(logged.String(), `value="public, max-age=60"`) {
		t.Errorf("want one Warn for the public page; log:\n%s", logged.String())
	}
}
