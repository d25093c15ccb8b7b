package cookiesession_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/seed-ff2808ae/cookiesession"
)

// fzMaxChunks and fzCookieSize make every genuine token span two to four
// chunk cookies, so the fuzzer works on reassembly, not on one cookie.
const (
	fzMaxChunks  = 4
	fzCookieSize = 96
)

// fzOracle knows every token the middleware issued in this process and the
// session each one opens to.
type fzOracle struct {
	target  *relTarget
	genuine map[string]relSeen // token -> the session it opens to
	byID    map[string]string  // session id -> token
	headers []string           // the genuine tokens as Cookie headers
}

func newFzOracle(f *testing.F) *fzOracle {
	o := &fzOracle{genuine: map[string]relSeen{}, byID: map[string]string{}}
	opts := cookiesession.Options{MaxChunks: fzMaxChunks, MaxCookieSize: fzCookieSize}
	ring, _ := randomRing(f, keyA)
	o.target = newRelTarget(f, ring, newFakeClock(fixedNow), opts)
	for _, path := range []string{"/pad?n=0", "/login", "/pad?n=120", "/pad?n=160"} {
		g := o.target.login(f, path)
		f.Logf("%s: %d chunks, %d bytes", path, len(g.chunks), len(g.token()))
		o.genuine[g.token()] = o.target.seen
		o.byID[g.id] = g.token()
		o.headers = append(o.headers, relChunkHeader(g.chunks, fzIndexes(len(g.chunks))...))
	}
	return o
}

func fzIndexes(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// fzPieces returns the fewest substrings of header whose concatenation is
// tok, or -1 if tok holds a byte header lacks. Taking the longest match
// each time is optimal, and Contains is monotone in the prefix length, so
// a binary search finds it. It judges an accepted session without
// depending on how a cookie parser reads the header.
func fzPieces(header, tok string) int {
	n := 0
	for ; tok != ""; n++ {
		lo, hi := 0, len(tok)
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if strings.Contains(header, tok[:mid]) {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		if lo == 0 {
			return -1
		}
		tok = tok[lo:]
	}
	return n
}

// fzClean returns the token a plain header carries: one where every
// cookie-pair is name=value with a base64url value and our chunk names
// are unique. Any parser must read such a header the same way. ok is
// false for any other header.
func fzClean(header string) (token string, ok bool) {
	if strings.Count(header, ";") >= 3000 {
		return "", false // net/http's limit: more cookies count as none
	}
	var chunks [fzMaxChunks]string
	seen := 0
	for part := range strings.SplitSeq(header, ";") {
		name, value, found := strings.Cut(strings.TrimPrefix(part, " "), "=")
		if !found || !fzBase64url(name) || !fzBase64url(value) {
			return "", false
		}
		for i := range fzMaxChunks {
			if name != relChunkName(i) {
				continue
			}
			if seen&(1<<i) != 0 {
				return "", false
			}
			seen |= 1 << i
			chunks[i] = value
		}
	}
	if seen&(seen+1) != 0 {
		return "", false // a gap
	}
	return strings.Join(chunks[:], ""), true
}

func fzBase64url(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return s != ""
}

// seeds are genuine chunk sets and the usual ways of breaking them.
func (o *fzOracle) seeds() []string {
	var out []string
	for tok := range o.genuine {
		out = append(out, "session="+tok, `session="`+tok+`"`, "session= "+tok, "session="+tok+"\t")
	}
	for _, h := range o.headers {
		parts := strings.Split(h, "; ")
		rev := make([]string, len(parts))
		for i, p := range parts {
			rev[len(parts)-1-i] = p
		}
		out = append(out, h, strings.Join(rev, "; "), h+"; session.99=AAAA", h+"; session."+strconv.Itoa(len(parts))+"=AAAA",
			"session.1=AAAA; "+h, strings.Join(parts[1:], "; "), strings.Join(append(parts[:1:1], parts[2:]...), "; "),
			h[:len(h)-1], h+"; "+h, strings.ReplaceAll(h, "; ", ";"), strings.ReplaceAll(h, "; ", "\x00; "))
	}
	return append(out, "", "session=", "session.1=x", "session=;session.1=;session.2=;session.3=")
}

// FuzzChunks feeds arbitrary Cookie headers to a Manager with MaxChunks 4.
// Properties: no panic; always 200; a session is accepted only if it is
// one the middleware issued and the header carries that token's bytes in
// at most four runs (one per chunk); and a plain, gap-free set of genuine
// chunks is always accepted.
func FuzzChunks(f *testing.F) {
	o := newFzOracle(f)
	for _, s := range o.seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		o.target.seen = relSeen{}
		code, _ := o.target.issue(t, "/", header)
		if code != http.StatusOK {
			t.Fatalf("status %d for %q", code, header)
		}
		o.checkAccepted(t, header)
		o.checkPlain(t, header)
	})
}

// checkAccepted: an accepted session must be genuine and come from header.
func (o *fzOracle) checkAccepted(t *testing.T, header string) {
	seen := o.target.seen
	if seen.isNew {
		if seen.n != 0 {
			t.Fatalf("a new session holds %d values after %q", seen.n, header)
		}
		return
	}
	tok, ok := o.byID[seen.id]
	if !ok || seen != o.genuine[tok] {
		t.Fatalf("FORGED: session %+v accepted from %q matches no issued session", seen, header)
	}
	if n := fzPieces(header, tok); n < 1 || n > fzMaxChunks {
		t.Fatalf("FORGED: session %s accepted from %q, which does not carry its token in <= %d pieces", seen.id, header, fzMaxChunks)
	}
}

// checkPlain: a plain header whose chunks form a genuine token must open.
func (o *fzOracle) checkPlain(t *testing.T, header string) {
	token, plain := fzClean(header)
	want, genuine := o.genuine[token]
	if plain && genuine && o.target.seen != want {
		t.Fatalf("genuine plain chunk set %q gave session %+v, want %+v", header, o.target.seen, want)
	}
}
