package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/seed-ff2808ae/cookiesession"
	xws "golang.org/x/net/websocket"
)

// Long-lived responses through Manager.Handler with the libraries people
// use: WebSocket upgrades by gorilla/websocket and coder/websocket, and
// Server-Sent Events flushed through http.ResponseController.

// streamServer serves streamApp over TLS on 127.0.0.1 with one Manager
// (IdleTimeout 1h, its clock set by the test) whose log the test reads.
type streamServer struct {
	srv      *httptest.Server
	ring     *cookiesession.KeyRing
	sessions *cookiesession.Manager
	log      syncLog

	mu  sync.Mutex
	now time.Time

	done chan string // what a handler reports when it returns
}

// wrap puts the app behind the Manager: (*cookiesession.Manager).Handler,
// or that with something around or inside it.
func newStreamServer(t *testing.T, wrap func(*cookiesession.Manager, http.Handler) http.Handler) *streamServer {
	t.Helper()
	ring, err := cookiesession.NewKeyRing(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	ss := &streamServer{ring: ring, now: time.Now(), done: make(chan string, 8)}
	ss.sessions, err = cookiesession.New(ring, cookiesession.Options{
		IdleTimeout: time.Hour,
		Logger:      slog.New(slog.NewTextHandler(&ss.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:         ss.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/seed", func(w http.ResponseWriter, r *http.Request) {
		_ = cookiesession.FromContext(r.Context()).Set("user", "alice")
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, cookiesession.FromContext(r.Context()).GetString("user"))
	})
	mux.HandleFunc("/ws/{lib}/{when}", ss.socket)
	mux.HandleFunc("/sse/{when}", ss.events)
	mux.HandleFunc("/eventsource", ss.eventSource)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "page") })
	ss.srv = httptest.NewTLSServer(wrap(ss.sessions, mux))
	t.Cleanup(ss.srv.Close)
	return ss
}

func (ss *streamServer) clock() time.Time {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.now
}

// advance moves the Manager's clock past half of the idle window, so a
// rolling refresh is due.
func (ss *streamServer) advance() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.now = ss.now.Add(40 * time.Minute)
}

// due makes a refresh ("refresh") or a re-key ("rekey") of a cookie
// sealed until now due, or nothing ("").
func (ss *streamServer) due(t *testing.T, what string) {
	t.Helper()
	switch what {
	case "refresh":
		ss.advance()
	case "rekey":
		k := newKey(t)
		if err := ss.ring.Add(k); err != nil {
			t.Fatal(err)
		}
		if err := ss.ring.Promote(k.ID()); err != nil {
			t.Fatal(err)
		}
	}
}

// seed logs alice in over a plain GET and returns her cookie.
func (ss *streamServer) seed(t *testing.T) *http.Cookie {
	t.Helper()
	resp, err := ss.srv.Client().Get(ss.srv.URL + "/seed")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return sessionCookie(t, resp, true)
}

// sessionCookie returns the session cookie resp sets, or nil; want says
// whether one must be there.
func sessionCookie(t *testing.T, resp *http.Response, want bool) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == cookieName && c.Value != "" {
			if !want {
				t.Errorf("%s: Set-Cookie %q, want none", resp.Status, resp.Header.Values("Set-Cookie"))
			}
			return c
		}
	}
	if want {
		t.Errorf("%s: no session cookie in %q", resp.Status, resp.Header.Values("Set-Cookie"))
	}
	return nil
}

