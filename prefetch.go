package cookiesession

import (
	"log/slog"
	"net/http"
	"strings"
)

// Browsers and frameworks load pages ahead of a click: Chrome's
// speculation rules (prefetch, prerender) and <link rel=prefetch>, Turbo
// 8's prefetch on hover (on by default), Next.js's <Link>, htmx's preload.
// A handler that changes its session on such a request (a GET /logout, a
// flash read, a counter bumped) does so for a page the user may never
// open, and the Set-Cookie goes out. What the response carries is left as
// it is: Turbo and Chrome show the prefetched response on the click, so
// dropping the change would lose it on the pages that are opened. It is
// logged, for the link or the handler to be fixed.

// purposeMarker is a request header by which a browser or a framework
// marks a request sent ahead of a click, and the values that mean so.
type purposeMarker struct {
	header string   // canonical
	values []string // the first member of the value, before any ';' parameter
}

// purposeMarkers are the headers that mark such a request: Sec-Purpose
// (speculation rules and link prefetch in Chrome and Firefox:
// "prefetch", "prefetch;prerender"), Purpose (Chrome before Sec-Purpose,
// as Next.js still reads it), X-Purpose (Safari's and Chrome's previews),
// X-Moz (Firefox's link prefetch), X-Sec-Purpose (Turbo 8, which cannot
// set a Sec- header from fetch), Next-Router-Prefetch (Next.js's router)
// and HX-Preloaded (htmx's preload extension). They are looked up
// in r.Header by their canonical names, as net/http keeps them.
var purposeMarkers = [...]purposeMarker{
	{"Sec-Purpose", []string{"prefetch"}},
	{"Purpose", []string{"prefetch", "preview"}},
	{"X-Purpose", []string{"prefetch", "preview"}},
	{"X-Moz", []string{"prefetch"}},
	{"X-Sec-Purpose", []string{"prefetch"}},
	{"Next-Router-Prefetch", []string{"1"}},
	{"Hx-Preloaded", []string{"true"}}, // HX-Preloaded
}

// speculative returns the header, and its value, by which h marks a
// request sent ahead of a click, or "" for one that is not. Any member
// of the list counts (Sec-Purpose is a structured-field List, and a proxy
// may join two lines with a comma), each read before its ';' parameters.
func speculative(h http.Header) (header, value string) {
	// By index: ranging over the array's values would copy the whole
	// array, and then each marker, on every request that changes its
	// session (most of which carry none of these headers).
	for i := range purposeMarkers {
		mk := &purposeMarkers[i]
		for _, v := range h[mk.header] {
			for rest := v; rest != ""; {
				var member string
				member, rest = nextListItem(rest)
				member, _, _ = strings.Cut(member, ";")
				member = strings.Trim(member, " \t")
				for _, want := range mk.values {
					if strings.EqualFold(member, want) {
						return mk.header, v
					}
				}
			}
		}
	}
	return "", ""
}

// sessionChange is what a handler did to a session, as a set of bits:
// the changes a speculative request should not make.
type sessionChange uint8

const (
	changeSignOut sessionChange = 1 << iota // Destroy, or its last value removed
	changeRenew                             // Renew
	changeFlash                             // Flashes, Pop or PopString took a value
	changeValues                            // any other change of values or Lifetime
)

// handlerChange returns what the handler changed in s since its last
// save: not a rolling refresh, a re-key, a Touch or a refused cookie's
// clearing, which the middleware makes by itself. s's lock is held.
func (s *Session) handlerChange() sessionChange {
	var c sessionChange
	if s.destroyed || s.changed && s.loaded && s.values.Len() == 0 && !s.keepLifetime {
		c |= changeSignOut
	}
	if s.renewed {
		c |= changeRenew
	}
	if s.flash&flashTaken != 0 {
		c |= changeFlash
	}
	if s.changed && c&(changeSignOut|changeFlash) == 0 { // those change values too
		c |= changeValues
	}
	return c
}

// String names c's changes for a log line.
func (c sessionChange) String() string {
	var names []string
	for _, n := range [...]struct {
		bit  sessionChange
		name string
	}{{changeSignOut, "sign-out"}, {changeRenew, "renew"}, {changeFlash, "flash consumed"}, {changeValues, "values changed"}} {
		if c&n.bit != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ", ")
}

// speculativeChange is a cause of warnSpeculative's line: the route
// (Request.Pattern, or the path where there is none; cut by logText) and
// what changed.
type speculativeChange struct {
	route  string
	change sessionChange
}

func (c speculativeChange) detach() speculativeChange {
	c.route = strings.Clone(c.route)
	return c
}

// askSpeculative is commit's check, once it has written change (or
// nothing, after an earlier save): a change saved without a request
// (SaveHeader) waits for a commit given one (CommitHeader), and is then
// logged by warnSpeculative if that request was sent ahead of a click.
// commit calls it only for a change of the handler's, so a request that
// does not change its session reads none of r's headers. s's lock is held.
func (m *Manager) askSpeculative(s *Session, r *http.Request, change sessionChange) {
	if s.lines == nil { // nothing went out: a save that failed returned before
		return
	}
	if r == nil {
		s.changeUnasked |= change
		return
	}
	change |= s.changeUnasked
	s.changeUnasked = 0
	m.warnSpeculative(s, r, change)
}

// warnSpeculative counts in Metrics.SpeculativeChanges, and logs once per
// route and change, a session change that a response to r carries when r
// was sent ahead of a click.
// Every such request is a GET: a POST, a form's sign-out, reads no header.
func (m *Manager) warnSpeculative(s *Session, r *http.Request, change sessionChange) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != "" {
		return
	}
	header, value := speculative(r.Header)
	if header == "" {
		return
	}
	s.countOnce(countedSpeculative, &m.stats.speculativeChanges)
	// A pattern's paths (/item/1, /item/2, ...) are one route: keyed by
	// each, the prefetches of a list's links would fill the memory.
	path, route := urlPath(r), logText(r.Pattern)
	key := route
	if key == "" {
		key = path
	}
	level, ok := m.speculativeChanges.level(speculativeChange{key, change}, slog.LevelWarn, m.opts.Now)
	if !ok {
		return
	}
	s.log(r.Context(), level, "cookiesession: a request sent ahead of a click (a prefetch or prerender: a hover, or a link in view) changed its session, and its Set-Cookie goes out: the change is made whether or not the user opens the page (logged once per route and change; past 64 of them, at warn level once a minute, the others at debug)",
		slog.String("marker", header+": "+logText(value)), slog.String("change", change.String()),
		slog.String("method", logText(r.Method)), slog.String("path", path), slog.String("route", route),
		slog.String("fix", "make this change on a POST (a form's button for a sign-out), not on a GET a link leads to; or keep the link from being fetched ahead: data-turbo-prefetch=\"false\" on it (Turbo), a {\"not\": {\"href_matches\": ...}} in the speculation rules, prefetch={false} on a Next.js <Link>, no preload on it (htmx)"))
}
