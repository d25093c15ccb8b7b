package cookiesession

import (
	"context"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The warnings below are logged once per Manager, when a response sets a
// cookie that cannot reach the client or replaces one it holds, and
// nothing else would say so.

// warnPlainHTTP counts in Metrics.Dropped, and logs once per Manager, a
// Secure cookie set in answer to a request that came over plain HTTP:
// browsers drop such a cookie, so the session never sticks, and nothing
// else would say so. To loopback only WebKit drops it; another client
// there is left to warnGoJar. Loopback is the host the browser named
// (browserHost), which a proxy may have changed.
func (m *Manager) warnPlainHTTP(s *Session, r *http.Request) {
	if !m.attrs.Secure || !sentPlain(r) {
		return
	}
	// Chrome and Firefox count loopback as secure; WebKit does not (WebKit
	// bug 281149: WebKit merged a change in 2026 that, by its own
	// description, works only once Apple's cookie store accepts such a
	// cookie too).
	host := browserHost(r)
	loopback := loopbackHost(host)
	if loopback && !webKit(r.Header.Get("User-Agent")) {
		m.warnGoJar(s, r)
		return
	}
	m.stats.dropped[droppedPlainHTTP].Add(1)
	if m.plainHTTPLogged.Swap(true) {
		return
	}
	// A proxy that ends TLS on this machine forwards to loopback (nginx
	// then sends its proxy_pass host as Host), so both say how it can
	// tell us the page was https.
	msg := "cookiesession: a Secure cookie answers a plain-HTTP request, and browsers drop it: the session will not stick, unless TLS ends at a proxy in front that does not say so (logged once)"
	fix := "serve over HTTPS; if TLS ends at a proxy, have it send X-Forwarded-Proto: https; set Options.DisableSecure only for local development over plain HTTP, never in production"
	if loopback {
		msg = "cookiesession: a Secure cookie answers a plain-HTTP request to localhost from Safari (or another WebKit browser), which drops it unlike Chrome and Firefox (WebKit bug 281149): the session will not stick in this browser, unless TLS ends at a proxy in front that does not say so (logged once)"
		fix = "serve localhost over HTTPS; if TLS ends at a proxy that forwards to this loopback address, have it send X-Forwarded-Proto: https; set Options.DisableSecure only for local development, never in production"
	}
	s.log(r.Context(), slog.LevelWarn, msg,
		slog.String("host", logText(host)), slog.String("path", urlPath(r)), slog.String("fix", fix))
}

// sentPlain reports whether r came over plain HTTP with no sign of HTTPS
// before it: no TLS, no X-Forwarded-Proto, X-Forwarded-Scheme or Forwarded
// header saying https, no https URL (an adapter such as
// aws-lambda-go-api-proxy builds one, and gorilla's ProxyHeaders sets its
// scheme from those headers), and no browser header saying the page was
// https. X-Forwarded-Scheme is what some fronts send in place of
// X-Forwarded-Proto, and what ProxyHeaders also reads: without it the
// warning would depend on whether ProxyHeaders runs outside the middleware
// or not at all. A request without a Host did not come from a browser.
func sentPlain(r *http.Request) bool {
	if r.TLS != nil || saysHTTPS(r.Header["X-Forwarded-Proto"], "https") || saysHTTPS(r.Header["X-Forwarded-Scheme"], "https") ||
		saysHTTPS(r.Header["Forwarded"], "proto=https") ||
		r.URL != nil && strings.EqualFold(r.URL.Scheme, "https") || browserSawHTTPS(r.Header) {
		return false
	}
	return r.Host != ""
}

// loopbackHost reports whether host, with or without a port, is
// localhost, a name under .localhost, or a loopback address.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	if strings.EqualFold(host, "localhost") || len(host) > len(".localhost") && strings.EqualFold(host[len(host)-len(".localhost"):], ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// browserHost returns the host the browser sent the request to: the first
// a proxy names, else the page's (pageHost), else r.Host. A proxy on this
// machine without TLS forwards to 127.0.0.1 (nginx sends its proxy_pass
// host as Host) for a browser on a host that is not loopback, where every
// browser drops the cookie; a dev server on localhost forwards to a
// container (Docker Compose's api:8080) for a browser that keeps it.
func browserHost(r *http.Request) string {
	for host := range forwardedHosts(r.Header) {
		return host // the first is the browser's
	}
	if host := pageHost(r.Header); host != "" {
		return host
	}
	return r.Host
}

// webKit reports whether a User-Agent names a WebKit browser: Safari, or
// any browser on iOS. Chromium-based ones name AppleWebKit too, and Chrome.
func webKit(userAgent string) bool {
	return strings.Contains(userAgent, "AppleWebKit/") && !strings.Contains(userAgent, "Chrome/") && !strings.Contains(userAgent, "Chromium/")
}

// warnGoJar logs, once per Manager, a Secure cookie set in answer to Go's
// own client over plain HTTP to loopback, when this build's
// net/http/cookiejar never sends it back there: before Go 1.26 the jar
// sent Secure cookies to https URLs only, though browsers trust loopback.
// A test over httptest.NewServer then gets a new, empty session on every
// request, and nothing else says why.
func (m *Manager) warnGoJar(s *Session, r *http.Request) {
	ua := r.Header["User-Agent"]
	if len(ua) == 0 || !strings.HasPrefix(ua[0], "Go-http-client/") || !goJarDropsLoopback() || m.goJarLogged.Swap(true) {
		return
	}
	s.log(r.Context(), slog.LevelWarn, "cookiesession: a Secure cookie answers Go's HTTP client over plain HTTP to loopback, and net/http/cookiejar in this Go version never sends it back: a client with that jar gets a new session on every request (logged once)",
		slog.String("host", logText(r.Host)), slog.String("path", urlPath(r)),
		slog.String("fix", "in tests, serve with httptest.NewTLSServer and use its Client() with the jar, or set Options.DisableSecure in the test's Manager only; Go 1.26's cookiejar sends it"))
}

// goJarDropsLoopback reports whether net/http/cookiejar keeps a Secure
// cookie from http://127.0.0.1 out of the requests it sends there. It
// asks the jar once, on the first such response.
var goJarDropsLoopback = sync.OnceValue(func() bool {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return false
	}
	u := &url.URL{Scheme: "http", Host: "127.0.0.1"}
	jar.SetCookies(u, []*http.Cookie{{Name: "probe", Value: "1", Secure: true}})
	return len(jar.Cookies(u)) == 0
})

