package cookiesession_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// The hostile-request tables. Identifiers in this file carry a rel prefix,
// which sets them apart from the package's shared helpers (helpers_test.go).

// relSeen is what the application saw of its session on one request.
type relSeen struct {
	isNew bool
	n     int
	id    string
	user  string
}

// relApp records the session it is given into *seen. /login stores a user,
// /pad?n=N stores a user and an N-byte value (to reach a size limit).
func relApp(seen *relSeen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		*seen = relSeen{isNew: s.IsNew(), n: s.Len(), user: s.GetString("user")}
		if !seen.isNew {
			seen.id = s.ID()
		}
		switch r.URL.Path {
		case "/login":
			_ = s.Set("user", "alice")
			_ = s.Set("role", "admin")
			_ = s.Set("note", strings.Repeat("n", 60))
		case "/pad":
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			_ = s.Set("user", "alice")
			_ = s.Set("pad", strings.Repeat("p", n))
		}
		_, _ = io.WriteString(w, "ok")
	})
}

// relTarget is a Manager behind the middleware with its probe.
type relTarget struct {
	m    *cookiesession.Manager
	h    http.Handler
	seen relSeen
}

func newRelTarget(t testing.TB, ring *cookiesession.KeyRing, clock *fakeClock, opts cookiesession.Options) *relTarget {
	t.Helper()
	opts.Now, opts.Logger = clock.Now, debugLogger(io.Discard)
	m, err := cookiesession.New(ring, opts)
	if err != nil {
		t.Fatal(err)
	}
	rt := &relTarget{m: m}
	rt.h = m.Handler(relApp(&rt.seen))
	return rt
}

// issue runs path through the middleware with the given Cookie header lines
// and returns the cookies set in the response, by name.
func (rt *relTarget) issue(t testing.TB, path string, cookieLines ...string) (int, map[string]*http.Cookie) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://app.test"+path, nil)
	if len(cookieLines) > 0 {
		req.Header["Cookie"] = cookieLines
	}
	rec := httptest.NewRecorder()
	rt.h.ServeHTTP(rec, req)
	set := map[string]*http.Cookie{}
	for _, c := range rec.Result().Cookies() {
		set[c.Name] = c
	}
	return rec.Code, set
}

// relGenuine is a token (or its chunks) the middleware really issued, and
// the session id it opens to.
type relGenuine struct {
	chunks []string // chunks[i] is the value of chunk cookie i
	id     string
}

func (g relGenuine) token() string { return strings.Join(g.chunks, "") }

// login obtains a genuine token from path and checks that it opens.
func (rt *relTarget) login(t testing.TB, path string) relGenuine {
	t.Helper()
	code, set := rt.issue(t, path)
	if code != http.StatusOK {
		t.Fatalf("%s: status %d", path, code)
	}
	var g relGenuine
	var lines []string
	for i := 0; ; i++ {
		c, ok := set[relChunkName(i)]
		if !ok || c.MaxAge < 0 { // the chunks above the token's are expired
			break
		}
		g.chunks = append(g.chunks, c.Value)
		lines = append(lines, c.Name+"="+c.Value)
	}
	rt.issue(t, "/", strings.Join(lines, "; "))
	if rt.seen.isNew || rt.seen.user != "alice" {
		t.Fatalf("%s: the genuine token did not open: %+v", path, rt.seen)
	}
	g.id = rt.seen.id
	return g
}

func relChunkName(i int) string {
	if i == 0 {
		return "session"
	}
	return "session." + strconv.Itoa(i)
}

// relCase is one hostile request. wantID is the id of the genuine session
// the request must open, or "" if it must get a fresh empty session.
// mayRefuse marks a genuine token in a form that a cookie parser may
// reasonably reject (padded with whitespace, past net/http's 3000 cookie
// limit): refusing it is safe, opening it must give wantID.
// cleared lists the cookie names the response must expire when the session
// is refused.
type relCase struct {
	name      string
	lines     []string // Cookie header lines
	wantID    string
	mayRefuse bool
	cleared   []string
}

