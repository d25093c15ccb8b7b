package cookiesession_test

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/seed-ff2808ae/cookiesession"
)

// Codec benchmarks. Every codec benchmark has a raw baseline over exactly
// the same plaintext in this file, so each run yields the ratios DESIGN.md
// section 7 sets targets for (<= 1.3x raw; Seal <= 2 allocs, Open <= 2 + 1
// per value). Compare runs with benchstat at -count=10.

// benchKeyID and benchName fix the envelope, so the raw baseline can
// rebuild it byte for byte.
const (
	benchKeyID = 0x1a2b3c4d
	benchName  = "session"
)

// codecFixture is one realistic session size.
type codecFixture struct {
	name   string
	values cookiesession.Values
}

// codecFixtures returns the small fixture of DESIGN.md section 7 and
// sessions whose serialized values are 1 KiB and 3 KiB.
func codecFixtures(b testing.TB) []codecFixture {
	small := valuesOf(b, "user_id", "u_8f3a2c", "role", "admin", "csrf", "c5Jk2mQ9xR7vT1wZ8bN3pL6yH4fD0sGa")
	return []codecFixture{
		{"small", small},
		{"1KB", paddedValues(b, small, 1024)},
		{"3KB", paddedValues(b, small, 3072)},
	}
}

// paddedValues adds a "data" string to base so that the serialized values
// are exactly size bytes.
func paddedValues(b testing.TB, base cookiesession.Values, size int) cookiesession.Values {
	for pad := size; pad >= 0; pad-- {
		v := base.Clone()
		setValue(b, &v, "data", strings.Repeat("d", pad))
		if len(v.AppendEncoded(nil)) == size {
			return v
		}
	}
	b.Fatalf("no padding gives %d bytes of values", size)
	return cookiesession.Values{}
}

// benchCodec returns a codec whose limit fits the 3 KiB fixture: its token
// is over the default 4096.
func benchCodec(b testing.TB) *cookiesession.Codec {
	return newTestCodec(b, ringOf(b, benchKeyID), cookiesession.CodecOptions{Name: benchName, MaxTokenLen: 8192})
}

// freshRecord returns a record sealed once already, so that the benchmark
// measures the steady state: a re-seal that keeps ID, Created and Expires.
func freshRecord(b testing.TB, c *cookiesession.Codec, v cookiesession.Values) cookiesession.Record {
	rec := cookiesession.Record{Values: v}
	if _, err := c.Seal(&rec); err != nil {
		b.Fatal(err)
	}
	return rec
}

// plaintext builds what the codec encrypts for rec: created, expires and id
// (the 32-byte header), then the values encoding.
func plaintext(rec cookiesession.Record) []byte {
	p := binary.BigEndian.AppendUint64(nil, uint64(rec.Created.Unix()))
	p = binary.BigEndian.AppendUint64(p, uint64(rec.Expires.Unix()))
	p = append(p, rec.ID[:]...)
	return rec.Values.AppendEncoded(p)
}