// browserSawHTTPS reports whether the browser says it sent the request
// from an https page: its Origin (sent with a POST or a fetch) or its
// Referer (dropped when a link leads from https to http) is https. Behind
// a proxy that ends TLS and sends no X-Forwarded-Proto (nginx and
// httputil.ReverseProxy by default), this is the only sign of HTTPS.
func browserSawHTTPS(h http.Header) bool {
	const scheme = "https://"
	for _, key := range [...]string{"Origin", "Referer"} {
		if v := h[key]; len(v) > 0 && len(v[0]) > len(scheme) && strings.EqualFold(v[0][:len(scheme)], scheme) {
			return true
		}
	}
	return false
}

// saysHTTPS reports whether a header's comma- or semicolon-separated
// elements hold want, in any case.
func saysHTTPS(values []string, want string) bool {
	for _, v := range values {
		for part := range strings.FieldsFuncSeq(v, func(c rune) bool { return c == ',' || c == ';' }) {
			if strings.EqualFold(strings.TrimSpace(part), want) {
				return true
			}
		}
	}
	return false
}

// warnLateSave logs, once per line of code that calls Save, a Save that
// wrote a cookie for a request whose context had ended: net/http ends it
// when the handler returns (a goroutine saving afterwards) or the client
// goes away, and nothing sends a header map after that. Save cannot tell
// this from w, and returns nil. A server whose BaseContext is canceled at
// shutdown ends its requests' contexts early too, and so does a client that
// goes away, which the message names.
func (m *Manager) warnLateSave(r *http.Request, s *Session) {
	err := r.Context().Err()
	if err == nil {
		return
	}
	if !s.wroteCookie() {
		return
	}
	caller, level, ok := m.lateSaves.level(slog.LevelWarn, m.opts.Now)
	if !ok {
		return
	}
	m.logger.Log(r.Context(), level, "cookiesession: Save wrote the session's cookie after its request's context ended: the handler had returned (the change is lost) or the client had gone (logged once per call site; past 64 of them, at warn level once a minute, the others at debug)",
		slog.String("context", err.Error()), slog.String("path", urlPath(r)), slog.String("caller", caller.String()),
		slog.String("fix", "call Save before the handler returns and before it writes the body; a goroutine that outlives the handler cannot set a cookie"))
}

