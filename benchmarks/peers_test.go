package benchmarks

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/seed-ff2808ae/cookiesession"
)

// Benchmark names follow Benchmark<Op>/fixture=<f>/pkg=<p>, which
// cmd/benchtable and benchstat both split into columns. Encode and Decode
// work on one token; Read and Write handle one request.

// maxTokenLen lets the codec seal the 3 KB fixture, which needs two
// cookies in real use; the codec's cost does not depend on the limit.
const maxTokenLen = 8192

// encoder is one package's way of turning the fixture into a cookie value
// and back.
type encoder struct {
	pkg    string
	encode func(b *testing.B) func() string
	decode func(b *testing.B, token string) func()
}

func BenchmarkEncode(b *testing.B) {
	for _, fx := range fixtures {
		for _, enc := range encoders(fx) {
			b.Run("fixture="+fx.name+"/pkg="+enc.pkg, func(b *testing.B) {
				encode := enc.encode(b)
				var token string
				b.ReportAllocs()
				b.SetBytes(int64(fx.valuesLen()))
				for b.Loop() {
					token = encode()
				}
				b.ReportMetric(float64(len(token)), "token-chars")
			})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, fx := range fixtures {
		for _, enc := range encoders(fx) {
			b.Run("fixture="+fx.name+"/pkg="+enc.pkg, func(b *testing.B) {
				decode := enc.decode(b, enc.encode(b)())
				b.ReportAllocs()
				b.SetBytes(int64(fx.valuesLen()))
				for b.Loop() {
					decode()
				}
			})
		}
	}
}

func encoders(fx fixture) []encoder {
	return []encoder{
		rawEncoder(fx),
		codecEncoder(fx),
		secureCookieEncoder(fx, "securecookie-gob", nil),
		secureCookieEncoder(fx, "securecookie-json", securecookie.JSONEncoder{}),
	}
}

// rawAEAD is the floor: the same envelope and plaintext the codec produces,
// sealed by XChaCha20-Poly1305 and base64url-encoded with nothing else
// around it. The AEAD is built once, as the codec caches it per key.
type rawAEAD struct {
	aead    cipher.AEAD
	header  []byte // version || key id
	ad      []byte // header || cookie name
	plain   []byte // 32-byte header || serialized values
	raw     []byte // scratch for the sealed envelope
	decoded []byte // scratch for opening
	src     []byte // scratch for the encoded token
}

func newRawAEAD(fx fixture) *rawAEAD {
	aead, err := chacha20poly1305.NewX(fixedBytes(chacha20poly1305.KeySize, 0x33))
	if err != nil {
		panic(err)
	}
	r := &rawAEAD{aead: aead}
	r.header = binary.BigEndian.AppendUint32([]byte{cookiesession.Version}, 0x1a2b3c4d)
	r.ad = append(append([]byte(nil), r.header...), cookieName...)
	now := time.Now()
	r.plain = binary.BigEndian.AppendUint64(nil, uint64(now.Unix()))
	r.plain = binary.BigEndian.AppendUint64(r.plain, uint64(now.Add(24*time.Hour).Unix()))
	r.plain = append(r.plain, fixedBytes(16, 0x44)...)
	values := fx.values()
	r.plain = values.AppendEncoded(r.plain)
	rawLen := len(r.header) + chacha20poly1305.NonceSizeX + len(r.plain) + chacha20poly1305.Overhead
	r.raw = make([]byte, 0, rawLen)
	r.decoded = make([]byte, 0, rawLen)
	r.src = make([]byte, 0, base64.RawURLEncoding.EncodedLen(rawLen))
	return r
}

// seal draws a fresh nonce from crypto/rand, as any correct sealer must,
// and returns the token as a string, as a cookie value needs.
func (r *rawAEAD) seal() string {
	raw := append(r.raw[:0], r.header...)
	nonce := raw[len(raw) : len(raw)+chacha20poly1305.NonceSizeX]
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	raw = r.aead.Seal(raw[:len(raw)+len(nonce)], nonce, r.plain, r.ad)
	r.src = base64.RawURLEncoding.AppendEncode(r.src[:0], raw)
	return string(r.src)
}

// open decodes the token without copying it (the compiler's read-only
// conversion), authenticates and decrypts in place, and returns a copy of
// the plaintext the caller owns: a decoder that hands back its scratch
// buffer would have the next call overwrite what it returned, so any real
// one pays for this copy, as Codec.Open does for the values.
func (r *rawAEAD) open(token string) string {
	raw, err := base64.RawURLEncoding.AppendDecode(r.decoded[:0], []byte(token))
	if err != nil {
		panic(err)
	}
	nonce := raw[len(r.header) : len(r.header)+chacha20poly1305.NonceSizeX]
	sealed := raw[len(r.header)+len(nonce):]
	plain, err := r.aead.Open(sealed[:0], nonce, sealed, r.ad)
	if err != nil {
		panic(err)
	}
	return string(plain)
}

// rawSink keeps the raw decoder's result alive, as the codec's is.
var rawSink string

func rawEncoder(fx fixture) encoder {
	return encoder{
		pkg:    "raw",
		encode: func(*testing.B) func() string { return newRawAEAD(fx).seal },
		decode: func(b *testing.B, token string) func() {
			r := newRawAEAD(fx)
			if r.open(token) != string(r.plain) {
				b.Fatal("raw open returned other bytes than were sealed")
			}
			return func() { rawSink = r.open(token) }
		},
	}
}

func newCodec(tb testing.TB) *cookiesession.Codec {
	tb.Helper()
	codec, err := cookiesession.NewCodec(newRing(tb), cookiesession.CodecOptions{Name: cookieName, MaxTokenLen: maxTokenLen})
	if err != nil {
		tb.Fatal(err)
	}
	return codec
}

func sealFixture(tb testing.TB, codec *cookiesession.Codec, fx fixture) string {
	tb.Helper()
	rec := cookiesession.Record{Values: fx.values()}
	token, err := codec.Seal(&rec)
	if err != nil {
		tb.Fatal(err)
	}
	return token
}

func codecEncoder(fx fixture) encoder {
	return encoder{
		pkg: "cookiesession",
		encode: func(b *testing.B) func() string {
			codec := newCodec(b)
			// The first seal fills in the id and times; later ones re-seal
			// the same record, as the middleware does on every change.
			rec := cookiesession.Record{Values: fx.values()}
			return func() string {
				token, err := codec.Seal(&rec)
				if err != nil {
					b.Fatal(err)
				}
				return token
			}
		},
		decode: func(b *testing.B, token string) func() {
			codec := newCodec(b)
			rec, err := codec.Open(token)
			if err != nil {
				b.Fatal(err)
			}
			got, _ := rec.Values.Get("user_id")
			checkUserID(b, got)
			return func() {
				if _, err := codec.Open(token); err != nil {
					b.Fatal(err)
				}
			}
		},
	}
}

// newSecureCookie configures securecookie as its README does: a 32-byte
// HMAC-SHA256 key and a 32-byte AES key. A nil serializer keeps the
// default, gob. The length limit is lifted so the 3 KB fixture encodes.
func newSecureCookie(serializer securecookie.Serializer) *securecookie.SecureCookie {
	sc := securecookie.New(hashKey, blockKey).MaxLength(0)
	if serializer != nil {
		sc = sc.SetSerializer(serializer)
	}
	return sc
}

func secureCookieEncoder(fx fixture, pkg string, serializer securecookie.Serializer) encoder {
	return encoder{
		pkg: pkg,
		encode: func(b *testing.B) func() string {
			sc, values := newSecureCookie(serializer), fx.stringMap()
			return func() string {
				token, err := sc.Encode(cookieName, values)
				if err != nil {
					b.Fatal(err)
				}
				return token
			}
		},
		decode: func(b *testing.B, token string) func() {
			sc := newSecureCookie(serializer)
			var decoded map[string]any
			if err := sc.Decode(cookieName, token, &decoded); err != nil {
				b.Fatal(err)
			}
			checkUserID(b, decoded["user_id"])
			return func() {
				var dst map[string]any
				if err := sc.Decode(cookieName, token, &dst); err != nil {
					b.Fatal(err)
				}
			}
		},
	}
}

// BenchmarkControl and BenchmarkControlParallel hash 1 KB with SHA-256:
// pure CPU work with no allocation and no shared state, so their ratio is
// the parallel speed-up the machine itself delivered during the run. The
// RunParallel figures of the session packages are judged against it.
func BenchmarkControl(b *testing.B)         { benchControl(b, false) }
func BenchmarkControlParallel(b *testing.B) { benchControl(b, true) }

func benchControl(b *testing.B, parallel bool) {
	data := fixedBytes(1024, 0x55)
	b.Run("fixture=1KB/pkg=sha256", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					sha256.Sum256(data)
				}
			})
			return
		}
		for b.Loop() {
			sha256.Sum256(data)
		}
	})
}

