package benchmarks

import (
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/seed-ff2808ae/cookiesession"
)

// maxCookie is the limit browsers apply to one cookie's name plus value
// (RFC 6265 section 6.1 asks for at least 4096 bytes, and no major browser
// keeps more).
const maxCookie = 4096

// Targets from DESIGN.md section 7.
const (
	maxSmallToken  = 210
	minValuesBytes = 2900
)

// tokenizer turns a session holding the given fields into a cookie value.
type tokenizer struct {
	pkg   string
	token func(t *testing.T, fields []field) string
}

func tokenizers() []tokenizer {
	return []tokenizer{
		{"cookiesession", codecToken},
		{"securecookie-gob", secureCookieToken(nil)},
		{"securecookie-json", secureCookieToken(securecookie.JSONEncoder{})},
		{"gorilla-sessions", gorillaSessionToken},
	}
}

func codecToken(t *testing.T, fields []field) string {
	return sealFixture(t, newCodec(t), fixture{fields: fields})
}

func secureCookieToken(serializer securecookie.Serializer) func(*testing.T, []field) string {
	return func(t *testing.T, fields []field) string {
		token, err := newSecureCookie(serializer).Encode(cookieName, fixture{fields: fields}.stringMap())
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
}

// gorillaSessionToken saves a session through CookieStore and reads the
// value back from Set-Cookie, so it is exactly what a browser would get.
func gorillaSessionToken(t *testing.T, fields []field) string {
	store := newCookieStore()
	r := httptest.NewRequest("GET", "/", nil)
	s, err := store.New(r, cookieName)
	if err != nil {
		t.Fatal(err)
	}
	s.Values = fixture{fields: fields}.sessionValues()
	w := httptest.NewRecorder()
	if err := s.Save(r, w); err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("gorilla/sessions wrote %d cookies, want 1", len(cookies))
	}
	return cookies[0].Value
}

// newCookieStore is a CookieStore as commonly configured: an HMAC key and
// an AES key of 32 bytes each. Its length limit is lifted so that the
// 3 KB fixture can be measured at all; a browser would drop that cookie.
func newCookieStore() *sessions.CookieStore {
	store := sessions.NewCookieStore(hashKey, blockKey)
	for _, codec := range store.Codecs {
		codec.(*securecookie.SecureCookie).MaxLength(0)
	}
	return store
}

// capacity returns the longest single string value whose session still
// fits one cookie named cookieName. A longer value never makes a shorter
// token, so binary search applies.
func capacity(t *testing.T, tok tokenizer) int {
	fits := func(n int) bool {
		token := tok.token(t, []field{{"v", strings.Repeat("x", n)}})
		return len(cookieName)+len(token) <= maxCookie
	}
	return sort.Search(maxCookie, func(n int) bool { return !fits(n) }) - 1
}

// TestCookieSizes prints, for every package, the small fixture's token
// length and how much a single cookie can carry, and holds cookiesession
// to its targets. Lines starting with "SIZE" are read by cmd/benchtable.
func TestCookieSizes(t *testing.T) {
	small := fixtures[0]
	for _, tok := range tokenizers() {
		smallLen := len(tok.token(t, small.fields))
		longest := capacity(t, tok)
		valuesBytes := encodedLen([]field{{"v", strings.Repeat("x", longest)}})
		t.Logf("SIZE pkg=%s small_token=%d max_value=%d max_values_bytes=%d", tok.pkg, smallLen, longest, valuesBytes)
		if tok.pkg != "cookiesession" {
			continue
		}
		if smallLen > maxSmallToken {
			t.Errorf("small-fixture token is %d characters, target <= %d", smallLen, maxSmallToken)
		}
		if valuesBytes < minValuesBytes {
			t.Errorf("one %d-byte cookie holds %d bytes of serialized values, target >= %d", maxCookie, valuesBytes, minValuesBytes)
		}
	}
}

// TestCapacityIsTight checks the search itself: one more byte of value
// must push cookiesession's cookie past the limit, and the codec must
// predict the token's length exactly.
func TestCapacityIsTight(t *testing.T) {
	tok := tokenizers()[0]
	longest := capacity(t, tok)
	codec := newCodec(t)
	for _, n := range []int{longest, longest + 1} {
		rec := cookiesession.Record{Values: mustValues([]field{{"v", strings.Repeat("x", n)}})}
		predicted := codec.TokenLen(&rec)
		token, err := codec.Seal(&rec)
		if err != nil {
			t.Fatal(err)
		}
		if len(token) != predicted {
			t.Errorf("value of %d bytes: TokenLen %d, sealed %d", n, predicted, len(token))
		}
		if fits := len(cookieName)+len(token) <= maxCookie; fits != (n == longest) {
			t.Errorf("value of %d bytes: cookie of %d bytes, fits=%v", n, len(cookieName)+len(token), fits)
		}
	}
}