func relRow(name, header, wantID string, cleared ...string) relCase {
	return relCase{name: name, lines: []string{header}, wantID: wantID, cleared: cleared}
}

// relMay is a row whose genuine token may be refused; see relCase.
func relMay(name, header, wantID string) relCase {
	return relCase{name: name, lines: []string{header}, wantID: wantID, mayRefuse: true}
}

// relTally counts the outcomes TestHostileRequests reports.
type relTally struct {
	inputs, panics, fiveXX, forged, refusedGenuine int

	// optional lists the mayRefuse rows and what became of them.
	optional []string
}

// check sends one case and records its outcome; it never stops the test
// so that a single run reports every failing row.
func (rt *relTarget) check(t *testing.T, c relCase, tally *relTally) {
	t.Helper()
	tally.inputs++
	rt.seen = relSeen{}
	code, set, panicked := rt.safeIssue(t, c.lines)
	if panicked != nil {
		tally.panics++
		t.Errorf("%s: panic: %v", c.name, panicked)
		return
	}
	if code >= 500 {
		tally.fiveXX++
	}
	if code != http.StatusOK {
		t.Errorf("%s: status %d, want 200", c.name, code)
	}
	rt.checkSession(t, c, tally)
	relCheckCleared(t, c, rt.seen.isNew, set)
}

func (rt *relTarget) safeIssue(t *testing.T, lines []string) (code int, set map[string]*http.Cookie, panicked any) {
	defer func() {
		if p := recover(); p != nil {
			panicked = fmt.Sprintf("%v\n%s", p, debug.Stack())
		}
	}()
	code, set = rt.issue(t, "/", lines...)
	return code, set, nil
}

func (rt *relTarget) checkSession(t *testing.T, c relCase, tally *relTally) {
	t.Helper()
	got := rt.seen
	switch {
	case !got.isNew && (c.wantID == "" || got.id != c.wantID || got.user != "alice"):
		tally.forged++
		t.Errorf("%s: FORGED: handler saw session %+v, want %q", c.name, got, c.wantID)
	case got.isNew && got.n != 0:
		tally.forged++
		t.Errorf("%s: FORGED: a new session holds %d values", c.name, got.n)
	case c.mayRefuse:
		tally.optional = append(tally.optional, fmt.Sprintf("%s: refused=%v", c.name, got.isNew))
	case got.isNew && c.wantID != "":
		tally.refusedGenuine++
		t.Errorf("%s: the genuine session was refused", c.name)
	}
}

// relCheckCleared requires an expiring Set-Cookie for each name in
// c.cleared when the session was refused, and no Set-Cookie at all when the
// genuine session was opened: nothing changed.
func relCheckCleared(t *testing.T, c relCase, refused bool, set map[string]*http.Cookie) {
	t.Helper()
	if !refused {
		if len(set) != 0 {
			t.Errorf("%s: a valid unchanged session got Set-Cookie %v", c.name, set)
		}
		return
	}
	for _, name := range c.cleared {
		if sc, ok := set[name]; !ok || sc.MaxAge >= 0 {
			t.Errorf("%s: cookie %s not cleared (Set-Cookie %v)", c.name, name, sc)
		}
	}
}

// relFixture holds the targets and genuine tokens the tables are built from.
type relFixture struct {
	clock   *fakeClock
	single  *relTarget // MaxChunks 1, token limit relLimit
	chunked *relTarget // MaxChunks 4, 96-byte cookies
	tok     relGenuine // a genuine single-cookie token
	other   relGenuine // a second genuine session, for duplicates
	chunks  relGenuine // a genuine token in three chunks
	exact   relGenuine // a genuine token of exactly relLimit bytes
	ring    *cookiesession.KeyRing
}

