package cookiesession

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"
)

// The header limits of nginx in its default configuration, the lowest of
// the common proxies in front of a Go server (README, "Header limits in
// front", measured with Debian's nginx 1.22).
const (
	// proxyResponseHeader is nginx's default proxy_buffer_size, one memory
	// page: an upstream response whose header is larger is answered 502.
	proxyResponseHeader = 4096
	// proxyCookieLine is the longest Cookie line, "Cookie: " and all but
	// the CRLF, that nginx's default large_client_header_buffers (8k)
	// accepts: a longer one is answered 400.
	proxyCookieLine = 8190
	// minCheckedCookies is the size of a session's Set-Cookie lines below
	// which warnHeaderSize does not look further.
	minCheckedCookies = 1024
)

// warnHeaderSize logs, once per Manager for each limit, a response whose
// session cookies pass one of those limits: its header, with the
// Set-Cookie lines in h, takes more than nginx's response buffer, or the
// Cookie line the browser will send back (the session's cookies beside
// the others r carried) is longer than nginx accepts. The user then gets
// a 502 or a 400 from the proxy, or loses the session, and this server
// hears nothing. A session that grows passes the response limit first:
// were it logged once for both, the Cookie line's, the one an API Gateway
// HTTP API has too, would never be. Each size is the least the line can
// take (net/http may add Content-Type and Content-Length), so a response
// nginx forwards is never logged; a request whose own Cookie line was
// already longer shows that nothing in front has the request limit.
// Session cookies under 1 KB in all are not checked: they keep the common
// session's commit to a sum of lengths, and the limits are passed by the
// rest of the header or of the jar then.
func (m *Manager) warnHeaderSize(s *Session, h http.Header, r *http.Request) {
	if m.headerSizeLogged.Load() && m.cookieLineLogged.Load() {
		return
	}
	ours := 0
	for _, line := range s.lines {
		ours += len(line)
	}
	if ours < minCheckedCookies {
		return
	}
	// Each limit is measured, and its flag written, only until it is
	// logged: a Swap on every large response would contend across cores.
	if !m.headerSizeLogged.Load() {
		if header := responseHeaderSize(h); header > proxyResponseHeader && !m.headerSizeLogged.Swap(true) {
			m.logHeaderLimit(s, r, fmt.Sprintf("the response header takes at least %d bytes with its Set-Cookie lines, more than the 4 KB of nginx's default proxy_buffer_size: nginx answers 502 Bad Gateway", header))
		}
	}
	if m.cookieLineLogged.Load() {
		return
	}
	if next, sent := m.cookieLines(r, s.lines); next > proxyCookieLine && sent <= proxyCookieLine && !m.cookieLineLogged.Swap(true) {
		m.logHeaderLimit(s, r, fmt.Sprintf("the browser's next Cookie line takes about %d bytes, more than the 8 KB of nginx's default large_client_header_buffers: nginx answers 400 Request Header Or Cookie Too Large", next))
	}
}

// logHeaderLimit logs warnHeaderSize's warning for one limit.
func (m *Manager) logHeaderLimit(s *Session, r *http.Request, reason string) {
	ctx, path := s.origin()
	if r != nil {
		ctx, path = r.Context(), urlPath(r)
	}
	s.log(ctx, slog.LevelWarn, "cookiesession: the session's cookies pass a header limit of a proxy in its default configuration, and the user gets an error page or loses the session without this server hearing of it, unless nothing in front has that limit (logged once for each limit)",
		slog.String("reason", reason), slog.String("path", path),
		slog.String("fix", "keep less in the session (an id, the rest in your database), and MaxChunks no higher than it needs (a session over several cookies expires each chunk above its own); or raise the proxy's limits, in nginx proxy_buffer_size 16k, proxy_buffers 8 16k, proxy_busy_buffers_size 32k and large_client_header_buffers 4 16k for up to three chunks (README, \"Header limits in front\")"))
}

// responseHeaderSize returns the least number of bytes net/http writes
// for a response header holding h: a status line ("200 OK" is the
// shortest), h's lines, the Date line it adds unless h has one (or
// suppresses it), and the blank line.
func responseHeaderSize(h http.Header) int {
	size := len("HTTP/1.1 200 OK\r\n") + len("\r\n")
	if _, ok := h["Date"]; !ok {
		size += len("Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n")
	}
	for key, values := range h {
		for _, v := range values {
			size += len(key) + len(": ") + len(v) + len("\r\n")
		}
	}
	return size
}

// cookieLines returns the length of the Cookie line the browser sends
// after this response, the name=value pairs of lines (the session's
// Set-Cookie lines, less those that expire a chunk) beside the other
// cookies r carried, and the length of r's own Cookie line; both 0
// without r.
func (m *Manager) cookieLines(r *http.Request, lines []string) (next, sent int) {
	if r == nil {
		return 0, 0
	}
	cookies := 0 // the pairs, each with the "; " before it
	for _, line := range lines {
		if pair, _ := cutByte(line, ';'); !strings.HasSuffix(pair, "=") {
			cookies += len("; ") + len(pair)
		}
	}
	for i, line := range r.Header["Cookie"] {
		if i > 0 {
			sent += len("; ") // joined into one line, as HTTP/2 crumbs are
		}
		sent += len(line)
		for line != "" {
			var part string
			part, line = cutByte(line, ';')
			part = textproto.TrimString(part)
			if name, _ := cutByte(part, '='); part != "" && m.chunkIndex(textproto.TrimString(name)) < 0 {
				cookies += len("; ") + len(part)
			}
		}
	}
	if sent > 0 {
		sent += len("Cookie: ")
	}
	if cookies > 0 {
		next = len("Cookie: ") + cookies - len("; ")
	}
	return next, sent
}

// warnTooLong logs, once per Manager, a session cookie refused with err
// as longer than the chunks hold (MaxCookieSize or MaxChunks lowered since
// it was written, or larger on an instance still serving): it opens on no
// instance of this configuration, so it is cleared, and its user signed
// out.
func (m *Manager) warnTooLong(s *Session, r *http.Request, err error) {
	// joinChunks's error, as it returns it: a type assertion, where
	// errors.As would move te to the heap for every refused cookie.
	te, ok := err.(*TokenError)
	if !ok || te.long == 0 || m.tooLongLogged.Load() || m.tooLongLogged.Swap(true) {
		return
	}
	s.log(r.Context(), slog.LevelWarn, "cookiesession: a session cookie longer than MaxCookieSize and MaxChunks allow was refused and is cleared: a configuration with a larger MaxCookieSize or MaxChunks wrote it (lowered since, or still serving during a rolling deployment), and its user is signed out (logged once)",
		slog.String("cookie", m.opts.Name), slog.Int("bytes", te.long), slog.Int("limit", m.codec.maxLen), slog.String("path", urlPath(r)),
		slog.String("fix", "to keep such sessions, give MaxCookieSize (at most 4096) or MaxChunks back the earlier value; to lower them, keep less in the session first (an id, the rest in your database); a forged cookie needs nothing"))
}
