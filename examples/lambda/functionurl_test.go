package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdaurl"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"github.com/seed-ff2808ae/cookiesession"
)

// A buffered function URL (InvokeMode BUFFERED) sends payload 2.0's
// events, which httpadapter.NewV2 serves. AWS puts the request's cookies
// both in the event's cookies array and in headers.cookie, and the proxy
// adds both to the request: the middleware gets every cookie twice.

// shadowWarning is in the line the middleware logs when a request carries
// two cookies of one of its names (cookie tossing).
const shadowWarning = "two cookies of the session's name"

// TestFunctionURLBuffered runs the example's two-chunk session out of and
// back into the app through function URL events, with the cookies where
// AWS puts them and where a hand-made test event may: each copy of a chunk
// after the first is the same cookie, not a second one of the name.
func TestFunctionURLBuffered(t *testing.T) {
	setKeys(t)
	logs := warnings(t)
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	var sent []string // the request's Cookie lines, as the proxy made them
	proxy := httpadapter.NewV2(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent = r.Header["Cookie"]
		app.ServeHTTP(w, r)
	}))
	ctx := context.Background()

	post := decode[events.APIGatewayV2HTTPRequest](t, functionURLEvent(t, "POST", "/note", noteForm, nil, inBoth))
	out, err := proxy.ProxyWithContext(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /note: status %d, body %q", out.StatusCode, out.Body)
	}
	names, pairs := cookieNames(t, out.Cookies)
	if !slices.Equal(names, twoChunks) {
		t.Fatalf("cookies names %v, want %v", names, twoChunks)
	}

	for _, where := range []string{inBoth, inArray, inHeaders} {
		get := decode[events.APIGatewayV2HTTPRequest](t, functionURLEvent(t, "GET", "/", "", pairs, where))
		back, err := proxy.ProxyWithContext(ctx, get)
		if err != nil {
			t.Fatal(err)
		}
		if back.StatusCode != http.StatusOK || back.Body != "your note has 5000 bytes\n" || len(back.Cookies) != 0 {
			t.Errorf("GET / with the cookies in %s: %d %q, cookies %.40q", where, back.StatusCode, back.Body, back.Cookies)
		}
		copies := strings.Count(strings.Join(sent, "; "), "session.1=")
		if want := map[string]int{inBoth: 2, inArray: 1, inHeaders: 1}[where]; copies != want {
			t.Errorf("with the cookies in %s, the request carried chunk session.1 %d times, want %d", where, copies, want)
		}
	}
	if got := logs.String(); strings.Contains(got, shadowWarning) {
		t.Errorf("function URL requests logged a second cookie of the session's name:\n%s", got)
	}
}

