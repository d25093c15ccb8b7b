package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-ff2808ae/cookiesession"
)

// maxInspectStderr bounds what inspect writes on stderr for any input: an
// error and its notes name cookies, characters and counts, never the
// input whole.
const maxInspectStderr = 4096

// inspectFixture is a ring file and the sessions sealed under its key,
// as the Set-Cookie lines a server wrote them in (a session over three
// chunks among them).
type inspectFixture struct {
	ring   string
	ids    map[string]bool // the sessions' ids
	sets   [][]string      // each session's Set-Cookie lines
	logout []string        // a logout's Set-Cookie lines
}

func newInspectFixture(tb testing.TB) *inspectFixture {
	tb.Helper()
	fx := &inspectFixture{ring: filepath.Join(tb.TempDir(), "ring.json"), ids: map[string]bool{}}
	var stderr bytes.Buffer
	if code := run([]string{"keygen", "-out", fx.ring}, strings.NewReader(""), new(bytes.Buffer), &stderr); code != 0 {
		tb.Fatalf("keygen: %s", stderr.String())
	}
	ring, err := cookiesession.LoadKeyRingFile(fx.ring)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := cookiesession.New(ring, cookiesession.Options{MaxChunks: 3, DisableSecure: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	big := make([]byte, 5000)
	rand.Read(big)
	for _, fill := range [][]byte{nil, []byte("x"), big} {
		rec := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := m.FromContext(r.Context())
			if err := s.Set("k", "v"); err != nil {
				tb.Error(err)
			}
			if fill != nil {
				if err := s.Set("fill", fill); err != nil {
					tb.Error(err)
				}
			}
			fx.ids[s.ID()] = true
		})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil))
		fx.sets = append(fx.sets, rec.Result().Header.Values("Set-Cookie"))
	}
	// A logout from the chunked session clears every chunk.
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	for _, line := range fx.sets[2] {
		pair, _, _ := strings.Cut(line, ";")
		req.Header.Add("Cookie", pair)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.FromContext(r.Context()).Destroy()
	})).ServeHTTP(rec, req)
	fx.logout = rec.Result().Header.Values("Set-Cookie")
	return fx
}

// seeds are each session as the forms inspect reads (a bare token, a
// Cookie header, Set-Cookie lines, a curl jar) and the usual ways they
// arrive broken.
func (fx *inspectFixture) seeds() []string {
	var out []string
	for _, lines := range fx.sets {
		var pairs, setCookie, jar []string
		for _, line := range lines {
			pair, _, _ := strings.Cut(line, ";")
			name, value, _ := strings.Cut(pair, "=")
			pairs = append(pairs, pair)
			setCookie = append(setCookie, "Set-Cookie: "+line)
			jar = append(jar, "#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t1893456000\t"+name+"\t"+value)
		}
		header := strings.Join(pairs, "; ")
		_, token, _ := strings.Cut(pairs[0], "=")
		out = append(out, token, "Cookie: "+header, header+"; theme=dark", strings.Join(setCookie, "\r\n"),
			"# Netscape HTTP Cookie File\n\n"+strings.Join(jar, "\n")+"\n", setCookie[0],
			header+"; session.3=AAAA", token[:len(token)/2]+"\n"+token[len(token)/2:], "\u00a0"+token+"\v")
	}
	var logout []string
	for _, line := range fx.logout {
		logout = append(logout, "set-cookie: "+line)
	}
	return append(out, strings.Join(logout, "\n"), "", "Cookie:", "Set-Cookie:", "session=", "a=b; a=c; session",
		"127.0.0.1\tFALSE\t/\tFALSE\t0\ttheme\tdark", "Set-Cookie: theme=dark\nSet-Cookie: session=; Max-Age=0",
		strings.Repeat("c=1; ", 50))
}

