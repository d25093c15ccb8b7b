package fibersession

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v3"
	"github.com/seed-ff2808ae/cookiesession"
	"github.com/valyala/fasthttp"
)

// The cookie transport between fasthttp and the core: the request's Cookie
// lines go to Manager.Load in a minimal http.Request, and the headers
// Manager.SaveHeader writes go onto the fasthttp response. The final save
// gives Manager.CommitHeader what its warnings read: the request's signs of
// HTTPS, the handler's Set-Cookie lines for the session's names, and for a
// fetch from another origin the response's CORS answer, and for a GET the
// headers that mark it as sent ahead of a click (purposeHeaders). Nothing
// else of the request or response is converted.

// httpsHeaders are the request headers that can say a request came over
// HTTPS (the core's plain-HTTP check reads them), or for which host the browser
// sent it (the core's Domain check reads X-Forwarded-Host, Forwarded,
// and Origin and Referer as Sec-Fetch-Site qualifies them), or that a
// proxy stripped a prefix from the path (the core's Path check reads
// X-Forwarded-Prefix), or that browsers store no cookie from the answer
// (the core reads Sec-Fetch-Mode and -Dest for a cross-site request,
// Sec-Fetch-Mode and Origin for a fetch from another origin, and
// User-Agent for a Secure cookie to loopback, which Safari drops and Go
// 1.25's cookiejar keeps back, so only for a Host that may be loopback),
// passed on at the final save.
var httpsHeaders = [...]string{"X-Forwarded-Proto", "X-Forwarded-Scheme", "Forwarded", "Origin", "Referer", "X-Forwarded-Host", "Sec-Fetch-Site", "X-Forwarded-Prefix", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "User-Agent"}

// purposeHeaders are the request headers by which a browser or a
// framework marks a request sent ahead of a click (a prefetch, a
// prerender), as the core knows them: passed on at the final save of a
// GET, for the core to log a session that such a request changed. Most
// requests carry none, so they are found in one pass over the request's
// headers, not looked up one by one.
var purposeHeaders = [...]string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz", "X-Sec-Purpose", "Next-Router-Prefetch", "Hx-Preloaded"}

// scratch is one used session's per-request state, pooled: the session,
// the request the core reads and the header map it writes.
type scratch struct {
	session *cookiesession.Session
	req     *http.Request // Header, URL and ctx point into this scratch
	ctx     requestContext
	url     url.URL
	header  http.Header // the response headers a save writes
	cookie  []byte      // the request's cookies as one Cookie line
	// values back req.Header's one-element values: the Cookie line, then
	// httpsHeaders. last holds the Host, then httpsHeaders, as the final
	// save last passed them on: a site's requests repeat them, and reusing
	// the string saves an allocation.
	values [1 + len(httpsHeaders)]string
	last   [1 + len(httpsHeaders)]string
	// cors backs the header map's one-element values of corsHeaders at
	// the final save of a fetch from another origin, and lastCORS holds
	// them as last passed on.
	cors, lastCORS [len(corsHeaders)]string
}

// corsHeaders are the response headers the core's check of a fetch from
// another origin reads at the final save (whether its CORS answer allows
// credentials): passed on for such a fetch alone, and never written back.
var corsHeaders = [...]string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials"}

// requestContext is the context Load sees: the fiber request's, swapped in
// per request. An http.Request's context can only be set by WithContext,
// which copies the request; the pooled request points here instead.
type requestContext struct{ context.Context }

// maxKeptCookieBuf bounds the Cookie buffer a pooled scratch keeps.
const maxKeptCookieBuf = 64 << 10

var scratchPool = sync.Pool{New: func() any {
	st := &scratch{header: make(http.Header, 3)}
	st.ctx.Context = context.Background()
	req := &http.Request{Header: make(http.Header, 1+len(httpsHeaders)), URL: &st.url}
	st.req = req.WithContext(&st.ctx)
	return st
}}

