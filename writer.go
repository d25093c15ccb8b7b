package cookiesession

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path"
	"reflect"
	"slices"
	"strings"
)

// responseWriter commits the session exactly once, before the first byte of
// the final response. It does not buffer the body.
type responseWriter struct {
	http.ResponseWriter
	st          *requestState // the session
	committed   bool
	wroteHeader bool  // a final status went out
	hijacked    bool  // see lateForeign
	err         error // commit failed; ErrorHandler has answered
}

var (
	_ http.Flusher  = (*responseWriter)(nil)
	_ http.Hijacker = (*responseWriter)(nil)
	_ http.Pusher   = (*responseWriter)(nil)
	_ io.ReaderFrom = (*responseWriter)(nil)
)

// commit writes the session's cookies once. On failure it lets the
// ErrorHandler answer in place of the handler and returns the error.
func (w *responseWriter) commit() error {
	if w.committed {
		return w.err
	}
	w.committed = true
	s := &w.st.session
	err := s.mgr.commit(w.Header(), s, s.req, true)
	if err != nil {
		// Set under s's lock: logLate reads it there, on whatever
		// goroutine changes the session, to tell a change the
		// ErrorHandler makes after a failed save of any kind.
		s.mu.Lock()
		w.err = err
		s.mu.Unlock()
		s.mgr.onError(w.ResponseWriter, s.req, err)
	}
	return err
}

// WriteHeader commits on the first final status. Informational 1xx
// responses such as 103 Early Hints pass through without the cookie, but
// not to a request that says HTTP/1.0: its client must not get one (RFC
// 9110, section 15.2), which net/http does not check, and takes it for the
// final answer, as nginx does when it proxies with HTTP/1.0, its default;
// over HTTP/2 its client then gets a 103 and no page, nor the cookie. A
// request built by hand with no version (ProtoMajor 0) is not HTTP/1.0.
func (w *responseWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		if w.wroteHeader {
			w.superfluous() // net/http would name informational's call
		} else if w.err == nil && (w.st.req.ProtoMajor != 1 || w.st.req.ProtoMinor != 0) {
			w.informational(code)
		}
		return
	}
	if w.wroteHeader {
		w.superfluous()
		return
	}
	if w.commit() == nil {
		w.wroteHeader = true
		w.ResponseWriter.WriteHeader(code)
		w.headerSent()
	}
}

// informational sends a 1xx response, which net/http writes from the
// header map as it stands, without the Set-Cookie lines for the session's
// names that a Save or the handler put there, under any case of the key
// (h["set-cookie"] goes out as is, over HTTP/2 too): a client may take a
// cookie from a 1xx (RFC 6265), and the line may yet be replaced, or left
// out of the final response (a session that no longer fits, a panic).
// They go back once it is sent.
func (w *responseWriter) informational(code int) {
	h := w.Header()
	var held http.Header // the lines as they were, under each key
	for key, lines := range h {
		if len(key) == len("Set-Cookie") && strings.EqualFold(key, "Set-Cookie") {
			if held == nil {
				held = http.Header{}
			}
			held[key] = lines
		}
	}
	for key := range held {
		removeOursFrom(h, key, w.st.session.mgr.lineNames) // copies: held stays whole
	}
	w.ResponseWriter.WriteHeader(code)
	maps.Copy(h, held)
}

// superfluous logs a second final WriteHeader, as net/http does, but
// naming the handler's call: net/http would name this wrapper's, which
// sends the reader looking for the mistake in the wrong package.
func (w *responseWriter) superfluous() {
	c := callerOutside()
	msg := fmt.Sprintf("http: superfluous response.WriteHeader call from %s (%s:%d)", c.function, path.Base(c.file), c.line)
	if c.function == "" { // a goroutine started on the writer's method itself
		msg = "http: superfluous response.WriteHeader call, from no function the stack shows outside net/http and cookiesession"
	}
	if srv, ok := w.st.Value(http.ServerContextKey).(*http.Server); ok && srv.ErrorLog != nil {
		srv.ErrorLog.Print(msg)
		return
	}
	log.Print(msg)
}

// Write commits, then writes. After a failed commit the handler's body is
// dropped, since the ErrorHandler has answered.
func (w *responseWriter) Write(p []byte) (int, error) {
	if err := w.commit(); err != nil {
		return 0, err
	}
	first := !w.wroteHeader
	w.wroteHeader = true
	n, err := w.ResponseWriter.Write(p)
	if first {
		w.headerSent()
	}
	if err != nil {
		w.writeFailed(err)
	}
	return n, err
}

// ReadFrom commits, then lets the underlying writer copy (sendfile).
func (w *responseWriter) ReadFrom(src io.Reader) (n int64, err error) {
	if err := w.commit(); err != nil {
		return 0, err
	}
	first := !w.wroteHeader
	w.wroteHeader = true
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(w.ResponseWriter, src)
	}
	if first {
		w.headerSent()
	}
	if err != nil {
		w.writeFailed(err)
	}
	return n, err
}