// warnForeign logs, once per Manager, a response that sets one of the
// session's cookies the Manager did not write, at a commit that writes
// none: another writer of that cookie name (a handler, an upstream behind
// a proxy) replaces the client's session, which would otherwise end
// without a word. The line is left in place: it may be a handler's own
// logout.
func (m *Manager) warnForeign(s *Session, h http.Header, r *http.Request) {
	if m.foreignLogged.Load() {
		return
	}
	for _, line := range h["Set-Cookie"] {
		if !isOurs(line, m.names) {
			continue
		}
		if m.foreignLogged.Swap(true) {
			return
		}
		ctx := context.Background()
		if r != nil {
			ctx = r.Context()
		}
		name, _, _ := strings.Cut(line, "=")
		s.log(ctx, slog.LevelWarn, "cookiesession: the response sets the session's cookie, which the Manager did not write: it replaces the client's session (logged once)",
			slog.String("cookie", strings.TrimSpace(name)), slog.String("path", urlPath(r)),
			slog.String("fix", "give the other writer of this cookie (a handler, an upstream behind a proxy) another name; end a session with Session.Destroy"))
		return
	}
}

// warnReplaced logs, once per Manager, line, a Set-Cookie line for one of
// the session's cookies that the Manager did not write and has replaced
// with its own: a handler's own logout, or an upstream's cookie, would
// otherwise be lost without a word.
// A line the Manager wrote itself is another Session's of the same
// response, and logged as such, once: gorilla's store.Get returns one
// session to every caller in a request, and code ported from it calls
// Load in a helper or a middleware and again in the handler, saving each.
// The last save wins, and what the others changed (a Destroy: the user
// stays signed in) is lost.
func (m *Manager) warnReplaced(s *Session, line string) {
	logged := &m.replacedLogged
	msg := "cookiesession: the response set the session's cookie itself, and the Manager replaced that line with its own (logged once)"
	fix := "end a session with Session.Destroy, not http.SetCookie; give any other writer of this cookie (an upstream behind a proxy) another name"
	if m.wrote(line) {
		logged = &m.twoSavesLogged
		msg = "cookiesession: a save replaced the session's cookie lines that the Manager had written into the same response for another Session (Load called twice for one request, each saved): what the earlier save wrote (a login, a Destroy) is lost (logged once)"
		fix = "call Load once per request and pass that session to every helper and middleware that uses it (Load returns a new session at each call, where gorilla's store.Get returned the same one), or serve with Manager.Handler, under which Load returns the middleware's session; end a session with Destroy on that one session, not http.SetCookie"
	}
	if logged.Swap(true) {
		return
	}
	ctx, path := s.origin()
	name, _, _ := strings.Cut(line, "=")
	s.log(ctx, slog.LevelWarn, msg, slog.String("cookie", strings.TrimSpace(name)), slog.String("path", path), slog.String("fix", fix))
}