// Per-request benchmarks. Each handler reads user_id (Read) or also stores
// one new value and saves (Write), then writes a two-byte body. The bare
// handler does the same without a session; the difference to it is the
// session package's cost per request.

// lastPath is the value the modifying handler stores; the fixture cookie
// does not hold it, so every request really changes the session.
const lastPath = "/account"

var okBody = []byte("ok")

// requestBench is one package's middleware and handlers for one fixture,
// with a request that carries the fixture's cookie.
type requestBench struct {
	pkg         string
	read, write http.Handler
	request     *http.Request
}

func requestBenches(b *testing.B, fx fixture) []requestBench {
	return []requestBench{bareRequests(b, fx), cookiesessionRequests(b, fx), gorillaRequests(b, fx)}
}

func BenchmarkRead(b *testing.B)          { benchRequests(b, false, false) }
func BenchmarkWrite(b *testing.B)         { benchRequests(b, true, false) }
func BenchmarkReadParallel(b *testing.B)  { benchRequests(b, false, true) }
func BenchmarkWriteParallel(b *testing.B) { benchRequests(b, true, true) }

func benchRequests(b *testing.B, modify, parallel bool) {
	for _, fx := range fixtures {
		for _, rb := range requestBenches(b, fx) {
			h := rb.read
			if modify {
				h = rb.write
			}
			checkResponse(b, rb, h, modify)
			b.Run("fixture="+fx.name+"/pkg="+rb.pkg, func(b *testing.B) {
				b.ReportAllocs()
				if parallel {
					b.RunParallel(func(pb *testing.PB) {
						serve := newServer(h, rb.request)
						for pb.Next() {
							serve()
						}
					})
					return
				}
				serve := newServer(h, rb.request)
				for b.Loop() {
					serve()
				}
			})
		}
	}
}

