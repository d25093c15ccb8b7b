package cookiesession

// Regression tests for defects found in review: each failed before its fix.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func rkey(t testing.TB, id uint32) Key {
	k, err := NewKey(id, bytes.Repeat([]byte{byte(id)}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func newClock(t time.Time) *clock    { c := new(clock); c.ns.Store(t.UnixNano()); return c }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// cookieHeader converts Set-Cookie lines to a Cookie header value.
func cookieHeader(lines []string) string {
	var parts []string
	for _, l := range lines {
		nv, _, _ := strings.Cut(l, ";")
		if strings.Contains(l, "Max-Age=0") {
			continue
		}
		parts = append(parts, nv)
	}
	return strings.Join(parts, "; ")
}

// 1. Session.Has ignores the decoded ('enc') form of Values.
func TestRegressionHasOnLoadedSession(t *testing.T) {
	ring, _ := NewKeyRing(rkey(t, 7))
	m, err := New(ring, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("user", "alice")
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", cookieHeader(rec.Result().Header["Set-Cookie"]))
	var has bool
	var get string
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		has, get = s.Has("user"), s.GetString("user")
	})).ServeHTTP(httptest.NewRecorder(), req)
	if !has {
		t.Errorf("Has(\"user\") = false on a loaded session, but GetString = %q", get)
	}
}

// 2a. A session whose MaxAge ends between load and commit: a changed value
// makes SealAt fail with ErrExpired, and the middleware answers 500.
func TestRegressionExpiryDuringRequestIsNot500(t *testing.T) {
	ring, _ := NewKeyRing(rkey(t, 7))
	clk := newClock(time.Unix(1_800_000_000, 0))
	var handled error
	m, err := New(ring, Options{Logger: quiet, MaxAge: time.Hour, Now: clk.Now,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			handled = err
			http.Error(w, "boom", 500)
		}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("n", 1)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	cookie := cookieHeader(rec.Result().Header["Set-Cookie"])

	clk.Add(time.Hour - 500*time.Millisecond) // 0.5 s of life left at load
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", cookie)
	rec = httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		clk.Add(time.Second) // the handler takes a second (or the clock just crosses a second boundary)
		s.Set("n", 2)
	})).ServeHTTP(rec, req)
	if rec.Code == 500 {
		t.Errorf("stale session during request -> status %d, ErrorHandler got %v (ErrExpired=%v)", rec.Code, handled, errors.Is(handled, ErrExpired))
	}
}

// 2b. Same with a pure re-key (no change by the handler): token under an old key.
func TestRegressionRekeyAtDeadlineIsNot500(t *testing.T) {
	k1, k2 := rkey(t, 1), rkey(t, 2)
	ring, _ := NewKeyRing(k1, k2)
	clk := newClock(time.Unix(1_800_000_000, 0))
	var handled error
	m, _ := New(ring, Options{Logger: quiet, MaxAge: time.Hour, Now: clk.Now,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { handled = err; http.Error(w, "boom", 500) }})
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("n", 1)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	cookie := cookieHeader(rec.Result().Header["Set-Cookie"])
	if err := ring.Promote(2); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour - 100*time.Millisecond)
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", cookie)
	rec = httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clk.Add(200 * time.Millisecond) // crosses the whole-second deadline
		io.WriteString(w, "hello")
	})).ServeHTTP(rec, req)
	if rec.Code == 500 {
		t.Errorf("read-only request on old-key session at its deadline -> %d %q, ErrorHandler got %v", rec.Code, rec.Body.String(), handled)
	}
}

// 3. A mangled ring file with a secret in promote_at echoes the secret.
func TestRegressionPromoteAtErrorHidesValue(t *testing.T) {
	secret := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	data := `{"version":1,"primary":"1a2b3c4d","keys":[{"id":"1a2b3c4d","secret":"` + secret + `"},{"id":"5e6f7a8b","secret":"x","promote_at":"` + secret + `"}]}`
	_, err := ParseKeyRing([]byte(data))
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("error text contains the secret: %v", err)
	}
}

// 4. RefreshThreshold NaN is accepted; refresh never happens.
func TestRegressionRefreshThresholdNaN(t *testing.T) {
	ring, _ := NewKeyRing(rkey(t, 7))
	_, err := New(ring, Options{IdleTimeout: time.Minute, RefreshThreshold: math.NaN()})
	if err == nil {
		t.Errorf("New accepted RefreshThreshold NaN")
	}
}