// load opens m's session from the request's cookies. The request Load
// gets (and Options.Validate sees) carries the method, the path, one
// Cookie line and the request's context; it is valid during the call.
//
// The Cookie line is rebuilt from the cookies fasthttp parsed (as fiber's
// c.Cookies does): once anything has asked for a cookie, fasthttp keeps no
// raw line, and rebuilding it each time costs no allocation either way.
func (st *scratch) load(c fiber.Ctx, m *cookiesession.Manager) {
	st.cookie = st.cookie[:0]
	for name, value := range c.Request().Header.Cookies() {
		if len(st.cookie) > 0 {
			st.cookie = append(st.cookie, "; "...)
		}
		if len(name) > 0 {
			st.cookie = append(append(st.cookie, name...), '=')
		}
		st.cookie = append(st.cookie, value...)
	}
	if len(st.cookie) > 0 {
		st.values[0] = string(st.cookie)
		st.req.Header["Cookie"] = st.values[:1:1]
	}
	st.fillRequest(c)
	// A refused cookie yields a fresh session; the core has logged why,
	// and clears the cookie when the session is saved.
	st.session, _ = m.Load(st.req)
	st.clearRequest()
}

// fillRequest gives st.req the method, path, route (as Pattern, which the
// core's log lines name) and context of c's request.
func (st *scratch) fillRequest(c fiber.Ctx) {
	st.req.Method = c.Method()
	st.req.Pattern = c.Route().Path
	st.url.Path = c.Path()
	st.ctx.Context = c.Context()
}

// fillHTTPSSigns gives st.req what the core's plain-HTTP and Domain checks
// read: the host (the request URI's, as net/http's Request.Host: the Host
// header's unless the request line holds an absolute URI), the scheme
// https over a TLS connection or from an absolute https:// request line
// (as net/http's URL.Scheme; app.Test sends one for an https:// target),
// and httpsHeaders. A Referer is cut to its
// scheme and host, all the checks read of it, so that it repeats from page
// to page.
func (st *scratch) fillHTTPSSigns(c fiber.Ctx, fold bool) {
	st.req.Host = reuse(&st.last[0], c.Request().URI().Host())
	in := &c.Request().Header
	if c.RequestCtx().IsTLS() || string(c.Request().URI().Scheme()) == "https" {
		st.url.Scheme = "https"
	}
	for i, key := range httpsHeaders {
		if key == "User-Agent" && !mayBeLoopback(st.req.Host) {
			continue // a copy per request, where users' browsers differ
		}
		var values [][]byte
		if fold {
			values = foldAll(in.All(), key)
		} else {
			values = in.PeekAll(key)
		}
		switch {
		case len(values) == 1 && key == "Referer":
			st.values[1+i] = reuse(&st.last[1+i], origin(values[0]))
		case len(values) == 1:
			st.values[1+i] = reuse(&st.last[1+i], values[0])
		case len(values) > 1: // a proxy chain's lines: rare, and copied
			copied := make([]string, len(values))
			for j, v := range values {
				copied[j] = string(v)
			}
			st.req.Header[key] = copied
			continue
		default:
			continue
		}
		st.req.Header[key] = st.values[1+i : 2+i : 2+i]
	}
}

// fillPurpose gives st.req the purposeHeaders of a GET or HEAD request,
// in any case of their names: copied only when present.
func (st *scratch) fillPurpose(c fiber.Ctx) {
	if method := c.Method(); method != fiber.MethodGet && method != fiber.MethodHead {
		return
	}
	for name, value := range c.Request().Header.All() {
		if len(name) < len("X-Moz") || len(name) > len("Next-Router-Prefetch") {
			continue
		}
		for _, key := range purposeHeaders {
			if len(name) == len(key) && bytes.EqualFold(name, []byte(key)) {
				st.req.Header[key] = append(st.req.Header[key], string(value))
			}
		}
	}
}

// fillCORS puts the response's corsHeaders into st.header for a fetch
// from another origin (Sec-Fetch-Mode cors, and Sec-Fetch-Site not
// same-origin), which fillHTTPSSigns gave st.req: fiber's CORS middleware
// sets them on the fasthttp response, where the core would not see them,
// and take a fetch whose answer allows credentials for one it does not.
func (st *scratch) fillCORS(c fiber.Ctx, fold bool) {
	mode, site := st.req.Header["Sec-Fetch-Mode"], st.req.Header["Sec-Fetch-Site"]
	if len(mode) != 1 || mode[0] != "cors" || len(site) != 1 || site[0] == "same-origin" {
		return
	}
	resp := &c.Response().Header
	for i, key := range corsHeaders {
		values := responseLines(resp, key, fold)
		switch len(values) {
		case 0:
			continue
		case 1:
			st.cors[i] = reuse(&st.lastCORS[i], values[0])
			st.header[key] = st.cors[i : i+1 : i+1]
		default: // more than one: browsers refuse the answer
			copied := make([]string, len(values))
			for j, v := range values {
				copied[j] = string(v)
			}
			st.header[key] = copied
		}
	}
}

