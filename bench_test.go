package cookiesession_test

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/seed-ff2808ae/cookiesession"
)

// Benchmarks of the codec and the middleware, with the raw AEAD they are
// measured against in the same file. benchmarks/run.sh runs them with
// -count 10 and summarises them with benchstat; BENCHMARKS.md is its output.

// The envelope is fixed so that the raw baseline can rebuild it: FORMAT.md
// section 1 puts the version and key id in the token's first five bytes
// and binds them and the cookie name as additional data.
const (
	benchKeyID    = 0x1a2b3c4d
	benchName     = "session"
	formatVersion = 0x01
	headerLen     = 5
	rawOverhead   = 45 // header, nonce and tag: FORMAT.md section 1
	plainHeader   = 32 // created, expires and id: FORMAT.md section 3
)

var benchSecret = bytes.Repeat([]byte{0x5c}, cookiesession.KeySize)

func benchRing(tb testing.TB) *cookiesession.KeyRing {
	key, err := cookiesession.NewKey(benchKeyID, benchSecret)
	if err != nil {
		tb.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		tb.Fatal(err)
	}
	return ring
}

// benchCodec's limit fits the 3KB fixture, whose token is over the default.
func benchCodec(tb testing.TB) *cookiesession.Codec {
	c, err := cookiesession.NewCodec(benchRing(tb), cookiesession.CodecOptions{Name: benchName, MaxTokenLen: 8192})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// benchFixture is one realistic session: a login (user_id, role and a
// CSRF token), or that login padded so its values section (FORMAT.md
// section 4) is exactly 1 KiB or 3 KiB.
type benchFixture struct {
	name   string
	values cookiesession.Values
}

func benchFixtures(tb testing.TB) []benchFixture {
	login := [][2]string{{"user_id", "u_8f3a2c"}, {"role", "admin"}, {"csrf", "c5Jk2mQ9xR7vT1wZ8bN3pL6yH4fD0sGa"}}
	return []benchFixture{
		{"small", fixtureValues(tb, login, 0)},
		{"1KB", fixtureValues(tb, login, 1024)},
		{"3KB", fixtureValues(tb, login, 3072)},
	}
}

// fixtureValues holds fields and, for size > 0, a "data" string that makes
// the values section size bytes long.
func fixtureValues(tb testing.TB, fields [][2]string, size int) cookiesession.Values {
	var v cookiesession.Values
	for _, f := range fields {
		if err := v.Set(f[0], f[1]); err != nil {
			tb.Fatal(err)
		}
	}
	for pad := size; pad > 0; pad-- {
		if err := v.Set("data", strings.Repeat("d", pad)); err != nil {
			tb.Fatal(err)
		}
		if valuesLen(tb, v) == size {
			return v
		}
	}
	if size > 0 {
		tb.Fatalf("no padding makes the values %d bytes", size)
	}
	return v
}

// valuesLen is the length of v's values section, from a sealed token.
func valuesLen(tb testing.TB, v cookiesession.Values) int {
	token, err := benchCodec(tb).Seal(&cookiesession.Record{Values: v})
	if err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.DecodedLen(len(token)) - rawOverhead - plainHeader
}

// sealedRecord returns a record sealed once already, so that a benchmark
// measures the steady state: a re-seal that keeps ID, Created and Expires.
func sealedRecord(tb testing.TB, c *cookiesession.Codec, v cookiesession.Values) (cookiesession.Record, string) {
	rec := cookiesession.Record{Values: v}
	token, err := c.Seal(&rec)
	if err != nil {
		tb.Fatal(err)
	}
	return rec, token
}

func BenchmarkSeal(b *testing.B) {
	for _, fx := range benchFixtures(b) {
		b.Run(fx.name, func(b *testing.B) {
			c := benchCodec(b)
			rec, token := sealedRecord(b, c, fx.values)
			b.SetBytes(int64(len(newRawAEAD(b, token).plain)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Seal(&rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, fx := range benchFixtures(b) {
		b.Run(fx.name, func(b *testing.B) {
			c := benchCodec(b)
			_, token := sealedRecord(b, c, fx.values)
			b.SetBytes(int64(len(newRawAEAD(b, token).plain)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Open(token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// rawAEAD is the baseline: XChaCha20-Poly1305 and unpadded base64url over
// the codec's own plaintext and additional data, with the AEAD built once
// and its buffers reused. Like the codec it draws a fresh nonce per seal,
// returns the token as a string, and opens to a plaintext copy the caller
// owns. It leaves out the codec's own work: the clock, the checks, and
// encoding and decoding the values.
type rawAEAD struct {
	aead  cipher.AEAD
	ad    []byte // the token's header, then the cookie name
	plain []byte
	raw   []byte // header, nonce, ciphertext, tag
	token []byte
}

// newRawAEAD opens a codec token with the bench key to take its plaintext,
// so that the baseline seals exactly the bytes the codec sealed.
func newRawAEAD(tb testing.TB, token string) *rawAEAD {
	aead, err := chacha20poly1305.NewX(benchSecret)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || raw[0] != formatVersion {
		tb.Fatalf("not a version %d token: %v", formatVersion, err)
	}
	r := &rawAEAD{aead: aead, ad: append(raw[:headerLen:headerLen], benchName...), raw: raw}
	nonce, sealed := raw[headerLen:headerLen+aead.NonceSize()], raw[headerLen+aead.NonceSize():]
	if r.plain, err = aead.Open(nil, nonce, sealed, r.ad); err != nil {
		tb.Fatal(err)
	}
	r.token = make([]byte, 0, len(token))
	return r
}

func (r *rawAEAD) seal() string {
	nonce := r.raw[headerLen : headerLen+r.aead.NonceSize()]
	rand.Read(nonce)
	sealed := r.aead.Seal(r.raw[:headerLen+len(nonce)], nonce, r.plain, r.ad)
	r.token = base64.RawURLEncoding.AppendEncode(r.token[:0], sealed)
	return string(r.token)
}

// open decodes token into r.raw without copying it first (the compiler's
// read-only conversion), and authenticates and decrypts in place.
func (r *rawAEAD) open(token string) (string, error) {
	raw, err := base64.RawURLEncoding.AppendDecode(r.raw[:0], []byte(token))
	if err != nil {
		return "", err
	}
	nonce, sealed := raw[headerLen:headerLen+r.aead.NonceSize()], raw[headerLen+r.aead.NonceSize():]
	plain, err := r.aead.Open(sealed[:0], nonce, sealed, r.ad)
	return string(plain), err
}

// rawSink keeps the baseline's results alive, as the codec's are.
var rawSink string

func BenchmarkRawSeal(b *testing.B) {
	for _, fx := range benchFixtures(b) {
		b.Run(fx.name, func(b *testing.B) {
			_, token := sealedRecord(b, benchCodec(b), fx.values)
			r := newRawAEAD(b, token)
			b.SetBytes(int64(len(r.plain)))
			b.ReportAllocs()
			for b.Loop() {
				rawSink = r.seal()
			}
		})
	}
}

func BenchmarkRawOpen(b *testing.B) {
	for _, fx := range benchFixtures(b) {
		b.Run(fx.name, func(b *testing.B) {
			_, token := sealedRecord(b, benchCodec(b), fx.values)
			r := newRawAEAD(b, token)
			b.SetBytes(int64(len(r.plain)))
			b.ReportAllocs()
			for b.Loop() {
				plain, err := r.open(token)
				if err != nil {
					b.Fatal(err)
				}
				rawSink = plain
			}
		})
	}
}

// TestRawBaselineMatchesCodec checks that the baseline does the codec's
// cryptographic work and no less: the codec opens what the baseline seals
// to the same values, the baseline opens a fresh codec token, and the
// fixtures' values sections have the sizes they are named after.
func TestRawBaselineMatchesCodec(t *testing.T) {
	for i, fx := range benchFixtures(t) {
		c := benchCodec(t)
		rec, token := sealedRecord(t, c, fx.values)
		r := newRawAEAD(t, token)
		opened, err := c.Open(r.seal())
		if err != nil {
			t.Fatalf("%s: the codec refuses the baseline's token: %v", fx.name, err)
		}
		if got, _ := opened.Values.Get("user_id"); got != "u_8f3a2c" || opened.Values.Len() != fx.values.Len() {
			t.Errorf("%s: the baseline's token opens to user_id %v and %d values", fx.name, got, opened.Values.Len())
		}
		if token, err = c.Seal(&rec); err != nil {
			t.Fatal(err)
		}
		if plain, err := r.open(token); err != nil || plain != string(r.plain) {
			t.Errorf("%s: the baseline opens a re-sealed token to other bytes (%v)", fx.name, err)
		}
		if want := []int{0, 1024, 3072}[i]; want > 0 && len(r.plain)-plainHeader != want {
			t.Errorf("%s: the values section is %d bytes", fx.name, len(r.plain)-plainHeader)
		}
	}
}

type middlewareCase struct {
	name    string
	handler http.Handler
}

// middlewareCases returns a bare handler, a read-only and a modifying one
// through the middleware, and a request carrying values' session cookie.
func middlewareCases(tb testing.TB, values cookiesession.Values) ([]middlewareCase, *http.Request) {
	m, err := cookiesession.New(benchRing(tb), cookiesession.Options{Name: benchName, MaxChunks: 2})
	if err != nil {
		tb.Fatal(err)
	}
	s, _ := m.Load(httptest.NewRequest("GET", "https://example.com/", nil))
	for _, k := range values.Keys() {
		v, _ := values.Get(k)
		if err := s.Set(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	save := httptest.NewRecorder()
	if err := m.Save(save, httptest.NewRequest("GET", "https://example.com/", nil), s); err != nil {
		tb.Fatal(err)
	}
	req := httptest.NewRequest("GET", "https://example.com/", nil)
	for _, c := range save.Result().Cookies() {
		req.AddCookie(c)
	}
	read := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cookiesession.FromContext(r.Context()).GetString("user_id") != "u_8f3a2c" {
			panic("session not loaded")
		}
	})
	// The cookie never holds "n", so every modifying request changes the
	// session and seals a new cookie.
	modify := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := cookiesession.FromContext(r.Context()).Set("n", 1); err != nil {
			panic(err)
		}
	})
	bare := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	cases := []middlewareCase{
		{"bare", bare},
		{"untouched", m.Handler(bare)}, // the session is never used: nothing is opened
		{"read", m.Handler(read)},
		{"modify", m.Handler(modify)},
	}
	// Only the modifying handler may send a cookie, and it must.
	for _, c := range cases {
		w := &discardWriter{h: http.Header{}}
		w.serve(c.handler, req)
		if sent := len(w.h["Set-Cookie"]) > 0; sent != (c.name == "modify") {
			tb.Fatalf("%s handler: Set-Cookie %q", c.name, w.h["Set-Cookie"])
		}
	}
	return cases, req
}

func BenchmarkMiddleware(b *testing.B) {
	for _, fx := range benchFixtures(b) {
		cases, req := middlewareCases(b, fx.values)
		for _, c := range cases {
			b.Run(fx.name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				w := &discardWriter{h: http.Header{}}
				for b.Loop() {
					w.serve(c.handler, req)
				}
			})
		}
	}
}

func BenchmarkMiddlewareParallel(b *testing.B) {
	for _, fx := range benchFixtures(b) {
		cases, req := middlewareCases(b, fx.values)
		for _, c := range cases {
			b.Run(fx.name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					w := &discardWriter{h: http.Header{}}
					for pb.Next() {
						w.serve(c.handler, req)
					}
				})
			})
		}
	}
}

// byHand returns a read-only and a modifying request through a
// cookie-session middleware built on the Codec's public API and cut down to
// the steps none can skip: read the clock and the cookie, open it, put the
// session in the request's context, read a value, and say Vary: Cookie; the
// modifying one also sets a value, seals, and sends Set-Cookie and
// Cache-Control: no-store. Like the middleware, it keeps the request's
// copy, its context and its header values in one allocation. It has no
// locking, chunking, lazy opening, refresh, re-keying, counters or error
// handling. The public API costs it two allocations the middleware does
// not make: Values.Get boxes the value it returns, and SealAt's token is
// copied into the Set-Cookie line. The benchmarks measure the middleware
// beside it, so the ratios say what the machine charges for any such
// request, not only this package.
func byHand(c *cookiesession.Codec) []middlewareCase {
	read := func(r *http.Request) *handState {
		st := r.Context().Value(handKey{}).(*handState)
		if got, _ := st.rec.Values.Get("user_id"); got != "u_8f3a2c" {
			panic("session not loaded")
		}
		return st
	}
	modify := func(r *http.Request) *handState {
		st := read(r)
		if err := st.rec.Values.Set("n", 1); err != nil {
			panic(err)
		}
		token, err := c.SealAt(&st.rec, st.now)
		if err != nil {
			panic(err)
		}
		st.setCookie[0] = benchName + "=" + token + "; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax"
		return st
	}
	serve := func(w http.ResponseWriter, r *http.Request, handler func(*http.Request) *handState) {
		st := &handState{Context: r.Context(), now: time.Now()}
		token := ""
		for _, line := range r.Header["Cookie"] {
			for part := range strings.SplitSeq(line, ";") {
				if name, value, _ := strings.Cut(strings.TrimSpace(part), "="); name == benchName {
					token = value
				}
			}
		}
		var err error
		if st.rec, err = c.OpenAt(token, st.now); err != nil {
			panic(err)
		}
		st.req = *r.WithContext(st)
		handler(&st.req)
		h := w.Header()
		st.vary[0] = "Cookie"
		h["Vary"] = st.vary[:]
		if st.setCookie[0] != "" {
			st.cacheControl[0] = "no-store"
			h["Set-Cookie"], h["Cache-Control"] = st.setCookie[:], st.cacheControl[:]
		}
	}
	return []middlewareCase{
		{"readByHand", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(w, r, read) })},
		{"modifyByHand", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(w, r, modify) })},
	}
}

// handState is byHand's request: its context, its copy, the session and
// the header values.
type handState struct {
	context.Context
	now                           time.Time
	req                           http.Request
	rec                           cookiesession.Record
	vary, cacheControl, setCookie [1]string
}

type handKey struct{}

func (st *handState) Value(key any) any {
	if key == (handKey{}) {
		return st
	}
	return st.Context.Value(key)
}

// BenchmarkVersusRaw reports x-raw for the small fixture, timed with both
// sides in one loop (see paired): seal and open are the codec over the raw
// AEAD doing the same; sealAt and openAt take the time from the caller, as
// the middleware does, so the clock read is left out; read and modify are
// a request through the middleware less the bare handler, in units of one
// raw open, and readByHand and modifyByHand the same for byHand's requests.
func BenchmarkVersusRaw(b *testing.B) {
	fx := benchFixtures(b)[0]
	c := benchCodec(b)
	rec, token := sealedRecord(b, c, fx.values)
	r := newRawAEAD(b, token)
	rawToken := r.seal()
	// A failure inside a timed block is a broken benchmark.
	must := func(_ any, err error) {
		if err != nil {
			panic(err)
		}
	}
	rawSeal := func() { rawSink = r.seal() }
	rawOpen := func() {
		plain, err := r.open(rawToken)
		must(nil, err)
		rawSink = plain
	}
	now := time.Now()
	codecOverRaw := func(t []time.Duration) float64 { return float64(t[0]) / float64(t[1]) }
	for _, p := range []struct {
		name       string
		codec, raw func()
	}{
		{"seal", func() { must(c.Seal(&rec)) }, rawSeal},
		{"sealAt", func() { must(c.SealAt(&rec, now)) }, rawSeal},
		{"open", func() { must(c.Open(token)) }, rawOpen},
		{"openAt", func() { must(c.OpenAt(token, now)) }, rawOpen},
	} {
		b.Run(p.name, func(b *testing.B) { paired(b, codecOverRaw, p.codec, p.raw) })
	}
	cases, req := middlewareCases(b, fx.values)
	w := &discardWriter{h: http.Header{}}
	bare := func() { w.serve(cases[0].handler, req) }
	overBare := func(t []time.Duration) float64 { return float64(t[0]-t[1]) / float64(t[2]) }
	for _, mc := range append(cases[1:], byHand(c)...) {
		b.Run(mc.name, func(b *testing.B) {
			paired(b, overBare, func() { w.serve(mc.handler, req) }, bare, rawOpen)
		})
	}
}

// paired runs a block of each of fs per round, in an order that rotates
// from round to round, and reports as x-raw the median over the rounds of
// ratio(the blocks' times). A shared machine's speed drifts by tens of
// percent between separate benchmarks, but the blocks of one round see
// the same machine, and the median leaves out the rounds in which the
// scheduler preempted a block. A block takes tens of µs, so the two clock
// reads around it cost under 1%. b.N counts operations of each side, so
// the ns/op, B/op and allocs/op that go test prints are one operation of
// every side.
func paired(b *testing.B, ratio func([]time.Duration) float64, fs ...func()) {
	const block = 32
	t := make([]time.Duration, len(fs))
	ratios := make([]float64, 0, b.N/block+1)
	for round := 0; round*block < b.N; round++ {
		for i := range fs {
			k := (round + i) % len(fs)
			start := time.Now()
			for range block {
				fs[k]()
			}
			t[k] = time.Since(start)
		}
		ratios = append(ratios, ratio(t))
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "x-raw")
}
