package fibersession

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v3"
	"github.com/seed-ff2808ae/cookiesession"
)

// The cookie transport between fasthttp and the core: the request's Cookie
// lines go to Manager.Load in a minimal http.Request, and the headers
// Manager.SaveHeader writes go onto the fasthttp response. Nothing else of
// the request or response is converted.

// scratch is one used session's per-request state, pooled: the session and
// the request and header map the core reads and writes.
type scratch struct {
	session *cookiesession.Session
	req     *http.Request // Header, URL and ctx point into this scratch
	ctx     requestContext
	url     url.URL
	header  http.Header
	cookie  []byte    // the request's cookies as one Cookie line
	line    [1]string // header["Cookie"]
}

// requestContext is the context Load sees: the fiber request's, swapped in
// per request. An http.Request's context can only be set by WithContext,
// which copies the request; the pooled request points here instead.
type requestContext struct{ context.Context }

// maxKeptCookieBuf bounds the Cookie buffer a pooled scratch keeps.
const maxKeptCookieBuf = 64 << 10

var scratchPool = sync.Pool{New: func() any {
	st := &scratch{header: make(http.Header, 3)}
	st.ctx.Context = context.Background()
	st.req = (&http.Request{Header: st.header, URL: &st.url}).WithContext(&st.ctx)
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
		st.line[0] = string(st.cookie)
		st.header["Cookie"] = st.line[:]
	}
	st.req.Method = c.Method()
	st.url.Path = c.Path()
	st.ctx.Context = c.Context()
	// A refused cookie yields a fresh session; the core has logged why,
	// and clears the cookie when the session is saved.
	st.session, _ = m.Load(st.req)
	st.ctx.Context = context.Background()
	st.url = url.URL{}
	st.req.Method = ""
	st.line[0] = ""
	clear(st.header)
}

// save writes the session's headers onto the fasthttp response. The
// response's Vary and Cache-Control go in first, so that the core's rules
// see them. Set-Cookie lines are added raw, after removing any cookie of
// our names the handler set, so each reaches the wire once; on an error
// none of our names is left in the response. The middleware's final save
// commits the session: later changes are logged as lost.
func (st *scratch) save(c fiber.Ctx, m *cookiesession.Manager, names []string, final bool) error {
	h := st.header
	clear(h) // an earlier Save's lines
	resp := &c.Response().Header
	for _, key := range [...]string{fiber.HeaderVary, fiber.HeaderCacheControl} {
		for _, v := range resp.PeekAll(key) {
			h[key] = append(h[key], string(v))
		}
	}
	var err error
	if final {
		err = m.CommitHeader(h, st.session)
	} else {
		err = m.SaveHeader(h, st.session)
	}
	if err == nil {
		err = fitsReadBuffer(h[fiber.HeaderSetCookie], names, c.App().Config().ReadBufferSize)
	}
	if err != nil {
		for _, name := range names {
			resp.DelCookie(name)
		}
		return err
	}
	for key, values := range h {
		if key == fiber.HeaderSetCookie {
			for _, name := range names {
				resp.DelCookie(name)
			}
		} else {
			resp.Del(key)
		}
		for _, v := range values {
			resp.Add(key, v)
		}
	}
	return nil
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

// release returns the scratch to the pool.
func (st *scratch) release() {
	st.session = nil
	clear(st.header)
	if cap(st.cookie) > maxKeptCookieBuf {
		st.cookie = nil
	}
	scratchPool.Put(st)
}