// mayBeLoopback reports whether host may be one the core counts as
// loopback, and so reads User-Agent for: an IP address, or a name with
// localhost in it. The core decides; a site's own names skip the copy.
func mayBeLoopback(host string) bool {
	if host != "" && (host[0] == '[' || host[0] >= '0' && host[0] <= '9') {
		return true
	}
	const name = "localhost"
	for i := 0; i+len(name) <= len(host); i++ {
		if strings.EqualFold(host[i:i+len(name)], name) {
			return true
		}
	}
	return false
}

// clearRequest empties st.req after a call into the core.
func (st *scratch) clearRequest() {
	st.ctx.Context = context.Background()
	st.url = url.URL{}
	st.req.Method, st.req.Host, st.req.Pattern = "", "", ""
	st.values = [len(st.values)]string{}
	clear(st.req.Header)
}

// reuse returns b as a string: *last if it holds the same bytes (the
// comparison does not allocate), or else a copy, kept in *last.
func reuse(last *string, b []byte) string {
	if string(b) != *last {
		*last = string(b)
	}
	return *last
}

// origin cuts a URL to its scheme and host.
func origin(u []byte) []byte {
	_, rest, ok := bytes.Cut(u, []byte("://"))
	if !ok {
		return u
	}
	if i := bytes.IndexAny(rest, "/?#"); i >= 0 {
		return u[:len(u)-len(rest)+i]
	}
	return u
}

// coreReads are the response headers the core's rules read and may
// rewrite: Vary, Cache-Control, and the cache fields CDNs obey in place
// of Cache-Control (fasthttp has no map to sweep for other vendors').
var coreReads = [...]string{fiber.HeaderVary, fiber.HeaderCacheControl, "CDN-Cache-Control", "Cloudflare-CDN-Cache-Control", "Surrogate-Control"}

// save writes the session's headers onto the fasthttp response. The
// response's headers in coreReads go in first, so that the core's rules
// see them, and come back as one line each. Set-Cookie lines are added raw, after removing any cookie of
// our names the handler set, so each reaches the wire once; on an error
// none of our names is left in the response. The middleware's final save
// commits the session: later changes are logged as lost.
func (st *scratch) save(c fiber.Ctx, m *cookiesession.Manager, names []string, final bool) error {
	h := st.header
	clear(h) // an earlier Save's lines
	resp := &c.Response().Header
	config := c.App().Config()
	fold := config.DisableHeaderNormalizing
	for _, key := range coreReads {
		for _, v := range responseLines(resp, key, fold) {
			if key == fiber.HeaderVary && string(v) == fiber.HeaderCookie {
				continue // Get's own, which the core adds again
			}
			h[key] = append(h[key], string(v))
		}
	}
	var err error
	if final {
		err = st.commit(c, m, names, fold)
	} else {
		err = m.SaveHeader(h, st.session)
	}
	if err == nil {
		err = fitsReadBuffer(h[fiber.HeaderSetCookie], names, config.ReadBufferSize)
	}
	if err != nil {
		for _, name := range names {
			resp.DelCookie(name)
		}
		return err
	}
	for key, values := range h {
		if key != fiber.HeaderSetCookie {
			// One line: fasthttp, and fiber's middleware through it (Peek,
			// c.GetRespHeader), reads the first line of a header alone. On
			// a second line, the cache middleware would not see Cookie in
			// Vary, and would serve one user's page to the next.
			delLines(resp, key, fold)
			resp.Add(key, strings.Join(values, ", "))
			continue
		}
		for _, name := range names {
			resp.DelCookie(name)
		}
		for _, v := range values {
			// A retired cookie's line (Options.Retired) is of a name not
			// in names: an early Save's copy of it must not go out twice.
			name, _, _ := strings.Cut(v, "=")
			resp.DelCookie(name)
		}
		for _, v := range values {
			resp.Add(key, v)
		}
	}
	return nil
}

