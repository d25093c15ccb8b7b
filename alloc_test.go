//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation
// counts hold only in a normal build.

package cookiesession_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
	"golang.org/x/crypto/chacha20poly1305"
)

// TestCodecAllocations bounds the codec's allocations for the small
// fixture: Seal makes the token string, Open the record's values.
func TestCodecAllocations(t *testing.T) {
	c := benchCodec(t)
	rec, token := sealedRecord(t, c, benchFixtures(t)[0].values)
	seal := testing.AllocsPerRun(200, func() {
		if _, err := c.Seal(&rec); err != nil {
			t.Fatal(err)
		}
	})
	open := testing.AllocsPerRun(200, func() {
		if _, err := c.Open(token); err != nil {
			t.Fatal(err)
		}
	})
	aead := aeadAllocs(t)
	if seal > 1+aead || open > 2+aead {
		t.Errorf("Seal makes %v allocations, Open %v; want at most 1 and 2 over the AEAD's own %v", seal, open, aead)
	}
}

// aeadAllocs returns the allocations of one XChaCha20-Poly1305 open in
// place, which the bounds here do not count against the package: none on
// amd64 and 386 (CI runs both), arm64, riscv64 and s390x (measured once
// under qemu-user); one in x/crypto's pure Go build (-tags purego).
func aeadAllocs(t *testing.T) float64 {
	aead, err := chacha20poly1305.NewX(benchSecret)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	sealed := aead.Seal(nil, nonce, make([]byte, 64), nil)
	buf := make([]byte, 0, len(sealed))
	return testing.AllocsPerRun(200, func() {
		if _, err := aead.Open(buf, nonce, sealed, nil); err != nil {
			t.Fatal(err)
		}
	})
}

// TestMiddlewareAllocations bounds the allocations of a request through
// the middleware, small fixture: a handler that never uses its session
// costs the request's state, which holds the request's copy; reading it
// adds the values; changing it adds the edited values and the Set-Cookie
// line.
func TestMiddlewareAllocations(t *testing.T) {
	cases, req := middlewareCases(t, benchFixtures(t)[0].values)
	w := &discardWriter{h: http.Header{}}
	// A read opens once; a change opens and seals.
	aead := aeadAllocs(t)
	want := map[string]float64{"bare": 0, "untouched": 1, "read": 2 + aead, "modify": 4 + 2*aead}
	for _, c := range cases {
		got := testing.AllocsPerRun(200, func() { w.serve(c.handler, req) })
		if got > want[c.name] {
			t.Errorf("%s request: %v allocations, want at most %v (the AEAD's own: %v per open or seal)", c.name, got, want[c.name], aead)
		}
	}
}

// TestPathCheckAllocations checks that with Options.Path set, a request
// without a cookie that reads its session (every anonymous visitor's)
// costs no more allocations than under the default Path: the check that
// the request is inside the Path runs on each such request.
func TestPathCheckAllocations(t *testing.T) {
	allocs := map[string]float64{}
	for _, path := range []string{"/", "/app"} {
		f := newFixture(t, cookiesession.Options{Path: path})
		h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cookiesession.FromContext(r.Context()).GetString("user")
		}))
		req := httptest.NewRequest("GET", "https://example.com/app/page?tab=1", nil)
		req.RequestURI = "/app/page?tab=1" // as a server reads it: origin-form
		w := &discardWriter{h: http.Header{}}
		allocs[path] = testing.AllocsPerRun(200, func() { w.serve(h, req) })
	}
	if allocs["/app"] > allocs["/"] {
		t.Errorf("a cookieless read under Path /app makes %v allocations, under / %v; want no more", allocs["/app"], allocs["/"])
	}
}

// TestDroppedCountAllocations checks that counting Metrics.Dropped adds
// no allocation to a response that sets the cookie with Options.Domain
// set: warnDomain's own check of the host parses it (two allocations),
// and the count must not parse it again.
func TestDroppedCountAllocations(t *testing.T) {
	allocs := map[string]float64{}
	for _, domain := range []string{"", "example.com"} {
		f := newFixture(t, cookiesession.Options{Domain: domain})
		h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = cookiesession.FromContext(r.Context()).Set("user", "ada")
		}))
		req := httptest.NewRequest("GET", "https://app.example.com/", nil)
		w := &discardWriter{h: http.Header{}}
		allocs[domain] = testing.AllocsPerRun(200, func() { w.serve(h, req) })
	}
	if allocs["example.com"] > allocs[""]+2 {
		t.Errorf("a write with Domain set makes %v allocations, without %v; want at most 2 more", allocs["example.com"], allocs[""])
	}
}