// writeFailed logs, once per Manager, a cookie committed into the header
// map of an http.TimeoutHandler outside the middleware after its 503 went
// out: a Write of the handler's, or of askTimeout's, returning
// http.ErrHandlerTimeout is the one sign of it, and the session's change
// would be lost without a word.
func (w *responseWriter) writeFailed(err error) {
	s, m := &w.st.session, w.st.session.mgr
	if !errors.Is(err, http.ErrHandlerTimeout) || m.timeoutLogged.Load() {
		return
	}
	if !s.wroteCookie() || m.timeoutLogged.Swap(true) {
		return
	}
	m.logger.WarnContext(s.req.Context(), "cookiesession: an http.TimeoutHandler outside the middleware answered 503 without the session's cookie: the session change was not saved (logged once)",
		slog.String("path", urlPath(s.req)),
		slog.String("fix", "put http.TimeoutHandler inside the middleware: sessions.Handler(http.TimeoutHandler(h, d, msg)); in echo, use middleware.ContextTimeout in place of the deprecated middleware.Timeout"))
}

// timeoutWriterType names the writer http.TimeoutHandler gives its
// handler, which net/http does not export.
const timeoutWriterType = "*http.timeoutWriter"

// askTimeout logs, as writeFailed does, a cookie lost to an
// http.TimeoutHandler outside the middleware when the handler returns
// having written no body after the timeout's 503 (a POST's redirect, an
// empty answer), so that no Write of its failed. Only once the request's
// deadline has passed is the TimeoutHandler's writer sought, through
// Unwrap, and asked: its Write of no bytes returns http.ErrHandlerTimeout
// after the 503, and otherwise does what the TimeoutHandler does for a
// handler that returned. Another writer is not written to.
func (w *responseWriter) askTimeout() {
	s := &w.st.session
	if s.mgr.timeoutLogged.Load() || !errors.Is(w.st.Context.Err(), context.DeadlineExceeded) || !s.wroteCookie() {
		return
	}
	rw := w.ResponseWriter
	for range 16 { // a writer whose Unwrap returns itself ends the search
		if rw == nil {
			return
		}
		if reflect.TypeOf(rw).String() == timeoutWriterType {
			if _, err := rw.Write(nil); err != nil {
				w.writeFailed(err)
			}
			return
		}
		u, ok := rw.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		rw = u.Unwrap()
	}
}

// Flush commits, then flushes. http.ResponseController finds this method.
// The wrapper is an http.Flusher whatever it wraps, so a handler's
// w.(http.Flusher) check always passes: a Flush that the writer underneath
// cannot do is logged, once per Manager, rather than lost without a word.
func (w *responseWriter) Flush() {
	err := w.FlushError()
	m := w.st.session.mgr
	if errors.Is(err, http.ErrNotSupported) && !m.noFlushLogged.Swap(true) {
		r := w.st.session.req
		m.logger.WarnContext(r.Context(), "cookiesession: Flush did nothing: the ResponseWriter under the middleware cannot flush",
			slog.String("writer", fmt.Sprintf("%T", w.ResponseWriter)), slog.String("path", urlPath(r)))
	}
}

// FlushError commits, then flushes through http.ResponseController.
func (w *responseWriter) FlushError() error {
	if err := w.commit(); err != nil {
		return err
	}
	first := !w.wroteHeader
	err := http.NewResponseController(w.ResponseWriter).Flush()
	w.wroteHeader = w.wroteHeader || err == nil // a flush sends the headers
	if first && err == nil {
		w.headerSent()
	}
	return err
}

// Hijack commits (the cookie is in the header map the handler may still
// send by hand), then hijacks the connection.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	first, saved := !w.committed, w.st.session.savedLines()
	if err := w.commit(); err != nil {
		return nil, nil, err
	}
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	w.st.session.mu.Lock() // warnReadLate reads hijacked from any goroutine
	w.hijacked = err == nil
	w.st.session.mu.Unlock()
	if w.hijacked && first {
		w.unsentAtHijack(saved)
	}
	return conn, brw, err
}

// unsentAtHijack logs, once per Manager, Set-Cookie lines that the commit
// at a Hijack wrote, not a Save before it: net/http sends nothing of the
// header map after a Hijack, and a library that writes its own handshake
// from a header it is given, as gorilla/websocket's Upgrade does, drops
// them, a login or a rolling refresh, without a word (golang.org/x/net's
// websocket writes its 101 from Config.Header alone). Lines a Save wrote
// the handler could pass on; httputil.ReverseProxy writes the map, so its
// Hijack is not logged, through a writer wrapper's Hijack too.
func (w *responseWriter) unsentAtHijack(saved []string) {
	s, m := &w.st.session, w.st.session.mgr
	lines := s.savedLines()
	if lines == nil || slices.Equal(lines, saved) || m.hijackLogged.Load() {
		return
	}
	caller := callerOutside()
	if strings.HasPrefix(caller.function, "net/http/httputil.") || m.hijackLogged.Swap(true) {
		return
	}
	m.logger.WarnContext(s.req.Context(), "cookiesession: the session's cookie was put in the header map at a Hijack, which net/http does not send; it is lost unless the code that hijacked writes it (logged once)",
		slog.String("path", urlPath(s.req)), slog.String("hijacker", caller.function),
		slog.String("fix", `save before the upgrade and pass the lines to the library: sessions.Save(w, r, s), then upgrader.Upgrade(w, r, http.Header{"Set-Cookie": w.Header()["Set-Cookie"]}) with gorilla/websocket; with golang.org/x/net/websocket, set them as the Config's Header in Server.Handshake`))
}