// socket upgrades with lib: "gorilla" passes Upgrade no header, "recipe"
// follows README's WebSockets line as written, "coder" is coder/websocket's
// Accept. when says what the handler does with the session: "read" only
// reads it, "before" logs in before the upgrade, "after" logs in inside
// the socket loop. The one message sent says what the session holds and,
// for "after", what Set and Save returned.
func (ss *streamServer) socket(w http.ResponseWriter, r *http.Request) {
	sessions, upgrader := ss.sessions, gorilla.Upgrader{}
	s := cookiesession.FromContext(r.Context())
	if r.PathValue("when") == "before" {
		_ = s.Set("user", "alice")
	}
	msg := "user=" + s.GetString("user")
	var send func(string) error
	switch r.PathValue("lib") {
	case "gorilla", "recipe":
		var conn *gorilla.Conn
		var err error
		if r.PathValue("lib") == "recipe" {
			sessions.Save(w, r, s)
			conn, err = upgrader.Upgrade(w, r, http.Header{"Set-Cookie": w.Header()["Set-Cookie"]})
		} else {
			conn, err = upgrader.Upgrade(w, r, nil)
		}
		if err != nil {
			return // Upgrade has answered
		}
		defer conn.Close()
		send = func(text string) error {
			if err := conn.WriteMessage(gorilla.TextMessage, []byte(text)); err != nil {
				return err
			}
			_, _, err := conn.ReadMessage() // until the client closes
			return err
		}
	case "xnet", "xnetrecipe":
		ss.xnetSocket(w, r, s, msg)
		return
	case "coder":
		conn, err := coder.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		send = func(text string) error {
			if err := conn.Write(r.Context(), coder.MessageText, []byte(text)); err != nil {
				return err
			}
			_, _, err := conn.Read(r.Context())
			return err
		}
	}
	if r.PathValue("when") == "after" {
		setErr := s.Set("user", "bob")
		msg += fmt.Sprintf(" set=%v save=%v", setErr, sessions.Save(w, r, s))
	}
	_ = send(msg)
}

// xnetSocket upgrades with golang.org/x/net/websocket, which writes its
// own 101 from Config.Header after the Hijack: "xnet" sets none,
// "xnetrecipe" saves first and sets the lines in Server.Handshake, as
// README's WebSockets line says. It then sends msg as socket does.
func (ss *streamServer) xnetSocket(w http.ResponseWriter, r *http.Request, s *cookiesession.Session, msg string) {
	sessions := ss.sessions
	server := xws.Server{Handler: func(conn *xws.Conn) {
		defer conn.Close()
		if r.PathValue("when") == "after" {
			setErr := s.Set("user", "bob")
			msg += fmt.Sprintf(" set=%v save=%v", setErr, sessions.Save(w, r, s))
		}
		if xws.Message.Send(conn, msg) == nil {
			var discard string
			_ = xws.Message.Receive(conn, &discard) // until the client closes
		}
	}}
	if r.PathValue("lib") == "xnetrecipe" {
		_ = sessions.Save(w, r, s)
		lines := w.Header()["Set-Cookie"]
		server.Handshake = func(c *xws.Config, _ *http.Request) error {
			c.Header = http.Header{"Set-Cookie": lines}
			return nil
		}
	}
	server.ServeHTTP(w, r)
}

// dial opens /ws/lib/when with lib's own dialer (the README recipe is
// gorilla's server side), sending cookie if not nil, and returns the 101
// response and the one message.
func (ss *streamServer) dial(t *testing.T, lib, when string, cookie *http.Cookie) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	target := "wss" + strings.TrimPrefix(ss.srv.URL, "https") + "/ws/" + lib + "/" + when
	header := http.Header{}
	if cookie != nil {
		header.Set("Cookie", cookie.String())
	}
	if lib == "coder" {
		conn, resp, err := coder.Dial(ctx, target, &coder.DialOptions{HTTPClient: ss.srv.Client(), HTTPHeader: header})
		if err != nil {
			t.Fatalf("coder.Dial %s: %v", target, err)
		}
		defer conn.CloseNow()
		_, msg, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("coder: reading %s: %v", target, err)
		}
		_ = conn.Close(coder.StatusNormalClosure, "")
		return resp, string(msg)
	}
	dialer := gorilla.Dialer{TLSClientConfig: ss.srv.Client().Transport.(*http.Transport).TLSClientConfig}
	conn, resp, err := dialer.DialContext(ctx, target, header)
	if err != nil {
		t.Fatalf("gorilla Dial %s: %v", target, err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("gorilla: reading %s: %v", target, err)
	}
	_ = conn.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return resp, string(msg)
}