// TestCrossOriginCheckAllocations checks that the check for a fetch from
// another origin whose CORS answer does not allow credentials adds no
// allocation to a login answered to a same-origin fetch, nor to one from
// another origin of the site whose answer allows credentials, over one
// without Sec-Fetch-* headers.
func TestCrossOriginCheckAllocations(t *testing.T) {
	allowOrigin, allowCredentials := []string{"https://app.example.com"}, []string{"true"}
	allocs := map[string]float64{}
	for _, site := range []string{"", "same-origin", "same-site"} {
		f := newFixture(t, cookiesession.Options{})
		h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Access-Control-Allow-Origin"] = allowOrigin
			w.Header()["Access-Control-Allow-Credentials"] = allowCredentials
			_ = cookiesession.FromContext(r.Context()).Set("user", "ada")
		}))
		req := httptest.NewRequest("POST", "https://api.example.com/login", nil)
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
			req.Header.Set("Sec-Fetch-Mode", "cors")
			req.Header.Set("Origin", "https://app.example.com")
		}
		w := &discardWriter{h: http.Header{}}
		allocs[site] = testing.AllocsPerRun(200, func() { w.serve(h, req) })
		if lines := f.log.lines("another origin"); len(lines) > 0 {
			t.Errorf("Sec-Fetch-Site %q with credentials allowed: logged %q", site, lines)
		}
	}
	for _, site := range []string{"same-origin", "same-site"} {
		if allocs[site] > allocs[""] {
			t.Errorf("a login answered to a fetch of Sec-Fetch-Site %s makes %v allocations, one without Sec-Fetch-* headers %v", site, allocs[site], allocs[""])
		}
	}
}

// TestWrongTypeReadAllocations checks that once a getter's read of another
// type has been logged, a repeat costs no more allocations than a read of
// a missing key: code that reads a key as the wrong type does so at every
// request.
func TestWrongTypeReadAllocations(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	s := newSession(t, f)
	mustSet(t, s, "user_id", "1042")
	mustSet(t, s, "visits", 3)
	s.GetInt("user_id") // logged, once per getter, key and stored type
	s.GetString("visits")
	if lines := f.log.lines("a value it cannot return"); len(lines) != 2 {
		t.Fatalf("log lines %q, want two", lines)
	}
	missing := testing.AllocsPerRun(100, func() {
		s.GetInt("missing")
		s.GetString("missing")
	})
	wrong := testing.AllocsPerRun(100, func() {
		s.GetInt("user_id")
		s.GetString("visits")
	})
	if wrong > missing {
		t.Errorf("reads of another type after the first logged: %v allocations, reads of a missing key %v", wrong, missing)
	}
	// A key longer than a log line carries (one built from request data)
	// is remembered as cut, but a repeat must not build the cut text.
	long := strings.Repeat("k", 3*cookiesession.MaxLogText)
	mustSet(t, s, long, "text")
	s.GetInt(long)
	if lines := f.log.lines("a value it cannot return"); len(lines) != 3 {
		t.Fatalf("log lines %q, want three", lines)
	}
	longMissing := long[1:]
	missing = testing.AllocsPerRun(100, func() { s.GetInt(longMissing) })
	wrong = testing.AllocsPerRun(100, func() { s.GetInt(long) })
	if wrong > missing {
		t.Errorf("reads of a %d-byte key of another type after the first logged: %v allocations, reads of a missing key %v", len(long), wrong, missing)
	}
}

// TestRequestStateSize checks that the one allocation of a request whose
// handler never uses its session, the request state that holds the
// request's copy and the Session, stays in the 640-byte size class: a
// field added to Session in the wrong place pads it into the next class,
// 704 bytes, which every request through the middleware pays.
func TestRequestStateSize(t *testing.T) {
	cases, req := middlewareCases(t, benchFixtures(t)[0].values)
	w := &discardWriter{h: http.Header{}}
	const n = 10000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		w.serve(cases[1].handler, req) // untouched
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per >= 704 {
		t.Errorf("an untouched request allocates %d bytes, want the 640-byte class (group Session's bool fields)", per)
	}
}