// newServer returns a function that handles one copy of base. The request
// is copied because gorilla/sessions stores its registry in the request it
// is given. The response goes to a wireWriter, which does per response
// what net/http's server does: it writes the status line and the header
// in wire format, then the body, into a reused buffer. Both costs are the
// same for every package and show in the bare handler's figures; the
// header's cost grows with the headers a package sets, as on a real server.
func newServer(h http.Handler, base *http.Request) func() {
	w := &wireWriter{header: http.Header{}}
	return func() {
		w.reset()
		r := new(http.Request)
		*r = *base
		h.ServeHTTP(w, r)
		w.WriteHeader(http.StatusOK) // a handler that wrote nothing
	}
}

// wireWriter is a ResponseWriter that serializes the response as
// net/http's server would (Header.Write is the method the server uses for
// the header block) into a buffer kept from one request to the next.
type wireWriter struct {
	header      http.Header
	buf         bytes.Buffer
	wroteHeader bool
}

func (w *wireWriter) reset() {
	clear(w.header)
	w.buf.Reset()
	w.wroteHeader = false
}

func (w *wireWriter) Header() http.Header { return w.header }

func (w *wireWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	w.buf.WriteString("HTTP/1.1 ")
	w.buf.WriteString(strconv.Itoa(code))
	w.buf.WriteString(" \r\n")
	_ = w.header.Write(&w.buf)
	w.buf.WriteString("\r\n")
}

func (w *wireWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.buf.Write(p)
}