func BenchmarkSeal(b *testing.B) {
	for _, fx := range codecFixtures(b) {
		b.Run(fx.name, func(b *testing.B) {
			c := benchCodec(b)
			rec := freshRecord(b, c, fx.values)
			b.SetBytes(int64(len(plaintext(rec))))
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
	for _, fx := range codecFixtures(b) {
		b.Run(fx.name, func(b *testing.B) {
			c := benchCodec(b)
			rec := freshRecord(b, c, fx.values)
			token, err := c.Seal(&rec)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(plaintext(rec))))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Open(token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSealParallel(b *testing.B) {
	for _, fx := range codecFixtures(b) {
		b.Run(fx.name, func(b *testing.B) {
			c := benchCodec(b)
			shared := freshRecord(b, c, fx.values)
			b.SetBytes(int64(len(plaintext(shared))))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				rec := shared // Seal writes KeyID: one record per goroutine
				for pb.Next() {
					if _, err := c.Seal(&rec); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkOpenParallel(b *testing.B) {
	for _, fx := range codecFixtures(b) {
		b.Run(fx.name, func(b *testing.B) {
			c := benchCodec(b)
			rec := freshRecord(b, c, fx.values)
			token, err := c.Seal(&rec)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(plaintext(rec))))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Open(token); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// rawSealer is the baseline: XChaCha20-Poly1305 and unpadded base64url
// over the codec's exact plaintext and additional data, with the AEAD built
// once and its buffers reused. Like the codec it draws a fresh random nonce
// per seal (any correct use of XChaCha20-Poly1305 must), returns the token
// as a string with one allocation (a cookie value is a string), decodes a
// string token without copying it (the compiler's read-only conversion),
// and returns a copy of the plaintext that the caller owns, as Open's
// Record does. What it leaves out is the codec's own work: building the
// header and plaintext, reading the clock, the checks, and the values.
type rawSealer struct {
	aead  cipher.AEAD
	ad    []byte
	plain []byte
	raw   []byte // header, nonce, ciphertext, tag
	token []byte // the encoded token before its one copy into a string
}

func newRawSealer(b testing.TB, rec cookiesession.Record) *rawSealer {
	aead, err := chacha20poly1305.NewX(keySecret(benchKeyID))
	if err != nil {
		b.Fatal(err)
	}
	header := binary.BigEndian.AppendUint32([]byte{cookiesession.Version}, benchKeyID)
	plain := plaintext(rec)
	rawLen := len(header) + aead.NonceSize() + len(plain) + aead.Overhead()
	raw := make([]byte, len(header)+aead.NonceSize(), rawLen)
	copy(raw, header)
	return &rawSealer{
		aead:  aead,
		ad:    append(header, benchName...),
		plain: plain,
		raw:   raw,
		token: make([]byte, 0, base64.RawURLEncoding.EncodedLen(rawLen)),
	}
}

func (s *rawSealer) seal() string {
	nonce := s.raw[5 : 5+s.aead.NonceSize()]
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	sealed := s.aead.Seal(s.raw[:5+len(nonce)], nonce, s.plain, s.ad)
	s.token = base64.RawURLEncoding.AppendEncode(s.token[:0], sealed)
	return string(s.token)
}

// open decodes and authenticates token in place in s.raw, and returns the
// plaintext as a string of its own.
func (s *rawSealer) open(token string) (string, error) {
	raw, err := base64.RawURLEncoding.AppendDecode(s.raw[:0], []byte(token))
	if err != nil {
		return "", err
	}
	nonce, sealed := raw[5:5+s.aead.NonceSize()], raw[5+s.aead.NonceSize():]
	plain, err := s.aead.Open(sealed[:0], nonce, sealed, s.ad)
	return string(plain), err
}

// rawSink keeps the baseline's results alive, as the codec's are.
var rawSink string

func BenchmarkRawSeal(b *testing.B) {
	for _, fx := range codecFixtures(b) {
		b.Run(fx.name, func(b *testing.B) {
			s := newRawSealer(b, freshRecord(b, benchCodec(b), fx.values))
			b.SetBytes(int64(len(s.plain)))
			b.ReportAllocs()
			for b.Loop() {
				rawSink = s.seal()
			}
		})
	}
}

func BenchmarkRawOpen(b *testing.B) {
	for _, fx := range codecFixtures(b) {
		b.Run(fx.name, func(b *testing.B) {
			s := newRawSealer(b, freshRecord(b, benchCodec(b), fx.values))
			token := s.seal()
			b.SetBytes(int64(len(s.plain)))
			b.ReportAllocs()
			for b.Loop() {
				plain, err := s.open(token)
				if err != nil {
					b.Fatal(err)
				}
				rawSink = plain
			}
		})
	}
}

// TestRawBaselineMatchesCodec checks that the baseline does exactly the
// codec's work: the codec opens what the baseline seals, and the baseline
// opens a codec token to the same plaintext bytes.
func TestRawBaselineMatchesCodec(t *testing.T) {
	for _, fx := range codecFixtures(t) {
		c := benchCodec(t)
		rec := freshRecord(t, c, fx.values)
		s := newRawSealer(t, rec)
		opened, err := c.Open(s.seal())
		if err != nil {
			t.Fatalf("%s: the codec refuses the baseline's token: %v", fx.name, err)
		}
		if !bytes.Equal(plaintext(opened), s.plain) {
			t.Errorf("%s: the baseline sealed another plaintext", fx.name)
		}
		token, err := c.Seal(&rec)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := s.open(token)
		if err != nil || plain != string(s.plain) {
			t.Errorf("%s: the baseline opens the codec's token to other bytes (%v)", fx.name, err)
		}
		if want := map[string]int{"small": 0, "1KB": 1024, "3KB": 3072}[fx.name]; want > 0 && len(fx.values.AppendEncoded(nil)) != want {
			t.Errorf("%s: values are %d bytes", fx.name, len(fx.values.AppendEncoded(nil)))
		}
	}
}

// Middleware benchmarks: a full request through Manager.Handler, read-only
// and modifying, beside the same handler without the middleware. The
// difference is the middleware's cost per request.

// discardWriter is a ResponseWriter that keeps nothing but its header map,
// so that the benchmarks measure the handler, not a recorder.
type discardWriter struct {
	h http.Header
	// What the allocating control allocates, kept so that it escapes to
	// the heap; each goroutine has a writer of its own. The fields are
	// typed so that storing them allocates nothing more.
	keptRequest *http.Request
	keptState   *[36]*byte // 288 bytes with pointers, like the middleware's state
	keptToken   []byte
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

type middlewareCase struct {
	name    string
	handler http.Handler
}

// middlewareCases builds the bare, read-only and modifying handlers for a
// fixture, and a request that carries the fixture's session cookie.
func middlewareCases(b *testing.B, values cookiesession.Values) ([]middlewareCase, *http.Request) {
	m, err := cookiesession.New(ringOf(b, benchKeyID), cookiesession.Options{MaxChunks: 2})
	if err != nil {
		b.Fatal(err)
	}
	rec := cookiesession.Record{Values: values.Clone()}
	save := httptest.NewRecorder()
	s, _ := m.Load(httptest.NewRequest("GET", "/", nil))
	for _, k := range rec.Values.Keys() {
		v, _ := rec.Values.Get(k)
		if err := s.Set(k, v); err != nil {
			b.Fatal(err)
		}
	}
	if err := m.Save(save, httptest.NewRequest("GET", "/", nil), s); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	for _, c := range save.Result().Cookies() {
		req.AddCookie(c)
	}
	read := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := cookiesession.FromContext(r.Context()); s != nil && s.GetString("user_id") != "u_8f3a2c" {
			panic("session not loaded")
		}
	})
	// The request's cookie never holds "n", so every Set is a change and
	// every modifying request seals and sends a new cookie; nothing is
	// shared between requests, so the handlers also run in parallel.
	modify := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := cookiesession.FromContext(r.Context()).Set("n", 1); err != nil {
			panic(err)
		}
	})
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	cases := []middlewareCase{
		{"bare", bare},
		{"read", m.Handler(read)},
		{"modify", m.Handler(modify)},
	}
	// A benchmark of a handler that does not behave measures nothing:
	// only the modifying one may send a cookie, and it must.
	for _, c := range cases {
		w := &discardWriter{h: http.Header{}}
		c.handler.ServeHTTP(w, req)
		if sent := len(w.h["Set-Cookie"]) > 0; sent != (c.name == "modify") {
			b.Fatalf("%s handler: Set-Cookie %q", c.name, w.h["Set-Cookie"])
		}
	}
	return cases, req
}

func BenchmarkMiddleware(b *testing.B) {
	for _, f := range codecFixtures(b) {
		cases, req := middlewareCases(b, f.values)
		for _, c := range cases {
			b.Run(f.name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				w := &discardWriter{h: http.Header{}}
				for b.Loop() {
					clear(w.h)
					c.handler.ServeHTTP(w, req)
				}
			})
		}
	}
}

func BenchmarkMiddlewareParallel(b *testing.B) {
	for _, f := range codecFixtures(b) {
		cases, req := middlewareCases(b, f.values)
		for _, c := range cases {
			b.Run(f.name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					w := &discardWriter{h: http.Header{}}
					for pb.Next() {
						clear(w.h)
						c.handler.ServeHTTP(w, req)
					}
				})
			})
		}
	}
}

// BenchmarkVersusRaw measures the codec and its raw baseline in the same
// loop: each iteration runs a block of codec operations and a block of raw
// ones, in alternating order, and times each block. On a shared machine
// the speed drifts by ±20% between separate benchmarks, but both halves of
// an iteration see the same machine, so the reported x-raw (codec time ÷
// raw time) is steady where a quotient of two separate runs is not.
// codec-ns/op and raw-ns/op are the two per-operation times; ns/op is one
// codec plus one raw operation.
func BenchmarkVersusRaw(b *testing.B) {
	for _, fx := range codecFixtures(b) {
		c := benchCodec(b)
		rec := freshRecord(b, c, fx.values)
		s := newRawSealer(b, rec)
		token, err := c.Seal(&rec)
		if err != nil {
			b.Fatal(err)
		}
		rawToken := s.seal()
		// must runs inside the sub-benchmarks, where the parent's b must
		// not be failed: a codec error there is a broken benchmark.
		must := func(_ any, err error) {
			if err != nil {
				panic(err)
			}
		}
		rawSeal := func() { rawSink = s.seal() }
		rawOpen := func() {
			plain, err := s.open(rawToken)
			must(nil, err)
			rawSink = plain
		}
		// SealAt and OpenAt take the time from the caller, as the
		// middleware does (it reads the clock once per request): the
		// difference to seal and open is the cost of time.Now.
		now := time.Now()
		for _, p := range []struct {
			name       string
			codec, raw func()
		}{
			{"seal", func() { must(c.Seal(&rec)) }, rawSeal},
			{"sealAt", func() { must(c.SealAt(&rec, now)) }, rawSeal},
			{"openAt", func() { must(c.OpenAt(token, now)) }, rawOpen},
			{"open", func() { must(c.Open(token)) }, rawOpen},
		} {
			b.Run(p.name+"/"+fx.name, func(b *testing.B) { pairedBlocks(b, p.codec, p.raw) })
		}
	}
}

// pairedBlocks runs codec and raw in alternating blocks and reports their
// per-operation times and ratio. A block is long enough (tens of µs) that
// the two clock reads around it cost under 0.2% of it.
func pairedBlocks(b *testing.B, codec, raw func()) {
	const block = 32
	run := func(f func()) time.Duration {
		start := time.Now()
		for range block {
			f()
		}
		return time.Since(start)
	}
	var tc, tr time.Duration
	ops := 0
	for b.Loop() {
		if ops%(2*block) == 0 {
			tc += run(codec)
			tr += run(raw)
		} else {
			tr += run(raw)
			tc += run(codec)
		}
		ops += block
	}
	b.ReportMetric(float64(tc.Nanoseconds())/float64(ops), "codec-ns/op")
	b.ReportMetric(float64(tr.Nanoseconds())/float64(ops), "raw-ns/op")
	b.ReportMetric(float64(tc)/float64(tr), "x-raw")
	b.ReportMetric(float64((tc+tr).Nanoseconds())/float64(ops), "ns/op")
}

// BenchmarkScaling measures what RunParallel's speed-up measures, paired
// in time like BenchmarkVersusRaw: each iteration serves a block of
// requests on one goroutine, then as many spread over GOMAXPROCS
// goroutines, in alternating order, and x-serial is the serial time over
// the parallel time. Three controls run the same way: SHA-256 of 1 KiB,
// which allocates nothing; a handler that only does what any
// context-carrying middleware must (r.WithContext with one value) before
// the same SHA-256; and one that makes the read path's allocations, and
// hashes for about as long as that path takes, without any of its code.
//
// Each case runs twice. With gc=on the collector runs as usual; a serial
// block then has the idle core to itself for the collector's work, which
// a parallel block must share, so code that allocates shows a smaller
// speed-up the more it allocates. With gc=off the collector is paused
// while a block runs (and run between blocks, untimed), which leaves the
// code's own scaling: below GOMAXPROCS only through contention.
func BenchmarkScaling(b *testing.B) {
	f := codecFixtures(b)[0]
	cases, req := middlewareCases(b, f.values)
	data := bytes.Repeat([]byte{0x5a}, 1024)
	type ctxKey struct{}
	// Open decodes the token into one buffer, with room after it for the
	// additional data (the 5-byte header and the cookie name).
	cookie, err := req.Cookie("session")
	if err != nil {
		b.Fatal(err)
	}
	tokenBuffer := base64.RawURLEncoding.DecodedLen(len(cookie.Value)) + 5 + len("session")
	handlers := []middlewareCase{
		{"control-sha256", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sha256.Sum256(data) })},
		{"control-withcontext", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, w))
			sha256.Sum256(data)
			runtime.KeepAlive(r)
		})},
		// The read path's allocations (the request copy, a 288-byte
		// state, the buffer the token decodes into) without its code, and
		// enough hashing to take about as long.
		{"control-allocs", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			dw := w.(*discardWriter)
			dw.keptRequest = r.WithContext(r.Context())
			dw.keptState = new([36]*byte)
			dw.keptToken = make([]byte, tokenBuffer)
			sha256.Sum256(data)
			sha256.Sum256(data[:512])
		})},
	}
	read := cases[1].handler
	if got, want := allocsPerRequest(handlers[2].handler, req), allocsPerRequest(read, req); got != want {
		b.Fatalf("control-allocs allocates %d objects, %d bytes per request; a read-only request %d, %d",
			got[0], got[1], want[0], want[1])
	}
	handlers = append(handlers, cases[1:]...) // read, modify
	for _, gc := range []string{"on", "off"} {
		for _, c := range handlers {
			b.Run(f.name+"/"+c.name+"/gc="+gc, func(b *testing.B) {
				measureScaling(b, c.handler, req, gc == "off")
			})
		}
	}
}