// lateForeign logs, as warnForeign does, a Set-Cookie line for one of the
// session's cookies that reached the header map after a Hijack committed:
// httputil.ReverseProxy hijacks for a protocol switch, then copies the
// upstream's 101 header into the map and writes it on the connection,
// after the Manager's lines, so the client keeps the upstream's cookie.
// It runs when the handler has returned.
func (w *responseWriter) lateForeign() {
	s, m := &w.st.session, w.st.session.mgr
	if !w.hijacked || m.foreignLogged.Load() {
		return
	}
	h := w.Header()
	s.mu.Lock()
	defer s.unlock()
	if s.savedBeside {
		return // a session of Load's wrote lines of our names too
	}
	for _, line := range h["Set-Cookie"] {
		if isOurs(line, m.names) && !slices.Contains(s.lines, line) {
			m.warnForeign(s, http.Header{"Set-Cookie": {line}}, s.req)
			return
		}
	}
}

// headerSent runs the checks of the header as the first WriteHeader,
// Write or Flush passed it on, through every writer under this one, under
// one lock of the session.
func (w *responseWriter) headerSent() {
	if w.err != nil || w.hijacked {
		return
	}
	s := &w.st.session
	s.mu.Lock()
	defer s.unlock()
	w.sharedStoreSent()
	w.cacheFieldsSent()
}

// sharedStoreSent asks warnSharedStore of the header as it went out, for
// a session whose commit wrote no cookie (see Session.sharedAsked): a
// Manager stacked outside this one commits as the header passes its
// writer, and a cookie of its own makes the response no-store. A handler
// that writes nothing is asked when it returns (see Manager.serve), before
// the Managers outside commit. The session's lock is held.
func (w *responseWriter) sharedStoreSent() {
	s := &w.st.session
	if s.sharedAsked {
		s.sharedAsked = false
		s.mgr.warnSharedStore(w.Header(), s, s.req)
	}
}

// cacheFieldsSent logs, once per Manager, a response whose Cache-Control
// or Vary a writer under this one changed as the header went out, after
// the commit wrote the session's: a hook that runs as the status is
// written (echo v5's Response.Before, registered by a middleware before
// echo's session middleware), or a wrapper that drops Vary (gin-contrib's
// gzip before gin's, on a 4xx). Without no-store or private beside
// Set-Cookie, or without Cookie in Vary, a shared cache may keep the
// response and hand its cookie, or the user's page, to other clients. It
// runs once the first WriteHeader, Write or Flush has passed the header
// on: what the handler changes after that, net/http does not send. The
// session's lock is held.
func (w *responseWriter) cacheFieldsSent() {
	s, m := &w.st.session, w.st.session.mgr
	if m.cacheFieldsLogged.Load() {
		return
	}
	h := w.Header()
	if !s.outLent {
		return
	}
	lost := ""
	switch {
	case len(s.lines) > 0 && !hasToken(h["Cache-Control"], "no-store", "private"):
		lost = "Cache-Control: no-store"
	case !hasToken(h["Vary"], "Cookie", "*"):
		lost = "Vary: Cookie"
	default:
		return
	}
	if m.cacheFieldsLogged.Swap(true) {
		return
	}
	r := s.req
	s.log(r.Context(), slog.LevelWarn, "cookiesession: the response's Cache-Control or Vary was replaced after the session was committed, by a writer under the middleware (a hook that runs as the status is written, a wrapper that drops Vary): a shared cache may keep this response and hand its cookie or its page to other clients (logged once)",
		slog.String("lost", lost), slog.String("cache_control", strings.Join(h["Cache-Control"], ", ")),
		slog.String("vary", strings.Join(h["Vary"], ", ")), slog.String("path", urlPath(r)),
		slog.String("fix", "set Cache-Control and Vary before the response is written, adding to Vary rather than replacing it; in echo, register a Response.Before hook that sets them in a middleware after the session's (in v5 on echo.UnwrapResponse(c.Response()))"))
}

// Push passes an HTTP/2 server push on; http.ResponseController has no
// Push, so without this method the wrapper would hide it.
func (w *responseWriter) Push(target string, opts *http.PushOptions) error {
	if p, ok := w.ResponseWriter.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