// Explicit Save succeeds, then the session grows too large: the ErrorHandler's
// 500 still carries the Set-Cookie written by the first Save, so the client's
// previous cookie is replaced on the error response.
func TestRegressionSaveThenTooLargeKeepsOldCookie(t *testing.T) {
	ring, _ := NewKeyRing(rkey(t, 7))
	m, _ := New(ring, Options{Logger: quiet})
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.Set("a", "small")
		if err := m.Save(w, r, s); err != nil {
			t.Fatal(err)
		}
		s.Set("big", strings.Repeat("x", 5000))
		w.Write([]byte("ok"))
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	t.Logf("status %d, Set-Cookie %d lines", rec.Code, len(rec.Result().Header["Set-Cookie"]))
	if rec.Code == 500 && len(rec.Result().Header["Set-Cookie"]) > 0 {
		t.Errorf("500 from ErrorHandler carries Set-Cookie %.60q...", rec.Result().Header["Set-Cookie"][0])
	}
}

// WatchFile misses a same-size rewrite that keeps the mtime (cp -p, rsync -t,
// tar, or a coarse-mtime filesystem within one tick).
func TestRegressionWatchFileSameSizeSameMtime(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ring.json")
	k1, k2 := rkey(t, 0x11111111), rkey(t, 0x22222222)
	r1, _ := NewKeyRing(k1, k2)
	b1, _ := r1.MarshalJSON()
	os.WriteFile(path, b1, 0o600)
	mt := time.Unix(1_700_000_000, 0)
	os.Chtimes(path, mt, mt)
	ring, _ := LoadKeyRingFile(path)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); ring.WatchFile(ctx, path, 10*time.Millisecond, nil) }()
	time.Sleep(30 * time.Millisecond)
	r1.Promote(0x22222222)
	b2, _ := r1.MarshalJSON()
	if len(b2) != len(b1) {
		t.Fatalf("sizes differ %d %d", len(b1), len(b2))
	}
	tmp := path + ".tmp"
	os.WriteFile(tmp, b2, 0o600)
	os.Chtimes(tmp, mt, mt)
	os.Rename(tmp, path) // atomic rename, as the doc says counts
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()
	if got := ring.Primary(); got != 0x22222222 {
		t.Errorf("after atomic rename of a promoted ring, primary is still %08x", got)
	}
}

func TestRegressionRaceSession(t *testing.T) {
	ring, _ := NewKeyRing(rkey(t, 7))
	m, _ := New(ring, Options{Logger: quiet, IdleTimeout: time.Hour})
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		s.Set("a", "1")
		s.Set("b", []string{"x"})
		s.AddFlash("f")
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", cookieHeader(rec.Result().Header["Set-Cookie"]))
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 200 {
					switch (i + j) % 8 {
					case 0:
						s.Get("a")
					case 1:
						s.Keys()
					case 2:
						s.GetStrings("b")
					case 3:
						s.Set("c", j)
					case 4:
						s.Flashes()
					case 5:
						s.AddFlash("x")
					case 6:
						s.Delete("c")
					case 7:
						s.Touch()
					}
				}
			}()
		}
		w.Write([]byte("x"))
		wg.Wait()
	})).ServeHTTP(httptest.NewRecorder(), req)
}

// A jar that applies Set-Cookie lines (name=value; Max-Age=0 deletes).
type jar map[string]string

func (j jar) apply(lines []string) {
	for _, l := range lines {
		nv, _, _ := strings.Cut(l, ";")
		n, v, _ := strings.Cut(nv, "=")
		if strings.Contains(l, "Max-Age=0") {
			delete(j, n)
		} else {
			j[n] = v
		}
	}
}
func (j jar) header() string {
	var p []string
	for n, v := range j {
		p = append(p, n+"="+v)
	}
	return strings.Join(p, "; ")
}

// Two commits in one response (explicit Save, then the middleware's commit)
// forget that the client still holds the stale higher chunks.
func TestRegressionStaleChunksAfterSaveThenChange(t *testing.T) {
	ring, _ := NewKeyRing(rkey(t, 7))
	m, err := New(ring, Options{Logger: quiet, MaxChunks: 3, MaxCookieSize: 300})
	if err != nil {
		t.Fatal(err)
	}
	j := jar{}
	do := func(h func(w http.ResponseWriter, r *http.Request, s *Session)) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/", nil)
		if len(j) > 0 {
			req.Header.Set("Cookie", j.header())
		}
		rec := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h(w, r, FromContext(r.Context()))
		})).ServeHTTP(rec, req)
		j.apply(rec.Result().Header["Set-Cookie"])
		return rec
	}
	do(func(w http.ResponseWriter, r *http.Request, s *Session) { s.Set("big", strings.Repeat("x", 450)) })
	t.Logf("after request 1 the jar holds %d cookies", len(j))
	rec := do(func(w http.ResponseWriter, r *http.Request, s *Session) {
		s.Delete("big")
		if err := m.Save(w, r, s); err != nil {
			t.Fatal(err)
		}
		s.Set("user", "alice") // after Save, before the body: the middleware commits again
	})
	t.Logf("request 2 Set-Cookie: %d lines; jar now holds %d cookies", len(rec.Result().Header["Set-Cookie"]), len(j))
	var user string
	do(func(w http.ResponseWriter, r *http.Request, s *Session) { user = s.GetString("user") })
	if user != "alice" {
		t.Errorf("session lost: user=%q (stale chunks session.1/session.2 were not expired)", user)
	}
}

