package cookiesession

import (
	"fmt"
	"log/slog"
	"math/bits"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// The cookie transport: reading a token from the request's chunk cookies,
// and writing Set-Cookie lines with the Vary and Cache-Control rules that
// go with them.

// maxChunks bounds Options.MaxChunks: one bit each in readToken's mask.
const maxChunks = 64

func chunkName(name string, i int) string {
	if i == 0 {
		return name
	}
	return name + "." + strconv.Itoa(i)
}

// readToken gathers the token from the request's chunk cookies in one pass
// over the Cookie headers, split as net/http splits them: at semicolons and
// at the first "=", with the ASCII whitespace around each cookie and each
// name trimmed. The first of two cookies with one name wins; a later one
// with the same value is the same cookie, and only another value marks the
// request as carrying two (s.shadowed). A value is taken as sent, less the
// optional double quotes RFC 6265 allows: the codec's strict base64url
// check refuses anything a cookie value may not hold (where Request.Cookie
// would skip such a cookie and take the next).
// It records in s how many chunk names the client holds, so stale ones can
// be expired, and returns the highest number of a chunk above MaxChunks
// that the request carried (see aboveMaxChunks), or 0.
func (m *Manager) readToken(r *http.Request, s *Session) (token string, above int, err error) {
	lines := r.Header["Cookie"]
	if n, over := tooManyCookies(lines); over {
		s.ignored = true
		m.logIgnored(s, r, n)
		return "", 0, nil
	}
	var small [4]string
	values := small[:] // grown only when a fifth chunk turns up
	var present uint64 // bit i: chunk i was sent
	var beyond uint64  // bit i: chunk i, above MaxChunks, was sent with a value a chunk may hold
	for _, line := range lines {
		for line != "" {
			var part string
			part, line = cutByte(line, ';')
			name, value := cutByte(textproto.TrimString(part), '=')
			name = textproto.TrimString(name)
			i := m.chunkIndex(name)
			if i < 0 {
				if i == aboveMaxChunks && chunkText(unquote(value)) {
					beyond |= 1 << chunkNumber(name[len(m.chunkPrefix):])
				}
				continue
			}
			if present&(1<<i) != 0 {
				// The same value again is the same cookie (a Lambda function
				// URL's event carries each cookie twice); another one is a
				// second cookie of the name.
				if !s.shadowed && unquote(value) != values[i] {
					s.shadowed = true
				}
				continue
			}
			present |= 1 << i
			value = unquote(value)
			if i >= len(values) {
				values = append(values, make([]string, len(m.names)-len(values))...)
			}
			values[i] = value
		}
	}
	s.chunksSent = int8(bits.Len64(present))
	if beyond != 0 {
		// An earlier configuration's chunks run from MaxChunks up without
		// a gap: a cookie above a gap is the application's own.
		if run := bits.TrailingZeros64(^(beyond >> len(m.names))); run > 0 {
			above = len(m.names) + run - 1
		}
	}
	switch {
	case present == 0:
		return "", above, nil
	case present == 1 && len(values[0]) <= m.codec.maxLen:
		return values[0], above, nil // one cookie, the usual case: nothing to join
	}
	token, err = m.joinChunks(values[:s.chunksSent], present)
	return token, above, err
}

// chunkText reports whether value may be a chunk of a token: base64url
// text, never empty. A cookie named like a chunk above MaxChunks, or like
// a retired Name's, that holds anything else (JSON, padding, a dot, a
// percent sign) is the application's own, not ours to warn of or keep a
// cookie for.
func chunkText(value string) bool {
	for i := range len(value) {
		switch c := value[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return value != ""
}

// unquote drops the double quotes RFC 6265 allows around a cookie value.
func unquote(value string) string {
	if len(value) > 1 && value[0] == '"' && value[len(value)-1] == '"' {
		return value[1 : len(value)-1]
	}
	return value
}

// cutByte is strings.Cut for a one-byte separator, which saves readToken
// two calls a cookie: Cut is not inlined, and it searches through Index.
func cutByte(s string, sep byte) (before, after string) {
	if i := strings.IndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// maxCookies is net/http's default limit: a request with more cookies is
// treated as having none (Request.Cookie returns nothing), and so it is here.
// Such a request gets a fresh session, and its cookie is not cleared, so a
// sibling site that floods the jar cannot end the user's session for good;
// a Destroy there still expires every chunk, so it cannot keep the user
// from logging out either.
const maxCookies = 3000

// tooManyCookies reports whether lines hold more than maxCookies cookies,
// counted as net/http counts them (one more than the semicolons in each
// line), and if so how many. Lines too short to hold that many are not
// scanned.
func tooManyCookies(lines []string) (int, bool) {
	size := 0
	for _, line := range lines {
		size += len(line) + 1
	}
	if size <= maxCookies {
		return 0, false
	}
	n := 0
	for _, line := range lines {
		n += strings.Count(line, ";") + 1
	}
	return n, n > maxCookies
}

func (m *Manager) logIgnored(s *Session, r *http.Request, n int) {
	s.log(r.Context(), slog.LevelDebug, "cookiesession: request cookies ignored",
		slog.String("cookie", m.opts.Name), slog.String("reason", fmt.Sprintf("%d cookies, more than %d", n, maxCookies)))
}

// aboveMaxChunks is chunkIndex's answer for a chunk name of the
// Manager's Name above MaxChunks: one an earlier configuration, with a
// higher MaxChunks, wrote.
const aboveMaxChunks = -2

// chunkIndex returns i if name is chunk i's name, aboveMaxChunks if it is
// the name of a chunk above MaxChunks (as chunkName writes it, below
// maxChunks), or -1.
func (m *Manager) chunkIndex(name string) int {
	if name == m.names[0] {
		return 0
	}
	suffix, ok := strings.CutPrefix(name, m.chunkPrefix)
	if !ok {
		return -1
	}
	switch i := chunkNumber(suffix); {
	case i < 1:
		return -1
	case i >= len(m.names):
		return aboveMaxChunks
	default:
		return i
	}
}

// chunkNumber returns the number of a chunk name's suffix as chunkName
// writes it (1 to maxChunks-1, no sign, no leading zero), or -1.
func chunkNumber(suffix string) int {
	if suffix == "" || len(suffix) > 2 || suffix[0] == '0' || strings.Trim(suffix, "0123456789") != "" {
		return -1 // Atoi would take "+1" and "01"
	}
	if i, _ := strconv.Atoi(suffix); i < maxChunks {
		return i
	}
	return -1
}

// joinChunks concatenates the chunk values, which must have no gaps and
// together stay within the token limit.
func (m *Manager) joinChunks(values []string, present uint64) (string, error) {
	total := 0
	for i, v := range values {
		if present&(1<<i) == 0 {
			err := invalid(0, "cookie %s present but chunk %s missing", m.names[len(values)-1], m.names[i])
			err.headless = i == 0
			return "", err
		}
		total += len(v)
	}
	if total > m.codec.maxLen {
		err := invalid(0, "cookie chunks of %d bytes exceed the limit of %d", total, m.codec.maxLen)
		err.long = total
		return "", err
	}
	if len(values) == 1 {
		return values[0], nil
	}
	return strings.Join(values, ""), nil
}

// chunksFor returns how many cookies a token of n bytes needs.
func (m *Manager) chunksFor(n int) int {
	chunks := 1
	for i := 0; n > m.caps[i]; i++ {
		n -= m.caps[i]
		chunks++
	}
	return chunks
}

// partitionBytes is the most name and value bytes of one site's
// Partitioned cookies that Chromium keeps in one partition (CHIPS): a
// cookie past it evicts the oldest, so a session over three full chunks
// loses its first, and the user is signed out without a word.
const partitionBytes = 10240

// responseHeaderBytes is the largest response header Chromium reads: a
// larger one fails the whole response (ERR_RESPONSE_HEADERS_TOO_BIG).
const responseHeaderBytes = 256 << 10

// chunkCaps returns each chunk's value capacity: MaxCookieSize less the
// chunk's name and, for Partitioned cookies, within partitionBytes in
// all, so that a chunk above that budget has none. It refuses a
// configuration whose full chunks' Set-Cookie lines, attrText after each,
// would not fit the largest response header Chromium reads.
func chunkCaps(o *Options, names []string, attrText string) ([]int, error) {
	caps := make([]int, len(names))
	budget, lines := partitionBytes, 0
	for i, name := range names {
		caps[i] = o.MaxCookieSize - len(name)
		if caps[i] < 1 {
			return nil, fmt.Errorf("cookiesession: MaxCookieSize %d leaves no room for a value beside the cookie name %q: raise it, or shorten Name", o.MaxCookieSize, name)
		}
		if o.Partitioned {
			caps[i] = max(min(caps[i], budget-len(name)), 0)
			budget -= len(name) + caps[i]
		}
		if caps[i] > 0 {
			// "Set-Cookie: name=value; Max-Age=34560000" (400 days, the
			// most), the attributes and the CRLF.
			lines += len("Set-Cookie: ") + len(name) + 1 + caps[i] + len("; Max-Age=34560000") + len(attrText) + 2
		}
	}
	if lines > responseHeaderBytes {
		return nil, fmt.Errorf("cookiesession: MaxChunks %d of MaxCookieSize %d makes a full session's Set-Cookie lines take up to %d bytes, more than the %d bytes of response header Chromium reads: it fails the whole response; lower MaxChunks, and keep large data in your database",
			o.MaxChunks, o.MaxCookieSize, lines, responseHeaderBytes)
	}
	return caps, nil
}

// partitionFull reports whether the chunks leave too little of
// partitionBytes for another chunk's name and one byte of value, so that
// more chunks would hold no more.
func (m *Manager) partitionFull() bool {
	used := 0
	for i, c := range m.caps {
		if c > 0 {
			used += len(m.names[i]) + c
		}
	}
	next := chunkName(m.opts.Name, len(m.names))
	return m.opts.Partitioned && partitionBytes-used <= len(next)
}

// cookieLine renders chunk i's Set-Cookie value. The attributes were
// rendered once by net/http in New; the value is base64url, which needs no
// sanitizing.
func (m *Manager) cookieLine(i int, value []byte, maxAge int64, browserSession bool) string {
	var b strings.Builder
	b.Grow(len(m.names[i]) + 1 + len(value) + len("; Max-Age=") + 20 + len(m.attrText))
	b.WriteString(m.names[i])
	b.WriteByte('=')
	b.Write(value)
	if !browserSession {
		var digits [20]byte
		b.WriteString("; Max-Age=")
		b.Write(strconv.AppendInt(digits[:0], max(maxAge, 1), 10))
	}
	b.WriteString(m.attrText)
	return b.String()
}

// setCookies replaces any Set-Cookie lines for our names with lines, so the
// response never carries two values for one of our cookies, whatever the
// case of the header key they were added under. It returns a line it
// dropped that is not among prev, the lines the Manager wrote earlier in
// this response: another writer's, or "". A response that sets a
// cookie must not be stored by a shared cache: Cache-Control becomes
// no-store unless it holds a bare private or no-store directive (a
// qualified private="Set-Cookie" still lets a shared cache store the rest),
// and so does any field a CDN obeys in place of Cache-Control.
func setCookies(h http.Header, names, prev, lines []string, buf *headerBuf) (foreign string) {
	old, cacheControl, targeted := sweep(h)
	if targeted {
		noStoreTargeted(h)
	}
	if len(old) > 0 {
		kept := make([]string, 0, len(old)+len(lines))
		for _, line := range old {
			switch {
			case !isOurs(line, names):
				kept = append(kept, line)
			case foreign == "" && !slices.Contains(prev, line):
				foreign = line
			}
		}
		lines = append(kept, lines...)
	}
	h["Set-Cookie"] = lines
	if !hasToken(cacheControl, "no-store", "private") {
		buf.cacheControl[0] = "no-store"
		h["Cache-Control"] = buf.cacheControl[:1:1]
	}
	return foreign
}

// headerBuf backs the one-element header values a response usually needs,
// so that committing a session does not allocate a slice for each. One
// buffer serves one save: a later save of the session gets its own. The
// slices are handed out with their capacity capped: appending to one
// copies it, so a handler that adds to these headers cannot write here.
type headerBuf struct {
	vary, cacheControl, setCookie [1]string
}

// setCookieLines returns an empty slice for n Set-Cookie lines.
func (b *headerBuf) setCookieLines(n int) []string {
	if n == 1 {
		return b.setCookie[:0:1]
	}
	return make([]string, 0, n)
}

// sweep goes once over h's keys. It moves Set-Cookie and Cache-Control
// lines added under a non-canonical key, such as h["set-cookie"], which
// net/http writes as is, to the canonical one, so that setCookies sees
// every line for our names (and can tell another writer's), and returns
// the Set-Cookie and Cache-Control values, and whether h holds a
// targeted cache field (see isTargeted).
func sweep(h http.Header) (setCookie, cacheControl []string, targeted bool) {
	if len(h) == 1 {
		// Nothing but the Vary that commit adds before it sets cookies?
		// One look-up costs less than ranging over the map.
		if _, ok := h["Vary"]; ok {
			return nil, nil, false
		}
	}
	oddSetCookie, oddCacheControl := false, false
	for key, values := range h {
		switch {
		case key == "Set-Cookie":
			setCookie = values
		case key == "Cache-Control":
			cacheControl = values
		case len(key) == len("Set-Cookie") && strings.EqualFold(key, "Set-Cookie"):
			oddSetCookie = true
		case len(key) == len("Cache-Control") && strings.EqualFold(key, "Cache-Control"):
			oddCacheControl = true
		case len(key) >= len(cdnCacheControl) && isTargeted(key):
			targeted = true
		}
	}
	if oddSetCookie {
		setCookie = canonical(h, "Set-Cookie")
	}
	if oddCacheControl {
		cacheControl = canonical(h, "Cache-Control")
	}
	return setCookie, cacheControl, targeted
}

// canonical moves the lines of key added under other cases of it
// (h["cache-control"], which net/http writes as is) to the canonical key,
// so that the rules for a response that sets a cookie see them all: its
// no-store replaces every Cache-Control, and its lines every Set-Cookie
// for our names. It returns the lines.
func canonical(h http.Header, key string) []string {
	all := slices.Clone(h[key])
	for k, values := range h {
		if k != key && strings.EqualFold(k, key) {
			all = append(all, values...)
			delete(h, k)
		}
	}
	h[key] = all
	return all
}

// removeOurs drops every Set-Cookie line for our names.
func removeOurs(h http.Header, names []string) {
	sweep(h)
	removeOursFrom(h, "Set-Cookie", names)
}

func removeOursFrom(h http.Header, key string, names []string) {
	old := h[key]
	kept := old[:0:0]
	for _, line := range old {
		if !isOurs(line, names) {
			kept = append(kept, line)
		}
	}
	if len(kept) == 0 {
		delete(h, key)
		return
	}
	h[key] = kept
}

func isOurs(line string, names []string) bool {
	name, _, _ := strings.Cut(line, "=")
	name = strings.TrimSpace(name)
	return slices.Contains(names, name)
}
