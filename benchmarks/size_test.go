package benchmarks

import (
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
)

// maxCookie is the limit browsers apply to one cookie's name plus value
// (RFC 6265 section 6.1 asks for at least 4096 bytes, and no major browser
// keeps more).
const maxCookie = 4096

// cookiesession's size targets: the small fixture's token, and the values
// section one cookie must hold.
const (
	maxSmallToken  = 210
	minValuesBytes = 2900
)

// tokenizer turns a session holding fields into a cookie value.
type tokenizer struct {
	pkg   string
	token func(t *testing.T, fields []field) string
}

var tokenizers = []tokenizer{
	{"cookiesession", func(_ *testing.T, fields []field) string { return sealFields(fields) }},
	{"securecookie", func(_ *testing.T, fields []field) string {
		return secureCookieEncode(newSecureCookie)(fixture{fields: fields})()
	}},
	{"gorilla", gorillaSessionToken},
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

// TestCookieSizes logs, for every package, the small fixture's token length
// and the longest string value one cookie carries, and holds cookiesession
// to its size targets. benchmarks/run.sh prints the lines it logs.
func TestCookieSizes(t *testing.T) {
	for _, tok := range tokenizers {
		value := func(n int) []field { return []field{{"v", strings.Repeat("x", n)}} }
		fits := func(n int) bool { return len(cookieName)+len(tok.token(t, value(n))) <= maxCookie }
		// A longer value never makes a shorter token, so binary search
		// finds the longest that fits; check it found the edge.
		longest := sort.Search(maxCookie, func(n int) bool { return !fits(n) }) - 1
		if !fits(longest) || fits(longest+1) {
			t.Fatalf("%s: %d is not the longest value that fits", tok.pkg, longest)
		}
		small := len(tok.token(t, fixtures[0].fields))
		t.Logf("%-13s small-fixture token %d chars, longest value in one cookie %d bytes", tok.pkg, small, longest)
		if tok.pkg != "cookiesession" {
			continue
		}
		if small > maxSmallToken {
			t.Errorf("small-fixture token is %d characters, target <= %d", small, maxSmallToken)
		}
		if got := valuesLen(value(longest)); got < minValuesBytes {
			t.Errorf("one %d-byte cookie holds a %d-byte values section, target >= %d", maxCookie, got, minValuesBytes)
		}
	}
}
