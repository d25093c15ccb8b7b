package fibersession_test

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/seed-ff2808ae/cookiesession"
	fibersession "github.com/seed-ff2808ae/cookiesession/fiber"
	"github.com/valyala/fasthttp"
)

// The lines logged for a change saved into a response fasthttp never
// sends: one c.End already wrote, or one a hijack with no response drops.
const (
	lostToEndLine    = "the connection was closed before the middleware's save"
	lostToHijackLine = "HijackSetNoResponse(true)"
)

// TestEndBeforeSaveWarns serves a handler that sends its response with
// c.End, which writes it on the connection and closes that: the
// middleware's save, after the handler returns, goes into a response
// fasthttp can no longer send. A change the handler made before c.End
// without fibersession.Save, or after it, was lost with nothing said; it
// is now logged at Warn with the fix, and the rows that follow the fix (or
// change nothing) log nothing and keep their cookie.
func TestEndBeforeSaveWarns(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before string // what the handler does to the session before c.End: "", "read", "set", "set+save"
		after  bool   // it stores again after c.End
		cookie bool   // the client gets the session's cookie
		warn   bool
	}{
		{"stores, ends", "set", false, false, true},
		{"stores, saves, ends", "set+save", false, true, false},
		{"stores, saves, ends, stores again", "set+save", true, true, true},
		{"ends, then stores", "", true, false, true},
		{"reads, ends", "read", false, false, false},
		{"ends, session unused", "", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logged := defaultLog(t, slog.LevelDebug)
			m := newManager(t, cookiesession.Options{})
			app, served := servedApp(m)
			app.Post("/end", func(c fiber.Ctx) error {
				switch tc.before {
				case "read":
					_ = fibersession.Get(c, m).GetString("user")
				case "set", "set+save":
					if err := fibersession.Get(c, m).Set("user", "ada"); err != nil {
						return err
					}
				}
				if tc.before == "set+save" {
					if err := fibersession.Save(c, m); err != nil {
						return err
					}
				}
				if err := c.SendString("bye"); err != nil {
					return err
				}
				if err := c.End(); err != nil {
					return err
				}
				if tc.after {
					return fibersession.Get(c, m).Set("user", "grace")
				}
				return nil
			})
			addr := listen(t, app)
			for i := range 2 {
				res, body := exchange(t, addr, "POST /end HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
				if body != "bye" {
					t.Fatalf("body %q, want bye", body)
				}
				got := false
				for _, c := range res.Cookies() {
					got = got || c.Name == "session" && c.Value != ""
				}
				if got != tc.cookie {
					t.Errorf("the client got the session's cookie: %t, want %t (Set-Cookie %q)", got, tc.cookie, res.Header.Values("Set-Cookie"))
				}
				<-served // the middleware has saved and logged
				lines := logged.lines(lostToEndLine)
				want := map[bool]int{true: i + 1, false: 0}[tc.warn]
				if len(lines) != want {
					t.Fatalf("after request %d: %d lines for the lost change, want %d; log:\n%s", i+1, len(lines), want, logged)
				}
				if tc.warn && (!strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "fibersession.Save(c, m)") || !strings.Contains(lines[0], "path=/end")) {
					t.Errorf("the line is not a Warn naming the path and the fix: %s", lines[0])
				}
				if tc.warn && i == 1 && !strings.Contains(lines[1], "level=DEBUG") {
					t.Errorf("the second lost change within the minute is not at Debug: %s", lines[1])
				}
			}
		})
	}
}