// TestFunctionURLRefusedCookieCleared checks that a refused cookie is
// cleared in the response, though a function URL's request carries it
// twice: a browser that keeps it would send it, refused, on every request.
func TestFunctionURLRefusedCookieCleared(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	sessions, logs := newSessions(t, cookiesession.Options{MaxChunks: 2, MaxAge: time.Hour,
		Now: func() time.Time { return now }})
	proxy := httpadapter.NewV2(sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if r.Method == http.MethodPost {
			if err := s.Set("note", r.FormValue("note")); err != nil {
				t.Error(err)
			}
		}
		fmt.Fprintf(w, "your note has %d bytes\n", len(s.GetString("note")))
	})))
	ctx := context.Background()
	serve := func(method, body string, pairs []string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		e := decode[events.APIGatewayV2HTTPRequest](t, functionURLEvent(t, method, "/", body, pairs, inBoth))
		out, err := proxy.ProxyWithContext(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	_, pairs := cookieNames(t, serve("POST", noteForm, nil).Cookies)
	now = now.Add(2 * time.Hour) // past MaxAge

	for _, tc := range []struct {
		name  string
		pairs []string
		clear []string
	}{
		{"expired, two chunks", pairs, twoChunks},
		{"invalid", []string{"session=AAAA"}, []string{"session"}},
	} {
		out := serve("GET", "", tc.pairs)
		if out.Body != "your note has 0 bytes\n" {
			t.Errorf("%s: body %q", tc.name, out.Body)
		}
		if got := expired(t, out.Cookies); !slices.Equal(got, tc.clear) {
			t.Errorf("%s: the response expired %v, want %v", tc.name, got, tc.clear)
		}
	}
	if got := logs.String(); strings.Contains(got, shadowWarning) {
		t.Errorf("function URL requests logged a second cookie of the session's name:\n%s", got)
	}
}

// TestFunctionURLDestroy checks that a logout through a function URL
// expires both chunks.
func TestFunctionURLDestroy(t *testing.T) {
	sessions, _ := newSessions(t, cookiesession.Options{MaxChunks: 2})
	proxy := httpadapter.NewV2(sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		if r.URL.Path == "/logout" {
			s.Destroy()
		} else if err := s.Set("note", r.FormValue("note")); err != nil {
			t.Error(err)
		}
		w.WriteHeader(http.StatusNoContent)
	})))
	ctx := context.Background()
	in, err := proxy.ProxyWithContext(ctx, decode[events.APIGatewayV2HTTPRequest](t,
		functionURLEvent(t, "POST", "/note", noteForm, nil, inBoth)))
	if err != nil {
		t.Fatal(err)
	}
	_, pairs := cookieNames(t, in.Cookies)
	out, err := proxy.ProxyWithContext(ctx, decode[events.APIGatewayV2HTTPRequest](t,
		functionURLEvent(t, "POST", "/logout", "", pairs, inBoth)))
	if err != nil {
		t.Fatal(err)
	}
	if got := expired(t, out.Cookies); !slices.Equal(got, twoChunks) {
		t.Errorf("logout expired %v, want %v", got, twoChunks)
	}
}

// A streaming function URL (InvokeMode RESPONSE_STREAM) is served by
// aws-lambda-go's lambdaurl.Wrap, which copies the event's headers into
// the request (not its cookies array), runs the handler in a goroutine,
// and answers with the status and header of its first WriteHeader or
// Write, the Set-Cookie lines in the response's cookies.

// TestFunctionURLStreaming runs the example's session through lambdaurl:
// the cookies come back from headers.cookie, and a request whose event
// has them only in the cookies array has no session, unless they are
// copied into headers.cookie before lambdaurl's handler runs.
func TestFunctionURLStreaming(t *testing.T) {
	setKeys(t)
	app, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	out, body := stream(t, app, functionURLEvent(t, "POST", "/note", noteForm, nil, inBoth))
	if out.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /note: status %d, body %q", out.StatusCode, body)
	}
	names, pairs := cookieNames(t, out.Cookies)
	if !slices.Equal(names, twoChunks) {
		t.Fatalf("cookies names %v, want %v", names, twoChunks)
	}
	if out.Headers["Vary"] != "Cookie" || out.Headers["Cache-Control"] != "no-store" {
		t.Errorf("headers %q, want Vary: Cookie and Cache-Control: no-store", out.Headers)
	}
	for _, tc := range []struct {
		where, want string
		copied      bool // cookies copied into headers.cookie first
	}{
		{inBoth, "your note has 5000 bytes\n", false},
		{inHeaders, "your note has 5000 bytes\n", false},
		{inArray, "your note has 0 bytes\n", false}, // lambdaurl drops the cookies array
		{inArray, "your note has 5000 bytes\n", true},
	} {
		event := functionURLEvent(t, "GET", "/", "", pairs, tc.where)
		if tc.copied {
			e := decode[events.LambdaFunctionURLRequest](t, event)
			if e.Headers["cookie"] == "" {
				e.Headers["cookie"] = strings.Join(e.Cookies, "; ")
			}
			if event, err = json.Marshal(e); err != nil {
				t.Fatal(err)
			}
		}
		back, body := stream(t, app, event)
		if back.StatusCode != http.StatusOK || body != tc.want || len(back.Cookies) != 0 {
			t.Errorf("GET / with the cookies in %s (copied: %v): %d %q, cookies %.40q; want 200 %q",
				tc.where, tc.copied, back.StatusCode, body, back.Cookies, tc.want)
		}
	}
}

