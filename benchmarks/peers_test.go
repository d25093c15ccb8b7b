package benchmarks

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/seed-ff2808ae/cookiesession"
)

// Benchmark names are Benchmark<Op>/fixture=<f>/pkg=<p>, so that
// `benchstat -col /pkg` puts the packages side by side. Encode and Decode
// work on one token; Read and Write handle one request.

// encoder is one package's way of turning a fixture into a cookie value
// and back.
type encoder struct {
	pkg    string
	encode func(fx fixture) func() string
	decode func(b *testing.B, fx fixture) func()
}

// The first two are the pair README compares: cookiesession's Seal of a
// Values that already holds its encoding (Set encodes each value as it is
// stored) and Open, which checks the values but builds no map, against
// securecookie's Encode and Decode, which run gob over a map every time.
// The "_fields" and "_json" rows measure the same work on both sides from
// and to the fields, and securecookie with its JSON serializer.
var encoders = []encoder{
	{"cookiesession", codecEncode, codecDecode},
	{"securecookie", secureCookieEncode(newSecureCookie), secureCookieDecode(newSecureCookie)},
	{"cookiesession_fields", codecEncodeFields, codecDecodeFields},
	{"securecookie_json", secureCookieEncode(newJSONCookie), secureCookieDecode(newJSONCookie)},
}

func BenchmarkEncode(b *testing.B) {
	for _, fx := range fixtures {
		for _, enc := range encoders {
			b.Run("fixture="+fx.name+"/pkg="+enc.pkg, func(b *testing.B) {
				encode := enc.encode(fx)
				b.ReportAllocs()
				b.SetBytes(int64(valuesLen(fx.fields)))
				for b.Loop() {
					encode()
				}
			})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, fx := range fixtures {
		for _, enc := range encoders {
			b.Run("fixture="+fx.name+"/pkg="+enc.pkg, func(b *testing.B) {
				decode := enc.decode(b, fx)
				b.ReportAllocs()
				b.SetBytes(int64(valuesLen(fx.fields)))
				for b.Loop() {
					decode()
				}
			})
		}
	}
}

// codecEncode re-seals one record, as the middleware does on every change.
func codecEncode(fx fixture) func() string {
	rec := cookiesession.Record{Values: mustValues(fx.fields)}
	return func() string {
		token, err := codec.Seal(&rec)
		if err != nil {
			panic(err)
		}
		return token
	}
}

func codecDecode(b *testing.B, fx fixture) func() {
	token := sealFields(fx.fields)
	rec, err := codec.Open(token)
	if err != nil {
		b.Fatal(err)
	}
	got, _ := rec.Values.Get("user_id")
	checkUserID(b, got)
	return func() {
		if _, err := codec.Open(token); err != nil {
			panic(err)
		}
	}
}

// codecEncodeFields stores every field in a new Values, then seals it: the
// work securecookie's Encode does, from the fields to a token.
func codecEncodeFields(fx fixture) func() string {
	return func() string {
		rec := cookiesession.Record{Values: mustValues(fx.fields)}
		token, err := codec.Seal(&rec)
		if err != nil {
			panic(err)
		}
		return token
	}
}

// codecDecodeFields opens the token and reads every field back, as
// securecookie's Decode leaves them all in a map.
func codecDecodeFields(b *testing.B, fx fixture) func() {
	token := sealFields(fx.fields)
	codecDecode(b, fx)
	return func() {
		rec, err := codec.Open(token)
		if err != nil {
			panic(err)
		}
		for _, f := range fx.fields {
			if got, _ := rec.Values.Get(f.key); got != f.value {
				panic("cookiesession: decoded " + f.key + " differs")
			}
		}
	}
}

// newSecureCookie configures securecookie as its README does: a 32-byte
// HMAC-SHA256 key, a 32-byte AES key and the default encoding, gob. The
// length limit is lifted so that the 3KB fixture encodes.
func newSecureCookie() *securecookie.SecureCookie {
	return securecookie.New(hashKey, blockKey).MaxLength(0)
}

// secureCookieEncode and secureCookieDecode run securecookie built by
// newSC: newSecureCookie (gob) or newJSONCookie.
func secureCookieEncode(newSC func() *securecookie.SecureCookie) func(fixture) func() string {
	return func(fx fixture) func() string {
		sc, values := newSC(), fx.stringMap()
		return func() string {
			token, err := sc.Encode(cookieName, values)
			if err != nil {
				panic(err)
			}
			return token
		}
	}
}

func secureCookieDecode(newSC func() *securecookie.SecureCookie) func(*testing.B, fixture) func() {
	return func(b *testing.B, fx fixture) func() {
		sc := newSC()
		token := secureCookieEncode(newSC)(fx)()
		var decoded map[string]any
		if err := sc.Decode(cookieName, token, &decoded); err != nil {
			b.Fatal(err)
		}
		checkUserID(b, decoded["user_id"])
		return func() {
			var dst map[string]any
			if err := sc.Decode(cookieName, token, &dst); err != nil {
				panic(err)
			}
		}
	}
}

// newJSONCookie is newSecureCookie with securecookie's JSONEncoder, its
// faster serializer, which carries the fixtures' strings as they are.
func newJSONCookie() *securecookie.SecureCookie {
	return newSecureCookie().SetSerializer(securecookie.JSONEncoder{})
}

// Per-request benchmarks. Each handler reads user_id (Read) or also stores
// one new value and saves (Write), then writes a two-byte body. The bare
// handler does the same without a session.

// lastPath is the value the modifying handler stores; the fixture cookie
// does not hold it, so every request really changes the session.
const lastPath = "/account"

var okBody = []byte("ok")

// requestBench is one package's handlers for one fixture, with a request
// that carries the fixture's cookie.
type requestBench struct {
	pkg         string
	read, write http.Handler
	request     *http.Request
}

func BenchmarkRead(b *testing.B)  { benchRequests(b, false) }
func BenchmarkWrite(b *testing.B) { benchRequests(b, true) }

func benchRequests(b *testing.B, modify bool) {
	for _, fx := range fixtures {
		for _, rb := range []requestBench{bareRequests(b), cookiesessionRequests(b, fx), gorillaRequests(b, fx)} {
			h := rb.read
			if modify {
				h = rb.write
			}
			checkResponse(b, rb, h, modify)
			b.Run("fixture="+fx.name+"/pkg="+rb.pkg, func(b *testing.B) {
				b.ReportAllocs()
				serve := newServer(h, rb.request)
				for b.Loop() {
					serve()
				}
			})
		}
	}
}

// newServer returns a function that handles one copy of base. The request
// is copied because gorilla/sessions keeps its registry in the request it
// is given. The response goes to a wireWriter, so that the headers a
// package sets cost what they cost on a real server.
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

// wireWriter serializes the response as net/http's server does (the
// status line, then Header.Write) into a buffer kept across requests.
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

// checkResponse runs h once, before timing, and fails the benchmark if it
// did not behave: a read sends no cookie, a write sends one.
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

// checkUserID fails the benchmark, before timing, if a decoder did not
// return the fixture's user_id.
func checkUserID(b *testing.B, got any) {
	b.Helper()
	if got != any(userID) {
		b.Fatalf("decoded user_id %#v, want %q", got, userID)
	}
}

// wantUserID panics inside a handler that read the wrong session.
func wantUserID(got string) {
	if got != userID {
		panic("session lost user_id, got " + strconv.Quote(got))
	}
}

func bareRequests(b *testing.B) requestBench {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(okBody) })
	return requestBench{pkg: "bare", read: h, write: h, request: requestWithCookies(b, nil)}
}