// relLimit is the single target's token limit: MaxCookieSize 4095 minus the
// 7-byte name. 4096-7 = 4089 is not a length base64url can produce (no
// length is 1 mod 4), so the limit is placed where a token can meet it.
const relLimit = 4088

func newRelFixture(t *testing.T) *relFixture {
	t.Helper()
	f := &relFixture{clock: newFakeClock(fixedNow), ring: ringOf(t, keyA)}
	f.single = newRelTarget(t, f.ring, f.clock, cookiesession.Options{MaxCookieSize: relLimit + len("session")})
	f.chunked = newRelTarget(t, f.ring, f.clock, cookiesession.Options{MaxChunks: 4, MaxCookieSize: 96})
	f.tok = f.single.login(t, "/login")
	f.other = f.single.login(t, "/login")
	f.chunks = f.chunked.login(t, "/login")
	if len(f.chunks.chunks) != 3 {
		t.Fatalf("chunked login gave %d chunks, want 3", len(f.chunks.chunks))
	}
	f.exact = f.exactToken(t)
	return f
}

// exactToken has the middleware issue a genuine token of exactly relLimit
// bytes.
func (f *relFixture) exactToken(t *testing.T) relGenuine {
	t.Helper()
	g := f.single.login(t, "/pad?n="+strconv.Itoa(relPadFor(t, f.single.m.Codec(), relLimit)))
	if len(g.token()) != relLimit {
		t.Fatalf("exact token is %d bytes, want %d", len(g.token()), relLimit)
	}
	return g
}

// relPadFor returns the pad length for which relApp's /pad session seals
// to a token of exactly length bytes.
func relPadFor(t *testing.T, codec *cookiesession.Codec, length int) int {
	t.Helper()
	for n := range length {
		var rec cookiesession.Record
		setValue(t, &rec.Values, "user", "alice")
		setValue(t, &rec.Values, "pad", strings.Repeat("p", n))
		switch l := codec.TokenLen(&rec); {
		case l == length:
			return n
		case l > length:
			t.Fatalf("no pad length gives a %d-byte token", length)
		}
	}
	t.Fatalf("no pad length gives a %d-byte token", length)
	return 0
}

func TestHostileRequests(t *testing.T) {
	f := newRelFixture(t)
	var tally relTally
	groups := []struct {
		name   string
		target *relTarget
		cases  func() []relCase // built when the group runs: expired moves the clock
	}{
		{"huge", f.single, f.hugeCases},
		{"duplicates", f.single, f.duplicateCases},
		{"bytes", f.single, f.byteCases},
		{"quoted", f.single, f.quotedCases},
		{"size-limit", f.single, func() []relCase { return f.sizeCases(t) }},
		{"foreign", f.single, func() []relCase { return f.foreignCases(t) }},
		{"truncations", f.single, func() []relCase { return relTruncations("trunc", f.tok.token()) }},
		{"bit-flips", f.single, func() []relCase { return relBitFlips(t, f.tok.token()) }},
		{"chunks", f.chunked, f.chunkCases},
		{"chunk-truncations", f.chunked, f.chunkTruncations},
		{"expired", f.single, f.expiredCases}, // last: it moves the clock
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases() {
				g.target.check(t, c, &tally)
			}
		})
	}
	t.Logf("inputs=%d panics=%d 5xx=%d forged=%d refused-genuine=%d",
		tally.inputs, tally.panics, tally.fiveXX, tally.forged, tally.refusedGenuine)
	t.Logf("genuine tokens in odd forms:\n%s", strings.Join(tally.optional, "\n"))
	if tally.panics != 0 || tally.fiveXX != 0 || tally.forged != 0 {
		t.Errorf("want panics=0 5xx=0 forged=0")
	}
}

// relJunkCookies returns n cookies "cNNNN=vvv" of about size bytes each,
// joined as one header value.
func relJunkCookies(n, size int) string {
	parts := make([]string, n)
	for i := range parts {
		name := fmt.Sprintf("c%05d", i)
		parts[i] = name + "=" + strings.Repeat("v", max(size-len(name)-3, 1))
	}
	return strings.Join(parts, "; ")
}