// check runs inspect on input and fails unless it opened a session the
// fixture sealed (exit 0) or refused the input with a clear error (exit
// 1: stderr's lines each carry the prefix, and are bounded).
func (fx *inspectFixture) check(t *testing.T, input string) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"inspect", "-ring", fx.ring, "-max-chunks", "3", "-json", "-"}, strings.NewReader(input), &stdout, &stderr)
	switch code {
	case 0:
		var got inspected
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || !fx.ids[got.ID] {
			t.Fatalf("exit 0 for %q with stdout %q: no session sealed here (%v)", input, stdout.String(), err)
		}
	case 1:
		if stderr.Len() == 0 || !strings.HasSuffix(stderr.String(), "\n") {
			t.Fatalf("exit 1 for %q with stderr %q: no error line", input, stderr.String())
		}
	default:
		t.Fatalf("exit %d for %q: stderr %q", code, input, stderr.String())
	}
	if stderr.Len() > maxInspectStderr {
		t.Fatalf("stderr of %d bytes for %d bytes of input: %.300q...", stderr.Len(), len(input), stderr.String())
	}
	for line := range strings.Lines(stderr.String()) {
		if !strings.HasPrefix(line, "cookiesession: ") && !strings.HasPrefix(line, "cookiesession inspect: note: ") {
			t.Fatalf("stderr line %q for %q lacks the prefix", line, input)
		}
	}
}

// FuzzInspectInput feeds arbitrary stdin to inspect: a bare token, a
// Cookie header, a response's Set-Cookie lines or a curl cookie jar,
// whole or broken. Nothing may panic; the exit is 0 only for a session
// the fixture sealed, and otherwise 1 with every stderr line carrying
// the prefix and at most maxInspectStderr bytes of it in all.
func FuzzInspectInput(f *testing.F) {
	fx := newInspectFixture(f)
	for _, s := range fx.seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		fx.check(t, input)
	})
}

// TestInspectInputSeeds: each genuine form opens, and each broken one is
// refused, as FuzzInspectInput's property says.
func TestInspectInputSeeds(t *testing.T) {
	fx := newInspectFixture(t)
	seeds := fx.seeds()
	for i, lines := range fx.sets {
		for j := range 5 { // the forms that hold the session whole
			if j == 0 && len(lines) > 1 {
				continue // a bare token is the first chunk alone
			}
			input := seeds[i*9+j]
			res := cli(t, input, "inspect", "-ring", fx.ring, "-max-chunks", "3", "-")
			if res.code != 0 {
				t.Errorf("session %d (%d cookies), form %d: exit %d, stderr %q", i, len(lines), j, res.code, res.stderr)
			}
		}
	}
	for _, input := range seeds {
		fx.check(t, input)
	}
}

// TestInspectLogoutLines: Set-Cookie lines that clear the session's
// cookies (a logout's response) are refused as such, where inspect said
// "token of 0 bytes is too short to be valid", or that there was no
// cookie named session when other lines set other cookies.
func TestInspectLogoutLines(t *testing.T) {
	fx := newInspectFixture(t)
	var logout []string
	for _, line := range fx.logout {
		logout = append(logout, "Set-Cookie: "+line)
	}
	for name, input := range map[string]string{
		"the logout's lines":       strings.Join(logout, "\n"),
		"beside another cookie":    strings.Join(logout, "\n") + "\nSet-Cookie: theme=dark; Path=/",
		"the first chunk, cleared": "set-cookie: session=; Path=/; Max-Age=0",
	} {
		res := cli(t, input, "inspect", "-ring", fx.ring, "-")
		if res.code != 1 || !strings.Contains(res.stderr, `cookiesession: the Set-Cookie lines clear cookies ("session"`) ||
			!strings.Contains(res.stderr, `as a logout's response does) and set no cookie named "session": there is no session in them to inspect`) {
			t.Errorf("%s: exit %d, stderr %q", name, res.code, res.stderr)
		}
	}
	res := cli(t, "Set-Cookie:\nSet-Cookie: ", "inspect", "-ring", fx.ring, "-")
	if res.code != 1 || res.stderr != "cookiesession: the Set-Cookie lines set no cookie (nothing after Set-Cookie:): copy them whole, or a request's Cookie header\n" {
		t.Errorf("empty Set-Cookie lines: exit %d, stderr %q", res.code, res.stderr)
	}
}

