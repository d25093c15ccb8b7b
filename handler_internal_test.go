package cookiesession

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTooManyCookies checks the count against net/http's rule at the
// boundary, with the cookies in one line and spread over several, and
// that short headers are not miscounted by the shortcut.
func TestTooManyCookies(t *testing.T) {
	cookies := func(n int) string { return strings.TrimSuffix(strings.Repeat("a=1;", n), ";") }
	for _, c := range []struct {
		name  string
		lines []string
		n     int
		over  bool
	}{
		{"none", nil, 0, false},
		{"one", []string{"session=abc"}, 0, false},
		{"3000 in one line", []string{cookies(3000)}, 3000, false},
		{"3001 in one line", []string{cookies(3001)}, 3001, true},
		{"3001 over three lines", []string{cookies(1000), cookies(1000), cookies(1001)}, 3001, true},
		{"3000 empty cookies", []string{strings.Repeat(";", 2999)}, 3000, false},
		{"3001 empty cookies", []string{strings.Repeat(";", 3000)}, 3001, true},
	} {
		n, over := tooManyCookies(c.lines)
		if over != c.over || (over && n != c.n) {
			t.Errorf("%s: tooManyCookies = %d, %v; want %d, %v", c.name, n, over, c.n, c.over)
		}
	}
}