func (f *relFixture) hugeCases() []relCase {
	tok := "session=" + f.tok.token()
	mib := 1 << 20
	return []relCase{
		relRow("1MiB value in our cookie", "session="+strings.Repeat("A", mib), "", "session"),
		relRow("1MiB of 1000 other cookies, then ours", relJunkCookies(1000, mib/1000)+"; "+tok, f.tok.id),
		relRow("1MiB of 1000 other cookies, then ours garbled", relJunkCookies(1000, mib/1000)+"; session=xyz", "", "session"),
		// net/http's Request.Cookies ignores a header with more than 3000
		// cookies (GODEBUG httpcookiemaxnum); a parser of its own may not.
		relMay("1MiB of 4096 cookies, then ours", relJunkCookies(4096, mib/4096)+"; "+tok, f.tok.id),
		relRow("3000 cookies, ours last", relJunkCookies(2999, 8)+"; "+tok, f.tok.id),
		relRow("3000 cookies, ours garbled in the middle", relJunkCookies(1500, 8)+"; session=AAAA; "+relJunkCookies(1499, 8), "", "session"),
		relMay("3001 cookies, ours last", relJunkCookies(3000, 8)+"; "+tok, f.tok.id),
	}
}

func (f *relFixture) duplicateCases() []relCase {
	tok, other := f.tok.token(), f.other.token()
	return []relCase{
		// Browsers put the most specific path first, and a cookie tossed
		// for a parent domain or a longer path before the session's own:
		// the first that opens is taken, and none is cleared, since the
		// clear would reach only the session's own.
		relRow("junk then genuine", "session=junk; session="+tok, f.tok.id),
		relRow("genuine then junk", "session="+tok+"; session=junk", f.tok.id),
		relRow("two genuine sessions", "session="+tok+"; session="+other, f.tok.id),
		relRow("two genuine sessions, swapped", "session="+other+"; session="+tok, f.other.id),
		relRow("truncated then genuine", "session="+tok[:len(tok)-1]+"; session="+tok, f.tok.id),
		relRow("junk twice", "session=junk; session=junk", ""),
		{name: "two Cookie lines, ours in the second", lines: []string{"a=b", "session=" + tok}, wantID: f.tok.id},
		{name: "two Cookie lines, junk first", lines: []string{"session=junk", "session=" + tok}, wantID: f.tok.id},
		relRow("case variant of our name ignored", "Session=junk; SESSION=junk; session="+tok, f.tok.id),
	}
}

func (f *relFixture) byteCases() []relCase {
	tok := f.tok.token()
	mid := len(tok) / 2
	std := strings.NewReplacer("-", "+", "_", "/").Replace(tok)
	cases := []relCase{
		relRow("leading space inside the value", "session= "+tok, "", "session"),
		relMay("trailing whitespace", "session="+tok+"  ", f.tok.id),
		relRow("padding appended", "session="+tok+"==", "", "session"),
		relRow("comma inside", "session="+tok[:mid]+","+tok[mid:], "", "session"),
		relRow("standard base64 alphabet", "session="+std+"+", "", "session"),
		relRow("empty value", "session=", ""),
		relRow("no equals sign", "session", ""),
	}
	// net/http drops a cookie whose value holds a control byte, a non-ASCII
	// byte, a quote or a backslash: the middleware never sees it, so it
	// cannot clear it. The session must still be fresh.
	for _, b := range []string{"\x00", "\x01", "\t", "\n", "\x7f", "\x80", "\xff", "é", "\u2028", "\\", "\""} {
		cases = append(cases,
			relRow(fmt.Sprintf("byte %q inside", b), "session="+tok[:mid]+b+tok[mid:], "", "session"),
			relRow(fmt.Sprintf("byte %q appended, then more", b), "session="+tok+b+"A", "", "session"),
			relRow(fmt.Sprintf("byte %q in the name", b), "sess"+b+"ion="+tok, ""))
	}
	// A trailing tab is whitespace around the cookie-pair, which parsers
	// trim: what remains is the genuine token.
	cases = append(cases, relMay("tab appended", "session="+tok+"\t", f.tok.id))
	return cases
}