// commit is the final save, with what the core's warnings read: the
// request's signs of HTTPS, and the response's Set-Cookie lines for our
// names, which fasthttp keeps apart from the other headers. Where the core
// writes cookies, it drops those lines from h, and save replaces every
// cookie of our names in the response with h's: none goes out twice. If
// it leaves them as they were (it wrote none of its own, or the same
// lines again after an early Save), they are taken out of h and stay in
// the response as set: copied back, they would be held to the read
// buffer, and move.
func (st *scratch) commit(c fiber.Ctx, m *cookiesession.Manager, names []string, fold bool) error {
	var theirs []string
	for name, line := range c.Response().Header.Cookies() {
		if slices.Contains(names, string(name)) {
			theirs = append(theirs, string(line))
		}
	}
	if theirs != nil {
		st.header[fiber.HeaderSetCookie] = theirs
	}
	st.fillRequest(c)
	st.fillHTTPSSigns(c, fold)
	st.fillPurpose(c)
	st.fillCORS(c, fold)
	err := m.CommitHeader(st.header, st.session, st.req)
	st.clearRequest()
	for _, key := range corsHeaders {
		delete(st.header, key)
	}
	if theirs != nil && slices.Equal(st.header[fiber.HeaderSetCookie], theirs) {
		delete(st.header, fiber.HeaderSetCookie)
	}
	return err
}

// Under fiber.Config.DisableHeaderNormalizing, fasthttp finds a header by
// the exact case of its name, and keeps each name as the client or the
// handler wrote it: a proxy that speaks HTTP/2 to the browser passes its
// names on in lower case (x-forwarded-proto, sec-fetch-site), and a
// handler may set cache-control. Looked up by their canonical names alone,
// such lines went unseen: the core took an https request for plain HTTP,
// missed a cross-site fetch whose cookie browsers refuse, and the
// handler's cache-control: public went out beside the save's
// Cache-Control: no-store. With fold set, the headers the core reads
// and rewrites are found, and replaced, in any case of their names.

// foldAll returns the values of every line in all whose name is key in
// any case of its letters.
func foldAll(all iter.Seq2[[]byte, []byte], key string) [][]byte {
	var values [][]byte
	for name, value := range all {
		if len(name) == len(key) && strings.EqualFold(string(name), key) {
			values = append(values, value)
		}
	}
	return values
}

// responseLines returns the response's lines of key, in any case of its
// name if fold is set.
func responseLines(resp *fasthttp.ResponseHeader, key string, fold bool) [][]byte {
	if fold {
		return foldAll(resp.All(), key)
	}
	return resp.PeekAll(key)
}

// delLines deletes the response's lines of key, in any case of its name
// if fold is set.
func delLines(resp *fasthttp.ResponseHeader, key string, fold bool) {
	if !fold {
		resp.Del(key)
		return
	}
	var spellings []string
	for name := range resp.All() {
		if len(name) == len(key) && strings.EqualFold(string(name), key) && !slices.Contains(spellings, string(name)) {
			spellings = append(spellings, string(name))
		}
	}
	for _, name := range spellings {
		resp.Del(name)
	}
}

// headerRoom is what a request's line and its other headers are assumed
// to take of fasthttp's read buffer, beside the session's cookies.
const headerRoom = 1024

// fitsReadBuffer refuses Set-Cookie lines whose cookies, sent back as one
// Cookie header, would leave less than headerRoom of fasthttp's read
// buffer (readBuffer bytes): the client's next request would be refused
// with 431 before any handler could replace the cookie.
func fitsReadBuffer(lines, names []string, readBuffer int) error {
	size := 0
	for _, line := range lines {
		pair, _, _ := strings.Cut(line, ";")
		name, value, _ := strings.Cut(pair, "=")
		if value != "" && slices.Contains(names, name) {
			size += len(pair) + len("; ")
		}
	}
	if size > readBuffer-headerRoom {
		return fmt.Errorf("%w: its cookies take %d bytes of a request header, and fiber reads at most ReadBufferSize %d bytes of headers (the request line and other headers need about %d): raise fiber.Config.ReadBufferSize",
			cookiesession.ErrTooLarge, size, readBuffer, headerRoom)
	}
	return nil
}