// warnDomain counts in Metrics.Dropped, and logs once per Manager, a
// cookie with a Domain attribute set in answer to a request for a host
// outside that domain: browsers drop it, so the session never sticks. The request's Host, X-Forwarded-Host,
// Forwarded host= and, for a request the browser calls same-origin,
// Origin and Referer are each taken as the browser's host, since a proxy
// may rewrite Host.
func (m *Manager) warnDomain(s *Session, r *http.Request) {
	domain := m.attrs.Domain
	if domain == "" || r.Host == "" || nameInside(r.Host, domain) ||
		domainMatch(r.Host, domain) || forwardedHostMatch(r.Header, domain) || domainMatch(pageHost(r.Header), domain) {
		return
	}
	m.stats.dropped[droppedDomain].Add(1)
	if m.domainLogged.Swap(true) {
		return
	}
	s.log(r.Context(), slog.LevelWarn, "cookiesession: the cookie's Domain does not match the request's host, and browsers drop it: the session will not stick, unless a proxy in front rewrote Host (logged once)",
		slog.String("domain", domain), slog.String("host", logText(r.Host)), slog.String("path", urlPath(r)),
		slog.String("fix", "set Options.Domain to the host or a parent of it (example.com serves app.example.com), or leave it empty for a host-only cookie; behind a proxy that rewrites Host, have it send X-Forwarded-Host"))
}

// nameInside is domainMatch's common case, without the allocations of its
// parsing: a host name without a port that is domain or ends in "."+domain.
// A host that ends in a digit may be an IP address, and is left to
// domainMatch.
func nameInside(host, domain string) bool {
	host = strings.TrimSuffix(host, ".")
	n := len(host) - len(domain)
	if n < 0 || host == "" || strings.ContainsRune(host, ':') || host[len(host)-1] <= '9' {
		return false
	}
	return strings.EqualFold(host[n:], domain) && (n == 0 || host[n-1] == '.')
}

// outsidePath reports whether r's path is outside the cookie's Path, so
// that the browser would not send the cookie with it: a /logout beside an
// "/app" Path sees no session, and a Destroy there clears the cookie all
// the same. The path is the browser's: the request-target's, which
// http.StripPrefix leaves as it was. A proxy that strips a prefix and
// says so in X-Forwarded-Prefix makes the path unknown, and so inside.
func (m *Manager) outsidePath(r *http.Request) bool {
	if m.attrs.Path == "/" || r == nil || len(r.Header["X-Forwarded-Prefix"]) > 0 {
		return false
	}
	return !pathMatch(requestPath(r), m.attrs.Path)
}

// requestPath returns the path of r's request-target, or of r.URL without
// one, escaped as the browser sent it: browsers match a cookie's Path
// against that (/%C3%A9 for /é, /a%20b for "/a b"), never the unescaped
// path. It runs on every cookieless request that uses its session, so the
// usual origin-form target is cut, not parsed, which allocates nothing.
func requestPath(r *http.Request) string {
	target, _, _ := strings.Cut(r.RequestURI, "?")
	if strings.HasPrefix(target, "/") {
		return target
	}
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
		return u.EscapedPath() // absolute-form
	}
	if r.URL == nil {
		return ""
	}
	return r.URL.EscapedPath()
}