// TestSplitPrimaryAllocations checks that re-keying a session created
// after the primary took over (the sign of instances whose rings disagree
// on the primary) costs no more allocations than re-keying an older one
// (a rotation's), once its Warn has been logged for the minute.
func TestSplitPrimaryAllocations(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	f.m = f.manager(cookiesession.Options{Logger: newInfoLogger(f.log)})
	if err := f.ring.Add(keyForID(t, keyB)); err != nil {
		t.Fatal(err)
	}
	h := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).GetString("user")
	}))
	allocs := map[string]float64{}
	for _, age := range []string{"older", "newer"} {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		req.Header.Set("Cookie", "session="+sealWith(t, ringOf(t, keyB), "session", f.clock.Now()))
		w := &discardWriter{h: http.Header{}}
		allocs[age] = testing.AllocsPerRun(200, func() { w.serve(h, req) })
		f.clock.Advance(2 * time.Minute)
	}
	if n := len(f.log.lines("rings disagree on the primary")); n != 1 {
		t.Errorf("%d Warn lines for the newer session's re-keys, want 1", n)
	}
	if allocs["newer"] > allocs["older"] {
		t.Errorf("re-keying a session created after the primary took over makes %v allocations, an older one %v; want no more", allocs["newer"], allocs["older"])
	}
}

// TestCarryAllocations checks that a RetiredCookie entry with Carry adds
// no allocation to a request that carries no retired cookie: none, or
// only the Manager's own (and an application's), reading its session.
func TestCarryAllocations(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	allocs := map[string]float64{}
	for _, carry := range []bool{false, true} {
		opts := cookiesession.Options{Name: "__Host-session"}
		if carry {
			opts.Retired = []cookiesession.RetiredCookie{{Name: "session", Carry: true}}
		}
		m := f.manager(opts)
		own := newClientCookies()
		serveWith(t, m, own, func(w http.ResponseWriter, r *http.Request) {
			_ = cookiesession.FromContext(r.Context()).Set("user", "alice")
		})
		own.vals["theme"] = "dark"
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cookiesession.FromContext(r.Context()).GetString("user")
		}))
		w := &discardWriter{h: http.Header{}}
		for name, req := range map[string]*http.Request{"none": newClientCookies().request("/"), "own": own.request("/")} {
			allocs[fmt.Sprint(name, carry)] = testing.AllocsPerRun(200, func() { w.serve(h, req) })
		}
	}
	for _, name := range []string{"none", "own"} {
		if with, without := allocs[name+"true"], allocs[name+"false"]; with > without {
			t.Errorf("a request with %s cookie of the Manager's: %v allocations with a Carry entry, %v without; want no more", name, with, without)
		}
	}
}

// TestUnsavedWatchAllocations bounds what README's "Saving by hand" says
// watching a Load for an unsaved change costs under net/http's Server: six
// small allocations per Load over the one it makes elsewhere, and four more
// as the request's context ends (the goroutine's start and what the watch
// does in it), before the Manager has logged an unsaved
// session and after, since the watch counts each (Metrics.Lost) where the
// Warn is logged once. Each request has a context of its own,
// so each Load here gets a new one; the context's own allocations are
// measured apart and taken off (its cancel allocates nothing).
func TestUnsavedWatchAllocations(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	req := newClientCookies().request("/")
	served := context.WithValue(context.Background(), http.ServerContextKey, &http.Server{})
	ctxOnly := testing.AllocsPerRun(200, func() {
		ctx, cancel := context.WithCancel(served)
		_ = req.WithContext(ctx)
		cancel()
	})
	plain := testing.AllocsPerRun(200, func() { f.m.Load(req) })
	for _, when := range []string{"before the Warn", "after the Warn"} {
		if when == "after the Warn" {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(served)
				s, _ := f.m.Load(req.WithContext(ctx))
				_ = s.Set("cart", "1 item") // never saved
				cancel()
				synctest.Wait()
			})
			if f.m.Metrics().Lost["unsaved"] != 1 {
				t.Fatalf("the unsaved session was not counted: %v", f.m.Metrics().Lost)
			}
		}
		var cancels []context.CancelFunc
		load := testing.AllocsPerRun(200, func() {
			ctx, cancel := context.WithCancel(served)
			cancels = append(cancels[:0], cancel) // ended below, not in the count
			f.m.Load(req.WithContext(ctx))
		}) - ctxOnly
		// The watch's goroutine starts as the context ends; one still
		// runnable at the next run's end would make the runtime allocate
		// another. AllocsPerRun runs on one P: Gosched lets it finish.
		ended := testing.AllocsPerRun(200, func() {
			ctx, cancel := context.WithCancel(served)
			f.m.Load(req.WithContext(ctx))
			cancel()
			runtime.Gosched()
		}) - ctxOnly
		if plain > 1 || load > 7 || ended > 11 {
			t.Errorf("Load %s: %v allocations unwatched, %v watched, %v with the request's end; want at most 1, 7 and 11", when, plain, load, ended)
		}
	}
}

