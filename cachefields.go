package cookiesession

import (
	"net/http"
	"strings"
)

// A response's cache fields: the Vary: Cookie every response that used
// its session gets, the directives of Cache-Control and of the fields a
// CDN obeys in its place, and whether they let a shared cache store the
// response and serve it again without asking the server.

// addVary adds "Vary: Cookie": the response depends on the session.
func addVary(h http.Header, buf *headerBuf) {
	switch vary := h["Vary"]; {
	case len(vary) == 0:
		buf.vary[0] = "Cookie"
		h["Vary"] = buf.vary[:1:1]
	case !hasToken(vary, "Cookie", "*"):
		h["Vary"] = append(vary, "Cookie")
	}
}

// hasToken reports whether a comma-separated header holds any of tokens,
// in any case and without a value ("private", not private="Set-Cookie"),
// in one pass over its values. A comma inside a quoted string separates
// nothing: no-cache="Foo, private" holds no bare private.
func hasToken(values []string, tokens ...string) bool {
	for _, v := range values {
		for v != "" {
			var part string
			part, v = nextListItem(v)
			part = strings.TrimSpace(part)
			for _, token := range tokens {
				if strings.EqualFold(part, token) {
					return true
				}
			}
		}
	}
	return false
}

// sharedStored returns a field of h that lets a shared cache store the
// response and serve it again without asking the server (see
// servedUnasked): Cache-Control, under any case of its key, or a field a
// CDN obeys in its place (see isTargeted). Each field is judged on its
// own: under CDN-Cache-Control: max-age=60 a CDN that reads it stores the
// response whatever Cache-Control says. It returns "" if none does. A
// response that sets the session's cookie never gets here: its fields are
// no-store (see setCookies).
func sharedStored(h http.Header) (key string, values []string) {
	for k, v := range h {
		cacheControl := len(k) == len("Cache-Control") && strings.EqualFold(k, "Cache-Control")
		if (cacheControl || len(k) >= len(cdnCacheControl) && isTargeted(k)) && servedUnasked(h, k) {
			return k, v
		}
	}
	return "", nil
}

// servedUnasked reports whether the lines of key, under any case of it
// (net/http sends h["cache-control"] beside h["Cache-Control"], and a
// cache reads both as one field), let a shared cache serve a stored copy
// without asking the server, whose answer is the requesting user's: no
// bare private, no-store or no-cache (no-cache makes it ask each time,
// RFC 9111 section 5.2.2.4), and a shared freshness lifetime above 0 (section
// 4.2.1): s-maxage, or else max-age, or else a bare public, which lets the
// cache choose one. public, max-age=0, must-revalidate (Netlify's and
// Vercel's default) is asked each time. A directive given more than once
// counts above 0 only if every one is a number of seconds above 0, quoted
// or not (section 5.2 lets a recipient read it quoted).
func servedUnasked(h http.Header, key string) bool {
	var public bool
	var maxAge, sMaxAge freshness
	for k, values := range h {
		if len(k) != len(key) || !strings.EqualFold(k, key) {
			continue
		}
		for _, v := range values {
			for v != "" {
				var part string
				part, v = nextListItem(v)
				name, arg, hasArg := strings.Cut(strings.TrimSpace(part), "=")
				name = strings.TrimSpace(name)
				switch {
				case hasArg && strings.EqualFold(name, "max-age"):
					maxAge.add(arg)
				case hasArg && strings.EqualFold(name, "s-maxage"):
					sMaxAge.add(arg)
				case hasArg:
				case strings.EqualFold(name, "public"):
					public = true
				case strings.EqualFold(name, "private"), strings.EqualFold(name, "no-store"), strings.EqualFold(name, "no-cache"):
					return false
				}
			}
		}
	}
	switch {
	case sMaxAge != freshnessNone:
		return sMaxAge == freshnessAbove
	case maxAge != freshnessNone:
		return maxAge == freshnessAbove
	}
	return public
}

// freshness is what a field's max-age or s-maxage directives say.
type freshness uint8

const (
	freshnessNone  freshness = iota // no such directive
	freshnessAbove                  // every one a number of seconds above 0
	freshnessZero                   // one is 0, or not a number: stale at once
)

// add takes in one more directive's argument.
func (f *freshness) add(arg string) {
	switch {
	case !positiveSeconds(arg):
		*f = freshnessZero
	case *f == freshnessNone:
		*f = freshnessAbove
	}
}

// positiveSeconds reports whether a directive's argument is a number of
// seconds above 0, in one pair of quotes or none.
func positiveSeconds(arg string) bool {
	arg = strings.TrimSpace(arg)
	if len(arg) >= 2 && arg[0] == '"' && arg[len(arg)-1] == '"' {
		arg = arg[1 : len(arg)-1]
	}
	above := false
	for i := 0; i < len(arg); i++ {
		if arg[i] < '0' || arg[i] > '9' {
			return false
		}
		above = above || arg[i] != '0'
	}
	return above
}

// nextListItem splits v at its first comma outside a quoted string (RFC
// 9110 section 5.6.4, with its backslash escapes). An unterminated quote
// runs to the end of v, so what follows it is no directive.
func nextListItem(v string) (item, rest string) {
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			quoted = !quoted
		case c == '\\' && quoted:
			i++
		case c == ',' && !quoted:
			return v[:i], v[i+1:]
		}
	}
	return v, ""
}

// cdnCacheControl is RFC 9213's field; Surrogate-Control has its length.
const cdnCacheControl = "Cdn-Cache-Control"

// isTargeted reports whether key names a cache field that a CDN obeys in
// place of Cache-Control: CDN-Cache-Control and the vendors' fields of
// that pattern (Cloudflare-CDN-Cache-Control), or Surrogate-Control
// (Fastly, Akamai). Under one of these, Cache-Control: no-store does not
// keep a response out of that CDN.
func isTargeted(key string) bool {
	if len(key) == len(cdnCacheControl) {
		return strings.EqualFold(key, cdnCacheControl) || strings.EqualFold(key, "Surrogate-Control")
	}
	vendor, suffix := key[:len(key)-len(cdnCacheControl)], key[len(key)-len(cdnCacheControl):]
	return strings.HasSuffix(vendor, "-") && strings.EqualFold(suffix, cdnCacheControl)
}

// noStoreTargeted makes every targeted cache field of h no-store, unless
// it already holds a bare private or no-store directive.
func noStoreTargeted(h http.Header) {
	for key, values := range h {
		if len(key) >= len(cdnCacheControl) && isTargeted(key) && !hasToken(values, "no-store", "private") {
			h[key] = []string{"no-store"}
		}
	}
}