func (f *relFixture) quotedCases() []relCase {
	tok := f.tok.token()
	return []relCase{
		// RFC 6265 allows a quoted cookie-value; the middleware strips the
		// quotes, as net/http does, and the token inside is genuine.
		relRow("quoted genuine", `session="`+tok+`"`, f.tok.id),
		relRow("quoted junk", `session="junk"`, "", "session"),
		relRow("quoted empty", `session=""`, ""),
		relRow("open quote only", `session="`+tok, "", "session"),
		relRow("close quote only", `session=`+tok+`"`, "", "session"),
		relRow("doubled quotes", `session=""`+tok+`""`, "", "session"),
		relRow("quotes inside", `session="`+tok[:10]+`"`+tok[10:]+`"`, "", "session"),
	}
}

func (f *relFixture) sizeCases(t *testing.T) []relCase {
	exact := f.exact.token()
	// A genuine token two bytes over the limit (base64url has no length
	// limit+1) comes from a Codec of the same ring with a larger limit.
	big, err := cookiesession.NewCodec(f.ring, cookiesession.CodecOptions{Name: "session", MaxTokenLen: relLimit + 8})
	if err != nil {
		t.Fatal(err)
	}
	var rec cookiesession.Record
	setValue(t, &rec.Values, "user", "alice")
	setValue(t, &rec.Values, "pad", strings.Repeat("p", relPadFor(t, big, relLimit+2)))
	over, err := big.SealAt(&rec, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(over) != relLimit+2 {
		t.Fatalf("over-limit token is %d bytes, want %d", len(over), relLimit+2)
	}
	return []relCase{
		relRow("exactly the limit", "session="+exact, f.exact.id),
		relRow("limit+1: one byte appended", "session="+exact+"A", "", "session"),
		relRow("limit+2: genuine but too long", "session="+over, "", "session"),
		relRow("limit-1: last byte cut", "session="+exact[:len(exact)-1], "", "session"),
	}
}

// foreignCases are authentic tokens this target must not accept.
func (f *relFixture) foreignCases(t *testing.T) []relCase {
	misnamed := newRelTarget(t, f.ring, f.clock, cookiesession.Options{Name: "other"})
	otherRing := newRelTarget(t, ringOf(t, keyB), f.clock, cookiesession.Options{})
	_, set := misnamed.issue(t, "/login")
	renamed := set["other"].Value
	return []relCase{
		relRow("sealed for another cookie name", "session="+renamed, "", "session"),
		relRow("sealed under an unknown key (not cleared: it may be newer than this ring)", "session="+otherRing.login(t, "/login").token(), ""),
		relRow("shortest possible token length", "session="+strings.Repeat("A", cookiesession.MinTokenLen), "", "session"),
	}
}

// relTruncations returns every prefix of tok and tok with each single byte
// deleted. The empty prefix is an empty cookie, which is no session and is
// not cleared.
func relTruncations(prefix, tok string) []relCase {
	var cases []relCase
	for i := range len(tok) {
		c := relRow(fmt.Sprintf("%s: prefix %d", prefix, i), "session="+tok[:i], "", "session")
		if i == 0 {
			c.cleared = nil
		}
		cases = append(cases, c,
			relRow(fmt.Sprintf("%s: byte %d deleted", prefix, i), "session="+tok[:i]+tok[i+1:], "", "session"))
	}
	return cases
}

// relBitFlips flips every bit of the decoded token, one at a time, and
// re-encodes it as canonical base64url.
func relBitFlips(t *testing.T, tok string) []relCase {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	var cases []relCase
	for bit := range len(raw) * 8 {
		flipped := slices.Clone(raw)
		flipped[bit/8] ^= 1 << (bit % 8)
		value := base64.RawURLEncoding.EncodeToString(flipped)
		name := fmt.Sprintf("flip bit %d", bit)
		if bit >= 8 && bit < 40 { // the key id: unknown here, maybe newer than this ring, so not cleared
			cases = append(cases, relRow(name, "session="+value, ""))
			continue
		}
		cases = append(cases, relRow(name, "session="+value, "", "session"))
	}
	return cases
}

// relChunkHeader renders chunk values under the given chunk indexes.
func relChunkHeader(values []string, idx ...int) string {
	parts := make([]string, len(idx))
	for i, n := range idx {
		parts[i] = relChunkName(n) + "=" + values[n]
	}
	return strings.Join(parts, "; ")
}

func (f *relFixture) chunkCases() []relCase {
	ch, id := f.chunks.chunks, f.chunks.id
	all := relChunkHeader(ch, 0, 1, 2)
	swapped := []string{ch[0], ch[2], ch[1]}
	return []relCase{
		relRow("chunks in order", all, id),
		relRow("chunks in reverse header order", relChunkHeader(ch, 2, 1, 0), id),
		relMay("whole token in the first chunk", "session="+f.chunks.token(), id),
		relRow("gap: chunk 1 missing", relChunkHeader(ch, 0, 2), "", "session", "session.2"),
		// Chunks without the first stay, not cleared: a clear would
		// expire session too, a parallel response's new session
		// (TestLeftoverChunksKeepParallelLogin, TestBrokenChunks).
		relRow("gap: chunk 0 missing", relChunkHeader(ch, 1, 2), ""),
		relRow("only chunk 1", "session.1="+ch[1], ""),
		relRow("last chunk missing", relChunkHeader(ch, 0, 1), "", "session", "session.1"),
		relRow("chunks 1 and 2 swapped", relChunkHeader(swapped, 0, 1, 2), "", "session", "session.1", "session.2"),
		// A chunk name the session did not write (tossed, or left by a
		// parallel response) does not hide it (TestTossedChunkNames).
		relRow("extra chunk 3 after a genuine token", all+"; session.3=AAAA", id),
		relRow("chunk 4 is beyond MaxChunks 4: ignored", all+"; session.4=AAAA", id),
		relRow("chunk 99 with MaxChunks 4: ignored", all+"; session.99=AAAA", id),
		relRow("chunk -1 and 01 are not chunk names", all+"; session.-1=A; session.01=B", id),
		relRow("chunk 1 as session.01", "session="+ch[0]+"; session.01="+ch[1]+"; session.2="+ch[2], "", "session", "session.2"),
		// A tossed chunk before the session's own does not hide it.
		relRow("duplicate chunk 1, junk first", "session.1=AAAA; "+all, id),
		relRow("chunk 1 over the total limit", "session="+ch[0]+"; session.1="+strings.Repeat("A", 10000), "", "session", "session.1"),
		relRow("chunk 2 over the total limit", relChunkHeader(ch, 0, 1)+"; session.2="+strings.Repeat("A", 1<<20), "", "session", "session.1", "session.2"),
		// A gap followed by more chunks: every chunk the client sent must
		// be expired, including the ones after the gap.
		relRow("gap with chunks after it", relChunkHeader(ch, 0, 2)+"; session.3=AAAA", "", "session", "session.2", "session.3"),
		relRow("chunk 0 missing, 1 to 3 present", relChunkHeader(ch, 1, 2)+"; session.3=AAAA", ""),
	}
}

// chunkTruncations cuts the chunked token at every length and re-splits it
// the way the middleware does, into 89- and 87-byte chunks.
func (f *relFixture) chunkTruncations() []relCase {
	tok := f.chunks.token()
	var cases []relCase
	for i := 1; i < len(tok); i++ {
		cut := tok[:i]
		var parts, names []string
		for n := 0; cut != ""; n++ {
			size := min(len(cut), 96-len(relChunkName(n)))
			parts = append(parts, relChunkName(n)+"="+cut[:size])
			names = append(names, relChunkName(n))
			cut = cut[size:]
		}
		cases = append(cases, relRow(fmt.Sprintf("chunked prefix %d", i), strings.Join(parts, "; "), "", names...))
	}
	return cases
}

// expiredCases move the clock past MaxAge: a genuine token is then refused.
func (f *relFixture) expiredCases() []relCase {
	f.clock.Advance(24 * time.Hour)
	return []relCase{
		relRow("genuine token at exactly MaxAge", "session="+f.tok.token(), "", "session"),
		relRow("exact-limit token at exactly MaxAge", "session="+f.exact.token(), "", "session"),
	}
}

// relMeasure returns allocations and bytes allocated per request for the
// given Cookie header.
func relMeasure(h http.Handler, header string) (allocs float64, bytes uint64) {
	req := httptest.NewRequest(http.MethodGet, "http://app.test/", nil)
	req.Header.Set("Cookie", header)
	w := &discardWriter{h: http.Header{}}
	serve := func() { w.serve(h, req) }
	allocs = testing.AllocsPerRun(50, serve)
	const runs = 50
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		serve()
	}
	runtime.ReadMemStats(&after)
	return allocs, (after.TotalAlloc - before.TotalAlloc) / runs
}