// pathMatch is RFC 6265's path-match: whether a browser sends a cookie
// of Path cookiePath with a request for reqPath.
func pathMatch(reqPath, cookiePath string) bool {
	return reqPath == cookiePath ||
		strings.HasPrefix(reqPath, cookiePath) && (strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/')
}

// warnOutsidePath logs, once per Manager, a session used without a cookie
// on a path outside the cookie's Path: the browser never sends the cookie
// there, so the handler sees an empty session whoever is signed in, and
// nothing else would say so.
func (m *Manager) warnOutsidePath(s *Session, r *http.Request) {
	if m.outsidePathLogged.Load() || !m.outsidePath(r) || m.outsidePathLogged.Swap(true) {
		return
	}
	s.log(r.Context(), slog.LevelWarn, "cookiesession: a session was used on a path outside the cookie's Path, where browsers do not send the cookie: this request sees no session, whoever is signed in, unless a proxy in front strips a prefix from the path (logged once)",
		slog.String("path", urlPath(r)), slog.String("cookie_path", m.attrs.Path),
		slog.String("fix", "set Options.Path to a prefix of every path that uses the session, \"/\" for all; behind a proxy that strips a prefix, have it send X-Forwarded-Prefix"))
}

// warnReadLate logs, once per line of code that reads (a getter's call, or
// a template's Execute), a session first read after the middleware
// committed its response. That response went out as one that does not
// depend on the session, without Vary: Cookie, and a shared cache keyed on
// the URL (nginx's proxy_cache by default) serves it to every user: if it
// shows what the session holds, one user's page reaches the others
// (TestSharedCaches in e2e/). A session a panic ended, whose answer is not
// yet written, is not logged, nor a read once the request's context has
// ended (by a goroutine the handler left running, or by a handler an
// http.TimeoutHandler answered for): it reaches no client; nor one after a
// Hijack (a WebSocket's loop), which answers no page a cache keeps.
// Every read it would log counts in Metrics.ReadLate, a call site logged
// before and one the sampling does not look up included: unlock counts it
// once the use that opened the session has turned out to be a read.
func (m *Manager) warnReadLate(s *Session) {
	if st, ok := s.req.Context().(*requestState); !ok || !st.writer.committed || st.writer.hijacked || st.Err() != nil {
		return
	}
	s.readLate = true
	caller, level, ok := m.lateReads.level(slog.LevelWarn, m.opts.Now)
	if !ok {
		return
	}
	s.log(s.req.Context(), level, readLateMsg,
		slog.String("path", urlPath(s.req)), slog.String("caller", caller.String()),
		slog.String("fix", "read the session before the handler writes the status or the body; a read after the whole body (an access log's) shows nothing to the client and is harmless: moved before the handler, it would open the cookie on every request and add Vary: Cookie to every page"))
}

// warnSharedStore counts in Metrics.SharedStore, and logs once per line
// of code that commits the response (the handler's first write) and route
// (Request.Pattern), a response that used the session, wrote no cookie,
// and that a field lets a shared cache store (see sharedStored): Vary:
// Cookie is then all that keeps one user's page (a navbar's "Hi alice")
// from the next user, and some CDNs ignore it. The field is left as the
// handler set it: a cache that honours Vary keeps one copy per Cookie
// line, and the page may show nothing of the session. Only the answer to
// a GET or a HEAD is asked (or to a request not known): no CDN serves a
// POST's, PUT's, PATCH's or DELETE's again, a global middleware's
// Cache-Control on it notwithstanding. s's lock is held.
func (m *Manager) warnSharedStore(h http.Header, s *Session, r *http.Request) {
	if r != nil && r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != "" {
		return
	}
	key, values := sharedStored(h)
	if key == "" {
		return
	}
	s.countOnce(countedSharedStore, &m.stats.sharedStore)
	route, ctx := "", context.Background()
	if r != nil {
		route, ctx = r.Pattern, r.Context()
	}
	caller, level, ok := m.sharedStores.levelOn(route, slog.LevelWarn, m.opts.Now)
	if !ok {
		return
	}
	s.log(ctx, level, sharedStoreMsg,
		slog.String("field", key), slog.String("value", logText(strings.Join(values, ", "))),
		slog.String("path", urlPath(r)), slog.String("route", logText(route)), slog.String("caller", caller.String()),
		slog.String("fix", "if the page shows anything of the session, send Cache-Control: private (and no max-age in CDN-Cache-Control or Surrogate-Control); or read the session only on routes no cache stores, and fetch the user's part of the page from one; or make the CDN key its cache on the cookie "+strconv.Quote(m.opts.Name)+" (a CloudFront cache policy that lists it, a Cloudflare Cache Rule); if every cache in front honours Vary: Cookie, this is harmless"))
}

// sharedStoreMsg is warnSharedStore's line. The CDNs it names are those
// whose documentation says they ignore Vary: Cookie (see README's Caches).
const sharedStoreMsg = "cookiesession: a response whose handler used the session may be stored by a shared cache, with only Vary: Cookie to keep it from other users: Cloudflare by default, CloudFront unless its cache policy keys on the cookie, and Akamai with Remove Vary Header ignore Vary and serve it to the next user (logged once per call site and route; past 64 of them, at warn level once a minute, the others at debug)"

// readLateMsg is warnReadLate's line, which dropReadLate finds by it.
const readLateMsg = "cookiesession: session first read once its response had gone out without Vary: Cookie: a shared cache in front may serve that page to every user (logged once per call site; past 64 of them, at warn level once a minute, the others at debug)"

// dropReadLate takes back what warnReadLate queued under s's lock when
// this first use after the commit is a change: Session.logLate says so,
// with its fix, and counts it in Metrics.Lost; the page did not show the
// session, and it is no read for Metrics.ReadLate. The call's line is kept
// for a read there. s's lock is held.
func (s *Session) dropReadLate() {
	s.readLate = false
	n := len(s.logs)
	s.logs = slices.DeleteFunc(s.logs, func(l logLine) bool { return l.msg == readLateMsg })
	if len(s.logs) < n {
		s.mgr.lateReads.forget(callerOutside().key()) // the change's call, which read
	}
}

// warnCrossSite logs, once per Manager, a session read, and left
// unwritten, without a cookie by a cross-site top-level navigation
// (Sec-Fetch-Site, -Mode and -Dest, which browsers send) that browsers
// send without a cookie of the Manager's SameSite: under Lax (and by
// default, which Chrome takes as Lax) one with another method than GET,
// such as an identity provider's form_post callback; under Strict any.
// The handler sees an empty session whoever is signed in, so its check of
// an OAuth state fails as a forgery would, with nothing else to say why.
// A cross-site subresource or frame (an image, a fetch, an iframe) goes
// without the cookie by SameSite's design, and is not logged.
func (m *Manager) warnCrossSite(s *Session, r *http.Request) {
	mode := m.attrs.SameSite
	if m.crossSiteLogged.Load() || mode == http.SameSiteNoneMode || r == nil {
		return
	}
	if site := r.Header["Sec-Fetch-Site"]; len(site) != 1 || site[0] != "cross-site" {
		return
	}
	if r.Header.Get("Sec-Fetch-Mode") != "navigate" || r.Header.Get("Sec-Fetch-Dest") != "document" {
		return
	}
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	if safe && mode != http.SameSiteStrictMode || m.crossSiteLogged.Swap(true) {
		return
	}
	name := "Lax"
	switch mode {
	case http.SameSiteStrictMode:
		name = "Strict"
	case http.SameSiteDefaultMode:
		name = "unset (Lax in Chrome)"
	}
	s.log(r.Context(), slog.LevelWarn, "cookiesession: a cross-site request read the session, and browsers send no cookie of its SameSite with such a request: it sees no session, whoever is signed in, and a check against the session (an OAuth state) fails as if forged (logged once)",
		slog.String("method", logText(r.Method)), slog.String("path", urlPath(r)), slog.String("same_site", name),
		slog.String("fix", "for an identity provider's response_mode=form_post, keep the login's state in a second Manager with SameSite None (README, \"Signing in with OAuth or OpenID Connect\"), or use response_mode=query; under Strict, use Lax"))
}

// warnCrossSiteSet counts in Metrics.Dropped, and logs once per Manager,
// a cookie of SameSite Lax, Strict or unset (Lax in Chrome) set in answer
// to a cross-site request that is not a top-level navigation: a fetch
// from a frontend on another site, an iframe. Browsers store no such
// cookie from it (RFC 6265bis section 5.7), so the login, or the logout,
// never reaches the client. Partitioned does not lift Lax or Strict. A
// SameSite None cookie there that is not Partitioned is a third-party
// cookie, which Safari, and Chrome in a private window, block: logged,
// not counted, since other browsers keep it; a browser that supports
// Partitioned (CHIPS) stores a Partitioned one for the site that embeds
// or calls. commit calls it for a request whose Sec-Fetch-Site is
// cross-site.
func (m *Manager) warnCrossSiteSet(s *Session, r *http.Request) {
	none := m.attrs.SameSite == http.SameSiteNoneMode
	if none && (m.attrs.Partitioned || m.crossSiteSetLogged.Load()) {
		return
	}
	// A browser that sends Sec-Fetch-Site sends Mode and Dest too; without
	// either (an adapter that did not pass it on, a Chrome before 80) the
	// request is unknown.
	mode, dest := r.Header.Get("Sec-Fetch-Mode"), r.Header.Get("Sec-Fetch-Dest")
	if mode == "" || dest == "" || mode == "navigate" && dest == "document" {
		return
	}
	if !none {
		m.stats.dropped[droppedCrossSite].Add(1)
	}
	if m.crossSiteSetLogged.Swap(true) {
		return
	}
	msg := "cookiesession: a cookie answers a cross-site request that is not a top-level navigation (a fetch or an iframe from another site), and browsers store no cookie of its SameSite from it: the change will not reach the client (logged once)"
	fix := "serve the page and this handler from one origin (the API under app.example.com/api), or from one site (app.example.com and api.example.com are one) with fetch's credentials: \"include\" and CORS that allows credentials, or give this Manager SameSite None and Partitioned, with the same fetch and CORS"
	if none {
		msg = "cookiesession: a cookie answers a cross-site request that is not a top-level navigation (a fetch or an iframe from another site), where a SameSite None cookie is a third-party cookie, which Safari, and Chrome in a private window, do not store: the change will not reach those clients (logged once)"
		fix = "set Options.Partitioned, which keeps the cookie for the site that embeds or calls this one (a fetch must also send credentials: \"include\"), or serve the page and this handler from one site"
	}
	s.log(r.Context(), slog.LevelWarn, msg,
		slog.String("method", logText(r.Method)), slog.String("path", urlPath(r)),
		slog.String("mode", logText(mode)), slog.String("dest", logText(dest)), slog.String("fix", fix))
}

// warnCrossOriginSet logs, once per Manager, a cookie set in answer to a
// fetch from a page of another origin of the site (Sec-Fetch-Mode cors,
// Sec-Fetch-Site same-site: app.example.com calling api.example.com; or
// cross-site, for a SameSite None cookie, where warnCrossSiteSet speaks of
// SameSite alone) whose CORS answer in h does not allow credentials for
// the page's Origin: Access-Control-Allow-Origin that Origin, exactly,
// and Access-Control-Allow-Credentials "true". Such a fetch sent either
// no credentials (fetch's default, "same-origin"), and browsers store no
// cookie of its answer, or credentials "include", and browsers keep the
// cookie but refuse the answer, so the page's fetch fails
// (TestCrossOriginFetch in e2e/, Chromium and Firefox alike). Not counted
// in Metrics.Dropped: the second reaches the client. A fetch without
// credentials whose answer allows them is dropped too, but looks like the
// first login of one with them, and is not logged. It reads only the
// request's headers until they show such a fetch. commit calls it with
// the request's Sec-Fetch-Site, same-site or cross-site.
func (m *Manager) warnCrossOriginSet(s *Session, h http.Header, r *http.Request, site string) {
	if m.crossOriginSetLogged.Load() {
		return
	}
	if site != "same-site" && m.attrs.SameSite != http.SameSiteNoneMode {
		return
	}
	if mode := r.Header["Sec-Fetch-Mode"]; len(mode) != 1 || mode[0] != "cors" {
		return
	}
	origin := r.Header["Origin"] // browsers send it with every cors request
	allowOrigin, allowCredentials := responseHeader(h, "Access-Control-Allow-Origin"), responseHeader(h, "Access-Control-Allow-Credentials")
	if len(origin) != 1 || oneValue(allowOrigin, origin[0]) && oneValue(allowCredentials, "true") || m.crossOriginSetLogged.Swap(true) {
		return
	}
	msg := "cookiesession: a cookie answers a fetch from a page of another origin, and its CORS answer does not allow credentials: if the fetch sent none (fetch's default, credentials \"same-origin\"), browsers store no cookie from it; if it sent them, browsers refuse the answer and the page's fetch fails. Either way the login does not work as the page expects, unless a proxy in front adds these CORS headers (logged once)"
	if len(r.Header["Cookie"]) > 0 {
		msg = "cookiesession: a cookie answers a fetch with credentials from a page of another origin, and its CORS answer does not allow credentials: browsers keep the cookie but refuse the answer, and the page's fetch fails, unless a proxy in front adds these CORS headers (logged once)"
	}
	s.log(r.Context(), slog.LevelWarn, msg,
		slog.String("method", logText(r.Method)), slog.String("path", urlPath(r)), slog.String("origin", logText(origin[0])),
		slog.String("allow_origin", logText(strings.Join(allowOrigin, ", "))), slog.String("allow_credentials", logText(strings.Join(allowCredentials, ", "))),
		slog.String("fix", "call fetch with credentials: \"include\", and answer it (and its preflight) with Access-Control-Allow-Credentials: true and Access-Control-Allow-Origin the page's origin, here "+logText(origin[0])+", never *; or serve this handler under the page's origin (app.example.com/api), where fetch sends and keeps cookies by default"))
}

// responseHeader returns h's values of key, a canonical name, or those of
// a key that differs from it only in case: a handler may set one directly
// in the map, and net/http sends it as it is.
func responseHeader(h http.Header, key string) []string {
	if v, ok := h[key]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// oneValue reports whether a response header's values are one, want, as
// browsers compare a CORS answer: exactly, but for the spaces and tabs
// around it.
func oneValue(values []string, want string) bool {
	return len(values) == 1 && strings.Trim(values[0], " \t") == want
}

// forwardedHosts yields the hosts proxies name as the browser's, first
// to last: each of X-Forwarded-Host, then each Forwarded host= (RFC 7239).
func forwardedHosts(h http.Header) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, v := range h["X-Forwarded-Host"] {
			for host := range strings.SplitSeq(v, ",") {
				if host = strings.TrimSpace(host); host != "" && !yield(host) {
					return
				}
			}
		}
		for _, v := range h["Forwarded"] {
			for part := range strings.FieldsFuncSeq(v, func(c rune) bool { return c == ',' || c == ';' }) {
				key, host, _ := strings.Cut(strings.TrimSpace(part), "=")
				if host = strings.Trim(host, `"`); strings.EqualFold(key, "host") && host != "" && !yield(host) {
					return
				}
			}
		}
	}
}