// TestHijackWithoutResponseWarns serves a handler that takes the
// connection over with fasthttp's Hijack after storing in the session.
// fasthttp sends the response, with the middleware's cookie, before the
// hijack handler runs, unless HijackSetNoResponse(true): then the cookie
// went nowhere, with nothing said. That is now logged at Warn with the
// fix, which the last row follows: Save before the hijack, and the
// hijacker writes the lines Save put in the response.
func TestHijackWithoutResponseWarns(t *testing.T) {
	for _, tc := range []struct {
		name       string
		noResponse bool // HijackSetNoResponse(true)
		save       bool // Save before the hijack, whose lines the hijacker writes
		warn       bool
	}{
		{"hijack after fasthttp's response", false, false, false},
		{"hijack with no response", true, false, true},
		{"hijack with no response, saved and written by the hijacker", true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logged := defaultLog(t, slog.LevelInfo)
			m := newManager(t, cookiesession.Options{})
			app := fiber.New()
			app.Use(fibersession.New(m))
			app.Get("/upgrade", func(c fiber.Ctx) error {
				if err := fibersession.Get(c, m).Set("user", "ada"); err != nil {
					return err
				}
				var lines []string
				if tc.save {
					if err := fibersession.Save(c, m); err != nil {
						return err
					}
					for _, line := range c.Response().Header.Cookies() {
						lines = append(lines, string(line))
					}
				}
				raw := "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 8\r\n"
				for _, line := range lines {
					raw += "Set-Cookie: " + line + "\r\n"
				}
				raw += "\r\nhijacked"
				ctx := c.RequestCtx()
				ctx.HijackSetNoResponse(tc.noResponse)
				ctx.Hijack(func(conn net.Conn) { _, _ = io.WriteString(conn, raw) })
				return c.SendString("answered")
			})
			addr := listen(t, app)
			res, body := exchange(t, addr, "GET /upgrade HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
			want := map[bool]string{false: "answered", true: "hijacked"}[tc.noResponse]
			if body != want {
				t.Fatalf("body %q, want %q", body, want)
			}
			got := len(res.Cookies()) == 1 && res.Cookies()[0].Name == "session"
			if wantCookie := !tc.noResponse || tc.save; got != wantCookie {
				t.Errorf("the client got the session's cookie: %t, want %t (Set-Cookie %q)", got, wantCookie, res.Header.Values("Set-Cookie"))
			}
			lines := logged.lines(lostToHijackLine)
			if warned := len(lines) == 1 && strings.Contains(lines[0], "level=WARN") && strings.Contains(lines[0], "fibersession.Save(c, m)"); warned != tc.warn || len(lines) > 1 {
				t.Errorf("a Warn with the fix: %t, want %t; log:\n%s", warned, tc.warn, logged)
			}
		})
	}
}

// TestForeignCookieOnUnusedSessionWarns checks that a handler that never
// uses its session and sets or clears the session's cookie itself
// (c.ClearCookie as a logout, c.ClearCookie() of every cookie the request
// sent, c.Cookie) is logged at Warn, once per Manager, as the net/http
// middleware logs it: the client's session is replaced or ended behind
// the Manager's back (and c.ClearCookie's line, with no Path, Secure or
// chunks, may not even end it). The line goes out as the handler set it,
// and the response gets no Vary or Cache-Control from the middleware: the
// session was not used.
func TestForeignCookieOnUnusedSessionWarns(t *testing.T) {
	routes := map[string]func(c fiber.Ctx){
		"/clear":     func(c fiber.Ctx) { c.ClearCookie("session") },
		"/clear-all": func(c fiber.Ctx) { c.ClearCookie() },
		"/chunk":     func(c fiber.Ctx) { c.Cookie(&fiber.Cookie{Name: "session.1", Value: "theirs"}) },
		"/other":     func(c fiber.Ctx) { c.ClearCookie("theme") },
	}
	for path, handler := range routes {
		t.Run(path, func(t *testing.T) {
			var logged syncBuffer
			m := newManager(t, cookiesession.Options{MaxChunks: 2, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			app := fiber.New()
			app.Use(fibersession.New(m))
			app.Get(path, func(c fiber.Ctx) error {
				handler(c)
				return c.SendString("ok")
			})
			for range 2 {
				req := httptest.NewRequest(http.MethodGet, "https://example.test"+path, nil)
				req.Header.Set("Cookie", "session=abc; theme=dark")
				r := send(t, app, req, nil)
				if r.header.Get("Vary") != "" || r.header.Get("Cache-Control") != "" {
					t.Errorf("Vary %q, Cache-Control %q on a request that never used its session", r.header.Get("Vary"), r.header.Get("Cache-Control"))
				}
				if path != "/other" && len(r.setCookie) == 0 {
					t.Errorf("the handler's line is not in the response")
				}
			}
			lines := logged.lines(foreignWarning)
			if want := map[bool]int{true: 0, false: 1}[path == "/other"]; len(lines) != want {
				t.Fatalf("%d warnings for the handler's cookie of the session's name, want %d; log:\n%s", len(lines), want, &logged)
			}
			if path != "/other" && !strings.Contains(lines[0], "level=WARN") {
				t.Errorf("not a Warn: %s", lines[0])
			}
		})
	}
	t.Run("net/http", func(t *testing.T) {
		// The middleware the fiber one follows.
		var logged syncBuffer
		m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "session", MaxAge: -1})
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "https://example.test/clear", nil))
		if n := len(logged.lines(foreignWarning)); n != 1 {
			t.Errorf("net/http: %d warnings, want 1; log:\n%s", n, &logged)
		}
	})
}