// TestReadLateCountAllocations checks that counting Metrics.ReadLate adds
// no allocation: an access log that reads the session after the body does
// so on every request, and once its line is logged, such a request costs
// no more than one that reads before writing, with a valid cookie or with
// one refused (whose line is queued before the read's count).
func TestReadLateCountAllocations(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	valid := loginToken(t, f, "alice")
	read := func(r *http.Request) { _ = cookiesession.FromContext(r.Context()).GetString("user") }
	before := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { read(r); w.WriteHeader(http.StatusOK) }))
	after := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK); read(r) }))
	for _, cookie := range []string{valid, "!" + strings.Repeat("A", 150)} {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		req.AddCookie(&http.Cookie{Name: "session", Value: cookie})
		w := &discardWriter{h: http.Header{}}
		w.serve(after, req) // logged once
		counted := f.m.Metrics().ReadLate
		early := testing.AllocsPerRun(100, func() { w.serve(before, req) })
		late := testing.AllocsPerRun(100, func() { w.serve(after, req) })
		if late > early {
			t.Errorf("cookie %.10q: a read after the response makes %v allocations, one before it %v", cookie, late, early)
		}
		if n := f.m.Metrics().ReadLate - counted; n != 101 { // AllocsPerRun runs once more to warm up
			t.Errorf("cookie %.10q: %d late reads counted, want 101", cookie, n)
		}
	}
}

// TestWarningCountAllocations checks that counting Metrics.SpeculativeChanges
// and Metrics.SharedStore adds no allocation: once a route's line is
// logged, a response that meets the condition (a change on a prefetch; a
// read under Cache-Control: public) costs no more than one that does not
// (the change without the marker; the read under private), and each is
// counted.
func TestWarningCountAllocations(t *testing.T) {
	f := newFixture(t, cookiesession.Options{})
	cookie := loginToken(t, f, "alice")
	cacheable := func(cc string) http.Handler {
		return f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", cc)
			_ = cookiesession.FromContext(r.Context()).GetString("user")
			w.WriteHeader(http.StatusOK)
		}))
	}
	signOut := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookiesession.FromContext(r.Context()).Destroy()
	}))
	for _, tc := range []struct {
		name      string
		hit, miss http.Handler
		marker    string // the hit's Sec-Purpose
		count     func(cookiesession.Metrics) uint64
	}{
		{"speculative_changes", signOut, signOut, "prefetch", func(m cookiesession.Metrics) uint64 { return m.SpeculativeChanges }},
		{"shared_store", cacheable("public, max-age=600"), cacheable("private, max-age=600"), "", func(m cookiesession.Metrics) uint64 { return m.SharedStore }},
	} {
		request := func(marker string) *http.Request {
			req := httptest.NewRequest("GET", "https://example.com/", nil)
			req.AddCookie(&http.Cookie{Name: "session", Value: cookie})
			if marker != "" {
				req.Header.Set("Sec-Purpose", marker)
			}
			return req
		}
		hitReq, missReq := request(tc.marker), request("")
		w := &discardWriter{h: http.Header{}}
		w.serve(tc.hit, hitReq) // logged once
		counted := tc.count(f.m.Metrics())
		miss := testing.AllocsPerRun(100, func() { w.serve(tc.miss, missReq) })
		hit := testing.AllocsPerRun(100, func() { w.serve(tc.hit, hitReq) })
		if hit > miss {
			t.Errorf("%s: a response counted makes %v allocations, one not %v", tc.name, hit, miss)
		}
		if n := tc.count(f.m.Metrics()) - counted; n != 101 { // AllocsPerRun runs once more to warm up
			t.Errorf("%s: %d responses counted, want 101", tc.name, n)
		}
	}
}