// checkResponse runs h once, outside the timing, and fails the benchmark
// if it did not behave: a read sends no cookie, a write sends one.
func checkResponse(b *testing.B, rb requestBench, h http.Handler, modify bool) {
	b.Helper()
	w := httptest.NewRecorder()
	r := new(http.Request)
	*r = *rb.request
	h.ServeHTTP(w, r)
	setCookie := w.Result().Header.Get("Set-Cookie")
	if w.Code != http.StatusOK || (rb.pkg != "bare" && modify != (setCookie != "")) {
		b.Fatalf("%s: status %d, Set-Cookie %.40q", rb.pkg, w.Code, setCookie)
	}
}

// checkUserID fails the benchmark, before timing starts, if a decoder
// did not return the fixture's user_id.
func checkUserID(b *testing.B, got any) {
	b.Helper()
	if got != any(userID) {
		b.Fatalf("decoded user_id %#v, want %q", got, userID)
	}
}

// wantUserID panics inside a handler that read the wrong session: a
// benchmark of a broken handler would measure nothing useful.
func wantUserID(got string) {
	if got != userID {
		panic("session lost user_id, got " + strconv.Quote(got))
	}
}

func bareRequests(b *testing.B, fx fixture) requestBench {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(okBody) })
	return requestBench{pkg: "bare", read: h, write: h, request: requestWithCookies(b, nil)}
}

func cookiesessionRequests(b *testing.B, fx fixture) requestBench {
	m := newManager(b, fx)
	read := func(w http.ResponseWriter, r *http.Request) {
		wantUserID(cookiesession.FromContext(r.Context()).GetString("user_id"))
		_, _ = w.Write(okBody)
	}
	write := func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		wantUserID(s.GetString("user_id"))
		if err := s.Set("last_path", lastPath); err != nil {
			panic(err)
		}
		_, _ = w.Write(okBody) // the middleware saves as the response commits
	}
	seed := func(w http.ResponseWriter, r *http.Request) {
		s := cookiesession.FromContext(r.Context())
		for _, f := range fx.fields {
			if err := s.Set(f.key, f.value); err != nil {
				panic(err)
			}
		}
	}
	return requestBench{
		pkg:     "cookiesession",
		read:    m.Handler(http.HandlerFunc(read)),
		write:   m.Handler(http.HandlerFunc(write)),
		request: requestWithCookies(b, m.Handler(http.HandlerFunc(seed))),
	}
}

// newManager uses the defaults except where the 3 KB fixture needs a
// second cookie.
func newManager(b *testing.B, fx fixture) *cookiesession.Manager {
	opts := cookiesession.Options{Name: cookieName}
	rec := cookiesession.Record{Values: fx.values()}
	if len(cookieName)+newCodec(b).TokenLen(&rec)+len("last_path")+len(lastPath) > maxCookie {
		opts.MaxChunks = 2
	}
	m, err := cookiesession.New(newRing(b), opts)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func gorillaRequests(b *testing.B, fx fixture) requestBench {
	store := newCookieStore()
	read := func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, cookieName)
		if err != nil {
			panic(err)
		}
		got, _ := s.Values["user_id"].(string)
		wantUserID(got)
		_, _ = w.Write(okBody)
	}
	write := func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, cookieName)
		if err != nil {
			panic(err)
		}
		got, _ := s.Values["user_id"].(string)
		wantUserID(got)
		s.Values["last_path"] = lastPath
		if err := s.Save(r, w); err != nil {
			panic(err)
		}
		_, _ = w.Write(okBody)
	}
	seed := func(w http.ResponseWriter, r *http.Request) {
		s, _ := store.New(r, cookieName)
		s.Values = fx.sessionValues()
		if err := s.Save(r, w); err != nil {
			panic(err)
		}
	}
	return requestBench{
		pkg:     "gorilla-sessions",
		read:    http.HandlerFunc(read),
		write:   http.HandlerFunc(write),
		request: requestWithCookies(b, http.HandlerFunc(seed)),
	}
}

// requestWithCookies returns a GET request carrying, in one Cookie header,
// every cookie that seed sets; a nil seed gives a request without cookies.
func requestWithCookies(b *testing.B, seed http.Handler) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/account", nil)
	if seed == nil {
		return r
	}
	w := httptest.NewRecorder()
	seed.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/login", nil))
	cookies := w.Result().Cookies()
	if len(cookies) == 0 {
		b.Fatal("seed handler set no cookie")
	}
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}