// TestWebSocketUpgradeCookie upgrades through the middleware with each
// library and asserts what the 101 carries, what the socket learns and
// what is logged. gorilla's Upgrade without the README recipe drops the
// cookie the middleware commits at its Hijack (a login, a rolling
// refresh, a re-key): the Manager logs that at the Hijack.
func TestWebSocketUpgradeCookie(t *testing.T) {
	const hijackWarn = "the session's cookie was put in the header map at a Hijack"
	const lateWarn = "session changed after the response was committed"
	tests := []struct {
		lib, when string
		due       string // "refresh", "rekey" of alice's cookie, or ""
		cookie    bool   // the 101 sets the session cookie
		msg       string // the socket's message
		warn      string // a line the log must hold, "" for no Warn at all
	}{
		{"gorilla", "read", "", false, "user=alice", ""},
		{"gorilla", "read", "refresh", false, "user=alice", hijackWarn},
		{"gorilla", "read", "rekey", false, "user=alice", hijackWarn},
		{"gorilla", "before", "", false, "user=alice", hijackWarn},
		{"gorilla", "after", "", false, "user=alice set=<nil> save=" + cookiesession.ErrHeadersWritten.Error(), lateWarn},
		{"recipe", "read", "", false, "user=alice", ""},
		{"recipe", "read", "refresh", true, "user=alice", ""},
		{"recipe", "read", "rekey", true, "user=alice", ""},
		{"recipe", "before", "", true, "user=alice", ""},
		{"recipe", "after", "", false, "user=alice set=<nil> save=" + cookiesession.ErrHeadersWritten.Error(), lateWarn},
		{"xnet", "read", "", false, "user=alice", ""},
		{"xnet", "read", "refresh", false, "user=alice", hijackWarn},
		{"xnet", "before", "", false, "user=alice", hijackWarn},
		{"xnet", "after", "", false, "user=alice set=<nil> save=" + cookiesession.ErrHeadersWritten.Error(), lateWarn},
		{"xnetrecipe", "read", "", false, "user=alice", ""},
		{"xnetrecipe", "read", "refresh", true, "user=alice", ""},
		{"xnetrecipe", "read", "rekey", true, "user=alice", ""},
		{"xnetrecipe", "before", "", true, "user=alice", ""},
		{"coder", "read", "", false, "user=alice", ""},
		{"coder", "read", "refresh", true, "user=alice", ""},
		{"coder", "read", "rekey", true, "user=alice", ""},
		{"coder", "before", "", true, "user=alice", ""},
		{"coder", "after", "", false, "user=alice set=<nil> save=" + cookiesession.ErrHeadersWritten.Error(), lateWarn},
	}
	for _, tt := range tests {
		name := tt.lib + "/" + tt.when
		if tt.due != "" {
			name += "/" + tt.due
		}
		t.Run(name, func(t *testing.T) {
			ss := newStreamServer(t, (*cookiesession.Manager).Handler)
			var cookie *http.Cookie
			if tt.when != "before" {
				cookie = ss.seed(t)
			}
			ss.due(t, tt.due)
			resp, msg := ss.dial(t, tt.lib, tt.when, cookie)
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("status %s", resp.Status)
			}
			got := sessionCookie(t, resp, tt.cookie)
			if msg != tt.msg {
				t.Errorf("the socket says %q, want %q", msg, tt.msg)
			}
			if got != nil {
				checkWhoami(t, ss, got, "alice")
			}
			log := ss.log.reset()
			if tt.warn == "" && strings.Contains(log, "level=WARN") || tt.warn != "" && !strings.Contains(log, tt.warn) {
				t.Errorf("log, want a line with %q (none at Warn if empty):\n%s", tt.warn, log)
			}
			if tt.lib == "xnet" && tt.warn == hijackWarn && !strings.Contains(log, "Server.Handshake") {
				t.Errorf("x/net/websocket's lost cookie is logged without its fix (Server.Handshake):\n%s", log)
			}
		})
	}
}