// TestInspectHugeInput: stdin of up to maxInspectInput bytes in each
// shape inspect reads (a Cookie header of many cookies or one huge one,
// Set-Cookie lines, jar lines, chunk names) is refused with an error of
// bounded length, in time and memory linear in its length: 8 times the
// input takes at most 24 times as long (a quadratic pass would take 64
// times) and allocates at most 64 bytes a byte. A Cookie header of 20000
// cookies took 8 s, its error listing every name; 10^6 bytes of them
// would take minutes.
func TestInspectHugeInput(t *testing.T) {
	if testing.Short() {
		t.Skip("times megabyte inputs")
	}
	fx := newInspectFixture(t)
	shapes := map[string]func(n int) string{
		"many cookies": func(n int) string {
			var b strings.Builder
			for i := 0; b.Len() < n; i++ {
				b.WriteString("c" + strconv.Itoa(i) + "=1; ")
			}
			return b.String()
		},
		"one cookie":        func(n int) string { return "session=" + strings.Repeat("A", n) },
		"one cookie's name": func(n int) string { return strings.Repeat("n", n) + "=1" },
		"chunk names": func(n int) string {
			var b strings.Builder
			for i := 0; b.Len() < n; i++ {
				b.WriteString("session." + strconv.Itoa(i) + "=AAAA; ")
			}
			return b.String()
		},
		"Set-Cookie lines": func(n int) string {
			var b strings.Builder
			for i := 0; b.Len() < n; i++ {
				b.WriteString("Set-Cookie: c" + strconv.Itoa(i) + "=; Max-Age=0\n")
			}
			return b.String()
		},
		"jar lines": func(n int) string {
			var b strings.Builder
			for i := 0; b.Len() < n; i++ {
				b.WriteString("127.0.0.1\tFALSE\t/\tFALSE\t0\tc" + strconv.Itoa(i) + "\tv\n")
			}
			return b.String()
		},
		"line breaks": func(n int) string { return strings.Repeat("\n", n/2) + "x" + strings.Repeat("\n", n/2) },
		"semicolons":  func(n int) string { return "session=AAAA" + strings.Repeat(";", n) },
	}
	const small, large = 1 << 17, maxInspectInput - 64
	for name, shape := range shapes {
		t.Run(name, func(t *testing.T) {
			// Measured again, up to three times, when over the bound: a
			// shared machine's load can slow the large run once, while
			// a quadratic pass is over it every time.
			var s, l time.Duration
			var alloc uint64
			for range 3 {
				s, _ = fx.inspectCost(t, shape(small))
				l, alloc = fx.inspectCost(t, shape(large))
				if l <= 24*s+50*time.Millisecond {
					break
				}
			}
			if l > 24*s+50*time.Millisecond {
				t.Errorf("%d bytes took %v, %d bytes %v, in each of three tries: not linear", small, s, large, l)
			}
			if alloc > 64*large {
				t.Errorf("%d bytes allocated %d bytes", large, alloc)
			}
		})
	}
}

// inspectCost runs check on input three times and returns the least time
// and the bytes the first run allocated.
func (fx *inspectFixture) inspectCost(t *testing.T, input string) (time.Duration, uint64) {
	var before, after runtime.MemStats
	best := time.Duration(1 << 62)
	var alloc uint64
	for i := range 3 {
		runtime.ReadMemStats(&before)
		start := time.Now()
		fx.check(t, input)
		best = min(best, time.Since(start))
		if i == 0 {
			runtime.ReadMemStats(&after)
			alloc = after.TotalAlloc - before.TotalAlloc
		}
	}
	return best, alloc
}
