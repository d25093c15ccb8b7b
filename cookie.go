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
	"time"
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

// maxShadows bounds how many cookies of the base name openShadowed tries
// past the first, and how many of the last it tries too. A browser sends
// at most one cookie of a name per domain and path that match the request
// (the host's own, one per parent domain, one per parent path), longer
// paths first: a sibling host can put one before the session's own for
// each parent path of a deep page (/a, /a/, /a/b, ...), but only one per
// parent domain beside it, after the longer ones. So the session's cookie
// is among the first few or the last few, and a hand-made request with
// thousands of them costs a few opens.
const maxShadows = 4

// maxShadowOpens bounds the tokens openShadowed opens in one request:
// as many as the first 1+maxShadows cookies of the base name joined and
// alone, and the last maxShadows alone.
const maxShadowOpens = 2 * (1 + 2*maxShadows)

// openShadowed runs when the token gathered by readToken (the first
// cookie of each chunk name) did not open, with err, and the request
// carried more than that: a second cookie of one of our names, or several
// chunks. A cookie set for a parent domain or a longer path, by a sibling
// host or a network attacker (cookie tossing), or left by an earlier
// Domain or Path setting, comes before the session's own in the Cookie
// header, and a chunk name the session did not write, or a second value
// of one it did, spoils the join. So it tries, for each candidate of the
// base name in header order (see shadowSet), the chains of chunk
// candidates that follow it (see shadowSearch.chain), and opens the first
// that authenticates, within maxShadowOpens opens: every token is checked
// in full, so this chooses only among tokens this ring sealed for this
// name. If none opens, the error is one that keeps the client's cookie
// (see load) when any of the tokens gave such an error, so a tossed
// cookie cannot get a session from a newer ring cleared; otherwise err.
// tried is the token that gave err ("" if none did), which is not opened
// again; nor is a value alone too short to be a token, nor a chain past
// the codec's limit (it is not even built). A chain too short to be a
// token is opened, to fail as invalid, and counts (see shadowSearch.open).
func (m *Manager) openShadowed(s *Session, r *http.Request, now time.Time, rec *Record, tried string, err error) error {
	sh := &shadowSearch{m: m, now: now, tried: tried, err: err, kept: keepsCookie(err), budget: maxShadowOpens}
	sh.sets = m.shadowSets(r.Header["Cookie"])
	sh.pieces = make([]string, 0, len(m.names))
	for j := range sh.sets[0].len() {
		base := sh.sets[0].at(j)
		if sh.chain(append(sh.pieces[:0], base), len(base)) {
			*rec = sh.rec        // rec itself stays out of the search, which escapes
			m.warnShadowed(s, r) // a chunk the session did not write
			return nil
		}
	}
	return sh.err
}

// shadowSet holds the values of one of our chunk names that
// openShadowed tries, in header order: the first 1+maxShadows, and the
// last maxShadows of the others, the k-th of them at k%maxShadows.
type shadowSet struct {
	first  [1 + maxShadows]string
	last   [maxShadows]string
	nFirst int
	others int
}

func (set *shadowSet) add(value string) {
	if set.nFirst < len(set.first) {
		set.first[set.nFirst] = value
		set.nFirst++
		return
	}
	set.last[set.others%maxShadows] = value
	set.others++
}

// len returns how many values the set holds.
func (set *shadowSet) len() int { return set.nFirst + min(set.others, maxShadows) }

// at returns the set's j-th value in header order.
func (set *shadowSet) at(j int) string {
	if j < set.nFirst {
		return set.first[j]
	}
	return set.last[(max(set.others-maxShadows, 0)+j-set.nFirst)%maxShadows]
}

// shadowSets returns a shadowSet for each of our chunk names, filled from
// the Cookie lines: every value of the base name, and the non-empty values
// of the other chunk names (an empty one adds nothing to a token).
func (m *Manager) shadowSets(lines []string) []shadowSet {
	sets := make([]shadowSet, len(m.names))
	for _, line := range lines {
		for line != "" {
			var part string
			part, line = cutByte(line, ';')
			name, value := cutByte(textproto.TrimString(part), '=')
			value = unquote(value)
			if i := m.chunkIndex(textproto.TrimString(name)); i == 0 || i > 0 && value != "" {
				sets[i].add(value)
			}
		}
	}
	return sets
}

// shadowSearch is openShadowed's state: the tokens it may still open, the
// error it will return, and a scratch buffer the chains are joined in.
type shadowSearch struct {
	m       *Manager
	now     time.Time
	rec     Record
	tried   string
	err     error
	kept    bool
	budget  int
	sets    []shadowSet
	pieces  []string
	scratch []byte
}