// foreignUnused passes the core, on a request whose handlers never used
// the session, the response's Set-Cookie lines for the session's names
// that a handler set (c.ClearCookie as a logout, c.Cookie): they replace
// or end the client's session behind the Manager's back, and the core logs
// the first at Warn, once per Manager, as under the net/http middleware.
// The lines stay as set, and nothing else of the response changes. The
// session committed is a fresh one, from no cookie: no crypto, no count.
// The request is not passed, or the core would take a path outside
// Options.Path for a use of the session there.
func foreignUnused(c fiber.Ctx, m *cookiesession.Manager, names []string) {
	resp := &c.Response().Header
	var theirs []string
	for _, name := range names {
		if line := resp.PeekCookie(name); line != nil {
			theirs = append(theirs, string(line))
		}
	}
	if theirs == nil {
		return
	}
	st := scratchPool.Get().(*scratch)
	defer st.release()
	s, _ := m.Load(st.req) // st.req holds no cookie between uses
	st.header[fiber.HeaderSetCookie] = theirs
	_ = m.CommitHeader(st.header, s, nil)
}

// rewrittenCookie returns the first of names whose cookie in h differs
// from the one the client sent, in h's raw header lines, or "" if none
// does: a middleware rewrote or deleted it (fiber's encryptcookie). A
// request not read from a connection (a test's RequestCtx) has no raw
// lines, and none is reported.
//
// pairs holds "name=" for each of names. Re-parsing the raw lines costs
// about a microsecond and a half a name (twelve header lines of a browser's
// request), a tenth of a request's time: a cookie found in them as it
// stands in h ("name=value", unquoted, between a line's start or ';' and
// its end or ';'), and a name absent from both, need no parse.
func rewrittenCookie(h *fasthttp.RequestHeader, names []string, pairs [][]byte) string {
	raw := h.RawHeaders()
	if len(raw) == 0 {
		return ""
	}
	for i, name := range names {
		got, gotOK := firstCookie(h.Cookies(), name)
		pair := pairs[i]
		switch {
		case !gotOK && !bytes.Contains(raw, pair[:len(pair)-1]):
			continue // neither sent nor there
		case gotOK && rawPair(raw, pair, got):
			continue
		}
		sent, sentOK := sentCookie(h, name)
		if gotOK != sentOK || !bytes.Equal(got, sent) {
			return name
		}
	}
	return ""
}

// cookiePairs returns "name=" for each of names, for rewrittenCookie.
func cookiePairs(names []string) [][]byte {
	pairs := make([][]byte, len(names))
	for i, name := range names {
		pairs[i] = []byte(name + "=")
	}
	return pairs
}

// rawPair reports whether raw holds pair (a "name=") followed by value, as
// a whole cookie of a Cookie line: after the line's ": ", a ';' or a space,
// and before a ';', a space or the line's end.
func rawPair(raw, pair, value []byte) bool {
	for at := 0; ; {
		i := bytes.Index(raw[at:], pair)
		if i < 0 {
			return false
		}
		i += at
		rest := raw[i+len(pair):]
		before := i > 0 && (raw[i-1] == ' ' || raw[i-1] == ';' || raw[i-1] == ':')
		if before && bytes.HasPrefix(rest, value) && (len(rest) == len(value) || bytes.IndexByte([]byte("; \r\n"), rest[len(value)]) >= 0) {
			return true
		}
		at = i + 1
	}
}

// firstCookie returns the value of the first cookie named name.
func firstCookie(cookies iter.Seq2[[]byte, []byte], name string) ([]byte, bool) {
	for key, value := range cookies {
		if string(key) == name {
			return value, true
		}
	}
	return nil, false
}

// sentCookie returns the value of the first cookie named name in h's raw
// Cookie lines, cut out as fasthttp parses them: pairs split at ';', the
// name and value trimmed of spaces, and the value of one pair of quotes.
func sentCookie(h *fasthttp.RequestHeader, name string) ([]byte, bool) {
	for key, line := range h.AllInOrder() {
		if !strings.EqualFold(string(key), fiber.HeaderCookie) {
			continue
		}
		for len(line) > 0 {
			var pair []byte
			pair, line, _ = bytes.Cut(line, []byte(";"))
			key, value, ok := bytes.Cut(pair, []byte("="))
			if !ok || string(bytes.Trim(key, " ")) != name {
				continue
			}
			value = bytes.Trim(value, " ")
			if len(value) > 1 && value[0] == '"' && value[len(value)-1] == '"' {
				value = value[1 : len(value)-1]
			}
			return value, true
		}
	}
	return nil, false
}

// release returns the scratch to the pool. last stays: it is the next
// request's guess at its Host and headers.
func (st *scratch) release() {
	st.session = nil
	clear(st.header)
	if cap(st.cookie) > maxKeptCookieBuf {
		st.cookie = nil
	}
	scratchPool.Put(st)
}