// TestEndOverTLSWarns is TestEndBeforeSaveWarns's first row over TLS,
// where the closed connection is a tls.Conn's.
func TestEndOverTLSWarns(t *testing.T) {
	logged := defaultLog(t, slog.LevelInfo)
	m := newManager(t, cookiesession.Options{})
	app, served := servedApp(m)
	app.Post("/end", func(c fiber.Ctx) error {
		if err := fibersession.Get(c, m).Set("user", "ada"); err != nil {
			return err
		}
		if err := c.SendString("bye"); err != nil {
			return err
		}
		return c.End()
	})
	client := serveTLS(t, app)
	res, err := client.Post("https://example.com/end", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	<-served
	if len(res.Cookies()) != 0 {
		t.Errorf("Set-Cookie %q after c.End", res.Header.Values("Set-Cookie"))
	}
	if lines := logged.lines(lostToEndLine); len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") {
		t.Errorf("want one Warn for the change c.End went out without; log:\n%s", logged)
	}
}

// TestSaveOnInitContext serves a storing handler on a fasthttp.RequestCtx
// made by Init, as a test of an app's handler may: its connection panics
// on every call by design, and the check for a connection c.End closed
// must not reach that panic.
func TestSaveOnInitContext(t *testing.T) {
	m := newManager(t, cookiesession.Options{})
	app := fiber.New()
	app.Use(fibersession.New(m))
	app.Post("/set", func(c fiber.Ctx) error { return fibersession.Get(c, m).Set("user", "ada") })
	var req fasthttp.Request
	req.Header.SetMethod(http.MethodPost)
	req.SetRequestURI("/set")
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, nil, nil)
	if msg := recovered(func() { app.Handler()(&ctx) }); msg != "no panic" {
		t.Fatalf("the middleware panicked: %s", msg)
	}
	if ctx.Response.StatusCode() != http.StatusOK || len(ctx.Response.Header.PeekCookie("session")) == 0 {
		t.Errorf("status %d, Set-Cookie of session %q", ctx.Response.StatusCode(), ctx.Response.Header.PeekCookie("session"))
	}
}

// countingConn counts the writes of no bytes made on a connection.
// withFD gives it the connection's descriptor (SyscallConn), as a TCP
// connection has; without it, it stands for a wrapper that hides it, as
// fasthttp's under Server.MaxConnsPerIP does.
type countingConn struct {
	net.Conn
	empty *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	if len(b) == 0 {
		c.empty.Add(1)
	}
	return c.Conn.Write(b)
}

type countingFDConn struct{ countingConn }

func (c countingFDConn) SyscallConn() (syscall.RawConn, error) {
	return c.Conn.(syscall.Conn).SyscallConn()
}

type countingListener struct {
	net.Listener
	withFD bool
	empty  *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil || !l.withFD {
		return countingConn{conn, l.empty}, err
	}
	return countingFDConn{countingConn{conn, l.empty}}, nil
}