// Same with Destroy + Save, then a new value.
func TestRegressionStaleChunksAfterDestroySaveSet(t *testing.T) {
	ring, _ := NewKeyRing(rkey(t, 7))
	m, _ := New(ring, Options{Logger: quiet, MaxChunks: 3, MaxCookieSize: 300})
	j := jar{}
	do := func(h func(w http.ResponseWriter, r *http.Request, s *Session)) {
		req := httptest.NewRequest("GET", "/", nil)
		if len(j) > 0 {
			req.Header.Set("Cookie", j.header())
		}
		rec := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h(w, r, FromContext(r.Context()))
		})).ServeHTTP(rec, req)
		j.apply(rec.Result().Header["Set-Cookie"])
	}
	do(func(w http.ResponseWriter, r *http.Request, s *Session) { s.Set("big", strings.Repeat("x", 450)) })
	do(func(w http.ResponseWriter, r *http.Request, s *Session) {
		s.Destroy()
		m.Save(w, r, s)
		s.Set("user", "bob")
	})
	var user string
	do(func(w http.ResponseWriter, r *http.Request, s *Session) { user = s.GetString("user") })
	if user != "bob" {
		t.Errorf("session lost: user=%q, jar=%v", user, len(j))
	}
}

func TestRegressionZeroRingRefused(t *testing.T) {
	if _, err := New(&KeyRing{}, Options{Logger: quiet}); err == nil {
		t.Error("New accepted a zero KeyRing; its first Set would panic")
	}
	if _, err := NewCodec(&KeyRing{}, CodecOptions{Name: "s"}); err == nil {
		t.Error("NewCodec accepted a zero KeyRing")
	}
	ring, err := NewKeyRing(rkey(t, 7))
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Replace(&KeyRing{}); err == nil || !ring.Has(7) {
		t.Errorf("Replace with a zero KeyRing: err %v, ring still holds key 7: %v", err, ring.Has(7))
	}
}

func TestRegressionIdenticalSetSendsNoCookie(t *testing.T) {
	ring, _ := NewKeyRing(rkey(t, 7))
	m, _ := New(ring, Options{Logger: quiet})
	rec := httptest.NewRecorder()
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("user", "alice")
	}))
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", cookieHeader(rec.Result().Header["Set-Cookie"]))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if n := len(rec.Result().Header["Set-Cookie"]); n > 0 {
		t.Errorf("Set of the identical value re-issues the cookie (%d lines, Cache-Control %q)", n, rec.Result().Header.Get("Cache-Control"))
	}
}

func TestRegressionStrictDecoding(t *testing.T) {
	ring, _ := NewKeyRing(rkey(t, 7))
	c, _ := NewCodec(ring, CodecOptions{Name: "session"})
	now := time.Unix(1_800_000_000, 0)
	rec := Record{}
	rec.Values.Set("a", 1)
	tok, err := c.SealAt(&rec, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.OpenAt(tok, now); err != nil {
		t.Fatal(err)
	}
	t.Logf("len%%4=%d", len(tok)%4)
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := tok[len(tok)-1]
	accepted := 0
	for i := 0; i < 64; i++ {
		if alpha[i] == last {
			continue
		}
		if _, err := c.OpenAt(tok[:len(tok)-1]+string(alpha[i]), now); err == nil {
			accepted++
		}
	}
	for _, bad := range []string{tok + "=", tok + "==", tok[:10] + "\n" + tok[10:], tok[:10] + "\r" + tok[10:], tok + " ", " " + tok, tok[:10] + "\t" + tok[10:]} {
		if _, err := c.OpenAt(bad, now); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if accepted > 0 {
		t.Errorf("%d alternative last characters accepted", accepted)
	}
	// wrong name
	c2, _ := NewCodec(ring, CodecOptions{Name: "session.1"})
	if _, err := c2.OpenAt(tok, now); err == nil {
		t.Errorf("opened under another name")
	}
}