// TestFunctionURLStreamingAnswers checks that the session's cookie
// reaches the response's cookies whatever way the handler answers, and
// what a Flush does: lambdaurl's writer cannot flush (each Write goes out
// as it is made), so the middleware logs the first Flush, and
// ResponseController's returns http.ErrNotSupported; the cookie goes out
// with the first Write all the same.
func TestFunctionURLStreamingAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request) error
		status int
		body   string
		log    string // in the one line logged, or "" for none
	}{
		{"write", func(w http.ResponseWriter, r *http.Request) error {
			_, err := io.WriteString(w, "ok")
			return err
		}, http.StatusOK, "ok", ""},
		{"redirect", func(w http.ResponseWriter, r *http.Request) error {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return nil
		}, http.StatusSeeOther, "", ""},
		{"nothing written", func(w http.ResponseWriter, r *http.Request) error { return nil }, http.StatusOK, "", ""},
		{"Flush, then write", func(w http.ResponseWriter, r *http.Request) error {
			w.(http.Flusher).Flush()
			_, err := io.WriteString(w, "ok")
			return err
		}, http.StatusOK, "ok", "Flush did nothing"},
		{"Flush, nothing written", func(w http.ResponseWriter, r *http.Request) error {
			w.(http.Flusher).Flush()
			return nil
		}, http.StatusOK, "", "Flush did nothing"},
		{"ResponseController Flush", func(w http.ResponseWriter, r *http.Request) error {
			if err := http.NewResponseController(w).Flush(); !errors.Is(err, http.ErrNotSupported) {
				return fmt.Errorf("ResponseController.Flush: %v, want http.ErrNotSupported", err)
			}
			_, err := io.WriteString(w, "ok")
			return err
		}, http.StatusOK, "ok", ""},
	} {
		sessions, logs := newSessions(t, cookiesession.Options{})
		h := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := cookiesession.FromContext(r.Context()).Set("seen", true); err != nil {
				t.Error(err)
			}
			if err := tc.answer(w, r); err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
		}))
		out, body := stream(t, h, functionURLEvent(t, "POST", "/seen", "", nil, inBoth))
		names, _ := cookieNames(t, out.Cookies)
		if out.StatusCode != tc.status || body != tc.body || !slices.Equal(names, []string{"session"}) {
			t.Errorf("%s: %d %q with cookies %v, want %d %q with [session]", tc.name, out.StatusCode, body, names, tc.status, tc.body)
		}
		got := logs.String()
		if tc.log == "" && got != "" || tc.log != "" && (!strings.Contains(got, tc.log) || strings.Count(got, "\n") != 1) {
			t.Errorf("%s: logged %q, want one line with %q", tc.name, got, tc.log)
		}
	}
}

// TestFunctionURLStreamingInformational pins what lambdaurl does with a
// 1xx such as 103 Early Hints: it takes it for the response's status and
// header, so the final status, and the session's cookie with it, never
// go out. The handler waits for Wrap to have answered before it goes on,
// since lambdaurl reads the header map while the handler runs.
func TestFunctionURLStreamingInformational(t *testing.T) {
	sessions, _ := newSessions(t, cookiesession.Options{})
	answered := make(chan struct{})
	h := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		<-answered
		if err := cookiesession.FromContext(r.Context()).Set("seen", true); err != nil {
			t.Error(err)
		}
		io.WriteString(w, "ok")
	}))
	out, err := lambdaurl.Wrap(h)(context.Background(), decode[*events.LambdaFunctionURLRequest](t, functionURLEvent(t, "GET", "/", "", nil, inBoth)))
	close(answered)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != http.StatusEarlyHints || len(out.Cookies) != 0 || string(body) != "ok" {
		t.Errorf("a 103 before the answer: %d with cookies %q and body %q, want 103, none and \"ok\"", out.StatusCode, out.Cookies, body)
	}
}