// TestHostileAllocation bounds what a hostile Cookie header makes a request
// allocate: per-request cost must scale with the header at most a few
// times over, whatever MaxChunks is, so a large header is no amplifier.
func TestHostileAllocation(t *testing.T) {
	clock := newFakeClock(fixedNow)
	ring := ringOf(t, keyA)
	tiny3000 := relJunkCookies(3000, 4)
	// A request with two cookies of our name, or several chunks, is read
	// again by FORMAT.md section 5 step 5: it must cost no more.
	genuine := sealWith(t, ring, "session", fixedNow)
	// forged returns n cookies of our name that fail authentication, each
	// another value, which step 5 opens in turn; copies of one value are
	// one cookie, opened once.
	forged := func(n int) string {
		cookies := make([]string, n)
		for i := range cookies {
			c := byte('A') // another base64url character at 40+i
			if genuine[40+i] == c {
				c = 'B'
			}
			cookies[i] = "session=" + genuine[:40+i] + string(c) + genuine[41+i:]
		}
		return strings.Join(cookies, "; ")
	}
	cases := []struct {
		name      string
		maxChunks int
		header    string
		search    bool // step 5 opens as many tokens as it may
	}{
		{"3000 cookies, MaxChunks 1", 1, tiny3000, false},
		{"3000 cookies, MaxChunks 4", 4, tiny3000, false},
		{"3000 cookies, MaxChunks 64", 64, tiny3000, false},
		{"1MiB value in our cookie, MaxChunks 4", 4, "session=" + strings.Repeat("A", 1<<20), false},
		{"1MiB of 1000 cookies, MaxChunks 4", 4, relJunkCookies(1000, 1<<10), false},
		{"1MiB of 1000 cookies, MaxChunks 64", 64, relJunkCookies(1000, 1<<10), false},
		{"5 forged cookies of our name, MaxChunks 1", 1, forged(5), false},
		{"20 copies of a forged cookie, MaxChunks 1", 1, strings.Repeat(forged(1)+"; ", 19) + forged(1), false},
		{"2999 copies of a forged cookie, MaxChunks 1", 1, strings.Repeat(forged(1)+"; ", 2998) + forged(1), false},
		{"2999 copies of a forged cookie, MaxChunks 4", 4, strings.Repeat(forged(1)+"; ", 2998) + forged(1), false},
		{"5 cookies of our name and 1MiB in 63 chunks, MaxChunks 64", 64, strings.Repeat("session=AAAA; ", 5) + relChunks(63, 16<<10), false},
		// Every value fills its chunk, so FORMAT.md section 5 step 5 joins
		// each with every value of the next chunk name, to its bound.
		{"3 full values of each of 16 chunks, MaxChunks 16", 16, relFullChunks(16, 3, 4000), true},
		{"12 values of our name and a chunk 1, MaxChunks 4", 4, relFullChunks(1, 12, 300) + "; session.1=AAAA", true},
	}
	for _, c := range cases {
		// 4000: 64 full cookies of 4096 bytes would pass the response
		// header Chromium reads, which New refuses.
		opts := cookiesession.Options{MaxChunks: c.maxChunks, MaxCookieSize: 4000, Now: clock.Now, Logger: debugLogger(io.Discard)}
		m, err := cookiesession.New(ring, opts)
		if err != nil {
			t.Fatal(err)
		}
		var seen relSeen
		allocs, bytes := relMeasure(m.Handler(relApp(&seen)), c.header)
		t.Logf("%s: header %d bytes, %.0f allocs/req, %d bytes/req (%.2fx header)",
			c.name, len(c.header), allocs, bytes, float64(bytes)/float64(len(c.header)))
		// Step 5 opens at most 18 tokens, and each refusal allocates its
		// error: a header that makes it try all of them costs more
		// allocations (87 for the 12 values before the chunk search).
		if limit := map[bool]float64{false: 32, true: 80}[c.search]; allocs > limit {
			t.Errorf("%s: %.0f allocations per request, want <= %.0f", c.name, allocs, limit)
		}
		if limit := 4*uint64(len(c.header)) + 16<<10; bytes > limit {
			t.Errorf("%s: %d bytes allocated per request, want <= %d (4x the header + 16 KiB)", c.name, bytes, limit)
		}
	}
}