// relChunks returns n chunk cookies of the name session, session.1 to
// session.n, of size bytes each.
func relChunks(n, size int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "session." + strconv.Itoa(i+1) + "=" + strings.Repeat("A", size)
	}
	return strings.Join(parts, "; ")
}

// relFullChunks returns values different values of each of n chunk names,
// each filling its cookie of size bytes, name included.
func relFullChunks(n, values, size int) string {
	var parts []string
	for i := range n {
		name := relChunkName(i)
		for v := range values {
			parts = append(parts, name+"="+strings.Repeat("A", size-len(name)-1)+string(rune('B'+v)))
		}
	}
	return strings.Join(parts, "; ")
}

// TestSessionSurvivesRestart: a process that loads its ring from its text
// form, as LoadKeyRingEnv and LoadKeyRingFile do, and starts again opens
// the cookies it sealed: the user stays signed in, and gets no new cookie
// (gorilla/sessions#16, amberframework/amber#194). One that makes a new
// ring at each start signs everyone out, and says so at Warn.
func TestSessionSurvivesRestart(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	b := newClientCookies()
	f.serve(b, func(w http.ResponseWriter, r *http.Request) { mustSet(t, sessionOf(t, r), "user", "ada") })
	ring, err := cookiesession.ParseKeyRing(marshalRing(t, f.ring))
	if err != nil {
		t.Fatal(err)
	}
	var user string
	read := func(w http.ResponseWriter, r *http.Request) { user = sessionOf(t, r).GetString("user") }
	restarted, err := cookiesession.New(ring, cookiesession.Options{Now: f.clock.Now, Logger: debugLogger(f.log)})
	if err != nil {
		t.Fatal(err)
	}
	if resp := serveWith(t, restarted, b, read); user != "ada" || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("after a restart: user %q, Set-Cookie %q; want ada and none", user, resp.Header.Values("Set-Cookie"))
	}
	fresh, err := cookiesession.New(ringOf(t, keyB), cookiesession.Options{Now: f.clock.Now, Logger: newInfoLogger(f.log)})
	if err != nil {
		t.Fatal(err)
	}
	serveWith(t, fresh, b, read)
	if warns := f.log.lines("unknown key id"); user != "" || len(warns) != 1 || !strings.Contains(warns[0], "level=WARN") {
		t.Errorf("after a restart with a new ring: user %q, Warn lines %q; want none and one", user, warns)
	}
}
