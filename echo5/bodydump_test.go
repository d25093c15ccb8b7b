package echosession_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
	"github.com/seed-ff2808ae/cookiesession"
	echosession "github.com/seed-ff2808ae/cookiesession/echo5"
)

// echo's BodyDump and Decompress, each before and after the session
// middleware, on a real server: BodyDump puts a writer of its own over
// the response and reads the request body; Decompress swaps the request
// body for a gzip reader.

// dump is what BodyDump's handler was given for one request.
type dump struct {
	req, resp string
	err       error
}

// placed returns an echo app with other before the session middleware of
// m (before is true) or after it.
func placed(m *cookiesession.Manager, other echo.MiddlewareFunc, before bool) *echo.Echo {
	e := echo.New()
	if before {
		e.Use(other, echosession.Middleware(m))
	} else {
		e.Use(echosession.Middleware(m), other)
	}
	return e
}

// post sends body to path with the header given and returns the response
// with its body read.
func (c *client) post(path string, body []byte, header http.Header) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, string(got)
}

// TestBodyDumpEitherSide: with BodyDump before or after the middleware, a
// handler that reads the request body and stores it sends the cookie with
// its answer, BodyDump's handler sees both bodies as sent, and the session
// holds the change. A change before an error goes out with echo's answer
// to it; BodyDump sees that answer only from before the middleware, which
// answers it inside: after it, BodyDump returns before echo answers, as
// it does in echo v5 without sessions.
func TestBodyDumpEitherSide(t *testing.T) {
	for _, before := range []bool{true, false} {
		t.Run(fmt.Sprintf("before=%v", before), func(t *testing.T) {
			dumps := make(chan dump, 1)
			e := placed(newManager(t), middleware.BodyDump(func(_ *echo.Context, req, resp []byte, err error) {
				dumps <- dump{string(req), string(resp), err}
			}), before)
			e.POST("/login", func(c *echo.Context) error {
				user, err := io.ReadAll(c.Request().Body)
				if err != nil {
					return err
				}
				if err := echosession.Session(c).Set("user", string(user)); err != nil {
					return err
				}
				return c.String(http.StatusOK, "hello "+string(user))
			})
			e.POST("/fail", func(c *echo.Context) error {
				if err := echosession.Session(c).Set("user", "mallory"); err != nil {
					return err
				}
				return echo.NewHTTPError(http.StatusConflict, "audit failed")
			})
			e.GET("/whoami", func(c *echo.Context) error {
				return c.String(http.StatusOK, "user="+echosession.Session(c).GetString("user"))
			})
			cl := newClient(t, newServer(t, e))

			resp, body := cl.post("/login", []byte("ada"), nil)
			if body != "hello ada" || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
				t.Fatalf("login: %q, Set-Cookie %v; want the answer and the cookie", body, setCookies(resp))
			}
			if d := <-dumps; d.req != "ada" || d.resp != "hello ada" {
				t.Errorf("BodyDump saw %+v, want the request and the answer", d)
			}
			if _, body := cl.do(http.MethodGet, "/whoami"); body != "user=ada" {
				t.Errorf("after login: %q", body)
			}
			<-dumps

			resp, body = cl.post("/fail", nil, nil)
			if resp.StatusCode != http.StatusConflict || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
				t.Fatalf("POST /fail: %d, Set-Cookie %v; want 409 and the cookie", resp.StatusCode, setCookies(resp))
			}
			// echo v5 answers an error after the chain: BodyDump after the
			// middleware returns first, and sees no body, only the error.
			want := map[bool]string{true: body, false: ""}[before]
			if d := <-dumps; d.resp != want || d.err == nil || !strings.Contains(body, "audit failed") {
				t.Errorf("BodyDump saw %q and error %v, the client got %q; want it to see %q", d.resp, d.err, body, want)
			}
			if _, body := cl.do(http.MethodGet, "/whoami"); body != "user=mallory" {
				t.Errorf("after the error: %q", body)
			}
		})
	}
}