// TestEndProbeSendsNothing: the check for a connection c.End closed runs
// on every request whose final save sets a cookie. On a connection with a
// descriptor it asks that, and makes no write on the connection, where it
// made a write of no bytes (a system call) per such request; on one that
// hides its descriptor it still finds the close, by such a write.
func TestEndProbeSendsNothing(t *testing.T) {
	for _, withFD := range []bool{true, false} {
		logged := defaultLog(t, slog.LevelInfo)
		m := newManager(t, cookiesession.Options{})
		app, served := servedApp(m)
		app.Post("/set", func(c fiber.Ctx) error {
			return fibersession.Get(c, m).Set("user", "ada")
		})
		app.Post("/end", func(c fiber.Ctx) error {
			if err := fibersession.Get(c, m).Set("user", "ada"); err != nil {
				return err
			}
			return c.End()
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		empty := new(atomic.Int64)
		addr := listen(t, app, countingListener{ln, withFD, empty})

		res, _ := exchange(t, addr, "POST /set HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
		<-served
		if len(res.Cookies()) != 1 {
			t.Errorf("descriptor %t: Set-Cookie %q, want the session's", withFD, res.Header.Values("Set-Cookie"))
		}
		if n := empty.Load(); withFD && n != 0 {
			t.Errorf("%d writes of no bytes on a connection with a descriptor, want none", n)
		}
		_, _ = exchange(t, addr, "POST /end HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
		<-served
		if lines := logged.lines(lostToEndLine); len(lines) != 1 {
			t.Errorf("descriptor %t: %d lines for the change c.End went out without, want 1; log:\n%s", withFD, len(lines), logged)
		}
	}
}

// TestDropBeforeSaveWarns: c.Drop closes the connection with no response,
// which the middleware's check sees as it sees c.End's close. The line it
// logs for the change that went nowhere names c.Drop beside c.End, where
// it said only that c.End had sent the response, which a handler that
// dropped the connection never called.
func TestDropBeforeSaveWarns(t *testing.T) {
	logged := defaultLog(t, slog.LevelInfo)
	m := newManager(t, cookiesession.Options{})
	app, served := servedApp(m)
	app.Post("/drop", func(c fiber.Ctx) error {
		if err := fibersession.Get(c, m).Set("user", "ada"); err != nil {
			return err
		}
		return c.Drop()
	})
	conn, err := net.Dial("tcp", listen(t, app))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /drop HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(conn); len(got) != 0 {
		t.Errorf("c.Drop answered %q", got)
	}
	<-served
	lines := logged.lines("level=WARN")
	if len(lines) != 1 || !strings.Contains(lines[0], "c.Drop") {
		t.Errorf("want one Warn that names c.Drop; log:\n%s", logged)
	}
}

// TestStreamWriterChangeLogged: fiber starts a stream writer on its own
// goroutine when SendStreamWriter sets it, before the handler returns, so
// README says to make every change to the session before setting it. A
// change made before goes out with the stream; one the writer makes once
// the middleware has saved cannot, and is logged at Warn as not saved.
func TestStreamWriterChangeLogged(t *testing.T) {
	var logged syncBuffer
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	app, served := servedApp(m)
	saved := make(chan struct{})
	app.Get("/events", func(c fiber.Ctx) error {
		s := fibersession.Get(c, m)
		if err := s.Set("user", "ada"); err != nil {
			return err
		}
		started := make(chan struct{})
		if err := c.SendStreamWriter(func(w *bufio.Writer) {
			close(started)
			<-saved
			_ = s.Set("late", "yes")
			_, _ = w.WriteString("data: 0\n\n")
		}); err != nil {
			return err
		}
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Error("the stream writer had not started when the handler returned")
		}
		return nil
	})
	app.Get("/whoami", func(c fiber.Ctx) error {
		s := fibersession.Get(c, m)
		return c.SendString("user=" + s.GetString("user") + " late=" + s.GetString("late"))
	})
	go func() { <-served; close(saved) }()
	j := newJar()
	r := do(t, app, http.MethodGet, "/events", j)
	if r.body != "data: 0\n\n" || len(r.linesFor("session")) != 1 {
		t.Fatalf("GET /events: %q, Set-Cookie %q; want the stream and the session's cookie", r.body, r.setCookie)
	}
	if r := do(t, app, http.MethodGet, "/whoami", j); r.body != "user=ada late=" {
		t.Errorf("the cookie holds %q; want user, and not the writer's change", r.body)
	}
	if lines := logged.lines("after the response was committed"); len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") {
		t.Errorf("the writer's change was not logged at Warn as not saved; log:\n%s", &logged)
	}
}

// TestEndUnderAppTestNotLogged keeps README's caveat true: under
// app.Test, whose connection reports c.End's close in a way the
// middleware does not know, a change c.End went out without is not
// logged (over a real connection it is: TestEndBeforeSaveWarns).
func TestEndUnderAppTestNotLogged(t *testing.T) {
	logged := defaultLog(t, slog.LevelDebug)
	m := newManager(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(logged, nil))})
	app := fiber.New()
	app.Use(fibersession.New(m))
	app.Post("/end", func(c fiber.Ctx) error {
		if err := fibersession.Get(c, m).Set("user", "ada"); err != nil {
			return err
		}
		if err := c.SendString("bye"); err != nil {
			return err
		}
		return c.End()
	})
	do(t, app, http.MethodPost, "/end", nil)
	if lines := logged.lines(lostToEndLine); len(lines) != 0 {
		t.Errorf("under app.Test the lost change was logged: %q; README says it is not", lines)
	}
}