// chain tries the tokens that pieces (chunks 0 to len(pieces)-1, size
// bytes in all) begin, and reports whether one opened: first pieces
// followed by each candidate of the next chunk name, in header order, and
// so on, when the last piece fills its chunk (the writer fills every
// chunk but the last); then pieces alone. Junk tossed under a chunk name
// thus neither hides the chunks sent after it nor, sent above the
// session's last chunk, spoils the join.
func (sh *shadowSearch) chain(pieces []string, size int) bool {
	i := len(pieces)
	if i < len(sh.sets) && len(pieces[i-1]) == sh.m.caps[i-1] {
		for j := range sh.sets[i].len() {
			c := sh.sets[i].at(j)
			if sh.budget == 0 {
				return false
			}
			if size+len(c) <= sh.m.codec.maxLen && sh.chain(append(pieces, c), size+len(c)) {
				return true
			}
		}
	}
	return sh.open(pieces, size)
}

// open opens the token pieces make, unless it is the one that gave the
// first error, a value alone too short to open, or past the budget. A
// chain of several values too short to open counts against the budget
// all the same (the codec refuses its length): under a MaxCookieSize
// whose chunks hold a few bytes each, a header of full values under many
// chunk names would otherwise have chain try every combination of them
// without ever spending the budget, nine times more with each name.
func (sh *shadowSearch) open(pieces []string, size int) bool {
	if sh.budget == 0 || (len(pieces) == 1 && (size < minTokenLen || pieces[0] == sh.tried)) {
		return false
	}
	if len(pieces) > 1 && size == len(sh.tried) && joinedIs(pieces, sh.tried) {
		return false
	}
	sh.budget--
	sh.rec = Record{}
	var e error
	if len(pieces) == 1 {
		e = sh.m.codec.open(pieces[0], sh.now, &sh.rec)
	} else {
		if sh.scratch == nil {
			// A chain joins values of distinct cookies: a buffer of the
			// longest token holds any of them.
			sh.scratch = make([]byte, 0, sh.m.codec.maxLen)
		}
		e = sh.m.codec.openJoined(pieces, &sh.scratch, sh.now, &sh.rec)
	}
	if e == nil {
		return true
	}
	if !sh.kept && keepsCookie(e) {
		sh.err, sh.kept = e, true
	}
	return false
}

// joinedIs reports whether pieces joined are token.
func joinedIs(pieces []string, token string) bool {
	for _, p := range pieces {
		if !strings.HasPrefix(token, p) {
			return false
		}
		token = token[len(p):]
	}
	return token == ""
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
func (m *Manager) cookieLine(i int, value []byte, maxAge int, browserSession bool) string {
	var b strings.Builder
	b.Grow(len(m.names[i]) + 1 + len(value) + len("; Max-Age=") + 20 + len(m.attrText))
	b.WriteString(m.names[i])
	b.WriteByte('=')
	b.Write(value)
	if !browserSession {
		var digits [20]byte
		b.WriteString("; Max-Age=")
		b.Write(strconv.AppendInt(digits[:0], int64(max(maxAge, 1)), 10))
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

// warnShadowed logs, once per Manager, a request that carried two cookies
// of one of the session's names with different values, or whose session
// opened only without a chunk cookie it carried. The browser holds such a
// cookie for a parent domain or a longer path: set by a sibling host or a
// network attacker (cookie tossing: it can sign the user in to the
// attacker's session), or left by an earlier Domain or Path setting. The
// first cookie of the name that opens is taken. A chunk alone is also
// what parallel responses leave (FORMAT.md section 5, step 5), and the
// line says so: the request cannot tell the two apart.
func (m *Manager) warnShadowed(s *Session, r *http.Request) {
	if m.shadowedLogged.Load() || m.shadowedLogged.Swap(true) {
		return
	}
	fix := "if an earlier configuration of this Manager had another Path or Domain, list it in Options.Retired, which expires that cookie; otherwise name the cookie with the __Host- prefix (Options.Name \"__Host-session\"), which no other host and no plain-HTTP page can set, and give every app on the site its own cookie name"
	if m.retiresOwn {
		// Options.Retired lists a cookie of the session's name already.
		fix = "Options.Retired lists an earlier cookie of the session's name, which responses that set the session's cookies expire: while instances of the earlier configuration still serve (a rolling deployment), they write it again, and this ends with the rollout; if it does not, the cookie was set for a Path or Domain that no entry names (a browser's developer tools show them: list it), or by another host (name the cookie with the __Host- prefix)"
	}
	msg := "cookiesession: the request carried two cookies of the session's name with different values: another host of the site, an earlier Domain or Path setting, or an attacker (cookie tossing) set one for a parent domain or a longer path; the first that opens is taken (logged once)"
	if !s.shadowed {
		// Only a chunk beside a session that opened without it: parallel
		// responses leave one too, which the next session written expires.
		msg = "cookiesession: the request carried a chunk cookie its session does not use: parallel responses leave one (a response that shrank the session landed after one that grew it), and the next session written expires it; if it stays, another host of the site, an earlier Domain or Path setting, or an attacker (cookie tossing) set it for a parent domain or a longer path; the session opened without it (logged once)"
	}
	s.log(r.Context(), slog.LevelWarn, msg, slog.String("cookie", m.opts.Name), slog.String("path", urlPath(r)), slog.String("fix", fix))
}