// TestBodyDumpHandlerChangeLogged: BodyDump's handler runs after the body
// is written, before or after the middleware, so a change it makes to the
// session cannot reach the client: it is logged at Warn, the answer
// carries no cookie and the session is as it was.
func TestBodyDumpHandlerChangeLogged(t *testing.T) {
	for _, before := range []bool{true, false} {
		t.Run(fmt.Sprintf("before=%v", before), func(t *testing.T) {
			var logged strings.Builder
			m := managerWith(t, cookiesession.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			ran := make(chan struct{}, 1)
			e := placed(m, middleware.BodyDump(func(c *echo.Context, _, _ []byte, _ error) {
				if c.Path() == "/audit" {
					_ = echosession.Session(c).Set("audited", "yes")
				}
				ran <- struct{}{}
			}), before)
			e.GET("/audit", func(c *echo.Context) error {
				return c.String(http.StatusOK, "audited="+echosession.Session(c).GetString("audited"))
			})
			cl := newClient(t, newServer(t, e))
			resp, body := cl.do(http.MethodGet, "/audit")
			<-ran // the log line is written before this
			if body != "audited=" || resp.Header["Set-Cookie"] != nil {
				t.Errorf("GET /audit: %q, Set-Cookie %q; want the answer without a cookie", body, resp.Header["Set-Cookie"])
			}
			if !strings.Contains(logged.String(), "level=WARN") || !strings.Contains(logged.String(), "the change was not saved") {
				t.Errorf("the change in BodyDump's handler was not logged; log:\n%s", logged.String())
			}
			if _, body := cl.do(http.MethodGet, "/audit"); body != "audited=" {
				t.Errorf("the session holds %q after the change logged as lost", body)
			}
			<-ran
		})
	}
}

// TestBodyDumpStream: through BodyDump before or after the middleware, a
// stream the handler flushes reaches the client a part at a time, the
// first part with the cookie, and BodyDump sees the whole of it.
func TestBodyDumpStream(t *testing.T) {
	for _, before := range []bool{true, false} {
		t.Run(fmt.Sprintf("before=%v", before), func(t *testing.T) {
			dumps := make(chan dump, 1)
			read := make(chan struct{})
			e := placed(newManager(t), middleware.BodyDump(func(_ *echo.Context, req, resp []byte, err error) {
				dumps <- dump{string(req), string(resp), err}
			}), before)
			e.GET("/events", func(c *echo.Context) error {
				if err := echosession.Session(c).Set("user", "ada"); err != nil {
					return err
				}
				c.Response().Header().Set(echo.HeaderContentType, "text/event-stream")
				fmt.Fprint(c.Response(), "data: 0\n\n")
				if err := http.NewResponseController(c.Response()).Flush(); err != nil {
					return err
				}
				select { // the client has the first part before the second is written
				case <-read:
				case <-c.Request().Context().Done():
					return c.Request().Context().Err()
				}
				fmt.Fprint(c.Response(), "data: 1\n\n")
				return nil
			})
			srv := newServer(t, e)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			assertStream(ctx, t, srv, read)
			if d := <-dumps; d.resp != "data: 0\n\ndata: 1\n\n" {
				t.Errorf("BodyDump saw %q, want the whole stream", d.resp)
			}
		})
	}
}

// assertStream asks srv for /events and checks that the first event comes
// with the cookie before read is closed, and the second one after it.
func assertStream(ctx context.Context, t *testing.T, srv *httptest.Server, read chan struct{}) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if !slices.Equal(setCookies(resp), []string{"session=kept"}) {
		t.Errorf("the stream's header has Set-Cookie %v, want the cookie", setCookies(resp))
	}
	br := bufio.NewReader(resp.Body)
	first := make([]byte, len("data: 0\n\n"))
	if _, err := io.ReadFull(br, first); err != nil || string(first) != "data: 0\n\n" {
		t.Fatalf("first part: %q, %v", first, err)
	}
	close(read)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "data: 1\n\n" {
		t.Errorf("rest of the stream: %q, %v", rest, err)
	}
}

// TestDecompressEitherSide: with Decompress before or after the
// middleware, a handler reads the gzip request body as sent before it was
// compressed, stores it, and the cookie goes out with the answer.
func TestDecompressEitherSide(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte("ada")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	for _, before := range []bool{true, false} {
		t.Run(fmt.Sprintf("before=%v", before), func(t *testing.T) {
			e := placed(newManager(t), middleware.Decompress(), before)
			e.POST("/login", func(c *echo.Context) error {
				user, err := io.ReadAll(c.Request().Body)
				if err != nil {
					return err
				}
				if err := echosession.Session(c).Set("user", string(user)); err != nil {
					return err
				}
				return c.String(http.StatusOK, "hello "+string(user))
			})
			e.GET("/whoami", func(c *echo.Context) error {
				return c.String(http.StatusOK, "user="+echosession.Session(c).GetString("user"))
			})
			cl := newClient(t, newServer(t, e))
			resp, body := cl.post("/login", gz.Bytes(), http.Header{"Content-Encoding": {"gzip"}})
			if body != "hello ada" || !slices.Equal(setCookies(resp), []string{"session=kept"}) {
				t.Fatalf("login: %q, Set-Cookie %v; want the body read unzipped and the cookie", body, setCookies(resp))
			}
			if _, body := cl.do(http.MethodGet, "/whoami"); body != "user=ada" {
				t.Errorf("after login: %q", body)
			}
		})
	}
}