// allocsPerRequest returns the objects and bytes h allocates per request,
// averaged over 200 requests after one to warm up.
func allocsPerRequest(h http.Handler, req *http.Request) [2]uint64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	w := &discardWriter{h: http.Header{}}
	serve := func() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
	serve()
	const n = 200
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		serve()
	}
	runtime.ReadMemStats(&after)
	return [2]uint64{(after.Mallocs - before.Mallocs) / n, (after.TotalAlloc - before.TotalAlloc) / n}
}

// measureScaling runs h serially and in parallel, in alternating blocks,
// and reports the per-request times and the speed-up.
func measureScaling(b *testing.B, h http.Handler, req *http.Request, gcOff bool) {
	procs := runtime.GOMAXPROCS(0)
	writers := make([]*discardWriter, procs)
	for i := range writers {
		writers[i] = &discardWriter{h: http.Header{}}
	}
	serve := func(w *discardWriter, n int) {
		for range n {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	}
	// A block of 4096 requests per goroutine takes milliseconds, against
	// the tens of µs a sleeping core may take to wake.
	const perWorker = 4096
	timed := func(run func()) time.Duration {
		if gcOff {
			runtime.GC()
		}
		start := time.Now()
		run()
		return time.Since(start)
	}
	serial := func() { serve(writers[0], perWorker*procs) }
	parallel := func() {
		var wg sync.WaitGroup
		for _, w := range writers {
			wg.Go(func() { serve(w, perWorker) })
		}
		wg.Wait()
	}
	if gcOff {
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
	}
	var ts, tp time.Duration
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			ts += timed(serial)
			tp += timed(parallel)
		} else {
			tp += timed(parallel)
			ts += timed(serial)
		}
		i++
	}
	runtime.ReadMemStats(&after)
	ops := float64(i * perWorker * procs)
	// Bytes per request, which sets how often the collector runs.
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(2*ops), "B/req")
	b.ReportMetric(float64(ts.Nanoseconds())/ops, "serial-ns/op")
	b.ReportMetric(float64(tp.Nanoseconds())/ops, "parallel-ns/op")
	b.ReportMetric(float64(ts)/float64(tp), "x-serial")
	b.ReportMetric(float64((ts+tp).Nanoseconds())/(2*ops), "ns/op")
}