// forwardedHostMatch reports whether a host forwardedHosts yields is
// inside domain.
func forwardedHostMatch(h http.Header, domain string) bool {
	for host := range forwardedHosts(h) {
		if domainMatch(host, domain) {
			return true
		}
	}
	return false
}

// pageHost returns the host of the page that sent the request (its
// Origin, else its Referer) when the browser calls the request
// same-origin or says nothing, else "": a page on another site, whose
// Sec-Fetch-Site is cross-site or same-site, says nothing of the host the
// request went to.
func pageHost(h http.Header) string {
	if site := h["Sec-Fetch-Site"]; len(site) > 0 && site[0] != "same-origin" {
		return ""
	}
	for _, key := range [...]string{"Origin", "Referer"} {
		if v := h[key]; len(v) > 0 {
			_, rest, ok := strings.Cut(v[0], "://")
			if end := strings.IndexAny(rest, "/?#"); end >= 0 {
				rest = rest[:end]
			}
			if ok && rest != "" {
				return rest
			}
		}
	}
	return ""
}

// domainMatch reports whether a browser on host (with or without a port)
// accepts a cookie with this Domain attribute (RFC 6265 section 5.1.3).
func domainMatch(host, domain string) bool {
	for part := range strings.SplitSeq(host, ",") {
		h := strings.TrimSpace(part)
		if hp, _, err := net.SplitHostPort(h); err == nil {
			h = hp
		}
		h = strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
		d := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(domain, "."), "."))
		if h == d {
			return true
		}
		if _, err := netip.ParseAddr(h); err != nil && strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// urlPath returns r's URL path for a log line (see logText), or "": an
// adapter's request given to CommitHeader may have no URL.
func urlPath(r *http.Request) string {
	if r == nil || r.URL == nil {
		return ""
	}
	return logText(r.URL.Path)
}