// checkWhoami asserts that the server reads cookie as user's session.
func checkWhoami(t *testing.T, ss *streamServer, cookie *http.Cookie, user string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ss.srv.URL+"/whoami", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(cookie)
	resp, err := ss.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != user {
		t.Errorf("the cookie is the session of %q (%v), want %q", body, err, user)
	}
}

// events streams text/event-stream through http.ResponseController, as
// an SSE handler does. when "login" stores alice before the first flush,
// "read" only reads the session. The first event says what
// SetWriteDeadline and EnableFullDuplex returned; the handler then reads
// the request's body, which the client sends only once it has the first
// event, and changes the session; the second event says what it read and
// what Set and Save returned. when "expired" sets a write deadline in the
// past and reports its flush's error on ss.done.
func (ss *streamServer) events(w http.ResponseWriter, r *http.Request) {
	sessions := ss.sessions
	s := cookiesession.FromContext(r.Context())
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	switch r.PathValue("when") {
	case "login":
		_ = s.Set("user", "alice")
	case "expired":
		_ = s.Set("user", "alice")
		deadlineErr := rc.SetWriteDeadline(time.Now().Add(-time.Second))
		fmt.Fprintf(w, "data: %s\n\n", strings.Repeat("x", 8<<10))
		ss.done <- fmt.Sprintf("deadline=%v flush=%v", deadlineErr, rc.Flush())
		return
	}
	deadlineErr := rc.SetWriteDeadline(time.Now().Add(testTimeout))
	duplexErr := rc.EnableFullDuplex()
	fmt.Fprintf(w, "data: user=%s deadline=%v duplex=%v\n\n", s.GetString("user"), deadlineErr, duplexErr)
	flushErr := rc.Flush()
	body, readErr := io.ReadAll(r.Body)
	setErr := s.Set("user", "bob")
	fmt.Fprintf(w, "data: flush=%v body=%s read=%v set=%v save=%v\n\n", flushErr, body, readErr, setErr, sessions.Save(w, r, s))
}

// TestEventStream streams through the middleware: the cookie goes out
// with the headers at the first flush (a login, a rolling refresh), the
// flush reaches the client while the handler runs (it waits for the
// client's body, sent after the first event), SetWriteDeadline and
// EnableFullDuplex reach the connection, and a change after the first
// flush gets ErrHeadersWritten from Save and a Warn.
func TestEventStream(t *testing.T) {
	for _, when := range []string{"login", "refresh"} {
		t.Run(when, func(t *testing.T) {
			ss := newStreamServer(t, (*cookiesession.Manager).Handler)
			path := "/sse/login"
			var cookie *http.Cookie
			if when == "refresh" {
				cookie, path = ss.seed(t), "/sse/read"
				ss.advance()
			}
			bodyR, bodyW := io.Pipe()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, ss.srv.URL+path, bodyR)
			if err != nil {
				t.Fatal(err)
			}
			if cookie != nil {
				req.AddCookie(cookie)
			}
			resp, err := ss.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if got := sessionCookie(t, resp, true); got != nil {
				checkWhoami(t, ss, got, "alice")
			}
			events := bufio.NewReader(resp.Body)
			want := "data: user=alice deadline=<nil> duplex=<nil>"
			if got := readEvent(t, events); got != want {
				t.Errorf("first event %q, want %q", got, want)
			}
			fmt.Fprint(bodyW, "ping")
			bodyW.Close()
			want = "data: flush=<nil> body=ping read=<nil> set=<nil> save=" + cookiesession.ErrHeadersWritten.Error()
			if got := readEvent(t, events); got != want {
				t.Errorf("second event %q, want %q", got, want)
			}
			if log := ss.log.reset(); !strings.Contains(log, "session changed after the response was committed") {
				t.Errorf("the change after the first flush was not logged:\n%s", log)
			}
		})
	}
	t.Run("past write deadline", func(t *testing.T) {
		ss := newStreamServer(t, (*cookiesession.Manager).Handler)
		resp, err := ss.srv.Client().Get(ss.srv.URL + "/sse/expired")
		if err == nil {
			resp.Body.Close()
		}
		got := waitDone(t, ss)
		if !strings.HasPrefix(got, "deadline=<nil> flush=") || !strings.Contains(got, os.ErrDeadlineExceeded.Error()) {
			t.Errorf("handler: %s; want SetWriteDeadline to apply to the connection, and the flush to fail by it", got)
		}
	})
}

