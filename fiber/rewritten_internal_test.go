package fibersession

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestRewrittenCookieShapes: rewrittenCookie reports a session cookie a
// middleware changed, deleted or added after fasthttp read the request,
// and nothing for the Cookie lines a client may send that fasthttp parses
// as they are: a quoted value, spaces around a pair, a pair without '=',
// two values of one name, two Cookie lines, a name in another case, a tab
// before a name. A value found in the raw lines as it stands skips the
// parse of the lines (a tenth of a request's time); one that only begins
// as the new value, or stands under a longer name, does not.
func TestRewrittenCookieShapes(t *testing.T) {
	names := []string{"session", "session.1"}
	pairs := cookiePairs(names)
	for _, tc := range []struct {
		name   string
		lines  []string
		change func(h *fasthttp.RequestHeader)
		want   string
	}{
		{name: "as sent", lines: []string{"a=1; session=abc; b=2"}},
		{name: "quoted", lines: []string{`session="abc"`}},
		{name: "spaces", lines: []string{"a=1 ;  session = abc ; b=2"}},
		{name: "a pair without =", lines: []string{"session; session=abc"}},
		{name: "two values", lines: []string{"session=abc; session=def"}},
		{name: "two lines", lines: []string{"a=1", "session=abc; session.1=def"}},
		{name: "another case", lines: []string{"Session=abc"}},
		{name: "a tab", lines: []string{"a=1;\tsession=abc"}},
		{name: "no cookie", lines: nil},
		{name: "deleted", lines: []string{"a=1; session=abc"}, change: func(h *fasthttp.RequestHeader) { h.DelCookie("session") }, want: "session"},
		{name: "encrypted", lines: []string{"session=abc"}, change: func(h *fasthttp.RequestHeader) { h.SetCookie("session", "ZW5j") }, want: "session"},
		{name: "added", lines: []string{"a=1"}, change: func(h *fasthttp.RequestHeader) { h.SetCookie("session.1", "x") }, want: "session.1"},
		{name: "cut short", lines: []string{"session=abcdef"}, change: func(h *fasthttp.RequestHeader) { h.SetCookie("session", "abc") }, want: "session"},
		{name: "another's value", lines: []string{"xsession=enc; session=abc"}, change: func(h *fasthttp.RequestHeader) { h.SetCookie("session", "enc") }, want: "session"},
		{name: "quoted, changed", lines: []string{`session="abc"`}, change: func(h *fasthttp.RequestHeader) { h.SetCookie("session", "abd") }, want: "session"},
	} {
		raw := "GET / HTTP/1.1\r\nHost: example.com\r\nReferer: https://example.com/session=abc\r\n"
		for _, line := range tc.lines {
			raw += "Cookie: " + line + "\r\n"
		}
		var r fasthttp.Request
		if err := r.Read(bufio.NewReader(strings.NewReader(raw + "\r\n"))); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tc.change != nil {
			tc.change(&r.Header)
		}
		if got := rewrittenCookie(&r.Header, names, pairs); got != tc.want {
			t.Errorf("%s: rewrittenCookie = %q, want %q", tc.name, got, tc.want)
		}
		for _, name := range names { // the parse of the lines agrees
			got, gotOK := firstCookie(r.Header.Cookies(), name)
			sent, sentOK := sentCookie(&r.Header, name)
			if differs := gotOK != sentOK || string(got) != string(sent); differs != (name == tc.want) {
				t.Errorf("%s: the parse of the lines finds %q %q (%v) for %s, the header %q (%v)", tc.name, tc.lines, sent, sentOK, name, got, gotOK)
			}
		}
	}
	var built fasthttp.Request // a test's, with no raw lines
	built.Header.SetCookie("session", "abc")
	if got := rewrittenCookie(&built.Header, names, pairs); got != "" {
		t.Errorf("a request built in code: rewrittenCookie = %q, want none", got)
	}
}
