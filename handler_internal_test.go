package cookiesession

import (
	"strings"
	"testing"
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