// readEvent reads one event's line and the blank line after it.
func readEvent(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading an event: %q, %v", line, err)
	}
	if blank, err := r.ReadString('\n'); blank != "\n" || err != nil {
		t.Fatalf("after %q: %q, %v", line, blank, err)
	}
	return strings.TrimSuffix(line, "\n")
}

// waitDone returns what the handler reported, within a bound.
func waitDone(t *testing.T, ss *streamServer) string {
	t.Helper()
	select {
	case got := <-ss.done:
		return got
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not return")
		return ""
	}
}

// TestEventStreamTimeoutHandler streams inside and outside an
// http.TimeoutHandler, which buffers the body and cannot flush: the
// handler's Flush returns http.ErrNotSupported, and the client gets the
// timeout's 503 in place of the stream. Inside the middleware the 503
// carries the login, and the change after it is refused and logged;
// outside, the middleware commits at the Flush into the TimeoutHandler's
// buffer, the 503 goes out without the cookie, and the middleware logs
// that when the handler's next Write fails.
func TestEventStreamTimeoutHandler(t *testing.T) {
	tests := []struct {
		name   string
		inside bool
		cookie bool
		done   string
		warn   string
	}{
		{"inside", true, true, "flush=feature not supported set=<nil> save=" + cookiesession.ErrHeadersWritten.Error() + " write=http: Handler timeout",
			"session changed after the response was committed"},
		{"outside", false, false, "flush=feature not supported set=<nil> save=" + cookiesession.ErrHeadersWritten.Error() + " write=http: Handler timeout",
			"an http.TimeoutHandler outside the middleware answered 503 without the session's cookie"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ss *streamServer
			answered := make(chan struct{})
			stream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := cookiesession.FromContext(r.Context())
				_ = s.Set("user", "alice")
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprint(w, "data: one\n\n")
				flushErr := http.NewResponseController(w).Flush()
				<-r.Context().Done() // the timeout
				<-answered           // and its 503 has gone out
				setErr := s.Set("user", "bob")
				saveErr := ss.sessions.Save(w, r, s)
				_, writeErr := fmt.Fprint(w, "data: two\n\n")
				ss.done <- fmt.Sprintf("flush=%v set=%v save=%v write=%v", flushErr, setErr, saveErr, writeErr)
			})
			ss = newStreamServer(t, func(m *cookiesession.Manager, _ http.Handler) http.Handler {
				if tt.inside {
					return m.Handler(http.TimeoutHandler(stream, 100*time.Millisecond, "stream timed out"))
				}
				return http.TimeoutHandler(m.Handler(stream), 100*time.Millisecond, "stream timed out")
			})
			resp, err := ss.srv.Client().Get(ss.srv.URL + "/")
			close(answered)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || string(body) != "stream timed out" {
				t.Errorf("%s %q, want the timeout's 503", resp.Status, body)
			}
			sessionCookie(t, resp, tt.cookie)
			if got := waitDone(t, ss); got != tt.done {
				t.Errorf("handler: %s\nwant:     %s", got, tt.done)
			}
			if log := ss.log.reset(); !strings.Contains(log, tt.warn) {
				t.Errorf("log without %q:\n%s", tt.warn, log)
			}
		})
	}
}