// TestCarriesRetiredScan: the scan that also looks for stale chunks
// (warnStaleChunk) returns what the plain scan it replaced returned, a
// retired name anywhere in the Cookie lines or a shadowed cookie of a
// retired own name, for every header, before the Warn is logged and
// after.
func TestCarriesRetiredScan(t *testing.T) {
	ring := sevensRing(t)
	plain := func(m *Manager, lines []string, shadowed bool) bool {
		if shadowed && m.retiresOwn {
			return true
		}
		for _, line := range lines {
			for _, part := range strings.Split(line, ";") {
				name, _, _ := strings.Cut(textproto.TrimString(part), "=")
				if slices.Contains(m.retiredNames, textproto.TrimString(name)) {
					return true
				}
			}
		}
		return false
	}
	headers := [][]string{
		nil,
		{""},
		{"session=a"},
		{"old=a"},
		{"old.1=a"},
		{"old.1=a; old=b"},
		{"old=b; old.1=a"},
		{"a=1", "old.2=x", "old=y"},
		{"old.1=a", "x=1; old.3=b"},
		{"session=a; session.1=b; session.4=c"},
		{"session.1=a", "session.2=b", "session=c"},
		{" old.1 =a ;  old = b"},
		{"old.1", "old"},
		{";;old.1=;;", ";old=;"},
		{"older.1=a; ol.1=b; old.01=c; old.+1=d"},
		{"__Host-old.1=a; __Host-old=b"},
		{strings.Repeat("old.1=a; ", 100) + "old=b"},
	}
	for _, opts := range []Options{
		{Retired: []RetiredCookie{{Name: "old"}}},
		{Retired: []RetiredCookie{{Name: "old", MaxChunks: 2}, {Name: "other"}}},
		{MaxChunks: 3, Retired: []RetiredCookie{{Path: "/app"}}},
		{MaxChunks: 2, Retired: []RetiredCookie{{MaxChunks: 4}}},
		{Name: "__Host-s", Retired: []RetiredCookie{{Name: "__Host-old"}, {Name: "session", MaxChunks: 2}}},
	} {
		m, err := New(ring, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, logged := range []bool{false, true} {
			for _, lines := range headers {
				for _, shadowed := range []bool{false, true} {
					m.staleChunkLogged.Store(logged)
					r := httptest.NewRequest("GET", "/", nil)
					r.Header["Cookie"] = lines
					s := &Session{shadowed: shadowed}
					if got, want := m.carriesRetired(r, s), plain(m, lines, shadowed); got != want {
						t.Errorf("Retired %+v, MaxChunks %d, Cookie %q, shadowed %v, Warn logged %v: carriesRetired = %v, want %v",
							opts.Retired, opts.MaxChunks, lines, shadowed, logged, got, want)
					}
				}
			}
		}
	}
}

// TestMaxAgeBeyond32Bits: a Max-Age more than 2^31 seconds (68 years)
// reaches the line whole where int is 32 bits, as on 64-bit; held in an
// int, GOARCH=386 and arm wrapped it negative and wrote Max-Age=1, and
// the browser dropped the cookie a second later. Before SkipRefresh
// stopped re-keying, a poll's re-key of a token sealed under
// BrowserSession and a 100-year MaxAge kept that deadline; New's bounds
// keep every other one under 400 days. CI runs this on 386.
func TestMaxAgeBeyond32Bits(t *testing.T) {
	ring := sevensRing(t)
	m, err := New(ring, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const century = 100 * 365 * 24 * 3600
	if line := m.cookieLine(0, []byte("token"), century, false); !strings.Contains(line, "; Max-Age=3153600000;") {
		t.Errorf("cookieLine with %d seconds left: %q", int64(century), line)
	}
}

// TestUnreadableAuthenticTokenWarns: a token that authenticated under a
// key of the ring, so an instance holding the ring sealed it, but whose
// values this instance cannot read, signs its user out; that is a fleet
// whose instances disagree (a 64-bit one stored an int past 32 bits, which
// a GOARCH=386 or arm one refuses; a newer release wrote a type tag this
// one lacks), not forged input. It was logged only at Debug, as a forged
// cookie is: the fleet lost sessions without a word. It warns with the
// fix now, once a minute per key id. Tag 0x15 stands for both here: a
// 64-bit platform reads every int.
func TestUnreadableAuthenticTokenWarns(t *testing.T) {
	key, err := NewKey(vecKey1.id, vecKey1.secret)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(vecNow, 0)
	var logs strings.Builder
	m, err := New(ring, Options{Name: vecCookie, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	unreadable := vecSealPlain(t, version, "unreadable", vecPlain([]byte{1, 1, 'a', 0x15}))
	serve := func(token string) {
		r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
		r.AddCookie(&http.Cookie{Name: vecCookie, Value: token})
		m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			FromContext(r.Context()).Len() // the session opens at its first use
		})).ServeHTTP(httptest.NewRecorder(), r)
	}
	serve(unreadable)
	line := logs.String()
	for _, want := range []string{"level=WARN", "cookiesession: session cookie refused", "unknown type tag 0x15", "key_id=1a2b3c4d", "store int64 or uint64", "run one release across the fleet"} {
		if !strings.Contains(line, want) {
			t.Errorf("the refusal's log lacks %q: %s", want, line)
		}
	}
	logs.Reset()
	now = now.Add(30 * time.Second)
	serve(unreadable)
	if got := logs.String(); strings.Contains(got, "level=WARN") || !strings.Contains(got, "level=DEBUG") {
		t.Errorf("a second refusal within the minute: want Debug, got %s", got)
	}
	// A format version this release does not read, sealed under a key of
	// the ring (a newer release): it was refused at Debug, as a forged
	// cookie is; it warns now. Not one under a key the ring lacks.
	logs.Reset()
	now = now.Add(time.Minute)
	serve(vecSealPlain(t, 0x03, "newer version", vecPlain([]byte{0})))
	for _, want := range []string{"level=WARN", "unknown format version 0x03", "key_id=1a2b3c4d", "format version this release does not know"} {
		if got := logs.String(); !strings.Contains(got, want) {
			t.Errorf("a version 0x03 token under a key of the ring: the log lacks %q: %s", want, got)
		}
	}
	logs.Reset()
	forgedV3, err := b64.DecodeString(vecSealPlain(t, 0x03, "newer version", vecPlain([]byte{0})))
	if err != nil {
		t.Fatal(err)
	}
	forgedV3[len(forgedV3)-1] ^= 1
	now = now.Add(time.Minute)
	serve(b64.EncodeToString(forgedV3))
	if got := logs.String(); strings.Contains(got, "level=WARN") || !strings.Contains(got, "unknown format version 0x03") {
		t.Errorf("a forged version 0x03 token: want Debug, got %s", got)
	}
	logs.Reset()
	// A forged token fails authentication: Debug, as before.
	raw, err := b64.DecodeString(unreadable)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	serve(b64.EncodeToString(raw))
	if got := logs.String(); strings.Contains(got, "level=WARN") || !strings.Contains(got, reasonAuth) {
		t.Errorf("a forged cookie: want Debug for %q, got %s", reasonAuth, got)
	}
}