func cookiesessionRequests(b *testing.B, fx fixture) requestBench {
	// The defaults, but for a second cookie where the fixture needs it.
	opts := cookiesession.Options{Name: cookieName}
	if len(cookieName)+len(sealFields(append(fx.fields, field{"last_path", lastPath}))) > maxCookie {
		opts.MaxChunks = 2
	}
	m, err := cookiesession.New(newRing(), opts)
	if err != nil {
		b.Fatal(err)
	}
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

// newCookieStore is a CookieStore as commonly configured: an HMAC key and
// an AES key of 32 bytes each. Its length limit is lifted so that the
// 3KB fixture can be measured at all; a browser would drop that cookie.
func newCookieStore() *sessions.CookieStore {
	store := sessions.NewCookieStore(hashKey, blockKey)
	for _, c := range store.Codecs {
		c.(*securecookie.SecureCookie).MaxLength(0)
	}
	return store
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
		pkg:     "gorilla",
		read:    http.HandlerFunc(read),
		write:   http.HandlerFunc(write),
		request: requestWithCookies(b, http.HandlerFunc(seed)),
	}
}

// requestWithCookies returns a GET request over HTTPS carrying, in one
// Cookie header, every cookie that seed sets; a nil seed gives a request
// without cookies. Over plain HTTP cookiesession's Secure cookie would be
// dropped by browsers, and each response would pay for the check that
// says so.
func requestWithCookies(b *testing.B, seed http.Handler) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://example.com/account", nil)
	if seed == nil {
		return r
	}
	w := httptest.NewRecorder()
	seed.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://example.com/login", nil))
	cookies := w.Result().Cookies()
	if len(cookies) == 0 {
		b.Fatal("seed handler set no cookie")
	}
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}