// eventSource serves an EventSource: a visitor without a session is logged
// in as alice on the stream's headers, gets "anonymous" and a retry of
// 50 ms, and the stream ends; the reconnection, with the cookie, gets
// "alice".
func (ss *streamServer) eventSource(w http.ResponseWriter, r *http.Request) {
	s := cookiesession.FromContext(r.Context())
	w.Header().Set("Content-Type", "text/event-stream")
	if user := s.GetString("user"); user != "" {
		fmt.Fprintf(w, "data: %s\n\n", user)
	} else {
		_ = s.Set("user", "alice")
		fmt.Fprint(w, "retry: 50\ndata: anonymous\n\n")
	}
	_ = http.NewResponseController(w).Flush()
}

// TestStreamsInChromium checks, with Chromium's cookie store as the truth,
// that a login on a WebSocket's 101 reaches the browser through coder's
// Accept and README's gorilla recipe, not through gorilla's Upgrade given
// no header (which the Manager logs), and that EventSource's reconnection
// carries the cookie set on the stream's headers.
func TestStreamsInChromium(t *testing.T) {
	ss := newStreamServer(t, (*cookiesession.Manager).Handler)
	spki := sha256.Sum256(ss.srv.Certificate().RawSubjectPublicKeyInfo)
	tab := newBrowser(t, testContext(t),
		chromedp.Flag("host-resolver-rules", "MAP "+liveHost+" 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])))
	_, port, _ := net.SplitHostPort(ss.srv.Listener.Addr().String())
	origin := net.JoinHostPort(liveHost, port)
	if _, err := chromedp.Run(tab, chromedp.Navigate("https://"+origin+"/")); err != nil {
		t.Fatal(err)
	}
	browser := chromiumClient{tab}
	for _, tt := range []struct {
		lib  string
		kept bool
	}{{"coder", true}, {"recipe", true}, {"gorilla", false}} {
		browser.reset(t)
		ss.log.reset()
		js := fmt.Sprintf(`new Promise((resolve, reject) => {
			const ws = new WebSocket(%q);
			ws.onmessage = e => { resolve(e.data); ws.close(); };
			ws.onerror = () => reject(new Error("WebSocket failed"));
		})`, "wss://"+origin+"/ws/"+tt.lib+"/before")
		msg, err := chromedp.Run(tab, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil || msg != "user=alice" {
			t.Fatalf("%s: the socket says %q, %v", tt.lib, msg, err)
		}
		held := sessionCookies(t, tab)[cookieName] != nil
		whoami := pageFetch(t, tab, "GET", "/whoami", "").Body
		if held != tt.kept || (whoami == "alice") != tt.kept {
			t.Errorf("%s: the browser holds the session cookie: %v, /whoami %q; want %v", tt.lib, held, whoami, tt.kept)
		}
		if warned := strings.Contains(ss.log.reset(), "level=WARN"); warned == tt.kept {
			t.Errorf("%s: warned %v, want %v", tt.lib, warned, !tt.kept)
		}
	}
	browser.reset(t)
	js := `new Promise((resolve, reject) => {
		const es = new EventSource("/eventsource"), seen = [];
		es.onmessage = e => { seen.push(e.data); if (seen.length == 2) { es.close(); resolve(seen.join(" ")); } };
		setTimeout(() => { es.close(); reject(new Error("events: " + seen.join(" "))); }, 10000);
	})`
	got, err := chromedp.Run(tab, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil || got != "anonymous alice" {
		t.Errorf("EventSource got %q, %v; want the reconnection to carry the stream's cookie: \"anonymous alice\"", got, err)
	}
}
